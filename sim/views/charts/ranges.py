"""Charts of many runs (``roundtrip sweep``, ``roundtrip mc``): what the investment caused across a
sweep's grid or a Monte Carlo's draws, read from farm's results file and its series file.

``RangeRuns`` is what they draw from (``read_ranges(path)`` reads it back from the files); each
chart is ``(runs, *, size) -> Figure``, registered in ``RANGE_CHARTS``, and ``applicable`` says
which fit a set of runs: ``sweep_line`` one swept input, ``sweep_heatmap`` two, ``fan`` Monte
Carlo runs with their series. Caused figures lead; the traced round trip is drawn beside them,
grey and labelled as traced.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.colors import LinearSegmentedColormap

from sim.analysis import causes
from sim.analysis.metrics import TRACED as TRACED_METRICS
from sim.analysis.result import inputs_hash
from sim.inputs.names import input_name
from sim.inputs.scenario import Scenario
from sim.runs.farm import SERIES_METRICS, read, read_metadata, series_investors, series_path
from sim.views.charts.layout import (
    TICKS_ROOM,
    arrange,
    end_labels,
    fit_panel_titles,
    fitted_money_axis,
    panel_title,
    text_width,
)
from sim.views.charts.style import (
    INK,
    MUTED,
    SLIDE_SIZE,
    ChartFigure,
    Palette,
    agent_label,
    date_axis,
    format_money,
    house_style,
    money_axis,
    money_unit,
    new_figure,
    source_file,
    tint,
)

TRACED = "#8a8a8a"  # the traced round trip: grey, dashed, beside what was caused
LINE_LABELS = {  # sweep_line's lines, by the metric each draws
    "incremental_revenue": "incremental revenue",
    "incremental_profit": "incremental profit",
    "round_trip": "round trip (traced)",
}


@dataclass(frozen=True)
class RangeRuns:
    """Many runs of one scenario file, read together: ``results`` a row per run (farm's file),
    ``scenario`` the first run's (names, labels, colours, the source line), ``varied`` the
    input paths, ``kind`` ``"sweep"`` or ``"mc"``, ``series`` the series file (or None),
    ``kinds`` each varied path's kind of input (amount, share, integer, ...: how to show it)."""

    results: pd.DataFrame
    scenario: Scenario
    varied: tuple[str, ...]
    kind: str
    series: Path | None = None
    kinds: dict[str, str] = field(default_factory=dict)
    seed: int | None = None  # a Monte Carlo's seed, from the file's metadata

    @property
    def ok(self) -> pd.DataFrame:
        """The runs without an error."""
        r = self.results
        return r[r["error"].isna()] if "error" in r.columns else r


def range_runs(
    results: str | os.PathLike[str] | pd.DataFrame,
    scenario: Scenario,
    *,
    varied: Sequence[str],
    kind: str,
    series: str | os.PathLike[str] | None = None,
) -> RangeRuns:
    """``RangeRuns`` from a results file (or frame) and the scenario its first run had."""
    from sim.inputs.loader import read_yaml
    from sim.inputs.resolved import resolved_yaml
    from sim.ranges.vary import Template

    frame = read(results) if not isinstance(results, pd.DataFrame) else results
    # each path's kind as sweeps read it (deals.N.amount is an amount), as farm typed its column
    template = Template(read_yaml(resolved_yaml(scenario), "<resolved>"))
    kinds = {p: template.kind(p) for p in varied}
    where = Path(series) if series is not None else None
    return RangeRuns(frame, scenario, tuple(varied), kind, where, kinds)


def read_ranges(path: str | os.PathLike[str], scenario: Scenario | None = None) -> RangeRuns:
    """A farm results file read back for charts, with its series file if it is there; the
    scenario defaults to the one its metadata holds (then named by the results file)."""
    from sim.inputs.loader import parse_resolved
    from sim.io.readback import SERIES, check_results, check_schema

    meta = read_metadata(path)
    if scenario is None:
        scenario = parse_resolved(meta["scenario"], os.fspath(path))
    kind = meta.get("kind") or ("sweep" if meta.get("seed") is None else "mc")
    check_results(path, meta, scenario)
    beside = series_path(path)
    if os.path.lexists(beside):  # read by the charts later, a run at a time: checked now
        check_schema(beside, SERIES)
    runs = range_runs(
        path,
        scenario,
        varied=meta.get("varied", []),
        kind=kind,
        series=beside if beside.is_file() else None,
    )
    seed = meta.get("seed")
    return replace(runs, seed=seed if isinstance(seed, int) else None)


# ---- the figure ---------------------------------------------------------------------------------
def source_line(runs: RangeRuns) -> str:
    """The file, how many runs, and the first run's inputs hash: enough to redo the chart."""
    s = runs.scenario
    what = "sweep" if runs.kind == "sweep" else "Monte Carlo"
    if s.source and Path(s.source).suffix == ".parquet":
        # read back from a results file (often in a temporary folder), which does not name its
        # scenario file: the scenario is named by its name
        return (
            f"Source: roundtrip {what} of {s.name!r}, {len(runs.results):,} runs "
            f"(first run's inputs {inputs_hash(s)})."
        )
    return (
        f"Source: roundtrip {what} of {source_file(s)}, {len(runs.results):,} runs "
        f"(first run's inputs {inputs_hash(s)}), {s.name!r}."
    )


def new_range_figure(
    runs: RangeRuns, title: str, subtitle: str, **kw: Any
) -> tuple[ChartFigure, list[Axes]]:
    """``new_figure`` for many runs: the same bands, with the source line naming the runs."""
    fig, axes = new_figure(SimpleNamespace(scenario=runs.scenario), title, subtitle, **kw)
    full = source_line(runs)
    fits = len(full) <= (float(kw.get("size", SLIDE_SIZE)[0]) - 0.6) * 72 / (10 * 0.55)
    # new_figure writes the source line last; the scenario's name goes first if it is too long
    named_last = "), " in full  # the scenario's name after the file: it goes if too long
    fig.texts[-1].set_text(full if fits or not named_last else full[: full.rindex("), ") + 1] + ".")
    return fig, axes


def _who(s: Scenario, investor: str) -> tuple[str, str]:
    """``("Amazon", "AWS")``: the investor's and its clouds' labels."""
    clouds = " and ".join(agent_label(s, c) for c in s.investors[investor].owns)
    return agent_label(s, investor), clouds


def _in_sentence(path: str, s: Scenario) -> str:
    """The input's human name (``sim.inputs.names.input_name``) as it reads inside a sentence:
    "the discount rate", where the name alone starts "Discount rate"; agents and deals keep the
    capital of their labels."""
    name = input_name(s, path)
    return name if path.split(".")[0] in ("agents", "deals") else name[:1].lower() + name[1:]


def show_input(value: Any, kind: str | None) -> str:
    """A swept or drawn input's value in its own units (``35%``, ``$10.00B``) by its ``kind``
    (``RangeRuns.kinds``), else as it is."""
    if kind == "share":
        return f"{float(value) * 100:.4g}%"
    if kind == "amount":
        return format_money(float(value), digits=2)
    return str(value)


def _input_axis(ax: Axes, kind: str | None, values: np.ndarray, axis: str = "x") -> None:
    target = ax.xaxis if axis == "x" else ax.yaxis
    if kind == "share":
        target.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v * 100:.4g}%"))
    elif kind == "amount":
        money_axis(ax, float(np.nanmax(np.abs(values))), axis=axis)


def _numeric(kind: str | None) -> bool:
    return kind in ("amount", "share", "integer")


def _money_pair(a: float, b: float) -> tuple[str, str]:
    """Two amounts in the unit of the larger: ``$0B`` and ``$10B``, not ``$0K`` and ``$10B``."""
    unit = money_unit(max(abs(a), abs(b)))
    return format_money(a, unit), format_money(b, unit)


def _changes(a: float, b: float) -> bool:
    """Whether two dollar figures differ by more than rounding to $0.01B would hide."""
    return abs(a - b) >= 0.005e9


# ---- sweep_line ----------------------------------------------------------------------------------
def sweep_line(runs: RangeRuns, *, size: Sequence[float] = SLIDE_SIZE) -> ChartFigure:
    """A sweep over one input: per investor with a twin, its caused incremental revenue and
    profit at each point (left) and, beside it on its own scale, the traced round trip."""
    if len(runs.varied) != 1:
        raise ValueError(f"sweep_line draws a sweep over one input, got {len(runs.varied)}")
    s, path = runs.scenario, runs.varied[0]
    kind = runs.kinds.get(path)
    investors = series_investors(s) or list(s.investors)
    df = runs.results.sort_values(f"in:{path}", kind="stable")
    raw = df[f"in:{path}"].to_numpy()
    x = raw.astype(float) if _numeric(kind) else np.arange(len(df), dtype=float)
    name = input_name(s, path)
    errors = int(df["error"].notna().sum()) if "error" in df.columns else 0
    subtitle = (
        f"Each point a run from {s.start:%b %Y} to {s.end:%b %Y} with "
        f"{_in_sentence(path, s)} set as marked, "
        "against its twin without the investment (caused); right, on its own scale, the traced "
        "round trip: whose dollars came back."
        + (f" {errors} point(s) refused: not drawn." if errors else "")
    )
    palette = Palette.of(SimpleNamespace(scenario=s))
    money = [f"{i}.{m}" for i in investors for m in LINE_LABELS]
    with house_style():
        fig, axes = new_range_figure(
            runs, _sweep_line_title(runs, investors[0]), subtitle, nrows=len(investors),
            ncols=2, size=size, sharex=True,
        )  # fmt: skip
        widest = format_money(float(np.nanmax(np.abs(df[money].to_numpy(float)), initial=0)))
        right = 0.2 + text_width(fig, [f"{t} {widest}" for t in LINE_LABELS.values()])
        arrange(fig, axes, ncols=2, right=right, gap_x=TICKS_ROOM, gap_y=0.75)
        for row, investor in enumerate(investors):
            caused, traced = axes[2 * row], axes[2 * row + 1]
            label = agent_label(s, investor)
            panel_title(caused, f"{label}: caused at its clouds")
            panel_title(traced, f"{label}: traced, whose dollars came back")
            lines = {m: df[f"{investor}.{m}"].to_numpy(float) for m in LINE_LABELS}
            _sweep_lines(caused, traced, (x, raw, kind), lines, palette.agent(investor))
        for ax in axes[-2:]:
            ax.set_xlabel(name, color=MUTED)
        for ax in axes[:-2]:
            ax.tick_params(labelbottom=False)
        fit_panel_titles(fig, axes)
    return fig


def _sweep_line_title(runs: RangeRuns, first: str) -> str:
    """What the sweep shows for the first investor: how its caused revenue moves with the
    input, from the lowest point to the highest (or the profit, if the revenue does not)."""
    s, path = runs.scenario, runs.varied[0]
    name = _in_sentence(path, s)
    raw = runs.results.sort_values(f"in:{path}", kind="stable")[f"in:{path}"].to_numpy()
    kind = runs.kinds.get(path)
    lo, hi = show_input(raw[0], kind), show_input(raw[-1], kind)
    who, clouds = (
        _who(s, first) if s.investors[first].owns else (agent_label(s, first), "its clouds")
    )
    okf = runs.ok.sort_values(f"in:{path}", kind="stable")
    rev = okf[f"{first}.incremental_revenue"].to_numpy(float)
    prof = okf[f"{first}.incremental_profit"].to_numpy(float)
    if len(rev) and _changes(rev[0], rev[-1]):
        way = "more" if rev[-1] > rev[0] else "less"
        a, b = _money_pair(rev[0], rev[-1])
        return (
            f"The higher the {name}, the {way} {clouds} revenue {who}'s investment causes: "
            f"{a} at {lo}, {b} at {hi}"
        )
    if len(rev):
        title = (
            f"{who}'s investment causes {format_money(rev[0])} of {clouds} revenue at any {name}"
        )
        if _changes(prof[0], prof[-1]):
            a, b = _money_pair(prof[0], prof[-1])
            title += f" from {lo} to {hi}; the profit on it goes from {a} to {b}"
        return title
    return f"No run of the sweep over {name} ran: every point was refused"


def _sweep_lines(
    caused: Axes,
    traced: Axes,
    points: tuple[np.ndarray, np.ndarray, str | None],
    lines: dict[str, np.ndarray],
    colour: str,
) -> None:
    """One investor's row of ``sweep_line``: its caused revenue and profit on the left, the
    traced round trip on the right, each labelled at its last point, on money axes; ``points``
    the input's values as drawn, as in the file, and its kind."""
    x, raw, kind = points
    items = []
    for metric, ax, style, c in (
        ("incremental_revenue", caused, "-", colour),
        ("incremental_profit", caused, "-", tint(colour, 0.45)),
        ("round_trip", traced, "--", TRACED),
    ):
        y = lines[metric]
        ax.plot(x, y, style, color=c, marker="o", markersize=5, label=metric)
        last = y[np.isfinite(y)][-1] if np.isfinite(y).any() else math.nan
        items.append((ax, (last, LINE_LABELS[metric], format_money(last), c)))
    for ax in (caused, traced):
        ys = np.concatenate([lines[m] for m in lines if (ax is traced) == (m == "round_trip")])
        top = float(np.nanmax(np.abs(ys), initial=0.0)) or 1e9
        ax.set_ylim(min(0.0, float(np.nanmin(ys, initial=0.0)) * 1.08), top * 1.12)
        fitted_money_axis(ax, top)
        if _numeric(kind):
            _input_axis(ax, kind, x)
        else:
            ax.set_xticks(x, [str(v) for v in raw])
        end_labels(ax, [lab for a, lab in items if a is ax], one_line=True)


# ---- sweep_heatmap -------------------------------------------------------------------------------
def sweep_table(
    runs: RangeRuns, metric: str = "incremental_revenue", investor: str | None = None
) -> pd.DataFrame:
    """The heatmap's numbers: ``investor.metric`` in dollars, rows the first swept input's
    values, columns the second's (NaN where the run was refused)."""
    if len(runs.varied) != 2:
        raise ValueError(f"a heatmap needs a sweep over two inputs, got {len(runs.varied)}")
    investor = investor or (series_investors(runs.scenario) or list(runs.scenario.investors))[0]
    a, b = (f"in:{p}" for p in runs.varied)
    df = runs.results
    values = df[f"{investor}.{metric}"].where(df["error"].isna()) if "error" in df else None
    frame = df.assign(_v=values if values is not None else df[f"{investor}.{metric}"])
    return frame.pivot_table(index=a, columns=b, values="_v", aggfunc="first", dropna=False)


def sweep_heatmap(
    runs: RangeRuns,
    *,
    size: Sequence[float] = SLIDE_SIZE,
    metric: str = "incremental_revenue",
    investor: str | None = None,
) -> ChartFigure:
    """A sweep over two inputs: ``investor``'s ``metric`` (default: the first investor with a
    twin, its caused revenue) in each cell of the grid, written in the cell."""
    s = runs.scenario
    investor = investor or (series_investors(s) or list(s.investors))[0]
    table = sweep_table(runs, metric, investor)
    (pa, pb), (ka, kb) = runs.varied, (runs.kinds.get(p) for p in runs.varied)
    na, nb = input_name(s, pa), input_name(s, pb)
    who, clouds = (
        _who(s, investor) if s.investors[investor].owns else (agent_label(s, investor), "")
    )
    what = metric.replace("_", " ")
    if not clouds:
        how = ""
    elif metric.startswith(("incremental_", "pv_incremental", "net_cost", "effective_post")):
        how = f" (at {clouds}, run against its twin without the investment)"
    elif metric in TRACED_METRICS:  # sim.analysis.metrics.TRACED
        how = f" (at {clouds}, traced through the ledger: whose dollars came back, not an effect)"
    else:
        how = f" (at {clouds})"
    subtitle = (
        f"{what.capitalize()} of {who}{how}"
        + f", {s.start:%b %Y} to {s.end:%b %Y}, at each point of the grid; blank: refused."
    )
    colour = Palette.of(SimpleNamespace(scenario=s)).agent(investor)
    ta, tb = _in_sentence(pa, s), _in_sentence(pb, s)
    title = _heatmap_title(table, (ta, ka), (tb, kb), f"{who}'s {what}")
    with house_style():
        fig, (ax,) = new_range_figure(runs, title, subtitle, size=size)
        cell_w, cell_h = _heatmap_cells(ax, table.to_numpy(float), colour, size)
        ax.get_images()[0].set_label(f"{investor}.{metric}")
        ax.set_xticks(range(table.shape[1]), [show_input(v, kb) for v in table.columns])
        ax.set_yticks(range(table.shape[0]), [show_input(v, ka) for v in table.index])
        ax.tick_params(length=0)
        ax.grid(False)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        ax.set_xlabel(nb, color=MUTED)
        ax.set_ylabel(na, color=MUTED)
        # thin the tick labels where there are more cells than room for them
        for axis, room in ((ax.xaxis, cell_w), (ax.yaxis, cell_h)):
            need = 60 if axis is ax.xaxis else 16
            every = max(1, math.ceil(need / max(room, 1)))
            for k, t in enumerate(axis.get_ticklabels()):
                t.set_visible(k % every == 0)
    return fig


def _heatmap_title(
    table: pd.DataFrame, a: tuple[str, str | None], b: tuple[str, str | None], whose: str
) -> str:
    """The range of the figure over the grid and where it is highest; ``a`` and ``b`` the
    inputs of the rows and of the columns (name, kind); ``whose`` the figure, said."""
    (na, ka), (nb, kb) = a, b
    grid = table.to_numpy(float)
    if not np.isfinite(grid).any():
        return f"No run of the sweep over {na} and {nb} ran: every point was refused"
    hi_at = np.unravel_index(np.nanargmax(grid), grid.shape)
    lo_at = np.unravel_index(np.nanargmin(grid), grid.shape)
    big, small = float(grid[hi_at]), float(grid[lo_at])
    if not _changes(big, small):
        return f"{whose} is {format_money(big)} across the grid of {na} and {nb}"
    low, high = _money_pair(small, big)
    at = (
        f"{na} {show_input(table.index[int(hi_at[0])], ka)}, "
        f"{nb} {show_input(table.columns[int(hi_at[1])], kb)}"
    )
    return f"{whose} runs from {low} to {high} over the grid; highest at {at}"


def _heatmap_cells(
    ax: Axes, grid: np.ndarray, colour: str, size: Sequence[float]
) -> tuple[float, float]:
    """The grid drawn as cells shaded from a tint of ``colour`` (lowest) to ``colour`` (highest),
    each with its figure written in it if there is room; the cells' width and height in points."""
    cmap = LinearSegmentedColormap.from_list("caused", [tint(colour, 0.9), colour])
    finite = grid[np.isfinite(grid)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    ax.imshow(
        np.ma.masked_invalid(grid),
        cmap=cmap,
        vmin=lo,
        vmax=hi if hi > lo else lo + 1,
        aspect="auto",
        origin="lower",
        interpolation="nearest",
    )
    rows, cols = grid.shape
    box = ax.get_position()
    cell_w = box.width * float(size[0]) / max(cols, 1) * 72  # points
    cell_h = box.height * float(size[1]) / max(rows, 1) * 72
    font = min(13.0, cell_h * 0.45, cell_w / 6.2)
    if font < 6:
        return cell_w, cell_h
    unit = ("B", 1e9) if np.nanmax(np.abs(grid), initial=0) >= 0.95e9 else None
    for i in range(rows):
        for j in range(cols):
            v = grid[i, j]
            if not np.isfinite(v):
                continue
            dark = hi > lo and (v - lo) / (hi - lo) > 0.55
            ax.text(
                j,
                i,
                format_money(v, unit),
                ha="center",
                va="center",
                fontsize=font,
                color="white" if dark else INK,
            )
    return cell_w, cell_h


# ---- fan -----------------------------------------------------------------------------------------
def fan_table(runs: RangeRuns, investor: str, metric: str = "incremental_revenue") -> pd.DataFrame:
    """The fan's numbers: p5 ... p95 of ``metric`` so far at each grid date, over the runs."""
    from sim.runs.farm import series_percentiles

    if runs.series is None:
        raise ValueError("a fan chart needs the series file farm writes beside the results")
    return series_percentiles(runs.series, metric, investor)


def _fan_subtitle(runs: RangeRuns, investors: list[str], what: str) -> str:
    """What the fan draws, over which runs and draws, and the assumption deciding it."""
    s = runs.scenario
    drawn = "; ".join(_in_sentence(p, s) for p in runs.varied) or "nothing"
    said = dict.fromkeys(
        causes.assumption(s, i, short=True, label=lambda a: agent_label(s, a)) for i in investors
    )
    return (
        f"Cumulative incremental {what} at the investor's clouds, in cash (each run against its "
        f"twin without the investment and any contract that came with it) over "
        f"{len(runs.ok):,} runs drawing {drawn}: the median, half the runs in the dark band "
        f"(p25–p75), 90% in the light band (p5–p95). Deciding assumption: {'; '.join(said)}."
    )


def fan(
    runs: RangeRuns, *, size: Sequence[float] = SLIDE_SIZE, metric: str = "incremental_revenue"
) -> ChartFigure:
    """Monte Carlo runs over time: per investor with a twin, the median of ``metric`` so far
    (cumulative, run less its twin), with the p25–p75 and p5–p95 bands."""
    if metric not in SERIES_METRICS:
        raise ValueError(f"metric(={metric!r}) must be one of {', '.join(SERIES_METRICS)}")
    s = runs.scenario
    investors = series_investors(s)
    if not investors:
        raise ValueError(f"no investor of {s.name!r} has a twin: nothing was caused to draw")
    tables = {i: fan_table(runs, i, metric) for i in investors}
    what = metric.replace("incremental_", "")
    first = tables[investors[0]]
    who, clouds = _who(s, investors[0])
    end = first.index[-1] if len(first) else s.end
    if len(first):
        p5, p50, p95 = (float(first[c].iloc[-1]) for c in ("p5", "p50", "p95"))
        unit = money_unit(max(abs(p5), abs(p95)))
        by = causes.cause(
            s, investors[0], amount="investment", short=True, label=lambda a: agent_label(s, a)
        )
        title = (
            f"{by} caused {format_money(p50, unit)} of {clouds} {what} by "
            f"{pd.Timestamp(end):%b %Y} in the median run; 90% of runs "
            f"{format_money(p5, unit)} to {format_money(p95, unit)}"
        )
    else:
        title = f"No Monte Carlo run of {s.name} ran: every draw was refused"
    subtitle = _fan_subtitle(runs, investors, what)
    palette = Palette.of(SimpleNamespace(scenario=s))
    with house_style():
        fig, axes = new_range_figure(
            runs, title, subtitle, nrows=len(investors), size=size, sharex=True
        )
        words = ["p95 $000.0B", "median $000.0B", "p5 $000.0B"]
        arrange(fig, axes, ncols=1, right=text_width(fig, words) + 0.2, gap_y=0.55)
        for ax, investor in zip(axes, investors, strict=True):
            t = tables[investor]
            colour = palette.agent(investor)
            x = pd.to_datetime(t.index).to_numpy()
            band_outer = ax.fill_between(
                x, t["p5"], t["p95"], color=tint(colour, 0.72), linewidth=0, label="p5-p95"
            )
            band_inner = ax.fill_between(
                x, t["p25"], t["p75"], color=tint(colour, 0.4), linewidth=0, label="p25-p75"
            )
            band_outer.set_zorder(1)
            band_inner.set_zorder(2)
            ax.plot(x, t["p50"], color=colour, label="p50", zorder=3)
            panel_title(ax, f"{agent_label(s, investor)}: caused {what} at {_who(s, investor)[1]}")
            top = float(np.nanmax(np.abs(t.to_numpy(float)), initial=0.0)) or 1e9
            ax.set_ylim(min(0.0, float(np.nanmin(t.to_numpy(float), initial=0.0))), top * 1.08)
            fitted_money_axis(ax, top)
            date_axis(ax)
            if len(t):
                last = t.iloc[-1]
                end_labels(
                    ax,
                    [
                        (float(last["p95"]), "p95", format_money(last["p95"]), MUTED),
                        (float(last["p75"]), "p75", format_money(last["p75"]), MUTED),
                        (float(last["p50"]), "median", format_money(last["p50"]), colour),
                        (float(last["p25"]), "p25", format_money(last["p25"]), MUTED),
                        (float(last["p5"]), "p5", format_money(last["p5"]), MUTED),
                    ],
                    one_line=True,
                )
        for ax in axes[:-1]:
            ax.tick_params(labelbottom=False)
        fit_panel_titles(fig, axes)
    return fig


RANGE_CHARTS = {
    "sweep_line": sweep_line,  # one swept input: caused revenue and profit; the traced beside
    "sweep_heatmap": sweep_heatmap,  # two swept inputs: a metric in every cell of the grid
    "fan": fan,  # Monte Carlo: caused revenue over time, median and bands
}


def applicable(runs: RangeRuns) -> list[str]:
    """The range charts that fit these runs: a line for a sweep over one input, a heatmap for
    two, a fan for Monte Carlo runs with their series file."""
    names = []
    if runs.kind == "sweep" and len(runs.varied) == 1:
        names.append("sweep_line")
    if runs.kind == "sweep" and len(runs.varied) == 2:
        names.append("sweep_heatmap")
    if runs.kind == "mc" and runs.series is not None and series_investors(runs.scenario):
        names.append("fan")
    return names


__all__ = [
    "RANGE_CHARTS",
    "RangeRuns",
    "applicable",
    "fan",
    "fan_table",
    "range_runs",
    "read_ranges",
    "source_line",
    "sweep_heatmap",
    "sweep_line",
    "sweep_table",
]
