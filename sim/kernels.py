"""The arithmetic of moving money, compiled: the hot loops of sim/books.py and sim/agents.py.

A single run spends most of its time on many tiny array operations per step; each costs about a
microsecond of numpy overhead whatever its size. These kernels do the same arithmetic in one
compiled loop each (numba, no fast-math: IEEE operations in the same order as the formulas
below, so results are the same on every machine and for any batch size). Each is written as
the plain loop it is; the docstrings give the rule, docs/model.md the why.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

Cents = npt.NDArray[np.int64]


@njit(cache=True)
def allocate(total: Cents, weights: npt.NDArray[np.float64] | Cents) -> Cents:  # pragma: no cover
    """Split ``total[run]`` into integer parts ``[item, run]`` in proportion to ``weights``.

    Cumulative rounding: with ``W_i`` the running share of the weights, part i is
    ``floor(total * W_i + 0.5) - floor(total * W_{i-1} + 0.5)``. The parts add up to ``total``
    exactly, are never negative, and each is within a cent of its exact share; an integer
    weight is never exceeded when ``total`` is at most the weights' sum. Runs whose weights are
    all zero get nothing (their total must then be zero).
    """
    n_items, n_runs = weights.shape
    out = np.empty((n_items, n_runs), dtype=np.int64)
    for r in range(n_runs):
        s = 0.0
        for i in range(n_items):
            s += float(weights[i, r])
        ratio = total[r] / max(s, 1e-300)
        cum = 0.0
        prev = 0
        for i in range(n_items):
            cum += float(weights[i, r])
            edge = int(cum * ratio + 0.5)  # floor: the value is never negative
            out[i, r] = edge - prev
            prev = edge
    return out


@njit(cache=True)
def split_pro_rata(pool: Cents, amounts: Cents) -> tuple[Cents, bool]:  # pragma: no cover
    """Cents by origin ``[payee, origin, run]`` for paying ``amounts[payee, run]`` out of
    ``pool[origin, run]``, each origin in proportion to what it holds, and whether some origin
    would give more than it holds (a few cents, when the payments empty the pool: the caller
    then repairs the split).

    All payees are served from the same pool at once: cell (payee p, origin o) weighs
    ``amount_p * pool_o``; rounding the cells cumulatively in payee-major order keeps each
    payee's total exact.
    """
    n_payees, n_runs = amounts.shape
    n_origins = pool.shape[0]
    parts = np.empty((n_payees, n_origins, n_runs), dtype=np.int64)
    overdrawn = False
    for r in range(n_runs):
        held = 0.0
        total = 0
        for o in range(n_origins):
            held += float(pool[o, r])
        for p in range(n_payees):
            total += amounts[p, r]
        s = 0.0
        for p in range(n_payees):
            for o in range(n_origins):
                s += float(amounts[p, r]) * float(pool[o, r])
        ratio = total / max(s, 1e-300)
        cum = 0.0
        prev = 0
        for p in range(n_payees):
            for o in range(n_origins):
                cum += float(amounts[p, r]) * float(pool[o, r])
                edge = int(cum * ratio + 0.5)
                parts[p, o, r] = edge - prev
                prev = edge
        for o in range(n_origins):
            given = 0
            for p in range(n_payees):
                given += parts[p, o, r]
            if given > pool[o, r]:
                overdrawn = True
    return parts, overdrawn


@njit(cache=True)
def post(
    pool: Cents, involved: npt.NDArray[np.intp], flow: Cents, parts: Cents
) -> None:  # pragma: no cover
    """In place: ``pool[involved[a]] += sum over legs j of flow[a, j] * parts[j]``."""
    n_legs, n_origins, n_runs = parts.shape
    for a in range(involved.shape[0]):
        acc = involved[a]
        for j in range(n_legs):
            f = flow[a, j]
            if f != 0:
                for o in range(n_origins):
                    for r in range(n_runs):
                        pool[acc, o, r] += f * parts[j, o, r]


@njit(cache=True)
def profit_and_cost(paid: Cents, margins: npt.NDArray[np.float64]) -> Cents:  # pragma: no cover
    """``[profit, cost]`` per cloud, interleaved ``[cloud * 2, run]``: profit is the margin of
    the payment rounded to the cent (half up), cost the rest."""
    n_clouds, n_runs = paid.shape
    out = np.empty((2 * n_clouds, n_runs), dtype=np.int64)
    for c in range(n_clouds):
        for r in range(n_runs):
            profit = int(paid[c, r] * margins[c, r] + 0.5)
            out[2 * c, r] = profit
            out[2 * c + 1, r] = paid[c, r] - profit
    return out


@njit(cache=True)
def legs_cents(
    parts: Cents, n_clouds: int, owned: npt.NDArray[np.intp]
) -> Cents:  # pragma: no cover
    """Cents by origin per leg of a lab's payment split as (profit, cost) per cloud then other
    payees: lab -> cloud (profit + cost), the other payees, cloud -> costs (cost), and
    cloud -> owner (profit) for the clouds at positions ``owned``."""
    n_parts, n_origins, n_runs = parts.shape
    n_other = n_parts - 2 * n_clouds
    out = np.empty((n_clouds + n_other + n_clouds + owned.shape[0], n_origins, n_runs), np.int64)
    for c in range(n_clouds):
        out[c] = parts[2 * c] + parts[2 * c + 1]
        out[n_clouds + n_other + c] = parts[2 * c + 1]
    for k in range(n_other):
        out[n_clouds + k] = parts[2 * n_clouds + k]
    for k in range(owned.shape[0]):
        out[2 * n_clouds + n_other + k] = parts[2 * owned[k]]
    return out


@njit(cache=True)
def replay_ledger(
    opening: Cents, payer: Cents, payee: Cents, cents: Cents
) -> Cents:  # pragma: no cover
    """Balances ``[account, origin, run]`` from the opening balances and every record: each
    record's cents leave its payer and reach its payee. The books check compares them with the
    balances the engine kept."""
    out = opening.copy()
    n_records, n_origins, n_runs = cents.shape
    for k in range(n_records):
        a, b = payer[k], payee[k]
        for o in range(n_origins):
            for r in range(n_runs):
                c = cents[k, o, r]
                out[a, o, r] -= c
                out[b, o, r] += c
    return out
