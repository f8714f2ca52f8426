"""Start-up as a user feels it: whole commands, as ratios against a bare Python start that imports
what any command needs (yaml, pydantic, click), timed in the same process (not a test).

1. ``roundtrip --help``: target at most 2x the baseline.
2. ``roundtrip validate`` of the $50B file: target at most 3x.
3. The first ``roundtrip run`` of the $50B file after a fresh install (an empty compiled-code
   cache): target at most 2 s. It runs on the numpy kernels at once; the compiled kernels are
   built by a background process, which this script waits for before the next measurement.
4. A ``roundtrip run`` once that cache is warm: target at most 1 s.

Python's own bytecode cache is left on (PYTHONDONTWRITEBYTECODE unset), as on a user's machine.
Run: python benchmarks/bench_startup.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "amazon_openai_50b.yaml"
BIN = Path(sys.executable).parent


def timed(cmd: list[str | Path], env: dict[str, str]) -> float:
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed:\n{proc.stderr}")
    return elapsed


def best(cmd: list[str | Path], env: dict[str, str], repeat: int) -> float:
    timed(cmd, env)  # untimed: writes Python's bytecode cache, warms the disk cache
    return min(timed(cmd, env) for _ in range(repeat))


def wait_warm(cache: Path, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not list((cache / "numba").glob("ready-*")):
        if time.monotonic() > deadline:
            raise SystemExit("the background warm-up of the compiled kernels did not finish")
        time.sleep(0.2)
    while (cache / "numba" / "warming").exists() and time.monotonic() < deadline:
        time.sleep(0.2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ROUNDTRIP_", "PYTHON"))}
    roundtrip = BIN / "roundtrip"
    work = Path(tempfile.mkdtemp(prefix="roundtrip-bench-"))
    try:
        base = best([sys.executable, "-c", "import yaml, pydantic, click"], env, args.repeat)
        help_ = best([roundtrip, "--help"], env, args.repeat)
        validate = best([roundtrip, "validate", SCENARIO], env, args.repeat)

        cold = []
        for i in range(args.repeat):
            cache = work / f"cache{i}"  # a fresh install: nothing compiled yet
            run_env = {**env, "ROUNDTRIP_CACHE_DIR": str(cache)}
            cold.append(timed([roundtrip, "run", SCENARIO, "--out", work / f"cold{i}"], run_env))
            wait_warm(cache)  # the background compile must not disturb the next measurement
        warm_env = {**env, "ROUNDTRIP_CACHE_DIR": str(work / "cache0")}
        warm = best([roundtrip, "run", SCENARIO, "--out", work / "warm"], warm_env, args.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"python -c 'import yaml, pydantic, click'   {base:6.3f} s  (baseline)")
    print(
        f"roundtrip --help                           {help_:6.3f} s  ratio {help_ / base:4.1f}"
        "  (target <= 2)"
    )
    print(
        f"roundtrip validate amazon_openai_50b.yaml  {validate:6.3f} s  ratio "
        f"{validate / base:4.1f}  (target <= 3)"
    )
    print(
        f"first roundtrip run after installing       {min(cold):6.3f} s  (target <= 2 s;"
        f" no compile waited for)"
    )
    print(f"roundtrip run, compiled cache warm         {warm:6.3f} s  (target <= 1 s)")


if __name__ == "__main__":
    main()
