"""Where counterfactual twins are made: what an investment *causes* is measured, not assumed.

For every run and every investor that owns a seller (a cloud or a vendor) and invests, the batch
carries a twin: the same run without that investor's investments, and without the compute contracts
that came ``with`` them. Where some contract came with them, a second twin keeps those contracts,
so that the investment's effect alone can be told from the effect of the whole package. Everything
else is identical: the same inputs, seed and draws. A twin also runs without the investor's
revenue-share deals (terms of its investments). An investor that owns no cloud or vendor and has no
revenue share gets no twin (what it causes at a seller of its own is 0 by definition).

Twins run in the same batch as the runs themselves, after them: runs ``0 .. n-1`` are the user's,
``n ..`` the twins. A twin keeps the batch's structure (every deal is still there) with the
dropped amounts set to zero in the Plan, so it moves no money for them and writes no ledger rows
for them. docs/metrics.md ("What the investment caused") defines the figures read off the pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sim.inputs.scenario import Scenario
from sim.model.schedule import Plan


@dataclass(frozen=True)
class Twin:
    """Run ``of`` without ``investor``'s investments; without the contracts linked to them too,
    unless ``keeps_linked``."""

    of: int
    investor: str
    keeps_linked: bool = False


@dataclass
class Twins:
    """The twins of a batch of ``n_runs`` runs; twin ``k`` is run ``n_runs + k`` of the batch."""

    n_runs: int
    twins: list[Twin] = field(default_factory=list)
    _index: dict[tuple[int, str, bool], int] = field(default_factory=dict, repr=False)

    @property
    def total_runs(self) -> int:
        return self.n_runs + len(self.twins)

    def column(self, of: int, investor: str, *, keeps_linked: bool = False) -> int | None:
        """The batch run holding that twin, or None if there is none."""
        if len(self._index) != len(self.twins):  # built once, after the twins are planned
            self._index = {(t.of, t.investor, t.keeps_linked): k for k, t in enumerate(self.twins)}
        k = self._index.get((of, investor, keeps_linked))
        if k is not None:
            return self.n_runs + k
        if keeps_linked:  # nothing is linked: the investment alone is the whole package
            return self.column(of, investor)
        return None

    def columns(self, investor: str, *, keeps_linked: bool = False) -> list[int] | None:
        """Per run of the user's batch, the batch run of its twin; None if this investor has
        none (it owns no seller, or does not invest)."""
        cols = [self.column(r, investor, keeps_linked=keeps_linked) for r in range(self.n_runs)]
        if any(c is None for c in cols):
            return None
        return [c for c in cols if c is not None]

    def expand(self, scenarios: Sequence[Scenario]) -> list[Scenario]:
        """The batch to run: the user's scenarios, then each twin's (the same inputs; the
        amounts it drops are zeroed in the Plan by ``drop``)."""
        return [*scenarios, *(scenarios[t.of] for t in self.twins)]

    def drop(self, plan: Plan) -> None:
        """Zero, in each twin's column of ``plan``, what that twin runs without (all the twins
        of one investor and kind at once)."""
        cols: dict[tuple[str, bool], list[int]] = {}
        for k, t in enumerate(self.twins):
            cols.setdefault((t.investor, t.keeps_linked), []).append(self.n_runs + k)
        for (investor, keeps_linked), at in cols.items():
            ids = {d.id for d in plan.investments if d.investor == investor}
            for d in plan.investments:
                if d.investor == investor:
                    d.amounts[:, at] = 0
                    d.announced[at] = 0
            for r in plan.revenue_shares:  # its revenue shares are terms of its investments
                if r.investor == investor:
                    r.share[at] = 0.0
            if not keeps_linked:
                for c in plan.contracts:
                    if c.with_investment in ids:
                        c.minimum[:, at] = 0


def plan_twins(scenarios: Sequence[Scenario]) -> Twins:
    """The twins a batch needs: per run, per investor that owns a seller and invests, one twin;
    a second one where a contract came ``with`` one of its investments. Runs of a batch share
    their structure, so every run gets the same twins."""
    twins = Twins(len(scenarios))
    if not scenarios:
        return twins
    first = scenarios[0]
    for inv in first.investors.values():
        ids = {d.id for d in first.investments if d.investor == inv.name}
        shares = any(r.investor == inv.name for r in first.revenue_shares)
        if not (inv.owns or shares) or not ids:
            continue
        linked = any(c.with_investment in ids for c in first.contracts)
        for r in range(len(scenarios)):
            twins.twins.append(Twin(r, inv.name))
            if linked:
                twins.twins.append(Twin(r, inv.name, keeps_linked=True))
    return twins
