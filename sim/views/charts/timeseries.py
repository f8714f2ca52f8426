"""Charts over time: what the investment caused beside the traced round trip, the investor's net
position in present value, the lab's cash by origin.

Each function takes a run (a ``sim.Result`` or a saved run folder from ``sim.io.output.read_run``)
and returns a matplotlib ``Figure`` drawn in the house style (``sim.views.charts.style``); the
numbers come from ``sim.views.charts.series`` (read off the ledger and balances, and the twin's
series for what the investment caused) and the dates marked from the run's metrics, so a chart
and metrics.json always agree; the words about the run from ``sim.views.charts.labels``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.analysis.result import RunLike
from sim.views.charts.labels import (
    assumption_note,
    caused_by,
    clouds_of,
    money_text,
    month,
    name_of,
    names_of,
    origin_name,
    possessive,
    span,
    tracing_words,
    twin_note,
)
from sim.views.charts.layout import (
    LABEL_SIZE,
    TICKS_ROOM,
    Label,
    arrange,
    columns_for,
    end_labels,
    fit_panel_titles,
    fitted_money_axis,
    horizon_axis,
    investor_pairs,
    label_side,
    label_text,
    mark_date,
    panel_title,
    shade,
    text_width,
    through_payments,
)
from sim.views.charts.series import (
    caused_flows,
    investor_flows,
    investor_labs,
    lab_cash_by_origin,
    pv_invested,
)
from sim.views.charts.style import (
    INK,
    MUTED,
    SLIDE_SIZE,
    Palette,
    house_style,
    new_figure,
    tint,
)


def _step(run: RunLike) -> str:
    """``1mo`` -> ``month``, ``3mo`` -> ``quarter``, ``1y`` -> ``year``, ``30d`` -> ``30d-step``."""
    d = run.scenario.step
    words = {(0, 1): "month", (0, 3): "quarter", (0, 12): "year", (1, 0): "day", (7, 0): "week"}
    return words.get((d.days, d.months), f"{d}-step")


def _rate(run: RunLike) -> str:
    """The present-value rate as people write it: ``8%``, ``7.5%``."""
    return f"{run.scenario.discount_rate * 100:.2f}".rstrip("0").rstrip(".") + "%"


# ---- cumulative flows -------------------------------------------------------------------------


def with_clouds(run: RunLike, investors: Sequence[str]) -> tuple[list[str], list[str]]:
    """The investors that get a panel (those owning a seller: an investor without one causes
    nothing there and gets none of its dollars back) and those left out, named in a subtitle;
    if none owns a seller, every investor gets its panel, which says so."""
    owns = [i for i in investors if run.scenario.investors[i].owns]
    if not owns:
        return list(investors), []
    return owns, [i for i in investors if i not in owns]


def cumulative_flows(run: RunLike, *, size: Sequence[float] = SLIDE_SIZE) -> Figure:
    """Cumulative dollars over time, per investor: on the left what its investment caused at its
    clouds (their revenue and profit from its labs in the run less in the twin without it),
    against the money invested; on the right, on its own scale, the traced round trip (its own
    dollars, invested and back as its clouds' revenue, and the profit on them): whose dollars
    came back, which is not what the stake caused."""
    s = run.scenario
    m = run.metrics_dict()["investors"]
    palette = Palette.of(run)
    investors = [i for i in s.investors if m.get(i, {}).get("invested")]
    investors = investors or list(s.investors)

    def caused(inv: str) -> str:
        mi = m[inv]
        if not s.investors[inv].owns:
            return (
                f"{name_of(run, inv)} owns no cloud: its {money_text(mi['invested'])} causes no "
                "revenue of its own"
            )
        return (
            f"What {caused_by(run, inv, money_text(mi['invested']))} caused at "
            f"{clouds_of(run, inv)}: {money_text(mi['incremental_revenue'])} of revenue, "
            f"{money_text(mi['incremental_profit'])} of profit, in cash"
        )

    if len(investors) == 1:
        title = caused(investors[0])
    else:  # investors with a cloud first: the sentence is about them
        ordered = sorted(investors, key=lambda i: not s.investors[i].owns)
        title = "Profit caused at their own clouds: " + ", ".join(
            f"{caused_by(run, i)} {money_text(m[i]['incremental_profit'])}"
            if s.investors[i].owns
            else f"{name_of(run, i)} none (no cloud)"
            for i in ordered
        )
    labs = names_of(run, dict.fromkeys(lab for i in investors for lab in investor_labs(run, i)))
    who = name_of(run, investors[0]) if len(investors) == 1 else "the investor"
    subtitle = (
        f"Cumulative, {span(run)}. Left: the cloud's revenue and profit from {labs} in this run "
        f"less in its twin without the investment (and any contract that came with it). Right: "
        f"{possessive(who)} own dollars that "
        f"{labs} paid its cloud, traced {tracing_words(run)}.{twin_note(run)}"
        + assumption_note(run, [i for i in investors if s.investors[i].owns])
    )
    shown, without = with_clouds(run, investors)
    if without and shown != investors:
        subtitle += (
            f" {names_of(run, without)}: no cloud of its own, so nothing caused there and none "
            "of its money traced back."
        )
    fig = investor_pairs(
        run,
        title,
        subtitle,
        shown,
        size,
        lambda inv: _flow_labels(run, inv, palette),
        lambda inv, effect, own: _investor_flows(run, inv, effect, own, palette),
        label_lines=3,
        pad=0.2,
    )
    return fig


def _flow_colours(run: RunLike, inv: str, palette: Palette) -> tuple[str, str]:
    """The investor's colour for its profit, its cloud's (a lighter shade) for the revenue."""
    profit = palette.agent(inv)
    owns = run.scenario.investors[inv].owns
    return (palette.agent(owns[0]) if len(owns) == 1 else tint(profit, 0.45)), profit


def _flow_labels(run: RunLike, inv: str, palette: Palette) -> tuple[list[Label], list[Label]]:
    """The end labels of the two panels of ``cumulative_flows`` for one investor, at the
    figures of metrics.json (where every line ends)."""
    mi = run.metrics_dict()["investors"][inv]
    invested: Label = (mi["invested"] or 0.0, "Invested", money_text(mi["invested"]), INK)
    if not run.scenario.investors[inv].owns:
        return [invested], [invested]
    revenue, profit = _flow_colours(run, inv, palette)
    text_revenue = shade(revenue, 0.3)  # a light line's colour, dark enough to read as text

    def label(key: str, name: str, colour: str) -> Label:
        return (mi[key] or 0.0, name, money_text(mi[key]), colour)

    return (
        [
            label("incremental_revenue", "Caused revenue", text_revenue),
            label("incremental_profit", "Caused profit", profit),
            invested,
        ],
        [
            invested,
            label("round_trip", "Round trip, traced", text_revenue),
            label("round_trip_profit", "Profit on it", profit),
        ],
    )


def _line(ax: Axes, flows: pd.DataFrame, col: str, colour: str, width: float = 2.6) -> None:
    """A cumulative column: money invested as the steps it is, payments as a curve."""
    if col == "invested":  # a few tranches: the steps they are
        ax.plot(flows.index, flows[col], color=colour, lw=width, drawstyle="steps-post", label=col)
    else:  # regular payments: a curve through them
        curve = through_payments(flows[col])
        ax.plot(curve.index, curve.to_numpy(), color=colour, linewidth=width, label=col)


def _investor_flows(run: RunLike, inv: str, effect: Axes, own: Axes, palette: Palette) -> None:
    traced = investor_flows(run, inv)
    name = name_of(run, inv)
    revenue, profit = _flow_colours(run, inv, palette)
    if not run.scenario.investors[inv].owns:  # nothing can come back: what it put in, and why
        _no_cloud(run, inv, traced, effect, own)
        return
    # left: what the investment caused, against the money invested
    caused = caused_flows(run, inv)
    mi = run.metrics_dict()["investors"][inv]
    if caused is None:  # a saved run without the twin's series: its end, from metrics.json
        end = np.array([run.scenario.end], dtype="datetime64[s]")
        for key, colour in (("incremental_revenue", revenue), ("incremental_profit", profit)):
            effect.plot(
                end, [mi[key] or 0.0], "o", color=colour, markersize=9, label=key, clip_on=False
            )
    else:
        _line(effect, caused, "incremental_revenue", revenue, 3.2)
        _line(effect, caused, "incremental_profit", profit)
    _line(effect, traced, "invested", INK, 2.0)
    panel_title(effect, f"What the investment caused at {clouds_of(run, inv)}")
    # right: the investor's own dollars, traced
    _line(own, traced, "invested", INK, 2.0)
    _line(own, traced, "round_trip", revenue, 3.2)
    _line(own, traced, "round_trip_profit", profit)
    panel_title(own, f"Traced: whose dollars came back to {name}")
    caused_top = max(abs(mi["incremental_revenue"] or 0), abs(mi["incremental_profit"] or 0))
    if caused is not None:
        cols = ["incremental_revenue", "incremental_profit"]
        caused_top = float(caused[cols].abs().to_numpy().max())
    for ax, top, low in (
        (effect, max(caused_top, float(traced.invested.max())), _lowest(caused)),
        (own, float(traced[["invested", "round_trip"]].to_numpy().max()), 0.0),
    ):
        ax.set_ylim(low * 1.06, max(top, 1.0) * 1.06)
        fitted_money_axis(ax, top)
        horizon_axis(run, ax)


def _lowest(caused: pd.DataFrame | None) -> float:
    """The lowest caused figure, or 0: an investment can cost its cloud revenue (the lab buys
    elsewhere), and the axis then goes below zero."""
    if caused is None:
        return 0.0
    return min(0.0, float(caused[["incremental_revenue", "incremental_profit"]].to_numpy().min()))


def _no_cloud(run: RunLike, inv: str, flows: pd.DataFrame, whole: Axes, own: Axes) -> None:
    name = name_of(run, inv)
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
        "It causes no revenue or profit at a cloud of\nits own, and none of its money comes back",
        transform=whole.transAxes,
        fontsize=LABEL_SIZE,
        color=MUTED,
        va="center",
    )


# ---- investor's net position ------------------------------------------------------------------


def investor_cash(run: RunLike, *, size: Sequence[float] = SLIDE_SIZE) -> Figure:
    """Each investor's net position over time, in present value at the scenario's
    ``discount_rate``: the profit its investment caused at its clouds (run less twin), less the
    money it invested, both discounted to the start. It ends at minus ``net_cost`` and crosses
    zero on ``incremental_payback_date``, which is marked (or a note says there is none within
    the horizon)."""
    s = run.scenario
    m = run.metrics_dict()["investors"]
    palette = Palette.of(run)
    investors = [i for i in s.investors if m.get(i, {}).get("invested")] or list(s.investors)

    def paid_back(inv: str) -> str | None:
        return m[inv].get("incremental_payback_date")

    def verdict(inv: str) -> str:
        mi, stake = m[inv], f"{possessive(name_of(run, inv))} {money_text(m[inv]['invested'])}"
        if paid_back(inv):
            return f"{stake} is paid back by {month(mi['incremental_payback_date'])}"
        return f"{stake} is not paid back by {month(s.end)}: net cost {money_text(mi['net_cost'])}"

    if len(investors) == 1:
        inv = investors[0]
        title = verdict(inv)
        if paid_back(inv) and s.investors[inv].owns:
            title = (
                f"{possessive(name_of(run, inv))} {money_text(m[inv]['invested'])} is paid back by "
                f"{month(m[inv]['incremental_payback_date'])} by the {clouds_of(run, inv)} "
                "profit it caused"
            )
    else:
        paid = [i for i in investors if paid_back(i)]
        unpaid = [i for i in investors if i not in paid]
        by = {i: f"{name_of(run, i)} by {month(m[i]['incremental_payback_date'])}" for i in paid}
        if not unpaid:
            title = "Paid back by the profit caused: " + ", ".join(by.values())
        elif not paid:
            costs = ", ".join(f"{name_of(run, i)} {money_text(m[i]['net_cost'])}" for i in unpaid)
            title = f"Not paid back by {month(s.end)}; net cost {costs}"
        else:
            title = (
                ", ".join(by.values()).replace(" by ", " paid back by ", 1)
                + f"; {names_of(run, unpaid)} not by {month(s.end)}"
            )
    subtitle = (
        f"{span(run)}, in present value at {_rate(run)} a year to {month(s.start)}: the profit "
        "the investment caused at the investor's cloud (this run less its twin without it), less "
        f"the money invested. It ends at minus the net cost.{twin_note(run)}"
    )
    investors, without = with_clouds(run, investors)
    if without:
        subtitle += (
            f" {names_of(run, without)}: no cloud of its own, so nothing caused there; its net "
            "cost is the money it put in."
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
    caused = caused_flows(run, inv)
    # without the twin's series (a saved run folder): the money invested, and the end from
    # metrics.json
    net = -pv_invested(run, inv) if caused is None else caused["net_position"]
    colour = palette.agent(inv)
    x, y = net.index, net.to_numpy()
    end = -(mi["net_cost"] or 0.0)
    ax.fill_between(x, y, 0, where=y >= 0, step="post", color=tint(colour, 0.6), linewidth=0)
    ax.fill_between(x, y, 0, where=y <= 0, step="post", color="#d9d9d9", linewidth=0)
    ax.plot(x, y, color=colour, drawstyle="steps-post", zorder=3, label="net_position")
    ax.axhline(0, color=INK, linewidth=1.0, zorder=2)
    if caused is None:
        ax.plot(
            [x[-1]],
            [end],
            "o",
            color=colour,
            markersize=9,
            zorder=4,
            label="net_cost",
            clip_on=False,
        )
    lo, hi = float(min(y.min(), end, 0)), float(max(y.max(), end, 0))
    # room in inches below the lowest point for its label, above the highest for the date's
    fig = ax.get_figure()
    assert isinstance(fig, Figure)
    height = ax.get_position().height * fig.get_size_inches()[1]
    per_inch = (hi - lo or 1.0) / max(height - 0.6 - 0.45, 0.5)
    ax.set_ylim(lo - 0.6 * per_inch, hi + 0.45 * per_inch)
    fitted_money_axis(ax, max(abs(lo), abs(hi)))
    horizon_axis(run, ax)
    name = name_of(run, inv)
    cloud = clouds_of(run, inv)
    owns = bool(s.investors[inv].owns)
    if not owns:
        title = f"{name} owns no cloud: no profit caused"
    elif many:
        title = f"{name}: {cloud} profit caused, less invested"
    else:
        title = f"{cloud} profit caused, less money invested (present values)"
    panel_title(ax, title)
    # the deepest point: the most the investor was out of pocket, labelled on the side away
    # from the payback line
    k = int(y.argmin())
    payback = mi.get("incremental_payback_date")
    if y[k] < 0 and owns and caused is not None:
        _label_trough(run, ax, x[k], float(y[k]), payback)
    if payback:
        mark_date(
            ax,
            payback,
            "incremental_payback_date",
            f"Paid back {month(payback)}",
            side=label_side(run, payback),
        )
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
    """The end of the net position: minus the net cost, labelled with ``net_cost`` itself."""
    cost = run.metrics_dict()["investors"][inv]["net_cost"] or 0.0
    return -cost, "Net cost", money_text(cost), palette.agent(inv)


def _label_trough(
    run: RunLike, ax: Axes, when: pd.Timestamp, low: float, payback: str | None
) -> None:
    """Label the most the investor was out of pocket beside that point: before it if it comes
    late in the run, else on the side away from the payback line; past the line, with a thin
    leader, if there is no room before it."""
    s = run.scenario
    horizon = pd.Timestamp(s.end) - pd.Timestamp(s.start)
    point = (mdates.date2num(when), low)
    style: dict[str, Any] = {"fontsize": LABEL_SIZE, "color": MUTED, "va": "top", "zorder": 6}
    text = f"Most out of pocket\n{money_text(-low)}, {month(when)}"
    back = pd.Timestamp(payback) if payback else None
    if when - pd.Timestamp(s.start) > horizon * 0.7:  # near the end: no room after it
        ax.annotate(text, point, xytext=(-12, -4), textcoords="offset points", ha="right", **style)
    elif back is None or not when < back < when + horizon * 0.3:  # nothing in the way
        ax.annotate(text, point, xytext=(12, -4), textcoords="offset points", **style)
    elif when - pd.Timestamp(s.start) > horizon * 0.3:  # room before it
        ax.annotate(text, point, xytext=(-12, -4), textcoords="offset points", ha="right", **style)
    else:
        ax.annotate(
            text,
            point,
            xytext=(mdates.date2num(back + horizon * 0.02), low),
            arrowprops={"arrowstyle": "-", "color": MUTED, "linewidth": 0.8},
            **style,
        )


# ---- lab's cash by origin ---------------------------------------------------------------------


def lab_cash(run: RunLike, *, size: Sequence[float] = SLIDE_SIZE) -> Figure:
    """Each lab's cash at each step's end, stacked by where the money came from (investors'
    money, the lab's revenue, its opening cash), with the date it first ran short marked."""
    s = run.scenario
    m = run.metrics_dict()["labs"]
    labs = list(s.labs)

    def verdict(lab: str) -> str:
        out = m.get(lab, {}).get("cash_out_date")
        return (
            f"{name_of(run, lab)} runs short of cash in {month(out)}"
            if out
            else f"{possessive(name_of(run, lab))} cash lasts to {month(s.end)}"
        )

    title = "; ".join(verdict(lab) for lab in labs)
    subtitle = (
        f"Cash at each {_step(run)}'s end by where it came from, traced {tracing_words(run)}. "
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
            labels=[origin_name(run, o) for o in origins],
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
    name = name_of(run, lab)
    panel_title(ax, f"{possessive(name)} cash")
    if ml.get("cash_out_date"):
        when = ml["cash_out_date"]
        mark_date(
            ax, when, "cash_out_date", f"Runs short {month(when)}", side=label_side(run, when)
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
