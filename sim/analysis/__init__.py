"""Analysis: what a run's books mean. The caused rule, the metrics, the accounting matrices,
money cycles, the Result a user reads, comparisons and sensitivity indices.

May import: sim.errors, sim.inputs, sim.ranges, sim.model.
"""
