"""Investors: each deal's tranches, paid on their dates or when their conditions hold.

An investor pays each tranche from the external ``funding`` account, tagged with its own origin,
into the lab; a deal paid partly in credits grants them instead of cash for that part
(sim/model/kinds/credits.py). Investors never spend otherwise: the profit their sellers send them
stays with them (docs/model.md, section 7).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import simpy

from sim.model.books import Cents, Legs
from sim.model.clock import TRANCHE, At, Process, now
from sim.model.kinds.credits import grant_legs, split_tranche
from sim.model.schedule import InvestmentPlan

if TYPE_CHECKING:
    from sim.model.engine import Engine


class Investors:
    """Every investment deal of a batch: one process per deal, reading the labs' cash as it
    stood before the day's tranches. (No reference to the engine is kept: an engine is freed
    the moment its batch is done, with no cycle for the garbage collector.)"""

    def __init__(self, eng: Engine) -> None:
        self.cash_before = CashBeforeTranches(eng)

    def start(self, eng: Engine) -> None:
        for deal in eng.plan.investments:
            eng.env.process(investor_tranches(eng.env, eng, deal, self.cash_before))


class CashBeforeTranches:
    """Each lab's cash (all origins, payables included) as it stood on the day before any of
    that day's tranches: what a tranche's condition reads, so that tranches of one day never
    depend on each other or on the order of the deals."""

    def __init__(self, eng: Engine) -> None:
        self.books, self.index = eng.books, eng.index
        self.seen: dict[str, tuple[int, Cents]] = {}  # lab -> (day, cash per run)

    def __call__(self, lab: str, day: int) -> Cents:
        """Called by every tranche event before it pays anything (the first of a day for a lab
        finds the cash untouched: tranches are the day's first phase)."""
        if lab not in self.seen or self.seen[lab][0] != day:
            self.seen[lab] = (day, self.books.cash(self.index[lab]))
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
    credit_legs = grant_legs(eng, deal, d)  # None: the deal pays all in cash
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
        amount, in_credits = split_tranche(deal, amount)
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
