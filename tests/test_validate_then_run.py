"""What `validate` accepts, `run` runs: valid files at the edges of every bound.

Random files were once valid and then crashed the run ("labco paid out more than it held", a FIFO
withdrawal larger than the pool): revenue shares summing past 100% passed validation. Here every
share sums to exactly 100% or just under, margins are 0% or just under 100%, amounts are a cent
or $10T, horizons are as long as the step grid allows, lags, leads and payment terms are as long
as the horizon. Each file is either refused by the checks `roundtrip validate` makes, in one line,
or it runs with its books balanced to the cent; never an internal error.

CI replays a fixed sequence (conftest's "ci" profile); run longer with, for example,
``HYPOTHESIS_PROFILE=default VALIDATE_THEN_RUN_EXAMPLES=2000 pytest <this file>``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from itertools import pairwise
from typing import Any

import yaml
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from test_conservation import check_books

import sim
from sim.errors import ScenarioError
from sim.inputs.units import LAST_DATE, parse_duration
from sim.model.budget import check_plan
from sim.model.schedule import build_plan
from sim.model.twin import plan_twins

EXAMPLES = int(os.environ.get("VALIDATE_THEN_RUN_EXAMPLES", "100"))  # about 12 s of CPU

# amounts: none, a cent, a few cents a month (where rounding each share half up matters), round
# figures, the $10T limit
AMOUNTS = st.sampled_from(["0", "0.01", "0.12", "0.24", "0.36", "7.77", "1B", "10T"])
POSITIVE = st.sampled_from(["0.01", "0.03", "1", "1B", "10T"])
GROWTH = st.sampled_from(["-99.99%", "-50%", "0%", "30%", "1000%"])
MARGINS = st.sampled_from(["0%", "0.01%", "50%", "99.99%"])
RATES = st.sampled_from(["0%", "100%", "9%"])
# (step, horizon): the longest horizon (100 years) on the coarser grids, a horizon of one step, a
# horizon shorter than its step, and a few hundred days on a daily grid
CALENDARS = st.sampled_from(
    [
        ("1mo", "100y"),
        ("1w", "100y"),
        ("1y", "100y"),
        ("3mo", "400q"),
        ("1mo", "1mo"),
        ("1y", "1mo"),
        ("1d", "1d"),
        ("1d", "400d"),
        ("1mo", "2y"),
    ]
)
STARTS = st.sampled_from(
    [dt.date(1900, 1, 1), dt.date(2024, 2, 29), dt.date(2026, 1, 31), LAST_DATE]
)


@st.composite
def parts_of(draw: st.DrawFn, names: list[str], whole_bp: int) -> dict[str, str]:
    """A share for each of ``names`` (some may get 0%), in basis points summing to ``whole_bp``
    exactly: 10,000 (100%), 9,999 (just under) or less."""
    if not names:
        return {}
    # quarters and halves round half up together on a few cents: 25% + 75% of 2 cents is 1 + 2
    cut = st.sampled_from([whole_bp // 4, whole_bp // 2, 3 * whole_bp // 4]) | st.integers(
        0, whole_bp
    )
    cuts = sorted(draw(st.lists(cut, min_size=len(names) - 1, max_size=len(names) - 1)))
    edges = [0, *cuts, whole_bp]
    return {n: f"{(b - a) / 100}%" for n, (a, b) in zip(names, pairwise(edges), strict=True)}


def sums() -> st.SearchStrategy[int]:
    """A total in basis points: exactly 100%, just under, a little, none."""
    return st.sampled_from([10_000, 10_000, 9_999, 1, 0])


@st.composite
def near_bounds(draw: st.DrawFn) -> dict[str, Any]:
    start = draw(STARTS)
    step, horizon = draw(CALENDARS)
    end = parse_duration(horizon).after(start)
    last = min(end - dt.timedelta(days=1), LAST_DATE)
    long = st.sampled_from(["0d", "1d", horizon, "100y"])  # a lag or terms: up to the horizon

    sellers = ["cloud0", "vendor0"][: draw(st.integers(1, 2))] + (
        ["cloud1"] if draw(st.booleans()) else []
    )
    investors = ["inv0", "inv1"][: draw(st.integers(1, 2))]
    labs = ["lab0", "lab1"][: draw(st.integers(1, 2))]
    owner = {c: draw(st.sampled_from([None, *investors])) for c in sellers}
    agents: dict[str, Any] = {
        i: {"kind": "investor", "owns": [c for c in sellers if owner[c] == i]} for i in investors
    }
    for lab in labs:
        chosen = draw(st.lists(st.sampled_from(sellers), unique=True, max_size=len(sellers)))
        agents[lab] = {
            "kind": "lab",
            "cash": draw(AMOUNTS),
            "revenue": {"annual": draw(AMOUNTS), "growth": draw(GROWTH)},
            "spending": {
                "compute": {
                    "annual": draw(AMOUNTS),
                    "growth": draw(GROWTH),
                    "providers": draw(parts_of(chosen, draw(sums()))),
                },
                "other": {"annual": draw(AMOUNTS), "growth": draw(GROWTH)},
            },
        }
        if draw(st.booleans()):
            kind = draw(st.sampled_from(["equity", "debt"]))
            agents[lab]["financing"] = {
                "source": "markets",
                "kind": kind,
                "floor": draw(AMOUNTS),
                "limit": draw(AMOUNTS),
            } | ({"rate": draw(RATES)} if kind == "debt" else {})
    for k, seller in enumerate(sellers):
        terms = draw(long)
        agents[seller] = {
            "kind": "vendor" if seller.startswith("vendor") else "cloud",
            "margin": draw(MARGINS),
            "payment_terms": terms,
            "cash": draw(AMOUNTS),
        }
        later = sellers[k + 1 :]  # routes only to sellers after this one: never a loop
        routes = draw(parts_of(later, draw(sums()))) if later and draw(st.booleans()) else {}
        agents[seller]["costs"] = {
            to: {"share": share}
            | (
                {"lead": draw(st.sampled_from(["1d", terms, horizon]))}
                if terms != "0d" and draw(st.booleans())
                else {"lag": draw(long)}
            )
            for to, share in routes.items()
        }

    deals: list[dict[str, Any]] = []
    for n in range(draw(st.integers(0, 2))):
        investor, lab = draw(st.sampled_from(investors)), draw(st.sampled_from(labs))
        tranches = [
            {"at": draw(st.sampled_from([start, last])), "amount": draw(POSITIVE)}
            for _ in range(draw(st.integers(1, 2)))
        ]
        condition = draw(st.sampled_from(["none", "on", "cash", "milestone"]))
        if condition == "on":
            tranches[0]["on"] = {"lab_cash_below": draw(POSITIVE)}
        elif condition == "cash":
            tranches[0]["when"] = {"lab_cash_below": draw(POSITIVE)}
        elif condition == "milestone":
            tranches[0]["when"] = {"milestone": "m"}
        deal: dict[str, Any] = {
            "kind": "investment",
            "id": f"deal{n}",
            "investor": investor,
            "lab": lab,
            "tranches": tranches,
        }
        valuation = draw(st.sampled_from(["none", "stake", "post_money", "pre_money"]))
        if valuation == "stake":
            deal["stake"] = draw(st.sampled_from(["100%", "50%", "0.01%"]))
        elif valuation == "post_money":
            deal["post_money"] = draw(POSITIVE)
        elif valuation == "pre_money":
            deal["pre_money"] = draw(POSITIVE)
            if draw(st.booleans()):
                deal["round_size"] = draw(POSITIVE)
        providers = agents[lab]["spending"]["compute"]["providers"]
        bought = [c for c in agents[investor]["owns"] if c in providers]
        if bought and draw(st.booleans()):
            deal["credits"] = {
                "on": draw(st.sampled_from(bought)),
                "share": draw(st.sampled_from(["0%", "99.99%", "100%"])),
            }
        deals.append(deal)
    for lab in labs:  # revenue shares summing to 100% or just under, over overlapping windows
        shares = draw(parts_of([f"r{j}" for j in range(draw(st.integers(0, 3)))], draw(sums())))
        for share in shares.values():
            deal = {
                "kind": "revenue_share",
                "investor": draw(st.sampled_from(investors)),
                "lab": lab,
                "share": share,
            }
            if draw(st.booleans()):
                deal["cap"] = draw(POSITIVE)
            if end <= LAST_DATE and draw(st.booleans()):
                deal["until"] = end
            if last > start and draw(st.booleans()):
                deal["start"] = last  # paid on the last step only
            deals.append(deal)
    for lab, seller in draw(st.lists(st.tuples(st.sampled_from(labs), st.sampled_from(sellers)),
                                     max_size=2, unique=True)):  # fmt: skip
        contract: dict[str, Any] = {"kind": "compute_contract", "lab": lab, "cloud": seller}
        if draw(st.booleans()):
            contract |= {
                "total": draw(POSITIVE),
                "over": draw(st.sampled_from(["1d", horizon, "100y"])),
                "start": draw(st.sampled_from([start, last])),
                "growth": draw(GROWTH),
            }
        else:  # the years of the horizon's first and last days
            years = sorted({start.year, last.year})
            contract["schedule"] = {y: draw(POSITIVE) for y in years}
        contract["payment_terms"] = draw(long)
        linked = [d["id"] for d in deals if d["kind"] == "investment" and d["lab"] == lab]
        if linked and draw(st.booleans()):
            contract["with"] = linked[0]
        deals.append(contract)
    return {
        "name": "near the bounds",
        "start": start,
        "horizon": horizon,
        "step": step,
        "tracing": draw(st.sampled_from(["pro_rata", "fifo"])),
        "discount_rate": draw(RATES),
        "milestones": {"m": draw(st.sampled_from([None, start, last]))},
        "agents": agents,
        "deals": deals,
    }


def validated(text: str) -> sim.inputs.scenario.Scenario:  # type: ignore[name-defined]
    """The checks of `roundtrip validate`: the file's, then planning the flows (past $45T)."""
    s = sim.parse_scenario(text, "bounds.yaml")
    check_plan(build_plan(plan_twins([s]).expand([s])), keep_balances=True)
    return s


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(near_bounds())
# found by this test: 25% + 75% of 2 cents is 1 + 2 cents, rounded half up each; a lab with no
# other cash paid out more than it held (sim/model/kinds/lab.py now pays shares out of what is left)
@example(
    {
        "name": "two revenue shares of 2 cents a month",
        "start": dt.date(1900, 1, 1),
        "horizon": "1y",
        "agents": {
            "inv0": {"kind": "investor"},
            "lab0": {"kind": "lab", "revenue": {"annual": "0.24"}},
        },
        "deals": [
            {"kind": "revenue_share", "investor": "inv0", "lab": "lab0", "share": "25%"},
            {"kind": "revenue_share", "investor": "inv0", "lab": "lab0", "share": "75%"},
        ],
    }
)
def test_a_file_validate_accepts_runs_with_its_books_balanced(data: dict[str, Any]) -> None:
    text = yaml.safe_dump(data, sort_keys=False)
    try:
        s = validated(text)
    except ScenarioError as e:
        assert "\n" not in str(e)
        event("refused by validate")
        event(re.sub(r"[0-9$.,%]+", "#", str(e).split(": ", 2)[-1])[:70])
        return
    event("accepted, then run")
    r = sim.run(s)  # any exception here, ScenarioError included, is a defect
    check_books(s, r)
    for investor in s.investors:
        twin = r.twin(investor)
        assert twin is None or twin.check["balanced"]
