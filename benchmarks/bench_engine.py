"""Engine speed, as ratios against baselines run in the same process (not a test).

1. One run of the $50B scenario (monthly) against a bare SimPy loop of 100,000 timeouts.
   Target: at most 0.1.
2. The same scenario on a daily grid (step: 1d), against the same bare loop.
3. A batch of 1,000 runs against the same 1,000 runs one by one, checking that every run's
   metrics are identical either way.

Run: python benchmarks/bench_engine.py [--runs 1000]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import simpy

import sim
from sim.model import jit

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "amazon_openai_50b.yaml"


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """Fastest of ``repeat`` timings, in seconds (least disturbed by the rest of the machine)."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def bare_simpy_loop(n: int = 100_000) -> None:
    env = simpy.Environment()

    def tick(env: simpy.Environment):  # type: ignore[no-untyped-def]
        for _ in range(n):
            yield env.timeout(1)

    env.process(tick(env))
    env.run()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000, help="runs in the batch comparison")
    args = ap.parse_args()

    monthly = sim.load_scenario(SCENARIO)
    daily = sim.load_scenario(SCENARIO, ["step=1d"])
    base = best_of(bare_simpy_loop, 5)
    print(f"bare SimPy loop, 100,000 timeouts      {base * 1e3:9.2f} ms  (baseline)")
    # the same cents either way (tests/test_kernels.py); numba once its cache is warm and the
    # work repays loading it, numpy on a cold cache and for a single command-line run
    for kernels in ("numba", "numpy"):
        jit.use(kernels)
        sim.run(monthly)  # warm up imports and caches
        one = best_of(lambda: sim.run(monthly), 20)
        day = best_of(lambda: sim.run(daily), 3)
        target = "  (target <= 0.1)" if kernels == "numba" else ""
        print(
            f"one run, monthly (96 steps), {kernels:5}   {one * 1e3:9.2f} ms  "
            f"ratio {one / base:.3f}{target}"
        )
        print(
            f"one run, daily (2,922 steps), {kernels:5}  {day * 1e3:9.2f} ms  "
            f"ratio {day / base:.3f}"
        )
    jit.use("numba")

    # a batch of runs differing in the share bought from AWS, AWS's margin and the second
    # tranche's date and size; the same runs one by one
    rng = np.random.default_rng(20260301)
    scenarios = []
    for _ in range(args.runs):
        share = rng.integers(5, 61)
        scenarios.append(
            sim.load_scenario(
                SCENARIO,
                {
                    "agents.openai.spending.compute.providers.aws": f"{share}%",
                    "agents.openai.spending.compute.providers.azure": f"{70 - share}%",
                    "agents.aws.margin": f"{rng.integers(20, 45)}%",
                    "deals.0.tranches.1.amount": f"{rng.integers(20, 50)}B",
                    "deals.0.tranches.1.at": f"2027-{rng.integers(1, 13):02d}-01",
                },
            )
        )
    t = time.perf_counter()
    batch = sim.run_batch(scenarios)
    t_batch = time.perf_counter() - t
    t = time.perf_counter()
    singles = [sim.run(s, keep_balances=False) for s in scenarios]
    t_single = time.perf_counter() - t
    batch_metrics = batch.metrics.sort_index()
    single_metrics = pd.concat(
        [r.metrics for r in singles], keys=range(len(singles)), names=["run", "investor"]
    ).sort_index()
    pd.testing.assert_frame_equal(batch_metrics, single_metrics, check_dtype=False)
    print(f"{args.runs:,} runs one by one                 {t_single * 1e3:9.1f} ms")
    print(
        f"{args.runs:,} runs as one batch               {t_batch * 1e3:9.1f} ms  "
        f"ratio {t_batch / t_single:.3f}  ({args.runs / t_batch:,.0f} runs/s)"
    )
    print("batch and single runs give identical metrics, run by run: yes")


if __name__ == "__main__":
    main()
