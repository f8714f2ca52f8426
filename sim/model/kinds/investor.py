"""Investors: each deal's tranches, paid on their dates or when their conditions hold.

An investor pays each tranche from the external ``funding`` account, tagged with its own origin,
into the lab; a deal paid partly in credits grants them instead of cash for that part
(sim/model/kinds/credits.py). Investors never spend otherwise: the profit their sellers send them
stays with them (docs/model.md, section 7).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import simpy

from sim.inputs.models import InvestmentModel, InvestorModel
from sim.model.books import Books, Cents, Legs
from sim.model.clock import TRANCHE, At, Process, now
from sim.model.kinds.credits import grant_legs, split_tranche
from sim.model.kinds.kind import Context, Deal
from sim.model.schedule import InvestmentPlan, Plan


@dataclass(frozen=True)
class DealTerms:
    """How an investment deal's tranches are booked: fixed for the whole run."""

    deal: InvestmentPlan
    legs: Legs  # funding -> investor -> lab
    origin: int  # <investor>:investment
    credit_legs: Legs | None  # credits_issued -> the lab's credit account; None: all in cash
    credit_origin: int | None  # <investor>:credits


class Investors:
    """Every investment deal of a batch: one process per deal, reading the labs' cash as it
    stood before the day's tranches."""

    name: ClassVar[str] = "investors"
    models: ClassVar[tuple[type, ...]] = (InvestorModel, InvestmentModel)
    plan_parts: ClassVar[tuple[str, ...]] = ("investors", "investments")

    @staticmethod
    def deals(plan: Plan) -> list[Deal]:
        """Each investment, under its id."""
        return [(inv.id, inv.lab) for inv in plan.investments]

    def __init__(self, ctx: Context) -> None:
        self.books, self.plan = ctx.books, ctx.plan
        self.cash_before = CashBeforeTranches(ctx.books, ctx.index)
        self.terms = []
        for deal, d in zip(ctx.plan.investments, ctx.deals_of(Investors), strict=True):
            inv, lab, funding = (ctx.index[x] for x in (deal.investor, deal.lab, "funding"))
            credits = f"{deal.investor}:credits"
            self.terms.append(
                DealTerms(
                    deal=deal,
                    legs=Legs.of([(funding, inv, "funding", d), (inv, lab, "investment", d)]),
                    origin=ctx.origin[deal.investor],
                    credit_legs=grant_legs(ctx, deal, d),
                    credit_origin=ctx.origin[credits] if deal.credits_on else None,
                )
            )

    def start(self, env: simpy.Environment) -> None:
        for terms in self.terms:
            env.process(self.tranches(env, terms))

    def results(self) -> dict[str, Any]:
        return {}

    def tranches(self, env: simpy.Environment, terms: DealTerms) -> Process:
        """Pay each tranche once, on the first day of its window its condition holds: a plain
        tranche on its date; ``when:`` on its date if its milestone is reached by then, or if
        the lab's cash is below the level; ``on:`` on its date or a later grid date before
        ``until``, the first time the lab's cash is below the level (docs/model.md, section 7).

        Runs of a batch may pay on different days: an event per distinct day, moving money only
        in the runs it concerns. All are scheduled at the start, so that on a day several deals
        pay the same lab they pay in file order, in a batch as alone (FIFO tracing sees that
        order)."""
        deal, plan = terms.deal, self.plan
        pending = (deal.amounts > 0) & deal.reached  # [tranche, run] may still be paid
        on, checks_cash = deal.on[:, None], deal.checks_cash[:, None]
        grid = set(plan.days.tolist())
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
            cash = self.cash_before(deal.lab, day)
            pay = due & (~checks_cash | (cash[None, :] < deal.level))
            if not pay.any():
                continue
            pending &= ~pay
            self.pay(now(env), terms, np.where(pay, deal.amounts, 0).sum(axis=0))
            if not pending.any():
                return

    def pay(self, t: int, terms: DealTerms, amount: Cents) -> None:
        """Fresh money from the investor's funding, passed on to the lab as it came; the part
        paid in credits granted instead (sim/model/kinds/credits.py)."""
        amount, in_credits = split_tranche(terms.deal, amount)
        fresh = np.zeros((2, len(self.plan.origins), self.plan.n_runs), dtype=np.int64)
        fresh[:, terms.origin] = amount
        self.books.post(t, terms.legs, fresh)
        if terms.credit_legs is not None and terms.credit_origin is not None and in_credits.any():
            self.books.issue(t, terms.credit_legs, terms.credit_origin, in_credits)


class CashBeforeTranches:
    """Each lab's cash (all origins, payables included) as it stood on the day before any of
    that day's tranches: what a tranche's condition reads, so that tranches of one day never
    depend on each other or on the order of the deals."""

    def __init__(self, books: Books, index: dict[str, int]) -> None:
        self.books, self.index = books, index
        self.seen: dict[str, tuple[int, Cents]] = {}  # lab -> (day, cash per run)

    def __call__(self, lab: str, day: int) -> Cents:
        """Called by every tranche event before it pays anything (the first of a day for a lab
        finds the cash untouched: tranches are the day's first phase)."""
        if lab not in self.seen or self.seen[lab][0] != day:
            self.seen[lab] = (day, self.books.cash(self.index[lab]))
        return self.seen[lab][1]
