"""The clock: days since the scenario's start, and the order of events at one instant.

SimPy orders events of the same time by priority; the phases below are those priorities, so that
at one instant tranches come first, then customer revenue, invoices (and lagged cost routes)
falling due, lab spending (with the sellers' reaction to each payment), and last the snapshot of
every pool (docs/model.md, section 6). Every behaviour schedules its events with ``At``.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy
from simpy.events import EventPriority

Process = Generator[simpy.events.Event, Any, None]

# Phases: at one instant, events run in this order (SimPy orders same-time events by priority).
TRANCHE, REVENUE, DUE, SPENDING, CLOSING = (EventPriority(p) for p in range(1, 6))


def now(env: simpy.Environment) -> int:
    """The current day (SimPy's clock holds whole days here)."""
    return int(env.now)


class At(simpy.events.Event):
    """A timeout to an absolute day with an explicit phase, so same-day order is a rule."""

    def __init__(self, env: simpy.Environment, day: int, phase: EventPriority) -> None:
        super().__init__(env)
        self._ok = True
        self._value = None
        env.schedule(self, phase, day - env.now)
