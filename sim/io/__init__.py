"""Files: run folders (output.py), atomic writes that never replace what we did not write
(publish.py; schema_file.py for the JSON Schema, starter_file.py for ``roundtrip init``'s
starter scenario), bounded reading back of our own files (readback.py), and the signal rule
(sim.io.signals, standard library only, so the entry point installs it before anything heavy is
imported).

May import: sim.errors, sim.inputs, sim.ranges, sim.model, sim.analysis.
"""
