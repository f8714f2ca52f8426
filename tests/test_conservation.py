"""Conservation, checked from the outside: random valid scenarios and every bundled scenario.

The engine checks its own books and raises ConservationError when they are off; these tests
check the same facts again from the DataFrames a run returns, without the engine's help.
"""

from __future__ import annotations

import datetime as dt
from itertools import pairwise
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.inputs.scenario import Scenario
from sim.inputs.units import parse_duration

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = sorted((ROOT / "scenarios").glob("*.yaml"))


def check_books(s: Scenario, r: sim.Result) -> None:
    """The conservation facts every run must satisfy, read off its ledger and balances."""
    led, bal = r.ledger, r.balances
    agents = [*s.investors, *s.labs, *s.sellers]
    origins = [c for c in led.columns if c.startswith("from:")]

    # opening: each lab's and cloud's cash, tagged with its own origin; nothing elsewhere
    opening: dict[tuple[str, str], int] = {}
    for name, lab in s.labs.items():
        opening[(name, f"{name}:cash")] = lab.cash
    for name, cloud in s.sellers.items():
        opening[(name, f"{name}:cash")] = cloud.cash
    total = sum(opening.values())
    by_cell = bal.set_index(["step", "account", "origin"]).cents
    first = by_cell.loc[0]
    assert {k: v for k, v in first.items() if v} == {k: v for k, v in opening.items() if v}

    # every snapshot: all accounts and origins together hold the opening total, to the cent
    per_step = bal.groupby("step").cents.sum()
    assert (per_step == total).all()
    assert len(per_step) == len(s.grid())
    # no agent (investor, lab, cloud) holds negative cash of any origin at any snapshot
    assert (bal[bal.account.isin(agents)].cents >= 0).all()

    # every record: positive, its origin parts non-negative and adding up to it exactly
    assert pd.api.types.is_integer_dtype(led.amount_cents)
    assert (led.amount_cents > 0).all()
    assert (led[origins] >= 0).all().all()
    assert (led[origins].sum(axis=1) == led.amount_cents).all()

    # replaying the ledger from the opening gives the final balances, by account and origin
    last = by_cell.loc[int(per_step.index.max())]
    for (account, origin), cents in last.items():
        col = f"from:{origin}"
        received = int(led.loc[led.payee == account, col].sum())
        paid = int(led.loc[led.payer == account, col].sum())
        assert opening.get((account, origin), 0) + received - paid == cents, (account, origin)

    # what comes back traced can be no more than what was spent there; and, the cost routes
    # being acyclic, each seller the investor owns receives each of its dollars at most once: at
    # most `invested` a seller (a dollar that comes back at its cloud, leaves through a seller it
    # does not own and comes back at its vendor counts at each: docs/metrics.md, round_trip)
    for investor, m in r.metrics.iterrows():
        assert 0 <= m.round_trip <= m.spend_on_own_cloud, investor
        owned = len(s.investors[investor].owns)
        assert m.round_trip <= m.invested * max(1, owned) + 1e-9, investor
    for lab, m in r.lab_metrics.iterrows():
        final_cash = int(last.loc[lab].sum())
        assert m.cash_end == final_cash / 100


# ---- random valid scenarios ------------------------------------------------------------------

CENTS = st.integers(min_value=1, max_value=5 * 10**12)  # a cent to $50B


def dollars(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def growth() -> st.SearchStrategy[str]:
    return st.integers(min_value=-5000, max_value=8000).map(lambda bp: f"{bp / 100}%")


def flow(max_cents: int) -> st.SearchStrategy[dict[str, Any]]:
    annual = st.integers(min_value=0, max_value=max_cents).map(dollars)
    return st.fixed_dictionaries({"annual": annual, "growth": growth()})


@st.composite
def shares(draw: st.DrawFn, clouds: list[str]) -> dict[str, str]:
    """A share for some of the clouds, summing to at most 100% (in basis points, exactly)."""
    chosen = draw(st.lists(st.sampled_from(clouds), unique=True, max_size=len(clouds)))
    total = draw(st.integers(min_value=0, max_value=10_000))
    n = len(chosen)
    cuts = draw(st.lists(st.integers(0, total), min_size=max(n - 1, 0), max_size=max(n - 1, 0)))
    edges = [0, *sorted(cuts), total]
    parts = [b - a for a, b in pairwise(edges)] if chosen else []
    return {c: f"{bp / 100}%" for c, bp in zip(chosen, parts, strict=True)}


MONTHS = st.integers(min_value=1, max_value=48).map(lambda m: f"{m}mo")
STEPS = {  # step -> horizons from a month to 4 years, keeping a run under about 400 steps
    "1d": st.integers(min_value=28, max_value=400).map(lambda d: f"{d}d"),
    "7d": MONTHS,
    "1mo": MONTHS | st.integers(min_value=28, max_value=1461).map(lambda d: f"{d}d"),
    "3mo": MONTHS | st.integers(min_value=1, max_value=16).map(lambda q: f"{q}q"),
}


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    start = draw(st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2027, 12, 31)))
    step = draw(st.sampled_from(sorted(STEPS)))
    horizon = draw(STEPS[step])
    end = parse_duration(horizon).after(start)
    in_horizon = st.dates(min_value=start, max_value=end - dt.timedelta(days=1))
    terms = st.integers(min_value=0, max_value=60).map(lambda d: f"{d}d")

    # sellers: clouds and vendors; each may route its costs to sellers after it in this order
    # (so that routes never go round a loop), which makes random multi-hop networks
    clouds = [f"cloud{i}" for i in range(draw(st.integers(1, 3)))]
    clouds += [f"vendor{i}" for i in range(draw(st.integers(0, 2)))]
    investors = [f"inv{i}" for i in range(draw(st.integers(1, 2)))]
    labs = [f"lab{i}" for i in range(draw(st.integers(1, 2)))]
    owner = {c: draw(st.sampled_from([None, *investors, *investors])) for c in clouds}
    agents: dict[str, Any] = {}
    for inv in investors:  # each owns 0 to 2 clouds
        agents[inv] = {"kind": "investor", "owns": [c for c in clouds if owner[c] == inv][:2]}
    for lab in labs:
        compute = draw(flow(6 * 10**12))
        compute["providers"] = draw(shares(clouds))
        agents[lab] = {
            "kind": "lab",
            "cash": dollars(draw(st.integers(0, 10**13))),
            "revenue": draw(flow(5 * 10**12)),
            "spending": {"compute": compute, "other": draw(flow(2 * 10**12))},
        }
        if draw(st.booleans()):  # a financing rule: equity, or debt at a rate
            kind = draw(st.sampled_from(["equity", "debt"]))
            agents[lab]["financing"] = {
                "source": draw(st.sampled_from(["markets", "banks"])),
                "kind": kind,
                "floor": dollars(draw(st.integers(0, 10**12))),
                "limit": dollars(draw(CENTS)),
            } | ({"rate": f"{draw(st.integers(0, 3000)) / 100}%"} if kind == "debt" else {})
    for k, cloud in enumerate(clouds):
        agents[cloud] = {
            "kind": "vendor" if cloud.startswith("vendor") else "cloud",
            "margin": draw(st.integers(0, 8999)) / 10_000,  # 0 to 89.99%
            "payment_terms": draw(terms),
            "cash": dollars(draw(st.integers(0, 10**11))),
        }
        routes = draw(shares(clouds[k + 1 :])) if k + 1 < len(clouds) else {}
        if routes:
            lags = st.sampled_from(["0d", "15d", "1mo", "3mo", "5y"])  # 5y: after the horizon
            # a lead (paid ahead of invoices paid later) needs payment terms: 1d to 5y ahead
            leads = st.sampled_from(["1d", "20d", "1mo", "5y"])
            paid_later = agents[cloud]["payment_terms"] != "0d"
            agents[cloud]["costs"] = {
                to: {"share": share, "lead": draw(leads)}
                if paid_later and draw(st.booleans())
                else {"share": share, "lag": draw(lags)}
                for to, share in routes.items()
            }

    deals: list[dict[str, Any]] = []
    milestones = {"m": draw(st.one_of(st.none(), in_horizon))}
    for k in range(draw(st.integers(0, 2))):
        tranches = []
        for _ in range(draw(st.integers(1, 3))):
            tranche: dict[str, Any] = {"at": draw(in_horizon), "amount": dollars(draw(CENTS))}
            condition = draw(st.sampled_from(["none", "cash", "milestone", "on"]))
            level = dollars(draw(st.integers(1, 2 * 10**13)))
            if condition == "cash":
                tranche["when"] = {"lab_cash_below": level}
            elif condition == "milestone":
                tranche["when"] = {"milestone": "m"}
            elif condition == "on":
                tranche["on"] = {"lab_cash_below": level}
            tranches.append(tranche)
        deal = {
            "kind": "investment",
            "id": f"deal{k}",
            "investor": draw(st.sampled_from(investors)),
        }
        deal |= {"lab": draw(st.sampled_from(labs)), "tranches": tranches}
        # part of it in credits, on a seller the investor owns that the lab buys from
        owned = agents[deal["investor"]]["owns"]
        bought = [c for c in owned if c in agents[deal["lab"]]["spending"]["compute"]["providers"]]
        if bought and draw(st.booleans()):
            deal["credits"] = {
                "on": draw(st.sampled_from(bought)),
                "share": f"{draw(st.integers(0, 100))}%",
            }
        valuation = draw(st.sampled_from(["none", "pre_money", "post_money", "stake"]))
        if valuation == "stake":
            # at least 5%: three tranches of up to $50B then imply at most $3T (the limit: $10T)
            deal["stake"] = f"{draw(st.integers(500, 10_000)) / 100}%"
        elif valuation != "none":
            deal[valuation] = dollars(draw(CENTS))
        deals.append(deal)
    investments = list(deals)
    for _ in range(draw(st.integers(0, 2))):  # revenue shares, from any lab to any investor
        share: dict[str, Any] = {
            "kind": "revenue_share",
            "investor": draw(st.sampled_from(investors)),
            "lab": draw(st.sampled_from(labs)),
            "share": f"{draw(st.integers(0, 5000)) / 100}%",
        }
        if draw(st.booleans()):
            share["cap"] = dollars(draw(CENTS))
        deals.append(share)
    pair = st.tuples(st.sampled_from(labs), st.sampled_from(clouds))
    pair_terms: dict[tuple[str, str], str] = {}  # one lab's contracts with one cloud share terms
    for lab, cloud in draw(st.lists(pair, max_size=3)):
        contract: dict[str, Any] = {"kind": "compute_contract", "lab": lab, "cloud": cloud}
        if draw(st.booleans()):
            contract |= {
                "total": dollars(draw(CENTS)),
                "over": f"{draw(st.integers(1, 60))}mo",
                "start": draw(in_horizon),
                "growth": f"{draw(st.integers(-5000, 20000)) / 100}%",
            }
        else:  # a schedule of calendar years around the horizon
            first = draw(st.integers(start.year - 1, end.year))
            years = range(first, first + draw(st.integers(1, 4)))
            contract["schedule"] = {y: dollars(draw(CENTS)) for y in years}
            if all(dt.date(y + 1, 1, 1) <= start or dt.date(y, 1, 1) >= end for y in years):
                # no year overlaps the horizon (a file the schema refuses): add the start's year,
                # which always does (the end is excluded, so `first` may be the end's year)
                contract["schedule"][start.year] = dollars(draw(CENTS))
                contract["schedule"] = dict(sorted(contract["schedule"].items()))
        contract["payment_terms"] = pair_terms.setdefault((lab, cloud), draw(terms))
        linked = [d["id"] for d in investments if d["lab"] == lab]
        if linked and draw(st.booleans()):
            contract["with"] = draw(st.sampled_from(linked))
        deals.append(contract)
    for _ in range(draw(st.integers(0, 2))):  # loans, from any investor to any lab or seller
        at = draw(in_horizon)
        deals.append(
            {
                "kind": "loan",
                "lender": draw(st.sampled_from(investors)),
                "borrower": draw(st.sampled_from(labs + clouds)),
                "amount": dollars(draw(CENTS)),
                "at": at,
                "rate": f"{draw(st.integers(0, 3000)) / 100}%",
                "maturity": at + dt.timedelta(days=draw(st.integers(1, 2000))),
                "repayment": draw(st.sampled_from(["bullet", "amortizing"])),
            }
        )
    tracing = draw(st.sampled_from(["pro_rata", "fifo"]))
    return {
        "name": "random",
        "start": start,
        "horizon": horizon,
        "step": step,
        "tracing": tracing,
        "discount_rate": f"{draw(st.integers(0, 3000)) / 100}%",
        "milestones": milestones,
        "agents": agents,
        "deals": deals,
    }


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(scenarios())
def test_random_valid_scenarios_keep_the_books_to_the_cent(data: dict[str, Any]) -> None:
    s = sim.parse_scenario(yaml.safe_dump(data, sort_keys=False), "random.yaml")
    assert len(s.grid()) <= 402
    r = sim.run(s)
    check_books(s, r)
    # every twin keeps its books too, and what the run caused is read off the twin's ledger
    for investor in s.investors:
        for only in (False, True):
            twin = r.twin(investor, investment_only=only)
            if twin is None:
                continue
            assert twin.check["balanced"]
            assert twin.metrics.loc[investor].invested == 0  # the twin runs without it
            assert twin.metrics.loc[investor].lent == 0  # and without its loans
            m = r.metrics.loc[investor]
            suffix = "_investment_only" if only else ""
            caused = m.spend_on_own_cloud - twin.metrics.loc[investor].spend_on_own_cloud
            assert m["incremental_revenue" + suffix] == pytest.approx(caused, abs=0.005)


@pytest.mark.parametrize("path", BUNDLED, ids=[p.name for p in BUNDLED])
@pytest.mark.parametrize("tracing", ["pro_rata", "fifo"])
def test_every_bundled_scenario_keeps_the_books_to_the_cent(path: Path, tracing: str) -> None:
    s = sim.load_scenario(path, {"tracing": tracing})
    r = sim.run(s)
    check_books(s, r)
    # no bundled file routes an investor's dollars out of what it owns and back in
    # (docs/metrics.md, round_trip): each investor's round trip is at most what it invested
    assert (r.metrics.round_trip <= r.metrics.invested).all()


def test_there_is_at_least_one_bundled_scenario() -> None:
    assert BUNDLED


def test_amounts_summing_past_the_exact_cent_range_are_refused_as_bad_input() -> None:
    deal = (
        "  - {kind: investment, investor: inv, lab: lab, tranches: [{at: 2026-01-01, amount: 10T}]}"
    )
    text = (
        "name: $100T in ten tranches of $10T\nstart: 2026-01-01\nhorizon: 1y\n"
        "agents:\n  inv: {kind: investor}\n  lab: {kind: lab}\ndeals:\n"
    ) + "\n".join([deal] * 10)
    s = sim.parse_scenario(text, "huge.yaml")  # every figure is within the limits
    with pytest.raises(sim.ScenarioError, match="huge.yaml"):
        sim.run(s)
