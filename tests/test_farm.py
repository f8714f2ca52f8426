"""Farming runs out: the same rows, run by run, on every backend and chunking; a refused run is a
row with its error; a stopped farm keeps a valid file of the finished runs; memory stays flat."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pandas.testing import assert_frame_equal

import sim
from sim.analysis.metrics import BOUNDS, INVESTOR_METRICS, LAB_METRICS
from sim.runs import farm

ROOT = Path(__file__).resolve().parent.parent
FILE = ROOT / "scenarios" / "amazon_openai_50b.yaml"
N_RUNS = 50


def _inputs(k: int) -> dict[str, str]:
    """Run k's inputs: AWS's margin and OpenAI's shares of compute at AWS and Azure."""
    return {
        "agents.aws.margin": f"{20 + k % 25}%",
        "agents.openai.spending.compute.providers.aws": f"{10 + k % 5 * 5}%",
        "agents.openai.spending.compute.providers.azure": f"{60 - k % 5 * 5}%",
    }


@pytest.fixture(scope="module")
def jobs() -> list[farm.Job]:
    return [(100 + k, _inputs(k), sim.load_scenario(FILE, _inputs(k))) for k in range(N_RUNS)]


@pytest.fixture(scope="module")
def local(jobs: list[farm.Job], tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The 50 runs in this process, in chunks of 50: what every other way must give."""
    out = tmp_path_factory.mktemp("local") / "runs.parquet"
    assert farm.farm(jobs, out, chunk_runs=N_RUNS, seed=11) == farm.Farmed(out, N_RUNS, 0)
    return farm.read(out)


def test_rows_carry_run_id_inputs_every_metric_and_a_null_error(local, jobs) -> None:
    investors, labs = ["amazon", "nvidia", "softbank"], ["openai"]
    assert list(local.columns) == [
        "run_id",
        *(f"in:{p}" for p in _inputs(0)),
        *(f"{i}.{m}" for i in investors for m in INVESTOR_METRICS),
        *(f"{lab}.{m}" for lab in labs for m in LAB_METRICS),
        "error",
    ]
    assert local["run_id"].tolist() == list(range(100, 100 + N_RUNS))
    assert local["in:agents.aws.margin"][3] == "23%"
    assert local["error"].isna().all()
    # run 3 as sim.run gives it alone: dollars, ratios and ISO dates
    alone = sim.run(jobs[3][2]).metrics_dict()
    row = local.iloc[3]
    for agent, block in [*alone["investors"].items(), *alone["labs"].items()]:
        for metric in INVESTOR_METRICS if agent in investors else LAB_METRICS:
            value, got = block[metric], row[f"{agent}.{metric}"]
            if metric in BOUNDS and pd.isna(got):
                # sweeps and Monte Carlo run no bound twins: not measured (docs/metrics.md,
                # "Substitution"); the headline's own substitution is, and equals the run's
                assert not metric.endswith("_substitution_file"), (agent, metric)
                continue
            if value is None:
                assert pd.isna(got), (agent, metric)
            elif isinstance(value, str):  # a date
                assert got == pd.Timestamp(value), (agent, metric)
            else:
                assert got == value, (agent, metric)


def test_file_metadata_holds_scenario_seed_version_and_varied_paths(local, jobs, tmp_path) -> None:
    out = tmp_path / "runs.parquet"
    farm.farm(jobs[:3], out, seed=11)
    meta = farm.read_metadata(out)
    assert meta["seed"] == 11
    assert meta["version"] == farm.version()
    assert meta["varied"] == list(_inputs(0))
    assert (meta["runs"], meta["runs_total"], meta["complete"]) == (3, 3, True)
    again = sim.parse_scenario(meta["scenario"], "resolved.yaml")  # runs again as it is
    assert sim.analysis.result.inputs_hash(again) == sim.analysis.result.inputs_hash(jobs[0][2])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.parquet", "runs.series.parquet"]


def test_every_chunking_gives_the_same_rows_with_a_row_group_per_chunk(
    local, jobs, tmp_path
) -> None:
    out = tmp_path / "runs.parquet"
    farm.farm(iter(jobs), out, chunk_runs=7)  # a generator: no len, streamed
    assert pq.ParquetFile(out).num_row_groups == 8  # 7 chunks of 7, one of 1
    assert_frame_equal(farm.read(out), local)


def test_processes_backend_gives_the_same_rows(local, jobs, tmp_path) -> None:
    out = tmp_path / "runs.parquet"
    farm.farm(jobs, out, backend="processes", workers=2, chunk_runs=6)
    assert_frame_equal(farm.read(out).sort_values("run_id", ignore_index=True), local)


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Dask scheduler and one worker, each a process of its own on 127.0.0.1; its address."""
    tmp = tmp_path_factory.mktemp("dask")
    file = tmp / "scheduler.json"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    common = {"cwd": tmp, "env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1"]
            + ["--port", "0", "--no-dashboard", "--scheduler-file", str(file)],
            **common,  # type: ignore[call-overload]
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not file.exists() or not file.read_text().strip():
            assert time.monotonic() < deadline, "the scheduler did not start"
            assert procs[0].poll() is None, "the scheduler stopped"
            time.sleep(0.1)
        address = json.loads(file.read_text())["address"]
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", address]
                + ["--nworkers", "1", "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"],
                **common,  # type: ignore[call-overload]
            )
        )
        from distributed import Client

        with Client(address) as client:
            client.wait_for_workers(1, timeout=60)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def test_a_dask_scheduler_at_an_address_gives_the_same_rows(
    local, jobs, tmp_path, scheduler
) -> None:
    assert scheduler.startswith("tcp://127.0.0.1:")
    out = tmp_path / "runs.parquet"
    assert farm.farm(jobs, out, backend=scheduler, chunk_runs=9).runs == N_RUNS
    assert_frame_equal(farm.read(out).sort_values("run_id", ignore_index=True), local)


MC = ["agents.aws.margin~uniform(20%,40%)", "agents.openai.revenue.growth~normal(50%,15%)"]


def _mc(tmp: Path, **options: object) -> pd.DataFrame:
    """A small Monte Carlo as roundtrip mc farms it: points drawn here, made where they run."""
    template = sim.load_template(FILE)
    points = sim.ranges.vary.draw_points(template, 12, seed=5, specs=MC)
    jobs = [(k, inputs, p) for k, (inputs, p) in enumerate(points)]
    farm.farm(jobs, tmp / "mc.parquet", seed=5, **options)  # type: ignore[arg-type]
    return farm.read(tmp / "mc.parquet").sort_values("run_id", ignore_index=True)


def test_a_monte_carlo_on_a_dask_scheduler_equals_the_same_seed_here_run_by_run(
    tmp_path, scheduler
) -> None:
    here = _mc(tmp_path / "here", chunk_runs=12)
    there = _mc(tmp_path / "there", backend=scheduler, chunk_runs=5)
    assert_frame_equal(there, here)
    # and each row is the run drawn and made in this process, run alone
    template = sim.load_template(FILE)
    drawn = sim.draw(template, 12, seed=5, specs=MC)
    for k in (0, 7, 11):
        alone = sim.run(drawn[k][1]).metrics_dict()
        assert here.loc[k, "amazon.incremental_profit"] == pytest.approx(
            alone["investors"]["amazon"]["incremental_profit"], abs=0.005
        )
    assert here["error"].isna().all()


WEB = ROOT / "scenarios" / "whole_web.yaml"
WEB_MC = [
    "agents.oracle.costs.nvidia_systems.share~uniform(20%,45%)",
    "deals.0.credits.share~uniform(0%,100%)",
    "agents.openai.revenue.growth~normal(50%,10%)",
]


def test_a_monte_carlo_of_the_whole_web_runs_through_the_same_recorder_here_and_on_dask(
    tmp_path, scheduler
) -> None:
    template = sim.load_template(WEB)

    def farmed(where: Path, **options: object) -> pd.DataFrame:
        points = sim.ranges.vary.draw_points(template, 6, seed=3, specs=WEB_MC)
        jobs = [(k, inputs, p) for k, (inputs, p) in enumerate(points)]
        farm.farm(jobs, where, seed=3, **options)  # type: ignore[arg-type]
        return farm.read(where).sort_values("run_id", ignore_index=True)

    here = farmed(tmp_path / "here.parquet", chunk_runs=4)
    there = farmed(tmp_path / "there.parquet", backend=scheduler, chunk_runs=3)
    assert_frame_equal(there, here)
    assert here["error"].isna().all()
    # a row is the run drawn here and run alone, through every hop: Nvidia's dollars via Oracle
    drawn = sim.draw(template, 6, seed=3, specs=WEB_MC)
    for k in (0, 5):
        alone = sim.run(drawn[k][1]).metrics_dict()["investors"]
        for who, metric in (("nvidia", "round_trip_via_others"), ("microsoft", "credits_consumed")):
            assert here.loc[k, f"{who}.{metric}"] == pytest.approx(alone[who][metric], abs=0.005)
    assert here["nvidia.round_trip_via_others"].nunique() == 6  # the draws move the second hop


def test_a_point_whose_values_are_invalid_is_a_row_with_the_error_and_the_others_run(
    tmp_path,
) -> None:
    template = sim.load_template(ROOT / "scenarios" / "toy_round_trip.yaml")
    points = sim.ranges.vary.grid_points(template, ["agents.bigcloud.margin=0%..100%:3"])
    out = tmp_path / "sweep.parquet"
    jobs = [(k, inputs, p) for k, (inputs, p) in enumerate(points)]
    assert farm.farm(jobs, out, chunk_runs=3) == farm.Farmed(out, 3, 1)
    got = farm.read(out)
    assert got["error"].isna().tolist() == [True, True, False]
    assert got.loc[2, "error"].startswith("--vary agents.bigcloud.margin=0%..100%:3 at 100%: ")
    assert got.loc[:1, "bigtech.incremental_revenue"].notna().all()
    assert got.loc[2, "bigtech.incremental_revenue"] != got.loc[2, "bigtech.incremental_revenue"]


def test_a_run_refused_alone_is_a_row_with_its_error_and_the_others_are_kept(
    local, jobs, tmp_path
) -> None:
    growth = "agents.openai.revenue.growth"
    mixed = [(r, {**inputs, growth: "50%"}, s) for r, inputs, s in jobs[:5]]  # as in the file
    bad = {**_inputs(7), growth: "900%"}  # loads, but flows pass $45T: refused when it runs
    mixed.insert(2, (7, bad, sim.load_scenario(FILE, bad)))
    out = tmp_path / "runs.parquet"
    assert farm.farm(mixed, out, chunk_runs=4) == farm.Farmed(out, 6, 1)
    got = farm.read(out)
    assert got["run_id"].tolist() == [100, 101, 7, 102, 103, 104]
    failed = got.iloc[2]
    assert "flows grow past $45 trillion" in failed["error"]
    assert failed[f"in:{growth}"] == "900%"
    metrics = [c for c in got.columns if "." in c and not c.startswith("in:")]
    assert failed[metrics].isna().all()
    kept = got.drop(index=2).reset_index(drop=True)
    assert_frame_equal(kept[metrics], local.iloc[:5][metrics])
    assert kept["error"].isna().all()


def test_percentiles_of_each_metric_over_runs_without_an_error() -> None:
    table = pd.DataFrame(
        {
            "run_id": range(102),
            "in:x": range(102),
            "a.cash": [*range(101), 1e12],  # 0..100, and a run with an error
            "error": [None] * 101 + ["refused"],
        }
    )
    got = farm.percentiles(table)
    # linear interpolation over 0..100: the p-th percentile is p itself
    expected = pd.DataFrame(
        [[5.0, 25.0, 50.0, 75.0, 95.0]],
        index=["a.cash"],
        columns=["p5", "p25", "p50", "p75", "p95"],
    )
    assert_frame_equal(got, expected)


def test_percentiles_of_a_farm_file_name_dates_too(local, tmp_path) -> None:
    table = farm.percentiles(local, ["amazon.incremental_profit", "openai.cash_out_date"])
    profit = local["amazon.incremental_profit"]
    assert table.loc["amazon.incremental_profit", "p50"] == profit.median()
    assert table.loc["amazon.incremental_profit", "p5"] >= profit.min()
    assert table.loc["amazon.incremental_profit", "p95"] <= profit.max()


def test_an_existing_file_not_written_by_farm_is_refused_and_left_alone(jobs, tmp_path) -> None:
    mine = tmp_path / "notes.parquet"
    mine.write_text("my notes")
    with pytest.raises(sim.ScenarioError, match="not written by roundtrip's farm"):
        farm.farm(jobs[:1], mine)
    assert mine.read_text() == "my notes"
    pq.write_table(pa.table({"x": [1]}), tmp_path / "other.parquet")  # Parquet, not ours
    with pytest.raises(sim.ScenarioError, match="not written by roundtrip's farm"):
        farm.farm(jobs[:1], tmp_path / "other.parquet")
    ours = tmp_path / "ours.parquet"
    farm.farm(jobs[:1], ours)
    farm.farm(jobs[1:3], ours)  # a file farm wrote is replaced
    assert farm.read(ours)["run_id"].tolist() == [101, 102]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "notes.parquet",
        "other.parquet",
        "ours.parquet",
        "ours.series.parquet",  # the runs' paths over time, beside them
    ]


# ---- stopped ----------------------------------------------------------------------------------
STOPPED = """\
    import signal, sys
    import sim
    from sim import cli
    from sim.runs import farm
    from sim.io import signals

    def jobs():
        s = sim.load_scenario(sys.argv[1])
        for k in range(100_000):
            yield k, {"agents.aws.margin": "35%"}, s

    if __name__ == "__main__":
        signal.signal(signal.SIGINT, signals.on_signal)  # as the CLI listens
        try:
            farm.farm(jobs(), sys.argv[2], chunk_runs=5, seed=3, total=100_000)
        except signals.Interrupted as e:
            sys.exit(cli._stopped(e, e.signum))  # one line on stderr, exit 130
"""


def _interrupted(argv: list[str], out: Path, after: float) -> tuple[int, str]:
    """Start ``argv`` in ``out``'s folder, send SIGINT ``after`` seconds past its first chunk
    (``.OUT.<owner>.<random>.partial`` appears), and give its exit code and what it printed on
    stderr. The child gets SIGINT and SIGTERM as a terminal gives them, whatever this process
    inherited: run as a background job, a shell starts it with SIGINT ignored, and so would the
    child be (seen once: the command ran to the end, exit 0)."""

    def default_signals() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    proc = subprocess.Popen(
        argv,
        cwd=out.parent,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_signals,
    )
    try:
        deadline = time.monotonic() + 120
        while not list(out.parent.glob(f".{out.name}.*.partial")):  # the first chunk is written
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no chunk finished"
            time.sleep(0.05)
        time.sleep(after)  # a few more chunks
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, err


def test_ctrl_c_keeps_a_valid_file_of_the_finished_runs_and_says_so(tmp_path) -> None:
    script, out = tmp_path / "stopped.py", tmp_path / "runs.parquet"
    script.write_text(textwrap.dedent(STOPPED))
    returncode, err = _interrupted([sys.executable, str(script), str(FILE), str(out)], out, 0.5)
    got = farm.read(out)
    n = len(got)
    assert n >= 5 and n % 5 == 0  # whole chunks only
    assert (returncode, err) == (130, f"interrupted; {n} of 100000 runs kept in {out}\n")
    assert got["run_id"].tolist() == list(range(n))
    assert got["error"].isna().all() and got["amazon.invested"].eq(50e9).all()
    meta = farm.read_metadata(out)
    assert (meta["runs"], meta["runs_total"], meta["complete"], meta["seed"]) == (
        n,
        100_000,
        False,
        3,
    )
    assert farm.read_metadata(out.with_name("runs.series.parquet")) == meta  # closed with it
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "runs.parquet",
        "runs.series.parquet",
        "stopped.py",
    ]


# ---- memory -----------------------------------------------------------------------------------
def _peak_bytes(jobs: list[farm.Job], chunks: int, out: Path) -> int:
    """tracemalloc's peak while farming ``chunks`` chunks of 4 runs, generated one at a time."""
    s = jobs[0][2]
    tracemalloc.start()
    try:
        farm.farm(((k, {"x": k}, s) for k in range(4 * chunks)), out, chunk_runs=4)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_twenty_chunks_hold_no_more_than_two(jobs, tmp_path) -> None:
    # imports, caches and the switch to compiled kernels (sim/model/jit.py) happen in this first
    # pass
    _peak_bytes(jobs, 20, tmp_path / "warm.parquet")
    two = _peak_bytes(jobs, 2, tmp_path / "two.parquet")
    twenty = _peak_bytes(jobs, 20, tmp_path / "twenty.parquet")
    # 18 more chunks of results would add 18 chunks' worth; one chunk's arrays are the peak
    assert twenty < 1.2 * two, (two, twenty)
    assert len(farm.read(tmp_path / "twenty.parquet")) == 80


def test_the_commands_chunk_default_is_farms() -> None:
    from sim.cli import cli

    for name in ("mc", "sweep"):
        (option,) = [p for p in cli.commands[name].params if p.name == "chunk_runs"]
        assert option.default == farm.CHUNK_RUNS


def test_roundtrip_mc_through_scheduler_gives_the_rows_of_this_process(
    tmp_path, scheduler, capsys
) -> None:
    """The must-show: a real scheduler and worker, each a process of its own, run a small Monte
    Carlo through --scheduler, and every row equals the same seed run in this process."""
    from sim.cli import main

    args = ["mc", str(FILE), "--runs", "9", "--seed", "21", "--chunk", "4"]
    args += ["--vary", "agents.aws.margin~uniform(20%,40%)"]
    here, there = tmp_path / "here.parquet", tmp_path / "there.parquet"
    assert main([*args, "-o", str(here)]) == 0
    assert main([*args, "-o", str(there), "--scheduler", scheduler]) == 0
    capsys.readouterr()
    assert_frame_equal(farm.read(there).sort_values("run_id", ignore_index=True), farm.read(here))
    assert farm.read_metadata(there)["seed"] == 21


def test_ctrl_c_on_roundtrip_mc_keeps_the_finished_chunks_and_exits_130(tmp_path) -> None:
    """The whole command, interrupted: a valid results file of whole chunks, one line, 130."""
    out = tmp_path / "mc.parquet"
    argv = [sys.executable, "-m", "sim", "mc", str(FILE), "--runs", "40000", "--seed", "2"]
    argv += ["--chunk", "200", "--vary", "agents.aws.margin~uniform(20%,40%)", "-o", str(out)]
    returncode, err = _interrupted(argv, out, 0.3)
    got = farm.read(out)
    n = len(got)
    assert n >= 200 and n % 200 == 0
    assert (returncode, err) == (130, f"interrupted; {n} of 40000 runs kept in {out}\n")
    assert got["run_id"].tolist() == list(range(n)) and got["error"].isna().all()
    assert farm.read_metadata(out)["complete"] is False
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mc.parquet", "mc.series.parquet"]


def test_an_amount_drawn_with_and_without_cents_is_one_float_column_in_every_chunk(tmp_path):
    """--set writes a whole amount as an int and one with cents as text; the results file
    holds dollars as float64 in every chunk (a chunk's column of both was an Arrow error)."""
    template = sim.load_template(FILE)
    spec = "agents.openai.spending.compute.annual~lognormal(30B,0.25)"
    points = sim.ranges.vary.draw_points(template, 8, seed=7, specs=[spec])
    forms = {type(inputs[spec.split("~")[0]]) for inputs, _ in points}
    assert forms == {int, str}  # the case: both forms among the draws
    out = tmp_path / "mc.parquet"
    jobs = [(k, inputs, p) for k, (inputs, p) in enumerate(points)]
    assert farm.farm(jobs, out, chunk_runs=3).errors == 0
    column = pq.read_table(out).column(f"in:{spec.split('~')[0]}")
    assert column.type == pa.float64()
    assert column.to_pylist() == [float(i[spec.split("~")[0]]) for i, _ in points]
