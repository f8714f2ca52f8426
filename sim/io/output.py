"""Run folders: written whole or not at all, and only over what roundtrip wrote itself.

A run folder holds metrics.json, ledger.parquet, balances.parquet, twin_series.parquet,
scenario.resolved.yaml (every
input after defaults and overrides), scenario.source.yaml when the scenario came from a file (the
file as written, comments and all), charts/ and the matrices' CSV files when asked for, and a
marker, ``.roundtrip-run``:
the scenario file, overrides and inputs hash of the run, and every file roundtrip wrote in the
folder (charts drawn later with ``roundtrip chart`` are added to it). Everything is written to a
temporary folder beside the target and moved into place only once complete, so a failed or
interrupted run leaves nothing half-written; the target is claimed from the checks to the move,
and a new folder never lands on one made meanwhile (``sim.io.publish``, the rule every output
follows). A sensitivity folder and a sweep's charts folder are written the same way, their
marker saying their ``kind``.

The rule for replacing a folder: roundtrip replaces only a folder it wrote, holding nothing but
the files its marker lists; a folder with anything else in it (or no marker) is refused whole,
``ScenarioError``, and nothing in it is touched. A run also replaces only the same run: the same
inputs from the same file, or, both without overrides, an earlier run of the same file (``force``
lifts this second condition, never the first).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.analysis.result import Result, inputs_hash, resolved_yaml_with_sources
from sim.errors import ScenarioError
from sim.inputs.scenario import Scenario
from sim.io import publish, signals

if TYPE_CHECKING:  # pandas and Parquet are imported where used: `--help` needs neither
    import pandas as pd

RUN_FILES = (
    "metrics.json",
    "ledger.parquet",
    "balances.parquet",
    "twin_series.parquet",
    "scenario.resolved.yaml",
)
# with --matrices: the accounting matrices of the run (sim/analysis/matrices.py), dollars to the
# cent
MATRIX_FILES = (
    "transaction_flows.csv",
    "balance_sheet.csv",
    "consolidated_flows.csv",
    # the money cycles of the run's flow graph and their throughput (sim/analysis/cycles.py)
    "cycles.csv",
)
MARKER = ".roundtrip-run"  # in every run folder: what made the run, and the files written there
MARKER_FORMAT = 1


def default_run_dir(scenario_path: str | os.PathLike[str], inputs: str | None = None) -> Path:
    """``runs/<file stem>`` in the current folder; a what-if gives ``inputs`` (the hash of its
    resolved inputs) and gets ``runs/<file stem>-<inputs>``, so that it never replaces the plain
    run of the file."""
    stem = Path(scenario_path).stem
    return Path("runs") / (f"{stem}-{inputs}" if inputs else stem)


def read_marker(folder: str | os.PathLike[str]) -> dict[str, Any] | None:
    """What the marker of a run folder says, or None if it has none we can read."""
    from sim.io.readback import read_json

    try:
        marker = read_json(Path(folder) / MARKER)  # a bounded read: never /dev/zero whole
    except ScenarioError:  # none, unreadable, too large, or not JSON
        return None
    if not isinstance(marker, dict) or not _safe_listing(marker.get("files")):
        return None  # a damaged marker vouches for nothing
    return marker


def _safe_listing(files: Any) -> bool:
    """Whether a marker's list of files is one roundtrip could have written: text, each a
    relative path inside the folder (no ``..``, no leading ``/``), without control characters."""
    if not isinstance(files, list):
        return False
    for f in files:
        if not isinstance(f, str) or not f or f.startswith("/") or "\\" in f:
            return False
        if any(part in ("", ".", "..") for part in f.rstrip("/").split("/")):
            return False
        if any(ord(c) < 32 for c in f):
            return False
    return True


def check_writable(
    out: str | os.PathLike[str],
    scenario: Scenario | None = None,
    *,
    overrides: Sequence[str] = (),
    force: bool = False,
) -> None:
    """Refuse, before running, a run folder that cannot be written or must not be replaced
    (``ScenarioError`` naming ``out``): the current folder, a file, a place that cannot be made or
    written to or lacks room (``sim.io.publish.check_room``), a folder holding anything roundtrip
    did not write; and, given the ``scenario`` and unless ``force``, a folder holding another
    run (see ``same_run``)."""
    out = Path(out)
    _check_place(out, run_folder=True)
    _check_ours(out, run_folder=True)
    marker = read_marker(out)
    if scenario is not None and marker is not None and not force:
        if same_run(marker, scenario, overrides):
            return
        raise ScenarioError(
            f"this folder holds another {_kind(marker)} ({_describe(marker)}); add --force to "
            "replace it, or choose another folder with --out",
            file=str(out),
        )


def check_folder(
    out: str | os.PathLike[str], about: dict[str, Any], *, force: bool, can_force: bool = True
) -> None:
    """Refuse, before anything runs, an output folder other than a run folder (``about`` says
    its ``kind``, such as ``"sensitivity"``, and the ``scenario`` file it is about) that
    cannot be written or must not be replaced: as ``check_writable`` refuses a run folder,
    and, unless ``force``, a folder roundtrip wrote of another kind or scenario (the message
    offers --force if the command has it, ``can_force``)."""
    out = Path(out)
    _check_place(out, run_folder=True)
    _check_ours(out, run_folder=True)
    marker = read_marker(out)
    if marker is None or force:
        return
    if marker.get("kind", "run") == about["kind"] and marker.get("scenario") == about["scenario"]:
        return
    fix = "add --force to replace it" if can_force else "move it aside"
    raise ScenarioError(
        f"this folder holds another {_kind(marker)} ({_describe(marker)}); {fix}, or choose "
        "another folder with --out",
        file=str(out),
    )


def reserve(out: str | os.PathLike[str], *, run_folder: bool = True) -> Any:
    """Claim the folder ``out`` (``sim.io.publish.claim``) from the checks before a run to the
    publish after it: ``with reserve(out): check_writable(...); run; write_run(...)``. Refused
    at once (``ScenarioError``) where it cannot be put, or while another roundtrip writes it."""
    _check_place(Path(out), run_folder=run_folder)
    return publish.claim(out, hint=_hint(run_folder))


def _kind(marker: dict[str, Any]) -> str:
    return "run" if marker.get("kind", "run") == "run" else str(marker.get("kind"))


def same_run(marker: dict[str, Any], scenario: Scenario, overrides: Sequence[str] = ()) -> bool:
    """Whether a run of ``scenario`` (with ``overrides``) may replace the run a marker describes:
    both from the same scenario file, and with the same inputs or both without overrides (the
    file rerun, perhaps after editing it)."""
    source = _source(scenario)
    if marker.get("kind", "run") != "run":
        return False
    if source is None or marker.get("scenario") != source:
        return False
    if marker.get("inputs_hash") == inputs_hash(scenario):
        return True
    return not overrides and not marker.get("overrides")


def _source(scenario: Scenario) -> str | None:
    return os.path.realpath(scenario.source) if scenario.source else None


def _describe(marker: dict[str, Any]) -> str:
    """A run as its marker tells it: ``of s.yaml with --set a=1, inputs 1a2b3c4d5e``."""
    text = f"of {marker.get('scenario') or 'a scenario without a file'}"
    overrides = marker.get("overrides") or []
    if overrides:
        text += " with " + " ".join(f"--set {o}" for o in overrides)
    inputs = marker.get("inputs_hash")
    return text + (f", inputs {inputs}" if inputs else "")


def _hint(run_folder: bool) -> str:
    return (
        "choose another folder with --out, such as runs/my_run"
        if run_folder
        else "copy the run folder somewhere you can write to and draw its charts there"
    )


def _check_place(out: Path, *, run_folder: bool) -> None:
    """Refuse a folder that cannot be put in place: the current folder (or one holding it), a
    file, a name too long, a place whose nearest existing folder is a file or cannot be written
    to, or a disk without room (``sim.io.publish.check_room``)."""
    hint = _hint(run_folder)
    publish.check_name(out)
    here = os.path.abspath(out)
    if Path.cwd().is_relative_to(here):
        raise ScenarioError(
            "this is the current folder (or holds it); a run folder is replaced whole, so "
            "choose a new folder with --out, such as runs/my_run",
            file=str(out),
        )
    if os.path.islink(here):  # replacing it would delete the link, which is not ours
        raise ScenarioError(f"this is a symbolic link; {hint}", file=str(out))
    if os.path.lexists(here) and not os.path.isdir(here):
        raise ScenarioError(f"this exists and is not a folder; {hint}", file=str(out))
    # the folder we write in: the parent, or the nearest existing folder above it (made below)
    base = os.path.dirname(here)
    while not os.path.lexists(base):  # also false under a file
        base = os.path.dirname(base)
    if not os.path.isdir(base):
        message = f"cannot be made: {base} is a file, not a folder; {hint}"
        raise ScenarioError(message, file=str(out))
    needed = [base] + ([here] if os.path.isdir(here) else [])  # a folder replaced is moved
    for folder in needed:
        if not os.access(folder, os.R_OK | os.W_OK | os.X_OK):
            why = "the disk is read-only" if _read_only(folder) else "permission denied"
            raise ScenarioError(f"cannot write in {folder}: {why}; {hint}", file=str(out))
    publish.check_room(out)


def _read_only(folder: str) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _check_ours(out: Path, *, run_folder: bool) -> None:
    """Refuse to replace ``out`` unless it is absent, empty, or holds only files roundtrip wrote
    there: listed by its own marker (a run folder) or, for a folder inside a run folder (its
    charts/), by the run folder's."""
    if not os.path.isdir(out) or not any(out.iterdir()):
        return
    marker = read_marker(out if run_folder else out.parent)
    prefix = "" if run_folder else out.name + "/"
    if marker is None:
        marker_file = (out if run_folder else out.parent) / MARKER
        if os.path.lexists(marker_file):
            message = (
                f"its {MARKER} file is damaged or not roundtrip's (not JSON, or its list of "
                "files names paths outside the folder or not as text), so roundtrip cannot "
                "tell its files from yours and replaces nothing; remove or rename it yourself, "
                "or choose another folder with --out"
            )
            raise ScenarioError(message, file=str(marker_file))
        if not run_folder:
            message = (
                f"not replaced: {out.parent} has no {MARKER} file listing what roundtrip wrote "
                "in it (a run folder of an older roundtrip, or copied by hand); move this folder "
                "aside to draw the charts here, or run the scenario again"
            )
        elif (out / "metrics.json").exists():
            message = (
                f"this folder has a metrics.json but no {MARKER} file (a run folder of an older "
                "roundtrip, or copied by hand), and roundtrip replaces only folders it marked as "
                "its own; remove or rename it yourself, or choose another folder with --out"
            )
        else:
            names = _names(sorted(p.name + ("/" if p.is_dir() else "") for p in out.iterdir()))
            message = (
                f"this folder holds files roundtrip did not write ({names}); choose an empty or "
                "new folder with --out"
            )
        raise ScenarioError(message, file=str(out))
    strangers = [p[len(prefix) :] for p in _strangers(out, set(marker["files"]), prefix)]
    if strangers:
        where = "run folder" if run_folder else "folder"
        hint = (
            "move them out, or choose another folder with --out"
            if run_folder
            else "move them out first"
        )
        raise ScenarioError(
            f"this {where} also holds files roundtrip did not write ({_names(strangers)}), "
            f"which it will not delete; {hint}",
            file=str(out),
        )


def _strangers(folder: Path, listed: set[str], prefix: str = "") -> list[str]:
    """What under ``folder`` the list of files roundtrip wrote (``listed``: paths relative to
    the marker's folder, folders ending in /) does not hold."""
    found = []
    for p in sorted(folder.iterdir()):
        rel = prefix + p.name
        if rel == MARKER:
            continue
        if p.is_dir() and not p.is_symlink():
            found += _strangers(p, listed, rel + "/") if rel + "/" in listed else [rel + "/"]
        elif rel not in listed:
            found.append(rel)
    return found


def _listing(folder: Path, prefix: str = "") -> list[str]:
    """Every file and folder under ``folder`` (folders ending in /), the marker aside."""
    found = []
    for p in sorted(folder.iterdir()):
        rel = prefix + p.name
        if p.is_dir() and not p.is_symlink():
            found += [rel + "/", *_listing(p, rel + "/")]
        elif rel != MARKER:
            found.append(rel)
    return found


def _names(names: list[str]) -> str:
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if names[3:] else "")


def write_atomically(
    out: str | os.PathLike[str],
    fill: Callable[[Path], None],
    *,
    check: bool = True,
    about: dict[str, Any] | None = None,
) -> Path:
    """Call ``fill(tmp)`` on a fresh temporary folder beside ``out``, then move it to ``out``
    whole, replacing only what roundtrip wrote there (``ScenarioError`` otherwise, before
    ``fill``). The whole write holds ``out``'s claim (``sim.io.publish.claim``): another roundtrip
    writing it meanwhile is refused, and a new ``out`` appears only where nothing is.

    With ``check`` (the default) ``out`` is a run folder: it may replace a run folder holding only
    the files its marker lists, and gets a marker of its own holding ``about`` and its files.
    With ``check=False`` ``out`` is a folder inside a run folder (its charts/): it may replace
    only files the run folder's marker lists, and that marker lists the new ones as well (the
    claim is then the run folder's).

    On any error or interruption (KeyboardInterrupt, or any exception a signal handler raises)
    the temporary folder, and any parent folder made for it, is removed and ``out`` is left as
    it was; a full disk or a refused write is then a ``ScenarioError``. A SIGINT or SIGTERM
    arriving while the folder is moved into place waits until that is done; then, under a
    command's handler (``sim.io.signals``), it is dropped, the output being in place
    (``signals.published``), and elsewhere the exception it raises carries a note that ``out``
    was written in full."""
    given = Path(out)
    _check_place(given, run_folder=check)
    out = Path(os.path.abspath(out))  # "x/.." and the like get a real name and parent
    with publish.claim(out if check else out.parent, hint=_hint(check)):
        # leftovers of killed writers of this claim: charts/ and the marker's temporary copies
        for inner in (out, out / MARKER, out / "charts") if check else (out,):
            if inner == out or os.path.isdir(out):
                publish.clean_leftovers(inner)
        _check_ours(given, run_folder=check)
        tmp: Path | None = None
        done = False
        try:
            with signals.held():  # a folder made is a folder named, to be removed if need be
                tmp = publish.temporary_name(out, ".tmp")
                tmp.mkdir()  # the usual permissions, as the umask gives them
            fill(tmp)
            if check:
                _write_marker(tmp, about or {})
            signals.raise_deferred()  # a stop whose exception was lost: nothing goes in place
            with signals.held():  # moving into place is never left halfway
                if not check:
                    _record_in_run_marker(out, tmp)
                _swap(tmp, out)
                done = True
                signals.published()  # in place: a signal held meanwhile is dropped
        except BaseException as e:
            if done:  # a signal that waited for the move: the folder is complete and in place
                e.add_note(f"{given} was written in full")
                raise
            with signals.held():  # nor is cleaning up
                if tmp is not None:
                    shutil.rmtree(tmp, ignore_errors=True)
            if isinstance(e, OSError) and publish.is_user_error(e):
                raise publish.os_error(e, given, _hint(check)) from None
            raise
    return out


def _swap(tmp: Path, out: Path) -> None:
    """Move ``tmp`` to ``out``: where nothing is, with ``sim.io.publish.publish_folder`` (never
    over anything); a folder already there (checked as roundtrip's own, under the claim) is
    moved aside first and removed after, or put back if the move fails."""
    if not os.path.lexists(out):
        publish.publish_folder(tmp, out)
        return
    old = publish.temporary_name(out, ".old")
    old.mkdir()
    try:
        os.replace(out, old / out.name)
    except BaseException:
        old.rmdir()
        raise
    try:
        os.replace(tmp, out)
    except BaseException:
        os.replace(old / out.name, out)  # put the previous folder back
        old.rmdir()
        raise
    shutil.rmtree(old, ignore_errors=True)


def _write_marker(folder: Path, about: dict[str, Any]) -> None:
    marker = {
        "written_by": "roundtrip",
        "format": MARKER_FORMAT,
        "rule": "roundtrip replaces this folder only while it holds nothing but the files "
        "listed here",
        "kind": "run",
        **about,
        "files": _listing(folder),
    }
    (folder / MARKER).write_text(json.dumps(marker, indent=2) + "\n")


def _record_in_run_marker(out: Path, tmp: Path) -> None:
    """Add the files of ``tmp``, about to become ``out`` (a folder inside a run folder), to the
    run folder's marker; a run folder without one (an older roundtrip's) is left as it is."""
    marker = read_marker(out.parent)
    if marker is None:
        return
    prefix = out.name + "/"
    files = set(marker["files"]) | {prefix} | {prefix + f for f in _listing(tmp)}
    name = publish.temporary_name(out.parent / MARKER, ".tmp")
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps({**marker, "files": sorted(files)}, indent=2) + "\n")
        os.chmod(name, 0o666 & ~_umask())
        os.replace(name, out.parent / MARKER)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_run(
    result: Result,
    out: str | os.PathLike[str],
    extra: Callable[[Path], None] | None = None,
    *,
    overrides: Sequence[str] = (),
    force: bool = False,
) -> Path:
    """Write a run's files into ``out``, atomically; ``extra(tmp)`` may add files (charts).
    ``overrides`` are the ``--set`` values the scenario was loaded with, recorded in the marker
    so that a later run can tell a what-if from a plain run. Refused (``ScenarioError``) as
    ``check_writable`` refuses."""
    out = Path(out)

    def fill(tmp: Path) -> None:
        (tmp / "metrics.json").write_text(result.to_json() + "\n")
        import pyarrow.parquet as pq

        pq.write_table(result.ledger_table, tmp / "ledger.parquet")
        pq.write_table(result.balances_table, tmp / "balances.parquet")
        pq.write_table(result.twin_series_table, tmp / "twin_series.parquet")
        header = (
            f"# Resolved inputs of {result.scenario.name!r} (defaults and overrides applied),\n"
            "# each with the source comment written beside it in the scenario file.\n"
            "# Run it again with: roundtrip run scenario.resolved.yaml\n\n"
        )
        resolved = resolved_yaml_with_sources(result.scenario)
        (tmp / "scenario.resolved.yaml").write_text(header + resolved)
        src = result.scenario.source
        if src and Path(src).is_file():
            shutil.copyfile(src, tmp / "scenario.source.yaml")
        if extra is not None:
            extra(tmp)

    about = {
        "scenario": _source(result.scenario),
        "overrides": list(overrides),
        "inputs_hash": inputs_hash(result.scenario),
    }
    with reserve(out):  # the check and the write under one claim
        check_writable(out, result.scenario, overrides=overrides, force=force)
        return write_atomically(out, fill, about=about)


def write_matrices(result: Result, folder: Path) -> None:
    """Write ``MATRIX_FILES`` into ``folder`` (a run folder being filled by ``write_run``): the
    transaction-flow matrix, the balance sheet at the end and the consolidated flows."""
    views = result.matrices()
    for name, matrix in zip(
        MATRIX_FILES[:3],
        (views.transaction_flows, views.balance_sheet, views.consolidated),
        strict=True,
    ):
        (folder / name).write_text(matrix.csv())
    result.cycles().to_csv(folder / MATRIX_FILES[3], index=False)


@dataclass
class SavedRun:
    """A finished run read back from its folder: what charts and reports need (``RunLike``)."""

    folder: Path
    scenario: Scenario
    ledger: pd.DataFrame
    balances: pd.DataFrame
    metrics: dict[str, Any]
    twin_series: pd.DataFrame  # what the run and its twins moved (Result.twin_series)

    def metrics_dict(self) -> dict[str, Any]:
        return self.metrics


def read_run(folder: str | os.PathLike[str]) -> SavedRun:
    """Read a run folder written by ``roundtrip run``; a missing, incomplete, damaged or foreign
    folder is bad input (``ScenarioError``) naming the file and what is wrong. Every file is
    checked as ``sim.io.readback`` checks its kind; none may be a symbolic link (a run folder is
    read only for what roundtrip wrote in it, never for what a link points to)."""
    from sim.inputs.loader import OWN_SCALE, parse_resolved, read_scenario_text  # imports pydantic
    from sim.io.readback import (
        BALANCES,
        LEDGER,
        TWIN_SERIES,
        check_marker,
        check_metrics_file,
        read_json,
        read_table,
    )

    d = Path(folder)
    if not d.is_dir():
        raise ScenarioError(
            "no run folder here; write one with: roundtrip run SCENARIO --out " + str(d),
            file=str(d),
        )
    refuse_links(d, (*RUN_FILES, MARKER))
    missing = [f for f in RUN_FILES if not (d / f).is_file()]
    if missing:
        raise ScenarioError(
            f"not a complete run folder: {', '.join(missing)} missing (a run folder holds "
            f"{', '.join(RUN_FILES)}); run the scenario again",
            file=str(d),
        )
    if os.path.lexists(d / MARKER):
        check_marker(read_json(d / MARKER), d / MARKER)
    metrics = check_metrics_file(read_json(d / "metrics.json"), d / "metrics.json")
    ledger = read_table(d / "ledger.parquet", LEDGER)
    balances = read_table(d / "balances.parquet", BALANCES)
    twin_series = read_table(d / "twin_series.parquet", TWIN_SERIES)
    resolved = str(d / "scenario.resolved.yaml")
    scenario = parse_resolved(read_scenario_text(resolved, scale=OWN_SCALE), resolved)
    # name the scenario file the run came from, as the run itself did
    scenario = scenario.with_source(metrics.get("source") or resolved)
    return SavedRun(d, scenario, ledger, balances, metrics, twin_series)


def refuse_links(folder: Path, names: Sequence[str]) -> None:
    """Refuse (``ScenarioError``) a run folder in which any of ``names`` is a symbolic link:
    roundtrip reads and copies only the files it wrote, never what a link points to."""
    for name in names:
        if (folder / name).is_symlink():
            raise ScenarioError(
                "is a symbolic link; roundtrip reads and copies only the files it wrote in a "
                "run folder, never what a link points to: replace it with the file, or run "
                "the scenario again",
                file=str(folder / name),
            )
