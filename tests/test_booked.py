"""Revenue and profit as booked, beside cash (docs/metrics.md, "Booked and cash"), and the twin's
convention for a linked contract stated with its figures ("What each twin keeps and drops").

A seller's invoice is booked at the step's end when it is issued, whenever the lab pays it; so a
booked figure does not move with payment terms, and booked = cash + what is owed at the horizon.
Figures computed by hand in the comments.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import sim
from sim.analysis.caused import BY_DATE_BOOKED, caused_by_date, owed, sales
from sim.analysis.metrics import TRACED
from sim.model.books import KIND

ROOT = Path(__file__).resolve().parent.parent
M = 10**6 * 100  # cents in a million dollars

# One year, monthly; the lab has no cash, no revenue and no compute demand of its own, and a
# take-or-pay contract at the investor's cloud of $1.2B over the year: $100M a step, never used
# (its demand is 0), paid with the $1.2B the investor puts in at the start. Without it (the
# twin) the lab can pay nothing: every invoice is caused. The cloud's margin is 25%: $25M of
# profit on each $100M invoice. Discount rate 0%: present values are the sums themselves.
LATE = """
name: paid late or at once
start: 2026-01-01
horizon: 1y
step: 1mo
discount_rate: 0%
agents:
  inv: {{kind: investor, owns: [own]}}
  lab: {{kind: lab, spending: {{compute: {{annual: 0}}}}}}
  own: {{kind: cloud, margin: 25%}}
deals:
  - {{kind: investment, id: inv-lab, investor: inv, lab: lab,
     tranches: [{{at: 2026-01-01, amount: 1.2B}}]}}
  - {{kind: compute_contract, id: c, lab: lab, cloud: own, total: 1.2B, over: 1y,
     payment_terms: {terms}}}
"""


def late(terms: str, record: str = "ledger") -> sim.Result:
    return sim.run(sim.parse_scenario(LATE.format(terms=terms), "late.yaml"), record=record)


def figures(r: sim.Result) -> dict[str, float]:
    return r.metrics_dict()["investors"]["inv"]


def test_a_contract_paid_30_days_late_books_what_it_books_paid_at_once() -> None:
    # 12 invoices of $100M, issued at each step's end (2026-02-01 .. 2027-01-01, the horizon).
    # Paid at once: all 12 are cash by the horizon, $1.2B; profit 12 x $25M = $300M.
    # Paid 30 days late: the last one, issued 2027-01-01, is due 2027-01-31, after the
    # horizon: cash 11 x $100M = $1.1B and 11 x $25M = $275M of profit; booked, all 12 were
    # issued: $1.2B and $300M, as paid at once.
    now, later = figures(late("0d")), figures(late("30d"))
    assert now["incremental_revenue"] == now["incremental_revenue_booked"] == 1200e6
    assert now["incremental_profit"] == now["incremental_profit_booked"] == 300e6
    assert later["incremental_revenue"] == 1100e6
    assert later["incremental_profit"] == 275e6
    assert later["incremental_revenue_booked"] == 1200e6
    assert later["incremental_profit_booked"] == 300e6
    # present values count the $25M owed at its due day (discount 0%: at face value), so the
    # net cost is $1.2B - $300M = $900M either way, not $1.2B - $275M = $925M paid late
    assert now["pv_incremental_profit"] == later["pv_incremental_profit"] == 300e6
    assert now["net_cost"] == later["net_cost"] == 900e6
    # traced, the same: $1.1B in cash, $1.2B booked (the twin spends nothing)
    assert later["spend_on_own_cloud"] == 1100e6
    assert later["spend_on_own_cloud_booked"] == 1200e6
    assert later["relationship_profit_booked"] == 300e6


def test_a_minimum_unused_in_a_month_is_booked_that_month() -> None:
    # The lab uses none of its compute (demand 0): each $100M minimum is owed all the same,
    # invoiced at its step's end. Paid 30 days late, the first (issued 2026-02-01, day 31) is
    # paid 2026-03-03 (day 61), the second (2026-03-01, day 59) 2026-03-31 (day 89).
    r = late("30d")
    assert r.metrics_dict()["labs"]["lab"]["unused_commitment"] == 1200e6
    assert r.data.invoiced[("lab", "own")][:, 0].tolist() == [100 * M] * 12
    cash = caused_by_date(r.data, r.all_metrics.twins, ["inv"], ["incremental_revenue"])
    booked = caused_by_date(r.data, r.all_metrics.twins, ["inv"], BY_DATE_BOOKED)
    # grid dates 2026-01-01, 02-01, 03-01, 04-01: cash 0, 0, 0, $200M (both paid by 04-01)
    assert cash[0, :4, 0, 0].tolist() == [0, 0, 0, 200 * M]
    # booked: each month's $100M at that month's end: 0, $100M, $200M, $300M; profit 25% of it
    assert booked[0, :4, 0, 0].tolist() == [0, 100 * M, 200 * M, 300 * M]
    assert booked[0, :4, 0, 1].tolist() == [0, 25 * M, 50 * M, 75 * M]
    # at the horizon the series end at the metrics: $1.2B and $300M
    assert booked[0, -1, 0].tolist() == [1200 * M, 300 * M]


def test_booked_is_cash_plus_what_is_owed_at_the_horizon() -> None:
    # Paid 30 days late, the lab owes one invoice at the horizon: $100M, $25M of it profit,
    # due 2027-01-31 (day 395). Booked $1.2B = cash $1.1B + owed $100M.
    r = late("30d")
    o = owed(r.data, "inv", ["lab"])
    assert o.revenue[:, 0].tolist() == [100 * M]
    assert o.profit[:, 0].tolist() == [25 * M]
    assert o.due[:, 0].tolist() == [395]
    assert r.metrics_dict()["labs"]["lab"]["payables_outstanding"] == 100e6
    m = figures(r)
    assert m["spend_on_own_cloud_booked"] == m["spend_on_own_cloud"] + 100e6


BUNDLED = sorted((ROOT / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_on_every_bundled_file_booked_is_cash_plus_owed_and_the_invoices_issued(
    path: Path,
) -> None:
    # Two readings of the same booked revenue: (1) the cash sales plus what is owed at the
    # horizon; (2) every invoice the labs were issued by the investor's sellers (paid or not),
    # plus the sales that are no invoice (credits used, supply hops), from the records.
    r = sim.run(sim.load_scenario(path), record="flows", keep_balances=False)
    data, plan = r.data, r.data.plan
    amount = data.flows.cents.sum(axis=1)[:, 0]
    for investor, m in r.metrics_dict()["investors"].items():
        labs = sorted({d.lab for d in r.scenario.investments if d.investor == investor})
        labs = labs or list(plan.labs)
        o = owed(data, investor, labs)
        on = np.array([lab in labs for lab in data.deal_lab], dtype=bool)
        rows = sales(plan, investor, on, data.flows)
        # sales from a lab's own account are its invoices paid in cash; the rest are credits
        # used (from its credit accounts) and supply hops (from other sellers)
        lab_ids = [plan.accounts.index(lab) for lab in labs]
        paid = rows & np.isin(data.flows.payer, lab_ids) & (data.flows.kind == KIND["compute"])
        invoiced = sum(
            int(data.invoiced[(lab, s)][:, 0].sum())
            for lab in labs
            for s in plan.investors[investor]
            if (lab, s) in data.invoiced
        )
        cash = int(amount[rows].sum())
        booked = cash + int(o.revenue[:, 0].sum())
        assert round(m["spend_on_own_cloud"] * 100) == cash
        assert round(m["spend_on_own_cloud_booked"] * 100) == booked
        assert booked == int(amount[rows & ~paid].sum()) + invoiced
        # the net cost's parts add up: PV invested in cash and in credits
        parts = round(m["pv_invested_cash"] * 100) + round(m["pv_invested_credits"] * 100)
        assert parts == round(m["pv_invested"] * 100)


def booked_figures(r: sim.Result) -> dict[str, object]:
    """Every investor's booked figures and present values (and what they decide)."""
    out: dict[str, object] = {}
    for investor, m in r.metrics_dict()["investors"].items():
        for name, value in m.items():
            if name.endswith("_booked") or "_booked_" in name or name.startswith("pv_"):
                out[f"{investor}.{name}"] = value
        for name in ("net_cost", "incremental_payback_date"):
            out[f"{investor}.{name}"] = m[name]
    return out


@pytest.mark.parametrize("which", ["late", "amazon_anthropic"])
def test_both_recorders_give_the_same_booked_figures(which: str) -> None:
    # the booked figures read the labs' counters, which do not depend on the recorder; the cash
    # they are added to comes from the flow matrix and the timed records, which both keep
    def run(record: str) -> sim.Result:
        if which == "late":
            return late("30d", record)
        path = ROOT / "scenarios" / f"{which}.yaml"
        return sim.run(sim.load_scenario(path), record=record, keep_balances=False)

    ledger, flows = run("ledger"), run("flows")
    assert booked_figures(ledger) == booked_figures(flows)
    investors = [i for i in ledger.data.plan.investors if ledger.all_metrics.twins.columns(i)]
    by_date = [
        caused_by_date(r.data, r.all_metrics.twins, investors, BY_DATE_BOOKED)
        for r in (ledger, flows)
    ]
    assert np.array_equal(*by_date)
    assert by_date[0].any()


def test_the_booked_metrics_are_in_the_tuples() -> None:
    assert {"spend_on_own_cloud_booked", "relationship_profit_booked"} <= set(TRACED)


# ---- the twin's convention for a linked contract, stated with its figures ----------------------


def conventions() -> ModuleType:
    """scripts/twin_conventions.py, imported as a module."""
    spec = importlib.util.spec_from_file_location(
        "twin_conventions", ROOT / "scripts" / "twin_conventions.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("twin_conventions", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def table() -> tuple[ModuleType, list]:
    tc = conventions()
    return tc, tc.rows()


def test_on_every_bundled_file_booked_figures_do_not_depend_on_zeroing_or_deleting(table) -> None:
    # Deleting a linked contract drops its payment terms (where no other contract of the lab
    # with that seller has them): the lab pays at once, and one more invoice is cash by the
    # horizon. Booked, each invoice counts when issued either way: the same to the cent.
    tc, rows = table
    files = {r.file for r in rows}
    for path in BUNDLED:  # every bundled file with a linked contract is in the table
        if tc.linked(sim.load_scenario(path).resolved):
            assert path.name in files
    assert files == {"amazon_anthropic.yaml", "amazon_openai_50b.yaml", "whole_web.yaml"}
    for r in rows:
        assert r.revenue_booked[0] == r.revenue_booked[1], r
        assert r.profit_booked[0] == r.profit_booked[1], r
    # while cash differs where the linked contract alone had terms (Anthropic at AWS)
    anthropic = next(r for r in rows if r.file == "amazon_anthropic.yaml")
    assert anthropic.revenue[0] > anthropic.revenue[1]


def test_the_table_in_the_docs_is_the_one_the_script_computes(table) -> None:
    tc, rows = table
    doc = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    at = doc.index(tc.HEADER)
    found = re.match(r"(\|[^\n]*\n?)+", doc[at:])
    assert found is not None
    assert found.group(0).strip() == tc.table(rows)
