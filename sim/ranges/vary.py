"""Where the inputs of many runs are made: a scenario file parsed once, varied many times.

A ``Template`` keeps a file's parsed data (with positions) and derives scenarios from it by
overrides, exactly as ``--set`` does, without reading the YAML text again. Sweeps (``PATH=SPEC``:
a list or a range of values) make a grid of scenarios; distributions (``{normal: [mean, sd]}`` in
the file, ``PATH~normal(mean,sd)`` from the command line) make Monte Carlo draws, one numpy
generator per run spawned from one seed. docs/scenarios.md, "Ranges: sweeps and distributions".
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import os
import re
import types
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, PlainValidator

from sim.errors import ScenarioError
from sim.inputs import schema
from sim.inputs.loader import (
    Overrides,
    YamlDoc,
    YamlPath,
    _on_one_line,
    apply_overrides,
    dotted,
    one_line,
    read_scenario_text,
    read_value,
    read_yaml,
    set_values,
)
from sim.inputs.units import (
    MAX_DOLLARS,
    Duration,
    parse_amount_cents,
    parse_date,
    parse_duration,
    parse_share,
    shown,
)

if TYPE_CHECKING:
    import numpy as np

    from sim.inputs.scenario import Scenario

Inputs = dict[str, Any]  # dotted path -> the value a run was given, in the form --set takes
Fail = Callable[[str], ScenarioError]

DISTRIBUTIONS = {
    "normal": "[mean, sd]",
    "uniform": "[lo, hi]",
    "lognormal": "[median, sigma]",
    "triangular": "[lo, mode, hi]",
    "choice": "[a, b, ...]",
}
NUMERIC = ("amount", "share", "integer")  # inputs a distribution other than choice may vary
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
_MAX_CENTS = int(MAX_DOLLARS) * 100


# ---------------------------------------------------------------------------------------------
# What kind of input a path names, read from the schema's own declarations
# ---------------------------------------------------------------------------------------------

# validator -> (kind, lowest, highest, lowest excluded, highest excluded); cents or fractions
_VALIDATORS: dict[Any, tuple[str, float, float, bool, bool]] = {
    schema._amount: ("amount", 0, _MAX_CENTS, False, False),
    schema._non_negative_amount: ("amount", 0, _MAX_CENTS, False, False),
    schema._positive_amount: ("amount", 0, _MAX_CENTS, True, False),
    schema._unit_share: ("share", 0, 1, False, False),
    schema._rate: ("share", 0, 1, False, False),
    schema._interest_rate: ("share", 0, 1, False, False),
    schema._margin: ("share", 0, 1, False, True),
    schema._stake: ("share", 0, 1, True, False),
    schema._growth: ("share", -1, schema.MAX_GROWTH, True, False),
    schema._seed: ("integer", 0, schema.MAX_SEED, False, False),
    schema._duration: ("duration", 0, 0, False, False),
    schema._positive_duration: ("duration", 0, 0, False, False),
    schema._date: ("date", 0, 0, False, False),
}


@dataclass(frozen=True)
class Input:
    """What a path names: ``kind`` is amount, share, integer, duration, date, text or mapping
    (a whole agent, deal or list); ``bounds`` the valid range of a numeric one."""

    kind: str
    bounds: tuple[float, float, bool, bool] = (0, 0, False, False)


def _unwrap(tp: Any, meta: tuple[Any, ...] = ()) -> tuple[Any, tuple[Any, ...]]:
    """``Annotated[X | None, ...]`` -> ``(X, metadata)``."""
    while True:
        if get_origin(tp) is Annotated:
            tp, *extra = get_args(tp)
            meta = (*meta, *extra)
        elif get_origin(tp) in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp, meta
            tp = args[0]
        else:
            return tp, meta


def input_at(data: Any, path: Sequence[str]) -> Input | None:
    """The input ``path`` names in a scenario holding ``data``, or None if there is none."""
    tp: Any = schema.ScenarioModel
    meta: tuple[Any, ...] = ()
    node = data
    for part in path:
        tp, meta = _unwrap(tp, meta)
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
    tp, meta = _unwrap(tp, meta)
    check = next((m.func for m in meta if isinstance(m, PlainValidator)), None)
    if check in _VALIDATORS:
        kind, *bounds = _VALIDATORS[check]
        return Input(kind, tuple(bounds))  # type: ignore[arg-type]
    if check is not None or get_origin(tp) is Literal or tp is str:
        return Input("text")
    return Input("mapping")


def _literal(model: Any) -> Any:
    """The ``kind`` an agent or deal model is chosen by."""
    return get_args(model.model_fields["kind"].annotation)[0]


_PROVIDER = re.compile(r"agents\.([^.]+)\.spending\.compute\.providers\.([^.]+)")
_DEAL_AMOUNT = re.compile(r"deals\.([0-9]+)\.amount")


def _input(data: dict[str, Any], path: str, fail: Fail) -> Input:
    """The input a varied path names (``deals.N.amount`` is an investment's whole amount)."""
    m = _DEAL_AMOUNT.fullmatch(path)
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
        return Input("amount", (0, _MAX_CENTS, True, False))
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


def _number(value: Any, inp: Input, fail: Fail, what: str = "value") -> float:
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


def _as_input(x: float, inp: Input) -> Any:
    """A number back in the form ``--set`` takes, clipped to the input's valid range (before
    rounding: a draw that overflowed to infinity is the range's end)."""
    lo, hi, lo_open, hi_open = inp.bounds
    if inp.kind == "amount":
        cents = round(min(max(x, int(lo) + lo_open), int(hi) - hi_open))
        return schema.dollars(cents)
    if inp.kind == "integer":
        return round(min(max(x, int(lo)), int(hi)))
    tiny = float(SHARE_PLACES)
    share = min(max(x, lo + tiny if lo_open else lo), hi - tiny if hi_open else hi)
    return float(Decimal(repr(share)).quantize(SHARE_PLACES))


def _canonical(value: Any, inp: Input, fail: Fail) -> Any:
    """A listed value of a numeric input in canonical form (``"10B"`` -> 10000000000)."""
    if inp.kind in NUMERIC:
        number = _number(value, inp, fail)
        if inp.kind == "amount":
            return schema.dollars(int(number))
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
    input: Input
    label: str
    text: str = ""  # as given to parse_vary, checked again against a template's inputs

    def median(self) -> Any:
        """The value ``run`` and ``validate`` use: the distribution's median, clipped (for a
        choice of numbers the lower middle one of them sorted, of other values the first)."""
        p = self.params
        if self.kind == "choice":
            if self.input.kind in NUMERIC:
                return sorted(p, key=lambda v: _number(v, self.input, _no_fail))[(len(p) - 1) // 2]
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
        return _as_input(x, self.input)

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
        return _as_input(float(x), self.input)


def _no_fail(message: str) -> ScenarioError:
    return ScenarioError(message)


_RANGE = re.compile(r"(.*?)\.\.(.*?)(?::(.*))?", re.DOTALL)
# A sweep's list written like one number grouped by thousands (1,250,500 or $2,500,000.50B):
# ambiguous, so refused rather than read as a list of small values
_GROUPED = re.compile(r"[-+]?\$?[1-9][0-9]{0,2}(?:,[0-9]{3})+(?:\.[0-9]*)?[A-Za-z%]*")
_CALL = re.compile(r"\s*([A-Za-z_]+)\s*\((.*)\)\s*", re.DOTALL)


def parse_vary(text: str, data: dict[str, Any] | None = None) -> Sweep | Distribution:
    """``PATH=SPEC`` (a sweep) or ``PATH~DIST(...)`` (a distribution), as given to ``--vary``.

    With ``data`` (a template's), the path and the values are checked against its inputs;
    without, only the spec's form is (``grid`` and ``draw`` check the rest)."""
    label = f"--vary {_clip(one_line(str(text)))}"

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
    inp = _input(data, path, fail) if data is not None else None
    if is_dist:
        m = _CALL.fullmatch(spec)
        if not m:
            raise fail(f"expected a distribution such as normal(50%,15%), got {shown(spec)}")
        params = read_value(f"[{m.group(2)}]", label)
        dist = _distribution(path, m.group(1), params, inp, label, fail)
        return dist if inp else replace(dist, text=str(text))
    sweep = _sweep(path, spec, inp, label, fail)
    return sweep if inp else replace(sweep, text=str(text))


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _sweep(path: str, spec: Any, inp: Input | None, label: str, fail: Fail) -> Sweep:
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


def _range(lo_text: str, hi_text: str, n_text: str | None, inp: Input | None, fail: Fail) -> tuple:
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
        return tuple(schema.dollars(int(x) + k) for k in _steps(int(y) - int(x), n, "cents", fail))
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


def _distribution(
    path: str, kind: str, params: Any, inp: Input | None, label: str, fail: Fail
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
        return Distribution(path, kind, values, inp or Input("mapping"), label)
    if len(params) != len(DISTRIBUTIONS[kind].split(",")):
        raise fail(f"{form}, got {len(params)} values: {shown(params)}")
    if inp is None:
        return Distribution(path, kind, tuple(params), Input("mapping"), label)
    if inp.kind not in NUMERIC:
        raise fail(
            f"{kind} draws numbers; this input is {inp.kind}, not an amount, a share or a "
            "number: use choice [a, b, ...] to draw among values"
        )
    if kind == "lognormal":
        median = _number(params[0], inp, fail, "the median")
        sigma = _number(params[1], Input("integer"), fail, "sigma (of the value's log)")
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


# ---------------------------------------------------------------------------------------------
# A point: values set on a document, the rules of sweeping applied
# ---------------------------------------------------------------------------------------------


def _at(data: Any, path: Sequence[str]) -> Any:
    for part in path:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def _point(doc: YamlDoc, values: Sequence[tuple[str, Any, str]], rescale: bool = True) -> YamlDoc:
    """``doc`` with each ``(path, value, label)`` set: ``deals.N.amount`` scales the tranches,
    a provider's share rescales the lab's other providers (unless ``rescale`` is off)."""
    return set_values(doc, _items(doc, values, rescale))


def _items(
    doc: YamlDoc, values: Sequence[tuple[str, Any, str]], rescale: bool
) -> list[tuple[str, object, str]]:
    """The ``(path, value, label)`` to set for ``values``: as given, with a deal's amount
    spread over its tranches and a provider's share rescaling the lab's other providers."""
    items: list[tuple[str, object, str]] = []
    providers: dict[str, dict[str, tuple[Any, str]]] = {}
    for path, value, label in values:
        m = _DEAL_AMOUNT.fullmatch(path)
        p = _PROVIDER.fullmatch(path)
        if m:
            items += _tranches(doc.data, int(m.group(1)), value, label)
            continue
        if p:
            providers.setdefault(p.group(1), {})[p.group(2)] = (value, label)
        items.append((path, value, label))
    for lab, varied in providers.items():
        items += _providers(doc.data, lab, varied, rescale)
    return items


def _tranches(data: dict[str, Any], i: int, value: Any, label: str) -> list[tuple[str, Any, str]]:
    """The tranches of deals.i scaled to add up to ``value`` exactly, each to the cent
    (largest remainders: the cents left over go to the largest fractions, then the first)."""
    tranches = _at(data, ("deals", str(i), "tranches"))
    try:
        total = parse_amount_cents(value)
        cents = [parse_amount_cents(t["amount"]) for t in tranches]
    except (ValueError, TypeError, KeyError):
        return [
            (f"deals.{i}.tranches.{j}.amount", value, label) for j in range(len(tranches or []))
        ]
    written = sum(cents)
    if written <= 0:
        return []
    shares = [Fraction(total * c, written) for c in cents]
    scaled = [math.floor(s) for s in shares]
    left = total - sum(scaled)
    for j in sorted(range(len(scaled)), key=lambda j: (scaled[j] - shares[j], j))[:left]:
        scaled[j] += 1
    note = f"{label} (scaled from {schema.dollars(written)})"
    return [
        (f"deals.{i}.tranches.{j}.amount", schema.dollars(c), note) for j, c in enumerate(scaled)
    ]


def _shares(values: dict[str, Any]) -> dict[str, Decimal] | None:
    """Shares as exact decimals of what was written (None if one is no share)."""
    try:
        return {k: Decimal(repr(parse_share(v))) for k, v in values.items()}
    except ValueError:
        return None


def _providers(
    data: dict[str, Any], lab: str, varied: dict[str, tuple[Any, str]], rescale: bool
) -> list[tuple[str, Any, str]]:
    """Set the varied shares; the lab's other providers scale in proportion so that the total
    stays as written (down to none; past that, the part bought outside the model shrinks)."""
    base = f"agents.{lab}.spending.compute.providers"
    written = _at(data, base.split("."))
    new = _shares({c: v for c, (v, _) in varied.items()})
    shares = _shares(written) if isinstance(written, dict) else None
    if new is None or shares is None:
        return []  # validation says what is wrong
    others = [c for c in shares if c not in varied]
    rest = sum((shares[c] for c in others), Decimal(0))  # the others' shares as written
    want = sum(shares.values(), Decimal(0)) - sum(new.values(), Decimal(0))  # for the others
    label = next(iter(varied.values()))[1]
    if not rescale:
        after = sum(new.values(), rest)
        if after > 1:
            raise ScenarioError(
                f"with rescale off the other providers of {shown(lab)} keep their shares, and "
                f"the shares would sum to {_show(float(after))}, past 100%; lower the value, or "
                "let the others rescale in proportion (rescale on: drop --no-rescale)",
                file=label,
            )
        return []
    if not others or rest == 0:
        return []  # the part bought outside the model takes the difference
    want = max(want, Decimal(0))
    scaled = {c: (shares[c] * want / rest).quantize(SHARE_PLACES) for c in others}
    scaled[others[-1]] = want - sum((scaled[c] for c in others[:-1]), Decimal(0))
    note = f"rescaled for {label}"
    return [(f"{base}.{c}", float(s), note) for c, s in scaled.items()]


# ---------------------------------------------------------------------------------------------
# Ranges written in a file: a sweep: mapping, distributions in place of values
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ranges:
    """A document's ranges: ``base`` has no ``sweep:`` and its distributions at their medians."""

    base: YamlDoc
    sweeps: tuple[Sweep, ...]
    distributions: tuple[Distribution, ...]


def ranges(doc: YamlDoc) -> Ranges:
    """The sweeps and distributions written in ``doc``, checked; errors name file:line."""
    sweep = doc.data.get("sweep")
    found: list[tuple[YamlPath, dict[str, Any]]] = []
    _find(doc.data, (), found)
    if sweep is None and not found:
        return Ranges(doc, (), ())
    data = copy.deepcopy(doc.data)
    data.pop("sweep", None)
    dists: list[Distribution] = []
    for path, value in found:
        if path[:1] == ("sweep",):
            continue
        inp = input_at(data, [str(p) for p in path])
        if inp is None or inp.kind == "mapping":
            continue  # validation says the key is unknown

        def fail(message: str, path: YamlPath = path) -> ScenarioError:
            return doc.error(path, message)

        if len(value) != 1:
            raise fail(
                f"a distribution is one key ({', '.join(DISTRIBUTIONS)}), got {shown(value)}"
            )
        ((kind, params),) = value.items()
        label = _label(doc, path)
        dist = _distribution(dotted(path), str(kind), params, inp, label, fail)
        dists.append(dist)
        parent = _at(data, [str(p) for p in path[:-1]])
        parent[path[-1]] = dist.median()
    sweeps: list[Sweep] = []
    if sweep is not None:
        if not isinstance(sweep, dict):
            raise doc.error(("sweep",), f"expected a mapping PATH: SPEC, got {shown(sweep)}")
        for key, spec in sweep.items():
            where: YamlPath = ("sweep", key)

            def fail_at(message: str, where: YamlPath = where) -> ScenarioError:
                return doc.error(where, message)

            def fail_key(message: str, where: YamlPath = where) -> ScenarioError:
                return doc.error(where, message, key=True)

            inp = _input(data, str(key), fail_key)
            sweeps.append(_sweep(str(key), spec, inp, _label(doc, where), fail_at))
        _grid_size(sweeps, lambda m: doc.error(("sweep",), m, key=True))
    comments = {
        c: t for c, t in doc.comments.items() if c != "sweep" and not c.startswith("sweep.")
    }
    return Ranges(replace(doc, data=data, comments=comments), tuple(sweeps), tuple(dists))


def _grid_size(axes: Sequence[Sweep], fail: Fail) -> int:
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


def _label(doc: YamlDoc, path: YamlPath) -> str:
    file, line, _ = doc.where(path)
    return f"{file}:{line} {dotted(path)}" if line is not None else file


def _find(node: Any, path: YamlPath, out: list[tuple[YamlPath, dict[str, Any]]]) -> None:
    """Mappings that may be distributions (one key, or a distribution's name among the keys),
    in file order: (path, mapping); ``ranges`` keeps those in place of a value."""
    if isinstance(node, dict):
        if path and (len(node) == 1 or any(k in DISTRIBUTIONS for k in node)):
            out.append((path, node))
            if any(k in DISTRIBUTIONS for k in node):
                return
        for k, v in node.items():
            _find(v, (*path, k), out)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _find(v, (*path, i), out)


def at_first_point(doc: YamlDoc) -> YamlDoc:
    """``doc`` as ``run`` and ``validate`` read it: its sweep at its first point, its
    distributions at their medians (``doc`` itself when it has neither)."""
    r = ranges(doc)
    if not r.sweeps:
        return r.base
    return _point(r.base, [(s.path, s.values[0], s.label) for s in r.sweeps])


# ---------------------------------------------------------------------------------------------
# Templates, grids and draws
# ---------------------------------------------------------------------------------------------


@dataclass
class Template:
    """A scenario file parsed once; ``derive`` makes scenarios from it as ``--set`` would."""

    doc: YamlDoc  # as read, with the template's overrides
    rescale: bool = True  # a provider's share varied rescales the lab's other providers
    _ranges: Ranges | None = field(default=None, repr=False)
    _base_model: schema.ScenarioModel | None = field(default=None, repr=False)
    _base_failed: bool = field(default=False, repr=False)
    _first: Scenario | None = field(default=None, repr=False)  # first_point's, made once
    _kinds: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def ranges(self) -> Ranges:
        if self._ranges is None:
            self._ranges = _checked(lambda: ranges(self.doc))
        return self._ranges

    @property
    def filename(self) -> str:
        return self.doc.filename

    @property
    def base_model(self) -> schema.ScenarioModel | None:
        """The validated model of ``ranges.base`` (made once), or None if it does not
        validate: every point is then validated whole, and says why."""
        if self._base_model is None and not self._base_failed:
            try:
                self._base_model = schema.validate(self.ranges.base)
            except ScenarioError:
                self._base_failed = True
        return self._base_model

    def kind(self, path: str) -> str:
        """The kind of input a varied path names: amount, share, integer, duration, date, text
        or mapping (``Input.kind``); a results file's column of it has the type of its kind."""
        if path not in self._kinds:
            try:
                self._kinds[path] = _input(self.ranges.base.data, path, _no_fail).kind
            except ScenarioError:
                self._kinds[path] = "text"
        return self._kinds[path]

    def derive(self, overrides: Overrides = None, **kw: object) -> Scenario:
        """The scenario ``load_scenario(path, overrides)`` gives, without reading the file."""
        from sim.inputs.schema import to_scenario

        return _checked(
            lambda: to_scenario(at_first_point(apply_overrides(self.doc, overrides, **kw)))
        )


@dataclass(frozen=True)
class Point:
    """A run not made yet: a template and the values set on it (a grid point or a draw).
    ``scenario()`` makes it as ``grid`` and ``draw`` would; farmed out, it is made on the
    worker, so that a task carries a template once and a few values a run, not scenarios."""

    template: Template
    values: tuple[tuple[str, Any, str], ...]  # (path, value, label) as --set takes them

    def scenario(self) -> Scenario:
        return _scenario(self.template, list(self.values))[1]


def load_template(
    path: str | os.PathLike[str], overrides: Overrides = (), *, rescale: bool = True
) -> Template:
    """Read and parse a scenario file once (with ``overrides`` as ``--set`` takes them)."""
    filename = os.fspath(path)
    return _checked(
        lambda: Template(
            apply_overrides(read_yaml(read_scenario_text(filename), filename), overrides), rescale
        )
    )


def _checked(make: Callable[[], Any]) -> Any:
    try:
        return make()
    except ScenarioError as e:
        _on_one_line(e)
        raise


def _specs(template: Template, specs: Iterable[str | Sweep | Distribution]) -> list[Any]:
    data = template.ranges.base.data
    out: list[Sweep | Distribution] = []
    for spec in specs:
        if isinstance(spec, str):
            spec = parse_vary(spec, data)
        elif spec.text:  # made without a template: check it against this one's inputs
            spec = parse_vary(spec.text, data)
        twice = next((s for s in out if _overlap(s.path, spec.path)), None)
        if twice is not None:
            what = (
                f"{spec.path} is varied twice"
                if twice.path == spec.path
                else f"{spec.path} overlaps {twice.path}: varying one sets the other"
            )
            raise ScenarioError(
                f"{what} (also by {twice.label}); vary an input once, with all its values",
                file=spec.label,
            )
        out.append(spec)
    return out


def _overlap(a: str, b: str) -> bool:
    """Whether varying path ``a`` and varying ``b`` set some input twice: the same path, one
    inside the other (``agents.lab`` and ``agents.lab.cash``), or an investment's whole amount
    and one of its tranches."""

    def sets(path: str) -> str:
        m = _DEAL_AMOUNT.fullmatch(path)
        return f"deals.{m.group(1)}.tranches" if m else path

    x, y = sets(a), sets(b)
    return x == y or x.startswith(y + ".") or y.startswith(x + ".")


def _scenario(template: Template, inputs: list[tuple[str, Any, str]]) -> tuple[Inputs, Scenario]:
    """The scenario at one point of a grid or one draw: the template's base with ``inputs``
    set, as ``--set`` would make it (``to_scenario`` of the document with them set).

    Only the values set are validated again, by their own validators (``schema.with_values``),
    or where that cannot be done, the agents and deals they are in (``schema.revalidated``);
    the rest of the model is the base's, validated once. Where an input reaches anything else,
    or a value fails, the whole document is validated, so that errors read as they always do.
    """
    doc = template.ranges.base
    items = _checked(lambda: _items(doc, inputs, template.rescale))
    point = _checked(lambda: set_values(doc, items))
    model = None
    base = template.base_model
    if base is not None:
        paths = [_yaml_path(point.data, name) for name, _, _ in items]
        if None not in paths:
            model = schema.with_values(base, point, paths)  # type: ignore[arg-type]
        if model is None:
            parts = {_part(name) for name, _, _ in items}
            if None not in parts:
                model = schema.revalidated(base, point, parts)  # type: ignore[arg-type]
    if model is None:
        scenario = _checked(lambda: schema.to_scenario(point))
    else:
        scenario = _checked(lambda: schema.to_scenario_from(model, point))
    return {path: value for path, value, _ in inputs}, scenario


def _yaml_path(data: Any, name: str) -> YamlPath | None:
    """The path of a dotted name in ``data`` (list indices as ints), None where it has none."""
    path: list[str | int] = []
    node = data
    for part in name.split("."):
        if isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, list) and part.isascii() and part.isdigit() and int(part) < len(node):
            path.append(int(part))
            node = node[int(part)]
        else:
            return None
    return tuple(path)


def _part(name: str) -> tuple[str, str | int] | None:
    """The agent or deal a dotted input path is inside (``agents.aws.margin``: the agent
    ``aws``), or None for anything else (a top-level input, a whole agent or deal)."""
    parts = name.split(".")
    if len(parts) < 3 or parts[0] not in ("agents", "deals"):
        return None
    if parts[0] == "deals":
        return ("deals", int(parts[1])) if parts[1].isascii() and parts[1].isdigit() else None
    return ("agents", parts[1])


def grid(template: Template, specs: Iterable[str | Sweep] = ()) -> list[tuple[Inputs, Scenario]]:
    """Every combination of the file's sweep and ``specs`` (``PATH=SPEC``; one given again
    replaces the file's), the last varying fastest; distributions at their medians."""
    return [(inputs, p.scenario()) for inputs, p in grid_points(template, specs)]


@dataclass(frozen=True)
class Points:
    """The points of a sweep or a Monte Carlo, made one at a time as they are iterated (a
    million draws hold no million points): ``len`` of them, each ``(inputs, Point)``, the
    input paths ``varied``."""

    template: Template
    varied: tuple[str, ...]  # the input paths every point sets, in the file's order
    total: int
    make: Callable[[int], tuple[Inputs, Point]] = field(repr=False)  # point k
    # the point made before anything runs (``check``): None for the first one
    typical: tuple[tuple[str, Any, str], ...] | None = None

    def check(self) -> Scenario:
        """Make, before anything runs, the point that stands for them all: a grid's first point,
        a Monte Carlo's distributions at their medians (what ``run`` would read in a file). A
        spec no value of which can make a scenario (one naming a whole agent, a range starting
        out of bounds) is refused by it with ``ScenarioError``; a draw that is invalid is a row
        with its error, whichever run draws it."""
        if self.typical is None:
            return self.make(0)[1].scenario()
        return Point(self.template, self.typical).scenario()

    def __len__(self) -> int:
        return self.total

    def __iter__(self) -> Iterator[tuple[Inputs, Point]]:
        return (self.make(k) for k in range(self.total))

    def __getitem__(self, k: int) -> tuple[Inputs, Point]:
        if not -self.total <= k < self.total:
            raise IndexError(f"point {k} of {self.total}")
        return self.make(k % self.total)


def _made(template: Template, values: list[tuple[str, Any, str]]) -> tuple[Inputs, Point]:
    return {path: value for path, value, _ in values}, Point(template, tuple(values))


def grid_points(template: Template, specs: Iterable[str | Sweep] = ()) -> Points:
    """``grid`` as points not made yet (``Point.scenario()`` makes each), the last input
    varying fastest."""
    sweeps = {s.path: s for s in template.ranges.sweeps}
    for spec in _specs(template, specs):
        if isinstance(spec, Distribution):
            raise ScenarioError(
                "a distribution is drawn by Monte Carlo (draw), not swept; give a list a,b,c "
                "or a range LO..HI:N here",
                file=spec.label,
            )
        sweeps[spec.path] = spec
    axes = list(sweeps.values())
    sizes = [len(s.values) for s in axes]
    total = _grid_size(axes, lambda m: ScenarioError(m, file=template.filename))

    def make(k: int) -> tuple[Inputs, Point]:
        values = []
        for axis, size in zip(reversed(axes), reversed(sizes), strict=True):  # last fastest
            k, i = divmod(k, size)
            v = axis.values[i]
            values.append((axis.path, v, f"{axis.label} at {_show(v)}"))
        return _made(template, values[::-1])

    return Points(template, tuple(s.path for s in axes), total, make)


def draw(
    template: Template, n_runs: int, seed: int, specs: Iterable[str | Distribution] = ()
) -> list[tuple[Inputs, Scenario]]:
    """``n_runs`` scenarios, the file's distributions and ``specs`` (``PATH~DIST``) drawn with
    one generator per run from ``SeedSequence(seed).spawn(n_runs)``: run k's draws depend on
    ``seed`` and k only. A sweep in the file is held at its first point."""
    return [(inputs, p.scenario()) for inputs, p in draw_points(template, n_runs, seed, specs)]


def draw_points(
    template: Template, n_runs: int, seed: int, specs: Iterable[str | Distribution] = ()
) -> Points:
    """``draw`` as points not made yet: each point's values are drawn as it is iterated (run
    k's generator is ``SeedSequence(seed).spawn(n_runs)[k]``, made alone), its scenario by
    ``Point.scenario()`` (on a worker, when farmed out)."""
    import numpy as np

    if isinstance(n_runs, bool) or not isinstance(n_runs, int) or not 1 <= n_runs <= MAX_RUNS:
        raise ScenarioError(
            f"the number of runs must be a whole number from 1 to {MAX_RUNS:,}, got {shown(n_runs)}"
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= schema.MAX_SEED:
        raise ScenarioError(
            f"the seed must be a whole number from 0 to 2**63 - 1, got {shown(seed)}"
        )
    dists = {d.path: d for d in template.ranges.distributions}
    for spec in _specs(template, specs):
        if isinstance(spec, Sweep):
            raise ScenarioError(
                "a list or range is swept (grid), not drawn; give a distribution here, such as "
                "PATH~normal(50%,15%)",
                file=spec.label,
            )
        dists[spec.path] = spec
    fixed = [
        (s.path, s.values[0], f"{s.label} at {_show(s.values[0])}")
        for s in template.ranges.sweeps
        if s.path not in dists
    ]
    root = np.random.SeedSequence(seed)

    def make(k: int) -> tuple[Inputs, Point]:
        # the k-th child of root.spawn(n_runs), made alone: the same entropy, spawn key (k,)
        child = np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, k))
        rng = np.random.default_rng(child)
        values = [(d.path, d.sample(rng), d.label) for d in dists.values()]
        return _made(
            template, fixed + [(p, v, f"{label} drew {_show(v)}") for p, v, label in values]
        )

    varied = tuple(p for p, _, _ in fixed) + tuple(dists)
    medians = [(d.path, d.median(), f"{d.label} at its median") for d in dists.values()]
    return Points(template, varied, n_runs, make, tuple(fixed + medians))


def first_point(template: Template) -> tuple[Inputs, Scenario]:
    """The scenario ``run`` and ``validate`` use: the sweep's first point, distributions at
    their medians; with the inputs set to get there."""
    r = template.ranges
    values = [(s.path, s.values[0], s.label) for s in r.sweeps]
    if template._first is None:  # made once: a farm's every chunk reads its columns
        template._first = _scenario(template, values)[1]
    inputs = {path: value for path, value, _ in values}
    inputs.update({d.path: d.median() for d in r.distributions})
    return inputs, template._first


def describe(template: Template) -> str:
    """One line for ``run`` and ``validate`` to print about a file's ranges ("" if none)."""
    r = template.ranges
    parts = []
    if r.sweeps:
        points = math.prod(len(s.values) for s in r.sweeps)
        first = ", ".join(f"{s.path}={_show(s.values[0])}" for s in r.sweeps)
        parts.append(
            f"sweep of {points:,} point{'s' * (points != 1)} over "
            f"{', '.join(s.path for s in r.sweeps)}: read at its first point ({first})"
        )
    if r.distributions:
        medians = ", ".join(f"{d.path}={_show(d.median())}" for d in r.distributions)
        parts.append(
            f"{len(r.distributions)} input{'s' * (len(r.distributions) != 1)} drawn "
            f"from distributions: read at their medians ({medians})"
        )
    return "; ".join(parts)


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{round(value * 100, 10):g}%" if -10 <= value <= 10 else f"{value:g}"
    if isinstance(value, dt.date):
        return str(value)
    return shown(value, 60) if not isinstance(value, str) else _clip(one_line(value), 60)
