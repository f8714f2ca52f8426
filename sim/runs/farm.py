"""Where many runs are farmed out: in chunks, here or on other processes or machines, each run's
metrics streamed to one Parquet file as its chunk finishes.

``farm(jobs, out)`` takes ``(run_id, inputs, scenario)`` jobs, however they were made (a sweep,
Monte Carlo draws), cuts them into chunks, runs the runs of one structure in a chunk as one batch
(``sim.run_batch``, every run with its counterfactual twins) and writes one row per run: its
id, its inputs, every investor and lab metric, and its error (null unless its scenario was
refused). Beside it, ``<out stem>.series.parquet`` holds each run's path over time: per grid date
and investor with a twin, what its investment had caused so far (``SERIES_COLUMNS``). A run
never depends on the batch it ran in, so the files are the same, run by run, on every backend
and for every chunk size. One batch of runs is ``sim/runs/runner.py``'s job; this
module only decides where batches run and where their rows go.

Chunks are sent as Scenario objects: pickled, a scenario of the $50B file is 7.5 kB and costs
~0.7 ms to send and read back, against ~7 ms to run it with its twins and ~40 ms to load it
again from a template and overrides on the worker.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import importlib.metadata
import itertools
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pyarrow as pa

from sim.analysis.metrics import (
    DATES,
    INVESTOR_METRICS,
    LAB_DATES,
    LAB_METRICS,
    LAB_MONEY,
    MONEY,
    Metrics,
)
from sim.errors import ScenarioError
from sim.inputs.resolved import resolved_yaml_with_sources
from sim.inputs.scenario import Scenario
from sim.io import publish
from sim.io.signals import held, published, raise_deferred

# what a caller of farm chooses a backend with (BACKENDS to max_workers), found here as well
from sim.runs.backends import BACKENDS as BACKENDS
from sim.runs.backends import CONNECT_TIMEOUT, Backend, TaskFuture, open_backend
from sim.runs.backends import check_address as check_address
from sim.runs.backends import check_workers as check_workers
from sim.runs.backends import local_cluster as local_cluster
from sim.runs.backends import max_workers as max_workers

if TYPE_CHECKING:
    import pandas as pd

    from sim.analysis.result import BatchResult
    from sim.ranges.vary import Point

# run id, the inputs that made it, its scenario, or a point that makes it on the worker
# (sim.ranges.vary.Point: a task then carries the template once and a few values a run)
Job = tuple[int, dict[str, Any], "Scenario | Point"]
# Runs per chunk: 1,000 runs of the $50B file take ~0.1 s with their twins on the flows
# recorder (~100 MiB at the peak), so the cost of sending a chunk and writing its row group (a
# few ms) is lost in it, and a Dask task is well above its ~1 ms of overhead. Smaller chunks
# are slower per run (benchmarks/bench_mc.py: 200 runs a chunk, about 1.3x).
CHUNK_RUNS = 1000
PERCENTILES = (5, 25, 50, 75, 95)
WRITTEN_BY = b"roundtrip.farm"  # the key every file farm writes carries in its metadata
# a lab's figures in cents: all but its dates and its share counts (the cap table)
# The series file: per run, grid date and investor with a twin, cumulative dollars caused
SERIES_METRICS = ("incremental_revenue", "incremental_profit")
SERIES_COLUMNS = ("run_id", "date", "investor", *SERIES_METRICS)


# ---- rows --------------------------------------------------------------------------------------
def metric_columns(scenario: Scenario) -> list[tuple[str, str, str]]:
    """``(column, agent, metric)`` for every metric a run of this structure gives: each
    investor's as ``<investor>.<metric>``, then each lab's as ``<lab>.<metric>``."""
    cols = [(f"{i}.{m}", i, m) for i in scenario.investors for m in INVESTOR_METRICS]
    return cols + [(f"{lab}.{m}", lab, m) for lab in scenario.labs for m in LAB_METRICS]


def _is_date(metric: str) -> bool:
    return metric in DATES or metric in LAB_DATES


def _fill(
    values: dict[str, np.ndarray], cols: list[tuple[str, str, str]], m: Metrics, at: Sequence[int]
) -> None:
    """Copy a batch's metrics (its first ``len(at)`` runs; the twins follow) into rows ``at``:
    money in dollars, ratios as they are, dates as days since the start (nan: none)."""
    n = len(at)
    for col, agent, metric in cols:
        block = m.investors.get(agent) or m.labs[agent]
        v = np.asarray(block[metric][:n], dtype=np.float64)
        if _is_date(metric):
            v = np.where(v < 0, np.nan, v)
        elif metric in MONEY or metric in LAB_MONEY:
            v = v / 100  # cents -> dollars
        values[col][list(at)] = v


class Chunk(NamedTuple):
    """A chunk's rows: one per run (``rows``), and its runs' paths over time (``series``)."""

    rows: pa.Table
    series: pa.Table


def made(job: Job) -> tuple[int, dict[str, Any], Scenario]:
    """The job with its scenario made (a Point's ``scenario()``); raises ScenarioError if the
    values make it invalid."""
    r, inputs, s = job
    return (r, inputs, s if isinstance(s, Scenario) else s.scenario())


def _base(job: Job) -> Scenario:
    """The scenario a file of these jobs is about: the job's own, or for a point its
    template's first point (a sweep's first point, distributions at their medians)."""
    s = job[2]
    if isinstance(s, Scenario):
        return s
    from sim.ranges.vary import first_point

    return first_point(s.template)[1]


def run_chunk(chunk: Sequence[Job]) -> Chunk:
    """Run a chunk of jobs and give its rows as Arrow tables, in the chunk's order.

    Its runs are grouped by structure (``sim.model.schedule.structure``: the calendar, the agents'
    and the deals' shapes; a sweep of the horizon makes a group per horizon) and each group runs
    as one batch: a run's figures do not depend on its batch, so the rows are the same for every
    chunk size. A point whose values make its scenario invalid is a row with its error, as is a
    run whose investors and labs are not the file's (the results file has one set of metric
    columns). If a group's batch is refused (``ScenarioError``), each of its runs is run alone,
    and a run refused alone is a row with its error and no metrics (and no series rows); any
    other error is a bug and is raised."""
    from sim.model.schedule import structure

    errors: list[str | None] = [None] * len(chunk)
    jobs: list[MadeJob] = []
    for k, job in enumerate(chunk):
        try:
            jobs.append(made(job))
        except ScenarioError as e:
            errors[k] = str(e)
            jobs.append((job[0], job[1], None))
    # the columns: the file's (a point's template at its first point), else the first job's
    cols = metric_columns(_base(chunk[0]))
    agents = list(dict.fromkeys(agent for _, agent, _ in cols))
    groups: dict[tuple[object, ...], list[int]] = {}
    memo: dict[int, object] = {}  # each agent's and deal's shape, by object, for the chunk
    for k, (_, _, s) in enumerate(jobs):
        if s is None:
            continue
        if [*s.investors, *s.labs] != agents:  # the agents metric_columns are of
            errors[k] = str(
                ScenarioError(
                    f"its investors and labs ({', '.join([*s.investors, *s.labs])}) are not "
                    f"the file's ({', '.join(agents)}): the runs of one results file share their "
                    "metric columns; vary an agent's inputs, not which agents there are",
                    file=s.source,
                )
            )
            jobs[k] = (jobs[k][0], jobs[k][1], None)
            continue
        groups.setdefault(structure(s, memo), []).append(k)
    values = {c: np.full(len(chunk), np.nan) for c, _, _ in cols}
    paths: list[RunPath | None] = [None] * len(chunk)  # per run: its path over time
    for ks in groups.values():
        _run_group(jobs, ks, cols, values, paths, errors)
    return Chunk(_table(chunk, jobs, cols, values, errors), _series_table(jobs, paths))


def _run_group(
    jobs: Sequence[MadeJob],
    ks: list[int],
    cols: list[tuple[str, str, str]],
    values: dict[str, np.ndarray],
    paths: list[RunPath | None],
    errors: list[str | None],
) -> None:
    """Run the jobs ``ks`` (of one structure) as one batch into rows ``ks``; if the batch is
    refused, each alone."""
    # on a worker, the engine is imported with the first chunk
    from sim.runs.runner import run_batch

    scenarios = [s for k in ks if (s := jobs[k][2]) is not None]
    # one structure: one calendar, the same investors with a twin
    grid = np.array(scenarios[0].grid(), dtype="datetime64[D]").astype("datetime64[s]")
    names = series_investors(scenarios[0])
    try:
        batch = run_batch(scenarios, record="flows", bounds=False)
        _fill(values, cols, batch.all_metrics, ks)
        for k, path in zip(ks, caused_paths(batch), strict=True):
            paths[k] = RunPath(path, grid, names)
    except ScenarioError:
        for k, s in zip(ks, scenarios, strict=True):
            try:
                alone = run_batch([s], record="flows", bounds=False)
                _fill(values, cols, alone.all_metrics, [k])
                paths[k] = RunPath(caused_paths(alone)[0], grid, names)
            except ScenarioError as e:
                errors[k] = str(e)


class RunPath(NamedTuple):
    """One run's path over time: ``caused`` ``[date, investor, metric]`` cents, on its own
    ``grid`` of dates, for its ``investors`` with a twin."""

    caused: np.ndarray
    grid: np.ndarray
    investors: list[str]


def caused_paths(batch: BatchResult) -> np.ndarray:
    """Per run of ``batch`` (its twins are not runs), grid date and investor with a twin, the
    cumulative cents its investment had caused by that date: ``[run, date, investor, metric]``,
    metrics as ``SERIES_METRICS``, by the one caused rule (``sim.analysis.caused``); at the last
    date each equals the metric of its name."""
    from sim.analysis.caused import caused_by_date

    investors = series_investors(batch.scenarios[0])
    return caused_by_date(batch.data, batch.all_metrics.twins, investors, SERIES_METRICS)


def series_investors(scenario: Scenario) -> list[str]:
    """The investors a series file has rows for: those with a twin (they own a cloud and
    invest), in file order."""
    investing = {d.investor for d in scenario.investments}
    return [i for i, inv in scenario.investors.items() if inv.owns and i in investing]


MadeJob = tuple[int, dict[str, Any], Scenario | None]  # None: its values made it invalid


def _series_table(chunk: Sequence[MadeJob], paths: Sequence[RunPath | None]) -> pa.Table:
    """A chunk's series rows, long form, a row per run, grid date and investor (dollars as
    float64); a run refused has none. Each run has its own grid dates and investors with a twin
    (the runs of a chunk may differ in structure: a sweep of the horizon or the start)."""
    run_id, dates, investor, values = [], [], [], []
    for (r, _, _), p in zip(chunk, paths, strict=True):
        if p is None:
            continue
        n_rows = len(p.grid) * len(p.investors)
        run_id.append(np.full(n_rows, r, dtype=np.int64))
        dates.append(np.repeat(p.grid, len(p.investors)))
        investor += p.investors * len(p.grid)
        values.append(p.caused.reshape(n_rows, len(SERIES_METRICS)))
    block = np.concatenate(values) if values else np.zeros((0, len(SERIES_METRICS)), np.int64)
    columns: dict[str, pa.Array] = {
        "run_id": pa.array(np.concatenate(run_id) if run_id else [], pa.int64()),
        "date": pa.array(np.concatenate(dates) if dates else [], pa.timestamp("s")),
        "investor": pa.array(investor, pa.string()),
    }
    for j, name in enumerate(SERIES_METRICS):
        columns[name] = pa.array(block[:, j] / 100, pa.float64())  # cents -> dollars
    return pa.table(columns)


def _input_column(values: list[Any], kind: str | None) -> pa.Array:
    """An input's values as one Arrow column whose type the input's ``kind`` fixes (so that
    every chunk's column has the same type, whatever values it holds): an amount, a share or a
    whole number as float64 (an amount in dollars, whatever form --set took it in: one with
    cents is text there, ``"42592360739.05"``); a date as a date; anything else (durations,
    text, a list) as text. A value that is not of its kind (a point refused for it: its row
    has the error) is null in a number or date column. Without a kind (jobs that are not points
    of a template), the values' own: numbers, dates, else text."""
    if kind is None:
        given = [v for v in values if v is not None]
        if given and all(_number(v) is not None for v in given):
            kind = "amount"
        elif given and all(_is_day(v) for v in given):
            kind = "date"
    if kind in ("amount", "share", "integer"):
        return pa.array([_number(v) for v in values], pa.float64())
    if kind == "date":
        return pa.array([v if _is_day(v) else None for v in values], pa.date32())
    return pa.array([_text(v) for v in values], pa.string())


def _number(v: Any) -> float | None:
    """A number, or an amount as --set takes it (``"42592360739.05"``), as a finite float."""
    from decimal import Decimal, InvalidOperation

    if isinstance(v, bool):
        return None
    if isinstance(v, str):
        try:
            v = Decimal(v)
        except InvalidOperation:
            return None
    if isinstance(v, int | float | Decimal):
        try:
            x = float(v)
        except OverflowError:
            return None
        return x if np.isfinite(x) else None
    return None


def _is_day(v: Any) -> bool:
    return isinstance(v, dt.date) and not isinstance(v, dt.datetime)


def _text(v: Any) -> str | None:
    """A value as one line of text: itself if text, a date in ISO form, else as JSON."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, dt.date):
        return v.isoformat()
    return json.dumps(v, default=str)


def _table(
    chunk: Sequence[Job],
    jobs: Sequence[MadeJob],
    cols: list[tuple[str, str, str]],
    values: dict[str, np.ndarray],
    errors: list[str | None],
) -> pa.Table:
    first = next((s for _, _, s in jobs if s is not None), None)
    day0 = first.start if first is not None else dt.date(1970, 1, 1)  # no dates without one
    starts = np.array([day0 if s is None else s.start for _, _, s in jobs], dtype="datetime64[D]")
    columns: dict[str, pa.Array] = {"run_id": pa.array([r for r, _, _ in jobs], pa.int64())}
    names = list(dict.fromkeys(k for _, inputs, _ in jobs for k in inputs))
    point = chunk[0][2]
    for name in names:
        kind = None if isinstance(point, Scenario) else point.template.kind(name)
        given = [inputs.get(name) for _, inputs, _ in jobs]
        columns[f"in:{name}"] = _input_column(given, kind)
    for col, _, metric in cols:
        v = values[col]
        missing = np.isnan(v)
        if _is_date(metric):
            days = np.where(missing, 0, v).astype("timedelta64[D]")
            dates = (starts + days).astype("datetime64[s]")
            columns[col] = pa.array(dates, pa.timestamp("s"), mask=missing)
        else:
            columns[col] = pa.array(v, pa.float64(), mask=missing)
    columns["error"] = pa.array(errors, pa.string())
    return pa.table(columns)


# ---- the file ----------------------------------------------------------------------------------
def version() -> str:
    """The program version the file records: the installed roundtrip's, else the package's."""
    try:
        return importlib.metadata.version("roundtrip")
    except importlib.metadata.PackageNotFoundError:
        import sim

        return sim.__version__


def _refuse_unless_ours(path: Path) -> None:
    """A file already at ``path`` is replaced only if farm wrote it (``ScenarioError``
    otherwise, before anything runs); a name too long is refused too."""
    publish.check_name(path)
    if not os.path.lexists(path):
        return
    if path.is_symlink() or not path.is_file():
        raise ScenarioError("this exists and is not a file; choose another path", file=str(path))
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(path).metadata or {}
    except (OSError, pa.ArrowException):
        meta = {}
    if WRITTEN_BY not in meta:
        raise ScenarioError(
            "this file was not written by roundtrip's farm (or was not closed: a farm killed "
            "outright), and roundtrip replaces only files it wrote; move it, or choose another "
            "path",
            file=str(path),
        )


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """What a farm file (or its series file) says about itself: scenario (resolved YAML), seed,
    version, varied, runs, runs_total, complete, and kind where farm was given it. A file that
    is no Parquet file, or whose roundtrip metadata is damaged, is a ``ScenarioError``."""
    from sim.io.readback import parquet_file, results_metadata

    pf = parquet_file(path, "give the results file of roundtrip sweep or mc")
    return results_metadata(pf.metadata.metadata or {}, path)


def read(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A farm file as a pandas frame, one row per run, checked as ``sim.io.readback.RESULTS``
    says (columns and their types, size before loading, no infinite metric)."""
    from sim.io.readback import RESULTS, read_table

    return read_table(path, RESULTS)


@dataclass(frozen=True)
class Farmed:
    """What a farm wrote: the file, the runs in it and how many of them carry an error."""

    path: Path
    runs: int
    errors: int

    @property
    def series(self) -> Path:
        """The series file beside it (written unless ``farm(..., series=False)``)."""
        return series_path(self.path)


def series_path(out: str | os.PathLike[str]) -> Path:
    """``runs/x.sweep.parquet`` -> ``runs/x.sweep.series.parquet``: the runs' paths over time."""
    out = Path(out)
    return out.with_name(f"{out.stem}.series.parquet")


class _Writer:
    """Chunks' rows as row groups of a temporary file beside ``out``
    (``.NAME.<owner>.<random>.partial``, ``sim.io.publish.temporary_name``), put in place at
    ``out`` when closed: where nothing is, with ``os.link``; over a file farm wrote (checked
    under the claim), with a rename. A write or close the system refuses (a full disk) removes
    the temporary files of every writer of its ``group`` and raises ``ScenarioError``."""

    def __init__(self, out: Path, metadata: dict[bytes, bytes], group: list[_Writer]) -> None:
        self.out, self.partial = out, publish.temporary_name(out, ".partial")
        self.metadata = metadata
        self.writer: Any = None
        self.runs = self.errors = 0
        self.aborted = self.closed = False
        self.group = group
        group.append(self)

    def write(self, table: pa.Table) -> None:
        import pyarrow.parquet as pq

        if self.aborted:  # a sibling failed: nothing of this job is kept
            return
        try:
            if self.writer is None:
                schema = table.schema.with_metadata(self.metadata)
                self.writer = pq.ParquetWriter(self.partial, schema)
            if table.column_names != self.writer.schema.names:
                raise ValueError(
                    "a chunk's columns differ from the first chunk's: every job must name the "
                    f"same inputs and have the same structure (got {table.column_names[:6]}...)"
                )
            table = table.cast(self.writer.schema.remove_metadata())
            self.writer.write_table(table, row_group_size=max(1, table.num_rows))
        except OSError as e:
            raise self._failed(e) from None
        self.runs += table.num_rows
        if "error" in table.column_names:
            self.errors += table.num_rows - table.column("error").null_count

    def close(self, complete: bool, total: int | None) -> bool:
        """Close the file; once every writer of the group is closed, put them all in place
        (so that a full disk closing the second keeps neither). False if nothing was
        written."""
        if self.writer is None or self.aborted:
            return False
        extra = {"runs": self.runs, "runs_total": total, "complete": complete}
        try:
            self.writer.add_key_value_metadata(
                {f"roundtrip.{k}": json.dumps(v) for k, v in extra.items()}
            )
            self.writer.close()
            self.closed = True
            if all(w.closed or w.writer is None for w in self.group):
                for w in self.group:
                    if w.closed:
                        publish.publish_file(w.partial, w.out, replace=os.path.lexists(w.out))
        except OSError as e:
            raise self._failed(e) from None
        except ScenarioError:  # another program put a file there meanwhile
            for w in self.group:
                w.abort()
            raise
        return True

    def _failed(self, e: OSError) -> BaseException:
        """Remove every temporary file of the group; the error to raise for ``e``."""
        for w in self.group:
            w.abort()
        if publish.is_user_error(e):
            return publish.os_error(e, self.out, "choose another path with --out")
        return e

    def abort(self) -> None:
        """Drop the temporary file: closed as far as it goes, then removed."""
        self.aborted = True
        if self.writer is not None and not self.closed:
            with contextlib.suppress(OSError, pa.ArrowException):
                self.writer.close()
        self.partial.unlink(missing_ok=True)


def _chunks(jobs: Iterable[Job], size: int) -> Iterator[list[Job]]:
    chunk: list[Job] = []
    for job in jobs:
        chunk.append(job)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def farm(
    jobs: Iterable[Job],
    out: str | os.PathLike[str],
    *,
    backend: str = "local",
    workers: int | None = None,
    chunk_runs: int = CHUNK_RUNS,
    seed: int | None = None,
    varied: Sequence[str] | None = None,
    scenario: Scenario | None = None,
    total: int | None = None,
    progress: bool | None = None,
    series: bool = True,
    kind: str | None = None,
    connect_timeout: float = CONNECT_TIMEOUT,
) -> Farmed:
    """Run every job and write its row to the Parquet file ``out``, a row group per chunk.

    ``backend``: ``"local"`` (this process), ``"processes"`` (a pool of ``workers`` processes),
    ``"dask-local"`` (a Dask LocalCluster of ``workers`` single-threaded processes) or a Dask
    scheduler's address ``tcp://HOST:PORT`` (``check_address``; ``tls://`` with Dask's TLS
    settings), which must answer as a Dask scheduler within ``connect_timeout`` seconds.
    ``workers`` is at most ``max_workers()``, one per core (a ``ValueError`` past it). A
    scheduler that cannot be reached, or is lost while runs are under way, is a
    ``ClusterError``, after the rows finished so far are kept as for Ctrl-C. The file's
    metadata holds ``scenario`` (default: the first job's) as resolved YAML, ``seed``, the
    program version and the ``varied`` input paths (default: the first job's input names), and
    ``kind`` (``"sweep"``, ``"mc"``) if given. ``total`` (default ``len(jobs)`` where it has
    one) sizes the progress bar, shown on stderr when it is a terminal (``progress`` forces it).

    Stopped (Ctrl-C, or any error), it stops submitting, cancels the chunks pending, and closes
    the file with the chunks finished, in place at ``out`` and marked incomplete; the exception
    goes on with a note ``N of M runs kept in FILE`` that the CLI prints. A file already at
    ``out`` is replaced only if farm wrote it (``ScenarioError``).

    With ``series`` (the default), ``<out stem>.series.parquet`` is written beside it by the
    same rules (a row group per chunk, the same metadata, in place only when closed): per run,
    grid date and investor with a twin, ``incremental_revenue`` and ``incremental_profit`` so
    far, in dollars. The $50B file has one such investor and 97 grid dates: 97 rows a run,
    ~1.8 kB a run on disk, nearly all of it the two float64 columns, which do not compress
    (5,000 Monte Carlo runs: 8.9 MB; 100,000 runs: ~9.7 million rows, ~180 MB)."""
    if chunk_runs < 1:
        raise ValueError(f"chunk_runs(={chunk_runs}) must be >= 1")
    out = Path(os.path.abspath(out))
    targets = [out, series_path(out)] if series else [out]
    for target in targets:  # at once, before anything is made
        _refuse_unless_ours(target)
    with contextlib.ExitStack() as claimed:
        for target in targets:
            claimed.enter_context(publish.claim(target, hint="choose another path with --out"))
            _refuse_unless_ours(target)  # again: now no other roundtrip writes it
        if total is None and isinstance(jobs, Sized):
            total = len(jobs)
        chunks = _chunks(jobs, chunk_runs)
        first = next(chunks, None)
        if first is None:
            raise ValueError("no jobs to run")
        base = scenario or _base(first[0])
        names = list(varied or first[0][1])
        # room on the disk, before any run
        publish.check_room(out, room_needed(base, total, len(names), series=series) if total else 0)
        files = _Files(out, _metadata(base, seed, names, kind), series, total)
        files.bar = _bar(total, sys.stderr.isatty() if progress is None else progress)
        return _farm(
            itertools.chain([first], chunks),
            lambda: open_backend(backend, workers, connect_timeout, run_chunk),
            files,
        )


def room_needed(scenario: Scenario, runs: int, inputs: int, *, series: bool = True) -> int:
    """Bytes a farm file of ``runs`` runs of this structure (``inputs`` varied) may take on
    disk, an upper bound: 8 bytes a cell (float64 or int64, before compression), plus the
    series file's rows (a run, grid date and investor with a twin: 24 bytes, measured 18.5 on
    the $50B file), plus ``sim.io.publish.MIN_FREE``."""
    row = 8 * (len(metric_columns(scenario)) + inputs + 2)
    if series:
        row += 24 * len(scenario.grid()) * len(series_investors(scenario))
    return runs * row + publish.MIN_FREE


def _metadata(
    base: Scenario, seed: int | None, varied: list[str], kind: str | None
) -> dict[bytes, bytes]:
    """What every file farm writes says about itself (``read_metadata`` reads it back)."""
    metadata = {
        WRITTEN_BY: b"1",
        b"roundtrip.scenario": resolved_yaml_with_sources(base).encode(),
        b"roundtrip.seed": json.dumps(seed).encode(),
        b"roundtrip.version": version().encode(),
        b"roundtrip.varied": json.dumps(varied).encode(),
    }
    if kind is not None:
        metadata[b"roundtrip.kind"] = kind.encode()
    return metadata


class _Files:
    """The results file and its series file, written chunk by chunk, and the progress bar."""

    def __init__(self, out: Path, meta: dict[bytes, bytes], series: bool, total: int | None):
        group: list[_Writer] = []
        self.out, self.total = out, total
        self.rows = _Writer(out, meta, group)
        self.paths = _Writer(series_path(out), meta, group) if series else None
        self.bar: Any = _NoBar()

    def keep(self, done: Chunk) -> None:
        self.rows.write(done.rows)
        if self.paths is not None:
            self.paths.write(done.series)
            self.paths.runs = self.rows.runs  # runs covered, as the results file counts them

    def close(self, complete: bool) -> bool:
        """Close both files (in place together); False if nothing was written."""
        self.bar.close()
        kept = self.rows.close(complete=complete, total=self.total)
        if self.paths is not None:
            self.paths.close(complete=complete, total=self.total)
        return kept


def _farm(chunks: Iterator[list[Job]], open_runner: Callable[[], Backend], files: _Files) -> Farmed:
    """``farm``, its targets claimed: open the backend, submit the chunks, at most its window
    at a time, and keep each one's rows in order as it finishes."""
    pending: collections.deque[TaskFuture] = collections.deque()
    runner: Backend | None = None

    def take_first() -> None:
        """Write the oldest pending chunk and drop it from ``pending``, as one step: a signal
        waits until both files and their counts have it (or, before that, finds it still
        pending), so that what is kept and what is said to be kept are the same."""
        done = pending[0].result()
        with held():
            files.keep(done)
            pending.popleft()
            files.bar.update(done.rows.num_rows)
        raise_deferred()  # a safe point: a signal that could not be raised before is, now

    try:
        runner = open_runner()
        for chunk in chunks:
            while len(pending) >= runner.window:
                take_first()
            pending.append(runner.submit(chunk))
        while pending:
            take_first()
    except BaseException as e:
        _stopped(pending, files, e)
        if runner is not None:
            runner.close()
        raise
    with held():
        files.close(complete=True)
        published()  # both files in place: a signal from here is dropped
    runner.close()
    return Farmed(files.out, files.rows.runs, files.rows.errors)


def _stopped(pending: Sequence[TaskFuture], files: _Files, e: BaseException) -> None:
    """Stopped (Ctrl-C, or any error): cancel the chunks pending, keep those finished
    meanwhile, close the files marked incomplete, and note on ``e`` what was kept."""
    with held():  # the file is closed whole, whatever arrives meanwhile
        finished = [f.done() and not f.cancelled() for f in pending]
        for future, done in zip(pending, finished, strict=True):
            if not done:
                future.cancel()
        for future, done in zip(pending, finished, strict=True):
            if done and future.exception() is None:
                try:
                    rows = future.result()
                except Exception:  # finished, but its rows are on a cluster now lost
                    continue
                files.keep(rows)
        kept = files.close(complete=False)
    of = f" of {files.total}" if files.total is not None else ""
    runs = files.rows.runs
    e.add_note(f"{runs}{of} runs kept in {files.out}" if kept else "nothing was written")


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _bar(total: int | None, show: bool) -> Any:
    """A tqdm bar on stderr; none when not shown, or without tqdm (the ``dask`` extra)."""
    if not show:
        return _NoBar()
    try:
        from tqdm import tqdm
    except ImportError:
        return _NoBar()
    return tqdm(total=total, unit="run", file=sys.stderr, dynamic_ncols=True)


# ---- summaries ---------------------------------------------------------------------------------
def percentiles(
    table: pd.DataFrame | str | os.PathLike[str], metrics: Sequence[str] | None = None
) -> pd.DataFrame:
    """p5, p25, p50, p75, p95 of each metric over the runs without an error: one row per
    metric (default: every numeric metric column, ``<agent>.<metric>``), one column per
    percentile. Dates may be named in ``metrics``; their percentiles are dates."""
    import pandas as pd

    df = read(table) if isinstance(table, str | os.PathLike) else table
    if "error" in df.columns:
        df = df[df["error"].isna()]
    if metrics is None:
        metrics = [
            c
            for c in df.columns
            if "." in c and not c.startswith("in:") and pd.api.types.is_numeric_dtype(df[c])
        ]
    q = [p / 100 for p in PERCENTILES]
    rows = {m: df[m].quantile(q).to_list() for m in metrics}
    return pd.DataFrame.from_dict(rows, orient="index", columns=[f"p{p}" for p in PERCENTILES])


def series_percentiles(
    series: pd.DataFrame | str | os.PathLike[str],
    metric: str = "incremental_revenue",
    investor: str | None = None,
) -> pd.DataFrame:
    """p5, p25, p50, p75, p95 over the runs of a series file (or its frame) at each grid date:
    one row per date, one column per percentile, in dollars. ``metric`` is one of
    ``SERIES_METRICS``; ``investor`` defaults to the file's first."""
    import pandas as pd
    import pyarrow.parquet as pq

    if metric not in SERIES_METRICS:
        raise ValueError(f"metric(={metric!r}) must be one of {', '.join(SERIES_METRICS)}")
    if isinstance(series, str | os.PathLike):
        found = pq.read_table(series, columns=["investor"]).column("investor").unique()
        names = [str(x) for x in found.to_pylist()]
    else:
        names = list(dict.fromkeys(series["investor"]))
    if investor is None and names:
        investor = names[0]
    if investor not in names:
        raise ValueError(
            f"investor(={investor!r}) has no series here; choose from {', '.join(names) or 'none'}"
        )
    if isinstance(series, str | os.PathLike):
        df = pq.read_table(
            series, columns=["date", metric], filters=[("investor", "=", investor)]
        ).to_pandas()
    else:
        df = series.loc[series["investor"] == investor, ["date", metric]]
    q = [p / 100 for p in PERCENTILES]
    table = df.groupby("date")[metric].quantile(q).unstack()
    table.columns = pd.Index([f"p{p}" for p in PERCENTILES])
    return table
