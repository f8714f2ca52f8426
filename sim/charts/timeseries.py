"""Charts over time: cumulative flows, the investor's net cash position, the lab's cash by origin.

Each function takes a run (a ``sim.Result`` or a saved run folder from ``sim.output.read_run``)
and returns a matplotlib ``Figure`` drawn in the house style (``sim.charts.style``); the numbers
come from ``sim.charts.series`` (read off the ledger and balances) and the dates marked from the
run's metrics, so a chart and metrics.json always agree.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from typing import Any

import matplotlib.dates as mdates
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.charts.layout import (
    LABEL_SIZE,
    TICKS_ROOM,
    Label,
    arrange,
    axis_height,
    columns_for,
    end_labels,
    fit_panel_titles,
    fits_two_lines,
    fitted_money_axis,
    horizon_axis,
    label_side,
    label_text,
    mark_date,
    panel_title,
    shade,
    text_width,
)
from sim.charts.series import investor_flows, investor_labs, lab_cash_by_origin
from sim.charts.style import (
    INK,
    MUTED,
    SLIDE_SIZE,
    Palette,
    format_money,
    house_style,
    new_figure,
    tint,
)
from sim.result import RunLike


def _label(run: RunLike, agent: str) -> str:
    """An agent as the scenario names it for readers (its ``label``, else its key)."""
    return run.scenario.label(agent)


def _labels(run: RunLike, agents: Iterable[str]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    names = [_label(run, a) for a in agents]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def possessive(name: str) -> str:
    return name + ("'" if name.endswith("s") else "'s")


def _money(dollars: float | None) -> str:
    if dollars is None:
        return "n/a"
    return "$0" if abs(dollars) < 0.005 else format_money(dollars)


def _month(date: str | dt.date | pd.Timestamp) -> str:
    return f"{pd.Timestamp(date):%b %Y}"


def _step(run: RunLike) -> str:
    """``1mo`` -> ``month``, ``3mo`` -> ``quarter``, ``1y`` -> ``year``, ``30d`` -> ``30d-step``."""
    d = run.scenario.step
    words = {(0, 1): "month", (0, 3): "quarter", (0, 12): "year", (1, 0): "day", (7, 0): "week"}
    return words.get((d.days, d.months), f"{d}-step")


def _tracing(run: RunLike) -> str:
    return run.scenario.tracing.replace("_", " ")  # "pro rata": no hyphen for a line to break at


def _span(run: RunLike) -> str:
    s = run.scenario
    return f"{_month(s.start)} to {_month(s.end)}"


# ---- cumulative flows -------------------------------------------------------------------------


def _clouds_of(run: RunLike, investor: str) -> str:
    owns = run.scenario.investors[investor].owns
    return _labels(run, owns) if owns else "its cloud"


def cumulative_flows(run: RunLike, *, size: Sequence[float] = SLIDE_SIZE) -> Figure:
    """Cumulative dollars over time, per investor: on the left everything its labs paid its
    clouds and the clouds' profit on it, against the money invested; on the right the investor's
    own dollars only (invested, back as cloud revenue, the profit on them), on their own scale."""
    s = run.scenario
    m = run.metrics_dict()["investors"]
    palette = Palette.of(run)
    investors = [i for i in s.investors if m.get(i, {}).get("invested")]
    investors = investors or list(s.investors)

    def back(inv: str) -> str:
        mi = m[inv]
        if not s.investors[inv].owns:
            return (
                f"{_label(run, inv)} owns no cloud: none of its {_money(mi['invested'])} comes back"
            )
        return (
            f"{possessive(_label(run, inv))} {_money(mi['invested'])}: "
            f"{_money(mi['round_trip'])} comes back as {_clouds_of(run, inv)} revenue"
        )

    if len(investors) == 1:
        title = back(investors[0])
    else:  # investors with a cloud first: the sentence is about them
        first, *rest = sorted(investors, key=lambda i: not s.investors[i].owns)

        def share(i: str) -> str:
            return f"{m[i]['round_trip_ratio'] or 0:.0%}"

        title = (
            f"{_label(run, first)} gets {share(first)} back as {_clouds_of(run, first)} revenue, "
            + ", ".join(f"{_label(run, i)} {share(i)}" for i in rest)
        )
    labs = _labels(run, dict.fromkeys(lab for i in investors for lab in investor_labs(run, i)))
    who = _label(run, investors[0]) if len(investors) == 1 else "the investor"
    subtitle = (
        f"Cumulative, {_span(run)}. Round trip: {possessive(who)} own dollars that {labs} "
        f"paid to its cloud, traced {_tracing(run)}."
    )
    with house_style():
        fig, axes = new_figure(
            run, title, subtitle, nrows=len(investors), ncols=2, size=size, sharex=True
        )
        # the labels at the lines' ends decide the room beside each panel
        labels = {inv: _flow_labels(run, inv, palette) for inv in investors}
        one_line = not fits_two_lines(axis_height(fig, axes, nrows=len(investors), gap_y=0.75), 3)
        right = 0.2 + text_width(
            fig,
            (
                label_text(name, value, one_line)
                for pair in labels.values()
                for side in pair
                for _, name, value, _ in side
            ),
        )
        arrange(fig, axes, ncols=2, right=right, gap_x=TICKS_ROOM, gap_y=0.75)
        for row, inv in enumerate(investors):
            whole, own = axes[2 * row], axes[2 * row + 1]
            _investor_flows(run, inv, whole, own, palette)
            end_labels(whole, labels[inv][0], one_line=one_line)
            end_labels(own, labels[inv][1], one_line=one_line)
            if row < len(investors) - 1:
                for ax in axes[2 * row : 2 * row + 2]:
                    ax.tick_params(labelbottom=False)
        fit_panel_titles(fig, axes)
    return fig


def _flow_colours(run: RunLike, inv: str, palette: Palette) -> tuple[str, str]:
    """The investor's colour for its profit, its cloud's (a lighter shade) for the revenue."""
    profit = palette.agent(inv)
    owns = run.scenario.investors[inv].owns
    return (palette.agent(owns[0]) if len(owns) == 1 else tint(profit, 0.45)), profit


def _flow_labels(run: RunLike, inv: str, palette: Palette) -> tuple[list[Label], list[Label]]:
    """The end labels of the two panels of ``cumulative_flows`` for one investor."""
    end = investor_flows(run, inv).iloc[-1]
    invested: Label = (end.invested, "Invested", _money(end.invested), INK)
    if not run.scenario.investors[inv].owns:
        return [invested], [invested]
    revenue, profit = _flow_colours(run, inv, palette)
    text_revenue = shade(revenue, 0.3)  # a light line's colour, dark enough to read as text
    return (
        [
            (end.spend_on_own_cloud, "Revenue", _money(end.spend_on_own_cloud), text_revenue),
            (end.cloud_profit, "Profit", _money(end.cloud_profit), profit),
            invested,
        ],
        [
            invested,
            (end.round_trip, "Round trip", _money(end.round_trip), text_revenue),
            (end.round_trip_profit, "Profit on it", _money(end.round_trip_profit), profit),
        ],
    )


def _investor_flows(run: RunLike, inv: str, whole: Axes, own: Axes, palette: Palette) -> None:
    flows = investor_flows(run, inv)
    labs = _labels(run, investor_labs(run, inv))
    cloud = _clouds_of(run, inv)
    name = _label(run, inv)
    revenue, profit = _flow_colours(run, inv, palette)
    if not run.scenario.investors[
        inv
    ].owns:  # nothing can come back: the money it put in, and a note saying so
        _no_cloud(run, inv, flows, whole, own)
        return

    def line(ax: Axes, col: str, colour: str, width: float = 2.6) -> None:
        if col == "invested":  # a few tranches: the steps they are
            ax.plot(
                flows.index, flows[col], color=colour, lw=width, drawstyle="steps-post", label=col
            )
        else:  # regular payments: a curve through them
            curve = _through_payments(flows[col])
            ax.plot(curve.index, curve.to_numpy(), color=colour, linewidth=width, label=col)

    # left: the whole relationship
    line(whole, "spend_on_own_cloud", revenue, 3.2)
    line(whole, "cloud_profit", profit)
    line(whole, "invested", INK, 2.0)
    panel_title(whole, f"{cloud} revenue and profit from {labs}")
    # right: the investor's own dollars
    line(own, "invested", INK, 2.0)
    line(own, "round_trip", revenue, 3.2)
    line(own, "round_trip_profit", profit)
    panel_title(own, f"{possessive(name)} own dollars and their round trip")
    for ax, cols in ((whole, flows.columns[:4]), (own, ["invested", "round_trip"])):
        top = float(flows[list(cols)].to_numpy().max())
        ax.set_ylim(0, max(top, 1.0) * 1.06)
        fitted_money_axis(ax, top)
        horizon_axis(run, ax)


def _no_cloud(run: RunLike, inv: str, flows: pd.DataFrame, whole: Axes, own: Axes) -> None:
    name = _label(run, inv)
    for ax in (whole, own):
        ax.plot(flows.index, flows.invested, color=INK, lw=2.0, drawstyle="steps-post")
        top = float(flows.invested.max())
        ax.set_ylim(0, max(top, 1.0) * 1.06)
        fitted_money_axis(ax, top)
        horizon_axis(run, ax)
    panel_title(whole, f"{name} owns no cloud")
    panel_title(own, f"{possessive(name)} own dollars")
    whole.text(
        0.03,
        0.55,
        "None of its money can come back\nto it as cloud revenue or profit",
        transform=whole.transAxes,
        fontsize=LABEL_SIZE,
        color=MUTED,
        va="center",
    )


def _through_payments(cumulative: pd.Series) -> pd.Series:
    """The points of a cumulative series where it moved, to draw as a curve rather than as a
    staircase of monthly payments. A pause well longer than the usual gap between payments
    stays flat, to the horizon's end too; a curve ends at its last payment otherwise."""
    moved = (cumulative.diff().fillna(1) != 0).to_numpy()  # the first date is always kept
    keep = moved.copy()
    when = cumulative.index[moved]
    gaps = when[1:] - when[:-1]
    usual = pd.Series(gaps).median() if len(gaps) else pd.Timedelta(0)
    pos = {d: i for i, d in enumerate(cumulative.index)}
    for prev, nxt, gap in zip(when[:-1], when[1:], gaps, strict=True):
        if gap > usual * 1.5 and pos[nxt] - 1 > pos[prev]:
            keep[pos[nxt] - 1] = True  # flat until just before the next payment
    if cumulative.index[-1] - when[-1] > usual * 1.5:
        keep[-1] = True
    return cumulative[keep]


# ---- investor's net cash ----------------------------------------------------------------------


def investor_cash(run: RunLike, *, size: Sequence[float] = SLIDE_SIZE) -> Figure:
    """Each investor's net cash position over time: its clouds' cumulative profit on its labs'
    compute less the money it invested, with the payback date marked (or a note that there is
    none within the horizon)."""
    s = run.scenario
    m = run.metrics_dict()["investors"]
    palette = Palette.of(run)
    investors = [i for i in s.investors if m.get(i, {}).get("invested")] or list(s.investors)

    def verdict(inv: str) -> str:
        mi, stake = m[inv], f"{possessive(_label(run, inv))} {_money(m[inv]['invested'])}"
        if mi.get("payback_date"):
            return f"{stake} is paid back by {_month(mi['payback_date'])}"
        return f"{stake} is not paid back by {_month(s.end)}"

    if len(investors) == 1:
        inv = investors[0]
        title = verdict(inv)
        if m[inv].get("payback_date") and s.investors[inv].owns:
            title = (
                f"{_clouds_of(run, inv)} profit pays back {possessive(_label(run, inv))} "
                f"{_money(m[inv]['invested'])} by {_month(m[inv]['payback_date'])}"
            )
    else:
        paid = [i for i in investors if m[i].get("payback_date")]
        unpaid = [i for i in investors if i not in paid]
        by = {i: f"{_label(run, i)} by {_month(m[i]['payback_date'])}" for i in paid}
        if not unpaid:
            title = "Paid back: " + ", ".join(by.values())
        elif not paid:
            title = f"{_labels(run, unpaid)} not paid back by {_month(s.end)}"
        else:
            title = (
                ", ".join(by.values()).replace(" by ", " paid back by ", 1)
                + f"; {_labels(run, unpaid)} not by {_month(s.end)}"
            )
    subtitle = (
        f"Net cash position: the investor's cloud profit on its labs' compute, less the money it "
        f"invested, cumulative, {_span(run)}"
    )
    ncols = columns_for(len(investors), size)
    with house_style():
        fig, axes = new_figure(
            run,
            title,
            subtitle,
            nrows=math.ceil(len(investors) / ncols),
            ncols=ncols,
            size=size,
            sharex=True,
        )
        texts = [label_text(*_net_label(run, i, palette)[1:3], False) for i in investors]
        right = 0.2 + text_width(fig, texts)
        arrange(fig, axes, ncols=ncols, right=right, gap_x=TICKS_ROOM, gap_y=0.75)
        for ax, inv in zip(axes, investors, strict=False):
            _net_cash(run, inv, ax, palette, many=len(investors) > 1)
        for ax in axes[len(investors) :]:
            ax.set_visible(False)
        fit_panel_titles(fig, axes)
    return fig


def _net_cash(run: RunLike, inv: str, ax: Axes, palette: Palette, *, many: bool) -> None:
    s = run.scenario
    mi = run.metrics_dict()["investors"][inv]
    flows = investor_flows(run, inv)
    net = flows["net_cash"]
    colour = palette.agent(inv)
    x, y = flows.index, net.to_numpy()
    ax.fill_between(x, y, 0, where=y >= 0, step="post", color=tint(colour, 0.6), linewidth=0)
    ax.fill_between(x, y, 0, where=y <= 0, step="post", color="#d9d9d9", linewidth=0)
    ax.plot(x, y, color=colour, drawstyle="steps-post", zorder=3, label="net_cash")
    ax.axhline(0, color=INK, linewidth=1.0, zorder=2)
    lo, hi = float(min(y.min(), 0)), float(max(y.max(), 0))
    # room in inches below the lowest point for its label, above the highest for the date's
    fig = ax.get_figure()
    assert isinstance(fig, Figure)
    height = ax.get_position().height * fig.get_size_inches()[1]
    per_inch = (hi - lo or 1.0) / max(height - 0.6 - 0.45, 0.5)
    ax.set_ylim(lo - 0.6 * per_inch, hi + 0.45 * per_inch)
    fitted_money_axis(ax, max(abs(lo), abs(hi)))
    horizon_axis(run, ax)
    name = _label(run, inv)
    cloud = _clouds_of(run, inv)
    owns = bool(s.investors[inv].owns)
    if not owns:
        title = f"{name} owns no cloud: nothing comes back"
    elif many:
        title = f"{name}: {cloud} profit less money invested"
    else:
        title = f"{cloud} profit from {_labels(run, investor_labs(run, inv))} less money invested"
    panel_title(ax, title)
    # the deepest point: the most the investor was out of pocket, labelled on the side away
    # from the payback line
    k = int(y.argmin())
    if y[k] < 0 and owns:
        _label_trough(run, ax, x[k], float(y[k]), mi.get("payback_date"))
    if mi.get("payback_date"):
        when = mi["payback_date"]
        mark_date(ax, when, "payback_date", f"Paid back {_month(when)}", side=label_side(run, when))
    else:
        ax.text(
            0.02,
            0.96,
            "No payback within the horizon",
            transform=ax.transAxes,
            fontsize=LABEL_SIZE,
            fontweight="bold",
            color=INK,
            va="top",
        )
    end_labels(ax, [_net_label(run, inv, palette)])


def _net_label(run: RunLike, inv: str, palette: Palette) -> Label:
    end = float(investor_flows(run, inv).net_cash.iloc[-1])
    word = "ahead" if end >= 0 else "behind"
    return end, f"{_money(abs(end))} {word}", "at the end", palette.agent(inv)


def _label_trough(
    run: RunLike, ax: Axes, when: pd.Timestamp, low: float, payback: str | None
) -> None:
    """Label the most the investor was out of pocket beside that point, on the side away from
    the payback line; past the line, with a thin leader, if there is no room before it."""
    s = run.scenario
    span = pd.Timestamp(s.end) - pd.Timestamp(s.start)
    point = (mdates.date2num(when), low)
    style: dict[str, Any] = {"fontsize": LABEL_SIZE, "color": MUTED, "va": "top", "zorder": 6}
    text = f"Most out of pocket\n{_money(-low)}, {_month(when)}"
    back = pd.Timestamp(payback) if payback else None
    if back is None or not when < back < when + span * 0.3:  # nothing in the way
        ax.annotate(text, point, xytext=(12, -4), textcoords="offset points", **style)
    elif when - pd.Timestamp(s.start) > span * 0.3:  # room before it
        ax.annotate(text, point, xytext=(-12, -4), textcoords="offset points", ha="right", **style)
    else:
        ax.annotate(
            text,
            point,
            xytext=(mdates.date2num(back + span * 0.02), low),
            arrowprops={"arrowstyle": "-", "color": MUTED, "linewidth": 0.8},
            **style,
        )


# ---- lab's cash by origin ---------------------------------------------------------------------


def _origin_label(run: RunLike, origin: str) -> str:
    agent, _, what = origin.partition(":")
    name = possessive(_label(run, agent))
    return {
        "investment": f"{name} investment",
        "revenue": f"{name} revenue",
        "cash": f"{name} opening cash",
    }.get(what, f"{name} {what}")


def lab_cash(run: RunLike, *, size: Sequence[float] = SLIDE_SIZE) -> Figure:
    """Each lab's cash at each step's end, stacked by where the money came from (investors'
    money, the lab's revenue, its opening cash), with the date it first ran short marked."""
    s = run.scenario
    m = run.metrics_dict()["labs"]
    labs = list(s.labs)

    def verdict(lab: str) -> str:
        out = m.get(lab, {}).get("cash_out_date")
        return (
            f"{_label(run, lab)} runs short of cash in {_month(out)}"
            if out
            else f"{possessive(_label(run, lab))} cash lasts to {_month(s.end)}"
        )

    title = "; ".join(verdict(lab) for lab in labs)
    subtitle = (
        f"Cash at each {_step(run)}'s end by where it came from, traced {_tracing(run)}. "
        "From the date marked on, it cannot pay for all it wants."
    )
    ncols = 1  # the legend takes the room beside the axes
    palette = Palette.of(run)
    with house_style():
        fig, axes = new_figure(
            run,
            title,
            subtitle,
            nrows=math.ceil(len(labs) / ncols),
            ncols=ncols,
            size=size,
            sharex=True,
        )
        arrange(fig, axes, ncols=ncols, right=2.7, gap_x=0.3, gap_y=0.75)
        for ax, lab in zip(axes, labs, strict=False):
            _lab_cash(run, lab, ax, palette, many=len(labs) > 1)
        for ax in axes[len(labs) :]:
            ax.set_visible(False)
    return fig


def _lab_cash(run: RunLike, lab: str, ax: Axes, palette: Palette, *, many: bool) -> None:
    ml = run.metrics_dict()["labs"].get(lab, {})
    cash = lab_cash_by_origin(run, lab)
    origins = list(cash.columns)
    bands = []
    if origins:
        bands = ax.stackplot(
            cash.index,
            *(cash[o].to_numpy() for o in origins),
            colors=[palette.origin(o) for o in origins],
            labels=[_origin_label(run, o) for o in origins],
            linewidth=0.4,
            edgecolor="white",
        )
        total = cash.sum(axis=1)
        top = float(total.max())
    else:
        top = 0.0
    ax.set_ylim(0, max(top, 1.0) * 1.12)
    fitted_money_axis(ax, top)
    horizon_axis(run, ax)
    name = _label(run, lab)
    panel_title(ax, f"{possessive(name)} cash")
    if ml.get("cash_out_date"):
        when = ml["cash_out_date"]
        mark_date(
            ax, when, "cash_out_date", f"Runs short {_month(when)}", side=label_side(run, when)
        )
    if bands:  # the legend lists the bands top to bottom, as they are stacked
        ax.legend(
            handles=bands[::-1],
            loc="upper left",
            bbox_to_anchor=(1.02, 1.0),
            fontsize=LABEL_SIZE,
            handlelength=1.2,
            borderaxespad=0.0,
            title="Where the cash came from",
            title_fontsize=LABEL_SIZE,
            alignment="left",
        )
