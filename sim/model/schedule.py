"""From typed scenarios to a Plan: every amount the engine will need, as arrays over runs.

A batch is a list of scenarios with the same structure (agents, deals, calendar) and any values.
The Plan holds each flow's cents per step ``[step, run]``, each tranche's day and amount per run,
each contract's take-or-pay minimum per step, and the calendar shared by all runs. A single run is a
batch of one. How flows and minimums accrue to the cent is sim/model/accrual.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, fields, is_dataclass, replace
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt

from sim.errors import ScenarioError
from sim.inputs.models import (
    ContractModel,
    FinancingKind,
    InvestmentModel,
    InvestorModel,
    LabModel,
    LoanModel,
    RevenueShareModel,
    TrancheModel,
)
from sim.inputs.scenario import Scenario
from sim.inputs.units import Duration, step_grid, year_fraction
from sim.model.accrual import contract_minimum, det_expm1, flow_columns
from sim.model.kernels import Cents, Floats

EXTERNAL_ACCOUNTS = ("customers", "suppliers", "cloud_costs", "other_compute", "funding")
# where a vendor's costs go that no route sends to another seller; an account only in files
# with a vendor, so that every other file keeps its layout
VENDOR_COSTS = "vendor_costs"


@dataclass
class FinancingPlan:
    """A lab's financing rule over the runs of a batch: the same source and kind, any values."""

    source: str  # an external account (may go negative, like ``funding``)
    kind: FinancingKind  # equity or debt
    floor: Cents  # cash to keep after the step's payments [run]
    limit: Cents  # most raised over the horizon [run]
    accrual: Floats  # interest per cent of debt over each step: rate * year fraction [step, run]
    # [run] the run whose money raised caps this run's by each date (a twin that replaces none
    # of the money it runs without, sim/model/twin.py), -1 for none; None: no run follows one
    follows: npt.NDArray[np.intp] | None = None


@dataclass
class LabPlan:
    name: str
    revenue: Cents  # [step, run]
    compute: Cents
    other: Cents
    providers: list[str]  # sellers the lab buys from by share
    shares: Floats  # [provider, run]
    opening: Cents  # [run]
    financing: FinancingPlan | None = None  # None: the lab never raises money

    @property
    def financing_origin(self) -> str | None:
        """The origin of the money it raises (``openai:equity``), if it may raise any."""
        return None if self.financing is None else f"{self.name}:{self.financing.kind}"


@dataclass
class RoutePlan:
    """A share of a seller's costs passed on to another seller, ``lag`` after the sale."""

    to: str
    share: Floats  # [run]
    lag: Duration  # the same in every run of a batch (it decides when events happen)
    lead: Duration = Duration()  # paid ahead of invoices paid later, on borrowed money


@dataclass
class RevenueSharePlan:
    """A lab paying a share of each step's revenue to an investor, over the runs of a batch:
    the revenue of a step ending in ``(start, until]``, at most ``cap`` in all."""

    id: str
    investor: str
    lab: str
    share: Floats  # [run]
    start: npt.NDArray[np.int64]  # [run] days since the start
    until: npt.NDArray[np.int64]  # [run]
    cap: Cents  # [run]; NO_CAP where there is none


NO_CAP = 2**62


@dataclass
class ContractPlan:
    id: str
    lab: str
    cloud: str  # the seller (the file names it ``cloud``)
    minimum: Cents  # take-or-pay minimum per step [step, run]
    with_investment: str | None = None  # the investment it came with (``with:``)
    # [run] the seller's margin on what is paid under its minimum; None: the seller's own
    margin: Floats | None = None


@dataclass
class InvestmentPlan:
    """A deal's tranches over the runs of a batch. Tranche ``i`` is paid at most once, in the
    TRANCHE phase of a day in its window ``[days, until)``: on its date, or (``on:``) on a grid
    date after it; only where ``reached``, and, if it has a cash condition, only when the lab's
    cash before that day's tranches is below ``level`` (docs/model.md, section 7)."""

    id: str
    investor: str
    lab: str
    days: npt.NDArray[np.int64]  # [tranche, run] days since start (``at``)
    amounts: Cents  # [tranche, run] as announced, paid or not
    conditions: tuple[str, ...]  # per tranche: "" or a ConditionKind (sim/inputs/schema.py)
    level: Cents  # [tranche, run] paid only if the lab holds fewer cents; 0 without one
    until: npt.NDArray[np.int64]  # [tranche, run] window's end (excluded): at + 1 but for on:
    reached: npt.NDArray[np.bool_]  # [tranche, run] its milestone by ``at``; True without one
    post_money: Cents  # [run] the post-money valuation, stated or implied; 0 where none
    post_money_stated: npt.NDArray[np.bool_]  # [run] False: implied by a stake, or none
    announced: Cents  # [run] every tranche announced, paid or not
    stake_per_cent: Floats  # [run] share of the lab each cent paid buys; nan: no valuation
    credits_on: str | None = None  # the seller its credits are on; None: paid all in cash
    credits_share: Floats | None = None  # [run] of each tranche paid in credits

    @property
    def credit_account(self) -> str | None:
        """The account holding the lab's unused credits at that seller (``openai@azure``)."""
        return None if self.credits_on is None else credit_account(self.lab, self.credits_on)

    @property
    def checks_cash(self) -> npt.NDArray[np.bool_]:
        """[tranche] whether the tranche waits for the lab's cash to be below its level."""
        return np.array([c.endswith("lab_cash_below") for c in self.conditions], dtype=bool)

    @property
    def on(self) -> npt.NDArray[np.bool_]:
        """[tranche] whether it looks on every grid date of its window (``on:``)."""
        return np.array([c.startswith("on_") for c in self.conditions], dtype=bool)


@dataclass
class LoanPlan:
    """A loan over the runs of a batch (docs/model.md, "Loans"): drawn in the TRANCHE phase of
    ``day``; at each step's end after it, interest on the principal outstanding (``accrual``
    per cent) and the principal due by then (``scheduled``, cumulative; everything outstanding
    from the step ``matured`` on) are paid from the borrower's cash."""

    id: str
    lender: str  # an investor
    borrower: str  # a lab or a seller
    amount: Cents  # [run] principal drawn
    day: npt.NDArray[np.int64]  # [run] days since the start
    # [step, run] interest per cent outstanding over the step: rate * the year fraction of the
    # step after the draw (0 for steps ending on or before it)
    accrual: Floats
    scheduled: Cents  # [step, run] principal due by the step's end, in all (0 for a bullet)
    matured: npt.NDArray[np.bool_]  # [step, run] the step's end is on or after maturity

    @property
    def origin(self) -> str:
        """The origin of the money lent: ``<lender>:loan``."""
        return f"{self.lender}:loan"


@dataclass
class Plan:
    """Everything a batch needs, computed once before the event loop starts."""

    scenarios: list[Scenario]
    grid: list[dt.date]
    days: npt.NDArray[np.int64]  # grid dates as days since start
    investors: dict[str, tuple[str, ...]]  # investor -> the sellers it owns
    labs: dict[str, LabPlan]
    sellers: list[str]  # clouds and vendors, in file order
    margins: Floats  # [seller, run]
    seller_opening: Cents  # [seller, run]
    owner: dict[str, str | None]
    contracts: list[ContractPlan]
    investments: list[InvestmentPlan]
    due: dict[tuple[str, str], npt.NDArray[np.int64]]  # (lab, seller) -> due day [step, run]
    tracing: str
    # every seller's kind (cloud or vendor) and where its costs go (none: all leave the model)
    seller_kind: dict[str, str] = field(default_factory=dict)
    revenue_shares: list[RevenueSharePlan] = field(default_factory=list)
    loans: list[LoanPlan] = field(default_factory=list)
    routes: dict[str, list[RoutePlan]] = field(default_factory=dict)
    accounts: list[str] = field(default_factory=list)
    origins: list[str] = field(default_factory=list)

    @property
    def n_runs(self) -> int:
        return len(self.scenarios)

    @property
    def n_steps(self) -> int:
        return len(self.grid) - 1

    @property
    def start(self) -> dt.date:
        return self.grid[0]

    def date(self, day: int) -> dt.date:
        return self.start + dt.timedelta(days=int(day))

    @property
    def lead_sellers(self) -> list[str]:
        """Sellers with a route paid ahead (a lead): each borrows from ``capex_funding``."""
        return [c for c in self.sellers if any(not r.lead.is_zero for r in self.routes.get(c, []))]

    def sink(self, seller: str) -> str:
        """The external account a seller's unrouted costs go to."""
        return VENDOR_COSTS if self.seller_kind.get(seller) == "vendor" else "cloud_costs"

    @property
    def external_accounts(self) -> list[str]:
        """Accounts outside the model (sources and sinks; they may go negative)."""
        outside = (*EXTERNAL_ACCOUNTS, VENDOR_COSTS, CREDITS_ISSUED, CAPEX_FUNDING)
        return [a for a in self.accounts if a in outside] + [
            s for s in financing_sources(self.labs)
        ]


def structure(s: Scenario, memo: dict[int, object] | None = None) -> tuple[object, ...]:
    """What must be equal across the runs of one batch (values may differ, shapes may not): the
    calendar, and each agent's and each deal's shape (``_agent_shape``, ``_deal_shape``).
    ``memo`` keeps each part's shape by object while a batch is planned: its runs share the
    agents and deals they do not vary (sim.inputs.schema.resolve)."""
    memo = {} if memo is None else memo

    def shape(part: Any, make: Callable[[Any], object]) -> object:
        key = id(part)
        if key not in memo:
            memo[key] = make(part)
        return memo[key]

    return (
        s.start,
        s.horizon,
        s.step,
        s.tracing,
        tuple((name, shape(a, _agent_shape)) for name, a in s.agents.items()),
        tuple(shape(d, _deal_shape) for d in s.deals),
    )


def _agent_shape(a: Any) -> object:
    """An investor's sellers; a lab's providers and whether it may raise money, of which kind
    and from where (floors, limits, rates are values); a seller's kind and which sellers its
    costs go to after which lag."""
    if isinstance(a, InvestorModel):
        return ("investor", tuple(a.owns))
    if isinstance(a, LabModel):
        f = a.financing
        return ("lab", tuple(a.providers), (f.source, f.kind) if f is not None else None)
    return (a.kind, tuple([(to, r.lag, r.lead) for to, r in a.costs.items()]))


def _deal_shape(d: Any) -> object:
    """A deal's id and parties; which tranches wait for which kind of condition (levels and
    dates are values) and where its credits are; whether a revenue share is capped; whether a
    contract's minimum is a total (over a term) or a schedule of years, and whether it states
    its own margin."""
    if isinstance(d, InvestmentModel):
        return (d.id, d.investor, d.lab, tuple(t.kind for t in d.tranches), d.credits_on)
    if isinstance(d, RevenueShareModel):
        return (d.id, d.investor, d.lab, d.cap is None)
    if isinstance(d, LoanModel):
        return (d.id, d.lender, d.borrower)
    return (d.id, d.lab, d.cloud, d.with_investment, bool(d.schedule), d.margin is not None)


def _contract_margin(runs: list[ContractModel]) -> Floats | None:
    """A contract's own margin over the runs of a batch (all state one, or none: its shape)."""
    if runs[0].margin is None:
        return None
    return np.array([c.margin for c in runs], dtype=np.float64)


CREDITS_ISSUED = "credits_issued"  # the external account credits come from and go back to
# the external account a seller borrows from to pay a route's part of an invoice ahead (a lead)
CAPEX_FUNDING = "capex_funding"


def credit_account(lab: str, seller: str) -> str:
    """The account holding a lab's unused credits at a seller."""
    return f"{lab}@{seller}"


def _revenue_share(scenarios: list[Scenario], k: int) -> RevenueSharePlan:
    """Revenue share ``k`` of a batch over its runs."""
    deals = [s.revenue_shares[k] for s in scenarios]
    first = deals[0]
    return RevenueSharePlan(
        id=first.key,
        investor=first.investor,
        lab=first.lab,
        share=np.array([d.share for d in deals], dtype=np.float64),
        start=np.array([(d.start - s.start).days for s, d in zip(scenarios, deals, strict=True)]),
        until=np.array(
            [((d.until or s.end) - s.start).days for s, d in zip(scenarios, deals, strict=True)]
        ),
        cap=np.array([NO_CAP if d.cap is None else d.cap for d in deals], np.int64),
    )


def _loan(scenarios: list[Scenario], k: int, years: Floats) -> LoanPlan:
    """Loan ``k`` of a batch over its runs: its draw, and step by step the interest per cent
    outstanding and the principal due (docs/model.md, "Loans")."""
    first = scenarios[0].loans[k]
    grid, start = scenarios[0].grid(), scenarios[0].start
    n_steps, n = len(grid) - 1, len(scenarios)
    accrual = np.zeros((n_steps, n), dtype=np.float64)
    scheduled = np.zeros((n_steps, n), dtype=np.int64)
    matured = np.zeros((n_steps, n), dtype=bool)
    done: dict[int, int] = {}  # loan object -> the first run that has it (runs share it)
    for r, s in enumerate(scenarios):
        loan = s.loans[k]
        if id(loan) in done:
            first_run = done[id(loan)]
            accrual[:, r], scheduled[:, r] = accrual[:, first_run], scheduled[:, first_run]
            matured[:, r] = matured[:, first_run]
            continue
        done[id(loan)] = r
        drawn = year_fraction(start, loan.at)
        # the step ends after the draw up to the first on or after maturity (past the horizon
        # too): an amortizing loan repays ``amount // n``-sized parts there, cumulatively
        # rounded down, so that the parts add up to the amount
        ends = [d for d in step_grid(start, loan.maturity, s.step)[1:] if d > loan.at]
        for i in range(n_steps):
            if grid[i + 1] <= loan.at:
                continue
            # the year fraction of the step after the draw, on the calendar flows use
            accrual[i, r] = loan.rate * (years[i + 1] - max(years[i], drawn))
            matured[i, r] = grid[i + 1] >= loan.maturity
            if loan.repayment == "amortizing":
                passed = sum(1 for d in ends if d <= grid[i + 1])
                scheduled[i, r] = loan.amount * passed // len(ends)
    return LoanPlan(
        id=first.key,
        lender=first.lender,
        borrower=first.borrower,
        amount=np.array([s.loans[k].amount for s in scenarios], dtype=np.int64),
        day=np.array([(s.loans[k].at - start).days for s in scenarios], dtype=np.int64),
        accrual=accrual,
        scheduled=scheduled,
        matured=matured,
    )


def financing_sources(labs: dict[str, LabPlan]) -> list[str]:
    """The external accounts labs raise money from, in the order labs first name them."""
    return list(dict.fromkeys(lab.financing.source for lab in labs.values() if lab.financing))


def _financing(runs: list[LabModel], years: Floats) -> FinancingPlan | None:
    """The financing rule of one lab across runs (all have one, or none: see ``structure``)."""
    rules = [r.financing for r in runs]
    if rules[0] is None:
        return None
    fs = [f for f in rules if f is not None]  # all of them: the batch shares its structure
    rate = np.array([(f.rate or 0.0) if f.kind == "debt" else 0.0 for f in fs], dtype=np.float64)
    # interest accrues over each step on the year fractions flows use: step k is
    # y(d_k+1) - y(d_k) years long, so a monthly step is 1/12 whatever the month's length
    return FinancingPlan(
        source=fs[0].source,
        kind=fs[0].kind,
        floor=np.array([f.floor for f in fs], dtype=np.int64),
        limit=np.array([f.limit for f in fs], dtype=np.int64),
        accrual=np.diff(years)[:, None] * rate[None, :],
    )


def _per_tranche(
    scenarios: list[Scenario],
    j: int,
    value: Callable[[Scenario, TrancheModel], object],
    dtype: type,
) -> npt.NDArray[Any]:
    """``value(scenario, tranche)`` for each tranche of investment ``j`` in each run, as an
    array ``[tranche, run]``. ``value`` reads the tranche, the scenario's start (the batch's)
    and its milestones only: it is computed once per deal object and milestones."""
    done: dict[tuple[int, int], list[object]] = {}  # runs share the deals they do not vary
    rows = []
    for s in scenarios:
        deal = s.investments[j]
        key = (id(deal), id(s.milestones))
        if key not in done:
            done[key] = [value(s, t) for t in deal.tranches]
        rows.append(done[key])
    return np.array(rows, dtype=dtype).reshape(len(scenarios), -1).T


def _per_deal(deals: list[Any], value: Callable[[Any], object]) -> list[object]:
    """``value(deal)`` for each run's deal, computed once per deal object."""
    done: dict[int, object] = {}
    out = []
    for d in deals:
        key = id(d)
        if key not in done:
            done[key] = value(d)
        out.append(done[key])
    return out


def _level(s: Scenario, t: TrancheModel) -> int:
    """The cash (cents) a tranche's lab must hold less than for it to be paid; 0 without one."""
    return t.level


def _window_end(s: Scenario, t: TrancheModel) -> int:
    """The day after the last a tranche may be paid (days since start): ``on:``'s ``until``,
    else the day after its date."""
    end = t.until if t.until is not None else t.at + dt.timedelta(days=1)
    return (end - s.start).days


def _reached(s: Scenario, t: TrancheModel) -> bool:
    """Whether a tranche waiting for a milestone may be paid: the milestone is reached (its date
    is not null) on or before the tranche's date. True for every other tranche."""
    if t.milestone is None:
        return True
    reached = s.milestones[t.milestone]
    return reached is not None and reached <= t.at


def _check_exact_range(
    labs: dict[str, LabPlan],
    seller_opening: Cents,
    investments: list[InvestmentPlan],
    loans: list[LoanPlan],
) -> None:
    """Refuse, before running, a scenario whose money could leave the range of exact cents.

    All money in the system is opening cash, customer revenue, investors' funding or loans
    (their outstanding amount with interest not paid added), so no balance and no payment can
    exceed their sum; it must stay below 2**52 cents (~$45T)."""
    total = seller_opening.sum(axis=0).astype(np.float64)
    for lab in labs.values():
        total += lab.opening + lab.revenue.sum(axis=0)
        if lab.financing is not None:
            total += lab.financing.limit
            _check_debt_range(lab.name, lab.financing)
    for inv in investments:
        total += inv.amounts.sum(axis=0)
    for loan in loans:  # its principal, with unpaid interest compounded (as a lab's debt)
        total += (loan.amount + loan.accrual.shape[0]) * (det_expm1(loan.accrual.sum(axis=0)) + 1)
    if total.max(initial=0) >= 2**52:
        raise ScenarioError(
            f"the money in this scenario (opening cash, revenue and investments over the "
            f"horizon) adds up to ${total.max() / 1e14:,.0f}T, past the $45T this simulator can "
            "keep exact to the cent; lower the amounts or growth, or shorten the horizon",
            path="agents, deals",
        )


def _check_debt_range(lab: str, f: FinancingPlan) -> None:
    """A debt's outstanding amount (drawn plus interest not paid) must stay exact in cents too.

    Each step multiplies it by at most ``1 + accrual <= exp(accrual)`` and adds at most half a
    cent of rounding, so it stays below ``(limit + steps) * exp(sum of accruals)``."""
    bound = (f.limit + f.accrual.shape[0]) * (det_expm1(f.accrual.sum(axis=0)) + 1.0)
    if bound.max(initial=0) >= 2**52:
        raise ScenarioError(
            f"{lab}'s debt could grow past the $45T this simulator can keep exact to the cent "
            "(its limit with interest compounded over the horizon); lower the limit or the rate, "
            "or shorten the horizon",
            path=f"agents.{lab}.financing",
        )


def build_plan(scenarios: list[Scenario]) -> Plan:
    """Stack the scenarios of a batch into arrays over runs.

    A scenario object given more than once (a run and its twins) is planned once and its
    column repeated: each array is built over the distinct scenarios, element by element, so a
    run's values are the same whoever shares its batch."""
    if not scenarios:
        raise ValueError("a batch needs at least one scenario")
    position: dict[int, int] = {}  # scenario object -> its column among the distinct ones
    distinct: list[Scenario] = []
    for s in scenarios:
        if id(s) not in position:
            position[id(s)] = len(distinct)
            distinct.append(s)
    if len(distinct) < len(scenarios):
        cols = np.array([position[id(s)] for s in scenarios], dtype=np.intp)
        return _repeat_runs(_build_plan(distinct), cols, scenarios)
    return _build_plan(scenarios)


def _repeat_runs(plan: Plan, cols: npt.NDArray[np.intp], scenarios: list[Scenario]) -> Plan:
    """``plan`` with run ``k`` of the result being run ``cols[k]`` of ``plan``: every array
    over runs (its last axis) taken at ``cols``, as fresh arrays (twins are zeroed in place).
    Every array of a part of the plan (a lab's, a deal's, a route's) is over runs, so a new
    one is taken here without naming it; the Plan's own are named (its ``days`` are not)."""

    def take(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return np.take(a, cols, axis=-1)

    def part(p: Any) -> Any:
        """A part of the plan with each array over runs taken, and each part inside it."""
        if not is_dataclass(p) or isinstance(p, type):
            return p
        changes: dict[str, Any] = {}
        for f in fields(p):
            v = getattr(p, f.name)
            if isinstance(v, np.ndarray):
                changes[f.name] = take(v)
            elif is_dataclass(v):
                changes[f.name] = part(v)
        return replace(p, **changes)

    return replace(
        plan,
        scenarios=list(scenarios),
        labs={name: part(lab) for name, lab in plan.labs.items()},
        margins=take(plan.margins),
        seller_opening=take(plan.seller_opening),
        routes={c: [part(r) for r in rs] for c, rs in plan.routes.items()},
        revenue_shares=[part(r) for r in plan.revenue_shares],
        loans=[part(x) for x in plan.loans],
        contracts=[part(c) for c in plan.contracts],
        investments=[part(d) for d in plan.investments],
        due={pair: take(d) for pair, d in plan.due.items()},
        accounts=list(plan.accounts),
        origins=list(plan.origins),
    )


def _build_plan(scenarios: list[Scenario]) -> Plan:
    """The Plan of distinct scenarios of one structure: each kind's columns, then the accounts
    and origins."""
    first = scenarios[0]
    _check_structure(scenarios)
    grid = first.grid()
    start = grid[0]
    days = np.array([(d - start).days for d in grid], dtype=np.int64)
    years = np.array([year_fraction(start, d) for d in grid], dtype=np.float64)
    labs = {name: _lab_plan(name, [s.labs[name] for s in scenarios], years) for name in first.labs}
    sellers = list(first.sellers)
    margins = np.array([[s.sellers[c].margin for s in scenarios] for c in sellers]).reshape(
        len(sellers), len(scenarios)
    )
    seller_opening = np.array(
        [[s.sellers[c].cash for s in scenarios] for c in sellers], dtype=np.int64
    ).reshape(len(sellers), len(scenarios))
    contracts = [
        ContractPlan(
            c.key,
            c.lab,
            c.cloud,
            contract_minimum([s.contracts[j] for s in scenarios], grid, years),
            c.with_investment,
            _contract_margin([s.contracts[j] for s in scenarios]),
        )
        for j, c in enumerate(first.contracts)
    ]
    investments = [_investment(scenarios, j, start) for j in range(len(first.investments))]
    loans = [_loan(scenarios, k, years) for k in range(len(first.loans))]
    _check_exact_range(labs, seller_opening, investments, loans)
    plan = Plan(
        scenarios=scenarios,
        grid=grid,
        days=days,
        investors={i.name: tuple(i.owns) for i in first.investors.values()},
        labs=labs,
        sellers=sellers,
        margins=margins,
        seller_opening=seller_opening,
        owner={c: first.owner_of(c) for c in sellers},
        seller_kind={c: first.sellers[c].kind for c in sellers},
        revenue_shares=[_revenue_share(scenarios, k) for k in range(len(first.revenue_shares))],
        loans=loans,
        routes=_routes(scenarios, sellers),
        contracts=contracts,
        investments=investments,
        due=_due_days(scenarios, sellers, grid, days),
        tracing=first.tracing,
    )
    plan.accounts, plan.origins = _accounts(plan), _origins(plan)
    return plan


def _check_structure(scenarios: list[Scenario]) -> None:
    """Refuse a batch whose runs differ in structure (``structure``) from its first."""
    first = scenarios[0]
    memo: dict[int, object] = {}  # each agent's and deal's shape, by object
    shape = structure(first, memo)
    checked = {id(first)}  # twins repeat their run's scenario object: checked once
    for i, s in enumerate(scenarios[1:], start=1):
        if id(s) in checked:
            continue
        checked.add(id(s))
        if structure(s, memo) != shape:
            raise ValueError(
                f"run {i} ({s.name!r}) differs in structure from run 0: runs of one batch share "
                "calendar, agents, providers and deals, and differ only in values"
            )


def _lab_plan(name: str, runs: list[LabModel], years: Floats) -> LabPlan:
    """One lab's columns over the runs of a batch."""
    providers = list(runs[0].providers)
    return LabPlan(
        name=name,
        revenue=flow_columns([r.revenue for r in runs], years),
        compute=flow_columns([r.compute for r in runs], years),
        other=flow_columns([r.other for r in runs], years),
        providers=providers,
        shares=np.array([[r.providers[c] for r in runs] for c in providers]).reshape(
            len(providers), len(runs)
        ),
        opening=np.array([r.cash for r in runs], dtype=np.int64),
        financing=_financing(runs, years),
    )


def _investment(scenarios: list[Scenario], j: int, start: dt.date) -> InvestmentPlan:
    """Investment ``j`` of a batch over its runs."""
    d = scenarios[0].investments[j]
    deals = [s.investments[j] for s in scenarios]
    per_tranche = partial(_per_tranche, scenarios, j)
    amounts = per_tranche(lambda s, t: t.amount, np.int64)
    return InvestmentPlan(
        id=d.key,
        investor=d.investor,
        lab=d.lab,
        days=per_tranche(lambda s, t: (t.at - start).days, np.int64),
        amounts=amounts,
        conditions=tuple(t.kind for t in d.tranches),
        level=per_tranche(_level, np.int64),
        until=per_tranche(_window_end, np.int64),
        reached=per_tranche(_reached, bool),
        post_money=np.array(
            _per_deal(deals, lambda x: x.post_money_valuation or 0), dtype=np.int64
        ),
        post_money_stated=np.array(
            _per_deal(deals, lambda x: x.valuation in ("pre_money", "post_money")),
            dtype=bool,
        ),
        announced=amounts.sum(axis=0),
        stake_per_cent=np.array(_per_deal(deals, lambda x: x.stake_per_cent), dtype=np.float64),
        credits_on=d.credits_on,
        credits_share=(
            np.array([x.credits_share for x in deals], dtype=np.float64) if d.credits_on else None
        ),
    )


def _routes(scenarios: list[Scenario], sellers: list[str]) -> dict[str, list[RoutePlan]]:
    """Each seller's cost routes over the runs of a batch (sellers without any left out)."""
    first = scenarios[0]
    return {
        c: [
            RoutePlan(
                to,
                np.array([s.sellers[c].costs[to].share for s in scenarios], dtype=np.float64),
                r.lag,
                r.lead,
            )
            for to, r in first.sellers[c].costs.items()
        ]
        for c in sellers
        if first.sellers[c].costs
    }


def _due_days(
    scenarios: list[Scenario], sellers: list[str], grid: list[dt.date], days: npt.NDArray[np.int64]
) -> dict[tuple[str, str], npt.NDArray[np.int64]]:
    """Per (lab, seller) it pays, the due day of each step's invoice ``[step, run]``."""
    first, start = scenarios[0], grid[0]
    due: dict[tuple[str, str], npt.NDArray[np.int64]] = {}
    for lab_name, lab in first.labs.items():
        pairs = set(lab.providers) | {c.cloud for c in first.contracts if c.lab == lab_name}
        for seller in sellers:
            if seller not in pairs:
                continue
            # due day of each step's invoice, computed once per distinct payment terms (and
            # looked up once per scenario object: twins repeat their run's)
            by_terms: dict[Duration, int] = {}
            by_scenario: dict[int, int] = {}
            due_cols: list[npt.NDArray[np.int64]] = []
            which = []
            for s in scenarios:
                if id(s) not in by_scenario:
                    terms = s.payment_terms(lab_name, seller)
                    if terms not in by_terms:
                        by_terms[terms] = len(due_cols)
                        due_cols.append(
                            days[1:] + terms.days
                            if not terms.months
                            else np.array([(terms.after(d) - start).days for d in grid[1:]])
                        )
                    by_scenario[id(s)] = by_terms[terms]
                which.append(by_scenario[id(s)])
            due[(lab_name, seller)] = np.stack(due_cols, axis=1).astype(np.int64)[:, which]
    return due


def _accounts(plan: Plan) -> list[str]:
    """Every account: agents, credit accounts, then the external ones. Financing sources
    come last, and credits and capex funding only where used: other files keep their layout."""
    first = plan.scenarios[0]
    credit_accounts = list(dict.fromkeys(a for d in plan.investments if (a := d.credit_account)))
    return [
        *first.investors,
        *first.labs,
        *plan.sellers,
        *credit_accounts,
        *EXTERNAL_ACCOUNTS,
        *([VENDOR_COSTS] if VENDOR_COSTS in {plan.sink(c) for c in plan.sellers} else []),
        *([CREDITS_ISSUED] if credit_accounts else []),
        *financing_sources(plan.labs),
        *([CAPEX_FUNDING] if plan.lead_sellers else []),
    ]


def _origins(plan: Plan) -> list[str]:
    """Every origin money can have, in the same spirit as ``_accounts``."""
    first = plan.scenarios[0]
    return (
        [f"{i}:investment" for i in first.investors]
        + [f"{lab}:revenue" for lab in first.labs]
        + [f"{lab}:cash" for lab in first.labs]
        + [f"{c}:cash" for c in plan.sellers]
        + [o for lab in plan.labs.values() if (o := lab.financing_origin) is not None]
        + list(dict.fromkeys(f"{d.investor}:credits" for d in plan.investments if d.credits_on))
        + [f"{c}:capex" for c in plan.lead_sellers]
        + list(dict.fromkeys(loan.origin for loan in plan.loans))
    )
