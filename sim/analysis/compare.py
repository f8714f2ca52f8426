"""Scenarios side by side: the key metrics of several runs in one table, a column per scenario.

``compare_table`` takes each scenario's run (``sim.compare`` runs them, ``--set`` applied to
every one) and lays out, per investor (matched across scenarios by label) the caused figures,
then the traced ones, then per lab its own figures. A cell is ``None`` where the scenario has
no such investor or lab (shown ``—``), and NaN (a date: NaT) where it has one but the figure
is undefined (shown n/a, or never). ``sim.analysis.tables.readable(frame)`` shows the frame in
a notebook as the text table does.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.analysis import tables
from sim.analysis.metrics import DATES, LAB_DATES
from sim.inputs.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd

    from sim.analysis.result import Result

# per investor: what the investment caused (against its twin; revenue and profit as booked, then
# in cash) first, then the traced figures
INVESTOR_ROWS = (
    "invested",
    "stake",
    "incremental_revenue_booked",
    "incremental_revenue",
    "incremental_profit_booked",
    "incremental_profit",
    "pv_invested",
    "pv_incremental_profit",
    "net_cost",
    "effective_post_money",
    "incremental_payback_date",
    "round_trip",
    "round_trip_ratio",
    "relationship_profit",
)
LAB_ROWS = ("revenue", "compute_spend", "unmet_compute", "cash_out_date", "raised")
INDEX = ("kind", "agent", "metric")


def compare_table(scenarios: Sequence[Scenario], results: Sequence[Result]) -> pd.DataFrame:
    """One column per scenario (its file's stem, made unique), one row per (kind, agent label,
    metric), from each scenario's run (``results``, in the same order; sim.runs.studies.compare
    makes them): money in dollars, shares as fractions, dates as ``datetime.date``."""
    import pandas as pd

    loaded = list(scenarios)
    columns = column_names(loaded)
    investors = _agents(loaded, "investors")
    labs = _agents(loaded, "labs")
    rows: dict[tuple[str, str, str], list[Any]] = {}
    for label in investors:
        for metric in INVESTOR_ROWS:
            rows[("investor", label, metric)] = []
    for label in labs:
        for metric in LAB_ROWS:
            rows[("lab", label, metric)] = []
    for s, r in zip(loaded, results, strict=True):
        d = r.metrics_dict()
        by_label = {
            "investor": {s.label(k): d["investors"][k] for k in s.investors},
            "lab": {s.label(k): d["labs"][k] for k in s.labs},
        }
        for (kind, label, metric), values in rows.items():
            entry = by_label[kind].get(label)
            values.append(None if entry is None else _value(metric, entry[metric]))
    index = pd.MultiIndex.from_tuples(list(rows), names=INDEX)
    cells = list(rows.values())
    # column by column, as object Series: a frame built from rows would turn a blank (None)
    # beside an undefined date (NaT) into NaT
    return pd.DataFrame(
        {
            c: pd.Series([row[j] for row in cells], index=index, dtype=object)
            for j, c in enumerate(columns)
        }
    )


def column_names(scenarios: Sequence[Scenario]) -> list[str]:
    """Each scenario's file stem (its name if built in Python); a repeated stem gets ``-2``,
    ``-3``... in order."""
    names: list[str] = []
    for s in scenarios:
        stem = Path(s.source).stem if s.source else s.name
        name, n = stem, 1
        while name in names:
            n += 1
            name = f"{stem}-{n}"
        names.append(name)
    return names


def _agents(scenarios: Sequence[Scenario], kind: str) -> list[str]:
    """Labels of the investors (or labs) of every scenario, in order of first appearance."""
    labels: dict[str, None] = {}
    for s in scenarios:
        for k in getattr(s, kind):
            labels[s.label(k)] = None
    return list(labels)


def _value(metric: str, v: Any) -> Any:
    """A metrics.json value as a cell: an ISO date as a date, an undefined figure as NaN/NaT."""
    import pandas as pd

    if metric in DATES or metric in LAB_DATES:
        return pd.NaT if v is None else dt.date.fromisoformat(v)
    return math.nan if v is None else float(v)


def _undefined(v: Any) -> bool:
    """NaN or NaT: the agent is there but the figure is undefined (no stake, never paid back)."""
    import pandas as pd

    return v is pd.NaT or (isinstance(v, float) and math.isnan(v))


# ---- printing -------------------------------------------------------------------------------


def _rows(frame: pd.DataFrame) -> list[tuple[Any, list[Any]]]:
    """(index, cells) per row, the cells as stored: ``iterrows`` would make a blank (None)
    beside an undefined date (NaT) into NaT."""
    cells = frame.to_numpy(dtype=object)
    return [(key, list(cells[i])) for i, key in enumerate(frame.index)]


def to_text(frame: pd.DataFrame, *, keep_empty: bool = False) -> str:
    """The aligned table ``roundtrip compare`` prints: a block per investor and per lab, each
    cell as ``sim.analysis.tables`` shows it ($B or $M, %, dates; ``—`` where the scenario has
    no such agent, ``n/a`` where the figure is undefined, ``never`` for a date that never
    came); a metric zero or empty in every scenario is left out unless ``keep_empty``."""
    rows = [
        (key, [tables.show(v, tables.metric_kind(key[2])) for v in row])
        for key, row in _rows(frame)
        if keep_empty or not all(tables.empty(v, tables.metric_kind(key[2])) for v in row)
    ]
    width = [
        max([len(str(c)), *(len(cells[j]) for _, cells in rows)])
        for j, c in enumerate(frame.columns)
    ]
    label = max(len(tables.metric_label(m)) for m in (*INVESTOR_ROWS, *LAB_ROWS)) + 4

    def line(first: str, cells: Sequence[str]) -> str:
        joined = "  ".join(f"{c:>{w}}" for c, w in zip(cells, width, strict=True))
        return f"{first:<{label}}{joined}".rstrip()

    lines = [line("", [str(c) for c in frame.columns])]
    current = None
    for (kind, agent, metric), cells in rows:
        if (kind, agent) != current:
            current = (kind, agent)
            lines += ["", f"{kind.capitalize()} {agent}"]
        lines.append(line("  " + tables.metric_label(metric), cells))
    return "\n".join(lines)


def _raw(v: Any) -> Any:
    """A cell in raw units for CSV and JSON: dollars, fractions, ISO dates; None if blank."""
    if v is None or _undefined(v):
        return None
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def to_csv(frame: pd.DataFrame) -> str:
    """A row per (kind, agent, metric), a column per scenario; blank where absent or undefined."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*INDEX, *frame.columns])
    for key, row in _rows(frame):
        raw = [_raw(v) for v in row]
        writer.writerow([*key, *("" if v is None else v for v in raw)])
    return out.getvalue()


def to_json(frame: pd.DataFrame) -> str:
    """``{"scenarios": [...], "rows": [{"kind", "agent", "metric", "values": {col: v}}]}``."""
    rows = [
        {
            "kind": kind,
            "agent": agent,
            "metric": metric,
            "values": {c: _raw(v) for c, v in zip(frame.columns, row, strict=True)},
        }
        for (kind, agent, metric), row in _rows(frame)
    ]
    return json.dumps({"scenarios": list(frame.columns), "rows": rows}, indent=2)
