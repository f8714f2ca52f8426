"""`roundtrip init FILE` (sim/inputs/starter.py, sim/io/starter_file.py): a commented starter
scenario that validates and runs as written, documents itself in inputs only, and is written by
the output rule: never over a file roundtrip did not write, a folder, a link or a missing folder.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import cli

from sim.inputs.document import read_yaml
from sim.inputs.loader import load_scenario
from sim.inputs.starter import is_starter, parties, starter_text
from sim.inputs.units import parse_amount_cents as parse_amount
from sim.inputs.units import parse_share

ROOT = Path(__file__).resolve().parent.parent
DOCS = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
SCHEMA = json.loads((ROOT / "scenarios" / "scenario.schema.json").read_text(encoding="utf-8"))
NAMED = ("--investor", "amazon", "--lab", "OpenAI", "--cloud", "aws", "--rival", "rival_cloud")


@pytest.fixture(autouse=True)
def _no_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ROUNDTRIP_DEBUG", raising=False)


def state(folder: Path) -> dict[str, Any]:
    """Everything under ``folder``: each name with its content, or where its link points."""
    found: dict[str, Any] = {}
    for p in sorted(folder.rglob("*")):
        key = str(p.relative_to(folder))
        if p.is_symlink():
            found[key] = ("link", str(p.readlink()))
        elif p.is_dir():
            found[key] = "folder"
        else:
            found[key] = p.read_bytes()
    return found


@pytest.mark.parametrize("extra", [(), ("--contract", *NAMED)], ids=["plain", "contract"])
def test_the_starter_runs_as_written_with_balanced_books(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: tuple[str, ...]
) -> None:
    code, out, err = cli(capsys, "init", tmp_path / "new.yaml", *extra)
    assert code == 0, err
    assert out == f"Wrote {tmp_path / 'new.yaml'}.\nRun it: roundtrip run {tmp_path / 'new.yaml'}\n"
    code, out, err = cli(capsys, "run", tmp_path / "new.yaml", "--out", tmp_path / "run")
    assert code == 0, err
    assert "Books balance to the cent" in out
    s = load_scenario(tmp_path / "new.yaml")
    assert (len(s.investors), len(s.labs), len(s.sellers), len(s.investments)) == (1, 1, 2, 1)
    assert len(s.contracts) == (1 if extra else 0)
    if extra:  # the names given, labels made from them; the contract came with the investment
        assert [s.label(n) for n in ("amazon", "OpenAI", "aws", "rival_cloud")] == [
            "Amazon", "OpenAI", "AWS", "Rival Cloud"
        ]  # fmt: skip
        assert s.contracts[0].with_investment == s.investments[0].key == "amazon-OpenAI"


@pytest.mark.parametrize("contract", [False, True])
def test_the_starter_validates_against_the_json_schema(contract: bool) -> None:
    text = starter_text(parties(), contract=contract)
    data = json.loads(json.dumps(read_yaml(text, "new.yaml").data, default=str))  # as editors do
    assert list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(data)) == []
    assert text.splitlines()[0] == "# yaml-language-server: $schema=scenario.schema.json"


def section(title: str) -> str:
    """The part of docs/scenarios.md from the line starting ``title`` to the next such title."""
    start = DOCS.index(title)
    ends = [DOCS.find(m, start + len(title)) for m in ("\n**`kind:", "\n## ", "\n### ")]
    return DOCS[start : min(e for e in ends if e > 0)]


SECTIONS = {
    "": "## Top level",
    "investor": "**`kind: investor`**",
    "lab": "**`kind: lab`**",
    "cloud": "**`kind: cloud`**",
    "investment": "**`kind: investment`**",
    "compute_contract": "**`kind: compute_contract`**",
}


def keys(data: dict[str, Any], prefix: str = "") -> list[str]:
    """The dotted keys of a mapping, nested mappings' keys joined (``revenue.annual``), stopping
    at a lab's providers (whose keys are agents' names) and at lists (tranches)."""
    found = []
    for key, value in data.items():
        found.append(prefix + key)
        if isinstance(value, dict) and key != "providers":
            found += keys(value, prefix + key + ".")
    return found


def documented(kind: str, key: str) -> bool:
    """Whether ``key`` (dotted) is named in a code span of its kind's section: a table row as
    `revenue.annual`, or a part of the lab's financing table (`limit`) or of a tranche's form."""
    text = section(SECTIONS[kind])
    return any(
        re.search(rf"`[^`\n]*\b{re.escape(k)}\b[^`\n]*`", text) for k in (key, key.split(".")[-1])
    )


def test_every_key_of_the_starter_is_documented_in_the_scenario_language() -> None:
    data = read_yaml(starter_text(parties(), contract=True), "new.yaml").data
    found = [("", k) for k in data if k not in ("agents", "deals")] + [("", "agents")]
    for agent in data["agents"].values():
        found += [(agent["kind"], k) for k in keys(agent)]
    for deal in data["deals"]:
        found += [(deal["kind"], k) for k in keys(deal)]
        found += [(deal["kind"], k) for t in deal.get("tranches", []) for k in t]
    assert len(found) > 40
    assert [f for f in found if not documented(*f)] == []
    # and the checker is not blind: keys that are not documented are found so
    assert not documented("lab", "revenue.yearly") and not documented("", "seeds")


def comment_lines(text: str) -> list[str]:
    """The comments of a YAML text (after `#` outside a quoted value), without the first line."""
    return [line.split("#", 1)[1] for line in text.splitlines()[1:] if "#" in line]


FIGURE = re.compile(
    r"\$?\d[\d,._]*\s*(?:%|(?:bn|billion|million|trillion|[kKmMbBtT])\b)|\$\d[\d,._]*"
)


def test_the_comments_state_inputs_never_results() -> None:
    """Every figure in a comment (money or a share; commands left out) is one the file writes
    as an input; no comment holds a figure a run computes."""
    for text in (starter_text(parties(), contract=True), starter_text(parties(*NAMED[1::2]))):
        inputs = {v.split("#")[0].strip() for v in re.findall(r":\s+([^\n]+)", text)}
        values = set()
        for v in inputs:
            for parse in (parse_amount, parse_share):
                with contextlib.suppress(ValueError, TypeError):  # not this kind of value
                    values.add((parse.__name__, parse(v)))
        prose = [c for c in comment_lines(text) if "roundtrip " not in c]
        figures = [f for c in prose for f in FIGURE.findall(c)]
        for figure in figures:
            parse = parse_share if figure.endswith("%") else parse_amount
            assert (parse.__name__, parse(figure)) in values, figure


def item_of_a_list(doc: Any, path: tuple[str | int, ...]) -> bool:
    """Whether ``path`` is a mapping in a list (a deal, a tranche): its keys carry the comments."""
    value = doc.data
    for part in path:
        value = value[part]
    return isinstance(path[-1], int) and isinstance(value, dict)


def test_every_input_says_what_it_means_and_the_key_inputs_are_marked() -> None:
    text = starter_text(parties(), contract=True)
    doc = read_yaml(text, "new.yaml")
    said = set(doc.comments)  # dotted paths
    written = {".".join(map(str, p)) for p in doc.positions if p and not item_of_a_list(doc, p)}
    assert written - said == set()
    marked = {path for path, c in doc.comments.items() if c.startswith("KEY")}
    assert marked == {
        "agents.labco.revenue.annual",
        "agents.labco.revenue.growth",
        "agents.labco.spending.compute.providers.bigcloud",
        "agents.labco.financing.limit",
        "agents.bigcloud.margin",
        "deals.0.tranches.0.amount",
        "deals.1.with",
    }


def test_an_unedited_starter_is_replaced_an_edited_one_or_another_file_needs_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = tmp_path / "new.yaml"
    assert cli(capsys, "init", new)[0] == 0
    assert cli(capsys, "init", new, "--contract")[0] == 0  # its own, unedited: written again
    assert is_starter(new.read_text(), "new.yaml") and "compute_contract" in new.read_text()
    new.write_text(new.read_text().replace("margin: 30%", "margin: 35%"))  # edited: the user's
    before = state(tmp_path)
    code, out, err = cli(capsys, "init", new)
    assert (code, out) == (2, "")
    assert err == (
        f"error: {new}: this file is not a starter scenario roundtrip wrote, and roundtrip "
        "replaces only its own; add --force to replace it, or choose another file with "
        "roundtrip init OTHER.yaml\n"
    )
    assert state(tmp_path) == before
    assert cli(capsys, "init", new, "--force")[0] == 0
    assert new.read_text() == starter_text(parties(), file_name="new.yaml")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.yaml"]  # no lock or temporary


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("mine.yaml", "this file is not a starter scenario roundtrip wrote"),
        ("folder", "this is a folder; name the starter scenario file, such as my-scenario.yaml"),
        ("link.yaml", "this is a symbolic link; name the starter scenario file itself"),
        ("missing/new.yaml", "the folder"),
    ],
)
def test_init_refuses_a_user_file_a_folder_a_link_or_a_missing_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, said: str
) -> None:
    (tmp_path / "mine.yaml").write_text("name: my own notes\n")
    (tmp_path / "folder").mkdir()
    (tmp_path / "link.yaml").symlink_to(tmp_path / "mine.yaml")
    before = state(tmp_path)
    code, out, err = cli(capsys, "init", tmp_path / name, "--schema")
    assert (code, out) == (2, "")
    assert err.startswith(f"error: {tmp_path / name}: ") and said in err
    assert err.count("\n") == 1
    assert state(tmp_path) == before  # nothing made, replaced or left behind
    # --force replaces a file of the user's; a folder or a link stays refused
    assert cli(capsys, "init", tmp_path / name, "--force")[0] == (0 if name == "mine.yaml" else 2)


def test_schema_writes_the_schema_its_first_line_names_beside_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = tmp_path / "new.yaml"
    code, out, err = cli(capsys, "init", new)
    assert code == 0 and not (tmp_path / "scenario.schema.json").exists()
    assert err == (
        "Its first line names scenario.schema.json for editors, which is not beside it: "
        f"roundtrip schema --out {tmp_path / 'scenario.schema.json'} writes it "
        "(or init --schema).\n"
    )
    code, out, err = cli(capsys, "init", new, "--schema")
    assert (code, err) == (0, "")
    assert out.startswith(f"Wrote {new} and {tmp_path / 'scenario.schema.json'}.")
    assert json.loads((tmp_path / "scenario.schema.json").read_text()) == SCHEMA
    assert cli(capsys, "init", tmp_path / "second.yaml")[1:] == (
        f"Wrote {tmp_path / 'second.yaml'}.\nRun it: roundtrip run {tmp_path / 'second.yaml'}\n",
        "",  # the schema is beside it now: nothing to say
    )
    (tmp_path / "second.yaml").unlink()
    # a schema of the user's own beside it is never replaced, and then nothing is written
    (tmp_path / "scenario.schema.json").write_text('{"title": "mine"}')
    before = state(tmp_path)
    code, out, err = cli(capsys, "init", tmp_path / "other.yaml", "--schema", "--force")
    assert code == 2 and "roundtrip init never replaces it" in err and err.count("\n") == 1
    assert state(tmp_path) == before


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--investor", "big tech"), "--investor: an agent name is letters, digits and _"),
        (("--lab", "funding"), "--lab: 'funding' is the name of an account outside the model"),
        (("--rival", "private_markets"), "--rival: 'private_markets' is the name of an account"),
        (("--cloud", "null"), "--cloud: YAML reads 'null' as None, not as a name"),
        (("--lab", "bigcloud"), "--lab: 'bigcloud' is the default name of the cloud too"),
    ],
)
def test_a_name_that_cannot_be_a_scenario_key_exits_2_writing_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    code, out, err = cli(capsys, "init", tmp_path / "new.yaml", *argv)
    assert (code, out) == (2, "") and err.startswith(f"error: {message}"), err
    assert err.count("\n") == 1 and list(tmp_path.iterdir()) == []


def test_the_errors_shown_in_the_docs_are_the_errors_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    part = section("## Starting a new scenario")
    shown = [line for line in part.splitlines() if line.startswith("error: ")]
    assert len(shown) == 2
    monkeypatch.chdir(tmp_path)
    Path("my-deal.yaml").write_text("name: mine\n")
    got = [cli(capsys, "init", "my-deal.yaml")[2].strip()]
    got.append(cli(capsys, "init", "x.yaml", "--lab", "aws", "--cloud", "aws")[2].strip())
    assert got == shown


def test_init_loads_none_of_the_heavy_libraries(tmp_path: Path) -> None:
    # a first command a new user types: start-up is all it costs (benchmarks/bench_startup.py)
    heavy = ("pandas", "numpy", "numba", "pyarrow", "matplotlib")
    code = (
        "import sys\nfrom sim.cli import run_command\n"
        f"assert run_command(['init', {str(tmp_path / 'new.yaml')!r}]) == 0\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "[]"
