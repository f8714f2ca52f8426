"""The report of a sweep's or a Monte Carlo's results file (sim/views/report/ranges.py, roundtrip
report FILE.parquet): what varied, what the investment caused across the runs, the runs that
failed, the range charts and the inputs, as PDF or HTML, each figure the one the file holds."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pypdf
import pytest

import sim
from sim.cli import main
from sim.inputs.units import format_dollars
from sim.runs import farm
from sim.views.report.ranges import build_range_report, range_content, read_results

ROOT = Path(__file__).resolve().parent.parent
FIFTY = ROOT / "scenarios" / "amazon_openai_50b.yaml"
TOY = ROOT / "scenarios" / "toy_round_trip.yaml"
MC = ["agents.openai.spending.compute.providers.aws~uniform(10%,50%)"]
SHARE = "agents.labco.spending.compute.providers.bigcloud"


def flat(text: str) -> str:
    return " ".join(text.split())


def farmed(tmp: Path, template: sim.Template, points: list, name: str) -> Path:
    out = tmp / f"{name}.parquet"
    jobs = [(k, inputs, p) for k, (inputs, p) in enumerate(points)]
    farm.farm(jobs, out, seed=4 if name == "mc" else None, kind=name)
    return out


@pytest.fixture(scope="module")
def mc_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    t = sim.load_template(FIFTY)
    points = sim.ranges.vary.draw_points(t, 40, seed=4, specs=MC)
    return farmed(tmp_path_factory.mktemp("mc"), t, points, "mc")


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    t = sim.load_template(TOY)
    points = sim.ranges.vary.grid_points(t, [f"{SHARE}=0%..100%:6"])
    return farmed(tmp_path_factory.mktemp("sweep"), t, points, "sweep")


def pdf_text(path: Path) -> list[str]:
    return [flat(page.extract_text()) for page in pypdf.PdfReader(path).pages]


def test_a_monte_carlo_report_gives_the_files_percentiles_of_what_was_caused(
    mc_file, tmp_path
) -> None:
    out = build_range_report(mc_file, tmp_path / "mc.pdf")
    pages = pdf_text(out)
    first = pages[0]
    assert first.startswith("Amazon puts $50B into OpenAI: Monte Carlo of 40 runs")
    assert "seed 4, 0 runs with an error" in first
    # what varied, by its human name (sim.inputs.names.input_name), not its path
    assert "What varied" in first and "OpenAI share of compute bought at AWS" in first
    assert "agents.openai.spending.compute.providers.aws" not in first
    assert "What the investment caused, across the runs: Amazon" in first
    # every percentile printed is the file's own, as the summary writes money
    p = farm.percentiles(mc_file, ["amazon.incremental_revenue", "amazon.net_cost"])
    for metric in p.index:
        for q in ("p5", "p25", "p50", "p75", "p95"):
            assert format_dollars(p.loc[metric, q] * 100) in first, (metric, q)
    text = " ".join(pages)
    assert "the contracts that came with it (aws-expansion)" in text  # the twin, said whole
    assert "In half of the 40 runs, Amazon's investment and the contracts" in text
    assert "a label on the money, not an effect" in text
    # the fan chart on a page of its own, then the inputs with their source comments
    fans = [
        page
        for page in pages
        if "Amazon's investment with the AWS expansion caused" in page and "p95" in page
    ]
    assert len(fans) == 1 and "median" in fans[0]
    assert "Assumptions at the first point" in text
    assert "Annualized revenue over $20B in 2025 [C]" in text
    assert all("roundtrip 0.1.0 · page" in page for page in pages)


def test_a_short_sweep_report_has_a_row_per_point_and_reads_it_from_end_to_end(
    sweep_file, tmp_path
) -> None:
    content = range_content(read_results(sweep_file))
    ((heading, table, note, reading),) = content.figures
    assert heading.endswith(": BigTech")
    assert table.header[0] == "LabCo share of compute bought at BigCloud"
    rows = farm.read(sweep_file)
    assert [r[0] for r in table.rows] == ["0%", "20%", "40%", "60%", "80%", "100%"]
    for row, (_, got) in zip(table.rows, rows.iterrows(), strict=True):
        assert row[1] == format_dollars(got["bigtech.incremental_revenue"] * 100)
        assert row[3] == format_dollars(got["bigtech.net_cost"] * 100)
    assert "A row per point of the grid" in note
    ((_, points),) = reading
    assert points[0].startswith("Over the 6 points, BigTech's investment caused from $0.00B")
    assert "to $12.00B (LabCo share of compute bought at BigCloud 100%)" in points[0]
    assert content.varied.rows == (
        ("LabCo share of compute bought at BigCloud", "0%, 20%, 40%, 60%, 80%, 100%"),
    )
    html = build_range_report(sweep_file, tmp_path / "s.html").read_text()
    assert html.count("<figure") == 1 and 'id="chart-sweep_line"' in html
    assert "<svg" in html and "http" not in re.sub(r'xmlns(:\w+)?="[^"]+"', "", html)


def test_runs_that_failed_are_counted_and_their_reasons_given(tmp_path) -> None:
    t = sim.load_template(TOY)
    points = sim.ranges.vary.grid_points(t, ["agents.bigcloud.margin=0%..100%:3"])
    path = farmed(tmp_path, t, points, "sweep")
    content = range_content(read_results(path))
    assert content.subtitle.endswith("1 runs with an error")
    assert content.failed.startswith("1 of 3 runs failed and have no figures. run 2: --vary")
    assert "a margin must be at least 0% and below 100%" in content.failed
    assert content.figures[0][1].rows[2][1] == "failed"
    text = " ".join(pdf_text(build_range_report(path, tmp_path / "r.pdf")))
    assert "Runs that failed" in text


def test_the_same_file_gives_the_same_bytes(mc_file, tmp_path) -> None:
    for fmt in ("pdf", "html"):
        a = build_range_report(mc_file, tmp_path / f"a.{fmt}").read_bytes()
        b = build_range_report(mc_file, tmp_path / f"b.{fmt}").read_bytes()
        assert a == b


def test_roundtrip_report_takes_a_results_file(mc_file, tmp_path, capsys) -> None:
    out = tmp_path / "r.html"
    assert main(["report", str(mc_file), "-o", str(out)]) == 0
    assert capsys.readouterr().out.startswith(f"Wrote {out}: the report of the runs in ")
    assert out.read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("make", "extra", "message"),
    [
        (lambda p: p.write_bytes(b"PAR1 not really"), [], "not a Parquet file"),
        (
            lambda p: pq.write_table(pa.table({"a": [1]}), p),
            [],
            "was not written by roundtrip sweep or mc",
        ),
        (lambda p: None, [], "no such results file"),
        (lambda p: pq.write_table(pa.table({"a": [1]}), p), ["--set", "seed=1"], "--set changes"),
    ],
    ids=["not-parquet", "not-ours", "missing", "with-set"],
)
def test_a_file_that_is_no_results_file_exits_2_in_one_line_and_writes_nothing(
    tmp_path, capsys, make, extra, message
) -> None:
    results = tmp_path / "x.parquet"
    make(results)
    out = tmp_path / "r.pdf"
    assert main(["report", str(results), "-o", str(out), *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and str(results) in err
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) <= ["x.parquet"]


def test_a_file_of_a_stopped_job_says_how_many_runs_it_kept(tmp_path) -> None:
    t = sim.load_template(TOY)
    points = sim.ranges.vary.grid_points(t, [f"{SHARE}=0%..100%:6"])
    path = farmed(tmp_path, t, points, "sweep")
    meta = {**farm.read_metadata(path), "complete": False, "runs_total": 100}
    content = range_content(read_results(path), meta)
    assert content.subtitle.endswith("0 runs with an error, stopped early: 6 of 100 runs kept")
