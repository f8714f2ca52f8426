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

Cents = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

# Pools beyond this many cents lose whole-cent precision in the float part of a proportional split.
MAX_EXACT_CENTS = 2**53


def allocate(total: Cents, weights: npt.NDArray[np.floating] | Cents) -> Cents:
    """Split ``total[..., run]`` into integer parts ``[..., item, run]`` in proportion to weights.

    Cumulative rounding: part i is ``round(total * W_i) - round(total * W_{i-1})`` where ``W`` is
    the running share of the weights. The parts add up to ``total`` exactly, are never negative,
    and each is within one cent of its exact share; an integer weight is never exceeded when
    ``total`` is at most the weights' sum. Runs whose weights are all zero get nothing (their
    total must then be zero). Items run along axis -2, runs along axis -1.
    """
    if weights.shape[-2] == 1:
        return total[..., None, :].copy()
    cum = weights.cumsum(axis=-2, dtype=np.float64)
    # where all weights are zero, cum is zero and so are the parts, whatever the ratio
    cum *= total[..., None, :] / np.maximum(cum[..., -1:, :], 1e-300)
    cum += 0.5
    edges = cum.astype(np.int64)  # floor(x + 0.5), as x is never negative
    edges[..., 1:, :] -= edges[..., :-1, :].copy()
    return edges


def split_pro_rata(pool: Cents, amounts: Cents) -> Cents:
    """Cents by origin ``[payee, origin, run]`` for paying ``amounts[payee, run]`` out of
    ``pool[origin, run]``, each origin in proportion to what it holds.

    All payees are served from the same pool at once: the cells (payee, origin) weigh
    ``amount_p * pool_o``; rounding them cumulatively in payee-major order keeps each payee's
    total exact. When the payments empty the pool an origin can come out a few cents short; the
    caller sees that as a negative balance and calls ``repair``.
    """
    n_payees, n_origins, n_runs = amounts.shape[0], pool.shape[0], pool.shape[1]
    if n_payees == 1:
        return allocate(amounts[0], pool)[None]
    cells = amounts.astype(np.float64)[:, None, :] * pool  # no int64 overflow: floats
    flat = cells.reshape(n_payees * n_origins, n_runs)
    return allocate(amounts.sum(axis=0), flat).reshape(n_payees, n_origins, n_runs)


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


@dataclass
class LedgerArrays:
    """The finished ledger as arrays: one row per record, cents by origin per run."""

    time: npt.NDArray[np.int64]  # days since the scenario's start
    payer: npt.NDArray[np.int64]  # account index
    payee: npt.NDArray[np.int64]
    kind: npt.NDArray[np.int64]  # index into KINDS
    deal: npt.NDArray[np.int64]  # index into the run's deal names
    cents: Cents  # [record, origin, run]


# Kinds of movement, in the order they are listed in docs/model.md.
KINDS = ("funding", "investment", "revenue", "compute", "other", "cloud_cost", "profit")
KIND = {k: i for i, k in enumerate(KINDS)}


class Books:
    """Pools and the ledger for a batch of runs. The only place balances change."""

    def __init__(
        self,
        accounts: list[str],
        origins: list[str],
        opening: Cents,
        *,
        tracing: str = "pro_rata",
        traced: set[int] | None = None,
        external: set[int] | None = None,
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
        # the ledger as it grows: (time, payer, payee, kind, deal) and cents by origin per record;
        # movements that are zero in every run of the batch are not recorded
        self._rows: list[tuple[int, int, int, int, int]] = []
        self._cents: list[Cents] = []

    def cash(self, account: int) -> Cents:
        """Cash per run: the pool summed over origins."""
        return self.pool[account].sum(axis=0)

    def issue(
        self, time: int, source: int, payee: int, origin: int, amount: Cents, kind: str, deal: int
    ) -> Cents:
        """Money entering the modelled agents from an external ``source``, tagged ``origin``."""
        by_origin = np.zeros((len(self.origins), self.n_runs), dtype=np.int64)
        by_origin[origin] = amount
        self.pool[source, origin] -= amount
        self.pool[payee, origin] += amount
        if amount.any():
            self._deposit_fifo(payee, by_origin)
            self._rows.append((time, source, payee, KIND[kind], deal))
            self._cents.append(by_origin)
        return by_origin

    def pay(
        self,
        time: int,
        payer: int,
        payees: list[int],
        amounts: Cents,
        kinds: list[str],
        deals: list[int],
    ) -> Cents:
        """Pay ``amounts[payee, run]`` from ``payer`` by the tracing rule; returns the cents by
        origin each payee got, ``[payee, origin, run]``. Kind and deal are given per payee."""
        held = self.pool[payer]
        if self.fifo is not None:
            parts = self.fifo.withdraw(payer, amounts, len(self.origins))
        else:
            parts = split_pro_rata(held, amounts)
        left = held - parts.sum(axis=0)
        if left.min() < 0:
            if self.fifo is not None or (held.sum(axis=0) < amounts.sum(axis=0)).any():
                raise ConservationError(f"{self.accounts[payer]} paid out more than it held")
            repair(parts, held, amounts)  # a few cents between origins, payee totals unchanged
            left = held - parts.sum(axis=0)
        self.pool[payer] = left
        self.pool[payees] += parts  # payees of one payment are distinct accounts
        for j, moved in enumerate(amounts.any(axis=1).tolist()):
            if moved:
                if self.fifo is not None:
                    self._deposit_fifo(payees[j], parts[j])
                self._rows.append((time, payer, payees[j], KIND[kinds[j]], deals[j]))
                self._cents.append(parts[j])
        return parts

    def pass_on(
        self,
        time: int,
        payers: list[int],
        payees: list[int],
        parts: Cents,
        kinds: list[str],
        deals: list[int],
    ) -> None:
        """Move exactly ``parts[leg, origin, run]`` from ``payers[leg]`` to ``payees[leg]``:
        specific identification, no tracing rule. How a cloud passes on the cost and profit of
        a payment with the payment's own origin mix, and an investor its fresh funding. Callers
        pass on only cents they just received, so no pool can go negative (``check`` verifies)."""
        np.subtract.at(self.pool, payers, parts)
        np.add.at(self.pool, payees, parts)
        for j, moved in enumerate(parts.any(axis=(1, 2)).tolist()):
            if moved:
                if self.fifo is not None:
                    self._deposit_fifo(payees[j], parts[j])
                self._rows.append((time, payers[j], payees[j], KIND[kinds[j]], deals[j]))
                self._cents.append(parts[j])

    def _deposit_fifo(self, account: int, by_origin: Cents) -> None:
        if self.fifo is not None and account in self.traced:
            self.fifo.deposit(account, by_origin)

    def ledger(self) -> LedgerArrays:
        n_o = len(self.origins)
        rows = np.array(self._rows, dtype=np.int64).reshape(-1, 5)
        return LedgerArrays(
            time=rows[:, 0].copy(),
            payer=rows[:, 1].copy(),
            payee=rows[:, 2].copy(),
            kind=rows[:, 3].copy(),
            deal=rows[:, 4].copy(),
            cents=(
                np.stack(self._cents)
                if self._cents
                else np.zeros((0, n_o, self.n_runs), dtype=np.int64)
            ),
        )

    def check(self, led: LedgerArrays | None = None) -> None:
        """Fail loudly unless the books balance to the cent in every run.

        Three checks: (1) the pools of all accounts, external ones included, sum per origin to what
        they held at the start; (2) no agent holds negative cash of any origin; (3) replaying the
        ledger from the opening balances gives every pool exactly.
        """
        total = self.pool.sum(axis=0)
        opening_total = self.opening.sum(axis=0)
        if not np.array_equal(total, opening_total):
            diff = int(np.abs(total - opening_total).max())
            raise ConservationError(f"books do not balance: off by up to {diff} cents")
        agents = [a for a in range(len(self.accounts)) if a not in self.external]
        if (self.pool[agents] < 0).any():
            raise ConservationError("an agent holds negative cash")
        led = led if led is not None else self.ledger()
        replay = self.opening.copy()
        for a in range(len(self.accounts)):
            replay[a] += led.cents[led.payee == a].sum(axis=0) - led.cents[led.payer == a].sum(
                axis=0
            )
        if not np.array_equal(replay, self.pool):
            raise ConservationError("ledger replay does not reproduce the balances")
        if np.abs(self.pool).max(initial=0) >= MAX_EXACT_CENTS:
            raise ConservationError("a balance left the range where cents are exact")
