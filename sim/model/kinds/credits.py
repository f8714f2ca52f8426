"""Where credits are granted and used: an investment paid partly in compute on the investor's
own seller (docs/model.md, "Credits").

* **Grant.** A tranche of a deal with ``credits: {on: azure, share: s}`` pays ``round(s * amount)``
  in credits and the rest in cash. No cash leaves the investor for the credits: they come from
  the external ``credits_issued`` account into the lab's credit account ``<lab>@<seller>``, with
  the origin ``<investor>:credits``. They are not cash: the lab cannot spend them elsewhere,
  and tranche conditions on the lab's cash do not see them.
* **Use.** At each step's end, before it pays anything in cash, the lab's compute at that seller
  draws its credits: first the take-or-pay minimums of its contracts there, then its demand there
  by provider share. Compute paid in credits ``C`` is revenue in kind for the seller
  (``<lab>@<seller> -> seller``, kind compute); the seller's margin on it, ``round(margin * C)``,
  is profit in kind to its owner (the part of ``C`` under a contract that states its own margin
  at that margin, each part rounded on its own: ``ContractMargins``); both are then redeemed
  (back to ``credits_issued``, kind credit_use). The seller pays its costs on it, ``C`` less
  that profit, in cash as usual, its own money drawn from ``funding`` (origin
  ``<seller>:cash``), passed on to its cost sink and routes (sim/model/kinds/seller.py).
  Credits are used at once, whatever the payment terms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model.books import Books, Cents, Legs, allocate
from sim.model.kernels import Floats, profit_and_cost
from sim.model.kinds.kind import Context
from sim.model.kinds.seller import Sellers, parts_profit
from sim.model.schedule import CREDITS_ISSUED, ContractPlan, InvestmentPlan


@dataclass(frozen=True)
class UseLeg:
    """A leg of using credits: payer -> payee (roles, below), its kind, and the origin and
    amount it carries. ``used``: the compute paid in credits; ``profit``: the seller's margin
    on it; ``cost``: the rest."""

    payer: str
    payee: str
    kind: str
    origin: str  # "credits" (<investor>:credits) or "cash" (<seller>:cash)
    amount: str  # "used", "profit" or "cost"


# Using credits, leg by leg: revenue and profit in kind, both redeemed, and the seller's costs
# on it paid from its own cash (drawn from funding).
USE = (
    UseLeg("account", "seller", "compute", "credits", "used"),
    UseLeg("seller", "owner", "profit", "credits", "profit"),
    UseLeg("owner", "issued", "credit_use", "credits", "profit"),
    UseLeg("seller", "issued", "credit_use", "credits", "cost"),
    UseLeg("funding", "seller", "funding", "cash", "cost"),
)


@dataclass
class CreditLine:
    """A lab's credits at one seller, and how their use is booked."""

    account: int  # <lab>@<seller>: the credits not used yet
    seller: int  # position in plan.sellers
    provider: int | None  # the seller's row among the lab's provider shares, if it is one
    contracts: list[int]  # the lab's contracts with the seller (positions among its contracts)
    deal: int  # the lab's compute deal with the seller: what its compute there is booked under
    margins: Floats  # [1, run]
    own: list[int]  # positions in ``contracts`` of those that state their own margin
    own_margins: Floats  # their margins [len(own), run]
    origin: int  # <investor>:credits
    cash_origin: int  # <seller>:cash, the money its costs on credit-paid compute are paid with
    legs: Legs  # ``USE``, leg by leg


@dataclass
class StepDemand:
    """What a lab still wants to pay for in cash at one step, once its credits are drawn."""

    minimum: Cents  # [contract, run]
    min_total: Cents  # [run]
    wanted: Floats  # [demand row (``DemandRows``), run]
    wanted_total: Cents  # [run]
    excess: Cents  # [run]


def grant_legs(ctx: Context, deal: InvestmentPlan, d: int) -> Legs | None:
    """credits_issued -> the lab's credit account, for a deal that pays in credits."""
    if deal.credit_account is None:
        return None
    return Legs.of([(ctx.index[CREDITS_ISSUED], ctx.index[deal.credit_account], "credits", d)])


def split_tranche(deal: InvestmentPlan, amount: Cents) -> tuple[Cents, Cents]:
    """A tranche's cash and credits: ``credits = round(share * amount)``, half up."""
    if deal.credits_share is None:
        return amount, np.zeros_like(amount)
    credits = np.floor(amount * deal.credits_share + 0.5).astype(np.int64)
    return amount - credits, credits


def lines(
    ctx: Context, lab: str, contracts: list[ContractPlan], compute_deal: dict[str, int]
) -> list[CreditLine]:
    """The credit lines of ``lab``: one per seller some deal gives it credits on.
    ``contracts``: the lab's contracts; ``compute_deal``: its compute deal with each seller it
    pays."""
    plan, out = ctx.plan, []
    seen: set[str] = set()
    providers = plan.labs[lab].providers
    for d in plan.investments:
        if d.lab != lab or d.credits_on is None or d.credits_on in seen:
            continue
        seller = d.credits_on
        seen.add(seller)
        pos = plan.sellers.index(seller)
        account = ctx.index[d.credit_account or ""]
        deal = compute_deal[seller]
        at = [j for j, c in enumerate(contracts) if c.cloud == seller]
        own = [i for i, j in enumerate(at) if contracts[j].margin is not None]
        own_margins = [contracts[at[i]].margin for i in own]
        role = {
            "account": account,
            "seller": ctx.index[seller],
            "owner": ctx.index[plan.owner[seller] or d.investor],
            "issued": ctx.index[CREDITS_ISSUED],
            "funding": ctx.index["funding"],
        }
        out.append(
            CreditLine(
                account=account,
                seller=pos,
                provider=providers.index(seller) if seller in providers else None,
                contracts=at,
                deal=deal,
                margins=plan.margins[pos : pos + 1],
                own=own,
                own_margins=np.array(
                    [m for m in own_margins if m is not None], dtype=np.float64
                ).reshape(len(own), plan.n_runs),
                origin=ctx.origin[f"{d.investor}:credits"],
                cash_origin=ctx.origin[f"{seller}:cash"],
                legs=Legs.of([(role[leg.payer], role[leg.payee], leg.kind, deal) for leg in USE]),
            )
        )
    return out


def draw(
    t: int, books: Books, sellers: Sellers, credit_lines: list[CreditLine], demand: StepDemand
) -> StepDemand:
    """A step's ``demand`` (a copy, changed here), less what the lab's credits pay for (booked
    here, at once)."""
    for line in credit_lines:
        left = books.pool[line.account, line.origin].copy()
        if not left.any():
            continue
        used = np.zeros_like(left)
        cut = None
        if line.contracts:  # minimums first, each contract's in proportion
            at = demand.minimum[line.contracts]
            on_min = np.minimum(left, at.sum(axis=0))
            cut = allocate(on_min, at)
            demand.minimum[line.contracts] -= cut
            demand.min_total -= on_min
            used += on_min
            left -= on_min
        if line.provider is not None:  # then its demand there by provider share
            want = np.floor(demand.wanted[line.provider]).astype(np.int64)
            on_share = np.minimum(left, want)
            demand.wanted[line.provider] -= on_share
            demand.wanted_total -= on_share
            demand.excess -= on_share
            used += on_share
        if used.any():
            profit = None
            if line.own and cut is not None:  # contracts' own margins on their part
                rows = np.zeros(len(line.own), dtype=np.intp)
                profit = parts_profit(
                    used[None], line.margins, cut[line.own], rows, line.own_margins
                )[0]
            use(t, books, sellers, line, used, profit)
    return demand


def use(
    t: int,
    books: Books,
    sellers: Sellers,
    line: CreditLine,
    used: Cents,
    profit: Cents | None = None,
) -> None:
    """Book ``used[run]`` cents of compute paid in credits (``USE``): revenue and profit in
    kind, costs paid in cash from the seller's own money and passed on (``Sellers``).
    ``profit[run]``: the seller's profit on it, if contracts' own margins set it."""
    if profit is None:
        profit, cost = profit_and_cost(used[None], line.margins)
    else:
        cost = used - profit
    amount = {"used": used, "profit": profit, "cost": cost}
    origin = {"credits": line.origin, "cash": line.cash_origin}
    parts = np.zeros((len(USE), len(books.origins), books.n_runs), dtype=np.int64)
    for j, leg in enumerate(USE):
        parts[j, origin[leg.origin]] = amount[leg.amount]
    books.post(t, line.legs, parts)
    cash = np.zeros((len(books.origins), books.n_runs), dtype=np.int64)
    cash[line.cash_origin] = cost
    sellers.pass_costs(t, line.seller, cash, line.deal)
