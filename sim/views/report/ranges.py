"""The report of many runs: a sweep's or a Monte Carlo's results file as PDF or HTML.

``build_range_report("runs/x.mc.parquet", "report.pdf")`` reads the file ``roundtrip sweep`` or
``roundtrip mc`` wrote (its metadata holds the scenario, the seed, the version and the varied
inputs; ``sim.views.charts.ranges.read_ranges``) and writes: the question; what varied and over
which
values; per investor that owns a cloud, what the investment caused across the runs (p5 to p95,
or a row per point for a sweep of up to 30 points) and the traced round trip beside it, with the
sentences that read them; the runs that failed and why; the range charts that apply (a line, a
heatmap or a fan); and the scenario's inputs at the file's first point. Laid out like the report
of one run (``sim/views/report/pdf.py``, ``html.py``); the same file gives the same bytes.
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.analysis import causes
from sim.analysis.tables import money, percent
from sim.errors import ScenarioError
from sim.inputs.names import input_name
from sim.inputs.scenario import Scenario
from sim.views.charts.ranges import RANGE_CHARTS, RangeRuns, applicable, read_ranges, show_input
from sim.views.charts.ranges import source_line as range_source
from sim.views.report.content import (
    Assumption,
    Points,
    Table,
    assumptions,
    linked,
    question,
    rate,
    roundtrip_version,
)

POINT_ROWS = 30  # a sweep of up to this many points gets a row per point

# label, metric, how its value is written: what was caused first, then the traced figures
ROWS: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
    ("incremental revenue", "incremental_revenue", money),
    ("incremental profit", "incremental_profit", money),
    ("PV incremental profit", "pv_incremental_profit", money),
    ("net cost: PV invested less PV incremental profit", "net_cost", money),
    ("round trip (traced)", "round_trip", money),
    ("round-trip ratio (traced)", "round_trip_ratio", percent),
)
CAUSED_OF = ("incremental_revenue", "incremental_profit", "pv_incremental_profit", "net_cost")
HEADING = "What the investment caused, across the runs"


@dataclass(frozen=True)
class RangeContent:
    """Everything a range report says, in order (the charts aside)."""

    title: str
    subtitle: str
    question: str
    varied: Table  # an input a row: what values it took
    varied_note: str
    figures: tuple[tuple[str, Table, str, tuple[Points, ...]], ...]  # per investor
    failed: str  # how many runs failed, and the first reasons ("" if none)
    assumptions: tuple[Assumption, ...]  # the inputs at the file's first point
    source: str
    version: str

    @property
    def source_and_version(self) -> str:
        return f"{self.source} roundtrip {self.version}."


def _owners(s: Scenario) -> list[str]:
    """The investors whose figures the report gives: those that own a cloud (all, if none)."""
    return [i for i, inv in s.investors.items() if inv.owns] or list(s.investors)


def _shown(value: Any, runs: RangeRuns, path: str) -> str:
    """An input's value in its own units (35%, $10.00B), or as written if it is no number."""
    try:
        return show_input(value, runs.kinds.get(path))
    except (TypeError, ValueError):
        return str(value)


def _values(runs: RangeRuns, path: str) -> str:
    """The values an input took: every one for a sweep (up to eight), else p5, median, p95."""
    column = runs.results[f"in:{path}"]
    if runs.kind == "sweep":
        seen = list(dict.fromkeys(column.tolist()))
        shown = [_shown(v, runs, path) for v in seen[:8]]
        more = f", ... ({len(seen):,} values)" if len(seen) > 8 else ""
        return ", ".join(shown) + more
    try:
        numbers = column.astype(float)
    except (TypeError, ValueError):
        counts = column.value_counts()
        return ", ".join(f"{_shown(v, runs, path)} ({n:,} runs)" for v, n in counts.items())
    p5, p50, p95 = (_shown(numbers.quantile(q), runs, path) for q in (0.05, 0.5, 0.95))
    return f"p5 {p5}, median {p50}, p95 {p95}"


def _percentile_table(runs: RangeRuns, investor: str) -> Table:
    ok = runs.ok
    qs = (0.05, 0.25, 0.5, 0.75, 0.95)
    rows = []
    for label, metric, fmt in ROWS:
        column = ok[f"{investor}.{metric}"].astype(float)
        rows.append((label, *(fmt(_number(column.quantile(q))) for q in qs)))
    return Table(("", "p5", "p25", "median", "p75", "p95"), tuple(rows))


def _number(v: Any) -> float | None:
    return None if v != v else float(v)  # nan: no run had it


def _point_table(runs: RangeRuns, investor: str) -> Table:
    """A row per point of a sweep: the inputs (by their human names), then the figures."""
    inputs_header = "; ".join(input_name(runs.scenario, p) for p in runs.varied)
    header = (inputs_header, "incremental revenue", "incremental profit", "net cost",
              "round-trip ratio (traced)")  # fmt: skip
    rows: list[tuple[str, ...]] = []
    for _, row in runs.results.iterrows():
        inputs = "; ".join(_shown(row[f"in:{p}"], runs, p) for p in runs.varied)
        if isinstance(row.get("error"), str):
            rows.append((inputs, "failed", "", "", ""))
            continue
        figures = [
            money(_number(row[f"{investor}.{m}"]))
            for m in ("incremental_revenue", "incremental_profit", "net_cost")
        ]
        rows.append((inputs, *figures, percent(_number(row[f"{investor}.round_trip_ratio"]))))
    return Table(header, tuple(rows))


def _reading(runs: RangeRuns, investor: str) -> tuple[Points, ...]:
    """Sentences that read an investor's figures across the runs."""
    s, ok = runs.scenario, runs.ok
    name = s.label(investor)
    if ok.empty:
        return ((name, ("No run finished without an error.",)),)

    def q(metric: str, p: float) -> float | None:
        return _number(ok[f"{investor}.{metric}"].astype(float).quantile(p))

    clouds = ", ".join(s.label(c) for c in s.investors[investor].owns) or "its clouds"
    n = len(ok)
    what = "investment and the contracts that came with it" if linked(s, investor) else "investment"
    rev = "incremental_revenue_booked"
    points = [
        f"In half of the {n:,} runs, {name}'s {what} caused between "
        f"{money(q(rev, 0.25))} and {money(q(rev, 0.75))} of revenue at {clouds} as booked "
        f"(against each run's twin without it), and in nine runs out of ten between "
        f"{money(q(rev, 0.05))} and {money(q(rev, 0.95))}. Deciding assumption: "
        f"{causes.assumption(s, investor)}.",
        f"Its incremental profit had a median of {money(q('incremental_profit', 0.5))}; the "
        f"stake's net cost (PV invested less PV incremental profit) a median of "
        f"{money(q('net_cost', 0.5))}, from {money(q('net_cost', 0.05))} (p5) to "
        f"{money(q('net_cost', 0.95))} (p95).",
        f"Traced through the ledger, a median of {percent(q('round_trip_ratio', 0.5))} of what it "
        "invested came back to its clouds as their own dollars: a label on the money, not an "
        "effect.",
    ]
    if runs.kind == "sweep":
        points = _sweep_points(runs, investor, what, clouds)
    return ((name, tuple(points)),)


def _sweep_points(runs: RangeRuns, investor: str, what: str, clouds: str) -> list[str]:
    """A sweep read from its lowest to its highest figure, each at the point that gave it
    (percentiles over the points of a grid would weigh its spacing, not a likelihood)."""
    ok = runs.ok

    def at(metric: str, pick: str) -> tuple[str, str]:
        column = ok[f"{investor}.{metric}"].astype(float).to_numpy()
        row = ok.iloc[int(column.argmin() if pick == "min" else column.argmax())]
        where = "; ".join(
            f"{input_name(runs.scenario, p)} {_shown(row[f'in:{p}'], runs, p)}" for p in runs.varied
        )
        fmt = percent if metric == "round_trip_ratio" else money
        return fmt(_number(row[f"{investor}.{metric}"])), where

    name = runs.scenario.label(investor)
    lo, lo_at = at("incremental_revenue", "min")
    hi, hi_at = at("incremental_revenue", "max")
    cost_lo, cost_lo_at = at("net_cost", "min")
    cost_hi, cost_hi_at = at("net_cost", "max")
    ratio_lo, _ = at("round_trip_ratio", "min")
    ratio_hi, _ = at("round_trip_ratio", "max")
    return [
        f"Over the {len(ok):,} points, {name}'s {what} caused from {lo} ({lo_at}) to {hi} "
        f"({hi_at}) of revenue at {clouds}, against each point's twin without it.",
        f"The stake's net cost (PV invested less PV incremental profit) ran from {cost_lo} "
        f"({cost_lo_at}) to {cost_hi} ({cost_hi_at}).",
        f"Traced through the ledger, from {ratio_lo} to {ratio_hi} of what it invested came back "
        "to its clouds as their own dollars: a label on the money, not an effect.",
    ]


def range_content(runs: RangeRuns, meta: dict[str, Any] | None = None) -> RangeContent:
    """Everything the report of ``runs`` says, as text and tables; ``meta``, the results
    file's metadata (``sim.runs.farm.read_metadata``), says whether the job was stopped early."""
    s, r = runs.scenario, runs.results
    meta = meta or {}
    stopped = ""
    if meta.get("complete") is False:
        total = meta.get("runs_total")
        of = f" of {total:,}" if isinstance(total, int) else ""
        stopped = f", stopped early: {len(r):,}{of} runs kept"
    what = "sweep" if runs.kind == "sweep" else "Monte Carlo"
    errors = int(r["error"].notna().sum()) if "error" in r.columns else 0
    seed = f", seed {runs.seed}" if runs.kind == "mc" and runs.seed is not None else ""
    varied = Table(
        ("input", "values"),
        tuple((input_name(s, p), _values(runs, p)) for p in runs.varied) or (("none", ""),),
    )
    figures = []
    for investor in _owners(s):
        if runs.kind == "sweep" and len(r) <= POINT_ROWS:
            table = _point_table(runs, investor)
        else:
            table = _percentile_table(runs, investor)
        with_it = linked(s, investor)
        package = (
            f"the investment and the contracts that came with it ({', '.join(with_it)})"
            if with_it
            else "the investment"
        )
        note = (
            "Each run's figures are that run less its counterfactual twin (the same run without "
            f"{package}); PV at {rate(s)} a year from {s.start.isoformat()}. "
            + (
                "A row per point of the grid. "
                if runs.kind == "sweep" and len(r) <= POINT_ROWS
                else "Percentiles over the runs without an error. "
            )
            + "Definitions: docs/metrics.md."
        )
        figures.append((f"{HEADING}: {s.label(investor)}", table, note,
                        _reading(runs, investor)))  # fmt: skip
    failed = ""
    if errors:
        first = r[r["error"].notna()].head(3)
        reasons = "; ".join(f"run {int(k)}: {e}" for k, e in zip(first["run_id"], first["error"],
                                                                     strict=True))  # fmt: skip
        failed = f"{errors:,} of {len(r):,} runs failed and have no figures. {reasons}"
    return RangeContent(
        title=f"{s.name}: {what} of {len(r):,} runs",
        subtitle=(
            f"{s.start.isoformat()} to {s.end.isoformat()}, step {s.step}, tracing "
            f"{s.tracing.replace('_', '-')}{seed}, {errors:,} runs with an error{stopped}"
        ),
        question=question(s),
        varied=varied,
        varied_note=(
            "Every other input as in the file"
            + (" (a sweep in the file at its first point)" if runs.kind == "mc" else "")
            + "; the inputs at the file's first point are listed at the end."
        ),
        figures=tuple(figures),
        failed=failed,
        assumptions=assumptions(s),
        source=range_source(runs),
        version=roundtrip_version(),
    )


def _charts(runs: RangeRuns, size: tuple[float, float]) -> list[tuple[str, Any]]:
    return [(name, RANGE_CHARTS[name](runs, size=size)) for name in applicable(runs)]


def range_pdf(runs: RangeRuns, content: RangeContent, size: tuple[float, float], dpi: int) -> bytes:

    from sim.views.charts.style import MUTED, house_style
    from sim.views.report.pdf import (
        READING_WIDTH,
        Flow,
        assumptions_table,
        figure_columns,
        figure_section,
        write_pdf,
    )

    flow = Flow(size)
    width = min(flow.text_width, READING_WIDTH)
    flow.paragraph(content.title, 24, bold=True, after=0.02)
    flow.paragraph(content.subtitle, 12, colour=MUTED, after=0.2)
    flow.paragraph(content.question, 15, width=min(flow.text_width, 11.5))
    flow.heading("What varied", keep=1.0)
    flow.table(content.varied, figure_columns(content.varied, 11, flow.text_width), size=11)
    flow.paragraph(content.varied_note, 10, colour=MUTED, width=width)
    for heading, table, note, reading in content.figures:
        figure_section(flow, heading, table, note, reading)
    if content.failed:
        flow.heading("Runs that failed")
        flow.paragraph(content.failed, 11, width=width)
    front = [p for p in flow.pages if p]
    back = Flow(size)
    assumptions_table(back, content.assumptions, "Assumptions at the first point")
    backs = [p for p in back.pages if p]

    with house_style():
        charts = [fig for _, fig in _charts(runs, size)]
    return write_pdf(content, front, charts, backs, size, dpi)


def range_html(
    runs: RangeRuns, content: RangeContent, size: tuple[float, float], dpi: int
) -> bytes:
    from sim.views.report.html import (
        assumptions_section,
        charts_section,
        page_end,
        page_top,
        points_html,
        table_html,
    )

    e = html.escape
    body = page_top(
        content.title,
        content.subtitle,
        content.source_and_version,
        content.version,
        content.question,
    )
    body += [
        '<section id="varied">',
        "<h2>What varied</h2>",
        table_html(content.varied),
        f'<p class="muted">{e(content.varied_note)}</p>',
        "</section>",
    ]
    for k, (heading, table, note, reading) in enumerate(content.figures):
        body += [
            f'<section id="figures-{k}">',
            f"<h2>{e(heading)}</h2>",
            table_html(table),
            f'<p class="muted">{e(note)}</p>',
            *points_html(reading),
            "</section>",
        ]
    if content.failed:
        body += ['<section id="failed">', "<h2>Runs that failed</h2>",
                 f"<p>{e(content.failed)}</p>", "</section>"]  # fmt: skip
    body += charts_section(_charts(runs, size), dpi)
    body += assumptions_section(content.assumptions, "Assumptions at the first point")
    body += page_end(content.source_and_version)
    return "\n".join([*body, ""]).encode("utf-8")


def read_results(path: str | os.PathLike[str]) -> RangeRuns:
    """A sweep's or Monte Carlo's results file, read for its report; a file that is not one
    (not there, not Parquet, not roundtrip's, its series file, damaged) is a ``ScenarioError``
    naming it."""
    from sim.io.readback import SERIES, parquet_file, results_stem
    from sim.runs.farm import WRITTEN_BY

    p = Path(path)
    if not p.is_file():
        raise ScenarioError("no such results file", file=str(p))
    remedy = "give the results file of roundtrip sweep or mc, or a scenario file"
    pf = parquet_file(p, remedy)
    if WRITTEN_BY not in (pf.metadata.metadata or {}):
        raise ScenarioError(
            "this Parquet file was not written by roundtrip sweep or mc (no roundtrip metadata)",
            file=str(p),
        )
    names = set(pf.schema_arrow.names)
    if set(SERIES.columns) <= names and "error" not in names:
        raise ScenarioError(
            f"this is the series file of a sweep or Monte Carlo; give its results file, "
            f"{results_stem(p)}",
            file=str(p),
        )
    return read_ranges(p)


def build_range_report(
    results: str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    size: Sequence[float] | None = None,
    dpi: int | None = None,
    force: bool = False,
) -> Path:
    """Write the report of a sweep's or Monte Carlo's results file as PDF or HTML, by the
    suffix of ``path``, whole or not at all (replacing, unless ``force``, only a report
    roundtrip wrote: ``sim.views.report.check_report_path``)."""
    from sim.views import charts
    from sim.views.charts.style import DEFAULT_DPI, SLIDE_SIZE
    from sim.views.report import check_report_path, write_file

    fmt = check_report_path(path, force=force)
    page = charts.check_size(size if size is not None else SLIDE_SIZE)
    dpi = dpi if dpi is not None else DEFAULT_DPI
    charts.check_dpi(dpi, page)
    from sim.runs.farm import read_metadata

    runs = read_results(results)
    content = range_content(runs, read_metadata(results))
    write = range_pdf if fmt == ".pdf" else range_html
    return write_file(Path(path), write(runs, content, page, dpi), force=force)
