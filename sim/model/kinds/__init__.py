"""Where each behaviour lives: one module per agent kind, each owning its tables (built once
from the Plan by its class) and its SimPy processes (started by ``start``).

* sim/model/kinds/seller.py: sellers (clouds and vendors): margin, profit to the owner, costs
  routed hop by hop;
* sim/model/kinds/lab.py: labs' revenue (and revenue shares), financing, spending and invoices;
* sim/model/kinds/credits.py: credits a lab holds at a seller, granted by a deal, drawn before
  cash;
* sim/model/kinds/investor.py: investors and their deals' tranches;
* sim/model/kinds/loans.py: loans an investor makes to a lab or a seller, and their service.

``AGENT_KINDS`` is the registry the engine (sim/model/engine.py) loops over. Adding a kind:

1. Write a module here with a class implementing ``Kind`` (sim/model/kinds/kind.py): its
   ``name``, the scenario ``models`` and ``plan_parts`` it is made of, the ``deals`` it books
   under, an ``__init__(ctx)`` building its fixed tables, ``start`` launching its processes
   (each yields ``At(env, day, PHASE)``, sim/model/clock.py) and ``results`` (what it adds to
   ``RunData``, if anything).
2. Take the kinds it calls from the Context (``ctx.kind(Labs)``) and call their named methods.
3. Register it in ``AGENT_KINDS`` after the kinds it calls (or pass ``kinds=`` to ``simulate``).
"""

from __future__ import annotations

from sim.model.kinds.investor import Investors
from sim.model.kinds.kind import Context, Kind
from sim.model.kinds.lab import Labs
from sim.model.kinds.loans import Loans
from sim.model.kinds.seller import Sellers

# Built in this order, so that a kind can call those before it (labs settle their payments
# with the sellers); their deals are numbered, and their processes started, in the reverse
# order, so that at one instant and phase the investors' events come before the labs'.
AGENT_KINDS: tuple[type[Kind], ...] = (Sellers, Labs, Investors, Loans)

__all__ = ["AGENT_KINDS", "Context", "Investors", "Kind", "Labs", "Loans", "Sellers"]
