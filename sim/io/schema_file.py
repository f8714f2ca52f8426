"""The JSON Schema of a scenario written to a file (``roundtrip schema --out``), by the same rule
as every output (sim/io/publish.py): checked, claimed, written under a temporary name and put
in place, replacing only a schema roundtrip wrote (or any file with ``force``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from sim.inputs.jsonschema import SCHEMA_TITLE, schema_text
from sim.io import publish

MAX_SCHEMA_BYTES = 4 * 2**20  # a schema is about 50 kB: a larger file is not one of ours


def is_schema(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` holds a scenario schema roundtrip wrote: a JSON object titled as
    ``schema_text`` titles it (read only up to ``MAX_SCHEMA_BYTES``)."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_SCHEMA_BYTES + 1)
        if len(data) > MAX_SCHEMA_BYTES:
            return False
        found = json.loads(data)
    except (OSError, ValueError):
        return False
    return isinstance(found, dict) and found.get("title") == SCHEMA_TITLE


def write_schema(path: str | os.PathLike[str], *, force: bool = False) -> Path:
    """Write the schema to ``path``; refused (``ScenarioError``, nothing written) where
    ``publish.check_file_target`` refuses it. Returns the path written."""
    target = Path(path)
    publish.check_file_target(
        target, noun="schema", example="scenario.schema.json", is_ours=is_schema, force=force
    )

    def check() -> None:  # again under the claim: another program may have written there since
        publish.check_file_target(
            target, noun="schema", example="scenario.schema.json", is_ours=is_schema, force=force
        )

    data = schema_text().encode("utf-8")
    return publish.write_file(
        target, data, check=check, hint="choose another file with --out", suffix=".json"
    )
