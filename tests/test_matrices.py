"""The accounting matrices (sim/analysis/matrices.py): transaction flows, balance sheet,
consolidation.

Expected cells are worked out by hand from the scenario below, never with the code under test.
"""

from __future__ import annotations

import copy
import csv
import re
from pathlib import Path

import numpy as np
import pypdf
import pytest
from conftest import cli

import sim
from sim.analysis import matrices
from sim.errors import ConservationError
from sim.io.output import MATRIX_FILES, read_marker
from sim.model.recorder import KINDS
from sim.views.report import build_report

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
B = 10**11  # cents in a billion dollars

# An investor owning a cloud, a lab with no money of its own, and a cloud nobody owns.
# By hand: the lab wants 1B of compute a month; the contract's minimum is 0.5B a month at own,
# the other 0.5B splits 50/50, so own gets 0.75B and rival 0.25B a month. The 6B invested lasts
# six months (to 2026-07-01); then nothing is paid. Over the year:
#   compute: own 6 x 0.75 = 4.5B, rival 6 x 0.25 = 1.5B; the lab pays 6B.
#   own: cost 70% x 4.5 = 3.15B to cloud_costs, profit 30% x 4.5 = 1.35B to inv.
#   rival (no owner): cost 80% x 1.5 = 1.2B, keeps 0.3B.
#   commitment left: minimum 12 x 0.5 = 6B less 4.5B paid under the contract = 1.5B.
HAND = """\
name: hand
start: 2026-01-01
horizon: 1y
step: 1mo
agents:
  inv: {kind: investor, owns: [own]}
  lab:
    kind: lab
    cash: 0
    spending: {compute: {annual: 12B, providers: {own: 50%, rival: 50%}}}
  own: {kind: cloud, margin: 30%}
  rival: {kind: cloud, margin: 20%}
deals:
  - {kind: investment, id: stake, investor: inv, lab: lab, tranches: [{at: 2026-01-01, amount: 6B}]}
  - {kind: compute_contract, id: take-or-pay, lab: lab, cloud: own, total: 6B, over: 1y}
"""


@pytest.fixture(scope="module")
def hand() -> sim.Result:
    return sim.run(sim.parse_scenario(HAND, "hand.yaml"))


def sums_are_zero(m: matrices.Matrix) -> bool:
    return not m.cents.sum(axis=0).any() and not m.cents.sum(axis=1).any()


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_bundled_scenario_balances_by_row_and_column_under_both_recorders(path) -> None:
    s = sim.load_scenario(path)
    seen = {}
    for record in ("ledger", "flows"):
        data = sim.run(s, record=record).data
        matrices.check(data)  # every run of the batch, the twins included
        for run in range(data.plan.n_runs):
            tf = matrices.transaction_flows(data, run)
            by_origin = matrices.transaction_flows(data, run, by_origin=True)
            bs = matrices.balance_sheet(data, run)
            con = matrices.consolidate(tf, matrices.default_groups(data.plan))
            assert all(sums_are_zero(m) for m in (tf, by_origin, bs, con))
            assert tf.off_by() == bs.off_by() == con.off_by() == 0
            assert tf.columns == tuple(data.plan.accounts)
            assert [r[0] for r in tf.rows] == [*KINDS, "change in cash"]
            # the last row is minus the change in each account's cash, read off the pools
            change = (data.closing[:, :, run] - data.opening[:, :, run]).sum(axis=1)
            assert tf.cents[-1].tolist() == (-change).tolist()
            # summed over origins, the rows by origin are the plain rows
            by_kind = by_origin.cents.reshape(len(KINDS) + 1, len(data.plan.origins), -1)
            assert (by_kind.sum(axis=1) == tf.cents).all()
        seen[record] = (tf.cents.copy(), bs.cents.copy())
    assert (seen["ledger"][0] == seen["flows"][0]).all()
    assert (seen["ledger"][1] == seen["flows"][1]).all()


def test_transaction_flow_cells_match_the_hand_computation(hand) -> None:
    tf = hand.matrices().transaction_flows
    expected = {
        "inv": {"funding": 6 * B, "investment": -6 * B, "profit": 135 * B // 100},
        "lab": {"investment": 6 * B, "compute": -6 * B},
        "own": {"compute": 45 * B // 10, "cloud_cost": -315 * B // 100, "profit": -135 * B // 100},
        "rival": {"compute": 15 * B // 10, "cloud_cost": -12 * B // 10},
        "cloud_costs": {"cloud_cost": 435 * B // 100},
        "funding": {"funding": -6 * B},
    }
    change = {"inv": -135 * B // 100, "rival": -3 * B // 10, "cloud_costs": -435 * B // 100}
    change["funding"] = 6 * B
    for account in tf.columns:
        for kind in KINDS:
            assert tf.cell(kind, account) == expected.get(account, {}).get(kind, 0), (kind, account)
        assert tf.cell("change in cash", account) == change.get(account, 0), account
    frame = hand.transaction_flows()
    assert frame.loc["profit", "inv"] == 1.35e9  # dollars for display
    assert hand.transaction_flows(cents=True).loc["profit", "inv"] == 135 * B // 100


def test_balance_sheet_holds_cash_by_origin_stakes_and_unpaid_minimums(hand) -> None:
    bs = hand.matrices().balance_sheet
    assert bs.columns[-1] == matrices.BEFORE_START
    cash = {"inv": 135 * B // 100, "rival": 3 * B // 10, "cloud_costs": 435 * B // 100}
    cash["funding"] = -6 * B  # the external account holds the counterpart of what it paid
    for account in bs.columns:
        assert bs.cell(("cash", "inv:investment"), account) == cash.get(account, 0)
    assert bs.cell(("equity stake", "stake"), "inv") == 6 * B
    assert bs.cell(("equity stake", "stake"), "lab") == -6 * B
    assert bs.cell(("commitment", "take-or-pay"), "own") == 15 * B // 10  # 6B - 4.5B paid
    assert bs.cell(("commitment", "take-or-pay"), "lab") == -15 * B // 10
    worth = {"inv": -(135 + 600) * B // 100, "lab": 75 * B // 10, "own": -15 * B // 10}
    worth |= {"rival": -3 * B // 10, "cloud_costs": -435 * B // 100, "funding": 6 * B}
    for account in bs.columns:
        assert bs.cell(("minus net worth", ""), account) == worth.get(account, 0), account
    assert sums_are_zero(bs)


# The HAND file with a 1B-a-month minimum (all the lab's demand, so own sells 1B a month and
# rival nothing), 11B invested and 45 days to pay own. By hand: the lab is invoiced for January
# to November (11B, all its cash); the invoices of January to October fall due by December 16
# and are paid (10B); November's, issued December 1, falls due January 15, after the horizon:
# 1B owed. December is cut (no cash left after setting November's aside). The minimums (12B)
# less what was paid (10B) and what is owed (1B) leave a commitment of 1B.
OWED = (
    HAND.replace(
        "own: {kind: cloud, margin: 30%}", "own: {kind: cloud, margin: 30%, payment_terms: 45d}"
    )
    .replace("amount: 6B", "amount: 11B")
    .replace("total: 6B", "total: 12B")
)


def test_invoices_owed_at_the_end_are_a_claim_of_the_cloud_apart_from_its_commitment() -> None:
    result = sim.run(sim.parse_scenario(OWED, "owed.yaml"))
    assert result.lab_metrics.loc["lab"].payables_outstanding == 1e9
    bs = result.matrices().balance_sheet
    assert bs.cell(("invoice owed", "take-or-pay"), "own") == 1 * B
    assert bs.cell(("invoice owed", "take-or-pay"), "lab") == -1 * B
    assert bs.cell(("commitment", "take-or-pay"), "own") == 1 * B  # 12B - 10B paid - 1B owed
    assert bs.cell(("commitment", "take-or-pay"), "lab") == -1 * B
    assert bs.cell(("cash", "inv:investment"), "lab") == 1 * B  # set aside for November's
    worth = {"inv": -14 * B, "lab": 12 * B, "own": -2 * B, "cloud_costs": -7 * B, "funding": 11 * B}
    for account in bs.columns:
        assert bs.cell(("minus net worth", ""), account) == worth.get(account, 0), account
    assert sums_are_zero(bs)
    # a cloud paid at once is owed nothing: no such row
    assert not [
        r
        for r in sim.run(sim.parse_scenario(HAND, "h.yaml")).matrices().balance_sheet.rows
        if r[0] == "invoice owed"
    ]


def test_opening_cash_is_held_against_the_before_start_column(make_scenario) -> None:
    s = make_scenario(HAND.replace("cash: 0", "cash: 2B"))
    bs = sim.run(s).matrices().balance_sheet
    row = bs.cents[bs.rows.index(("cash", "lab:cash"))]
    assert bs.cell(("cash", "lab:cash"), matrices.BEFORE_START) == -2 * B
    assert int(row[:-1].sum()) == 2 * B  # wherever the lab's opening 2B went


def test_consolidating_the_investor_and_its_cloud_drops_the_profit_sweep(hand) -> None:
    tf = hand.matrices().transaction_flows
    groups = matrices.default_groups(hand.data.plan)
    assert groups == {"inv + own": ["inv", "own"]}
    con = matrices.consolidate(tf, groups)
    assert con.columns == ("inv + own", "lab", "rival", *tf.columns[4:])
    # by hand: the group's funding and investment, own's compute and cost; the 1.35B of profit
    # own paid inv is inside the group, so it is gone from both sides
    group = {"funding": 6 * B, "investment": -6 * B, "compute": 45 * B // 10}
    group |= {"cloud_cost": -315 * B // 100, "change in cash": -135 * B // 100}
    for kind in (*KINDS, "change in cash"):
        assert con.cell(kind, "inv + own") == group.get(kind, 0), kind
    assert not con.cents[con.rows.index(("profit",))].any()
    assert con.cell("compute", "lab") == -6 * B  # outside the group, as it was
    assert sums_are_zero(con)
    # the flows kept are those of the unconsolidated matrix but the profit sweep
    assert con.flows is not None and tf.flows is not None
    assert len(con.flows.kind) == len(tf.flows.kind) - 1
    assert hand.consolidated().loc["profit", "inv + own"] == 0


def test_consolidation_by_origin_still_sums_to_zero(hand) -> None:
    tf = matrices.transaction_flows(hand.data, by_origin=True)
    con = matrices.consolidate(tf, {"all clouds": ["own", "rival"]})
    assert con.by_origin and sums_are_zero(con)
    assert con.cell(("compute", "inv:investment"), "all clouds") == 6 * B


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        ({"g": ["inv", "nobody"]}, "'nobody' is not an account"),
        ({"g": ["inv"], "h": ["inv", "own"]}, "'inv' is in two groups"),
        ({"own": ["inv"]}, "has the name of an account it does not hold"),
    ],
)
def test_bad_groups_are_refused(hand, groups, message) -> None:
    with pytest.raises(ValueError, match=message):
        matrices.consolidate(hand.matrices().transaction_flows, groups)


def test_the_check_raises_on_a_tampered_flow_matrix(hand) -> None:
    data = copy.deepcopy(hand.data)
    matrices.check(data)
    compute = int(np.flatnonzero(data.flows.kind == KINDS.index("compute"))[0])
    origin = int(np.flatnonzero(data.flows.cents[compute, :, 0])[0])
    data.flows.cents[compute, origin, 0] += 1  # a cent the pools never saw
    with pytest.raises(ConservationError, match=r"transaction-flow matrix: column 'lab' .* -1 "):
        matrices.check(data)


def test_the_check_raises_when_an_origin_is_not_conserved(hand) -> None:
    data = copy.deepcopy(hand.data)
    # a cent of inv's cash relabelled from its own origin to the lab's revenue: its cash, and so
    # every column of the transaction flows, is as it was; the two origins' rows are off
    data.closing[0, 0, 0] += 1
    data.closing[0, 1, 0] -= 1
    with pytest.raises(ConservationError, match=r"balance sheet: row 'cash inv:investment' .* 1 "):
        matrices.check(data)


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="") as f:
        return list(csv.reader(f))


def test_run_matrices_writes_three_csvs_that_a_rerun_replaces(tmp_path, capsys) -> None:
    (tmp_path / "hand.yaml").write_text(HAND)
    out = tmp_path / "run"
    code, printed, err = cli(capsys, "run", tmp_path / "hand.yaml", "--out", out, "--matrices")
    assert (code, err) == (0, "")
    assert "transaction_flows.csv, balance_sheet.csv, consolidated_flows.csv" in printed
    flows = read_csv(out / "transaction_flows.csv")
    assert flows[0] == ["kind", *sim.run(sim.parse_scenario(HAND, "h.yaml")).data.plan.accounts]
    assert flows[KINDS.index("profit") + 1][:4] == [
        "profit",
        "1350000000.00",
        "0.00",
        "-1350000000.00",
    ]
    sheet = read_csv(out / "balance_sheet.csv")
    assert sheet[7][:5] == ["commitment", "take-or-pay", "0.00", "-1500000000.00", "1500000000.00"]
    consolidated = read_csv(out / "consolidated_flows.csv")
    assert consolidated[0][:3] == ["kind", "inv + own", "lab"]
    marker = read_marker(out)
    assert marker is not None and set(MATRIX_FILES) <= set(marker["files"])
    # a second run of the edited file replaces them: a 40% margin at own
    (tmp_path / "hand.yaml").write_text(HAND.replace("margin: 30%", "margin: 40%"))
    assert cli(capsys, "run", tmp_path / "hand.yaml", "--out", out, "--matrices")[0] == 0
    again = read_csv(out / "transaction_flows.csv")
    assert again[KINDS.index("profit") + 1][1] == "1800000000.00"  # 40% x 4.5B
    # a run without --matrices replaces the folder whole: the CSVs were ours, and are gone
    assert cli(capsys, "run", tmp_path / "hand.yaml", "--out", out)[0] == 0
    assert not any((out / name).exists() for name in MATRIX_FILES)
    assert {p.name for p in tmp_path.iterdir()} == {"hand.yaml", "run"}


def test_run_matrices_leaves_a_folder_with_a_foreign_file_untouched(tmp_path, capsys) -> None:
    (tmp_path / "hand.yaml").write_text(HAND)
    out = tmp_path / "run"
    assert cli(capsys, "run", tmp_path / "hand.yaml", "--out", out, "--matrices")[0] == 0
    (out / "notes.txt").write_text("mine")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    code, _, err = cli(capsys, "run", tmp_path / "hand.yaml", "--out", out, "--matrices")
    assert code == 2 and err.count("\n") == 1 and "notes.txt" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert {p.name for p in tmp_path.iterdir()} == {"hand.yaml", "run"}


def test_the_report_shows_both_matrices(hand, tmp_path) -> None:
    page = build_report(hand, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<h2>Transaction flows</h2>" in page and "<h2>Balance sheet at the end</h2>" in page
    cells = re.findall(r"<tr><td>profit</td>((?:<td[^>]*>[^<]*</td>)*)</tr>", page)
    assert re.findall(r">([^<]*)</td>", cells[0])[:3] == ["1.35", "", "-1.35"]  # $B
    assert "<tr><td>commitment, take-or-pay</td>" in page
    text = " ".join(
        p.extract_text() for p in pypdf.PdfReader(build_report(hand, tmp_path / "r.pdf")).pages
    )
    assert "Transaction flows" in text and "Balance sheet at the end" in text
    assert "commitment, take-or-pay" in text and "minus net worth" in text
    assert {p.name for p in tmp_path.iterdir()} == {"r.html", "r.pdf"}
