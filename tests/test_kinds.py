"""Agent kinds as a protocol: a new kind is one module's worth of code plus its registration.

The kind here, a grantor, pays a lab a fixed amount on each date of a schedule. The scenario
schema has no grantor, so the test builds the Plan directly: the Plan of a plain scenario,
extended with the grants (its plan columns), the grantor's account and the grant's origin.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import numpy as np
import pytest
import simpy

from sim.analysis import matrices
from sim.model.books import KIND, Cents, Legs, audit
from sim.model.clock import TRANCHE, At, Process, now
from sim.model.engine import RunData, simulate
from sim.model.kinds import AGENT_KINDS, Context, Labs, Sellers
from sim.model.kinds.kind import Deal
from sim.model.schedule import Plan, build_plan

B = 100 * 10**9  # cents in a billion dollars

ONE_LAB = """
name: one lab that buys compute from one cloud
start: 2026-01-01
horizon: 1y
step: 1mo
agents:
  lab:
    kind: lab
    cash: 1B
    spending:
      compute: {annual: 12B, providers: {cloud: 100%}}
  cloud: {kind: cloud, margin: 40%}
"""


# ---- the kind: its plan columns, its tables, its process -------------------------------------


@dataclass
class GrantPlan:
    """A grantor paying ``lab`` ``amount[run]`` cents on each of ``days`` (days since start)."""

    grantor: str
    lab: str
    days: list[int]
    amount: Cents


@dataclass
class GrantedPlan(Plan):
    """A Plan with grants: what the schema would give the Plan if it knew grantors."""

    grants: list[GrantPlan] = field(default_factory=list)


class Grantors:
    """Every grant of a batch: the money comes from ``funding`` through the grantor's account,
    tagged ``<grantor>:grant``, to the lab, in the first phase of its day."""

    name: ClassVar[str] = "grantors"
    models: ClassVar[tuple[type, ...]] = ()
    plan_parts: ClassVar[tuple[str, ...]] = ("grants",)

    @staticmethod
    def deals(plan: Plan) -> list[Deal]:
        return [(f"{g.grantor}-grant", g.lab) for g in grants_of(plan)]

    def __init__(self, ctx: Context) -> None:
        self.books, self.plan = ctx.books, ctx.plan
        self.labs = ctx.kind(Labs)  # built before: called by name, as any kind would
        self.grants = []
        for g, d in zip(grants_of(ctx.plan), ctx.deals_of(type(self)), strict=True):
            funding, grantor, lab = (ctx.index[a] for a in ("funding", g.grantor, g.lab))
            legs = Legs.of([(funding, grantor, "funding", d), (grantor, lab, "financing", d)])
            self.grants.append((g, legs, ctx.origin[f"{g.grantor}:grant"]))

    def start(self, env: simpy.Environment) -> None:
        for grant in self.grants:
            env.process(self.pay(env, *grant))

    def results(self) -> dict[str, Any]:
        return {}

    def pay(self, env: simpy.Environment, g: GrantPlan, legs: Legs, origin: int) -> Process:
        for day in g.days:
            yield At(env, day, TRANCHE)
            cents = np.zeros((2, len(self.plan.origins), self.plan.n_runs), dtype=np.int64)
            cents[:, origin] = g.amount
            self.books.post(now(env), legs, cents)


def grants_of(plan: Plan) -> list[GrantPlan]:
    return plan.grants if isinstance(plan, GrantedPlan) else []


# ---- its registration ------------------------------------------------------------------------

KINDS = (*AGENT_KINDS, Grantors)


def granted(make_scenario, days: list[int], amount: int) -> GrantedPlan:
    """The plan of ONE_LAB with a foundation granting the lab ``amount`` on each of ``days``."""
    plan = build_plan([make_scenario(ONE_LAB)])
    parts = {f.name: getattr(plan, f.name) for f in fields(plan)}
    parts["accounts"] = [*plan.accounts, "foundation"]
    parts["origins"] = [*plan.origins, "foundation:grant"]
    grant = GrantPlan("foundation", "lab", days, np.array([amount], dtype=np.int64))
    return GrantedPlan(**parts, grants=[grant])


def received(data: RunData, deal: str, payee: str) -> int:
    """Cents paid to ``payee`` under ``deal``, from the ledger."""
    led = data.ledger
    assert led is not None
    rows = (led.deal == data.deals.index(deal)) & (led.payee == data.plan.accounts.index(payee))
    return int(led.cents[rows].sum())


# ---- the tests -------------------------------------------------------------------------------


def test_a_grantor_kind_pays_the_lab_on_its_schedule_and_the_books_balance(make_scenario):
    # $0.5B on day 0 and day 181 (2026-07-01): $1B reaches the lab through the grantor's account
    plan = granted(make_scenario, [0, 181], 5 * B // 10)
    data = simulate(plan, kinds=KINDS)

    assert received(data, "foundation-grant", "lab") == 1 * B
    assert received(data, "foundation-grant", "foundation") == 1 * B
    led = data.ledger
    assert led is not None
    grants = led.deal == data.deals.index("foundation-grant")
    assert sorted(set(led.time[grants].tolist())) == [0, 181]
    assert set(led.kind[grants].tolist()) == {KIND["funding"], KIND["financing"]}
    # the grant carries its own origin into the lab, and nothing of it stays with the grantor
    grant_origin = plan.origins.index("foundation:grant")
    assert int(led.cents[grants][:, grant_origin].sum()) == 2 * B
    assert int(data.closing[plan.accounts.index("foundation")].sum()) == 0
    # conservation: every origin's pools add up, no agent negative, the ledger replays
    found = audit(data.opening, data.closing, led, data.external)
    assert found.conserved.all() and found.non_negative.all() and found.replayed.all()
    matrices.check(data)  # every row and column of the accounting matrices sums to zero


def test_the_grant_is_spent_like_any_cash_of_the_lab(make_scenario):
    # $1B of opening cash buys a month of compute ($1B); a $2B grant on day 0 buys two more:
    # the cloud is paid $3B with the grant, $1B without
    plain = simulate(build_plan([make_scenario(ONE_LAB)]))
    with_grant = simulate(granted(make_scenario, [0], 2 * B), kinds=KINDS)
    assert received(plain, "lab-cloud-compute", "cloud") == 1 * B
    assert received(with_grant, "lab-cloud-compute", "cloud") == 3 * B


def test_without_grants_the_new_kind_moves_nothing(make_scenario):
    plan = build_plan([make_scenario(ONE_LAB)])
    plain, registered = simulate(plan), simulate(plan, kinds=KINDS)
    assert registered.deals == plain.deals
    assert (registered.closing == plain.closing).all()


def test_a_kind_built_before_a_kind_it_calls_is_refused(make_scenario):
    plan = build_plan([make_scenario(ONE_LAB)])
    with pytest.raises(LookupError, match="kind 'sellers' is not built yet"):
        simulate(plan, kinds=(Labs, Sellers))


def test_a_kind_may_only_fill_a_free_field_of_run_data(make_scenario):
    class Clobbers(Grantors):
        name: ClassVar[str] = "clobbers"

        def results(self) -> dict[str, Any]:
            return {"flows": None}

    plan = build_plan([make_scenario(ONE_LAB)])
    with pytest.raises(ValueError, match="kind 'clobbers': RunData has no free field 'flows'"):
        simulate(plan, kinds=(*AGENT_KINDS, Clobbers))


def test_every_part_of_the_plan_is_the_engines_or_one_kinds():
    engine = {"scenarios", "grid", "days", "tracing", "accounts", "origins"}
    named = [part for kind in AGENT_KINDS for part in kind.plan_parts]
    assert len(named) == len(set(named))  # each named by one kind
    assert {f.name for f in fields(Plan)} == engine | set(named)
