"""The tornado chart (sim/views/charts/tornado.py) names each input as a person reads it
(sim.inputs.names.input_name), in its rows and in its title."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import sim
from sim.views.charts.tornado import tornado

ROOT = Path(__file__).resolve().parent.parent
FIFTY = sim.load_scenario(ROOT / "scenarios" / "amazon_openai_50b.yaml")
B = 1e9


def table() -> pd.DataFrame:
    """A sensitivity table as sim.sensitivity writes it, by hand: the margin moves the caused
    profit most ($20B to $40B around $30B), the deal's total less ($28B to $32B)."""
    t = pd.DataFrame(
        {
            "input": ["agents.aws.margin", "deals.4.total"],
            "low": [0.28, 80 * B],
            "high": [0.42, 120 * B],
            "unit": ["share", "amount"],
            "metric_low": [20 * B, 28 * B],
            "metric_high": [40 * B, 32 * B],
            "note": ["", ""],
        }
    )
    t.attrs.update(
        scenario=FIFTY,
        metric="incremental_profit",
        investor="amazon",
        base_metric=30 * B,
        swing_fraction=0.2,
    )
    return t


def test_the_tornado_names_its_rows_and_its_title_by_the_inputs_human_names() -> None:
    fig = tornado(table())
    [ax] = [a for a in fig.axes if a.get_yticklabels()]
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert rows == [
        "AWS margin  28% – 42%",
        "AWS expansion (aws-expansion): total  $80B – $120B",
    ]
    title = max(fig.texts, key=lambda t: t.get_fontsize()).get_text().replace("\n", " ")
    assert title == "AWS margin moves Amazon's incremental profit most: $20B to $40B around $30B"


def test_the_rows_are_in_the_order_of_their_bars_longest_on_top() -> None:
    """The table ranks by swing (high less low); a bar spans the base too. The margin at 28%
    and at 42% both raise the profit, to $39B and $40B around $30B: a swing of $1B, a bar of
    $10B ($30B to $40B). The deal's total: $28B to $32B, a swing and a bar of $4B. The margin's
    bar is the longer, so it is drawn on top, and the title names it."""
    t = table()
    t["metric_low"] = [39 * B, 28 * B]
    t["metric_high"] = [40 * B, 32 * B]
    t = t.iloc[[1, 0]]  # as sensitivity ranks them: by swing, the total first
    fig = tornado(t)
    [ax] = [a for a in fig.axes if a.get_yticklabels()]
    ticks = sorted(ax.get_yticklabels(), key=lambda label: -label.get_position()[1])
    assert [label.get_text().split("  ")[0] for label in ticks] == [
        "AWS margin",
        "AWS expansion (aws-expansion): total",
    ]
    # the bars, top to bottom, are $10B and $4B long (each side drawn from the base)
    spans: dict[float, list[float]] = {}
    for bar in ax.patches:
        x0, x1 = sorted((bar.get_x(), bar.get_x() + bar.get_width()))
        spans.setdefault(round(bar.get_y(), 3), []).extend([x0, x1])
    lengths = [max(v) - min(v) for _, v in sorted(spans.items(), reverse=True)]
    assert lengths == [10 * B, 4 * B]
    assert fig.texts[0].get_text().replace("\n", " ").startswith("AWS margin moves")
