"""`python -m sim` does what the `roundtrip` command does."""

from sim.cli import entry

entry()
