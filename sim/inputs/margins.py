"""How a scenario's margins read in a sentence: the seller, the margin, its basis (operating or
gross) and, for a contract that states its own, the contract (docs/model.md, "Margins per
contract")."""

from __future__ import annotations

from sim.inputs.checks import pct
from sim.inputs.scenario import Scenario


def margin_phrase(scenario: Scenario, seller: str, deal: str | None = None) -> str:
    """``"AWS's 35% operating margin"`` for a seller; with ``deal`` (the id of one of its
    contracts), the margin on what is paid under that contract's minimum: its own if it states
    one (``"AWS's 15% operating margin on contract aws-expansion"``), else the seller's. The
    basis is the seller's ``margin_basis``, which every margin at that seller shares."""
    s = scenario.sellers[seller]
    margin, on = s.margin, ""
    if deal is not None:
        found = [c for c in scenario.contracts if c.key == deal and c.cloud == seller]
        if not found:
            raise ValueError(f"{deal!r} is not a contract with {seller}")
        if found[0].margin is not None:
            margin, on = found[0].margin, f" on contract {deal}"
    return f"{scenario.label(seller)}'s {pct(margin)} {s.margin_basis} margin{on}"
