"""Sellers: clouds and vendors, and where they pass money on, hop after hop.

A seller (a cloud, or a vendor such as a chip maker) that is paid ``P`` cents keeps
``round(margin * P)`` as profit (swept at once to its owner, if an investor owns it) and pays the
rest out as costs: each route of its ``costs`` table sends a share of them to another seller,
at once or ``lag`` after the sale; what no route takes leaves the model (to ``cloud_costs`` for a
cloud, ``vendor_costs`` for a vendor). A seller reached along a route does the same with what it
receives, so a lab's dollar can go lab -> cloud -> vendor -> the vendor's owner.

Provenance rides every hop: a seller passes on exactly the cents by origin it received (the
profit and each route get their parts of the payment's origin mix, to the cent, by cumulative
rounding), whether it pays at once or holds the money until a lagged route falls due. Sellers
spend nothing else, so what they hold for a later route is always there, origin by origin.

The first hop of a payment to sellers (a lab's) is settled with the payer's own split
(``Sellers.settlement`` makes its pattern, ``Sellers.settle`` posts it): the profit and the
unrouted cost of every seller paid move in one posting, the fast path of a file whose sellers
route nothing; ``pass_costs`` takes over from the costs of a seller that routes some.

A contract may state its own margin (``ContractMargins``): what the lab pays under its
take-or-pay minimum is then profit at that margin, and the rest of the payment (compute above
the minimums, and the minimums of contracts that state none) at the seller's own; each part is
rounded to the cent on its own and the profits added. The payer computes that profit when it
invoices and passes it with the payment (``with_profit``), paid now or later; the seller's costs
are the payment less it, wherever they go next.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from functools import partial
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import simpy

from sim.inputs.models import CloudModel, VendorModel
from sim.inputs.units import Duration
from sim.model.books import Cents, Legs, repair
from sim.model.clock import DUE, At
from sim.model.kernels import Floats, allocate, legs_cents, profit_and_cost, split_pro_rata
from sim.model.kinds.kind import Context, Deal
from sim.model.schedule import CAPEX_FUNDING, ContractPlan, Plan

# The patterns of legs a seller posts on a sale under a deal (``Sellers._legs``), by name:
PROFIT = 0  # its profit swept to its owner
COSTS = 1  # its costs paid at once: to its sink, then each route without a lag
COSTS_AHEAD = -1  # the same on an invoice paid ahead: a route with a lead repays capex_funding
ROUTE = 2  # ROUTE + j: route j paid after its lag, or ahead on borrowed money (loan, supply)


@dataclass
class Seller:
    """A seller's terms as the engine applies them: fixed for the whole run."""

    name: str
    index: int  # account
    margins: Floats  # [1, run]
    owner: int | None  # the owner's account, if an investor owns it
    sink: int  # the external account its unrouted costs go to
    to: list[int]  # each route's seller, as a position in ``plan.sellers``
    lags: list[Duration]  # each route's lag (zero: paid at once)
    leads: list[Duration]  # each route's lead (zero: none): paid ahead of invoices paid later
    weights: Floats  # [route.. + the rest of 100%, run]
    legs: dict[tuple[int, int], Legs] = field(default_factory=dict)  # (deal, pattern) -> legs

    @property
    def routes(self) -> bool:
        return bool(self.to)

    @functools.cached_property
    def led(self) -> bool:
        """Whether some route has a lead (read at every invoice paid later)."""
        return any(not lead.is_zero for lead in self.leads)


@dataclass(frozen=True)
class Settlement:
    """The fixed pattern of a payer paying some sellers at once (and ``n_other`` payees
    outside them), each seller keeping its margin (swept to its owner, if owned) and paying its
    costs. Its legs come in the order ``legs_cents`` gives their cents: payer -> each seller,
    payer -> each other payee, each seller -> its cost sink (but a seller that routes costs:
    ``Sellers`` passes them on), each owned seller -> its owner."""

    payer: int  # account
    margins: npt.NDArray[np.float64]  # [seller, run]
    owned: npt.NDArray[np.intp]  # positions of the sellers an investor owns
    legs: Legs
    # sellers whose costs ``Sellers`` passes on: (position here, position in plan.sellers, deal)
    routed: list[tuple[int, int, int]]
    # the rows of legs_cents posted with ``legs`` (all but the routed sellers' cost rows);
    # None: all of them
    keep: npt.NDArray[np.intp] | None

    @property
    def n_sellers(self) -> int:
        return int(self.margins.shape[0])

    def profit_and_cost(self, paid: Cents) -> Cents:
        """How each seller divides a payment ``paid[seller, run]``: ``margin`` of it, rounded
        to the cent, is profit; the rest is cost. Returns ``[profit, cost]`` per seller,
        interleaved ``[seller * 2, run]``: the payer's cash is split for them as for two payees,
        so that profit and cost each carry the payment's origin mix and add up to it."""
        return profit_and_cost(paid, self.margins)


@dataclass(frozen=True)
class ContractMargins:
    """A payer's contracts that state their own margin, and how they change the profit of its
    payments to its sellers (``profit``). None of them (``of`` returns None): every payment is
    profit at its seller's margin, the fast path."""

    contracts: npt.NDArray[np.intp]  # positions among the payer's contracts
    rows: npt.NDArray[np.intp]  # their seller's row among the payer's sellers
    margins: Floats  # [contract, run]
    seller_margins: Floats  # [payer's seller, run]

    @classmethod
    def of(
        cls, plan: Plan, contracts: list[ContractPlan], sellers: list[str]
    ) -> ContractMargins | None:
        """The contracts (a payer's, in order) that state a margin; ``sellers``: the payer's
        sellers, in the order of its invoices."""
        own = [j for j, c in enumerate(contracts) if c.margin is not None]
        stated = [c.margin for c in contracts if c.margin is not None]
        if not stated:
            return None
        pos = [plan.sellers.index(c) for c in sellers]
        return cls(
            contracts=np.array(own, dtype=np.intp),
            rows=np.array([sellers.index(contracts[j].cloud) for j in own], dtype=np.intp),
            margins=np.stack(stated),
            seller_margins=plan.margins[pos],
        )

    def profit(self, paid: Cents, under: Cents) -> Cents:
        """The profit ``[seller, run]`` of payments ``paid[seller, run]`` of which ``under
        [contract, run]`` (every contract of the payer) is paid under each contract's minimum:
        ``round(m_k * under_k)`` for each contract ``k`` stating a margin ``m_k``, plus
        ``round(m * rest)`` for the rest of the payment at the seller's margin ``m``."""
        return parts_profit(
            paid, self.seller_margins, under[self.contracts], self.rows, self.margins
        )


def parts_profit(
    paid: Cents, margins: Floats, parts: Cents, rows: npt.NDArray[np.intp], part_margins: Floats
) -> Cents:
    """The profit ``[seller, run]`` of ``paid[seller, run]``, of which ``parts[part, run]`` (each
    at seller row ``rows[part]``) are at their own margins ``part_margins[part, run]`` and the
    rest at ``margins[seller, run]``: each part rounded to the cent on its own, half up."""
    rest = paid.copy()
    np.subtract.at(rest, rows, parts)
    profit = profit_and_cost(rest, margins)[0::2]
    np.add.at(profit, rows, profit_and_cost(parts, part_margins)[0::2])
    return profit


def with_profit(paid: Cents, profit: Cents) -> Cents:
    """``[profit, cost]`` per seller, interleaved ``[seller * 2, run]`` as ``profit_and_cost``
    gives them, of payments ``paid[seller, run]`` whose profit is known."""
    out = np.empty((2 * paid.shape[0], paid.shape[1]), dtype=np.int64)
    out[0::2] = profit
    out[1::2] = paid - profit
    return out


class Sellers:
    """Every seller of a batch, and the one way money moves on from a seller. Sellers have no
    process of their own: they react to payments."""

    name: ClassVar[str] = "sellers"
    models: ClassVar[tuple[type, ...]] = (CloudModel, VendorModel)
    plan_parts: ClassVar[tuple[str, ...]] = (
        "sellers",
        "margins",
        "seller_opening",
        "owner",
        "seller_kind",
        "routes",
    )

    @staticmethod
    def deals(plan: Plan) -> list[Deal]:
        """None: a seller moves money under the deal of the payment it passes on."""
        return []

    def __init__(self, ctx: Context) -> None:
        # the books, clock, plan and accounts it moves money with; not the Context
        self.books, self.env, self.plan, self.index = ctx.books, ctx.env, ctx.plan, ctx.index
        plan = ctx.plan
        # where a seller with a lead borrows from, and the origin of what it borrows
        self.funding = ctx.index.get(CAPEX_FUNDING, -1)
        self.capex_origin = {c: ctx.origin[f"{c}:capex"] for c in plan.lead_sellers}
        self.pos = {c: i for i, c in enumerate(plan.sellers)}
        self.table: list[Seller] = []
        for c, name in enumerate(plan.sellers):
            routes = plan.routes.get(name, [])
            shares = (
                np.stack([r.share for r in routes])
                if routes
                else np.zeros((0, plan.n_runs), dtype=np.float64)
            )
            rest = np.clip(1.0 - shares.sum(axis=0), 0.0, 1.0)
            owner = plan.owner[name]
            self.table.append(
                Seller(
                    name=name,
                    index=ctx.index[name],
                    margins=plan.margins[c : c + 1],
                    owner=None if owner is None else ctx.index[owner],
                    sink=ctx.index[plan.sink(name)],
                    to=[self.pos[r.to] for r in routes],
                    lags=[r.lag for r in routes],
                    leads=[r.lead for r in routes],
                    weights=np.concatenate([shares, rest[None]]),
                )
            )

    def start(self, env: simpy.Environment) -> None:
        """No process: sellers react to payments (``settle``, ``receive``)."""

    def results(self) -> dict[str, Any]:
        return {}

    def position(self, name: str) -> int:
        """Seller ``name``'s position in ``plan.sellers``."""
        return self.pos[name]

    def routes(self, name: str) -> bool:
        """Whether ``name`` sends some of its costs on to other sellers."""
        return self.table[self.pos[name]].routes

    def has_leads(self, pos: int) -> bool:
        """Whether seller ``pos`` pays some route ahead of invoices paid later."""
        return self.table[pos].led

    def leads(self, pos: int) -> list[Duration]:
        """Each route's lead of seller ``pos`` (zero: none)."""
        return self.table[pos].leads

    def _legs(self, s: Seller, deal: int, which: int) -> Legs:
        """The pattern ``which`` (``PROFIT``, ``COSTS``, ``COSTS_AHEAD``, ``ROUTE + j``) of
        seller ``s`` under ``deal``, made once."""
        key = (deal, which)
        legs = s.legs.get(key)
        if legs is None:
            if which == PROFIT:
                legs = Legs.of([(s.index, s.owner or 0, "profit", deal)])
            elif which in (COSTS, COSTS_AHEAD):
                now = [(s.index, s.sink, "cloud_cost", deal)]
                for t, lag, lead in zip(s.to, s.lags, s.leads, strict=True):
                    if not lag.is_zero:
                        continue
                    if which == COSTS_AHEAD and not lead.is_zero:
                        now.append((s.index, self.funding, "capex_repaid", deal))
                    else:
                        now.append((s.index, self.table[t].index, "supply", deal))
                legs = Legs.of(now)
            elif not s.leads[which - ROUTE].is_zero:
                to = self.table[s.to[which - ROUTE]].index
                legs = Legs.of(
                    [(self.funding, s.index, "capex_loan", deal), (s.index, to, "supply", deal)]
                )
            else:
                to = self.table[s.to[which - ROUTE]].index
                legs = Legs.of([(s.index, to, "supply", deal)])
            s.legs[key] = legs
        return legs

    def prepay(
        self,
        t: int,
        pos: int,
        paid: Cents,
        deal: int,
        j: int,
        runs: npt.NDArray[np.bool_],
        profit: Cents | None = None,
    ) -> None:
        """Seller ``pos`` will be paid ``paid[run]`` later for an invoice issued under ``deal``:
        on day ``t`` it pays route ``j`` (one with a lead) its part of that payment's costs, as
        ``pass_costs`` will compute it, with money borrowed from ``capex_funding`` (origin
        ``<seller>:capex``), in the runs ``runs``; the route's seller takes it as any payment.
        ``profit[run]``: the payment's profit, if some contract's margin sets it (else the
        seller's margin of it)."""
        s = self.table[pos]
        # [run]: the payment less its profit (the payer's, else the seller's margin of it)
        cost = profit_and_cost(paid[None], s.margins)[1] if profit is None else paid - profit
        part = np.where(runs, allocate(cost, s.weights)[j], 0)  # pass_costs' split, route j
        if not part.any():
            return
        cents = np.zeros((2, len(self.plan.origins), paid.shape[0]), dtype=np.int64)
        cents[:, self.capex_origin[s.name]] = part  # borrowed, then passed on: the same cents
        self.books.post(t, self._legs(s, deal, ROUTE + j), cents)
        self.receive(t, s.to[j], cents[1], deal)

    def receive(self, t: int, pos: int, cents: Cents, deal: int) -> None:
        """Seller ``pos`` was paid ``cents[origin, run]`` under ``deal`` on day ``t`` by another
        seller: it keeps its margin (to its owner, if owned) and passes its costs on."""
        if not cents.any():
            return
        s = self.table[pos]
        paid = cents.sum(axis=0)[None]
        parts = _split(cents, profit_and_cost(paid, s.margins))  # [profit, cost]
        if s.owner is not None and parts[0].any():
            self.books.post(t, self._legs(s, deal, PROFIT), parts[:1])
        self.pass_costs(t, pos, parts[1], deal)

    def pass_costs(self, t: int, pos: int, cost: Cents, deal: int, ahead: bool = False) -> None:
        """Seller ``pos`` pays its costs ``cost[origin, run]`` on a sale under ``deal`` made on
        day ``t``: each route its share (``allocate``: exact, cumulative rounding), the rest to
        its sink; a route without a lag at once, one with a lag on the day it falls due (if that
        is within the horizon; later, the money stays with the seller). ``ahead``: the payment
        is for an invoice whose routes with a lead were paid ahead (``prepay``), so their parts
        repay ``capex_funding`` instead."""
        if not cost.any():
            return
        s = self.table[pos]
        amounts = allocate(cost.sum(axis=0), s.weights)  # [route.. + rest, run]
        split = _split(cost, amounts)
        now = [len(s.to)] + [j for j, lag in enumerate(s.lags) if lag.is_zero]
        self.books.post(t, self._legs(s, deal, COSTS_AHEAD if ahead else COSTS), split[now])
        for j, lag in enumerate(s.lags):
            if lag.is_zero:
                if not (ahead and not s.leads[j].is_zero):
                    self.receive(t, s.to[j], split[j], deal)
            elif split[j].any():
                self._later(t, s, j, split[j], deal)

    def _later(self, t: int, s: Seller, j: int, cents: Cents, deal: int) -> None:
        plan = self.plan
        due = (s.lags[j].after(plan.date(t)) - plan.start).days
        if due > int(plan.days[-1]):
            return  # falls due after the horizon: the seller still holds it
        ev = At(self.env, due, DUE)
        ev.callbacks.append(partial(self._pay_later, s, j, cents, deal, due))

    def _pay_later(
        self, s: Seller, j: int, cents: Cents, deal: int, day: int, _ev: simpy.events.Event
    ) -> None:
        self.books.post(day, self._legs(s, deal, ROUTE + j), cents[None])
        self.receive(day, s.to[j], cents, deal)

    # ---- the first hop: a payment to some sellers, settled with the payer's own split -------

    def settlement(
        self,
        payer: int,
        sellers: list[str],
        deals: list[int],
        others: list[tuple[int, str, int]] | None = None,
    ) -> Settlement:
        """The pattern of ``payer`` paying ``sellers`` at once under ``deals`` (kind compute),
        and the ``others`` (payee, kind, deal) in the same payment: every leg of the posting,
        in the order ``legs_cents`` gives their cents (see ``Settlement``)."""
        plan, index = self.plan, self.index
        others = others or []
        pos = [self.pos[c] for c in sellers]
        owned = [i for i, c in enumerate(sellers) if plan.owner[c] is not None]
        routes = [self.routes(c) for c in sellers]
        paid = [(payer, index[c], "compute", d) for c, d in zip(sellers, deals, strict=True)]
        other = [(payer, payee, kind, d) for payee, kind, d in others]
        cost = [
            (index[c], index[plan.sink(c)], "cloud_cost", d)
            for c, d, r in zip(sellers, deals, routes, strict=True)
            if not r
        ]
        profit = [
            (index[sellers[i]], index[plan.owner[sellers[i]] or ""], "profit", deals[i])
            for i in owned
        ]
        routed = [(i, pos[i], deals[i]) for i, r in enumerate(routes) if r]
        n, n_other = len(sellers), len(others)
        rows = [
            k
            for k in range(2 * n + n_other + len(owned))
            if not (n + n_other <= k < 2 * n + n_other and routes[k - n - n_other])
        ]
        return Settlement(
            payer=payer,
            margins=plan.margins[pos],
            owned=np.array(owned, dtype=np.intp),
            legs=Legs.of(paid + other + cost + profit),
            routed=routed,
            keep=np.array(rows, dtype=np.intp) if routed else None,
        )

    def settle(self, t: int, shape: Settlement, parts: Cents, ahead: bool = False) -> None:
        """Post a payment as ``parts`` (the payer's cash split as profit and cost per seller,
        then its other payees): payer -> seller (profit + cost), the other payees, seller ->
        cost sink and seller -> owner; the costs of a seller that routes some go on through
        ``pass_costs``."""
        cents = legs_cents(parts, shape.n_sellers, shape.owned)
        if shape.keep is None:
            self.books.post(t, shape.legs, cents)
            return
        self.books.post(t, shape.legs, cents[shape.keep])
        for i, pos, deal in shape.routed:  # seller i's cost: parts are [profit, cost] per seller
            self.pass_costs(t, pos, parts[2 * i + 1], deal, ahead)


def _split(pool: Cents, amounts: Cents) -> Cents:
    """``pool[origin, run]`` cut into ``amounts[part, run]`` (which add up to it), each part
    with the pool's origin mix: ``[part, origin, run]``, exact to the cent."""
    parts, overdrawn = split_pro_rata(pool, amounts)
    if overdrawn:
        repair(parts, pool, amounts)
    return parts
