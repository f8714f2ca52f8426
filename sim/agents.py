"""Where each agent's behaviour lives: one SimPy process per behaviour, plus the cloud's reaction.

The rules (docs/model.md states each with its formula):

* **Investor** pays each tranche on its date: drawn from the external ``funding`` account, tagged
  with the investor's origin, then paid to the lab.
* **Lab revenue** accrues each step and lands at the step's end from ``customers``.
* **Lab spending**, at each step's end, in this order of priority, never beyond the cash it has
  after setting aside invoices it already owes: (1) take-or-pay minimums of its compute contracts;
  (2) the rest of its demand (compute above the minimums, split by provider shares, the unshared
  part to ``other_compute``; and other costs to ``suppliers``), cut in the same proportion when
  cash is short. What is cut is recorded as unmet; the first day anything is cut is the lab's
  cash-out date.
* **Cloud invoices** for a step are paid ``payment_terms`` after the step's end (at once if zero).
* **Cloud** keeps ``margin`` of each payment as profit (swept to its owner, if an investor owns it)
  and pays the rest out as cost to ``cloud_costs``, the moment it is paid.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy
from simpy.events import EventPriority

from sim.books import Cents, allocate
from sim.schedule import InvestmentPlan, LabPlan

if TYPE_CHECKING:
    from sim.engine import Engine

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


def investor_tranches(env: simpy.Environment, eng: Engine, deal: InvestmentPlan) -> Process:
    """Pay each tranche on its day (a batch may have different days per run: one event per day)."""
    for day in np.unique(deal.days):
        yield At(env, int(day), TRANCHE)
        amount = np.where(deal.days == day, deal.amounts, 0).sum(axis=0)
        inv, lab = eng.index[deal.investor], eng.index[deal.lab]
        d = eng.deal_index[deal.id]
        # fresh money from the investor's funding, passed on to the lab as it came
        fresh = eng.books.issue(
            now(env), eng.index["funding"], inv, eng.origin[deal.investor], amount, "funding", d
        )
        eng.books.pass_on(now(env), [inv], [lab], fresh[None], ["investment"], [d])


def customer_revenue(env: simpy.Environment, eng: Engine, lab: LabPlan) -> Process:
    """Revenue of each step, received from customers at the step's end."""
    a, origin = eng.index[lab.name], eng.origin[f"{lab.name}:revenue"]
    src, d = eng.index["customers"], eng.deal_index[f"{lab.name}-revenue"]
    for k in range(eng.plan.n_steps):
        yield At(env, int(eng.plan.days[k + 1]), REVENUE)
        eng.books.issue(now(env), src, a, origin, lab.revenue[k], "revenue", d)


def lab_spending(env: simpy.Environment, eng: Engine, lab: LabPlan) -> Process:
    """Each step's end: decide what the lab can pay for, invoice it, pay what is due now."""
    for k in range(eng.plan.n_steps):
        yield At(env, int(eng.plan.days[k + 1]), SPENDING)
        spend_step(env, eng, lab, k)


def spend_step(env: simpy.Environment, eng: Engine, lab: LabPlan, k: int) -> None:
    a = eng.index[lab.name]
    stats = eng.lab_stats[lab.name]
    # cash it may commit: what it holds less invoices it already owes
    avail = eng.books.cash(a) - eng.payables[lab.name]

    # (1) take-or-pay minimums come first, cut pro rata if even they cannot be paid
    minimum = eng.minimums[lab.name][k]  # [contract, run]
    min_total = minimum.sum(axis=0)
    min_paid = allocate(np.minimum(avail, min_total), minimum)
    min_short = min_total - min_paid.sum(axis=0)
    avail = avail - (min_total - min_short)

    # (2) the rest: compute above the minimums split by provider shares (the part of 100% no
    # provider has goes to other_compute), and other costs; all cut in one proportion if short
    demand = lab.compute[k]
    excess = np.maximum(demand - min_total, 0)
    other = lab.other[k]
    wanted = np.concatenate([eng.share_weights[lab.name] * excess, other[None]])
    funded = allocate(
        np.minimum(avail, excess + other), wanted
    )  # [provider.., other_compute, other]
    unmet_compute = excess - funded[:-1].sum(axis=0)
    unmet_other = other - funded[-1]
    stats["unmet_compute"] += unmet_compute
    stats["unmet_other"] += unmet_other
    stats["shortfall"] += min_short
    stats["unused_commitment"] += np.maximum(min_total - demand, 0)
    first = ((unmet_compute + unmet_other + min_short) > 0) & (stats["cash_out_day"] < 0)
    stats["cash_out_day"][first] = now(env)

    # invoices per cloud (shares first, then clouds with a contract only); pay those due now
    invoices = eng.invoice_matrix[lab.name] @ np.concatenate([funded[:-2], min_paid])
    due = eng.due[lab.name][k]  # [cloud, run]
    pay_now = np.where(due == now(env), invoices, 0)
    later = invoices - pay_now
    clouds = eng.invoice_clouds[lab.name]
    for i in np.nonzero(later.any(axis=1))[0]:
        eng.invoice_later(lab.name, clouds[i], later[i], due[i])
    amounts = np.concatenate([pay_now, funded[-2:]])
    parts = eng.books.pay(
        now(env), a, eng.payees[lab.name], amounts, eng.kinds[lab.name], eng.pay_deals[lab.name]
    )
    if len(clouds):
        cloud_settles(now(env), eng, clouds, parts[: len(clouds)], eng.pay_deals[lab.name])


def pay_invoice(eng: Engine, lab: str, cloud: str, amount: Cents, time: int) -> None:
    """A deferred cloud invoice falls due: the lab pays it from the cash it set aside."""
    d = eng.compute_deal[(lab, cloud)]
    parts = eng.books.pay(time, eng.index[lab], [eng.index[cloud]], amount[None], ["compute"], [d])
    eng.payables[lab] -= amount
    cloud_settles(time, eng, [cloud], parts, [d])


def cloud_settles(
    time: int, eng: Engine, clouds: list[str], parts: Cents, deals: list[int]
) -> None:
    """Each cloud keeps ``margin`` of a payment as profit, swept to its owner if an investor owns
    it, and pays the rest out as cost to ``cloud_costs``, at once. Cost and profit pass the
    payment's own origin mix on (``parts[cloud, origin, run]``)."""
    legs = eng.settle_legs[tuple(clouds)]
    profit = np.floor(parts.sum(axis=1) * legs.margins + 0.5).astype(np.int64)
    profit_parts = allocate(profit, parts)  # [cloud, origin, run]
    moved = np.concatenate([parts - profit_parts, profit_parts[legs.owned]])
    eng.books.pass_on(
        time, legs.payers, legs.payees, moved, legs.kinds, [deals[i] for i in legs.deal_pos]
    )


def books_closing(env: simpy.Environment, eng: Engine) -> Process:
    """After everything else at each step's end, take a snapshot of every pool."""
    eng.snapshot()
    for k in range(eng.plan.n_steps):
        yield At(env, int(eng.plan.days[k + 1]), CLOSING)
        eng.snapshot()
