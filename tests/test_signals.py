"""Stopping a command: SIGINT (Ctrl-C) and SIGTERM leave nothing half-written, exit 130 or 143
with one line; a late signal or a closed stdout pipe is no traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from conftest import cli
from test_run_folder import SMALL

import sim
from sim.io.output import MARKER
from sim.io.output import RUN_FILES as RUN_FILE_NAMES

RUN_FILES = set(RUN_FILE_NAMES)
RUN_FILES |= {"scenario.source.yaml", MARKER}


@pytest.fixture(autouse=True)
def _no_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ROUNDTRIP_DEBUG", raising=False)


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    (tmp_path / "s.yaml").write_text(SMALL)
    return tmp_path / "s.yaml"


# ---- in-process: main() as the tests' `cli` helper calls it ---------------------------------


def test_ctrl_c_while_writing_a_run_exits_130_with_one_line_and_writes_nothing(
    tmp_path, capsys, monkeypatch, scenario_file
) -> None:
    real_write_table = pq.write_table

    def ctrl_c_after_writing(*args: Any, **kwargs: Any) -> None:
        real_write_table(*args, **kwargs)
        signal.raise_signal(signal.SIGINT)  # the temporary folder holds files by now

    monkeypatch.setattr(pq, "write_table", ctrl_c_after_writing)
    code, out, err = cli(capsys, "run", scenario_file, "--out", tmp_path / "new" / "run")
    assert (code, out, err) == (130, "", "interrupted; nothing was written\n")
    assert {p.name for p in tmp_path.iterdir()} == {"s.yaml"}
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back


def test_ctrl_c_while_drawing_charts_again_keeps_the_charts_there(
    tmp_path, capsys, monkeypatch, scenario_file
) -> None:
    out = tmp_path / "run"
    assert cli(capsys, "run", scenario_file, "--out", out, "--charts", "png")[0] == 0
    before = {p.name: p.read_bytes() for p in (out / "charts").iterdir()}
    marker = (out / MARKER).read_bytes()
    real_save = sim.views.charts.save

    def ctrl_c_after_saving(*args: Any, **kwargs: Any) -> Path:
        path = real_save(*args, **kwargs)
        signal.raise_signal(signal.SIGINT)
        return path

    monkeypatch.setattr(sim.views.charts, "save", ctrl_c_after_saving)
    code, text, err = cli(capsys, "chart", out, "--format", "svg")
    assert (code, text, err) == (130, "", "interrupted; nothing was written\n")
    assert {p.name: p.read_bytes() for p in (out / "charts").iterdir()} == before
    assert (out / MARKER).read_bytes() == marker
    assert {p.name for p in out.iterdir()} == RUN_FILES | {"charts"}
    assert {p.name for p in tmp_path.iterdir()} == {"s.yaml", "run"}


def test_ctrl_c_while_making_a_report_exits_130_and_writes_no_file(
    tmp_path, capsys, monkeypatch, scenario_file
) -> None:
    real_run = sim.run

    def run_then_ctrl_c(*args: Any, **kwargs: Any) -> sim.Result:
        result = real_run(*args, **kwargs)
        signal.raise_signal(signal.SIGINT)
        return result

    monkeypatch.setattr(sim, "run", run_then_ctrl_c)
    code, out, err = cli(capsys, "report", scenario_file, "-o", tmp_path / "report.pdf")
    assert (code, out, err) == (130, "", "interrupted; nothing was written\n")
    assert {p.name for p in tmp_path.iterdir()} == {"s.yaml"}


# ---- a real process: `python -m sim`, signalled from outside ----------------------------------


def start(folder: Path, *argv: str) -> subprocess.Popen[str]:
    """``python -m sim ARGV`` in ``folder``, with SIGINT and SIGTERM as a terminal gives them
    (not ignored, whatever this test process inherited)."""

    def default_signals() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    env = {k: v for k, v in os.environ.items() if k != "ROUNDTRIP_DEBUG"}
    return subprocess.Popen(
        [sys.executable, "-m", "sim", *argv],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_signals,
    )


def wait_for_temporary_folder(proc: subprocess.Popen[str], folder: Path) -> None:
    """Poll until the run's temporary folder appears beside its run folder."""
    deadline = time.monotonic() + 120
    while not list(folder.glob(".run.*.tmp")):
        assert proc.poll() is None, f"the run ended first: {proc.communicate()}"
        assert time.monotonic() < deadline, "no temporary folder within 120 s"
        time.sleep(0.005)


@pytest.mark.parametrize(
    ("signum", "code", "line"),
    [
        (signal.SIGTERM, 143, "terminated; nothing was written\n"),
        (signal.SIGINT, 130, "interrupted; nothing was written\n"),
    ],
)
def test_a_signal_while_writing_the_run_folder_leaves_no_temporary_folder(
    tmp_path, scenario_file, signum, code, line
) -> None:
    # charts make the temporary folder live for seconds: time enough to signal it
    proc = start(tmp_path, "run", "s.yaml", "--out", "run", "--charts", "png")
    wait_for_temporary_folder(proc, tmp_path)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=120)
    assert (proc.returncode, out, err) == (code, "", line)
    assert [p.name for p in tmp_path.iterdir()] == ["s.yaml"]


def test_a_ctrl_c_once_the_run_is_written_changes_nothing(tmp_path, scenario_file) -> None:
    proc = start(tmp_path, "run", "s.yaml", "--out", "run")
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("Wrote run/"):
            proc.send_signal(signal.SIGINT)  # the last line is out: the command is done
            break
    _, err = proc.communicate(timeout=120)
    assert (proc.returncode, err) == (0, "")
    assert {p.name for p in (tmp_path / "run").iterdir()} == RUN_FILES


def test_a_closed_stdout_pipe_ends_the_command_quietly(tmp_path, scenario_file) -> None:
    """As in ``roundtrip run s.yaml | head -1``: the reader is gone before the summary."""
    proc = start(tmp_path, "run", "s.yaml", "--out", "run")
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read()
    assert (proc.wait(timeout=120), err) == (141, "")
    assert {p.name for p in (tmp_path / "run").iterdir()} == RUN_FILES  # written before


def test_a_signal_landing_in_a_c_librarys_callback_is_sent_again_not_raised(monkeypatch) -> None:
    """numba's compiled kernels, llvmlite and pydantic-core call back into Python; an exception
    raised there is swallowed ("Exception ignored", or pydantic-core going on: seen as a Ctrl-C
    on roundtrip mc that the run never noticed) or turns into a SystemError. The handler sends
    the signal again a moment later instead, keeps it for the next safe point of a farm (where
    ``raise_deferred`` acts on it), and raises anywhere else."""
    import types

    from sim.io import signals

    started: list[tuple[float, Any, tuple[Any, ...]]] = []

    class Timer:
        def __init__(self, delay: float, fn: Any, args: tuple[Any, ...]) -> None:
            started.append((delay, fn, args))

        def start(self) -> None:
            pass

    def frame(filename: str, back: Any = None) -> Any:
        return types.SimpleNamespace(
            f_code=types.SimpleNamespace(co_filename=filename), f_back=back
        )

    monkeypatch.setattr(signals.threading, "Timer", Timer)
    for library in ("numba", "llvmlite", "pydantic_core", "pydantic"):
        signals.on_signal(signal.SIGINT, frame(f"{os.sep}x{os.sep}{library}{os.sep}core.py"))
    # ours, but called back by pydantic-core (a validator of sim/inputs/schema.py): the same
    called_back = frame(f"{os.sep}x{os.sep}pydantic{os.sep}functional_validators.py")
    signals.on_signal(signal.SIGINT, frame(signals.__file__, called_back))
    assert [(d, fn, args) for d, fn, args in started] == [
        (signals.AGAIN_AFTER, os.kill, (os.getpid(), signal.SIGINT))
    ] * 5
    assert signals.deferred() == (signal.SIGINT,)  # kept once, for the next safe point
    before = signal.getsignal(signal.SIGINT)
    try:
        signal.signal(signal.SIGINT, signals.on_signal)
        with pytest.raises(signals.Interrupted):
            signals.raise_deferred()  # a safe point: acted on by the handler in place
        assert signals.deferred() == ()
        signal.signal(signal.SIGINT, before)
        with pytest.raises(signals.Interrupted):
            signals.on_signal(signal.SIGINT, frame(signals.__file__))
    finally:
        signal.signal(signal.SIGINT, before)


def test_a_signal_that_waits_to_be_sent_again_still_decides_the_stop(monkeypatch) -> None:
    """Ctrl-C inside pydantic-core, then kill 2 ms later in our own code (seen once in CI): the
    command was interrupted (130), not terminated; the first signal decides."""
    import types

    from sim.io import signals

    class Timer:
        def __init__(self, *args: Any) -> None:
            pass

        def start(self) -> None:
            pass

    def frame(filename: str) -> Any:
        return types.SimpleNamespace(
            f_code=types.SimpleNamespace(co_filename=filename), f_back=None
        )

    monkeypatch.setattr(signals.threading, "Timer", Timer)
    monkeypatch.setattr(signals, "ignore", lambda: None)
    monkeypatch.setattr(signals._State, "stopping", None)  # put back as found when the test ends
    signals.on_signal(signal.SIGINT, frame(f"{os.sep}x{os.sep}pydantic_core{os.sep}core.py"))
    with pytest.raises(signals.Interrupted) as stop:
        signals.on_signal(signal.SIGTERM, frame(signals.__file__))
    assert stop.value.signum == signal.SIGINT
    assert signals.deferred() == ()


STRESS = """\
import signal, sys
import sim
from sim import cli
from sim.runs import farm
from sim.model import jit
from sim.io import signals

def jobs():
    s = sim.load_scenario(sys.argv[1])
    for k in range(100_000):
        yield k, {}, s

if __name__ == "__main__":
    jit.use("numba")  # compiled kernels, which call back into Python as they run
    signal.signal(signal.SIGINT, signals.on_signal)
    try:
        farm.farm(jobs(), sys.argv[2], chunk_runs=5, total=100_000, series=False)
    except signals.Interrupted as e:
        sys.exit(cli._stopped(e, e.signum))
"""


def test_ctrl_c_at_random_moments_of_a_farm_on_compiled_kernels_always_stops_it_cleanly(
    tmp_path,
) -> None:
    import random

    script = tmp_path / "farm.py"
    script.write_text(STRESS)
    scenario = Path(__file__).resolve().parent.parent / "scenarios" / "amazon_openai_50b.yaml"
    rng = random.Random(7)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    for k in range(8):
        out = tmp_path / f"runs{k}.parquet"
        proc = subprocess.Popen(
            [sys.executable, str(script), str(scenario), str(out)],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 120
        while not list(out.parent.glob(f".{out.name}.*.partial")):  # the first chunk is written
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.4))
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert err.startswith("interrupted; ") and err.count("\n") == 1, err
        assert pq.read_table(out).num_rows % 5 == 0
