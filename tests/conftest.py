"""Shared helpers: build scenarios from small YAML texts written out in each test."""

from __future__ import annotations

import textwrap

import pytest

import sim


def scenario(text: str, **overrides: object) -> sim.scenario.Scenario:  # type: ignore[name-defined]
    """A scenario from an indented YAML snippet, with optional overrides (``a__b=value``)."""
    return sim.parse_scenario(textwrap.dedent(text), "test.yaml", None, **overrides)


@pytest.fixture
def make_scenario():
    return scenario
