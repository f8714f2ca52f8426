"""Runs: one run with its twins, a batch, the backends (in-process, processes, Dask) and the
farm that spreads many runs over them.

May import: every layer above it (errors, inputs, ranges, model, analysis, io).
"""
