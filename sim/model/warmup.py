"""Warming the compiled kernels' cache: ``python -m sim.model.warmup``, started in the
background by sim/model/jit.py while the cache is cold.

It runs a small scenario under both tracing rules, alone and in a batch, so that every kernel is
compiled for the argument types the engine passes, then marks the cache warm. (Apart from jit.py,
which the engine imports, so that running the engine here makes no import cycle.)
"""

from __future__ import annotations

import contextlib
import sys

from sim.inputs.loader import parse_scenario
from sim.model import jit
from sim.model.engine import simulate
from sim.model.schedule import build_plan
from sim.model.twin import plan_twins

WARM_UP_SCENARIO = """
name: warm-up
start: 2026-01-01
horizon: 6mo
agents:
  inv: {kind: investor, owns: [own]}
  lab: {kind: lab, cash: 1B, revenue: {annual: 6B},
        spending: {compute: {annual: 24B, providers: {own: 40%, other: 30%}}, other: {annual: 1B}}}
  own: {kind: cloud, margin: 30%}
  other: {kind: cloud, margin: 20%, payment_terms: 1mo}
deals:
  - {kind: investment, investor: inv, lab: lab, tranches: [{at: 2026-01-01, amount: 3B}]}
  - {kind: compute_contract, lab: lab, cloud: own, total: 6B, over: 6mo}
"""


def compile_all() -> None:
    """Compile every kernel into the cache, and mark the cache warm."""
    jit.use("numba")
    for tracing in ("pro_rata", "fifo"):
        s = parse_scenario(WARM_UP_SCENARIO, "<warm-up>", [f"tracing={tracing}"])
        for batch in ([s], [s, s]):  # alone and in a batch, with their twins
            twins = plan_twins(batch)
            plan = build_plan(twins.expand(batch))
            twins.drop(plan)
            simulate(plan)
    jit.mark_warm()


def main() -> int:
    """Warm the cache; exit 0 when the kernels are compiled."""
    lock = jit.cache_dir() / "warming"
    try:
        compile_all()
    finally:
        with contextlib.suppress(OSError):
            lock.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
