"""The cap table (sim/analysis/captable.py; docs/metrics.md, "Cap table and dilution"): shares at
the start, rounds priced at their pre-money per share, tranches issued at their round's price,
equity raised by the financing rule issued at its valuation; stakes announced, at close and at
the end, and stake values at the latest price. Read only: no money moves differently."""

from __future__ import annotations

from typing import Any

import pytest

import sim
from sim.analysis.captable import stake_lines
from sim.errors import ScenarioError

# Three rounds into one lab of 1,000,000 shares, each deal its own round (pre_money stated):
#   early: $25M at $100M pre on 2026-01-01 -> price $100M / 1,000,000 = $100.00 a share
#   up:    $50M at $250M pre on 2026-07-01 -> above early's entry price
#   down:  $25M at  $75M pre on 2027-01-01 -> below it
# The lab has $1B of cash and spends nothing: no financing, nothing but the rounds moves.
ROUNDS = """\
name: cap table
start: 2026-01-01
horizon: 2y
agents:
  early: {kind: investor}
  up: {kind: investor}
  down: {kind: investor}
  lab: {kind: lab, cash: 1B, shares: 1000000}
deals:
  - {kind: investment, investor: early, lab: lab, pre_money: 100M,
     tranches: [{at: 2026-01-01, amount: 25M}]}
  - {kind: investment, investor: up, lab: lab, pre_money: 250M,
     tranches: [{at: 2026-07-01, amount: 50M}]}
  - {kind: investment, investor: down, lab: lab, pre_money: 75M,
     tranches: [{at: 2027-01-01, amount: 25M}]}
"""
# the same without the down round
UP_ONLY = ROUNDS[: ROUNDS.index("  - {kind: investment, investor: down")]

# A lab of 1,000,000 shares: early pays $25M at $100M pre on 2026-01-01 ($100.00 a share, 250,000
# shares, 20%). The lab spends $10M a month and keeps a floor of $100M, so on the first step's
# end (2026-02-01) it raises 10M + 100M - cash, cut to its limit: exactly $10M, once.
RAISE = """\
name: raise
start: 2026-01-01
horizon: 1y
agents:
  early: {kind: investor}
  lab:
    kind: lab
    shares: 1000000
    revenue: {annual: 12M}
    spending: {other: {annual: 120M}}
    financing: {source: markets, kind: equity, floor: 100M, limit: 10M}
deals:
  - {kind: investment, investor: early, lab: lab, pre_money: 100M,
     tranches: [{at: 2026-01-01, amount: 25M}]}
"""
REL = 1e-12


def run(text: str, record: str = "ledger", **overrides: Any) -> sim.Result:
    return sim.run(sim.parse_scenario(text, "t.yaml", overrides or None), record=record)


def figures(r: sim.Result, investor: str) -> dict[str, Any]:
    return r.metrics_dict()["investors"][investor]


# ---- two rounds, above and below an earlier holder's entry price ------------------------------


def test_a_round_above_the_entry_price_dilutes_the_stake_and_raises_its_value() -> None:
    # start: 1,000,000 shares
    # early: $25M / $100.00 = 250,000 shares -> 1,250,000; stake 250,000 / 1,250,000 = 20%
    # up: price $250M / 1,250,000 = $200.00; $50M / $200 = 250,000 shares -> 1,500,000
    # early at the end: 250,000 / 1,500,000 = 16.67%, worth 250,000 x $200 = $50M (paid $25M)
    e, u = figures(r := run(UP_ONLY), "early"), figures(r, "up")
    assert e["stake_at_announcement"] == pytest.approx(0.20, rel=REL)  # 25 / (100 + 25)
    assert e["stake_at_close"] == pytest.approx(0.20, rel=REL)
    assert e["stake_at_end"] == pytest.approx(250_000 / 1_500_000, rel=REL)
    assert e["shares_held"] == pytest.approx(250_000, rel=REL)
    assert e["latest_price"] == pytest.approx(200.0, rel=REL)
    assert e["stake_value_diluted"] == 50_000_000.0
    assert u["stake_at_close"] == pytest.approx(250_000 / 1_500_000, rel=REL)  # 50 / (250 + 50)
    lab = r.metrics_dict()["labs"]["lab"]
    assert lab["shares_outstanding_start"] == 1_000_000
    assert lab["shares_outstanding_end"] == pytest.approx(1_500_000, rel=REL)
    # the stake the model had before is unchanged: $25M / $125M post-money = 20%
    assert e["stake"] == pytest.approx(0.20, rel=REL)


def test_a_round_below_the_entry_price_lowers_the_earlier_holders_stake_value() -> None:
    # after up (1,500,000 shares at $200.00), down: price $75M / 1,500,000 = $50.00;
    # $25M / $50 = 500,000 shares -> 2,000,000
    # early: 250,000 / 2,000,000 = 12.5%, worth 250,000 x $50 = $12.5M: below the $50M after
    #   the up round and below the $25M it paid
    # up: 250,000 / 2,000,000 = 12.5%, worth $12.5M (paid $50M)
    # down: 500,000 / 2,000,000 = 25% at close and at the end, worth $25M
    r = run(ROUNDS)
    e, u, d = figures(r, "early"), figures(r, "up"), figures(r, "down")
    assert e["stake_at_close"] == pytest.approx(0.20, rel=REL)
    assert e["stake_at_end"] == pytest.approx(0.125, rel=REL)
    assert e["latest_price"] == pytest.approx(50.0, rel=REL)
    assert e["stake_value_diluted"] == 12_500_000.0
    assert e["stake_value_diluted"] < figures(run(UP_ONLY), "early")["stake_value_diluted"]
    assert u["stake_at_end"] == pytest.approx(0.125, rel=REL)
    assert u["stake_value_diluted"] == 12_500_000.0
    assert d["stake_at_announcement"] == pytest.approx(0.25, rel=REL)  # 25 / (75 + 25)
    assert d["stake_at_close"] == pytest.approx(0.25, rel=REL)
    assert d["stake_at_end"] == pytest.approx(0.25, rel=REL)
    assert d["stake_value_diluted"] == 25_000_000.0
    assert r.metrics_dict()["labs"]["lab"]["shares_outstanding_end"] == pytest.approx(2_000_000)
    # beside it, the latest round's post-money: $75M + $25M = $100M
    assert e["latest_post_money"] == 100_000_000.0


def test_without_shares_the_first_priced_round_is_priced_at_one_dollar() -> None:
    # no shares stated: early's round, $100M pre, sets 100,000,000 shares at $1.00
    # up: $250M / 125,000,000 = $2.00; down: $75M / 150,000,000 = $0.50
    # early: 25,000,000 / 200,000,000 = 12.5% at the end, as with shares stated
    r = run(ROUNDS.replace(", shares: 1000000", ""))
    e = figures(r, "early")
    assert r.metrics_dict()["labs"]["lab"]["shares_outstanding_start"] == 100_000_000
    assert e["shares_held"] == pytest.approx(25_000_000, rel=REL)
    assert e["latest_price"] == pytest.approx(0.5, rel=REL)
    assert e["stake_at_end"] == pytest.approx(0.125, rel=REL)
    assert e["stake_value_diluted"] == 12_500_000.0


# ---- equity raised by the financing rule -------------------------------------------------------


def test_equity_raised_at_a_fixed_valuation_dilutes_a_holder() -> None:
    # 2026-02-01: $10M raised at $150M pre-money: price $150M / 1,250,000 = $120.00,
    # $10M / $120 = 83,333.33 shares -> 1,333,333.33
    # early: 250,000 / 1,333,333.33 = 18.75% (= 20% x 150 / 160), worth 250,000 x $120 = $30M
    r = run(RAISE, **{"agents.lab.financing.valuation": "150M"})
    e = figures(r, "early")
    assert r.metrics_dict()["labs"]["lab"]["raised"] == 10_000_000.0
    assert e["stake_at_close"] == pytest.approx(0.20, rel=REL)  # closed before the raise
    assert e["stake_at_end"] == pytest.approx(0.1875, rel=REL)
    assert e["latest_price"] == pytest.approx(120.0, rel=REL)
    assert e["stake_value_diluted"] == 30_000_000.0
    assert e["equity_raised_after_close"] == 10_000_000.0
    lines = stake_lines(r.scenario, "early", e)
    assert [" ".join(line.split()) for line in lines[:2]] == [
        "stake at end 18.75% 20.00% announced, 20.00% at close",
        "diluted by $0.01B of equity raised after its close, at a $0.15B pre-money valuation",
    ]


def test_equity_raised_at_a_revenue_multiple_dilutes_a_holder() -> None:
    # revenue $12M a year: $1M a month. On 2026-02-01 the trailing twelve months hold one
    # month (the run started 2026-01-01): $1M; x 150 = $150M pre-money, as above
    r = run(RAISE, **{"agents.lab.financing.valuation": {"revenue_multiple": 150}})
    e = figures(r, "early")
    assert e["stake_at_end"] == pytest.approx(0.1875, rel=REL)
    assert e["latest_price"] == pytest.approx(120.0, rel=REL)
    assert e["stake_value_diluted"] == 30_000_000.0
    # by calendar year: 2026's $150M applies (2025's does not)
    r = run(RAISE, **{"agents.lab.financing.valuation": {2025: "1B", 2026: "150M"}})
    assert figures(r, "early")["stake_at_end"] == pytest.approx(0.1875, rel=REL)


def test_equity_raised_with_no_valuation_is_issued_at_the_latest_price() -> None:
    # no valuation: at early's round's $100.00: $10M / $100 = 100,000 shares -> 1,350,000
    # early: 250,000 / 1,350,000 = 18.52%, worth 250,000 x $100 = $25M
    e = figures(run(RAISE), "early")
    assert e["stake_at_end"] == pytest.approx(250_000 / 1_350_000, rel=REL)
    assert e["latest_price"] == pytest.approx(100.0, rel=REL)
    assert e["stake_value_diluted"] == 25_000_000.0


def test_the_cap_table_moves_no_money() -> None:
    # the same raise at any valuation: the same books, only the cap table differs
    a = run(RAISE).metrics_dict()
    b = run(RAISE, **{"agents.lab.financing.valuation": "150M"}).metrics_dict()
    for key in ("invested", "stake", "net_cost", "pv_invested"):
        assert a["investors"]["early"][key] == b["investors"]["early"][key]
    assert a["labs"]["lab"]["cash_end"] == b["labs"]["lab"]["cash_end"]


# ---- recorders and batches ---------------------------------------------------------------------


def test_both_recorders_give_the_same_cap_table() -> None:
    for text in (ROUNDS, RAISE):
        ledger, flows = run(text).metrics_dict(), run(text, record="flows").metrics_dict()
        assert ledger["investors"] == flows["investors"]
        assert ledger["labs"] == flows["labs"]


def test_a_batch_gives_each_run_its_cap_table_alone() -> None:
    values = ("150M", None, {"revenue_multiple": 300})
    scenarios = [
        sim.parse_scenario(RAISE, "t.yaml", {"agents.lab.financing.valuation": v} if v else None)
        for v in values
    ]
    batch = sim.run_batch(scenarios, record="flows")
    for k, s in enumerate(scenarios):
        alone = sim.run(s, record="flows").metrics_dict()
        assert batch[k].metrics_dict()["investors"] == alone["investors"]
        assert batch[k].metrics_dict()["labs"] == alone["labs"]
    ends = [batch[k].metrics_dict()["investors"]["early"]["stake_at_end"] for k in range(3)]
    # $300M pre: $240.00 a share, 41,666.67 shares: 250,000 / 1,291,666.67 = 19.35%
    assert ends == pytest.approx([0.1875, 250_000 / 1_350_000, 250_000 / (1_250_000 + 125_000 / 3)])


# ---- inputs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("agents.lab.shares", 1.5, "expected a whole number of shares above 0"),
        ("agents.lab.shares", 0, "expected a whole number of shares above 0"),
        ("agents.lab.financing.valuation", "-1M", "must be more than zero"),
        ("agents.lab.financing.valuation", {"revenue_multipel": 2}, "did you mean"),
        ("agents.lab.financing.valuation", {"revenue_multiple": 0}, "above 0 and at most 1000"),
        ("agents.lab.financing.valuation", {1800: "1B"}, "a year must be from 1900 to 2199"),
    ],
)
def test_bad_inputs_are_refused_with_what_is_accepted(key: str, value: Any, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        sim.parse_scenario(RAISE, "t.yaml", {key: value})


def test_a_valuation_on_debt_is_refused() -> None:
    overrides = {
        "agents.lab.financing.kind": "debt",
        "agents.lab.financing.rate": "5%",
        "agents.lab.financing.valuation": "1B",
    }
    with pytest.raises(ScenarioError, match="a financing rule of kind debt takes none"):
        sim.parse_scenario(RAISE, "t.yaml", overrides)


def test_the_new_inputs_are_written_back_as_given() -> None:
    from sim.inputs.resolved import resolved_yaml_with_sources

    for value, written in (
        ("150M", "valuation: 150000000"),
        ({"revenue_multiple": 20}, "revenue_multiple: 20"),
        ({2027: "1T"}, "2027: 1000000000000"),
    ):
        s = sim.parse_scenario(RAISE, "t.yaml", {"agents.lab.financing.valuation": value})
        text = resolved_yaml_with_sources(s)
        assert written in text
        assert "shares: 1000000" in text
        again = sim.parse_scenario(text, "r.yaml")
        assert again.labs["lab"].financing.valuation == s.labs["lab"].financing.valuation


def test_the_json_schema_accepts_each_form_of_a_valuation() -> None:
    import json

    import jsonschema
    import yaml

    from sim.inputs.jsonschema import scenario_schema

    schema = scenario_schema()
    for value in ("150M", 150_000_000, {2026: "150M"}, {"revenue_multiple": 20}):
        # as an editor reads the file: dates and keys as text
        doc = json.loads(json.dumps(yaml.safe_load(RAISE), default=str))
        doc["agents"]["lab"]["financing"]["valuation"] = (
            {str(k): v for k, v in value.items()} if isinstance(value, dict) else value
        )
        jsonschema.validate(doc, schema)
    doc["agents"]["lab"]["financing"]["valuation"] = {"revenue_multipel": 20}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema)
