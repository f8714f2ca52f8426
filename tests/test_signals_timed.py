"""A Ctrl-C at any moment of `run`, `report` and `mc`, in real processes of `python -m sim`:
each ends with 130 and nothing written, or 0 with its output complete (README, "Exit codes").

Each command is first run whole, two at a time as the test then runs them, to measure how long
it takes (``duration``); SIGINT is then sent at delays spread evenly from 0 to 1.5 times the
duration (past the end, unless the machine got busier meanwhile). A delay that falls before the
process has run roundtrip's first instruction (its handlers in place, as /proc shows) is sent
at that instruction: before it, in Python's own start-up (some 30 ms), a signal meets Python's
handler, not roundtrip's. By default 8 delays a command, spread over the whole span;
``ROUNDTRIP_TIMED_SIGNALS=50`` runs 50 a command (the issue's count: minutes on two busy
cores, too long for every test pass).

mc keeps the chunks it finished when stopped, in a valid file marked incomplete, and says how
many (docs/ranges.md): for mc "nothing written" reads "no complete results file", and a
partial file must hold whole chunks and say it is incomplete.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from pypdf import PdfReader

from sim.io.output import MARKER, RUN_FILES, read_run

ROOT = Path(__file__).resolve().parent.parent
TOY = ROOT / "scenarios" / "toy_round_trip.yaml"
ROUNDS = int(os.environ.get("ROUNDTRIP_TIMED_SIGNALS", "8"))
MC_RUNS, MC_CHUNK = 200, 20
COMMANDS = {
    "run": ["run", "s.yaml", "--out", "out"],
    "report": ["report", "s.yaml", "-o", "out.pdf"],
    "mc": ["mc", "s.yaml", "--runs", str(MC_RUNS), "--chunk", str(MC_CHUNK), "-o", "out.parquet"]
    + ["--vary", "agents.labco.cash~uniform(1B,2B)"],
}
ENV = {
    **{k: v for k, v in os.environ.items() if k != "ROUNDTRIP_DEBUG"},
    "PYTHONPATH": str(ROOT),
    "ROUNDTRIP_KERNELS": "numpy",  # no background compilation of the kernels meanwhile
}


def _default_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # as a terminal gives them
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def listening(pid: int) -> bool:
    """Whether process ``pid`` has roundtrip's handlers in place: it catches SIGTERM (Python
    itself catches only SIGINT), as /proc says."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True  # gone: nothing to wait for
    caught = int(status.split("SigCgt:")[1].split()[0], 16)
    return bool(caught >> (signal.SIGTERM - 1) & 1)


def ctrl_c_after(folder: Path, argv: list[str], delay: float | None) -> tuple[int, str, str]:
    """``python -m sim ARGV`` in ``folder``, SIGINT ``delay`` seconds after it started (None:
    none), or as soon as its handlers are in place if that is later; its exit code, stdout
    and stderr."""
    folder.mkdir()
    (folder / "s.yaml").write_bytes(TOY.read_bytes())
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", *argv],
        cwd=folder,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_signals,
    )
    if delay is not None:
        while not listening(proc.pid):
            time.sleep(0.0005)
        time.sleep(max(0.0, started + delay - time.monotonic()))
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    return proc.returncode, out, err


def _left(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} - {"s.yaml"}


def run_complete(folder: Path, out: str) -> None:
    assert _left(folder) == {"out"}
    assert {p.name for p in (folder / "out").iterdir()} == {
        *RUN_FILES,
        "scenario.source.yaml",
        MARKER,
    }
    saved = read_run(folder / "out")  # every file there, read back and checked
    assert json.loads((folder / "out" / "metrics.json").read_text())["investors"]
    assert saved is not None
    assert out.rstrip().splitlines()[-1].startswith("Wrote out/: metrics.json")


def report_complete(folder: Path, out: str) -> None:
    assert _left(folder) == {"out.pdf"}
    pages = PdfReader(folder / "out.pdf").pages
    assert len(pages) > 3
    assert out.startswith("Wrote out.pdf: the report of ")


def mc_complete(folder: Path, out: str) -> None:
    assert _left(folder) == {"out.parquet", "out.series.parquet"}
    for name in ("out.parquet", "out.series.parquet"):
        meta = pq.read_metadata(folder / name).metadata
        assert meta[b"roundtrip.complete"] == b"true"
    assert pq.read_table(folder / "out.parquet").num_rows == MC_RUNS
    assert out.startswith(f"{MC_RUNS} runs of ")


COMPLETE: dict[str, Callable[[Path, str], None]] = {
    "run": run_complete,
    "report": report_complete,
    "mc": mc_complete,
}


def stopped_cleanly(command: str, folder: Path, err: str) -> str:
    """How a command stopped by SIGINT left things: ``nothing`` or (mc) ``kept N``."""
    if command == "mc" and err.startswith("interrupted; ") and "runs kept in" in err:
        kept = int(err.split()[1])
        assert err == f"interrupted; {kept} of {MC_RUNS} runs kept in {folder / 'out.parquet'}\n"
        assert _left(folder) == {"out.parquet", "out.series.parquet"}
        meta = pq.read_metadata(folder / "out.parquet").metadata
        assert meta[b"roundtrip.complete"] == b"false"
        assert pq.read_table(folder / "out.parquet").num_rows == kept
        # whole chunks; all of them when the Ctrl-C came after the last chunk, before the file
        # was closed as complete: it still says it is not (the command did not finish)
        assert kept % MC_CHUNK == 0 and 0 < kept <= MC_RUNS
        return "kept"
    assert err == "interrupted; nothing was written\n"
    assert _left(folder) == set()
    return "nothing"


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_ctrl_c_at_any_moment_ends_with_130_and_nothing_or_0_and_the_whole_output(
    tmp_path, command
) -> None:
    argv = COMMANDS[command]
    with ThreadPoolExecutor(2) as pool:  # measured as the test runs them: two at a time
        t = time.monotonic()
        whole = list(pool.map(lambda k: ctrl_c_after(tmp_path / f"whole{k}", argv, None), [0, 1]))
        duration = time.monotonic() - t
    for k, (code, out, err) in enumerate(whole):
        assert (code, err) == (0, ""), err
        COMPLETE[command](tmp_path / f"whole{k}", out)
    delays = [1.5 * duration * k / (ROUNDS - 1) for k in range(ROUNDS)]
    with ThreadPoolExecutor(2) as pool:
        ends = list(
            pool.map(lambda k: ctrl_c_after(tmp_path / str(k), argv, delays[k]), range(ROUNDS))
        )
    seen: Counter[str] = Counter()
    for k, (code, out, err) in enumerate(ends):
        folder = tmp_path / str(k)
        where = f"SIGINT at {delays[k]:.3f} s of {duration:.2f} s: exit {code}, {err!r}"
        if code == 0:
            assert err == "", where
            COMPLETE[command](folder, out)
            seen["0, complete"] += 1
        else:
            assert code == 130, where
            assert out == "", where
            seen[f"130, {stopped_cleanly(command, folder, err)}"] += 1
    print(f"{command}: {ROUNDS} delays 0..{delays[-1]:.2f} s, {dict(seen)}")
    assert seen["130, nothing"]  # the first delays at least, before any output
