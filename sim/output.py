"""Run folders: written whole or not at all.

A run folder holds metrics.json, ledger.parquet, balances.parquet, scenario.resolved.yaml (every
input after defaults and overrides) and, when the scenario came from a file, scenario.source.yaml
(the file as written, comments and all). Everything is written to a temporary folder beside the
target and moved into place only once complete, so a failed run leaves nothing half-written.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import ScenarioError
from sim.result import Result, resolved_yaml_with_sources
from sim.scenario import Scenario

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


def write_atomically(out: Path, fill: Callable[[Path], None], *, check: bool = True) -> Path:
    """Call ``fill(tmp)`` on a fresh temporary folder, then move it to ``out`` (replacing a
    previous run folder there, or with ``check=False`` any folder, such as a run's charts/).
    On any error the temporary folder is removed."""
    if check:
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


def write_run(result: Result, out: Path, extra: Callable[[Path], None] | None = None) -> Path:
    """Write a run's files into ``out``, atomically; ``extra(tmp)`` may add files (charts)."""

    def fill(tmp: Path) -> None:
        (tmp / "metrics.json").write_text(result.to_json() + "\n")
        result.ledger.to_parquet(tmp / "ledger.parquet", index=False)
        result.balances.to_parquet(tmp / "balances.parquet", index=False)
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

    return write_atomically(out, fill)


@dataclass
class SavedRun:
    """A finished run read back from its folder: what charts and reports need (``RunLike``)."""

    folder: Path
    scenario: Scenario
    ledger: pd.DataFrame
    balances: pd.DataFrame
    metrics: dict[str, Any]

    def metrics_dict(self) -> dict[str, Any]:
        return self.metrics


_LEDGER_COLUMNS = ("day", "date", "payer", "payee", "kind", "deal", "lab", "amount_cents")
_BALANCE_COLUMNS = ("step", "date", "account", "origin", "cents")


def read_run(folder: str | os.PathLike[str]) -> SavedRun:
    """Read a run folder written by ``roundtrip run``; a missing, incomplete or damaged folder
    is bad input (``ScenarioError``) naming the file and what is wrong."""
    from sim.loader import parse_scenario  # the loader imports pydantic: only when needed

    d = Path(folder)
    if not d.is_dir():
        raise ScenarioError(
            "no run folder here; write one with: roundtrip run SCENARIO --out " + str(d),
            file=str(d),
        )
    missing = [f for f in RUN_FILES if not (d / f).is_file()]
    if missing:
        raise ScenarioError(
            f"not a complete run folder: {', '.join(missing)} missing (a run folder holds "
            f"{', '.join(RUN_FILES)}); run the scenario again",
            file=str(d),
        )
    try:
        metrics = json.loads((d / "metrics.json").read_text())
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioError(f"cannot be read: {e}", file=str(d / "metrics.json")) from None
    except json.JSONDecodeError as e:
        raise ScenarioError(
            f"is not valid JSON: {e.msg}",
            file=str(d / "metrics.json"),
            line=e.lineno,
            column=e.colno,
        ) from None
    if not isinstance(metrics, dict) or not {"investors", "labs"} <= set(metrics):
        raise ScenarioError(
            "is not a roundtrip metrics file (no investors and labs)", file=str(d / "metrics.json")
        )
    ledger = _read_table(d / "ledger.parquet", _LEDGER_COLUMNS)
    balances = _read_table(d / "balances.parquet", _BALANCE_COLUMNS)
    resolved = d / "scenario.resolved.yaml"
    try:
        text = resolved.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioError(f"cannot be read: {e}", file=str(resolved)) from None
    scenario = parse_scenario(text, str(resolved))
    # name the scenario file the run came from, as the run itself did
    scenario = dataclasses.replace(scenario, source=metrics.get("source") or str(resolved))
    return SavedRun(d, scenario, ledger, balances, metrics)


def _read_table(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    try:
        df = pd.read_parquet(path)
    except Exception as e:  # pyarrow raises several types for a damaged file
        raise ScenarioError(
            f"is not a readable Parquet file ({type(e).__name__}); run the scenario again",
            file=str(path),
        ) from None
    absent = [c for c in columns if c not in df.columns]
    if absent:
        raise ScenarioError(
            f"lacks the column(s) {', '.join(absent)}; run the scenario again", file=str(path)
        )
    return df
