"""The caused rule, in one place: which records are sales into what an investor owns, by path,
and which are the profit those sellers pass back to it.

A caused figure is a sum over these records in a run less the same sum in its twin
(sim/model/twin.py). The metrics (sim/analysis/metrics.py), a run's twin series
(``Result.twin_series_table``), a sweep's series file (sim/runs/farm.py) and the charts' traced
figures (sim/views/charts/series.py) all pick their records here, so they cannot disagree. The
rule reads only a record's payer, payee, kind and deal, which every form of the records has (the
flow matrix, the timed records, the ledger; sim/model/recorder.py), so it picks the same money
whichever recorder a run used; ``named`` numbers a ledger read back by name for it.

Revenue and profit as booked (``booked``, ``owed_by_date``; docs/metrics.md, "Booked and cash")
are the same records with what the labs still owe those sellers added: a seller's invoice to a
lab is booked at the step's end when it is issued (its minimums and the compute above them
delivered in that step), whenever the lab pays it; credits are booked when used and supply hops
when paid (or paid ahead), as their records already are. So booked = cash + what is owed.
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
# what ``caused_by_date`` can give: revenue over every path, revenue by path, profit (cash)
BY_DATE = (
    "incremental_revenue",
    *(f"incremental_revenue_{p}" for p in PATHS),
    "incremental_profit",
)
BOOKED = "_booked"  # the suffix of a figure as booked (``owed_by_date`` added to its cash)
# the same as booked: revenue over every path, and profit (caused_by_date gives these too)
BY_DATE_BOOKED = ("incremental_revenue" + BOOKED, "incremental_profit" + BOOKED)


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


def invoiced_pairs(plan: Owners, investor: str, labs: Sequence[str]) -> list[tuple[str, str]]:
    """The (lab, seller) pairs whose invoices are sales into ``investor``'s group: a lab of
    ``labs`` paying a seller it owns (the ``own_cloud`` and ``own_vendor`` paths)."""
    return [(lab, seller) for lab in labs for seller in plan.investors[investor]]


@dataclass(frozen=True)
class Owed:
    """What the labs owe an investor's sellers at the horizon: per invoice still unpaid (an item
    is a (lab, seller) pair's invoice of one step), its cents, the seller's profit part of it
    and its due day (after the horizon), ``[item, run]``; 0 in the runs where it was paid."""

    revenue: npt.NDArray[np.int64]
    profit: npt.NDArray[np.int64]
    due: npt.NDArray[np.int64]


def owed(data: RunData, investor: str, labs: Sequence[str]) -> Owed:
    """The invoices of ``invoiced_pairs`` falling due after the horizon: issued, so booked, and
    not paid (an invoice due within it is paid on its due day, from cash set aside for it)."""
    plan, n = data.plan, data.plan.n_runs
    end = int(plan.days[-1])
    parts: list[tuple[npt.NDArray[np.int64], ...]] = []
    for pair in invoiced_pairs(plan, investor, labs):
        if pair not in data.invoiced:
            continue
        due = plan.due[pair]  # [step, run]
        later = due > end
        steps = np.flatnonzero(later.any(axis=1))
        inv, profit = data.invoiced[pair][steps], data.invoiced_profit[pair][steps]
        parts.append(
            (np.where(later[steps], inv, 0), np.where(later[steps], profit, 0), due[steps])
        )
    if not parts:
        empty = np.zeros((0, n), dtype=np.int64)
        return Owed(empty, empty.copy(), empty.copy())
    return Owed(*(np.concatenate([p[j] for p in parts]) for j in range(3)))


def owed_by_date(
    data: RunData, investor: str, labs: Sequence[str], days: npt.NDArray[np.int64], figure: str
) -> npt.NDArray[np.int64]:
    """Per day of ``days`` (days since the start, in order) and run of the batch, the cents the
    labs ``labs`` owed ``investor``'s sellers at that day's end (``figure``: ``revenue``, the
    invoices; ``profit``, the sellers' profit part of them): an invoice issued on or before
    the day and due after it. ``[day, run]``; at the horizon's end, ``Owed``'s sum."""
    plan = data.plan
    issued = plan.days[1:]  # step k's invoice is issued at its end
    counted = data.invoiced if figure == "revenue" else data.invoiced_profit
    diff = np.zeros((len(days) + 1, plan.n_runs), dtype=np.int64)
    cols = np.arange(plan.n_runs)
    for pair in invoiced_pairs(plan, investor, labs):
        if pair not in counted:
            continue
        cents, due = counted[pair], plan.due[pair]  # [step, run]
        # owed from the first day on or after its issue to the last one before it is paid
        start = np.searchsorted(days, issued)  # [step]
        stop = np.searchsorted(days, due)  # [step, run]: >= start, as due >= issued
        for k in np.flatnonzero((cents != 0).any(axis=1)):
            diff[start[k]] += cents[k]
            np.add.at(diff, (stop[k], cols), -cents[k])
    return np.cumsum(diff[:-1], axis=0)


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
    the last date each figure equals the metric of its name. A figure of ``BY_DATE_BOOKED`` is
    its cash figure plus what is owed at each date (``owed_by_date``), run less twin."""
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
            cash = figure.removesuffix(BOOKED)
            rows = picked(plan, investor, on_deals, timed, cash)
            out[:, :, i, j] = cumulative(timed, rows, n, twin_of, days).T
            if figure != cash:
                what = "profit" if cash == "incremental_profit" else "revenue"
                if cash != "incremental_" + what:
                    raise ValueError(
                        f"figure(={figure!r}) is not one of {', '.join(BY_DATE_BOOKED)}"
                    )
                at = owed_by_date(data, investor, labs, days, what)  # [date, batch run]
                out[:, :, i, j] += (at[:, :n] - at[:, twin_of]).T
    return out
