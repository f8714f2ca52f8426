"""How amounts accrue over a batch's calendar, exact to the cent and the same on every machine.

A flow (revenue, compute, other costs) accrues ``annual * (1+growth)**t`` a year; a contract's
take-or-pay minimum accrues over its term, or by the days of each year of its schedule. Each is
the difference of cumulative amounts rounded to the cent, so steps add up exactly to the rounded
total whatever the step size. Growth uses exp/log written with + - * / only (``det_expm1``,
``det_log1p``), so the same inputs give the same cents whatever libm or SIMD path numpy picks.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from sim.errors import ScenarioError
from sim.inputs.models import ContractModel, FlowModel
from sim.inputs.units import year_fraction
from sim.model.kernels import Cents, Floats

_LN2_HI = 6.93147180369123816490e-01  # ln 2 split in two parts (fdlibm), the high part exact
_LN2_LO = 1.90821492927058770002e-10


def det_expm1(x: Floats) -> Floats:
    """exp(x) - 1 with basic arithmetic only: bit-identical on every platform."""
    x = np.asarray(x, dtype=np.float64)
    k = np.rint(x / (_LN2_HI + _LN2_LO))
    r = (x - k * _LN2_HI) - k * _LN2_LO  # |r| <= ln2/2
    # Taylor series of expm1(r) to r**18/18!, ample for |r| < 0.35 in double precision
    term = r.copy()
    acc = r.copy()
    for n in range(2, 19):  # term = term * r / n, in place: the same operations, no temporaries
        term *= r
        term /= n
        acc += term
    if not k.any():
        return acc
    # where k != 0, scale exp(r) by 2**k exactly; elsewhere keep the series (no cancellation)
    return np.where(k == 0, acc, np.ldexp(acc + 1.0, k.astype(np.int64)) - 1.0)


def det_log1p(g: Floats) -> Floats:
    """log(1 + g) for g > -1 with basic arithmetic only (frexp, then an atanh series), with
    Goldberg's correction ``log(u) * g / (u - 1)`` for the rounding of ``u = 1 + g``."""
    g = np.asarray(g, dtype=np.float64)
    v = 1.0 + g
    m, e = np.frexp(v)  # v = m * 2**e, 0.5 <= m < 1
    low = m < 0.7071067811865476
    m = np.where(low, m * 2.0, m)
    e = np.where(low, e - 1, e)
    s = (m - 1.0) / (m + 1.0)  # |s| < 0.172
    s2 = s * s
    acc = np.zeros_like(s)
    for n in range(41, 0, -2):  # 2*(s + s^3/3 + ... + s^41/41)
        acc = acc * s2 + 1.0 / n
    log_v = 2.0 * s * acc + e * _LN2_HI + e * _LN2_LO
    d = v - 1.0
    return np.where(d == 0.0, g, log_v * (g / np.where(d == 0.0, 1.0, d)))


def flow_cents(annual_cents: Floats, growth: Floats, years: Floats) -> Cents:
    """Cents accrued in each step of a flow ``annual * (1+growth)**t`` a year, ``[step, run]``.

    The cumulative amount to year ``y`` is ``annual * ((1+g)**y - 1) / ln(1+g)`` (``annual * y``
    without growth); each step gets the difference of the cumulative amounts rounded to the cent,
    so steps add up exactly to the rounded total whatever the step size.
    """
    a = np.asarray(annual_cents, dtype=np.float64)[None, :]
    y = years[:, None]
    # Validation bounds growth (at most +1000% a year), so the cumulative amount stays finite; from
    # Python any growth may arrive: an overflow to inf or NaN is refused just below, not warned.
    with np.errstate(all="ignore"):
        lg = det_log1p(growth)[None, :]
        small = np.abs(lg) < 1e-9
        safe = np.where(small, 1.0, lg)
        cum = np.where(small, a * y, a * det_expm1(y * safe) / safe)
        cum = np.where(a == 0.0, 0.0, cum)  # no flow, whatever its growth
    if not np.isfinite(cum).all() or np.abs(cum).max(initial=0) >= 2**52:
        raise ScenarioError(
            "flows grow past $45 trillion within the horizon; "
            "lower the growth or shorten the horizon",
            path="horizon",
        )
    edges = np.floor(cum + 0.5).astype(np.int64)
    return np.diff(edges, axis=0)


def flow_columns(flows: list[FlowModel], years: Floats) -> Cents:
    """``flow_cents`` of each run's flow, computed once per distinct (annual, growth): the
    arithmetic is element by element, so a run's cents are the same whoever shares its column.
    (Twins repeat their run, and a Monte Carlo draw leaves most flows as they were.)"""
    column: dict[tuple[int, float], int] = {}
    which = [column.setdefault((f.annual, f.growth), len(column)) for f in flows]
    annual = np.array([a for a, _ in column], dtype=np.float64)
    growth = np.array([g for _, g in column], dtype=np.float64)
    cents = flow_cents(annual, growth, years)
    return cents if len(column) == len(flows) else cents[:, which]


def contract_minimum(runs: list[ContractModel], grid: list[dt.date], years: Floats) -> Cents:
    """One contract's take-or-pay minimum in each step, ``[step, run]`` (docs/model.md, section 3).

    The cumulative minimum at each grid date, rounded half up to the cent, differenced: the steps
    add up exactly to what accrues inside the horizon. A total accrues over its term, evenly or
    at a rate growing ``growth`` a year; a schedule by the days of each calendar year. Each
    distinct term (or schedule) is computed once, so a run's cents never depend on its batch."""
    shares: dict[tuple[dt.date, dt.date, float], Floats] = {}
    column: dict[object, int] = {}  # a column of cumulative cents per distinct minimum
    cols: list[Cents] = []
    which: list[int] = []
    by_object: dict[int, int] = {}  # runs share the contracts they do not vary
    for c in runs:
        if id(c) in by_object:
            which.append(by_object[id(c)])
            continue
        schedule = tuple(c.years)
        growth = c.growth or 0.0
        total = c.total or 0  # a total's; a schedule's cents are its years'
        key = schedule if schedule else (c.begins, c.end, growth, total)
        if key not in column:
            column[key] = len(cols)
            if schedule:
                cols.append(_scheduled_cents(schedule, grid))
            else:
                term = (c.begins, c.end, growth)
                if term not in shares:
                    shares[term] = _share_of_term(years, grid[0], *term)
                cols.append(np.floor(shares[term] * total + 0.5).astype(np.int64))
        by_object[id(c)] = column[key]
        which.append(column[key])
    edges = np.stack(cols, axis=1)[:, which]  # cumulative cents [grid date, run]
    steps: Cents = np.diff(edges, axis=0).astype(np.int64, copy=False)
    return steps


def _share_of_term(
    years: Floats, origin: dt.date, start: dt.date, end: dt.date, growth: float
) -> Floats:
    """Share of a total due by each grid year: ``t/T`` evenly, ``expm1(g't)/expm1(g'T)`` with
    ``g' = ln(1+g)`` at a rate growing ``g`` a year; ``t`` years since the contract's start,
    ``T`` its term, both counted from ``origin`` in year fractions."""
    y0, y1 = year_fraction(origin, start), year_fraction(origin, end)
    lg = float(det_log1p(np.array(growth)))
    # g = 0 is the even share, to the cent. Below 2**-60 a year the ramp differs from it by less
    # than a double's rounding (at most g'T/8 < 2**-53 for any term, at most about 110 years),
    # and for the tiniest growths its formula would fall into subnormal numbers.
    if abs(lg) < 2.0**-60:
        return np.clip((years - y0) / (y1 - y0), 0.0, 1.0)
    t = np.clip(years - y0, 0.0, y1 - y0)  # t = T exactly from the term's end: a share of 1
    result: Floats = det_expm1(lg * t) / det_expm1(np.array(lg * (y1 - y0)))
    return result


def _scheduled_cents(schedule: tuple[tuple[int, int], ...], grid: list[dt.date]) -> Cents:
    """Cents of a schedule accrued by each grid date, rounded half up: year Y's amount accrues
    evenly over its days (``ContractModel.scheduled_cents``, here over a whole grid)."""
    if sum(cents for _, cents in schedule) >= 2**52:
        raise ScenarioError(
            "a contract's schedule adds up past $45 trillion, past the range of exact cents; "
            "lower its amounts",
            path="deals",
        )
    day = np.array([d.toordinal() for d in grid], dtype=np.int64)
    total = np.zeros(len(grid), dtype=np.int64)
    for year, cents in schedule:
        first = dt.date(year, 1, 1).toordinal()
        n = dt.date(year + 1, 1, 1).toordinal() - first  # 365 or 366 days
        k = np.clip(day - first, 0, n)  # days of the year before each grid date
        # cents * k / n rounded half up, exactly in int64 (2 * cents * k < 2**62); at most one
        # year is part-way at any date, so rounding each year's part rounds their sum
        total += (2 * cents * k + n) // (2 * n)
    return total


def interest_on(outstanding: Cents, accrual: Floats) -> Cents:
    """Interest over one step on ``outstanding`` cents: ``outstanding * accrual`` rounded half
    up to the cent, where ``accrual`` is the rate a year times the step's year fraction (the
    part of it after the money was drawn). The one rule for a lab's debt and for loans."""
    return np.floor(outstanding * accrual + 0.5).astype(np.int64)
