"""Parse once, vary many: 1,000 scenarios from the $50B file, derived from one Template versus
1,000 ``load_scenario(path, overrides)`` calls that read and parse the YAML each time (not a test).

Run: python benchmarks/bench_vary.py [--n 1000]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import sim

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "amazon_openai_50b.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1000)
    n = parser.parse_args().n
    margins = [{"agents.aws.margin": f"{k % 90}%"} for k in range(n)]

    t0 = time.perf_counter()
    loaded = [sim.load_scenario(SCENARIO, m) for m in margins]
    t_load = time.perf_counter() - t0

    t0 = time.perf_counter()
    template = sim.load_template(SCENARIO)
    derived = [template.derive(m) for m in margins]
    t_derive = time.perf_counter() - t0

    assert derived == loaded
    print(f"{n:,} scenarios from {SCENARIO.name}")
    print(f"  load_scenario each time: {t_load:7.2f} s ({t_load / n * 1e3:.2f} ms each)")
    print(f"  one template, derive:    {t_derive:7.2f} s ({t_derive / n * 1e3:.2f} ms each)")
    print(f"  ratio load/derive: {t_load / t_derive:.1f}x")


if __name__ == "__main__":
    main()
