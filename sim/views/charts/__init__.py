"""Charts of a run: each a plain function from a run to a matplotlib ``Figure``.

A run is a ``sim.Result`` or a finished run folder read back with ``sim.io.output.read_run``; a
chart never runs the simulation again. In a notebook a chart shows inline and can be restyled
like any Figure::

    from sim.views.charts import cumulative_flows
    fig = cumulative_flows(result)            # or cumulative_flows(read_run("runs/x"))
    fig.axes[0].set_ylim(0, 400e9)

``CHARTS`` names every chart kind; ``render`` writes some or all of them as PNG, SVG or PDF, byte
for byte the same for the same run; ``redraw`` does it for a run folder, replacing its
``charts/`` folder whole. ``roundtrip run S --charts png`` and ``roundtrip chart DIR`` call them.

Adding a chart kind (a heatmap of a sweep, a fan chart of a Monte Carlo run) takes three steps,
and no styling of its own:

1. Write ``def my_chart(run, *, size=SLIDE_SIZE) -> Figure`` in a module of this package. Inside
   ``with house_style():`` call ``new_figure(run, title, subtitle, nrows=..., size=size)``: it
   gives the fonts, the title band (a title that says the finding, a factual subtitle) and the
   source line naming the scenario file and its inputs hash. Colour agents with
   ``Palette.of(run).agent(name)`` (or ``.origin(...)``) so each keeps its colour across charts,
   and name them with ``agent_label(scenario, name)`` (a label of any length, cut to fit);
   put money on an axis with ``money_axis`` and dates with ``date_axis``; write amounts in text
   with ``format_money``. ``layout.py`` places things in inches so the chart reads the same at
   any size: room beside panels for labels, labels at line ends that never overlap, dated
   markers, titles that fit. Build the Figure with ``new_figure`` (a ``ChartFigure``: a
   ``matplotlib.figure.Figure`` that shows itself in a notebook), never with pyplot, so nothing
   is left in global state.
2. Read the numbers in a plain function returning a DataFrame (as ``series.py`` does), so a
   notebook or a test can check them without drawing.
3. Register it below in ``CHARTS``; ``render``, ``redraw``, the command line and the tests that
   render every chart to every format pick it up.

A chart over many runs (a sweep) would take what it needs instead of a single run; register it
in a table of its own beside ``CHARTS`` with the same ``(data, *, size) -> Figure`` shape.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from matplotlib.figure import Figure

from sim.analysis.metrics import DATES, INVESTOR_METRICS, LAB_DATES, LAB_METRICS
from sim.analysis.result import RunLike
from sim.errors import ScenarioError
from sim.inputs.units import read_number
from sim.views.charts.caused import run_vs_twin
from sim.views.charts.compare import compare_chart
from sim.views.charts.flows import flow_diagram, own_dollars_diagram
from sim.views.charts.network import network_chart
from sim.views.charts.paths import paths_chart
from sim.views.charts.ranges import (
    RANGE_CHARTS,
    RangeRuns,
    applicable,
    fan,
    sweep_heatmap,
    sweep_line,
)
from sim.views.charts.style import DEFAULT_DPI, FORMATS, SLIDE_SIZE, save
from sim.views.charts.substitution import substitution_chart
from sim.views.charts.timeseries import cumulative_flows, investor_cash, lab_cash
from sim.views.charts.tornado import tornado


class ChartFunction(Protocol):
    """A chart kind: a run in, a Figure out, at a size in inches."""

    def __call__(self, run: RunLike, *, size: Sequence[float] = ...) -> Figure: ...


CHARTS: dict[str, ChartFunction] = {
    # what the investment caused first, then whose dollars came back (traced), then the labs
    "run_vs_twin": run_vs_twin,  # the clouds' revenue in the run and in its twin; the gap caused
    "cumulative": cumulative_flows,  # caused revenue and profit; beside it the traced round trip
    "investor_cash": investor_cash,  # net position in present value, incremental payback date
    "substitution": substitution_chart,  # caused revenue under each substitution: its bounds
    "flows": flow_diagram,  # the circuit: where the money came from, went, and came back
    "own_dollars": own_dollars_diagram,  # the same circuit for the investors' own dollars only
    "paths": paths_chart,  # caused and traced by path: own cloud, own vendor, via other sellers
    "lab_cash": lab_cash,  # the lab's cash by origin and the date it runs short
    "network": network_chart,  # the whole web: companies, money, one investor traced and caused
}

# Charts over many runs: a table of results in (its attrs name the scenario), a Figure out.
SENSITIVITY_CHARTS: dict[str, Callable[..., Figure]] = {
    "tornado": tornado,  # each input swung alone: the metric at its low and high values
}
# Charts of sim.analysis.compare's table: deals side by side.
COMPARE_CHARTS: dict[str, Callable[..., Figure]] = {
    "compare": compare_chart,  # per deal: invested, caused revenue and profit, traced round trip
}

# Charts over a sweep or Monte Carlo runs, ``RANGE_CHARTS`` (sim/views/charts/ranges.py): RangeRuns
# in,
# a Figure out; ``applicable(runs)`` names those that fit, ``render_ranges`` draws them.

# Limits of what can be drawn legibly (inches) and written in reasonable time (pixels).
MIN_SIZE = (6.0, 4.0)
MAX_SIZE = (40.0, 40.0)
DPI_RANGE = (50, 600)
MAX_PIXELS = 12_000  # on either side


def parse_list(text: str, accepted: Iterable[str], what: str) -> tuple[str, ...]:
    """``"png, svg"`` -> ``("png", "svg")``; an unknown or empty item is a ``ValueError``
    naming what is accepted."""
    accepted = tuple(accepted)
    items = tuple(dict.fromkeys(p.strip().lower() for p in text.split(",") if p.strip()))
    unknown = [p for p in items if p not in accepted]
    if unknown or not items:
        got = f"unknown {what} {', '.join(map(repr, unknown))}" if unknown else f"no {what}"
        raise ValueError(f"{got}; choose from {', '.join(accepted)} (comma-separated)")
    return items


def parse_size(text: str) -> tuple[float, float]:
    """``"13.33x7.5"`` -> ``(13.33, 7.5)``, width by height in inches."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        width, height = (float(read_number(p.strip())) for p in parts)  # as every number
    except ValueError:
        raise ValueError(
            f"expected WIDTHxHEIGHT in inches such as 13.33x7.5, got {text!r}"
        ) from None
    return check_size((width, height))


def check_size(size: Sequence[float]) -> tuple[float, float]:
    width, height = (float(v) for v in size)
    if not (MIN_SIZE[0] <= width <= MAX_SIZE[0] and MIN_SIZE[1] <= height <= MAX_SIZE[1]):
        raise ValueError(
            f"a chart is {MIN_SIZE[0]:g} to {MAX_SIZE[0]:g} inches wide and {MIN_SIZE[1]:g} to "
            f"{MAX_SIZE[1]:g} high, got {width:g}x{height:g}"
        )
    return width, height


def check_dpi(dpi: int, size: Sequence[float] = SLIDE_SIZE) -> int:
    if not DPI_RANGE[0] <= dpi <= DPI_RANGE[1]:
        raise ValueError(f"dpi is {DPI_RANGE[0]} to {DPI_RANGE[1]}, got {dpi}")
    if max(size) * dpi > MAX_PIXELS:
        raise ValueError(
            f"{size[0]:g}x{size[1]:g} inches at {dpi} dpi is over {MAX_PIXELS:,} pixels a side; "
            "lower the dpi or the size"
        )
    return dpi


def render(
    run: RunLike,
    out_dir: str | os.PathLike[str],
    formats: Sequence[str] = ("png",),
    *,
    size: Sequence[float] = SLIDE_SIZE,
    dpi: int = DEFAULT_DPI,
    names: Sequence[str] | None = None,
) -> list[Path]:
    """Write ``out_dir/NAME.EXT`` for every chart in ``names`` (default: all of ``CHARTS``) and
    every format; returns the files written. Bad options raise ``ValueError`` before anything is
    drawn; a run folder whose metrics do not fit its scenario, ``ScenarioError``."""
    parse_list(",".join(formats), FORMATS, "chart format")
    names = list(CHARTS) if names is None else list(parse_list(",".join(names), CHARTS, "chart"))
    check_dpi(dpi, check_size(size))
    check_metrics(run)
    charts = {name: CHARTS[name] for name in names}
    return render_table(run, out_dir, formats, charts=charts, size=size, dpi=dpi)


def render_table(
    table: Any,
    out_dir: str | os.PathLike[str],
    formats: Sequence[str] = ("png",),
    *,
    charts: Mapping[str, Callable[..., Figure]] = SENSITIVITY_CHARTS,
    size: Sequence[float] = SLIDE_SIZE,
    dpi: int = DEFAULT_DPI,
) -> list[Path]:
    """``out_dir/NAME.EXT`` for every chart in ``charts`` drawn from ``table`` (a run, a
    sensitivity table, many runs) and every format; returns the files written."""
    parse_list(",".join(formats), FORMATS, "chart format")
    size = check_size(size)
    check_dpi(dpi, size)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in charts.items():
        fig = draw(table, size=size)
        for fmt in formats:
            written.append(save(fig, out / f"{name}.{fmt.lower()}", dpi=dpi))
        fig.clear()  # no pyplot: the figure goes with its last reference
    return written


def render_ranges(
    runs: RangeRuns,
    out_dir: str | os.PathLike[str],
    formats: Sequence[str] = ("png",),
    *,
    size: Sequence[float] = SLIDE_SIZE,
    dpi: int = DEFAULT_DPI,
    names: Sequence[str] | None = None,
) -> list[Path]:
    """``out_dir/NAME.EXT`` for every range chart in ``names`` (default: those ``applicable``
    to ``runs``) and every format; returns the files written."""
    chosen = (
        applicable(runs) if names is None else parse_list(",".join(names), RANGE_CHARTS, "chart")
    )
    charts = {n: RANGE_CHARTS[n] for n in chosen}
    return render_table(runs, out_dir, formats, charts=charts, size=size, dpi=dpi)


def redraw(
    folder: str | os.PathLike[str],
    formats: Sequence[str] = ("png",),
    *,
    size: Sequence[float] = SLIDE_SIZE,
    dpi: int = DEFAULT_DPI,
    names: Sequence[str] | None = None,
) -> list[Path]:
    """Draw charts again from a finished run folder's files into ``folder/charts/``, which is
    replaced whole once every file is written (charts not redrawn now are kept). A missing,
    incomplete or damaged run folder is a ``ScenarioError`` naming the file."""
    from sim.io.output import read_run, refuse_links, write_atomically

    run = read_run(folder)
    charts = Path(folder) / "charts"
    refuse_links(Path(folder), ["charts"])
    if charts.exists() and not charts.is_dir():
        raise ScenarioError("this exists and is not a folder", file=str(charts))
    kept = sorted(charts.iterdir()) if charts.is_dir() else []
    refuse_links(charts, [p.name for p in kept])  # never copy what a link points to
    written: list[Path] = []

    def fill(tmp: Path) -> None:
        for p in kept:
            if p.is_file():
                shutil.copy2(p, tmp / p.name, follow_symlinks=False)
        written.extend(render(run, tmp, formats, size=size, dpi=dpi, names=names))

    try:
        write_atomically(charts, fill, check=False)
    except PermissionError as e:
        raise ScenarioError(f"cannot write charts here: {e.strerror}", file=str(charts)) from None
    return [charts / p.name for p in written]


def check_metrics(run: RunLike) -> None:
    """A saved run's metrics must describe its scenario (each investor and lab, each metric):
    a run folder put together from two runs, or edited by hand, is refused here rather than
    drawn wrong."""
    m: Any = run.metrics_dict()
    where = getattr(run, "folder", None)
    problems = []
    for block, agents, names in (
        ("investors", run.scenario.investors, INVESTOR_METRICS),
        ("labs", run.scenario.labs, LAB_METRICS),
    ):
        entries = m.get(block) if isinstance(m, dict) else None
        for agent in agents:
            entry = entries.get(agent) if isinstance(entries, dict) else None
            if not isinstance(entry, dict):
                problems.append(f"{block}.{agent} missing")
                continue
            for n in names:
                if n not in entry:
                    problems.append(f"{block}.{agent}.{n} missing")
                elif not _valid(entry[n], is_date=n in DATES or n in LAB_DATES):
                    problems.append(f"{block}.{agent}.{n} invalid")
    if problems:
        shown = ", ".join(problems[:3]) + (f" and {len(problems) - 3} more" if problems[3:] else "")
        raise ScenarioError(
            f"does not match the run's scenario ({shown}); run the scenario again",
            file=str(Path(where) / "metrics.json") if where else None,
        )


def _valid(value: object, *, is_date: bool) -> bool:
    """A metric as metrics.json holds it: a finite number (an ISO date for dates) or null."""
    from sim.io.readback import finite_number, iso_date

    return value is None or (iso_date(value) if is_date else finite_number(value))


__all__ = [
    "CHARTS",
    "COMPARE_CHARTS",
    "DEFAULT_DPI",
    "FORMATS",
    "RANGE_CHARTS",
    "SENSITIVITY_CHARTS",
    "SLIDE_SIZE",
    "ChartFunction",
    "RangeRuns",
    "applicable",
    "compare_chart",
    "cumulative_flows",
    "fan",
    "flow_diagram",
    "investor_cash",
    "lab_cash",
    "network_chart",
    "paths_chart",
    "redraw",
    "render",
    "render_ranges",
    "render_table",
    "run_vs_twin",
    "sweep_heatmap",
    "sweep_line",
    "tornado",
]
