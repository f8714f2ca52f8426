"""Loans: an investor lends to a lab or a seller, and is repaid with interest (docs/model.md,
"Loans").

* **The draw**, in the TRANCHE phase of its day: fresh money from ``funding`` to the lender and
  on to the borrower (kind ``loan``), tagged with the origin ``<lender>:loan``.
* **Service**, at each step's end after the draw, in the DUE phase (before the borrower's
  spending): interest on the principal outstanding (``sim.model.accrual.interest_on``, the
  rule of a lab's debt), then the principal due by then, paid from the borrower's cash (a
  lab's less the invoices it has set aside). What it cannot pay stays owed: unpaid interest is
  added to the principal outstanding; unpaid principal is past due, and due again at the next
  step's end. Nothing is written off here: ``past_due`` and ``interest_unpaid`` are the
  counters a default rule reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import simpy

from sim.inputs.models import LoanModel
from sim.model.accrual import interest_on
from sim.model.books import Books, Cents, Legs, repair, split_pro_rata
from sim.model.clock import DUE, TRANCHE, At, Process, now
from sim.model.kinds.kind import Context, Deal
from sim.model.kinds.lab import Labs
from sim.model.schedule import LoanPlan, Plan


@dataclass(frozen=True)
class LoanTerms:
    """How a loan's money moves: fixed for the whole run."""

    loan: LoanPlan
    borrower: int  # account
    draw_legs: Legs  # funding -> lender -> borrower
    origin: int  # <lender>:loan
    service_legs: Legs  # borrower -> lender: interest, then principal


@dataclass
class LoanCounters:
    """What a loan has come to, per run, filled as the run goes."""

    lent: Cents
    outstanding: Cents  # principal not repaid, unpaid interest added
    interest_paid: Cents
    principal_paid: Cents  # what was repaid of the outstanding principal
    interest_unpaid: Cents  # interest due and not paid (added to the outstanding)
    past_due: Cents  # principal due by the last step's end and not paid

    @classmethod
    def zeros(cls, n_runs: int) -> LoanCounters:
        return cls(*(np.zeros(n_runs, dtype=np.int64) for _ in range(6)))


class Loans:
    """Every loan of a batch: one process per loan."""

    name: ClassVar[str] = "loans"
    models: ClassVar[tuple[type, ...]] = (LoanModel,)
    plan_parts: ClassVar[tuple[str, ...]] = ("loans",)

    @staticmethod
    def deals(plan: Plan) -> list[Deal]:
        """Each loan, under its id (a lab's loan concerns that lab)."""
        return [(x.id, x.borrower if x.borrower in plan.labs else None) for x in plan.loans]

    def __init__(self, ctx: Context) -> None:
        self.books, self.plan = ctx.books, ctx.plan
        labs = ctx.kind(Labs)
        self.payables = {lab.terms.name: lab.counters for lab in labs.labs}
        self.terms: list[LoanTerms] = []
        for loan, d in zip(ctx.plan.loans, ctx.deals_of(Loans), strict=True):
            lender, borrower = ctx.index[loan.lender], ctx.index[loan.borrower]
            self.terms.append(
                LoanTerms(
                    loan=loan,
                    borrower=borrower,
                    draw_legs=Legs.of(
                        [
                            (ctx.index["funding"], lender, "funding", d),
                            (lender, borrower, "loan", d),
                        ]  # fmt: skip
                    ),
                    origin=ctx.origin[loan.origin],
                    service_legs=Legs.of(
                        [
                            (borrower, lender, "loan_interest", d),
                            (borrower, lender, "loan_principal", d),
                        ]  # fmt: skip
                    ),
                )
            )
        self.counters = [LoanCounters.zeros(ctx.plan.n_runs) for _ in self.terms]

    def start(self, env: simpy.Environment) -> None:
        for terms, counters in zip(self.terms, self.counters, strict=True):
            env.process(self.draw(env, terms, counters))
            env.process(self.service(env, terms, counters))

    def results(self) -> dict[str, Any]:
        """Per loan (by id): its counters at the end of the run, per run."""
        return {
            "loans": {
                t.loan.id: {
                    "lent": c.lent.copy(),
                    "outstanding": c.outstanding.copy(),
                    "interest_paid": c.interest_paid.copy(),
                    "principal_paid": c.principal_paid.copy(),
                    "interest_unpaid": c.interest_unpaid.copy(),
                    "past_due": c.past_due.copy(),
                }
                for t, c in zip(self.terms, self.counters, strict=True)
            }
        }

    def draw(self, env: simpy.Environment, terms: LoanTerms, c: LoanCounters) -> Process:
        """The principal, on its day (one event per distinct day across runs)."""
        loan = terms.loan
        for day in sorted(set(loan.day[loan.amount > 0].tolist())):
            yield At(env, day, TRANCHE)
            amount = np.where(loan.day == day, loan.amount, 0)
            fresh = np.zeros((2, len(self.plan.origins), self.plan.n_runs), dtype=np.int64)
            fresh[:, terms.origin] = amount
            self.books.post(now(env), terms.draw_legs, fresh)
            c.lent += amount
            c.outstanding += amount

    def service(self, env: simpy.Environment, terms: LoanTerms, c: LoanCounters) -> Process:
        """At each step's end: interest, then principal due, from the borrower's cash."""
        loan = terms.loan
        for k in range(self.plan.n_steps):
            yield At(env, int(self.plan.days[k + 1]), DUE)
            if not c.outstanding.any():
                continue
            interest = interest_on(c.outstanding, loan.accrual[k])
            due = np.where(
                loan.matured[k],
                c.outstanding,
                np.clip(loan.scheduled[k] - c.principal_paid, 0, c.outstanding),
            )
            cash = np.maximum(self.cash(terms), 0)
            paid_interest = np.minimum(interest, cash)
            paid_principal = np.minimum(due, cash - paid_interest)
            if paid_interest.any() or paid_principal.any():
                self.pay(now(env), terms, np.stack([paid_interest, paid_principal]))
            c.interest_paid += paid_interest
            c.interest_unpaid += interest - paid_interest
            c.principal_paid += paid_principal
            c.outstanding += interest - paid_interest - paid_principal
            # at maturity and after, everything outstanding is past due (the step's unpaid
            # interest too); before it, the principal due and not paid
            c.past_due = np.where(loan.matured[k], c.outstanding, due - paid_principal)

    def cash(self, terms: LoanTerms) -> Cents:
        """What the borrower may pay with: its cash, a lab's less the invoices it set aside."""
        held = self.books.cash(terms.borrower)
        lab = self.payables.get(terms.loan.borrower)
        return held if lab is None else held - lab.payables

    def pay(self, t: int, terms: LoanTerms, amounts: Cents) -> None:
        """A lab pays by its tracing rule; a seller (which passes money on explicitly and
        keeps no queue of lots) in proportion to the origins it holds."""
        books: Books = self.books
        if terms.borrower in books.traced:
            books.pay(t, terms.borrower, terms.service_legs, amounts)
            return
        held = books.pool[terms.borrower]
        parts, overdrawn = split_pro_rata(held, amounts)
        if overdrawn:
            repair(parts, held, amounts)
        books.post(t, terms.service_legs, parts)
