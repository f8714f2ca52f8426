"""Contracts that ramp: a minimum by calendar year (``schedule``) or a total on a growing rate.

Expected cents are worked out here with exact fractions (or ``math`` for the growth ramp), never
with the code under test: cumulative amount at each grid date, rounded half up, differenced.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.inputs.resolved import inputs_hash
from sim.inputs.scenario import Scenario
from sim.io.output import read_run
from sim.model.schedule import build_plan

B = 10**9 * 100  # cents in a billion dollars

# Line numbers are referred to below: 10 the contract, 13 schedule, 14 and 15 its years.
BASE = """\
name: ramp
start: 2026-01-01
horizon: 2y
agents:
  inv: {kind: investor, owns: [own]}
  lab: {kind: lab, cash: 100B, spending: {compute: {annual: 12B, providers: {own: 60%}}}}
  own: {kind: cloud, margin: 30%}
deals:
  - {kind: investment, investor: inv, lab: lab, tranches: [{at: 2026-01-01, amount: 5B}]}
  - kind: compute_contract
    lab: lab
    cloud: own
    schedule:
      2026: 12B
      2027: 24B
"""
SCHEDULE = (
    "    schedule:\n      2026: 12B\n      2027: 24B\n"  # the schedule, to swap for a total or drop
)


def scenario(text: str = BASE, overrides: Any = None) -> Scenario:
    return sim.parse_scenario(text, "ramp.yaml", overrides)


def minimum(s: Scenario) -> list[int]:
    """The contract's minimum cents in each step of a run of ``s`` alone."""
    return build_plan([s]).contracts[0].minimum[:, 0].tolist()


def dollars(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def half_up(x: Fraction) -> int:
    return math.floor(x + Fraction(1, 2))


def steps(cumulative: list[Fraction]) -> list[int]:
    """Cents per step from the exact cumulative cents at each grid date: round, difference."""
    edges = [half_up(c) for c in cumulative]
    return [b - a for a, b in zip(edges, edges[1:], strict=False)]


def scheduled(schedule: dict[int, int], d: dt.date) -> Fraction:
    """Exact cents of a schedule (year -> cents) due by date ``d``: each year by its days."""
    total = Fraction(0)
    for year, cents in schedule.items():
        first, nxt = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
        days = min(max((d - first).days, 0), (nxt - first).days)
        total += Fraction(cents * days, (nxt - first).days)
    return total


def months(start: dt.date, n: int) -> list[dt.date]:
    """The first days of ``n + 1`` months from ``start`` (itself a first day)."""
    return [sim.inputs.units.add_months(start, k) for k in range(n + 1)]


# ---------------------------------------------------------------------------------------------
# A schedule of years
# ---------------------------------------------------------------------------------------------


def test_a_schedule_accrues_each_year_by_its_days_to_the_cent() -> None:
    got = minimum(scenario())
    # January 2026: 12B * 31/365 = $1,019,178,082.19178... -> 101,917,808,219 cents.
    # February: 12B * 59/365 = $1,939,726,027.397... by March 1 -> 193,972,602,740 cents, less
    # January's 101,917,808,219 = 92,054,794,521 cents ($920,547,945.21), for its 28 days.
    assert got[:2] == [101_917_808_219, 92_054_794_521]
    # January 2027: 24B * 31/365 = $2,038,356,164.38356... on top of the whole of 2026
    assert got[12] == 203_835_616_438
    grid = months(dt.date(2026, 1, 1), 24)
    assert got == steps([scheduled({2026: 12 * B, 2027: 24 * B}, d) for d in grid])
    assert sum(got[:12]) == 12 * B and sum(got[12:]) == 24 * B


def test_a_year_cut_by_the_horizon_accrues_only_its_days_inside() -> None:
    text = BASE.replace("2026-01-01", "2026-03-01")
    text = text.replace(SCHEDULE, "    schedule: {2026: 5B, 2027: 20B, 2028: 60B}\n")
    s = scenario(text)
    # 2026 from March 1: 5B * 306/365; all of 2027; 2028 (a leap year) to March 1: 60B * 60/366
    inside = Fraction(5 * B * 306, 365) + 20 * B + Fraction(60 * B * 60, 366)
    assert half_up(Fraction(5 * B * 306, 365)) == 419_178_082_192  # $4,191,780,821.92
    assert half_up(Fraction(60 * B * 60, 366)) == 983_606_557_377  # $9,836,065,573.77
    schedule = {2026: 5 * B, 2027: 20 * B, 2028: 60 * B}
    grid = months(dt.date(2026, 3, 1), 24)
    assert minimum(s) == steps([scheduled(schedule, d) for d in grid])
    # the edges are rounded at the horizon's ends: by 2026-03-01, 5B * 59/365 is already due
    due = half_up(scheduled(schedule, grid[-1])) - half_up(scheduled(schedule, grid[0]))
    assert sum(minimum(s)) == s.contract_total(s.contracts[0]) == due == half_up(inside)


def test_a_daily_grid_asks_the_same_cents_as_a_monthly_one_by_each_month_end() -> None:
    monthly = minimum(scenario())
    daily = minimum(scenario(overrides=["step=1d"]))
    ends = [(d - dt.date(2026, 1, 1)).days for d in months(dt.date(2026, 1, 1), 24)]
    by_month = [sum(daily[a:b]) for a, b in zip(ends, ends[1:], strict=False)]
    assert by_month == monthly


def test_a_gap_year_asks_nothing_and_one_year_may_be_changed_with_set() -> None:
    s = scenario(overrides=["deals.1.schedule={2026: 12B}", "horizon=3y"])
    assert minimum(s)[12:] == [0] * 24
    s = scenario(overrides=["deals.1.schedule.2027=36B"])
    assert s.contracts[0].years == [(2026, 12 * B), (2027, 36 * B)]
    assert sum(minimum(s)) == s.contract_total(s.contracts[0]) == 48 * B


def test_a_schedule_is_typed_as_years_and_cents_with_its_span() -> None:
    s = sim.parse_scenario(BASE, "x")
    (c,) = s.contracts
    assert c.years == [(2026, 12 * B), (2027, 24 * B)]
    assert (c.begins, c.end, s.contract_total(c), c.growth) == (
        dt.date(2026, 1, 1), dt.date(2028, 1, 1), 36 * B, None
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# A total on a growing rate
# ---------------------------------------------------------------------------------------------

GROWING = "    total: 30B\n    over: 2y\n    growth: 100%\n"


def test_at_100_percent_growth_the_second_year_asks_twice_the_first() -> None:
    s = scenario(BASE.replace(SCHEDULE, GROWING).replace("horizon: 2y", "horizon: 3y"))
    got = minimum(s)
    # share due t years in: (2**t - 1) / (2**2 - 1); year 1: 1/3 of $30B, year 2: 2/3
    total = 30 * B
    cumulative = [Fraction(total) * (Fraction(2 ** (k / 12)) - 1) / 3 for k in range(25)]
    expected = steps(cumulative) + [0] * 12
    assert got == expected
    assert got[0] == 59_463_094_359  # $10B * (2**(1/12) - 1) = $594,630,943.59
    assert sum(got[:12]) == 10 * B and sum(got[12:24]) == 20 * B and sum(got) == total
    assert all(a < b for a, b in zip(got[:23], got[1:24], strict=True))  # rising every month


def test_a_ramp_with_any_growth_pays_the_total_exactly_over_the_term() -> None:
    for growth in ("-60%", "7.5%", "50%", "1000%"):
        text = BASE.replace(SCHEDULE, f"    total: 300B\n    over: 17mo\n    growth: {growth}\n")
        got = minimum(scenario(text.replace("start: 2026-01-01", "start: 2025-11-15")))
        assert sum(got) == 300 * B and min(got) >= 0, growth
        assert got[17:] == [0] * (len(got) - 17)
        g = math.log1p(float(growth.rstrip("%")) / 100)
        # the first step's share of the term, from the formula: expm1(g/12) / expm1(g * 17/12)
        share = Fraction(math.expm1(g / 12) / math.expm1(g * 17 / 12))
        assert got[0] == half_up(300 * B * share), growth


def test_growth_zero_is_the_even_spread_to_the_cent() -> None:
    even = "    total: 10.01B\n    over: 19mo\n    start: 2026-02-17\n"
    for step in ("1mo", "1d", "7d"):
        plain = scenario(BASE.replace(SCHEDULE, even), [f"step={step}"])
        flat = scenario(BASE.replace(SCHEDULE, even + "    growth: 0%\n"), [f"step={step}"])
        assert minimum(flat) == minimum(plain)
        assert flat.contracts[0].growth == 0.0
    # and the even spread is what it always was: $12B over a year is $1B a month
    twelve = scenario(BASE.replace(SCHEDULE, "    total: 12B\n    over: 1y\n"))
    assert minimum(twelve)[:12] == [B] * 12


# ---------------------------------------------------------------------------------------------
# Errors: exit 2, file:line:column, the path, what is accepted
# ---------------------------------------------------------------------------------------------

FORMS = "either as total and over (such as total: 138B, over: 8y"
BAD = {
    "total and schedule": (
        ("    cloud: own\n", "    cloud: own\n    total: 36B\n"), "13:5: deals.1.total",
        ["'total' does not go with 'schedule'", FORMS, "not both"],
    ),
    "neither": (
        (SCHEDULE, ""), "10:5: deals.1",
        ["no minimum; a compute contract states its minimum", FORMS, "or as schedule"],
    ),
    "schedule with over": (
        ("    cloud: own\n", "    cloud: own\n    over: 2y\n"), "13:5: deals.1.over",
        ["'over' does not go with 'schedule', whose years say when", FORMS],
    ),
    "schedule with start": (
        ("    cloud: own\n", "    cloud: own\n    start: 2026-06-01\n"), "13:5: deals.1.start",
        ["'start' does not go with 'schedule'"],
    ),
    "no year inside the horizon": (
        ("2026: 12B\n      2027: 24B", "2028: 12B\n      2029: 24B"), "14:7: deals.1.schedule",
        ["no year of this schedule (2028 to 2029) overlaps the horizon; the horizon runs from "
         "2026-01-01 to 2028-01-01 (its end excluded)", "a year outside nothing"],
    ),
    "years out of order": (
        ("2026: 12B\n      2027: 24B", "2027: 12B\n      2026: 24B"), "15:7: deals.1.schedule.2026",
        ["the years of a schedule increase, each written once: 2026 comes after 2027"],
    ),
    "not a whole year": (
        ("2027: 24B", "2026.5: 24B"), "15:7: deals.1.schedule.2026.5",
        ["expected a calendar year from 1900 to 2199 such as 2027, got '2026.5'"],
    ),
    "negative amount": (
        ("2027: 24B", "2027: -24B"), "15:13: deals.1.schedule.2027",
        ["must be more than zero, got '-24B'"],
    ),
    "empty schedule": (
        (SCHEDULE, "    schedule: {}\n"), "13:5: deals.1.schedule", ["expected at least one entry"],
    ),
    "growth past 1000%": (
        (SCHEDULE, GROWING.replace("100%", "1001%")), "15:13: deals.1.growth",
        ["growth must be more than -100% and at most 1000% a year, got '1001%'"],
    ),
    "past $45T": (
        (SCHEDULE, "    schedule: {2026: 10T, 2027: 10T, 2028: 10T, 2029: 10T, 2030: 10T}\n"),
        "13:5: deals.1.schedule", ["add up to $50T, past the $45T"],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_contract_exits_2_naming_the_line_and_what_is_accepted(
    tmp_path, capsys, case
) -> None:
    (old, new), where, parts = BAD[case]
    assert old in BASE
    text = BASE.replace(old, new, 1)
    if case == "past $45T":
        text = text.replace("horizon: 2y", "horizon: 5y")
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    for argv in (["validate", path], ["run", path, "--out", tmp_path / "o"]):
        code, out, err = cli(capsys, *argv)
        assert code == 2, err
        assert err.startswith(f"error: {path}:{where}: "), err
        assert err.count("\n") == 1 and "Traceback" not in out + err
        for part in parts:
            assert part in err, (part, err)
    assert not (tmp_path / "o").exists()


def test_the_errors_shown_in_the_docs_are_the_errors_given(tmp_path, capsys) -> None:
    docs = (Path(__file__).resolve().parent.parent / "docs" / "scenarios.md").read_text()
    shown = [line for line in docs.splitlines() if line.startswith("error: x.yaml")]
    cases = {
        "deals.1.schedule": BASE.replace("horizon: 2y", "horizon: 3y").replace(
            "2026: 12B\n      2027: 24B", "2030: 12B\n      2031: 24B"
        ),
        "deals.1.over": BASE.replace("    cloud: own\n", "    cloud: own\n    over: 2y\n"),
        "deals.1.schedule.2026": BASE.replace(
            "2026: 12B\n      2027: 24B", "2027: 12B\n      2026: 24B"
        ),
    }
    for path, text in cases.items():
        (tmp_path / "x.yaml").write_text(text)
        code, _, err = cli(capsys, "validate", tmp_path / "x.yaml")
        got = err.strip().replace(str(tmp_path) + "/", "")
        assert code == 2 and got in shown, (path, got)


# ---------------------------------------------------------------------------------------------
# The command line, the resolved file and batches
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("minimum_form", ["schedule", "growth"])
def test_a_run_writes_a_resolved_file_that_reruns_to_the_same_inputs(
    tmp_path, capsys, minimum_form
) -> None:
    text = BASE if minimum_form == "schedule" else BASE.replace(SCHEDULE, GROWING)
    path = tmp_path / "ramp.yaml"
    path.write_text(text.replace("2026: 12B", "2026: 12B  # the first year [R]"))
    code, out, err = cli(capsys, "run", path, "--out", tmp_path / "first")
    assert code == 0, err
    resolved = tmp_path / "first" / "scenario.resolved.yaml"
    written = yaml.safe_load(resolved.read_text())["deals"][1]
    if minimum_form == "schedule":
        assert written["schedule"] == {2026: 12_000_000_000, 2027: 24_000_000_000}
        assert "2026: 12000000000  # the first year [R]" in resolved.read_text()
        assert not {"total", "over", "start", "growth"} & set(written)
    else:
        assert (written["total"], written["over"], written["growth"]) == (30 * 10**9, "2y", 1.0)
    code, out, err = cli(capsys, "run", resolved, "--out", tmp_path / "again")
    assert code == 0, err
    first, again = (
        json.loads((tmp_path / d / "metrics.json").read_text()) for d in ("first", "again")
    )
    assert first["inputs_hash"] == again["inputs_hash"]
    s, back = sim.load_scenario(path), read_run(tmp_path / "first").scenario
    assert back == s and back.resolved == s.resolved and inputs_hash(back) == inputs_hash(s)
    assert back.comments == s.comments


VARIANTS: list[dict[str, Any]] = [
    {},
    {"deals.1.schedule": {"2026": "1B", "2027": "60B"}},
    {"deals.1.schedule": {"2027": "0.01"}},
    {"deals.1.schedule": {"2025": "300B", "2026": "5B", "2027": "2B"}},
    {"deals.1.schedule.2026": "240B", "agents.lab.cash": "20B"},
]


def test_a_batch_with_a_schedule_per_run_equals_each_run_alone() -> None:
    text = BASE.replace("start: 2026-01-01", "start: 2025-07-19")  # 2025 and 2027 cut
    runs = [scenario(text, v) for v in VARIANTS]
    batch = sim.run_batch(runs, keep_balances=True)
    cash_outs = set()
    for i, s in enumerate(runs):
        alone = sim.run(s)
        assert batch[i].metrics_dict() == alone.metrics_dict()
        assert batch[i].ledger.reset_index(drop=True).equals(alone.ledger.reset_index(drop=True))
        assert batch[i].balances.equals(alone.balances)
        assert build_plan(runs).contracts[0].minimum[:, i].tolist() == minimum(s)
        cash_outs.add(alone.lab_metrics.loc["lab"].cash_out_date)
    assert len(cash_outs) > 1  # the 240B year runs the lab out of cash; the others do not


def test_a_batch_with_growth_per_run_equals_each_run_alone() -> None:
    text = BASE.replace(SCHEDULE, GROWING)
    runs = [scenario(text, {"deals.1.growth": g}) for g in ("0%", "100%", "-50%", "1000%")]
    batch = sim.run_batch(runs)
    for i, s in enumerate(runs):
        assert batch[i].metrics_dict() == sim.run(s).metrics_dict()


def test_a_batch_mixing_a_schedule_and_a_total_is_refused() -> None:
    runs = [scenario(), scenario(BASE.replace(SCHEDULE, GROWING))]
    with pytest.raises(ValueError, match=r"run 1 \('ramp'\) differs in structure from run 0"):
        sim.run_batch(runs)


# ---------------------------------------------------------------------------------------------
# Random schedules and ramps: the books balance and the minimums add up
# ---------------------------------------------------------------------------------------------

CENTS = st.integers(min_value=1, max_value=8 * 10**14)  # a cent to $8T: 5 years stay under $45T


@st.composite
def contracts(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A scenario text (start, horizon, step) and a contract in one of its two forms."""
    start = draw(st.dates(dt.date(2024, 1, 1), dt.date(2027, 12, 31)))
    horizon = draw(st.integers(1, 40))
    step = draw(st.sampled_from(["1mo", "7d", "1q", "10d"]))
    text = BASE.replace("2026-01-01", str(start)).replace("horizon: 2y", f"horizon: {horizon}mo")
    text = text.replace("horizon:", f"step: {step}\nhorizon:").replace(SCHEDULE, "")
    end = sim.parse_scenario(text + "    total: 1B\n    over: 1y\n", "x").end
    if draw(st.booleans()):
        last = end.year - (end.month == end.day == 1)  # the last year to overlap the horizon
        years = draw(st.lists(st.integers(start.year, last), min_size=1, unique=True))
        amounts = draw(st.lists(CENTS, min_size=len(years), max_size=len(years)))
        return text, {"schedule": dict(zip(sorted(years), amounts, strict=True))}
    days = (end - start).days
    return text, {
        "total": draw(CENTS),
        "over": f"{draw(st.integers(1, 60))}mo",
        "growth": draw(st.integers(-9999, 100_000)) / 10_000,  # -99.99% to 1000%
        "start": start + dt.timedelta(days=draw(st.integers(0, days - 1))),
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contracts())
def test_random_schedules_and_ramps_balance_the_books_and_add_up(
    case: tuple[str, dict[str, Any]],
) -> None:
    text, contract = case
    cents = {"total": contract.get("total"), "schedule": contract.get("schedule")}
    given_ = {k: v for k, v in contract.items() if k not in cents}
    if cents["schedule"]:
        given_["schedule"] = {str(y): dollars(c) for y, c in cents["schedule"].items()}
    else:
        given_["total"] = dollars(cents["total"])
    deal = {"kind": "compute_contract", "lab": "lab", "cloud": "own", **given_}
    s = scenario(text, {"deals.1": deal})
    result = sim.run(s)  # raises if the books do not balance
    assert result.check["balanced"] is True
    got = minimum(s)
    assert min(got) >= 0
    c = s.contracts[0]
    if cents["schedule"]:
        due = [half_up(scheduled(cents["schedule"], d)) for d in (s.start, s.end)]
        assert sum(got) == s.contract_total(c) == due[1] - due[0]
    elif c.end <= s.end:
        assert sum(got) == cents["total"]  # the whole total, whatever the growth
    else:
        assert sum(got) <= cents["total"]  # the part of the term inside the horizon
