"""Tables a person can read: the one formatting layer of notebooks, the CLI, the report and the
explorer.

Each cell is shown by its kind: money in $B with two decimals ($M below a billion, whole
dollars below a million), shares in % with one decimal, dates as ISO dates, other numbers with
thousands separators and never in scientific notation. A figure a run lacks (NaN) reads
``n/a``, a date that never came (NaT) ``never``, a cell with no figure at all (``None``: the
scenario has no such agent) ``—``. Rows and columns of metrics that are zero or empty
throughout are left out unless ``keep_empty=True``; metrics, agents and inputs get human names
(``incremental_profit`` -> "Incremental profit ($)", ``openai`` -> "OpenAI",
``deals.0.amount`` -> ``sim.inputs.names.input_name``).

The kind of a metric is read from the one place metrics are declared (``MONEY``, ``RATIOS``,
``DATES``, ``LAB_METRICS``, ``LAB_DATES`` in sim/analysis/metrics.py), never from a second
list of names here. The raw frames stay as they are (``Result.metrics`` holds numbers): these
functions give text frames (``text``) or pandas Stylers (``readable``) made from them.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.analysis.metrics import DATES, LAB_DATES, LAB_METRICS, MONEY, PATHS, RATIOS, SHARE_COUNTS
from sim.inputs.scenario import Scenario
from sim.inputs.units import format_dollars

if TYPE_CHECKING:
    import pandas as pd
    from pandas.io.formats.style import Styler
    from pandas.io.formats.style_render import CSSDict

    from sim.analysis.matrices import Matrix
    from sim.analysis.result import Result

# how cells are shown: a metric's kind is one of the first three (metric_kind)
MONEY_KIND, RATIO_KIND, DATE_KIND = "money", "ratio", "date"
NUMBER_KIND, INTEGER_KIND, TEXT_KIND = "number", "integer", "text"
ABSENT, UNDEFINED, NEVER = "—", "n/a", "never"
UNITS = {MONEY_KIND: "$", RATIO_KIND: "%"}  # the unit a label says
WORDS = {"pv": "PV", "post money": "post-money"}  # words of metric names, as written in prose
ONLY = "_investment_only"  # the suffix of the figures against the twin that keeps the contracts

# the columns of a sensitivity table (sim.analysis.sensitivity.COLUMNS; tests/test_tables.py
# holds that they are there) whose values are the measured metric, and those in the input's unit
SENSITIVITY_METRIC = {"metric_low": "At low", "metric_high": "At high", "swing": "Swing"}
SENSITIVITY_INPUT = ("base", "low", "high")
# Sobol indices and their confidence intervals: fractions of the variance, to three places
SOBOL = {"S1": "S1", "S1_conf": "S1 ±", "ST": "ST", "ST_conf": "ST ±"}


# ---- kinds and names ----------------------------------------------------------------------------
def metric_kind(name: str) -> str:
    """``money``, ``ratio`` or ``date``: how metric ``name`` is shown, read from the declarations
    in sim/analysis/metrics.py (a lab metric that is not a date is money). ``KeyError`` for a
    name that is no metric."""
    if name in DATES or name in LAB_DATES:
        return DATE_KIND
    if name in RATIOS:
        return RATIO_KIND
    if name in SHARE_COUNTS:  # shares, not cents (the cap table)
        return NUMBER_KIND
    if name in MONEY or name in LAB_METRICS:
        return MONEY_KIND
    raise KeyError(f"{name!r} is no metric (sim/analysis/metrics.py declares them)")


def is_metric(name: object) -> bool:
    """Whether ``name`` is a metric's name."""
    if not isinstance(name, str):
        return False
    try:
        metric_kind(name)
    except KeyError:
        return False
    return True


def metric_label(name: str, *, unit: bool = True) -> str:
    """A metric as a person reads it: ``pv_incremental_profit_investment_only`` -> "PV
    incremental profit, investment alone ($)"; with ``unit=False`` without "($)"."""
    kind = metric_kind(name)
    # a figure under one substitution (incremental_revenue_substitution_none): said last
    base, _, under = name.partition("_substitution_")
    base, alone = (base.removesuffix(ONLY), True) if base.endswith(ONLY) else (base, False)
    # a revenue or profit read as booked, or its cash reading beside it
    reading = ""
    if base.endswith("_booked"):
        base, reading = base.removesuffix("_booked"), "booked"
    elif is_metric(base + "_booked"):
        reading = "cash"
    # a figure by path (round_trip_own_cloud): the figure's label, then the path
    path = next(
        (p for p in PATHS if base.endswith("_" + p) and is_metric(base.removesuffix("_" + p))),
        None,
    )
    if path is not None:
        base = base.removesuffix("_" + path)
    text = " ".join(base.split("_"))
    for word, better in WORDS.items():
        text = re.sub(rf"\b{word}\b", better, text)
    text = text[:1].upper() + text[1:]
    if path is not None:
        text += f", {path.replace('_', ' ')}"
    if reading:
        text += f", {reading}"
    if alone:
        text += ", investment alone"
    if under:
        text += f", substitution {under}"
    return f"{text} ({UNITS[kind]})" if unit and kind in UNITS else text


def input_kind(scenario: Scenario | None, path: str) -> str | None:
    """How an input's values are shown, from its declaration (sim/inputs/values.py): an amount
    as money, a share as a ratio, a whole number, a date; None where unknown."""
    if scenario is None:
        return None
    from sim.errors import ScenarioError
    from sim.inputs.specs import varied_input

    try:
        declared = varied_input(scenario.resolved, path).kind
    except ScenarioError:
        return None
    return {"amount": MONEY_KIND, "share": RATIO_KIND, "integer": INTEGER_KIND}.get(
        declared, DATE_KIND if declared == "date" else TEXT_KIND
    )


def _split(name: str) -> tuple[str, str] | None:
    """``<agent>.<metric>`` (a results file's column) as (agent, metric), else None."""
    agent, dot, metric = name.partition(".")
    return (agent, metric) if dot and is_metric(metric) else None


def kind_of(name: Hashable, scenario: Scenario | None = None) -> str | None:
    """The kind of the values a column (or row) named ``name`` holds: a metric, an
    ``<agent>.<metric>``, an input (``in:<path>``, or a dotted path); None where the name does
    not say."""
    if not isinstance(name, str):
        return None
    if is_metric(name):
        return metric_kind(name)
    split = _split(name)
    if split is not None:
        return metric_kind(split[1])
    if name.startswith("in:") or "." in name:
        return input_kind(scenario, name.removeprefix("in:"))
    return None


def label(name: Hashable, scenario: Scenario | None = None) -> str:
    """A row or column name as a person reads it: a metric's label, an agent's, an input's
    (``sim.inputs.names.input_name``), ``<agent>.<metric>`` as "Agent: metric ($)"; other
    names with spaces for underscores."""
    if not isinstance(name, str):
        return str(name)
    if is_metric(name):
        return metric_label(name)
    split = _split(name)
    if split is not None:
        agent = scenario.label(split[0]) if scenario is not None else split[0]
        m = metric_label(split[1])
        return f"{agent}: {m[:1].lower()}{m[1:]}" if not m.startswith("PV") else f"{agent}: {m}"
    if scenario is not None and name in scenario.labels:
        return scenario.label(name)
    if scenario is not None and " + " in name:  # a group of accounts (a consolidated matrix)
        return " + ".join(scenario.label(part) for part in name.split(" + "))
    if scenario is not None and (name.startswith("in:") or kind_of(name, scenario)):
        from sim.inputs.names import input_name

        return input_name(scenario, name.removeprefix("in:"))
    return name.removeprefix("in:").replace("_", " ")


# ---- cells --------------------------------------------------------------------------------------
def _missing(v: Any) -> bool:
    """NaN, NaT or pandas' NA: a figure the run lacks."""
    if isinstance(v, float):
        return math.isnan(v)
    return str(v) in ("NaT", "<NA>", "nan")


def dollars(v: float) -> str:
    """Dollars in $B with two decimals, $M below a billion, whole dollars below a million, cents
    below a dollar: ``$81.51B``, ``-$250.00M``, ``$12,345``, ``$0``."""
    cents = round(v * 100)  # no cent noise: 81509118202.229996 is $81,509,118,202.23
    sign, x = ("-" if cents < 0 else ""), abs(cents) / 100
    if x >= 1e9 - 0.005e9:  # $999.999M reads $1.00B, not $1,000.00M
        return f"{sign}${x / 1e9:,.2f}B"
    if x >= 1e6 - 0.005e6:
        return f"{sign}${x / 1e6:,.2f}M"
    if x >= 1:
        return f"{sign}${x:,.0f}"
    return f"{sign}${x:.2f}" if cents else "$0"


def money(dollars: float | None) -> str:
    """Dollars always in $B with two decimals (``$50.00B``, ``$0.00B``), as the printed summary
    and the reports write a column of figures; ``n/a`` for a figure a run lacks. A table's
    cells use ``dollars``, which drops to $M and whole dollars for small amounts."""
    return "n/a" if dollars is None else format_dollars(dollars * 100)


def percent(fraction: float | None, digits: int = 1) -> str:
    """A fraction as a percentage (``12.3%``), ``n/a`` for a figure a run lacks."""
    return "n/a" if fraction is None else f"{fraction:.{digits}%}"


def number(v: float) -> str:
    """A number with thousands separators, never in scientific notation, at most four decimals
    and none that are trailing zeros: ``10,000,000,000``, ``0.0625``."""
    if v == int(v) and abs(v) < 1e18:
        return f"{int(v):,}"
    return f"{v:,.4f}".rstrip("0").rstrip(".")


def show(v: Any, kind: str | None) -> str:
    """One cell as text, by its ``kind`` (``money``, ``ratio``, ``date``, ``number``,
    ``integer``, ``text``; None: by the value's own type)."""
    if v is None:
        return "" if kind == TEXT_KIND else ABSENT
    if isinstance(v, str):
        return v
    if _missing(v):
        return NEVER if kind == DATE_KIND else ("" if kind == TEXT_KIND else UNDEFINED)
    if isinstance(v, dt.datetime):  # pandas' Timestamp too
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, np.datetime64):
        return str(v.astype("datetime64[D]"))
    if isinstance(v, bool | np.bool_) or not isinstance(v, int | float | np.number):
        return str(v)
    x = float(v)
    if kind == MONEY_KIND:
        return dollars(x)
    if kind == RATIO_KIND:
        return f"{x:.1%}"
    if kind == INTEGER_KIND:
        return f"{round(x):,}"
    return number(x)


def empty(v: Any, kind: str | None = None) -> bool:
    """A cell with nothing in it: zero, blank, or a figure the run lacks. A date that never
    came (NaT) is not empty: "never" is an answer (no payback within the horizon)."""
    if v is None or (isinstance(v, str) and v == ""):
        return True
    if kind == DATE_KIND:
        return False
    if isinstance(v, int | float) and not isinstance(v, bool):
        return v == 0 or math.isnan(v)
    return _missing(v)


# ---- frames -------------------------------------------------------------------------------------
def _axis_kinds(index: pd.Index, scenario: Scenario | None) -> list[str | None]:
    """The kind of each row (or column) of an index: by its name, or in a MultiIndex by its level
    named ``metric``."""
    if index.nlevels > 1:
        names = list(index.names)
        if "metric" not in names:
            return [None] * len(index)
        index = index.get_level_values(names.index("metric"))
    return [kind_of(n, scenario) for n in index]


def sensitivity_text(df: pd.DataFrame) -> pd.DataFrame:
    """A sensitivity table (sim.analysis.sensitivity) as text: each input by its name, its values
    in its unit, the metric's in the metric's."""
    import pandas as pd

    s: Scenario = df.attrs["scenario"]
    kind = metric_kind(df.attrs["metric"])
    from sim.inputs.names import input_name

    out: dict[str, list[str]] = {"Input": [input_name(s, p) for p in df["input"]]}
    unit_kind = [RATIO_KIND if u == "share" else MONEY_KIND for u in df["unit"]]
    for c in SENSITIVITY_INPUT:
        out[c.capitalize()] = [show(v, k) for v, k in zip(df[c], unit_kind, strict=True)]
    for c, words in SENSITIVITY_METRIC.items():
        out[words] = [show(v, kind) for v in df[c]]
    for c, words in SOBOL.items():
        if c in df.columns:
            out[words] = [f"{v:.3f}" if not _missing(v) else UNDEFINED for v in df[c]]
    if (df["note"] != "").any():
        out["Note"] = list(df["note"])
    return pd.DataFrame(out, index=pd.RangeIndex(1, len(df) + 1, name="rank"))


def _index_text(index: pd.Index, scenario: Scenario | None, words: bool = False) -> pd.Index:
    """Row names (or column names) as a person reads them; the values of a level named by an
    input (a sweep's point) in the input's unit. ``words``: the names are no metrics (a
    matrix's rows), only underscores become spaces."""
    import pandas as pd

    def level(values: Sequence[Any], name: Hashable) -> list[str]:
        if words:
            return [str(v).replace("_", " ") for v in values]
        if name == "metric" or name is None or not isinstance(name, str):
            return [label(v, scenario) for v in values]
        kind = kind_of(name, scenario) or input_kind(scenario, name)  # a sweep's point
        return [show(v, kind) if not isinstance(v, str) else label(v, scenario) for v in values]

    if index.nlevels > 1:
        levels = [level(list(index.get_level_values(i)), n) for i, n in enumerate(index.names)]
        names = [_level_name(n, scenario) for n in index.names]
        return pd.MultiIndex.from_arrays(levels, names=names)
    values = level(list(index), index.name)
    return pd.Index(values, name=_level_name(index.name, scenario))


def _level_name(name: Hashable, scenario: Scenario | None) -> str | None:
    """An index's name: an input's (a sweep's point) by the input's name."""
    if name is None:
        return None
    if scenario is not None and isinstance(name, str) and input_kind(scenario, name):
        from sim.inputs.names import input_name

        return input_name(scenario, name)
    return label(name, scenario)


def text(
    df: pd.DataFrame,
    *,
    scenario: Scenario | None = None,
    keep_empty: bool = False,
    kind: str | None = None,
    kinds: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """``df`` as a frame of text a person reads: each cell shown by the kind of its row or
    column (a metric's name, ``<agent>.<metric>``, ``in:<path>``, a level named ``metric``), or
    ``kind`` for every cell (``"money"`` for an accounting matrix), or ``kinds`` for the
    columns it names (``{"throughput": "money"}``); metrics zero or empty in
    every cell left out unless ``keep_empty``; names made human (agents' labels and inputs'
    names need the ``scenario``). A sensitivity table (``sim.sensitivity``) is recognised by
    what its ``attrs`` say."""
    import pandas as pd

    if {"metric", "scenario", "method"} <= set(df.attrs) and "unit" in df.columns:
        return sensitivity_text(df)
    rows = [kind] * len(df) if kind else _axis_kinds(df.index, scenario)
    cols = [kind] * len(df.columns) if kind else _axis_kinds(df.columns, scenario)
    cols = [(kinds or {}).get(str(c), k) for c, k in zip(df.columns, cols, strict=True)]
    cells = df.to_numpy(dtype=object)
    for j, ck in enumerate(cols):  # a column of text (a run's error, a note): blank where None
        given = [v for v in cells[:, j] if not (v is None or _missing(v))]
        if ck is None and given and all(isinstance(v, str) for v in given):
            cols[j] = TEXT_KIND
    keep_r = [
        keep_empty or rk is None or not all(empty(v, rk) for v in cells[i])
        for i, rk in enumerate(rows)
    ]
    keep_c = [
        keep_empty
        or (ck is None and kind is None)  # a run's id, an investor's key: always shown
        or not all(empty(v, ck) for v in cells[:, j])
        for j, ck in enumerate(cols)
    ]
    shown = [
        [show(v, rows[i] or cols[j]) for j, v in enumerate(cells[i]) if keep_c[j]]
        for i in range(len(cells))
        if keep_r[i]
    ]
    index = _index_text(df.index[keep_r], scenario, words=kind is not None)
    columns = _index_text(df.columns[keep_c], scenario)
    return pd.DataFrame(shown, index=index, columns=columns)


_CELL = [("white-space", "nowrap"), ("padding", "0.1em 0.6em")]
# a cell that holds a figure (right-aligned); anything else is words (left-aligned)
FIGURE = re.compile(
    rf"-?\$[\d,.]+[BM]?|-?[\d,.]+%?|\d{{4}}-\d\d-\d\d|{UNDEFINED}|{ABSENT}|{NEVER}|"
)


def style(frame: pd.DataFrame, caption: str | None = None) -> Styler:
    """A text frame (``text``) as a pandas Styler: figures right-aligned, words left-aligned,
    in one table that Jupyter shows whole (no columns clipped, as a frame's own display does
    past 20)."""
    styler = frame.style.set_table_styles(
        [
            {"selector": "td", "props": [("text-align", "right"), *_CELL]},
            {"selector": "th", "props": [("text-align", "left"), *_CELL]},
            {"selector": "caption", "props": [("text-align", "left"), ("font-weight", "bold")]},
        ]
    )
    words = [
        c
        for j, c in enumerate(frame.columns)
        if not all(FIGURE.fullmatch(str(v)) for v in frame.iloc[:, j])
    ]
    if words and frame.columns.is_unique:
        left: list[CSSDict] = [{"selector": "", "props": [("text-align", "left")]}]
        styler = styler.set_table_styles({c: left for c in words}, overwrite=False)
    return styler.set_caption(caption) if caption else styler


def readable(
    df: pd.DataFrame,
    *,
    scenario: Scenario | None = None,
    keep_empty: bool = False,
    kind: str | None = None,
    kinds: Mapping[str, str] | None = None,
    caption: str | None = None,
) -> Styler:
    """``df`` shown as a person reads it in a notebook (``text``, as a Styler); ``df`` itself is
    left as it is. Works on ``Result.metrics`` (and its ``.T``), ``metrics_by_lab``,
    ``lab_metrics``, the rows ``sim.sweep``/``sim.monte_carlo``/``farm.read`` give, their
    percentiles, ``sim.compare`` and ``sim.sensitivity`` tables; ``kind="money"`` for a matrix.
    A sensitivity table's caption says which metric its "at low" and "at high" are."""
    a = df.attrs
    if caption is None and {"metric", "scenario", "investor"} <= set(a):
        who = a["scenario"].label(a["investor"])
        caption = f"{metric_label(a['metric'])} of {who}, with each input at its low and high"
    shown = text(df, scenario=scenario, keep_empty=keep_empty, kind=kind, kinds=kinds)
    return style(shown, caption)


# ---- a run --------------------------------------------------------------------------------------
RESULT_TABLES = ("investors", "labs", "by_lab")


def result_frame(result: Result, which: str = "investors") -> pd.DataFrame:
    """A run's metrics with a row per metric and a column per agent (``investors``, ``labs``) or
    per (investor, lab) pair (``by_lab``): the raw figures, turned so that a person reads down."""
    if which not in RESULT_TABLES:
        raise ValueError(f"which(={which!r}) must be one of {', '.join(RESULT_TABLES)}")
    frame = {
        "investors": result.metrics,
        "labs": result.lab_metrics,
        "by_lab": result.metrics_by_lab,
    }[which]
    return frame.T


def result_table(result: Result, which: str = "investors", *, keep_empty: bool = False) -> Styler:
    """``result_frame`` as a person reads it: a row per metric that is not zero or empty for
    every agent, a column per agent by its label."""
    s = result.scenario
    frame = text(result_frame(result, which), scenario=s, keep_empty=keep_empty)
    if which == "by_lab":
        frame.columns = frame.columns.set_names(["Investor", "Lab"])
    caption = {"investors": "Investors", "labs": "Labs", "by_lab": "Investors, lab by lab"}
    return style(frame, caption[which])


def result_html(result: Result) -> str:
    """What Jupyter shows for a ``Result``: its scenario and dates, then its investors' and its
    labs' figures (``result_table``)."""
    import html

    s = result.scenario
    head = (
        f"<p><b>{html.escape(s.name)}</b>, {s.start.isoformat()} to {s.end.isoformat()}; "
        "the raw figures are <code>.metrics</code> and <code>.lab_metrics</code></p>"
    )
    body = [result_table(result, w).to_html() for w in ("investors", "labs")]
    return "\n".join([head, *body])


def matrix(m: Matrix, scenario: Scenario | None = None, *, keep_empty: bool = False) -> Styler:
    """An accounting matrix (``Result.matrices()``: transaction flows, balance sheet,
    consolidated) in money, every column shown, accounts by their labels, rows and columns that
    are zero throughout left out unless ``keep_empty``, the other zeros blank."""
    frame = text(m.frame(), scenario=scenario, keep_empty=keep_empty, kind=MONEY_KIND)
    return style(frame.replace("$0", ""), m.title)  # as the report: a zero cell is blank
