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

The first hop of a lab's payment is settled with the lab's own split (``Settle``, made here,
applied by sim/model/kinds/lab.py): there the profit and the unrouted cost of every cloud move in
one
posting, the fast path of a file whose sellers route nothing; ``Sellers`` takes over from the
costs of a seller that routes some.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import simpy

from sim.inputs.units import Duration
from sim.model.books import Cents, Legs, repair
from sim.model.clock import DUE, At
from sim.model.kernels import Floats, allocate, legs_cents, profit_and_cost, split_pro_rata
from sim.model.schedule import CAPEX_FUNDING

if TYPE_CHECKING:
    from sim.model.engine import Engine


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
    legs: dict[tuple[int, int], Legs] = field(default_factory=dict)  # (deal, which) -> pattern

    @property
    def routes(self) -> bool:
        return bool(self.to)

    @functools.cached_property
    def led(self) -> bool:
        """Whether some route has a lead (read at every invoice paid later)."""
        return any(not lead.is_zero for lead in self.leads)


class Sellers:
    """Every seller of a batch, and the one way money moves on from a seller."""

    def start(self, eng: Engine) -> None:
        """Sellers have no process of their own: they react to payments (``receive``)."""

    def __init__(self, eng: Engine) -> None:
        # the books, clock and plan it moves money with; not the engine (which holds this), so
        # that an engine is freed the moment its batch is done, with no cycle for the GC
        self.books, self.env, self.plan = eng.books, eng.env, eng.plan
        plan = eng.plan
        # where a seller with a lead borrows from, and the origin of what it borrows
        self.funding = eng.index.get(CAPEX_FUNDING, -1)
        self.capex_origin = {c: eng.origin[f"{c}:capex"] for c in plan.lead_sellers}
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
                    index=eng.index[name],
                    margins=plan.margins[c : c + 1],
                    owner=None if owner is None else eng.index[owner],
                    sink=eng.index[plan.sink(name)],
                    to=[self.pos[r.to] for r in routes],
                    lags=[r.lag for r in routes],
                    leads=[r.lead for r in routes],
                    weights=np.concatenate([shares, rest[None]]),
                )
            )

    def routes(self, name: str) -> bool:
        """Whether ``name`` sends some of its costs on to other sellers."""
        return self.table[self.pos[name]].routes

    def _legs(self, s: Seller, deal: int, which: int) -> Legs:
        """The pattern of legs ``which`` of seller ``s`` under ``deal``, made once: 0 the
        profit sweep; 1 the costs paid at once (the sink, then each route without a lag); -1
        the same on an invoice paid ahead, where a route with a lead repays ``capex_funding``
        instead; ``2 + j`` route ``j`` paid after its lag, or ahead with borrowed money (a
        lead: the loan, then the supply)."""
        key = (deal, which)
        legs = s.legs.get(key)
        if legs is None:
            if which == 0:
                legs = Legs.of([(s.index, s.owner or 0, "profit", deal)])
            elif which in (1, -1):
                now = [(s.index, s.sink, "cloud_cost", deal)]
                for t, lag, lead in zip(s.to, s.lags, s.leads, strict=True):
                    if not lag.is_zero:
                        continue
                    if which == -1 and not lead.is_zero:
                        now.append((s.index, self.funding, "capex_repaid", deal))
                    else:
                        now.append((s.index, self.table[t].index, "supply", deal))
                legs = Legs.of(now)
            elif not s.leads[which - 2].is_zero:
                to = self.table[s.to[which - 2]].index
                legs = Legs.of(
                    [(self.funding, s.index, "capex_loan", deal), (s.index, to, "supply", deal)]
                )
            else:
                legs = Legs.of([(s.index, self.table[s.to[which - 2]].index, "supply", deal)])
            s.legs[key] = legs
        return legs

    def has_leads(self, pos: int) -> bool:
        """Whether seller ``pos`` pays some route ahead of invoices paid later."""
        return self.table[pos].led

    def prepay(
        self, t: int, pos: int, paid: Cents, deal: int, j: int, runs: npt.NDArray[np.bool_]
    ) -> None:
        """Seller ``pos`` will be paid ``paid[run]`` later for an invoice issued under ``deal``:
        on day ``t`` it pays route ``j`` (one with a lead) its part of that payment's costs, as
        ``pass_costs`` will compute it, with money borrowed from ``capex_funding`` (origin
        ``<seller>:capex``), in the runs ``runs``; the route's seller takes it as any payment."""
        s = self.table[pos]
        cost = profit_and_cost(paid[None], s.margins)[1]  # [run]
        part = np.where(runs, allocate(cost, s.weights)[j], 0)  # pass_costs' split, route j
        if not part.any():
            return
        cents = np.zeros((2, len(self.plan.origins), paid.shape[0]), dtype=np.int64)
        cents[:, self.capex_origin[s.name]] = part  # borrowed, then passed on: the same cents
        self.books.post(t, self._legs(s, deal, 2 + j), cents)
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
            self.books.post(t, self._legs(s, deal, 0), parts[:1])
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
        self.books.post(t, self._legs(s, deal, -1 if ahead else 1), split[now])
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
        self.books.post(day, self._legs(s, deal, 2 + j), cents[None])
        self.receive(day, s.to[j], cents, deal)


def _split(pool: Cents, amounts: Cents) -> Cents:
    """``pool[origin, run]`` cut into ``amounts[part, run]`` (which add up to it), each part
    with the pool's origin mix: ``[part, origin, run]``, exact to the cent."""
    parts, overdrawn = split_pro_rata(pool, amounts)
    if overdrawn:
        repair(parts, pool, amounts)
    return parts


# ---- the first hop: a lab's payment to some clouds, settled with the lab's own split ----------


@dataclass
class Settle:
    """The fixed shape of some clouds settling a payment (see ``cloud_settles``)."""

    margins: npt.NDArray[np.float64]  # [cloud, run]
    owned: npt.NDArray[np.intp]  # positions of the clouds an investor owns
    # a cost leg per cloud that routes none of its costs, then a profit leg per owned
    legs: list[tuple[int, int, str, int]]
    # clouds whose costs ``Sellers`` passes on: (position here, position in plan.sellers, deal)
    routed: list[tuple[int, int, int]]
    # the rows of legs_cents posted with ``legs`` (all but the routed clouds' cost rows);
    # None: all of them
    keep: npt.NDArray[np.intp] | None


def settle(eng: Engine, clouds: list[str], deals: list[int], n_other: int = 0) -> Settle:
    """Who pays whom when ``clouds`` settle payments made under ``deals`` (with ``n_other``
    other payees in the same payment): the costs of a cloud that routes some are passed on by
    ``Sellers``, not here."""
    plan = eng.plan
    pos = [eng.seller_pos[c] for c in clouds]
    owned = [i for i, c in enumerate(clouds) if plan.owner[c] is not None]
    routes = [eng.sellers.routes(c) for c in clouds]
    cost = [
        (eng.index[c], eng.index[plan.sink(c)], "cloud_cost", d)
        for c, d, r in zip(clouds, deals, routes, strict=True)
        if not r
    ]
    routed = [(i, pos[i], deals[i]) for i, r in enumerate(routes) if r]
    n = len(clouds)
    rows = [
        k
        for k in range(2 * n + n_other + len(owned))
        if not (n + n_other <= k < 2 * n + n_other and routes[k - n - n_other])
    ]
    keep = np.array(rows, dtype=np.intp) if routed else None
    profit = [
        (eng.index[clouds[i]], eng.index[plan.owner[clouds[i]] or ""], "profit", deals[i])
        for i in owned
    ]
    return Settle(plan.margins[pos], np.array(owned, dtype=np.intp), cost + profit, routed, keep)


def cloud_settles(shape: Settle, paid: Cents) -> Cents:
    """How each cloud divides a payment ``paid[cloud, run]``: ``margin`` of it, rounded to the
    cent, is profit (swept at once to its owner, if an investor owns the cloud); the rest is
    cost, paid at once to ``cloud_costs``. Returns ``[profit, cost]`` per cloud, interleaved
    ``[cloud * 2, run]``: the payer's cash is split for them as for two payees, so that profit
    and cost each carry the payment's origin mix and add up to it to the cent."""
    return profit_and_cost(paid, shape.margins)


def post_settled(
    eng: Engine, t: int, legs: Legs, shape: Settle, parts: Cents, n_clouds: int, ahead: bool = False
) -> None:
    """Post a lab's payment as ``parts`` (its cash split as profit and cost per cloud, then
    its other payees): lab -> cloud (profit + cost), the lab's other payees, cloud -> cost sink
    and cloud -> owner; the costs of a cloud that routes some go on through ``Sellers``."""
    cents = legs_cents(parts, n_clouds, shape.owned)
    if shape.keep is None:
        eng.books.post(t, legs, cents)
        return
    eng.books.post(t, legs, cents[shape.keep])
    for i, pos, deal in shape.routed:
        eng.sellers.pass_costs(t, pos, parts[2 * i + 1], deal, ahead)
