"""Inputs: a scenario file becomes a typed scenario, in three visible steps.

YAML with positions (document.py) -> validated models (schema.py validates the models of
models.py, whose value types in values.py declare each input's kind, unit and bounds) -> checked
as a whole (checks.py, deal_checks.py) and resolved: the typed scenario (scenario.py). loader.py
runs the three steps on a file or text; a file may state ranges in place of values (specs.py),
read at its first point (points.py). resolved.py writes a scenario back as YAML, jsonschema.py
the JSON Schema of a file, names.py the names a person reads, starter.py the commented scenario
``roundtrip init`` writes. units.py is the one grammar of amounts, shares, durations and dates.

May import: sim.errors and the standard library, numpy, yaml, pydantic.
"""
