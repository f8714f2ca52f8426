"""The value types of a scenario: how each input is read, written back, and what it is.

Each value type is one ``Annotated`` line holding its validator (a ``PlainValidator``: how a
value a user writes is read), its serializer (how the resolved file writes it back) and its
declaration (``Declared``: its kind, unit and bounds). Every reader of inputs (the ranges of a
sweep or a draw, sensitivity's swings, the human names of inputs, the JSON Schema) reads the
declaration through ``declared`` or ``declaration``: a new numeric input is one field of a model
with one of these types, and nothing else.
"""

from __future__ import annotations

import difflib
import types
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from sim.inputs.units import (
    AMOUNT_HELP,
    MAX_DOLLARS,
    SHARE_HELP,
    Duration,
    parse_amount_cents,
    parse_date,
    parse_duration,
    parse_share,
    shown,
)

if TYPE_CHECKING:
    from pydantic import GetJsonSchemaHandler
    from pydantic.json_schema import JsonSchemaValue
    from pydantic_core import CoreSchema

FINANCING_KINDS = ("equity", "debt")
TRACINGS = ("pro_rata", "fifo")
# How a counterfactual twin replaces the money it runs without (docs/metrics.md, "Substitution"):
# not at all, by the file's financing rules, or in full with no limit
SUBSTITUTIONS: tuple[Literal["none", "file", "full"], ...] = ("none", "file", "full")
# Growth of a flow, per year: at most +1000%. $10T a year growing 1000% a year for 100 years stays
# a finite float (about 1e119 cents), so flows past the $45T of exact cents are refused by
# flow_cents with a message, never overflow to inf or NaN on the way.
MAX_GROWTH = 10.0
MAX_SEED = 2**63 - 1
MAX_CENTS = int(MAX_DOLLARS) * 100  # the largest figure a file may state, in cents
# Characters no one-line text may hold: controls (tab, line breaks, NUL...), line and paragraph
# separators, lone surrogates. A description may hold tabs and line breaks.
_NOT_TEXT = ("Cc", "Zl", "Zp", "Cs")
KINDS = ("amount", "share", "integer", "duration", "date", "text", "mapping")
NUMERIC = ("amount", "share", "integer")  # inputs a distribution other than choice may vary
# Stands, in a value's JSON Schema, for a distribution, which a file may write in place of any
# value (docs/scenarios.md, "Ranges"): sim/inputs/jsonschema.py puts its definition there
DISTRIBUTION_MARK = "x-distribution"


@dataclass(frozen=True)
class Declared:
    """What an input is, declared once beside its validator: its ``kind`` (amount, share,
    integer, duration, date, text; ``mapping`` for a whole agent, deal or list), its ``unit``
    as a person reads it, its bounds ``lo``..``hi`` in the units the model holds (cents for an
    amount, a fraction for a share; an open end is excluded), ``per`` for a rate or a flow
    ("a year"), the ``choices`` of a text that takes a few words, and a short ``description``.
    A kind not in ``KINDS``, or bounds the wrong way round, fail at once (at import)."""

    kind: str
    unit: str = ""
    lo: float = 0
    hi: float = 0
    lo_open: bool = False
    hi_open: bool = False
    per: str = ""
    choices: tuple[str, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind(={self.kind!r}) must be one of {', '.join(KINDS)}")
        if self.lo > self.hi:
            raise ValueError(f"lo(={self.lo}) must be at most hi(={self.hi})")

    @property
    def bounds(self) -> tuple[float, float, bool, bool]:
        """``(lo, hi, lo excluded, hi excluded)``."""
        return (self.lo, self.hi, self.lo_open, self.hi_open)

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """The JSON Schema of a value of this input, as a file may write it."""
        return json_schema(self)


def json_schema(d: Declared) -> dict[str, Any]:
    """What a file may write for an input declared ``d``: its own forms (an amount as a number
    of dollars or text such as ``$1.5B``, a share as a fraction or ``35%``, a duration as
    ``18mo``), with its bounds where a number states them, or a distribution."""
    scale = 0.01 if d.kind == "amount" else 1  # the model holds cents, a file writes dollars
    number: dict[str, Any] = {"type": "integer" if d.kind == "integer" else "number"}
    if d.kind in NUMERIC:
        number["exclusiveMinimum" if d.lo_open else "minimum"] = _plain(d.lo * scale)
        number["exclusiveMaximum" if d.hi_open else "maximum"] = _plain(d.hi * scale)
    forms: list[dict[str, Any]]
    if d.kind == "integer":
        forms = [number]
    elif d.kind in NUMERIC:
        forms = [number, {"type": "string"}]
    elif d.kind == "duration":
        forms = [{"type": "string"}, {"const": 0}]
    elif d.choices:
        forms = [{"enum": list(d.choices)}]
    else:
        forms = [{"type": "string"}]
    out: dict[str, Any] = {"anyOf": [*forms, {DISTRIBUTION_MARK: True}]}
    if d.description:
        out["description"] = d.description
    out["x-kind"] = d.kind
    if d.unit:
        out["x-unit"] = f"{d.unit} {d.per}".strip()
    return out


def _plain(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


def unwrap(tp: Any, meta: tuple[Any, ...] = ()) -> tuple[Any, tuple[Any, ...]]:
    """``Annotated[X | None, ...]`` -> ``(X, metadata)``, the metadata of every level kept
    after ``meta``; a union of several types (such as the agent models) stays as it is."""
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


def declared(annotation: Any, metadata: tuple[Any, ...] = ()) -> Declared | None:
    """The declaration of a value of type ``annotation`` (with a field's own ``metadata``, which
    comes first): the last ``Declared`` among them; a ``Literal`` is text taking its words; None
    for anything else (a model, a mapping, a list)."""
    tp, meta = unwrap(annotation)
    found = [m for m in (*metadata, *meta) if isinstance(m, Declared)]
    if found:
        return found[-1]
    if get_origin(tp) is Literal:
        return Declared("text", choices=tuple(map(str, get_args(tp))))
    return None


def declaration(model: Any, field: str) -> Declared | None:
    """The declaration of ``model``'s field ``field`` (by its name or its alias)."""
    fields = {f.alias or n: f for n, f in model.model_fields.items()}
    info = model.model_fields.get(field) or fields.get(field)
    if info is None:
        raise KeyError(f"{model.__name__} has no field {field!r}")
    return declared(info.annotation, tuple(info.metadata))


def did_you_mean(word: str, choices: list[str]) -> str:
    """`` (did you mean 'x'?)`` for the choice closest to ``word``, or "" if none is close."""
    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1)
    return f" (did you mean {shown(close[0])}?)" if close else ""


# ---------------------------------------------------------------------------------------------
# Validators: each parses what a user writes and says what is accepted when it cannot
# ---------------------------------------------------------------------------------------------


def _fail(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, message)


def _amount(value: Any) -> int:
    try:
        return parse_amount_cents(value)
    except ValueError as e:
        raise _fail("amount", str(e)) from None


def _non_negative_amount(value: Any) -> int:
    cents = _amount(value)
    if cents < 0:
        raise _fail("amount", f"must not be negative, got {shown(value)}")
    return cents


def _positive_amount(value: Any) -> int:
    cents = _amount(value)
    if cents <= 0:
        raise _fail("amount", f"must be more than zero, got {shown(value)}")
    return cents


def _share(value: Any) -> float:
    try:
        return parse_share(value)  # always finite
    except ValueError as e:
        raise _fail("share", str(e)) from None


def _percent_hint(value: Any) -> str:
    """For a bare number out of range, how to write it as a percentage (35 -> 35%)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 < value <= 100:
        return f" (write {value}% for {value} percent)"
    return ""


def _share_in(value: Any, ok: Callable[[float], bool], accepted: str, hint: bool = True) -> float:
    """A share for which ``ok`` holds, else the error saying what is ``accepted``."""
    share = _share(value)
    if not ok(share):
        message = f"{accepted}, got {shown(value)}{_percent_hint(value) if hint else ''}"
        raise _fail("share", message)
    return share


def _unit_share(value: Any) -> float:
    return _share_in(value, lambda s: 0 <= s <= 1, "a share must be between 0% and 100%")


def _margin(value: Any) -> float:
    return _share_in(value, lambda s: 0 <= s < 1, "a margin must be at least 0% and below 100%")


def _growth(value: Any) -> float:
    accepted = f"growth must be more than -100% and at most {MAX_GROWTH:.0%} a year"
    return _share_in(value, lambda s: -1 < s <= MAX_GROWTH, accepted, hint=False)


def _rate(value: Any) -> float:
    accepted = "a discount rate must be between 0% and 100% a year"
    return _share_in(value, lambda s: 0 <= s <= 1, accepted)


def _stake(value: Any) -> float:
    return _share_in(value, lambda s: 0 < s <= 1, "a stake must be more than 0% and at most 100%")


def _interest_rate(value: Any) -> float:
    accepted = "an interest rate must be between 0% and 100% a year"
    return _share_in(value, lambda s: 0 <= s <= 1, accepted)


def _one_of(value: Any, words: Sequence[str], code: str, noun: str) -> str:
    """``value`` if it is one of ``words``; else the error a person reads, with a guess."""
    if isinstance(value, str) and value in words:
        return value
    hint = did_you_mean(value, list(words)) if isinstance(value, str) else ""
    raise _fail(code, f"unknown {noun} {shown(value)}{hint}; expected one of: {', '.join(words)}")


def _financing_kind(value: Any) -> str:
    return _one_of(value, FINANCING_KINDS, "financing_kind", "kind")


def _duration(value: Any) -> Duration:
    try:
        return parse_duration(value)  # at most 1,200 months or 40,000 days
    except ValueError as e:
        raise _fail("duration", str(e)) from None


def _positive_duration(value: Any) -> Duration:
    duration = _duration(value)
    if duration.is_zero:
        raise _fail("duration", f"must be longer than zero, got {shown(value)}")
    return duration


def _date(value: Any) -> Any:
    try:
        return parse_date(value)  # from 1900-01-01 to 2199-12-31
    except ValueError as e:
        raise _fail("date", str(e)) from None


def _checked_text(value: Any, allowed: str = "") -> str:
    if not isinstance(value, str):
        raise _fail("text", f"expected text, got {shown(value)} (put it in quotes)")
    for i, c in enumerate(value):
        if unicodedata.category(c) in _NOT_TEXT and c not in allowed:
            one_line = "one line of " if "\n" not in allowed else ""
            raise _fail(
                "text",
                f"expected {one_line}text without control characters, got {shown(value)} "
                f"(U+{ord(c):04X} at character {i + 1})",
            )
    return value


def _text(value: Any) -> str:
    """One line of text: names, labels, ids. No control characters, no line breaks."""
    return _checked_text(value)


def _long_text(value: Any) -> str:
    """Text that may run over several lines (a description): tabs and line breaks allowed."""
    return _checked_text(value, "\t\n\r")


def _seed(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEED:
        raise _fail("seed", f"expected a whole number from 0 to 2**63 - 1, got {shown(value)}")
    return value


def _tracing(value: Any) -> str:
    if value in ("pro_rata", "pro-rata", "fifo"):
        return "pro_rata" if value == "pro-rata" else str(value)
    raise _fail("tracing", f"expected one of pro_rata, fifo; got {shown(value)}")


def _substitution(value: Any) -> str:
    return _one_of(value, SUBSTITUTIONS, "substitution", "substitution")


def dollars(cents: int) -> int | str:
    """Cents in canonical input form: whole dollars as an int, else a decimal string ("0.01")."""
    return cents // 100 if cents % 100 == 0 else str(Decimal(cents) / 100)


# Each value type is declared once: how it is read (PlainValidator) and how the resolved file

# Each value type is declared once: how it is read (PlainValidator), how the resolved file
# writes it back (PlainSerializer), and what it is (Declared), so that a new input needs no code
# of its own anywhere else.
_AS_DOLLARS = PlainSerializer(dollars)
_AS_TEXT = PlainSerializer(str)  # durations: "3mo", "45d"
_MONEY = f"dollars: {AMOUNT_HELP.removesuffix(' (dollars)')}"
_SHARE = SHARE_HELP
Amount = Annotated[  # cents, >= 0
    int,
    PlainValidator(_non_negative_amount),
    _AS_DOLLARS,
    Declared("amount", "dollars", 0, MAX_CENTS, description=_MONEY),
]
AmountPerYear = Annotated[  # cents a year, >= 0
    int,
    PlainValidator(_non_negative_amount),
    _AS_DOLLARS,
    Declared("amount", "dollars", 0, MAX_CENTS, per="a year", description=f"{_MONEY}, a year"),
]
PositiveAmount = Annotated[  # cents, > 0
    int,
    PlainValidator(_positive_amount),
    _AS_DOLLARS,
    Declared("amount", "dollars", 0, MAX_CENTS, lo_open=True, description=f"{_MONEY}; above 0"),
]
Share = Annotated[  # 0..1
    float,
    PlainValidator(_unit_share),
    Declared("share", "share", 0, 1, description=f"{_SHARE}, from 0% to 100%"),
]
Rate = Annotated[  # per year, 0..1
    float,
    PlainValidator(_rate),
    Declared("share", "share", 0, 1, per="a year", description="a rate such as 8%, a year"),
]
InterestRate = Annotated[  # per year, 0..1
    float,
    PlainValidator(_interest_rate),
    Declared(
        "share", "share", 0, 1, per="a year", description="an interest rate such as 9%, a year"
    ),
]
Margin = Annotated[  # 0 <= m < 1
    float,
    PlainValidator(_margin),
    Declared("share", "share", 0, 1, hi_open=True, description="a margin such as 35%, below 100%"),
]
Stake = Annotated[  # 0 < s <= 1
    float,
    PlainValidator(_stake),
    Declared("share", "share", 0, 1, lo_open=True, description="a stake such as 2.5%, above 0%"),
]
Growth = Annotated[  # per year, > -1
    float,
    PlainValidator(_growth),
    Declared(
        "share",
        "share",
        -1,
        MAX_GROWTH,
        lo_open=True,
        per="a year",
        description=f"growth such as 40%, a year: above -100%, at most {MAX_GROWTH:.0%}",
    ),
]
Seed = Annotated[
    int,
    PlainValidator(_seed),
    Declared(
        "integer", "whole number", 0, MAX_SEED, description="a whole number from 0 to 2**63 - 1"
    ),
]
Dur = Annotated[
    Duration,
    PlainValidator(_duration),
    _AS_TEXT,
    Declared("duration", "duration", description="a duration such as 18mo, 3y, 2q, 6w or 45d"),
]
PositiveDur = Annotated[
    Duration,
    PlainValidator(_positive_duration),
    _AS_TEXT,
    Declared("duration", "duration", description="a duration longer than zero, such as 18mo or 5y"),
]
Date = Annotated[  # datetime.date
    Any,
    PlainValidator(_date),
    Declared("date", "date", description="a date such as 2026-03-01"),
]
Text = Annotated[  # one line
    str,
    PlainValidator(_text),
    Declared("text", description="one line of text"),
]
LongText = Annotated[  # line breaks and tabs allowed
    str,
    PlainValidator(_long_text),
    Declared("text", description="text, over several lines if need be"),
]
FinancingKindValue = Annotated[
    Literal["equity", "debt"],
    PlainValidator(_financing_kind),
    Declared("text", choices=FINANCING_KINDS, description="equity or debt"),
]
SubstitutionValue = Annotated[
    Literal["none", "file", "full"],
    PlainValidator(_substitution),
    Declared(
        "text",
        choices=SUBSTITUTIONS,
        description="how a twin replaces the money it runs without: none, file or full",
    ),
]
TracingValue = Annotated[
    Literal["pro_rata", "fifo"],
    PlainValidator(_tracing),
    Declared(
        "text",
        choices=("pro_rata", "pro-rata", "fifo"),
        description="how money is traced: pro_rata or fifo",
    ),
]
MARGIN_BASES = ("operating", "gross")


def _margin_basis(value: Any) -> str:
    return _one_of(value, MARGIN_BASES, "margin_basis", "margin basis")


MarginBasisValue = Annotated[
    Literal["operating", "gross"],
    PlainValidator(_margin_basis),
    Declared(
        "text",
        choices=MARGIN_BASES,
        description="what a seller's margins are: operating (after all its costs) or gross "
        "(after the cost of what it sells only)",
    ),
]
REPAYMENTS = ("bullet", "amortizing")


def _repayment(value: Any) -> str:
    return _one_of(value, REPAYMENTS, "repayment", "repayment schedule")


RepaymentValue = Annotated[
    Literal["bullet", "amortizing"],
    PlainValidator(_repayment),
    Declared(
        "text",
        choices=REPAYMENTS,
        description="how a loan's principal is repaid: bullet (all at maturity) or amortizing "
        "(equal parts at each step's end from the draw to maturity)",
    ),
]


# The cap table (sim/analysis/captable.py, docs/metrics.md "Cap table and dilution"): a lab's
# shares outstanding at the start, and the price of the equity its financing rule raises.
MAX_SHARES = 10**15  # a quadrillion shares: far above any company's, exact in a float64


def _shares(value: Any) -> int:
    if isinstance(value, str) and value.replace(",", "").replace("_", "").isdigit():
        value = int(value.replace(",", "").replace("_", ""))  # as --set writes it: "800,000,000"
    whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, bool) or not whole or not 0 < value <= MAX_SHARES:
        raise _fail(
            "shares",
            f"expected a whole number of shares above 0 and at most 10**15, got {shown(value)}",
        )
    return int(value)


Shares = Annotated[  # shares, a whole number > 0
    int,
    PlainValidator(_shares),
    Declared(
        "integer",
        "shares",
        0,
        MAX_SHARES,
        lo_open=True,
        description="shares outstanding, a whole number above 0",
    ),
]
MAX_MULTIPLE = 1000.0  # a valuation at most 1000 times trailing revenue
_VALUATION_HELP = (
    "a pre-money valuation such as 1T, one per calendar year such as {2027: 1T, 2028: 1.2T}, "
    "or a multiple of trailing twelve-month revenue such as {revenue_multiple: 20}"
)


@dataclass(frozen=True)
class EquityValuation:
    """The pre-money valuation equity raised by a financing rule is issued at: ``fixed`` (cents),
    ``by_year`` (calendar year -> cents; a year not stated takes the nearest earlier one stated,
    a year before the first the first), or ``revenue_multiple`` (times the lab's revenue over
    the twelve months to the raise)."""

    fixed: int | None = None  # cents
    by_year: tuple[tuple[int, int], ...] = ()  # (year, cents), years ascending
    revenue_multiple: float | None = None

    def pre_money(self, year: int) -> int | None:
        """Cents of the pre-money valuation in ``year`` (fixed or by year; None: a multiple)."""
        if self.fixed is not None:
            return self.fixed
        if not self.by_year:
            return None
        earlier = [cents for y, cents in self.by_year if y <= year]
        return earlier[-1] if earlier else self.by_year[0][1]


def _valuation_amount(value: Any, where: str) -> int:
    cents = _amount(value)
    if cents <= 0:
        raise _fail("valuation", f"{where}must be more than zero, got {shown(value)}")
    return cents


def _valuation(value: Any) -> EquityValuation:
    if isinstance(value, EquityValuation):
        return value
    if not isinstance(value, dict):
        return EquityValuation(fixed=_valuation_amount(value, ""))
    if not value:
        raise _fail("valuation", f"expected {_VALUATION_HELP}, got {{}}")
    unknown = [k for k in value if k != "revenue_multiple" and not str(k).isdigit()]
    if unknown:
        hint = did_you_mean(str(unknown[0]), ["revenue_multiple"])
        raise _fail(
            "valuation", f"unknown key {shown(unknown[0])}{hint}; expected {_VALUATION_HELP}"
        )
    if "revenue_multiple" in value:
        if len(value) > 1:
            raise _fail("valuation", "a revenue_multiple stands alone: state it or years, not both")
        m = value["revenue_multiple"]
        ok = isinstance(m, int | float) and not isinstance(m, bool) and 0 < m <= MAX_MULTIPLE
        if not ok:
            raise _fail(
                "valuation",
                f"revenue_multiple must be a number above 0 and at most 1000, got {shown(m)}",
            )
        return EquityValuation(revenue_multiple=float(m))
    years: dict[int, int] = {}
    for k, v in value.items():
        year = int(k)
        if not 1900 <= year <= 2199 or isinstance(k, bool):
            raise _fail("valuation", f"a year must be from 1900 to 2199, got {shown(k)}")
        if year in years:
            raise _fail("valuation", f"the year {year} is stated twice")
        years[year] = _valuation_amount(v, f"the valuation of {year} ")
    return EquityValuation(by_year=tuple(sorted(years.items())))


def _valuation_written(v: EquityValuation) -> Any:
    """The valuation as the resolved file writes it: the form it was written in."""
    if v.fixed is not None:
        return dollars(v.fixed)
    if v.revenue_multiple is not None:
        m = v.revenue_multiple
        return {"revenue_multiple": int(m) if m.is_integer() else m}
    return {year: dollars(cents) for year, cents in v.by_year}


_VALUATION = Declared("mapping", description=_VALUATION_HELP)
# its three forms, for editors: an amount, years to amounts, or a revenue multiple
_VALUATION_SCHEMA = json_schema(_VALUATION) | {
    "anyOf": [
        {"type": "number", "exclusiveMinimum": 0, "maximum": int(MAX_DOLLARS)},
        {"type": "string"},
        {
            "type": "object",
            "patternProperties": {"^[0-9]{4}$": {"type": ["number", "string"]}},
            "additionalProperties": False,
            "minProperties": 1,
        },
        {
            "type": "object",
            "properties": {
                "revenue_multiple": {
                    "type": "number",
                    "exclusiveMinimum": 0,
                    "maximum": MAX_MULTIPLE,
                }
            },
            "required": ["revenue_multiple"],
            "additionalProperties": False,
        },
        {DISTRIBUTION_MARK: True},
    ]
}
ValuationValue = Annotated[
    EquityValuation,
    PlainValidator(_valuation),
    PlainSerializer(_valuation_written),
    _VALUATION,
    WithJsonSchema(_VALUATION_SCHEMA),
]
