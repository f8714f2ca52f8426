"""Deals side by side, drawn: the table of ``sim.analysis.compare`` as grouped bars.

Bars grouped by scenario, each group named by its scenario's name, and in it a cluster per
investor that owns a cloud its labs buy from: what it invested, the revenue and the profit its
investment caused at its own clouds (each run against its twin without the investment), and
beside them, hatched, the traced round trip (the investor's own dollars that came back: a label
on the money, not an effect). The figures are the table's own; the source line names every file.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.transforms import ScaledTranslation, blended_transform_factory

from sim.views.charts.labels import possessive
from sim.views.charts.style import (
    BASE_COLOURS,
    INK,
    MUTED,
    SLIDE_SIZE,
    SOURCE_BAND,
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


def scenario_names(table: pd.DataFrame) -> dict[str, str]:
    """Each column's scenario as a reader knows it: its name (``sim.compare`` keeps them in
    ``attrs["names"]``), else the column itself."""
    names = table.attrs.get("names") or {}
    return {str(c): str(names.get(c, c)) for c in table.columns}


def compare_chart(table: pd.DataFrame, *, size: Sequence[float] = SLIDE_SIZE) -> Figure:
    """Grouped bars of ``sim.compare(...)``'s table: per scenario, per investor in it whose
    cloud the lab buys from, what it invested, caused and got back (traced). Each group is named
    by its scenario's name under the investors' names; scenarios with no such investor are named
    in the subtitle."""
    pairs = deals(table)
    names = scenario_names(table)
    inv = table.xs("investor", level="kind")
    values = np.array(
        [[_number(inv.loc[(label, m), col]) for m, _, _, _ in BARS] for col, label in pairs]
    ).reshape(len(pairs), len(BARS))
    if len(pairs):
        k = int(np.argmax(values[:, 1]))
        col, label = pairs[k]
        title = (
            f"{possessive(label)} investment causes the most at its own clouds, in "
            f"\u201c{names[col]}\u201d: {format_money(values[k, 1])} of revenue, "
            f"{format_money(values[k, 2])} of profit"
        )
    else:
        title = "No deal here has an investor whose own cloud the lab buys from"
    subtitle = (
        "Per scenario and investor: what it put in, the revenue and profit its investment caused "
        "at its own clouds (the run against its twin without the investment and any contract "
        "that came with it), and hatched, the traced round trip: its own dollars that came back, "
        "a label on the money, not an effect."
    )
    drawn = list(dict.fromkeys(col for col, _ in pairs))
    absent = [names[str(c)] for c in table.columns if str(c) not in drawn]
    if absent:
        subtitle += f" No investor owning a cloud its lab buys from in: {'; '.join(absent)}."
    files = table.attrs.get("sources") or {}
    shown = ", ".join(str(files.get(c) or c) for c in table.columns)
    # on as many lines as it takes: every file is named
    source = textwrap.fill(f"Source: roundtrip compare of {shown}.", _chars(size[0] - 0.6, 10))
    with house_style():
        fig, (ax,) = new_figure(SimpleNamespace(scenario=None), title, subtitle, size=size,
                                source=source)  # fmt: skip
        x = _positions(pairs)
        width = 0.8 / len(BARS)
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
        ax.set_xticklabels([label for _, label in pairs])
        ax.tick_params(axis="x", length=0)
        ax.grid(axis="x", visible=False)
        ax.set_xlim(-0.6, (x[-1] if len(x) else 0) + 0.6)
        money_axis(ax, float(np.abs(values).max(initial=1.0)))
        ax.axhline(0, color=INK, linewidth=0.8, zorder=1)
        ax.legend(loc="best")
        _name_groups(fig, ax, pairs, x, names)
    return fig


def _chars(width_in: float, size_pt: float) -> int:
    """Characters of a line of text ``width_in`` wide at ``size_pt`` (an average character
    about 0.58 of the size wide)."""
    return max(8, int(width_in * 72 / (size_pt * 0.58)))


GROUP_GAP = 0.6  # between scenarios, in bar groups


def _positions(pairs: list[tuple[str, str]]) -> np.ndarray:
    """x of each (scenario, investor) group: one apart, ``GROUP_GAP`` more between scenarios."""
    out, x, last = [], 0.0, None
    for col, _ in pairs:
        if last is not None:
            x += 1.0 + (GROUP_GAP if col != last else 0.0)
        out.append(x)
        last = col
    return np.array(out, dtype=float)


NAME_SIZE = 10.5  # points: a scenario's name under its groups


def _name_groups(
    fig: Figure, ax: Axes, pairs: list[tuple[str, str]], x: np.ndarray, names: dict[str, str]
) -> None:
    """Each scenario's name under its investors' names, wrapped to the width of its groups
    (never cut), with a rule above it; the axes give up as much room at the bottom as the
    longest name needs."""
    if not pairs:
        return
    lo, hi = ax.get_xlim()
    axes_in = ax.get_position().width * fig.get_figwidth()
    per_unit_pt = axes_in * 72 / (hi - lo)
    spans: dict[str, list[float]] = {}
    for (col, _), xi in zip(pairs, x, strict=True):
        spans.setdefault(col, []).append(float(xi))
    texts = {}
    for col, xs in spans.items():
        width_pt = (max(xs) - min(xs) + 1.0 + GROUP_GAP * 0.6) * per_unit_pt
        chars = _chars(width_pt / 72, NAME_SIZE)
        texts[col] = textwrap.fill(names[col], chars, break_on_hyphens=False)
    lines = max(t.count("\n") + 1 for t in texts.values())
    # below the tick labels (one line of 12 points): the names, then the source line's band
    need_in = (12 * 1.6 + lines * NAME_SIZE * 1.25 + 10) / 72
    source_lines = fig.texts[-1].get_text().count("\n")  # beyond the band's one
    pos = ax.get_position()
    bottom = (SOURCE_BAND + 0.1 + need_in + source_lines * 10 * 1.25 / 72) / fig.get_figheight()
    ax.set_position((pos.x0, bottom, pos.width, pos.y1 - bottom))
    rule = ScaledTranslation(0, -(12 * 1.6 + 4) / 72, fig.dpi_scale_trans)
    below = ScaledTranslation(0, -(12 * 1.6 + 7) / 72, fig.dpi_scale_trans)
    for col, xs in spans.items():
        left, right = min(xs) - 0.45, max(xs) + 0.45
        under = blended_transform_factory(ax.transData, ax.transAxes)
        ax.plot([left, right], [0, 0], color=MUTED, linewidth=0.8, transform=under + rule,
                clip_on=False)  # fmt: skip
        ax.text((left + right) / 2, 0, texts[col], transform=under + below, ha="center", va="top",
                fontsize=NAME_SIZE, color=INK, linespacing=1.15)  # fmt: skip
