"""scenario.resolved.yaml: read back, it gives the same scenario, inputs hash and comments."""

from __future__ import annotations

import copy
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.errors import ScenarioError
from sim.inputs.loader import read_yaml
from sim.inputs.resolved import (
    _PlainDumper,
    inputs_hash,
    resolved_yaml,
    resolved_yaml_of,
    resolved_yaml_with_sources,
)
from sim.inputs.scenario import Scenario
from sim.io.output import read_run, write_run

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = sorted((ROOT / "scenarios").glob("*.yaml"))
# what write_run puts above the inputs (sim/io/output.py), kept apart from them by a blank line
HEADER = "# Resolved inputs of 'x' (defaults and overrides applied),\n# each with ...\n\n"
LONG_NAME = ("Amazon puts $50B into OpenAI: " + "the round trip, month by month, " * 8).strip()
LONG_NOTE = ("2026-02-27 [C] press release; " + "a long source note that runs on, " * 7).strip()
SMALL = """\
name: {name}
start: 2026-01-01
horizon: 1y
agents:
  inv: {{kind: investor, owns: [own]}}
  lab: {{kind: lab, cash: 1B, spending: {{compute: {{annual: 12B, providers: {{own: 60%}}}}}}}}
  own: {{kind: cloud, margin: 30%}}
deals:
  - {{kind: investment, investor: inv, lab: lab, tranches: [{{at: 2026-01-01, amount: 5B}}]}}
"""


def small(name: str = "small", overrides: dict[str, object] | None = None) -> Scenario:
    return sim.parse_scenario(SMALL.format(name=name), "small.yaml", overrides)


def fold(comments: dict[str, str]) -> dict[str, str]:
    """Comments with every run of whitespace (line breaks included) as one space, empty ones
    dropped: what the resolved file promises to keep of a comment on several lines."""
    folded = {path: " ".join(text.split()) for path, text in comments.items()}
    return {path: text for path, text in folded.items() if text}


def read_back(s: Scenario) -> tuple[str, Scenario]:
    """The resolved text of ``s`` under a header like write_run's, and the scenario it reads as
    (under the same file name, so that ``source`` compares equal)."""
    text = HEADER + resolved_yaml_with_sources(s)
    return text, sim.parse_scenario(text, s.source or "<string>")


def assert_same_inputs(back: Scenario, s: Scenario) -> None:
    assert back == s  # every field the engine reads
    assert back.resolved == s.resolved
    assert back.labels == s.labels
    assert inputs_hash(back) == inputs_hash(s)


# ---------------------------------------------------------------------------------------------
# The bundled scenarios
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_each_bundled_scenario_reads_back_with_the_same_inputs_hash_and_comments(path) -> None:
    s = sim.load_scenario(path)
    text, back = read_back(s)
    assert_same_inputs(back, s)
    assert back.comments == s.comments  # exactly: each comment read from a file is one line
    assert "&id" not in text and "*id" not in text  # no anchors, though dates repeat


def test_an_override_note_lands_beside_the_value_it_changed() -> None:
    tranche = "deals.0.tranches.1={at: 2028-01-01, amount: 35B}"
    overrides = ["agents.aws.margin=25%", "deals.0.tranches.0.at=2026-04-01", tranche]
    s = sim.load_scenario(ROOT / "scenarios" / "amazon_openai_50b.yaml", overrides)
    text, back = read_back(s)
    assert "    margin: 0.25  # set by --set agents.aws.margin=25%\n" in text
    assert "      - at: 2026-04-01  # set by --set deals.0.tranches.0.at=2026-04-01\n" in text
    assert f"      # set by --set {tranche}\n      - at: 2028-01-01\n" in text  # above an item
    assert_same_inputs(back, s)
    assert back.comments == s.comments


def test_the_inputs_hash_is_the_sha256_of_the_inputs_dumped_with_sorted_keys() -> None:
    # the definition the hashes in metrics.json, charts and reports have always had: the
    # values alone, whatever the resolved file's comments and quotes
    s = sim.load_scenario(ROOT / "scenarios" / "amazon_openai_50b.yaml")
    text = yaml.dump(s.resolved, Dumper=_PlainDumper, sort_keys=True, allow_unicode=True)
    assert inputs_hash(s) == hashlib.sha256(text.encode()).hexdigest()[:10]


# ---------------------------------------------------------------------------------------------
# Long values, text over several lines, comments in each place
# ---------------------------------------------------------------------------------------------

HAND_WRITTEN = f"""\
# A scenario written to break the resolved file: long values with comments beside them, text
# over several lines with comments above it, comments on list items and nested keys.

name: "{LONG_NAME}"  # {LONG_NOTE}
# the description is folded: its lines join with spaces
# and this comment is two lines above it
description: >
  {LONG_NOTE}
  {LONG_NOTE}

  A second paragraph, after a blank line, with a # that is not a comment: and a colon.
start: 2026-03-01
horizon: 8y  # {LONG_NOTE}
agents:  # who takes part
  amazon: {{kind: investor, label: "Amazon: #1 of {"very " * 40}big investors", owns: [aws]}}
  openai:
    kind: lab
    # a comment above a key goes beside its value
    label: OpenAI Global Affairs
    cash: 40B  # {LONG_NOTE}
    spending:
      compute:
        annual: 30B
        providers:  # {LONG_NOTE}
          aws: 20%  # nested key, five levels down
  aws: {{kind: cloud, label: AWS, margin: 35%}}  # beside a flow mapping
deals:
  # {LONG_NOTE}
  - kind: investment
    id: "{"a-long-deal-id-" * 16}"  # {LONG_NOTE}
    investor: amazon
    lab: openai
    tranches:
      # upfront [C]
      - {{at: 2026-03-01, amount: 15B}}
      - {{at: 2027-03-01, amount: 35B}}  # beside the item, moved above it
  - kind: compute_contract  # {LONG_NOTE}
    lab: openai
    cloud: aws
    total: 138B
    over: 8y
"""


@pytest.fixture(scope="module")
def hand_written() -> Scenario:
    return sim.parse_scenario(HAND_WRITTEN, "hand.yaml")


def test_long_values_and_multi_line_text_read_back_with_every_comment(hand_written) -> None:
    s = hand_written
    assert len(s.name) > 200 and len(s.description) > 400
    second = "A second paragraph, after a blank line, with a # that is not a comment: and a colon."
    assert s.description.endswith(f" on,\n{second}\n")
    assert len(s.comments["name"]) > 200
    text, back = read_back(s)
    assert_same_inputs(back, s)
    assert back.comments == s.comments
    assert set(s.comments) == {
        "name",
        "description",
        "horizon",
        "agents",
        "agents.openai.label",
        "agents.openai.cash",
        "agents.openai.spending.compute.providers",
        "agents.openai.spending.compute.providers.aws",
        "agents.aws",
        "deals.0",
        "deals.0.id",
        "deals.0.tranches.0",
        "deals.0.tranches.1",
        "deals.1.kind",
    }


def test_each_long_value_is_one_line_with_its_comment_at_the_end(hand_written) -> None:
    text, _ = read_back(hand_written)
    lines = text.splitlines()
    assert lines[3] == f"name: '{LONG_NAME}'  # {LONG_NOTE}"  # ': ' inside: quoted
    assert f"    id: {'a-long-deal-id-' * 16}  # {LONG_NOTE}" in lines
    assert max(len(line) for line in lines) > 400  # no line is wrapped


def test_text_over_several_lines_is_a_block_with_its_comment_above(hand_written) -> None:
    text, _ = read_back(hand_written)
    assert (
        "# the description is folded: its lines join with spaces and this comment is two lines "
        "above it\ndescription: |\n"
    ) in text
    assert (
        "    label: OpenAI Global Affairs  # a comment above a key goes beside its value\n" in text
    )


def test_a_literal_description_keeps_its_lines_indents_and_final_breaks() -> None:
    description = "First line\n  indented: kept\n\n# not a comment\nlast line\n\n"
    s = sim.parse_scenario(
        SMALL.format(name="literal")
        + "# the source of the description\n# on two lines\ndescription: |+\n"
        + "".join(f"  {line}\n" if line else "\n" for line in description.split("\n")[:-1]),
        "literal.yaml",
    )
    assert s.description == description
    text, back = read_back(s)
    assert "# the source of the description on two lines\ndescription: |+\n" in text
    assert_same_inputs(back, s)
    assert back.description == description
    assert (
        back.comments == s.comments == {"description": "the source of the description on two lines"}
    )


def test_a_folded_description_keeps_its_line_breaks_and_so_its_inputs_hash() -> None:
    s = sim.parse_scenario(
        SMALL.format(name="folded")
        + "# the source, above\n"
        + "description: >-\n  one\n  two\n\n  three\n \n  four\n",
        "folded.yaml",
    )
    assert s.description == "one two\nthree\nfour"
    _, back = read_back(s)
    assert back.description == s.description
    assert back.comments == s.comments == {"description": "the source, above"}
    assert inputs_hash(back) == inputs_hash(s)


# strings that a plain scalar would read as something else, or that need quotes or escapes
TRICKY = [
    "1e9",
    "no",
    "yes",
    "on",
    "true",
    "null",
    "~",
    "",
    "2026-01-01",
    "2026-01-01 10:00:00",
    "0x1F",
    "0o17",
    "1_000",
    "+1",
    ".5",
    ".inf",
    "1:30",
    "<<",
    "=",
    "- a list?",
    "? a key",
    ": colon",
    "a: b",
    "a #b",
    "#hash",
    "[flow]",
    "{flow}",
    "&anchor",
    "*alias",
    "!tag",
    "|",
    ">",
    "%directive",
    "@at",
    "`tick",
    "'single'",
    '"double"',
    "it's",
    "---",
    "...",
    " leading space",
    "trailing space ",
    "tab\there",
    "Café, naïve — “quotes” 🙂 中文",
    "bom\ufeff",
    "nel\x85line\u2028sep\u2029para",
    "control\x00\x07\x1b",
    "cr\r\nlf",
    "line\nbreak",
    "\nstarts with a break",
    "  indented\nfirst line",
    "ends with breaks\n\n",
    "space before break \nthen more",
    "last line\n# looks like a comment",
    "x" * 300,
]


TEXT_FIELDS = ("name", "description", "agents.inv.label", "deals.0.id")


@pytest.mark.parametrize("text", TRICKY, ids=range(len(TRICKY)))
def test_tricky_text_reads_back_exactly_with_its_comment(text) -> None:
    # the writer alone, for any text in every text field: the loader reads back the same values
    base = small("tricky")
    comments = {where: f"a source for {where}" for where in TEXT_FIELDS} | {"deals.0": "a deal"}
    doc = read_yaml(written(base, TEXT_FIELDS, text, comments), "tricky.yaml")
    assert at(doc.data, "name") == at(doc.data, "deals.0.id") == text
    assert doc.data == with_text(base.resolved, TEXT_FIELDS, text)
    assert doc.comments == comments
    # and through validation, in each field that accepts the text (names, labels and ids hold
    # one line of printable text; a description holds line breaks and tabs too)
    accepted = 0
    for where in TEXT_FIELDS:
        try:
            s = small("tricky", {where: text})
        except ScenarioError:
            continue
        accepted += 1
        s = s.with_comments({where: f"a source for {where}", "deals.0": "a deal"})
        _, back = read_back(s)
        assert at(back.resolved, where) == at(s.resolved, where)
        assert_same_inputs(back, s)
        assert back.comments == s.comments
    assert accepted == len(TEXT_FIELDS) or not text.isprintable()


def written(base: Scenario, fields: tuple[str, ...], text: str, comments: dict[str, str]) -> str:
    """The resolved file of ``base`` with ``text`` put in each of ``fields`` (past validation)."""
    resolved = with_text(base.resolved, fields, text)
    return HEADER + resolved_yaml_of(resolved, comments)


def with_text(resolved: dict[str, Any], fields: tuple[str, ...], text: str) -> dict[str, Any]:
    out = copy.deepcopy(resolved)
    for where in fields:
        *parents, last = where.split(".")
        node: Any = at(out, ".".join(parents)) if parents else out
        node[last] = text
    return out


def at(resolved: dict[str, Any], dotted: str) -> Any:
    value: Any = resolved
    for part in dotted.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def test_dates_come_back_as_dates_and_numbers_that_look_alike_as_text() -> None:
    s = small("'2026-01-01'", {"agents.inv.label": "1e9"})
    text, back = read_back(s)
    assert "name: '2026-01-01'\n" in text and "label: '1e9'  # set by --set" in text
    assert "start: 2026-01-01\n" in text and "      - at: 2026-01-01\n" in text
    assert back.name == "2026-01-01" and back.start.isoformat() == "2026-01-01"


def test_a_comment_on_several_lines_is_folded_beside_a_value_and_split_above_an_item() -> None:
    s = small("notes")
    notes = {"horizon": "first line\n  second line\r\nthird", "deals.0": "one\n\ntwo\n"}
    text, back = read_back(s.with_comments(notes))
    assert "horizon: 1y  # first line second line third\n" in text
    assert "  # one\n  # two\n  - kind: investment\n" in text
    assert back.comments == {"horizon": "first line second line third", "deals.0": "one two"}


def test_without_comments_the_text_is_the_same_for_equal_inputs_and_reads_back() -> None:
    a = small("same")
    b = small("other", {"name": "same"})
    assert resolved_yaml(a) == resolved_yaml(b)
    assert "#" not in resolved_yaml(b)
    for sort_keys in (False, True):
        back = sim.parse_scenario(resolved_yaml(a, sort_keys=sort_keys), "small.yaml")
        assert_same_inputs(back, a)


# ---------------------------------------------------------------------------------------------
# Random text
# ---------------------------------------------------------------------------------------------

# Comments hold what a YAML file can (tabs and line breaks included), as a comment read from a
# file can hold nothing else; names, labels and ids one line of text; a description tabs and line
# breaks too. The writer alone is given any text at all, lone surrogates included.
_NOT_IN_YAML = [*range(0, 9), 11, 12, *range(14, 32), *range(127, 133), *range(134, 160)]
_COMMENT_CHARS = st.characters(
    exclude_categories=["Cs"],
    exclude_characters="".join(map(chr, _NOT_IN_YAML)) + "\ufffe\uffff",
)
_ONE_LINE = st.characters(exclude_categories=["Cc", "Zl", "Zp", "Cs"])
_LINES = st.one_of(_ONE_LINE, st.sampled_from("\t\n\r"))
_ANY = st.characters(exclude_categories=[])


def _paths(value: object, prefix: str = "") -> list[str]:
    """Every dotted path in resolved inputs: keys and list items."""
    out: list[str] = []
    if isinstance(value, dict | list):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for k, v in items:
            here = f"{prefix}.{k}" if prefix else str(k)
            out += [here, *_paths(v, here)]
    return out


_COMMENTS = st.dictionaries(
    st.sampled_from(_paths(small().resolved)), st.text(_COMMENT_CHARS, max_size=80), max_size=8
)
_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(
    name=st.text(_ONE_LINE),
    description=st.text(_LINES),
    label=st.text(_ONE_LINE),
    deal_id=st.text(_ONE_LINE),
    comments=_COMMENTS,
)
def test_random_text_and_comments_read_back(name, description, label, deal_id, comments) -> None:
    values = {"name": name, "description": description, "agents.inv.label": label}
    s = small("random", {**values, "deals.0.id": deal_id})
    s = s.with_comments(comments)
    _, back = read_back(s)
    assert_same_inputs(back, s)
    assert (back.name, back.description, at(back.resolved, "deals.0.id")) == (
        name,
        description,
        deal_id,
    )
    assert fold(back.comments) == fold(comments)


@_SETTINGS
@given(text=st.text(_ANY), comments=_COMMENTS)
def test_the_writer_gives_back_any_text_in_any_text_field(text, comments) -> None:
    doc = read_yaml(written(small(), TEXT_FIELDS, text, comments), "any.yaml")
    assert doc.data == with_text(small().resolved, TEXT_FIELDS, text)
    assert fold(doc.comments) == fold(comments)


# ---------------------------------------------------------------------------------------------
# Through the command line, and import time
# ---------------------------------------------------------------------------------------------


def test_a_run_folder_with_a_long_commented_description_runs_again(tmp_path, capsys) -> None:
    path = tmp_path / "long.yaml"
    path.write_text(
        SMALL.format(name=f'"{LONG_NAME}"  # {LONG_NOTE}')
        + f"# {LONG_NOTE}\ndescription: >\n  {LONG_NOTE}\n  {LONG_NOTE}\n"
    )
    folder = tmp_path / "run"
    code, _, err = cli(capsys, "run", path, "--out", folder)
    assert (code, err) == (0, "")
    metrics = json.loads((folder / "metrics.json").read_text())
    resolved = folder / "scenario.resolved.yaml"
    back = sim.load_scenario(resolved)
    assert inputs_hash(back) == metrics["inputs_hash"] == inputs_hash(sim.load_scenario(path))
    assert back.comments == sim.load_scenario(path).comments
    assert read_run(folder).scenario.description == back.description
    code, _, err = cli(capsys, "run", resolved, "--out", tmp_path / "again", "--json")
    assert (code, err) == (0, "")
    again = json.loads((tmp_path / "again" / "metrics.json").read_text())
    assert again["inputs_hash"] == metrics["inputs_hash"]


def test_write_run_keeps_its_header_above_the_inputs(tmp_path) -> None:
    s = small("header", {"name": "# not a comment"})
    write_run(sim.run(s), tmp_path / "run")
    text = (tmp_path / "run" / "scenario.resolved.yaml").read_text()
    assert text.startswith("# Resolved inputs of '# not a comment' (defaults and overrides")
    assert "\n\nname: '# not a comment'  # set by --set name=# not a comment\n" in text
    assert sim.load_scenario(tmp_path / "run" / "scenario.resolved.yaml").name == s.name


def test_the_command_line_starts_without_loading_ruamel() -> None:
    code = "import sys, sim.cli, sim.io.output; print('ruamel.yaml' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
