"""Steps 2 and 3 of the scenario pipeline: plain data -> validated pydantic model -> Scenario.

Every input is declared here once, as a field of a model, with a value type that says how it
is read (a ``PlainValidator``) and how the resolved file writes it back (a ``PlainSerializer``).
The models check each value where it stands (types, units, ranges); ``to_scenario`` then checks
what spans several values (references between agents, dates inside the horizon, the step grid),
writes out the defaults that depend on other inputs (``_resolve``), and returns the result as a
``sim.inputs.scenario.Scenario``: the same models, which is what the engine reads. Properties of the
models are read off their fields (a tranche's condition kind, a deal's post-money valuation),
never inputs of their own. Every failure is one ScenarioError pointing at the offending value's
file, line and column.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args, get_origin

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    PrivateAttr,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from sim.errors import ScenarioError
from sim.inputs.units import (
    CENTS_PER_DOLLAR,
    FIRST_DATE,
    LAST_DATE,
    MAX_DOLLARS,
    MAX_STEPS,
    Duration,
    add_months,
    count_steps,
    format_dollars,
    parse_amount_cents,
    parse_date,
    parse_duration,
    parse_share,
    shown,
)

if TYPE_CHECKING:
    from sim.inputs.loader import YamlDoc, YamlPath
    from sim.inputs.scenario import Scenario

Tracing = Literal["pro_rata", "fifo"]
FinancingKind = Literal["equity", "debt"]
# A tranche's condition, if any (docs/model.md, section 7): ``when`` is looked at on the tranche's
# date only; ``on`` on that date and on every grid date after it, before ``until``.
ConditionKind = Literal["when_lab_cash_below", "when_milestone", "on_lab_cash_below"]
Valuation = Literal["pre_money", "post_money", "stake"]

AGENT_KINDS = ("investor", "lab", "cloud", "vendor")
SELLER_KINDS = ("cloud", "vendor")  # agents that sell: labs buy from them, they buy from each other
FINANCING_KINDS = ("equity", "debt")
DEAL_KINDS = ("investment", "compute_contract", "revenue_share")
# Accounts outside the model that the ledger books against; no agent may take these names.
RESERVED_NAMES = (
    "customers",
    "suppliers",
    "cloud_costs",
    "other_compute",
    "funding",
    "vendor_costs",
    "credits_issued",
    "capex_funding",
)
MAX_HORIZON_YEARS = 100
# Per year, for present values when a file states none: about the cost of capital of a large
# cloud provider (docs/metrics.md, "Present values"). Every bundled file states its own.
DEFAULT_DISCOUNT_RATE = 0.08
# Growth of a flow, per year: at most +1000%. $10T a year growing 1000% a year for 100 years stays
# a finite float (about 1e119 cents), so flows past the $45T of exact cents are refused by
# flow_cents with a message, never overflow to inf or NaN on the way.
MAX_GROWTH = 10.0
# Money a file states (opening cash and tranches) must add up to less than 2**63 cents, or the
# int64 sums made when the flows are planned would wrap around. Planning then refuses anything past
# 2**52 cents (~$45T, the range of exact cents) once revenue is added; this check only makes sure
# it sees the true sum. Both say $45T: any sum refused here is past it.
MAX_STATED_CENTS = 2**63
MAX_SEED = 2**63 - 1
# A contract's schedule must add up to less than 2**52 cents (~$45T), the range of exact cents, as
# a flow's cumulative amount must (sim.model.schedule.flow_cents).
MAX_CONTRACT_CENTS = 2**52
_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*")  # matched with fullmatch: "aws\n" is no name
# Characters no one-line text may hold: controls (tab, line breaks, NUL...), line and paragraph
# separators, lone surrogates. A description may hold tabs and line breaks.
_NOT_TEXT = ("Cc", "Zl", "Zp", "Cs")


# ---------------------------------------------------------------------------------------------
# Value types: each parses what a user writes and says what is accepted when it cannot
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


def _financing_kind(value: Any) -> str:
    if isinstance(value, str) and value in FINANCING_KINDS:
        return value
    hint = _did_you_mean(value, list(FINANCING_KINDS)) if isinstance(value, str) else ""
    raise _fail(
        "financing_kind",
        f"unknown kind {shown(value)}{hint}; expected one of: {', '.join(FINANCING_KINDS)}",
    )


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


def dollars(cents: int) -> int | str:
    """Cents in canonical input form: whole dollars as an int, else a decimal string ("0.01")."""
    return cents // 100 if cents % 100 == 0 else str(Decimal(cents) / 100)


# Each value type is declared once: how it is read (PlainValidator) and how the resolved file
# writes it back (PlainSerializer), so that a new input needs no code of its own in either.
_AS_DOLLARS = PlainSerializer(dollars)
_AS_TEXT = PlainSerializer(str)  # durations: "3mo", "45d"
Amount = Annotated[int, PlainValidator(_non_negative_amount), _AS_DOLLARS]  # cents, >= 0
PositiveAmount = Annotated[int, PlainValidator(_positive_amount), _AS_DOLLARS]  # cents, > 0
Share = Annotated[float, PlainValidator(_unit_share)]  # 0..1
Rate = Annotated[float, PlainValidator(_rate)]  # per year, 0..1
InterestRate = Annotated[float, PlainValidator(_interest_rate)]  # per year, 0..1
Margin = Annotated[float, PlainValidator(_margin)]  # 0 <= m < 1
Stake = Annotated[float, PlainValidator(_stake)]  # 0 < s <= 1
Growth = Annotated[float, PlainValidator(_growth)]  # per year, > -1
Dur = Annotated[Duration, PlainValidator(_duration), _AS_TEXT]
PositiveDur = Annotated[Duration, PlainValidator(_positive_duration), _AS_TEXT]
Date = Annotated[Any, PlainValidator(_date)]  # datetime.date
Text = Annotated[str, PlainValidator(_text)]  # one line
LongText = Annotated[str, PlainValidator(_long_text)]  # line breaks and tabs allowed


# ---------------------------------------------------------------------------------------------
# The models
# ---------------------------------------------------------------------------------------------


def _absent(value: Any) -> bool:
    """An optional input left out of the resolved file: not given (None), or empty."""
    return value is None or value == {}


class _Model(BaseModel):
    """Frozen, no unknown keys; an empty value (``spending:``) means all defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if data is None:
            return {}
        if isinstance(data, dict):
            fields = [f.alias or name for name, f in cls.model_fields.items()]
            for key in data:
                if key not in fields:
                    close = difflib.get_close_matches(str(key), fields, n=1)
                    hint = f" (did you mean {shown(close[0])}?)" if close else ""
                    message = f"unknown key {shown(key)}{hint}; accepted keys: {', '.join(fields)}"
                    raise PydanticCustomError("unknown_key", message, {"unknown_key_name": key})
        return data


class _Agent(_Model):
    """An agent: its name is its key under ``agents:`` (set when the scenario is resolved)."""

    _name: str = PrivateAttr("")

    @property
    def name(self) -> str:
        # read from pydantic's dict of private values directly: ``self._name`` goes through
        # ``BaseModel.__getattr__``, five times slower, and the plan reads names per run
        name: str = self.__pydantic_private__["_name"]  # type: ignore[index]
        return name


class InvestorModel(_Agent):
    kind: Literal["investor"]
    label: Text | None = None  # display name in charts and reports (default: the key)
    owns: list[Text] = []  # names of the clouds this investor owns


class FlowModel(_Model):
    annual: Amount = 0  # cents a year at the start
    growth: Growth = 0.0  # per year


class ComputeModel(FlowModel):
    providers: dict[str, Share] = {}  # cloud -> share of compute bought there


class SpendingModel(_Model):
    compute: ComputeModel = ComputeModel()
    other: FlowModel = FlowModel()


class FinancingModel(_Model):
    """``financing:`` of a lab: raise from ``source`` when cash would fall below ``floor``."""

    source: Text  # an account outside the model; checked against agent and reserved names
    kind: Annotated[FinancingKind, PlainValidator(_financing_kind)]
    floor: Amount = 0  # cents of cash to keep
    limit: Amount  # cents, at most this much raised over the horizon
    rate: InterestRate | None = Field(None, exclude_if=_absent)  # per year; debt only, required


class LabModel(_Agent):
    kind: Literal["lab"]
    label: Text | None = None
    cash: Amount = 0
    revenue: FlowModel = FlowModel()
    spending: SpendingModel = SpendingModel()
    financing: FinancingModel | None = Field(None, exclude_if=_absent)  # none: never raises

    @property
    def compute(self) -> ComputeModel:
        """Its compute demand (``spending.compute``)."""
        return self.spending.compute

    @property
    def other(self) -> FlowModel:
        """Its other costs (``spending.other``)."""
        return self.spending.other

    @property
    def providers(self) -> dict[str, float]:
        """Share of compute demand bought from each seller (file order kept); what is left of
        100% is bought outside the model (the external ``other_compute`` account)."""
        return self.spending.compute.providers


def _route_short(value: Any) -> Any:
    """A route written as a bare share (``nvidia: 30%``) is ``{share: 30%}``."""
    return value if isinstance(value, dict) else {"share": value}


class RouteModel(_Model):
    share: Share  # of the seller's costs
    lag: Dur = Duration()  # paid this long after the sale (capex bought later); default at once
    # paid this long before the seller is paid for an invoice it is paid later (capex bought
    # ahead), with money it borrows from capex_funding until then; default none
    lead: Dur = Field(Duration(), exclude_if=lambda d: d.is_zero)


class CloudModel(_Agent):
    """A seller: a cloud, or a vendor (a chip maker) that clouds and labs buy from. It keeps
    ``margin`` of each payment as profit and pays the rest out as costs: ``costs`` routes
    shares of them to other sellers, the rest of 100% leaves the model (``cloud_costs`` for a
    cloud, ``vendor_costs`` for a vendor)."""

    kind: Literal["cloud"]
    label: Text | None = None
    margin: Margin
    payment_terms: Dur = Duration()
    cash: Amount = 0
    # where its costs go: seller -> share (and lag); the rest of 100% leaves the model
    costs: dict[str, Annotated[RouteModel, BeforeValidator(_route_short)]] = Field(
        default_factory=dict, exclude_if=_absent
    )


class VendorModel(CloudModel):
    """A seller that clouds (and labs) buy from: a chip maker. The same terms as a cloud."""

    kind: Literal["vendor"]  # type: ignore[assignment]


class _Deal:
    """What every deal model has: an ``id``, given in the file or made when the scenario is
    resolved (``_deal_ids``). It declares no field (pydantic would take it for one, first)."""

    @property
    def key(self) -> str:
        """Its id, once resolved (a resolved scenario's deals all have one)."""
        given: str | None = getattr(self, "id", None)
        if given is None:
            raise ValueError("a deal of a scenario not resolved yet has no id")
        return given


class WhenModel(_Model):
    """Looked at on the tranche's date only: exactly one of the two keys."""

    lab_cash_below: PositiveAmount | None = Field(None, exclude_if=_absent)  # paid if less
    milestone: Text | None = Field(None, exclude_if=_absent)  # paid if reached by the date


class OnModel(_Model):
    """Looked at on the tranche's date and every grid date after it, before ``until``."""

    lab_cash_below: PositiveAmount  # cents: paid the first time the lab holds less
    until: Date | None = None  # default: the horizon's end


class TrancheModel(_Model):
    """A tranche, paid on ``at`` unless it waits for a condition (docs/model.md, section 7):
    ``when`` is looked at on its date only, ``on`` on its date and on every grid date after it,
    before ``until``."""

    at: Date
    amount: PositiveAmount
    when: WhenModel | None = Field(None, exclude_if=_absent)
    on: OnModel | None = Field(None, exclude_if=_absent)

    @property
    def kind(self) -> ConditionKind | Literal[""]:
        """``""`` for a plain tranche, else the kind of its condition: part of a batch's
        structure."""
        if self.on is not None:
            return "on_lab_cash_below"
        if self.when is not None and self.when.milestone is not None:
            return "when_milestone"
        if self.when is not None and self.when.lab_cash_below is not None:
            return "when_lab_cash_below"
        return ""

    @property
    def level(self) -> int:
        """Cents its lab must hold less than for it to be paid; 0 without a cash condition."""
        if self.on is not None:
            return self.on.lab_cash_below
        return (self.when.lab_cash_below or 0) if self.when is not None else 0

    @property
    def milestone(self) -> str | None:
        """The milestone it waits for, if any."""
        return self.when.milestone if self.when is not None else None

    @property
    def until(self) -> dt.date | None:
        """``on:``'s last look is before this date (resolved: the horizon's end by default)."""
        return self.on.until if self.on is not None else None


class CreditsModel(_Model):
    """Part of an investment paid in credits on a cloud the investor owns."""

    on: Text  # the cloud (or vendor) the credits buy compute at; the investor must own it
    share: Share = 1.0  # of each tranche, paid in credits (default: all of it)


class InvestmentModel(_Model, _Deal):
    kind: Literal["investment"]
    id: Text | None = None
    investor: Text
    lab: Text
    # the valuation, stated in at most one way (checked in _check_deals): the resolved file
    # writes the one stated (pre_money and round_size, null, for none)
    pre_money: PositiveAmount | None = Field(None, exclude_if=_absent)
    round_size: PositiveAmount | None = Field(None, exclude_if=_absent)  # with pre_money only
    post_money: PositiveAmount | None = Field(None, exclude_if=_absent)
    stake: Stake | None = Field(None, exclude_if=_absent)  # the share every tranche buys
    tranches: Annotated[list[TrancheModel], Field(min_length=1)]
    credits: CreditsModel | None = Field(None, exclude_if=_absent)  # none: all in cash

    @property
    def total(self) -> int:
        """Cents of every tranche announced, paid or not."""
        return sum(t.amount for t in self.tranches)

    @property
    def credits_on(self) -> str | None:
        """The seller its credits buy compute at; None: paid all in cash."""
        return self.credits.on if self.credits is not None else None

    @property
    def credits_share(self) -> float:
        """The share of each tranche paid in credits (0 without credits)."""
        return self.credits.share if self.credits is not None else 0.0

    @property
    def valuation(self) -> Valuation | None:
        """How the deal states its valuation; None: it does not (no stake)."""
        if self.pre_money is not None:
            return "pre_money"
        if self.post_money is not None:
            return "post_money"
        return "stake" if self.stake is not None else None

    @property
    def post_money_valuation(self) -> int | None:
        """Cents of the post-money valuation: stated (pre_money + round size, the round being
        this deal's tranches unless ``round_size`` says otherwise; or ``post_money``) or
        implied by the stake (every tranche announced / stake, rounded half up)."""
        if self.pre_money is not None:
            return self.pre_money + (self.round_size if self.round_size is not None else self.total)
        if self.post_money is not None:
            return self.post_money
        if self.stake is not None:
            return math.floor(self.total / self.stake + 0.5)
        return None

    @property
    def stake_per_cent(self) -> float:
        """Share of the lab each cent paid buys: 1 / post-money, or stake / every tranche
        announced (paying half the tranches buys half the stake); nan without a valuation."""
        if self.stake is not None:
            return self.stake / self.total
        post = self.post_money_valuation
        return 1 / post if post else math.nan


class ContractModel(_Model, _Deal):
    """A take-or-pay minimum, as ``total`` over ``over`` (from ``start``, growing ``growth``) or
    as a ``schedule`` of calendar years; ``_check_contract`` says which keys go together."""

    kind: Literal["compute_contract"]
    id: Text | None = None
    lab: Text
    cloud: Text
    total: PositiveAmount | None = Field(None, exclude_if=_absent)
    over: PositiveDur | None = Field(None, exclude_if=_absent)
    growth: Growth | None = Field(None, exclude_if=_absent)  # per year; default 0 (even)
    # year -> amount; the keys stay as written (text from a file) until _check_contract reads them
    schedule: Annotated[dict[Any, PositiveAmount], Field(min_length=1)] | None = Field(
        None, exclude_if=_absent
    )
    start: Date | None = Field(None, exclude_if=_absent)  # default: the scenario's start
    payment_terms: Dur | None = None  # default: the cloud's own payment_terms
    # the id of the investment this contract came with: the counterfactual twin drops both
    with_: Text | None = Field(default=None, alias="with")

    @property
    def with_investment(self) -> str | None:
        """The id of the investment it came with (``with:``)."""
        return self.with_

    @property
    def years(self) -> list[tuple[int, int]]:
        """A schedule's (calendar year, cents), years increasing once resolved; [] for a total.
        (Resolved, its years are ints; as written in a file, text until _check_contract.)"""
        if not self.schedule:
            return []
        return [(y if type(y) is int else _checked_year(y), c) for y, c in self.schedule.items()]

    @property
    def begins(self) -> dt.date:
        """The first day of its term: ``start`` (resolved), or a schedule's first January 1."""
        if self.schedule:
            return dt.date(self.years[0][0], 1, 1)
        assert self.start is not None  # resolved
        return self.start

    @property
    def end(self) -> dt.date:
        """The day after its term: ``over`` after its start, or the January 1 after a
        schedule's last year."""
        if self.schedule:
            return dt.date(self.years[-1][0] + 1, 1, 1)
        assert self.over is not None  # _check_contract
        return self.over.after(self.begins)

    def scheduled_cents(self, d: dt.date) -> int:
        """Cents of the schedule accrued before day ``d`` begins, rounded half up.

        Year Y's amount A accrues evenly over its days: by day ``d`` of it, ``A * k / n`` with
        ``k`` the days of Y before ``d`` and ``n`` its days (365 or 366). At most one year is
        part-way at any date, so rounding each year's part rounds the sum. (sim.model.schedule does
        the same with numpy over a grid.)"""
        total = 0
        for year, cents in self.years:
            first = dt.date(year, 1, 1)
            n = (dt.date(year + 1, 1, 1) - first).days
            k = min(max((d - first).days, 0), n)
            total += (2 * cents * k + n) // (2 * n)  # cents * k / n, rounded half up
        return total


AgentModel = Annotated[
    InvestorModel | LabModel | CloudModel | VendorModel, Field(discriminator="kind")
]


class RevenueShareModel(_Model, _Deal):
    """A lab pays a share of its revenue to an investor (Microsoft's share of OpenAI's)."""

    kind: Literal["revenue_share"]
    id: Text | None = None
    investor: Text
    lab: Text
    share: Share  # of the lab's revenue, each step
    start: Date | None = None  # default: the scenario's start
    until: Date | None = None  # default: the horizon's end
    cap: PositiveAmount | None = Field(None, exclude_if=_absent)  # most paid; none: no cap


DealModel = Annotated[
    InvestmentModel | ContractModel | RevenueShareModel, Field(discriminator="kind")
]


class ScenarioModel(_Model):
    name: Text
    description: LongText = ""
    start: Date
    horizon: PositiveDur
    step: PositiveDur = Duration(months=1)
    tracing: Annotated[Tracing, PlainValidator(_tracing)] = "pro_rata"
    seed: Annotated[int, PlainValidator(_seed)] = 0
    discount_rate: Rate = DEFAULT_DISCOUNT_RATE  # per year, for present values
    milestones: dict[str, Date | None] = {}  # name -> the date it is reached; null: not reached
    agents: Annotated[dict[str, AgentModel], Field(min_length=1)]
    deals: list[DealModel] = []
    # PATH -> SPEC, the points of a sweep (docs/scenarios.md, "Ranges"); sim.ranges.vary checks it
    # and
    # takes it out (reading the file at its first point) before this model sees the data
    sweep: dict[str, Any] = Field(default_factory=dict, exclude=True)

    @model_validator(mode="after")
    def _named(self) -> ScenarioModel:
        """Each agent named by its key and labelled by it where it states no label, once here:
        a sweep's or a Monte Carlo's runs share the base's agents (``with_values``), and
        ``_resolve`` does it again only for an agent validated on its own."""
        for name, a in self.agents.items():
            if a.label is None:
                self.agents[name] = a = a.model_copy(update={"label": name})
            a._name = name
        return self


# ---------------------------------------------------------------------------------------------
# Validation errors, in plain words and at the right place
# ---------------------------------------------------------------------------------------------


def _data_path(loc: tuple[str | int, ...], data: Any) -> YamlPath:
    """pydantic's location minus the union tag it inserts after ``agents.x`` and ``deals.N``."""
    out: list[str | int] = []
    node = data
    tag_skipped = False
    for seg in loc:
        at_union = len(out) == 2 and out[0] in ("agents", "deals") and isinstance(node, dict)
        if at_union and not tag_skipped and node.get("kind") == seg:
            tag_skipped = True
            continue
        out.append(seg)
        if isinstance(node, dict):
            node = node.get(seg)
        elif isinstance(node, list) and isinstance(seg, int) and 0 <= seg < len(node):
            node = node[seg]
        else:
            node = None
    return tuple(out)


def _translate(err: Any, doc: YamlDoc) -> ScenarioError:
    path = _data_path(tuple(err["loc"]), doc.data)
    kind, value = err["type"], err.get("input")
    if kind == "unknown_key":
        return doc.error((*path, err["ctx"]["unknown_key_name"]), err["msg"], key=True)
    if kind == "missing":
        return doc.error(path[:-1], f"missing required key {path[-1]!r}", key=True)
    if kind in ("union_tag_not_found", "union_tag_invalid"):
        kinds = AGENT_KINDS if path[:1] == ("agents",) else DEAL_KINDS
        accepted = f"expected one of: {', '.join(kinds)}"
        if kind == "union_tag_not_found":
            return doc.error(path, f"missing 'kind'; {accepted}", key=True)
        tag = value.get("kind") if isinstance(value, dict) else None
        hint = _did_you_mean(tag, list(kinds)) if isinstance(tag, str) else ""
        return doc.error((*path, "kind"), f"unknown kind {shown(tag)}{hint}; {accepted}")
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return doc.error(path, f"expected a mapping (key: value, ...), got {shown(value)}")
    if kind == "list_type":
        return doc.error(path, f"expected a list such as [a, b], got {shown(value)}")
    if kind == "too_short":
        return doc.error(path, "expected at least one entry, got none", key=True)
    if kind == "string_type":
        return doc.error(path, f"expected text, got {shown(value)}", key=True)
    return doc.error(path, str(err["msg"]))


def _first(errors: list[ScenarioError]) -> ScenarioError:
    """The first error by place (overrides first, then by line), noting how many more there are."""
    errors = sorted(errors, key=lambda e: (e.line or 0, e.column or 0))
    first, more = errors[0], len(errors) - 1
    if not more:
        return first
    suffix = f" (and {more} more error{'s' if more > 1 else ''})"
    return ScenarioError(
        first.message + suffix,
        file=first.file,
        line=first.line,
        column=first.column,
        path=first.path,
    )


# ---------------------------------------------------------------------------------------------
# Checks across values
# ---------------------------------------------------------------------------------------------


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {shown(close[0])}?)" if close else ""


def _check_calendar(m: ScenarioModel, doc: YamlDoc) -> list[ScenarioError]:
    """The horizon must be at most 100 years, on a grid of at most MAX_STEPS.

    No date arithmetic here can fail: the start is at most 2199-12-31 and every duration at most
    about 110 years (both checked where they are read)."""
    end = m.horizon.after(m.start)
    steps = count_steps(m.start, end, m.step)  # arithmetic only: never builds the grid
    if steps > MAX_STEPS:
        path: YamlPath = ("step",) if ("step",) in doc.overrides else ("horizon",)
        return [
            doc.error(
                path,
                f"a horizon of {m.horizon} at a step of {m.step} is {steps:,} steps, more than "
                f"the {MAX_STEPS:,} a run may have; use a coarser step (such as 1w or 1mo) or a "
                "shorter horizon",
            )
        ]
    limit = add_months(m.start, 12 * MAX_HORIZON_YEARS)
    if end > limit:
        return [
            doc.error(
                ("horizon",),
                f"the horizon {m.horizon} is longer than {MAX_HORIZON_YEARS} years; at most "
                f"{MAX_HORIZON_YEARS}y, or {(limit - m.start).days:,}d from {m.start}",
            )
        ]
    return []


def _check_agents(m: ScenarioModel, doc: YamlDoc) -> list[ScenarioError]:
    errors: list[ScenarioError] = []
    seen: dict[str, str] = {}
    for name in m.agents:
        path: YamlPath = ("agents", name)
        if not _NAME_RE.fullmatch(name):
            errors.append(
                doc.error(
                    path,
                    f"an agent name is letters, digits and _ starting with a letter, such as "
                    f"openai or aws_2; got {shown(name)}",
                    key=True,
                )
            )
        elif name.lower() in RESERVED_NAMES:
            errors.append(
                doc.error(
                    path,
                    f"{shown(name)} is the name of an account outside the model "
                    f"({', '.join(RESERVED_NAMES)}); pick another name",
                    key=True,
                )
            )
        elif name.lower() in seen:
            errors.append(
                doc.error(
                    path,
                    f"{shown(seen[name.lower()])} and {shown(name)} differ only in case",
                    key=True,
                )
            )
        seen.setdefault(name.lower(), name)
    owner: dict[str, str] = {}
    for name, agent in m.agents.items():
        if isinstance(agent, InvestorModel):
            for i, cloud in enumerate(agent.owns):
                path = ("agents", name, "owns", i)
                bad = _ref(m, doc, path, cloud, "seller")
                if bad:
                    errors.append(bad)
                elif cloud in owner:
                    who = "this investor" if owner[cloud] == name else repr(owner[cloud])
                    errors.append(
                        doc.error(
                            path,
                            f"{shown(cloud)} is already owned by {who}; "
                            "a cloud or vendor has at most one owner",
                        )
                    )
                owner.setdefault(cloud, name)
        if isinstance(agent, LabModel):
            providers = agent.spending.compute.providers
            base: YamlPath = ("agents", name, "spending", "compute", "providers")
            for cloud in providers:
                bad = _ref(m, doc, (*base, cloud), cloud, "seller", key=True)
                if bad:
                    errors.append(bad)
            total = math.fsum(providers.values())
            if total > 1 + 1e-9:
                shares = ", ".join(f"{c} {_pct(s)}" for c, s in providers.items())
                errors.append(
                    doc.error(
                        base,
                        f"the provider shares sum to {_pct(total)} ({shares}), more than 100%; "
                        "what is left of 100% is bought from compute suppliers outside the model",
                        key=True,
                    )
                )
        if isinstance(agent, CloudModel):
            errors += _check_costs(m, doc, name, agent)
    errors += _check_routes_acyclic(m, doc)
    errors += _check_financing(m, doc)
    return errors


def _check_costs(
    m: ScenarioModel, doc: YamlDoc, name: str, agent: CloudModel
) -> list[ScenarioError]:
    """A seller's cost routes name other sellers and share at most 100% of its costs."""
    errors: list[ScenarioError] = []
    base: YamlPath = ("agents", name, "costs")
    for to in agent.costs:
        if to == name:
            errors.append(
                doc.error(
                    (*base, to),
                    f"{shown(name)} routes its costs to itself; a cost route names another "
                    "cloud or vendor that this one buys from",
                    key=True,
                )
            )
            continue
        bad = _ref(m, doc, (*base, to), to, "seller", key=True)
        if bad:
            errors.append(bad)
    for to, r in agent.costs.items():
        if not r.lead.is_zero and not r.lag.is_zero:
            errors.append(
                doc.error(
                    (*base, to),
                    f"the route to {shown(to)} has both a lag and a lead; a share of the costs "
                    "is paid after the sale (lag) or before the seller is paid (lead), not both",
                    key=True,
                )
            )
        elif not r.lead.is_zero and not _paid_later(m, name):
            errors.append(
                doc.error(
                    (*base, to, "lead"),
                    f"a lead pays the route's part of an invoice before {shown(name)} is paid for "
                    f"it, but {shown(name)} is paid at once (payment_terms 0d, and no contract "
                    "with it states longer terms); give it payment_terms, or drop the lead",
                )
            )
    total = math.fsum(r.share for r in agent.costs.values())
    if total > 1 + 1e-9:
        shares = ", ".join(f"{c} {_pct(r.share)}" for c, r in agent.costs.items())
        sink = "vendor_costs" if agent.kind == "vendor" else "cloud_costs"
        errors.append(
            doc.error(
                base,
                f"the cost shares sum to {_pct(total)} ({shares}), more than 100%; what is left "
                f"of 100% of its costs leaves the model (to {sink})",
                key=True,
            )
        )
    return errors


def _paid_later(m: ScenarioModel, seller: str) -> bool:
    """Whether some invoice to ``seller`` may be paid after it is issued: its own payment terms,
    or those a contract with it states, are longer than zero."""
    agent = m.agents[seller]
    own = isinstance(agent, CloudModel) and not agent.payment_terms.is_zero
    return own or any(
        isinstance(d, ContractModel)
        and d.cloud == seller
        and d.payment_terms is not None
        and not d.payment_terms.is_zero
        for d in m.deals
    )


def _check_routes_acyclic(m: ScenarioModel, doc: YamlDoc) -> list[ScenarioError]:
    """Cost routes may not come back to a seller (A buys from B, B from A): each payment is
    passed on at once along the routes, so a loop among sellers would never end."""
    routes = {
        n: [t for t in a.costs if isinstance(m.agents.get(t), CloudModel) and t != n]
        for n, a in m.agents.items()
        if isinstance(a, CloudModel)
    }
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(n: str, path: list[str]) -> list[str] | None:
        state[n] = 1
        for t in routes.get(n, []):
            if state.get(t) == 1:
                return [*path[path.index(t) :], t] if t in path else [*path, t]
            if state.get(t) is None:
                found = visit(t, [*path, t])
                if found:
                    return found
        state[n] = 2
        return None

    for n in routes:
        if state.get(n) is None:
            loop = visit(n, [n])
            if loop:
                return [
                    doc.error(
                        ("agents", loop[0], "costs", loop[1]),
                        "the cost routes go round in a loop ("
                        + " -> ".join(loop)
                        + "); a seller's costs may reach another seller only once along any "
                        "chain: remove one of these routes",
                        key=True,
                    )
                ]
    return []


def _check_financing(m: ScenarioModel, doc: YamlDoc) -> list[ScenarioError]:
    """A lab's financing: a rate for debt and only for debt; a source that is an account of its
    own (its name no agent's and not reserved; two labs may share one)."""
    errors: list[ScenarioError] = []
    agents = {n.lower(): n for n in m.agents}
    sources: dict[str, str] = {}
    for name, agent in m.agents.items():
        if not isinstance(agent, LabModel) or agent.financing is None:
            continue
        f, path = agent.financing, ("agents", name, "financing")
        if f.kind == "equity" and f.rate is not None:
            errors.append(
                doc.error(
                    (*path, "rate"),
                    "a rate applies to debt only: equity pays no interest and is never repaid; "
                    "remove 'rate' or write kind: debt",
                    key=True,
                )
            )
        if f.kind == "debt" and f.rate is None:
            errors.append(
                doc.error(path, "debt needs a 'rate', its interest per year (such as 9%)", key=True)
            )
        source, where = f.source, (*path, "source")
        if not _NAME_RE.fullmatch(source):
            errors.append(
                doc.error(
                    where,
                    f"a source name is letters, digits and _ starting with a letter, such as "
                    f"private_markets; got {shown(source)}",
                )
            )
        elif source.lower() in RESERVED_NAMES:
            errors.append(
                doc.error(
                    where,
                    f"{shown(source)} is the name of an account outside the model "
                    f"({', '.join(RESERVED_NAMES)}); a financing source needs a name of its own",
                )
            )
        elif source.lower() in agents:
            other = agents[source.lower()]
            errors.append(
                doc.error(
                    where,
                    f"{shown(source)} is the name of the {m.agents[other].kind} {shown(other)}; "
                    "a financing source is an account outside the model: give it a name no "
                    "agent has",
                )
            )
        elif sources.setdefault(source.lower(), source) != source:
            errors.append(
                doc.error(
                    where,
                    f"{shown(sources[source.lower()])} and {shown(source)} differ only in case; "
                    "write the same name to share a source",
                )
            )
    return errors


def _pct(share: float) -> str:
    return f"{round(share * 100, 6):g}%"


def _ref(
    m: ScenarioModel, doc: YamlDoc, path: YamlPath, name: str, want: str, *, key: bool = False
) -> ScenarioError | None:
    """None if ``name`` is an agent of kind ``want``, else an error listing the valid names."""
    kinds = SELLER_KINDS if want == "seller" else (want,)
    agent = m.agents.get(name)
    if agent is not None and agent.kind in kinds:
        return None
    valid = [n for n, a in m.agents.items() if a.kind in kinds]
    plural = "clouds and vendors" if want == "seller" else f"{want}s"
    wanted = "a cloud or a vendor" if want == "seller" else f"a {want}"
    listing = f"{plural}: {', '.join(valid)}" if valid else f"there is no {wanted} among the agents"
    if agent is not None:
        article = "an" if agent.kind == "investor" else "a"
        want_article = "an" if want == "investor" else "a"
        wanted = wanted if want == "seller" else f"{want_article} {want}"
        message = f"{shown(name)} is {article} {agent.kind}, not {wanted}; {listing}"
    else:
        hint = _did_you_mean(name, valid or list(m.agents))
        message = f"no agent named {shown(name)}{hint}; {listing}"
    return doc.error(path, message, key=key)


def _check_deals(m: ScenarioModel, doc: YamlDoc) -> list[ScenarioError]:
    errors: list[ScenarioError] = []
    end = m.horizon.after(m.start)
    span = f"the horizon runs from {m.start} to {end} (its end excluded)"
    pairs: dict[tuple[str, str], int] = {}
    explicit: dict[str, int] = {}
    for i, deal in enumerate(m.deals):
        if deal.id is not None:
            if deal.id in explicit:
                errors.append(
                    doc.error(
                        ("deals", i, "id"),
                        f"deal id {shown(deal.id)} is used by deals.{explicit[deal.id]}",
                    )
                )
            explicit.setdefault(deal.id, i)
        if isinstance(deal, InvestmentModel):
            for field, want in (("investor", "investor"), ("lab", "lab")):
                bad = _ref(m, doc, ("deals", i, field), getattr(deal, field), want)
                errors += [bad] if bad else []
            errors += _check_valuation(doc, i, deal)
            errors += _check_credits(m, doc, i, deal)
            for j, t in enumerate(deal.tranches):
                if not m.start <= t.at < end:
                    errors.append(
                        doc.error(
                            ("deals", i, "tranches", j, "at"),
                            f"the tranche date {t.at} is outside the horizon; {span}",
                        )
                    )
                errors += _check_condition(m, doc, ("deals", i, "tranches", j), t)
        elif isinstance(deal, RevenueShareModel):
            for field, want in (("investor", "investor"), ("lab", "lab")):
                bad = _ref(m, doc, ("deals", i, field), getattr(deal, field), want)
                errors += [bad] if bad else []
            first = deal.start or m.start
            for field in ("start", "until"):
                day = getattr(deal, field)
                if day is not None and not m.start <= day <= end:
                    errors.append(
                        doc.error(
                            ("deals", i, field), f"{field} {day} is outside the horizon; {span}"
                        )
                    )
            if deal.until is not None and deal.until <= first:
                errors.append(
                    doc.error(
                        ("deals", i, "until"),
                        f"until {deal.until} is not after the start {first}: nothing would be paid",
                    )
                )
        else:
            for field, want in (("lab", "lab"), ("cloud", "seller")):
                bad = _ref(m, doc, ("deals", i, field), getattr(deal, field), want)
                errors += [bad] if bad else []
            errors += _check_contract(m, doc, i, deal)
            if deal.with_ is not None:
                errors += _check_with(m, doc, i, deal)
            # several contracts between one lab and one cloud add their minimums up; the
            # cloud's invoices to the lab have one set of payment terms
            pair = (deal.lab, deal.cloud)
            if pair in pairs and deal.lab in m.agents and deal.cloud in m.agents:
                first = m.deals[pairs[pair]]
                assert isinstance(first, ContractModel)
                mine, theirs = _contract_terms(m, deal), _contract_terms(m, first)
                if mine != theirs:
                    errors.append(
                        doc.error(
                            ("deals", i, "payment_terms"),
                            f"deals.{pairs[pair]} is also a compute contract between "
                            f"{shown(deal.lab)} and {shown(deal.cloud)}, paid {theirs} after "
                            f"each step, this one {mine}; the invoices of one cloud to one lab "
                            f"share their payment terms: give both the same",
                        )
                    )
            pairs.setdefault(pair, i)
    return errors + _check_revenue_shares(m, doc) + _check_milestones(m, doc)


def _check_revenue_shares(m: ScenarioModel, doc: YamlDoc) -> list[ScenarioError]:
    """The revenue shares a lab pays on the same step sum to at most 100%: each is paid out of
    the step's revenue as it arrives (sim/model/kinds/lab.py), which cannot pay out more than
    itself.
    Shares whose windows ``(start, until]`` do not overlap never add up; a cap, reached or not,
    does not count (whether it is reached depends on the run)."""
    end = m.horizon.after(m.start)
    by_lab: dict[str, list[tuple[int, RevenueShareModel]]] = {}
    for i, d in enumerate(m.deals):
        if isinstance(d, RevenueShareModel):
            by_lab.setdefault(d.lab, []).append((i, d))
    errors: list[ScenarioError] = []
    for lab, deals in by_lab.items():
        window = {i: (d.start or m.start, d.until or end) for i, d in deals}
        # the shares paid at once peak just after one of them starts
        for i, _ in deals:
            first = window[i][0]
            paid = [(j, d) for j, d in deals if window[j][0] <= first < window[j][1]]
            total = math.fsum(d.share for _, d in paid)
            if total > 1 + 1e-9:
                shares = ", ".join(f"deals.{j} {_pct(d.share)}" for j, d in paid)
                errors.append(
                    doc.error(
                        ("deals", paid[-1][0], "share"),
                        f"the revenue shares {shown(lab)} pays on the same steps sum to "
                        f"{_pct(total)} ({shares}), more than 100%; a lab pays at most 100% "
                        "of its revenue: lower a share, or make their start and until not "
                        "overlap",
                    )
                )
                break
    return errors


VALUATIONS = ("pre_money", "post_money", "stake")


def _check_credits(
    m: ScenarioModel, doc: YamlDoc, i: int, deal: InvestmentModel
) -> list[ScenarioError]:
    """Credits are on a seller the investor owns, which the lab buys from (else they could
    never be used)."""
    if deal.credits is None or deal.investor not in m.agents or deal.lab not in m.agents:
        return []
    path: YamlPath = ("deals", i, "credits", "on")
    on = deal.credits.on
    bad = _ref(m, doc, path, on, "seller")
    if bad:
        return [bad]
    investor = m.agents[deal.investor]
    if not isinstance(investor, InvestorModel) or on not in investor.owns:
        return [
            doc.error(
                path,
                f"credits are paid on a cloud the investor owns; {shown(deal.investor)} does "
                f"not own {shown(on)} (add it to agents.{deal.investor}.owns, or pay in cash)",
            )
        ]
    lab = m.agents[deal.lab]
    buys = isinstance(lab, LabModel) and (
        on in lab.spending.compute.providers
        or any(isinstance(c, ContractModel) and (c.lab, c.cloud) == (deal.lab, on) for c in m.deals)
    )
    if not buys:
        return [
            doc.error(
                path,
                f"{shown(deal.lab)} buys nothing from {shown(on)}, so credits there would never "
                f"be used; give it a provider share at {shown(on)} or a compute contract with it",
            )
        ]
    return []


def _check_valuation(doc: YamlDoc, i: int, deal: InvestmentModel) -> list[ScenarioError]:
    """A deal states its valuation in at most one way; round_size goes with pre_money; a stake
    may not imply a post-money valuation past the largest figure a file may state."""
    stated = [v for v in VALUATIONS if getattr(deal, v) is not None]
    if len(stated) > 1:

        def place(key: str) -> tuple[bool, int, int]:  # in the file in order, then overrides
            _, line, column = doc.where(("deals", i, key), key=True)
            return line is None, line or 0, column or 0

        stated.sort(key=place)
        times = "twice" if len(stated) == 2 else "three times"
        return [
            doc.error(
                ("deals", i, stated[-1]),
                f"the valuation is stated {times}, as {', '.join(stated[:-1])} and {stated[-1]}; "
                "state it one way: pre_money (with round_size), post_money, or stake",
                key=True,
            )
        ]
    if deal.round_size is not None and deal.pre_money is None:
        also = f" (this deal states {stated[0]})" if stated else ""
        return [
            doc.error(
                ("deals", i, "round_size"),
                f"round_size goes with pre_money (post-money = pre_money + round_size){also}; "
                "drop it, or state pre_money",
                key=True,
            )
        ]
    if deal.stake is not None:
        announced = sum(t.amount for t in deal.tranches)
        post = math.floor(announced / deal.stake + 0.5)
        if post > MAX_DOLLARS * CENTS_PER_DOLLAR:
            return [
                doc.error(
                    ("deals", i, "stake"),
                    f"a stake of {deal.stake * 100:.6g}% for the {format_dollars(announced)} "
                    f"announced implies a post-money valuation of {format_dollars(post, 'T')}, "
                    f"more than the ${MAX_DOLLARS / 10**12:,.0f}T a figure may be",
                )
            ]
    return []


def _check_condition(
    m: ScenarioModel, doc: YamlDoc, path: YamlPath, t: TrancheModel
) -> list[ScenarioError]:
    """At most one condition per tranche; ``when`` holds one key; a milestone is named under
    ``milestones``; ``on`` stops looking after the tranche's date and by the horizon's end."""
    if t.when is not None and t.on is not None:
        return [
            doc.error(
                (*path, "on"),
                "a tranche has at most one condition: when (looked at on its date) or on "
                "(looked at on its date and every grid date after it); got both",
                key=True,
            )
        ]
    if t.when is not None:
        given = [k for k in ("lab_cash_below", "milestone") if getattr(t.when, k) is not None]
        if len(given) != 1:
            got = "both" if given else "neither"
            return [
                doc.error(
                    (*path, "when"),
                    f"'when' waits for one thing: lab_cash_below (an amount) or milestone (a "
                    f"name under milestones); got {got}",
                    key=True,
                )
            ]
        name = t.when.milestone
        if name is not None and name not in m.milestones:
            known = list(m.milestones)
            listing = (
                f"milestones: {', '.join(known)}"
                if known
                else "there are no milestones; add one at the top level: "
                f"milestones: {{{name}: <date or null>}}"
            )
            return [
                doc.error(
                    (*path, "when", "milestone"),
                    f"no milestone named {shown(name)}{_did_you_mean(name, known)}; {listing}",
                )
            ]
    if t.on is not None and t.on.until is not None:
        end = m.horizon.after(m.start)
        if not t.at < t.on.until <= end:
            return [
                doc.error(
                    (*path, "on", "until"),
                    f"'until' {t.on.until} must be after the tranche date {t.at} and at most the "
                    f"horizon's end {end}",
                )
            ]
    return []


def _check_milestones(m: ScenarioModel, doc: YamlDoc) -> list[ScenarioError]:
    """Milestone names have the form of agent names; one set by an override must be one a
    tranche waits for (else it would change nothing: most likely a misspelt name)."""
    errors: list[ScenarioError] = []
    used = [
        t.when.milestone
        for d in m.deals
        if isinstance(d, InvestmentModel)
        for t in d.tranches
        if t.when is not None and t.when.milestone is not None
    ]
    for name in m.milestones:
        path: YamlPath = ("milestones", name)
        if not _NAME_RE.fullmatch(name):
            errors.append(
                doc.error(
                    path,
                    "a milestone name is letters, digits and _ starting with a letter, such as "
                    f"ipo or agi_2; got {shown(name)}",
                    key=True,
                )
            )
        elif doc.override_for(path) is not None and name not in used:
            waited = ", ".join(dict.fromkeys(used)) or "none"
            errors.append(
                doc.error(
                    path,
                    f"no tranche waits for the milestone {shown(name)}"
                    f"{_did_you_mean(name, used)}; the milestones tranches wait for: {waited}",
                )
            )
    return errors


# How a compute contract states its minimum, for the messages that refuse a contract without one
MINIMUM_FORMS = (
    "its minimum either as total and over (such as total: 138B, over: 8y, and growth: 50% for a "
    "rate that rises) or as schedule, each calendar year's amount (such as "
    "schedule: {2026: 5B, 2027: 20B})"
)


def _check_contract(
    m: ScenarioModel, doc: YamlDoc, i: int, deal: ContractModel
) -> list[ScenarioError]:
    """A contract's minimum in one of its two forms: total (over, start, growth) or schedule."""
    end = m.horizon.after(m.start)
    span = f"the horizon runs from {m.start} to {end} (its end excluded)"
    here: YamlPath = ("deals", i)
    if deal.schedule is None:
        if deal.total is None:
            what = "'over' without 'total'" if deal.over is not None else "no minimum"
            return [doc.error(here, f"{what}; a compute contract states {MINIMUM_FORMS}")]
        if deal.over is None:
            return [
                doc.error(here, "missing required key 'over': the term over which 'total' is due")
            ]
        start = deal.start or m.start
        if not m.start <= start < end:
            message = f"the contract start {start} is outside the horizon; {span}"
            return [doc.error((*here, "start"), message)]
        return []
    schedule: YamlPath = (*here, "schedule")
    errors = [
        doc.error(
            (*here, key),
            f"{shown(key)} does not go with 'schedule', whose years say when the minimum is "
            f"due and how much; a compute contract states {MINIMUM_FORMS}, not both",
            key=True,
        )
        for key in ("total", "over", "growth", "start")
        if getattr(deal, key) is not None
    ]
    last: int | None = None
    for key in deal.schedule:
        year = _year(key)
        if year is None:
            message = (
                f"expected a calendar year from {FIRST_DATE.year} to {LAST_DATE.year} such as "
                f"2027, got {shown(key)}"
            )
        elif last is not None and year <= last:
            message = (
                f"the years of a schedule increase, each written once: {year} comes after {last}"
            )
        else:
            message = ""
        if message:
            errors.append(doc.error((*schedule, key), message, key=True))
        if year is not None and (last is None or year > last):
            last = year
    years = [y for y in map(_year, deal.schedule) if y is not None]
    if (
        years
        and not errors
        and all(dt.date(y + 1, 1, 1) <= m.start or dt.date(y, 1, 1) >= end for y in years)
    ):
        # a year outside the horizon asks nothing within it, as does a term running past its
        # end; a schedule with no year inside it would ask nothing at all: a mistake
        errors.append(
            doc.error(
                schedule,
                f"no year of this schedule ({years[0]} to {years[-1]}) overlaps the horizon; "
                f"{span}; a year partly inside accrues only its days inside, a year outside "
                "nothing",
            )
        )
    total = sum(deal.schedule.values())
    if total >= MAX_CONTRACT_CENTS:
        errors.append(
            doc.error(
                schedule,
                f"the schedule's years add up to ${total / 1e14:,.0f}T, past the $45T this "
                "simulator can keep exact to the cent; lower the amounts",
                key=True,
            )
        )
    return errors


def _checked_year(key: Any) -> int:
    year = _year(key)
    assert year is not None  # _check_contract refused the file otherwise
    return year


def _year(key: Any) -> int | None:
    """A schedule's key as a calendar year (2027 or '2027'), or None if it is none."""
    if isinstance(key, str) and re.fullmatch("[0-9]{1,4}", key):
        key = int(key)
    if isinstance(key, int) and not isinstance(key, bool):
        return key if FIRST_DATE.year <= key <= LAST_DATE.year else None
    return None


def _check_with(m: ScenarioModel, doc: YamlDoc, i: int, deal: ContractModel) -> list[ScenarioError]:
    """``with:`` names an investment in this file, in the contract's own lab."""
    ids = _deal_ids(m)
    investments = {ids[j]: d for j, d in enumerate(m.deals) if isinstance(d, InvestmentModel)}
    if deal.with_ not in investments:
        known = ", ".join(shown(x) for x in investments) or "none"
        return [
            doc.error(
                ("deals", i, "with"),
                f"{shown(deal.with_)} is not the id of an investment in this file "
                f"(investments: {known}); 'with' names the investment this contract came with",
            )
        ]
    if investments[deal.with_].lab != deal.lab:
        return [
            doc.error(
                ("deals", i, "with"),
                f"the investment {shown(deal.with_)} is in {shown(investments[deal.with_].lab)}, "
                f"this contract is {shown(deal.lab)}'s; a contract comes with an investment in "
                "its own lab",
            )
        ]
    return []


def _check_runnable(m: ScenarioModel, doc: YamlDoc) -> list[ScenarioError]:
    """What the engine needs beyond valid values: a lab to follow, sums it can add up."""
    if not any(isinstance(a, LabModel) for a in m.agents.values()):
        others = ", ".join(f"{n} ({a.kind})" for n, a in m.agents.items())
        return [
            doc.error(
                ("agents",),
                f"there is no lab among the agents ({others}); a scenario follows the money of "
                "at least one lab: add an agent with kind: lab",
                key=True,
            )
        ]
    stated = [
        (("agents", n, "cash"), a.cash)
        for n, a in m.agents.items()
        if isinstance(a, LabModel | CloudModel)
    ] + [
        (("deals", i, "tranches", j, "amount"), t.amount)
        for i, d in enumerate(m.deals)
        if isinstance(d, InvestmentModel)
        for j, t in enumerate(d.tranches)
    ]
    total = 0
    for path, cents in stated:
        total += cents
        if total >= MAX_STATED_CENTS:
            return [
                doc.error(
                    path,
                    "the opening cash and investments in this file add up past the $45T this "
                    f"simulator can keep exact to the cent (past ${MAX_STATED_CENTS // 10**14:,}T "
                    "by here); lower the amounts",
                )
            ]
    return []


def _deal_ids(m: ScenarioModel) -> list[str]:
    """Explicit ids as written; others ``investor-lab`` or ``lab-cloud-contract``, then -2, -3."""
    used = {d.id for d in m.deals if d.id is not None}
    ids: list[str] = []
    for deal in m.deals:
        if deal.id is not None:
            ids.append(deal.id)
            continue
        if isinstance(deal, InvestmentModel):
            base = f"{deal.investor}-{deal.lab}"
        elif isinstance(deal, RevenueShareModel):
            base = f"{deal.lab}-{deal.investor}-revenue-share"
        else:
            base = f"{deal.lab}-{deal.cloud}-contract"
        candidate, n = base, 1
        while candidate in used:
            n += 1
            candidate = f"{base}-{n}"
        used.add(candidate)
        ids.append(candidate)
    return ids


# ---------------------------------------------------------------------------------------------
# Building the Scenario and its resolved inputs
# ---------------------------------------------------------------------------------------------


def to_scenario(doc: YamlDoc, filename: str | None = None) -> Scenario:
    """Validate ``doc`` and build the typed Scenario, or raise the first ScenarioError by place."""
    if filename is not None and filename != doc.filename:
        doc = replace(doc, filename=filename)
    return _checked_scenario(validate(doc), doc)


def validate(doc: YamlDoc) -> ScenarioModel:
    """The validated model of ``doc``, or the first ScenarioError by place (checks of one
    value or one mapping at a time; ``to_scenario`` then checks how they fit together)."""
    try:
        return ScenarioModel.model_validate(doc.data)
    except ValidationError as e:
        raise _first([_translate(err, doc) for err in e.errors(include_url=False)]) from None


@functools.cache
def _adapter(kind: str) -> TypeAdapter[Any]:
    """The validator of one agent or one deal, made on first use (not at import: start-up)."""
    return TypeAdapter(AgentModel if kind == "agents" else DealModel)


def revalidated(
    base: ScenarioModel, doc: YamlDoc, parts: Iterable[tuple[str, str | int]]
) -> ScenarioModel | None:
    """``base`` with the agents and deals named in ``parts`` (``("agents", name)``,
    ``("deals", index)``) validated again from ``doc``, the rest taken from ``base``: the model
    ``validate(doc)`` gives when ``doc`` differs from ``base``'s document only inside those.
    None where one of them fails: ``validate(doc)`` then says what is wrong, at its place."""
    agents, deals = dict(base.agents), list(base.deals)
    try:
        for kind, key in parts:
            if kind == "agents" and isinstance(key, str) and key in agents:
                agents[key] = _adapter(kind).validate_python(doc.data["agents"][key])
            elif kind == "deals" and isinstance(key, int) and 0 <= key < len(deals):
                deals[key] = _adapter(kind).validate_python(doc.data["deals"][key])
            else:
                return None
    except ValidationError:
        return None
    return base.model_copy(update={"agents": agents, "deals": deals})


def with_values(
    base: ScenarioModel, doc: YamlDoc, paths: Iterable[YamlPath]
) -> ScenarioModel | None:
    """``base`` with the single values at ``paths`` read again from ``doc`` through their own
    validators, everything else taken from ``base``: what ``validate(doc)`` gives when ``doc``
    differs from ``base``'s document only in those values. Every value of a model here has its
    own validator (a ``PlainValidator``) and no model checks one value against another (that is
    ``to_scenario``'s work), so validating the changed values alone is validating the whole.
    None where a path does not end at a value that ``base`` has, or a value fails: then
    ``validate(doc)`` says what is wrong, at its place."""
    m: Any = base
    for path in paths:
        raw = _value_at(doc.data, path)
        try:
            m = _replaced(m, path, raw)
        except (PydanticCustomError, ValueError, TypeError, KeyError, IndexError):
            return None
        if m is None:
            return None
    return m


def _value_at(data: Any, path: YamlPath) -> Any:
    for part in path:
        data = data[part]
    return data


def _replaced(node: Any, path: YamlPath, raw: Any) -> Any:
    """``node`` (a model, or a dict or list of models and values) with the value at ``path``
    validated from ``raw``; None where the path is not one of its values."""
    head, rest = path[0], path[1:]
    if isinstance(node, BaseModel):
        names = {f.alias or n: n for n, f in type(node).model_fields.items()}
        if not isinstance(head, str) or head not in names:
            return None
        name = names[head]
        value = getattr(node, name)
        if len(rest) == 1 and isinstance(value, dict) and rest[0] in value:
            # a value in a mapping of values (a provider's share): by the mapping's value type
            tp = type(node).model_fields[name].annotation
            args = get_args(tp) if get_origin(tp) is dict else ()
            check = _validator(list(get_args(args[1])[1:])) if len(args) == 2 else None
            if (
                check is None
                or isinstance(raw, dict | list)
                or get_origin(args[1]) is not Annotated
            ):
                return None
            return node.model_copy(update={name: {**value, rest[0]: check(raw)}})
        if rest:
            new = _replaced(value, rest, raw)
        else:
            check = _validator(type(node).model_fields[name].metadata)
            if check is None or isinstance(raw, dict | list):
                return None
            new = check(raw)
        return None if new is None else node.model_copy(update={name: new})
    if isinstance(node, dict) and head in node and rest:
        new = _replaced(node[head], rest, raw)
        return None if new is None else {**node, head: new}
    if isinstance(node, list) and isinstance(head, int) and 0 <= head < len(node) and rest:
        new = _replaced(node[head], rest, raw)
        return None if new is None else [*node[:head], new, *node[head + 1 :]]
    # a value in a dict or a list (a provider's share, a schedule's amount): by its type's
    # validator, which the model holds only in its annotation; left to the whole validation
    return None


def _validator(metadata: list[Any]) -> Callable[[Any], Any] | None:
    """The PlainValidator's function among a field's metadata, if it has one (ours all take
    the value alone)."""
    func: Any = next((m.func for m in metadata if isinstance(m, PlainValidator)), None)
    return func


def to_scenario_from(m: ScenarioModel, doc: YamlDoc) -> Scenario:
    """The Scenario of a model made by ``revalidated`` (or ``validate``) from ``doc``: how its
    values fit together is checked as ``to_scenario`` checks it."""
    return _checked_scenario(m, doc)


def _checked_scenario(m: ScenarioModel, doc: YamlDoc) -> Scenario:
    from sim.inputs.scenario import Scenario  # it extends ScenarioModel: imported once both exist

    errors = _check_calendar(m, doc) + _check_agents(m, doc) + _check_deals(m, doc)
    errors += _check_runnable(m, doc)
    if errors:
        raise _first(errors)
    return Scenario.of(_resolve(m, _deal_ids(m)), doc.filename, doc.comments)


def _contract_terms(m: ScenarioModel, d: ContractModel) -> Duration:
    """A contract's payment terms: its own if given, else those of its cloud."""
    if d.payment_terms is not None:
        return d.payment_terms
    cloud = m.agents[d.cloud]
    return cloud.payment_terms if isinstance(cloud, CloudModel) else Duration()


def _resolve(m: ScenarioModel, ids: list[str]) -> ScenarioModel:
    """The model with every default that depends on other inputs written out: labels (the
    key), agents' names, deal ids, a contract's start, growth and payment terms, an ``on:``
    tranche's ``until``, a revenue share's window. Defaults of a field's own are the model's.

    A deal resolved the same way before (the same object, with the same defaults) is that
    same resolved object: the runs of a sweep or a Monte Carlo share the deals they do not
    vary, and the plan reads what they share once (sim.model.schedule.build_plan)."""
    end = m.horizon.after(m.start)
    agents: dict[str, Any] = dict(m.agents)
    for name, a in m.agents.items():
        if a.label is None or a.name != name:  # validated on its own (``revalidated``)
            agents[name] = a.model_copy(update={"label": a.label or name})
            agents[name]._name = name
    deals: list[Any] = []
    for i, d in enumerate(m.deals):
        if isinstance(d, InvestmentModel):  # the horizon's end is a default of on: only
            given: tuple[Any, ...] = (ids[i], end if any(t.on for t in d.tranches) else None)
        elif isinstance(d, RevenueShareModel):
            given = (ids[i], d.start or m.start, d.until or end)
        else:
            given = (ids[i], _contract_terms(m, d), m.start)
        deals.append(_resolved_deal(d, given))
    return m.model_copy(update={"agents": agents, "deals": deals})


# (id(deal as validated), the defaults it is resolved with) -> (that deal, the resolved deal); the
# deal is held, so its id is not reused while its entry lives. Cleared when full.
_RESOLVED: dict[tuple[int, tuple[Any, ...]], tuple[Any, Any]] = {}
_RESOLVED_MAX = 4096


def _resolved_deal(d: Any, given: tuple[Any, ...]) -> Any:
    """Deal ``d`` with the defaults ``given`` written out (see ``_resolve``)."""
    key = (id(d), given)
    hit = _RESOLVED.get(key)
    if hit is not None and hit[0] is d:
        return hit[1]
    if isinstance(d, InvestmentModel):
        deal_id, end = given
        tranches = [
            t.model_copy(update={"on": t.on.model_copy(update={"until": t.on.until or end})})
            if t.on is not None
            else t
            for t in d.tranches
        ]
        out: Any = d.model_copy(update={"id": deal_id, "tranches": tranches})
    elif isinstance(d, RevenueShareModel):
        deal_id, start, until = given
        out = d.model_copy(update={"id": deal_id, "start": start, "until": until})
    else:
        deal_id, payment_terms, start = given
        terms: dict[str, Any] = {"id": deal_id, "payment_terms": payment_terms}
        if d.schedule is None:  # a total over a term, from a start, growing
            terms |= {"growth": d.growth or 0.0, "start": d.start or start}
        else:  # a schedule of calendar years, by year
            terms["schedule"] = {_checked_year(y): c for y, c in d.schedule.items()}
        out = d.model_copy(update=terms)
    if len(_RESOLVED) >= _RESOLVED_MAX:
        _RESOLVED.clear()
    _RESOLVED[key] = (d, out)
    return out
