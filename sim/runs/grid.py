"""The runs of a page (``roundtrip explore``): every point of a grid run with its twins, kept as
the page shows it.

``run_grid(template, vary, investor)`` makes the points of the file's sweep and ``vary`` as
``roundtrip sweep`` does (``sim.ranges.vary.grid_points``, the last input varying fastest) and
runs them in batches (``run_batch``, each run with its twins; a run never depends on its batch).
Of each run it keeps one investor's figures (its metrics, dollars or fractions), its cumulative
revenue at the sellers it owns from its labs, in the run and in the twin without its
investment, per grid date (cents, by the one caused rule, ``sim.analysis.caused``), and the
``--set`` values that make the same scenario with ``roundtrip run``. A point whose values make
no valid run keeps its error instead. A sweep's results and series files (sim/runs/farm.py) hold
what was caused, not the run's and the twin's revenue, which the page draws: hence this module,
which decides only what runs and what is kept; the engine and the rule are the project's.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from sim.analysis.caused import deals_with, picked
from sim.analysis.result import BatchResult
from sim.errors import ScenarioError
from sim.inputs.points import point_items
from sim.inputs.scenario import Scenario
from sim.inputs.specs import DEAL_AMOUNT, Sweep
from sim.inputs.units import parse_amount_cents, parse_share
from sim.ranges.vary import Template, first_point, grid_points, parse_vary
from sim.runs.runner import run_batch

# Runs per batch: 500 runs of the $50B file with their twins hold ~50 MiB on the flows recorder
# and run in ~1 s, so a batch's fixed cost (its plan, a few ms) is lost in it.
BATCH = 500
# The most runs a page is built from: each run adds about 1.1 kB to the page (its figures and
# its two series of 97 months), so 20,000 runs make a page of about 27 MB, past what a browser
# opens at ease.
MAX_RUNS = 20_000
# Inputs whose change moves the calendar: the page's runs share their dates (one chart axis)
CALENDAR = ("date", "duration")


@dataclass(frozen=True)
class GridRun:
    """One point of the grid as the page keeps it."""

    sets: list[str]  # PATH=VALUE, each as --set takes it, that make this point's scenario
    figures: dict[str, float | None] | None  # the investor's metrics; None if the run failed
    revenue: npt.NDArray[np.int64] | None  # [date, 2] cumulative cents: run, twin
    error: str | None  # why the point made no run


@dataclass(frozen=True)
class Grid:
    """The runs of a grid, in the grid's order (the last axis varying fastest)."""

    base: Scenario  # the file's scenario at its first point (with the overrides given)
    investor: str
    axes: list[tuple[str, tuple[Any, ...], str]]  # (path, values as --set takes them, kind)
    dates: list[dt.date]  # the grid dates every run's revenue is given on
    runs: list[GridRun]
    start: list[int]  # per axis, the index of the file's own value (0 if it is not among them)


def run_grid(
    template: Template, vary: Sequence[str], investor: str, figures: Sequence[str]
) -> Grid:
    """Run every point of the grid of the file's ``sweep:`` and ``vary`` (``PATH=SPEC``) and
    keep ``investor``'s ``figures`` (metric names) of each; see the module's docstring.
    Refused (``ScenarioError``) before any run: no input varied, more than ``MAX_RUNS`` runs,
    an input that moves the calendar, an investor without a twin."""
    points = grid_points(template, list(vary))
    if not points.varied:
        raise ScenarioError(
            "nothing to explore: give --vary PATH=SPEC (a list a,b,c or a range LO..HI:N)",
            file=template.filename,
        )
    if len(points) > MAX_RUNS:
        raise ScenarioError(
            f"a page holds at most {MAX_RUNS:,} runs, and this grid has {len(points):,}; vary "
            "fewer inputs or give them fewer values",
            file=template.filename,
        )
    for path in points.varied:
        if template.kind(path) in CALENDAR:
            raise ScenarioError(
                f"{path} moves the calendar, and a page's runs share their dates (one chart); "
                "explore it with roundtrip sweep instead",
                file=template.filename,
            )
    base = first_point(template)[1]
    points.check()
    owners = [i for i, inv in base.investors.items() if inv.owns]
    investing = {d.investor for d in base.investments}
    if investor not in owners or investor not in investing:
        raise ScenarioError(
            f"{investor!r} does not both own a seller and invest here, so no run has its twin; "
            f"choose from {', '.join(i for i in owners if i in investing) or 'none'}",
            file=template.filename,
        )
    axes: dict[str, tuple[Any, ...]] = {p: () for p in points.varied}
    for s in template.ranges.sweeps:  # the file's own, replaced by a --vary of the same path
        axes[s.path] = s.values
    for spec in vary:
        given = parse_vary(spec, template.ranges.base.data)
        if isinstance(given, Sweep):  # grid_points refused the rest
            axes[given.path] = given.values
    runs: list[GridRun] = []
    for start in range(0, len(points), BATCH):
        chunk = [points[k][1] for k in range(start, min(start + BATCH, len(points)))]
        runs += _run_chunk(template, chunk, investor, figures)
    return Grid(
        base=base,
        investor=investor,
        axes=[(p, axes[p], template.kind(p)) for p in points.varied],
        dates=list(base.grid()),
        runs=runs,
        start=[own_index(template, p, axes[p]) for p in points.varied],
    )


def own_index(template: Template, path: str, values: Sequence[Any]) -> int:
    """The index among ``values`` of ``path``'s value as the file writes it (with the
    template's overrides; ``deals.N.amount``: its tranches' sum), 0 if it is not one of them."""
    kind = template.kind(path)
    data = template.ranges.base.data
    m = DEAL_AMOUNT.fullmatch(path)
    try:
        if m:
            tranches = data["deals"][int(m.group(1))]["tranches"]
            own: Any = sum(parse_amount_cents(t["amount"]) for t in tranches) // 100
        else:
            own = data
            for part in path.split("."):
                own = own[int(part)] if isinstance(own, list) else own[part]
        key = set_text(own, kind)
    except (KeyError, IndexError, TypeError, ValueError):
        return 0
    return next((k for k, v in enumerate(values) if _same(v, key, kind)), 0)


def _same(value: Any, key: str, kind: str) -> bool:
    try:
        return set_text(value, kind) == key
    except (TypeError, ValueError):
        return False


def _run_chunk(
    template: Template, chunk: Sequence[Any], investor: str, figures: Sequence[str]
) -> list[GridRun]:
    """Run the points ``chunk`` as one batch (each alone if the batch is refused)."""
    sets: list[list[str]] = []
    made: list[Scenario | None] = []
    errors: list[str | None] = []
    for point in chunk:
        items = point_items(template.ranges.base, list(point.values), template.rescale)
        sets.append([f"{path}={set_text(value, template.kind(path))}" for path, value, _ in items])
        try:
            made.append(point.scenario())
            errors.append(None)
        except ScenarioError as e:
            made.append(None)
            errors.append(_said(e))
    kept: list[tuple[dict[str, float | None], npt.NDArray[np.int64]] | None] = [None] * len(chunk)
    ks = [k for k, s in enumerate(made) if s is not None]
    try:
        batch = run_batch([made[k] for k in ks], record="flows", bounds=False)  # type: ignore[misc]
        for k, one in zip(ks, _kept(batch, investor, figures), strict=True):
            kept[k] = one
    except ScenarioError:
        for k in ks:
            try:
                alone = run_batch([made[k]], record="flows", bounds=False)  # type: ignore[list-item]
                kept[k] = _kept(alone, investor, figures)[0]
            except ScenarioError as e:
                errors[k] = _said(e)
    return [
        GridRun(
            sets=sets[k],
            figures=kept[k][0] if kept[k] is not None else None,  # type: ignore[index]
            revenue=kept[k][1] if kept[k] is not None else None,  # type: ignore[index]
            error=errors[k],
        )
        for k in range(len(chunk))
    ]


def _said(e: ScenarioError) -> str:
    """A run's error as a page shows it: its one line, the file named by its name alone (a
    page is sent to others: no folder of this machine in it)."""
    if e.file is None or not os.path.exists(e.file):  # a label such as "--vary PATH=SPEC"
        return str(e)
    return str(e).replace(e.file, os.path.basename(e.file), 1)


def _kept(
    batch: BatchResult, investor: str, figures: Sequence[str]
) -> list[tuple[dict[str, float | None], npt.NDArray[np.int64]]]:
    """Per run of ``batch``: ``investor``'s figures and its revenue by date (run, twin)."""
    table = batch.metrics.xs(investor, level="investor")
    columns = {f: table[f].to_numpy(dtype=np.float64) for f in figures}  # dollars, fractions
    revenue = revenue_by_date(batch, investor)
    out = []
    for r in range(len(batch)):
        values = {f: None if np.isnan(c[r]) else float(c[r]) for f, c in columns.items()}
        out.append((values, revenue[r]))
    return out


def revenue_by_date(batch: BatchResult, investor: str) -> npt.NDArray[np.int64]:
    """Per run of ``batch`` (its twins are not runs), grid date, and side (the run, then its
    twin without ``investor``'s investment), the cumulative cents of sales into what
    ``investor`` owns on its labs' deals, every path (``sim.analysis.caused.sales``): ``[run,
    date, side]``. The run's less the twin's is the series file's ``incremental_revenue``; at
    the last date, the run's is the ``spend_on_own_cloud`` metric's sales and the difference
    ``incremental_revenue``."""
    data = batch.data
    plan, timed = data.plan, data.timed
    n = len(batch)
    twin_of = batch.all_metrics.twins.columns(investor)
    if twin_of is None:
        raise ValueError(f"investor(={investor!r}) has no twin: it caused nothing to follow")
    labs = list(dict.fromkeys(d.lab for d in plan.investments if d.investor == investor))
    rows = picked(plan, investor, deals_with(data, labs), timed, "incremental_revenue")
    idx = np.flatnonzero(rows)
    idx = idx[np.argsort(timed.time[idx], kind="stable")]
    sides = timed.amount[idx][:, [*range(n), *twin_of]]  # [record, run then twin]
    cum = np.vstack([np.zeros((1, 2 * n), np.int64), np.cumsum(sides, axis=0)])
    days = (np.array(plan.grid, dtype="datetime64[D]") - np.datetime64(plan.start, "D")).astype(
        np.int64
    )
    upto = cum[np.searchsorted(timed.time[idx], days, side="right")]  # [date, 2n]
    return np.stack([upto[:, :n].T, upto[:, n:].T], axis=-1).astype(np.int64)


def set_text(value: Any, kind: str) -> str:
    """A value of a point as ``--set`` reads it back to the same value: an amount in $B or $M
    where that is exact (``15B``), a share as a percentage where that is exact (``56.25%``),
    else as the template holds it."""
    if kind == "amount":
        cents = parse_amount_cents(value)
        for unit, scale in (("B", 10**11), ("M", 10**8)):
            if cents % scale == 0:
                return f"{cents // scale}{unit}"
            if cents % (scale // 100) == 0 and cents >= scale:
                return f"{cents / scale:.2f}".rstrip("0").rstrip(".") + unit
        return str(value)
    if kind == "share":
        share = parse_share(value)
        text = f"{round(share * 100, 10):g}%"
        return text if parse_share(text) == share else repr(share)
    return str(value)
