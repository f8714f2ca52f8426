"""Ranges: a scenario file with sweeps and distributions, read once as a template
(template.py), becomes many scenarios (draws.py: a grid of sweep points, draws from
distributions). The specs themselves are read with the inputs (sim/inputs/specs.py), since any
command reads such a file at its first point; vary.py gathers the public names.

May import: sim.errors, sim.inputs.
"""
