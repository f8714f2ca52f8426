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
