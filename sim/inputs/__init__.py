"""Inputs: a scenario file becomes a typed scenario, in three visible steps.

YAML with positions (loader.py) -> validated models (schema.py, whose value types carry each
input's kind, unit and bounds) -> the typed scenario (scenario.py); resolved.py writes a scenario
back as YAML. units.py is the one grammar of amounts, shares, durations and dates.

May import: sim.errors and the standard library, numpy, yaml, pydantic.
"""
