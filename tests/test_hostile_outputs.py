"""Hostile outputs: whatever is at --out, roundtrip replaces only what it wrote itself.

One rule for every output (sim/io/publish.py): checked and claimed before anything runs, written
under a temporary name that names its owner, published with a primitive that never replaces
silently. Each test gives the user-visible outcome: the exit code, the one line, and what is
left on disk (nothing half-written, nothing of the user's touched).
"""

from __future__ import annotations

import errno
import fcntl
import importlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import cli
from test_run_folder import SMALL

import sim
from sim.errors import ScenarioError
from sim.io import publish
from sim.io.output import MARKER, read_marker, write_atomically

ROOT = Path(__file__).resolve().parent.parent
MARGIN = "agents.own.margin"
RUN_HINT = "choose another folder with --out, such as runs/my_run"
BATCH = 10  # rounds started at once in the 50-round test


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(SMALL)
    return path


@pytest.fixture(autouse=True)
def no_debug(monkeypatch) -> None:
    monkeypatch.delenv("ROUNDTRIP_DEBUG", raising=False)


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every entry under ``folder``: a file's bytes, a link's target, None for a folder."""
    found: dict[str, bytes | None] = {}
    for p in sorted(folder.rglob("*")):
        rel = str(p.relative_to(folder))
        if p.is_symlink():
            found[rel] = os.readlink(p).encode()
        elif p.is_fifo():
            found[rel] = b"<fifo>"
        elif p.is_file():
            found[rel] = p.read_bytes()
        else:
            found[rel] = None
    return found


def one_line(err: str) -> str:
    """The refusal as the user sees it: one line, "error: ...", no traceback."""
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err.rstrip("\n")


def refused(capsys, *argv: object) -> str:
    code, out, err = cli(capsys, *argv)
    assert (code, out) == (2, ""), err
    return one_line(err)


def dead_owner() -> str:
    """The owner token of a process that has ended (a ``sleep`` started and killed)."""
    proc = subprocess.Popen(["sleep", "30"])
    token = f"{proc.pid}-{publish._start_time(proc.pid)}-{publish._boot_id()[:8]}"
    proc.kill()
    proc.wait()
    return token


def live_owner() -> str:
    """The owner token of a process that runs on: this test's parent."""
    pid = os.getppid()
    return f"{pid}-{publish._start_time(pid)}-{publish._boot_id()[:8]}"


def no_runs(monkeypatch) -> None:
    """Fail the test if anything is run: the refusal must come first."""

    def ran(*args: object, **kwargs: object) -> None:
        pytest.fail("ran before checking the output")

    monkeypatch.setattr(sim, "run", ran)
    monkeypatch.setattr(importlib.import_module("sim.analysis.sensitivity"), "sensitivity", ran)
    monkeypatch.setattr("sim.runs.farm.run_chunk", ran)


# ---- the cases -----------------------------------------------------------------------
def test_two_concurrent_runs_into_one_new_out_one_wins_whole_the_other_exits_2(tmp_path) -> None:
    """50 rounds, each two `roundtrip run` processes started together into the same new
    --out, of two files (so that a later run could not replace the other either). Before,
    in 8 of 10 rounds both exited 0 and one silently replaced the other. Rounds run ``BATCH``
    at a time, each into its own folder: 100 processes of ~0.6 s of CPU each (imports, mostly),
    so ~30 s on two idle cores; 138 s was measured on two cores at a load of 14."""
    files = []
    for name in ("a", "b"):
        files.append(tmp_path / f"{name}.yaml")
        files[-1].write_text(SMALL)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("ROUNDTRIP_DEBUG", None)
    losers = set()
    for batch in range(50 // BATCH):
        procs = []
        for k in range(BATCH):
            out = tmp_path / f"round{batch * BATCH + k}"
            for f in files:
                argv = [sys.executable, "-m", "sim", "run", str(f), "--out", str(out)]
                proc = subprocess.Popen(
                    argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
                )
                procs.append((out, f, proc))
        results = [(out, f, proc.wait(timeout=120), proc.stderr) for out, f, proc in procs]
        for k in range(BATCH):
            pair = results[2 * k : 2 * k + 2]
            codes = sorted(code for _, _, code, _ in pair)
            assert codes == [0, 2], [(c, e.read() if e else "") for _, _, c, e in pair]
            (out, winner, _, _), (_, _, _, stream) = sorted(pair, key=lambda r: r[2])
            assert stream is not None
            line = one_line(stream.read())
            losers.add(
                "writing now"
                if "another roundtrip" in line and "is writing this now" in line
                else "another run"
                if "this folder holds another run" in line
                else line
            )
            marker = read_marker(out)
            assert marker is not None and marker["scenario"] == os.path.realpath(winner)
            on_disk = sorted(
                str(p.relative_to(out)) + ("/" if p.is_dir() else "")
                for p in out.rglob("*")
                if p.name != MARKER
            )
            assert marker["files"] == on_disk
            assert json.loads((out / "metrics.json").read_text())["inputs_hash"]
        for _, _, proc in procs:
            assert proc.stderr is not None
            proc.stderr.close()
    # the loser was refused at once (the other writes it now) or after (it holds another run)
    assert losers <= {"writing now", "another run"}, losers
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []  # no lock, no temporary folder


def test_sensitivity_never_replaces_the_users_own_files(small, tmp_path, capsys) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "sensitivity.csv").write_text("my own numbers\n")
    (mine / "tornado.png").write_bytes(b"my own chart")
    before = snapshot(mine)
    for extra in ([], ["--force"]):  # --force never replaces a folder with the user's files
        line = refused(capsys, "sensitivity", small, "-o", mine, "--charts", "png", *extra)
        assert line == (
            f"error: {mine}: this folder holds files roundtrip did not write (sensitivity.csv, "
            "tornado.png); choose an empty or new folder with --out"
        )
        assert snapshot(mine) == before


def test_sensitivity_replaces_its_own_folder_and_another_output_only_with_force(
    small, tmp_path, capsys
) -> None:
    out = tmp_path / "sens"
    assert cli(capsys, "sensitivity", small, "-o", out)[0] == 0
    assert cli(capsys, "sensitivity", small, "-o", out, "--swing", "10%")[0] == 0
    assert read_marker(out)["kind"] == "sensitivity"
    run = tmp_path / "run"
    assert cli(capsys, "run", small, "--out", run)[0] == 0
    before = snapshot(run)
    line = refused(capsys, "sensitivity", small, "-o", run)
    assert line.startswith(f"error: {run}: this folder holds another run (of ")
    assert snapshot(run) == before
    assert cli(capsys, "sensitivity", small, "-o", run, "--force")[0] == 0
    assert sorted(p.name for p in run.iterdir()) == [MARKER, "sensitivity.csv"]


@pytest.mark.parametrize("name", ["mine.html", "mine.pdf"])
def test_report_never_replaces_a_users_file_unless_forced(small, tmp_path, capsys, name) -> None:
    mine = tmp_path / name
    own = b"%PDF-1.4 my own\n" if name.endswith(".pdf") else b"<p>my own</p>\n"
    mine.write_bytes(own)
    line = refused(capsys, "report", small, "-o", mine)
    assert line == (
        f"error: {mine}: this file is not a report roundtrip wrote, and roundtrip replaces only "
        "its own; add --force to replace it, or choose another file with -o"
    )
    assert mine.read_bytes() == own
    small_pages = ["--dpi", "50"]  # quick to draw
    code, _, err = cli(capsys, "report", small, "-o", mine, "--force", *small_pages)
    assert (code, err) == (0, "")
    assert sim.views.report.is_report(mine)
    code, _, err = cli(capsys, "report", small, "-o", mine, *small_pages)  # now its own
    assert (code, err) == (0, "")
    assert sorted(p.name for p in tmp_path.iterdir()) == [name, "s.yaml"]


def full_disk_after(calls: int):
    """A function raising ENOSPC from its ``calls``-th call on (the ones before pass)."""
    seen = []

    def wrap(real):
        def fail(*args: object, **kwargs: object) -> object:
            seen.append(1)
            if len(seen) >= calls:
                raise OSError(errno.ENOSPC, "No space left on device")
            return real(*args, **kwargs)

        return fail

    return wrap


def test_mc_on_a_full_disk_removes_its_partial_files_and_a_rerun_works(
    small, tmp_path, capsys, monkeypatch
) -> None:
    """Before, mc left unclosed .partial files that blocked every rerun (exit 1)."""
    out = tmp_path / "mc.parquet"
    argv = ["mc", small, "--runs", "6", "--chunk", "2", "--vary", f"{MARGIN}~uniform(20%,40%)"]
    real = pq.ParquetWriter.write_table
    monkeypatch.setattr(pq.ParquetWriter, "write_table", full_disk_after(3)(real))
    line = refused(capsys, *argv, "-o", out)
    assert line == (
        f"error: {out}: no space left on the disk while writing it; nothing was kept; free some "
        "space, or choose another path with --out"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]
    monkeypatch.setattr(pq.ParquetWriter, "write_table", real)
    code, _, err = cli(capsys, *argv, "-o", out)
    assert (code, err) == (0, "")
    assert pq.read_metadata(out).num_rows == 6


def test_sensitivity_on_a_full_disk_leaves_no_empty_csv(small, tmp_path, capsys, monkeypatch):
    """Before, a 0-byte sensitivity.csv stayed."""
    out = tmp_path / "sens"
    real = Path.write_text
    monkeypatch.setattr(Path, "write_text", full_disk_after(1)(real))
    line = refused(capsys, "sensitivity", small, "-o", out)
    assert line.startswith(f"error: {out}: no space left on the disk while writing it; ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]


def test_report_on_a_full_disk_leaves_nothing(small, tmp_path, capsys, monkeypatch) -> None:
    out = tmp_path / "r.html"
    real = os.fdopen

    def fdopen(fd: int, mode: str = "r", *args: object, **kwargs: object) -> object:
        f = real(fd, mode, *args, **kwargs)
        if "w" in mode:
            f.write = lambda data: (_ for _ in ()).throw(OSError(errno.ENOSPC, "full"))
        return f

    monkeypatch.setattr(os, "fdopen", fdopen)
    line = refused(capsys, "report", small, "-o", out)
    assert line.startswith(f"error: {out}: no space left on the disk while writing it; ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]


def test_a_run_killed_outright_leaves_what_the_next_run_cleans(tmp_path) -> None:
    """kill -9 while the temporary folder is filled: it and the lock file stay (nothing can
    run in a killed process); the next run into the same folder removes both."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    bundled = ROOT / "scenarios" / "amazon_openai_50b.yaml"
    out = tmp_path / "run"
    argv = [sys.executable, "-m", "sim", "run", str(bundled), "--out", str(out)]
    proc = subprocess.Popen([*argv, "--charts", "png,svg,pdf"], env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".run.*.tmp")):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.005)
    proc.kill()
    proc.wait()
    left = sorted(p.name for p in tmp_path.iterdir())
    assert ".run.lock" in left and any(n.endswith(".tmp") for n in left), left
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_sweep_into_an_unwritable_folder_is_refused_before_any_run(
    small, tmp_path, capsys, monkeypatch
) -> None:
    """Before, the PermissionError came after all the runs (exit 1). Root ignores mode bits,
    so the folder is refused as the system refuses it: the lock file cannot be made."""
    locked = tmp_path / "locked"
    locked.mkdir()
    no_runs(monkeypatch)
    real = publish._lock

    def denied(lock: Path) -> int:
        if lock.parent == locked:
            raise PermissionError(errno.EACCES, "Permission denied", str(lock))
        return real(lock)

    monkeypatch.setattr(publish, "_lock", denied)
    out = locked / "grid.parquet"
    line = refused(capsys, "sweep", small, "--vary", f"{MARGIN}=10%,20%", "-o", out)
    assert line == (
        f"error: {out}: cannot write in {locked}: permission denied; choose another path with --out"
    )
    line = refused(capsys, "sensitivity", small, "-o", locked / "sens")
    assert line.startswith(f"error: {locked / 'sens'}: cannot write in {locked}: permission ")
    assert list(locked.iterdir()) == []


# ---- hostile cases of our own ------------------------------------------------------------------
def test_run_into_a_symlink_to_a_folder_is_refused(small, tmp_path, capsys, monkeypatch) -> None:
    target = tmp_path / "real"
    target.mkdir()
    (tmp_path / "link").symlink_to(target)
    no_runs(monkeypatch)
    line = refused(capsys, "run", small, "--out", tmp_path / "link")
    assert line == f"error: {tmp_path / 'link'}: this is a symbolic link; {RUN_HINT}"
    assert list(target.iterdir()) == []


def test_run_into_a_dangling_symlink_is_refused(small, tmp_path, capsys, monkeypatch) -> None:
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    no_runs(monkeypatch)
    line = refused(capsys, "run", small, "--out", tmp_path / "link")
    assert line == f"error: {tmp_path / 'link'}: this is a symbolic link; {RUN_HINT}"
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize("kind", ["file", "fifo"])
def test_run_into_a_file_or_a_fifo_is_refused(small, tmp_path, capsys, monkeypatch, kind) -> None:
    out = tmp_path / "thing"
    if kind == "file":
        out.write_text("mine")
    else:
        os.mkfifo(out)
    no_runs(monkeypatch)
    line = refused(capsys, "run", small, "--out", out)
    assert line in (  # the option's own check (click) sees a file first
        f"error: --out: Directory '{out}' is a file.",
        f"error: {out}: this exists and is not a folder; {RUN_HINT}",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml", "thing"]


def test_run_into_dev_null_is_refused(small, capsys, monkeypatch) -> None:
    no_runs(monkeypatch)
    line = refused(capsys, "run", small, "--out", "/dev/null")
    assert line in (
        "error: --out: Directory '/dev/null' is a file.",
        f"error: /dev/null: this exists and is not a folder; {RUN_HINT}",
    )
    assert not os.path.lexists("/dev/.null.lock")


def test_run_into_a_new_folder_named_with_a_trailing_slash_writes_it(small, tmp_path, capsys):
    code, _, err = cli(capsys, "run", small, "--out", f"{tmp_path / 'new'}/")
    assert (code, err) == (0, "")
    assert (tmp_path / "new" / "metrics.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new", "s.yaml"]


@pytest.mark.parametrize("command", ["run", "sensitivity", "report", "sweep"])
def test_a_300_character_name_exits_2_not_1(small, tmp_path, capsys, monkeypatch, command):
    """Before, "File name too long" was an internal error (exit 1)."""
    suffix = {"report": ".pdf", "sweep": ".parquet"}.get(command, "")
    out = tmp_path / ("x" * 300 + suffix)
    extra = ["--vary", f"{MARGIN}=10%,20%"] if command == "sweep" else []
    no_runs(monkeypatch)
    line = refused(capsys, command, small, "--out", out, *extra)
    assert line.startswith(f"error: {out}: the name xxxxxxxxxxxxxxxxxxxx... is 30")
    assert "roundtrip writes names of up to 200 bytes" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]


def test_a_folder_name_too_long_on_the_way_exits_2(small, tmp_path, capsys, monkeypatch) -> None:
    out = tmp_path / ("y" * 300) / "run"
    no_runs(monkeypatch)
    line = refused(capsys, "run", small, "--out", out)
    assert line == f"error: {out}: cannot write: a name on the way is too long; {RUN_HINT}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]


@pytest.mark.parametrize(
    ("command", "name"),
    [("report", "r.pdf"), ("sweep", "x.parquet"), ("sensitivity", "sens")],
)
def test_an_output_nested_under_a_file_is_refused(
    small, tmp_path, capsys, monkeypatch, command, name
) -> None:
    (tmp_path / "notes.txt").write_text("a file")
    out = tmp_path / "notes.txt" / name
    extra = ["--vary", f"{MARGIN}=10%,20%"] if command == "sweep" else []
    no_runs(monkeypatch)
    line = refused(capsys, command, small, "-o", out, *extra)
    assert "notes.txt" in line
    assert (tmp_path / "notes.txt").read_text() == "a file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "s.yaml"]


@pytest.mark.parametrize(
    "files",
    [
        ["../outside.txt", "metrics.json"],  # a path out of the folder
        ["/etc/passwd", "metrics.json"],  # an absolute path
        [{"name": "metrics.json"}, 7],  # not text
        "metrics.json",  # not a list
        ["charts/../../x", "metrics.json"],  # out of the folder on the way
    ],
)
def test_a_marker_that_lies_about_its_files_replaces_nothing(
    small, tmp_path, capsys, monkeypatch, files
) -> None:
    out = tmp_path / "run"
    assert cli(capsys, "run", small, "--out", out)[0] == 0
    marker = json.loads((out / MARKER).read_text())
    (out / MARKER).write_text(json.dumps({**marker, "files": files}))
    before = snapshot(tmp_path)
    no_runs(monkeypatch)
    line = refused(capsys, "run", small, "--out", out, "--force")
    assert line.startswith(f"error: {out / MARKER}: its {MARKER} file is damaged or not ")
    assert snapshot(tmp_path) == before


def test_a_marker_that_is_not_json_replaces_nothing(small, tmp_path, capsys) -> None:
    out = tmp_path / "run"
    assert cli(capsys, "run", small, "--out", out)[0] == 0
    (out / MARKER).write_text("{not json")
    before = snapshot(tmp_path)
    line = refused(capsys, "run", small, "--out", out)
    assert "damaged or not roundtrip's" in line
    assert snapshot(tmp_path) == before


def test_a_stale_lock_of_a_dead_process_is_taken_over(small, tmp_path, capsys) -> None:
    out = tmp_path / "run"
    about = {"pid": 1, "owner": dead_owner(), "host": "elsewhere"}
    (tmp_path / ".run.lock").write_text(json.dumps(about))
    code, _, err = cli(capsys, "run", small, "--out", out)
    assert (code, err) == (0, "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "s.yaml"]


def test_a_live_lock_refuses_the_same_output_at_once(small, tmp_path, capsys, monkeypatch):
    """Another process holds the lock (as a roundtrip writing it would): refused before the
    run, the lock and its owner left alone."""
    lock = tmp_path / ".run.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, json.dumps({"pid": 4242, "owner": live_owner(), "host": "vm"}).encode())
        no_runs(monkeypatch)
        line = refused(capsys, "run", small, "--out", tmp_path / "run")
        assert line == (
            f"error: {tmp_path / 'run'}: another roundtrip (pid 4242 on vm) is writing this "
            f"now; wait for it to finish, or {RUN_HINT}"
        )
        assert sorted(p.name for p in tmp_path.iterdir()) == [".run.lock", "s.yaml"]
    finally:
        os.close(fd)


def test_a_live_lock_refuses_a_report_and_a_sweep_too(small, tmp_path, capsys, monkeypatch):
    fds = []
    try:
        for name in ("r.html", "g.parquet"):
            fds.append(os.open(tmp_path / f".{name}.lock", os.O_RDWR | os.O_CREAT))
            fcntl.flock(fds[-1], fcntl.LOCK_EX)
        no_runs(monkeypatch)
        line = refused(capsys, "report", small, "-o", tmp_path / "r.html")
        assert "another roundtrip is writing this now" in line
        line = refused(
            capsys, "sweep", small, "--vary", f"{MARGIN}=1%,2%", "-o", tmp_path / "g.parquet"
        )
        assert "another roundtrip is writing this now" in line
    finally:
        for fd in fds:
            os.close(fd)


def test_leftovers_of_a_dead_owner_are_cleaned_those_of_a_live_one_kept(small, tmp_path, capsys):
    dead, live = dead_owner(), live_owner()
    names = {
        f".run.{dead}.0a0a0a0a.tmp": "dir",  # of this target, its owner gone
        f".run.{dead}.0b0b0b0b.old": "dir",
        f".other.parquet.{dead}.0c0c0c0c.partial": "file",  # of another target, owner gone
        f".other.parquet.{live}.0d0d0d0d.partial": "file",  # owner alive: kept
        ".notes.lock": "file",  # not roundtrip's (not its JSON): kept
        ".mine.x.y.tmp": "file",  # no owner in the name: kept
    }
    for name, kind in names.items():
        if kind == "dir":
            (tmp_path / name).mkdir()
            (tmp_path / name / "half.txt").write_text("half")
        else:
            (tmp_path / name).write_text("half")
    code, _, err = cli(capsys, "run", small, "--out", tmp_path / "run")
    assert (code, err) == (0, "")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [".mine.x.y.tmp", ".notes.lock", f".other.parquet.{live}.0d0d0d0d.partial", "run", "s.yaml"]
    )


def test_a_lock_file_nobody_holds_of_another_output_is_removed(small, tmp_path, capsys) -> None:
    about = {"pid": 1, "owner": dead_owner(), "host": "vm"}
    (tmp_path / ".old.parquet.lock").write_text(json.dumps(about))
    assert cli(capsys, "run", small, "--out", tmp_path / "run")[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "s.yaml"]


def test_a_partial_file_of_a_killed_mc_does_not_block_the_rerun(small, tmp_path, capsys) -> None:
    out = tmp_path / "mc.parquet"
    (tmp_path / f".mc.parquet.{dead_owner()}.00ff00ff.partial").write_bytes(b"PAR1 unclosed")
    argv = ["mc", small, "--runs", "3", "--vary", f"{MARGIN}~uniform(20%,40%)", "-o", out]
    code, _, err = cli(capsys, *argv)
    assert (code, err) == (0, "")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "mc.parquet",
        "mc.series.parquet",
        "s.yaml",
    ]


@pytest.mark.parametrize("kind", ["symlink", "fifo", "folder", "dev_null"])
def test_report_into_anything_but_a_plain_file_is_refused(
    small, tmp_path, capsys, monkeypatch, kind
) -> None:
    out = tmp_path / "r.html"
    if kind == "symlink":
        (tmp_path / "real.html").write_text("<p>mine</p>")
        out.symlink_to(tmp_path / "real.html")
        expected = "this is a symbolic link; name the report file itself"
    elif kind == "fifo":
        os.mkfifo(out)
        expected = "this exists and is not a file (a device, a pipe or a socket)"
    elif kind == "folder":
        out.mkdir()
        expected = "this is a folder; name the report file"
    else:
        out = Path("/dev/null")
        expected = "error: /dev/null: a report is a .pdf or .html file; got no suffix"
    before = snapshot(tmp_path)
    no_runs(monkeypatch)
    line = refused(capsys, "report", small, "-o", out)
    assert expected in line
    assert snapshot(tmp_path) == before


def test_report_over_a_users_pdf_that_names_roundtrip_elsewhere_is_refused(
    small, tmp_path, capsys
) -> None:
    """The mark is looked for where roundtrip writes it (the PDF's information dictionary), not
    anywhere in the text: a PDF quoting "roundtrip report" in its body is still the user's."""
    mine = tmp_path / "mine.pdf"
    mine.write_bytes(b"%PDF-1.4\n(roundtrip report) is what this paper discusses\n")
    assert "not a report roundtrip wrote" in refused(capsys, "report", small, "-o", mine)
    assert b"paper discusses" in mine.read_bytes()


def test_sweep_over_a_users_series_file_is_refused_before_any_run(
    small, tmp_path, capsys, monkeypatch
) -> None:
    (tmp_path / "g.series.parquet").write_text("my own series")
    no_runs(monkeypatch)
    out = tmp_path / "g.parquet"
    line = refused(capsys, "sweep", small, "--vary", f"{MARGIN}=10%,20%", "-o", out)
    assert line.startswith(f"error: {tmp_path / 'g.series.parquet'}: this file was not written ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.series.parquet", "s.yaml"]


def test_sweep_into_a_fifo_is_refused(small, tmp_path, capsys, monkeypatch) -> None:
    os.mkfifo(tmp_path / "g.parquet")
    no_runs(monkeypatch)
    line = refused(
        capsys, "sweep", small, "--vary", f"{MARGIN}=1%,2%", "-o", tmp_path / "g.parquet"
    )
    assert line.endswith("this exists and is not a file; choose another path")


def test_sweep_charts_into_a_folder_of_the_users_is_refused_before_any_run(
    small, tmp_path, capsys, monkeypatch
) -> None:
    (tmp_path / "g.charts").mkdir()
    (tmp_path / "g.charts" / "mine.png").write_bytes(b"mine")
    no_runs(monkeypatch)
    argv = ["sweep", small, "--vary", f"{MARGIN}=10%,20%", "-o", tmp_path / "g.parquet"]
    line = refused(capsys, *argv, "--charts", "png")
    assert line.startswith(f"error: {tmp_path / 'g.charts'}: this folder holds files roundtrip ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.charts", "s.yaml"]


def test_sensitivity_into_a_file_is_refused(small, tmp_path, capsys, monkeypatch) -> None:
    (tmp_path / "sens").write_text("mine")
    no_runs(monkeypatch)
    line = refused(capsys, "sensitivity", small, "-o", tmp_path / "sens")
    assert line == f"error: --out: Directory '{tmp_path / 'sens'}' is a file."
    assert (tmp_path / "sens").read_text() == "mine"


def test_a_folder_that_appears_meanwhile_is_never_replaced(tmp_path) -> None:
    """The publish itself: renameat2(RENAME_NOREPLACE) refuses a folder made between the
    check and the move, and os.link a file."""
    tmp, out = tmp_path / "tmp", tmp_path / "out"
    tmp.mkdir()
    (tmp / "new.txt").write_text("new")
    out.mkdir()  # empty: a plain rename would have replaced it
    with pytest.raises(publish.TakenMeanwhile, match="wrote this meanwhile"):
        publish.publish_folder(tmp, out)
    assert list(out.iterdir()) == [] and (tmp / "new.txt").exists()
    (tmp_path / "a.txt").write_text("new")
    (tmp_path / "b.txt").write_text("theirs")
    with pytest.raises(publish.TakenMeanwhile):
        publish.publish_file(tmp_path / "a.txt", tmp_path / "b.txt", replace=False)
    assert (tmp_path / "b.txt").read_text() == "theirs"


def test_without_renameat2_a_folder_is_still_never_put_over_one_with_files(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr(publish, "_renameat2", False)
    tmp, out = tmp_path / "tmp", tmp_path / "out"
    tmp.mkdir()
    out.mkdir()
    (out / "theirs.txt").write_text("theirs")
    with pytest.raises(publish.TakenMeanwhile):
        publish.publish_folder(tmp, out)
    assert (out / "theirs.txt").read_text() == "theirs"
    publish.publish_folder(tmp, tmp_path / "fresh")
    assert (tmp_path / "fresh").is_dir()


def test_a_disk_without_room_is_refused_before_any_run(small, tmp_path, capsys, monkeypatch):
    no_runs(monkeypatch)
    real = publish.shutil.disk_usage
    monkeypatch.setattr(
        publish.shutil, "disk_usage", lambda p: real(p)._replace(free=publish.MIN_FREE - 1)
    )
    for command, out in (("run", "run"), ("report", "r.pdf"), ("sensitivity", "s")):
        line = refused(capsys, command, small, "-o", tmp_path / out)
        assert "no space left on the disk of" in line and "this needs about 16.0 MiB" in line
    argv = ["mc", small, "--runs", "100000", "--vary", f"{MARGIN}~uniform(20%,40%)"]
    line = refused(capsys, *argv, "-o", tmp_path / "m.parquet")
    assert "no space left on the disk of" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]


def test_two_claims_of_one_output_in_one_process_nest(tmp_path) -> None:
    """A command claims its output before the run and the writer claims it again: the same
    process holding it is no refusal, and the lock goes with the outer claim."""
    with publish.claim(tmp_path / "x"):
        with publish.claim(tmp_path / "x"):
            assert (tmp_path / ".x.lock").exists()
        assert (tmp_path / ".x.lock").exists()
    assert list(tmp_path.iterdir()) == []


def test_a_claim_makes_missing_folders_and_removes_them_when_unused(tmp_path) -> None:
    with publish.claim(tmp_path / "a" / "b" / "x"):
        assert (tmp_path / "a" / "b" / ".x.lock").exists()
    assert list(tmp_path.iterdir()) == []


def test_sweep_charts_into_a_run_folder_say_how_to_fix_it_without_force(
    small, tmp_path, capsys, monkeypatch
) -> None:
    """sweep has no --force: the refusal does not offer it."""
    assert cli(capsys, "run", small, "--out", tmp_path / "g.charts")[0] == 0
    before = snapshot(tmp_path)
    no_runs(monkeypatch)
    argv = ["sweep", small, "--vary", f"{MARGIN}=10%,20%", "-o", tmp_path / "g.parquet"]
    line = refused(capsys, *argv, "--charts", "png")
    assert line.startswith(f"error: {tmp_path / 'g.charts'}: this folder holds another run (of ")
    assert line.endswith("; move it aside, or choose another folder with --out")
    assert snapshot(tmp_path) == before


def test_without_hard_links_a_file_is_still_never_put_over_another(tmp_path, monkeypatch):
    """A file system without hard links (FAT: EPERM): the file is renamed where nothing is."""

    def no_links(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    (tmp_path / "a.txt").write_text("new")
    (tmp_path / "b.txt").write_text("theirs")
    with pytest.raises(publish.TakenMeanwhile):
        publish.publish_file(tmp_path / "a.txt", tmp_path / "b.txt", replace=False)
    assert (tmp_path / "b.txt").read_text() == "theirs"
    publish.publish_file(tmp_path / "a.txt", tmp_path / "c.txt", replace=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.txt", "c.txt"]


@pytest.mark.parametrize("kind", ["symlink", "folder"])
def test_a_lock_file_replaced_by_a_link_or_a_folder_is_refused_and_left_alone(
    small, tmp_path, capsys, monkeypatch, kind
) -> None:
    """Nothing is written through a link planted where the lock goes."""
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    lock = tmp_path / ".run.lock"
    if kind == "symlink":
        lock.symlink_to(victim)
    else:
        lock.mkdir()
    no_runs(monkeypatch)
    line = refused(capsys, "run", small, "--out", tmp_path / "run")
    assert line.startswith(f"error: {tmp_path / 'run'}: cannot write at {lock}: a ")
    assert ("symbolic link is in the way" if kind == "symlink" else "folder is in the way") in line
    assert victim.read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".run.lock", "s.yaml", "victim.txt"]


@pytest.fixture
def read_only(tmp_path: Path):
    """A folder no one may write in: mode 555, and for root (whom mode bits do not stop) a
    read-only bind mount of it; skipped where neither holds."""
    folder = tmp_path / "ro"
    folder.mkdir()
    mounted = False
    if os.geteuid() == 0:
        steps = [["mount", "--bind", folder, folder], ["mount", "-o", "remount,ro,bind", folder]]
        for step in steps:
            if subprocess.run(step, capture_output=True).returncode != 0:
                if mounted:
                    subprocess.run(["umount", folder], capture_output=True)
                pytest.skip("root, and no read-only bind mount here")
            mounted = True
    else:
        folder.chmod(0o555)
    try:
        yield folder
    finally:
        if mounted:
            subprocess.run(["umount", folder], capture_output=True)
        folder.chmod(0o755)


@pytest.mark.parametrize(
    ("command", "name", "extra"),
    [
        ("run", "run", []),
        ("report", "r.pdf", []),
        ("sensitivity", "sens", []),
        ("sweep", "g.parquet", ["--vary", f"{MARGIN}=10%,20%"]),
        ("mc", "m.parquet", ["--runs", "3", "--vary", f"{MARGIN}~uniform(20%,40%)"]),
    ],
)
def test_a_read_only_folder_is_refused_before_any_run(
    small, read_only, capsys, monkeypatch, command, name, extra
) -> None:
    no_runs(monkeypatch)
    line = refused(capsys, command, small, "-o", read_only / name, *extra)
    assert line.startswith(f"error: {read_only / name}: ")
    assert "read-only" in line or "not writable" in line or "permission denied" in line
    assert list(read_only.iterdir()) == []


def test_a_temporary_folder_of_the_same_output_whose_owner_runs_refuses_it(
    small, tmp_path, capsys, monkeypatch
) -> None:
    """A process still running left it (one that holds no claim, as an older roundtrip): it may
    write there still, so the output is refused and the folder left alone."""
    live = live_owner()
    tmp = tmp_path / f".run.{live}.0e0e0e0e.tmp"
    tmp.mkdir()
    no_runs(monkeypatch)
    line = refused(capsys, "run", small, "--out", tmp_path / "run")
    assert line == (
        f"error: {tmp_path / 'run'}: a roundtrip process still running (pid {os.getppid()}) "
        f"has a temporary file here, {tmp.name}; wait for it to end, or choose another path"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [tmp.name, "s.yaml"]


def test_two_threads_writing_one_new_folder_one_wins_whole(tmp_path) -> None:
    """In one process (a notebook's threads): both fill their temporary folder at once; the
    first to claim writes it, the other is refused before filling, and the folder is whole."""
    out = tmp_path / "out"
    started = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def write(name: str) -> None:
        def fill(tmp: Path) -> None:
            (tmp / "who.txt").write_text(name)
            time.sleep(0.2)  # the other thread tries meanwhile

        started.wait()
        try:
            write_atomically(out, fill, about={"by": name})
            outcomes[name] = "wrote"
        except ScenarioError as e:
            outcomes[name] = str(e)

    threads = [threading.Thread(target=write, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winner = (out / "who.txt").read_text()
    loser = "b" if winner == "a" else "a"
    assert outcomes[winner] == "wrote"
    # the owner is named once the winner has written it in the lock, a moment after taking it
    said = outcomes[loser].replace(f" (pid {os.getpid()} on {socket.gethostname()})", "")
    assert (
        said
        == f"{out}: another roundtrip is writing this now; wait for it to finish, or {RUN_HINT}"
    )
    assert read_marker(out)["files"] == ["who.txt"] and read_marker(out)["by"] == winner
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
