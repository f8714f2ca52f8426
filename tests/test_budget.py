"""The memory budget: runs too large for memory are refused before the engine starts, the
estimate is close to what a run really takes, and wide DataFrames are built without warnings."""

from __future__ import annotations

import tracemalloc
import warnings

import pandas as pd
import pyarrow as pa
import pytest
from conftest import cli

import sim
from sim.inputs.scenario import Scenario
from sim.model import budget
from sim.model.budget import GiB
from sim.model.schedule import build_plan
from sim.model.twin import plan_twins

# the investor's one deal: $5B into lab0 on the first day
DEALS = (
    "deals: [{kind: investment, investor: inv, lab: lab0, "
    "tranches: [{at: 2026-01-01, amount: 5B}]}]"
)


def labs_text(n_labs: int, step: str, horizon: str) -> str:
    """``n_labs`` labs, each buying compute from two clouds; an investor owns one of them."""
    lines = [
        "name: many labs",
        "start: 2026-01-01",
        f"horizon: {horizon}",
        f"step: {step}",
        "agents:",
        "  inv: {kind: investor, owns: [c0]}",
        "  c0: {kind: cloud, margin: 30%}",
        "  c1: {kind: cloud, margin: 20%}",
    ]
    lines += [
        f"  lab{i}: {{kind: lab, cash: 1B, revenue: {{annual: 2B}}, spending: "
        "{compute: {annual: 3B, providers: {c0: 40%, c1: 40%}}, other: {annual: 0.5B}}}"
        for i in range(n_labs)
    ]
    lines.append(DEALS)
    return "\n".join(lines) + "\n"


def clouds_text(n_clouds: int, n_labs: int = 1) -> str:
    """``n_labs`` labs, each buying 0.05% of its compute from every one of ``n_clouds`` clouds,
    monthly for a year."""
    providers = ", ".join(f"c{j}: 0.05%" for j in range(n_clouds))
    lines = [
        "name: many clouds",
        "start: 2026-01-01",
        "horizon: 1y",
        "step: 1mo",
        "agents:",
        "  inv: {kind: investor, owns: [c0]}",
    ]
    lines += [
        f"  lab{i}: {{kind: lab, cash: 1B, revenue: {{annual: 2B}}, "
        f"spending: {{compute: {{annual: 3B, providers: {{{providers}}}}}}}}}"
        for i in range(n_labs)
    ]
    lines += [f"  c{j}: {{kind: cloud, margin: 30%}}" for j in range(n_clouds)]
    lines.append(DEALS)
    return "\n".join(lines) + "\n"


@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the event loop is ever started; and no budget from the environment."""

    def started(*args: object, **kwargs: object) -> None:
        pytest.fail("the engine started: the run should have been refused before it")

    monkeypatch.setattr("sim.runs.runner.simulate", started)
    monkeypatch.delenv(budget.BUDGET_VARIABLE, raising=False)


@pytest.fixture(scope="module")
def two_hundred_labs() -> Scenario:
    return sim.parse_scenario(labs_text(200, "1d", "8y"), "big.yaml")


def test_two_hundred_labs_daily_for_eight_years_is_refused_before_the_engine_starts(
    no_engine, two_hundred_labs
):
    # 2,922 steps x 208 accounts x 403 origins: the balances alone are 2923 * 208 * 403 * 8
    # bytes = 1.8 GiB; the ledger 200 labs x 8 records x 2,922 steps = 4.7 million records of
    # 403 cents each = 14 GiB, held twice at the end of the loop
    with pytest.raises(sim.ScenarioError) as refused:
        sim.run(two_hundred_labs)
    message = str(refused.value)
    assert message.startswith("big.yaml: this run would need about ")
    assert "over the budget of 4.00 GiB" in message
    assert "a coarser step than 1d" in message
    assert f"{budget.BUDGET_VARIABLE}=" in message
    assert "\n" not in message


def test_1500_clouds_monthly_for_a_year_is_refused_before_the_engine_starts(no_engine):
    # two labs each paying all 1,500 clouds: 72,096 records of 1,505 origins (0.8 GiB, held
    # twice), then 29.5 million balance rows (13 points x 1,508 accounts x 1,505 origins). One
    # lab alone is estimated at 3.45 GiB (measured 2.6 GiB) and runs: docs/model.md, "Memory"
    s = sim.parse_scenario(clouds_text(1500, n_labs=2), "big.yaml")
    with pytest.raises(sim.ScenarioError, match=r"^big\.yaml: .* over the budget of 4\.00 GiB"):
        sim.run(s)


def test_check_allocates_nothing_the_size_of_the_run(two_hundred_labs):
    # the 200-lab plan would need tens of GiB; counting it takes a few small [step] arrays
    plan = build_plan([two_hundred_labs])
    tracemalloc.start()
    try:
        est = budget.estimate(plan)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert est.total > 16 * GiB
    assert peak < 2**20  # under 1 MiB


def test_refused_by_the_command_line_with_exit_code_2(tmp_path, capsys, no_engine):
    path = tmp_path / "big.yaml"
    path.write_text(labs_text(200, "1d", "8y"))
    code, out, err = cli(capsys, "run", path, "--out", tmp_path / "out")
    assert code == 2
    assert err.startswith(f"error: {path}: this run would need about ")
    assert err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_a_run_at_its_estimate_runs_and_one_cent_of_budget_less_is_refused():
    s = sim.parse_scenario(labs_text(3, "1mo", "2y"), "medium.yaml")
    need = budget.estimate_bytes(build_plan(plan_twins([s]).expand([s])))  # twins included
    assert sim.run(s, memory_budget=need).check["balanced"]
    with pytest.raises(sim.ScenarioError, match="over the budget"):
        sim.run(s, memory_budget=need - 1)


def test_a_moderately_large_file_under_the_default_budget_runs(monkeypatch):
    # 20 labs on a weekly grid over 2 years: 105 steps, 28 accounts, 43 origins
    monkeypatch.delenv(budget.BUDGET_VARIABLE, raising=False)
    s = sim.parse_scenario(labs_text(20, "7d", "2y"), "medium.yaml")
    assert budget.estimate_bytes(build_plan([s])) < budget.DEFAULT_BUDGET
    assert sim.run(s).check["balanced"]


def test_budget_from_the_environment_or_the_argument(monkeypatch):
    s = sim.parse_scenario(labs_text(3, "1mo", "2y"), "medium.yaml")
    monkeypatch.setenv(budget.BUDGET_VARIABLE, "1KiB")
    with pytest.raises(sim.ScenarioError, match=r"over the budget of 1 KiB; .*=1GiB$"):
        sim.run(s)
    assert sim.run(s, memory_budget="1GiB").check["balanced"]  # the argument wins
    monkeypatch.setenv(budget.BUDGET_VARIABLE, "8 gigs")
    with pytest.raises(sim.ScenarioError, match=r"^ROUNDTRIP_MEMORY_BUDGET: '8 gigs' is not"):
        sim.run(s)


def test_batches_are_refused_as_a_whole_with_a_hint_to_split_them(no_engine):
    runs = [sim.parse_scenario(labs_text(3, "1mo", "2y"), "b.yaml")] * 50
    need = budget.estimate_bytes(build_plan(runs), keep_balances=False)
    with pytest.raises(sim.ScenarioError, match="fewer runs per batch"):
        sim.run_batch(runs, memory_budget=need - 1)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("8GiB", 8 * 2**30),
        ("512MiB", 512 * 2**20),
        ("6GB", 6 * 10**9),
        ("1.5gib", 3 * 2**29),
        (" 2 TiB ", 2 * 2**40),
        ("1000", 1000),
        (4096, 4096),
    ],
)
def test_memory_sizes(text, want):
    assert budget.parse_bytes(text) == want


@pytest.mark.parametrize("text", ["8 gigs", "", "-1GiB", "0", "GiB", "1e9", 0, -5])
def test_memory_sizes_refused(text):
    with pytest.raises(ValueError, match="memory"):
        budget.parse_bytes(text)


def _measured_peak(run: object) -> int:
    """Bytes at the peak of ``run()``: Python and numpy allocations (tracemalloc), plus what
    Arrow holds at the end (pandas str columns live in Arrow's memory, which tracemalloc
    does not see)."""
    arrow_before = pa.total_allocated_bytes()
    tracemalloc.start()
    try:
        kept = run()  # type: ignore[operator]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    arrow = pa.total_allocated_bytes() - arrow_before
    del kept
    return peak + arrow


@pytest.mark.parametrize(
    ("text", "runs"),
    [
        (labs_text(4, "1d", "1y"), 1),  # 365 steps, 11 origins: many small records
        (clouds_text(150), 1),  # 12 steps, 153 origins: wide records, a long balances frame
        (labs_text(2, "1mo", "8y"), 200),  # a batch: every amount an array over 200 runs
    ],
    ids=["daily", "many-clouds", "batch"],
)
def test_estimate_is_within_a_factor_of_two_of_the_measured_peak(text, runs):
    scenarios = [sim.parse_scenario(text, "medium.yaml")] * runs
    plan = build_plan(scenarios)
    if runs == 1:
        want = budget.estimate_bytes(plan)

        def run() -> object:
            r = sim.run(scenarios[0])
            return r, r.ledger, r.balances

    else:
        want = budget.estimate_bytes(plan, keep_balances=False)

        def run() -> object:
            b = sim.run_batch(scenarios)
            return b, b[0].ledger

    run()  # once before measuring: kernels loaded, lazy imports done
    peak = _measured_peak(run)
    assert 0.5 * peak <= want <= 2 * peak, (want, peak)


def test_wide_ledger_and_balances_frames_raise_no_performance_warning(tmp_path):
    # 150 clouds: 153 origins, one from:<origin> column each (pandas warns past 100 inserts)
    r = sim.run(sim.parse_scenario(clouds_text(150), "wide.yaml"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.PerformanceWarning)
        ledger, balances = r.ledger, r.balances
        ledger.to_parquet(tmp_path / "ledger.parquet", index=False)
        balances.to_parquet(tmp_path / "balances.parquet", index=False)
    assert ledger.shape[1] == 8 + 153
    assert list(ledger.columns[8:11]) == [
        "from:inv:investment",
        "from:lab0:revenue",
        "from:lab0:cash",
    ]
    # the origin columns add up to each record's amount, record by record
    assert (ledger.filter(like="from:").sum(axis=1) == ledger.amount_cents).all()
    assert len(balances) == 13 * 157 * 153  # grid points x accounts x origins
