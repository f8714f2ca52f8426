"""How long ``roundtrip explore`` takes to build a page of 3,125 runs (five inputs at five values
each) of the $50B file, and how large the page is. Prints; not a test (docs/page.md, "Sizes").

    python benchmarks/bench_page.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from sim.views.page import build_page

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "amazon_openai_50b.yaml"
VARY = [
    "agents.openai.spending.compute.providers.aws=10%,20%,30%,40%,50%",
    "deals.0.amount=10B,30B,50B,70B,90B",
    "agents.aws.margin=15%,25%,35%,45%,55%",
    "agents.openai.revenue.growth=10%,30%,50%,70%,90%",
    "discount_rate=4%,6%,8%,10%,12%",
]
LIMIT_SECONDS, LIMIT_BYTES = 60.0, 10 * 10**6  # the issue's: under a minute, under 10 MB


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "page.html"
        start = time.perf_counter()
        page = build_page(SCENARIO, out, VARY)
        seconds = time.perf_counter() - start
        size = out.stat().st_size
    print(f"{page.runs:,} runs ({page.errors} with an error) of {SCENARIO.name}")
    print(f"build: {seconds:.1f} s ({seconds / LIMIT_SECONDS:.2f} of the minute allowed)")
    print(f"page:  {size / 10**6:.2f} MB ({size / LIMIT_BYTES:.2f} of the 10 MB allowed)")


if __name__ == "__main__":
    main()
