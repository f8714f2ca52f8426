"""The models of a scenario: its agents, its deals and the scenario itself (step 2's shapes).

Each input is a field of one of these models, typed with a value type of sim/inputs/values.py
(which says how it is read and written back, its kind, unit and bounds). The models check each
value where it stands; how the values fit together is checked in sim/inputs/checks.py and
sim/inputs/deal_checks.py. Properties of the models are read off their fields (a tranche's
condition kind, a deal's post-money valuation), never inputs of their own.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, model_validator
from pydantic_core import PydanticCustomError

from sim.inputs.units import FIRST_DATE, LAST_DATE, Duration, shown
from sim.inputs.values import (
    Amount,
    AmountPerYear,
    Date,
    Dur,
    FinancingKindValue,
    Growth,
    InterestRate,
    LongText,
    Margin,
    MarginBasisValue,
    PositiveAmount,
    PositiveDur,
    Rate,
    RepaymentValue,
    Seed,
    Share,
    Shares,
    Stake,
    SubstitutionValue,
    Text,
    TracingValue,
    ValuationValue,
    did_you_mean,
)

Tracing = Literal["pro_rata", "fifo"]
FinancingKind = Literal["equity", "debt"]
Substitution = Literal["none", "file", "full"]
# A tranche's condition, if any (docs/model.md, section 7): ``when`` is looked at on the tranche's
# date only; ``on`` on that date and on every grid date after it, before ``until``.
ConditionKind = Literal["when_lab_cash_below", "when_milestone", "on_lab_cash_below"]
Valuation = Literal["pre_money", "post_money", "stake"]

AGENT_KINDS = ("investor", "lab", "cloud", "vendor")
SELLER_KINDS = ("cloud", "vendor")  # agents that sell: labs buy from them, they buy from each other
DEAL_KINDS = ("investment", "compute_contract", "revenue_share", "loan")
# Per year, for present values when a file states none: about the cost of capital of a large
# cloud provider (docs/metrics.md, "Present values"). Every bundled file states its own.
DEFAULT_DISCOUNT_RATE = 0.08
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
NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*")  # matched with fullmatch: "aws\n" is no name


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
                    hint = did_you_mean(str(key), fields)
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
    # display name in charts and reports (default: the key)
    label: Text | None = Field(
        default=None, description="the name charts and reports show (default: the key)"
    )
    # names of the clouds this investor owns
    owns: list[Text] = Field(
        default=[], description="the clouds and vendors this investor owns, by name"
    )


class FlowModel(_Model):
    # cents a year at the start
    annual: AmountPerYear = Field(default=0, description="revenue (or costs) a year at the start")
    growth: Growth = Field(default=0.0, description="growth of the flow, a year")  # per year


class ComputeModel(FlowModel):
    # cloud -> share of compute bought there
    providers: dict[str, Share] = Field(
        default={},
        description="seller -> the share of compute bought there (the rest: outside the model)",
    )


class SpendingModel(_Model):
    compute: ComputeModel = Field(default=ComputeModel(), description="compute bought from sellers")
    other: FlowModel = Field(default=FlowModel(), description="every other cost")


class FinancingModel(_Model):
    """``financing:`` of a lab: raise from ``source`` when cash would fall below ``floor``."""

    # an account outside the model; checked against agent and reserved names
    source: Text = Field(
        description="the account outside the model the money comes from (a name of its own)"
    )
    kind: FinancingKindValue = Field(description="equity (never repaid) or debt (paid interest)")
    # cents of cash to keep
    floor: Amount = Field(
        default=0, description="cash to keep: raise when cash would fall below it"
    )
    # cents, at most this much raised over the horizon
    limit: Amount = Field(description="the most raised over the horizon")
    # per year; debt only, required
    rate: InterestRate | None = Field(
        default=None,
        description="interest a year; debt only, and required for it",
        exclude_if=_absent,
    )
    # equity only; none: issued at the latest issue price (sim/analysis/captable.py)
    valuation: ValuationValue | None = Field(
        default=None,
        description="the pre-money valuation equity raised is issued at (equity only; "
        "default: the latest issue price)",
        exclude_if=_absent,
    )

    @model_validator(mode="after")
    def _valuation_is_equity(self) -> FinancingModel:
        if self.valuation is not None and self.kind != "equity":
            raise PydanticCustomError(
                "valuation",
                "valuation prices equity: a financing rule of kind debt takes none "
                "(remove valuation, or set kind: equity)",
            )
        return self


class CounterfactualModel(_Model):
    """``counterfactual:`` how the twins that measure what an investment caused are run."""

    # docs/metrics.md, "Substitution"
    substitution: SubstitutionValue = Field(
        default="file",
        description=(
            "how a twin replaces the money it runs without: none (it raises by each date at "
            "most what the run raised by then), file (the labs' financing rules) or full (every "
            "missing dollar raised at the file's terms, with no limit)"
        ),
    )


def _default_counterfactual(value: Any) -> bool:
    """``counterfactual:`` left out of the resolved file when it says what the default says,
    so that a file without it keeps its resolved file and inputs hash."""
    return isinstance(value, CounterfactualModel) and value.substitution == "file"


class LabModel(_Agent):
    kind: Literal["lab"]
    label: Text | None = Field(
        default=None, description="the name charts and reports show (default: the key)"
    )
    cash: Amount = Field(default=0, description="cash at the start")
    # none: derived from its first priced round, at $1.00 a share (sim/analysis/captable.py)
    shares: Shares | None = Field(
        default=None,
        description="shares outstanding at the start (default: its first priced round's "
        "pre-money in dollars, so that round is priced at $1.00 a share)",
        exclude_if=_absent,
    )
    revenue: FlowModel = Field(
        default=FlowModel(), description="revenue from customers outside the model"
    )
    spending: SpendingModel = Field(default=SpendingModel(), description="compute and other costs")
    # none: never raises
    financing: FinancingModel | None = Field(
        default=None,
        description="how it raises money when cash runs short; none: it never raises",
        exclude_if=_absent,
    )

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
    # of the seller's costs
    share: Share = Field(description="the share of the seller's costs paid to this seller")
    # paid this long after the sale (capex bought later); default at once
    lag: Dur = Field(
        default=Duration(),
        description="paid this long after the sale (capex bought later); default at once",
    )
    # paid this long before the seller is paid for an invoice it is paid later (capex bought
    # ahead), with money it borrows from capex_funding until then; default none
    lead: Dur = Field(
        default=Duration(),
        description="paid this long before the seller is paid for an invoice (capex bought ahead)",
        exclude_if=lambda d: d.is_zero,
    )


class SellerModel(_Agent):
    """A seller: a cloud, or a vendor (a chip maker) that clouds and labs buy from. It keeps
    ``margin`` of each payment as profit and pays the rest out as costs: ``costs`` routes
    shares of them to other sellers, the rest of 100% leaves the model (``cloud_costs`` for a
    cloud, ``vendor_costs`` for a vendor)."""

    kind: Literal["cloud", "vendor"]
    label: Text | None = Field(
        default=None, description="the name charts and reports show (default: the key)"
    )
    margin: Margin = Field(
        description="the share of each payment kept as profit; the rest is paid out as costs"
    )
    # one basis for every margin of the seller (its own and its contracts'): its profit is
    # their sum, which only adds up on one basis
    margin_basis: MarginBasisValue = Field(
        default="operating",
        description="what its margins are: operating (after all its costs, the usual proxy) or "
        "gross (after the cost of what it sells only)",
        exclude_if=lambda basis: basis == "operating",  # the default: a file's hash stays
    )
    payment_terms: Dur = Field(
        default=Duration(), description="how long after each step its invoices are paid"
    )
    cash: Amount = Field(default=0, description="cash at the start")
    # where its costs go: seller -> share (and lag); the rest of 100% leaves the model
    costs: dict[
        str,
        Annotated[
            RouteModel, BeforeValidator(_route_short, json_schema_input_type=RouteModel | Share)
        ],
    ] = Field(
        default_factory=dict,
        description="seller -> the share of its costs paid to it (and a lag or lead); the rest "
        "leaves the model",
        exclude_if=_absent,
    )


class CloudModel(SellerModel):
    """A cloud: a seller that labs buy compute from."""

    kind: Literal["cloud"]


class VendorModel(SellerModel):
    """A seller that clouds (and labs) buy from: a chip maker. The same terms as a cloud."""

    kind: Literal["vendor"]


class _Deal:
    """What every deal model has: an ``id``, given in the file or made when the scenario is
    resolved (``deal_ids``). It declares no field (pydantic would take it for one, first)."""

    @property
    def key(self) -> str:
        """Its id, once resolved (a resolved scenario's deals all have one)."""
        given: str | None = getattr(self, "id", None)
        if given is None:
            raise ValueError("a deal of a scenario not resolved yet has no id")
        return given


class WhenModel(_Model):
    """Looked at on the tranche's date only: exactly one of the two keys."""

    # paid if less
    lab_cash_below: PositiveAmount | None = Field(
        default=None,
        description="paid only if the lab holds less than this on the tranche's date",
        exclude_if=_absent,
    )
    # paid if reached by the date
    milestone: Text | None = Field(
        default=None,
        description="paid only if this milestone is reached by the tranche's date",
        exclude_if=_absent,
    )


class OnModel(_Model):
    """Looked at on the tranche's date and every grid date after it, before ``until``."""

    # cents: paid the first time the lab holds less
    lab_cash_below: PositiveAmount = Field(
        description="paid the first time the lab holds less than this"
    )
    # default: the horizon's end
    until: Date | None = Field(
        default=None, description="stop looking before this date (default: the horizon's end)"
    )


class TrancheModel(_Model):
    """A tranche, paid on ``at`` unless it waits for a condition (docs/model.md, section 7):
    ``when`` is looked at on its date only, ``on`` on its date and on every grid date after it,
    before ``until``."""

    at: Date = Field(description="the date the tranche is paid (or first looked at)")
    amount: PositiveAmount = Field(description="the tranche's amount")
    when: WhenModel | None = Field(
        default=None,
        description="a condition looked at on the tranche's date only",
        exclude_if=_absent,
    )
    on: OnModel | None = Field(
        default=None,
        description="a condition looked at on its date and every step after it",
        exclude_if=_absent,
    )

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

    # the cloud (or vendor) the credits buy compute at; the investor must own it
    on: Text = Field(
        description="the cloud or vendor the credits buy compute at; the investor must own it"
    )
    # of each tranche, paid in credits (default: all of it)
    share: Share = Field(
        default=1.0, description="the share of each tranche paid in credits (default: all of it)"
    )


class InvestmentModel(_Model, _Deal):
    kind: Literal["investment"]
    id: Text | None = Field(
        default=None, description="the deal's id (default: made from its agents)"
    )
    investor: Text = Field(description="the investor who pays")
    lab: Text = Field(description="the lab paid")
    # the valuation, stated in at most one way (checked in sim.inputs.deal_checks): the resolved
    # file
    # writes the one stated (pre_money and round_size, null, for none)
    pre_money: PositiveAmount | None = Field(
        default=None, description="the valuation before the round", exclude_if=_absent
    )
    # with pre_money only
    round_size: PositiveAmount | None = Field(
        default=None,
        description="the round's size, with pre_money only (default: this deal's tranches)",
        exclude_if=_absent,
    )
    post_money: PositiveAmount | None = Field(
        default=None, description="the valuation after the round", exclude_if=_absent
    )
    # the share every tranche buys
    stake: Stake | None = Field(
        default=None, description="the share of the lab all the tranches buy", exclude_if=_absent
    )
    tranches: Annotated[list[TrancheModel], Field(min_length=1)] = Field(
        description="the payments, each on its date"
    )
    # none: all in cash
    credits: CreditsModel | None = Field(
        default=None,
        description="part paid in credits on a cloud the investor owns; none: all in cash",
        exclude_if=_absent,
    )

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
    as a ``schedule`` of calendar years; ``sim.inputs.deal_checks`` says which keys go together."""

    kind: Literal["compute_contract"]
    id: Text | None = Field(
        default=None, description="the deal's id (default: made from its agents)"
    )
    lab: Text = Field(description="the lab that buys")
    cloud: Text = Field(description="the cloud or vendor that sells")
    total: PositiveAmount | None = Field(
        default=None, description="the minimum over the term", exclude_if=_absent
    )
    over: PositiveDur | None = Field(
        default=None, description="the term over which total is due", exclude_if=_absent
    )
    # per year; default 0 (even)
    growth: Growth | None = Field(
        default=None,
        description="growth of the minimum's rate, a year (default 0: even)",
        exclude_if=_absent,
    )
    # year -> amount; the keys stay as written (text from a file) until sim.inputs.deal_checks
    # reads them
    schedule: Annotated[dict[Any, PositiveAmount], Field(min_length=1)] | None = Field(
        default=None, exclude_if=_absent
    )
    # default: the scenario's start
    start: Date | None = Field(
        default=None,
        description="the first day of the term (default: the scenario's start)",
        exclude_if=_absent,
    )
    # default: the cloud's own payment_terms
    payment_terms: Dur | None = Field(
        default=None,
        description="how long after each step the invoices are paid (default: the cloud's own)",
    )
    # on what the lab pays under this contract's take-or-pay minimum; compute bought above the
    # minimums keeps the seller's margin (docs/model.md, "Margins per contract")
    margin: Margin | None = Field(
        default=None,
        description="the seller's margin on what is paid under this contract's minimum, on the "
        "seller's margin_basis (default: the seller's margin)",
        exclude_if=_absent,
    )
    # the id of the investment this contract came with: the counterfactual twin drops both
    with_: Text | None = Field(
        default=None,
        description="the id of the investment this contract came with (the twin drops both)",
        alias="with",
    )

    @property
    def with_investment(self) -> str | None:
        """The id of the investment it came with (``with:``)."""
        return self.with_

    @property
    def years(self) -> list[tuple[int, int]]:
        """A schedule's (calendar year, cents), years increasing once resolved; [] for a total.
        (Resolved, its years are ints; as written in a file, text until sim.inputs.deal_checks.)"""
        if not self.schedule:
            return []
        return [(y if type(y) is int else checked_year(y), c) for y, c in self.schedule.items()]

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
        assert self.over is not None  # sim.inputs.deal_checks
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
    id: Text | None = Field(
        default=None, description="the deal's id (default: made from its agents)"
    )
    investor: Text = Field(description="the investor paid")
    lab: Text = Field(description="the lab that pays")
    # of the lab's revenue, each step
    share: Share = Field(description="the share of the lab's revenue paid, each step")
    # default: the scenario's start
    start: Date | None = Field(
        default=None, description="the first day (default: the scenario's start)"
    )
    # default: the horizon's end
    until: Date | None = Field(
        default=None, description="the last day (default: the horizon's end)"
    )
    # most paid; none: no cap
    cap: PositiveAmount | None = Field(
        default=None, description="the most paid; none: no cap", exclude_if=_absent
    )


class LoanModel(_Model, _Deal):
    """An investor lends to a lab or a seller: drawn on one day, repaid with interest from the
    borrower's cash at each step's end (docs/model.md, "Loans")."""

    kind: Literal["loan"]
    id: Text | None = Field(
        default=None, description="the deal's id (default: made from its agents)"
    )
    lender: Text = Field(description="the investor who lends")
    borrower: Text = Field(description="the lab, cloud or vendor that borrows")
    amount: PositiveAmount = Field(description="the principal lent, drawn at once")
    at: Date = Field(description="the day the loan is drawn")
    # per year, accrued each step on the principal outstanding
    rate: InterestRate = Field(description="the interest rate, a year")
    maturity: Date = Field(description="the day all the principal is due")
    repayment: RepaymentValue = Field(
        default="bullet",
        description="bullet (all the principal at maturity) or amortizing (equal parts at each "
        "step's end from the draw to maturity)",
    )


DealModel = Annotated[
    InvestmentModel | ContractModel | RevenueShareModel | LoanModel, Field(discriminator="kind")
]


class ScenarioModel(_Model):
    name: Text = Field(description="the scenario's title")
    description: LongText = Field(default="", description="what the scenario is about")
    start: Date = Field(description="the first day simulated")
    horizon: PositiveDur = Field(description="how long is simulated")
    step: PositiveDur = Field(Duration(months=1), description="the length of one step")
    tracing: TracingValue = Field(
        default="pro_rata",
        description="how money is traced: pro_rata (in proportion) or fifo (first in, first out)",
    )
    seed: Seed = Field(default=0, description="the seed of every random draw")
    # per year, for present values
    discount_rate: Rate = Field(
        default=DEFAULT_DISCOUNT_RATE, description="for present values, a year"
    )
    # name -> the date it is reached; null: not reached
    milestones: dict[str, Date | None] = Field(
        default={}, description="name -> the date it is reached; null: not reached"
    )
    agents: Annotated[dict[str, AgentModel], Field(min_length=1)] = Field(
        description="name -> agent: investors, labs, clouds and vendors"
    )
    deals: list[DealModel] = Field(
        default=[], description="investments, compute contracts, revenue shares and loans"
    )
    counterfactual: CounterfactualModel = Field(
        default_factory=CounterfactualModel,
        description="how the twins that measure what an investment caused are run",
        exclude_if=_default_counterfactual,
    )
    # PATH -> SPEC, the points of a sweep (docs/scenarios.md, "Ranges"); sim/inputs/points.py
    # checks it and takes it out (reading the file at its first point) before this model sees it
    sweep: dict[str, Any] = Field(default_factory=dict, exclude=True)

    @model_validator(mode="after")
    def _named(self) -> ScenarioModel:
        """Each agent named by its key and labelled by it where it states no label, once here:
        a sweep's or a Monte Carlo's runs share the base's agents (``with_values``), and
        ``resolve`` does it again only for an agent validated on its own."""
        for name, a in self.agents.items():
            if a.label is None:
                self.agents[name] = a = a.model_copy(update={"label": name})
            a._name = name
        return self


# Top-level inputs that are mappings of inputs with defaults (``counterfactual``): a file may
# leave one out, and ``--set counterfactual.substitution=none`` still sets a key inside it
# (sim/inputs/document.py starts it empty)
SECTIONS = tuple(
    name
    for name, f in ScenarioModel.model_fields.items()
    if isinstance(f.annotation, type)
    and issubclass(f.annotation, BaseModel)
    and f.default_factory is not None
)


def checked_year(key: Any) -> int:
    """A schedule's key as its calendar year, once the scenario is checked."""
    year = year_of(key)
    assert year is not None  # sim.inputs.deal_checks refused the file otherwise
    return year


def year_of(key: Any) -> int | None:
    """A schedule's key as a calendar year (2027 or '2027'), or None if it is none."""
    if isinstance(key, str) and re.fullmatch("[0-9]{1,4}", key):
        key = int(key)
    if isinstance(key, int) and not isinstance(key, bool):
        return key if FIRST_DATE.year <= key <= LAST_DATE.year else None
    return None


def deal_ids(m: ScenarioModel) -> list[str]:
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
        elif isinstance(deal, LoanModel):
            base = f"{deal.lender}-{deal.borrower}-loan"
        else:
            base = f"{deal.lab}-{deal.cloud}-contract"
        candidate, n = base, 1
        while candidate in used:
            n += 1
            candidate = f"{base}-{n}"
        used.add(candidate)
        ids.append(candidate)
    return ids


def contract_terms(m: ScenarioModel, d: ContractModel) -> Duration:
    """A contract's payment terms: its own if given, else those of its cloud."""
    if d.payment_terms is not None:
        return d.payment_terms
    cloud = m.agents[d.cloud]
    return cloud.payment_terms if isinstance(cloud, SellerModel) else Duration()
