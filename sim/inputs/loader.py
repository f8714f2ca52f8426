"""The whole scenario pipeline, from a file or text to a ``Scenario``: read the YAML with
positions (sim/inputs/document.py), apply overrides, read a file with ranges at its sweep's first
point and its distributions' medians (sim/inputs/points.py), validate, check and resolve
(sim/inputs/scenario.py). The names of step 1 are imported here too, where the rest of the code
has always found them.
"""

from __future__ import annotations

import os

from sim.errors import ScenarioError
from sim.inputs.document import EMPTY_FILE as EMPTY_FILE
from sim.inputs.document import MAX_BYTES as MAX_BYTES
from sim.inputs.document import MAX_VALUES as MAX_VALUES
from sim.inputs.document import OWN_SCALE as OWN_SCALE
from sim.inputs.document import Overrides as Overrides
from sim.inputs.document import Position as Position
from sim.inputs.document import StrictLoader as StrictLoader
from sim.inputs.document import YamlDoc as YamlDoc
from sim.inputs.document import YamlPath as YamlPath
from sim.inputs.document import apply_overrides as apply_overrides
from sim.inputs.document import dotted as dotted
from sim.inputs.document import on_one_line as on_one_line
from sim.inputs.document import one_line as one_line
from sim.inputs.document import read_bounded as read_bounded
from sim.inputs.document import read_doc as read_doc
from sim.inputs.document import read_scenario_text as read_scenario_text
from sim.inputs.document import read_value as read_value
from sim.inputs.document import read_yaml as read_yaml
from sim.inputs.document import set_values as set_values
from sim.inputs.points import at_first_point
from sim.inputs.scenario import Scenario, to_scenario


def parse_scenario(
    text: str, filename: str = "<string>", overrides: Overrides = None, **kw: object
) -> Scenario:
    """YAML text -> validated Scenario (for tests and notebooks); a file with ranges (a
    ``sweep:``, distributions) is read at its sweep's first point and its distributions' medians."""
    try:
        doc = apply_overrides(read_yaml(text, filename), overrides, **kw)
        return to_scenario(at_first_point(doc), filename)
    except ScenarioError as e:
        on_one_line(e)
        raise


def parse_resolved(text: str, filename: str) -> Scenario:
    """A scenario roundtrip resolved and wrote itself (a run folder's scenario.resolved.yaml, a
    results file's metadata), read as strictly as a user's file, with the limits OWN_SCALE
    times as large: every default is written out there."""
    try:
        return to_scenario(read_yaml(text, filename, scale=OWN_SCALE), filename)
    except ScenarioError as e:
        on_one_line(e)
        raise


def load_scenario(
    path: str | os.PathLike[str], overrides: Overrides = None, **kw: object
) -> Scenario:
    """Read a scenario file, apply overrides (``--set`` strings, a mapping, or ``a__b=value``);
    a file with ranges is read at its sweep's first point and its distributions' medians."""
    filename = os.fspath(path)
    try:
        return parse_scenario(read_scenario_text(filename), filename, overrides, **kw)
    except ScenarioError as e:
        on_one_line(e)
        raise
