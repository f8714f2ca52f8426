"""Where each agent's behaviour lives: one SimPy process per behaviour, plus the cloud's reaction.

The rules (docs/model.md states each with its formula):

* **Investor** pays each tranche on its date, or, if it has a condition, the first day in its
  window the condition holds: drawn from the external ``funding`` account, tagged with the
  investor's origin, then paid to the lab.
* **Lab revenue** accrues each step and lands at the step's end from ``customers``.
* **Lab financing**, at each step's end just before it spends, for a lab with a ``financing``
  rule: it raises from its source what it needs to pay for the step and keep its floor (up to
  its limit), then pays interest on its debt; interest it cannot pay is added to the debt.
* **Lab spending**, at each step's end, in this order of priority, never beyond the cash it has
  after setting aside invoices it already owes: (1) take-or-pay minimums of its compute contracts;
  (2) the rest of its demand (compute above the minimums, split by provider shares, the unshared
  part to ``other_compute``; and other costs to ``suppliers``), cut in the same proportion when
  cash is short. What is cut is recorded as unmet; the first day anything is cut is the lab's
  cash-out date.
* **Cloud invoices** for a step are paid ``payment_terms`` after the step's end (at once if zero).
* **Cloud** keeps ``margin`` of each payment as profit (swept to its owner, if an investor owns it)
  and pays the rest out as cost to ``cloud_costs``, the moment it is paid; a cloud or vendor
  with a ``costs`` table sends shares of its costs on to other sellers (sim/sellers.py).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy
from simpy.events import EventPriority

from sim import credits
from sim.books import Cents, Legs, allocate
from sim.kernels import legs_cents, profit_and_cost
from sim.schedule import InvestmentPlan, LabPlan

if TYPE_CHECKING:
    from sim.engine import Engine, FinancingTerms, LabTables, Settle

Process = Generator[simpy.events.Event, Any, None]

# Phases: at one instant, events run in this order (SimPy orders same-time events by priority).
TRANCHE, REVENUE, DUE, SPENDING, CLOSING = (EventPriority(p) for p in range(1, 6))


def now(env: simpy.Environment) -> int:
    """The current day (SimPy's clock holds whole days here)."""
    return int(env.now)


class At(simpy.events.Event):
    """A timeout to an absolute day with an explicit phase, so same-day order is a rule."""

    def __init__(self, env: simpy.Environment, day: int, phase: EventPriority) -> None:
        super().__init__(env)
        self._ok = True
        self._value = None
        env.schedule(self, phase, day - env.now)


class CashBeforeTranches:
    """Each lab's cash (all origins, payables included) as it stood on the day before any of
    that day's tranches: what a tranche's condition reads, so that tranches of one day never
    depend on each other or on the order of the deals."""

    def __init__(self, eng: Engine) -> None:
        self.eng = eng
        self.seen: dict[str, tuple[int, Cents]] = {}  # lab -> (day, cash per run)

    def __call__(self, lab: str, day: int) -> Cents:
        """Called by every tranche event before it pays anything (the first of a day for a lab
        finds the cash untouched: tranches are the day's first phase)."""
        if lab not in self.seen or self.seen[lab][0] != day:
            self.seen[lab] = (day, self.eng.books.cash(self.eng.index[lab]))
        return self.seen[lab][1]


def investor_tranches(
    env: simpy.Environment, eng: Engine, deal: InvestmentPlan, cash_before: CashBeforeTranches
) -> Process:
    """Pay each tranche once, on the first day of its window its condition holds: a plain
    tranche on its date; ``when:`` on its date if its milestone is reached by then, or if the
    lab's cash is below the level; ``on:`` on its date or a later grid date before ``until``,
    the first time the lab's cash is below the level (docs/model.md, section 7).

    Runs of a batch may pay on different days: an event per distinct day, moving money only in
    the runs it concerns. All are scheduled at the start, so that on a day several deals pay the
    same lab they pay in file order, in a batch as alone (FIFO tracing sees that order)."""
    inv, lab, d = eng.index[deal.investor], eng.index[deal.lab], eng.deal_index[deal.id]
    legs = Legs.of([(eng.index["funding"], inv, "funding", d), (inv, lab, "investment", d)])
    credit_legs = credits.grant_legs(eng, deal, d)  # None: the deal pays all in cash
    pending = (deal.amounts > 0) & deal.reached  # [tranche, run] may still be paid
    on, checks_cash = deal.on[:, None], deal.checks_cash[:, None]
    grid = set(eng.plan.days.tolist())
    days = set(deal.days[pending].tolist())  # np.unique would import numpy.ma
    looking = pending & on  # on: tranches look on grid dates too
    if looking.any():
        first, last = deal.days[looking].min(), deal.until[looking].max()
        days |= {g for g in grid if first <= g < last}
    events = [(day, At(env, day, TRANCHE)) for day in sorted(days)]
    for day, event in events:
        yield event
        # in its window today: on its date, or an on: tranche on a grid date
        looks = (deal.days == day) | (on & (day in grid))
        due = pending & looks & (deal.days <= day) & (day < deal.until)
        if not due.any():
            continue
        cash = cash_before(deal.lab, day)
        pay = due & (~checks_cash | (cash[None, :] < deal.level))
        if not pay.any():
            continue
        pending &= ~pay
        amount = np.where(pay, deal.amounts, 0).sum(axis=0)
        amount, in_credits = credits.split_tranche(deal, amount)
        # fresh money from the investor's funding, passed on to the lab as it came
        fresh = np.zeros((2, len(eng.plan.origins), eng.plan.n_runs), dtype=np.int64)
        fresh[:, eng.origin[deal.investor]] = amount
        eng.books.post(now(env), legs, fresh)
        if credit_legs is not None and in_credits.any():
            eng.books.issue(
                now(env), credit_legs, eng.origin[f"{deal.investor}:credits"], in_credits
            )
        if not pending.any():
            return


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
        for r, r_legs, so_far in zip(shares, share_legs, paid, strict=True):
            # share of the step's revenue, rounded half up, in its window and up to its cap
            due = np.floor(lab.revenue[k] * r.share + 0.5).astype(np.int64)
            due = np.where((r.start < day) & (day <= r.until), due, 0)
            due = np.minimum(due, r.cap - so_far)
            if due.any():
                eng.books.pay(now(env), a, r_legs, due[None])
                so_far += due


def lab_spending(env: simpy.Environment, eng: Engine, lab: LabTables) -> Process:
    """Each step's end: decide what the lab can pay for, invoice it, pay what is due now."""
    for k in range(eng.plan.n_steps):
        yield At(env, int(eng.plan.days[k + 1]), SPENDING)
        spend_step(now(env), eng, lab, k)


def spend_step(t: int, eng: Engine, lab: LabTables, k: int) -> None:
    # what it wants to pay for in cash: its demand, less what its credits pay (sim/credits.py)
    if lab.credit_lines:
        d = credits.draw(t, eng, lab, k)
        minimum, min_total, wanted, wanted_total = d.minimum, d.min_total, d.wanted, d.wanted_total
        excess = d.excess
    else:
        minimum, min_total, wanted = lab.minimum[k], lab.min_total[k], lab.wanted[k]
        wanted_total, excess = lab.wanted_total[k], lab.excess[k]
    # cash it may commit: what it holds less invoices it already owes
    avail = eng.books.pool[lab.index].sum(axis=0) - eng.payables[lab.name]
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
            eng.invoice_later(lab, i, k, later[i])
    # one split of the lab's cash for everything paid now: each cloud's payment as its profit
    # and its cost (see cloud_settles), then other compute and other costs
    n_now = len(lab.now_clouds)
    to_clouds = cloud_settles(lab.settle, pay_now[lab.now_clouds])
    parts = eng.books.split(lab.index, np.concatenate([to_clouds, funded[-2:]]))
    _post_settled(eng, t, lab.legs, lab.settle, parts, n_now)


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
    settle = lab.invoice_settle[i]
    parts = eng.books.split(lab.index, cloud_settles(settle, amount[None]))
    _post_settled(eng, time, lab.invoice_legs[i], settle, parts, 1)
    eng.payables[lab.name] -= amount


def _post_settled(
    eng: Engine, t: int, legs: Legs, settle: Settle, parts: Cents, n_clouds: int
) -> None:
    """Post a lab's payment as ``parts`` (its cash split as profit and cost per cloud, then
    its other payees); the costs of a cloud that routes some go on through sim/sellers.py."""
    cents = _legs_cents(settle, parts, n_clouds)
    if settle.keep is None:
        eng.books.post(t, legs, cents)
        return
    eng.books.post(t, legs, cents[settle.keep])
    for i, pos, deal in settle.routed:
        eng.sellers.pass_costs(t, pos, parts[2 * i + 1], deal)


def cloud_settles(settle: Settle, paid: Cents) -> Cents:
    """How each cloud divides a payment ``paid[cloud, run]``: ``margin`` of it, rounded to the
    cent, is profit (swept at once to its owner, if an investor owns the cloud); the rest is
    cost, paid at once to ``cloud_costs``. Returns ``[profit, cost]`` per cloud, interleaved
    ``[cloud * 2, run]``: the payer's cash is split for them as for two payees, so that profit
    and cost each carry the payment's origin mix and add up to it to the cent."""
    return profit_and_cost(paid, settle.margins)


def _legs_cents(settle: Settle, parts: Cents, n_clouds: int) -> Cents:
    """Cents by origin for each leg of a lab's payment: lab -> cloud (profit + cost), the lab's
    other payees, then cloud -> cloud_costs (cost) and cloud -> owner (profit) legs."""
    return legs_cents(parts, n_clouds, settle.owned)


def books_closing(env: simpy.Environment, eng: Engine) -> Process:
    """After everything else at each step's end, take a snapshot of every pool."""
    eng.snapshot()
    for k in range(eng.plan.n_steps):
        yield At(env, int(eng.plan.days[k + 1]), CLOSING)
        eng.snapshot()
