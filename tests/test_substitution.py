"""Substitution: how a counterfactual twin replaces the money it runs without (docs/metrics.md,
"Substitution"): ``none`` (by each date at most what its run raised by then), ``file`` (the
labs' financing rules, the headline) or ``full`` (every missing dollar may be raised beyond the
file's limit, at its terms). The caused figures under each, and the bounds they give."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sim
from sim.analysis.metrics import BOUNDS, ONLY, SUBSTITUTION_FIGURES
from sim.errors import ScenarioError
from sim.inputs.values import SUBSTITUTIONS
from sim.model.books import KIND

SCENARIOS = sorted((Path(__file__).resolve().parent.parent / "scenarios").glob("*.yaml"))
FIFTY = Path(__file__).resolve().parent.parent / "scenarios" / "amazon_openai_50b.yaml"
B = 10**9 * 100  # cents in a billion dollars

# The lab has no cash and no revenue, and buys $1B of compute a month, all at `own` (which
# `inv` owns, 30% margin), over six months; `inv` invests $3B on the first day. It may raise
# equity from `markets`, floor 0, up to $4B over the horizon. No discounting.
TINY = """\
name: substitution
start: 2026-01-01
horizon: 6mo
discount_rate: 0%
agents:
  inv: {kind: investor, owns: [own]}
  lab:
    kind: lab
    spending: {compute: {annual: 12B, providers: {own: 100%}}}
    financing: {source: markets, kind: equity, limit: 4B}
  own: {kind: cloud, margin: 30%}
deals:
  - {kind: investment, investor: inv, lab: lab, tranches: [{at: 2026-01-01, amount: 3B}]}
"""


def tiny(*overrides: str, record: str = "ledger") -> sim.Result:
    return sim.run(sim.parse_scenario(TINY, "tiny.yaml", list(overrides)), record=record)


def caused(r: sim.Result, figure: str, sub: str, only: bool = False) -> int:
    """A caused figure of ``inv`` in cents under substitution ``sub``."""
    return int(
        r.all_metrics.investors["inv"][f"{figure}{ONLY if only else ''}_substitution_{sub}"][0]
    )


def test_three_substitutions_by_hand_where_the_twins_limit_binds() -> None:
    # The run: the $3B pays months 1-3; months 4, 5, 6 it raises $1B each (raised 3 <= 4):
    #   revenue at own 6 x 1 = $6B.
    # Twin `file` (no investment, limit $4B): raises $1B in months 1-4, then stops: buys $4B.
    #   caused revenue 6 - 4 = $2B, profit 30% = $0.6B, net cost 3 - 0.6 = $2.4B.
    # Twin `none`: by each month's end at most what the run raised by then, 0 0 0 1 2 3:
    #   raises 0 0 0 1 1 1, buys $3B: caused 6 - 3 = $3B, profit $0.9B, net cost $2.1B.
    # Twin `full`: limit 4 + the $3B it runs without = $7B: raises $1B each month, buys $6B:
    #   caused 0, profit 0, net cost $3B.
    r = tiny()
    want = {
        "none": (3 * B, 9 * B // 10, 21 * B // 10),
        "file": (2 * B, 6 * B // 10, 24 * B // 10),
        "full": (0, 0, 3 * B),
    }
    for sub, (revenue, profit, net_cost) in want.items():
        assert caused(r, "incremental_revenue", sub) == revenue, sub
        assert caused(r, "incremental_profit", sub) == profit, sub
        assert caused(r, "net_cost", sub) == net_cost, sub
        # nothing is linked: the investment alone is the package
        assert caused(r, "incremental_revenue", sub, only=True) == revenue, sub
    # the headline is the file's substitution
    m = r.all_metrics.investors["inv"]
    assert m["incremental_revenue"][0] == 2 * B
    # what each twin raised: 4, 3 and 6 ($B)
    raised = {
        s: r.twin("inv", substitution=s).lab_metrics.loc["lab", "raised"] for s in SUBSTITUTIONS
    }
    assert raised == {"none": 3e9, "file": 4e9, "full": 6e9}
    assert r.twin("inv").lab_metrics.loc["lab", "raised"] == 4e9


def test_the_files_choice_is_the_headline_and_set_takes_it() -> None:
    r = tiny("counterfactual.substitution=none")
    m = r.all_metrics.investors["inv"]
    assert m["incremental_revenue"][0] == 3 * B  # as the `none` twin above
    assert m["net_cost"][0] == 21 * B // 10
    assert caused(r, "incremental_revenue", "file") == 2 * B  # the bounds are the same twins
    assert r.twin("inv").lab_metrics.loc["lab", "raised"] == 3e9


def test_a_lab_with_no_financing_rule_gives_one_twin_for_all_three() -> None:
    # Without the rule the run buys $3B (months 1-3) and then nothing; the twin raises nothing
    # under any substitution and buys nothing: caused $3B, one twin run for the three.
    r = tiny("agents.lab.financing=null")
    assert [caused(r, "incremental_revenue", s) for s in SUBSTITUTIONS] == [3 * B] * 3
    twins = r.all_metrics.twins
    assert len(twins.twins) == 1
    assert {twins.column(0, "inv", substitution=s) for s in SUBSTITUTIONS} == {1}


def test_unknown_substitution_is_refused_with_a_suggestion() -> None:
    with pytest.raises(
        ScenarioError, match=r"unknown substitution 'ful' \(did you mean 'full'\?\)"
    ):
        tiny("counterfactual.substitution=ful")


def test_a_batch_without_bounds_gives_the_headline_and_nan_bounds() -> None:
    # what sweeps and Monte Carlo run (sim/runs/farm.py passes bounds=False)
    s = sim.parse_scenario(TINY, "tiny.yaml")
    bare = sim.run_batch([s, s], record="flows", bounds=False)
    m = bare.all_metrics.investors["inv"]
    assert len(bare.all_metrics.twins.twins) == 2  # one twin a run
    assert np.isnan(m["incremental_revenue_substitution_none"][:2]).all()
    assert (m["incremental_revenue"][:2] == 2 * B).all()
    assert (m["incremental_revenue_substitution_file"][:2] == 2 * B).all()
    bounded = sim.run_batch([s, s], record="flows").all_metrics.investors["inv"]
    assert (bounded["incremental_revenue_substitution_none"][:2] == 3 * B).all()


def none_twin_never_raises_more_than_its_run(r: sim.Result) -> None:
    """By every date, each `none` twin's money raised is at most its run's, lab by lab."""
    tm, plan = r.data.timed, r.data.plan
    twins = r.all_metrics.twins
    for inv in r.scenario.investors:
        for only in (False, True):
            col = twins.column(0, inv, keeps_linked=only, substitution="none")
            if col is None:
                continue
            for lab in plan.labs:
                rows = (tm.kind == KIND["financing"]) & (tm.payee == plan.accounts.index(lab))
                run = np.cumsum(tm.amount[rows, 0])
                twin = np.cumsum(tm.amount[rows, col])
                assert (twin <= run).all(), (inv, lab)


def raised(r: sim.Result, inv: str, only: bool, sub: str) -> float:
    """What every lab raised, in dollars, in ``inv``'s twin under ``sub``."""
    twin = r.twin(inv, investment_only=only, substitution=sub)
    return float(twin.lab_metrics.raised.sum())


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_file_lies_between_none_and_full_on_every_bundled_file(path: Path) -> None:
    # More money in the twin, less caused: revenue and profit none >= file >= full, net cost
    # none <= file <= full. One exception, by timing alone: where the run raises its whole
    # limit (amazon_anthropic: $100B), the `none` twin raises as much as the `file` twin, only
    # later (never ahead of the run), so it runs short earlier, when a smaller share of the
    # lab's compute goes to the investor's cloud; there revenue and profit under `none` may lie
    # below `file` (by $0.17B of $63.85B for Amazon's package), and only there.
    flows = sim.run(sim.load_scenario(path), record="flows")
    r = sim.run(sim.load_scenario(path), record="ledger")
    for inv, m in r.all_metrics.investors.items():
        for name in BOUNDS:  # both recorders agree
            assert m[name][0] == flows.all_metrics.investors[inv][name][0], (inv, name)
        for only in ("", ONLY):
            for figure in SUBSTITUTION_FIGURES:
                none, file, full = (m[f"{figure}{only}_substitution_{s}"][0] for s in SUBSTITUTIONS)
                assert m[figure + only][0] == file  # the headline is the file's
                if figure == "net_cost":
                    assert none <= file <= full, (inv, figure + only, none, file, full)
                    continue
                assert file >= full, (inv, figure + only, file, full)
                if none < file:  # timing alone: the same money raised, later
                    same = raised(r, inv, bool(only), "none") == raised(r, inv, bool(only), "file")
                    assert same, (inv, figure + only, none, file)
    none_twin_never_raises_more_than_its_run(r)


def test_the_investment_alone_under_each_substitution_on_the_50b_file() -> None:
    m = sim.run(sim.load_scenario(FIFTY), record="flows").all_metrics.investors["amazon"]
    alone = {s: m[f"incremental_revenue{ONLY}_substitution_{s}"][0] for s in SUBSTITUTIONS}
    print({s: f"${v / B:.2f}B" for s, v in alone.items()})
    # the file's $150B limit: the twin raises what the $50B would have paid, and buys the same
    assert alone["file"] == 0 and alone["full"] == 0
    assert alone["none"] > 0  # not replaced, the missing money buys less compute at AWS
