"""Templates: a scenario file parsed once, from which many scenarios are made as ``--set`` would
make them, without reading the YAML text again; a point of a grid or a draw is made from one
(``Point``), validating again only what it changed. ``first_point`` is the scenario ``run`` and
``validate`` read. docs/scenarios.md, "Ranges: sweeps and distributions".
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sim.errors import ScenarioError
from sim.inputs.document import (
    Overrides,
    YamlDoc,
    YamlPath,
    apply_overrides,
    on_one_line,
    read_scenario_text,
    read_yaml,
    set_values,
)
from sim.inputs.models import ScenarioModel
from sim.inputs.points import Ranges, at_first_point, point_items, ranges
from sim.inputs.scenario import Scenario, to_scenario, to_scenario_from
from sim.inputs.schema import revalidated, validate, with_values
from sim.inputs.specs import shown_value, varied_input

Inputs = dict[str, Any]  # dotted path -> the value a run was given, in the form --set takes


@dataclass
class Template:
    """A scenario file parsed once; ``derive`` makes scenarios from it as ``--set`` would."""

    doc: YamlDoc  # as read, with the template's overrides
    rescale: bool = True  # a provider's share varied rescales the lab's other providers
    _ranges: Ranges | None = field(default=None, repr=False)
    _base_model: ScenarioModel | None = field(default=None, repr=False)
    _base_failed: bool = field(default=False, repr=False)
    _first: Scenario | None = field(default=None, repr=False)  # first_point's, made once
    _kinds: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def ranges(self) -> Ranges:
        if self._ranges is None:
            self._ranges = checked(lambda: ranges(self.doc))
        return self._ranges

    @property
    def filename(self) -> str:
        return self.doc.filename

    @property
    def base_model(self) -> ScenarioModel | None:
        """The validated model of ``ranges.base`` (made once), or None if it does not
        validate: every point is then validated whole, and says why."""
        if self._base_model is None and not self._base_failed:
            try:
                self._base_model = validate(self.ranges.base)
            except ScenarioError:
                self._base_failed = True
        return self._base_model

    def kind(self, path: str) -> str:
        """The kind of input a varied path names: amount, share, integer, duration, date, text
        or mapping (``Input.kind``); a results file's column of it has the type of its kind."""
        if path not in self._kinds:
            try:
                self._kinds[path] = varied_input(self.ranges.base.data, path).kind
            except ScenarioError:
                self._kinds[path] = "text"
        return self._kinds[path]

    def derive(self, overrides: Overrides = None, **kw: object) -> Scenario:
        """The scenario ``load_scenario(path, overrides)`` gives, without reading the file."""
        return checked(
            lambda: to_scenario(at_first_point(apply_overrides(self.doc, overrides, **kw)))
        )


@dataclass(frozen=True)
class Point:
    """A run not made yet: a template and the values set on it (a grid point or a draw).
    ``scenario()`` makes it as ``grid`` and ``draw`` would; farmed out, it is made on the
    worker, so that a task carries a template once and a few values a run, not scenarios."""

    template: Template
    values: tuple[tuple[str, Any, str], ...]  # (path, value, label) as --set takes them

    def scenario(self) -> Scenario:
        return scenario_at(self.template, list(self.values))[1]


def load_template(
    path: str | os.PathLike[str], overrides: Overrides = (), *, rescale: bool = True
) -> Template:
    """Read and parse a scenario file once (with ``overrides`` as ``--set`` takes them)."""
    filename = os.fspath(path)
    return checked(
        lambda: Template(
            apply_overrides(read_yaml(read_scenario_text(filename), filename), overrides), rescale
        )
    )


def checked(make: Callable[[], Any]) -> Any:
    try:
        return make()
    except ScenarioError as e:
        on_one_line(e)
        raise


def scenario_at(template: Template, inputs: list[tuple[str, Any, str]]) -> tuple[Inputs, Scenario]:
    """The scenario at one point of a grid or one draw: the template's base with ``inputs``
    set, as ``--set`` would make it (``to_scenario`` of the document with them set).

    Only the values set are validated again, by their own validators (``schema.with_values``),
    or where that cannot be done, the agents and deals they are in (``schema.revalidated``);
    the rest of the model is the base's, validated once. Where an input reaches anything else,
    or a value fails, the whole document is validated, so that errors read as they always do.
    """
    doc = template.ranges.base
    items = checked(lambda: point_items(doc, inputs, template.rescale))
    point = checked(lambda: set_values(doc, items))
    model = None
    base = template.base_model
    if base is not None:
        paths = [_yaml_path(point.data, name) for name, _, _ in items]
        if None not in paths:
            model = with_values(base, point, paths)  # type: ignore[arg-type]
        if model is None:
            parts = {_part(name) for name, _, _ in items}
            if None not in parts:
                model = revalidated(base, point, parts)  # type: ignore[arg-type]
    if model is None:
        scenario = checked(lambda: to_scenario(point))
    else:
        scenario = checked(lambda: to_scenario_from(model, point))
    return {path: value for path, value, _ in inputs}, scenario


def _yaml_path(data: Any, name: str) -> YamlPath | None:
    """The path of a dotted name in ``data`` (list indices as ints), None where it has none."""
    path: list[str | int] = []
    node = data
    for part in name.split("."):
        if isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, list) and part.isascii() and part.isdigit() and int(part) < len(node):
            path.append(int(part))
            node = node[int(part)]
        else:
            return None
    return tuple(path)


def _part(name: str) -> tuple[str, str | int] | None:
    """The agent or deal a dotted input path is inside (``agents.aws.margin``: the agent
    ``aws``), or None for anything else (a top-level input, a whole agent or deal)."""
    parts = name.split(".")
    if len(parts) < 3 or parts[0] not in ("agents", "deals"):
        return None
    if parts[0] == "deals":
        return ("deals", int(parts[1])) if parts[1].isascii() and parts[1].isdigit() else None
    return ("agents", parts[1])


def first_point(template: Template) -> tuple[Inputs, Scenario]:
    """The scenario ``run`` and ``validate`` use: the sweep's first point, distributions at
    their medians; with the inputs set to get there."""
    r = template.ranges
    values = [(s.path, s.values[0], s.label) for s in r.sweeps]
    if template._first is None:  # made once: a farm's every chunk reads its columns
        template._first = scenario_at(template, values)[1]
    inputs = {path: value for path, value, _ in values}
    inputs.update({d.path: d.median() for d in r.distributions})
    return inputs, template._first


def describe(template: Template) -> str:
    """One line for ``run`` and ``validate`` to print about a file's ranges ("" if none)."""
    r = template.ranges
    parts = []
    if r.sweeps:
        points = math.prod(len(s.values) for s in r.sweeps)
        first = ", ".join(f"{s.path}={shown_value(s.values[0])}" for s in r.sweeps)
        parts.append(
            f"sweep of {points:,} point{'s' * (points != 1)} over "
            f"{', '.join(s.path for s in r.sweeps)}: read at its first point ({first})"
        )
    if r.distributions:
        medians = ", ".join(f"{d.path}={shown_value(d.median())}" for d in r.distributions)
        parts.append(
            f"{len(r.distributions)} input{'s' * (len(r.distributions) != 1)} drawn "
            f"from distributions: read at their medians ({medians})"
        )
    return "; ".join(parts)
