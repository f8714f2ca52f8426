"""Where each behaviour lives: one module per agent kind, each owning its tables (built once from
the Plan by its class) and its SimPy processes (started by ``start``).

* sim/kinds/investor.py: investors and their deals' tranches;
* sim/kinds/lab.py: labs' revenue (and revenue shares), financing, spending and invoices;
* sim/kinds/seller.py: clouds and vendors: margin, profit to the owner, costs routed hop by hop;
* sim/kinds/credits.py: credits a lab holds at a seller, granted by a deal, drawn before cash.

The engine (sim/engine.py) holds the clock, the books and the accounts, and builds the kinds,
sellers first: labs settle their payments with the sellers' tables.
"""

from __future__ import annotations

from sim.kinds.investor import Investors
from sim.kinds.lab import Labs
from sim.kinds.seller import Sellers

__all__ = ["Investors", "Labs", "Sellers"]
