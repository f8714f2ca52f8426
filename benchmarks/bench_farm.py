"""Farming Monte Carlo runs out, as ratios (not a test): runs per second in this process
against a Dask LocalCluster of 1 and of 2 single-threaded worker processes, each farm writing
its Parquet files (rows and series), and the peak memory of every process.

The job is the issue's: draws of the one-investor $50B file (tests/data; monthly, 8 years, one
twin each), as ``roundtrip mc`` farms them: the values are drawn here and each task carries the
template once and a few values a run (``sim.ranges.vary.Point``); the worker makes the scenarios and
runs them. Cluster start-up and compiling are excluded: the cluster is started first, and a
first chunk on every worker loads the compiled kernels before anything is timed.

Targets (issue 8): 100,000 runs on 2 workers in under 30 s, every process under 1 GB at its
peak; 2 workers at least 1.7 times as fast as 1.

Run: python benchmarks/bench_farm.py [--runs 100000] [--chunk 1000] [--skip-one]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import pandas as pd

import sim
from sim.model import jit
from sim.runs import farm

SCENARIO = (
    Path(__file__).resolve().parent.parent / "tests" / "data" / "amazon_openai_50b_first.yaml"
)
DRAWS = ["agents.aws.margin~uniform(25%,45%)", "agents.openai.revenue.growth~normal(50%,15%)"]
TARGET_SECONDS = 30.0  # 100,000 runs on 2 workers
TARGET_PEAK = 2**30  # bytes, every process
MiB = 2**20


def peak_rss() -> int:
    """This process's peak resident memory, in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def jobs_of(n: int) -> list[farm.Job]:
    template = sim.load_template(SCENARIO)
    points = sim.ranges.vary.draw_points(template, n, seed=1, specs=DRAWS)
    return [(k, inputs, p) for k, (inputs, p) in enumerate(points)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=farm.CHUNK_RUNS)
    parser.add_argument("--skip-one", action="store_true", help="no 1-worker cluster")
    parser.add_argument("--check", type=int, default=2000, help="runs compared in-process")
    args = parser.parse_args()
    from distributed import Client

    t = time.perf_counter()
    jobs = jobs_of(args.runs)
    print(f"{args.runs:,} runs of {SCENARIO.name}, chunks of {args.chunk:,}, {os.cpu_count()} CPUs")
    print(f"  drawing the values here: {time.perf_counter() - t:.2f} s (timed apart)")
    # other work on the machine takes cores from the workers: read the ratios beside this
    print(f"  load average before: {os.getloadavg()[0]:.2f}")
    jit.use("numba")
    timings: dict[str, float] = {}
    peaks: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        check = jobs[: args.check]
        farm.farm(check[: args.chunk], Path(tmp) / "warm.parquet", chunk_runs=args.chunk)
        t = time.perf_counter()
        farm.farm(check, Path(tmp) / "local.parquet", chunk_runs=args.chunk)
        timings["in-process"] = (time.perf_counter() - t) * args.runs / len(check)
        expected = farm.read(Path(tmp) / "local.parquet")
        for n in (1, 2):
            if n == 1 and args.skip_one:
                continue
            with farm.local_cluster(n) as cluster, Client(cluster) as client:
                out = Path(tmp) / f"dask{n}.parquet"
                # a first chunk on every worker, so that imports and kernels are not timed
                farm.farm(jobs[: n * args.chunk], out, backend=cluster.scheduler_address,
                          chunk_runs=args.chunk)  # fmt: skip
                t = time.perf_counter()
                farm.farm(jobs, out, backend=cluster.scheduler_address, chunk_runs=args.chunk)
                timings[f"{n} worker(s)"] = time.perf_counter() - t
                for w, rss in client.run(peak_rss).items():
                    peaks[f"{n}-worker cluster: worker {w.rsplit(':', 1)[-1]}"] = rss
                got = farm.read(out).sort_values("run_id", ignore_index=True)
            pd.testing.assert_frame_equal(got.iloc[: len(check)], expected)  # run by run
    # the LocalCluster's scheduler runs in this process
    peaks["this process (drawing, scheduling, writing)"] = peak_rss()
    print(f"  load average after: {os.getloadavg()[0]:.2f}")
    for name, seconds in timings.items():
        note = " (from the first runs)" if name == "in-process" else ""
        print(f"  {name:<12} {args.runs / seconds:8,.0f} runs/s  {seconds:7.2f} s{note}")
    base = timings["in-process"]
    two = timings["2 worker(s)"]
    print(f"  2 workers, {args.runs:,} runs: {two:.1f} s, ratio to the 30 s target "
          f"{two * 100_000 / args.runs / TARGET_SECONDS:.2f}")  # fmt: skip
    if "1 worker(s)" in timings:
        one = timings["1 worker(s)"]
        print(f"  1 worker / in-process:  {base / one:.2f}x")
        print(f"  2 workers / 1 worker:   {one / two:.2f}x  (target 1.7)")
    print(f"  2 workers / in-process: {base / two:.2f}x")
    for name, rss in peaks.items():
        print(f"  peak memory, {name:<34} {rss / MiB:7,.0f} MiB  ratio to 1 GiB "
              f"{rss / TARGET_PEAK:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
