"""The kernels' two implementations agree to the cent: numpy, the plain loops, and numba.

Which one a run uses is a matter of speed only (sim/model/jit.py): these tests hold the numpy code
to
the loops it vectorises on random inputs, and the compiled loops to numpy on whole scenarios.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import sim
from sim.model import jit, kernels

SCENARIOS = sorted((Path(__file__).resolve().parent.parent / "scenarios").glob("*.yaml"))
money = st.integers(min_value=0, max_value=10**14)  # up to $1T in cents
shape = st.tuples(st.integers(1, 6), st.integers(1, 4))  # (items, runs)


def cents(shape_: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.int64, shape_, elements=money)


@settings(max_examples=200, deadline=None)
@given(shape.flatmap(lambda s: st.tuples(cents((s[1],)), cents(s))))
def test_allocate_numpy_equals_the_loops_on_integer_weights(args) -> None:
    total, weights = args
    total = np.minimum(total, weights.sum(axis=0))  # the precondition: no more than the weights
    np.testing.assert_array_equal(
        kernels.allocate_numpy(total, weights), kernels.allocate_loops(total, weights)
    )


@settings(max_examples=200, deadline=None)
@given(
    shape.flatmap(
        lambda s: st.tuples(
            cents((s[1],)),
            # weights are cents times shares: zero, or at least a fraction of a cent
            hnp.arrays(np.float64, s, elements=st.just(0.0) | st.floats(1e-3, 1e15)),
        )
    )
)
def test_allocate_numpy_equals_the_loops_on_float_weights(args) -> None:
    total, weights = args
    total = np.where(weights.sum(axis=0) > 0, total, 0)  # all-zero weights: nothing to give
    np.testing.assert_array_equal(
        kernels.allocate_numpy(total, weights), kernels.allocate_loops(total, weights)
    )


@settings(max_examples=200, deadline=None)
@given(
    st.tuples(st.integers(1, 5), st.integers(1, 6), st.integers(1, 3)).flatmap(
        lambda s: st.tuples(cents((s[1], s[2])), cents((s[0], s[2])))
    )
)
def test_split_pro_rata_numpy_equals_the_loops(args) -> None:
    pool, amounts = args
    amounts = np.minimum(amounts, pool.sum(axis=0) // len(amounts))  # no more than the pool holds
    parts_np, over_np = kernels.split_pro_rata_numpy(pool, amounts)
    parts_py, over_py = kernels.split_pro_rata_loops(pool, amounts)
    np.testing.assert_array_equal(parts_np, parts_py)
    assert over_np == over_py


@settings(max_examples=100, deadline=None)
@given(
    shape.flatmap(
        lambda s: st.tuples(
            cents(s), hnp.arrays(np.float64, s, elements=st.floats(0, 0.999, allow_subnormal=False))
        )
    )
)
def test_profit_and_cost_numpy_equals_the_loops(args) -> None:
    paid, margins = args
    np.testing.assert_array_equal(
        kernels.profit_and_cost_numpy(paid, margins), kernels.profit_and_cost_loops(paid, margins)
    )


def test_post_legs_and_replay_numpy_equal_the_loops() -> None:
    rng = np.random.default_rng(7)
    pool = rng.integers(0, 10**12, (6, 4, 3))
    parts = rng.integers(0, 10**9, (5, 4, 3))
    involved = np.array([0, 2, 3, 5], dtype=np.intp)
    flow = rng.integers(-1, 2, (4, 5))
    a, b = pool.copy(), pool.copy()
    kernels.post_numpy(a, involved, flow, parts)
    kernels.post_loops(b, involved, flow, parts)
    np.testing.assert_array_equal(a, b)
    # a pattern too large for a dense product (many clouds): scatter-adds, the same cents
    big_pool = rng.integers(0, 10**12, (3000, 2, 2))
    big_involved = np.arange(3000, dtype=np.intp)
    big_flow = np.zeros((3000, 4000), dtype=np.int64)
    for j in range(4000):
        payer, payee = rng.choice(3000, 2, replace=False)
        big_flow[payer, j], big_flow[payee, j] = -1, 1
    big_parts = rng.integers(0, 10**9, (4000, 2, 2))
    a, b = big_pool.copy(), big_pool.copy()
    kernels.post_numpy(a, big_involved, big_flow, big_parts)
    b[big_involved] += np.einsum("aj,jor->aor", big_flow, big_parts)
    np.testing.assert_array_equal(a, b)

    split = rng.integers(0, 10**9, (2 * 3 + 2, 4, 3))
    owned = np.array([0, 2], dtype=np.intp)
    np.testing.assert_array_equal(
        kernels.legs_cents_numpy(split, 3, owned), kernels.legs_cents_loops(split, 3, owned)
    )

    payer, payee = rng.integers(0, 6, 40), rng.integers(0, 6, 40)
    rec = rng.integers(0, 10**9, (40, 4, 3))
    np.testing.assert_array_equal(
        kernels.replay_ledger_numpy(pool, payer, payee, rec),
        kernels.replay_ledger_loops(pool, payer, payee, rec),
    )


@pytest.fixture
def restore_kernels():
    before = kernels._impl
    yield
    kernels.set_implementation(before)


@pytest.mark.parametrize("tracing", ["pro_rata", "fifo"])
def test_every_bundled_scenario_gives_the_same_cents_compiled_and_on_numpy(
    tracing, restore_kernels
) -> None:
    """Compiles the kernels once (a few seconds, then cached in the user's cache folder)."""
    results = {}
    for impl in ("numpy", "numba"):
        jit.use(impl)
        assert kernels.implementation() == impl
        results[impl] = [sim.run(sim.load_scenario(p, [f"tracing={tracing}"])) for p in SCENARIOS]
    for a, b in zip(results["numpy"], results["numba"], strict=True):
        np.testing.assert_array_equal(a.data.ledger.cents, b.data.ledger.cents)
        np.testing.assert_array_equal(a.data.balances, b.data.balances)
        assert a.metrics_dict() == b.metrics_dict()


def test_forcing_the_kernels_by_environment(monkeypatch, restore_kernels) -> None:
    monkeypatch.setenv("ROUNDTRIP_KERNELS", "numpy")
    assert jit.prepare(10**9) == "numpy"
    assert kernels.implementation() == "numpy"


def test_a_cold_cache_runs_on_numpy_at_once_and_warms_in_the_background(
    tmp_path, monkeypatch, restore_kernels
) -> None:
    monkeypatch.setenv("ROUNDTRIP_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("ROUNDTRIP_KERNELS", raising=False)
    monkeypatch.setattr(jit, "_warmup_started", False)
    started: list[list[str]] = []
    monkeypatch.setattr(jit.subprocess, "Popen", lambda cmd, **kw: started.append(cmd))
    kernels.set_implementation(kernels.NUMPY)
    assert not jit.is_warm()
    assert jit.prepare(10**6) == "numpy"
    assert started and started[0][1:] == ["-m", "sim.model.warmup"]
    assert (tmp_path / "numba" / "warming").is_file()  # a second process will not start another
    assert jit.prepare(10**6) == "numpy" and len(started) == 1


def test_no_writable_cache_means_numpy_and_no_warm_up(tmp_path, monkeypatch, restore_kernels):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("ROUNDTRIP_CACHE_DIR", str(blocker))
    monkeypatch.delenv("ROUNDTRIP_KERNELS", raising=False)
    monkeypatch.setattr(jit, "_warmup_started", False)
    kernels.set_implementation(kernels.NUMPY)
    assert jit.prepare(10**6) == "numpy"
    assert not jit.warm_up_in_background()


def test_a_warm_cache_loads_compiled_kernels_for_large_work_only(
    tmp_path, monkeypatch, restore_kernels
) -> None:
    monkeypatch.setenv("ROUNDTRIP_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("ROUNDTRIP_KERNELS", raising=False)
    monkeypatch.setattr(jit, "_numpy_step_runs", 0)
    monkeypatch.setattr(jit, "is_warm", lambda: True)
    kernels.set_implementation(kernels.NUMPY)
    assert jit.prepare(96) == "numpy"  # one monthly run: loading would cost more than it saves
    assert jit.prepare(jit.BATCH_STEP_RUNS) == "numba"
