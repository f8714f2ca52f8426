"""The caused rule (sim/analysis/caused.py): one definition of the sales into what an investor
owns, by path, read by the metrics, a sweep's series file, a run's twin series and the charts'
traced figures, so that they end at the same dollars, second hop included, under either
recorder. Figures computed by hand in the comments."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.analysis.caused import BY_DATE, PATHS, caused_by_date, named, sales_paths
from sim.io.output import read_run, write_run
from sim.model.books import KIND
from sim.runs import farm
from sim.views.charts.ranges import read_ranges
from sim.views.charts.series import investor_flows

ROOT = Path(__file__).resolve().parent.parent
ORACLE = ROOT / "scenarios" / "nvidia_openai_oracle.yaml"

# Nvidia owns only the vendor chips, which no lab buys from: its sales come only through Oracle's
# cost routes (a cloud no investor owns). Google owns gcp, which the lab buys from directly. The
# lab has no cash of its own and spends what it was given at the first step's end ($3B a month
# of demand): $3B, half at Oracle, a quarter at gcp, a quarter outside the model.
# - Oracle keeps 25% of $1.5B and routes 40% of the other $1.125B to chips three months later:
#   $450M on 2026-05-01; chips keeps 60%, $270M, passed to Nvidia as profit.
# - Nvidia's twin (without its $2B) has $1B to spend: $500M at Oracle, $150M on to chips. Caused:
#   $450M - $150M = $300M of revenue, all via others; 60% of it, $180M, of profit.
# - Google's twin (without its $1B) has $2B: $500M at gcp against $750M. Caused: $250M of
#   revenue, all at its own cloud; 30% of it, $75M, of profit.
TWO_HOPS = """
name: two hops through an unowned cloud
start: 2026-01-01
horizon: 1y
step: 1mo
agents:
  nvidia: {kind: investor, owns: [chips]}
  google: {kind: investor, owns: [gcp]}
  lab:
    kind: lab
    spending: {compute: {annual: 36B, providers: {oracle: 50%, gcp: 25%}}}
  oracle: {kind: cloud, margin: 25%, costs: {chips: {share: 40%, lag: 3mo}}}
  gcp: {kind: cloud, margin: 30%}
  chips: {kind: vendor, margin: 60%}
deals:
  - {kind: investment, investor: nvidia, lab: lab, tranches: [{at: 2026-01-01, amount: 2B}]}
  - {kind: investment, investor: google, lab: lab, tranches: [{at: 2026-01-01, amount: 1B}]}
"""
CAUSED = {  # dollars, by hand above
    "nvidia": {"own_cloud": 0, "own_vendor": 0, "via_others": 300e6, "profit": 180e6},
    "google": {"own_cloud": 250e6, "own_vendor": 0, "via_others": 0, "profit": 75e6},
}


@pytest.fixture(scope="module")
def two_hops(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("two_hops") / "two_hops.yaml"
    path.write_text(TWO_HOPS)
    return path


def swept(file: Path, vary: list[str], out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows and the series of a sweep farmed into ``out``, read back as the charts read
    them (``read_ranges``: the results file, and the series file beside it)."""
    sim.sweep(file, vary, out=out)
    runs = read_ranges(out)
    assert runs.series == farm.series_path(out)
    return runs.results.set_index("run_id"), pd.read_parquet(runs.series)


def ends(series: pd.DataFrame) -> pd.DataFrame:
    """Each run's and investor's series at its last grid date."""
    return series.sort_values("date").groupby(["run_id", "investor"]).last()


# ---- the series file ends at the metrics ---------------------------------------------------------


def test_the_two_hop_series_file_ends_at_the_revenue_and_profit_caused_by_hand(
    two_hops: Path, tmp_path: Path
) -> None:
    # chips' margin moves only Nvidia's profit: 60% and 50% of the $300M
    rows, series = swept(two_hops, ["agents.chips.margin=60%,50%"], tmp_path / "s.parquet")
    last = ends(series)
    assert sorted(set(series["investor"])) == ["google", "nvidia"]
    assert last.loc[(0, "nvidia"), "incremental_revenue"] == 300e6  # not $0: the second hop
    assert last.loc[(1, "nvidia"), "incremental_revenue"] == 300e6
    assert last.loc[(0, "nvidia"), "incremental_profit"] == 180e6
    assert last.loc[(1, "nvidia"), "incremental_profit"] == 150e6
    assert last.loc[(0, "google"), ["incremental_revenue", "incremental_profit"]].tolist() == [
        250e6,
        75e6,
    ]
    for (run, investor), end in last.iterrows():
        for m in farm.SERIES_METRICS:
            assert end[m] == rows.loc[run, f"{investor}.{m}"], (run, investor, m)
    # the routed cost reaches chips on 2026-05-01, three months after the lab paid Oracle
    nvidia = series[(series.run_id == 0) & (series.investor == "nvidia")].set_index("date")
    assert nvidia.loc[pd.Timestamp(2026, 4, 1), "incremental_revenue"] == 0
    assert nvidia.loc[pd.Timestamp(2026, 5, 1), "incremental_revenue"] == 300e6


def test_the_oracle_series_file_ends_at_each_rows_incremental_revenue_and_profit(
    tmp_path: Path,
) -> None:
    """The file with routes of the issue: its series used to end at the direct sales alone
    ($3.10B) while the row said $4.74B (direct sales and Oracle's capex)."""
    vary = ["agents.oracle.costs.nvidia_systems.share=33%,10%"]
    rows, series = swept(ORACLE, vary, tmp_path / "o.parquet")
    last = ends(series)
    assert list(last.index) == [(0, "nvidia"), (1, "nvidia")]  # SoftBank owns no seller
    for (run, investor), end in last.iterrows():
        for m in farm.SERIES_METRICS:
            assert end[m] == rows.loc[run, f"{investor}.{m}"], (run, m)  # the same floats
        # more than the direct sales: Oracle's capex, the second hop, is in it
        assert rows.loc[run, f"{investor}.incremental_revenue_via_others"] > 0
        direct = rows.loc[run, f"{investor}.incremental_revenue_own_vendor"]
        assert end["incremental_revenue"] > direct
    assert last.loc[(0, "nvidia"), "incremental_revenue"] == pytest.approx(4.741e9, rel=1e-3)
    # less of Oracle's costs routed to Nvidia: less caused by the second hop
    assert (
        last.loc[(1, "nvidia"), "incremental_revenue"]
        < last.loc[(0, "nvidia"), "incremental_revenue"]
    )


# ---- every investor and path, under both recorders -----------------------------------------------


@pytest.mark.parametrize("record", ["ledger", "flows"])
@pytest.mark.parametrize("file", ["two_hops", "oracle"])
def test_the_caused_series_end_at_every_path_and_the_file_series_at_the_total(
    record: str, file: str, two_hops: Path
) -> None:
    s = sim.load_scenario(two_hops if file == "two_hops" else ORACLE)
    batch = sim.run_batch([s], record=record)
    investors = farm.series_investors(s)
    by_date = caused_by_date(batch.data, batch.all_metrics.twins, investors, BY_DATE)
    series = farm.caused_paths(batch)  # what the series file holds, in cents
    assert by_date.shape == (1, len(s.grid()), len(investors), len(BY_DATE))
    for i, investor in enumerate(investors):
        m = batch.all_metrics.investors[investor]
        for j, figure in enumerate(BY_DATE):
            assert by_date[0, -1, i, j] == m[figure][0], (investor, figure)
        for j, figure in enumerate(farm.SERIES_METRICS):
            assert series[0, -1, i, j] == m[figure][0], (investor, figure)
        # the paths add up to the whole, at every date
        paths = [BY_DATE.index(f"incremental_revenue_{p}") for p in PATHS]
        total = BY_DATE.index("incremental_revenue")
        assert (by_date[0, :, i, paths].sum(axis=0) == by_date[0, :, i, total]).all()
    if file == "two_hops":
        for i, investor in enumerate(investors):
            for p in PATHS:
                want = CAUSED[investor][p] * 100
                assert by_date[0, -1, i, BY_DATE.index(f"incremental_revenue_{p}")] == want
            assert (
                by_date[0, -1, i, BY_DATE.index("incremental_profit")]
                == CAUSED[investor]["profit"] * 100
            )


def test_the_rule_picks_the_same_money_from_the_ledger_the_flows_and_the_timed_records() -> None:
    r = sim.run(sim.load_scenario(ORACLE))
    d = r.data
    led = d.ledger
    assert led is not None
    on_deals = np.array([lab == "openai" for lab in d.deal_lab])
    amount = led.cents.sum(axis=1)[:, 0]  # the run's cents, all origins (its twins follow)
    by_ledger = sales_paths(d.plan, "nvidia", on_deals, led)
    by_flows = sales_paths(d.plan, "nvidia", on_deals, d.flows)
    by_timed = sales_paths(d.plan, "nvidia", on_deals, d.timed)
    for p in PATHS:
        cents = amount[by_ledger[p]].sum()
        assert (
            cents == d.flows.cents[by_flows[p], :, 0].sum() == d.timed.amount[by_timed[p], 0].sum()
        )
    total = sum(amount[rows].sum() for rows in by_ledger.values())
    assert total == round(r.metrics.loc["nvidia", "spend_on_own_cloud"] * 100)
    # the second hop: Oracle's capex, supply records from Oracle to Nvidia's systems
    via = by_ledger["via_others"]
    assert via.any() and (led.kind[via] == KIND["supply"]).all()
    assert {d.plan.accounts[a] for a in led.payer[via]} == {"oracle"}


# ---- the charts' traced figures, on a fresh run and a saved run folder ---------------------------


def test_the_charts_traced_figures_end_at_the_metrics_with_the_second_hop(tmp_path: Path) -> None:
    r = sim.run(sim.load_scenario(ORACLE))
    write_run(r, tmp_path / "run")
    saved = read_run(tmp_path / "run")
    m = r.metrics.loc["nvidia"]
    for run in (r, saved):
        last = investor_flows(run, "nvidia").iloc[-1]
        # direct sales and Oracle's capex: the $125.6B, not the $35.7B of direct sales alone
        assert last.spend_on_own_cloud == m.spend_on_own_cloud
        assert last.round_trip == m.round_trip
        assert last.relationship_profit == m.relationship_profit
        assert last.round_trip_profit == m.round_trip_profit
        assert last.invested == m.invested


def test_named_records_number_a_ledger_read_back_by_name(two_hops: Path) -> None:
    records = named(
        sim.load_scenario(two_hops),
        ["lab", "oracle", "lab", "lab"],
        ["oracle", "chips", "gcp", "gcp"],
        ["compute", "supply", "compute", "compute"],
        ["lab", "lab", "lab", ""],
    )
    on = records.on_deals(["lab"])
    assert records.labs == ["", "lab"] and on.tolist() == [False, True]
    nvidia = sales_paths(records, "nvidia", on, records)
    assert {p: rows.tolist() for p, rows in nvidia.items()} == {
        "own_cloud": [False] * 4,
        "own_vendor": [False] * 4,
        "via_others": [False, True, False, False],  # Oracle's capex at chips
    }
    # the lab's sale at gcp on its deal counts; one on no deal does not
    google = sales_paths(records, "google", on, records)
    assert google["own_cloud"].tolist() == [False, False, True, False]
