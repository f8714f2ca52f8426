"""Reading YAML strictly with positions and comments, files, and overrides."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from sim.errors import ScenarioError
from sim.inputs.loader import EMPTY_FILE, load_scenario, parse_scenario, read_yaml

BUNDLED = Path(__file__).resolve().parent.parent / "scenarios" / "amazon_openai_50b.yaml"

SMALL = """\
name: test
start: 2026-01-01
horizon: 2y
agents:
  openai: {kind: lab, cash: 10B}
  aws: {kind: cloud, margin: 35%}
"""


def yaml_error(text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        read_yaml(text, "x.yaml")
    return info.value


def test_positions_are_one_based_line_and_column_of_values_and_keys() -> None:
    doc = read_yaml(SMALL, "x.yaml")
    assert doc.positions[("horizon",)] == (3, 10)
    assert doc.positions[("agents", "openai", "cash")] == (5, 29)
    assert doc.key_positions[("agents", "aws")] == (6, 3)
    assert doc.key_positions[("agents", "aws", "margin")] == (6, 22)


def test_comments_above_a_key_and_after_its_value_are_kept_by_dotted_path() -> None:
    text = (
        "# header, kept apart by a blank line\n"
        "\n"
        "# first line of a source\n"
        "# second line\n"
        "horizon: 8y  # AWS agreement [C]\n"
        "agents:  # who takes part\n"
        "  aws: {kind: cloud, margin: 35%}  # 2025 margin\n"
        "deals:\n"
        "  # the round\n"
        "  - kind: investment\n"
        "    tranches:\n"
        "      - {at: 2026-03-01, amount: 15B}  # upfront\n"
    )
    assert read_yaml(text, "x.yaml").comments == {
        "horizon": "first line of a source second line AWS agreement [C]",
        "agents": "who takes part",
        "agents.aws": "2025 margin",
        "deals.0": "the round",
        "deals.0.tranches.0": "upfront",
    }


def test_yaml_12_booleans_only_no_and_on_stay_text() -> None:
    doc = read_yaml("a: no\nb: yes\nc: on\nd: off\ne: y\nf: true\ng: FALSE\nh: True\n", "x")
    assert doc.data == {
        "a": "no", "b": "yes", "c": "on", "d": "off", "e": "y", "f": True, "g": False, "h": True
    }  # fmt: skip


def test_numbers_dates_and_text_read_as_expected() -> None:
    doc = read_yaml("a: 2_500_000\nb: 1.5\nc: 1e9\nd: 2026-03-01\ne: 1:30\nf: 010\ng: ~\n", "x")
    assert doc.data == {
        "a": 2_500_000,
        "b": 1.5,
        "c": 1e9,
        "d": dt.date(2026, 3, 1),
        "e": "1:30",  # no YAML 1.1 sexagesimal (90)
        "f": "010",  # no YAML 1.1 octal (8)
        "g": None,
    }


def test_duplicate_key_is_an_error_naming_both_lines() -> None:
    e = yaml_error("name: a\nagents:\n  aws: {kind: cloud}\n  aws: {kind: lab}\n")
    assert (e.file, e.line, e.column, e.path) == ("x.yaml", 4, 3, "agents.aws")
    assert "duplicate key 'aws' (first at line 3, again at line 4)" in e.message


def test_python_tags_are_refused_not_constructed() -> None:
    e = yaml_error("name: a\ncash: !!python/object/apply:os.system ['echo hi']\n")
    assert (e.line, e.column, e.path) == (2, 7, "cash")
    assert "the tag '!!python/object/apply:os.system' is not allowed" in e.message


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n# and another\n", "---\n"])
def test_empty_file_says_what_a_scenario_is(text: str) -> None:
    e = yaml_error(text)
    assert e.message == EMPTY_FILE
    assert "name, start, horizon, step, agents, deals" in str(e)


def test_not_yaml_reports_the_mark_and_the_problem() -> None:
    e = yaml_error("name: a\nagents: [aws,\n")
    assert str(e).startswith("x.yaml:3:1: not valid YAML: expected the node content")
    e = yaml_error("name: a: b\n")
    assert (e.line, e.column) == (1, 8)
    assert "mapping values are not allowed here" in e.message


def test_top_level_list_is_refused() -> None:
    e = yaml_error("- name: a\n- name: b\n")
    assert str(e) == (
        "x.yaml:1:1: a scenario is a mapping with keys name, start, horizon, step, agents, "
        "deals; this file holds a list"
    )


def test_second_document_is_refused() -> None:
    e = yaml_error("name: a\n---\nname: b\n")
    assert e.line == 2
    assert "more than one YAML document" in e.message


def test_recursive_alias_and_alias_bomb_are_refused() -> None:
    assert "contains it" in yaml_error("a: &x [*x]\n").message
    bomb = "a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{b}: &{b} [{', '.join(['*' + a] * 10)}]\n" for a, b in zip("abcde", "bcdef", strict=True)
    )
    start = time.perf_counter()
    assert "expands to more than" in yaml_error(bomb).message
    assert time.perf_counter() - start < 5


def test_bundled_file_loads() -> None:
    s = load_scenario(BUNDLED)
    assert s.name == "Amazon puts $50B into OpenAI"
    assert s.source == str(BUNDLED)
    assert "2026-02-27 [C]" in s.comments["deals.0"]


def test_missing_file_and_directory_are_named(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "nope.yaml")
    assert str(info.value) == f"{tmp_path / 'nope.yaml'}: no such file"
    with pytest.raises(ScenarioError, match="is a directory") as info:
        load_scenario(tmp_path)
    assert info.value.file == str(tmp_path)


def test_set_strings_are_read_as_yaml_values() -> None:
    s = load_scenario(
        BUNDLED,
        [
            "horizon=5y",
            "agents.aws.margin=0.3",
            "deals.0.tranches.1.amount=20B",
            "agents.openai.revenue={annual: 25B, growth: 10%}",
        ],
    )
    assert s.horizon.months == 60
    assert s.sellers["aws"].margin == 0.3
    assert s.investments[0].tranches[1].amount == 20 * 10**9 * 100
    assert (s.labs["openai"].revenue.annual, s.labs["openai"].revenue.growth) == (
        25 * 10**11,
        0.1,
    )
    assert s.resolved["horizon"] == "5y"
    assert s.comments["agents.aws.margin"] == "set by --set agents.aws.margin=0.3"


def test_mapping_and_keyword_overrides_take_python_values() -> None:
    s = load_scenario(BUNDLED, {"agents.openai.cash": "10B", "seed": 7}, horizon="5y")
    assert (s.labs["openai"].cash, s.seed, s.horizon.months) == (10**12, 7, 60)
    s = load_scenario(BUNDLED, agents__openai__spending__compute__providers__aws="10%")
    assert s.labs["openai"].providers["aws"] == 0.1


def test_set_may_add_a_new_key_or_list_item_at_a_valid_place() -> None:
    s = parse_scenario(SMALL, "x.yaml", ["agents.aws.payment_terms=45d", "step=1w"])
    assert (s.sellers["aws"].payment_terms.days, s.step.days) == (45, 7)
    contract = "{kind: compute_contract, lab: openai, cloud: aws, total: 1B, over: 1y}"
    s = parse_scenario(SMALL + "deals: []\n", "x.yaml", [f"deals.0={contract}"])
    assert s.contracts[0].id == "openai-aws-contract"


def test_set_raising_provider_share_reports_the_sum_against_the_override() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(BUNDLED, ["agents.openai.spending.compute.providers.aws=60%"])
    e = info.value
    assert e.file == "--set agents.openai.spending.compute.providers.aws=60%"
    assert e.line is None
    assert "sum to 140% (aws 60%, azure 50%, oracle 20%, coreweave 10%)" in e.message


def test_set_through_a_missing_parent_suggests_the_near_name() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(BUNDLED, ["agents.opnai.cash=1B"])
    assert str(info.value).startswith(
        "--set agents.opnai.cash=1B: no key 'opnai' under agents (did you mean 'openai'?)"
    )


def test_set_of_an_unknown_last_key_is_caught_by_validation_with_the_override_named() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(BUNDLED, horizn="5y")
    assert str(info.value).startswith(
        "--set horizn=5y: horizn: unknown key 'horizn' (did you mean 'horizon'?); accepted keys: "
        "name, description, start, horizon, step, tracing, seed, discount_rate, milestones, "
        "agents, deals"
    )


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("horizon", "expected path=value"),
        ("name.x=1", "name is 'test', not a mapping or list"),
        ("agents.openai.cash.x=1", "agents.openai.cash is '10B', not a mapping or list"),
        ("deals.3.id=x", "no key 'deals' under the top level"),
        ("agents..cash=1", "is not a dotted path"),
        ("horizon={a: [1", "not valid YAML"),
        ("horizon=!!python/name:os.system", "is not allowed"),
    ],
)
def test_bad_set_strings_are_reported_against_the_override(override: str, message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(SMALL, "x.yaml", [override])
    assert info.value.file == f"--set {override}"
    assert message in info.value.message


def test_list_index_out_of_range_says_how_many_items() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(BUNDLED, ["deals.9.id=x"])
    assert "deals has 8 items (indices 0..7); index 9 is out of range" in info.value.message
