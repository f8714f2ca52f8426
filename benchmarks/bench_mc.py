"""Monte Carlo speed, in process through the API (not a test).

10,000 draws of the one-investor $50B file (monthly, 8 years; one twin each, so 20,000 engine
runs), warm (compiled kernels loaded). Target (issue 8): all 10,000 in under 1 s, then 0.3 s.

1. Building the scenarios (``sim.draw``), timed on its own: it is not the engine's work.
2. ``sim.run_batch(scenarios, keep_balances=False, record="flows")`` (the recorder sweeps and
   Monte Carlo use) on chunks of 1,000, 2,000, 5,000 and 10,000 runs (as many chunks as make
   10,000), best of a few: runs/s, and the time for 10,000 runs at that chunk size against the
   1 s target; then the full ledger recorder at the best chunk size, for comparison.
3. The same 10,000 runs against a bare SimPy loop of 100,000 timeouts, as bench_engine.py.
4. The whole ``roundtrip mc`` command for those draws, start-up, drawing, farming, the
   Parquet files and the printed percentiles included, in a fresh process in an empty folder
   (best of ``--repeat``), against the 5 s target and against the same bare loop.

Run: python benchmarks/bench_mc.py [--runs 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import simpy

import sim
from sim.model import jit

SCENARIO = (
    Path(__file__).resolve().parent.parent / "tests" / "data" / "amazon_openai_50b_first.yaml"
)
DRAWS = ["agents.aws.margin~uniform(25%,45%)", "agents.openai.revenue.growth~normal(50%,15%)"]
TARGET_SECONDS = 1.0  # for 10,000 runs; then 0.3
COMMAND_TARGET_SECONDS = 5.0  # the whole roundtrip mc command for 10,000 runs
CHUNKS = (1_000, 2_000, 5_000, 10_000)


def bare_simpy_loop(n: int = 100_000) -> float:
    """Seconds for a bare SimPy loop of ``n`` timeouts (the baseline of bench_engine.py)."""
    env = simpy.Environment()

    def tick(env: simpy.Environment):  # type: ignore[no-untyped-def]
        for _ in range(n):
            yield env.timeout(1)

    t = time.perf_counter()
    env.process(tick(env))
    env.run()
    return time.perf_counter() - t


def run_in_chunks(scenarios: list[sim.Scenario], chunk: int, record: str = "flows") -> float:
    """Seconds to run ``scenarios`` as batches of ``chunk`` runs."""
    t = time.perf_counter()
    for i in range(0, len(scenarios), chunk):
        sim.run_batch(scenarios[i : i + chunk], keep_balances=False, record=record)
    return time.perf_counter() - t


def whole_command(runs: int, chunk: int) -> float:
    """Seconds for ``roundtrip mc`` of ``runs`` draws in a fresh process and an empty folder."""
    vary = [a for d in DRAWS for a in ("--vary", d)]
    argv = [sys.executable, "-m", "sim", "mc", str(SCENARIO), "--runs", str(runs), "--seed", "1"]
    with tempfile.TemporaryDirectory(prefix="bench-mc-") as tmp:
        t = time.perf_counter()
        subprocess.run(
            [*argv, "--chunk", str(chunk), *vary], cwd=tmp, check=True, capture_output=True
        )
        return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10_000, help="Monte Carlo draws")
    ap.add_argument("--repeat", type=int, default=3, help="timings per chunk size (best kept)")
    args = ap.parse_args()

    t = time.perf_counter()
    template = sim.load_template(SCENARIO)
    scenarios = [s for _, s in sim.draw(template, args.runs, seed=1, specs=DRAWS)]
    t_build = time.perf_counter() - t
    print(f"building {args.runs:,} scenarios (sim.draw)   {t_build:8.2f} s  (not counted below)")

    jit.use("numba")  # warm: the compiled kernels are loaded before anything is timed
    sim.run_batch(scenarios[:1_000], keep_balances=False, record="flows")

    base = min(bare_simpy_loop() for _ in range(5))
    print(f"bare SimPy loop, 100,000 timeouts     {base * 1e3:8.1f} ms  (baseline)")
    best_total, best_chunk = float("inf"), CHUNKS[0]
    for chunk in (c for c in CHUNKS if c <= args.runs):
        elapsed = min(run_in_chunks(scenarios, chunk) for _ in range(args.repeat))
        per_10k = elapsed * 10_000 / args.runs
        if elapsed < best_total:
            best_total, best_chunk = elapsed, chunk
        print(
            f"chunks of {chunk:>6,}: {args.runs / elapsed:9,.0f} runs/s   "
            f"10,000 runs {per_10k:6.2f} s  ratio to the 1 s target {per_10k / TARGET_SECONDS:5.2f}"
        )
    ledger = min(run_in_chunks(scenarios, best_chunk, "ledger") for _ in range(args.repeat))
    print(
        f"the ledger recorder, chunks of {best_chunk:,}: {args.runs / ledger:9,.0f} runs/s   "
        f"flows / ledger time {best_total / ledger:5.2f}"
    )
    print(
        f"{args.runs:,} runs, best chunking, against the bare SimPy loop: "
        f"ratio {best_total / base:.1f}"
    )
    from sim.runs.farm import CHUNK_RUNS

    command = min(whole_command(args.runs, CHUNK_RUNS) for _ in range(args.repeat))
    per_10k = command * 10_000 / args.runs
    print(
        f"roundtrip mc --runs {args.runs:,} (chunks of {CHUNK_RUNS:,}), whole command: "
        f"{command:6.2f} s  ratio to the 5 s target {per_10k / COMMAND_TARGET_SECONDS:5.2f}  "
        f"against the bare loop {command / base:.0f}"
    )


if __name__ == "__main__":
    main()
