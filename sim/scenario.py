"""The typed scenario: what the engine runs.

A scenario file goes through three visible steps (see ``sim/loader.py`` and ``sim/schema.py``):
YAML text with positions -> validated pydantic model (defaults filled, errors with file:line:col)
-> these frozen dataclasses. Money here is integer cents, shares are fractions, rates are per year.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from sim.units import Duration, year_fraction

Tracing = Literal["pro_rata", "fifo"]
FinancingKind = Literal["equity", "debt"]

# A run may have at most this many steps (a 100-year horizon on a daily grid). Past it the scenario
# is refused at validation with a clear message instead of running for minutes.
MAX_STEPS = 36_600


@dataclass(frozen=True)
class Flow:
    """A flow of ``annual_cents`` a year at the start, growing ``growth`` a year (0.5 = 50%)."""

    annual_cents: int = 0
    growth: float = 0.0


@dataclass(frozen=True)
class Investor:
    name: str
    owns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Financing:
    """A lab's financing rule: when its cash would fall below ``floor_cents`` after this step's
    spending, it raises the difference from the external account ``source``, at most
    ``limit_cents`` over the whole horizon. Equity is never repaid; debt bears interest at
    ``rate`` a year on what is outstanding (docs/model.md, "Financing")."""

    source: str  # an account outside the model, like ``funding``
    kind: FinancingKind
    floor_cents: int  # cash it keeps after paying for the step, when it can raise
    limit_cents: int  # most it raises over the horizon
    rate: float = 0.0  # per year, debt only


@dataclass(frozen=True)
class Lab:
    name: str
    cash_cents: int = 0
    revenue: Flow = Flow()
    compute: Flow = Flow()
    # Share of compute demand bought from each cloud (file order kept). What is left of 100% is
    # bought from compute suppliers outside the model (the external ``other_compute`` account).
    providers: dict[str, float] = field(default_factory=dict)
    other: Flow = Flow()
    financing: Financing | None = None  # None: the lab never raises money


SellerKind = Literal["cloud", "vendor"]


@dataclass(frozen=True)
class Route:
    """Where a share of a seller's costs goes: to another seller (a cloud's capex to a chip
    vendor), paid ``lag`` after the sale that made the cost (``Duration()``: at once)."""

    to: str  # a seller (cloud or vendor)
    share: float  # of the seller's costs, i.e. of (1 - margin) of each payment it receives
    lag: Duration = Duration()


@dataclass(frozen=True)
class Cloud:
    """A seller: a cloud, or a vendor (a chip maker) that clouds and labs buy from. It keeps
    ``margin`` of each payment as profit and pays the rest out as costs: ``costs`` routes
    shares of them to other sellers, the rest of 100% leaves the model (``cloud_costs`` for a
    cloud, ``vendor_costs`` for a vendor)."""

    name: str
    margin: float  # share of its revenue the seller keeps as profit
    payment_terms: Duration = Duration()  # default terms for invoices without a contract
    cash_cents: int = 0
    kind: SellerKind = "cloud"
    costs: tuple[Route, ...] = ()


# A tranche's condition, if any (docs/model.md, section 7): ``when`` is looked at on the tranche's
# date only; ``on`` on that date and on every grid date after it, before ``until``.
ConditionKind = Literal["when_lab_cash_below", "when_milestone", "on_lab_cash_below"]
Valuation = Literal["pre_money", "post_money", "stake"]


@dataclass(frozen=True)
class Condition:
    """What a conditional tranche waits for: its lab's cash below ``level_cents`` (``when`` or
    ``on``), or a milestone reached on or before the tranche's date (``when``)."""

    kind: ConditionKind
    level_cents: int = 0  # lab_cash_below: paid only while the lab holds less than this
    milestone: str = ""  # a name in Scenario.milestones
    until: dt.date | None = None  # on: the last look is before this date (the horizon's end)


@dataclass(frozen=True)
class Tranche:
    at: dt.date
    amount_cents: int
    condition: Condition | None = None  # None: paid on ``at``, unconditionally

    @property
    def kind(self) -> str:
        """``""`` for a plain tranche, else its condition's kind: part of a batch's structure."""
        return self.condition.kind if self.condition else ""


@dataclass(frozen=True)
class Investment:
    """An investor's money into a lab, in tranches, with its valuation stated in (at most) one of
    three ways: ``pre_money`` (and ``round_size``), ``post_money``, or the ``stake`` bought."""

    id: str
    investor: str
    lab: str
    tranches: tuple[Tranche, ...]
    pre_money_cents: int | None = None
    # Size of the whole round, other investors included; the post-money valuation is
    # pre_money + round_size. Defaults to this deal's own tranches.
    round_size_cents: int | None = None
    stated_post_money_cents: int | None = None  # ``post_money:`` as written
    stake: float | None = None  # ``stake:``, share of the lab bought by every tranche announced
    # Paid partly in credits on a seller the investor owns: ``credits_share`` of each tranche
    # is credits on ``credits_on`` (compute the lab draws there before paying cash), the rest
    # cash. None: all cash.
    credits_on: str | None = None
    credits_share: float = 0.0

    @property
    def total_cents(self) -> int:
        """Every tranche announced, paid or not."""
        return sum(t.amount_cents for t in self.tranches)

    @property
    def valuation(self) -> Valuation | None:
        """How the deal states its valuation; None: it does not (no stake)."""
        if self.pre_money_cents is not None:
            return "pre_money"
        if self.stated_post_money_cents is not None:
            return "post_money"
        return "stake" if self.stake is not None else None

    @property
    def post_money_cents(self) -> int | None:
        """The post-money valuation: stated (pre_money + round size, or post_money) or implied
        by the stake (every tranche announced / stake, rounded half up to the cent)."""
        if self.pre_money_cents is not None:
            size = self.round_size_cents if self.round_size_cents is not None else self.total_cents
            return self.pre_money_cents + size
        if self.stated_post_money_cents is not None:
            return self.stated_post_money_cents
        if self.stake is not None:
            return math.floor(self.total_cents / self.stake + 0.5)
        return None

    @property
    def stake_per_cent(self) -> float:
        """Share of the lab each cent paid buys: 1 / post-money, or stake / every tranche
        announced (paying half the tranches buys half the stake); nan without a valuation."""
        if self.stake is not None:
            return self.stake / self.total_cents
        post = self.post_money_cents
        return 1 / post if post else math.nan


@dataclass(frozen=True)
class ComputeContract:
    """Take-or-pay: the lab pays ``cloud`` at least a minimum, stated in one of two forms.

    - A total: ``total_cents`` over ``over`` from ``start``, at a rate growing ``growth`` a year
      (0: spread evenly over the term).
    - A schedule: ``schedule`` holds (calendar year, cents) pairs, years increasing; each year's
      cents accrue evenly over its days, January 1 to the next January 1. ``start`` is then the
      first year's January 1, ``end`` the January 1 after the last year, and ``total_cents``
      what accrues inside the scenario's horizon (``scheduled_cents`` at its end less at its
      start): the sum of the contract's minimums over the run.
    """

    id: str
    lab: str
    cloud: str
    total_cents: int
    over: Duration
    start: dt.date
    payment_terms: Duration = Duration()
    # the id of the investment this contract came with (``with:``); the counterfactual twin of
    # that investor drops the contract as well as the investment
    with_investment: str | None = None
    growth: float = 0.0  # per year, of the take-or-pay rate over the term (total form only)
    schedule: tuple[tuple[int, int], ...] = ()  # (year, cents), years increasing; () for a total

    @property
    def end(self) -> dt.date:
        return self.over.after(self.start)

    def scheduled_cents(self, d: dt.date) -> int:
        """Cents of the schedule accrued before day ``d`` begins, rounded half up.

        Year Y's amount A accrues evenly over its days: by day ``d`` of it, ``A * k / n`` with
        ``k`` the days of Y before ``d`` and ``n`` its days (365 or 366). At most one year is
        part-way at any date, so rounding each year's part rounds the sum. (``build_plan`` does
        the same with numpy over a grid.)"""
        total = 0
        for year, cents in self.schedule:
            first = dt.date(year, 1, 1)
            n = (dt.date(year + 1, 1, 1) - first).days
            k = min(max((d - first).days, 0), n)
            total += (2 * cents * k + n) // (2 * n)  # cents * k / n, rounded half up
        return total


@dataclass(frozen=True)
class RevenueShare:
    """A lab pays ``share`` of its revenue to an investor, from ``start`` (the scenario's start)
    until ``until`` (the horizon's end), at most ``cap_cents`` in all (None: no cap)."""

    id: str
    investor: str
    lab: str
    share: float
    start: dt.date
    until: dt.date | None = None
    cap_cents: int | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    start: dt.date
    horizon: Duration
    step: Duration
    investors: dict[str, Investor]
    labs: dict[str, Lab]
    clouds: dict[str, Cloud]  # every seller: clouds and vendors
    investments: tuple[Investment, ...] = ()
    contracts: tuple[ComputeContract, ...] = ()
    revenue_shares: tuple[RevenueShare, ...] = ()
    tracing: Tracing = "pro_rata"
    description: str = ""
    seed: int = 0
    discount_rate: float = 0.08  # per year, for present values (sim.schema.DEFAULT_DISCOUNT_RATE)
    # name -> the date it is reached, None if not: what ``when: {milestone: name}`` waits for
    milestones: dict[str, dt.date | None] = field(default_factory=dict)
    # Where it came from, for reports and charts: the file, every resolved input as plain YAML
    # values, and the comment written beside each input in the file (dotted path -> text).
    source: str | None = None
    resolved: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    comments: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    # display names for charts and reports (agent key -> label), e.g. openai -> OpenAI
    labels: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def end(self) -> dt.date:
        return self.horizon.after(self.start)

    def grid(self) -> list[dt.date]:
        """Step boundaries: start, start+step, ... and the horizon's end (last step maybe short)."""
        return step_grid(self.start, self.end, self.step)

    def label(self, name: str) -> str:
        """An agent's display name (its ``label``, else its key); other accounts as they are."""
        return self.labels.get(name, name)

    def post_money_word(self, investor: str) -> str:
        """How the post-money valuation of ``investor``'s deals is known: "stated" where each
        states pre_money or post_money, "implied by the stake" where some states its stake."""
        forms = {d.valuation for d in self.investments if d.investor == investor}
        return "implied by the stake" if "stake" in forms else "stated"

    def owner_of(self, cloud: str) -> str | None:
        for inv in self.investors.values():
            if cloud in inv.owns:
                return inv.name
        return None

    def payment_terms(self, lab: str, cloud: str) -> Duration:
        """Terms of ``cloud``'s invoices to ``lab``: the contract's if any, else the cloud's own."""
        for c in self.contracts:
            if c.lab == lab and c.cloud == cloud:
                return c.payment_terms
        return self.clouds[cloud].payment_terms


def step_grid(start: dt.date, end: dt.date, step: Duration) -> list[dt.date]:
    """Dates start, start+step, start+2*step, ... while before ``end``, then ``end``. Made once
    per calendar (a sweep's or Monte Carlo's runs share theirs), a fresh list each call."""
    return list(_step_grid(start, end, step))


@functools.lru_cache(maxsize=256)
def _step_grid(start: dt.date, end: dt.date, step: Duration) -> tuple[dt.date, ...]:
    if step.is_zero:
        raise ValueError("step must be longer than zero")
    dates = [start]
    k = 1
    while True:
        d = (
            start + dt.timedelta(days=step.days * k)
            if step.days
            else Duration(months=step.months * k).after(start)
        )
        if d >= end:
            break
        dates.append(d)
        k += 1
        if k > MAX_STEPS:
            raise ValueError(f"more than {MAX_STEPS:,} steps")
    dates.append(end)
    return tuple(dates)


def count_steps(start: dt.date, end: dt.date, step: Duration) -> int:
    """Number of steps without building the grid (used to refuse huge grids before running)."""
    if step.days:
        return -(-(end - start).days // step.days)
    months = year_fraction(start, end) * 12
    return int(-(-months // step.months))
