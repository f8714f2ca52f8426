"""Hostile schedulers, worker counts, signals and standard streams: each ends with its exit code
(README, "Exit codes") and one line, with nothing written, or with the rows finished kept.

Addresses are checked before anything runs (exit 2); a scheduler that cannot be reached or does
not answer as one is exit 3 within --connect-timeout; only 127.0.0.1 is ever contacted. The
few tests that start Dask take some seconds each (a scheduler, a worker, a local cluster).
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import cli
from test_signals_timed import ENV, listening

from sim.io.output import MARKER, RUN_FILES
from sim.runs.farm import max_workers

ROOT = Path(__file__).resolve().parent.parent
TOY = ROOT / "scenarios" / "toy_round_trip.yaml"
VARY = ["--vary", "agents.labco.cash~uniform(1B,2B)"]
FORM = "give local, or tcp://HOST:PORT (tls://HOST:PORT for TLS), e.g. tcp://127.0.0.1:8786"
RUN_FOLDER = {*RUN_FILES, "scenario.source.yaml", MARKER}


@pytest.fixture(autouse=True)
def _no_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ROUNDTRIP_DEBUG", raising=False)


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder holding s.yaml (the toy scenario), the current folder of the test."""
    (tmp_path / "s.yaml").write_bytes(TOY.read_bytes())
    monkeypatch.chdir(tmp_path)
    return tmp_path


def left(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} - {"s.yaml"}


def mc(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    return cli(capsys, "mc", "s.yaml", "--runs", "4", *VARY, "-o", "m.parquet", *argv)


# ---- addresses: refused before anything runs, exit 2 ------------------------------------------
@pytest.mark.parametrize(
    ("address", "what"),
    [
        ("bogus://x", "bogus:// is not a scheduler's protocol taken here"),  # the issue's
        ("", "no scheme"),  # the issue's
        ("tcp://", "no host"),
        ("tcp://host", "no port"),
        ("tcp://127.0.0.1:", "no port"),
        ("tcp://127.0.0.1:99999", "port 99999 is not a number from 1 to 65535"),
        ("tcp://127.0.0.1:-1", "port -1 is not a number from 1 to 65535"),
        ("tcp://127.0.0.1:0", "port 0 is not a number from 1 to 65535"),
        ("tcp://127.0.0.1:1e3", "port 1e3 is not a number from 1 to 65535"),
        ("inproc://", "inproc:// is not a scheduler's protocol taken here"),
        ("http://127.0.0.1:8786", "http:// is not a scheduler's protocol taken here"),
        ("TCP://127.0.0.1:8786", "TCP:// is not a scheduler's protocol taken here"),
        ("127.0.0.1:8786", "no scheme"),
        ("tcp://::1:8786", "after the scheme comes HOST:PORT and nothing else"),
        ("tcp://[::1:8786", "after the scheme comes HOST:PORT and nothing else"),
        ("tcp://[not:v6]:8786", "[not:v6] is not an IPv6 address"),
        ("tcp://127.0.0.1:8786/path", "after the scheme comes HOST:PORT and nothing else"),
        ("tcp://127.0.0.1:80:80", "after the scheme comes HOST:PORT and nothing else"),
        ("tcp://-bad-.example:8786", "-bad-.example is not a host name or IP address"),
        ("tcp://a..b:8786", "a..b is not a host name or IP address"),
        ("tcp://under_score:8786", "under_score is not a host name or IP address"),
        ("tcp://" + "a" * 300 + ":8786", "a" * 300 + " is not a host name or IP address"),
    ],
    ids=lambda v: v[:40] if isinstance(v, str) else v,
)
def test_a_malformed_scheduler_address_is_bad_input_before_anything_runs(
    capsys, here, address, what
) -> None:
    code, out, err = mc(capsys, "--scheduler", address)
    assert (code, out, err) == (2, "", f"error: --scheduler: {address!r}: {what}; {FORM}\n")
    assert left(here) == set()


@pytest.mark.parametrize(
    "address",
    [" tcp://127.0.0.1:8786", "tcp://127.0.0.1:8786 ", "tcp://ünïcode:8786", "tcp://h\tx:1"]
    + ["tcp://127.0.0.1:８７８６", "tcp://127.0.0.1:8786\n"],
    ids=["space before", "space after", "unicode host", "tab", "full-width port", "newline"],
)
def test_spaces_and_characters_beyond_ascii_in_an_address_are_refused(
    capsys, here, address
) -> None:
    what = "an address is ASCII letters, digits and :/.[]-, without spaces"
    code, out, err = mc(capsys, "--scheduler", address)
    assert (code, out, err) == (2, "", f"error: --scheduler: {address!r}: {what}; {FORM}\n")
    assert left(here) == set()


# ---- workers: bounded by this machine, exit 2 -------------------------------------------------
@pytest.mark.parametrize("workers", ["0", "-1", "256", str(10**30), str(max_workers() + 1)])
def test_more_workers_than_this_machine_runs_or_fewer_than_one_are_refused(
    capsys, here, workers
) -> None:
    code, out, err = mc(capsys, "--scheduler", "local", "--workers", workers)
    most = max_workers()
    assert (code, out) == (2, "")
    assert err == (
        f"error: --workers: this machine runs 1 to {most} workers (one per core, 1 GiB of "
        f"memory each), got {int(workers)}\n"
    )
    assert left(here) == set()


@pytest.mark.parametrize("scheduler", [[], ["--scheduler", "tcp://127.0.0.1:1"]])
def test_workers_without_a_local_cluster_are_refused(capsys, here, scheduler) -> None:
    code, out, err = mc(capsys, *scheduler, "--workers", "1")
    assert (code, out) == (2, "")
    assert err == (
        "error: --workers sets the workers of a local cluster: add --scheduler local (a "
        "scheduler at an address has workers of its own); see roundtrip mc --help\n"
    )
    assert left(here) == set()


@pytest.mark.parametrize("seconds", ["0", "601", "-5"])
def test_a_connect_timeout_out_of_1_to_600_seconds_is_refused(capsys, here, seconds) -> None:
    code, out, err = mc(capsys, "--scheduler", "tcp://127.0.0.1:1", "--connect-timeout", seconds)
    assert (code, out) == (2, "")
    assert err.startswith(f"error: --connect-timeout: {seconds} is not in the range 1<=x<=600")
    assert left(here) == set()


# ---- schedulers that do not answer: exit 3, one line, nothing written --------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def server(behaviour: str) -> Iterator[int]:
    """A server on 127.0.0.1 that is no Dask scheduler; its port. ``http``: Python's web
    server; ``silent``: takes the connection and never answers; ``close``: closes it at once;
    ``garbage``: answers 64 bytes of 0xff (read as a frame length: "allocate 3.07 EiB")."""
    if behaviour == "http":
        web = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler
        )
        thread = threading.Thread(target=web.serve_forever, daemon=True)
        thread.start()
        try:
            yield int(web.server_address[1])
        finally:
            web.shutdown()
            web.server_close()
        return
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    held: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:  # closed: the test is over
                return
            if behaviour == "close":
                conn.close()
                continue
            if behaviour == "garbage":
                conn.sendall(b"\xff" * 64)
            held.append(conn)

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        listener.close()
        for conn in held:
            conn.close()


def unreachable(capsys: pytest.CaptureFixture[str], here: Path, address: str) -> str:
    """The line of a scheduler that cannot be reached: exit 3, nothing written, in seconds."""
    t = time.monotonic()
    code, out, err = mc(capsys, "--scheduler", address, "--connect-timeout", "1")
    assert (code, out) == (3, ""), err
    assert time.monotonic() - t < 15
    assert left(here) == set()
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


def test_a_port_where_nothing_listens_is_exit_3_at_once(capsys, here) -> None:  # the issue's
    err = unreachable(capsys, here, "tcp://127.0.0.1:1")
    assert err == (
        "error: --scheduler tcp://127.0.0.1:1: cannot reach it (Connection refused); "
        "nothing was written\n"
    )


@pytest.mark.parametrize("host", ["localhost", "[::1]", "127.0.0.1"])
def test_a_free_port_by_any_name_of_this_machine_is_exit_3(capsys, here, host) -> None:
    address = f"tcp://{host}:{free_port()}"
    err = unreachable(capsys, here, address)
    assert err.startswith(f"error: --scheduler {address}: cannot reach it (")
    assert err.endswith("); nothing was written\n")


@pytest.mark.parametrize("behaviour", ["http", "silent"])  # http: the hang
def test_a_server_that_never_answers_as_a_scheduler_is_exit_3_within_the_timeout(
    capsys, here, behaviour
) -> None:
    with server(behaviour) as port:
        err = unreachable(capsys, here, f"tcp://127.0.0.1:{port}")
    assert err == (
        f"error: --scheduler tcp://127.0.0.1:{port}: no Dask scheduler answered there within "
        "1 s (--connect-timeout); nothing was written\n"
    )


@pytest.mark.parametrize(
    ("behaviour", "scheme"), [("close", "tcp"), ("garbage", "tcp")] + [("http", "tls")]
)
def test_a_server_that_answers_wrongly_is_exit_3(capsys, here, behaviour, scheme) -> None:
    with server(behaviour) as port:
        address = f"{scheme}://127.0.0.1:{port}"
        err = unreachable(capsys, here, address)
    assert err.startswith(f"error: --scheduler {address}: no Dask scheduler answered there")
    assert err.endswith("; nothing was written\n")


def test_a_scheduler_that_answers_garbage_is_one_line_to_the_end_of_the_process(here) -> None:
    """A client half-made there is freed as Python exits, and Dask's finaliser raises."""
    with server("garbage") as port:
        address = f"tcp://127.0.0.1:{port}"
        proc = subprocess.run(
            [sys.executable, "-m", "sim", "mc", "s.yaml", "--runs", "4", *VARY]
            + ["--scheduler", address, "--connect-timeout", "1", "-o", "m.parquet"],
            cwd=here,
            env=ENV,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert (proc.returncode, proc.stdout) == (3, "")
    assert proc.stderr.startswith(f"error: --scheduler {address}: no Dask scheduler answered")
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert left(here) == set()


# ---- Dask clusters lost mid-run, or stopped: the rows finished kept ----------------------------
P = sys.executable


def start_scheduler(folder: Path) -> tuple[str, list[subprocess.Popen[bytes]]]:
    """A Dask scheduler and one single-threaded worker on 127.0.0.1; the address."""
    file = folder / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [
        subprocess.Popen(
            [P, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0"]
            + ["--no-dashboard", "--scheduler-file", str(file)],
            **quiet,  # type: ignore[call-overload]
        )
    ]
    deadline = time.monotonic() + 60
    while not file.exists() or not file.read_text():
        assert time.monotonic() < deadline and procs[0].poll() is None, "no scheduler"
        time.sleep(0.05)
    time.sleep(0.2)  # written whole
    address = json.loads(file.read_text())["address"]
    procs.append(
        subprocess.Popen(
            [P, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1", "--no-nanny"]
            + ["--no-dashboard"],
            **quiet,  # type: ignore[call-overload]
        )
    )
    return address, procs


def mc_process(folder: Path, *argv: str, **options: object) -> subprocess.Popen[str]:
    """``roundtrip mc`` of the $50B file, 20,000 runs in chunks of 50, in ``folder``."""
    s = ROOT / "scenarios" / "amazon_openai_50b.yaml"
    return subprocess.Popen(
        [P, "-m", "sim", "mc", str(s), "--runs", "20000", "--chunk", "50", "-o", "m.parquet"]
        + ["--vary", "agents.aws.margin~uniform(25%,45%)", *argv],
        cwd=folder,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **options,  # type: ignore[call-overload]
    )


def wait_for_rows(proc: subprocess.Popen[str], folder: Path) -> None:
    """Until the first chunk's rows are written (``.m.parquet.<owner>.<random>.partial`` is
    there)."""
    deadline = time.monotonic() + 120
    while not list(folder.glob(".m.parquet.*.partial")):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.02)
    time.sleep(0.5)


def kept_rows(folder: Path, err: str, line: str) -> None:
    """``err`` is ``line`` and the note of the runs kept, and the file holds them, whole."""
    kept = int(err.removeprefix(line + "; ").split()[0])
    path = folder / "m.parquet"
    assert err == f"{line}; {kept} of 20000 runs kept in {path}\n"
    assert pq.read_metadata(path).metadata[b"roundtrip.complete"] == b"false"
    table = pq.read_table(path)
    assert table.num_rows == kept and kept % 50 == 0 and 0 < kept < 20000
    assert table.column("error").null_count == kept
    assert left(folder) - {"scheduler.json"} == {"m.parquet", "m.series.parquet"}


@pytest.mark.parametrize("lost", ["scheduler", "worker"])  # scheduler: the issue's
def test_a_cluster_lost_mid_run_is_exit_3_with_the_rows_finished_kept(tmp_path, lost) -> None:
    address, procs = start_scheduler(tmp_path)
    try:
        proc = mc_process(tmp_path, "--scheduler", address, "--connect-timeout", "2")
        wait_for_rows(proc, tmp_path)
        procs[0 if lost == "scheduler" else 1].kill()
        out, err = proc.communicate(timeout=120)
    finally:
        for p in procs:
            p.kill()
            p.wait()
    assert (proc.returncode, out) == (3, ""), err
    what = (
        "the scheduler was lost while runs were under way"
        if lost == "scheduler"
        else "no worker was left for 2 s (--connect-timeout) while runs were under way"
    )
    kept_rows(tmp_path, err, f"error: --scheduler {address}: {what}")


def test_ctrl_c_on_a_local_cluster_is_one_line_and_no_workers_traceback(tmp_path) -> None:
    """The terminal sends Ctrl-C to the whole process group, the workers too (the issue's)."""
    proc = mc_process(tmp_path, "--scheduler", "local", "--workers", "1", start_new_session=True)
    wait_for_rows(proc, tmp_path)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert (proc.returncode, out) == (130, ""), err
    if err == "interrupted; nothing was written\n":
        # the Ctrl-C reached the farm through a finaliser, after its workers had stopped: no
        # results file is published (hidden partial files of this process may stay, which the
        # next writer in the folder removes; a known gap, docs/ranges.md "Backends")
        assert (
            not (tmp_path / "m.parquet").exists() and not (tmp_path / "m.series.parquet").exists()
        )
    else:
        kept_rows(tmp_path, err, "interrupted")


# ---- signals and closed streams, in real processes ---------------------------------------------
def roundtrip(
    folder: Path, *argv: str, closed: tuple[int, ...] = (), ignored: tuple[int, ...] = ()
) -> subprocess.Popen[str]:
    """``python -m sim ARGV`` in ``folder`` with the file descriptors ``closed`` closed and
    the signals ``ignored`` ignored (as nohup does), the others as a terminal gives them."""

    def child() -> None:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN if signum in ignored else signal.SIG_DFL)
        for fd in closed:
            os.close(fd)

    return subprocess.Popen(
        [P, "-m", "sim", *argv],
        cwd=folder,
        env=ENV,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=child,
    )


def at_first_instruction(proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while not listening(proc.pid):
        assert time.monotonic() < deadline
        time.sleep(0.0005)


@pytest.mark.parametrize(
    ("signum", "code", "line"),
    [
        (signal.SIGTERM, 143, "terminated; nothing was written\n"),
        (signal.SIGHUP, 129, "hung up; nothing was written\n"),
        (signal.SIGINT, 130, "interrupted; nothing was written\n"),
    ],
)
def test_a_signal_at_the_first_instruction_stops_with_its_code_and_writes_nothing(
    here, signum, code, line
) -> None:
    proc = roundtrip(here, "run", "s.yaml", "--out", "out")
    at_first_instruction(proc)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    assert (proc.returncode, out, err) == (code, "", line)
    assert left(here) == set()


def wait_for_temporary_folder(proc: subprocess.Popen[str], folder: Path) -> None:
    deadline = time.monotonic() + 120
    while not list(folder.glob(".out.*.tmp")):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.005)


@pytest.mark.parametrize(
    ("signals", "code", "line"),
    [
        ((signal.SIGINT, signal.SIGINT), 130, "interrupted; nothing was written\n"),
        ((signal.SIGINT, signal.SIGTERM), 130, "interrupted; nothing was written\n"),
        ((signal.SIGHUP,), 129, "hung up; nothing was written\n"),
    ],
    ids=["ctrl-c twice", "ctrl-c then kill", "hang-up"],
)
def test_signals_while_the_run_folder_is_written_leave_no_temporary_folder(
    here, signals, code, line
) -> None:
    proc = roundtrip(here, "run", "s.yaml", "--out", "out", "--charts", "png")
    wait_for_temporary_folder(proc, here)
    for signum in signals:
        proc.send_signal(signum)
        time.sleep(0.002)
    out, err = proc.communicate(timeout=120)
    assert (proc.returncode, out, err) == (code, "", line)
    assert left(here) == set()


def test_a_ctrl_c_ignored_by_whoever_started_the_command_stays_ignored(here) -> None:
    proc = roundtrip(here, "run", "s.yaml", "--out", "out", ignored=(signal.SIGINT,))
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert (proc.returncode, err) == (0, "")
    assert {p.name for p in (here / "out").iterdir()} == RUN_FOLDER


@pytest.mark.parametrize(
    "closed", [(1,), (1, 2), (0, 1, 2), (0,), (2,)], ids=["stdout", "out+err", "all", "in", "err"]
)
def test_a_run_started_with_standard_streams_closed_writes_its_folder_and_exits_0(
    here, closed
) -> None:
    proc = roundtrip(here, "run", "s.yaml", "--out", "out", closed=closed)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert {p.name for p in (here / "out").iterdir()} == RUN_FOLDER
    assert err == ""
    assert ("Wrote out/" in out) == (1 not in closed)


def test_bad_input_with_stderr_closed_is_still_exit_2_and_writes_nothing(here) -> None:
    proc = roundtrip(here, "run", "missing.yaml", closed=(2,))
    out, _ = proc.communicate(timeout=60)
    assert (proc.returncode, out) == (2, "")
    assert left(here) == set()


def test_mc_with_stdout_closed_writes_its_whole_results_file(here) -> None:
    proc = roundtrip(here, "mc", "s.yaml", "--runs", "4", *VARY, "-o", "m.parquet", closed=(1,))
    _, err = proc.communicate(timeout=60)
    assert (proc.returncode, err) == (0, "")
    assert pq.read_table(here / "m.parquet").num_rows == 4
    assert pq.read_metadata(here / "m.parquet").metadata[b"roundtrip.complete"] == b"true"


def test_ctrl_c_with_stdout_closed_still_stops_with_130(here) -> None:
    proc = roundtrip(here, "run", "s.yaml", "--out", "out", closed=(1,))
    at_first_instruction(proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert (proc.returncode, err) == (130, "interrupted; nothing was written\n")
    assert left(here) == set()


# ---- a Ctrl-C whose exception Python cannot raise (a finaliser, a weakref callback) ------------
class _Finaliser:
    def __del__(self) -> None:  # Python can only print "Exception ignored" for what this raises
        signal.raise_signal(signal.SIGINT)


@pytest.mark.parametrize("command", ["run", "report", "validate"])
def test_a_ctrl_c_lost_in_a_finaliser_still_stops_the_command_before_its_output(
    capsys, here, monkeypatch, command
) -> None:
    """Seen as a report written and exit 0 after a Ctrl-C, "Exception ignored" on stderr."""
    import sim
    from sim.ranges import vary

    real = vary.load_template if command == "validate" else sim.run

    def then_free(*args: object, **kwargs: object) -> object:
        got = real(*args, **kwargs)  # type: ignore[operator]
        _Finaliser()  # freed at once
        return got

    if command == "validate":
        monkeypatch.setattr(vary, "load_template", then_free)
        argv = ["validate", "s.yaml"]
    else:
        monkeypatch.setattr(sim, "run", then_free)
        argv = ["run", "s.yaml", "--out", "out"] if command == "run" else ["report", "s.yaml"]
        argv += [] if command == "run" else ["-o", "out.pdf"]
    code, out, err = cli(capsys, *argv)
    assert (code, err) == (130, "interrupted; nothing was written\n")
    assert left(here) == set()


def test_a_ctrl_c_while_the_run_folder_is_moved_in_lets_the_command_complete(
    capsys, here, monkeypatch
) -> None:
    """Held until the folder is in place, then dropped: the command prints and exits 0."""
    real_replace = os.replace

    def ctrl_c_then_replace(src: object, dst: object) -> None:
        signal.raise_signal(signal.SIGINT)
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", ctrl_c_then_replace)
    code, out, err = cli(capsys, "run", "s.yaml", "--out", "out")
    assert (code, err) == (0, "")
    assert out.rstrip().splitlines()[-1].startswith("Wrote out/: metrics.json")
    assert {p.name for p in (here / "out").iterdir()} == RUN_FOLDER
