"""Runs: one run with its twins, a batch, the backends (in-process, processes, Dask), the
farm that spreads many runs over them, and the studies (sim.runs.single: one scenario as every
command reads and runs it; sim.runs.studies: sweeps, Monte Carlo, sensitivity, comparison).

May import: the layers before it (errors, inputs, ranges, model, analysis, io).
"""
