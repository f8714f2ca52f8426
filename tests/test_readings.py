"""Readings an analyst can defend, as a person reads them: every caused figure beside its cause
and the assumption that decides it, the net cost by its parts, the caused revenue under each
substitution (docs/metrics.md, "The cause and the assumption a caused figure names", "The net
cost by its parts", "Substitution")."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim
from sim.analysis import causes
from sim.analysis.tables import money
from sim.views.report.content import headline

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = sorted((ROOT / "scenarios").glob("*.yaml"))


def bundled(name: str) -> sim.Result:
    return sim.run(sim.load_scenario(ROOT / "scenarios" / f"{name}.yaml"))


@pytest.fixture(scope="module")
def fifty() -> sim.Result:
    return bundled("amazon_openai_50b")


def test_the_cause_names_the_contracts_that_came_with_the_investment(fifty) -> None:
    s = fifty.scenario
    assert causes.cause(s, "amazon") == (
        "Amazon's investment in OpenAI with the AWS expansion (aws-expansion) that came with it"
    )
    assert causes.cause(s, "amazon", investment_only=True) == "Amazon's investment in OpenAI alone"
    assert causes.cause(s, "nvidia") == "Nvidia's investment in OpenAI"  # nothing came with it
    assert causes.cause(s, "amazon", amount="$50B", short=True) == (
        "Amazon's $50B with the AWS expansion"
    )


def test_the_deciding_assumption_is_each_labs_financing_rule_or_its_absence(fifty) -> None:
    s = fifty.scenario
    assert causes.assumption(s, "amazon") == (
        "the twin raises what OpenAI lacks as its financing rule allows: outside equity up to "
        "$150.00B, free of cost (counterfactual.substitution: file)"
    )
    assert causes.assumption(s, "amazon", "none").startswith("the twin raises no more by any date")
    assert causes.assumption(s, "amazon", "full").startswith("the twin raises every dollar")
    ms = sim.load_scenario(ROOT / "scenarios" / "microsoft_openai.yaml")
    assert causes.assumption(ms, "microsoft") == (
        "OpenAI has no financing rule: the twin raises nothing; the twin drops the revenue share "
        "with the investment (a term of it) (counterfactual.substitution: file)"
    )
    none = sim.load_scenario(ROOT / "scenarios" / "amazon_openai_50b.yaml")
    none = sim.load_scenario(
        ROOT / "scenarios" / "amazon_openai_50b.yaml", ["counterfactual.substitution=none"]
    )
    assert causes.substitution(none) == "none"
    assert causes.assumption(none, "amazon").endswith("(counterfactual.substitution: none)")


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_every_caused_heading_of_the_summary_names_its_cause_and_assumption(path) -> None:
    r = sim.run(sim.load_scenario(path))
    text, s = r.summary(), r.scenario
    for inv, m in r.metrics_dict()["investors"].items():
        if not (s.investors[inv].owns and m["invested"]):
            continue
        flat = " ".join(text.split())  # the summary wraps its long sentences
        assert f"What {causes.cause(s, inv)} caused:" in flat
        assert f"Deciding assumption: {causes.assumption(s, inv)}" in flat
        if causes.linked(s, inv):
            assert f"What {causes.cause(s, inv, investment_only=True)} caused:" in flat


def test_the_50b_summary_shows_the_investment_alone_under_each_substitution(fifty) -> None:
    m = fifty.metrics_dict()["investors"]["amazon"]
    alone = fifty.summary().split("alone caused", 1)[1]
    table = alone.split("by substitution", 1)[1].splitlines()[1:4]
    for row, which in zip(table, causes.SUBSTITUTIONS, strict=True):
        figure = m[f"incremental_revenue_booked_investment_only_substitution_{which}"]
        assert row.split()[0] == f"{which}:" and money(figure) in row
    # the file's own choice is the headline; not replacing the money causes $3.94B
    assert m["incremental_revenue_booked_investment_only_substitution_file"] == 0
    assert money(m["incremental_revenue_booked_investment_only_substitution_none"]) == "$3.94B"
    assert "the file's choice" in table[1]


def test_microsofts_summary_shows_its_net_cost_by_its_parts() -> None:
    r = bundled("microsoft_openai")
    m = r.metrics_dict()["investors"]["microsoft"]
    lines = [" ".join(line.split()) for line in r.summary().splitlines()]
    parts = {
        "PV invested": m["pv_invested"],
        "in cash": m["pv_invested_cash"],
        "in credits": m["pv_invested_credits"],
        "less PV incr. profit": m["pv_incremental_profit"],
        "less PV incr. share": m["pv_incremental_revenue_share"],
    }
    for label, value in parts.items():
        assert any(line.startswith(f"{label} {money(value)}") for line in lines), label
    # the parts add up to the net cost (to the cent, in dollars), which is below zero
    total = m["pv_invested"] - m["pv_incremental_profit"] - m["pv_incremental_revenue_share"]
    assert total == pytest.approx(m["net_cost"], abs=0.011) and m["net_cost"] < 0
    assert any(line.startswith(f"net cost {money(m['net_cost'])}") for line in lines)
    assert m["pv_invested_cash"] + m["pv_invested_credits"] == pytest.approx(m["pv_invested"])


def test_the_50b_reports_first_page_names_the_expansion_beside_its_figure(fifty) -> None:
    said = headline(fifty)[0]
    m = fifty.metrics_dict()["investors"]["amazon"]
    assert said.startswith(
        "Amazon's $50.00B investment in OpenAI with the AWS expansion (aws-expansion) that came "
        f"with it caused {money(m['incremental_revenue_booked'])} of AWS revenue as booked "
        f"({money(m['incremental_revenue'])} received in cash)"
    )
    assert money(m["incremental_revenue"]) == "$81.51B"
    assert "Amazon's investment in OpenAI alone caused $0.00B of revenue" in said
    assert f"Deciding assumption: {causes.assumption(fifty.scenario, 'amazon')}." in said
    assert "$3.94B (the money it lacks is not replaced)" in said


def test_chart_titles_name_the_cause(fifty) -> None:
    from sim.views.charts import cumulative_flows, run_vs_twin, substitution_chart

    for chart in (run_vs_twin, cumulative_flows):
        fig = chart(fifty)
        title = " ".join(fig.texts[0].get_text().split())
        assert "with the AWS expansion" in title, chart.__name__
        subtitle = " ".join(fig.texts[1].get_text().split())
        assert "Deciding assumption: OpenAI may raise outside equity up to $150.00B" in subtitle
    title = " ".join(substitution_chart(fifty).texts[0].get_text().split())
    assert title == (
        "What Amazon's investment alone caused: $0 as the file assumes, $0 to $3.9B over the "
        "three substitutions"
    )


def test_where_none_causes_less_than_file_the_summary_says_why(fifty) -> None:
    # Anthropic raises its whole $100B limit in the run: the file's twin cannot raise more in
    # all, only sooner, so `none` (the run's raise, by date) can cause a little less than `file`
    r = bundled("amazon_anthropic")
    m = r.metrics_dict()["investors"]["amazon"]
    assert (
        m["incremental_revenue_booked_substitution_none"]
        < m["incremental_revenue_booked_substitution_file"]
    )
    assert r.metrics_dict()["labs"]["anthropic"]["raised"] == 100e9
    flat = " ".join(r.summary().split())
    assert "none causes less than file here: Anthropic raised its whole limit in the run" in flat
    assert "none causes less than file" not in fifty.summary()  # OpenAI raises $90.16B of $150B


LENDER = """\
name: a cloud's owner lends to a lab
start: 2026-01-01
horizon: 1y
discount_rate: 0
agents:
  bank: {kind: investor, owns: [cloud]}
  cloud: {kind: cloud, margin: 0.5}
  lab:
    kind: lab
    spending:
      compute: {annual: 12B, providers: {cloud: 100%}}
deals:
  - {kind: loan, lender: bank, borrower: lab, amount: 3B, at: 2026-01-01, rate: 0.08,
     maturity: 2027-06-01}
"""


def test_a_lenders_summary_says_what_it_lent_what_came_back_and_what_its_loans_caused() -> None:
    r = sim.run(sim.parse_scenario(LENDER, "lender.yaml"))
    m = r.metrics_dict()["investors"]["bank"]
    lines = [" ".join(line.split()) for line in r.summary().splitlines()]
    # $3B lent to a lab with no cash that wants $1B of compute a month at the lender's cloud:
    # it buys while the loan lasts, all of it caused by the loan
    assert m["lent"] == 3e9 and m["incremental_revenue_booked"] > 0
    assert f"lent {money(m['lent'])} interest received" in " ".join(lines)
    assert any(
        line.startswith(f"caused by its loans {money(m['incremental_revenue_booked'])}")
        for line in lines
    )
    assert "Deciding assumption: lab has no financing rule: the twin raises nothing" in " ".join(
        lines
    )
    lab = r.metrics_dict()["labs"]["lab"]
    assert any(line.startswith(f"borrowed {money(lab['borrowed'])}") for line in lines)
