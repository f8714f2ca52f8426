"""`roundtrip sweep` and `roundtrip mc`: many runs from one file, a row per run on disk."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import cli

import sim
from sim.cli import main

B = 10**9
ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "scenarios" / "amazon_openai_50b.yaml"

# A lab with no cash, no revenue and no other costs, whose compute demand ($24B a year over two
# years) exceeds the $10B invested: it spends every invested dollar, a share s of it at the
# investor's cloud, and without the investment it buys nothing.
SHARE = """
name: share sweep
start: 2026-01-01
horizon: 2y
agents:
  inv: {kind: investor, owns: [own]}
  lab:
    kind: lab
    spending: {compute: {annual: 24B, providers: {own: 50%}}}
  own: {kind: cloud, margin: 30%}
deals:
  - {kind: investment, investor: inv, lab: lab, tranches: [{at: 2026-01-01, amount: 10B}]}
"""


@pytest.fixture
def share_file(tmp_path: Path) -> Path:
    path = tmp_path / "share.yaml"
    path.write_text(SHARE)
    return path


def test_a_sweep_of_the_own_cloud_share_brings_back_that_share(share_file, capsys) -> None:
    out = share_file.parent / "sweep.parquet"
    spec = "agents.lab.spending.compute.providers.own=0%..100%:11"
    code, text, err = cli(capsys, "sweep", share_file, "--vary", spec, "--out", out)
    assert (code, err) == (0, "")
    assert "11 runs of 'share sweep', 0 with an error" in text
    rows = pd.read_parquet(out).sort_values("run_id")
    share = rows["in:agents.lab.spending.compute.providers.own"].astype(float)
    assert share.tolist() == pytest.approx([k / 10 for k in range(11)])
    records = 24  # at most one payment record to the cloud a month: within a cent each
    for s, (_, row) in zip(share, rows.iterrows(), strict=True):
        assert row["inv.round_trip_ratio"] == pytest.approx(s, abs=records * 0.01 / (10 * B))
        assert row["inv.incremental_revenue"] == pytest.approx(s * 10 * B, abs=records * 0.01)
        assert row["inv.round_trip"] == pytest.approx(row["inv.incremental_revenue"], abs=0.01)


def test_each_run_of_a_sweep_equals_the_same_run_alone(share_file, capsys) -> None:
    out = share_file.parent / "margins.parquet"
    code, _, _ = cli(capsys, "sweep", share_file, "--vary", "agents.own.margin=10%,35%", "-o", out)
    assert code == 0
    rows = pd.read_parquet(out).set_index("in:agents.own.margin")
    for margin in ("10%", "35%"):
        alone = sim.run(sim.load_scenario(share_file, [f"agents.own.margin={margin}"]))
        m = alone.metrics_dict()["investors"]["inv"]
        row = rows.loc[float(margin.rstrip("%")) / 100]
        for name in ("incremental_revenue", "incremental_profit", "net_cost", "round_trip"):
            assert row[f"inv.{name}"] == m[name], (margin, name)


def test_mc_draws_the_same_runs_for_the_same_seed_and_others_for_another(tmp_path, capsys):
    argv = ["--runs", "40", "--vary", "agents.aws.margin~uniform(25%,45%)"]
    a, b, c = tmp_path / "a.parquet", tmp_path / "b.parquet", tmp_path / "c.parquet"
    assert cli(capsys, "mc", BUNDLED, *argv, "--seed", "3", "-o", a)[0] == 0
    assert cli(capsys, "mc", BUNDLED, *argv, "--seed", "3", "--chunk", "7", "-o", b)[0] == 0
    assert cli(capsys, "mc", BUNDLED, *argv, "--seed", "4", "-o", c)[0] == 0
    first, again, other = (pd.read_parquet(p).sort_values("run_id") for p in (a, b, c))
    pd.testing.assert_frame_equal(first.reset_index(drop=True), again.reset_index(drop=True))
    assert not first["in:agents.aws.margin"].equals(other["in:agents.aws.margin"])
    # a run drawn equals the same inputs run alone
    row = first.iloc[5]
    alone = sim.run(sim.load_scenario(BUNDLED, {"agents.aws.margin": row["in:agents.aws.margin"]}))
    got = alone.metrics_dict()["investors"]["amazon"]["incremental_profit"]
    assert row["amazon.incremental_profit"] == got


@pytest.mark.parametrize(
    ("command", "spec", "message"),
    [
        ("sweep", "agents.aws.margin=", "--vary agents.aws.margin="),
        ("sweep", "agents.nowhere.margin=1%,2%", "agents.nowhere"),
        ("sweep", "agents.aws.margin=10%..20%:1", "--vary agents.aws.margin=10%..20%:1"),
        ("mc", "agents.aws.margin~normal(30%,-5%)", "--vary agents.aws.margin~normal"),
        ("mc", "agents.aws.margin~gauss(30%,5%)", "--vary agents.aws.margin~gauss"),
    ],
)
def test_a_bad_spec_exits_2_naming_it_and_writes_nothing(
    tmp_path, capsys, monkeypatch, command, spec, message
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(capsys, command, BUNDLED, "--vary", spec)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err and len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_nothing_to_vary_is_refused(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(capsys, "sweep", BUNDLED)
    assert code == 2 and "nothing to sweep" in err
    code, _, err = cli(capsys, "mc", BUNDLED)
    assert code == 2 and "nothing to draw" in err
    assert list(tmp_path.iterdir()) == []


def test_mc_on_a_local_dask_cluster_gives_the_runs_of_this_process(tmp_path, capsys) -> None:
    argv = ["--runs", "12", "--seed", "9", "--vary", "agents.openai.revenue.growth~normal(50%,10%)"]
    here, there = tmp_path / "here.parquet", tmp_path / "there.parquet"
    assert cli(capsys, "mc", BUNDLED, *argv, "-o", here)[0] == 0
    code, _, err = cli(capsys, "mc", BUNDLED, *argv, "-o", there, "--scheduler", "local",
                       "--workers", "2", "--chunk", "5")  # fmt: skip
    assert code == 0, err
    a, b = (pd.read_parquet(p).sort_values("run_id").reset_index(drop=True) for p in (here, there))
    pd.testing.assert_frame_equal(a, b)


def test_run_and_validate_read_a_swept_file_at_its_first_point_and_say_so(tmp_path, capsys):
    path = tmp_path / "swept.yaml"
    path.write_text(
        SHARE.replace("horizon: 2y", "horizon: 2y\nsweep: {agents.own.margin: '10%,40%'}")
    )
    code, out, err = cli(capsys, "validate", path)
    assert code == 0 and "valid" in out
    assert "sweep of 2 points over agents.own.margin: read at its first point" in err
    code, out, err = cli(capsys, "run", path, "--out", tmp_path / "run", "--json")
    assert code == 0 and "read at its first point (agents.own.margin=10%)" in err
    first = sim.run(sim.load_scenario(path))
    assert first.scenario.sellers["own"].margin == 0.1
    code, out, _ = cli(capsys, "sweep", path, "-o", tmp_path / "all.parquet")
    assert code == 0 and "2 runs of 'share sweep'" in out


def test_the_python_api_gives_the_rows_the_commands_write(tmp_path, capsys, share_file) -> None:
    spec = "agents.own.margin=10%,30%"
    table = sim.sweep(share_file, [spec])
    assert list(table["in:agents.own.margin"]) == [0.1, 0.3]
    out = tmp_path / "cli.parquet"
    assert cli(capsys, "sweep", share_file, "--vary", spec, "-o", out)[0] == 0
    cols = [c for c in table.columns if c != "run_id"]
    pd.testing.assert_frame_equal(table[cols], pd.read_parquet(out)[cols])
    drawn = sim.monte_carlo(BUNDLED, 6, 2, ["agents.aws.margin~uniform(25%,45%)"])
    again = sim.monte_carlo(BUNDLED, 6, 2, ["agents.aws.margin~uniform(25%,45%)"], chunk_runs=2)
    pd.testing.assert_frame_equal(drawn, again)
    assert drawn["error"].isna().all() and len(drawn) == 6
    # the API left nothing on disk: only what the file and the command wrote
    assert {p.name for p in tmp_path.iterdir()} == {
        "share.yaml",
        "cli.parquet",
        "cli.series.parquet",
    }


def test_no_rescale_keeps_the_other_providers_and_makes_a_point_past_100_percent_a_failed_row(
    tmp_path, capsys, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    file = ROOT / "scenarios" / "amazon_openai_50b.yaml"
    spec = "agents.openai.spending.compute.providers.aws=10%,40%"
    assert main(["sweep", str(file), "--vary", spec, "--no-rescale"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("2 runs of 'Amazon puts $50B into OpenAI', 1 with an error")
    assert "at 40%: with rescale off the other providers of 'openai' keep their shares" in err
    rows = sim.runs.farm.read(tmp_path / "runs" / "amazon_openai_50b.sweep.parquet")
    assert rows["error"].isna().tolist() == [True, False]
    assert main(["sweep", str(file), "--vary", spec, "-o", "on.parquet"]) == 0
    assert sim.runs.farm.read(tmp_path / "on.parquet")["error"].isna().all()


def test_a_first_point_that_cannot_be_made_exits_2_and_writes_nothing(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    toy = ROOT / "scenarios" / "toy_round_trip.yaml"
    assert main(["sweep", str(toy), "--vary", "agents.bigcloud=1,2"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "error: --vary agents.bigcloud=1,2 at 1: agents.bigcloud: expected a mapping "
        "(key: value, ...), got 1\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_chunk_in_which_every_point_fails_keeps_the_columns_of_the_others(tmp_path) -> None:
    toy = sim.load_template(ROOT / "scenarios" / "toy_round_trip.yaml")
    points = sim.ranges.vary.grid_points(toy, ["agents.bigcloud.margin=10%,20%,100%,100%"])
    out = tmp_path / "s.parquet"
    jobs = [(k, inputs, p) for k, (inputs, p) in enumerate(points)]
    assert sim.runs.farm.farm(jobs, out, chunk_runs=2) == sim.runs.farm.Farmed(out, 4, 2)
    rows = sim.runs.farm.read(out)
    assert rows["error"].notna().tolist() == [False, False, True, True]
    assert rows["bigtech.incremental_revenue"].notna().tolist() == [True, True, False, False]
