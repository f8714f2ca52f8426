"""Layout helpers for charts in the house style: room beside panels for direct labels, labels
at line ends that never overlap, dated markers, panel titles that fit, axes that thin their ticks
on a small figure.

``style.py`` says how a chart looks (fonts, colours, money, dates, the title band); this module
helps place things on it, in inches, so a chart reads the same at any size. A new chart kind (a
heatmap, a fan chart) uses both instead of copying either.
"""

from __future__ import annotations

import colorsys
import datetime as dt
import math
from collections.abc import Callable, Iterable, Sequence

import matplotlib as mpl
import matplotlib.dates as mdates
import pandas as pd
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.gridspec import GridSpec
from matplotlib.text import Text
from matplotlib.transforms import ScaledTranslation

from sim.analysis.result import RunLike
from sim.views.charts.style import INK, ChartFigure, date_axis, house_style, money_axis, new_figure

LABEL_SIZE = 11.5  # points: direct labels at line ends
PANEL_TITLE_SIZE = 13.5  # points
TICKS_ROOM = 0.85  # inches left of a panel for its money ticks ("$1,500B")


def shade(colour: str, amount: float) -> str:
    """The colour darkened towards black by ``amount`` (0: as is, 1: black): text in a light
    line's colour stays readable."""
    rgb = mpl.colors.to_rgb(colour)
    h, light, s = colorsys.rgb_to_hls(*rgb)
    return mpl.colors.to_hex(colorsys.hls_to_rgb(h, light * (1 - amount), s))


def arrange(
    fig: Figure,
    axes: Sequence[Axes],
    *,
    ncols: int,
    right: float,
    gap_x: float = 0.0,
    gap_y: float = 0.0,
    top: float = 0.35,
) -> None:
    """Leave ``right`` inches beside each column for direct labels (``gap_x`` more between
    columns), ``gap_y`` inches between rows and ``top`` inches above the first row for panel
    titles, whatever the figure's size."""
    gs = _gridspec(axes)
    width, height = fig.get_size_inches()
    nrows = math.ceil(len(axes) / ncols)
    now = gs.get_subplot_params(fig)
    left_in, top_in = now.left * width, (1 - now.top) * height + top
    axis_w = (width - left_in - (0.3 + right) - (ncols - 1) * (right + gap_x)) / ncols
    axis_h = axis_height(fig, axes, nrows=nrows, gap_y=gap_y, top=top)
    gs.update(
        top=1 - top_in / height,
        right=1 - (0.3 + right) / width,
        wspace=(right + gap_x) / axis_w if ncols > 1 else 0,
        hspace=gap_y / axis_h if nrows > 1 else 0,
    )
    for ax in axes:  # GridSpec.update moves only pyplot's figures' axes
        spec = ax.get_subplotspec()
        assert spec is not None
        ax.set_position(spec.get_position(fig))


def _gridspec(axes: Sequence[Axes]) -> GridSpec:
    spec = axes[0].get_subplotspec()
    gs = spec.get_gridspec() if spec else None
    assert isinstance(gs, GridSpec), "axes made by new_figure"
    return gs


def axis_height(
    fig: Figure, axes: Sequence[Axes], *, nrows: int, gap_y: float, top: float = 0.35
) -> float:
    """Inches each row of axes will have once ``arrange`` leaves ``top`` and ``gap_y``."""
    height = fig.get_size_inches()[1]
    now = _gridspec(axes).get_subplot_params(fig)
    room = (now.top - now.bottom) * height - top - (nrows - 1) * gap_y
    return room / nrows


def fitted_money_axis(ax: Axes, largest: float) -> None:
    """``money_axis``, with fewer ticks on a short axes so that they never crowd."""
    money_axis(ax, largest)
    fig = ax.get_figure()
    assert isinstance(fig, Figure)
    height = ax.get_position().height * fig.get_size_inches()[1]
    locator = ax.yaxis.get_major_locator()
    if isinstance(locator, ticker.MaxNLocator):
        locator.set_params(nbins=max(2, min(6, int(height / 0.4))))


def panel_title(ax: Axes, text: str) -> None:
    ax.set_title(text, fontsize=PANEL_TITLE_SIZE, loc="left", pad=10)


def fit_panel_titles(fig: Figure, axes: Sequence[Axes]) -> None:
    """Shrink a panel title that would run into the next panel's title or off the figure, as
    on a small figure."""
    renderer = FigureCanvasAgg(fig).get_renderer()  # measures text; pyplot is never involved
    width = fig.get_size_inches()[0]
    for ax in axes:
        text = ax.get_title(loc="left")
        title = next(
            (t for t in ax.get_children() if isinstance(t, Text) and t.get_text() == text), None
        )
        if not text or title is None:
            continue
        box = ax.get_position()
        others = [b.get_position() for b in axes if b is not ax and b.get_visible()]
        # the next panel to the right in the same row, else the figure's edge
        end = min(
            (b.x0 for b in others if b.x0 > box.x0 and b.y0 < box.y1 and b.y1 > box.y0),
            default=1.0,
        )
        room = ((end - box.x0) * width - 0.2) * fig.dpi
        wide = title.get_window_extent(renderer).width
        if wide > room:
            title.set_fontsize(max(title.get_fontsize() * room / wide, 9.0))


Label = tuple[float, str, str, str]  # a line's end: y (dollars), name, value, text colour


def label_text(name: str, value: str, one_line: bool) -> str:
    return f"{name} {value}" if one_line else f"{name}\n{value}"


def fits_two_lines(height: float, n: int) -> bool:
    """Whether ``n`` two-line labels fit beside axes ``height`` inches high."""
    return n * LABEL_SIZE * 2.45 <= height * 72


def text_width(fig: Figure, texts: Iterable[str]) -> float:
    """Inches the widest of ``texts`` takes at the label size: the room to leave for them."""
    renderer = FigureCanvasAgg(fig).get_renderer()
    widest = 0.0
    for text in texts:
        t = fig.text(0, 0, text, fontsize=LABEL_SIZE, linespacing=1.15)
        widest = max(widest, t.get_window_extent(renderer).width / fig.dpi)
        t.remove()
    return widest


def end_labels(ax: Axes, items: Sequence[Label], *, one_line: bool = False) -> None:
    """Label lines at their right ends, nudged apart so none overlap; one line each (name and
    value) when two lines each would not fit beside the axes."""
    fig = ax.get_figure()
    assert isinstance(fig, Figure)
    gap_pt = LABEL_SIZE * (1.3 if one_line else 2.45)
    y0, y1 = ax.get_ylim()
    height_pt = ax.get_position().height * fig.get_size_inches()[1] * 72
    pos = sorted(((y - y0) / (y1 - y0) * height_pt, i) for i, (y, *_) in enumerate(items) if y == y)
    placed = [p for p, _ in pos]
    if placed:  # a figure below the axes (off their scale) is labelled at their foot
        placed[0] = max(placed[0], 0.0)
    for k in range(1, len(placed)):  # push up so each clears the one below
        placed[k] = max(placed[k], placed[k - 1] + gap_pt)
    top = height_pt - gap_pt * 0.45  # a label stays beside its axes, clear of the panel title
    if placed and placed[-1] > top:  # then down from the top if the highest went off the axes
        placed[-1] = top
        for k in range(len(placed) - 2, -1, -1):
            placed[k] = min(placed[k], placed[k + 1] - gap_pt)
    for (_, i), p in zip(pos, placed, strict=True):
        _, name, value, colour = items[i]
        offset = ScaledTranslation(8 / 72, p / 72, fig.dpi_scale_trans)
        ax.text(
            1.0,
            0.0,
            label_text(name, value, one_line),
            transform=ax.transAxes + offset,
            color=colour,
            fontsize=LABEL_SIZE,
            va="center",
            ha="left",
            linespacing=1.15,
        )


def mark_date(
    ax: Axes, when: str | dt.date, name: str, text: str, colour: str = INK, *, side: str = "right"
) -> None:
    """A dotted vertical line at ``when`` (its Line2D labelled ``name``, the metric it marks)
    with ``text`` at the top of the axes."""
    x = mdates.date2num(pd.Timestamp(when))
    ax.axvline(x, color=colour, linewidth=1.3, linestyle=(0, (2, 2)), zorder=4, label=name)
    ax.annotate(
        text,
        xy=(x, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(6 if side == "right" else -6, -4),
        textcoords="offset points",
        ha="left" if side == "right" else "right",
        va="top",
        fontsize=LABEL_SIZE,
        color=colour,
        fontweight="bold",
        bbox={"boxstyle": "square,pad=0.15", "facecolor": "white", "edgecolor": "none"},
        zorder=5,
    )


def label_side(run: RunLike, when: str | dt.date) -> str:
    """Put a date's label on the side of its line with more room."""
    s = run.scenario
    x = pd.Timestamp(when)
    span = pd.Timestamp(s.end) - pd.Timestamp(s.start)
    return "right" if x - pd.Timestamp(s.start) < span * 0.72 else "left"


def horizon_axis(run: RunLike, ax: Axes) -> None:
    """The horizon, start to end, with ``date_axis``'s dates; as many as fit the axes' width."""
    s = run.scenario
    ax.set_xlim(mdates.date2num(s.start), mdates.date2num(s.end))
    date_axis(ax)
    fig = ax.get_figure()
    assert isinstance(fig, Figure)
    fit = int(ax.get_position().width * fig.get_size_inches()[0] / 0.55)  # "2030" and a gap
    locator = mdates.AutoDateLocator(minticks=2, maxticks=max(4, min(10, fit)))
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=False))


def columns_for(n: int, size: Sequence[float]) -> int:
    """Columns for ``n`` panels: side by side on a wide figure when there are few."""
    return 1 if n == 1 else (2 if n <= 4 and size[0] / size[1] >= 1.4 else 1)


def through_payments(cumulative: pd.Series) -> pd.Series:
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


def investor_pairs(
    run: RunLike,
    title: str,
    subtitle: str,
    investors: Sequence[str],
    size: Sequence[float],
    labels_of: Callable[[str], tuple[Sequence[Label], Sequence[Label]]],
    draw: Callable[[str, Axes, Axes], None],
    *,
    label_lines: int,
    pad: float,
) -> ChartFigure:
    """A figure of two panels per investor, a row each, sharing the date axis: ``draw(inv,
    left, right)`` fills them and ``labels_of(inv)`` gives each panel's line-end labels, which
    decide the room kept beside the panels (``pad`` inches more), on one line each where two
    lines would not fit ``label_lines`` labels down a panel."""
    with house_style():
        fig, axes = new_figure(
            run, title, subtitle, nrows=len(investors), ncols=2, size=size, sharex=True
        )
        labels = {inv: labels_of(inv) for inv in investors}
        height = axis_height(fig, axes, nrows=len(investors), gap_y=0.75)
        one_line = not fits_two_lines(height, label_lines)
        right = pad + text_width(
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
            left, right_ax = axes[2 * row], axes[2 * row + 1]
            draw(inv, left, right_ax)
            end_labels(left, labels[inv][0], one_line=one_line)
            end_labels(right_ax, labels[inv][1], one_line=one_line)
            if row < len(investors) - 1:
                for ax in (left, right_ax):
                    ax.tick_params(labelbottom=False)
        fit_panel_titles(fig, axes)
    return fig
