"""Margins per contract (sim/model/kinds/seller.py, ``ContractMargins``): what a lab pays under a
contract's take-or-pay minimum is profit at the contract's margin, the rest of its invoice at the
seller's; each part rounded to the cent on its own, paid now or later, in cash or in credits.
Figures worked by hand in the comments (docs/model.md, "Margins per contract")."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
import yaml

import sim
from sim.inputs.margins import margin_phrase

# One month, one step: the lab wants $1B of compute (12B a year / 12), all at AWS (35%, owned by
# Amazon). Its contract c15 has a minimum of $600,000,000.03 in that month at a margin of 15%;
# the other $399,999,999.97 is compute above the minimum, at AWS's 35%.
ONE_STEP = """
name: margins
start: 2026-01-01
horizon: 1mo
step: 1mo
agents:
  amazon: {kind: investor, owns: [aws]}
  lab: {kind: lab, cash: 10B, spending: {compute: {annual: 12B, providers: {aws: 100%}}}}
  aws: {kind: cloud, margin: 35%}
deals:
  - {kind: investment, investor: amazon, lab: lab, tranches: [{at: 2026-01-01, amount: 1B}]}
  - kind: compute_contract
    id: c15
    lab: lab
    cloud: aws
    total: 600000000.03
    over: 1mo
    margin: 15%
"""
# 15% x 60,000,000,003 cents = 9,000,000,000.45 -> 9,000,000,000
# 35% x 39,999,999,997 cents = 13,999,999,998.95 -> 13,999,999,999
CONTRACT_PROFIT = 9_000_000_000
ABOVE_PROFIT = 13_999_999_999
PROFIT = CONTRACT_PROFIT + ABOVE_PROFIT  # 22,999,999,999 cents
PAID = 100_000_000_000  # $1B, in cents


def data(text: str = ONE_STEP) -> dict[str, Any]:
    return yaml.safe_load(text)


def run(d: dict[str, Any], record: str = "ledger") -> sim.Result:
    return sim.run(sim.parse_scenario(yaml.safe_dump(d, sort_keys=False), "m.yaml"), record=record)


def rows(r: sim.Result, kind: str, payer: str | None = None) -> pd.DataFrame:
    led = r.ledger
    led = led[led.kind == kind]
    return led if payer is None else led[led.payer == payer]


def test_a_contract_at_15_percent_beside_compute_at_35_percent_is_each_part_at_its_margin() -> None:
    r = run(data())
    assert rows(r, "compute").amount_cents.sum() == PAID
    # profit: 9,000,000,000 + 13,999,999,999 = 22,999,999,999 cents, to Amazon
    assert rows(r, "profit", "aws").amount_cents.tolist() == [PROFIT]
    # its costs: 100,000,000,000 - 22,999,999,999 = 77,000,000,001 cents
    assert rows(r, "cloud_cost", "aws").amount_cents.tolist() == [PAID - PROFIT]
    assert r.check["balanced"]
    # without the contract's margin, all of it at 35%: 35,000,000,000 cents
    d = data()
    del d["deals"][1]["margin"]
    assert rows(run(d), "profit", "aws").amount_cents.tolist() == [35_000_000_000]


def test_the_same_invoice_paid_30_days_late_keeps_the_same_profit() -> None:
    # payment terms of 30 days: the invoice of 2026-02-01 is paid on 2026-03-03; a horizon of
    # 3 months holds that day. Later steps have no minimum (its term is one month): their
    # invoices are all at 35%, paid on other days.
    d = data()
    d["horizon"] = "3mo"
    d["deals"][1]["payment_terms"] = "30d"
    r = run(d)
    paid = rows(r, "compute")
    first = paid[paid.date == pd.Timestamp("2026-03-03")]
    assert first.amount_cents.tolist() == [PAID]
    profit = rows(r, "profit", "aws")
    assert profit[profit.date == pd.Timestamp("2026-03-03")].amount_cents.tolist() == [PROFIT]
    # the next invoice ($1B above no minimum, issued 2026-03-01, paid 2026-03-31): 35% of it
    assert profit[profit.date == pd.Timestamp("2026-03-31")].amount_cents.tolist() == [
        35_000_000_000
    ]
    assert r.check["balanced"]


def test_two_contracts_at_one_seller_each_keep_their_own_margin() -> None:
    # c15: $600,000,000.03 at 15% as above; c25: $200,000,000.01 at 25%; the rest of the $1B,
    # $199,999,999.96, above the minimums at 35%:
    #   15% x 60,000,000,003 = 9,000,000,000.45  -> 9,000,000,000
    #   25% x 20,000,000,001 = 5,000,000,000.25  -> 5,000,000,000
    #   35% x 19,999,999,996 = 6,999,999,998.6   -> 6,999,999,999
    #   profit 20,999,999,999 cents
    d = data()
    d["deals"].append(
        {
            "kind": "compute_contract",
            "id": "c25",
            "lab": "lab",
            "cloud": "aws",
            "total": "200000000.01",
            "over": "1mo",
            "margin": "25%",
        }
    )
    r = run(d)
    assert rows(r, "compute").amount_cents.sum() == PAID
    assert rows(r, "profit", "aws").amount_cents.sum() == 20_999_999_999
    assert r.check["balanced"]


@pytest.mark.parametrize("route", [{"share": "50%"}, {"share": "50%", "lead": "15d"}])
def test_a_supply_route_takes_its_share_of_the_costs_left_after_the_contracts_margin(
    route: dict[str, str],
) -> None:
    # AWS's costs on the first invoice are 100,000,000,000 - 22,999,999,999 = 77,000,000,001
    # cents; half of them buy chips from nvidia_chips (margin 60%, owned by Nvidia). Half of
    # 77,000,000,001 is 38,500,000,000.5: allocate rounds the running total half up, so the route
    # gets 38,500,000,001 and the rest (cloud_costs) 38,500,000,000. Nvidia's profit is 60% of
    # 38,500,000,001 = 23,100,000,000.6 -> 23,100,000,001 cents. At 35% on all of it AWS's costs
    # would be 65,000,000,000 and the route's half 32,500,000,000. With a lead the route is paid
    # ahead (with borrowed money) its part of the same costs; the invoice is paid 30 days late.
    d = data()
    d["horizon"] = "3mo"
    d["deals"][1]["payment_terms"] = "30d"
    d["agents"]["nvidia"] = {"kind": "investor", "owns": ["nvidia_chips"]}
    d["agents"]["nvidia_chips"] = {"kind": "vendor", "margin": "60%"}
    d["agents"]["aws"]["costs"] = {"nvidia_chips": route}
    r = run(d)
    supply = rows(r, "supply", "aws")  # the first step's invoice comes first
    assert supply.amount_cents.tolist()[0] == 38_500_000_001
    vendor = rows(r, "profit", "nvidia_chips")
    assert vendor.amount_cents.tolist()[0] == 23_100_000_001
    assert rows(r, "profit", "aws").amount_cents.tolist()[0] == PROFIT
    assert r.check["balanced"]


def test_credits_spent_on_a_minimum_are_profit_at_the_contracts_margin() -> None:
    # Amazon's $1B is half in credits on AWS: $500M of credits, drawn first on the minimum.
    #   credits: 15% x 50,000,000,000 = 7,500,000,000 (profit in kind)
    #   cash under the minimum: 15% x 10,000,000,003 = 1,500,000,000.45 -> 1,500,000,000
    #   cash above it: 35% x 39,999,999,997 -> 13,999,999,999 (as above)
    #   profit 22,999,999,999 cents, as when all is paid in cash
    d = data()
    d["deals"][0]["credits"] = {"on": "aws", "share": "50%"}
    r = run(d)
    kept = rows(r, "profit", "aws")
    assert sorted(kept.amount_cents.tolist()) == [7_500_000_000, 15_499_999_999]
    assert kept.amount_cents.sum() == PROFIT
    assert r.check["balanced"]


@pytest.mark.parametrize("terms", ["0d", "30d"])
def test_both_recorders_give_the_same_figures(terms: str) -> None:
    d = data()
    d["horizon"] = "3mo"
    d["deals"][1]["payment_terms"] = terms
    d["deals"][0]["credits"] = {"on": "aws", "share": "20%"}
    on_ledger = run(d, "ledger").metrics_dict()
    on_flows = run(d, "flows").metrics_dict()
    # the check says which recorder kept how many records; every figure is the same
    assert on_ledger.pop("check")["balanced"] and on_flows.pop("check")["balanced"]
    assert on_ledger == on_flows
    assert on_ledger["investors"]["amazon"]["relationship_profit"] > 0


def test_a_file_with_no_contract_margin_takes_the_fast_path() -> None:
    from sim.model.kinds.seller import ContractMargins
    from sim.model.schedule import build_plan

    d = data()
    del d["deals"][1]["margin"]
    s = sim.parse_scenario(yaml.safe_dump(d, sort_keys=False), "m.yaml")
    p = build_plan([s])
    assert ContractMargins.of(p, p.contracts, ["aws"]) is None


def test_the_margin_phrase_names_the_seller_its_margin_and_its_basis() -> None:
    d = data()
    d["agents"]["aws"]["label"] = "AWS"
    d["agents"]["oracle"] = {
        "kind": "cloud",
        "label": "Oracle",
        "margin": "20%",
        "margin_basis": "gross",
    }
    s = sim.parse_scenario(yaml.safe_dump(d, sort_keys=False), "m.yaml")
    assert margin_phrase(s, "aws") == "AWS's 35% operating margin"
    assert margin_phrase(s, "oracle") == "Oracle's 20% gross margin"
    assert margin_phrase(s, "aws", "c15") == "AWS's 15% operating margin on contract c15"
    with pytest.raises(ValueError, match="not a contract with oracle"):
        margin_phrase(s, "oracle", "c15")


def test_a_margin_basis_other_than_operating_or_gross_is_refused() -> None:
    d = data()
    d["agents"]["aws"]["margin_basis"] = "net"
    with pytest.raises(sim.ScenarioError, match="unknown margin basis 'net'"):
        sim.parse_scenario(yaml.safe_dump(d, sort_keys=False), "m.yaml")


def test_a_contracts_margin_is_a_margin_written_back_only_when_given() -> None:
    d = data()
    d["deals"][1]["margin"] = "100%"
    with pytest.raises(sim.ScenarioError, match=r"deals\.1\.margin: a margin must be at least 0%"):
        sim.parse_scenario(yaml.safe_dump(d, sort_keys=False), "m.yaml")
    given = sim.parse_scenario(ONE_STEP, "m.yaml")
    assert given.resolved["deals"][1]["margin"] == 0.15
    d = data()
    del d["deals"][1]["margin"]
    assert "margin" not in sim.parse_scenario(yaml.safe_dump(d), "m.yaml").resolved["deals"][1]


def test_a_contracts_margin_reaches_set_and_sweeps_with_no_code_of_their_own() -> None:
    # --set deals.1.margin=25%: 25% x 60,000,000,003 = 15,000,000,000.75 -> 15,000,000,001,
    # plus 13,999,999,999 above the minimum: 29,000,000,000 cents
    s = sim.parse_scenario(ONE_STEP, "m.yaml", ["deals.1.margin=25%"])
    assert rows(sim.run(s), "profit", "aws").amount_cents.tolist() == [29_000_000_000]
    # a batch of the two: each run its own contract margin, one plan (cents; its twins follow)
    runs = [sim.parse_scenario(ONE_STEP, "m.yaml", [f"deals.1.margin={m}"]) for m in ("15%", "25%")]
    batch = sim.run_batch(runs, record="flows")
    profit = batch.all_metrics.investors["amazon"]["relationship_profit"]
    assert profit[:2].tolist() == [PROFIT, 29_000_000_000]


def test_a_batch_whose_runs_differ_in_stating_a_contract_margin_is_refused() -> None:
    d = data()
    del d["deals"][1]["margin"]
    without = sim.parse_scenario(yaml.safe_dump(d, sort_keys=False), "m.yaml")
    with pytest.raises(ValueError, match="differs in structure"):
        sim.run_batch([sim.parse_scenario(ONE_STEP, "m.yaml"), without])
