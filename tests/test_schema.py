"""Validation: defaults, the typed Scenario, resolved inputs and plain error messages."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
import yaml

from sim.errors import ScenarioError
from sim.inputs.loader import load_scenario, parse_scenario
from sim.inputs.scenario import MAX_STEPS
from sim.inputs.units import Duration

BUNDLED = Path(__file__).resolve().parent.parent / "scenarios" / "amazon_openai_50b.yaml"
B = 10**9 * 100  # cents in a billion dollars

# Line numbers are referred to below: 1 name ... 10 compute, 11 aws, 17 pre_money, 19-20 tranches.
BASE = """\
name: test
start: 2026-01-01
horizon: 2y
agents:
  amazon: {kind: investor, owns: [aws]}
  openai:
    kind: lab
    cash: 10B
    spending:
      compute: {annual: 12B, providers: {aws: 60%, azure: 30%}}
  aws: {kind: cloud, margin: 35%}
  azure: {kind: cloud, margin: 40%}
deals:
  - kind: investment
    investor: amazon
    lab: openai
    pre_money: 100B
    tranches:
      - {at: 2026-01-01, amount: 5B}
      - {at: 2027-01-01, amount: 5B}
"""


def error(old: str, new: str) -> ScenarioError:
    """The error from BASE with ``old`` replaced by ``new``."""
    assert old in BASE
    with pytest.raises(ScenarioError) as info:
        parse_scenario(BASE.replace(old, new, 1), "x.yaml")
    return info.value


def test_bundled_file_becomes_the_typed_scenario() -> None:
    s = load_scenario(BUNDLED)
    assert (s.start, s.horizon, s.step, s.tracing, s.discount_rate) == (
        dt.date(2026, 3, 1), Duration(months=96), Duration(months=1), "pro_rata", 0.08
    )  # fmt: skip
    assert s.investors["amazon"].owns == ["aws"]
    assert s.investors["nvidia"].owns == s.investors["softbank"].owns == []
    lab = s.labs["openai"]
    assert (lab.cash, lab.revenue.annual, lab.revenue.growth) == (20 * B, 20 * B, 0.5)
    assert (lab.compute.annual, lab.compute.growth, lab.other.annual) == (
        30 * B, 0.4, 8 * B
    )  # fmt: skip
    assert list(lab.providers.items()) == [
        ("aws", 0.2), ("azure", 0.5), ("oracle", 0.2), ("coreweave", 0.1)
    ]  # fmt: skip
    assert lab.financing is not None and (lab.financing.kind, lab.financing.limit) == (
        "equity", 150 * B
    )  # fmt: skip
    assert s.sellers["aws"].margin == 0.35
    assert s.sellers["aws"].payment_terms == Duration()
    amazon, nvidia, softbank = s.investments
    assert (amazon.id, amazon.total, amazon.post_money_valuation) == (
        "amazon-openai", 50 * B, 852 * B
    )  # fmt: skip
    assert [t.at for t in amazon.tranches] == [dt.date(2026, 3, 1), dt.date(2027, 3, 1)]
    assert s.milestones == {"ipo_or_agi": dt.date(2027, 3, 1)}
    assert nvidia.total == softbank.total == 30 * B
    aws_2025, expansion = s.contracts[:2]
    assert (aws_2025.cloud, aws_2025.years[0], aws_2025.with_investment) == (
        "aws", (2026, 4 * B), None
    )  # fmt: skip
    assert (expansion.id, expansion.total, expansion.growth, expansion.with_investment) == (
        "aws-expansion", 100 * B, 0.25, "amazon-openai"
    )  # fmt: skip
    assert expansion.payment_terms == aws_2025.payment_terms == Duration(days=30)
    assert [c.cloud for c in s.contracts] == ["aws", "aws", "azure", "oracle", "coreweave"]


def test_resolved_inputs_dump_and_load_back_to_an_equal_scenario() -> None:
    s = load_scenario(BUNDLED)
    assert s.resolved["agents"]["openai"]["cash"] == 20_000_000_000  # dollars
    assert s.resolved["agents"]["aws"]["payment_terms"] == "0d"  # default written out
    assert s.resolved["deals"][4]["start"] == dt.date(2026, 3, 1)
    for sort_keys in (True, False):
        text = yaml.safe_dump(s.resolved, sort_keys=sort_keys)
        again = parse_scenario(text, str(BUNDLED))
        assert again == s
        assert again.resolved == s.resolved


def test_defaults_are_filled_and_cents_written_as_decimal_text() -> None:
    text = BASE.replace("cash: 10B", "cash: 0.01").replace("    pre_money: 100B\n", "")
    s = parse_scenario(text, "x.yaml")
    assert s.labs["openai"].cash == 1
    assert s.resolved["agents"]["openai"]["cash"] == "0.01"
    # a deal that states no valuation writes none (absent is the default, as for every input)
    assert not {"pre_money", "round_size", "post_money", "stake"} & set(s.resolved["deals"][0])
    assert s.resolved["agents"]["openai"]["revenue"] == {"annual": 0, "growth": 0.0}
    assert (s.step, s.seed, s.description) == (Duration(months=1), 0, "")
    assert parse_scenario(yaml.safe_dump(s.resolved), "x.yaml") == s


def test_deal_ids_default_and_are_made_unique() -> None:
    extra = "  - {kind: investment, investor: amazon, lab: openai, tranches: [{at: 2026-06-01, amount: 1B}]}\n"  # noqa: E501
    s = parse_scenario(BASE + extra + extra.replace("kind: inv", "id: mine, kind: inv"), "x")
    assert [i.id for i in s.investments] == ["amazon-openai", "amazon-openai-2", "mine"]


def test_pro_hyphen_rata_is_accepted_as_pro_rata() -> None:
    assert parse_scenario("tracing: pro-rata\n" + BASE, "x").tracing == "pro_rata"


def test_error_names_file_line_column_path_and_accepted_form() -> None:
    e = error("cash: 10B", "cash: lots")
    assert str(e) == (
        "x.yaml:8:11: agents.openai.cash: expected an amount such as 50B, $38bn, 500M, 1.2T, "
        "2,500,000 or 1e9 (dollars), got 'lots'"
    )


@pytest.mark.parametrize(
    ("old", "new", "where", "message"),
    [
        ("cash: 10B", "cash: -1B", (8, 11), "must not be negative, got '-1B'"),
        ("{at: 2026-01-01, amount: 5B}", "{at: 2026-01-01, amount: 0}", (19, 34), "more than zero"),
        ("pre_money: 100B", "pre_money: -100B", (17, 16), "must be more than zero, got '-100B'"),
        ("margin: 35%", "margin: 100%", (11, 30), "at least 0% and below 100%, got '100%'"),
        ("aws: 60%", "aws: 60", (10, 47), "between 0% and 100%, got 60 (write 60% for 60 percent)"),
        ("horizon: 2y", "horizon: 2 years and a bit", (3, 10), "expected a duration such as 90d"),
        ("horizon: 2y", "horizon: 0d", (3, 10), "must be longer than zero, got '0d'"),
        ("start: 2026-01-01", "start: 2026-02-30", (2, 8), "invalid date '2026-02-30'"),
        ("start: 2026-01-01", "start: soon", (2, 8), "expected an ISO date such as 2026-03-01"),
        ("name: test", "name: 2026", (1, 7), "expected text, got 2026"),
        ("owns: [aws]", "owns: aws", (5, 34), "expected a list such as [a, b], got 'aws'"),
    ],
)
def test_bad_values_are_reported_at_the_value(
    old: str, new: str, where: tuple[int, int], message: str
) -> None:
    e = error(old, new)
    assert (e.file, e.line, e.column) == ("x.yaml", *where)
    assert message in e.message


def test_providers_summing_past_100_percent_say_the_sum_and_the_shares() -> None:
    e = error("azure: 30%", "azure: 50%")
    assert (e.line, e.column, e.path) == (10, 30, "agents.openai.spending.compute.providers")
    assert "sum to 110% (aws 60%, azure 50%), more than 100%" in e.message


def test_reference_to_a_missing_agent_lists_the_valid_names() -> None:
    e = error("lab: openai", "lab: opneai")
    assert str(e) == (
        "x.yaml:16:10: deals.0.lab: no agent named 'opneai' (did you mean 'openai'?); labs: openai"
    )
    e = error("owns: [aws]", "owns: [openai]")
    assert "'openai' is a lab, not a cloud or a vendor; clouds and vendors: aws, azure" in e.message
    e = error("{aws: 60%,", "{aws: 60%, oracle: 1%,")
    assert (e.line, e.path) == (10, "agents.openai.spending.compute.providers.oracle")
    assert "no agent named 'oracle'" in e.message


def test_cloud_with_two_owners_is_refused() -> None:
    e = error("  openai:\n", "  bezos: {kind: investor, owns: [aws]}\n  openai:\n")
    assert (e.line, e.path) == (6, "agents.bezos.owns.0")
    assert (
        "'aws' is already owned by 'amazon'; a cloud or vendor has at most one owner" in e.message
    )


@pytest.mark.parametrize(
    ("name", "message"),
    [("open-ai", "letters, digits and _ starting with a letter"), ("funding", "outside the model")],
)
def test_bad_or_reserved_agent_names_are_refused(name: str, message: str) -> None:
    e = error("  azure:", f"  {name}: {{kind: investor}}\n  azure:")
    assert (e.line, e.column, e.path) == (12, 3, f"agents.{name}")
    assert message in e.message


def test_no_is_text_not_a_boolean_so_tracing_no_lists_the_choices() -> None:
    e = error("name: test", "name: test\ntracing: no")
    assert str(e) == "x.yaml:2:10: tracing: expected one of pro_rata, fifo; got 'no'"


def test_tranche_outside_the_horizon_points_at_its_date() -> None:
    e = error("at: 2027-01-01", "at: 2028-01-01")
    assert (e.line, e.column, e.path) == (20, 14, "deals.0.tranches.1.at")
    assert e.message == (
        "the tranche date 2028-01-01 is outside the horizon; the horizon runs from 2026-01-01 "
        "to 2028-01-01 (its end excluded)"
    )


def test_two_contracts_for_one_pair_add_up_and_must_share_payment_terms() -> None:
    contract = "  - {kind: compute_contract, lab: openai, cloud: aws, total: 1B, over: 1y}\n"
    s = parse_scenario(BASE + contract + contract, "x.yaml")
    assert [c.total for c in s.contracts] == [10**11, 10**11]
    later = contract.replace("over: 1y}", "over: 1y, payment_terms: 30d}")
    with pytest.raises(ScenarioError) as info:
        parse_scenario(BASE + contract + later, "x.yaml")
    assert (info.value.line, info.value.path) == (22, "deals.2.payment_terms")
    assert "deals.1 is also a compute contract between 'openai' and 'aws', paid 0d" in str(
        info.value
    )


def test_unknown_key_suggests_the_near_one_and_lists_accepted_keys() -> None:
    e = error("    cash: 10B", "    cash: 10B\n    reveneu: {annual: 1B}")
    assert str(e) == (
        "x.yaml:9:5: agents.openai.reveneu: unknown key 'reveneu' (did you mean 'revenue'?); "
        "accepted keys: kind, label, cash, shares, revenue, spending, financing"
    )


def test_missing_or_unknown_kind_lists_the_three_kinds() -> None:
    e = error("    kind: lab\n", "")
    assert (
        str(e) == "x.yaml:6:3: agents.openai: missing 'kind'; "
        "expected one of: investor, lab, cloud, vendor"
    )
    e = error("kind: lab", "kind: labb")
    assert (e.line, e.column) == (7, 11)
    assert (
        "unknown kind 'labb' (did you mean 'lab'?); expected one of: investor, lab, cloud, vendor"
        in str(e)
    )


def test_missing_required_key_points_at_its_parent() -> None:
    e = error("{kind: cloud, margin: 35%}", "{kind: cloud}")
    assert str(e) == "x.yaml:11:3: agents.aws: missing required key 'margin'"


def test_several_errors_report_the_first_by_place_and_count_the_rest() -> None:
    text = BASE.replace("margin: 40%", "margin: lots").replace("cash: 10B", "cash: lots")
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "x.yaml")
    assert info.value.line == 8
    assert info.value.message.endswith("got 'lots' (and 1 more error)")


def test_grid_at_the_limit_runs_and_past_it_is_refused_at_once() -> None:
    # 100 years from 2026-01-01 hold 24 leap days: 36,524 daily steps, under the limit.
    ok = parse_scenario(BASE.replace("horizon: 2y", "horizon: 100y\nstep: 1d"), "x")
    assert (ok.end - ok.start).days == 36_524 < MAX_STEPS
    start = time.perf_counter()
    e = error("horizon: 2y", "horizon: 36601d\nstep: 1d")
    assert time.perf_counter() - start < 0.5
    assert (e.line, e.path) == (3, "horizon")
    assert "is 36,601 steps, more than the 36,600 a run may have" in e.message
    assert "coarser step" in e.message


def test_horizon_longer_than_100_years_is_refused() -> None:
    assert parse_scenario(BASE.replace("horizon: 2y", "horizon: 100y"), "x").end.year == 2126
    assert "a duration is at most 100 years" in error("horizon: 2y", "horizon: 101y").message
    # 36,600 days is a duration, but from 2026-01-01 more than 100 years (36,524 days)
    e = error("horizon: 2y", "horizon: 36600d")
    assert e.message == (
        "the horizon 36600d is longer than 100 years; at most 100y, or 36,524d from 2026-01-01"
    )


def test_override_errors_name_the_override() -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(BASE, "x.yaml", agents__openai__cash="-1B")
    assert str(info.value) == (
        "--set agents.openai.cash=-1B: agents.openai.cash: must not be negative, got '-1B'"
    )


def test_every_input_is_declared_once_as_a_field_of_a_model() -> None:
    # the typed scenario adds no input to the validated model: what the engine reads is the
    # models' fields (and what is read off them), and the resolved file dumps the same fields
    import dataclasses

    import sim.inputs.scenario
    from sim.inputs import models as schema
    from sim.inputs.scenario import Scenario

    assert Scenario.model_fields.keys() == schema.ScenarioModel.model_fields.keys()
    made_here = [
        v
        for v in vars(sim.inputs.scenario).values()
        if getattr(v, "__module__", "") == "sim.inputs.scenario"
    ]
    assert not [v for v in made_here if dataclasses.is_dataclass(v)]
    for path in sorted(BUNDLED.parent.glob("*.yaml")):
        s = load_scenario(path)
        assert s.agents.keys() == {**s.investors, **s.labs, **s.sellers}.keys() and all(
            isinstance(a, schema.InvestorModel | schema.LabModel | schema.SellerModel)
            for a in s.agents.values()
        )
        assert all(a.name == n for n, a in s.agents.items())
        # every field of every agent and deal is in the resolved file, by the name the file uses
        for kind, parts in (("agents", s.agents.items()), ("deals", enumerate(s.deals))):
            for key, part in parts:
                written = s.resolved[kind][key]
                fields = {f.alias or n for n, f in type(part).model_fields.items()}
                assert set(written) <= fields
                # (but a field left out at its default, so that stating it keeps the hash)
                assert {
                    f.alias or n
                    for n, f in type(part).model_fields.items()
                    if getattr(part, n) not in (None, {})
                    and not (f.exclude_if is not None and f.exclude_if(getattr(part, n)))
                } <= set(written)
