"""Shared helpers: build scenarios from small YAML texts written out in each test."""

from __future__ import annotations

import os
import textwrap

import pytest
from hypothesis import settings

import sim
from sim.cli import main


def scenario(text: str, **overrides: object) -> sim.inputs.scenario.Scenario:  # type: ignore[name-defined]
    """A scenario from an indented YAML snippet, with optional overrides (``a__b=value``)."""
    return sim.parse_scenario(textwrap.dedent(text), "test.yaml", None, **overrides)


@pytest.fixture
def make_scenario():
    return scenario


def cli(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    """Run the command line in-process: its exit code, what it printed, what it complained."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# Property tests explore new examples on a developer's machine, but CI replays a fixed sequence:
# a submission's result must not depend on the luck of the draw. Failures found locally are kept
# in .hypothesis/ and replayed first. The profile is loaded here, before any test module is
# imported, so the tests' own @settings inherit it.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "default")
)
