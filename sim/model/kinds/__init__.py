"""Where each behaviour lives: one module per agent kind, each owning its tables (built once from
the Plan by its class) and its SimPy processes (started by ``start``).

* sim/model/kinds/investor.py: investors and their deals' tranches;
* sim/model/kinds/lab.py: labs' revenue (and revenue shares), financing, spending and invoices;
* sim/model/kinds/seller.py: clouds and vendors: margin, profit to the owner, costs routed hop by
hop;
* sim/model/kinds/credits.py: credits a lab holds at a seller, granted by a deal, drawn before cash.

The engine (sim/model/engine.py) holds the clock, the books and the accounts, and builds the kinds,
sellers first: labs settle their payments with the sellers' tables.
"""

from __future__ import annotations

from sim.model.kinds.investor import Investors
from sim.model.kinds.lab import Labs
from sim.model.kinds.seller import Sellers

__all__ = ["Investors", "Labs", "Sellers"]
