"""Deals side by side, drawn: the table of ``sim.analysis.compare`` as grouped bars.

One group per deal (a scenario and an investor in it that owns a cloud its labs buy from): what
it invested, the revenue and the profit its investment caused at its own clouds (each run
against its twin without the investment), and beside them, hatched, the traced round trip (the
investor's own dollars that came back: a label on the money, not an effect). The figures are the
table's own; the source line names every file.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.views.charts.style import (
    BASE_COLOURS,
    MUTED,
    SLIDE_SIZE,
    format_money,
    house_style,
    money_axis,
    new_figure,
)

BARS = (  # metric, label, colour, hatched (traced)
    ("invested", "invested", "#B0B0B0", False),
    ("incremental_revenue", "revenue caused at its clouds", BASE_COLOURS[0], False),
    ("incremental_profit", "profit caused", BASE_COLOURS[1], False),
    ("round_trip", "round trip (traced, not an effect)", "#FFFFFF", True),
)


def deals(table: pd.DataFrame) -> list[tuple[str, str]]:
    """(scenario column, investor label) of every investor that invested and whose clouds the
    lab bought from (its relationship profit is positive), in the table's order."""
    inv = table.xs("investor", level="kind")
    out = []
    for column in table.columns:
        for label in dict.fromkeys(inv.index.get_level_values("agent")):
            invested = inv.loc[(label, "invested"), column]
            profit = inv.loc[(label, "relationship_profit"), column]
            if _number(invested) > 0 and _number(profit) > 0:
                out.append((str(column), str(label)))
    return out


def _number(v: Any) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if x != x else x


def compare_chart(table: pd.DataFrame, *, size: Sequence[float] = SLIDE_SIZE) -> Figure:
    """Grouped bars of ``sim.compare(...)``'s table: per deal, invested, caused and traced."""
    pairs = deals(table)
    inv = table.xs("investor", level="kind")
    values = np.array(
        [[_number(inv.loc[(label, m), col]) for m, _, _, _ in BARS] for col, label in pairs]
    ).reshape(len(pairs), len(BARS))
    if len(pairs):
        k = int(np.argmax(values[:, 1]))
        col, label = pairs[k]
        title = (
            f"{label}'s investment in {col} caused the most at its own clouds: "
            f"{format_money(values[k, 1])} of revenue, {format_money(values[k, 2])} of profit"
        )
    else:
        title = "No deal here has an investor whose own cloud the lab buys from"
    subtitle = (
        "Per deal: what the investor put in, the revenue and profit its investment caused at its "
        "own clouds (the run against its twin without the investment and any contract that came "
        "with it), and hatched, the traced "
        "round trip: its own dollars that came back, a label on the money, not an effect."
    )
    files = ", ".join(str(c) for c in table.columns)
    source = f"Source: roundtrip compare of {files}."
    with house_style():
        fig, (ax,) = new_figure(SimpleNamespace(scenario=None), title, subtitle, size=size,
                                source=source)  # fmt: skip
        width = 0.8 / len(BARS)
        x = np.arange(len(pairs))
        for j, (_, name, colour, hatched) in enumerate(BARS):
            ax.bar(
                x + (j - (len(BARS) - 1) / 2) * width,
                values[:, j],
                width=width * 0.92,
                color=colour,
                edgecolor=MUTED if hatched else colour,
                hatch="///" if hatched else None,
                label=name,
                zorder=2,
            )
        ax.set_xticks(x)
        ax.set_xticklabels([f"{label}\n{col}" for col, label in pairs])
        ax.tick_params(axis="x", length=0)
        ax.grid(axis="x", visible=False)
        money_axis(ax, float(values.max(initial=1.0)))
        ax.legend(loc="upper right")
    return fig
