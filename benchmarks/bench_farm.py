"""Farming runs out, as ratios (not a test): runs per second in this process against a Dask
LocalCluster of 1 and of 2 single-threaded worker processes, each farm writing its Parquet file.
Cluster start-up is excluded: the cluster is started first and farm is given its address.

Run: python benchmarks/bench_farm.py [--runs 3000] [--chunk 200]
"""

from __future__ import annotations

import argparse
import os
import pickle
import tempfile
import time
from pathlib import Path

import pandas as pd

import sim
from sim import farm

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "amazon_openai_50b.yaml"
DISTINCT = 20  # scenarios loaded (~40 ms each), cycled over the runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3000)
    parser.add_argument("--chunk", type=int, default=farm.CHUNK_RUNS)
    args = parser.parse_args()
    from distributed import LocalCluster

    inputs = [{"agents.aws.margin": f"{20 + k}%"} for k in range(DISTINCT)]
    scenarios = [sim.load_scenario(SCENARIO, i) for i in inputs]
    jobs = [(k, inputs[k % DISTINCT], scenarios[k % DISTINCT]) for k in range(args.runs)]
    t = time.perf_counter()
    pickle.loads(pickle.dumps(scenarios))
    send_ms = (time.perf_counter() - t) / DISTINCT * 1e3
    print(f"{args.runs} runs of {SCENARIO.name}, chunks of {args.chunk}, on {os.cpu_count()} CPUs")
    # other work on the machine takes cores from the workers: read the ratios beside this
    print(f"  load average before: {os.getloadavg()[0]:.2f}")
    print(f"  pickling a scenario there and back: {send_ms:.2f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        farm.farm(jobs[: args.chunk], Path(tmp) / "warm.parquet", chunk_runs=args.chunk)
        timings: dict[str, float] = {}
        t = time.perf_counter()
        farm.farm(jobs, Path(tmp) / "local.parquet", chunk_runs=args.chunk)
        timings["in-process"] = time.perf_counter() - t
        expected = farm.read(Path(tmp) / "local.parquet")
        for n in (1, 2):
            with LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster:
                out = Path(tmp) / f"dask{n}.parquet"
                # a first chunk on every worker, so that imports are not timed
                farm.farm(jobs[: n * args.chunk], out, backend=cluster.scheduler_address)
                t = time.perf_counter()
                farm.farm(jobs, out, backend=cluster.scheduler_address, chunk_runs=args.chunk)
                timings[f"{n} worker(s)"] = time.perf_counter() - t
            got = farm.read(out).sort_values("run_id", ignore_index=True)
            pd.testing.assert_frame_equal(got, expected)  # the same rows, run by run
    print(f"  load average after: {os.getloadavg()[0]:.2f}")
    for name, seconds in timings.items():
        print(f"  {name:<12} {args.runs / seconds:8.0f} runs/s")
    base = timings["in-process"]
    print(f"  1 worker / in-process:  {base / timings['1 worker(s)']:.2f}x")
    print(f"  2 workers / in-process: {base / timings['2 worker(s)']:.2f}x")
    print(f"  2 workers / 1 worker:   {timings['1 worker(s)'] / timings['2 worker(s)']:.2f}x")


if __name__ == "__main__":
    main()
