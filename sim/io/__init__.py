"""Files: run folders, atomic writes that never replace what we did not write, bounded reading
back of our own files, and the signal rule (sim.io.signals, standard library only, so the entry
point installs it before anything heavy is imported).

May import: sim.errors, sim.inputs, sim.ranges, sim.model, sim.analysis.
"""
