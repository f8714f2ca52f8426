"""Every shipped notebook runs top to bottom (its code cells as one script, from its folder)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_and_is_stored_without_outputs(path: Path, monkeypatch) -> None:
    nb = json.loads(path.read_text())
    cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c["outputs"] and c["execution_count"] is None for c in cells)
    source = "\n".join("".join(c["source"]) for c in cells)
    monkeypatch.chdir(path.parent)  # notebooks open ../scenarios/... as a reader's would
    namespace: dict[str, object] = {"__name__": "__notebook__"}
    exec(compile(source, str(path), "exec"), namespace)  # raises if any cell fails


def test_there_is_a_notebook() -> None:
    assert NOTEBOOKS
