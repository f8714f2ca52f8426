"""Labs: revenue, financing, spending and invoices, step by step (docs/model.md, section 8).

* **Revenue** accrues each step and lands at the step's end from ``customers``; the shares of it
  a lab owes investors (revenue-share deals) are paid at once, by its tracing rule.
* **Financing**, at each step's end just before it spends, for a lab with a ``financing`` rule:
  it raises from its source what it needs to pay for the step and keep its floor (up to its
  limit), then pays interest on its debt; interest it cannot pay is added to the debt.
* **Spending**, at each step's end, in this order of priority, never beyond the cash it has
  after setting aside invoices it already owes: (0) compute paid in credits, drawn first
  (sim/model/kinds/credits.py); (1) take-or-pay minimums of its compute contracts; (2) the rest of
  its
  demand (compute above the minimums, split by provider shares, the unshared part to
  ``other_compute``; and other costs to ``suppliers``), cut in the same proportion when cash is
  short. What is cut is recorded as unmet; the first day anything is cut is its cash-out date.
* **Invoices** for a step are paid ``payment_terms`` after the step's end (at once if zero); the
  seller passes the money on as it is paid (sim/model/kinds/seller.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import simpy

from sim.model.books import Cents, Legs, allocate
from sim.model.clock import DUE, REVENUE, SPENDING, At, Process, now
from sim.model.kinds.credits import CreditLine
from sim.model.kinds.credits import draw as draw_credits
from sim.model.kinds.credits import lines as credit_lines
from sim.model.kinds.seller import Settle, cloud_settles, post_settled
from sim.model.kinds.seller import settle as settle_shape
from sim.model.schedule import FinancingPlan, LabPlan

if TYPE_CHECKING:
    from sim.model.engine import Engine


@dataclass(frozen=True)
class FinancingTerms:
    """A lab's financing rule as the engine applies it: fixed for the whole run."""

    debt: bool  # debt bears interest and is reported outstanding; equity does neither
    plan: FinancingPlan  # floor, limit [run]; interest per cent of debt in each step [step, run]
    origin: int  # the origin of the money raised (``<lab>:equity`` or ``<lab>:debt``)
    raise_legs: Legs  # source -> lab, financing
    interest_legs: Legs  # lab -> source, interest


@dataclass
class Financed:
    """What a lab's financing has come to so far, per run (changes step by step)."""

    raised: Cents  # all money received from its source [run]
    debt: Cents  # debt outstanding: drawn plus interest not paid [run]; 0 for equity

    @classmethod
    def none(cls, n_runs: int) -> Financed:
        return cls(np.zeros(n_runs, dtype=np.int64), np.zeros(n_runs, dtype=np.int64))


@dataclass
class LabTables:
    """A lab's spending, fixed in advance where it does not depend on cash; counters per step."""

    name: str
    index: int  # account
    clouds: list[str]  # invoice targets: providers in share order, then contract-only clouds
    n_providers: int
    contract_rows: list[int]  # position in ``clouds`` of each contract's cloud
    minimum: Cents  # take-or-pay minimum [step, contract, run]
    min_total: Cents  # [step, run]
    excess: Cents  # compute demand above the minimums [step, run]
    other: Cents  # other costs [step, run]
    wanted: npt.NDArray[np.float64]  # [step, provider.. + other_compute + other, run]
    wanted_total: Cents  # excess + other [step, run]
    unused: Cents  # minimums above demand [step, run]
    due: npt.NDArray[np.int64]  # due day of each step's invoice [step, cloud, run]
    due_now: npt.NDArray[np.bool_]  # due the day it is issued [step, cloud, run]
    deferred: list[list[int]]  # per step, clouds whose invoice some run pays later
    same_due: npt.NDArray[np.bool_]  # all runs share the due day [step, cloud]
    now_clouds: list[int]  # positions of clouds some run pays the day they invoice
    settle: Settle  # how those clouds pass the money on
    legs: Legs  # to each cloud, other_compute and suppliers; then the clouds' cost and profit
    invoice_legs: list[Legs]  # per cloud: a deferred invoice, with the cloud's cost and profit
    invoice_settle: list[Settle]
    unmet_compute: Cents  # filled step by step [step, run]
    unmet_other: Cents
    shortfall: Cents
    financed: Financed  # money raised so far and debt outstanding (zero without financing)
    financing: FinancingTerms | None = None  # None: the lab never raises money
    credit_lines: list[CreditLine] = field(default_factory=list)  # credits it holds (if any)

    @property
    def n_contracts(self) -> int:
        return len(self.contract_rows)


class Labs:
    """Every lab of a batch: its tables, built once from the Plan, its processes and its
    counters. (No reference to the engine is kept: see sim/model/kinds/investor.py.)"""

    def __init__(self, eng: Engine) -> None:
        """Per lab, everything about its spending that does not depend on its cash, up front."""
        plan, n = eng.plan, eng.plan.n_runs
        self.tables: dict[str, LabTables] = {}
        # invoices set aside until due, per lab [run]; what is left at the horizon stays owed
        self.payables = {lab: np.zeros(n, dtype=np.int64) for lab in plan.labs}
        # the same per (lab, seller) whose invoices it may pay later: the seller's receivable
        self.owed: dict[tuple[str, str], Cents] = {}
        for name, lp in plan.labs.items():
            contracts = [c for c in plan.contracts if c.lab == name]
            clouds = list(lp.providers) + [
                c.cloud for c in contracts if c.cloud not in lp.providers
            ]
            steps = plan.n_steps
            minimum = (
                np.stack([c.minimum for c in contracts], axis=1)
                if contracts
                else np.zeros((steps, 0, n), dtype=np.int64)
            )
            min_total = minimum.sum(axis=1)
            excess = np.maximum(lp.compute - min_total, 0)  # compute demand above the minimums
            # provider shares, with what is left of 100% going to other_compute, then other costs
            rest = np.clip(1.0 - lp.shares.sum(axis=0), 0.0, 1.0)
            shares = np.concatenate([lp.shares, rest[None]])  # [item, run]
            wanted = np.concatenate(
                [shares[None] * excess[:, None, :], lp.other[:, None, :]], axis=1
            )
            due = (
                np.stack([plan.due[(name, c)] for c in clouds], axis=1)
                if clouds
                else np.zeros((steps, 0, n), dtype=np.int64)
            )
            due_now = due == plan.days[1:, None, None]
            deferred = [
                [i for i, later in enumerate(row) if later]
                for row in (~due_now.all(axis=2)).tolist()
            ]
            deals = [eng.compute_deal[(name, c)] for c in clouds]
            for i, c in enumerate(clouds):
                if not due_now[:, i, :].all():  # some invoice is paid after it is issued
                    self.owed[(name, c)] = np.zeros(n, dtype=np.int64)
            # clouds that some run pays the day it is invoiced; only these get immediate legs
            now_clouds = [i for i in range(len(clouds)) if due_now[:, i, :].any()]
            settle = settle_shape(
                eng, [clouds[i] for i in now_clouds], [deals[i] for i in now_clouds], n_other=2
            )
            a = eng.index[name]
            spend_legs = [(a, eng.index[clouds[i]], "compute", deals[i]) for i in now_clouds]
            spend_legs += [
                (
                    a,
                    eng.index["other_compute"],
                    "compute",
                    eng.deal_index[f"{name}-other-compute"],
                ),
                (a, eng.index["suppliers"], "other", eng.deal_index[f"{name}-other"]),
            ]
            invoice_legs, invoice_settle = [], []
            for c, d in zip(clouds, deals, strict=True):
                one = settle_shape(eng, [c], [d])
                invoice_settle.append(one)
                invoice_legs.append(Legs.of([(a, eng.index[c], "compute", d), *one.legs]))
            self.tables[name] = LabTables(
                name=name,
                index=eng.index[name],
                clouds=clouds,
                n_providers=len(lp.providers),
                contract_rows=[clouds.index(c.cloud) for c in contracts],
                minimum=minimum,
                min_total=min_total,
                excess=excess,
                other=lp.other,
                wanted=wanted,
                wanted_total=excess + lp.other,
                unused=np.maximum(min_total - lp.compute, 0),
                due=due,
                due_now=due_now,
                deferred=deferred,
                same_due=(due == due[:, :, :1]).all(axis=2),
                now_clouds=now_clouds,
                settle=settle,
                legs=Legs.of(spend_legs + settle.legs),
                invoice_legs=invoice_legs,
                invoice_settle=invoice_settle,
                unmet_compute=np.zeros((steps, n), dtype=np.int64),
                unmet_other=np.zeros((steps, n), dtype=np.int64),
                shortfall=np.zeros((steps, n), dtype=np.int64),
                financed=Financed.none(n),
            )
            if lp.financing is not None:
                _financing_tables(eng, self.tables[name], lp.financing)
            self.tables[name].credit_lines = credit_lines(
                eng, self.tables[name], [c.cloud for c in contracts]
            )

    def start(self, eng: Engine) -> None:
        for lab in eng.plan.labs.values():
            eng.env.process(customer_revenue(eng.env, eng, lab))
        for tables in self.tables.values():
            eng.env.process(lab_spending(eng.env, eng, tables))

    def stats(self, eng: Engine, t: LabTables) -> dict[str, Cents]:
        """A lab's counters over the run; its cash-out day is the first step anything was cut."""
        cut = (t.unmet_compute + t.unmet_other + t.shortfall) > 0  # [step, run]
        first = cut.argmax(axis=0)
        return {
            "unmet_compute": t.unmet_compute.sum(axis=0),
            "unmet_other": t.unmet_other.sum(axis=0),
            "shortfall": t.shortfall.sum(axis=0),
            "unused_commitment": t.unused.sum(axis=0),
            "cash_out_day": np.where(cut.any(axis=0), eng.plan.days[1:][first], -1),
            "debt_outstanding": t.financed.debt.copy(),
        }


def _financing_tables(eng: Engine, lab: LabTables, f: FinancingPlan) -> None:
    """The legs and origin of a lab's financing."""
    a, source = lab.index, eng.index[f.source]
    d = eng.deal_index[f"{lab.name}-financing"]
    lab.financing = FinancingTerms(
        debt=f.kind == "debt",
        plan=f,
        origin=eng.origin[f"{lab.name}:{f.kind}"],
        raise_legs=Legs.of([(source, a, "financing", d)]),
        interest_legs=Legs.of([(a, source, "interest", d)]),
    )


def customer_revenue(env: simpy.Environment, eng: Engine, lab: LabPlan) -> Process:
    """Revenue of each step, received from customers at the step's end; then the shares of it
    the lab owes investors (revenue-share deals), paid at once by the tracing rule."""
    origin, d = eng.origin[f"{lab.name}:revenue"], eng.deal_index[f"{lab.name}-revenue"]
    a = eng.index[lab.name]
    legs = Legs.of([(eng.index["customers"], a, "revenue", d)])
    shares = [r for r in eng.plan.revenue_shares if r.lab == lab.name]
    share_legs = [
        Legs.of([(a, eng.index[r.investor], "revenue_share", eng.deal_index[r.id])]) for r in shares
    ]
    paid = [np.zeros(eng.plan.n_runs, dtype=np.int64) for _ in shares]
    for k in range(eng.plan.n_steps):
        day = int(eng.plan.days[k + 1])
        yield At(env, day, REVENUE)
        eng.books.issue(now(env), legs, origin, lab.revenue[k])
        left = lab.revenue[k]  # the shares are paid out of the step's revenue, never more
        for r, r_legs, so_far in zip(shares, share_legs, paid, strict=True):
            # share of the step's revenue, rounded half up, in its window and up to its cap;
            # shares summing to 100% (checked by sim.inputs.schema) may round a cent past the
            # revenue:
            # the last in file order is paid what is left
            due = np.floor(lab.revenue[k] * r.share + 0.5).astype(np.int64)
            due = np.where((r.start < day) & (day <= r.until), due, 0)
            due = np.minimum(np.minimum(due, r.cap - so_far), left)
            if due.any():
                eng.books.pay(now(env), a, r_legs, due[None])
                so_far += due
                left = left - due


def lab_spending(env: simpy.Environment, eng: Engine, lab: LabTables) -> Process:
    """Each step's end: decide what the lab can pay for, invoice it, pay what is due now."""
    for k in range(eng.plan.n_steps):
        yield At(env, int(eng.plan.days[k + 1]), SPENDING)
        spend_step(now(env), eng, lab, k)


def spend_step(t: int, eng: Engine, lab: LabTables, k: int) -> None:
    # what it wants to pay for in cash: its demand, less what its credits pay
    # (sim/model/kinds/credits.py)
    if lab.credit_lines:
        d = draw_credits(t, eng, lab, k)
        minimum, min_total, wanted, wanted_total = d.minimum, d.min_total, d.wanted, d.wanted_total
        excess = d.excess
    else:
        minimum, min_total, wanted = lab.minimum[k], lab.min_total[k], lab.wanted[k]
        wanted_total, excess = lab.wanted_total[k], lab.excess[k]
    # cash it may commit: what it holds less invoices it already owes
    avail = eng.books.pool[lab.index].sum(axis=0) - eng.labs.payables[lab.name]
    if lab.financing is not None:
        avail = finance_step(t, eng, lab, lab.financing, k, avail, min_total + wanted_total)

    # (1) take-or-pay minimums come first, cut pro rata if even they cannot be paid
    if lab.n_contracts:
        min_paid_total = np.minimum(avail, min_total)
        min_paid = allocate(min_paid_total, minimum)  # [contract, run]
        lab.shortfall[k] = min_total - min_paid_total
        avail = avail - min_paid_total

    # (2) the rest: compute above the minimums split by provider shares (the part of 100% no
    # provider has goes to other_compute), and other costs; all cut in one proportion if short
    funded = allocate(np.minimum(avail, wanted_total), wanted)
    lab.unmet_compute[k] = excess - funded[:-1].sum(axis=0)
    lab.unmet_other[k] = lab.other[k] - funded[-1]

    # invoices per cloud; pay those due now, set the others aside until due
    n_clouds = len(lab.clouds)
    if n_clouds > lab.n_providers:
        extra = np.zeros((n_clouds - lab.n_providers, funded.shape[1]), dtype=np.int64)
        invoices = np.concatenate([funded[: lab.n_providers], extra])
    else:
        invoices = funded[:n_clouds]
    for j, row in enumerate(lab.contract_rows):
        invoices[row] += min_paid[j]
    # clouds some run pays at once ("now clouds"); the others' invoices wait until due
    pay_now = np.where(lab.due_now[k], invoices, 0)
    if lab.deferred[k]:
        later = invoices - pay_now
        for i in lab.deferred[k]:
            invoice_later(eng, lab, i, k, later[i])
    # one split of the lab's cash for everything paid now: each cloud's payment as its profit
    # and its cost (see cloud_settles), then other compute and other costs
    n_now = len(lab.now_clouds)
    to_clouds = cloud_settles(lab.settle, pay_now[lab.now_clouds])
    parts = eng.books.split(lab.index, np.concatenate([to_clouds, funded[-2:]]))
    post_settled(eng, t, lab.legs, lab.settle, parts, n_now)


def finance_step(
    t: int, eng: Engine, lab: LabTables, f: FinancingTerms, k: int, avail: Cents, need: Cents
) -> Cents:
    """Before the lab spends at step ``k``'s end: raise what it is short of, then pay interest.

    ``wanted = interest + minimums + the rest of its demand``; it raises
    ``min(max(wanted + floor - avail, 0), limit - raised so far)`` from its source (origin
    ``<lab>:equity`` or ``<lab>:debt``). Interest accrued over the step on the debt outstanding
    at its start, rounded half up to the cent, is paid first from what it may commit; what it
    cannot pay is added to the debt. Returns what it may commit after both. A step where no run
    raises (or pays interest) posts nothing."""
    financed = lab.financed
    interest = np.zeros_like(avail)
    if f.debt:
        interest = np.floor(financed.debt * f.plan.accrual[k] + 0.5).astype(np.int64)
    wanted = interest + need  # need: the step's minimums and the rest of its demand, in cash
    headroom = f.plan.limit - financed.raised
    # np.clip, written out: on arrays this small its dispatch costs more than the arithmetic
    raised = np.minimum(np.maximum(wanted + f.plan.floor - avail, 0), headroom)
    if raised.any():
        eng.books.issue(t, f.raise_legs, f.origin, raised)
        financed.raised += raised
        avail = avail + raised
    if f.debt:
        paid = np.minimum(np.maximum(interest, 0), np.maximum(avail, 0))
        if paid.any():
            eng.books.pay(t, lab.index, f.interest_legs, paid[None])
        financed.debt += raised + interest - paid
        avail = avail - paid
    return avail


def pay_invoice(eng: Engine, lab: LabTables, i: int, amount: Cents, time: int) -> None:
    """A deferred invoice from cloud ``i`` falls due: the lab pays it from the cash it set aside,
    and the cloud passes it on."""
    shape = lab.invoice_settle[i]
    parts = eng.books.split(lab.index, cloud_settles(shape, amount[None]))
    post_settled(eng, time, lab.invoice_legs[i], shape, parts, 1, ahead=True)
    eng.labs.payables[lab.name] -= amount
    eng.labs.owed[(lab.name, lab.clouds[i])] -= amount


def invoice_later(eng: Engine, lab: LabTables, i: int, k: int, amount: Cents) -> None:
    """Set step ``k``'s invoice from cloud ``i`` aside as owed, and pay it when due (if that
    falls within the horizon); runs with different due days get one event per day."""
    eng.labs.payables[lab.name] += amount
    eng.labs.owed[(lab.name, lab.clouds[i])] += amount
    end = int(eng.plan.days[-1])
    due = lab.due[k, i]
    days = [int(due[0])] if lab.same_due[k, i] else sorted(set(due[amount > 0].tolist()))
    for day in days:
        if day > end:
            continue  # due after the horizon: stays owed
        part = amount if len(days) == 1 else np.where(due == day, amount, 0)
        ev = At(eng.env, day, DUE)
        ev.callbacks.append(partial(_pay_due, eng, lab, i, part))
    pos = eng.seller_pos[lab.clouds[i]]
    if eng.sellers.has_leads(pos):
        _pay_ahead(eng, lab, i, k, amount, pos)


def _pay_ahead(eng: Engine, lab: LabTables, i: int, k: int, amount: Cents, pos: int) -> None:
    """The routes with a lead of the seller of invoice ``i`` (issued at step ``k``'s end) are
    paid their part of it ``lead`` before it falls due, but not before it is issued: on
    ``max(issued, due - lead)``, per run, if that is within the horizon (``Sellers.prepay``)."""
    plan = eng.plan
    issued, end = int(plan.days[k + 1]), int(plan.days[-1])
    deal = eng.compute_deal[(lab.name, lab.clouds[i])]
    for j, lead in enumerate(eng.sellers.table[pos].leads):
        if lead.is_zero:
            continue
        when = np.array(
            [max(issued, (lead.before(plan.date(d)) - plan.start).days) for d in lab.due[k, i]],
            dtype=np.int64,
        )
        for day in sorted(set(when[amount > 0].tolist())):
            if day > end:
                continue  # ahead of a payment after the horizon, and after it too: not paid
            runs = (when == day) & (amount > 0)
            if day == issued:
                eng.sellers.prepay(day, pos, amount, deal, j, runs)
            else:
                ev = At(eng.env, day, DUE)
                ev.callbacks.append(partial(_prepay_due, eng, pos, amount, deal, j, runs))


def _prepay_due(
    eng: Engine,
    pos: int,
    amount: Cents,
    deal: int,
    j: int,
    runs: npt.NDArray[np.bool_],
    _event: simpy.events.Event,
) -> None:
    eng.sellers.prepay(int(eng.env.now), pos, amount, deal, j, runs)


def _pay_due(eng: Engine, lab: LabTables, i: int, part: Cents, _event: simpy.events.Event) -> None:
    pay_invoice(eng, lab, i, part, int(eng.env.now))
