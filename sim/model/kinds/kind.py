"""What an agent kind is: the protocol every kind module implements, and what it is built from.

A kind (sellers, labs, investors, or a new one) is a class that

* names the Plan parts it reads (``plan_parts``) and the scenario models it is made from
  (``models``);
* names the deals its money moves under (``deals``, from the Plan, before the books open);
* is built from a ``Context`` (its fixed tables, once per batch), taking from it the kinds it
  calls (``Context.kind``), which are built before it;
* starts its SimPy processes (``start``), one per behaviour;
* hands the engine what it adds to ``RunData`` (``results``: field name -> value), if anything.

Kinds call each other only through named methods of the kind they took from the Context.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar

import simpy

from sim.model.books import Books
from sim.model.schedule import Plan

# a deal: its name, and the lab it concerns (None: no lab)
Deal = tuple[str, str | None]


class Kind(Protocol):
    """An agent kind of the engine's registry (sim/model/kinds/__init__.py)."""

    name: ClassVar[str]  # as the registry and ``Context.kind`` know it
    models: ClassVar[tuple[type, ...]]  # the scenario models (sim/inputs/schema.py) it is made of
    plan_parts: ClassVar[tuple[str, ...]]  # the fields of the Plan that hold its columns

    @staticmethod
    def deals(plan: Plan) -> list[Deal]:
        """The deals it books money under, in order (numbered before the books open)."""
        ...

    def __init__(self, ctx: Context) -> None: ...

    def start(self, env: simpy.Environment) -> None:
        """Launch its processes."""
        ...

    def results(self) -> dict[str, Any]:
        """What it adds to ``RunData``, by field name, once the run is done (none: ``{}``)."""
        ...


K = TypeVar("K", bound=Kind)


@dataclass
class Context:
    """What every kind is built from: the batch's Plan, clock and books, the positions of its
    accounts, origins and deals, and the kinds built so far. A kind keeps what it needs of it,
    not the Context, so that nothing of a batch outlives it through a cycle."""

    plan: Plan
    env: simpy.Environment
    books: Books
    index: dict[str, int]  # account -> position
    origin: dict[str, int]  # origin -> position (an investor's name for ``<investor>:investment``)
    deal_index: dict[str, int]  # deal -> position (the last of that name)
    own_deals: dict[str, list[int]] = field(default_factory=dict)  # kind -> its deals' positions
    built: dict[str, Kind] = field(default_factory=dict)  # kind -> the kind, once built

    def kind(self, cls: type[K]) -> K:
        """The kind ``cls`` of this batch; it must be registered before the kind asking."""
        found = self.built.get(cls.name)
        if not isinstance(found, cls):
            raise LookupError(
                f"kind {cls.name!r} is not built yet: register it before the kinds that call it"
            )
        return found

    def deals_of(self, cls: type[Kind]) -> list[int]:
        """The positions of the deals ``cls.deals`` named, in its order."""
        return self.own_deals[cls.name]
