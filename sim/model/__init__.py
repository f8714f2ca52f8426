"""The model: the clock and its phases, the books in integer cents with provenance, the
recorders, the kernels, the plan (a batch's arrays), the twins, the engine and the agent kinds.

May import: sim.errors, sim.inputs, sim.ranges.
"""
