"""Reading roundtrip's own files back (run folders, results and series files), trusting none.

A file roundtrip wrote may since have been cut short, edited, replaced by another program's file
or given in place of another. Each kind of file has one check here, used by every reader of it:
``read_json`` for metrics.json and the run marker, ``read_table`` for the Parquet tables (their
columns and types checked from the file's footer, their size against the memory budget before
any row is read, then nulls, finite numbers and signs), ``results_metadata`` for what a
sweep's or Monte Carlo's file says about itself. What is wrong is a ``ScenarioError`` naming the
file (exit 2), never a crash half-way through a chart.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import ScenarioError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from sim.inputs.scenario import Scenario

# metrics.json and the marker: a run of the largest scenario writes well under 1 MB
MAX_JSON_BYTES = 20_000_000
RUN_AGAIN = "run the scenario again"  # what to do about a damaged run folder


# ---- JSON -------------------------------------------------------------------------------------
def read_json(path: str | os.PathLike[str], remedy: str = RUN_AGAIN) -> Any:
    """The JSON value a file holds, strictly: at most ``MAX_JSON_BYTES``, UTF-8, no NaN or
    Infinity (Python's json reads them; no other reader does), not nested past Python's stack.
    What the value must be is the caller's check (``check_metrics_file``, ``check_marker``)."""
    from sim.inputs.loader import read_bounded

    name = os.fspath(path)
    try:
        text = read_bounded(name, MAX_JSON_BYTES, "a file roundtrip writes").decode("utf-8")
    except UnicodeDecodeError as e:
        raise ScenarioError(f"is not UTF-8 text (byte {e.start}); {remedy}", file=name) from None

    def constant(word: str) -> float:
        raise ValueError(f"{word} is not a number JSON allows")

    try:
        return json.loads(text, parse_constant=constant)
    except json.JSONDecodeError as e:
        raise ScenarioError(
            f"is not valid JSON: {e.msg}; {remedy}", file=name, line=e.lineno, column=e.colno
        ) from None
    except (ValueError, RecursionError) as e:  # NaN, a number of 4,300 digits, deep nesting
        what = str(e) if isinstance(e, ValueError) else "nested too deeply"
        raise ScenarioError(f"is not valid JSON: {what}; {remedy}", file=name) from None


def finite_number(value: object) -> bool:
    """An int or float that a float holds finitely (not a bool, not 10**400, not NaN)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def iso_date(value: object) -> bool:
    if not isinstance(value, str) or len(value) != len("2026-01-01"):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def check_metrics_file(metrics: object, path: str | os.PathLike[str]) -> dict[str, Any]:
    """metrics.json as ``Result.metrics_dict`` writes it: investors and labs, each a mapping of
    metric to a finite number, an ISO date (the date metrics) or null; ``by_lab`` blocks the
    same; the scenario's name and source as text. Returns it; refuses anything else."""
    from sim.analysis.metrics import DATES, LAB_DATES

    dates = set(DATES) | set(LAB_DATES)
    problems: list[str] = []

    def entry(where: str, block: object, nested: bool) -> None:
        if not isinstance(block, dict):
            problems.append(f"{where} is not a mapping")
            return
        for name, value in block.items():
            if nested and name == "by_lab":
                if not isinstance(value, dict):
                    problems.append(f"{where}.by_lab is not a mapping")
                    continue
                for lab, sub in value.items():
                    entry(f"{where}.by_lab.{lab}", sub, False)
            elif value is None:
                continue
            elif name in dates:
                if not iso_date(value):
                    problems.append(f"{where}.{name} is not a date such as 2026-01-01")
            elif not finite_number(value):
                problems.append(f"{where}.{name} is not a finite number")

    if not isinstance(metrics, dict) or not {"investors", "labs"} <= set(metrics):
        raise ScenarioError(
            f"is not a roundtrip metrics file (no investors and labs); {RUN_AGAIN}", file=str(path)
        )
    for block in ("investors", "labs"):
        agents = metrics[block]
        if not isinstance(agents, dict):
            problems.append(f"{block} is not a mapping")
            continue
        for agent, values in agents.items():
            entry(f"{block}.{agent}", values, block == "investors")
    for key in ("scenario", "source", "inputs_hash"):
        if metrics.get(key) is not None and not isinstance(metrics[key], str):
            problems.append(f"{key} is not text")
    for key in ("start", "end"):
        if key in metrics and not iso_date(metrics[key]):
            problems.append(f"{key} is not a date such as 2026-01-01")
    if problems:
        more = f" and {len(problems) - 3} more" if problems[3:] else ""
        raise ScenarioError(
            f"is damaged: {', '.join(problems[:3])}{more}; {RUN_AGAIN}", file=str(path)
        )
    return metrics


def check_marker(marker: object, path: str | os.PathLike[str]) -> dict[str, Any]:
    """A run folder's marker: a mapping whose ``files`` is a list of file names (text)."""
    files = marker.get("files") if isinstance(marker, dict) else None
    if not isinstance(files, list) or not all(isinstance(f, str) and f for f in files):
        raise ScenarioError(
            "is damaged: a run folder's marker lists the files roundtrip wrote there, as text; "
            f"{RUN_AGAIN} (into a new folder)",
            file=str(path),
        )
    assert isinstance(marker, dict)
    return marker


# ---- Parquet ----------------------------------------------------------------------------------
# the kinds of column a table may hold, as Arrow types
_KINDS: dict[str, Callable[[pa.DataType], bool]] = {}


def _kind_of(kind: str) -> Callable[[pa.DataType], bool]:
    import pyarrow as pa

    if not _KINDS:
        t = pa.types
        _KINDS.update(
            {
                "int": t.is_integer,
                "float": lambda x: t.is_floating(x) or t.is_integer(x),
                "date": t.is_timestamp,  # roundtrip writes timestamps, never date32
                "text": lambda x: t.is_string(x) or t.is_large_string(x),
                "bool": t.is_boolean,
            }
        )
        plain = tuple(_KINDS.values())
        # an input column (in:PATH) holds its input's kind: a date input's is date32 (sim.runs.farm)
        _KINDS["any"] = lambda x: t.is_date32(x) or any(f(x) for f in plain)
    return _KINDS[kind]


_SHOWN = {
    "int": "whole numbers",
    "float": "numbers",
    "date": "timestamps",
    "text": "text",
    "bool": "true/false",
    "any": "numbers, dates or text",
}


@dataclass(frozen=True)
class TableKind:
    """What one kind of Parquet table roundtrip writes holds: ``columns`` (name -> kind: int,
    float, date, text, bool, any) it must have; ``prefixed`` (prefix -> kind) for columns named
    by the run (``from:<origin>``); ``others`` the kind of any other column (None: refused);
    ``nullable`` the columns that may hold nulls (any prefixed or other column may);
    ``nonnegative`` those whose numbers are never below 0 (a prefix ends with ':')."""

    what: str  # "the run's ledger"
    columns: Mapping[str, str]
    prefixed: Mapping[str, str] = field(default_factory=dict)
    others: str | None = None
    nullable: frozenset[str] = frozenset()
    nonnegative: tuple[str, ...] = ()
    remedy: str = RUN_AGAIN
    max_rows: int | None = None

    def kind(self, column: str) -> str | None:
        if column in self.columns:
            return self.columns[column]
        for prefix, kind in self.prefixed.items():
            if column.startswith(prefix):
                return kind
        return self.others


LEDGER = TableKind(
    "a run's ledger",
    {
        "day": "int",
        "date": "date",
        "payer": "text",
        "payee": "text",
        "kind": "text",
        "deal": "text",
        "lab": "text",
        "amount_cents": "int",
    },
    prefixed={"from:": "int"},
    nullable=frozenset({"deal", "lab"}),
    nonnegative=("day", "amount_cents", "from:"),
)
BALANCES = TableKind(
    "a run's balances",
    {"step": "int", "date": "date", "account": "text", "origin": "text", "cents": "int"},
    nonnegative=("step",),
)
TWIN_SERIES = TableKind(
    "a run's twin series",
    {
        "date": "date",
        "investor": "text",
        "lab": "text",
        "revenue_cents_run": "int",
        "revenue_cents_twin": "int",
    },
    prefixed={"revenue_cents_": "int", "profit_cents_": "int"},
    nonnegative=("revenue_cents_",),
)
_RESULTS_REMEDY = "give the results file of roundtrip sweep or mc, or run it again"
RESULTS = TableKind(
    "a sweep's or Monte Carlo's results",
    {"run_id": "int", "error": "text"},
    prefixed={"in:": "any"},
    others="float_or_date",
    nullable=frozenset({"error"}),
    nonnegative=("run_id",),
    remedy=_RESULTS_REMEDY,
    max_rows=10_000_000,  # a row per run: roundtrip mc runs at most 10 million
)
SERIES = TableKind(
    "a sweep's or Monte Carlo's series",
    {"run_id": "int", "date": "date", "investor": "text"},
    others="float",
    nonnegative=("run_id",),
    remedy=_RESULTS_REMEDY,
)


def _matches(kind: str, dtype: pa.DataType) -> bool:
    if kind == "float_or_date":
        return _kind_of("float")(dtype) or _kind_of("date")(dtype)
    return _kind_of(kind)(dtype)


def parquet_file(path: str | os.PathLike[str], remedy: str = RUN_AGAIN) -> Any:
    """The file opened as Parquet (only its footer read), or a ScenarioError."""
    import pyarrow.parquet as pq

    name = os.fspath(path)
    if not os.path.isfile(name):
        raise ScenarioError(f"is not a file, so not a Parquet file; {remedy}", file=name)
    try:
        return pq.ParquetFile(name)
    except Exception as e:  # pyarrow raises several types for a damaged or foreign file
        raise ScenarioError(
            f"is not a readable Parquet file (not a Parquet file, or a damaged one: "
            f"{type(e).__name__}); {remedy}",
            file=name,
        ) from None


def check_schema(path: str | os.PathLike[str], kind: TableKind, pf: Any = None) -> Any:
    """Check a Parquet file's columns and size from its footer alone; returns the opened file.
    Its rows, loaded, must fit the memory budget (``sim.model.budget``): a file that expands to
    millions of rows is refused before any is read."""
    from sim.model.budget import format_bytes, memory_budget

    name = os.fspath(path)
    pf = pf if pf is not None else parquet_file(name, kind.remedy)
    schema = pf.schema_arrow
    absent = [c for c in kind.columns if c not in schema.names]
    if absent:
        raise ScenarioError(
            f"is not {kind.what}: it lacks the column(s) {', '.join(absent[:5])}; {kind.remedy}",
            file=name,
        )
    if len(set(schema.names)) != len(schema.names):
        raise ScenarioError(f"has a column twice; {kind.remedy}", file=name)
    for f in schema:
        want = kind.kind(f.name)
        if want is None:
            raise ScenarioError(
                f"is not {kind.what}: unexpected column {f.name[:80]!r}; {kind.remedy}", file=name
            )
        if not _matches(want, f.type):
            shown = _SHOWN.get(want, "numbers or dates")
            raise ScenarioError(
                f"is damaged: column {f.name[:80]!r} holds {f.type}, expected {shown}; "
                f"{kind.remedy}",
                file=name,
            )
    md = pf.metadata
    rows = md.num_rows
    loaded = max(
        sum(md.row_group(i).total_byte_size for i in range(md.num_row_groups)),
        rows * len(schema.names) * 8,
    )
    if kind.max_rows is not None and rows > kind.max_rows:
        raise ScenarioError(
            f"holds {rows:,} rows, more than roundtrip writes in {kind.what} (at most "
            f"{kind.max_rows:,}); {kind.remedy}",
            file=name,
        )
    # Arrow's table and pandas' frame are both held while converting
    if rows < 0 or 2 * loaded > memory_budget():
        raise ScenarioError(
            f"holds {rows:,} rows, about {format_bytes(2 * loaded)} to load, over the memory "
            f"budget of {format_bytes(memory_budget())}; {kind.remedy}",
            file=name,
        )
    return pf


def read_table(path: str | os.PathLike[str], kind: TableKind) -> pd.DataFrame:
    """A Parquet table of ``kind`` as a pandas frame, checked (``check_schema``), then read and
    checked for nulls, infinite numbers and negative values where ``kind`` allows none."""
    import pyarrow as pa
    import pyarrow.compute as pc

    name = os.fspath(path)
    pf = check_schema(name, kind)
    try:
        table = pf.read()
    except Exception as e:  # a footer that promises pages the file no longer holds
        raise ScenarioError(
            f"is not a readable Parquet file ({type(e).__name__}); {kind.remedy}", file=name
        ) from None
    for column in table.column_names:
        data = table.column(column)
        if column in kind.columns and column not in kind.nullable and data.null_count:
            raise ScenarioError(
                f"is damaged: column {column!r} has empty values; {kind.remedy}", file=name
            )
        if pa.types.is_floating(data.type) and pc.any(pc.is_inf(data)).as_py():
            raise ScenarioError(
                f"is damaged: column {column[:80]!r} holds an infinite number; {kind.remedy}",
                file=name,
            )
        signed = pa.types.is_integer(data.type) or pa.types.is_floating(data.type)
        if signed and _nonnegative(kind, column) and len(data) and data.null_count < len(data):
            low = pc.min(data).as_py()
            if low is not None and low < 0:
                raise ScenarioError(
                    f"is damaged: column {column[:80]!r} holds {low}, below 0; {kind.remedy}",
                    file=name,
                )
    try:
        return table.to_pandas()
    except (pa.ArrowException, ValueError, OverflowError) as e:  # a date past pandas' calendar
        raise ScenarioError(
            f"is damaged: {type(e).__name__}: {str(e)[:120]}; {kind.remedy}", file=name
        ) from None


def _nonnegative(kind: TableKind, column: str) -> bool:
    return any(
        column.startswith(p) if p.endswith(("_", ":")) else column == p for p in kind.nonnegative
    )


# ---- what a results file says about itself ----------------------------------------------------
# key -> check of its JSON value (the scenario and kind are text, not JSON)
_META_CHECKS: dict[str, Callable[[Any], bool]] = {
    "seed": lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 0),
    "varied": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    "runs": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
    "runs_total": lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool)),
    "complete": lambda v: isinstance(v, bool),
}
_TEXT_META = ("scenario", "version", "kind")


def results_metadata(raw: Mapping[bytes, bytes], path: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``roundtrip.*`` keys of a results or series file's metadata, checked: the scenario
    (resolved YAML) and kind as text, seed, varied, runs, runs_total and complete as JSON of
    their type. A key that does not fit is a ScenarioError naming it."""
    out: dict[str, Any] = {}
    name = os.fspath(path)
    for key_bytes, value_bytes in raw.items():
        key = key_bytes.decode("utf-8", errors="replace").removeprefix("roundtrip.")
        if key not in _META_CHECKS and key not in _TEXT_META:
            continue
        try:
            text = value_bytes.decode("utf-8")
            value = text if key in _TEXT_META else json.loads(text)
        except (UnicodeDecodeError, ValueError, RecursionError):
            value = _INVALID
        check = _META_CHECKS.get(key)
        if value is _INVALID or (check is not None and not check(value)):
            raise ScenarioError(
                f"is damaged: its metadata key roundtrip.{key} does not hold what roundtrip "
                f"writes there; {_RESULTS_REMEDY}",
                file=name,
            )
        out[key] = value
    if out.get("kind") not in (None, "sweep", "mc"):
        raise ScenarioError(
            f"is damaged: its metadata names the kind {str(out['kind'])[:40]!r}, not sweep or "
            f"mc; {_RESULTS_REMEDY}",
            file=name,
        )
    if "scenario" not in out:
        raise ScenarioError(
            f"is damaged: its metadata holds no scenario; {_RESULTS_REMEDY}", file=name
        )
    return out


_INVALID = object()


def check_results(
    path: str | os.PathLike[str], meta: Mapping[str, Any], scenario: Scenario
) -> None:
    """A results file against what its metadata says: a row per run it counts, a column per
    varied input (``in:<path>``) and per metric of each investor and lab of its scenario; all
    from the footer, before any row is read."""
    from sim.analysis.metrics import INVESTOR_METRICS, LAB_METRICS

    name = os.fspath(path)
    pf = check_schema(name, RESULTS)
    names = set(pf.schema_arrow.names)
    rows = pf.metadata.num_rows
    if "runs" in meta and rows != meta["runs"]:
        raise ScenarioError(
            f"is damaged: it holds {rows:,} rows where its metadata counts {meta['runs']:,} "
            f"runs; {_RESULTS_REMEDY}",
            file=name,
        )
    wanted = [f"in:{v}" for v in meta.get("varied", [])]
    wanted += [f"{i}.{m}" for i in scenario.investors for m in INVESTOR_METRICS]
    wanted += [f"{lab}.{m}" for lab in scenario.labs for m in LAB_METRICS]
    absent = [c for c in wanted if c not in names]
    if absent:
        more = f" and {len(absent) - 3:,} more" if absent[3:] else ""
        raise ScenarioError(
            f"is damaged: the column(s) {', '.join(c[:80] for c in absent[:3])}{more} of its "
            f"scenario's runs are missing; {_RESULTS_REMEDY}",
            file=name,
        )


def results_stem(path: str | os.PathLike[str]) -> Path:
    """``runs/x.mc.series.parquet`` -> ``runs/x.mc.parquet``, the results file beside it."""
    p = Path(path)
    return p.with_name(p.name.removesuffix(".series.parquet") + ".parquet")
