"""Where money moves: an exact double-entry ledger with provenance, over a batch of runs.

Every account (agents and external accounts alike) holds a *pool*: integer cents per origin per
run, ``pool[account, origin, run]``. A payment takes cents out of the payer's pool and puts the
same cents, with the same origin tags, in the payee's pool; it is written as one ledger record
(time, payer, payee, kind, deal, cents by origin). The origin mix a payment carries is chosen by
the tracing rule:

* ``pro_rata`` (default): each origin pays in proportion to its share of the payer's pool.
* ``fifo``: the oldest cents in the pool leave first (a queue of lots per account).

Sums are exact: proportional splits use *cumulative rounding* (see ``allocate``), so the parts of
a payment always add up to the payment to the cent and never exceed what an origin holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sim.errors import ConservationError
from sim.model import recorder as recorders
from sim.model.kernels import Cents, allocate, post, replay_ledger, split_pro_rata
from sim.model.recorder import KIND, KINDS, Flows, LedgerArrays, Recorder, Timed

__all__ = [
    "KIND",
    "KINDS",
    "Audit",
    "Books",
    "Flows",
    "Legs",
    "LedgerArrays",
    "Timed",
    "allocate",
    "audit",
    "split_pro_rata",
]


# Pools beyond this many cents lose whole-cent precision in the float part of a proportional split.
MAX_EXACT_CENTS = 2**53


def repair(parts: Cents, pool: Cents, amounts: Cents) -> None:
    """Move single cents between origins inside payee rows until no origin pays more than it has."""
    for r in np.nonzero((parts.sum(axis=0) > pool).any(axis=0))[0]:
        p_r = parts[:, :, r]
        excess = p_r.sum(axis=0) - pool[:, r]
        for o in np.nonzero(excess > 0)[0]:
            while excess[o] > 0:
                o2 = int(np.nonzero(excess < 0)[0][0])
                payee = int(np.argmax(p_r[:, o]))
                p_r[payee, o] -= 1
                p_r[payee, o2] += 1
                excess[o] -= 1
                excess[o2] += 1
    if (parts.sum(axis=1) != amounts).any() or (parts < 0).any():
        raise ConservationError("pro-rata split could not be made exact")


class FifoQueues:
    """Per account, lots (origin, cents[run]) in arrival order; payments take the oldest first."""

    def __init__(self, n_accounts: int, n_runs: int) -> None:
        self.lots: list[list[tuple[int, Cents]]] = [[] for _ in range(n_accounts)]
        self.head = [0] * n_accounts
        self.n_runs = n_runs

    def deposit(self, account: int, by_origin: Cents) -> None:
        """Append a lot per origin that brings money (in origin order within one payment)."""
        lots = self.lots[account]
        for o in np.nonzero(by_origin.any(axis=1))[0]:
            cents = by_origin[o].copy()
            if len(lots) > self.head[account] and lots[-1][0] == o:
                lots[-1] = (int(o), lots[-1][1] + cents)  # same origin as the newest lot: merge
            else:
                lots.append((int(o), cents))

    def withdraw(self, account: int, amounts: Cents, n_origins: int) -> Cents:
        """Cents by origin ``[payee, origin, run]``, served from the oldest lots, payee by payee."""
        out = np.zeros((amounts.shape[0], n_origins, self.n_runs), dtype=np.int64)
        lots = self.lots[account]
        for p in range(amounts.shape[0]):
            need = amounts[p].copy()
            i = self.head[account]
            while need.any():
                if i >= len(lots):
                    raise ConservationError("FIFO withdrawal larger than the pool")
                o, lot = lots[i]
                take = np.minimum(lot, need)
                lot -= take
                need -= take
                out[p, o] += take
                i += 1
            # drop lots that are empty in every run from the front of the queue
            h = self.head[account]
            while h < len(lots) and not lots[h][1].any():
                h += 1
            self.head[account] = h
            if h > 64 and h * 2 > len(lots):
                del lots[:h]
                self.head[account] = 0
        return out


@dataclass(frozen=True)
class Legs:
    """A fixed pattern of movements, one per leg: payer -> payee, of a kind, under a deal.

    ``flow[account, leg]`` (+1 in, -1 out) lets all legs post in one exact integer product.
    Each call site that moves money builds its pattern once; only the cents change."""

    payers: list[int]
    payees: list[int]
    kinds: list[int]
    deals: list[int]
    involved: npt.NDArray[np.intp]
    flow: npt.NDArray[np.int64]
    meta: npt.NDArray[np.int64]  # [leg, (payer, payee, kind, deal)]

    @classmethod
    def of(cls, legs: list[tuple[int, int, str, int]]) -> Legs:
        """From (payer, payee, kind, deal) per leg."""
        payers = [leg[0] for leg in legs]
        payees = [leg[1] for leg in legs]
        involved = sorted(set(payers) | set(payees))
        flow = np.zeros((len(involved), len(legs)), dtype=np.int64)
        for j, (a, b, _, _) in enumerate(legs):
            flow[involved.index(a), j] -= 1
            flow[involved.index(b), j] += 1
        kinds = [KIND[leg[2]] for leg in legs]
        deals = [leg[3] for leg in legs]
        meta = np.array([payers, payees, kinds, deals], dtype=np.int64).T.reshape(-1, 4)
        return cls(payers, payees, kinds, deals, np.array(involved, dtype=np.intp), flow, meta)

    def __len__(self) -> int:
        return len(self.payers)


class Books:
    """Pools and the ledger for a batch of runs. The only place balances change.

    Two steps make a movement: ``split`` decides which origins a payment carries (the tracing
    rule), ``post`` moves exactly those cents along a pattern of legs and writes them down.
    ``pay`` does both; ``issue`` brings money in from an external account with one origin.
    """

    def __init__(
        self,
        accounts: list[str],
        origins: list[str],
        opening: Cents,
        *,
        tracing: str = "pro_rata",
        traced: set[int] | None = None,
        external: set[int] | None = None,
        record: str = "ledger",
        n_deals: int = 0,
    ) -> None:
        self.accounts = accounts
        self.origins = origins
        self.n_runs = opening.shape[2]
        self.opening = opening.copy()
        self.pool = opening.copy()  # [account, origin, run]
        self.external = external or set()  # sources and sinks outside the model: may go negative
        # accounts that pay by the tracing rule (labs); the others pass money on explicitly
        self.traced = set(range(len(accounts))) if traced is None else traced
        self.fifo = FifoQueues(len(accounts), self.n_runs) if tracing == "fifo" else None
        if self.fifo is not None:
            for a in self.traced:
                self.fifo.deposit(a, opening[a])
        # what is kept of each posting: every record, or the flow matrix and the timed records
        self.recorder: Recorder = recorders.make(
            record, len(origins), self.n_runs, (len(accounts), len(KINDS), n_deals)
        )

    def cash(self, account: int) -> Cents:
        """Cash per run: the pool summed over origins."""
        return self.pool[account].sum(axis=0)

    def split(self, payer: int, amounts: Cents) -> Cents:
        """The cents by origin ``[payee, origin, run]`` that paying ``amounts[payee, run]`` out
        of ``payer``'s pool carries, by the tracing rule. Moves nothing (``post`` does)."""
        held = self.pool[payer]
        if self.fifo is not None:
            parts = self.fifo.withdraw(payer, amounts, len(self.origins))
            return parts
        parts, overdrawn = split_pro_rata(held, amounts)
        if overdrawn:
            if (held.sum(axis=0) < amounts.sum(axis=0)).any():
                raise ConservationError(f"{self.accounts[payer]} paid out more than it held")
            repair(parts, held, amounts)  # a few cents between origins, payee totals unchanged
        return parts

    def post(self, time: int, legs: Legs, parts: Cents) -> None:
        """Move exactly ``parts[leg, origin, run]`` along each leg and write it in the ledger."""
        post(self.pool, legs.involved, legs.flow, parts)  # exact: int64
        self.recorder.record(time, legs, parts)
        if self.fifo is not None:
            for j, payee in enumerate(legs.payees):
                if payee in self.traced:
                    self.fifo.deposit(payee, parts[j])

    def pay(self, time: int, payer: int, legs: Legs, amounts: Cents) -> Cents:
        """Split by the tracing rule, then post; returns the parts ``[payee, origin, run]``."""
        parts = self.split(payer, amounts)
        self.post(time, legs, parts)
        return parts

    def issue(self, time: int, legs: Legs, origin: int, amount: Cents) -> Cents:
        """Money entering from an external account (the single leg's payer), tagged ``origin``;
        the same as posting it, done directly."""
        by_origin = np.zeros((1, len(self.origins), self.n_runs), dtype=np.int64)
        by_origin[0, origin] = amount
        self.pool[legs.payers[0], origin] -= amount
        self.pool[legs.payees[0], origin] += amount
        self.recorder.record(time, legs, by_origin)
        if self.fifo is not None and legs.payees[0] in self.traced:
            self.fifo.deposit(legs.payees[0], by_origin[0])
        return by_origin[0]

    def ledger(self) -> LedgerArrays | None:
        """Every record, as arrays (once, at the end of the run); None when the recorder keeps
        flows only."""
        rec = self.recorder
        return rec.ledger() if isinstance(rec, recorders.LedgerRecorder) else None

    def flows_and_timed(self, led: LedgerArrays | None) -> tuple[Flows, Timed]:
        """The flow matrix and the timed records: grouped from the ledger ``led`` if kept."""
        rec = self.recorder
        if isinstance(rec, recorders.FlowRecorder):
            return rec.flows(), rec.timed()
        if led is None:
            raise ValueError("the ledger recorder's flows are grouped from its ledger")
        return recorders.flows_of(led, rec.sizes), recorders.timed_of(led)

    def check(self, records: LedgerArrays | Flows | None = None) -> Audit:
        """Fail loudly unless the books balance to the cent in every run; returns the audit.

        Three checks (see ``audit``): (1) the pools of all accounts, external ones included, sum
        per origin to what they held at the start; (2) no agent holds negative cash of any
        origin; (3) replaying the ``records`` (the ledger, or the flow matrix; by default what
        the recorder kept) from the opening balances gives every pool exactly.
        """
        if records is None:
            led = self.ledger()
            records = led if led is not None else self.flows_and_timed(None)[0]
        found = audit(self.opening, self.pool, records, self.external)
        if not found.conserved.all():
            raise ConservationError(f"books do not balance: off by up to {found.off_by} cents")
        if not found.non_negative.all():
            raise ConservationError("an agent holds negative cash")
        if not found.replayed.all():
            raise ConservationError("ledger replay does not reproduce the balances")
        if np.abs(self.pool).max(initial=0) >= MAX_EXACT_CENTS:
            raise ConservationError("a balance left the range where cents are exact")
        return found


@dataclass
class Audit:
    """What the books check measured, per run (arrays over runs)."""

    conserved: npt.NDArray[np.bool_]  # every origin's cents, summed over accounts, as at start
    non_negative: npt.NDArray[np.bool_]  # no agent holds negative cents of any origin
    replayed: npt.NDArray[np.bool_]  # replaying the ledger gives every closing pool
    opening_total: Cents  # cents in all accounts at the start
    closing_total: Cents  # cents in all accounts at the end
    off_by: int  # largest gap, over origins and runs, between closing and opening sums

    @property
    def balanced(self) -> npt.NDArray[np.bool_]:
        return self.conserved & self.non_negative & self.replayed


def audit(opening: Cents, closing: Cents, led: LedgerArrays | Flows, external: set[int]) -> Audit:
    """Measure the three conservation checks on ``opening`` and ``closing`` pools
    ``[account, origin, run]`` and the records ``led`` (the ledger's, or the flow matrix's
    rows: both have a payer, a payee and cents ``[row, origin, run]``); nothing is assumed,
    everything counted."""
    by_origin_open, by_origin_close = opening.sum(axis=0), closing.sum(axis=0)  # [origin, run]
    agents = [a for a in range(closing.shape[0]) if a not in external]
    replay = replay_ledger(opening, led.payer, led.payee, led.cents)
    gap = np.abs(by_origin_close - by_origin_open)
    return Audit(
        conserved=(gap == 0).all(axis=0),
        non_negative=np.asarray((closing[agents] >= 0).all(axis=(0, 1))),
        replayed=(replay == closing).all(axis=(0, 1)),
        opening_total=by_origin_open.sum(axis=0),
        closing_total=by_origin_close.sum(axis=0),
        off_by=int(gap.max(initial=0)),
    )
