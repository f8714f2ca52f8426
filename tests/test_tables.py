"""Tables a person can read (sim/analysis/tables.py): money in $B or $M, shares in %, dates as
dates, no scientific notation, empty metrics left out, human names; the raw frames untouched."""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.analysis import sensitivity, tables
from sim.analysis.metrics import DATES, INVESTOR_METRICS, LAB_METRICS, MONEY, RATIOS, SHARE_COUNTS

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "scenarios" / "toy_round_trip.yaml"
# what no shown figure may look like: a float's raw digits (81509118202.229996, 0.0442477)
# or scientific notation (6.740496e+10)
RAW = re.compile(r"\d\.\d{4,}|\d[eE][+-]\d")


@pytest.fixture(scope="module")
def toy() -> sim.Result:
    return sim.run(sim.load_scenario(TOY))


# ---- cells --------------------------------------------------------------------------------------
def test_money_is_in_billions_with_two_decimals_and_no_cent_noise() -> None:
    assert tables.dollars(81509118202.229996) == "$81.51B"
    assert tables.dollars(1_214_850_000_000) == "$1,214.85B"
    assert tables.dollars(999_999_000) == "$1.00B"  # not "$1,000.00M"


def test_small_money_is_in_millions_then_whole_dollars() -> None:
    assert tables.dollars(600_000_000) == "$600.00M"
    assert tables.dollars(1_234_567.891) == "$1.23M"
    assert tables.dollars(12_345.67) == "$12,346"
    assert tables.dollars(0.25) == "$0.25"
    assert tables.dollars(0.004) == "$0"  # less than half a cent: float noise, not money
    assert tables.dollars(-0.0) == "$0"


def test_negative_money_carries_its_sign_before_the_dollar() -> None:
    assert tables.dollars(-71.5e9) == "-$71.50B"
    assert tables.show(-847_457_627.12, "money") == "-$847.46M"


def test_shares_dates_and_numbers() -> None:
    assert tables.show(0.17196, "ratio") == "17.2%"  # 8.60 / 50.00
    assert tables.show(pd.Timestamp("2029-11-01"), "date") == "2029-11-01"
    assert tables.show(dt.date(2026, 10, 1), "date") == "2026-10-01"
    assert tables.show(1e10, None) == "10,000,000,000"  # a sweep's index, not 1.000000e+10
    assert tables.show(0.0625, None) == "0.0625"
    assert tables.show(3.0, "integer") == "3"


def test_a_missing_figure_reads_n_a_a_date_that_never_came_never_and_no_figure_a_dash() -> None:
    # NaN: the agent is there, the figure is undefined (no stake, nothing spent on its cloud)
    assert tables.show(math.nan, "money") == "n/a"
    assert tables.show(math.nan, "ratio") == "n/a"
    # NaT: no payback within the horizon, a cash that never ran out
    assert tables.show(pd.NaT, "date") == "never"
    # None: no such agent in this scenario (a comparison's blank cell)
    assert tables.show(None, "money") == "—"
    assert tables.show(None, "text") == ""  # a run without an error


# ---- kinds and names ----------------------------------------------------------------------------
def test_every_metric_has_a_display_kind_from_its_declaration() -> None:
    for name in (*INVESTOR_METRICS, *LAB_METRICS):
        # "number": the cap table's counts of shares (SHARE_COUNTS), neither cents nor a share
        expected = ("number",) if name in SHARE_COUNTS else ("money", "ratio", "date")
        assert tables.metric_kind(name) in expected, name
    # an investor metric is declared in exactly one of the four
    for name in INVESTOR_METRICS:
        kinds = [name in MONEY, name in RATIOS, name in DATES, name in SHARE_COUNTS]
        assert kinds.count(True) == 1, name
    assert tables.metric_kind("round_trip_ratio") == "ratio"
    assert tables.metric_kind("cash_out_date") == "date"
    assert tables.metric_kind("net_result") == "money"
    with pytest.raises(KeyError, match="no metric"):
        tables.metric_kind("round_trip_ratios")


def test_metric_labels_are_words_with_their_unit_and_no_two_alike() -> None:
    assert tables.metric_label("incremental_profit") == "Incremental profit, cash ($)"
    assert tables.metric_label("incremental_profit_booked") == "Incremental profit, booked ($)"
    assert tables.metric_label("round_trip_ratio") == "Round trip ratio (%)"
    assert (
        tables.metric_label("pv_incremental_profit_investment_only")
        == "PV incremental profit, investment alone ($)"
    )
    assert tables.metric_label("round_trip_own_cloud") == "Round trip, own cloud ($)"
    assert tables.metric_label("spend_on_own_cloud") == "Spend on own cloud, cash ($)"
    assert tables.metric_label("effective_post_money") == "Effective post-money ($)"
    assert tables.metric_label("incremental_payback_date") == "Incremental payback date"
    names = list(dict.fromkeys((*INVESTOR_METRICS, *LAB_METRICS)))
    assert len({tables.metric_label(n) for n in names}) == len(names)


def test_agents_and_inputs_are_named_from_the_scenario(toy: sim.Result) -> None:
    s = toy.scenario
    assert tables.label("bigtech", s) == "BigTech"
    assert tables.label("bigtech.round_trip", s) == "BigTech: round trip ($)"
    assert tables.label("in:agents.bigcloud.margin", s) == "BigCloud margin"
    assert tables.kind_of("in:agents.bigcloud.margin", s) == "ratio"
    assert tables.kind_of("in:deals.0.amount", s) == "money"


# ---- frames -------------------------------------------------------------------------------------
def test_a_metric_zero_or_empty_throughout_is_left_out_unless_asked_for() -> None:
    raw = pd.DataFrame(
        {"a": [12e9, 0.0, math.nan, 0.1], "b": [3e9, 0.0, math.nan, math.nan]},
        index=["invested", "unmet_compute", "stake", "round_trip_ratio"],
    )
    shown = tables.text(raw)
    assert list(shown.index) == ["Invested ($)", "Round trip ratio (%)"]
    assert shown.loc["Invested ($)"].tolist() == ["$12.00B", "$3.00B"]
    assert shown.loc["Round trip ratio (%)"].tolist() == ["10.0%", "n/a"]
    assert len(tables.text(raw, keep_empty=True)) == 4
    # a date that never came is an answer, not an empty row
    dates = pd.DataFrame({"a": [pd.NaT]}, index=["incremental_payback_date"])
    assert tables.text(dates).iloc[0, 0] == "never"


def test_the_result_shows_readable_html_while_its_metrics_stay_numbers(toy: sim.Result) -> None:
    html = toy._repr_html_()
    assert "BigTech" in html and "LabCo" in html
    # toy: $12B invested, profit 50% x 40% x $12B = $2.4B, round trip 40% of invested
    for shown in ("$12.00B", "$2.40B", "40.0%", "2026-10-01", "Incremental profit, cash ($)"):
        assert shown in html, shown
    assert not RAW.findall(html) and "None" not in html and "nan" not in html
    assert "Unmet other" not in html  # zero throughout: left out
    assert toy.metrics.loc["bigtech", "invested"] == 12e9  # the raw frame is untouched
    assert RAW.findall(toy.metrics.T.to_html())  # and pandas shows it raw (9668023209.299999)
    assert "Unmet other ($)" in toy.table("labs", keep_empty=True).to_html()


def test_a_sweeps_rows_and_headline_read_in_the_inputs_units(toy: sim.Result) -> None:
    from sim.runs import studies

    rows = sim.sweep(TOY, vary=["deals.0.amount=5e9..15e9:3"])
    html = tables.readable(rows, scenario=toy.scenario).to_html()
    assert "$15.00B" in html and not RAW.findall(html)
    headline = tables.text(studies.headline(rows), scenario=toy.scenario)
    assert list(headline.index) == ["$5.00B", "$10.00B", "$15.00B"]
    assert "BigTech: incremental profit, booked ($)" in headline.columns
    assert rows["in:deals.0.amount"].tolist() == [5e9, 10e9, 15e9]  # still numbers


def test_a_comparison_shows_a_dash_for_an_absent_agent_not_none() -> None:
    frame = sim.compare([TOY, ROOT / "scenarios" / "amazon_anthropic.yaml"])
    html = tables.readable(frame).to_html()
    assert "None" not in html and "—" in html and not RAW.findall(html)
    assert "$235.75B" in html  # Amazon's relationship profit with Anthropic
    assert frame.loc[("investor", "BigTech", "invested"), "amazon_anthropic"] is None


def test_a_sensitivity_table_names_its_inputs_and_shows_their_units() -> None:
    assert set(tables.SENSITIVITY_METRIC) | set(tables.SENSITIVITY_INPUT) <= set(
        sensitivity.COLUMNS
    )
    table = sim.sensitivity(TOY)
    shown = tables.sensitivity_text(table).set_index("Input")
    # margin 50% swung 20%: 40% and 60%; profit 2.4 x 0.8 = $1.92B and 2.4 x 1.2 = $2.88B
    assert shown.loc["BigCloud margin", ["Base", "Low", "High"]].tolist() == [
        "50.0%",
        "40.0%",
        "60.0%",
    ]
    assert shown.loc["BigCloud margin", ["At low", "At high", "Swing"]].tolist() == [
        "$1.92B",
        "$2.88B",
        "$960.00M",
    ]
    html = tables.readable(table).to_html()
    assert "Incremental profit, cash ($) of BigTech" in html and not RAW.findall(html)
    assert not RAW.findall(sensitivity.to_text(table))


def test_a_matrix_is_shown_whole_in_money_by_account_labels(toy: sim.Result) -> None:
    m = toy.matrices().consolidated
    shown = tables.text(m.frame(), scenario=toy.scenario, kind="money")
    assert "BigTech + BigCloud" in shown.columns
    assert shown.loc["investment", "LabCo"] == "$12.00B"
    html = tables.matrix(m, toy.scenario).to_html()
    assert not RAW.findall(html) and html.count("col_heading level0") == len(shown.columns)
    # in Jupyter a matrix shows itself the same way, not as a raw dataclass
    itself = m._repr_html_()
    assert "$12.00B" in itself and not RAW.findall(itself)


def test_any_frame_takes_the_kinds_of_its_columns_and_text_stays_text() -> None:
    # a cycles table (Result.cycles): dollars and shares whose names are no metrics
    raw = pd.DataFrame(
        {
            "group": ["google", math.nan],
            "path": ["google -> anthropic -> google_cloud", "amazon -> openai -> aws -> amazon"],
            "throughput": [11_262_000_000.4, 2_590_000_000.0],
            "share": [0.27812, 0.0351],
        }
    )
    shown = tables.text(raw, kinds={"throughput": "money", "share": "ratio"})
    assert shown["group"].tolist() == ["google", ""]  # no group: blank, not n/a
    assert shown["throughput"].tolist() == ["$11.26B", "$2.59B"]
    assert shown["share"].tolist() == ["27.8%", "3.5%"]
