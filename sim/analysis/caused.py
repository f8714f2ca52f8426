"""The caused rule, in one place: which records are sales into what an investor owns, by path,
and which are the profit those sellers pass back to it.

A caused figure is a sum over these records in a run less the same sum in its twin
(sim/model/twin.py). The metrics (sim/analysis/metrics.py), a run's twin series
(``Result.twin_series_table``), a sweep's series file (sim/runs/farm.py) and the charts' traced
figures (sim/views/charts/series.py) all pick their records here, so they cannot disagree. The
rule reads only a record's payer, payee, kind and deal, which every form of the records has (the
flow matrix, the timed records, the ledger; sim/model/recorder.py), so it picks the same money
whichever recorder a run used; ``named`` numbers a ledger read back by name for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from sim.inputs.scenario import Scenario
from sim.model.books import KIND, Timed
from sim.model.engine import RunData
from sim.model.twin import Twins

Mask = npt.NDArray[np.bool_]

# the paths by which money reaches the sellers an investor owns: a lab paying its own cloud, a lab
# paying its own vendor (direct sales), another seller paying one of them (OpenAI -> Oracle ->
# Nvidia's chips)
PATHS = ("own_cloud", "own_vendor", "via_others")
# what ``caused_by_date`` can give: revenue over every path, revenue by path, profit
BY_DATE = (
    "incremental_revenue",
    *(f"incremental_revenue_{p}" for p in PATHS),
    "incremental_profit",
)


class Records(Protocol):
    """What the rule reads of records: ``sim.model.books.Flows``, ``Timed`` and ``LedgerArrays``
    all have it (account, kind and deal numbers, one per record)."""

    @property
    def payer(self) -> npt.NDArray[np.int64]: ...
    @property
    def payee(self) -> npt.NDArray[np.int64]: ...
    @property
    def kind(self) -> npt.NDArray[np.int64]: ...  # index into sim.model.books.KINDS
    @property
    def deal(self) -> npt.NDArray[np.int64]: ...


class Owners(Protocol):
    """What the rule reads of a plan (``sim.model.schedule.Plan`` is one): the accounts the
    records number, who owns which sellers, and each seller's kind (cloud or vendor)."""

    @property
    def accounts(self) -> Sequence[str]: ...
    @property
    def investors(self) -> Mapping[str, Sequence[str]]: ...
    @property
    def seller_kind(self) -> Mapping[str, str]: ...


@dataclass(frozen=True)
class Named:
    """Records read back by name (a run folder's ledger), numbered for the rule: it is their
    ``Owners`` and their ``Records`` at once. Accounts are numbered in name order; a record's
    ``deal`` is the lab its deal concerns, ``labs[deal]`` (the rule asks of a deal only its lab)."""

    accounts: list[str]
    investors: dict[str, tuple[str, ...]]
    seller_kind: dict[str, str]
    payer: npt.NDArray[np.int64]
    payee: npt.NDArray[np.int64]
    kind: npt.NDArray[np.int64]
    deal: npt.NDArray[np.int64]
    labs: list[str]

    def on_deals(self, labs: Sequence[str]) -> Mask:
        """``on_deals`` for the deals with ``labs``."""
        return np.array([lab in labs for lab in self.labs], dtype=bool)


def named(
    scenario: Scenario,
    payer: npt.ArrayLike,
    payee: npt.ArrayLike,
    kind: npt.ArrayLike,
    lab: npt.ArrayLike,
) -> Named:
    """The records whose payer, payee, kind (``KINDS``) and deal's lab (``""``: none) are these
    names, for the rule, with who owns what in ``scenario``."""
    payer, payee, lab = (np.asarray(x, dtype=object) for x in (payer, payee, lab))
    accounts, codes = np.unique(
        np.concatenate([payer, payee, np.array(list(scenario.agents), dtype=object)]),
        return_inverse=True,
    )
    kinds, kind_codes = np.unique(np.asarray(kind, dtype=object), return_inverse=True)
    labs, lab_codes = np.unique(lab, return_inverse=True)
    n = len(payer)
    return Named(
        accounts=[str(a) for a in accounts],
        investors={i: tuple(inv.owns) for i, inv in scenario.investors.items()},
        seller_kind={c: seller.kind for c, seller in scenario.sellers.items()},
        payer=codes[:n].astype(np.int64),
        payee=codes[n : 2 * n].astype(np.int64),
        kind=np.array([KIND[str(k)] for k in kinds], dtype=np.int64)[kind_codes],
        deal=lab_codes.astype(np.int64),
        labs=[str(x) for x in labs],
    )


def sales_paths(plan: Owners, investor: str, on_deals: Mask, r: Records) -> dict[str, Mask]:
    """Which of the records ``r`` are sales into ``investor``'s group (it and the sellers it
    owns) from outside it, by path (``PATHS``): a lab paying a cloud it owns (``compute``), a lab
    paying a vendor it owns (``compute``), another seller paying one of them (``supply``: a routed
    cost, the second hop). ``on_deals[deal]``: the deals counted (a routed cost keeps the deal of
    the lab's payment it came from)."""
    acc = {a: k for k, a in enumerate(plan.accounts)}
    owned = [acc[c] for c in plan.investors[investor]]
    group = [acc[investor], *owned]
    vendors = [a for a in owned if plan.seller_kind.get(plan.accounts[a]) == "vendor"]
    into_group = np.isin(r.payee, owned) & ~np.isin(r.payer, group) & on_deals[r.deal]
    from_lab = into_group & (r.kind == KIND["compute"])
    return {
        "own_cloud": from_lab & ~np.isin(r.payee, vendors),
        "own_vendor": from_lab & np.isin(r.payee, vendors),
        "via_others": into_group & (r.kind == KIND["supply"]),
    }


def sales(plan: Owners, investor: str, on_deals: Mask, r: Records) -> Mask:
    """The records of ``sales_paths``, every path: the revenue a caused figure counts."""
    paths = sales_paths(plan, investor, on_deals, r)
    return paths["own_cloud"] | paths["own_vendor"] | paths["via_others"]


def profit_back(plan: Owners, investor: str, on_deals: Mask, r: Records) -> Mask:
    """Which of the records ``r`` are profit the sellers ``investor`` owns passed to it, on the
    deals ``on_deals[deal]``."""
    acc = {a: k for k, a in enumerate(plan.accounts)}
    owned = [acc[c] for c in plan.investors[investor]]
    return (
        (r.kind == KIND["profit"])
        & (r.payee == acc[investor])
        & np.isin(r.payer, owned)
        & on_deals[r.deal]
    )


def picked(plan: Owners, investor: str, on_deals: Mask, r: Records, figure: str) -> Mask:
    """The records a ``BY_DATE`` figure sums."""
    if figure == "incremental_profit":
        return profit_back(plan, investor, on_deals, r)
    if figure == "incremental_revenue":
        return sales(plan, investor, on_deals, r)
    path = figure.removeprefix("incremental_revenue_")
    if path not in PATHS:
        raise ValueError(f"figure(={figure!r}) is not one of {', '.join(BY_DATE)}")
    return sales_paths(plan, investor, on_deals, r)[path]


def deals_with(data: RunData, labs: Sequence[str]) -> Mask:
    """Per deal of the batch, whether it concerns one of ``labs``: ``on_deals`` above."""
    return np.array([lab in labs for lab in data.deal_lab], dtype=bool)


def cumulative(
    timed: Timed, rows: Mask, n: int, twin_of: Sequence[int], days: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """The cents of the timed records ``rows`` in each of the first ``n`` runs less in its twin
    (``twin_of[run]``, a batch column), summed over the records up to and including each of
    ``days`` (days since the start): ``[day, run]``."""
    idx = np.flatnonzero(rows)
    idx = idx[np.argsort(timed.time[idx], kind="stable")]
    caused = timed.amount[idx][:, :n] - timed.amount[idx][:, list(twin_of)]  # [record, run]
    cum = np.vstack([np.zeros((1, n), np.int64), np.cumsum(caused, axis=0)])
    upto = np.searchsorted(timed.time[idx], days, side="right")
    return np.asarray(cum[upto], dtype=np.int64)


def caused_by_date(
    data: RunData, twins: Twins, investors: Sequence[str], figures: Sequence[str] = BY_DATE
) -> npt.NDArray[np.int64]:
    """Per run of the batch (its twins are not runs), grid date, investor (each with a twin)
    and figure (``BY_DATE``), the cumulative cents the investment had caused by that date:
    ``[run, date, investor, figure]``, read off the timed records, which both recorders keep. At
    the last date each figure equals the metric of its name."""
    plan, timed = data.plan, data.timed
    n = twins.n_runs
    start = np.datetime64(plan.start, "D")
    days = (np.array(plan.grid, dtype="datetime64[D]") - start).astype(np.int64)
    out = np.zeros((n, len(days), len(investors), len(figures)), dtype=np.int64)
    for i, investor in enumerate(investors):
        twin_of = twins.columns(investor)
        if twin_of is None:
            raise ValueError(f"investor(={investor!r}) has no twin: it caused nothing to follow")
        labs = list(dict.fromkeys(d.lab for d in plan.investments if d.investor == investor))
        on_deals = deals_with(data, labs)
        for j, figure in enumerate(figures):
            rows = picked(plan, investor, on_deals, timed, figure)
            out[:, :, i, j] = cumulative(timed, rows, n, twin_of, days).T
    return out
