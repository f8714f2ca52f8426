"""roundtrip compare: each column holds the same figures as its file's own run."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest
from conftest import cli

import sim
from sim.analysis.compare import INVESTOR_ROWS, LAB_ROWS, to_csv, to_json, to_text

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "scenarios" / "toy_round_trip.yaml"
ANTHROPIC = ROOT / "scenarios" / "amazon_anthropic.yaml"


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and math.isnan(a):
        return b is None
    if hasattr(a, "isoformat") and a == a:  # a date (NaT != NaT)
        return a.isoformat() == b  # type: ignore[union-attr]
    if a is not None and str(a) == "NaT":
        return b is None
    return a == b


def test_each_column_equals_its_files_own_run() -> None:
    frame = sim.compare([TOY, ANTHROPIC])
    assert list(frame.columns) == ["toy_round_trip", "amazon_anthropic"]
    for path, column in ((TOY, "toy_round_trip"), (ANTHROPIC, "amazon_anthropic")):
        s = sim.load_scenario(path)
        d = sim.run(s).metrics_dict()
        for inv in s.investors:
            for metric in INVESTOR_ROWS:
                cell = frame.loc[("investor", s.label(inv), metric), column]
                assert _same(cell, d["investors"][inv][metric]), (inv, metric)
        for lab in s.labs:
            for metric in LAB_ROWS:
                assert _same(
                    frame.loc[("lab", s.label(lab), metric), column], d["labs"][lab][metric]
                )


def test_rows_are_caused_then_traced_per_investor_then_labs_and_absent_agents_are_blank() -> None:
    frame = sim.compare([TOY, ANTHROPIC])
    metrics = [m for kind, agent, m in frame.index if (kind, agent) == ("investor", "BigTech")]
    assert metrics == list(INVESTOR_ROWS)
    assert [k for k, _, _ in frame.index][-1] == "lab"
    assert frame.loc[("investor", "BigTech", "invested"), "amazon_anthropic"] is None
    # toy: $12B invested, 10% stake, profit 50% x 40% x $12B = $2.4B
    assert frame.loc[("investor", "BigTech", "invested"), "toy_round_trip"] == 12e9
    assert frame.loc[("investor", "BigTech", "incremental_profit"), "toy_round_trip"] == 2.4e9
    text = to_text(frame)
    assert "Investor BigTech" in text and "$2.40B" in text and "10.0%" in text
    assert "2026-10-01" in text  # LabCo's cash-out date


def test_set_applies_to_every_file_and_equal_stems_are_told_apart() -> None:
    frame = sim.compare([TOY, TOY], ["agents.bigcloud.margin=25%"])
    assert list(frame.columns) == ["toy_round_trip", "toy_round_trip-2"]
    # 25% x 40% x $12B = $1.2B in both columns
    assert list(frame.loc[("investor", "BigTech", "incremental_profit")]) == [1.2e9, 1.2e9]


def test_csv_and_json_round_trip_in_raw_units() -> None:
    frame = sim.compare([TOY, ANTHROPIC])
    rows = list(csv.DictReader(io.StringIO(to_csv(frame))))
    assert len(rows) == len(frame)
    by_key = {(r["kind"], r["agent"], r["metric"]): r for r in rows}
    for key, row in zip(frame.index, frame.to_numpy(dtype=object), strict=True):
        for column, cell in zip(frame.columns, row, strict=True):
            text = by_key[key][column]
            if cell is None or str(cell) in ("nan", "NaT"):
                assert text == ""
            elif hasattr(cell, "isoformat"):
                assert text == cell.isoformat()
            else:
                assert float(text) == cell
    data = json.loads(to_json(frame))
    assert data["scenarios"] == list(frame.columns)
    first = data["rows"][0]
    assert first["kind"] == "investor" and first["values"]["toy_round_trip"] == 12e9


def test_command_prints_text_csv_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "compare", TOY, ANTHROPIC)
    assert code == 0 and "toy_round_trip" in out and "Lab Anthropic" in out
    code, out, _ = cli(capsys, "compare", TOY, "--csv")
    assert code == 0 and out.startswith("kind,agent,metric,toy_round_trip\n")
    code, out, _ = cli(capsys, "compare", TOY, "--json")
    assert code == 0 and json.loads(out)["scenarios"] == ["toy_round_trip"]


def test_bad_file_or_no_file_exits_2_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n")
    code, out, err = cli(capsys, "compare", TOY, bad)
    assert code == 2 and out == "" and "bad.yaml" in err and len(err.splitlines()) == 1
    code, _, err = cli(capsys, "compare", tmp_path / "missing.yaml")
    assert code == 2 and "missing.yaml: no such file" in err
    code, _, err = cli(capsys, "compare")
    assert code == 2 and "Missing argument" in err
    code, _, err = cli(capsys, "compare", TOY, "--set", "agents.bigcloud.margin=2")
    assert code == 2 and "--set agents.bigcloud.margin=2" in err


def test_the_compare_chart_draws_each_deal_whose_investor_owns_a_cloud_the_lab_uses() -> None:
    from sim.views.charts.compare import BARS, compare_chart, deals

    root = Path(__file__).resolve().parent.parent / "scenarios"
    files = [root / "amazon_openai_50b.yaml", root / "toy_round_trip.yaml"]
    table = sim.compare(files)
    # Nvidia and SoftBank own no cloud in the $50B file: no bar group of their own
    assert deals(table) == [("amazon_openai_50b", "Amazon"), ("toy_round_trip", "BigTech")]
    fig = compare_chart(table)
    (ax,) = fig.axes
    heights = sorted(round(p.get_height()) for p in ax.patches)
    want = sorted(
        round(table.loc[("investor", label, metric), column])
        for column, label in deals(table)
        for metric, *_ in BARS
    )
    assert heights == want  # every bar is a figure of the table, in dollars
    title = fig.texts[0].get_text().replace("\n", " ")
    # the scenario by its name, as the groups under the bars name it; the files in the source
    assert title.startswith(
        "Amazon's investment causes the most at its own clouds, in \u201cAmazon puts $50B into "
        "OpenAI\u201d"
    )
    assert ax.get_xticklabels()[0].get_text() == "Amazon"
    groups = [t.get_text().replace("\n", " ") for t in ax.texts]
    assert groups == ["Amazon puts $50B into OpenAI", "Toy round trip (teaching example)"]
    source = fig.texts[-1].get_text().replace("\n", " ")
    assert "roundtrip compare of amazon_openai_50b.yaml, toy_round_trip.yaml" in source
