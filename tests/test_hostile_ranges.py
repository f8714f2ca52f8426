"""Hostile ranges: whatever a sweep, a Monte Carlo or a sensitivity is asked, the answer is rows
(a point that cannot run is a row with its error) or one plain refusal before anything runs.

A refusal, on the command line: exit code 2, one line on stderr starting "error: ", nothing on
stdout, nothing written. The scenario is the bundled toy (docs/model.md): the lab spends the
$12B invested within the year, 40% of it at BigCloud, whose margin is 50%, so BigTech's
incremental profit is margin x 40% x $12B; the lab's revenue is $6B a year.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import cli
from test_hostile_inputs import TOY as TOY_TEXT
from test_hostile_inputs import refusal, toy

import sim
from sim.errors import ScenarioError
from sim.inputs.units import AMOUNT_HELP as AMOUNT
from sim.ranges.vary import MAX_RUNS, draw_points, grid_points, load_template

TOY = Path(__file__).resolve().parent.parent / "scenarios" / "toy_round_trip.yaml"
MAX_SEED = 2**63 - 1
_outs = itertools.count()


def refused(capsys: pytest.CaptureFixture[str], tmp_path: Path, *argv: object) -> str:
    """The one line a command answers with, having checked it is a refusal as the user must see
    it: exit 2, nothing printed, one "error: " line, nothing written where it was pointed."""
    out = tmp_path / f"out{next(_outs)}"
    out.mkdir()
    extra = ["-o", out / "r.parquet"] if argv[0] in ("sweep", "mc") else []
    code, printed, err = cli(capsys, *argv, *extra)
    assert (code, printed) == (2, ""), err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert list(out.iterdir()) == []
    return err.rstrip("\n")


def farmed(tmp_path: Path, kind: str, *argv: object) -> pd.DataFrame:
    """The rows a sweep or mc command wrote, having checked it exited 0."""
    out = tmp_path / f"{kind}.parquet"
    assert sim.cli.main([kind, str(TOY), *map(str, argv), "-o", str(out)]) == 0
    return sim.runs.farm.read(out)


# ---- the cases --------------------------------------------------------------------------


def test_a_sweep_of_the_horizon_runs_each_horizon_in_its_own_batch(tmp_path, capsys) -> None:
    """`sweep --vary horizon=1y,2y` exited 1 ("differs in structure") unless --chunk 1."""
    rows = farmed(tmp_path, "sweep", "--vary", "horizon=1y,2y")
    capsys.readouterr()
    assert rows["in:horizon"].tolist() == ["1y", "2y"]
    assert rows["error"].isna().all()
    # $6B a year of revenue: $6B over one year, $12B over two
    assert rows["labco.revenue"].tolist() == [6e9, 12e9]
    # the $12B is spent within the first year either way: 50% x 40% x $12B = $2.4B
    assert rows["bigtech.incremental_profit"].tolist() == [2.4e9, 2.4e9]


def test_chunk_1_and_chunk_1000_give_the_same_rows_and_series_for_runs_of_mixed_structure(
    tmp_path,
) -> None:
    """Runs of two horizons and two margins: grouped by structure within a chunk of 4, alone in
    chunks of 1, the same rows; each run's series on its own monthly grid."""
    vary = ["horizon=1y,2y", "agents.bigcloud.margin=10%,50%"]
    one = sim.sweep(TOY, vary, out=tmp_path / "one.parquet", chunk_runs=1)
    all_ = sim.sweep(TOY, vary, out=tmp_path / "all.parquet", chunk_runs=1000)
    pd.testing.assert_frame_equal(one, all_)
    # margin x 40% x $12B: 10% -> $0.48B, 50% -> $2.4B, whatever the horizon
    assert all_["bigtech.incremental_profit"].tolist() == pytest.approx([0.48e9, 2.4e9] * 2)
    series = [pd.read_parquet(tmp_path / f"{n}.series.parquet") for n in ("one", "all")]
    pd.testing.assert_frame_equal(*series)
    dates = series[1].groupby("run_id")["date"].agg(["count", "max"])
    # monthly from 2026-01-01: 13 grid dates to 2027-01-01, 25 to 2028-01-01
    assert dates["count"].tolist() == [13, 13, 25, 25]
    assert [d.date() for d in dates["max"]] == [dt.date(2027, 1, 1)] * 2 + [dt.date(2028, 1, 1)] * 2
    # at the last date, the series equals the run's metric
    last = series[1].sort_values("date").groupby("run_id").last()
    assert last["incremental_profit"].tolist() == all_["bigtech.incremental_profit"].tolist()


def test_a_monte_carlo_of_the_start_and_step_groups_its_runs_in_every_chunk_size(tmp_path) -> None:
    vary = ["start~choice(2026-01-01,2025-07-01)", "step~choice(1mo,1q)"]
    rows = [sim.monte_carlo(TOY, 12, 3, vary, chunk_runs=n) for n in (1, 5, 1000)]
    for other in rows[1:]:
        pd.testing.assert_frame_equal(rows[0], other)
    # the tranche is paid on 2026-01-01, within either calendar: every draw runs
    assert rows[0]["error"].isna().all()
    assert rows[0]["in:start"].nunique() == 2 and rows[0]["in:step"].nunique() == 2


def test_a_lognormal_that_overflows_is_clipped_to_the_amounts_range(tmp_path, capsys) -> None:
    """`mc --vary 'agents.labco.cash~lognormal(1B,1000)'` exited 1 (OverflowError)."""
    rows = farmed(tmp_path, "mc", "--vary", "agents.labco.cash~lognormal(1B,1000)", "--runs", 20)
    capsys.readouterr()
    cash = rows["in:agents.labco.cash"]
    assert rows["error"].isna().all()
    assert cash.between(0, 1e13).all()  # $0 to the $10T an amount may be
    assert {0.0, 1e13} <= set(cash)  # e**(±1000 z) overflows both ways: clipped at both ends


def test_a_sobol_sample_past_the_cap_on_runs_is_refused_before_anything_runs(
    tmp_path, capsys
) -> None:
    """`sensitivity --method sobol --samples 1073741824` allocated 128 GiB and exited 1."""
    assert refused(
        capsys, tmp_path, "sensitivity", TOY, "--method", "sobol", "--samples", 2**30
    ) == (
        "error: --samples: 1,073,741,824 base samples of 8 inputs make 10,737,418,240 runs "
        "(samples x (inputs + 2)), past the cap of 10,000,000; ask for fewer samples (a power "
        "of two) or a smaller --top"
    )


@pytest.mark.parametrize("method", ["oat", "sobol"])
@pytest.mark.parametrize("seed", [-5, MAX_SEED + 1])
def test_a_sensitivity_seed_outside_0_to_2_63_is_refused(tmp_path, capsys, method, seed) -> None:
    """`sensitivity --seed -5` exited 1."""
    assert refused(capsys, tmp_path, "sensitivity", TOY, "--method", method, "--seed", seed) == (
        f"error: --seed: the seed is a whole number from 0 to 2**63 - 1 ({MAX_SEED}), got {seed}"
    )


def test_a_grid_of_ten_billion_points_is_refused_before_anything_runs(tmp_path, capsys) -> None:
    """Two 100,000-point ranges made 10**10 runs and were accepted."""
    assert refused(
        capsys,
        tmp_path,
        "sweep",
        TOY,
        "--vary",
        "agents.labco.cash=0..1000B:100000",
        "--vary",
        "agents.bigcloud.margin=0%..99%:100000",
    ) == (
        f"error: {TOY}: the grid has 10,000,000,000 points (100,000 x 100,000 over "
        "agents.labco.cash, agents.bigcloud.margin), past the cap of 10,000,000 runs of one "
        "sweep; give fewer points, or split the sweep"
    )


@pytest.mark.parametrize("seed", [-5, MAX_SEED + 1])
def test_a_monte_carlo_seed_outside_0_to_2_63_is_refused(tmp_path, capsys, seed) -> None:
    line = refused(capsys, tmp_path, "mc", TOY, "--vary", "seed~choice(1,2)", "--seed", seed)
    assert line == f"error: --seed: {seed} is not in the range 0<=x<={MAX_SEED}."


@pytest.mark.parametrize("seed", [-5, MAX_SEED + 1, 1.5, True])
def test_a_seed_outside_0_to_2_63_is_refused_from_python(seed) -> None:
    message = f"the seed must be a whole number from 0 to 2**63 - 1, got {seed!r}"
    with pytest.raises(ScenarioError, match=message.replace("*", r"\*")):
        sim.monte_carlo(TOY, 2, seed, ["agents.labco.cash~uniform(1B,2B)"])
    with pytest.raises(ScenarioError, match=message.replace("*", r"\*")):
        sim.draw(load_template(TOY), 2, seed, ["agents.labco.cash~uniform(1B,2B)"])
    with pytest.raises(ScenarioError, match="the seed is a whole number from 0 to 2"):
        sim.sensitivity(TOY, seed=seed)


# ---- hostile cases of our own: refused with the spec, before anything runs ----------------------

RANGE = "a range is LO..HI:N, N evenly spaced points from LO to HI inclusive (0%..100%:11)"
NO_INPUT = (
    "names no input of a scenario; a path is dotted keys and list indices, such as "
    "agents.aws.margin or deals.0.tranches.1.amount, or deals.N.amount for an investment's "
    "whole amount"
)
SWEEPS = [
    ("agents.labco.cash=", "the list of values is empty; expected a list such as 10B,25B,50B"),
    ("agents.labco.cash=[]", "the list of values is empty; expected a list such as 10B,25B,50B"),
    ("agents.labco.cash=0..1B:0", f"{RANGE}; N must be from 2 to 100,000, got 0"),
    ("agents.labco.cash=0..1B:1", f"{RANGE}; N must be from 2 to 100,000, got 1"),
    ("agents.labco.cash=0..1B:100001", f"{RANGE}; N must be from 2 to 100,000, got 100001"),
    (
        "agents.labco.cash=0..1B:10**9",
        f"{RANGE}; the number of points N is missing or not a whole number",
    ),
    ("agents.labco.cash=2B..1B:3", "a range's LO must be below its HI"),
    ("start=2026-01-01..2025-01-01:3", "a range's LO must be below its HI"),
    ("horizon=1y..1y:2", "a range's LO must be below its HI"),
    ("agents.labco.cash=1B..50%:3", f"the range's ends: expected {AMOUNT}, got '50%'"),
    ("horizon=1y..30d:3", f"{RANGE}; both ends in days (d, w) or both in months (mo, q, y)"),
    (
        "agents.labco.cash=0..0.01:3",
        "3 points between the ends would repeat values in whole "
        "cents (the range spans 1); ask for at most 2 points",
    ),
    ("agents.labco.nothing=1,2", f"'agents.labco.nothing' {NO_INPUT}"),
    ("sweep=1,2", f"'sweep' {NO_INPUT}"),
    ("agents..cash=1,2", f"'agents..cash' {NO_INPUT}"),
    ("deals.5.amount=1B,2B", "there is no deals.5: the file has 1 deals"),
    ("agents.labco=1,2 at 1", "agents.labco: expected a mapping (key: value, ...), got 1"),
    (
        "agents.labco.cash~normal(1B,1B)",
        "a distribution is drawn by Monte Carlo (draw), not "
        "swept; give a list a,b,c or a range LO..HI:N here",
    ),
    (
        "agents.labco.cash=1,250,500",
        "'1,250,500' reads both as one number grouped by thousands and as a list of values; "
        "write one number as 1_250_500, or a list with a space after each comma: 1, 250, 500",
    ),
    (
        "agents.labco.cash=$2,500,000.50",
        "'$2,500,000.50' reads both as one number grouped by thousands and as a list of values; "
        "write one number as $2_500_000.50, or a list with a space after each comma: "
        "$2, 500, 000.50",
    ),
    (
        "agents.bigcloud.margin=-10%,50% at -10%",
        "agents.bigcloud.margin: a margin must be at least 0% and below 100%, got -0.1",
    ),
]


@pytest.mark.parametrize(("spec", "says"), SWEEPS, ids=[s for s, _ in SWEEPS])
def test_a_bad_sweep_spec_is_refused_with_the_spec(tmp_path, capsys, spec, says) -> None:
    given = spec.split(" at ")[0]  # "... at V": the first point, refused at its value
    line = refused(capsys, tmp_path, "sweep", TOY, "--vary", given)
    assert line == f"error: --vary {spec}: {says}"


NORMAL = "normal takes [mean, sd] in the input's own units"
LOGNORMAL = "lognormal takes [median, sigma] in the input's own units"
BIG = "expected a number from -2**63 to 2**63"
DRAWS = [
    ("agents.labco.cash~normal(1B,-1B)", f"{NORMAL}; the sd must be at least 0, got '-1B'"),
    ("agents.labco.cash~normal(1B)", f"{NORMAL}, got 1 values: ['1B']"),
    ("agents.labco.cash~normal(1B,1B,1B)", f"{NORMAL}, got 3 values: ['1B', '1B', '1B']"),
    (
        "agents.labco.cash~uniform(2B,1B)",
        "uniform takes [lo, hi] in the input's own units, with lo <= hi; got ['2B', '1B']",
    ),
    (
        "agents.labco.cash~triangular(1B,3B,2B)",
        "triangular takes [lo, mode, hi] in the input's "
        "own units, with lo <= mode <= hi; got ['1B', '3B', '2B']",
    ),
    (
        "agents.labco.cash~lognormal(0,1)",
        f"{LOGNORMAL}; the median must be above 0 and sigma at least 0",
    ),
    (
        "agents.labco.cash~lognormal(1B,-1)",
        f"{LOGNORMAL}; the median must be above 0 and sigma at least 0",
    ),
    (
        "agents.labco.cash~lognormal(1B,.nan)",
        "sigma (of the value's log): expected a number, got '.nan'",
    ),
    ("agents.labco.cash~lognormal(1B,1e300)", f"sigma (of the value's log): {BIG}, got 1e+300"),
    ("agents.labco.cash~normal(nan,1B)", f"a parameter: expected {AMOUNT}, got 'nan'"),
    ("agents.labco.cash~normal(inf,1B)", f"a parameter: expected {AMOUNT}, got 'inf'"),
    (
        "agents.labco.cash~normal(1e308,1)",
        "a parameter: 1e+308 is larger than the $10T this simulator accepts for one figure",
    ),
    ("seed~normal(0,1e20)", f"a parameter: {BIG}, got 1e+20"),
    ("seed~uniform(-1e308,1e308)", f"a parameter: {BIG}, got -1e+308"),
    ("seed~triangular(-1e308,1e308,1e308)", f"a parameter: {BIG}, got -1e+308"),
    (
        "agents.labco.cash~choice()",
        "choice takes [a, b, ...] in the input's own units; the list is empty",
    ),
    (
        "agents.labco.cash~poisson(1)",
        "unknown distribution 'poisson'; accepted: normal: [mean, "
        "sd], uniform: [lo, hi], lognormal: [median, sigma], triangular: [lo, mode, hi], choice: "
        "[a, b, ...]",
    ),
    (
        "agents.labco.label~normal(1,2)",
        "normal draws numbers; this input is text, not an "
        "amount, a share or a number: use choice [a, b, ...] to draw among values",
    ),
    (
        "agents.labco.cash=1B,2B",
        "a list or range is swept (grid), not drawn; give a "
        "distribution here, such as PATH~normal(50%,15%)",
    ),
    (
        "agents.bigcloud~choice(1,2) at its median",
        "agents.bigcloud: expected a mapping (key: value, ...), got 1",
    ),
]


@pytest.mark.parametrize(("spec", "says"), DRAWS, ids=[s for s, _ in DRAWS])
def test_a_bad_distribution_is_refused_with_the_spec(tmp_path, capsys, spec, says) -> None:
    given = spec.split(" at ")[0]
    line = refused(capsys, tmp_path, "mc", TOY, "--vary", given, "--runs", 3)
    assert line == f"error: --vary {spec}: {says}"


def test_one_path_varied_twice_is_refused_naming_both(tmp_path, capsys) -> None:
    a, b = "agents.labco.cash=1B", "agents.labco.cash=2B,3B"
    assert refused(capsys, tmp_path, "sweep", TOY, "--vary", a, "--vary", b) == (
        f"error: --vary {b}: agents.labco.cash is varied twice (also by --vary {a}); vary an "
        "input once, with all its values"
    )
    c, d = "seed~uniform(1,2)", "seed~choice(3)"
    assert refused(capsys, tmp_path, "mc", TOY, "--vary", c, "--vary", d) == (
        f"error: --vary {d}: seed is varied twice (also by --vary {c}); vary an input once, "
        "with all its values"
    )


def test_three_ranges_past_ten_million_points_are_refused(tmp_path, capsys) -> None:
    line = refused(
        capsys,
        tmp_path,
        "sweep",
        TOY,
        "--vary",
        "agents.labco.cash=0..1000B:1000",
        "--vary",
        "agents.bigcloud.margin=0%..99%:1000",
        "--vary",
        "discount_rate=0%..10%:11",
    )
    assert "the grid has 11,000,000 points (1,000 x 1,000 x 11 over " in line


def test_a_grid_of_exactly_ten_million_points_is_accepted_and_made_one_point_at_a_time() -> None:
    points = grid_points(
        load_template(TOY), ["agents.labco.cash=0..1000B:10000", "discount_rate=0%..99.9%:1000"]
    )
    assert len(points) == MAX_RUNS == 10_000_000
    inputs, _ = points[-1]  # the last point: both ranges at their ends
    assert inputs == {"agents.labco.cash": 1_000_000_000_000, "discount_rate": 0.999}


@pytest.mark.parametrize("runs", [0, MAX_RUNS + 1, True])
def test_a_number_of_runs_outside_1_to_ten_million_is_refused_from_python(runs) -> None:
    with pytest.raises(ScenarioError, match="the number of runs must be a whole number from 1 to"):
        draw_points(load_template(TOY), runs, 0, ["seed~choice(1,2)"])


SENSITIVITY = [
    (
        ["--samples", "100"],
        "--samples: a power of two (64, 256, 1024...), as Saltelli's scheme needs, got 100",
    ),
    (
        ["--samples", "0"],
        "--samples: a power of two (64, 256, 1024...), as Saltelli's scheme needs, got 0",
    ),
    (
        ["--samples", "-256"],
        "--samples: a power of two (64, 256, 1024...), as Saltelli's scheme needs, got -256",
    ),
    (["--top", "0"], "--top: a whole number of inputs, at least 1, got 0"),
    (["--top", "-1"], "--top: a whole number of inputs, at least 1, got -1"),
    (["--swing", "0%"], "--swing: the swing is more than 0% and at most 100%, got 0%"),
    (
        ["--method", "sobol", "--samples", str(2**20)],
        "--samples: 1,048,576 base samples of 8 "
        "inputs make 10,485,760 runs (samples x (inputs + 2)), past the cap of 10,000,000; ask for "
        "fewer samples (a power of two) or a smaller --top",
    ),
    # --top past the inputs the file states counts those 9 (the lab's revenue and compute, its
    # two providers' shares, the two margins, the tranche, the pre-money, the discount rate;
    # its cash is 0): 1,048,576 x (9 + 2) = 11,534,336 runs
    (
        ["--method", "sobol", "--samples", str(2**20), "--top", str(10**30)],
        "--samples: "
        "1,048,576 base samples of 9 inputs make 11,534,336 runs (samples x (inputs + 2)), past "
        "the cap of 10,000,000; ask for fewer samples (a power of two) or a smaller --top",
    ),
]


@pytest.mark.parametrize(("argv", "says"), SENSITIVITY, ids=[" ".join(a) for a, _ in SENSITIVITY])
def test_a_sensitivity_option_out_of_bounds_is_refused(tmp_path, capsys, argv, says) -> None:
    assert refused(capsys, tmp_path, "sensitivity", TOY, *argv) == f"error: {says}"


def test_a_sobol_sample_past_the_memory_budget_is_refused(tmp_path, capsys, monkeypatch) -> None:
    # 65,536 samples of 8 inputs: 655,360 runs; 8 x (65,536 x 16 + 655,360 x 8 + 2 x 655,360)
    # = 60,817,408 bytes, 58 MiB, past a budget of 16 MiB
    monkeypatch.setenv("ROUNDTRIP_MEMORY_BUDGET", "16MiB")
    assert refused(
        capsys, tmp_path, "sensitivity", TOY, "--method", "sobol", "--samples", 2**16
    ) == (
        "error: --samples: 65,536 base samples of 8 inputs hold 58 MiB in memory, past the "
        "budget of 16 MiB (ROUNDTRIP_MEMORY_BUDGET); ask for fewer samples (a power of two) or "
        "a smaller --top"
    )


# ---- hostile cases of our own: rows, each run's value clipped or its error in its row ----------


@pytest.mark.parametrize("seed", [0, MAX_SEED])
def test_seeds_at_the_bounds_draw_and_run(seed) -> None:
    rows = sim.monte_carlo(TOY, 3, seed, ["agents.bigcloud.margin~uniform(10%,50%)"])
    assert rows["error"].isna().all()
    assert rows["in:agents.bigcloud.margin"].between(0.1, 0.5).all()


def test_a_normal_of_sd_0_and_a_choice_of_one_draw_that_value_every_time() -> None:
    vary = ["agents.labco.cash~normal(1B,0)", "horizon~choice(2y)"]
    rows = sim.monte_carlo(TOY, 4, 1, vary)
    assert rows["in:agents.labco.cash"].tolist() == [1e9] * 4
    assert rows["in:horizon"].tolist() == ["2y"] * 4
    assert rows["labco.revenue"].tolist() == [12e9] * 4  # $6B a year for two years


def test_a_share_drawn_with_an_absurd_sd_is_clipped_into_its_range() -> None:
    rows = sim.monte_carlo(TOY, 20, 2, ["agents.bigcloud.margin~normal(50%,1e20)"])
    margin = rows["in:agents.bigcloud.margin"]
    assert rows["error"].isna().all()
    assert set(margin) == {0.0, 0.999999999999}  # at least 0%, below 100%: 12 places


def test_a_choice_of_values_of_the_wrong_kind_makes_rows_with_their_errors(tmp_path) -> None:
    """A text among durations, a number among dates: a row each with its error; the column
    keeps the type of the input's kind in every chunk (a mixed chunk was an Arrow error)."""
    vary = ["horizon~choice(1y,abc)", "start~choice(2026-01-01,5)"]
    out = tmp_path / "mc.parquet"
    rows = sim.monte_carlo(TOY, 16, 4, vary, out=out, chunk_runs=3)
    table = pq.read_table(out)
    assert table.schema.field("in:horizon").type == pa.string()
    assert table.schema.field("in:start").type == pa.date32()
    bad = (rows["in:horizon"] == "abc") | rows["in:start"].isna()
    assert 0 < bad.sum() < 16  # the case: both kinds of run
    assert rows["error"].notna().tolist() == bad.tolist()
    only_horizon = (rows["in:horizon"] == "abc") & rows["in:start"].notna()
    assert only_horizon.any()
    said = rows.loc[only_horizon, "error"]
    assert said.str.startswith("--vary horizon~choice(1y,abc) drew abc: horizon: ").all()


def test_a_first_draw_that_is_invalid_is_a_row_when_the_medians_are_valid(tmp_path) -> None:
    """The tranche is paid on 2026-01-01: a start of 2027-01-01 leaves it outside the run."""
    rows = sim.monte_carlo(TOY, 8, 0, ["start~choice(2026-01-01,2027-01-01)"])
    late = rows["in:start"] == dt.date(2027, 1, 1)
    assert 0 < late.sum() < 8
    assert rows["error"].notna().tolist() == late.tolist()
    assert rows.loc[late, "error"].str.contains("is outside the horizon").all()


def test_which_investors_have_a_series_is_each_runs_own(tmp_path) -> None:
    """Without a cloud BigTech has no twin: that run has no series rows, the other 13."""
    out = tmp_path / "s.parquet"
    rows = sim.sweep(TOY, ["agents.bigtech.owns=[[bigcloud], []]"], out=out)
    assert rows["error"].isna().all()
    series = pd.read_parquet(tmp_path / "s.series.parquet")
    assert series.groupby("run_id").size().to_dict() == {0: 13}
    assert rows["bigtech.incremental_profit"].tolist() == [2.4e9, 0.0]  # no cloud: none caused


def test_a_choice_of_providers_changes_the_structure_and_runs() -> None:
    rows = sim.sweep(
        TOY, ["agents.labco.spending.compute.providers=[{bigcloud: 40%}, {bigcloud: 80%}]"]
    )
    # 50% x share x $12B: 40% -> $2.4B, 80% -> $4.8B
    assert rows["bigtech.incremental_profit"].tolist() == [2.4e9, 4.8e9]


# ---- ranges written in the file: refused by validate and run too, at their line ----------------


def test_a_files_sweep_past_ten_million_points_is_refused_where_it_is_written(
    tmp_path, capsys
) -> None:
    text = TOY_TEXT + "sweep:\n  agents.labco.cash: 0..1000B:100000\n  discount_rate: 0%..10%:101\n"
    line = TOY_TEXT.count("\n") + 1  # the sweep: key, after the toy's last line
    said = (
        f".yaml:{line}:1: sweep: the grid has 10,100,000 points (100,000 x 101 over "
        "agents.labco.cash, discount_rate), past the cap of 10,000,000 runs of one sweep; give "
        "fewer points, or split the sweep"
    )
    assert refusal(capsys, tmp_path, text).endswith(said)  # validate and run
    (tmp_path / "s.yaml").write_text(text)
    assert refused(capsys, tmp_path, "sweep", tmp_path / "s.yaml").endswith(said)


@pytest.mark.parametrize(
    ("written", "says"),
    [
        ("{lognormal: [1B, 1e308]}", f"sigma (of the value's log): {BIG}, got 1e+308"),
        ("{normal: [1B, .nan]}", f"a parameter: expected {AMOUNT}, got '.nan'"),
        ("{uniform: [1B, .inf]}", f"a parameter: expected {AMOUNT}, got '.inf'"),
        ("{choice: []}", "choice takes [a, b, ...] in the input's own units; the list is empty"),
    ],
)
def test_a_files_absurd_distribution_is_refused_where_it_is_written(
    tmp_path, capsys, written, says
) -> None:
    text = toy("cash: 0  #", f"cash: {written}  #")
    before = text[: text.index(written)]
    line, column = before.count("\n") + 1, len(before) - before.rfind("\n")
    said = f".yaml:{line}:{column}: agents.labco.cash: {says}"
    assert refusal(capsys, tmp_path, text).endswith(said)  # validate and run
    (tmp_path / "m.yaml").write_text(text)
    assert refused(capsys, tmp_path, "mc", tmp_path / "m.yaml").endswith(said)


def test_an_input_whose_swing_rounds_to_nothing_is_not_sampled_by_sobol() -> None:
    """A discount rate of 1e-12 swung 20% is 1e-12 at both ends (to 12 places): SALib refused
    the empty range ("Bounds are not legal", exit 1); the others are sampled."""
    text = TOY_TEXT.replace("discount_rate: 8%", "discount_rate: 0.000000000001")
    scenario = sim.parse_scenario(text, "tiny.yaml", None)
    table = sim.sensitivity(scenario, method="sobol", samples=4, top=100)
    assert "discount_rate" not in set(table["input"])
    assert len(table) == 8  # the toy's 9 inputs but the discount rate


def test_a_point_that_changes_which_agents_there_are_is_a_row_with_its_error(tmp_path) -> None:
    """An investor chosen to be a cloud: its run has other metric columns than the file's, so
    it is a row with its error (the writer refused the chunk, exit 1); the other runs."""
    path = tmp_path / "other.yaml"
    path.write_text(toy("  labco:\n", "  other: {kind: investor}\n  labco:\n"))
    rows = sim.sweep(path, ["agents.other=[{kind: investor}, {kind: cloud, margin: 10%}]"])
    assert pd.isna(rows["error"][0])
    assert rows["error"][1] == (
        f"{path}: its investors and labs (bigtech, labco) are not the file's (bigtech, other, "
        "labco): the runs of one results file share their metric columns; vary an agent's "
        "inputs, not which agents there are"
    )
    assert rows["bigtech.incremental_profit"][0] == 2.4e9  # 50% x 40% x $12B


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("deals.0.amount=1B,2B", "deals.0.tranches.0.amount=3B"),
        ("agents.labco.cash=1B,2B", "agents.labco=[{kind: lab}]"),
        ("agents.labco.spending.compute.providers.bigcloud=10%", "agents.labco.spending=[{}]"),
    ],
)
def test_two_paths_that_overlap_are_refused(tmp_path, capsys, first, second) -> None:
    """Varying an investment's amount sets its tranches; varying an agent sets its inputs:
    the last would silently win over the first."""
    a, b = first.split("=")[0], second.split("=")[0]
    assert refused(capsys, tmp_path, "sweep", TOY, "--vary", first, "--vary", second) == (
        f"error: --vary {second}: {b} overlaps {a}: varying one sets the other (also by --vary "
        f"{first}); vary an input once, with all its values"
    )


def test_two_providers_of_one_lab_may_vary_together() -> None:
    """Not an overlap: each is one input, and the rescaling takes both into account."""
    rows = sim.sweep(
        TOY,
        [
            "agents.labco.spending.compute.providers.bigcloud=10%,20%",
            "agents.labco.spending.compute.providers.rivalcloud=10%",
        ],
    )
    assert rows["error"].isna().all()
    # 50% x bigcloud's share x $12B: 10% -> $0.6B, 20% -> $1.2B
    assert rows["bigtech.incremental_profit"].tolist() == pytest.approx([0.6e9, 1.2e9])
