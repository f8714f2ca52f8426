"""Run folders: written whole or not at all.

A run folder holds metrics.json, ledger.parquet, balances.parquet, scenario.resolved.yaml (every
input after defaults and overrides) and, when the scenario came from a file, scenario.source.yaml
(the file as written, comments and all). Everything is written to a temporary folder beside the
target and moved into place only once complete, so a failed run leaves nothing half-written.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from sim.errors import ScenarioError
from sim.result import Result, resolved_yaml

RUN_FILES = ("metrics.json", "ledger.parquet", "balances.parquet", "scenario.resolved.yaml")


def default_run_dir(scenario_path: str | os.PathLike[str]) -> Path:
    """``runs/<file stem>`` in the current folder."""
    return Path("runs") / Path(scenario_path).stem


def check_writable(out: Path) -> None:
    """Refuse, before running, to replace a folder that is not a run folder of ours, or the
    folder we are in (a run folder is swapped in whole, which the current folder cannot be)."""
    if Path.cwd().is_relative_to(Path(os.path.abspath(out))):
        raise ScenarioError(
            "this is the current folder (or holds it); a run folder is replaced whole, so "
            "choose a new folder with --out, such as runs/my_run",
            file=str(out),
        )
    if out.exists() and not out.is_dir():
        raise ScenarioError("this exists and is not a folder", file=str(out))
    if out.is_dir() and any(out.iterdir()) and not (out / "metrics.json").exists():
        raise ScenarioError(
            "this folder holds files that are not a run's; choose an empty or new folder "
            "with --out",
            file=str(out),
        )


def write_atomically(out: Path, fill: Callable[[Path], None]) -> Path:
    """Call ``fill(tmp)`` on a fresh temporary folder, then move it to ``out`` (replacing a
    previous run folder there). On any error the temporary folder is removed."""
    check_writable(out)
    out = Path(os.path.abspath(out))  # "x/.." and the like get a real name and parent
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        # mkdtemp makes the folder private (0700); a run folder gets the usual permissions
        os.chmod(tmp, 0o777 & ~_umask())
        fill(tmp)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            try:
                os.replace(out, old / out.name)
            except BaseException:
                old.rmdir()
                raise
            try:
                os.replace(tmp, out)
            except BaseException:
                os.replace(old / out.name, out)  # put the previous run back
                old.rmdir()
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_run(result: Result, out: Path) -> Path:
    """Write a run's files into ``out``, atomically."""

    def fill(tmp: Path) -> None:
        (tmp / "metrics.json").write_text(result.to_json() + "\n")
        result.ledger.to_parquet(tmp / "ledger.parquet", index=False)
        result.balances.to_parquet(tmp / "balances.parquet", index=False)
        header = (
            f"# Resolved inputs of {result.scenario.name!r} (defaults and overrides applied).\n"
            "# Run it again with: roundtrip run scenario.resolved.yaml\n"
        )
        (tmp / "scenario.resolved.yaml").write_text(header + resolved_yaml(result.scenario))
        src = result.scenario.source
        if src and Path(src).is_file():
            shutil.copyfile(src, tmp / "scenario.source.yaml")

    return write_atomically(out, fill)
