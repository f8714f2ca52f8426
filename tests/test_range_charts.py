"""Charts of many runs: the series file beside farm's results, its percentiles, the sweep line,
the sweep heatmap and the fan chart, and `--charts` on `roundtrip sweep` and `roundtrip mc`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import cli
from matplotlib.figure import Figure

import sim
from sim.ranges.vary import draw, grid, load_template
from sim.runs import farm
from sim.views.charts import RANGE_CHARTS, render_ranges
from sim.views.charts.ranges import (
    applicable,
    fan,
    fan_table,
    range_runs,
    read_ranges,
    sweep_heatmap,
    sweep_line,
    sweep_table,
)

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "scenarios" / "amazon_openai_50b.yaml"
B = 10**9

# The lab spends every invested dollar (its demand, $24B a year, exceeds the $10B), a share of
# it at the investor's cloud; without the investment it buys nothing.
SHARE = """
name: share sweep
start: 2026-01-01
horizon: 2y
agents:
  inv: {kind: investor, label: Inv, owns: [own]}
  lab:
    kind: lab
    spending: {compute: {annual: 24B, providers: {own: 50%}}}
  own: {kind: cloud, label: Own, margin: 30%}
deals:
  - {kind: investment, investor: inv, lab: lab, tranches: [{at: 2026-01-01, amount: 10B}]}
"""
SHARE_PATH = "agents.lab.spending.compute.providers.own"
MARGIN_PATH = "agents.own.margin"
AWS_SHARE = "agents.openai.spending.compute.providers.aws~uniform(10%,50%)"


@pytest.fixture(scope="module")
def share_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("share") / "share.yaml"
    path.write_text(SHARE)
    return path


@pytest.fixture(scope="module")
def bundled_jobs() -> list[tuple[dict, sim.Scenario]]:
    """20 Monte Carlo draws of the $50B file (a contract linked to the stake)."""
    return draw(load_template(BUNDLED), 20, 3, ["agents.aws.margin~uniform(20%,40%)", AWS_SHARE])


@pytest.fixture(scope="module")
def bundled_mc(bundled_jobs, tmp_path_factory: pytest.TempPathFactory) -> farm.Farmed:
    """The 20 draws farmed out in chunks of 7."""
    jobs = bundled_jobs
    out = tmp_path_factory.mktemp("mc") / "mc.parquet"
    return farm.farm(
        ((k, i, s) for k, (i, s) in enumerate(jobs)), out, chunk_runs=7, seed=3, kind="mc"
    )


# ---- the series file ----------------------------------------------------------------------------
def test_the_series_last_date_is_each_runs_incremental_revenue_and_profit_to_the_cent(
    bundled_mc,
) -> None:
    results = farm.read(bundled_mc.path).set_index("run_id")
    series = pd.read_parquet(bundled_mc.series)
    assert list(series.columns) == list(farm.SERIES_COLUMNS)
    assert set(series["investor"]) == {"amazon"}  # nvidia and softbank own no cloud: no twin
    grid_dates = sim.load_scenario(BUNDLED).grid()
    assert len(grid_dates) == 97
    assert (series.groupby("run_id").size() == 97).all()
    last = series[series["date"] == pd.Timestamp(grid_dates[-1])].set_index("run_id")
    for m in farm.SERIES_METRICS:
        assert (last[m] == results.loc[last.index, f"amazon.{m}"]).all(), m  # the same floats
    assert results["amazon.incremental_revenue"].nunique() > 10  # the draws moved it


def test_the_series_file_has_a_row_group_per_chunk_and_the_results_metadata(bundled_mc) -> None:
    assert pq.ParquetFile(bundled_mc.series).num_row_groups == 3  # 7 + 7 + 6 runs
    meta, series_meta = farm.read_metadata(bundled_mc.path), farm.read_metadata(bundled_mc.series)
    assert series_meta == meta
    assert meta["runs"] == 20 and meta["complete"] and meta["kind"] == "mc"


def test_the_series_is_the_twin_series_run_less_twin_summed_up_to_each_grid_date(
    bundled_mc, bundled_jobs
) -> None:
    row = farm.read(bundled_mc.path).iloc[4]
    alone = sim.run(bundled_jobs[int(row["run_id"])][1])
    ts = alone.twin_series
    per_day = (ts["revenue_cents_run"] - ts["revenue_cents_twin"]).groupby(ts["date"]).sum()
    cum = per_day.cumsum()
    series = pd.read_parquet(bundled_mc.series)
    mine = series[series["run_id"] == row["run_id"]].set_index("date")["incremental_revenue"]
    for date, dollars in mine.items():
        cents = cum[cum.index <= date]
        assert dollars == (int(cents.iloc[-1]) if len(cents) else 0) / 100, date


def test_a_series_file_not_written_by_farm_is_refused_before_anything_runs(
    bundled_jobs, tmp_path
) -> None:
    (tmp_path / "x.series.parquet").write_text("my notes")
    with pytest.raises(sim.ScenarioError, match="not written by roundtrip's farm"):
        farm.farm([(0, *bundled_jobs[0])], tmp_path / "x.parquet")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.series.parquet"]
    assert (tmp_path / "x.series.parquet").read_text() == "my notes"


def test_series_percentiles_of_a_hand_made_table() -> None:
    # five runs at two dates; percentiles interpolate linearly between the sorted values:
    # at the second date 10, 20, 30, 40, 50 -> p5 = 10 + 0.05 x 4 x 10 = 12, p25 = 20,
    # p50 = 30, p75 = 40, p95 = 10 + 0.95 x 4 x 10 = 48
    d1, d2 = pd.Timestamp("2026-01-01"), pd.Timestamp("2026-02-01")
    rows = [(r, d1, "a", 0.0, 0.0) for r in range(5)]
    rows += [(r, d2, "a", 10.0 * (5 - r), 1.0) for r in range(5)]
    rows += [(r, d2, "b", 1e12, 1e12) for r in range(5)]  # another investor: not counted
    table = pd.DataFrame(rows, columns=list(farm.SERIES_COLUMNS))
    got = farm.series_percentiles(table, "incremental_revenue", "a")
    assert list(got.columns) == ["p5", "p25", "p50", "p75", "p95"]
    assert got.loc[d1].tolist() == [0.0] * 5
    assert got.loc[d2].tolist() == pytest.approx([12, 20, 30, 40, 48])
    assert farm.series_percentiles(table, "incremental_profit").loc[d2].tolist() == [1.0] * 5
    with pytest.raises(ValueError, match="choose from a, b"):
        farm.series_percentiles(table, "incremental_revenue", "c")
    with pytest.raises(ValueError, match="incremental_revenue, incremental_profit"):
        farm.series_percentiles(table, "net_cost")


def test_series_percentiles_of_a_file_equal_those_of_its_frame(bundled_mc) -> None:
    frame = pd.read_parquet(bundled_mc.series)
    from_file = farm.series_percentiles(bundled_mc.series)
    assert np.array_equal(
        from_file.to_numpy(), farm.series_percentiles(frame, investor="amazon").to_numpy()
    )


# ---- the charts ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def line_runs(share_file, tmp_path_factory):
    jobs = grid(load_template(share_file), [f"{SHARE_PATH}=0%..100%:5"])
    out = tmp_path_factory.mktemp("line") / "line.parquet"
    farm.farm(((k, i, s) for k, (i, s) in enumerate(jobs)), out, kind="sweep")
    return read_ranges(out, sim.load_scenario(share_file))


@pytest.fixture(scope="module")
def heat_runs(share_file, tmp_path_factory):
    specs = [f"{MARGIN_PATH}=10%,30%,50%", f"{SHARE_PATH}=20%,40%,60%,80%"]
    jobs = grid(load_template(share_file), specs)
    out = tmp_path_factory.mktemp("heat") / "heat.parquet"
    farm.farm(((k, i, s) for k, (i, s) in enumerate(jobs)), out, kind="sweep")
    return range_runs(
        out, sim.load_scenario(share_file), varied=[MARGIN_PATH, SHARE_PATH], kind="sweep"
    )


def _texts(fig: Figure) -> list[str]:
    """The figure's texts (title, subtitle, source), each wrapped line joined again."""
    return [t.get_text().replace("\n", " ") for t in fig.texts]


def test_the_sweep_lines_are_the_results_columns(line_runs) -> None:
    assert applicable(line_runs) == ["sweep_line"]
    fig = sweep_line(line_runs)
    caused, traced = fig.axes
    rows = line_runs.results.sort_values(f"in:{SHARE_PATH}")
    # the swept input by its human name under both panels
    assert caused.get_xlabel() == traced.get_xlabel() == "lab share of compute bought at Own"
    for ax, metric in ((caused, "incremental_revenue"), (caused, "incremental_profit")):
        [line] = [ln for ln in ax.lines if ln.get_label() == metric]
        assert list(line.get_xdata()) == rows[f"in:{SHARE_PATH}"].tolist()
        assert list(line.get_ydata()) == rows[f"inv.{metric}"].tolist()
    [rt] = [ln for ln in traced.lines if ln.get_label() == "round_trip"]
    assert list(rt.get_ydata()) == rows["inv.round_trip"].tolist()
    assert rt.get_linestyle() == "--"  # traced: dashed, beside what was caused
    # every invested dollar is spent, a share s of it at Own: $0B at 0% up to $10B at 100%
    title, *_, source = _texts(fig)
    assert title == (
        "The higher the lab share of compute bought at Own, the more Own revenue Inv's "
        "investment causes: "
        "$0B at 0%, $10B at 100%"
    )
    # the file is in a temporary folder: the source line names the file, not the folder
    assert source.startswith("Source: roundtrip sweep of share.yaml, 5 runs")


def test_the_heatmap_cells_are_the_results_of_each_grid_point(heat_runs) -> None:
    assert applicable(heat_runs) == ["sweep_heatmap"]
    fig = sweep_heatmap(heat_runs)
    [ax] = fig.axes
    [image] = ax.images
    table = sweep_table(heat_runs)
    assert table.shape == (3, 4)  # margins down, shares across
    assert np.array_equal(np.asarray(image.get_array()), table.to_numpy())
    rows = heat_runs.results.set_index([f"in:{MARGIN_PATH}", f"in:{SHARE_PATH}"])
    assert table.loc[0.3, 0.6] == rows.loc[(0.3, 0.6), "inv.incremental_revenue"]
    # each cell is written in it, $B
    cells = [t.get_text() for t in ax.texts]
    assert len(cells) == 12 and "$6B" in cells  # 60% of the $10B
    assert _texts(fig)[0].startswith("Inv's incremental revenue runs from $2B to $8B over the grid")
    # the inputs by their human names (sim.inputs.names.input_name), where the title says where
    # the highest cell is and on both axes
    assert _texts(fig)[0].endswith(
        "highest at Own margin 10%, lab share of compute bought at Own 80%"
    )
    assert (ax.get_ylabel(), ax.get_xlabel()) == (
        "Own margin",
        "lab share of compute bought at Own",
    )


def test_the_fan_is_the_series_percentiles(bundled_mc) -> None:
    runs = read_ranges(bundled_mc.path, sim.load_scenario(BUNDLED))
    assert applicable(runs) == ["fan"]
    fig = fan(runs)
    [ax] = fig.axes
    table = fan_table(runs, "amazon")
    [median] = [ln for ln in ax.lines if ln.get_label() == "p50"]
    assert list(median.get_ydata()) == table["p50"].tolist()
    bands = {c.get_label(): c for c in ax.collections}
    assert set(bands) == {"p5-p95", "p25-p75"}
    top = bands["p5-p95"].get_paths()[0].vertices[:, 1]
    assert table["p95"].iloc[-1] in top and table["p5"].iloc[0] in top
    title = _texts(fig)[0]
    p50 = table["p50"].iloc[-1] / B
    assert title.startswith(
        f"Amazon's investment with the AWS expansion caused ${p50:.1f}B of AWS revenue by Mar 2034"
    )
    # what was drawn, by the inputs' human names, one from the next by a semicolon
    assert "20 runs drawing AWS margin; OpenAI share of compute bought at AWS:" in _texts(fig)[1]


@pytest.mark.parametrize("name", list(RANGE_CHARTS))
def test_each_range_chart_writes_every_format(name, line_runs, heat_runs, bundled_mc, tmp_path):
    runs = {
        "sweep_line": line_runs,
        "sweep_heatmap": heat_runs,
        "fan": read_ranges(bundled_mc.path, sim.load_scenario(BUNDLED)),
    }[name]
    written = render_ranges(runs, tmp_path, ["png", "svg", "pdf"], size=(10, 5.625))
    assert [p.name for p in written] == [f"{name}.png", f"{name}.svg", f"{name}.pdf"]
    assert all(p.stat().st_size > 1000 for p in written)


# ---- --charts on the command line ---------------------------------------------------------------
def test_sweep_charts_are_drawn_beside_the_results_and_listed(share_file, capsys) -> None:
    out = share_file.parent / "cli" / "grid.parquet"
    code, text, err = cli(
        capsys, "sweep", share_file, "--vary", f"{SHARE_PATH}=0%,50%,100%", "-o", out,
        "--charts", "png,svg",
    )  # fmt: skip
    assert (code, err) == (0, "")
    folder = out.parent / "grid.charts"
    # with the marker saying roundtrip wrote the folder (docs/ranges.md), so a rerun replaces it
    names = [".roundtrip-run", "sweep_line.png", "sweep_line.svg"]
    assert sorted(p.name for p in folder.iterdir()) == names
    assert f"Wrote {folder}/: sweep_line.png, sweep_line.svg" in text
    assert f"Wrote {out.parent / 'grid.series.parquet'}:" in text


def test_mc_charts_draw_the_fan(share_file, capsys) -> None:
    out = share_file.parent / "cli" / "draws.parquet"
    code, text, err = cli(
        capsys, "mc", share_file, "--runs", "12", "--vary", f"{SHARE_PATH}~uniform(20%,80%)",
        "-o", out, "--charts", "pdf", "--chart-size", "10x5.625",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert sorted(p.name for p in (out.parent / "draws.charts").iterdir()) == [
        ".roundtrip-run",
        "fan.pdf",
    ]
    assert "draws.charts/: fan.pdf" in text


def test_a_bad_chart_format_exits_2_before_anything_runs(share_file, capsys) -> None:
    out = share_file.parent / "bad" / "x.parquet"
    code, _, err = cli(
        capsys, "sweep", share_file, "--vary", f"{SHARE_PATH}=0%,50%", "-o", out,
        "--charts", "gif",
    )  # fmt: skip
    assert code == 2 and "unknown chart format 'gif'" in err
    assert not out.exists()
    code, _, err = cli(
        capsys, "sweep", share_file, "--vary", f"{SHARE_PATH}=0%,50%", "-o", out, "--dpi", "300"
    )
    assert code == 2 and "--charts" in err
    assert not out.exists()
