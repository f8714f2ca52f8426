"""Loans as deals (docs/model.md, "Loans"): the draw, interest and principal through the ledger,
what a borrower cannot pay kept as owed, the lender's twin without its loans, the matrices.

Every scenario is monthly from 2026-01-01: a month is 1/12 of a year on the project's day count
(sim/inputs/units.py), so a step's interest is ``outstanding * rate / 12`` rounded half up.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import sim
from sim.analysis.matrices import LOAN as LOAN_ROW
from sim.analysis.matrices import balance_rows

K = 1000 * 100  # cents in a thousand dollars


def scenario(loan: dict[str, Any], lab: str = "cash: 10M", horizon: str = "6mo") -> str:
    terms = "\n".join(f"    {k}: {v}" for k, v in loan.items())
    return f"""\
name: loan
start: 2026-01-01
horizon: {horizon}
discount_rate: 0
agents:
  bank:
    kind: investor
    owns: [cloud]
  cloud:
    kind: cloud
    margin: 0.5
  lab:
    kind: lab
    {lab}
deals:
  - kind: loan
    lender: bank
    borrower: lab
{terms}
"""


LOAN = {"amount": "1.2M", "at": "2026-01-01", "rate": 0.12, "maturity": "2026-04-01"}


def run(text: str, record: str = "ledger") -> sim.Result:
    return sim.run(sim.parse_scenario(text, "loan.yaml"), record=record)


def bank(r: sim.Result) -> dict[str, Any]:
    """The lender's figures in cents (run 0 of the batch)."""
    return {k: v[0] for k, v in r.all_metrics.investors["bank"].items()}


def loan_rows(r: sim.Result, kind: str) -> list[int]:
    led = r.ledger
    return led[led.kind == kind].amount_cents.tolist()


def test_bullet_loan_pays_interest_each_step_and_principal_at_maturity() -> None:
    # $1.2M at 12% a year: 1,200,000 * 0.12 / 12 = $12,000 a month, on Feb 1, Mar 1, Apr 1;
    # all the principal on Apr 1 (maturity); nothing after
    r = run(scenario(LOAN | {"repayment": "bullet"}))
    assert loan_rows(r, "loan") == [1_200_000 * 100]
    assert loan_rows(r, "loan_interest") == [12 * K] * 3
    assert loan_rows(r, "loan_principal") == [1_200_000 * 100]
    m = bank(r)
    assert m["lent"] == 1_200_000 * 100
    assert m["loan_interest_received"] == 36 * K  # 3 x 12,000
    assert m["loan_principal_received"] == 1_200_000 * 100
    assert m["loan_outstanding"] == 0 and m["loan_past_due"] == 0
    lab = {k: v[0] for k, v in r.all_metrics.labs["lab"].items()}
    assert lab["borrowed"] == 1_200_000 * 100 and lab["loan_interest_paid"] == 36 * K
    assert lab["loan_principal_repaid"] == 1_200_000 * 100 and lab["loan_outstanding"] == 0


def test_amortizing_loan_repays_equal_principal_each_step_to_maturity() -> None:
    # drawn Jan 1, maturity Jul 1: six step ends (Feb 1 .. Jul 1), $200,000 of principal each;
    # interest on what is outstanding at each step's start, 1% a month:
    #   1.2M -> 12,000; 1.0M -> 10,000; 0.8M -> 8,000; 0.6M -> 6,000; 0.4M -> 4,000; 0.2M -> 2,000
    r = run(scenario(LOAN | {"maturity": "2026-07-01", "repayment": "amortizing"}, horizon="1y"))
    assert loan_rows(r, "loan_principal") == [200 * K] * 6
    assert loan_rows(r, "loan_interest") == [12 * K, 10 * K, 8 * K, 6 * K, 4 * K, 2 * K]
    m = bank(r)
    assert m["loan_interest_received"] == 42 * K  # 12 + 10 + 8 + 6 + 4 + 2 thousand
    assert m["loan_outstanding"] == 0


def test_a_borrower_that_cannot_pay_keeps_what_it_owes_and_the_books_balance() -> None:
    # The lab has no cash of its own and spends $1.2M a month (other compute): it spends the
    # loan on Feb 1, after paying that day's interest.
    #   Feb 1: interest 12,000 paid (cash 1,200,000); it spends the 1,188,000 left
    #   Mar 1: interest 12,000, cash 0: unpaid, added -> outstanding 1,212,000
    #   Apr 1: interest 1,212,000 * 1% = 12,120, unpaid -> 1,224,120; principal due (maturity)
    #          is all of it, 1,224,120, unpaid: past due
    lab = "spending: {compute: {annual: 14.4M}}"
    for record in ("ledger", "flows"):
        r = run(scenario(LOAN, lab=lab, horizon="3mo"), record=record)
        m = bank(r)
        assert m["loan_interest_received"] == 12 * K
        assert m["loan_principal_received"] == 0
        assert m["loan_outstanding"] == 1_224_120 * 100
        assert m["loan_past_due"] == 1_224_120 * 100
        assert r.data.loans["bank-lab-loan"]["interest_unpaid"][0] == 24_120 * 100
        # the balance sheet holds the loan as the lender's asset and the lab's liability
        amount = r.data.flows.cents.sum(axis=1)
        rows, sides, values = balance_rows(r.data, amount)
        at = rows.index((LOAN_ROW, "bank-lab-loan"))
        accounts = r.data.plan.accounts
        assert [accounts[x] for x in sides[at]] == ["bank", "lab"]
        assert values[at, 0] == 1_224_120 * 100


def test_a_lender_that_owns_the_cloud_its_borrower_buys_from_has_a_twin_without_the_loan() -> None:
    # The lab has no cash and buys $1M a month from the bank's cloud (margin 50%). With the
    # $3M loan (0%, due after the horizon) it pays $1M on Feb 1, Mar 1, Apr 1; its twin
    # without the loan pays nothing: incremental revenue $3M, incremental profit $1.5M.
    # Discount rate 0: net cost = PV lent 3M - PV received 0 - PV incremental profit 1.5M.
    lab = "spending: {compute: {annual: 12M, providers: {cloud: 100%}}}"
    loan = {"amount": "3M", "at": "2026-01-01", "rate": 0, "maturity": "2027-01-01"}
    flows_metrics = None
    for record in ("ledger", "flows"):
        r = run(scenario(loan, lab=lab, horizon="3mo"), record=record)
        m = bank(r)
        assert m["incremental_revenue"] == 3_000_000 * 100
        assert m["incremental_profit"] == 1_500_000 * 100
        assert m["pv_lent"] == 3_000_000 * 100 and m["pv_loan_received"] == 0
        assert m["net_cost"] == 1_500_000 * 100
        assert m["loan_outstanding"] == 3_000_000 * 100
        if flows_metrics is None:
            flows_metrics = m
        else:  # both recorders: the same figures
            for key, value in m.items():
                assert np.array_equal(np.asarray(value), np.asarray(flows_metrics[key]),
                                      equal_nan=True), key  # fmt: skip


def test_a_loan_with_maturity_before_its_draw_is_refused() -> None:
    with pytest.raises(sim.ScenarioError, match="maturity 2026-01-01 is not after"):
        run(scenario(LOAN | {"at": "2026-02-01", "maturity": "2026-01-01"}))


def test_a_lender_that_is_no_investor_is_refused_with_a_guess() -> None:
    text = scenario(LOAN).replace("lender: bank", "lender: bnk")
    with pytest.raises(sim.ScenarioError, match="did you mean"):
        run(text)
