"""Step 3 of the scenario pipeline, second part: the checks of a scenario's deals as a whole
(references to agents, dates inside the horizon, valuations, credits, conditions, a contract's
minimum, revenue shares that overlap, milestones). Each returns every error it finds, at its
place; sim/inputs/checks.py checks the agents and the calendar.
"""

from __future__ import annotations

import datetime as dt
import math

from sim.errors import ScenarioError
from sim.inputs.checks import pct, ref
from sim.inputs.document import YamlDoc, YamlPath
from sim.inputs.models import (
    NAME_RE,
    ContractModel,
    InvestmentModel,
    InvestorModel,
    LabModel,
    LoanModel,
    RevenueShareModel,
    ScenarioModel,
    TrancheModel,
    contract_terms,
    deal_ids,
    year_of,
)
from sim.inputs.units import (
    CENTS_PER_DOLLAR,
    FIRST_DATE,
    LAST_DATE,
    MAX_DOLLARS,
    format_dollars,
    shown,
)
from sim.inputs.values import did_you_mean

# A contract's schedule must add up to less than 2**52 cents (~$45T), the range of exact cents, as
# a flow's cumulative amount must (sim.model.accrual.flow_cents).
MAX_CONTRACT_CENTS = 2**52


def check_deals(m: ScenarioModel, doc: YamlDoc) -> list[ScenarioError]:
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
                bad = ref(m, doc, ("deals", i, field), getattr(deal, field), want)
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
                bad = ref(m, doc, ("deals", i, field), getattr(deal, field), want)
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
        elif isinstance(deal, LoanModel):
            errors += _check_loan(m, doc, i, deal, span)
        else:
            for field, want in (("lab", "lab"), ("cloud", "seller")):
                bad = ref(m, doc, ("deals", i, field), getattr(deal, field), want)
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
                mine, theirs = contract_terms(m, deal), contract_terms(m, first)
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


def _check_loan(
    m: ScenarioModel, doc: YamlDoc, i: int, deal: LoanModel, span: str
) -> list[ScenarioError]:
    """A loan's lender is an investor, its borrower a lab or a seller; it is drawn within the
    horizon and matures after it is drawn (its maturity may fall after the horizon)."""
    errors: list[ScenarioError] = []
    bad = ref(m, doc, ("deals", i, "lender"), deal.lender, "investor")
    errors += [bad] if bad else []
    borrower = m.agents.get(deal.borrower)
    if borrower is None or borrower.kind == "investor":
        bad = ref(m, doc, ("deals", i, "borrower"), deal.borrower, "lab")
        errors += [bad] if bad else []
    end = m.horizon.after(m.start)
    if not m.start <= deal.at < end:
        errors.append(
            doc.error(
                ("deals", i, "at"), f"the loan's date {deal.at} is outside the horizon; {span}"
            )
        )
    if deal.maturity <= deal.at:
        errors.append(
            doc.error(
                ("deals", i, "maturity"),
                f"maturity {deal.maturity} is not after the day the loan is drawn ({deal.at})",
            )
        )
    return errors


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
                shares = ", ".join(f"deals.{j} {pct(d.share)}" for j, d in paid)
                errors.append(
                    doc.error(
                        ("deals", paid[-1][0], "share"),
                        f"the revenue shares {shown(lab)} pays on the same steps sum to "
                        f"{pct(total)} ({shares}), more than 100%; a lab pays at most 100% "
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
    bad = ref(m, doc, path, on, "seller")
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
                    f"no milestone named {shown(name)}{did_you_mean(name, known)}; {listing}",
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
        if not NAME_RE.fullmatch(name):
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
                    f"{did_you_mean(name, used)}; the milestones tranches wait for: {waited}",
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
        year = year_of(key)
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
    years = [y for y in map(year_of, deal.schedule) if y is not None]
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


def _check_with(m: ScenarioModel, doc: YamlDoc, i: int, deal: ContractModel) -> list[ScenarioError]:
    """``with:`` names an investment in this file, in the contract's own lab."""
    ids = deal_ids(m)
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
