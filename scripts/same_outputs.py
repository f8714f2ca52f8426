"""Same outputs before and after: run every bundled and test scenario with the code of a base
commit and with this tree's code, and compare what the runs wrote.

Why: issue 17 ("One place for each rule") redesigns the package (layout, inputs, studies, kinds,
the caused rule) and must show that what a run computes did not change. For every
scenarios/*.yaml and every YAML file committed under tests/, this runs
``python -m sim run FILE --out DIR`` twice, with PYTHONPATH at a temporary ``git worktree`` of
the base commit and at this tree (and so for every scenario written inline in a test: a string
constant of tests/*.py holding ``agents:``, run from a file of its own), and compares
metrics.json byte for byte and the inputs hash
(the summary header's ``inputs <hash>`` line and the run folder's ``.roundtrip-run``). Both runs
read the same files, from this tree. A file both trees refuse the same way (exit code and last
line of the error) counts as the same. One line per file; exit 1 if any differs. With
``--base-files`` the base reads its own copy of each file it has (for a change that edits the
bundled files without changing their inputs, such as a key stated at its default).

    python scripts/same_outputs.py [--base COMMIT] [--base-files]
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BASE = "02fc15f"  # the commit before issue 17


def scenario_files() -> list[str]:
    """The bundled scenarios and the YAML files committed under tests/, relative to ROOT."""
    tests = subprocess.run(
        ["git", "ls-files", "tests/*.yaml", "tests/*.yml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("scenarios/*.yaml")) + tests


def inline_scenarios(folder: Path) -> list[tuple[str, str]]:
    """The scenarios written inline in the tests (a string constant holding ``agents:`` on a line
    of its own), each saved to a file in ``folder``: (where it is written, the file)."""
    found = []
    for test in sorted((ROOT / "tests").glob("test_*.py")):
        for node in ast.walk(ast.parse(test.read_text(encoding="utf-8"))):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and "\nagents:" in f"\n{text}":
                where = f"tests/{test.name}:{node.lineno}"
                path = folder / f"{test.stem}_{node.lineno}.yaml"
                path.write_text(text, encoding="utf-8")
                found.append((where, str(path)))
    return found


def run(code: Path, file: str, out: Path, cwd: Path = ROOT) -> dict[str, Any]:
    """Run ``file`` (relative to ``cwd``) with the package at ``code``; what it printed and
    wrote."""
    env = {**os.environ, "PYTHONPATH": str(code), "MPLBACKEND": "Agg"}
    # -P: the working directory (this tree) is not put ahead of PYTHONPATH on sys.path
    done = subprocess.run(
        [sys.executable, "-P", "-m", "sim", "run", file, "--out", str(out)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    header = re.search(r"\binputs ([0-9a-f]{6,})\b", done.stdout)
    marker = out / ".roundtrip-run"
    metrics = out / "metrics.json"
    return {
        "exit": done.returncode,
        "error": (done.stderr.strip().splitlines() or [""])[-1],
        "header hash": header.group(1) if header else None,
        "folder hash": json.loads(marker.read_text()).get("inputs_hash")
        if marker.exists()
        else None,
        "metrics": metrics.read_bytes() if metrics.exists() else None,
    }


def first_difference(a: Any, b: Any, where: str = "") -> str:
    """The first key (a dotted path) at which two JSON values differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in [*a, *(k for k in b if k not in a)]:
            if k not in a or k not in b:
                return f"{where}{k} (only in {'base' if k in a else 'this tree'})"
            if a[k] != b[k]:
                return first_difference(a[k], b[k], f"{where}{k}.")
        return f"{where.rstrip('.') or '(top)'} (key order or formatting)"
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return first_difference(x, y, f"{where}{k}.")
    return f"{where.rstrip('.') or '(top)'}: {a!r} != {b!r}"


def compare(base: dict[str, Any], now: dict[str, Any]) -> str | None:
    """None if the two runs gave the same, else what differs first."""
    if base["exit"] != 0 or now["exit"] != 0:
        same = (base["exit"], base["error"]) == (now["exit"], now["error"])
        return (
            None
            if same
            else f"exit {base['exit']} != {now['exit']}: {now['error'] or base['error']}"
        )
    for key in ("header hash", "folder hash"):
        if base[key] != now[key]:
            return f"inputs hash ({key}): {base[key]} != {now[key]}"
    if base["metrics"] == now["metrics"]:
        return None
    if base["metrics"] is None or now["metrics"] is None:
        return "metrics.json written by one tree only"
    return "metrics.json: " + first_difference(
        json.loads(base["metrics"]), json.loads(now["metrics"])
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default=BASE, help=f"commit to compare with (default {BASE})")
    parser.add_argument(
        "--base-files",
        action="store_true",
        help="the base reads its own copy of each file it has (default: this tree's)",
    )
    args = parser.parse_args(argv)
    differ = 0
    with tempfile.TemporaryDirectory(prefix="same-outputs-") as tmp:
        tree = Path(tmp) / "base"
        git = ["git", "-C", str(ROOT), "worktree"]
        subprocess.run(
            [*git, "add", "--detach", str(tree), args.base], check=True, capture_output=True
        )
        inline = Path(tmp) / "inline"
        inline.mkdir()
        try:
            files = [(f, f) for f in scenario_files()] + inline_scenarios(inline)
            for k, (where, file) in enumerate(files):
                own = args.base_files and (tree / file).exists()
                runs = [
                    run(code, file, Path(tmp) / f"{k}-{side}", cwd)
                    for side, code, cwd in (
                        ("base", tree, tree if own else ROOT),
                        ("now", ROOT, ROOT),
                    )
                ]
                why = compare(*runs)
                differ += why is not None
                refused = runs[0]["exit"] != 0 and why is None
                said = "same" + (f" (both refuse it: {runs[0]['error']})" if refused else "")
                print(f"{where}: {said if why is None else 'differs, ' + why}", flush=True)
        finally:
            subprocess.run([*git, "remove", "--force", str(tree)], check=False, capture_output=True)
    print(f"{differ} differ" if differ else f"all the same as {args.base}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
