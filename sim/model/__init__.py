"""The model: the clock and its phases, the books in integer cents with provenance, the
recorders, the kernels, how amounts accrue (accrual), the plan (a batch's arrays, schedule), the
twins, the engine and the agent kinds (kinds/, a registry the engine loops over).

May import: sim.errors, sim.inputs, sim.ranges.
"""
