"""Lint, format and type checks run as part of the test suite (configured in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PATHS = [p for p in ("sim", "tests", "benchmarks") if (ROOT / p).exists()]


def tool(name: str) -> Path:
    exe = BIN / name
    if not exe.exists():
        pytest.skip(f"{name} is not installed next to {sys.executable}")
    return exe


def check(*cmd: object) -> None:
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))}\n{proc.stdout}\n{proc.stderr}"


def test_ruff_finds_no_lint_errors() -> None:
    check(tool("ruff"), "check", "--no-cache", *PATHS)


def test_ruff_format_leaves_every_file_as_it_is() -> None:
    check(tool("ruff"), "format", "--check", "--no-cache", *PATHS)


def test_mypy_finds_no_type_errors() -> None:
    check(tool("mypy"))  # packages and options from [tool.mypy]
