"""Specs of ranges: the values one input takes in a sweep (a list, or a range LO..HI:N) or a
distribution it is drawn from (``{normal: [mean, sd]}`` in a file, ``PATH~normal(mean,sd)`` on
the command line), each read in the input's own units and checked against its declaration
(sim/inputs/values.py: kind and bounds). docs/scenarios.md, "Ranges: sweeps and distributions".

They belong to the inputs because a file may state them in place of values: every command that
reads one scenario reads such a file at its sweep's first point and its distributions' medians
(sim/inputs/points.py); the ranges layer makes the many scenarios of a grid or a draw.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Union, get_args, get_origin

from pydantic import BaseModel

from sim.errors import ScenarioError
from sim.inputs.document import clip, one_line, read_value
from sim.inputs.models import ScenarioModel, TrancheModel
from sim.inputs.units import (
    Duration,
    parse_amount_cents,
    parse_date,
    parse_duration,
    parse_share,
    shown,
)
from sim.inputs.values import NUMERIC, Declared, declaration, declared, dollars, unwrap

if TYPE_CHECKING:
    import numpy as np

Fail = Callable[[str], ScenarioError]

DISTRIBUTIONS = {
    "normal": "[mean, sd]",
    "uniform": "[lo, hi]",
    "lognormal": "[median, sigma]",
    "triangular": "[lo, mode, hi]",
    "choice": "[a, b, ...]",
}
RANGED = (*NUMERIC, "duration", "date")  # inputs a range LO..HI:N may vary
MAX_POINTS = 100_000  # points in one range
# runs of one sweep (its grid's points) or one Monte Carlo: 10,000 runs of the $50B file take
# ~1 s in this process and write ~18 MB of series, so 10 million take hours and ~18 GB
MAX_RUNS = 10_000_000
# the largest magnitude of a whole number's value or a distribution's parameter that is not an
# amount or a share (those have their own bounds): past it no draw or range could be valid,
# and numpy's draws would overflow to infinity
MAX_NUMBER = 2**63
SHARE_PLACES = Decimal("1e-12")  # shares made here are rounded to 12 decimal places
PROVIDER = re.compile(r"agents\.([^.]+)\.spending\.compute\.providers\.([^.]+)")
# deals.N.amount: an investment's whole amount, its tranches scaled in proportion
DEAL_AMOUNT = re.compile(r"deals\.([0-9]+)\.amount")


# ---------------------------------------------------------------------------------------------
# What a path names, read from the models' own declarations
# ---------------------------------------------------------------------------------------------


def input_at(data: Any, path: Sequence[str]) -> Declared | None:
    """The declaration of the input ``path`` names in a scenario holding ``data`` (``mapping``
    for a whole agent, deal or list), or None if it names none."""
    tp: Any = ScenarioModel
    meta: tuple[Any, ...] = ()
    node = data
    for part in path:
        tp, meta = unwrap(tp, meta)
        if get_origin(tp) in (Union, types.UnionType):  # agents and deals: pick by their kind
            kind = node.get("kind") if isinstance(node, dict) else None
            tp = next((m for m in get_args(tp) if _literal(m) == kind), None)
            if tp is None:
                return None
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            fields = {f.alias or n: f for n, f in tp.model_fields.items()}
            if part not in fields or part == "sweep":
                return None
            tp, meta = fields[part].annotation, tuple(fields[part].metadata)
        elif get_origin(tp) is dict:
            tp, meta = get_args(tp)[1], ()
        elif get_origin(tp) is list:
            if not (part.isascii() and part.isdigit()):
                return None
            tp, meta = get_args(tp)[0], ()
        else:
            return None
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            node = None
    found = declared(tp, meta)
    if found is not None:
        return found
    return Declared("text") if unwrap(tp)[0] is str else Declared("mapping")


SWUNG = ("amount", "share")  # the kinds of input sensitivity swings: not the seed, nor dates


@dataclass(frozen=True)
class Stated:
    """A numeric input a document states: its dotted ``path`` (as ``--set`` takes it), its
    ``declared`` kind, unit and bounds, and its ``value`` in the units a person reads (dollars
    for an amount, a fraction for a share)."""

    path: str
    declared: Declared
    value: float

    @property
    def unit(self) -> str:
        """``dollars`` or ``share``."""
        return self.declared.unit

    @property
    def bounds(self) -> tuple[float, float]:
        """The closed range of its values, in its units (an open end, such as a margin's 100%,
        is left to validation, which says so)."""
        scale = 0.01 if self.declared.kind == "amount" else 1
        return (self.declared.lo * scale, self.declared.hi * scale)

    def at(self, value: float) -> float:
        """``value`` clipped to the input's range, in whole cents or to 12 decimal places."""
        lo, hi = self.bounds
        value = min(max(value, lo), hi)
        return round(value, 2) if self.declared.kind == "amount" else round(value, 12)

    def written(self, value: float) -> object:
        """``value`` as an override sets it: dollars as exact text, a share as a number."""
        if self.declared.kind == "amount":
            return str(Decimal(round(value * 100)).scaleb(-2))
        return value


def stated_inputs(data: dict[str, Any], kinds: Sequence[str] = SWUNG) -> list[Stated]:
    """Every input of one of ``kinds`` that ``data`` (a document read at its first point) states
    as a number other than zero, in file order: what ``roundtrip sensitivity`` swings."""
    found: list[Stated] = []

    def walk(node: Any, path: tuple[str, ...]) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, (*path, str(k)))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, (*path, str(i)))
        elif path and not isinstance(node, bool) and node is not None:
            d = input_at(data, path)
            if d is None or d.kind not in kinds:
                return
            try:
                value = parse_amount_cents(node) / 100 if d.kind == "amount" else parse_share(node)
            except ValueError:  # not a number after all (validation says so)
                return
            if value != 0:
                found.append(Stated(".".join(path), d, value))

    walk(data, ())
    return found


def _literal(model: Any) -> Any:
    """The ``kind`` an agent or deal model is chosen by."""
    return get_args(model.model_fields["kind"].annotation)[0]


def _raise(message: str) -> ScenarioError:
    return ScenarioError(message)


def varied_input(data: dict[str, Any], path: str, fail: Fail = _raise) -> Declared:
    """The input a varied path names (``deals.N.amount`` is an investment's whole amount)."""
    m = DEAL_AMOUNT.fullmatch(path)
    if m:
        deals = data.get("deals")
        i = int(m.group(1)) if len(m.group(1)) < 9 else -1
        if not isinstance(deals, list) or not 0 <= i < len(deals):
            count = len(deals) if isinstance(deals, list) else 0
            raise fail(f"there is no deals.{m.group(1)}: the file has {count} deals")
        deal = deals[i]
        if not isinstance(deal, dict) or deal.get("kind") != "investment":
            raise fail(
                f"deals.{i} is not an investment; deals.N.amount is the whole amount of an "
                "investment, its tranches scaled in proportion"
            )
        whole = declaration(TrancheModel, "amount")
        assert whole is not None
        return whole
    parts = path.split(".")
    found = input_at(data, parts) if all(parts) else None
    if found is None:
        raise fail(
            f"{shown(path)} names no input of a scenario; a path is dotted keys and list "
            "indices, such as agents.aws.margin or deals.0.tranches.1.amount, or deals.N.amount "
            "for an investment's whole amount"
        )
    return found


# ---------------------------------------------------------------------------------------------
# Values in an input's own units
# ---------------------------------------------------------------------------------------------


def _number(value: Any, inp: Declared, fail: Fail, what: str = "value") -> float:
    """A value of a numeric input as a number: cents, a fraction, or a whole number."""
    try:
        if inp.kind == "amount":
            return parse_amount_cents(value)
        if inp.kind == "share":
            return parse_share(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"expected a number, got {shown(value)}")
        if not (isinstance(value, int) or math.isfinite(value)) or abs(value) > MAX_NUMBER:
            raise ValueError(f"expected a number from -2**63 to 2**63, got {shown(value)}")
        return float(value)
    except ValueError as e:
        raise fail(f"{what}: {one_line(str(e))}") from None


def _asvaried_input(x: float, inp: Declared) -> Any:
    """A number back in the form ``--set`` takes, clipped to the input's valid range (before
    rounding: a draw that overflowed to infinity is the range's end)."""
    lo, hi, lo_open, hi_open = inp.bounds
    if inp.kind == "amount":
        cents = round(min(max(x, int(lo) + lo_open), int(hi) - hi_open))
        return dollars(cents)
    if inp.kind == "integer":
        return round(min(max(x, int(lo)), int(hi)))
    tiny = float(SHARE_PLACES)
    share = min(max(x, lo + tiny if lo_open else lo), hi - tiny if hi_open else hi)
    return float(Decimal(repr(share)).quantize(SHARE_PLACES))


def _canonical(value: Any, inp: Declared, fail: Fail) -> Any:
    """A listed value of a numeric input in canonical form (``"10B"`` -> 10000000000)."""
    if inp.kind in NUMERIC:
        number = _number(value, inp, fail)
        if inp.kind == "amount":
            return dollars(int(number))
        return int(number) if inp.kind == "integer" and number == int(number) else number
    return value


# ---------------------------------------------------------------------------------------------
# Sweeps: PATH=SPEC, a list or a range
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sweep:
    """The values one input takes in a grid, in the form ``--set`` takes them."""

    path: str
    values: tuple[Any, ...]
    label: str  # what errors name: "--vary PATH=SPEC" or "file.yaml:12 sweep PATH"
    text: str = ""  # as given to parse_vary, checked again against a template's inputs


@dataclass(frozen=True)
class Distribution:
    """One input drawn at random: ``kind`` (normal, ...) with ``params`` in the input's base
    units (cents, fractions), or for choice the listed values."""

    path: str
    kind: str
    params: tuple[Any, ...]
    input: Declared
    label: str
    text: str = ""  # as given to parse_vary, checked again against a template's inputs

    def median(self) -> Any:
        """The value ``run`` and ``validate`` use: the distribution's median, clipped (for a
        choice of numbers the lower middle one of them sorted, of other values the first)."""
        p = self.params
        if self.kind == "choice":
            if self.input.kind in NUMERIC:
                return sorted(p, key=lambda v: _number(v, self.input, _raise))[(len(p) - 1) // 2]
            return p[0]
        if self.kind in ("normal", "lognormal"):
            x = p[0]
        elif self.kind == "uniform":
            x = (p[0] + p[1]) / 2
        else:  # triangular: the point with half the area on each side
            lo, mode, hi = p
            if mode >= (lo + hi) / 2:
                x = lo + math.sqrt((hi - lo) * (mode - lo) / 2)
            else:
                x = hi - math.sqrt((hi - lo) * (hi - mode) / 2)
        return _asvaried_input(x, self.input)

    def sample(self, rng: np.random.Generator) -> Any:
        """One draw, clipped to the input's valid range."""
        p = self.params
        if self.kind == "choice":
            return p[int(rng.integers(len(p)))]
        if self.kind == "normal":
            x = rng.normal(p[0], p[1])
        elif self.kind == "uniform":
            x = rng.uniform(p[0], p[1])
        elif self.kind == "lognormal":
            x = rng.lognormal(math.log(p[0]), p[1])
        else:
            x = p[0] if p[0] == p[2] else rng.triangular(*p)
        return _asvaried_input(float(x), self.input)


_RANGE = re.compile(r"(.*?)\.\.(.*?)(?::(.*))?", re.DOTALL)
# A sweep's list written like one number grouped by thousands (1,250,500 or $2,500,000.50B):
# ambiguous, so refused rather than read as a list of small values
_GROUPED = re.compile(r"[-+]?\$?[1-9][0-9]{0,2}(?:,[0-9]{3})+(?:\.[0-9]*)?[A-Za-z%]*")
_CALL = re.compile(r"\s*([A-Za-z_]+)\s*\((.*)\)\s*", re.DOTALL)


def parse_vary(text: str, data: dict[str, Any] | None = None) -> Sweep | Distribution:
    """``PATH=SPEC`` (a sweep) or ``PATH~DIST(...)`` (a distribution), as given to ``--vary``.

    With ``data`` (a template's), the path and the values are checked against its inputs;
    without, only the spec's form is (``grid`` and ``draw`` check the rest)."""
    label = f"--vary {clip(one_line(str(text)))}"

    def fail(message: str) -> ScenarioError:
        return ScenarioError(message, file=label)

    eq, tilde = str(text).find("="), str(text).find("~")
    if eq < 0 and tilde < 0:
        raise fail(
            "expected PATH=SPEC (a list a,b,c or a range LO..HI:N) or PATH~DIST "
            "(normal(mean,sd), uniform(lo,hi), lognormal(median,sigma), "
            "triangular(lo,mode,hi), choice(a,b,...))"
        )
    is_dist = tilde >= 0 and (eq < 0 or tilde < eq)
    path, _, spec = str(text).partition("~" if is_dist else "=")
    path = path.strip()
    inp = varied_input(data, path, fail) if data is not None else None
    if is_dist:
        m = _CALL.fullmatch(spec)
        if not m:
            raise fail(f"expected a distribution such as normal(50%,15%), got {shown(spec)}")
        params = read_value(f"[{m.group(2)}]", label)
        dist = read_distribution(path, m.group(1), params, inp, label, fail)
        return dist if inp else replace(dist, text=str(text))
    made = read_sweep(path, spec, inp, label, fail)
    return made if inp else replace(made, text=str(text))


def read_sweep(path: str, spec: Any, inp: Declared | None, label: str, fail: Fail) -> Sweep:
    if isinstance(spec, str) and "[" not in spec[:1] and _RANGE.fullmatch(spec.strip()):
        m = _RANGE.fullmatch(spec.strip())
        assert m is not None
        return Sweep(path, _range(m.group(1), m.group(2), m.group(3), inp, fail), label)
    if isinstance(spec, str):
        text = spec.strip()
        if _GROUPED.fullmatch(text):  # 1,250,500: one number, or three values?
            raise fail(
                f"{shown(text)} reads both as one number grouped by thousands and as a list of "
                f"values; write one number as {text.replace(',', '_')}, or a list with a space "
                f"after each comma: {text.replace(',', ', ')}"
            )
        values = read_value(text if text.startswith("[") else f"[{text}]", label)
    else:
        values = spec
    if not isinstance(values, list):
        values = [values]
    if not values:
        raise fail("the list of values is empty; expected a list such as 10B,25B,50B")
    if inp is not None:
        values = [_canonical(v, inp, fail) for v in values]
    return Sweep(path, tuple(values), label)


def _range(
    lo_text: str, hi_text: str, n_text: str | None, inp: Declared | None, fail: Fail
) -> tuple:
    accepted = "a range is LO..HI:N, N evenly spaced points from LO to HI inclusive (0%..100%:11)"
    if n_text is None or not n_text.strip().isdigit() or not n_text.strip().isascii():
        raise fail(f"{accepted}; the number of points N is missing or not a whole number")
    n = int(n_text) if len(n_text.strip()) < 9 else MAX_POINTS + 1
    if not 2 <= n <= MAX_POINTS:
        raise fail(f"{accepted}; N must be from 2 to {MAX_POINTS:,}, got {n_text.strip()}")
    if inp is None:
        return ()  # checked again, with the input's kind, when the template is known
    if inp.kind not in RANGED:
        raise fail(
            f"a range applies to amounts, shares, numbers, durations and dates; this input is "
            f"{inp.kind}: list its values instead (a,b,c)"
        )
    lo, hi = (_read(t, fail) for t in (lo_text, hi_text))
    if inp.kind == "date":
        try:
            a, b = parse_date(lo), parse_date(hi)
        except ValueError as e:
            raise fail(f"{accepted}: {e}") from None
        days = _steps((b - a).days, n, "days", fail)
        return tuple(a + dt.timedelta(days=d) for d in days)
    if inp.kind == "duration":
        try:
            u, v = parse_duration(lo), parse_duration(hi)
        except ValueError as e:
            raise fail(f"{accepted}: {e}") from None
        if (u.days and v.months) or (u.months and v.days):
            raise fail(f"{accepted}; both ends in days (d, w) or both in months (mo, q, y)")
        if u.months or v.months:
            return tuple(
                str(Duration(months=u.months + k))
                for k in _steps(v.months - u.months, n, "months", fail)
            )
        return tuple(
            str(Duration(days=u.days + k)) for k in _steps(v.days - u.days, n, "days", fail)
        )
    x, y = (_number(end, inp, fail, "the range's ends") for end in (lo, hi))
    if inp.kind == "amount":
        return tuple(dollars(int(x) + k) for k in _steps(int(y) - int(x), n, "cents", fail))
    if inp.kind == "integer":
        if x != int(x) or y != int(y):
            raise fail(f"{accepted}; this input takes whole numbers")
        return tuple(int(x) + k for k in _steps(int(y) - int(x), n, "whole numbers", fail))
    a_, b_ = Decimal(repr(x)), Decimal(repr(y))
    if not a_ < b_:
        raise fail(f"{accepted}; LO must be below HI, got {lo_text.strip()}..{hi_text.strip()}")
    return tuple(
        float(
            a_
            if k == 0
            else b_
            if k == n - 1
            else (a_ + (b_ - a_) * k / (n - 1)).quantize(SHARE_PLACES)
        )
        for k in range(n)
    )


def _read(text: str, fail: Fail) -> Any:
    try:
        return read_value(text.strip(), "")
    except ScenarioError as e:
        raise fail(f"a range's end {shown(text.strip())}: {e.message}") from None


def _steps(span: int, n: int, unit: str, fail: Fail) -> list[int]:
    """n whole offsets from 0 to ``span`` as evenly spaced as whole units allow, all distinct."""
    if span <= 0:
        raise fail("a range's LO must be below its HI")
    offsets = [round(Fraction(span * k, n - 1)) for k in range(n)]
    if len(set(offsets)) < n:
        raise fail(
            f"{n} points between the ends would repeat values in whole {unit} "
            f"(the range spans {span:,}); ask for at most {span + 1:,} points"
        )
    return offsets


def read_distribution(
    path: str, kind: str, params: Any, inp: Declared | None, label: str, fail: Fail
) -> Distribution:
    if kind not in DISTRIBUTIONS:
        accepted = ", ".join(f"{k}: {v}" for k, v in DISTRIBUTIONS.items())
        raise fail(f"unknown distribution {shown(kind)}; accepted: {accepted}")
    form = f"{kind} takes {DISTRIBUTIONS[kind]} in the input's own units"
    if not isinstance(params, list):
        raise fail(f"{form}, got {shown(params)}")
    if kind == "choice":
        if not params:
            raise fail(f"{form}; the list is empty")
        if inp is not None and inp.kind != "mapping" and any(isinstance(v, list) for v in params):
            raise fail(
                f"{form}: a {inp.kind} is one value, not a list; write the values themselves, "
                "choice(a,b) on the command line (or {choice: [a, b]} in a file)"
            )
        values = tuple(_canonical(v, inp, fail) for v in params) if inp else tuple(params)
        return Distribution(path, kind, values, inp or Declared("mapping"), label)
    if len(params) != len(DISTRIBUTIONS[kind].split(",")):
        raise fail(f"{form}, got {len(params)} values: {shown(params)}")
    if inp is None:
        return Distribution(path, kind, tuple(params), Declared("mapping"), label)
    if inp.kind not in NUMERIC:
        raise fail(
            f"{kind} draws numbers; this input is {inp.kind}, not an amount, a share or a "
            "number: use choice [a, b, ...] to draw among values"
        )
    if kind == "lognormal":
        median = _number(params[0], inp, fail, "the median")
        sigma = _number(params[1], Declared("integer"), fail, "sigma (of the value's log)")
        if median <= 0 or sigma < 0:
            raise fail(f"{form}; the median must be above 0 and sigma at least 0")
        return Distribution(path, kind, (median, sigma), inp, label)
    numbers = tuple(_number(p, inp, fail, "a parameter") for p in params)
    if kind == "normal" and numbers[1] < 0:
        raise fail(f"{form}; the sd must be at least 0, got {shown(params[1])}")
    if kind in ("uniform", "triangular") and list(numbers) != sorted(numbers):
        order = "lo <= hi" if kind == "uniform" else "lo <= mode <= hi"
        raise fail(f"{form}, with {order}; got {shown(params)}")
    return Distribution(path, kind, numbers, inp, label)


def grid_size(axes: Sequence[Sweep], fail: Fail) -> int:
    """The number of points of a grid over ``axes``, refused past ``MAX_RUNS``."""
    sizes = [len(s.values) for s in axes]
    total = math.prod(sizes)
    if total > MAX_RUNS:
        raise fail(
            f"the grid has {total:,} points ({' x '.join(f'{n:,}' for n in sizes)} over "
            f"{', '.join(s.path for s in axes)}), past the cap of {MAX_RUNS:,} runs of one "
            "sweep; give fewer points, or split the sweep"
        )
    return total


def shown_value(value: Any) -> str:
    """A value as a label shows it: a share as a percentage, a date as written, text cut."""
    if isinstance(value, float):
        return f"{round(value * 100, 10):g}%" if -10 <= value <= 10 else f"{value:g}"
    if isinstance(value, dt.date):
        return str(value)
    return shown(value, 60) if not isinstance(value, str) else clip(one_line(value), 60)
