"""Conditional tranches (``when:``, ``on:``, milestones) and the three ways to state a valuation."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import pytest
import yaml
from conftest import cli, scenario
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

import sim
from sim.inputs.resolved import inputs_hash, resolved_yaml_with_sources
from sim.inputs.scenario import Scenario
from sim.model.schedule import build_plan, structure

B = 100 * 10**9  # cents in $1B

# A lab with $2B and no revenue spending $1B a month (other costs of $12B a year), one year on a
# monthly grid. Its cash in the tranche phase of each grid date, before that day's spending:
#   Jan 1 2B, Feb 1 2B, Mar 1 1B, Apr 1 0 -> A ($3B) is paid: 3B, less Apr's 1B: 2B
#   May 1 2B: B wants below 1B (not paid, ever), C looks from here for below 0.5B: no
#   Jun 1 1B: C no;  Jul 1 0: C ($1B) is paid, spent the same day;  Aug 1 to Jan 1 2027: 0
# Paid $3B on Apr 1 and $1B on Jul 1, of $6B announced; the lab spends its $2B and the $4B, and
# $6B of other costs go unmet (Aug 1 to Jan 1: six months of $1B).
HAND = """\
name: conditional tranches by hand
start: 2026-01-01
horizon: 1y
step: 1mo
agents:
  inv: {kind: investor}
  lab: {kind: lab, cash: 2B, spending: {other: {annual: 12B}}}
deals:
  - kind: investment
    investor: inv
    lab: lab
    post_money: 100B
    tranches:
      - {at: 2026-04-01, amount: 3B, when: {lab_cash_below: 1.5B}}  # A
      - {at: 2026-05-01, amount: 2B, when: {lab_cash_below: 1B}}  # B
      - {at: 2026-05-01, amount: 1B, on: {lab_cash_below: 0.5B}}  # C
"""


def investment_rows(result: sim.Result) -> list[tuple[str, str, int]]:
    """(date, investor, cents) of each investment record of a run."""
    led = result.ledger
    rows = led[led.kind == "investment"]
    return [
        (str(d.date()), payer, int(c))
        for d, payer, c in zip(rows.date, rows.payer, rows.amount_cents, strict=True)
    ]


def test_conditional_tranches_are_paid_on_the_days_worked_out_by_hand() -> None:
    s = sim.parse_scenario(HAND, "hand.yaml")
    r = sim.run(s)
    assert investment_rows(r) == [("2026-04-01", "inv", 3 * B), ("2026-07-01", "inv", 1 * B)]
    funding = r.ledger[r.ledger.kind == "funding"]
    assert list(funding.amount_cents) == [3 * B, 1 * B]  # drawn from funding the same days
    plan = r.data.plan.investments[0]
    assert plan.announced.tolist() == [6 * B]  # A + B + C, paid or not
    assert plan.stake_per_cent.tolist() == [1 / (100 * B)]
    other = r.ledger[r.ledger.kind == "other"]
    assert other.amount_cents.sum() == 6 * B  # $2B of cash and $4B paid in, all spent
    assert r.lab_metrics.loc["lab"].unmet_other == pytest.approx(6e9)  # dollars
    assert r.check["balanced"] is True


def test_an_on_tranche_is_paid_at_most_once_and_never_if_cash_stays_above() -> None:
    # C's cash is below 0.5B on Jul 1 and on every grid date after it: paid once
    r = sim.run(sim.parse_scenario(HAND, "hand.yaml"))
    assert [row for row in investment_rows(r) if row[0] > "2026-07-01"] == []
    # with $20B of opening cash the lab never falls below any level: nothing is paid
    rich = sim.parse_scenario(HAND, "hand.yaml", {"agents.lab.cash": "20B"})
    assert investment_rows(sim.run(rich)) == []
    # until 2026-07-01 (excluded): C stops looking the day it would have been paid
    early = sim.parse_scenario(HAND, "hand.yaml", {"deals.0.tranches.2.on.until": "2026-07-01"})
    assert investment_rows(sim.run(early)) == [("2026-04-01", "inv", 3 * B)]


def test_an_on_tranche_looks_on_its_own_date_even_between_grid_dates() -> None:
    # from Apr 15 (not a grid date): cash there is Apr 1's 3B less its 1B = 2B, below 2.5B
    s = sim.parse_scenario(
        HAND,
        "hand.yaml",
        {"deals.0.tranches.2.at": "2026-04-15", "deals.0.tranches.2.on.lab_cash_below": "2.5B"},
    )
    assert investment_rows(sim.run(s))[1] == ("2026-04-15", "inv", 1 * B)


def test_conditions_of_one_day_read_the_cash_before_any_tranche_of_that_day() -> None:
    # B moved to Apr 1 with a level of 0.5B: cash is 0 before A's $3B arrives, so both are paid
    s = sim.parse_scenario(
        HAND,
        "hand.yaml",
        {"deals.0.tranches.1.at": "2026-04-01", "deals.0.tranches.1.when.lab_cash_below": "0.5B"},
    )
    assert investment_rows(sim.run(s))[0] == ("2026-04-01", "inv", 5 * B)


MILESTONE = """\
name: a milestone tranche
start: 2026-01-01
horizon: 1y
milestones:
  ipo: 2026-03-01  # assumed
agents:
  inv: {kind: investor}
  lab: {kind: lab, cash: 1B}
deals:
  - kind: investment
    investor: inv
    lab: lab
    tranches:
      - {at: 2026-02-01, amount: 1B}
      - {at: 2026-06-01, amount: 4B, when: {milestone: ipo}}
"""


@pytest.mark.parametrize(
    ("ipo", "paid"),
    [
        ("2026-03-01", [("2026-02-01", "inv", B), ("2026-06-01", "inv", 4 * B)]),
        ("2026-06-01", [("2026-02-01", "inv", B), ("2026-06-01", "inv", 4 * B)]),  # same day
        ("2025-01-01", [("2026-02-01", "inv", B), ("2026-06-01", "inv", 4 * B)]),  # before start
        ("2026-06-02", [("2026-02-01", "inv", B)]),  # a day late
        ("2028-01-01", [("2026-02-01", "inv", B)]),  # after the horizon
        (None, [("2026-02-01", "inv", B)]),  # null: not reached
    ],
)
def test_a_milestone_tranche_is_paid_only_if_the_milestone_is_reached_by_its_date(
    ipo: str | None, paid: list[tuple[str, str, int]]
) -> None:
    s = sim.parse_scenario(MILESTONE, "m.yaml", {"milestones.ipo": ipo})
    r = sim.run(s)
    assert investment_rows(r) == paid
    assert r.data.plan.investments[0].announced.tolist() == [5 * B]


def test_set_moves_a_milestone_from_the_command_line(tmp_path, capsys) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(MILESTONE)
    invested = []
    for n, change in enumerate(
        ([], ["--set", "milestones.ipo=2028-01-01"], ["--set", "milestones.ipo=null"])
    ):
        code, out, _ = cli(capsys, "run", path, *change, "--json", "--out", tmp_path / str(n))
        assert code == 0
        invested.append(json.loads(out)["investors"]["inv"]["invested"])
    assert invested == [5e9, 1e9, 1e9]  # dollars: $1B plain, and the $4B only in the first


def test_an_unknown_milestone_is_refused_with_the_known_names(tmp_path, capsys) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(MILESTONE.replace("ipo: 2026", "ipo: 2026-03-01\n  agi: null\n  x: 2026"))
    code, _, err = cli(capsys, "validate", path, "--set", "deals.0.tranches.1.when.milestone=ip")
    assert code == 2
    assert err.startswith("error: --set deals.0.tranches.1.when.milestone=ip: ")
    assert "no milestone named 'ip' (did you mean 'ipo'?); milestones: ipo, agi, x" in err
    # a milestone set on the command line that no tranche waits for is a misspelt name
    code, _, err = cli(capsys, "validate", path, "--set", "milestones.ipp=2026-01-01")
    assert code == 2
    assert "no tranche waits for the milestone 'ipp' (did you mean 'ipo'?)" in err


# ---------------------------------------------------------------------------------------------
# Valuations
# ---------------------------------------------------------------------------------------------

# $10B announced in two tranches, the second on a condition never met (the lab holds $1B)
VALUED = """\
name: valuations
start: 2026-01-01
horizon: 1y
agents:
  inv: {{kind: investor}}
  lab: {{kind: lab, cash: 1B}}
deals:
  - kind: investment
    investor: inv
    lab: lab
    {valuation}
    tranches:
      - {{at: 2026-01-01, amount: 5B}}
      - {{at: 2026-02-01, amount: 5B, when: {{lab_cash_below: 0.5B}}}}
"""


@pytest.mark.parametrize(
    ("valuation", "post_money", "stated", "per_cent"),
    [
        ("pre_money: 90B", 100 * B, True, 1 / (100 * B)),  # 90B + the deal's own 10B
        ("{pre_money: 90B, round_size: 30B}", 120 * B, True, 1 / (120 * B)),
        ("post_money: 80B", 80 * B, True, 1 / (80 * B)),
        ("stake: 2.5%", 400 * B, False, 0.025 / (10 * B)),  # 10B / 2.5% = 400B, implied
        ("stake: 100%", 10 * B, False, 1 / (10 * B)),
    ],
)
def test_each_valuation_form_gives_its_stake_per_cent_and_post_money(
    valuation: str, post_money: int, stated: bool, per_cent: float
) -> None:
    if valuation.startswith("{"):  # two keys: written as two lines
        valuation = valuation.strip("{}").replace(", ", "\n    ")
    s = sim.parse_scenario(VALUED.format(valuation=valuation), "v.yaml")
    plan = build_plan([s]).investments[0]
    assert plan.post_money.tolist() == [post_money]
    assert plan.post_money_stated.tolist() == [stated]
    assert plan.announced.tolist() == [10 * B]
    assert plan.stake_per_cent.tolist() == [per_cent]
    assert s.investments[0].valuation == valuation.split(":")[0]


def test_a_stake_counts_only_the_money_paid() -> None:
    # 2.5% for $10B announced; only the first $5B is paid: the stake bought is half of 2.5%
    s = sim.parse_scenario(VALUED.format(valuation="stake: 2.5%"), "v.yaml")
    r = sim.run(s)
    plan = r.data.plan.investments[0]
    paid = sum(cents for _, _, cents in investment_rows(r))
    assert paid == 5 * B
    assert paid * plan.stake_per_cent[0] == pytest.approx(0.0125, rel=1e-15)
    assert plan.announced[0] * plan.stake_per_cent[0] == pytest.approx(0.025, rel=1e-15)


def test_without_a_valuation_the_stake_per_cent_is_undefined() -> None:
    s = sim.parse_scenario(VALUED.format(valuation=""), "v.yaml")
    plan = build_plan([s]).investments[0]
    assert plan.post_money.tolist() == [0] and plan.post_money_stated.tolist() == [False]
    assert math.isnan(plan.stake_per_cent[0])
    assert s.investments[0].valuation is None


@pytest.mark.parametrize(
    ("valuation", "message"),
    [
        (
            "pre_money: 90B\n    stake: 2%",
            "v.yaml:12:5: deals.0.stake: the valuation is stated twice, as pre_money and stake; "
            "state it one way: pre_money (with round_size), post_money, or stake",
        ),
        (
            "post_money: 90B\n    pre_money: 80B",
            "v.yaml:12:5: deals.0.pre_money: the valuation is stated twice, as post_money and "
            "pre_money",
        ),
        (
            "stake: 0%",
            "v.yaml:11:12: deals.0.stake: a stake must be more than 0% and at most 100%, got '0%'",
        ),
        (
            "stake: 150%",
            "v.yaml:11:12: deals.0.stake: a stake must be more than 0% and at most 100%, "
            "got '150%'",
        ),
        ("stake: 25", "got 25 (write 25% for 25 percent)"),
        (
            "post_money: 90B\n    round_size: 10B",
            "deals.0.round_size: round_size goes with pre_money (post-money = pre_money + "
            "round_size) (this deal states post_money)",
        ),
        (
            "stake: 0.0000001%",
            "implies a post-money valuation of $10,000,000.00T, more than the $10T",
        ),
    ],
)
def test_a_valuation_stated_twice_or_out_of_range_is_exit_2_naming_the_line(
    tmp_path, capsys, valuation: str, message: str
) -> None:
    path = tmp_path / "v.yaml"
    path.write_text(VALUED.format(valuation=valuation))
    code, out, err = cli(capsys, "validate", path)
    assert (code, out) == (2, "")
    assert message in err.replace(str(tmp_path) + "/", "")


# ---------------------------------------------------------------------------------------------
# Checks on conditions
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"deals.0.tranches.0.on": {"lab_cash_below": "1B"}},
            "deals.0.tranches.0.on: a tranche has at most one condition: when (looked at on its "
            "date) or on (looked at on its date and every grid date after it); got both",
        ),
        (
            {"deals.0.tranches.0.when": {"lab_cash_below": "1B", "milestone": "x"}},
            "deals.0.tranches.0.when: 'when' waits for one thing: lab_cash_below (an amount) or "
            "milestone (a name under milestones); got both",
        ),
        ({"deals.0.tranches.0.when": {}}, "got neither"),
        ({"deals.0.tranches.0.when.lab_cash_below": "0"}, "must be more than zero, got '0'"),
        (
            {"deals.0.tranches.2.on.until": "2026-05-01"},
            "deals.0.tranches.2.on.until: 'until' 2026-05-01 must be after the tranche date "
            "2026-05-01 and at most the horizon's end 2027-01-01",
        ),
        ({"deals.0.tranches.2.on.until": "2027-01-02"}, "at most the horizon's end 2027-01-01"),
        ({"deals.0.tranches.2.on": {"until": "2026-09-01"}}, "missing required key"),
        ({"deals.0.tranches.0.when": {"milestone": "ipo"}}, "there are no milestones; add one"),
        ({"milestones": {"i p o": None}}, "a milestone name is letters, digits and _"),
    ],
)
def test_a_malformed_condition_is_refused_with_its_path(
    change: dict[str, Any], message: str
) -> None:
    with pytest.raises(sim.ScenarioError) as e:
        sim.parse_scenario(HAND, "hand.yaml", change)
    assert message in str(e.value)


def test_condition_kinds_are_structure_and_levels_and_dates_are_values() -> None:
    base = sim.parse_scenario(HAND, "hand.yaml")
    values = sim.parse_scenario(
        HAND,
        "hand.yaml",
        {
            "deals.0.tranches.0.when.lab_cash_below": "9B",
            "deals.0.tranches.2.on.until": "2026-09-01",
            "deals.0.tranches.1.at": "2026-02-01",
            "deals.0.stake": "3%",
            "deals.0.post_money": None,
        },
    )
    assert structure(values) == structure(base)
    plain = sim.parse_scenario(HAND, "hand.yaml", {"deals.0.tranches.0.when": None})
    assert structure(plain) != structure(base)
    kind = {
        "deals.0.tranches.2": {"at": "2026-05-01", "amount": "1B", "when": {"lab_cash_below": "1B"}}
    }
    assert structure(sim.parse_scenario(HAND, "hand.yaml", kind)) != structure(base)
    with pytest.raises(ValueError, match="differs in structure"):
        build_plan([base, plain])


# ---------------------------------------------------------------------------------------------
# Batches: a run pays on its own days, whatever the batch
# ---------------------------------------------------------------------------------------------

BATCH = """\
name: conditions in a batch
start: 2026-01-31
horizon: 1y
step: 1mo
tracing: {tracing}
milestones: {{ipo: 2026-06-15}}
agents:
  a: {{kind: investor, owns: [own]}}
  b: {{kind: investor}}
  lab:
    kind: lab
    cash: 3B
    revenue: {{annual: 3B}}
    spending: {{compute: {{annual: 12B, providers: {{own: 50%}}}}, other: {{annual: 3B}}}}
  own: {{kind: cloud, margin: 30%, payment_terms: 30d}}
deals:
  - kind: investment
    investor: a
    lab: lab
    stake: 5%
    tranches:
      - {{at: 2026-01-31, amount: 1B}}
      - {{at: 2026-03-15, amount: 2B, on: {{lab_cash_below: 2B}}}}
      - {{at: 2026-07-31, amount: 1B, when: {{milestone: ipo}}}}
  - kind: investment
    investor: b
    lab: lab
    post_money: 60B
    tranches:
      - {{at: 2026-05-31, amount: 2B, when: {{lab_cash_below: 1.5B}}}}
      - {{at: 2026-08-31, amount: 1B}}
"""
# a's on: tranche is paid on 05-31, 10-31, 05-31, never, 05-31 and 08-31 (with b's plain
# tranche: the same lab paid by two investors on one day, which FIFO tracing sees in order)
BATCH_VARIANTS: list[dict[str, Any]] = [
    {},
    {"deals.0.tranches.1.on.lab_cash_below": "0.01"},
    {"deals.0.tranches.1.on.lab_cash_below": "2.5B", "deals.1.tranches.0.when.lab_cash_below": "1"},
    {"deals.0.tranches.1.on.until": "2026-05-01", "milestones.ipo": None},
    {"milestones.ipo": "2026-09-01", "deals.1.tranches.0.at": "2026-04-30"},
    {"deals.0.tranches.1.at": "2026-08-31", "deals.0.tranches.1.on.lab_cash_below": "5B"},
]


def on_tranche_day(result: sim.Result) -> str | None:
    """The day a's $2B on: tranche was paid, if it was."""
    days = [d for d, who, cents in investment_rows(result) if who == "a" and cents == 2 * B]
    return days[0] if days else None


@pytest.mark.parametrize("tracing", ["pro_rata", "fifo"])
def test_a_batch_paying_conditional_tranches_on_different_days_equals_each_run_alone(
    tracing: str,
) -> None:
    runs = [sim.parse_scenario(BATCH.format(tracing=tracing), "b.yaml", v) for v in BATCH_VARIANTS]
    batch = sim.run_batch(runs, keep_balances=True)
    alone = [sim.run(s) for s in runs]
    assert [on_tranche_day(r) for r in alone] == [
        "2026-05-31", "2026-10-31", "2026-05-31", None, "2026-05-31", "2026-08-31"
    ]  # fmt: skip
    for i, single in enumerate(alone):
        got = batch[i]
        assert_frame_equal(
            got.ledger.reset_index(drop=True),
            single.ledger.reset_index(drop=True),
            check_exact=True,
        )
        assert_frame_equal(got.balances, single.balances, check_exact=True)
        assert got.metrics_dict() == single.metrics_dict()
    assert batch[3].ledger[batch[3].ledger.deal == "a-lab"].amount_cents.tolist() == [B, B]


# ---------------------------------------------------------------------------------------------
# Random conditions keep the books
# ---------------------------------------------------------------------------------------------

START, END = dt.date(2026, 1, 1), dt.date(2028, 1, 1)
DAYS = (END - START).days


@st.composite
def conditional_batches(draw: st.DrawFn) -> tuple[str, list[dict[str, Any]]]:
    """A scenario text with random kinds of condition, and overrides giving each of a few runs
    its own levels, dates, amounts and milestones (the same structure)."""
    kinds = draw(st.lists(st.sampled_from(["", "cash", "milestone", "on"]), min_size=1, max_size=4))
    tranches = []
    for kind in kinds:
        t: dict[str, Any] = {"at": START, "amount": "1B"}
        if kind == "cash":
            t["when"] = {"lab_cash_below": "1B"}
        elif kind == "milestone":
            t["when"] = {"milestone": "m"}
        elif kind == "on":
            t["on"] = {"lab_cash_below": "1B"}
        tranches.append(t)
    data = {
        "name": "random conditions",
        "start": START,
        "horizon": "2y",
        "step": draw(st.sampled_from(["1mo", "1q", "10d"])),
        "tracing": draw(st.sampled_from(["pro_rata", "fifo"])),
        "milestones": {"m": None},
        "agents": {
            "inv": {"kind": "investor", "owns": ["own"]},
            "other": {"kind": "investor"},
            "lab": {
                "kind": "lab",
                "cash": f"{draw(st.integers(0, 5000))}M",
                "revenue": {"annual": f"{draw(st.integers(0, 6000))}M"},
                "spending": {
                    "compute": {"annual": "8B", "providers": {"own": "60%"}},
                    "other": {"annual": "2B"},
                },
            },
            "own": {"kind": "cloud", "margin": "40%", "payment_terms": "45d"},
        },
        "deals": [
            {"kind": "investment", "investor": "inv", "lab": "lab", "tranches": tranches},
            {
                "kind": "investment",
                "investor": "other",
                "lab": "lab",
                "tranches": [{"at": START, "amount": "1B"}],
            },
        ],
    }
    day = st.integers(0, DAYS - 1).map(lambda d: START + dt.timedelta(days=d))
    cents = st.integers(1, 6 * 10**11).map(lambda c: f"{c / 100:.2f}")
    runs = []
    for _ in range(draw(st.integers(1, 3))):
        v: dict[str, Any] = {"deals.1.tranches.0.at": draw(day)}
        if "milestone" in kinds:
            v["milestones.m"] = draw(st.none() | day)
        for i, kind in enumerate(kinds):
            at = draw(day)
            v[f"deals.0.tranches.{i}.at"] = at
            v[f"deals.0.tranches.{i}.amount"] = draw(cents)
            if kind == "cash":
                v[f"deals.0.tranches.{i}.when.lab_cash_below"] = draw(cents)
            elif kind == "on":
                v[f"deals.0.tranches.{i}.on.lab_cash_below"] = draw(cents)
                last = (END - at).days
                until = at + dt.timedelta(days=draw(st.integers(1, last)))
                v[f"deals.0.tranches.{i}.on.until"] = until
        runs.append(v)
    return yaml.safe_dump(data, sort_keys=False), runs


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conditional_batches())
def test_random_conditions_keep_the_books_alone_and_in_a_batch(
    case: tuple[str, list[dict[str, Any]]],
) -> None:
    text, variants = case
    runs = [sim.parse_scenario(text, "random.yaml", v) for v in variants]
    batch = sim.run_batch(runs)  # raises ConservationError if the books are off in any run
    for i, s in enumerate(runs):
        alone = sim.run(s)
        assert alone.check["balanced"] is True and batch[i].check["balanced"] is True
        assert_frame_equal(
            batch[i].ledger.reset_index(drop=True),
            alone.ledger.reset_index(drop=True),
            check_exact=True,
        )
        paid = sum(cents for _, who, cents in investment_rows(alone) if who == "inv")
        assert paid <= s.investments[0].total


# ---------------------------------------------------------------------------------------------
# The resolved file
# ---------------------------------------------------------------------------------------------

RESOLVED = """\
name: every form
start: 2026-01-01
horizon: 2y
milestones:
  ipo: 2026-09-01  # assumed
  agi: null  # not reached
agents:
  inv: {kind: investor}
  lab: {kind: lab, cash: 1B, spending: {other: {annual: 6B}}}
deals:
  - kind: investment
    investor: inv
    lab: lab
    pre_money: 90B  # 2026-01-01 [C]
    round_size: 20B
    tranches:
      - {at: 2026-01-01, amount: 1B}
      - {at: 2026-10-01, amount: 2B, when: {milestone: ipo}}  # IPO [R]
  - kind: investment
    id: second
    investor: inv
    lab: lab
    post_money: 150B  # [R?]
    tranches:
      - {at: 2026-02-01, amount: 1B, when: {lab_cash_below: 2B}}
      - {at: 2026-03-01, amount: 1B, when: {milestone: agi}}
  - kind: investment
    id: third
    investor: inv
    lab: lab
    stake: 1.5%  # assumption
    tranches:
      - {at: 2026-04-01, amount: 3B, on: {lab_cash_below: 0.5B}}  # a backstop
      - {at: 2026-05-01, amount: 1B, on: {lab_cash_below: 1B, until: 2027-01-01}}
"""


def test_the_resolved_file_writes_valuations_conditions_and_milestones_and_reruns_the_same(
    tmp_path, capsys
) -> None:
    s = scenario(RESOLVED)
    text = resolved_yaml_with_sources(s)
    back = sim.parse_scenario(text, s.source or "")
    assert back == s
    assert back.resolved == s.resolved
    assert inputs_hash(back) == inputs_hash(s)
    deals = s.resolved["deals"]
    assert (deals[0]["pre_money"], deals[0]["round_size"]) == (90 * 10**9, 20 * 10**9)
    assert "stake" not in deals[0] and "post_money" not in deals[0]
    assert deals[1]["post_money"] == 150 * 10**9 and "pre_money" not in deals[1]
    assert deals[2]["stake"] == 0.015 and "pre_money" not in deals[2]
    assert deals[2]["tranches"][0]["on"] == {
        "lab_cash_below": 500_000_000,
        "until": dt.date(2028, 1, 1),  # the horizon's end, written out
    }
    assert s.resolved["milestones"] == {"ipo": dt.date(2026, 9, 1), "agi": None}
    for comment in ("deals.0.pre_money", "deals.2.stake", "milestones.ipo", "deals.0.tranches.1"):
        assert back.comments[comment] == s.comments[comment]
    # and from a run folder, by the command line
    path = tmp_path / "every.yaml"
    path.write_text(RESOLVED)
    code, first, _ = cli(capsys, "run", path, "--json", "--out", tmp_path / "run")
    assert code == 0
    again = tmp_path / "run" / "scenario.resolved.yaml"
    code, second, _ = cli(capsys, "run", again, "--json", "--out", tmp_path / "again")
    assert code == 0
    assert json.loads(first) | {"source": ""} == json.loads(second) | {"source": ""}


def test_a_file_without_conditions_resolves_as_before_with_no_milestones() -> None:
    s: Scenario = sim.parse_scenario(VALUED.format(valuation=""), "v.yaml")
    deal = s.resolved["deals"][0]
    assert not {"pre_money", "round_size", "post_money", "stake"} & set(deal)  # none stated
    assert s.resolved["milestones"] == {}
    assert deal["tranches"][0] == {"at": dt.date(2026, 1, 1), "amount": 5 * 10**9}


SAME_DAY = """\
name: two investors pay one lab on one day
start: 2026-01-01
horizon: 6mo
tracing: fifo
agents:
  a: {kind: investor, owns: [own]}
  b: {kind: investor}
  lab: {kind: lab, spending: {compute: {annual: 12B, providers: {own: 100%}}}}
  own: {kind: cloud, margin: 50%}
deals:
  - {kind: investment, investor: a, lab: lab, tranches: [{at: 2026-02-01, amount: 1B}]}
  - {kind: investment, investor: b, lab: lab, tranches: [{at: 2026-02-01, amount: 1B}]}
"""


def test_deals_paying_one_lab_on_one_day_keep_file_order_in_a_batch_as_alone() -> None:
    # FIFO spends a's $1B first (it came first), then b's; in a batch where another run pays a
    # earlier, a's Feb 1 event must still come before b's
    runs = [
        sim.parse_scenario(SAME_DAY, "same.yaml"),
        sim.parse_scenario(SAME_DAY, "same.yaml", {"deals.0.tranches.0.at": "2026-01-15"}),
    ]
    alone = sim.run(runs[0])
    to_own = alone.ledger[(alone.ledger.payer == "lab")]
    assert to_own["from:a:investment"].tolist() == [B, 0]  # Feb 1: a's $1B, Mar 1: b's
    assert to_own["from:b:investment"].tolist() == [0, B]
    batch = sim.run_batch(runs)
    assert_frame_equal(
        batch[0].ledger.reset_index(drop=True),
        alone.ledger.reset_index(drop=True),
        check_exact=True,
    )
