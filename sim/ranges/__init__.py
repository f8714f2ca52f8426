"""Ranges: a scenario file with sweeps and distributions, read once as a template, becomes
many scenarios (a grid of sweep points, draws from distributions, --set and --vary overrides).

May import: sim.errors, sim.inputs.
"""
