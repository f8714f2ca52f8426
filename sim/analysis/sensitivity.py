"""Which inputs matter: each numeric input of a scenario swung alone, or all together (Sobol).

``sensitivity`` finds every numeric input the file states (amounts, shares, growths, margins,
rates; not dates, names, durations or the seed), sets each to its base value times
``1 - swing`` and ``1 + swing`` (clipped to the range the input accepts), validates every variant
as ``--set`` would, has them all run as one batch (by ``sim.runs.studies.sensitivity``, which
reads the file and writes the outputs: the variants differ only in values) and ranks the
inputs by how far they move the chosen metric. A variant that makes an input invalid is
reported in its row (``note``), not raised. ``method="sobol"`` then samples the top inputs
together over the same ranges with SALib (Saltelli's scheme on a scrambled Sobol' sequence)
and reports first-order and total Sobol indices with their confidence intervals.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from sim.analysis import tables
from sim.analysis.metrics import DATES, INVESTOR_METRICS
from sim.errors import ScenarioError
from sim.inputs.document import YamlDoc, apply_overrides
from sim.inputs.scenario import Scenario, to_scenario
from sim.inputs.specs import MAX_RUNS, Stated, stated_inputs
from sim.inputs.values import MAX_SEED

if TYPE_CHECKING:
    import pandas as pd

METHODS = ("oat", "sobol")
METRICS = tuple(m for m in INVESTOR_METRICS if m not in DATES)
BATCH = 1_000  # variants per run_batch: memory grows with the batch, speed hardly at all
# The metric of each scenario (dollars, or a fraction), for an investor: how the runs are made
# is the runs layer's (sim.runs.studies), handed in, since analysis comes before it
MetricOf = Callable[[Sequence[Scenario], str, str], "npt.NDArray[np.float64]"]

COLUMNS = (
    "input",
    "unit",
    "base",
    "low",
    "high",
    "metric_low",
    "metric_high",
    "swing",
    "note",
)


def numeric_inputs(doc: YamlDoc) -> list[Stated]:
    """Every amount and share ``doc`` states, in file order, each with its kind, unit and bounds
    as its value type declares them (sim/inputs/values.py); zeros are left out (nothing to
    swing)."""
    return stated_inputs(doc.data)


# ---- the variants -----------------------------------------------------------------------------


def _variant(doc: YamlDoc, values: Mapping[Stated, float]) -> Scenario:
    """The scenario with each input set to a value, validated as ``--set`` would be."""
    changed = apply_overrides(doc, {i.path: i.written(v) for i, v in values.items()})
    return to_scenario(changed, doc.filename)


def _choose(base: Scenario, metric: str, investor: str | None) -> str:
    """The investor whose metric is read: the one named, else the first that owns a cloud."""
    if metric not in METRICS:
        raise ScenarioError(
            f"unknown metric {metric!r}; choose from {', '.join(METRICS)}", file="--metric"
        )
    if investor is None:
        owners = [i for i, v in base.investors.items() if v.owns] or list(base.investors)
        if not owners:
            raise ScenarioError("the scenario has no investor to measure", file=base.source)
        return owners[0]
    if investor in base.investors:
        return investor
    by_label = {base.label(i): i for i in base.investors}
    if investor in by_label:
        return by_label[investor]
    raise ScenarioError(
        f"no investor {investor!r} in {base.source or 'the scenario'}; "
        f"investors: {', '.join(base.investors)}",
        file="--investor",
    )


# ---- the two methods --------------------------------------------------------------------------


def sensitivity(
    doc: YamlDoc,
    metric_of: MetricOf,
    metric: str = "incremental_profit",
    investor: str | None = None,
    swing: float = 0.2,
    method: str = "oat",
    *,
    samples: int = 256,
    top: int = 8,
    seed: int | None = None,
) -> pd.DataFrame:
    """The inputs ``doc`` states, ranked by their effect on ``metric``, the runs made by
    ``metric_of`` (sim.runs.studies.sensitivity runs them; this module only says which).

    A row per numeric input, ranked by ``|swing|``: its base, low and high values (dollars or
    a fraction), the metric at low and at high, ``swing = metric_high - metric_low`` and a note
    where a variant is invalid. With ``method="sobol"``, a row per one of the ``top`` inputs
    instead, with ``S1``, ``S1_conf``, ``ST`` and ``ST_conf`` from ``samples`` base samples
    (``samples * (top + 2)`` runs; ``seed`` defaults to the scenario's). ``attrs`` hold the
    scenario, metric, investor, base value and swing."""
    import pandas as pd

    check_options(method, swing, samples, top, seed)
    base = _variant(doc, {})
    who = _choose(base, metric, investor)
    inputs = numeric_inputs(doc)
    if method == "sobol":
        check_sobol_size(samples, min(top, len(inputs)))

    runs: list[Scenario] = [base]
    rows: list[dict[str, Any]] = []
    where: list[tuple[int | None, int | None]] = []
    for item in inputs:
        row: dict[str, Any] = {"input": item.path, "unit": item.unit, "base": item.value}
        spots: list[int | None] = []
        notes = []
        for side, factor in (("low", 1 - swing), ("high", 1 + swing)):
            value = item.at(item.value * factor)
            row[side] = value
            try:
                runs.append(_variant(doc, {item: value}))
                spots.append(len(runs) - 1)
            except ScenarioError as e:
                notes.append(f"{side}: {e.message}")
                spots.append(None)
        row["note"] = "; ".join(notes)
        rows.append(row)
        where.append((spots[0], spots[1]))
    values = metric_of(runs, metric, who)
    for row, (lo, hi) in zip(rows, where, strict=True):
        row["metric_low"] = values[lo] if lo is not None else np.nan
        row["metric_high"] = values[hi] if hi is not None else np.nan
        row["swing"] = row["metric_high"] - row["metric_low"]
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    order = np.argsort(
        -np.nan_to_num(np.abs(table["swing"].to_numpy(dtype=float)), nan=-1.0), kind="stable"
    )
    table = table.iloc[order].reset_index(drop=True)
    table.attrs.update(
        {
            "scenario": base,
            "metric": metric,
            "investor": who,
            "base_metric": float(values[0]),
            "swing_fraction": swing,
            "method": method,
            "runs": len(runs),
        }
    )
    if method == "sobol":
        return _sobol(table, doc, inputs, metric_of, samples=samples, top=top, seed=seed)
    return table


def check_options(method: str, swing: float, samples: int, top: int, seed: int | None) -> None:
    """Refuse, before anything runs, an option no run could use (whatever the method: a value
    given is checked even where the method does not read it)."""
    if method not in METHODS:
        raise ScenarioError(
            f"unknown method {method!r}; choose from {', '.join(METHODS)}", file="--method"
        )
    if not _is_number(swing) or not 0 < swing <= 1:
        raise ScenarioError(
            f"the swing is more than 0% and at most 100%, got {_shown_number(swing)}",
            file="--swing",
        )
    if not _is_whole(samples) or samples < 2 or samples & (samples - 1):
        raise ScenarioError(
            f"a power of two (64, 256, 1024...), as Saltelli's scheme needs, got {samples}",
            file="--samples",
        )
    if not _is_whole(top) or top < 1:
        raise ScenarioError(f"a whole number of inputs, at least 1, got {top}", file="--top")
    if seed is not None and (not _is_whole(seed) or not 0 <= seed <= MAX_SEED):
        raise ScenarioError(
            f"the seed is a whole number from 0 to 2**63 - 1 ({MAX_SEED}), got {seed}",
            file="--seed",
        )


def check_sobol_size(samples: int, inputs: int) -> None:
    """Refuse a Sobol sample past the cap on runs (``sim.inputs.specs.MAX_RUNS``, as for a sweep or
    a
    Monte Carlo) or, held in memory (SALib's sample and the metric of each run), past the
    memory budget (``sim.model.budget``), before anything runs. ``inputs`` is the number sampled."""
    from sim.model.budget import format_bytes, memory_budget

    runs = samples * (inputs + 2)
    if runs > MAX_RUNS:
        raise ScenarioError(
            f"{samples:,} base samples of {inputs} inputs make {runs:,} runs "
            f"(samples x (inputs + 2)), past the cap of {MAX_RUNS:,}; ask for fewer samples "
            "(a power of two) or a smaller --top",
            file="--samples",
        )
    need = sobol_bytes(samples, inputs)
    budget = memory_budget()
    if need > budget:
        raise ScenarioError(
            f"{samples:,} base samples of {inputs} inputs hold {format_bytes(need)} in memory, "
            f"past the budget of {format_bytes(budget)} (ROUNDTRIP_MEMORY_BUDGET); ask for "
            "fewer samples (a power of two) or a smaller --top",
            file="--samples",
        )


def sobol_bytes(samples: int, inputs: int) -> int:
    """The float64s a Sobol sample holds at its peak: SALib's base sequence (``samples`` x
    2 x ``inputs``), the sample itself (``samples`` x (``inputs`` + 2) runs x ``inputs``) and
    the metric of each run, twice (the list read, the array analysed)."""
    runs = samples * (inputs + 2)
    return 8 * (samples * 2 * inputs + runs * inputs + 2 * runs)


def _is_number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and bool(np.isfinite(x))


def _is_whole(x: object) -> bool:
    return isinstance(x, int | np.integer) and not isinstance(x, bool)


def _shown_number(x: object) -> str:
    return f"{x:.4g}" if _is_number(x) else repr(x)


def _sobol(
    oat: pd.DataFrame,
    doc: YamlDoc,
    inputs: Sequence[Stated],
    metric_of: MetricOf,
    *,
    samples: int,
    top: int,
    seed: int | None,
) -> pd.DataFrame:
    """Sobol indices of the ``top`` inputs of ``oat`` whose low and high are both valid and
    differ."""
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample

    # an input is sampled between its low and its high: both valid, and apart (a share of
    # 1e-12 swung 20% is still 1e-12 to 12 places: there is no range to sample)
    valid = oat[(oat["note"] == "") & (oat["low"] != oat["high"])]
    chosen = valid.head(top)
    if chosen.empty:
        raise ScenarioError("no input can be swung both ways: nothing to sample")
    by_path = {i.path: i for i in inputs}
    items = [by_path[p] for p in chosen["input"]]
    bounds = [
        sorted((float(lo), float(hi))) for lo, hi in zip(chosen["low"], chosen["high"], strict=True)
    ]
    problem = {"num_vars": len(items), "names": [i.path for i in items], "bounds": bounds}
    base: Scenario = oat.attrs["scenario"]
    seed = base.seed if seed is None else seed
    points = sample.sample(problem, samples, calc_second_order=False, seed=seed)
    y = np.empty(len(points), dtype=np.float64)
    for start in range(0, len(points), BATCH):  # made and run a batch at a time
        scenarios = []
        for point in points[start : start + BATCH]:
            try:
                scenarios.append(
                    _variant(doc, {i: i.at(float(v)) for i, v in zip(items, point, strict=True)})
                )
            except ScenarioError as e:
                raise ScenarioError(
                    f"a Sobol sample is invalid ({e.message}); lower the swing or --top",
                    file=e.file,
                ) from None
        y[start : start + len(scenarios)] = metric_of(
            scenarios, oat.attrs["metric"], oat.attrs["investor"]
        )
    found = analyze.analyze(
        problem, y, calc_second_order=False, conf_level=0.95, seed=seed, print_to_console=False
    )
    table = chosen.reset_index(drop=True).copy()
    for k in ("S1", "S1_conf", "ST", "ST_conf"):
        table[k] = np.asarray(found[k], dtype=float)
    table.attrs.update(oat.attrs)
    table.attrs.update({"method": "sobol", "samples": samples, "seed": seed})
    table.attrs["runs"] = oat.attrs["runs"] + len(points)
    return table


# ---- printing ---------------------------------------------------------------------------------


def to_text(table: pd.DataFrame) -> str:
    """The table ``roundtrip sensitivity`` prints, most influential input first: each input by
    its name, values as ``sim.analysis.tables`` shows them ($B or $M, %), never in scientific
    notation."""
    a = table.attrs
    s: Scenario = a["scenario"]
    swing = f"{a['swing_fraction'] * 100:.4g}%"
    base = tables.show(a["base_metric"], tables.metric_kind(a["metric"]))
    lines = [
        f"{s.name}: {tables.metric_label(a['metric'], unit=False).lower()} of "
        f"{s.label(a['investor'])}, {base} at the base values",
        f"Each input swung ±{swing} alone, the others at their base values "
        f"({a['runs']} runs in one batch)."
        if a["method"] == "oat"
        else f"Sobol indices of the top {len(table)} inputs, swung ±{swing} together: "
        f"{a['samples']} base samples, {a['runs']:,} runs, seed {a['seed']}.",
        "",
    ]
    shown = tables.sensitivity_text(table).drop(columns="Note", errors="ignore")
    head = [str(c) for c in shown.columns]
    body = [[str(c) for c in row] for row in shown.itertuples(index=False)]
    width = [max(len(row[j]) for row in [head, *body]) for j in range(len(head))]
    for cells in [head, *body]:
        first = f"{cells[0]:<{width[0]}}"
        rest = "  ".join(f"{c:>{w}}" for c, w in zip(cells[1:], width[1:], strict=True))
        lines.append(f"{first}  {rest}".rstrip())
    notes = [(r["input"], r["note"]) for _, r in table.iterrows() if r["note"]]
    if notes:
        lines += ["", "Not run (the swung value is not valid):"]
        lines += [f"  {tables.label(path, s)} ({path}): {note}" for path, note in notes]
    return "\n".join(lines)


def to_csv(table: pd.DataFrame) -> str:
    """The table in raw units (dollars, fractions); blank where not run."""
    return str(table.to_csv(index=False, lineterminator="\n"))


def to_json(table: pd.DataFrame) -> str:
    """``{"scenario", "metric", "investor", "base_metric", "swing", "method", "rows": [...]}``."""
    import json

    a = table.attrs
    rows = [
        {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
        for r in table.to_dict(orient="records")
    ]
    head = {
        "scenario": a["scenario"].source or a["scenario"].name,
        "metric": a["metric"],
        "investor": a["investor"],
        "base_metric": a["base_metric"],
        "swing": a["swing_fraction"],
        "method": a["method"],
        "runs": a["runs"],
    }
    if a["method"] == "sobol":
        head |= {"samples": a["samples"], "seed": a["seed"]}
    return json.dumps({**head, "rows": rows}, indent=2)
