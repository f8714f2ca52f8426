"""The starter scenario written to a file (``roundtrip init``), by the rule of every output
(sim/io/publish.py): checked, claimed, written under a temporary name and put in place. It
replaces only a starter roundtrip wrote and nobody edited since (``sim.inputs.starter.
is_starter``), or any plain file with ``force``; with ``schema``, the JSON Schema its first line
names is written beside it too (sim/io/schema_file.py), never over a file roundtrip did not write.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

from sim.errors import ScenarioError
from sim.inputs.starter import MAX_STARTER_BYTES, SCHEMA_NAME, Parties, is_starter, starter_text
from sim.io import publish
from sim.io.schema_file import is_schema, write_schema

EXAMPLE = "my-scenario.yaml"
HINT = "choose another file: roundtrip init OTHER.yaml"


@dataclass(frozen=True)
class Written:
    """What ``write_starter`` wrote: the scenario, and the schema beside it if it wrote one."""

    scenario: Path
    schema: Path | None
    schema_beside: bool  # whether the schema the first line names is beside the scenario


def is_own_starter(path: Path) -> bool:
    """Whether ``path`` holds an unedited starter roundtrip wrote there (read up to
    ``MAX_STARTER_BYTES``)."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_STARTER_BYTES + 1)
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return is_starter(text, path.name)


def _check(target: Path, force: bool) -> None:
    publish.check_file_target(
        target,
        noun="starter scenario",
        example=EXAMPLE,
        is_ours=is_own_starter,
        force=force,
        option="roundtrip init OTHER.yaml",
    )


def _check_schema(path: Path) -> None:
    """Refuse a schema's place beside the scenario as every output's is refused, and a file
    there that is not a schema roundtrip wrote: ``--force`` is for the scenario only."""
    publish.check_file_target(
        path, noun="schema", example=SCHEMA_NAME, is_ours=is_schema, force=True
    )
    if path.exists() and not is_schema(path):
        raise ScenarioError(
            "this file is not a schema roundtrip wrote, and roundtrip init never replaces it; "
            "leave out --schema, or write the schema elsewhere with roundtrip schema --out",
            file=str(path),
        )


def write_starter(
    path: str | os.PathLike[str],
    parties: Parties,
    *,
    contract: bool = False,
    schema: bool = False,
    force: bool = False,
) -> Written:
    """Write the starter scenario to ``path`` (and, with ``schema``, ``scenario.schema.json``
    beside it). Every refusal (``ScenarioError``: a folder, a link, a missing folder, a file
    roundtrip did not write without ``force``; a schema file that is not one of roundtrip's,
    whatever ``force``) comes before anything is written."""
    target = Path(path)
    schema_path = target.with_name(SCHEMA_NAME)
    _check(target, force)
    if schema:
        _check_schema(schema_path)
    text = starter_text(parties, contract=contract, file_name=target.name)
    # checked again under the claim: another program may have written there meanwhile
    check = functools.partial(_check, target, force)
    publish.write_file(target, text.encode("utf-8"), check=check, hint=HINT, suffix=".yaml")
    wrote = write_schema(schema_path) if schema else None
    return Written(target, wrote, schema_path.is_file())
