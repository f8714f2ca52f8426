"""Labs: revenue, financing, spending and invoices, step by step (docs/model.md, section 8).

* **Revenue** accrues each step and lands at the step's end from ``customers``; the shares of it
  a lab owes investors (revenue-share deals) are paid at once, by its tracing rule.
* **Financing**, at each step's end just before it spends, for a lab with a ``financing`` rule:
  it raises from its source what it needs to pay for the step and keep its floor (up to its
  limit), then pays interest on its debt; interest it cannot pay is added to the debt.
* **Spending**, at each step's end, in this order of priority, never beyond the cash it has
  after setting aside invoices it already owes: (0) compute paid in credits, drawn first
  (sim/model/kinds/credits.py); (1) take-or-pay minimums of its compute contracts; (2) the rest
  of its demand (compute above the minimums, split by provider shares, the unshared part to
  ``other_compute``; and other costs to ``suppliers``), cut in the same proportion when cash is
  short. What is cut is recorded as unmet; the first day anything is cut is its cash-out date.
* **Invoices** for a step are paid ``payment_terms`` after the step's end (at once if zero); the
  seller passes the money on as it is paid (sim/model/kinds/seller.py). Each is kept as booked,
  issued at the step's end, with the seller's profit part of it (``Lab.book``): revenue as
  booked is what was invoiced, whenever it is paid (docs/metrics.md, "Booked and cash").

A lab's tables fixed in advance (``LabTerms``) are apart from what it accumulates
(``LabCounters``); the rows of its demand are named (``DemandRows``), and the legs of its
payments are made by the sellers (``Sellers.settlement``) in the order they are posted.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import simpy

from sim.inputs.models import ContractModel, LabModel, RevenueShareModel
from sim.model.accrual import interest_on
from sim.model.books import Cents, Legs, allocate
from sim.model.clock import DUE, REVENUE, SPENDING, At, Process, now
from sim.model.kinds.credits import CreditLine, StepDemand
from sim.model.kinds.credits import draw as draw_credits
from sim.model.kinds.credits import lines as credit_lines
from sim.model.kinds.kind import Context, Deal
from sim.model.kinds.seller import ContractMargins, Sellers, Settlement, with_profit
from sim.model.schedule import ContractPlan, FinancingPlan, LabPlan, Plan, RevenueSharePlan

# What a lab pays outside the model, in the order of its demand rows after its providers:
# (payee account, kind of record, deal suffix: its deal is ``<lab>-<suffix>``)
OUTSIDE = (("other_compute", "compute", "other-compute"), ("suppliers", "other", "other"))


@dataclass(frozen=True)
class DemandRows:
    """The rows of a lab's demand (``wanted``) and of what it funds of it: its providers in
    share order, then other compute (the part of 100% no provider has), then other costs."""

    n_providers: int
    providers: slice
    compute: slice  # the providers and other compute: its compute above its minimums
    other: int  # other costs (to ``suppliers``)
    outside: slice  # what is paid outside the model, in the order of ``OUTSIDE``

    @classmethod
    def of(cls, n_providers: int) -> DemandRows:
        n = n_providers
        return cls(n, slice(0, n), slice(0, n + 1), n + 1, slice(n, n + len(OUTSIDE)))


@dataclass(frozen=True)
class Demand:
    """What a lab wants to pay for, step by step, whatever its cash."""

    minimum: Cents  # take-or-pay minimum [step, contract, run]
    min_total: Cents  # [step, run]
    excess: Cents  # compute demand above the minimums [step, run]
    other: Cents  # other costs [step, run]
    wanted: npt.NDArray[np.float64]  # [step, demand row (``DemandRows``), run]
    wanted_total: Cents  # excess + other [step, run]
    unused: Cents  # minimums above demand [step, run]

    def at(self, k: int) -> StepDemand:
        """Step ``k``'s demand (a copy, for credits to draw from)."""
        return StepDemand(
            minimum=self.minimum[k].copy(),
            min_total=self.min_total[k].copy(),
            wanted=self.wanted[k].copy(),
            wanted_total=self.wanted_total[k].copy(),
            excess=self.excess[k].copy(),
        )


@dataclass(frozen=True)
class Invoicing:
    """When a lab's invoice from each seller it pays falls due, step by step."""

    due: npt.NDArray[np.int64]  # due day of each step's invoice [step, seller, run]
    due_now: npt.NDArray[np.bool_]  # due the day it is issued [step, seller, run]
    deferred: list[list[int]]  # per step, sellers whose invoice some run pays later
    same_due: npt.NDArray[np.bool_]  # all runs share the due day [step, seller]
    now_sellers: list[int]  # sellers some run pays the day they invoice


@dataclass(frozen=True)
class RevenueTerms:
    """A lab's revenue from customers, and the shares of it it owes investors."""

    origin: int  # <lab>:revenue
    legs: Legs  # customers -> lab
    shares: list[RevenueSharePlan]
    share_legs: list[Legs]  # lab -> investor, per share


@dataclass(frozen=True)
class FinancingTerms:
    """A lab's financing rule as the engine applies it: fixed for the whole run."""

    debt: bool  # debt bears interest and is reported outstanding; equity does neither
    plan: FinancingPlan  # floor, limit [run]; interest per cent of debt in each step [step, run]
    origin: int  # the origin of the money raised (``<lab>:equity`` or ``<lab>:debt``)
    raise_legs: Legs  # source -> lab, financing
    interest_legs: Legs  # lab -> source, interest


@dataclass(frozen=True)
class LabTerms:
    """A lab's tables fixed in advance (they do not depend on its cash)."""

    name: str
    index: int  # account
    sellers: list[str]  # invoice targets: providers in share order, then contract-only sellers
    deals: list[int]  # the compute deal with each of them
    rows: DemandRows
    contract_rows: list[int]  # position in ``sellers`` of each contract's seller
    demand: Demand
    invoicing: Invoicing
    settle: Settlement  # paying the sellers due now, other compute and suppliers, at once
    invoices: list[Settlement]  # per seller: paying a deferred invoice
    revenue: RevenueTerms
    financing: FinancingTerms | None  # None: the lab never raises money
    credit_lines: list[CreditLine]  # credits it holds (if any)
    # its contracts that state their own margin; None: every payment at its seller's margin
    margins: ContractMargins | None = None

    @property
    def n_contracts(self) -> int:
        return len(self.contract_rows)


@dataclass
class LabCounters:
    """What a lab's spending and financing have come to, filled as the run goes."""

    unmet_compute: Cents  # [step, run]
    unmet_other: Cents  # [step, run]
    shortfall: Cents  # minimums not paid [step, run]
    raised: Cents  # all money received from its financing source [run]
    debt: Cents  # debt outstanding: drawn plus interest not paid [run]; 0 for equity
    payables: Cents  # invoices set aside until due [run]; what is left at the horizon stays owed
    owed: dict[int, Cents]  # the same per seller (position in ``sellers``) it may pay later
    # each step's invoice from each seller (paid then or later), and the seller's profit part
    # of it as its payment will split it: revenue and profit as booked [step, seller, run]
    invoiced: Cents
    invoiced_profit: Cents

    @classmethod
    def zeros(cls, n_steps: int, n_runs: int, n_sellers: int, deferring: list[int]) -> LabCounters:
        def z(*shape: int) -> Cents:
            return np.zeros(shape, dtype=np.int64)

        return cls(
            z(n_steps, n_runs),
            z(n_steps, n_runs),
            z(n_steps, n_runs),
            z(n_runs),
            z(n_runs),
            z(n_runs),
            {i: z(n_runs) for i in deferring},
            z(n_steps, n_sellers, n_runs),
            z(n_steps, n_sellers, n_runs),
        )


class Labs:
    """Every lab of a batch: each built once from the Plan, with its processes."""

    name: ClassVar[str] = "labs"
    models: ClassVar[tuple[type, ...]] = (LabModel, ContractModel, RevenueShareModel)
    plan_parts: ClassVar[tuple[str, ...]] = ("labs", "contracts", "due", "revenue_shares")

    @staticmethod
    def deals(plan: Plan) -> list[Deal]:
        """Compute per (lab, seller) pair, in ``plan.due``'s order (under the lab's contract
        with the seller; with none, or several whose minimums add up, ``<lab>-<seller>-compute``);
        each lab's revenue, other costs and other compute; its financing; revenue shares."""
        contract_ids: dict[tuple[str, str], list[str]] = {}
        for contract in plan.contracts:
            contract_ids.setdefault((contract.lab, contract.cloud), []).append(contract.id)
        out: list[Deal] = []
        for lab, seller in plan.due:
            ids = contract_ids.get((lab, seller), [])
            out.append((ids[0] if len(ids) == 1 else f"{lab}-{seller}-compute", lab))
        for lab in plan.labs:
            out += [(f"{lab}-{suffix}", lab) for suffix in ("revenue", "other", "other-compute")]
        out += [(f"{lab}-financing", lab) for lab, p in plan.labs.items() if p.financing]
        return out + [(share.id, share.lab) for share in plan.revenue_shares]

    def __init__(self, ctx: Context) -> None:
        sellers = ctx.kind(Sellers)
        # the deal a lab's compute at a seller is booked under
        pairs = list(ctx.plan.due)
        self.compute_deal = dict(zip(pairs, ctx.deals_of(Labs)[: len(pairs)], strict=True))
        self.labs = [
            Lab(ctx, sellers, lp, lab_terms(ctx, sellers, lp, self.compute_deal))
            for lp in ctx.plan.labs.values()
        ]

    def start(self, env: simpy.Environment) -> None:
        for lab in self.labs:
            env.process(lab.customer_revenue(env))
        for lab in self.labs:
            env.process(lab.spending(env))

    def results(self) -> dict[str, Any]:
        """Each lab's counters over the run, its invoices unpaid at the horizon (per lab, and
        per (lab, seller) that may pay later), what each seller invoiced it step by step and the
        profit part of it (revenue and profit as booked), and its compute deals."""
        return {
            "lab_stats": {lab.terms.name: lab.stats() for lab in self.labs},
            "payables": {lab.terms.name: lab.counters.payables for lab in self.labs},
            "owed": {
                (lab.terms.name, lab.terms.sellers[i]): cents
                for lab in self.labs
                for i, cents in lab.counters.owed.items()
            },
            "invoiced": {
                (lab.terms.name, seller): lab.counters.invoiced[:, i]
                for lab in self.labs
                for i, seller in enumerate(lab.terms.sellers)
            },
            "invoiced_profit": {
                (lab.terms.name, seller): lab.counters.invoiced_profit[:, i]
                for lab in self.labs
                for i, seller in enumerate(lab.terms.sellers)
            },
            "compute_deal": self.compute_deal,
        }


def lab_terms(
    ctx: Context, sellers: Sellers, lp: LabPlan, compute_deal: dict[tuple[str, str], int]
) -> LabTerms:
    """Everything about a lab's spending that does not depend on its cash, up front."""
    plan, name = ctx.plan, lp.name
    contracts = [c for c in plan.contracts if c.lab == name]
    names = list(lp.providers) + [c.cloud for c in contracts if c.cloud not in lp.providers]
    deals = [compute_deal[(name, c)] for c in names]
    invoicing = _invoicing(plan, name, names)
    a = ctx.index[name]
    outside = [
        (ctx.index[payee], kind, ctx.deal_index[f"{name}-{s}"]) for payee, kind, s in OUTSIDE
    ]
    now = invoicing.now_sellers
    return LabTerms(
        name=name,
        index=a,
        sellers=names,
        deals=deals,
        rows=DemandRows.of(len(lp.providers)),
        contract_rows=[names.index(c.cloud) for c in contracts],
        demand=_demand(lp, contracts, plan.n_steps, plan.n_runs),
        invoicing=invoicing,
        settle=sellers.settlement(a, [names[i] for i in now], [deals[i] for i in now], outside),
        invoices=[sellers.settlement(a, [c], [d]) for c, d in zip(names, deals, strict=True)],
        revenue=_revenue(ctx, name),
        financing=None if lp.financing is None else _financing(ctx, name, lp.financing),
        credit_lines=credit_lines(ctx, name, contracts, dict(zip(names, deals, strict=True))),
        margins=ContractMargins.of(plan, contracts, names),
    )


def _demand(lp: LabPlan, contracts: list[ContractPlan], steps: int, n: int) -> Demand:
    minimum = (
        np.stack([c.minimum for c in contracts], axis=1)
        if contracts
        else np.zeros((steps, 0, n), dtype=np.int64)
    )
    min_total = minimum.sum(axis=1)
    excess = np.maximum(lp.compute - min_total, 0)  # compute demand above the minimums
    # provider shares, with what is left of 100% going to other_compute, then other costs
    rest = np.clip(1.0 - lp.shares.sum(axis=0), 0.0, 1.0)
    shares = np.concatenate([lp.shares, rest[None]])  # [row, run]
    wanted = np.concatenate([shares[None] * excess[:, None, :], lp.other[:, None, :]], axis=1)
    return Demand(
        minimum=minimum,
        min_total=min_total,
        excess=excess,
        other=lp.other,
        wanted=wanted,
        wanted_total=excess + lp.other,
        unused=np.maximum(min_total - lp.compute, 0),
    )


def _invoicing(plan: Plan, name: str, sellers: list[str]) -> Invoicing:
    steps, n = plan.n_steps, plan.n_runs
    due = (
        np.stack([plan.due[(name, c)] for c in sellers], axis=1)
        if sellers
        else np.zeros((steps, 0, n), dtype=np.int64)
    )
    due_now = due == plan.days[1:, None, None]
    return Invoicing(
        due=due,
        due_now=due_now,
        deferred=[
            [i for i, later in enumerate(row) if later] for row in (~due_now.all(axis=2)).tolist()
        ],
        same_due=(due == due[:, :, :1]).all(axis=2),
        # only these get legs paid at once
        now_sellers=[i for i in range(len(sellers)) if due_now[:, i, :].any()],
    )


def _revenue(ctx: Context, name: str) -> RevenueTerms:
    a = ctx.index[name]
    d = ctx.deal_index[f"{name}-revenue"]
    shares = [r for r in ctx.plan.revenue_shares if r.lab == name]
    return RevenueTerms(
        origin=ctx.origin[f"{name}:revenue"],
        legs=Legs.of([(ctx.index["customers"], a, "revenue", d)]),
        shares=shares,
        share_legs=[
            Legs.of([(a, ctx.index[r.investor], "revenue_share", ctx.deal_index[r.id])])
            for r in shares
        ],
    )


def _financing(ctx: Context, name: str, f: FinancingPlan) -> FinancingTerms:
    """The legs and origin of a lab's financing."""
    a, source = ctx.index[name], ctx.index[f.source]
    d = ctx.deal_index[f"{name}-financing"]
    return FinancingTerms(
        debt=f.kind == "debt",
        plan=f,
        origin=ctx.origin[f"{name}:{f.kind}"],
        raise_legs=Legs.of([(source, a, "financing", d)]),
        interest_legs=Legs.of([(a, source, "interest", d)]),
    )


class Lab:
    """One lab: its terms, its counters, and its processes (revenue, spending)."""

    def __init__(self, ctx: Context, sellers: Sellers, lab: LabPlan, terms: LabTerms) -> None:
        self.lab, self.terms, self.sellers = lab, terms, sellers
        self.books, self.plan, self.env = ctx.books, ctx.plan, ctx.env
        # the sellers some of whose invoices are paid after they are issued
        due_now = terms.invoicing.due_now
        deferring = [i for i in range(len(terms.sellers)) if not due_now[:, i, :].all()]
        self.counters = LabCounters.zeros(
            ctx.plan.n_steps, ctx.plan.n_runs, len(terms.sellers), deferring
        )

    def stats(self) -> dict[str, Cents]:
        """Its counters over the run; its cash-out day is the first step anything was cut."""
        c = self.counters
        cut = (c.unmet_compute + c.unmet_other + c.shortfall) > 0  # [step, run]
        first = cut.argmax(axis=0)
        return {
            "unmet_compute": c.unmet_compute.sum(axis=0),
            "unmet_other": c.unmet_other.sum(axis=0),
            "shortfall": c.shortfall.sum(axis=0),
            "unused_commitment": self.terms.demand.unused.sum(axis=0),
            "cash_out_day": np.where(cut.any(axis=0), self.plan.days[1:][first], -1),
            "debt_outstanding": c.debt.copy(),
        }

    def customer_revenue(self, env: simpy.Environment) -> Process:
        """Revenue of each step, received from customers at the step's end; then the shares of
        it the lab owes investors (revenue-share deals), paid at once by the tracing rule."""
        lab, r_terms, books, a = self.lab, self.terms.revenue, self.books, self.terms.index
        paid = [np.zeros(self.plan.n_runs, dtype=np.int64) for _ in r_terms.shares]
        for k in range(self.plan.n_steps):
            day = int(self.plan.days[k + 1])
            yield At(env, day, REVENUE)
            books.issue(now(env), r_terms.legs, r_terms.origin, lab.revenue[k])
            left = lab.revenue[k]  # the shares are paid out of the step's revenue, never more
            for r, r_legs, so_far in zip(r_terms.shares, r_terms.share_legs, paid, strict=True):
                # share of the step's revenue, rounded half up, in its window and up to its
                # cap; shares summing to 100% (checked by sim.inputs.schema) may round a cent
                # past the revenue: the last in file order is paid what is left
                due = np.floor(lab.revenue[k] * r.share + 0.5).astype(np.int64)
                due = np.where((r.start < day) & (day <= r.until), due, 0)
                due = np.minimum(np.minimum(due, r.cap - so_far), left)
                if due.any():
                    books.pay(now(env), a, r_legs, due[None])
                    so_far += due
                    left = left - due

    def spending(self, env: simpy.Environment) -> Process:
        """Each step's end: decide what the lab can pay for, invoice it, pay what is due now."""
        for k in range(self.plan.n_steps):
            yield At(env, int(self.plan.days[k + 1]), SPENDING)
            self.spend(now(env), k)

    def spend(self, t: int, k: int) -> None:
        """Step ``k``'s spending, in the order of priority of the module's docstring."""
        terms, counters, rows = self.terms, self.counters, self.terms.rows
        # what it wants to pay for in cash: its demand, less what its credits pay
        dm = terms.demand
        if terms.credit_lines:
            d = draw_credits(t, self.books, self.sellers, terms.credit_lines, dm.at(k))
            minimum, min_total, wanted = d.minimum, d.min_total, d.wanted
            wanted_total, excess = d.wanted_total, d.excess
        else:
            minimum, min_total, wanted = dm.minimum[k], dm.min_total[k], dm.wanted[k]
            wanted_total, excess = dm.wanted_total[k], dm.excess[k]
        # cash it may commit: what it holds less invoices it already owes
        avail = self.books.pool[terms.index].sum(axis=0) - counters.payables
        if terms.financing is not None:
            avail = self.finance(t, terms.financing, k, avail, min_total + wanted_total)

        # (1) take-or-pay minimums come first, cut pro rata if even they cannot be paid
        if terms.n_contracts:
            min_paid_total = np.minimum(avail, min_total)
            min_paid = allocate(min_paid_total, minimum)  # [contract, run]
            counters.shortfall[k] = min_total - min_paid_total
            avail = avail - min_paid_total

        # (2) the rest: compute above the minimums split by provider shares (the part of 100%
        # no provider has goes to other_compute), and other costs; all cut in one proportion
        funded = allocate(np.minimum(avail, wanted_total), wanted)  # [row, run]
        counters.unmet_compute[k] = excess - funded[rows.compute].sum(axis=0)
        counters.unmet_other[k] = dm.other[k] - funded[rows.other]

        # invoices per seller: its provider share, then the contracts' minimums
        n_sellers = len(terms.sellers)
        if n_sellers > rows.n_providers:
            extra = np.zeros((n_sellers - rows.n_providers, funded.shape[1]), dtype=np.int64)
            invoices = np.concatenate([funded[rows.providers], extra])
        else:
            invoices = funded[rows.providers]
        for j, row in enumerate(terms.contract_rows):
            invoices[row] += min_paid[j]
        self.book(k, invoices)
        # pay the sellers due now; set the others' invoices aside until due
        inv = terms.invoicing
        pay_now = np.where(inv.due_now[k], invoices, 0)
        # each invoice's profit, where some contract states its own margin (paid now or later)
        profit = None if terms.margins is None else terms.margins.profit(invoices, min_paid)
        if inv.deferred[k]:
            later = invoices - pay_now
            for i in inv.deferred[k]:
                part = None if profit is None else np.where(inv.due_now[k, i], 0, profit[i])
                self.invoice_later(i, k, later[i], part)
        # one split of the lab's cash for everything paid now: each seller's payment as its
        # profit and its cost, then what is paid outside the model
        if profit is None:
            to_sellers = terms.settle.profit_and_cost(pay_now[inv.now_sellers])
        else:
            now_profit = np.where(inv.due_now[k], profit, 0)[inv.now_sellers]
            to_sellers = with_profit(pay_now[inv.now_sellers], now_profit)
        parts = self.books.split(terms.index, np.concatenate([to_sellers, funded[rows.outside]]))
        self.sellers.settle(t, terms.settle, parts)

    def book(self, k: int, invoices: Cents) -> None:
        """Keep step ``k``'s invoices ``[seller, run]`` as booked, issued at the step's end
        whenever they are paid, with each seller's profit part of them split as its payment
        will split it (``Settlement.profit_and_cost``, per run: the same cents whether an
        invoice is paid at once, later, or in parts on different days in different runs)."""
        c = self.counters
        c.invoiced[k] = invoices
        for i, shape in enumerate(self.terms.invoices):
            if invoices[i].any():
                c.invoiced_profit[k, i] = shape.profit_and_cost(invoices[i : i + 1])[0]

    def finance(self, t: int, f: FinancingTerms, k: int, avail: Cents, need: Cents) -> Cents:
        """Before the lab spends at step ``k``'s end: raise what it is short of, then pay
        interest.

        ``wanted = interest + minimums + the rest of its demand``; it raises
        ``min(max(wanted + floor - avail, 0), limit - raised so far)`` from its source (origin
        ``<lab>:equity`` or ``<lab>:debt``); a twin that follows its run
        (``FinancingPlan.follows``) at most what the run has raised by the step's end less what
        it has itself. Interest accrued over the step on the debt outstanding at its start,
        rounded half up to the cent, is paid first from what it may commit; what it cannot pay
        is added to the debt. Returns what it may commit after both.
        A step where no run raises (or pays interest) posts nothing."""
        c = self.counters
        interest = np.zeros_like(avail)
        if f.debt:
            interest = interest_on(c.debt, f.plan.accrual[k])
        wanted = interest + need  # need: the step's minimums and the rest of its demand
        headroom = f.plan.limit - c.raised
        # np.clip, written out: on arrays this small its dispatch costs more than the arithmetic
        raised = np.minimum(np.maximum(wanted + f.plan.floor - avail, 0), headroom)
        if f.plan.follows is not None:
            # a twin that replaces none of the money it runs without raises, by each date, at
            # most what its run raised by then, this step included (runs follow no one)
            at = np.flatnonzero(f.plan.follows >= 0)
            run = f.plan.follows[at]
            raised[at] = np.minimum(raised[at], c.raised[run] + raised[run] - c.raised[at])
        if raised.any():
            self.books.issue(t, f.raise_legs, f.origin, raised)
            c.raised += raised
            avail = avail + raised
        if f.debt:
            paid = np.minimum(np.maximum(interest, 0), np.maximum(avail, 0))
            if paid.any():
                self.books.pay(t, self.terms.index, f.interest_legs, paid[None])
            c.debt += raised + interest - paid
            avail = avail - paid
        return avail

    def invoice_later(self, i: int, k: int, amount: Cents, profit: Cents | None = None) -> None:
        """Set step ``k``'s invoice from seller ``i`` aside as owed, and pay it when due (if
        that falls within the horizon); runs with different due days get one event per day.
        ``profit``: the seller's profit on it, if some contract's margin sets it (kept with the
        invoice until it is paid)."""
        self.counters.payables += amount
        self.counters.owed[i] += amount
        end = int(self.plan.days[-1])
        inv = self.terms.invoicing
        due = inv.due[k, i]
        days = [int(due[0])] if inv.same_due[k, i] else sorted(set(due[amount > 0].tolist()))
        for day in days:
            if day > end:
                continue  # due after the horizon: stays owed
            part = amount if len(days) == 1 else np.where(due == day, amount, 0)
            gain = profit if profit is None or len(days) == 1 else np.where(due == day, profit, 0)
            ev = At(self.env, day, DUE)
            ev.callbacks.append(partial(self._pay_due, i, part, gain))
        pos = self.sellers.position(self.terms.sellers[i])
        if self.sellers.has_leads(pos):
            self.pay_ahead(i, k, amount, pos, profit)

    def pay_invoice(self, i: int, amount: Cents, time: int, profit: Cents | None = None) -> None:
        """A deferred invoice from seller ``i`` falls due: the lab pays it from the cash it set
        aside, and the seller passes it on (``profit``: its profit, if a contract's margin set
        it when the invoice was issued)."""
        shape = self.terms.invoices[i]
        split = (
            shape.profit_and_cost(amount[None])
            if profit is None
            else with_profit(amount[None], profit[None])
        )
        parts = self.books.split(self.terms.index, split)
        self.sellers.settle(time, shape, parts, ahead=True)
        self.counters.payables -= amount
        self.counters.owed[i] -= amount

    def pay_ahead(
        self, i: int, k: int, amount: Cents, pos: int, profit: Cents | None = None
    ) -> None:
        """The routes with a lead of the seller of invoice ``i`` (issued at step ``k``'s end)
        are paid their part of it ``lead`` before it falls due, but not before it is issued:
        on ``max(issued, due - lead)``, per run, if that is within the horizon
        (``Sellers.prepay``)."""
        plan = self.plan
        issued, end = int(plan.days[k + 1]), int(plan.days[-1])
        deal = self.terms.deals[i]
        for j, lead in enumerate(self.sellers.leads(pos)):
            if lead.is_zero:
                continue
            when = np.array(
                [
                    max(issued, (lead.before(plan.date(d)) - plan.start).days)
                    for d in self.terms.invoicing.due[k, i]
                ],
                dtype=np.int64,
            )
            for day in sorted(set(when[amount > 0].tolist())):
                if day > end:
                    continue  # ahead of a payment after the horizon, and after it too: not paid
                runs = (when == day) & (amount > 0)
                if day == issued:
                    self.sellers.prepay(day, pos, amount, deal, j, runs, profit)
                else:
                    ev = At(self.env, day, DUE)
                    ev.callbacks.append(
                        partial(self._prepay_due, pos, amount, deal, j, runs, profit)
                    )

    def _prepay_due(
        self,
        pos: int,
        amount: Cents,
        deal: int,
        j: int,
        runs: npt.NDArray[np.bool_],
        profit: Cents | None,
        event: simpy.events.Event,
    ) -> None:
        self.sellers.prepay(int(event.env.now), pos, amount, deal, j, runs, profit)

    def _pay_due(
        self, i: int, part: Cents, profit: Cents | None, event: simpy.events.Event
    ) -> None:
        self.pay_invoice(i, part, int(event.env.now), profit)
