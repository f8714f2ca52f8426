"""The JSON Schema of a scenario file (sim/inputs/jsonschema.py, ``roundtrip schema``): made from
the models' declarations, committed as scenarios/scenario.schema.json, and every bundled and test
scenario validates against it as the loader reads it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from sim.cli import main
from sim.inputs.document import read_yaml
from sim.inputs.jsonschema import scenario_schema, schema_text

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "scenarios" / "scenario.schema.json"
FILES = sorted((ROOT / "scenarios").glob("*.yaml")) + sorted((ROOT / "tests/data").glob("*.yaml"))
VALIDATOR = jsonschema.Draft202012Validator(scenario_schema())


def as_editor_reads(text: str) -> Any:
    """YAML as a language server hands it to JSON Schema: dates and year keys as text."""
    return json.loads(json.dumps(read_yaml(text, "<test>").data, default=str))


def errors(text: str) -> list[str]:
    return [e.message for e in VALIDATOR.iter_errors(as_editor_reads(text))]


def test_the_committed_schema_is_the_one_generated() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == schema_text()


def test_the_schema_is_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(scenario_schema())


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_bundled_and_test_scenario_validates(path: Path) -> None:
    assert errors(path.read_text(encoding="utf-8")) == []


def test_every_bundled_scenario_names_the_schema_on_its_first_line() -> None:
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=scenario.schema.json", path.name


BASE = """
name: t
start: 2026-01-01
horizon: 2y
agents:
  lab: {kind: lab, cash: 1B, revenue: {annual: 2B, growth: 40%}, spending:}
  aws: {kind: cloud, margin: 35%, costs: {nvidia: 30%}}
  nvidia: {kind: vendor, margin: 0.6}
"""


def test_what_the_loader_accepts_the_schema_accepts() -> None:
    # text amounts and shares, a bare share for a cost route, an empty mapping for defaults,
    # a distribution in place of a value, a sweep
    ranged = BASE + "sweep: {agents.aws.margin: 20%..40%:3}\ndiscount_rate: {normal: [8%, 1%]}\n"
    assert errors(BASE) == [] and errors(ranged) == []


def test_the_schema_refuses_unknown_keys_out_of_bounds_numbers_and_unknown_kinds() -> None:
    assert errors(BASE.replace("margin: 35%", "margn: 35%"))  # unknown key
    assert errors(BASE.replace("margin: 0.6", "margin: 1.5"))  # a margin is below 100%
    assert errors(BASE.replace("kind: vendor", "kind: chipmaker"))
    assert errors(BASE + "discount_rate: {gamma: [1, 2]}\n")  # no such distribution


def test_each_numeric_field_states_its_description_unit_and_bounds() -> None:
    lab = scenario_schema()["$defs"]["FlowModel"]["properties"]
    assert lab["growth"]["x-unit"] == "share a year"
    assert lab["growth"]["description"] == "growth of the flow, a year"
    number = lab["growth"]["anyOf"][0]
    assert number == {"type": "number", "exclusiveMinimum": -1, "maximum": 10}
    cash = scenario_schema()["$defs"]["LabModel"]["properties"]["cash"]
    assert cash["x-unit"] == "dollars" and cash["anyOf"][0]["maximum"] == 10**13  # $10T


def test_the_command_prints_the_schema_or_writes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schema"]) == 0
    assert capsys.readouterr().out == schema_text()
    out = tmp_path / "s.json"
    assert main(["schema", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == schema_text()
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]  # no temporary file left


def test_the_command_replaces_only_a_schema_it_wrote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "s.json"
    assert main(["schema", "--out", str(out)]) == 0
    assert main(["schema", "--out", str(out)]) == 0  # its own: written again
    mine = tmp_path / "mine.json"
    mine.write_text('{"title": "my notes"}\n')
    capsys.readouterr()
    assert main(["schema", "--out", str(mine)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"error: {mine}: this file is not a schema roundtrip wrote, and roundtrip replaces only "
        "its own; add --force to replace it, or choose another file with --out\n"
    )
    assert mine.read_text() == '{"title": "my notes"}\n'
    assert main(["schema", "--out", str(mine), "--force"]) == 0
    assert mine.read_text(encoding="utf-8") == schema_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.json", "s.json"]


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("folder", "this is a folder; name the schema file, such as scenario.schema.json"),
        ("link", "this is a symbolic link; name the schema file itself"),
        ("missing/s.json", "does not exist"),
    ],
)
def test_the_command_refuses_a_folder_a_link_or_a_missing_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, said: str
) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "target.json").write_text("{}")
    (tmp_path / "link").symlink_to(tmp_path / "target.json")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    assert main(["schema", "--out", str(tmp_path / name)]) == 2
    assert said in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing made or replaced
    assert (tmp_path / "target.json").read_text() == "{}"
