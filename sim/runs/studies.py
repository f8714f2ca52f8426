"""The studies: a sweep, a Monte Carlo, a sensitivity and a comparison, each run end to end.

``sweep``, ``monte_carlo``, ``sensitivity`` and ``compare`` are ``sim.sweep`` and the others, and
what ``roundtrip sweep``, ``mc``, ``sensitivity`` and ``compare`` call: they take every option
the command takes and do everything it does (refuse an empty study, read the file at its first
point, map a scheduler to a backend, claim and check every output before the runs, pick the
headline figures, read the failed rows, draw the charts when asked), so that a notebook gets
what the command gets. The command only parses, prints and maps errors to exit codes. What the
figures mean (the tables, the indices) is sim.analysis's; this module decides what runs.

Charts. The views layer comes after runs, so nothing here imports it: a study asked for charts
is handed the chart functions as ``views``, the module ``sim.views.charts`` (the package's
public functions ``sim.sweep`` and the others, and the command line, pass it, and only then is
matplotlib imported). The alternative, a study that returns what to draw and leaves the drawing
to its caller, would split one output in two: the charts folder is claimed and checked before
the runs, and written inside the same claim after them.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from sim.analysis import sensitivity as swings
from sim.analysis import tables
from sim.analysis.compare import compare_table
from sim.errors import ScenarioError
from sim.inputs.document import Overrides, YamlDoc, apply_overrides, read_yaml
from sim.inputs.scenario import Scenario
from sim.io.output import check_folder, reserve, write_atomically
from sim.runs import farm
from sim.runs.runner import run, run_batch
from sim.runs.single import ChartAsk, Say, UsageError, chart_ask, note_ranges, read_one

if TYPE_CHECKING:
    import pandas as pd

    from sim.ranges.vary import Points, Template

# the figures a user reads first, per investor that owns a cloud: what the investment caused,
# then the traced round trip
# caused revenue as booked with cash beside it, caused profit as booked, the net cost, and the
# traced round trip
HEADLINE = (
    "incremental_revenue_booked",
    "incremental_revenue",
    "incremental_profit_booked",
    "net_cost",
    "round_trip_ratio",
)
BY_RUN_UP_TO = 30  # a sweep of at most this many points shows a row per point, not percentiles


def _template(path: str | os.PathLike[str], overrides: Overrides, rescale: bool = True) -> Template:
    from sim.ranges.vary import load_template

    return load_template(path, list(overrides or ()), rescale=rescale)


# ---- sweeps and Monte Carlo ---------------------------------------------------------------------
def sweep(
    scenario: str | os.PathLike[str],
    vary: Sequence[str] = (),
    *,
    overrides: Overrides = (),
    out: str | os.PathLike[str] | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    connect_timeout: float = farm.CONNECT_TIMEOUT,
    chunk_runs: int = farm.CHUNK_RUNS,
    charts: str | Sequence[str] | None = None,
    chart_size: str | tuple[float, float] | None = None,
    dpi: int | None = None,
    rescale: bool = True,
    progress: bool | None = None,
    backend: str | None = None,
    views: ModuleType | None = None,
) -> pd.DataFrame:
    """Every point of the grid of the file's ``sweep:`` and ``vary`` (``PATH=SPEC``), a row
    each, as ``roundtrip sweep`` runs it; see ``monte_carlo`` for the options and what is
    returned."""
    from sim.ranges.vary import grid_points

    ask = chart_ask(charts, chart_size, dpi, views)
    template = _template(scenario, overrides, rescale)
    jobs = grid_points(template, list(vary))
    if not template.ranges.sweeps and not vary:
        raise ScenarioError(
            "nothing to sweep: give --vary PATH=SPEC (a list a,b,c or a range LO..HI:N), or a "
            "sweep: section in the file",
            file=str(scenario),
        )
    where = _Where(out, scheduler, workers, connect_timeout, chunk_runs, progress, backend)
    return _ranges("sweep", jobs, None, where, ask)


def monte_carlo(
    scenario: str | os.PathLike[str],
    runs: int = 1000,
    seed: int = 0,
    vary: Sequence[str] = (),
    *,
    overrides: Overrides = (),
    out: str | os.PathLike[str] | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    connect_timeout: float = farm.CONNECT_TIMEOUT,
    chunk_runs: int = farm.CHUNK_RUNS,
    charts: str | Sequence[str] | None = None,
    chart_size: str | tuple[float, float] | None = None,
    dpi: int | None = None,
    rescale: bool = True,
    progress: bool | None = None,
    backend: str | None = None,
    views: ModuleType | None = None,
) -> pd.DataFrame:
    """``runs`` draws of the file's distributions and ``vary`` (``PATH~DIST``), a row each, as
    ``roundtrip mc`` runs them: the same ``seed`` gives the same rows on every backend.

    ``scheduler``: None runs here, ``"local"`` on a Dask LocalCluster of ``workers``, an
    address (``tcp://HOST:PORT``) on a running one (``backend``, one of ``farm.BACKENDS``, may
    name the backend instead). ``out`` is the results file (Parquet, with its series file
    beside it); without it the rows are written to a temporary folder, removed before this
    returns. ``charts`` (formats such as ``"png,svg"``, with ``out``) draws the range charts
    that apply into ``<out stem>.charts/``. Returns the rows (run_id, ``in:<path>`` inputs,
    every metric, error) with ``attrs``: kind, name (the scenario's), varied, seed, path and
    series (None without ``out``), runs, errors, failed (``(run_id, error)``), charts (the
    files drawn; None if not asked), and the headline figures' columns and ``by_run``
    (``headline(rows)`` gives the table the command prints)."""
    from sim.ranges.vary import draw_points

    ask = chart_ask(charts, chart_size, dpi, views)
    template = _template(scenario, overrides, rescale)
    if not template.ranges.distributions and not vary:
        raise ScenarioError(
            "nothing to draw: give --vary 'PATH~normal(MEAN,SD)' (or uniform, lognormal, "
            "triangular, choice), or write a distribution in the file",
            file=str(scenario),
        )
    jobs = draw_points(template, runs, seed, list(vary))
    where = _Where(out, scheduler, workers, connect_timeout, chunk_runs, progress, backend)
    return _ranges("mc", jobs, seed, where, ask)


def default_out(scenario: str | os.PathLike[str], kind: str) -> Path:
    """Where ``roundtrip sweep`` and ``mc`` write: ``runs/<file name>.<kind>.parquet``."""
    return Path("runs") / f"{Path(scenario).stem}.{kind}.parquet"


@dataclass(frozen=True)
class _Where:
    """Where and how the runs of a sweep or Monte Carlo go."""

    out: str | os.PathLike[str] | None
    scheduler: str | None
    workers: int | None
    connect_timeout: float
    chunk_runs: int
    progress: bool | None
    backend: str | None

    def backend_name(self) -> str:
        """The farm backend: ``backend`` if given, else the scheduler's (none: this process)."""
        if self.workers is not None and self.scheduler != "local" and self.backend is None:
            raise UsageError(
                "--workers sets the workers of a local cluster: add --scheduler local (a "
                "scheduler at an address has workers of its own)"
            )
        if self.backend is not None:
            if self.scheduler is not None:
                raise UsageError("give a scheduler or a backend, not both")
            return self.backend
        if self.scheduler is None:
            return "local"
        return "dask-local" if self.scheduler == "local" else self.scheduler


def _ranges(
    kind: str, jobs: Points, seed: int | None, where: _Where, ask: ChartAsk | None
) -> pd.DataFrame:
    """Run ``jobs`` (points of the template, made on the worker) through the farm, draw the
    range charts that apply when asked, and give the rows with what the command prints."""
    from sim.ranges.vary import first_point

    backend = where.backend_name()
    base = first_point(jobs.template)[1]  # the file's scenario, at the sweep's first point
    # a point standing for them all is made here (a grid's first, the medians of draws): a spec
    # that names a whole agent, or a range that starts out of bounds, is refused before any run
    jobs.check()
    if ask is not None and where.out is None:
        raise UsageError("charts= needs out=: the charts are drawn beside the results file")
    varied = sorted(jobs.varied)
    options: dict[str, Any] = {
        "backend": backend,
        "workers": where.workers,
        "chunk_runs": where.chunk_runs,
        "seed": seed,
        "varied": varied,
        "scenario": base,
        "total": len(jobs),
        "kind": kind,
        "connect_timeout": where.connect_timeout,
        "progress": where.progress,
    }
    made = ((k, inputs, s) for k, (inputs, s) in enumerate(jobs))
    if where.out is None:
        with tempfile.TemporaryDirectory(prefix="roundtrip-") as tmp:
            done = farm.farm(made, Path(tmp) / f"{kind}.parquet", series=False, **options)
            rows = farm.read(done.path)
        rows.attrs.update(path=None, series=None, charts=None)
    else:
        rows, drawn = _farm_with_charts(made, Path(where.out), options, ask)
        done_path = Path(os.path.abspath(where.out))
        rows.attrs.update(path=done_path, series=farm.series_path(done_path), charts=drawn)
    rows.attrs.update(kind=kind, varied=varied, seed=seed)
    _summarise(rows, kind, base, varied)
    return rows


def _farm_with_charts(
    made: Iterator[farm.Job], out: Path, options: dict[str, Any], ask: ChartAsk | None
) -> tuple[pd.DataFrame, list[Path] | None]:
    """Farm to ``out``; with charts, the charts folder claimed and checked before the runs and
    written whole after them (none when no chart applies)."""
    drawn: list[Path] = []
    with contextlib.ExitStack() as claimed:
        if ask is not None:  # the charts' folder too is checked and claimed before the runs
            folder = Path(os.path.abspath(out)).with_name(f"{out.stem}.charts")
            about = {"kind": "range charts", "scenario": str(folder.with_name(out.name))}
            claimed.enter_context(reserve(folder))
            check_folder(folder, about, force=False, can_force=False)
        done = farm.farm(made, out, **options)
        if ask is not None:
            from_views = ask.views.ranges.range_runs  # sim.views.charts.ranges
            base, varied, kind = options["scenario"], options["varied"], options["kind"]
            runs = from_views(done.path, base, varied=varied, kind=kind, series=done.series)
            if ask.views.applicable(runs):

                def fill(tmp: Path) -> None:  # drawn in a temporary folder, then published
                    files = ask.views.render_ranges(
                        runs, tmp, ask.formats, size=ask.size, dpi=ask.dpi
                    )
                    drawn.extend(folder / f.name for f in files)

                write_atomically(folder, fill, about=about)
    return farm.read(done.path), (drawn if ask is not None else None)


def _summarise(rows: pd.DataFrame, kind: str, base: Scenario, varied: list[str]) -> None:
    """Put in ``rows.attrs`` what the command prints: runs, errors, the failed rows, and which
    headline figures (``headline``). Plain values only: pandas compares and copies ``attrs``."""
    owners = [i for i, inv in base.investors.items() if inv.owns] or list(base.investors)
    failed = rows.loc[rows["error"].notna(), ["run_id", "error"]]
    rows.attrs.update(
        name=base.name,
        runs=len(rows),
        errors=len(failed),
        failed=[(int(r), str(e)) for r, e in zip(failed["run_id"], failed["error"], strict=True)],
        headline=[f"{inv}.{m}" for inv in owners for m in HEADLINE],
        by_run=kind == "sweep" and len(rows) <= BY_RUN_UP_TO,
    )


def headline(rows: pd.DataFrame) -> pd.DataFrame:
    """The figures the command prints of the rows ``sweep`` or ``monte_carlo`` returned: a row
    per point of a small sweep (``attrs["by_run"]``), indexed by the varied inputs, else the
    percentiles over the runs; the columns (or rows) ``attrs["headline"]``."""
    names, varied = rows.attrs["headline"], rows.attrs["varied"]
    if not rows.attrs["by_run"]:
        return farm.percentiles(rows, names)
    table = rows.set_index([f"in:{v}" for v in varied])[names]
    table.index.names = varied
    return table


def _named_by(rows: pd.DataFrame) -> Scenario | None:
    """The scenario whose labels and input names the printed table uses: the one the results
    file holds (None without a file: ids and paths then)."""
    from sim.inputs.loader import parse_resolved

    path = rows.attrs["path"]
    return None if path is None else parse_resolved(farm.read_metadata(path)["scenario"], str(path))


def ranges_lines(rows: pd.DataFrame) -> list[tuple[str, bool]]:
    """What ``roundtrip sweep`` and ``mc`` print about a study ``sweep`` or ``monte_carlo``
    returned: ``(line, on_stderr)``, the failed runs on stderr, the rest on stdout."""
    a = rows.attrs
    lines = [(f"{a['runs']:,} runs of {a['name']!r}, {a['errors']:,} with an error", False)]
    lines += [(f"  run {r}: {e}", True) for r, e in a["failed"][:3]]
    if len(a["failed"]) > 3:
        lines.append((f"  ... and {len(a['failed']) - 3:,} more (the error column)", True))
    if not a["by_run"]:
        lines.append(("percentiles over the runs:", False))
    lines.append((tables.text(headline(rows), scenario=_named_by(rows)).to_string(), False))
    if a["path"] is not None:
        wrote = f"\nWrote {a['path']}: a row per run, its inputs (in:<path>) and every metric."
        lines.append((wrote, False))
        wrote = f"Wrote {a['series']}: per run, date and investor, what was caused so far."
        lines.append((wrote, False))
    if a["charts"] is not None:
        folder = a["path"].with_name(f"{a['path'].stem}.charts")
        drawn = ", ".join(p.name for p in a["charts"])
        none = f"No chart applies to a {a['kind']} over {len(a['varied'])} inputs: none drawn."
        lines.append((f"Wrote {folder}/: {drawn}" if a["charts"] else none, False))
    return lines


# ---- sensitivity -------------------------------------------------------------------------------
def sensitivity(
    scenario: Scenario | str | os.PathLike[str],
    metric: str = "incremental_profit",
    investor: str | None = None,
    swing: float = 0.2,
    method: str = "oat",
    *,
    overrides: Overrides = (),
    samples: int = 256,
    top: int = 8,
    seed: int | None = None,
    out: str | os.PathLike[str] | None = None,
    charts: str | Sequence[str] | None = None,
    chart_size: str | tuple[float, float] | None = None,
    dpi: int | None = None,
    force: bool = False,
    views: ModuleType | None = None,
    say: Say | None = None,
) -> pd.DataFrame:
    """``roundtrip sensitivity``: the table of ``sim.analysis.sensitivity.sensitivity`` (a row
    per numeric input ranked by its swing, or with ``method="sobol"`` the Sobol indices of the
    ``top`` inputs), the runs made here in batches. A file with a sweep or distributions is
    read at its first point and medians (``say`` is told). With ``out``, the folder gets
    sensitivity.csv and, with ``charts``, the tornado chart; it is checked and claimed before
    the runs, and replaces only an output of roundtrip's (another kind or scenario only with
    ``force``). ``attrs`` lists the ``files`` written."""
    ask = chart_ask(charts, chart_size, dpi, views, alone=True)
    if ask is not None and out is None:
        raise UsageError("--charts needs --out DIR, the folder to draw into")
    written: list[str] = []
    with contextlib.ExitStack() as claimed:
        if out is not None:  # checked and claimed before the runs, published whole after
            about = {
                "kind": "sensitivity",
                "scenario": _about(scenario),
                "overrides": list(overrides or ()),
            }
            claimed.enter_context(reserve(out))
            check_folder(out, about, force=force)
        swings.check_options(method, swing, samples, top, seed)
        doc = _doc(scenario, overrides, say)
        table = swings.sensitivity(
            doc, metric_of, metric, investor, swing, method, samples=samples, top=top, seed=seed
        )
        if out is not None:

            def fill(tmp: Path) -> None:
                (tmp / "sensitivity.csv").write_text(swings.to_csv(table))
                written.append("sensitivity.csv")
                if ask is not None:
                    paths = ask.views.render_table(
                        table, tmp, ask.formats, size=ask.size, dpi=ask.dpi
                    )
                    written.extend(p.name for p in paths)

            write_atomically(out, fill, about=about)
    table.attrs["files"] = written
    return table


def _about(scenario: Scenario | str | os.PathLike[str]) -> str:
    """The scenario a sensitivity folder's marker names: the file's real path."""
    if isinstance(scenario, Scenario):
        return os.path.realpath(scenario.source) if scenario.source else scenario.name
    return os.path.realpath(scenario)


def _doc(
    scenario: Scenario | str | os.PathLike[str], overrides: Overrides, say: Say | None
) -> YamlDoc:
    """The inputs as written, at the file's first point: the file itself (its sweep at its
    first point, its distributions at their medians, as ``run`` reads it), or a Scenario's
    resolved YAML."""
    if isinstance(scenario, Scenario):
        from sim.inputs.resolved import resolved_yaml

        doc = read_yaml(resolved_yaml(scenario), scenario.source or "<scenario>")
        return apply_overrides(doc, overrides or None)
    from sim.ranges.vary import at_first_point

    template = _template(scenario, overrides)
    note_ranges(scenario, template, say)
    return at_first_point(template.doc)


def metric_of(scenarios: Sequence[Scenario], metric: str, investor: str) -> npt.NDArray[np.float64]:
    """The metric of every scenario (dollars, or a fraction) for ``investor``, run in batches of
    ``sim.analysis.sensitivity.BATCH``."""
    out: list[float] = []
    for i in range(0, len(scenarios), swings.BATCH):
        batch = run_batch(scenarios[i : i + swings.BATCH], record="flows", bounds=False)
        frame = batch.metrics.xs(investor, level="investor")
        out += frame[metric].astype(float).tolist()
    return np.array(out, dtype=np.float64)


# ---- comparison --------------------------------------------------------------------------------
def compare(
    scenarios: Sequence[Scenario | str | os.PathLike[str]],
    overrides: Overrides = (),
    *,
    say: Say | None = None,
) -> pd.DataFrame:
    """``roundtrip compare``: each scenario run, one column each (its file's stem, made
    unique), one row per (kind, agent label, metric), as ``sim.analysis.compare.compare_table``
    lays them out. A path is read with ``overrides`` at its first point and medians (``say``
    is told); a Scenario given directly is taken as it is."""
    if not scenarios:
        raise ScenarioError("nothing to compare: give at least one scenario file")
    loaded = [s if isinstance(s, Scenario) else read_one(s, overrides, say=say) for s in scenarios]
    results = [run(s, keep_balances=False) for s in loaded]
    table = compare_table(loaded, results)
    # what a chart of the table names each column by: the scenario's name and its file
    table.attrs["names"] = {c: s.name for c, s in zip(table.columns, loaded, strict=True)}
    table.attrs["sources"] = {
        c: Path(s.source).name if s.source else None
        for c, s in zip(table.columns, loaded, strict=True)
    }
    return table
