"""By which path each investor's money comes back: the circuit's second hops, drawn.

Per investor that owns a seller and invested: two stacked bars. The first is what the investment
caused at the sellers it owns (the run against its twin), split by path: a lab paying its own
cloud, a lab buying from its own vendor, or another seller passing a lab's money on (a lab pays
Oracle, Oracle buys Nvidia systems). The second, hatched, is the traced round trip by the same
paths (its own dollars that came back: a label on the money, not an effect), with the credits
consumed on top in a lighter hatch (compute paid in its credits: in kind, not cash). The figures
are the metrics' own (docs/metrics.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.analysis.metrics import PATHS
from sim.analysis.result import RunLike
from sim.views.charts.style import (
    BASE_COLOURS,
    MUTED,
    SLIDE_SIZE,
    agent_label,
    format_money,
    house_style,
    money_axis,
    new_figure,
)

PATH_NAMES = {
    "own_cloud": "a lab pays its cloud",
    "own_vendor": "a lab buys from its vendor",
    "via_others": "via other sellers (second hop)",
}
COLOURS = dict(zip(PATHS, BASE_COLOURS[:3], strict=True))


def paths_chart(run: RunLike, *, size: Sequence[float] = SLIDE_SIZE) -> Figure:
    """Caused and traced, by path, per investor (see the module's docstring)."""
    s, m = run.scenario, run.metrics_dict()["investors"]
    who = [i for i, v in m.items() if s.investors[i].owns and v["invested"]]
    caused = np.array([[m[i][f"incremental_revenue_{p}"] or 0.0 for p in PATHS] for i in who])
    traced = np.array([[m[i][f"round_trip_{p}"] or 0.0 for p in PATHS] for i in who])
    credits = np.array([m[i]["credits_consumed"] or 0.0 for i in who])
    caused, traced = caused.reshape(len(who), 3), traced.reshape(len(who), 3)
    second = traced[:, 2].sum()
    if len(who) and traced.sum() > 0:
        title = (
            f"{format_money(second)} of the investors' own dollars came back through a second hop"
            f", of {format_money(traced.sum())} traced back in all"
        )
    else:
        title = "No investor's own dollars came back to a seller it owns"
    subtitle = (
        "Per investor: what its investment caused at the sellers it owns (this run against its "
        "twin without it), and hatched, its own dollars that came back (traced, not an effect), "
        "each by path; credits consumed on top, in kind."
    )
    with house_style():
        fig, (ax,) = new_figure(run, title, subtitle, size=size)
        x = np.arange(len(who))
        width = 0.36
        for bars, offset, hatched in ((caused, -width / 2, False), (traced, width / 2, True)):
            bottom = np.zeros(len(who))
            for j, p in enumerate(PATHS):
                values = np.maximum(bars[:, j], 0.0)
                ax.bar(
                    x + offset,
                    values,
                    width * 0.92,
                    bottom=bottom,
                    color="#FFFFFF" if hatched else COLOURS[p],
                    edgecolor=COLOURS[p],
                    hatch="///" if hatched else None,
                    label=None if hatched else PATH_NAMES[p],
                    zorder=2,
                )
                bottom += values
            if hatched and credits.any():
                ax.bar(x + offset, credits, width * 0.92, bottom=bottom, color="#FFFFFF",
                       edgecolor=MUTED, hatch="..", label="credits consumed (in kind)",
                       zorder=2)  # fmt: skip
        handles, _ = ax.get_legend_handles_labels()
        traced_key = Patch(facecolor="#FFFFFF", edgecolor=MUTED, hatch="///", label="traced")
        ax.set_xlim(-0.6, max(len(who), 3) - 0.4)  # bars of one width, room for the legend
        ax.set_xticks(x)
        ax.set_xticklabels([f"{agent_label(s, i)}\ncaused | traced" for i in who])
        ax.tick_params(axis="x", length=0)
        ax.grid(axis="x", visible=False)
        top = max(float(np.maximum(caused, 0).sum(axis=1).max(initial=0)),
                  float((traced.sum(axis=1) + credits).max(initial=0)), 1.0)  # fmt: skip
        money_axis(ax, top)
        ax.legend(handles=[*handles, traced_key], loc="upper right")
    return fig
