"""What the books keep of the money they move: every record, or the sums that answer the metrics.

Every posting hands the recorder a pattern of legs (payer -> payee, of a kind, under a deal) and
the cents each leg carries by origin and run. Two recorders, one interface:

* ``LedgerRecorder`` (the default of ``sim.run``): every record, for the ledger file, the charts
  and the report of one run. Its memory grows with records x origins x runs.
* ``FlowRecorder`` (sweeps and Monte Carlo): the **flow matrix**, cents summed over time by
  flow (payer, payee, kind, deal), origin and run, which is the transaction-flow matrix of the
  model; and the **timed records**, one per leg of the few kinds whose date a metric reads
  (``TIMED``: present values, payback, first raise, the per-step caused series), with cents
  summed over origins. Its memory grows with flows x origins x runs plus timed records x runs,
  a small part of the ledger.

Both give the same ``Flows`` and ``Timed`` (the full ledger is grouped and filtered into them),
and metrics read only those two, so every figure is the same, bit for bit, under either
recorder. The books check replays the ledger, or the flow matrix, from the opening pools: a sum
of exact integers, so replaying flows proves the same conservation as replaying records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

Cents = npt.NDArray[np.int64]

# Kinds of movement, in the order they are listed in docs/model.md.
KINDS = (
    "funding",
    "investment",
    "revenue",
    "compute",
    "other",
    "cloud_cost",
    "profit",
    "financing",  # a financing source -> a lab: equity or debt raised
    "interest",  # a lab -> its financing source: interest on debt
    "supply",  # a seller -> another seller: the part of its costs routed there (capex on chips)
    "credits",  # credits_issued -> a lab's credit account: an investment paid in credits
    "credit_use",  # credits redeemed once used (the revenue and profit they paid, in kind)
    "revenue_share",  # a lab -> an investor: a share of the lab's revenue (a deal's term)
    "capex_loan",  # capex_funding -> a seller: borrowed to pay a route's part ahead (a lead)
    "capex_repaid",  # a seller -> capex_funding: that part, repaid when the invoice is paid
    "loan",  # an investor -> a lab or a seller: a loan drawn (origin ``<lender>:loan``)
    "loan_interest",  # a borrower -> its lender: interest on a loan
    "loan_principal",  # a borrower -> its lender: principal repaid
)
KIND = {k: i for i, k in enumerate(KINDS)}
# the kinds whose records keep their date under either recorder: what a present value, a
# payback date, a first raise or the per-step caused series reads
TIMED = tuple(
    KIND[k]
    for k in (
        *("investment", "compute", "profit", "financing", "supply", "credits", "revenue_share"),
        *("loan", "loan_interest", "loan_principal"),
    )
)
RECORDERS = ("ledger", "flows")


class LegsLike(Protocol):
    """What a recorder reads of a pattern of legs (``sim.model.books.Legs``)."""

    @property
    def meta(self) -> npt.NDArray[np.int64]: ...  # [leg, (payer, payee, kind, deal)]


@dataclass
class LedgerArrays:
    """The finished ledger as arrays: one row per record, cents by origin per run."""

    time: npt.NDArray[np.int64]  # days since the scenario's start
    payer: npt.NDArray[np.int64]  # account index
    payee: npt.NDArray[np.int64]
    kind: npt.NDArray[np.int64]  # index into KINDS
    deal: npt.NDArray[np.int64]  # index into the run's deal names
    cents: Cents  # [record, origin, run]


@dataclass
class Flows:
    """The flow matrix: cents moved over the whole run by flow, origin and run, a flow being
    (payer, payee, kind, deal); flows in ascending order of that key, each flow once."""

    payer: npt.NDArray[np.int64]
    payee: npt.NDArray[np.int64]
    kind: npt.NDArray[np.int64]
    deal: npt.NDArray[np.int64]
    cents: Cents  # [flow, origin, run]

    def select(self, run: int) -> Flows:
        """The same flows for one run of the batch (a view)."""
        return Flows(self.payer, self.payee, self.kind, self.deal, self.cents[:, :, run : run + 1])


@dataclass
class Timed:
    """Records of the ``TIMED`` kinds in the order they were posted (time order), with cents
    summed over origins."""

    time: npt.NDArray[np.int64]  # days since the start
    payer: npt.NDArray[np.int64]
    payee: npt.NDArray[np.int64]
    kind: npt.NDArray[np.int64]
    deal: npt.NDArray[np.int64]
    amount: Cents  # [record, run]


def _empty(n: int = 0) -> npt.NDArray[np.int64]:
    return np.zeros(n, dtype=np.int64)


def group_flows(
    payer: npt.NDArray[np.int64],
    payee: npt.NDArray[np.int64],
    kind: npt.NDArray[np.int64],
    deal: npt.NDArray[np.int64],
    cents: Cents,
    sizes: tuple[int, int, int],
) -> Flows:
    """Records summed by flow, in ascending order of (payer, payee, kind, deal). ``sizes``: the
    numbers of accounts, kinds and deals (the key's radices)."""
    n_accounts, n_kinds, n_deals = sizes
    key = ((payer * n_accounts + payee) * n_kinds + kind) * max(n_deals, 1) + deal
    order = np.argsort(key, kind="stable")
    key_sorted = key[order]
    starts = np.flatnonzero(np.concatenate(([True], key_sorted[1:] != key_sorted[:-1])))
    if len(order) == 0:
        return Flows(_empty(), _empty(), _empty(), _empty(), cents[:0].copy())
    first = order[starts]
    # a flow at a time, so that no reordered copy of all the records is ever made
    summed = np.empty((len(starts), *cents.shape[1:]), dtype=np.int64)
    for f, (a, b) in enumerate(zip(starts, [*starts[1:], len(order)], strict=True)):
        cents[order[a:b]].sum(axis=0, out=summed[f])
    return Flows(payer[first], payee[first], kind[first], deal[first], summed)


class LedgerRecorder:
    """Keeps every record: a block per posting, assembled into the ledger when asked."""

    name = "ledger"

    def __init__(self, n_origins: int, n_runs: int, sizes: tuple[int, int, int]) -> None:
        self.n_origins, self.n_runs, self.sizes = n_origins, n_runs, sizes
        # per posting: its day, the legs' meta [leg, 4] and cents [leg, origin, run]
        self._blocks: list[tuple[int, npt.NDArray[np.int64], Cents]] = []
        self._assembled: LedgerArrays | None = None  # the blocks up to the last ``ledger()``

    def record(self, time: int, legs: LegsLike, parts: Cents) -> None:
        self._blocks.append((time, legs.meta, parts))

    def ledger(self) -> LedgerArrays:
        """The ledger as arrays, a row per leg posted (rows may be zero in some or all runs:
        ``Result.ledger`` shows a run's non-zero rows). The blocks are freed as they are
        assembled, so the ledger is never held twice once this returns."""
        blocks, self._blocks = self._blocks, []
        done = self._assembled
        if done is None:
            empty = _empty()
            cents = np.zeros((0, self.n_origins, self.n_runs), np.int64)
            done = LedgerArrays(empty, empty, empty, empty, empty, cents)
        if blocks:
            times = np.repeat([t for t, _, _ in blocks], [len(m) for _, m, _ in blocks])
            meta = np.concatenate([m for _, m, _ in blocks])
            cents = np.concatenate([c for _, _, c in blocks])
            del blocks
            if len(done.time):
                times = np.concatenate([done.time, times])
                meta = np.concatenate(
                    [np.stack([done.payer, done.payee, done.kind, done.deal], axis=1), meta]
                )
                cents = np.concatenate([done.cents, cents])
            done = LedgerArrays(
                time=times.astype(np.int64),
                payer=meta[:, 0].copy(),
                payee=meta[:, 1].copy(),
                kind=meta[:, 2].copy(),
                deal=meta[:, 3].copy(),
                cents=cents,
            )
        self._assembled = done
        return done


def flows_of(led: LedgerArrays, sizes: tuple[int, int, int]) -> Flows:
    """The flow matrix of a full ledger."""
    return group_flows(led.payer, led.payee, led.kind, led.deal, led.cents, sizes)


def timed_of(led: LedgerArrays) -> Timed:
    """The timed records of a full ledger, in its order."""
    rows = np.flatnonzero(np.isin(led.kind, TIMED))
    amount = np.empty((len(rows), led.cents.shape[2]), dtype=np.int64)
    step = 4096  # records at a time: no copy of all the timed records by origin
    for i in range(0, len(rows), step):
        led.cents[rows[i : i + step]].sum(axis=1, out=amount[i : i + step])
    return Timed(led.time[rows], led.payer[rows], led.payee[rows], led.kind[rows],
                 led.deal[rows], amount)  # fmt: skip


class FlowRecorder:
    """Keeps the flow matrix and the timed records only (see the module's docstring)."""

    name = "flows"

    def __init__(self, n_origins: int, n_runs: int, sizes: tuple[int, int, int]) -> None:
        self.n_origins, self.n_runs, self.sizes = n_origins, n_runs, sizes
        self._flow: dict[tuple[int, int, int, int], int] = {}  # flow key -> row in _sums
        self._sums = np.zeros((8, n_origins, n_runs), dtype=np.int64)
        # per pattern of legs (by identity, the pattern held so that its id stays its own):
        # each leg's row in _sums, and the timed legs
        self._pattern: dict[int, tuple[LegsLike, npt.NDArray[np.intp], npt.NDArray[np.intp]]]
        self._pattern = {}
        # the timed records, written in place into buffers that grow by doubling: their days,
        # (payer, payee, kind, deal), and cents summed over origins [record, run]
        self._n_timed = 0
        self._timed_time = np.zeros(64, dtype=np.int64)
        self._timed_meta = np.zeros((64, 4), dtype=np.int64)
        self._timed_amount = np.zeros((64, n_runs), dtype=np.int64)

    def _register(
        self, legs: LegsLike
    ) -> tuple[LegsLike, npt.NDArray[np.intp], npt.NDArray[np.intp]]:
        rows = []
        for payer, payee, kind, deal in legs.meta.tolist():
            key = (payer, payee, kind, deal)
            if key not in self._flow:
                self._flow[key] = len(self._flow)
            rows.append(self._flow[key])
        if len(self._flow) > len(self._sums):  # grow by doubling, keeping what was summed
            grown = np.zeros((2 * len(self._flow), self.n_origins, self.n_runs), np.int64)
            grown[: len(self._sums)] = self._sums
            self._sums = grown
        timed = np.flatnonzero(np.isin(legs.meta[:, 2], TIMED)).astype(np.intp)
        entry = (legs, np.array(rows, dtype=np.intp), timed)
        self._pattern[id(legs)] = entry
        return entry

    def record(self, time: int, legs: LegsLike, parts: Cents) -> None:
        entry = self._pattern.get(id(legs))
        if entry is None or entry[0] is not legs:
            entry = self._register(legs)
        _, rows, timed = entry
        sums = self._sums
        for j, row in enumerate(rows.tolist()):  # in place, leg by leg: no temporary copies
            np.add(sums[row], parts[j], out=sums[row])
        if len(timed):
            k = self._n_timed
            if k + len(timed) > len(self._timed_time):
                self._grow_timed(k + len(timed))
            self._timed_time[k : k + len(timed)] = time
            self._timed_meta[k : k + len(timed)] = legs.meta[timed]
            for i, j in enumerate(timed.tolist()):
                parts[j].sum(axis=0, out=self._timed_amount[k + i])
            self._n_timed = k + len(timed)

    def _grow_timed(self, need: int) -> None:
        size = max(need, 2 * len(self._timed_time))
        for name in ("_timed_time", "_timed_meta", "_timed_amount"):
            old = getattr(self, name)
            grown = np.zeros((size, *old.shape[1:]), dtype=np.int64)
            grown[: len(old)] = old
            setattr(self, name, grown)

    def reserve(self, n_timed: int) -> None:
        """Make room for ``n_timed`` timed records up front (an estimate from the Plan), so
        that the buffers never grow."""
        if n_timed > len(self._timed_time):
            self._grow_timed(n_timed)

    def flows(self) -> Flows:
        keys = np.array(list(self._flow), dtype=np.int64).reshape(-1, 4)
        sums = self._sums[: len(self._flow)]
        return group_flows(keys[:, 0], keys[:, 1], keys[:, 2], keys[:, 3], sums, self.sizes)

    def timed(self) -> Timed:
        k = self._n_timed
        meta = self._timed_meta[:k]
        return Timed(self._timed_time[:k], meta[:, 0].copy(), meta[:, 1].copy(),
                     meta[:, 2].copy(), meta[:, 3].copy(), self._timed_amount[:k])  # fmt: skip


Recorder = LedgerRecorder | FlowRecorder


def make(name: str, n_origins: int, n_runs: int, sizes: tuple[int, int, int]) -> Recorder:
    """The recorder called ``name`` (one of ``RECORDERS``)."""
    if name == "ledger":
        return LedgerRecorder(n_origins, n_runs, sizes)
    if name == "flows":
        return FlowRecorder(n_origins, n_runs, sizes)
    raise ValueError(f"record={name!r}: the recorders are {', '.join(RECORDERS)}")
