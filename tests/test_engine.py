"""The money model, checked against answers computed by hand (the arithmetic is in comments)."""

from __future__ import annotations

import pandas as pd
import pytest

import sim

B = 100 * 10**9  # cents in a billion dollars

ONE_LAB = """
name: one investor, one lab, constant compute
start: 2026-01-01
horizon: {horizon}
step: 1mo
tracing: {tracing}
agents:
  inv: {{kind: investor, owns: [own]}}
  lab:
    kind: lab
    revenue: {{annual: {revenue}}}
    spending:
      compute: {{annual: 12B, providers: {{own: 30%, rival: 70%}}}}
  own: {{kind: cloud, margin: 50%, payment_terms: {terms}}}
  rival: {{kind: cloud, margin: 10%}}
deals:
  - {{kind: investment, investor: inv, lab: lab, pre_money: 54B,
     tranches: [{{at: 2026-01-01, amount: 6B}}]}}
"""


def one_lab(make_scenario, horizon="2y", tracing="pro_rata", revenue=0, terms="0d"):
    text = ONE_LAB.format(horizon=horizon, tracing=tracing, revenue=revenue, terms=terms)
    return make_scenario(text)


def test_round_trip_equals_share_when_lab_has_no_other_cash(make_scenario):
    # $6B in, $1B of compute a month, 30% of it on the investor's cloud: the $6B is spent in
    # six months, $1.8B of it at the investor's cloud: round trip 1.8/6 = 30%.
    r = sim.run(one_lab(make_scenario))
    m = r.metrics.loc["inv"]
    assert m.invested == 6e9
    assert m.round_trip == 1.8e9
    assert m.round_trip_ratio == pytest.approx(0.30, abs=1e-12)
    assert m.spend_on_own_cloud == 1.8e9
    assert m.circular_revenue_share == 1.0  # every dollar the lab had was the investor's
    assert m.relationship_profit == 0.9e9  # 50% margin on $1.8B
    assert m.round_trip_profit == 0.9e9  # all of it made on the investor's own dollars
    assert m.stake == pytest.approx(0.1)  # 6 / (54 + 6)
    # without the investment the lab has no cash at all: everything it bought is caused
    assert m.incremental_revenue == m.round_trip == 1.8e9
    assert m.incremental_profit == 0.9e9
    # present values at the default 8% a year: $0.15B of profit at the end of each of the
    # first six months (k/12 years after the start), the $6B at the start
    pv_profit = round(sum(0.15e11 / 1.08 ** (k / 12) for k in range(1, 7))) / 100
    assert m.pv_invested == 6e9
    assert m.pv_incremental_profit == pytest.approx(pv_profit, abs=0.01)
    assert m.net_cost == pytest.approx(6e9 - pv_profit, abs=0.01)
    assert m.effective_post_money == pytest.approx((6e9 - pv_profit) / 0.1, rel=1e-12)
    assert m.stated_post_money == pytest.approx(60e9)
    assert pd.isna(m.incremental_payback_date)
    lab = r.lab_metrics.loc["lab"]
    # paid at the ends of Jan..Jun; on 2026-08-01 (end of July) nothing is left
    assert lab.cash_out_date == pd.Timestamp(2026, 8, 1)
    assert lab.unmet_compute == 18e9  # 18 of the 24 months unfunded at $1B each
    assert lab.cash_end == 0


def test_pro_rata_tracing_mixes_revenue_into_every_payment(make_scenario):
    # One month: the lab holds $6B of the investor's money and $0.5B of revenue (6B/yr / 12)
    # when it pays $1B of compute. Pro rata, 6/6.5 of each payment is the investor's:
    # own cloud gets $0.3B, of which 0.3B * 12/13 = $276,923,076.923... -> $276,923,076.92.
    r = sim.run(one_lab(make_scenario, horizon="1mo", revenue="6B"))
    assert r.metrics.loc["inv"].round_trip == 276_923_076.92
    row = r.ledger.query("payee == 'own' and kind == 'compute'").iloc[0]
    assert row["from:inv:investment"] == 27_692_307_692
    assert row["from:lab:revenue"] == 2_307_692_308  # 0.3B * 1/13, the rest of the cent


def test_fifo_tracing_spends_the_oldest_dollars_first(make_scenario):
    # FIFO over seven months: the $6B arrived first, so the first six $1B payments are all the
    # investor's ($1.8B to its cloud); the seventh is paid from revenue. Round trip: $1.8B.
    r = sim.run(one_lab(make_scenario, horizon="7mo", tracing="fifo", revenue="6B"))
    assert r.metrics.loc["inv"].round_trip == 1.8e9
    # one month in, FIFO says all of the first payment is the investor's
    r1 = sim.run(one_lab(make_scenario, horizon="1mo", tracing="fifo", revenue="6B"))
    assert r1.metrics.loc["inv"].round_trip == 0.3e9


def test_payment_terms_shift_payment_dates_by_exactly_the_terms(make_scenario):
    base = sim.run(one_lab(make_scenario, horizon="1y", revenue="12B"))
    late = sim.run(one_lab(make_scenario, horizon="1y", revenue="12B", terms="45d"))

    def paid(r):
        return r.ledger.query("payee == 'own' and kind == 'compute'")

    b, lt = paid(base), paid(late)
    # invoices due after the horizon stay unpaid: 2026-12-01 + 45d and 2027-01-01 + 45d
    assert len(lt) == len(b) - 2
    shifted = pd.to_datetime(b.date.iloc[: len(lt)]) + pd.Timedelta(days=45)
    assert list(pd.to_datetime(lt.date)) == list(shifted)
    assert list(lt.amount_cents) == list(b.amount_cents.iloc[: len(lt)])
    assert r_payables(late) == 2 * 0.3e9


def test_a_contract_without_payment_terms_takes_its_clouds_terms(make_scenario):
    text = (
        ONE_LAB.format(horizon="3mo", tracing="pro_rata", revenue=0, terms="45d")
        + """
  - {kind: compute_contract, lab: lab, cloud: own, total: 1B, over: 1y}
"""
    )
    s = make_scenario(text)
    assert s.payment_terms("lab", "own").days == 45
    assert s.resolved["deals"][1]["payment_terms"] == "45d"


def r_payables(r):
    return r.lab_metrics.loc["lab"].payables_outstanding


def test_take_or_pay_minimum_is_paid_first_and_demand_above_it_follows_shares(make_scenario):
    text = (
        ONE_LAB.format(horizon="1y", tracing="pro_rata", revenue="24B", terms="0d")
        + """
  - {kind: compute_contract, lab: lab, cloud: rival, total: 6B, over: 1y}
"""
    )
    r = sim.run(make_scenario(text))
    # each month: $0.5B minimum to rival, then the other $0.5B of the $1B demand by shares:
    # own 30% = $0.15B, rival 70% = $0.35B. Over 12 months own gets $1.8B, rival $10.2B.
    led = r.ledger.query("kind == 'compute'").groupby("payee").amount_cents.sum()
    assert led["own"] == 18 * B // 10
    assert led["rival"] == 102 * B // 10
    # a minimum above demand is still paid: $24B over a year against $12B of demand
    over = (
        ONE_LAB.format(horizon="1y", tracing="pro_rata", revenue="36B", terms="0d")
        + """
  - {kind: compute_contract, lab: lab, cloud: rival, total: 24B, over: 1y}
"""
    )
    r2 = sim.run(make_scenario(over))
    lab = r2.lab_metrics.loc["lab"]
    assert lab.compute_spend == 24e9
    assert lab.unused_commitment == 12e9


def test_lab_never_spends_cash_it_does_not_have_and_minimums_come_first(make_scenario):
    text = (
        ONE_LAB.format(horizon="1y", tracing="pro_rata", revenue=0, terms="0d")
        + """
  - {kind: compute_contract, lab: lab, cloud: rival, total: 9.6B, over: 1y}
"""
    )
    r = sim.run(make_scenario(text))
    # $6B; each month the $0.8B minimum to rival first, then $0.2B of demand by shares:
    # six months cost $6B exactly, so the money is gone at the end of June and July is cut.
    lab = r.lab_metrics.loc["lab"]
    assert lab.cash_out_date == pd.Timestamp(2026, 8, 1)
    assert lab.contract_shortfall == 6 * 0.8e9  # six unpaid monthly minimums
    assert lab.unmet_compute == 6 * 0.2e9
    assert lab.cash_end == 0
    bal = r.balances.query("account == 'lab'").groupby("step").cents.sum()
    assert (bal >= 0).all()


def test_a_tranche_on_a_step_date_is_invested_before_that_steps_spending(make_scenario):
    text = ONE_LAB.format(horizon="3mo", tracing="pro_rata", revenue=0, terms="0d").replace(
        "tranches: [{at: 2026-01-01, amount: 6B}]",
        "tranches: [{at: 2026-01-01, amount: 0.5B}, {at: 2026-02-01, amount: 1B}]",
    )
    r = sim.run(make_scenario(text))
    # Feb 1: the $1B tranche lands first, so January's $1B of compute is paid in full from
    # $1.5B (were it paid after, only $0.5B could be); on Mar 1 only $0.5B is left: cut.
    assert r.lab_metrics.loc["lab"].cash_out_date == pd.Timestamp(2026, 3, 1)
    first = r.ledger.iloc[:4]
    assert list(first.kind[:2]) == ["funding", "investment"]


def test_growth_accrues_the_same_total_on_monthly_and_daily_grids(make_scenario):
    text = ONE_LAB.format(horizon="1y", tracing="pro_rata", revenue="12B", terms="0d").replace(
        "revenue: {annual: 12B}", "revenue: {annual: 12B, growth: 50%}"
    )
    monthly = sim.run(make_scenario(text))
    daily = sim.run(make_scenario(text, step="1d"))
    # integral of 12B * 1.5**t over one year = 12B * 0.5 / ln(1.5) = $14,797,918,421.85...
    expected = 12e9 * 0.5 / 0.4054651081081644
    for r in (monthly, daily):
        assert r.lab_metrics.loc["lab"].revenue == pytest.approx(expected, abs=0.01)
    assert monthly.lab_metrics.loc["lab"].revenue == daily.lab_metrics.loc["lab"].revenue
    # without growth, $12B a year is exactly $1B a month
    flat = sim.run(one_lab(make_scenario, horizon="1y", revenue="12B"))
    months = flat.ledger.query("kind == 'revenue'").amount_cents
    assert set(months) == {1 * B}


def test_cloud_profit_goes_to_the_owner_and_cost_leaves_the_system(make_scenario):
    r = sim.run(one_lab(make_scenario))
    led = r.ledger
    assert led.query("kind == 'profit'").payee.unique().tolist() == ["inv"]
    costs = led.query("kind == 'cloud_cost'").groupby("payer").amount_cents.sum()
    assert costs["own"] == 0.9 * B  # 50% of $1.8B
    assert costs["rival"] == round(0.9 * 4.2 * B)  # rival keeps 10% of $4.2B, not owned
    final = r.balances[r.balances.step == r.balances.step.max()]
    assert final.groupby("account").cents.sum()["rival"] == round(0.1 * 4.2 * B)


ISSUE_FILE = """
name: Amazon puts $50B into OpenAI
start: 2026-03-01
horizon: 8y
step: 1mo
agents:
  amazon: {kind: investor, owns: [aws]}
  openai:
    kind: lab
    cash: 40B
    revenue: {annual: 20B, growth: 50%}
    spending:
      compute:
        annual: 30B
        growth: 40%
        providers: {aws: 20%, azure: 50%, oracle: 20%, coreweave: 10%}
      other: {annual: 8B, growth: 20%}
  aws: {kind: cloud, margin: 35%}
  azure: {kind: cloud, margin: 40%}
  oracle: {kind: cloud, margin: 20%}
  coreweave: {kind: cloud, margin: 15%}
deals:
  - kind: investment
    investor: amazon
    lab: openai
    pre_money: 730B
    tranches:
      - {at: 2026-03-01, amount: 15B}
      - {at: 2027-03-01, amount: 35B}
  - kind: compute_contract
    lab: openai
    cloud: aws
    total: 138B
    over: 8y
    payment_terms: 30d
"""


def test_the_first_issue_file_still_runs_and_gives_what_issue_7_measured(make_scenario):
    # The file of the project's first issue (before the whole round, the other contracts and
    # the close's valuation went into the bundled file). Issue 7 measured on it: without
    # Amazon's investment AWS's revenue from OpenAI falls from $324.89B to $316.74B, so the
    # investment causes about $8.2B of revenue and $2.9B of profit, while $19.92B is traced.
    r = sim.run(make_scenario(ISSUE_FILE))
    m = r.metrics.loc["amazon"]
    assert m.spend_on_own_cloud == pytest.approx(324.89e9, abs=0.005e9)
    assert m.round_trip == pytest.approx(19.92e9, abs=0.005e9)
    twin = r.twin("amazon")
    assert twin is not None
    led = twin.ledger
    to_aws = led[(led.kind == "compute") & (led.payer == "openai") & (led.payee == "aws")]
    assert to_aws.amount_cents.sum() / 100 == pytest.approx(316.74e9, abs=0.005e9)
    assert m.incremental_revenue == pytest.approx(8.16e9, abs=0.005e9)
    assert m.incremental_profit == pytest.approx(2.86e9, abs=0.005e9)
    assert m.stake == pytest.approx(50 / 780)  # 50 / (730 + 50): no round size given
