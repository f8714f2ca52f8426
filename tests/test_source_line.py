"""The source line of charts and reports names the scenario file as the user gave it, or only its
file name when that was an absolute path (a home or temporary folder means nothing to a reader)."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim
from sim.analysis.result import inputs_hash
from sim.io.output import read_run, write_run
from sim.views.charts.style import source_file, source_line
from sim.views.report.content import report_content

ROOT = Path(__file__).resolve().parent.parent
TINY = """
name: tiny
start: 2026-01-01
horizon: 1y
agents:
  inv: {kind: investor, owns: [own]}
  lab:
    kind: lab
    cash: 1B
    spending: {compute: {annual: 12B, providers: {own: 50%}}}
  own: {kind: cloud, margin: 30%}
deals:
  - {kind: investment, investor: inv, lab: lab, tranches: [{at: 2026-01-01, amount: 2B}]}
"""


@pytest.fixture
def tiny_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return path


def test_a_file_given_by_its_absolute_path_is_named_by_its_file_name(tiny_file: Path) -> None:
    s = sim.load_scenario(tiny_file)
    assert s.source == str(tiny_file)
    assert source_file(s) == "tiny.yaml"
    assert source_line(sim.run(s)) == (
        f"Source: roundtrip simulation of tiny.yaml (inputs {inputs_hash(s)}), 'tiny'."
    )


def test_a_relative_path_is_named_as_the_user_gave_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    s = sim.load_scenario("scenarios/toy_round_trip.yaml")
    assert source_file(s) == "scenarios/toy_round_trip.yaml"
    assert " of scenarios/toy_round_trip.yaml (inputs " in source_line(sim.run(s))


def test_a_scenario_from_no_file_says_so(tiny_file: Path) -> None:
    s = sim.load_scenario(tiny_file).with_source(None)
    assert source_file(s) == "a scenario built in Python"


def test_a_run_folder_read_back_names_the_file_as_the_run_did(
    tiny_file: Path, tmp_path: Path
) -> None:
    result = sim.run(sim.load_scenario(tiny_file))
    write_run(result, tmp_path / "out")
    saved = read_run(tmp_path / "out")
    assert source_line(saved) == source_line(result)
    assert str(tmp_path) not in source_line(saved)


def test_the_report_source_line_names_only_the_file(tiny_file: Path) -> None:
    content = report_content(sim.run(sim.load_scenario(tiny_file)))
    assert content.source.startswith("Source: roundtrip simulation of tiny.yaml (inputs ")
    assert str(tiny_file.parent) not in content.source_and_version


def test_a_range_chart_read_from_a_temporary_folder_names_no_folder(
    tiny_file: Path, tmp_path: Path
) -> None:
    from sim.ranges.vary import grid, load_template
    from sim.runs import farm
    from sim.views.charts.ranges import read_ranges
    from sim.views.charts.ranges import source_line as range_source

    jobs = grid(load_template(tiny_file), ["agents.own.margin=20%,40%"])
    out = tmp_path / "margin.parquet"
    farm.farm(((k, i, s) for k, (i, s) in enumerate(jobs)), out, kind="sweep")
    with_file = range_source(read_ranges(out, sim.load_scenario(tiny_file)))
    assert with_file.startswith("Source: roundtrip sweep of tiny.yaml, 2 runs")
    assert str(tmp_path) not in range_source(read_ranges(out))
