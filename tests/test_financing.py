"""Labs that raise money: the financing rule, its ledger records, metrics, checks and batches.

The rule (docs/model.md, "Financing"): at each step's end, before spending, a lab short of
``interest + minimums + rest of demand + floor`` raises the difference from its source, up to its
limit over the horizon; debt pays interest on what is outstanding, adding what it cannot pay.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from conftest import cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal
from test_batch import BASE as BATCH_BASE
from test_batch import assert_same_run
from test_conservation import check_books
from test_conservation import scenarios as random_scenarios

import sim
from sim.errors import ScenarioError
from sim.inputs.resolved import inputs_hash, resolved_yaml_with_sources
from sim.inputs.units import year_fraction
from sim.model.books import KIND

# the first $50B file, without financing (the bundled one now raises equity when short)
FIFTY = Path(__file__).resolve().parent / "data" / "amazon_openai_50b_first.yaml"
B = 10**9 * 100  # cents in a billion dollars
M = 10**6 * 100  # cents in a million dollars

# A lab with $1B, no revenue, wanting $1B of compute a month (all from other_compute), monthly
# for 2026. Line numbers matter for the error tests: 9 financing, 10 source, 11 kind, 12 floor,
# 13 limit.
LAB = """\
name: financing
start: 2026-01-01
horizon: 1y
agents:
  lab:
    kind: lab
    cash: 1B
    spending: {compute: {annual: 12B}}
    financing:
      source: markets
      kind: equity
      floor: 500M
      limit: 5B
"""
STEP_ENDS = [dt.date(2026, m, 1) for m in range(2, 13)] + [dt.date(2027, 1, 1)]


def lab_run(text: str = LAB, **overrides: Any) -> sim.Result:
    return sim.run(sim.parse_scenario(text, "lab.yaml", overrides or None))


def rows(r: sim.Result, kind: str) -> Any:
    led = r.ledger
    return led[led.kind == kind].reset_index(drop=True)


def lab_cash(r: sim.Result) -> list[int]:
    """The lab's cash in cents at each step's end."""
    b = r.balances
    return b[(b.account == "lab") & (b.step > 0)].groupby("step").cents.sum().tolist()


# ---- equity, by hand -------------------------------------------------------------------------


def test_equity_raises_what_keeps_the_floor_until_the_limit_binds_then_runs_short() -> None:
    # Each step the lab wants $1B and a floor of $0.5B: it raises 1 + 0.5 - cash.
    #   Feb 1: cash 1.0 -> raises 0.5 (raised 0.5), pays 1, keeps 0.5
    #   Mar 1 .. Jun 1: cash 0.5 -> raises 1.0 each (raised 1.5, 2.5, 3.5, 4.5), keeps 0.5
    #   Jul 1: short of 1.0 but only 5 - 4.5 = 0.5 left under the limit: raises 0.5, pays 1,
    #          keeps 0 (the floor is given up before any compute)
    #   Aug 1 .. Jan 1: nothing to raise, nothing to pay: $1B unmet each, six steps
    r = lab_run()
    raised = rows(r, "financing")
    assert raised.date.dt.date.tolist() == STEP_ENDS[:6]
    assert raised.amount_cents.tolist() == [B // 2, B, B, B, B, B // 2]
    assert (raised.payer == "markets").all() and (raised.payee == "lab").all()
    assert (raised.deal == "lab-financing").all()
    assert (raised["from:lab:equity"] == raised.amount_cents).all()  # a new origin, all of it
    assert rows(r, "interest").empty
    assert lab_cash(r) == [B // 2] * 5 + [0] * 7

    m = r.metrics_dict()["labs"]["lab"]
    assert m["raised"] == 5e9
    assert (m["interest_paid"], m["debt_outstanding"]) == (0.0, 0.0)
    assert m["first_raise_date"] == "2026-02-01"
    assert m["compute_spend"] == 6e9  # six months paid
    assert m["unmet_compute"] == 6e9  # six months not
    assert m["cash_out_date"] == "2026-08-01"
    assert m["cash_end"] == 0.0

    # the source is an external account: it goes negative by what it gave
    b = r.balances
    end = b[(b.step == 12) & (b.account == "markets")]
    assert end.cents.sum() == -5 * B
    assert end.set_index("origin").cents["lab:equity"] == -5 * B
    assert r.check["balanced"] and r.check["origins_conserved"]


def test_raised_equity_is_spent_by_the_tracing_rule_like_any_money() -> None:
    r = lab_run()
    spend = rows(r, "compute")
    # Feb 1: $1B cash + $0.5B equity, pro rata: 2/3 cash, 1/3 equity
    first = spend.iloc[0]
    assert (first["from:lab:cash"], first["from:lab:equity"]) == (66_666_666_667, 33_333_333_333)
    assert spend["from:lab:equity"].sum() + spend["from:lab:cash"].sum() == 6 * B


# ---- debt, by hand and by formula -------------------------------------------------------------


def expected_debt(rate: Fraction, floor: int, limit: int) -> dict[str, list[int]]:
    """The rule run in plain integers for LAB: interest on the debt at each step's start, using
    year_fraction of the step (accrual = rate * (y(end) - y(start))) rounded half up."""
    start = dt.date(2026, 1, 1)
    grid = [start, *STEP_ENDS]
    cash, raised, debt = B, 0, 0
    out: dict[str, list[int]] = {"raise": [], "interest": [], "paid": [], "debt": []}
    for d0, d1 in pairwise(grid):
        accrual = float(rate) * (year_fraction(start, d1) - year_fraction(start, d0))
        interest = int(debt * accrual + 0.5)
        # the float formula is within half a cent of the exact interest (1% a month)
        assert abs(Fraction(interest) - debt * rate / 12) <= Fraction(1, 2)
        get = min(max(interest + B + floor - cash, 0), limit - raised)
        raised, cash = raised + get, cash + get
        paid = min(interest, cash)
        cash -= paid
        debt += get + interest - paid
        cash -= min(cash, B)  # compute
        for key, v in zip(out, (get, interest, paid, debt), strict=True):
            out[key].append(v)
    return out


def test_debt_pays_interest_on_what_is_outstanding_and_adds_what_it_cannot_pay() -> None:
    r = lab_run(
        LAB.replace("kind: equity", "kind: debt").replace("limit: 5B", "limit: 5B\n      rate: 12%")
    )
    want = expected_debt(Fraction(12, 100), 500 * M, 5 * B)
    # by hand, interest is 1% a month of the debt at the step's start:
    #   Feb 1  debt 0           interest 0            raises 0.5B (cash 1B)
    #   Mar 1  debt 0.5B        interest 5M           raises 1.005B
    #   Apr 1  debt 1.505B      interest 15.05M       raises 1.01505B
    #   Jul 1  debt 4.580703005B, interest 45.80703005M; only 0.419296995B left under the limit
    #   Aug 1  debt 5B, no cash: the 50M of interest is added to the debt, and so on
    assert want["raise"][:3] == [B // 2, 1_005 * M, 101_505_000_000]
    assert want["interest"][:3] == [0, 5 * M, 1_505_000_000]
    assert want["raise"][5] == 41_929_699_500 and sum(want["raise"]) == 5 * B
    assert want["interest"][6] == 50 * M and want["paid"][6] == 0

    raised = rows(r, "financing")
    assert raised.amount_cents.tolist() == [v for v in want["raise"] if v]
    assert (raised["from:lab:debt"] == raised.amount_cents).all()
    interest = rows(r, "interest")
    assert interest.amount_cents.tolist() == [v for v in want["paid"] if v]
    assert (interest.payer == "lab").all() and (interest.payee == "markets").all()
    assert interest.date.dt.date.tolist() == STEP_ENDS[1:6]

    m = r.metrics_dict()["labs"]["lab"]
    assert m["raised"] == 5e9
    assert round(m["interest_paid"] * 100) == sum(want["paid"]) == 12_651_003_505  # $126.51M
    # 5B * 1.01^6 = $5,307,600,753.005: the last step's interest rounds up at its half cent
    assert round(m["debt_outstanding"] * 100) == want["debt"][-1] == 530_760_075_301
    assert m["cash_out_date"] == "2026-07-01"  # interest paid first leaves too little for compute
    assert r.check["balanced"]


def test_a_lab_that_never_falls_below_its_floor_raises_nothing_and_posts_nothing() -> None:
    r = lab_run(LAB.replace("cash: 1B", "cash: 20B"))
    assert rows(r, "financing").empty
    m = r.metrics_dict()["labs"]["lab"]
    assert (m["raised"], m["first_raise_date"]) == (0.0, None)
    assert (r.data.ledger.kind == KIND["financing"]).sum() == 0  # not even rows of zero cents


# ---- without financing, nothing changes ------------------------------------------------------


def test_an_explicitly_absent_financing_block_changes_no_figure() -> None:
    plain = sim.run(sim.load_scenario(FIFTY))
    absent = sim.run(sim.load_scenario(FIFTY, ["agents.openai.financing=null"]))
    assert inputs_hash(plain.scenario) == inputs_hash(absent.scenario)
    assert plain.metrics_dict() == absent.metrics_dict()
    assert_frame_equal(plain.ledger, absent.ledger, check_exact=True)
    assert "financing" not in plain.scenario.resolved["agents"]["openai"]
    assert plain.data.plan.accounts[-1] == "funding"  # no source account added
    assert all(":equity" not in o and ":debt" not in o for o in plain.data.plan.origins)
    m = plain.metrics_dict()["labs"]["openai"]
    assert (m["raised"], m["interest_paid"], m["debt_outstanding"]) == (0.0, 0.0, 0.0)
    assert m["first_raise_date"] is None


def test_financing_the_50b_lab_keeps_it_buying_compute() -> None:
    block = "{source: private_markets, kind: equity, floor: 10B, limit: 200B}"
    r = sim.run(sim.load_scenario(FIFTY, [f"agents.openai.financing={block}"]))
    m = r.metrics_dict()["labs"]["openai"]
    assert 0 < m["raised"] <= 200e9
    assert m["unmet_compute"] < 70.94e9  # the run without financing leaves $70.94B unmet
    assert r.check["balanced"]


# ---- errors: exit 2, one line with file:line:col ---------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "where", "message"),
    [
        ("kind: equity", "kind: bond", "11:13: agents.lab.financing.kind",
         "unknown kind 'bond'; expected one of: equity, debt"),
        ("limit: 5B", "limit: 5B\n      rate: 9%", "14:7: agents.lab.financing.rate",
         "a rate applies to debt only: equity pays no interest and is never repaid"),
        ("kind: equity", "kind: debt", "9:5: agents.lab.financing",
         "debt needs a 'rate', its interest per year (such as 9%)"),
        ("      source: markets\n", "", "9:5: agents.lab.financing",
         "missing required key 'source'"),
        ("source: markets", "source: lab", "10:15: agents.lab.financing.source",
         "'lab' is the name of the lab 'lab'; a financing source is an account outside the model"),
        ("source: markets", "source: Funding", "10:15: agents.lab.financing.source",
         "'Funding' is the name of an account outside the model (customers, suppliers"),
        ("source: markets", "source: two words", "10:15: agents.lab.financing.source",
         "a source name is letters, digits and _ starting with a letter"),
        ("floor: 500M", "floor: -1B", "12:14: agents.lab.financing.floor",
         "must not be negative, got '-1B'"),
        ("limit: 5B", "limit: -5B", "13:14: agents.lab.financing.limit",
         "must not be negative, got '-5B'"),
        ("limit: 5B", "limit: 5B\n      rate: 150%", "14:13: agents.lab.financing.rate",
         "an interest rate must be between 0% and 100% a year, got '150%'"),
    ],
    ids=["kind", "rate-on-equity", "debt-without-rate", "no-source", "agent-name", "reserved",
         "bad-name", "negative-floor", "negative-limit", "rate-too-high"],
)  # fmt: skip
def test_a_bad_financing_block_is_refused_with_its_place(
    tmp_path, capsys, old: str, new: str, where: str, message: str
) -> None:
    assert old in LAB
    f = tmp_path / "lab.yaml"
    f.write_text(LAB.replace(old, new, 1))
    code, out, err = cli(capsys, "validate", f)
    assert code == 2 and out == ""
    assert err.startswith(f"error: {f}:{where}: {message}"), err
    assert err.count("\n") == 1


def test_two_labs_may_share_a_source_but_not_spell_it_two_ways() -> None:
    two = LAB + "  lab2: {kind: lab, financing: {source: markets, kind: equity, limit: 1B}}\n"
    s = sim.parse_scenario(two, "two.yaml")
    assert s.labs["lab2"].financing is not None
    assert sim.run(s).data.plan.accounts.count("markets") == 1
    with pytest.raises(ScenarioError, match="'markets' and 'Markets' differ only in case"):
        sim.parse_scenario(two.replace("{source: markets", "{source: Markets"), "two.yaml")


def test_debt_that_could_outgrow_exact_cents_is_refused_before_running(tmp_path, capsys) -> None:
    big = LAB.replace("kind: equity", "kind: debt").replace("horizon: 1y", "horizon: 40y")
    f = tmp_path / "big.yaml"
    f.write_text(big.replace("limit: 5B", "limit: 10T\n      rate: 100%"))
    code, _, err = cli(capsys, "validate", f)
    assert code == 2
    assert "lab's debt could grow past the $45T" in err


# ---- batches ---------------------------------------------------------------------------------


def financed(**values: str) -> dict[str, str]:
    return {"source": "markets", "kind": "debt", **values}


BATCH_VARIANTS = [  # raising on different steps, by different amounts, or never
    {"floor": "0", "limit": "20B", "rate": "9%"},
    {"floor": "3B", "limit": "20B", "rate": "0%"},
    {"floor": "1B", "limit": "2.5B", "rate": "25%"},
    {"floor": "0", "limit": "0", "rate": "9%"},
    {"floor": "8B", "limit": "100B", "rate": "12%"},
]


@pytest.mark.parametrize("tracing", ["pro_rata", "fifo"])
def test_runs_raising_on_different_steps_give_in_a_batch_what_they_give_alone(tracing) -> None:
    base = BATCH_BASE.format(tracing=tracing)
    runs = [
        sim.parse_scenario(base, "b.yaml", {"agents.lab.financing": financed(**v)})
        for v in BATCH_VARIANTS
    ]
    batch = sim.run_batch(runs, keep_balances=True)
    alone = [sim.run(s) for s in runs]
    firsts = {r.metrics_dict()["labs"]["lab"]["first_raise_date"] for r in alone}
    assert len(firsts) >= 3 and None in firsts  # the runs really differ
    for i, single in enumerate(alone):
        assert_same_run(batch[i], single)
        assert_frame_equal(batch[i].balances, single.balances, check_exact=True)
    # a financing record is posted only on a day some run raises, an interest one on a day some
    # run pays interest
    led = batch.data.ledger
    for kind in ("financing", "interest"):
        mine = led.cents[led.kind == KIND[kind]].sum(axis=1)  # [record, run]
        assert len(mine) and (mine != 0).any(axis=1).all()


@pytest.mark.parametrize(
    "other",
    [
        None,  # no financing
        {"source": "markets", "kind": "equity", "limit": "20B"},  # another kind
        financed(limit="20B", rate="9%", source="banks"),  # another source
    ],
    ids=["none", "kind", "source"],
)
def test_a_batch_mixing_financing_structures_is_refused(other: dict[str, str] | None) -> None:
    base = BATCH_BASE.format(tracing="pro_rata")
    debt = financed(**BATCH_VARIANTS[0])
    runs = [
        sim.parse_scenario(base, "a.yaml", {"agents.lab.financing": debt}),
        sim.parse_scenario(base, "b.yaml", {"agents.lab.financing": other}),
    ]
    with pytest.raises(ValueError, match="differs in structure"):
        sim.run_batch(runs)


# ---- random scenarios: the books stay exact --------------------------------------------------


@st.composite
def financed_scenarios(draw: st.DrawFn) -> dict[str, Any]:
    data = draw(random_scenarios())
    for name, agent in data["agents"].items():
        if agent["kind"] != "lab" or not draw(st.booleans()):
            continue
        kind = draw(st.sampled_from(["equity", "debt"]))
        f = {
            "source": draw(st.sampled_from(["markets", "banks"])),
            "kind": kind,
            # up to $100B each: a floor above the lab's cash makes it raise at once
            "floor": f"{draw(st.integers(0, 10**13)) / 100:.2f}",
            "limit": f"{draw(st.integers(0, 10**13)) / 100:.2f}",
        }
        if kind == "debt":
            f["rate"] = f"{draw(st.integers(0, 3000)) / 100}%"
        data["agents"][name]["financing"] = f
    return data


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(financed_scenarios())
def test_random_financing_keeps_the_books_to_the_cent(data: dict[str, Any]) -> None:
    s = sim.parse_scenario(yaml.safe_dump(data, sort_keys=False), "random.yaml")
    r = sim.run(s)  # raises ConservationError if the books are off
    assert r.check["balanced"] and r.check["origins_conserved"]
    check_books(s, r)
    b = r.balances
    closing = b[b.step == b.step.max()]
    for name, lab in s.labs.items():
        m = r.lab_metrics.loc[name]
        f = lab.financing
        if f is None:
            assert m.raised == 0 and pd.isna(m.first_raise_date)
            continue
        assert 0 <= round(m.raised * 100) <= f.limit
        if f.kind == "equity":
            assert m.interest_paid == 0 and m.debt_outstanding == 0
        else:
            assert m.debt_outstanding >= m.raised
        # every cent of the new origin came from the source: all accounts together hold none
        assert closing[closing.origin == f"{name}:{f.kind}"].cents.sum() == 0
        assert m.cash_end == pytest.approx(
            lab.cash / 100
            + m.invested_in
            + m.revenue
            + m.raised
            - m.compute_spend
            - m.other_spend
            - m.interest_paid
            - m.revenue_shares_paid
            # loans the lab borrowed, less what it paid on them (tests/test_loans.py)
            + m.borrowed
            - m.loan_interest_paid
            - m.loan_principal_repaid,
            abs=0.02,
        )


# ---- the resolved file ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["equity", "debt"])
def test_the_resolved_file_with_financing_reruns_to_the_same_inputs_hash(kind, tmp_path) -> None:
    text = LAB.replace("kind: equity", f"kind: {kind}  # assumption")
    if kind == "debt":
        text = text.replace("limit: 5B", "limit: 5B\n      rate: 9.5%  # a guess")
    s = sim.parse_scenario(text, "lab.yaml")
    resolved = resolved_yaml_with_sources(s)
    again = sim.parse_scenario(resolved, "lab.yaml")
    assert again == s
    assert again.comments == s.comments and s.comments  # the source notes come back too
    assert inputs_hash(again) == inputs_hash(s)
    assert again.labs["lab"].financing == s.labs["lab"].financing
    f = tmp_path / "resolved.yaml"
    f.write_text(resolved)
    assert sim.run(sim.load_scenario(f)).metrics_dict()["inputs_hash"] == inputs_hash(s)


def test_the_flow_diagram_shows_money_raised_coming_in_and_interest_going_out() -> None:
    from sim.views.charts.flows import flow_bands, flow_diagram

    r = lab_run(LAB.replace("kind: equity", "kind: debt").replace("5B", "5B\n      rate: 12%"))
    bands = flow_bands(r)
    into = bands[(bands.stage == "in") & (bands.target == "lab")]
    spent = bands[(bands.stage == "spend") & (bands.source == "lab")]
    assert into.dollars.sum() == pytest.approx(spent.dollars.sum(), abs=0.01)
    assert into.set_index("source").dollars["lab:debt"] == pytest.approx(5e9)
    assert spent.groupby("target").dollars.sum()["markets"] == pytest.approx(126_510_035.05)
    flow_diagram(r)  # draws: every band has a node
