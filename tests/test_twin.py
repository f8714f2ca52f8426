"""What an investment causes, from its counterfactual twin: hand-computed cases to the cent.

The issue's setting: one year, monthly, invoices paid on receipt, 40% of compute bought from the
investor's cloud at a 25% margin (the rest from suppliers outside the model), compute demand $1B
a month, $3B invested at the start.
"""

from __future__ import annotations

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import sim

B = 10**9  # dollars in a billion
CASE = """
name: twin case
start: 2026-01-01
horizon: 1y
step: 1mo
discount_rate: {rate}
agents:
  inv: {{kind: investor, owns: [{owns}]}}
  lab:
    kind: lab
    cash: {cash}
    revenue: {{annual: {revenue}}}
    spending:
      compute: {{annual: 12B, providers: {{own: 40%}}}}
  own: {{kind: cloud, margin: 25%}}
deals:
  - {{kind: investment, investor: inv, lab: lab, pre_money: 27B,
     tranches: [{{at: {at}, amount: 3B}}]}}
{more}"""


def case(cash="0", revenue="6B", owns="own", at="2026-01-01", rate="8%", more=""):
    text = CASE.format(cash=cash, revenue=revenue, owns=owns, at=at, rate=rate, more=more)
    return sim.parse_scenario(text, "case.yaml")


def investor(r: sim.Result) -> dict:
    return r.metrics_dict()["investors"]["inv"]


def test_a_lab_with_nothing_else_spends_every_invested_dollar() -> None:
    # revenue $0.5B a month, no cash: the run spends 6 x $1B then 6 x $0.5B = $9B, the twin
    # 12 x $0.5B = $6B; the $3B more is 40% at the investor's cloud: $1.2B, 25% of it profit
    m = investor(sim.run(case(revenue="6B")))
    assert m["incremental_revenue"] == m["round_trip"] == 1.2 * B
    assert m["incremental_profit"] == 0.3 * B


def test_a_lab_short_only_late_gains_little_while_the_traced_round_trip_is_large() -> None:
    # $1B of cash and $0.9B of revenue a month: the twin loses $0.1B a month and is short
    # $0.1B in months 11 and 12 only; with the $3B it never is: $0.2B more compute, 40% of it
    # at the investor's cloud
    r = sim.run(case(cash="1B", revenue="10.8B"))
    m = investor(r)
    assert m["incremental_revenue"] == 0.08 * B
    assert m["incremental_profit"] == 0.02 * B
    assert m["round_trip"] > 10 * m["incremental_revenue"]  # the label is not the effect
    twin = r.twin("inv")
    assert twin is not None
    assert twin.lab_metrics.loc["lab"].unmet_compute == 0.2 * B
    assert r.lab_metrics.loc["lab"].unmet_compute == 0


def test_a_lab_that_never_runs_short_gains_nothing_from_it() -> None:
    m = investor(sim.run(case(revenue="12B")))
    assert m["round_trip"] > 0
    for name in ("incremental_revenue", "incremental_profit", "pv_incremental_profit"):
        assert m[name] == 0, name
    assert m["net_cost"] == m["pv_invested"] == 3 * B
    assert m["incremental_payback_date"] is None


def test_an_investor_that_owns_no_cloud_causes_nothing_and_has_no_twin() -> None:
    r = sim.run(case(owns=""))
    m = investor(r)
    assert r.twin("inv") is None
    assert m["incremental_revenue"] == m["incremental_profit"] == 0
    assert m["net_cost"] == m["pv_invested"] == 3 * B
    assert m["effective_post_money"] == pytest.approx(30 * B)  # 3 / (3 / 30)


def test_a_single_tranche_at_the_start_is_its_own_present_value() -> None:
    assert investor(sim.run(case(rate="25%")))["pv_invested"] == 3 * B


def test_a_flow_a_year_later_is_divided_by_one_plus_the_rate_to_the_cent() -> None:
    s = sim.parse_scenario(
        CASE.format(cash=0, revenue="6B", owns="own", at="2027-01-01", rate="10%", more="").replace(
            "horizon: 1y", "horizon: 2y"
        ),
        "later.yaml",
    )
    m = investor(sim.run(s))
    assert round(m["pv_invested"] * 100) == round(3 * B * 100 / 1.1)


def test_the_twin_is_the_run_without_the_investors_deals() -> None:
    # the twin's ledger is the ledger of the same file with the investment deleted
    r = sim.run(case(cash="1B", revenue="10.8B"))
    text = CASE.format(cash="1B", revenue="10.8B", owns="own", at="2026-01-01", rate="8%", more="")
    without = sim.run(sim.parse_scenario(text.split("deals:")[0], "without.yaml"))
    twin = r.twin("inv")
    assert twin is not None
    cols = ["day", "payer", "payee", "kind", "amount_cents"]
    assert_frame_equal(
        twin.ledger[cols].reset_index(drop=True), without.ledger[cols].reset_index(drop=True)
    )
    run_deals = set(r.ledger.deal)
    assert "inv-lab" in run_deals and "inv-lab" not in set(twin.ledger.deal)


def test_twins_and_caused_figures_are_the_same_alone_or_in_a_batch() -> None:
    runs = [case(cash=c, revenue=v) for c, v in (("0", "6B"), ("1B", "10.8B"), ("0", "12B"))]
    batch = sim.run_batch(runs, keep_balances=True)
    for i, s in enumerate(runs):
        alone = sim.run(s)
        assert batch[i].metrics_dict() == alone.metrics_dict()
        twin_b, twin_a = batch[i].twin("inv"), alone.twin("inv")
        assert twin_b is not None and twin_a is not None
        assert_frame_equal(twin_b.ledger, twin_a.ledger, check_exact=True)
    assert len(batch.metrics) == len(runs)  # twins are not rows


LINKED = """  - {kind: compute_contract, id: big, lab: lab, cloud: own, total: 6B, over: 1y,
     with: inv-lab}
"""


def test_a_linked_contract_is_dropped_by_the_twin_and_kept_by_the_investment_only_twin() -> None:
    # The contract makes the lab buy at least $0.5B a month at the investor's cloud; the rest of
    # its $1B of demand is split 40/60 as before: $0.7B a month there in all.
    # - run ($3B + $1B of cash, $0.9B a month): never short, 12 x 0.7 = $8.4B at the cloud;
    # - twin without both: short $0.1B in months 11-12, 40% of $11.8B = $4.72B;
    # - twin without the investment, keeping the contract: months 11-12 pay the $0.5B minimum
    #   and $0.4B of the $0.5B rest (40% of it, $0.16B, at the cloud): 10 x 0.7 + 2 x 0.66
    #   = $8.32B
    r = sim.run(case(cash="1B", revenue="10.8B", more=LINKED))
    m = investor(r)
    package, alone = r.twin("inv"), r.twin("inv", investment_only=True)
    assert package is not None and alone is not None
    assert _own_cloud_revenue(r) == 8.4 * B
    assert _own_cloud_revenue(package) == 4.72 * B
    assert _own_cloud_revenue(alone) == 8.32 * B
    assert package.lab_metrics.loc["lab"].unused_commitment == 0  # no contract in it
    assert m["incremental_revenue"] == pytest.approx(3.68 * B, abs=0.01)
    assert m["incremental_profit"] == pytest.approx(0.92 * B, abs=0.01)
    assert m["incremental_revenue_investment_only"] == pytest.approx(0.08 * B, abs=0.01)
    assert m["incremental_profit_investment_only"] == pytest.approx(0.02 * B, abs=0.01)
    assert "What inv's investment in lab alone caused" in r.summary()


def _own_cloud_revenue(r: sim.Result) -> float:
    led = r.ledger
    rows = led[(led.kind == "compute") & (led.payer == "lab") & (led.payee == "own")]
    return float(rows.amount_cents.sum()) / 100


def test_the_summary_leads_with_what_the_investment_caused() -> None:
    text = sim.run(case(cash="1B", revenue="10.8B")).summary()
    caused = text.index("What inv's investment in lab caused")
    traced = text.index("Whose dollars came back")
    assert caused < traced
    assert text.index("incremental revenue") < traced < text.index("round trip")
    assert "stake cost" not in text and "cost nothing" not in text


def test_the_batch_metrics_table_has_one_row_per_run_and_investor() -> None:
    batch = sim.run_batch([case(), case(revenue="12B")])
    table = batch.metrics
    assert list(table.index) == [(0, "inv"), (1, "inv")]
    assert table.loc[(1, "inv")].incremental_revenue == 0
    assert isinstance(table.loc[(0, "inv")].incremental_payback_date, type(pd.NaT) | pd.Timestamp)


def test_a_stake_given_directly_implies_the_post_money_and_says_so() -> None:
    text = CASE.replace("pre_money: 27B", "stake: 10%")
    r = sim.run(
        sim.parse_scenario(
            text.format(cash=0, revenue="6B", owns="own", at="2026-01-01", rate="8%", more=""),
            "s.yaml",
        )
    )
    m = investor(r)
    assert m["stake"] == pytest.approx(0.1) and m["stated_post_money"] == pytest.approx(30 * B)
    assert "implied by the stake $30.00B" in r.summary()
    assert "stated $30.00B" in sim.run(case()).summary()
