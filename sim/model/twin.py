"""Where counterfactual twins are made: what an investment *causes* is measured, not assumed.

For every run and every investor that owns a seller (a cloud or a vendor) and invests or lends,
the batch carries a twin: the same run without that investor's investments and loans, and without
the compute contracts that came ``with`` them. Where some contract came with them, a second twin
keeps those contracts, so that the investment's effect alone can be told from the effect of the
whole package. Everything else is identical: the same inputs, seed and draws. A twin also runs
without the investor's revenue-share deals (terms of its investments). An investor that owns no
cloud or vendor and has no revenue share gets no twin (what it causes at a seller of its own is 0
by definition).

Twins run in the same batch as the runs themselves, after them: runs ``0 .. n-1`` are the user's,
``n ..`` the twins. A twin keeps the batch's structure (every deal is still there) with the
dropped amounts set to zero in the Plan, so it moves no money for them and writes no ledger rows
for them. docs/metrics.md ("What the investment caused") defines the figures read off the pairs.

How a twin replaces the money it runs without is its *substitution* (docs/metrics.md,
"Substitution"): ``none`` (by each date it raises at most what its run raised by then), ``file``
(the labs' financing rules) or ``full`` (every missing dollar may be raised, beyond the file's
limit, at its terms). The headline twins use the scenario's ``counterfactual.substitution``;
with ``bounds``, each investor's twins under the other two run beside them, so that a figure can
be shown between its bounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from sim.inputs.models import Substitution
from sim.inputs.scenario import Scenario
from sim.inputs.values import SUBSTITUTIONS
from sim.model.schedule import Plan


@dataclass(frozen=True)
class Twin:
    """Run ``of`` without ``investor``'s investments; without the contracts linked to them too,
    unless ``keeps_linked``; replacing the money it runs without by ``substitution``."""

    of: int
    investor: str
    keeps_linked: bool = False
    substitution: Substitution = "file"


@dataclass
class Twins:
    """The twins of a batch of ``n_runs`` runs; twin ``k`` is run ``n_runs + k`` of the batch.
    ``headline``: per run, the substitution of its headline twins (its file's); ``same``: per
    investor, a substitution whose twins are those of another, identical by construction."""

    n_runs: int
    twins: list[Twin] = field(default_factory=list)
    headline: list[Substitution] = field(default_factory=list)
    same: dict[tuple[str, Substitution], Substitution] = field(default_factory=dict)
    _index: dict[tuple[int, str, bool, str], int] = field(default_factory=dict, repr=False)

    @property
    def total_runs(self) -> int:
        return self.n_runs + len(self.twins)

    def column(
        self,
        of: int,
        investor: str,
        *,
        keeps_linked: bool = False,
        substitution: Substitution | None = None,
    ) -> int | None:
        """The batch run holding that twin (``substitution`` None: the headline one, the
        file's), or None if there is none."""
        if len(self._index) != len(self.twins):  # built once, after the twins are planned
            self._index = {
                (t.of, t.investor, t.keeps_linked, t.substitution): k
                for k, t in enumerate(self.twins)
            }
        sub = substitution or (self.headline[of] if self.headline else "file")
        sub = self.same.get((investor, sub), sub)
        k = self._index.get((of, investor, keeps_linked, sub))
        if k is not None:
            return self.n_runs + k
        if keeps_linked:  # nothing is linked: the investment alone is the whole package
            return self.column(of, investor, substitution=sub)
        return None

    def columns(
        self,
        investor: str,
        *,
        keeps_linked: bool = False,
        substitution: Substitution | None = None,
    ) -> list[int] | None:
        """Per run of the user's batch, the batch run of its twin (``substitution`` None: the
        headline twin, under the file's substitution); None if this investor has none (it
        owns no seller, or does not invest), or none under that substitution (no bounds)."""
        cols = [
            self.column(r, investor, keeps_linked=keeps_linked, substitution=substitution)
            for r in range(self.n_runs)
        ]
        if any(c is None for c in cols):
            return None
        return [c for c in cols if c is not None]

    def expand(self, scenarios: Sequence[Scenario]) -> list[Scenario]:
        """The batch to run: the user's scenarios, then each twin's (the same inputs; the
        amounts it drops are zeroed in the Plan by ``drop``)."""
        return [*scenarios, *(scenarios[t.of] for t in self.twins)]

    def drop(self, plan: Plan) -> None:
        """Zero, in each twin's column of ``plan``, what that twin runs without (all the twins
        of one investor and kind at once); then set how each replaces it (``substitute``)."""
        cols: dict[tuple[str, bool], list[int]] = {}
        for k, t in enumerate(self.twins):
            cols.setdefault((t.investor, t.keeps_linked), []).append(self.n_runs + k)
        for (investor, keeps_linked), at in cols.items():
            ids = {d.id for d in plan.investments if d.investor == investor}
            for d in plan.investments:
                if d.investor == investor:
                    d.amounts[:, at] = 0
                    d.announced[at] = 0
            for loan in plan.loans:  # its loans, dropped like its investments
                if loan.lender == investor:
                    loan.amount[at] = 0
            for r in plan.revenue_shares:  # its revenue shares are terms of its investments
                if r.investor == investor:
                    r.share[at] = 0.0
            if not keeps_linked:
                for c in plan.contracts:
                    if c.with_investment in ids:
                        c.minimum[:, at] = 0
        self.substitute(plan)

    def substitute(self, plan: Plan) -> None:
        """Set, per twin column, how its labs replace the money it runs without: ``none``, each
        lab with a financing rule raises by each date at most what the run's raised by then;
        ``full``, each lab with a rule that it invests in may raise, beyond the file's limit,
        every dollar of the investor's investments in it (as announced in the run), at the
        file's terms; ``file``, as the file says. A lab with no rule raises nothing under any
        (``plan_twins`` runs one twin for the three where that holds of every lab it invests
        in); labs it takes nothing from are the run's under any."""
        for k, t in enumerate(self.twins):
            col = self.n_runs + k
            if t.substitution == "none":
                for lab in plan.labs.values():
                    if lab.financing is not None:
                        if lab.financing.follows is None:
                            lab.financing.follows = np.full(plan.n_runs, -1, dtype=np.intp)
                        lab.financing.follows[col] = t.of
            elif t.substitution == "full":
                for name, missing in _missing(plan, t).items():
                    if (f := plan.labs[name].financing) is not None:
                        f.limit[col] += missing


def _missing(plan: Plan, t: Twin) -> dict[str, int]:
    """Per lab, the cents of ``t.investor``'s investments in it that twin ``t`` runs without:
    every tranche as announced in its run (in cash or in credits), paid there or not."""
    out: dict[str, int] = {}
    for d in plan.investments:
        if d.investor == t.investor:
            out[d.lab] = out.get(d.lab, 0) + int(d.announced[t.of])
    return out


def plan_twins(scenarios: Sequence[Scenario], *, bounds: bool = True) -> Twins:
    """The twins a batch needs: per run, per investor that owns a seller and invests, one twin;
    a second one where a contract came ``with`` one of its investments. Each under its file's
    substitution (the headline) and, with ``bounds``, under the other two, but for those that
    are the ``file`` twin by construction: ``none`` where no lab it takes money from has a
    financing rule, ``full`` where no lab it invests in has one. Runs of a batch share their
    structure, so every run gets the same twins."""
    twins = Twins(len(scenarios), headline=[s.counterfactual.substitution for s in scenarios])
    if not scenarios:
        return twins
    first = scenarios[0]
    for inv in first.investors.values():
        ids = {d.id for d in first.investments if d.investor == inv.name}
        shares = any(r.investor == inv.name for r in first.revenue_shares)
        lends = any(x.lender == inv.name for x in first.loans)
        if not (inv.owns or shares) or not (ids or lends):
            continue
        linked = any(c.with_investment in ids for c in first.contracts)
        taken = {d.lab for d in first.investments if d.investor == inv.name}
        taken |= {r.lab for r in first.revenue_shares if r.investor == inv.name}
        taken |= {c.lab for c in first.contracts if c.with_investment in ids}
        taken |= {
            x.borrower for x in first.loans if x.lender == inv.name and x.borrower in first.labs
        }
        # identical by construction: a lab with no rule raises nothing under none or file, and
        # full lifts only the limits of the labs invested in that have a rule
        if all(first.labs[lab].financing is None for lab in taken):
            twins.same[(inv.name, "none")] = "file"
        invested = {d.lab for d in first.investments if d.investor == inv.name}
        if all(first.labs[lab].financing is None for lab in invested):
            twins.same[(inv.name, "full")] = "file"
        for r, s in enumerate(scenarios):
            wanted = SUBSTITUTIONS if bounds else (s.counterfactual.substitution,)
            subs = dict.fromkeys(twins.same.get((inv.name, x), x) for x in wanted)
            for sub in subs:
                twins.twins.append(Twin(r, inv.name, substitution=sub))
                if linked:
                    twins.twins.append(Twin(r, inv.name, keeps_linked=True, substitution=sub))
    return twins
