"""Human names of inputs and deals (sim/inputs/names.py), made from the scenario's own labels,
deal ids and each input's declared unit."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim
from sim.errors import ScenarioError
from sim.inputs.names import deal_name, input_name

ROOT = Path(__file__).resolve().parent.parent
FIFTY = sim.load_scenario(ROOT / "scenarios" / "amazon_openai_50b.yaml")
WEB = sim.load_scenario(ROOT / "scenarios" / "whole_web.yaml")


def test_a_deal_is_named_by_its_id_in_words_with_agents_by_their_labels() -> None:
    # deals.4 has the id aws-expansion; aws is the agent labelled AWS
    assert deal_name(FIFTY, 4) == "AWS expansion (aws-expansion)"
    assert deal_name(FIFTY, "4") == deal_name(FIFTY, "aws-expansion")
    assert deal_name(FIFTY, 0) == "Amazon OpenAI (amazon-openai)"


def test_a_deal_without_an_id_is_named_by_the_id_made_for_it() -> None:
    # whole_web.yaml's revenue share states no id: it is openai-microsoft-revenue-share
    assert deal_name(WEB, 1) == "OpenAI Microsoft revenue share (openai-microsoft-revenue-share)"


def test_a_deal_that_is_not_there_is_refused_with_the_count() -> None:
    with pytest.raises(ScenarioError, match="has 8 deals"):
        deal_name(FIFTY, 99)
    with pytest.raises(ScenarioError, match="no deal with the id 'nope'"):
        deal_name(FIFTY, "nope")


def test_an_input_inside_a_deal_is_the_deals_name_and_the_key() -> None:
    assert input_name(FIFTY, "deals.4.total") == "AWS expansion (aws-expansion): total"
    assert input_name(FIFTY, "deals.0.tranches.1.amount") == (
        "Amazon OpenAI (amazon-openai): tranche 2 amount"
    )


def test_a_rate_or_a_flow_says_a_year_from_its_declared_unit() -> None:
    assert input_name(FIFTY, "agents.openai.revenue.growth") == "OpenAI revenue growth, a year"
    assert input_name(FIFTY, "agents.openai.revenue.annual") == "OpenAI revenue, a year"
    assert input_name(FIFTY, "discount_rate") == "Discount rate, a year"
    assert input_name(FIFTY, "agents.aws.margin") == "AWS margin"  # a share of each payment


def test_shares_of_compute_and_of_costs_name_the_seller_by_its_label() -> None:
    assert input_name(FIFTY, "agents.openai.spending.compute.providers.aws") == (
        "OpenAI share of compute bought at AWS"
    )
    assert input_name(WEB, "agents.oracle.costs.nvidia_systems.share") == (
        "Oracle share of costs routed to Nvidia (systems)"
    )
