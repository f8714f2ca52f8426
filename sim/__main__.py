"""`python -m sim` does what the `roundtrip` command does."""

from sim.entry import entry

entry()
