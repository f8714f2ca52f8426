"""Circuits: sellers that route their costs to other sellers, vendors owned by investors, and
dollars traced through every hop (sim/sellers.py). Figures computed by hand in the comments."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml

import sim
from sim.errors import ScenarioError

# Nvidia invests $1B in OpenAI, which has no other cash and spends it all at the first step's
# end (its compute demand is $1B a month): half at Oracle (the provider share s = 50%), half
# outside the model. Oracle keeps its margin m = 20% and pays the rest as costs, of which a
# share v = 30% buys Nvidia systems (the vendor nvidia_chips, which Nvidia owns, margin 60%).
TWO_HOPS: dict[str, Any] = {
    "name": "two hops",
    "start": dt.date(2026, 1, 1),
    "horizon": "1y",
    "step": "1mo",
    "agents": {
        "nvidia": {"kind": "investor", "owns": ["nvidia_chips"]},
        "openai": {
            "kind": "lab",
            "spending": {"compute": {"annual": "12B", "providers": {"oracle": "50%"}}},
        },
        "oracle": {"kind": "cloud", "margin": "20%", "costs": {"nvidia_chips": "30%"}},
        "nvidia_chips": {"kind": "vendor", "margin": "60%"},
    },
    "deals": [
        {
            "kind": "investment",
            "investor": "nvidia",
            "lab": "openai",
            "tranches": [{"at": dt.date(2026, 1, 1), "amount": "1B"}],
        }
    ],
}


def scenario(data: dict[str, Any], **overrides: Any) -> sim.Scenario:
    return sim.parse_scenario(yaml.safe_dump(data, sort_keys=False), "circuit.yaml", overrides)


def with_costs(costs: Any, **agents: Any) -> dict[str, Any]:
    data = yaml.safe_load(yaml.safe_dump(TWO_HOPS, sort_keys=False))
    data["agents"]["oracle"]["costs"] = costs
    data["agents"].update(agents)
    return data


@pytest.mark.parametrize("tracing", ["pro_rata", "fifo"])
def test_the_vendor_investors_round_trip_is_invested_times_share_times_cost_times_route(
    tracing: str,
) -> None:
    r = sim.run(scenario(TWO_HOPS, tracing=tracing))
    m = r.metrics.loc["nvidia"]
    # 1B x s (50%) x (1 - m) (80%) x v (30%) = $120M, all of it Nvidia's own dollars
    assert m.round_trip == 120_000_000
    assert m.round_trip_via_others == 120_000_000
    assert m.round_trip_own_cloud == 0 and m.round_trip_own_vendor == 0
    assert m.round_trip_ratio == pytest.approx(0.12)
    # the vendor keeps 60% of the $120M as profit, swept to Nvidia: $72M
    assert m.relationship_profit == 72_000_000 and m.round_trip_profit == 72_000_000
    led = r.ledger
    supply = led[led.kind == "supply"]
    assert supply[["payer", "payee"]].values.tolist() == [["oracle", "nvidia_chips"]]
    assert supply.amount_cents.tolist() == [12_000_000_000]
    # Oracle's other costs leave the model: $500M x 80% x 70% = $280M; the vendor's 40% of
    # $120M goes to vendor_costs
    costs = led[led.kind == "cloud_cost"].set_index("payer").amount_cents
    assert costs.to_dict() == {"oracle": 28_000_000_000, "nvidia_chips": 4_800_000_000}
    assert r.check["balanced"]


def test_the_twin_counts_what_the_vendor_sells_because_of_the_investment() -> None:
    # without the investment OpenAI has no cash and buys nothing: every sale is caused
    m = sim.run(scenario(TWO_HOPS)).metrics.loc["nvidia"]
    assert m.incremental_revenue == 120_000_000
    assert m.incremental_revenue_via_others == 120_000_000
    assert m.incremental_profit == 72_000_000


def test_with_the_capex_a_quarter_later_the_round_trip_is_the_same_and_arrives_later() -> None:
    data = with_costs({"nvidia_chips": {"share": "30%", "lag": "3mo"}})
    r = sim.run(scenario(data))
    m = r.metrics.loc["nvidia"]
    assert m.round_trip == 120_000_000 and m.incremental_revenue == 120_000_000
    led = r.ledger
    paid = led[(led.kind == "compute") & (led.payee == "oracle")].date.dt.date.tolist()
    supply = led[led.kind == "supply"]
    assert paid == [dt.date(2026, 2, 1)]
    assert supply.date.dt.date.tolist() == [dt.date(2026, 5, 1)]  # three months after the sale
    assert supply["from:nvidia:investment"].tolist() == [12_000_000_000]
    # in between, Oracle holds the $120M, still tagged as Nvidia's money, beside its own $100M
    # of profit (20% of $500M: no investor owns Oracle, so it keeps it)
    bal = r.balances
    held = bal[
        (bal.account == "oracle")
        & (bal.origin == "nvidia:investment")
        & (bal.date.dt.date == dt.date(2026, 4, 1))
    ]
    assert held.cents.tolist() == [22_000_000_000]
    assert r.check["balanced"]


def test_a_route_falling_due_after_the_horizon_stays_with_the_seller() -> None:
    data = with_costs({"nvidia_chips": {"share": "30%", "lag": "2y"}})
    r = sim.run(scenario(data))
    assert r.metrics.loc["nvidia"].round_trip == 0
    bal = r.balances
    last = bal[(bal.date == bal.date.max()) & (bal.account == "oracle")]
    assert last.cents.sum() == 22_000_000_000  # its $100M of profit and the $120M held


def test_rounding_at_every_hop_keeps_each_cent_and_its_origin() -> None:
    # $1,000,000.01 at 33.33%, 17.77% margin, 41.41% to the vendor: cumulative rounding at each
    # hop, and the books still balance; the round trip is the formula to within a cent a hop
    data = with_costs({"nvidia_chips": "41.41%"})
    data["deals"][0]["tranches"][0]["amount"] = "1000000.01"
    data["agents"]["oracle"]["margin"] = "17.77%"
    data["agents"]["openai"]["spending"]["compute"]["providers"] = {"oracle": "33.33%"}
    r = sim.run(scenario(data))
    exact = 100_000_001 * 0.3333 * (1 - 0.1777) * 0.4141 / 100
    assert abs(r.metrics.loc["nvidia"].round_trip - exact) <= 0.03
    assert r.check["balanced"]


def test_a_chain_of_three_sellers_passes_the_origin_on_each_hop() -> None:
    # oracle -> nvidia_chips (30%) -> tsmc (50% of the vendor's costs): $120M reaches the
    # vendor, 40% of it is cost, half of that ($24M) reaches tsmc, owned by a second investor
    data = with_costs(
        {"nvidia_chips": "30%"},
        tsmc={"kind": "vendor", "margin": "50%"},
        tsmc_owner={"kind": "investor", "owns": ["tsmc"]},
    )
    data["agents"]["nvidia_chips"]["costs"] = {"tsmc": "50%"}
    r = sim.run(scenario(data))
    led = r.ledger
    to_tsmc = led[(led.kind == "supply") & (led.payee == "tsmc")]
    assert to_tsmc.amount_cents.tolist() == [2_400_000_000]
    assert to_tsmc["from:nvidia:investment"].tolist() == [2_400_000_000]
    profit = led[(led.kind == "profit") & (led.payee == "tsmc_owner")].amount_cents.sum()
    assert profit == 1_200_000_000
    assert r.metrics.loc["nvidia"].round_trip == 120_000_000  # Nvidia's own path is unchanged


@pytest.mark.parametrize(
    ("costs", "agents", "message"),
    [
        ({"oracle": "10%"}, {}, "routes its costs to itself"),
        ({"nvidia_chip": "10%"}, {}, "no agent named 'nvidia_chip'"),
        ({"openai": "10%"}, {}, "'openai' is a lab, not a cloud or a vendor"),
        (
            {"nvidia_chips": "80%", "amd": "30%"},
            {"amd": {"kind": "vendor", "margin": "0.5"}},
            "the cost shares sum to 110%",
        ),  # fmt: skip
        (
            {"nvidia_chips": "10%"},
            {"nvidia_chips": {"kind": "vendor", "margin": "0.6", "costs": {"oracle": "5%"}}},
            "go round in a loop (oracle -> nvidia_chips -> oracle)",
        ),  # fmt: skip
        ({"nvidia_chips": {"share": "10%", "lag": "soon"}}, {}, "lag"),
        (
            {"nvidia_chips": {"share": "10%", "lag": "1mo", "lead": "1mo"}},
            {},
            "has both a lag and a lead",
        ),  # fmt: skip
        (
            {"nvidia_chips": {"share": "10%", "lead": "1mo"}},
            {},
            "'oracle' is paid at once (payment_terms 0d",
        ),  # fmt: skip
    ],
)
def test_bad_cost_routes_are_refused_with_one_clear_message(
    costs: Any, agents: dict[str, Any], message: str
) -> None:
    with pytest.raises(ScenarioError) as err:
        scenario(with_costs(costs, **agents))
    assert message in str(err.value)
    assert "circuit.yaml:" in str(err.value)


# A lead: capex bought ahead of the revenue it serves. The lab (never short of cash) buys 1B a
# month at Oracle, invoiced at each step's end and paid 90 days later; Oracle (margin 20%) pays
# half its costs to Nvidia's vendor two months before each invoice falls due, with money it
# borrows from capex_funding, and repays that when it is paid. By hand, over 2026:
#   each route part: 50% x 80% x 1B = 0.4B; the vendor keeps 60% of it (0.24B) for Nvidia.
#   invoices issued Feb 1 .. Jan 1 2027 (12); due 90 days later: those issued Feb 1 .. Oct 1
#   fall due within the horizon (9B paid); Nov 1, Dec 1 and Jan 1's do not (3B owed).
#   paid ahead on due - 2 months, never before the invoice is issued: Mar 2, Mar 30, Apr 30,
#   May 30, Jun 30, Jul 29, Aug 30, Sep 30, Oct 30, Nov 30 and Jan 1 2027 (Dec 1's invoice, due
#   Mar 1 2027); Jan 1 2027's would be paid Feb 1 2027, after the horizon: 11 x 0.4B = 4.4B lent.
#   repaid from the 9 invoices paid: 3.6B; still owed to capex_funding: 0.8B.
LEAD = """\
name: lead
start: 2026-01-01
horizon: 1y
step: 1mo
agents:
  nvidia: {kind: investor, owns: [nvidia_chips]}
  lab: {kind: lab, cash: 100B, spending: {compute: {annual: 12B, providers: {oracle: 100%}}}}
  oracle:
    kind: cloud
    margin: 20%
    payment_terms: 90d
    costs: {nvidia_chips: {share: 50%, lead: 2mo}}
  nvidia_chips: {kind: vendor, margin: 60%}
deals:
  - {kind: investment, investor: nvidia, lab: lab, tranches: [{at: 2026-01-01, amount: 6B}]}
"""


@pytest.mark.parametrize("tracing", ["pro_rata", "fifo"])
def test_a_lead_pays_the_vendor_ahead_with_borrowed_money_repaid_when_the_invoice_is_paid(
    tracing: str,
) -> None:
    r = sim.run(sim.parse_scenario(LEAD, "lead.yaml", [f"tracing={tracing}"]))
    led = r.ledger
    supply = led[led.kind == "supply"]
    days = ["03-02", "03-30", "04-30", "05-30", "06-30", "07-29", "08-30", "09-30", "10-30"]
    want = [dt.date.fromisoformat(f"2026-{d}") for d in [*days, "11-30"]] + [dt.date(2027, 1, 1)]
    assert [d.date() for d in supply.date] == want
    assert supply.amount_cents.tolist() == [40_000_000_000] * 11
    assert (supply["from:oracle:capex"] == supply.amount_cents).all()  # borrowed dollars
    lent = led[led.kind == "capex_loan"]
    repaid = led[led.kind == "capex_repaid"]
    assert (lent.payer == "capex_funding").all() and lent.amount_cents.sum() == 44 * 10**10
    assert (repaid.payee == "capex_funding").all() and repaid.amount_cents.sum() == 36 * 10**10
    bs = r.matrices().balance_sheet
    assert bs.cell(("debt", "oracle-capex"), "capex_funding") == 8 * 10**10
    assert bs.cell(("debt", "oracle-capex"), "oracle") == -8 * 10**10
    assert bs.cell(("invoice owed", "lab-oracle-compute"), "oracle") == 3 * 10**11
    # the vendor was paid with Oracle's borrowed money, not Nvidia's: no traced round trip
    m = r.metrics.loc["nvidia"]
    assert m.round_trip == 0 and m.spend_on_own_cloud == 4.4e9
    assert r.check["balanced"] is True


def test_without_a_lead_the_same_file_pays_the_vendor_when_oracle_is_paid() -> None:
    r = sim.run(sim.parse_scenario(LEAD.replace("lead: 2mo", "lag: 0d"), "lag.yaml"))
    supply = r.ledger[r.ledger.kind == "supply"]
    assert len(supply) == 9 and supply.date.iloc[0].date() == dt.date(2026, 5, 2)  # Feb 1 + 90 days
    assert not (r.ledger.kind == "capex_loan").any()
    assert "capex_funding" not in r.data.plan.accounts  # no lead: the layout of before


def test_an_investor_may_own_a_vendor_and_only_one_investor_may() -> None:
    data = with_costs({"nvidia_chips": "30%"}, other={"kind": "investor", "owns": ["nvidia_chips"]})
    with pytest.raises(ScenarioError, match="already owned by 'nvidia'"):
        scenario(data)


def test_a_lab_may_buy_from_a_vendor_directly() -> None:
    data = with_costs({})
    data["agents"]["openai"]["spending"]["compute"]["providers"] = {"nvidia_chips": "20%"}
    m = sim.run(scenario(data)).metrics.loc["nvidia"]
    assert m.round_trip == 200_000_000 and m.round_trip_own_vendor == 200_000_000


# ---- credits -----------------------------------------------------------------------------------

# Microsoft puts $1B into OpenAI, all of it in Azure credits; OpenAI has no cash and buys half
# its compute ($1B a month) at Azure (margin 40%), so it uses $500M of credits at each of the
# first two steps' ends.
CREDITS: dict[str, Any] = {
    "name": "all in credits",
    "start": dt.date(2026, 1, 1),
    "horizon": "1y",
    "step": "1mo",
    "agents": {
        "microsoft": {"kind": "investor", "owns": ["azure"]},
        "openai": {
            "kind": "lab",
            "spending": {"compute": {"annual": "12B", "providers": {"azure": "50%"}}},
        },
        "azure": {"kind": "cloud", "margin": "40%"},
    },
    "deals": [
        {
            "kind": "investment",
            "investor": "microsoft",
            "lab": "openai",
            "credits": {"on": "azure"},
            "tranches": [{"at": dt.date(2026, 1, 1), "amount": "1B"}],
        }
    ],
}


@pytest.mark.parametrize("tracing", ["pro_rata", "fifo"])
def test_an_investment_wholly_in_credits_moves_no_cash_out_of_the_investor(tracing: str) -> None:
    r = sim.run(scenario(CREDITS, tracing=tracing))
    led = r.ledger
    # nothing is drawn from funding for Microsoft, nothing paid by it but redemptions
    assert led[led.payee == "microsoft"].kind.unique().tolist() == ["profit"]
    assert led[led.payer == "microsoft"].kind.unique().tolist() == ["credit_use"]
    assert not (
        (led.kind == "investment") | (led.kind == "funding") & (led.payee == "microsoft")
    ).any()
    m = r.metrics.loc["microsoft"]
    assert m.invested == 1e9 and m.invested_credits == 1e9
    # the round trip is reported as credits consumed, apart from cash returned (none)
    assert m.credits_consumed == 1e9 and m.round_trip == 0
    assert m.profit_in_kind == 400_000_000  # Azure's 40% on $1B of compute paid in credits
    lab = r.lab_metrics.loc["openai"]
    assert lab.compute_in_credits == 1e9 and lab.compute_spend == 0 and lab.credits_unused == 0
    # Azure pays its costs on them in cash, its own money: $600M to cloud_costs
    costs = led[led.kind == "cloud_cost"]
    assert costs.amount_cents.sum() == 60_000_000_000
    assert (costs["from:azure:cash"] == costs.amount_cents).all()
    assert r.check["balanced"]


def test_credits_are_drawn_before_cash_and_what_is_left_stays_unused() -> None:
    # $3B, 40% in credits ($1.2B): OpenAI's $1.8B of cash pays the other half of its demand and
    # Azure's part once the credits run out
    data = yaml.safe_load(yaml.safe_dump(CREDITS, sort_keys=False))
    data["deals"][0]["credits"] = {"on": "azure", "share": "40%"}
    data["deals"][0]["tranches"][0]["amount"] = "3B"
    data["horizon"] = "2mo"  # two steps: $1B of Azure demand, $1.2B of credits
    r = sim.run(scenario(data))
    m, lab = r.metrics.loc["microsoft"], r.lab_metrics.loc["openai"]
    assert m.invested == 3e9 and m.invested_credits == 1.2e9
    assert m.credits_consumed == 1e9 and lab.credits_unused == 200_000_000
    assert m.round_trip == 0  # Azure was paid wholly in credits: no cash of Microsoft's came back
    assert lab.compute_in_credits == 1e9 and lab.compute_spend == 1e9  # other_compute, in cash
    # the stake and the PV count the credits at face; the profit in kind lowers the net cost
    assert m.pv_invested == 3e9


def test_credits_need_a_cloud_the_investor_owns_and_the_lab_buys_from() -> None:
    data = yaml.safe_load(yaml.safe_dump(CREDITS, sort_keys=False))
    data["agents"]["microsoft"]["owns"] = []
    with pytest.raises(ScenarioError, match="'microsoft' does not own 'azure'"):
        scenario(data)
    data = yaml.safe_load(yaml.safe_dump(CREDITS, sort_keys=False))
    data["agents"]["openai"]["spending"]["compute"]["providers"] = {}
    with pytest.raises(ScenarioError, match="'openai' buys nothing from 'azure'"):
        scenario(data)


# ---- revenue shares ----------------------------------------------------------------------------

SHARE: dict[str, Any] = {
    "name": "revenue share",
    "start": dt.date(2026, 1, 1),
    "horizon": "1y",
    "step": "1mo",
    "agents": {
        "microsoft": {"kind": "investor", "owns": ["azure"]},
        "openai": {"kind": "lab", "revenue": {"annual": "12B"}},
        "azure": {"kind": "cloud", "margin": "40%"},
    },
    "deals": [
        {
            "kind": "investment",
            "investor": "microsoft",
            "lab": "openai",
            "tranches": [{"at": dt.date(2026, 1, 1), "amount": "1B"}],
        },
        {"kind": "revenue_share", "investor": "microsoft", "lab": "openai", "share": "20%"},
    ],
}


def test_a_revenue_share_pays_its_share_of_each_steps_revenue_and_lowers_the_net_cost() -> None:
    r = sim.run(scenario(SHARE))
    m = r.metrics.loc["microsoft"]
    # $1B of revenue a month, 20% of it: $200M a month, $2.4B over the year
    led = r.ledger
    paid = led[led.kind == "revenue_share"]
    assert paid.amount_cents.tolist() == [20_000_000_000] * 12
    assert m.revenue_share == 2.4e9 and m.incremental_revenue_share == 2.4e9
    # the twin runs without the investor's revenue shares: all of it is caused; net cost is
    # PV invested less the PV of what it brought in
    assert m.net_cost == pytest.approx(m.pv_invested - m.pv_incremental_revenue_share, abs=0.01)
    assert 2.3e9 < m.pv_incremental_revenue_share < 2.4e9
    assert r.check["balanced"]


def test_a_revenue_share_stops_at_its_cap_and_outside_its_window() -> None:
    data = yaml.safe_load(yaml.safe_dump(SHARE, sort_keys=False))
    data["deals"][1] |= {"cap": "500M", "start": dt.date(2026, 3, 1)}
    paid = sim.run(scenario(data)).ledger.query("kind == 'revenue_share'")
    # steps ending after March 1: $200M on Apr 1 and May 1, then the last $100M of the cap
    assert paid.amount_cents.tolist() == [20_000_000_000, 20_000_000_000, 10_000_000_000]
    assert paid.date.dt.date.tolist() == [
        dt.date(2026, 4, 1),
        dt.date(2026, 5, 1),
        dt.date(2026, 6, 1),
    ]


def test_bad_revenue_shares_are_refused() -> None:
    data = yaml.safe_load(yaml.safe_dump(SHARE, sort_keys=False))
    data["deals"][1]["share"] = "120%"
    with pytest.raises(ScenarioError, match="deals.1.share"):
        scenario(data)
    data["deals"][1] |= {"share": "10%", "until": dt.date(2025, 1, 1)}
    with pytest.raises(ScenarioError, match="outside the horizon"):
        scenario(data)
    data["deals"][1] |= {"until": None, "lab": "azure"}
    with pytest.raises(ScenarioError, match="'azure' is a cloud, not a lab"):
        scenario(data)


# ---- when, by path -------------------------------------------------------------------------------


def test_the_paths_series_says_when_each_path_brought_the_money_back() -> None:
    data = with_costs({"nvidia_chips": {"share": "30%", "lag": "3mo"}})
    series = sim.run(scenario(data)).paths_series()
    via = series[(series.investor == "nvidia") & (series.path == "via_others")]
    # the capex reaches Nvidia's vendor a quarter after OpenAI paid Oracle: all $120M on May 1
    assert via.date.dt.date.tolist() == [dt.date(2026, 5, 1)]
    assert via[["sales", "twin", "caused", "traced"]].iloc[0].tolist() == [1.2e8, 0, 1.2e8, 1.2e8]


def test_the_series_add_up_to_the_metrics_of_every_path_and_the_twin_series_to_the_total() -> None:
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "scenarios" / "nvidia_openai_oracle.yaml"
    r = sim.run(sim.load_scenario(path))
    m = r.metrics.loc["nvidia"]
    last = r.paths_series().groupby("path").last()
    for p in ("own_vendor", "via_others"):
        assert last.loc[p, "caused"] == pytest.approx(m[f"incremental_revenue_{p}"], abs=0.01)
        assert last.loc[p, "traced"] == pytest.approx(m[f"round_trip_{p}"], abs=0.01)
    ts = r.twin_series[r.twin_series.investor == "nvidia"]
    caused = (ts.revenue_cents_run.sum() - ts.revenue_cents_twin.sum()) / 100
    assert caused == pytest.approx(m.incremental_revenue, abs=0.01)  # every path, as the metric
