"""What the investment caused, drawn: the run against its counterfactual twin.

``run_vs_twin`` sets, per investor, its clouds' cumulative revenue from the labs it invested in
beside the same revenue in the twin without its investment (sim/model/twin.py): the gap between the
two, shaded, is what the investment caused (``incremental_revenue``). Beside it, on its own scale,
the same gap and the traced round trip: how many of the investor's own dollars came back, which is
a label on the money and not an effect. The numbers come from
``sim.views.charts.series.caused_flows``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import numpy.typing as npt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.analysis.result import RunLike
from sim.views.charts.labels import (
    assumption_note,
    caused_by,
    clouds_of,
    money_text,
    name_of,
    names_of,
    possessive,
    span,
    tracing_words,
    twin_note,
)
from sim.views.charts.layout import (
    LABEL_SIZE,
    Label,
    fitted_money_axis,
    horizon_axis,
    investor_pairs,
    panel_title,
    shade,
    through_payments,
)
from sim.views.charts.series import caused_flows, investor_flows, investor_labs
from sim.views.charts.style import INK, MUTED, SLIDE_SIZE, Palette, house_style, new_figure, tint


def _linked(run: RunLike, investor: str) -> bool:
    """Whether a compute contract came ``with`` one of the investor's investments."""
    ids = {d.id for d in run.scenario.investments if d.investor == investor}
    return any(c.with_investment in ids for c in run.scenario.contracts)


def curves(
    frame: pd.DataFrame, columns: Sequence[str]
) -> tuple[pd.DatetimeIndex, dict[str, npt.NDArray[np.float64]]]:
    """Cumulative columns drawn as curves through their payments (``layout.through_payments``),
    on one set of dates, so that the area between two of them can be filled: each curve is the same
    polyline, with points added where another curve has one. A curve that has ended stays at its
    last value, as the cumulative it is."""
    drawn = {c: through_payments(frame[c]) for c in columns}
    when = pd.DatetimeIndex(sorted(set().union(*(d.index for d in drawn.values()))))
    x = mdates.date2num(when)
    return when, {
        c: np.interp(x, mdates.date2num(d.index), d.to_numpy(dtype=np.float64))
        for c, d in drawn.items()
    }


def _booked_beside(m: dict[str, Any]) -> str:
    """`` ($85.0B booked)`` where the booked reading differs from the cash one drawn."""
    booked = m.get("incremental_revenue_booked")
    if booked is None or money_text(booked) == money_text(m["incremental_revenue"]):
        return ""
    return f" ({money_text(booked)} booked)"


def run_vs_twin(run: RunLike, *, size: Sequence[float] = SLIDE_SIZE) -> Figure:
    """Per investor, two panels over time. Left: its clouds' cumulative revenue from its labs in
    the run and in the twin without its investment, the gap between them shaded: what the
    investment caused. Right, on its own scale: that gap beside the traced round trip (the
    investor's own dollars that came back: whose dollars, not what the stake caused)."""
    s = run.scenario
    m = run.metrics_dict()["investors"]
    active = [i for i in s.investors if m.get(i, {}).get("invested")] or list(s.investors)
    # a row per investor with a cloud of its own: one without has no twin and causes 0 there
    investors = [i for i in active if s.investors[i].owns]
    without = [i for i in active if not s.investors[i].owns]
    palette = Palette.of(run)

    def caused(i: str) -> str:
        return money_text(m[i]["incremental_revenue"])

    if len(active) == 1 and investors:
        inv = investors[0]
        title = (
            f"{caused_by(run, inv, money_text(m[inv]['invested']))} caused "
            f"{caused(inv)} of {clouds_of(run, inv)} revenue in cash"
            + _booked_beside(m[inv])
            + f"; traced, {money_text(m[inv]['round_trip'])} of it came back"
        )
    elif investors:
        title = "Revenue caused at their own clouds: " + ", ".join(
            [f"{caused_by(run, i)} {caused(i)}" for i in investors]
            + [f"{name_of(run, i)} none (no cloud)" for i in without]
        )
    else:
        owns = "owns" if len(without) == 1 else "own"
        title = f"{names_of(run, without)} {owns} no cloud: no revenue of its own is caused there"
    labs = names_of(run, dict.fromkeys(lab for i in active for lab in investor_labs(run, i)))
    who = possessive(name_of(run, investors[0])) if len(investors) == 1 else "the investor's"
    subtitle = (
        f"Cumulative, {span(run)}. Twin: the same run without {who} investment and any contract "
        f"that came with it; the shaded gap is what the investment caused. Round trip: {who} own "
        f"dollars that {labs} paid its cloud, traced {tracing_words(run)}.{twin_note(run)}"
        + assumption_note(run, investors)
    )
    if without and investors:
        subtitle += f" {names_of(run, without)}: no cloud of its own, so nothing caused there."
    if not investors:
        subtitle = f"{span(run)}. A twin is the same run without an investor's investments."
        with house_style():
            fig, (ax,) = new_figure(run, title, subtitle, size=size)
            ax.set_axis_off()
            ax.text(
                0.0,
                0.9,
                "No investor owns a cloud, so no run has a twin: what an "
                "investment causes at a cloud of its own is 0.",
                transform=ax.transAxes,
                fontsize=LABEL_SIZE,
                color=MUTED,
                va="top",
            )
        return fig
    fig = investor_pairs(
        run,
        title,
        subtitle,
        investors,
        size,
        lambda inv: _labels_of(run, inv, palette),
        lambda inv, left, gap: _investor(run, inv, left, gap, palette),
        label_lines=4,
        pad=0.25,
    )
    return fig


def _colours(run: RunLike, inv: str, palette: Palette) -> tuple[str, str, str]:
    """The run's revenue line (ink: the lines are neutral, colour marks what was caused), the
    caused gap (a tint of the investor's colour) and its edge and text (the investor's)."""
    investor = palette.agent(inv)
    return INK, tint(investor, 0.4), shade(investor, 0.2)


def _labels_of(run: RunLike, inv: str, palette: Palette) -> tuple[list[Label], list[Label]]:
    """The end labels of both panels, from metrics.json (the lines end at the same figures)."""
    mi = run.metrics_dict()["investors"][inv]
    revenue, _, caused = _colours(run, inv, palette)
    run_end = mi["spend_on_own_cloud"] or 0.0
    gap = mi["incremental_revenue"] or 0.0
    left: list[Label] = [
        (run_end, "With the investment", money_text(run_end), revenue),
        (run_end - gap, "Twin, without it", money_text(run_end - gap), MUTED),
        (run_end - gap / 2, "Caused", money_text(gap), caused),
    ]
    if _linked(run, inv):
        only = run_end - (mi["incremental_revenue_investment_only"] or 0.0)
        left.append((only, "Twin keeping the contract", money_text(only), MUTED))
    right: list[Label] = [
        (gap, "Caused revenue", money_text(gap), caused),
        (mi["round_trip"] or 0.0, "Round trip, traced", money_text(mi["round_trip"]), MUTED),
    ]
    return left, right


def _investor(run: RunLike, inv: str, left: Axes, right: Axes, palette: Palette) -> None:
    cloud = clouds_of(run, inv)
    labs = names_of(run, investor_labs(run, inv))
    for ax in (left, right):
        horizon_axis(run, ax)
    panel_title(left, f"{cloud} revenue from {labs}: run and twin")
    panel_title(right, "What it caused, beside whose dollars came back")
    mi = run.metrics_dict()["investors"][inv]
    revenue, fill, caused = _colours(run, inv, palette)
    flows = caused_flows(run, inv)
    traced = investor_flows(run, inv)
    if flows is None:
        _without_twin(run, inv, left, right, traced, (revenue, fill, caused))
        return
    cols = ["revenue_run", "revenue_twin", "incremental_revenue"]
    if _linked(run, inv):
        cols.append("revenue_twin_investment_only")
    when, y = curves(flows, cols)
    run_y, twin_y = y["revenue_run"], y["revenue_twin"]
    left.fill_between(
        when, twin_y, run_y, color=fill, linewidth=0, label="incremental_revenue", zorder=1
    )
    left.plot(when, twin_y, color=MUTED, linewidth=2.2, linestyle=(0, (5, 3)), label="revenue_twin")
    if "revenue_twin_investment_only" in y:
        left.plot(
            when,
            y["revenue_twin_investment_only"],
            color=MUTED,
            linewidth=1.6,
            linestyle=(0, (1, 2)),
            label="revenue_twin_investment_only",
        )
    left.plot(when, run_y, color=revenue, linewidth=3.2, label="revenue_run", zorder=3)
    # the gap at the end, as a bar in the investor's colour beside its label
    last = np.repeat(when[-1:].to_numpy(), 2)
    left.plot(last, [twin_y[-1], run_y[-1]], color=caused, linewidth=5, zorder=4)
    # right: the gap on its own scale, beside the traced round trip
    right.fill_between(
        when, 0, y["incremental_revenue"], color=fill, linewidth=0, label="incremental_revenue"
    )
    right.plot(when, y["incremental_revenue"], color=caused, linewidth=2.6)
    back = through_payments(traced["round_trip"])
    right.plot(
        back.index,
        back.to_numpy(),
        color=MUTED,
        linewidth=2.4,
        linestyle=(0, (5, 3)),
        label="round_trip",
    )
    _scale(left, float(max(run_y.max(), twin_y.max())))
    gap = y["incremental_revenue"]
    top = float(max(gap.max(initial=0.0), mi["incremental_revenue"] or 0, mi["round_trip"] or 0))
    # an investment can cause less revenue than its twin had (a share of the lab's revenue paid
    # to the investor leaves the lab less to spend): the axis goes below 0 to show it
    _scale(right, top, bottom=float(min(gap.min(initial=0.0), mi["incremental_revenue"] or 0)))


def _scale(ax: Axes, top: float, bottom: float = 0.0) -> None:
    """From ``bottom`` (at most 0) to ``top`` in dollars, a little room beyond each."""
    top, bottom = max(top, 1.0), min(bottom, 0.0)
    pad = 0.06 * (top - bottom)
    ax.set_ylim(bottom - pad if bottom < 0 else 0.0, top + pad)
    fitted_money_axis(ax, max(top, -bottom))


def _without_twin(
    run: RunLike,
    inv: str,
    left: Axes,
    right: Axes,
    traced: pd.DataFrame,
    colours: tuple[str, str, str],
) -> None:
    """A saved run folder without the twin's series: the run's own lines, and the twin and the
    gap at the end from metrics.json, said so on the chart."""
    revenue, _, caused = colours
    mi = run.metrics_dict()["investors"][inv]
    end = np.array([run.scenario.end], dtype="datetime64[s]")
    run_end, gap = mi["spend_on_own_cloud"] or 0.0, mi["incremental_revenue"] or 0.0
    spend = through_payments(traced["spend_on_own_cloud"])
    left.plot(spend.index, spend.to_numpy(), color=revenue, linewidth=3.2, label="revenue_run")
    left.plot(end, [run_end - gap], "o", color=MUTED, label="revenue_twin", clip_on=False)
    left.plot(np.repeat(end, 2), [run_end - gap, run_end], color=caused, linewidth=5)
    right.plot(end, [gap], "o", color=caused, label="incremental_revenue", clip_on=False)
    back = through_payments(traced["round_trip"])
    right.plot(back.index, back.to_numpy(), color=MUTED, linewidth=2.4, linestyle=(0, (5, 3)))
    _scale(left, max(run_end, 1.0))
    _scale(right, float(max(gap, mi["round_trip"] or 0, 1.0)) * 1.25)
