"""The arithmetic of moving money: the hot loops of sim/model/books.py and sim/model/kinds/.

Each kernel is written twice, with results identical to the last bit:

* as the plain loop it is (``*_loops``): the rule, readable, and the source numba compiles;
* vectorised with numpy over runs (``*_numpy``): the same IEEE operations in the same order
  (sums as running sums, ``np.cumsum``, never numpy's pairwise ``sum`` on floats).

The names without a suffix (``allocate``, ``post``, ...) call whichever implementation
``sim.model.jit`` chose for this process: numpy until the compiled code is cached, then numba where
it
repays loading it (see ``sim/model/jit.py`` and docs/model.md, "Speed"). Compiled code uses no
fast-math, so both give the same cents on every machine and for any batch size; the tests hold
the two to equality on random inputs.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import numpy.typing as npt

Cents = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

KERNELS = ("allocate", "split_pro_rata", "post", "profit_and_cost", "legs_cents", "replay_ledger")


# ---------------------------------------------------------------------------------------------
# allocate
# ---------------------------------------------------------------------------------------------


def allocate_loops(total: Cents, weights: Floats | Cents) -> Cents:  # pragma: no cover
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


def _cumulative_parts(cum: Floats, total: Cents) -> Cents:
    """Parts from running sums ``cum[item, run]`` scaled to ``total`` (cumulative rounding)."""
    if cum.shape[0] == 0:
        return np.zeros(cum.shape, dtype=np.int64)
    ratio = total / np.maximum(cum[-1], 1e-300)
    edges = (cum * ratio + 0.5).astype(np.int64)
    out = np.empty_like(edges)
    out[0] = edges[0]
    np.subtract(edges[1:], edges[:-1], out=out[1:])
    return out


def allocate_numpy(total: Cents, weights: Floats | Cents) -> Cents:
    """``allocate_loops``, vectorised: running sums by ``np.cumsum`` (sequential, as the loop)."""
    return _cumulative_parts(np.cumsum(weights, axis=0, dtype=np.float64), total)


# ---------------------------------------------------------------------------------------------
# split_pro_rata
# ---------------------------------------------------------------------------------------------


def split_pro_rata_loops(pool: Cents, amounts: Cents) -> tuple[Cents, bool]:  # pragma: no cover
    """Cents by origin ``[payee, origin, run]`` for paying ``amounts[payee, run]`` out of
    ``pool[origin, run]``, each origin in proportion to what it holds, and whether some origin
    would give more than it holds (a few cents, when the payments empty the pool: the caller
    then repairs the split).

    All payees are served from the same pool at once: cell (payee p, origin o) weighs
    ``amount_p * pool_o``; rounding the cells cumulatively in payee-major order keeps each
    payee's total exact.

    Runs are the innermost loop, with a running sum per run: each run sees the same operations
    in the same order as a loop over its cells alone, while memory is read in its order
    (``[..., run]`` is contiguous), which is what makes a batch of 10,000 runs fast.
    """
    n_payees, n_runs = amounts.shape
    n_origins = pool.shape[0]
    parts = np.empty((n_payees, n_origins, n_runs), dtype=np.int64)
    total = np.zeros(n_runs, dtype=np.int64)
    for p in range(n_payees):
        for r in range(n_runs):
            total[r] += amounts[p, r]
    s = np.zeros(n_runs, dtype=np.float64)
    for p in range(n_payees):
        for o in range(n_origins):
            for r in range(n_runs):
                s[r] += float(amounts[p, r]) * float(pool[o, r])
    ratio = np.empty(n_runs, dtype=np.float64)
    for r in range(n_runs):
        ratio[r] = total[r] / max(s[r], 1e-300)
    cum = np.zeros(n_runs, dtype=np.float64)
    prev = np.zeros(n_runs, dtype=np.int64)
    for p in range(n_payees):
        for o in range(n_origins):
            for r in range(n_runs):
                cum[r] += float(amounts[p, r]) * float(pool[o, r])
                edge = int(cum[r] * ratio[r] + 0.5)
                parts[p, o, r] = edge - prev[r]
                prev[r] = edge
    overdrawn = False
    given = np.empty(n_runs, dtype=np.int64)
    for o in range(n_origins):
        given[:] = 0
        for p in range(n_payees):
            for r in range(n_runs):
                given[r] += parts[p, o, r]
        for r in range(n_runs):
            if given[r] > pool[o, r]:
                overdrawn = True
    return parts, overdrawn


def split_pro_rata_numpy(pool: Cents, amounts: Cents) -> tuple[Cents, bool]:
    """``split_pro_rata_loops``, vectorised over runs (cells in payee-major order)."""
    n_payees, n_runs = amounts.shape
    n_origins = pool.shape[0]
    cells = amounts.astype(np.float64)[:, None, :] * pool.astype(np.float64)[None, :, :]
    cum = np.cumsum(cells.reshape(n_payees * n_origins, n_runs), axis=0)
    parts = _cumulative_parts(cum, amounts.sum(axis=0)).reshape(n_payees, n_origins, n_runs)
    return parts, bool((parts.sum(axis=0) > pool).any())


# ---------------------------------------------------------------------------------------------
# post
# ---------------------------------------------------------------------------------------------


def post_loops(
    pool: Cents, involved: npt.NDArray[np.intp], flow: Cents, parts: Cents
) -> None:  # pragma: no cover
    """In place: ``pool[involved[a]] += sum over legs j of flow[a, j] * parts[j]``.

    Leg by leg, so that each leg's cents are read while in cache for the (two) accounts it
    moves between; integer sums, so their order does not matter."""
    n_legs, n_origins, n_runs = parts.shape
    for j in range(n_legs):
        for a in range(involved.shape[0]):
            f = flow[a, j]
            if f != 0:
                acc = involved[a]
                for o in range(n_origins):
                    for r in range(n_runs):
                        pool[acc, o, r] += f * parts[j, o, r]


def post_numpy(pool: Cents, involved: npt.NDArray[np.intp], flow: Cents, parts: Cents) -> None:
    """``post_loops`` in exact integers: one product ``flow @ parts`` for a small pattern, or
    scatter-adds over the legs' non-zero entries once a dense product (accounts x legs, which
    grows with the square of the agents) would cost more than it saves."""
    if flow.size <= 4096:
        n_legs = parts.shape[0]
        pool[involved] += (flow @ parts.reshape(n_legs, -1)).reshape(
            (len(involved), *parts.shape[1:])
        )
        return
    rows, legs = np.nonzero(flow)
    np.add.at(pool, involved[rows], flow[rows, legs][:, None, None] * parts[legs])


# ---------------------------------------------------------------------------------------------
# profit_and_cost
# ---------------------------------------------------------------------------------------------


def profit_and_cost_loops(paid: Cents, margins: Floats) -> Cents:  # pragma: no cover
    """``[profit, cost]`` per seller, interleaved ``[seller * 2, run]``: profit is the margin of
    the payment rounded to the cent (half up), cost the rest."""
    n_sellers, n_runs = paid.shape
    out = np.empty((2 * n_sellers, n_runs), dtype=np.int64)
    for c in range(n_sellers):
        for r in range(n_runs):
            profit = int(paid[c, r] * margins[c, r] + 0.5)
            out[2 * c, r] = profit
            out[2 * c + 1, r] = paid[c, r] - profit
    return out


def profit_and_cost_numpy(paid: Cents, margins: Floats) -> Cents:
    """``profit_and_cost_loops``, vectorised."""
    profit = (paid * margins + 0.5).astype(np.int64)
    out = np.empty((2 * paid.shape[0], paid.shape[1]), dtype=np.int64)
    out[0::2] = profit
    out[1::2] = paid - profit
    return out


# ---------------------------------------------------------------------------------------------
# legs_cents
# ---------------------------------------------------------------------------------------------


def legs_cents_loops(
    parts: Cents, n_sellers: int, owned: npt.NDArray[np.intp]
) -> Cents:  # pragma: no cover
    """Cents by origin per leg of a payment split as (profit, cost) per seller then other
    payees: payer -> seller (profit + cost), the other payees, seller -> costs (cost), and
    seller -> owner (profit) for the sellers at positions ``owned`` (the legs of
    ``sim.model.kinds.seller.Settlement``, in this order). (Element by element: whole-row
    expressions would make numba allocate a temporary array per row.)"""
    n_parts, n_origins, n_runs = parts.shape
    n_other = n_parts - 2 * n_sellers
    out = np.empty((n_sellers + n_other + n_sellers + owned.shape[0], n_origins, n_runs), np.int64)
    for o in range(n_origins):
        for c in range(n_sellers):
            for r in range(n_runs):
                out[c, o, r] = parts[2 * c, o, r] + parts[2 * c + 1, o, r]
                out[n_sellers + n_other + c, o, r] = parts[2 * c + 1, o, r]
        for k in range(n_other):
            for r in range(n_runs):
                out[n_sellers + k, o, r] = parts[2 * n_sellers + k, o, r]
        for k in range(owned.shape[0]):
            for r in range(n_runs):
                out[2 * n_sellers + n_other + k, o, r] = parts[2 * owned[k], o, r]
    return out


def legs_cents_numpy(parts: Cents, n_sellers: int, owned: npt.NDArray[np.intp]) -> Cents:
    """``legs_cents_loops`` as slices."""
    profit, cost = parts[0 : 2 * n_sellers : 2], parts[1 : 2 * n_sellers : 2]
    return np.concatenate([profit + cost, parts[2 * n_sellers :], cost, parts[2 * owned]])


# ---------------------------------------------------------------------------------------------
# replay_ledger
# ---------------------------------------------------------------------------------------------


def replay_ledger_loops(
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


def replay_ledger_numpy(opening: Cents, payer: Cents, payee: Cents, cents: Cents) -> Cents:
    """``replay_ledger_loops`` with exact integer scatter-adds."""
    out = opening.copy()
    np.subtract.at(out, payer, cents)
    np.add.at(out, payee, cents)
    return out


# ---------------------------------------------------------------------------------------------
# Dispatch
# ---------------------------------------------------------------------------------------------

NUMPY = SimpleNamespace(**{name: globals()[f"{name}_numpy"] for name in KERNELS}, name="numpy")
_impl: Any = NUMPY


def implementation() -> str:
    """The name of the implementation in use: ``numpy`` or ``numba``."""
    return str(_impl.name)


def set_implementation(impl: Any) -> None:
    """Use ``impl`` (a namespace of the kernels) from now on; ``sim.model.jit`` calls this."""
    global _impl
    _impl = impl


def allocate(total: Cents, weights: Floats | Cents) -> Cents:
    """See ``allocate_loops``."""
    return _impl.allocate(total, weights)


def split_pro_rata(pool: Cents, amounts: Cents) -> tuple[Cents, bool]:
    """See ``split_pro_rata_loops``."""
    return _impl.split_pro_rata(pool, amounts)


def post(pool: Cents, involved: npt.NDArray[np.intp], flow: Cents, parts: Cents) -> None:
    """See ``post_loops``."""
    _impl.post(pool, involved, flow, parts)


def profit_and_cost(paid: Cents, margins: Floats) -> Cents:
    """See ``profit_and_cost_loops``."""
    return _impl.profit_and_cost(paid, margins)


def legs_cents(parts: Cents, n_sellers: int, owned: npt.NDArray[np.intp]) -> Cents:
    """See ``legs_cents_loops``."""
    return _impl.legs_cents(parts, n_sellers, owned)


def replay_ledger(opening: Cents, payer: Cents, payee: Cents, cents: Cents) -> Cents:
    """See ``replay_ledger_loops``."""
    return _impl.replay_ledger(opening, payer, payee, cents)
