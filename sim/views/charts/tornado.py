"""Which inputs matter, drawn: a tornado chart of a sensitivity table (sim/analysis/sensitivity.py).

One bar per input, the longest on top, spanning the metric with the input at its low value
and at its high value, the others at their base values; the line through the bars is the metric
at the base values. Inputs whose swung value is invalid are left out and counted in the
subtitle.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import ticker
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.analysis.metrics import MONEY
from sim.inputs.names import input_name
from sim.views.charts.style import (
    BASE_COLOURS,
    INK,
    MUTED,
    SLIDE_SIZE,
    agent_label,
    format_money,
    house_style,
    money_axis,
    new_figure,
)

LOW, HIGH = BASE_COLOURS[1], BASE_COLOURS[0]  # blue: the input lowered; orange: raised
MOST = 15  # bars drawn at most: past that they are too thin to read


def _value(v: float, unit: str) -> str:
    return f"{v:.1%}".replace(".0%", "%") if unit == "share" else format_money(v)


def bar_length(table: pd.DataFrame, base: float) -> np.ndarray:
    """How long each input's bar is drawn: from the lowest to the highest of the metric at its
    low value, at its high value and at the base (both halves may fall on one side); rows are
    drawn longest first."""
    lows = table["metric_low"].to_numpy(dtype=float)
    highs = table["metric_high"].to_numpy(dtype=float)
    return np.maximum(np.maximum(lows, highs), base) - np.minimum(np.minimum(lows, highs), base)


def tornado(table: pd.DataFrame, *, size: Sequence[float] = SLIDE_SIZE) -> Figure:
    """The tornado of ``sim.sensitivity(...)``'s table (either method: the bars are the
    one-at-a-time swings)."""
    a: dict[Any, Any] = table.attrs
    s = a["scenario"]
    money = a["metric"] in MONEY
    base = float(a["base_metric"])
    valid = table[table["note"] == ""]
    drawn = valid.iloc[np.argsort(-bar_length(valid, base), kind="stable")].head(MOST)
    left_out = int((table["note"] != "").sum())
    least = len(valid) - len(drawn)
    metric = a["metric"].replace("_", " ")
    who = agent_label(s, a["investor"])
    swing = f"{a['swing_fraction'] * 100:.4g}%"

    def shown(v: float) -> str:
        return format_money(v) if money else f"{v:.1%}"

    if len(drawn):
        top = drawn.iloc[0]
        lo, hi = sorted((float(top["metric_low"]), float(top["metric_high"])))
        title = (
            f"{input_name(s, top['input'])} moves {who}'s {metric} most: "
            f"{shown(lo)} to {shown(hi)} around {shown(base)}"
        )
    else:
        title = f"No input of {s.name} can be swung ±{swing}"
    subtitle = (
        f"{metric.capitalize()} of {who} with each input {swing} lower (blue) or higher "
        f"(orange), the others at their base values; the line is the base, {shown(base)}."
        + (f" {left_out} input(s) not drawn: the swung value is invalid." if left_out else "")
        + (f" Not drawn: the {least} input(s) that move it least." if least else "")
    )
    with house_style():
        fig, (ax,) = new_figure(SimpleNamespace(scenario=s), title, subtitle, size=size)
        n = len(drawn)
        y = np.arange(n)[::-1]
        for yi, (_, r) in zip(y, drawn.iterrows(), strict=True):
            sides = [(float(r["metric_low"]), LOW), (float(r["metric_high"]), HIGH)]
            # the longer bar first, so that both show when they fall on the same side
            for v, colour in sorted(sides, key=lambda vc: -abs(vc[0] - base)):
                ax.barh(yi, v - base, left=base, height=0.62, color=colour, zorder=2)
        ax.axvline(base, color=INK, linewidth=1.2, zorder=3)
        ax.set_yticks(y)
        ax.set_yticklabels(
            [
                f"{input_name(s, r['input'])}  {_value(r['low'], r['unit'])} – "
                f"{_value(r['high'], r['unit'])}"
                for _, r in drawn.iterrows()
            ]
        )
        ax.tick_params(axis="y", length=0)
        ax.grid(axis="y", visible=False)
        ax.grid(axis="x", visible=True)
        ax.set_ylim(-0.7, max(n, 1) - 0.3)
        extent = np.abs(drawn[["metric_low", "metric_high"]].to_numpy(dtype=float)).max(
            initial=abs(base)
        )
        if money:
            money_axis(ax, extent, axis="x")
        else:
            ax.xaxis.set_major_formatter(ticker.PercentFormatter(1.0))
        ax.set_xlabel(f"{metric} of {who}", color=MUTED)
        ax.legend(
            handles=[
                Patch(color=LOW, label=f"input {swing} lower"),
                Patch(color=HIGH, label=f"input {swing} higher"),
            ],
            loc="lower right",
        )
        # room on the left for the input names
        widest = max((len(t.get_text()) for t in ax.get_yticklabels()), default=10)
        left = min(0.55, (0.3 + widest * 0.095) / float(size[0]))
        ax.set_position(
            (left, *ax.get_position().bounds[1:2], 0.97 - left, ax.get_position().height)
        )
    return fig
