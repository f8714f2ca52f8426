"""The command line: exit codes, what it prints, the run folder it writes (or does not)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import cli

import sim
from sim.inputs.units import format_dollars
from sim.io.output import MARKER
from sim.io.output import RUN_FILES as RUN_FILE_NAMES

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "scenarios" / "amazon_openai_50b.yaml"
RUN_FILES = set(RUN_FILE_NAMES)
RUN_FILES |= {"scenario.source.yaml", MARKER}
# Line numbers below refer to this text: 3 horizon, 4 step, 9 cash, 11 providers (column 30),
# 17 the deal's lab, 19 the tranche (at: column 14, amount: column 34).
SMALL = """\
name: small
start: 2026-01-01
horizon: 1y
step: 1mo
agents:
  inv: {kind: investor, owns: [own]}
  lab:
    kind: lab
    cash: 1B
    spending:
      compute: {annual: 12B, providers: {own: 60%, rival: 30%}}
  own: {kind: cloud, margin: 30%}
  rival: {kind: cloud, margin: 10%}
deals:
  - kind: investment
    investor: inv
    lab: lab
    tranches:
      - {at: 2026-01-01, amount: 5B}
"""


def assert_nothing_written(folder: Path, out: Path, before: set[str]) -> None:
    """``out`` was not created and no temporary folder was left beside it."""
    assert not out.exists()
    assert {p.name for p in folder.iterdir()} == before


@pytest.fixture(autouse=True)
def _no_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ROUNDTRIP_DEBUG", raising=False)


@pytest.fixture
def bundled_run(tmp_path, capsys):
    code, out, err = cli(capsys, "run", BUNDLED, "--out", tmp_path / "run")
    return code, out, err, tmp_path / "run"


def test_run_prints_the_summary_and_writes_the_run_folder(bundled_run) -> None:
    code, out, err, folder = bundled_run
    assert (code, err) == (0, "")
    assert "Investor amazon" in out
    assert "invested                      $50.00B" in out
    assert "incremental revenue" in out and "incremental payback" in out
    assert "round trip" in out and "of invested" in out
    assert "Books balance to the cent:" in out
    assert {p.name for p in folder.iterdir()} == RUN_FILES
    assert {p.name for p in folder.parent.iterdir()} == {"run"}  # no temporary folder left
    assert (folder / "scenario.source.yaml").read_bytes() == BUNDLED.read_bytes()


def test_the_run_folder_files_hold_exact_cents_that_add_up(bundled_run) -> None:
    folder, total = bundled_run[3], 20 * 10**9 * 100  # openai's $20B is all the cash at start
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["investors"]["amazon"]["invested"] == 50e9
    assert metrics["check"]["balanced"] is True
    assert metrics["check"]["opening_total_cents"] == total
    led = pd.read_parquet(folder / "ledger.parquet")
    assert pd.api.types.is_integer_dtype(led.amount_cents)
    origins = [c for c in led.columns if c.startswith("from:")]
    assert "from:amazon:investment" in origins
    assert (led[origins].sum(axis=1) == led.amount_cents).all()
    # Amazon's $50B, Nvidia's and SoftBank's $30B each
    assert led.query("kind == 'investment'").amount_cents.sum() == 110 * 10**9 * 100
    per_step = pd.read_parquet(folder / "balances.parquet").groupby("step").cents.sum()
    assert len(per_step) == 97  # 96 monthly steps, opening included
    assert (per_step == total).all()


def test_rerunning_the_resolved_file_gives_the_same_figures_and_inputs_hash(
    bundled_run, tmp_path, capsys
) -> None:
    folder = bundled_run[3]
    code, _, err = cli(capsys, "run", folder / "scenario.resolved.yaml", "--out", tmp_path / "r2")
    assert (code, err) == (0, "")
    first = json.loads((folder / "metrics.json").read_text())
    again = json.loads((tmp_path / "r2" / "metrics.json").read_text())
    assert again.pop("source") == str(folder / "scenario.resolved.yaml")
    first.pop("source")
    assert again == first  # inputs_hash included: the resolved inputs are the same


def test_an_override_changes_the_result_and_json_prints_valid_json(tmp_path, capsys) -> None:
    aws = "agents.openai.spending.compute.providers.aws"
    code, out, _ = cli(capsys, "run", BUNDLED, "--out", tmp_path / "a", "--json")
    assert code == 0
    base = json.loads(out)
    code, out, _ = cli(
        capsys, "run", BUNDLED, "-o", tmp_path / "b", "--json", "--set", f"{aws}=10%"
    )
    assert code == 0
    low = json.loads(out)
    assert low["inputs_hash"] != base["inputs_hash"]
    assert low["investors"]["amazon"]["invested"] == base["investors"]["amazon"]["invested"]
    assert (
        low["investors"]["amazon"]["spend_on_own_cloud"]
        < base["investors"]["amazon"]["spend_on_own_cloud"]
    )
    resolved = (tmp_path / "b" / "scenario.resolved.yaml").read_text()
    assert "aws: 0.1  # set by --set agents.openai.spending.compute.providers.aws=10%\n" in resolved


def test_validate_says_valid_and_writes_nothing(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(capsys, "validate", BUNDLED)
    assert (code, err) == (0, "")
    assert f"{BUNDLED}: valid." in out
    assert "3 investor(s), 1 lab(s), 4 cloud(s), 8 deal(s), 96 steps" in out
    assert list(tmp_path.iterdir()) == []


def sub(old: str, new: str) -> str:
    assert old in SMALL
    return SMALL.replace(old, new, 1)


# case -> (file text, error location ":line:column" or "" for none, parts of the message)
BAD_FILES = {
    "wrong type": (sub("cash: 1B", "cash: lots"), ":9:11", ["agents.lab.cash", "an amount such"]),
    "negative amount": (
        sub("amount: 5B", "amount: -5B"), ":19:34",
        ["tranches.0.amount", "more than zero", "'-5B'"],
    ),
    "zero amount": (sub("amount: 5B", "amount: 0"), ":19:34", ["more than zero, got 0"]),
    "shares past 100%": (
        sub("own: 60%", "own: 80%"), ":11:30",
        ["sum to 110%", "more than 100%", "outside the model"],
    ),
    "missing agent": (
        sub("lab: lab", "lab: lap"), ":17:10",
        ["no agent named 'lap'", "did you mean 'lab'", "labs: lab"],
    ),
    "duplicate key": (
        sub("step: 1mo", "step: 1mo\nstep: 1d"), ":5:1",
        ["duplicate key 'step'", "first at line 4"],
    ),
    "tracing no": (
        sub("step: 1mo", "step: 1mo\ntracing: no"), ":5:10",
        ["expected one of pro_rata, fifo", "'no'"],
    ),
    "tranche outside horizon": (
        sub("at: 2026-01-01", "at: 2027-01-01"), ":19:14",
        ["outside the horizon", "from 2026-01-01 to 2027-01-01"],
    ),
    "empty file": ("", "", ["the file is empty", "a scenario is a mapping with keys"]),
    "not YAML": ("name: [unclosed", ":1:16", ["not valid YAML", "expected ',' or ']'"]),
    "too many steps": (  # refused from arithmetic, before any grid is built
        sub("horizon: 1y", "horizon: 36601d").replace("1mo", "1d"), ":3:10",
        ["horizon: ", "36,601 steps, more than the 36,600", "coarser step"],
    ),
    "unknown key": (
        sub("step: 1mo", "step: 1mo\ntracng: fifo"), ":5:1",
        ["unknown key 'tracng'", "did you mean 'tracing'?", "accepted keys: name"],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_scenario_exits_2_naming_the_place_and_writes_nothing(tmp_path, capsys, case) -> None:
    text, where, parts = BAD_FILES[case]
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    t0 = time.perf_counter()
    code, out, err = cli(capsys, "run", bad, "--out", tmp_path / "out")
    assert time.perf_counter() - t0 < 0.5
    assert code == 2
    assert err.startswith(f"error: {bad}{where}: "), err
    for part in parts:
        assert part in err
    assert "Traceback" not in out + err
    assert_nothing_written(tmp_path, tmp_path / "out", {"bad.yaml"})


@pytest.mark.parametrize("command", ["validate", "run"])
def test_validate_refuses_what_run_refuses_flows_past_45_trillion(
    tmp_path, capsys, command
) -> None:
    bad = tmp_path / "bad.yaml"  # $1T a year growing 80% a year for 100 years
    text = sub("cash: 1B", "cash: 1B\n    revenue: {annual: 1T, growth: 80%}")
    bad.write_text(text.replace("horizon: 1y", "horizon: 100y").replace("step: 1mo", "step: 1y"))
    extra = ["--out", tmp_path / "out"] if command == "run" else []
    code, out, err = cli(capsys, command, bad, *extra)
    assert code == 2
    assert err.startswith(f"error: {bad}: horizon: flows grow past $45 trillion"), err
    assert "lower the growth or shorten the horizon" in err and "Traceback" not in out + err
    assert_nothing_written(tmp_path, tmp_path / "out", {"bad.yaml"})


@pytest.mark.parametrize(
    ("what", "message"),
    [("missing", "no such file"), ("folder", "this is a directory, not a scenario file")],
)
def test_a_missing_file_or_a_folder_as_scenario_exits_2(tmp_path, capsys, what, message) -> None:
    scenario = tmp_path / "given"
    if what == "folder":
        scenario.mkdir()
    before = {p.name for p in tmp_path.iterdir()}
    code, out, err = cli(capsys, "run", scenario, "--out", tmp_path / "out")
    assert code == 2
    assert err == f"error: {scenario}: {message}\n"
    assert "Traceback" not in out
    assert_nothing_written(tmp_path, tmp_path / "out", before)


@pytest.mark.parametrize(
    ("override", "parts"),
    [
        ("agents.lb.cash=5B", ["no key 'lb' under agents", "did you mean 'lab'", "keys there"]),
        ("agents.lab.cash=lots", ["agents.lab.cash: expected an amount such as 50B"]),
        ("horizon", ["expected path=value"]),
    ],
)
@pytest.mark.parametrize("command", ["run", "validate"])
def test_a_bad_override_exits_2_naming_the_override(
    tmp_path, capsys, override, parts, command
) -> None:
    (tmp_path / "s.yaml").write_text(SMALL)
    extra = ["--out", tmp_path / "out"] if command == "run" else []
    code, out, err = cli(capsys, command, tmp_path / "s.yaml", "--set", override, *extra)
    assert code == 2
    assert err.startswith(f"error: --set {override}: ")
    for part in parts:
        assert part in err
    assert "Traceback" not in out + err
    assert_nothing_written(tmp_path, tmp_path / "out", {"s.yaml"})


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["run"], "error: Missing argument 'SCENARIO'; see roundtrip run --help"),
        (["run", BUNDLED, "--dpi", "100"], "error: --chart-size and --dpi apply to charts: add "
         "--charts png (or svg, pdf); see roundtrip run --help"),
        (["run", BUNDLED, "--charts", "gif"], "error: --charts: unknown chart format 'gif'; "
         "choose from png, svg, pdf (comma-separated)"),
        (["chart", "runs/x", "--dpi", "5"], "error: --dpi: dpi is 50 to 600, got 5"),
        (["rn"], "error: No such command 'rn'. Did you mean 'run'? See roundtrip --help."),
    ],
)  # fmt: skip
def test_a_usage_error_is_one_line_and_exits_2(tmp_path, capsys, monkeypatch, argv, line) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(capsys, *argv)
    assert (code, out, err) == (2, "", line + "\n")
    assert list(tmp_path.iterdir()) == []


def test_an_internal_error_exits_1_without_a_traceback_and_writes_nothing(
    tmp_path, capsys, monkeypatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(sim, "run", broken)
    code, out, err = cli(capsys, "run", BUNDLED, "--out", tmp_path / "out")
    assert code == 1
    assert err.startswith("internal error: RuntimeError: boom\n")
    assert "bug in roundtrip" in err and "ROUNDTRIP_DEBUG" in err
    assert "Traceback" not in out + err
    assert_nothing_written(tmp_path, tmp_path / "out", set())


# ---- the real entry points, in a fresh process ------------------------------------------------


def test_python_dash_m_sim_runs_and_prints_json(tmp_path) -> None:
    cmd = [sys.executable, "-m", "sim", "run", str(BUNDLED), "--out", str(tmp_path / "r"), "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["investors"]["amazon"]["invested"] == 50e9
    assert {p.name for p in (tmp_path / "r").iterdir()} == RUN_FILES


def test_the_roundtrip_script_validates_and_reports_bad_input(tmp_path) -> None:
    script = Path(sys.executable).parent / "roundtrip"
    ok = subprocess.run([script, "validate", BUNDLED], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "valid" in ok.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL.replace("step: 1mo", "step: 1mo\ntracing: no"))
    proc = subprocess.run(
        [script, "run", bad, "--out", tmp_path / "out"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"error: {bad}:5:10: tracing: ")
    assert "Traceback" not in proc.stdout + proc.stderr
    assert_nothing_written(tmp_path, tmp_path / "out", {"bad.yaml"})


@pytest.mark.parametrize(
    ("argv", "not_loaded"),
    [
        (["--help"], ("pandas", "numpy", "numba", "pydantic.main", "pyarrow")),
        (["validate", "{s}"], ("pandas", "numba", "pyarrow", "numpy.ma")),
        (["run", "{s}", "--out", "{out}"], ("pandas", "matplotlib", "numpy.ma")),
    ],
    ids=["help", "validate", "run"],
)
def test_each_command_loads_only_what_it_needs(tmp_path, argv, not_loaded) -> None:
    # start-up is most of what a user waits for on a small file (benchmarks/bench_startup.py):
    # pandas alone costs half a second, so a plain run writes its Parquet files through Arrow
    s, out = ROOT / "scenarios" / "amazon_openai_50b.yaml", tmp_path / "run"
    args = [a.format(s=s, out=out) for a in argv]
    code = (
        f"import sys\nfrom sim.cli import run_command\nassert run_command({args!r}) == 0\n"
        f"print(sorted(m for m in {not_loaded!r} if m in sys.modules))"
    )
    env = {**os.environ, "ROUNDTRIP_KERNELS": "numpy", "ROUNDTRIP_CACHE_DIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "[]"


def test_the_readme_prints_what_its_first_command_prints(tmp_path, capsys, monkeypatch) -> None:
    # the README quotes the $50B run's summary and reads its figures: they must be the real ones
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## What a run prints", 1)[1].split("```\n", 2)[1]
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(capsys, "run", BUNDLED)
    assert (code, err) == (0, "")
    assert out == block
    reading = readme.split("## What a run prints", 1)[1].split("## The run folder", 1)[0]
    figures = ("$85.02B", "$81.51B", "$29.76B", "$20.36B", "$47.41B", "$27.05B", "$460.93B")
    for figure in (*figures, "$8.60B", "$3.94B", "$150.00B", "5.31%", "$509.70B", "$90.16B"):
        assert figure in out and figure in reading.split("```", 2)[2], figure


def test_the_readme_library_table_states_each_files_figures() -> None:
    # each headline of the scenario library, recomputed
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Scenario library", 1)[1].split("Figures come from", 1)[0]
    rows = {line.split("`")[1]: line for line in table.splitlines() if line.startswith("| [`")}
    for name, line in rows.items():
        r = sim.run(sim.load_scenario(ROOT / "scenarios" / name))
        for inv, m in r.metrics_dict()["investors"].items():
            if r.scenario.investors[inv].owns and m["invested"]:
                assert f"{m['round_trip_ratio']:.1%}" in line, (name, inv)
                caused = format_dollars(round(m["incremental_revenue_booked"] * 100))
                assert caused in line, (name, inv)


def test_the_readme_changes_an_assumption_and_states_what_the_run_gives() -> None:
    # "Change an assumption and read again": each figure the README states, from its run
    readme = (ROOT / "README.md").read_text()
    reading = readme.split("## What a run prints", 1)[1].split("## The run folder", 1)[0]
    cases = {
        "agents.openai.financing=null": "incremental_revenue_booked_investment_only",
        "counterfactual.substitution=none": "incremental_revenue_booked_investment_only",
    }
    for override, metric in cases.items():
        m = sim.run(sim.load_scenario(BUNDLED, [override])).metrics_dict()["investors"]["amazon"]
        stated = format_dollars(round(m[metric] * 100))
        assert f"`--set {override}`" in reading and stated in reading, (override, stated)
    plain = sim.run(sim.load_scenario(BUNDLED)).metrics_dict()["investors"]["amazon"]
    bound = plain["incremental_revenue_booked_investment_only_substitution_none"]
    assert format_dollars(round(bound * 100)) == "$3.94B"  # the same figure, from the file's run
