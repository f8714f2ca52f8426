"""A cap table per lab: shares outstanding, who holds them and at what price each was issued,
read off the plan (deals' valuations and dates) and the ledger's timed records (tranches paid,
equity raised by the financing rule), vectorized over the runs of a batch. Read only: no money
moves here, so every other figure stays as it was (docs/metrics.md, "Cap table and dilution").

The rules, in time order per run:

* **Shares at the start**: the lab's ``shares``; without it, its first priced round's pre-money
  in dollars, so that round is priced at $1.00 a share.
* **A round** is a deal that states or implies a valuation; deals into one lab whose first
  tranches fall on the same day with the same post-money are one round (their tranches the round
  size). A round is priced, before anything is issued that day, at ``pre_money / shares
  outstanding``; ``pre_money = post_money - round size``, or the deal's own ``pre_money`` (its
  ``round_size``, or its tranches, the round).
* **A tranche** paid issues ``amount / price`` shares of its deal's round to the investor, and,
  where a deal states a ``round_size`` above its tranches, the rest of the round to investors
  outside the model alongside (``amount / price * (round_size / tranches - 1)``).
* **Equity raised by the financing rule** is issued on its date at the price of its
  ``valuation`` (``pre_money / shares outstanding``; by calendar year; or ``revenue_multiple``
  times the lab's revenue over the twelve months to the raise); without one, or where the
  trailing revenue is nil, at the latest issue price (a round's or a raise's).

Shares are counted in float64 (not rounded to whole shares); money stays in cents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from sim.inputs.units import format_dollars
from sim.inputs.values import EquityValuation
from sim.model.books import KIND, Cents
from sim.model.engine import RunData
from sim.model.schedule import InvestmentPlan, Plan

if TYPE_CHECKING:
    from sim.inputs.scenario import Scenario

Floats = npt.NDArray[np.float64]

# An investor's figures in a lab's cap table (docs/metrics.md, "Cap table and dilution"): stakes
# as ratios, prices and values in cents (a price: cents a share), shares held as a count
CAP_TABLE = (
    "stake_at_announcement",
    "stake_at_close",
    "stake_at_end",
    "shares_held",
    "latest_price",
    "stake_value_diluted",
    "effective_post_money_diluted",
    "latest_post_money",
    "equity_raised_after_close",
)
CAP_TABLE_RATIOS = ("stake_at_announcement", "stake_at_close", "stake_at_end")
CAP_TABLE_MONEY = tuple(m for m in CAP_TABLE if m not in CAP_TABLE_RATIOS and m != "shares_held")
# a lab's: shares outstanding (counts) and its latest issue price (cents a share)
LAB_CAP_TABLE = ("shares_outstanding_start", "shares_outstanding_end", "latest_price")
# the figures that count shares, not cents: shown as numbers, never divided into dollars
SHARE_COUNTS = ("shares_held", "shares_outstanding_start", "shares_outstanding_end")


@dataclass
class Holding:
    """One investor's place in one lab's cap table, per run (nan: the lab has no cap table, or
    none of its deals states a valuation)."""

    held: Floats  # shares held at the end
    stake_at_announcement: Floats  # its shares as announced over the round's shares after it
    stake_at_close: Floats  # after its last tranche's day (before that day's raises)
    close_day: npt.NDArray[np.int64]  # its last tranche's day, days since start
    equity_after_close: Cents  # equity the financing rule raised after that day


@dataclass
class CapTable:
    """One lab's cap table over the runs of a batch. Prices in cents a share."""

    lab: str
    start: Floats  # shares outstanding at the start [run]; nan: no cap table
    end: Floats  # shares outstanding at the end [run]
    latest_price: Floats  # the latest issue price at the end (a round's or a raise's) [run]
    price: dict[str, Floats]  # deal id -> its round's price [run]; nan: no valuation
    equity_raised: Cents  # equity raised by the financing rule [run]
    holdings: dict[str, Holding] = field(default_factory=dict)  # by investor


@dataclass
class _Round:
    """A deal as a round of a lab's cap table, per run."""

    deal: InvestmentPlan
    first: npt.NDArray[np.int64]  # its first tranche's day
    pre: Floats  # pre-money, cents; nan: no valuation
    others: Floats  # shares issued to others per share to the investor (round_size beyond it)


def _rounds(plan: Plan, lab: str) -> list[_Round]:
    """The lab's deals as rounds: each one's pre-money and the others' part of its round."""
    out = []
    deals = [(j, d) for j, d in enumerate(plan.investments) if d.lab == lab]
    firsts = {d.id: d.days.min(axis=0) for _, d in deals}
    for j, d in deals:
        models = [s.investments[j] for s in plan.scenarios]
        stated = np.array([m.pre_money or 0 for m in models], dtype=np.float64)
        size = np.array([m.round_size or 0 for m in models], dtype=np.float64)
        size = np.where(size > 0, size, d.announced)  # its tranches, without a round_size
        # deals stating a post-money (or a stake) on the same first day: one round
        same = sum(
            (e.announced * ((firsts[e.id] == firsts[d.id]) & (e.post_money == d.post_money)))
            for _, e in deals
        )
        post = d.post_money.astype(np.float64)
        pre = np.where(stated > 0, stated, post - same)
        pre = np.where((d.post_money > 0) & (pre > 0), pre, np.nan)
        tranches = np.where(d.announced > 0, d.announced, 1)  # none in a twin that drops it
        others = np.where(stated > 0, size / tranches - 1, 0.0)
        out.append(_Round(d, firsts[d.id], pre, others))
    return out


def _start_shares(plan: Plan, lab: str, rounds: list[_Round]) -> Floats:
    """Shares at the start: stated, or the first priced round's pre-money in dollars (file
    order on a tie), so that round is priced at $1.00 a share; nan where neither."""
    stated = np.array([s.labs[lab].shares or np.nan for s in plan.scenarios], dtype=np.float64)
    derived = np.full(plan.n_runs, np.nan)
    when = np.full(plan.n_runs, np.iinfo(np.int64).max)
    for r in rounds:
        earlier = ~np.isnan(r.pre) & (r.first < when)
        derived = np.where(earlier, r.pre / 100, derived)  # cents -> dollars -> shares at $1
        when = np.where(earlier, r.first, when)
    return np.where(np.isnan(stated), derived, stated)


def _trailing_revenue(plan: Plan, lab: str, day: int) -> Cents:
    """The lab's revenue over the twelve months to ``day`` (after the same date a year before,
    up to ``day``): the plan's revenue of each step, which the ledger posts at the step's end
    (sim/model/kinds/lab.py, ``customer_revenue``), per run."""
    on = plan.date(day)
    try:
        year_before = on.replace(year=on.year - 1)
    except ValueError:  # 29 February
        year_before = on.replace(year=on.year - 1, day=28)
    since = (year_before - plan.start).days
    ends = plan.days[1:]
    steps = (ends > since) & (ends <= day)
    out: Cents = plan.labs[lab].revenue[steps].sum(axis=0)
    return out


def valuations(plan: Plan, lab: str) -> list[tuple[EquityValuation, list[int]]]:
    """The lab's financing valuations over the runs of a batch, each with the runs that state
    it (a batch usually shares one): read once, not on every raise."""
    by_value: dict[EquityValuation, list[int]] = {}
    for run, s in enumerate(plan.scenarios):
        f = s.labs[lab].financing
        if f is not None and f.valuation is not None:
            by_value.setdefault(f.valuation, []).append(run)
    return list(by_value.items())


def _raise_price(
    plan: Plan,
    lab: str,
    day: int,
    shares: Floats,
    latest: Floats,
    stated: list[tuple[EquityValuation, list[int]]],
) -> Floats:
    """The price equity raised on ``day`` is issued at, per run: its valuation's pre-money
    over the shares outstanding, or the latest issue price (no valuation stated, or nil
    trailing revenue)."""
    pre = np.full(plan.n_runs, np.nan)
    year = plan.date(day).year
    ttm: Cents | None = None
    for v, runs in stated:
        if v.revenue_multiple is not None:
            ttm = _trailing_revenue(plan, lab, day) if ttm is None else ttm
            pre[runs] = v.revenue_multiple * ttm[runs]
        else:
            pre[runs] = v.pre_money(year)
    priced = pre > 0
    return np.where(priced, pre / np.where(priced, shares, 1), latest)


def _records(data: RunData, lab: str, rounds: list[_Round]) -> tuple[list[int], list[int]]:
    """The timed records of the lab's cap table, in time order: tranches paid (in cash to the
    lab, or in credits on its deals) and, if its financing rule raises equity, the raises."""
    plan, tm = data.plan, data.timed
    acc = plan.accounts.index(lab)
    deal_ids = [data.deals.index(r.deal.id) for r in rounds]
    paid = np.isin(tm.kind, [KIND["investment"], KIND["credits"]]) & np.isin(tm.deal, deal_ids)
    f = plan.labs[lab].financing
    equity = f is not None and f.kind == "equity"
    raised = (tm.kind == KIND["financing"]) & (tm.payee == acc) & equity
    return list(np.flatnonzero(paid)), list(np.flatnonzero(raised))


class _Table:
    """A lab's cap table as it is filled, record by record (each vectorized over runs)."""

    def __init__(self, data: RunData, lab: str, rounds: list[_Round]) -> None:
        plan = data.plan
        self.data, self.lab, self.rounds = data, lab, rounds
        self.start = _start_shares(plan, lab, rounds)
        self.shares = self.start.copy()
        n = plan.n_runs
        # with derived shares, $1.00 a share before any price is set; stated: none yet
        derived = np.array([s.labs[lab].shares is None for s in plan.scenarios])
        self.latest = np.where(derived & ~np.isnan(self.start), 100.0, np.nan)
        self.latest_day = np.full(n, -1, dtype=np.int64)
        self.price = {r.deal.id: np.full(n, np.nan) for r in rounds}
        self.priced = {r.deal.id: np.zeros(n, dtype=bool) for r in rounds}
        investors = list(dict.fromkeys(r.deal.investor for r in rounds))
        self.held = {i: np.zeros(n) for i in investors}
        # at the latest of its rounds' pricing: shares outstanding, and what it held then
        self.at_last = {i: (np.full(n, np.nan), np.zeros(n)) for i in investors}
        self.close = {i: self._close_day(i) for i in investors}
        self.closed = {i: np.zeros(n, dtype=bool) for i in investors}
        self.close_stake = {i: np.full(n, np.nan) for i in investors}
        self.after_close = {i: np.zeros(n, dtype=np.int64) for i in investors}
        self.equity = np.zeros(n, dtype=np.int64)
        self.valuations = valuations(plan, lab)

    def _close_day(self, investor: str) -> npt.NDArray[np.int64]:
        days = [r.deal.days.max(axis=0) for r in self.rounds if r.deal.investor == investor]
        out: npt.NDArray[np.int64] = np.max(days, axis=0)
        return out

    def price_rounds(self, day: int | None) -> None:
        """Price every round whose first day is ``day`` or before (None: every one left), at
        its pre-money over the shares outstanding before anything is issued that day."""
        for r in self.rounds:
            d = r.deal.id
            due = ~self.priced[d] if day is None else ~self.priced[d] & (r.first <= day)
            if not due.any():
                continue
            price = r.pre / self.shares
            self.price[d] = np.where(due, price, self.price[d])
            self.priced[d] |= due
            later = due & ~np.isnan(price) & (r.first >= self.latest_day)
            self.latest = np.where(later, price, self.latest)
            self.latest_day = np.where(later, r.first, self.latest_day)
            # rounds are priced in time order: the last priced of its rounds is its latest
            shares_then, held_then = self.at_last[r.deal.investor]
            self.at_last[r.deal.investor] = (
                np.where(due, self.shares, shares_then),
                np.where(due, self.held[r.deal.investor], held_then),
            )

    def snapshot(self, before: int, after_tranches: bool) -> None:
        """Take each investor's stake at close where its close day is past (``before``: the
        day now reached; ``after_tranches``: that day's tranches are in, its raises are not)."""
        for i, day in self.close.items():
            if self.closed[i].all():
                continue
            due = ~self.closed[i] & ((day < before) | ((day == before) & after_tranches))
            self.close_stake[i] = np.where(due, self.held[i] / self.shares, self.close_stake[i])
            self.closed[i] |= due

    def tranche(self, record: int) -> None:
        """A tranche paid: its deal's round issues ``amount / price`` shares to the investor."""
        tm = self.data.timed
        d = self.data.deals[tm.deal[record]]
        r = next(x for x in self.rounds if x.deal.id == d)
        issued = np.nan_to_num(tm.amount[record] / self.price[d])
        self.held[r.deal.investor] += issued
        self.shares = self.shares + issued * (1 + r.others)

    def raised(self, record: int) -> None:
        """Equity raised by the financing rule, issued at its valuation's price."""
        tm, plan = self.data.timed, self.data.plan
        day, amount = int(tm.time[record]), tm.amount[record]
        price = _raise_price(plan, self.lab, day, self.shares, self.latest, self.valuations)
        self.shares = self.shares + np.where(amount > 0, amount / price, 0.0)
        self.latest = np.where(amount > 0, price, self.latest)
        self.latest_day = np.where(amount > 0, day, self.latest_day)
        self.equity += amount
        for i, done in self.closed.items():
            self.after_close[i] += np.where(done, amount, 0)


def cap_table(data: RunData, lab: str) -> CapTable:
    """The lab's cap table over the runs of ``data``: every record of its tranches and equity
    raises applied in time order, rounds priced on their first day before anything is issued
    that day, each investor's stake at close taken after its last tranche's day's tranches."""
    rounds = _rounds(data.plan, lab)
    t = _Table(data, lab, rounds)
    paid, raised = _records(data, lab, rounds)
    tm = data.timed
    days = sorted({int(tm.time[k]) for k in paid + raised})
    for day in days:
        t.snapshot(day, after_tranches=False)
        t.price_rounds(day)
        for k in paid:
            if tm.time[k] == day:
                t.tranche(k)
        t.snapshot(day, after_tranches=True)
        for k in raised:
            if tm.time[k] == day:
                t.raised(k)
    t.snapshot(np.iinfo(np.int64).max, after_tranches=False)
    t.price_rounds(None)
    out = CapTable(lab, t.start, t.shares, t.latest, t.price, t.equity)
    for i in t.held:
        out.holdings[i] = Holding(
            held=t.held[i],
            stake_at_announcement=_announced_stake(t, i),
            stake_at_close=t.close_stake[i],
            close_day=t.close[i],
            equity_after_close=t.after_close[i],
        )
    return out


def _announced_stake(t: _Table, investor: str) -> Floats:
    """Its shares as announced (every tranche of its deals, at their rounds' prices) over the
    shares outstanding after its latest round as announced: those before that round, that whole
    round, and what its earlier deals announced but had not issued by then."""
    mine = [r for r in t.rounds if r.deal.investor == investor]
    latest = np.max([r.first for r in mine], axis=0)
    shares_then, held_then = t.at_last[investor]
    announced = sum(r.deal.announced / t.price[r.deal.id] for r in mine)
    # the whole of its latest round as announced, every investor's part: the post-money less
    # the pre-money, at the round's price (a round counted once where it holds two of its deals)
    at_latest = np.zeros(len(latest))
    seen: list[_Round] = []
    for r in mine:
        again = np.zeros(len(latest), dtype=bool)
        for e in seen:
            again |= (e.first == r.first) & (e.deal.post_money == r.deal.post_money)
        whole = (r.deal.post_money - r.pre) / t.price[r.deal.id]
        at_latest += np.where((r.first == latest) & ~again, whole, 0)
        seen.append(r)
    earlier = sum(
        np.where(r.first < latest, r.deal.announced / t.price[r.deal.id], 0) for r in mine
    )
    unissued = np.maximum(earlier - held_then, 0)
    out: Floats = announced / (shares_then + at_latest + unissued)
    return out


def investor_figures(
    table: CapTable | None, investor: str, net_cost: npt.NDArray[Any], latest_post_money: Cents
) -> dict[str, Floats]:
    """The cap-table figures of one investor in one lab (``CAP_TABLE`` in
    sim/analysis/metrics.py); nan where the lab has no cap table or the investor no priced
    deal in it. ``net_cost``: its net cost in the lab; ``latest_post_money``: the lab's latest
    round's post-money (0: none)."""
    n = len(net_cost)
    h = None if table is None else table.holdings.get(investor)
    if table is None or h is None:
        nan = np.full(n, np.nan)
        return {name: nan.copy() for name in CAP_TABLE}
    at_end = h.held / table.end
    return {
        "stake_at_announcement": h.stake_at_announcement,
        "stake_at_close": h.stake_at_close,
        "stake_at_end": at_end,
        "shares_held": h.held,
        "latest_price": table.latest_price,
        "stake_value_diluted": np.rint(h.held * table.latest_price),
        "effective_post_money_diluted": np.where(
            at_end > 0, net_cost / np.where(at_end > 0, at_end, 1), np.nan
        ),
        "latest_post_money": np.where(latest_post_money > 0, latest_post_money, np.nan),
        "equity_raised_after_close": h.equity_after_close.astype(np.float64),
    }


def lab_figures(table: CapTable) -> dict[str, Floats]:
    """A lab's cap-table figures (``LAB_CAP_TABLE`` in sim/analysis/metrics.py)."""
    return {
        "shares_outstanding_start": table.start,
        "shares_outstanding_end": table.end,
        "latest_price": table.latest_price,
    }


def _raised_at(s: Scenario, lab: str) -> str:
    """At what price the lab's financing rule issues equity, in words."""
    f = s.labs[lab].financing
    v = None if f is None else f.valuation
    if v is None:
        return "at the latest issue price"
    if v.fixed is not None:
        return f"at a {format_dollars(v.fixed)} pre-money valuation"
    if v.revenue_multiple is not None:
        return f"at {v.revenue_multiple:g}x trailing twelve-month revenue"
    years = ", ".join(f"{y} {format_dollars(c)}" for y, c in v.by_year)
    return f"at pre-money valuations by year ({years})"


def stake_lines(s: Scenario, investor: str, m: dict[str, Any]) -> list[str]:
    """The summary's lines on an investor's stake through the cap table, in the summary's
    columns: announced, at close and at the end, what diluted it, its value at the latest price
    and the diluted effective post-money. ``m``: the investor's entry of
    ``Result.metrics_dict()`` (dollars, ratios); per lab (``by_lab``) where it invested in
    several. Nothing for a lab whose deals state no valuation (its stake is undefined)."""
    labs = list(dict.fromkeys(d.lab for d in s.investments if d.investor == investor))
    out = []
    for lab in labs:
        v = m if len(labs) == 1 else m.get("by_lab", {}).get(lab, {})
        if v.get("stake_at_end") is None or v.get("stake_at_announcement") is None:
            continue
        at = f" ({s.label(lab)})" if len(labs) > 1 else ""
        label = f"stake at end{at}"[:24]
        out.append(
            f"  {label:<25}{_pct(v['stake_at_end']):>12}   "
            f"{_pct(v['stake_at_announcement'])} announced, {_pct(v['stake_at_close'])} at close"
        )
        after = v["equity_raised_after_close"] or 0.0
        if after > 0:
            out.append(
                f"  {'':<25}{'':>12}   diluted by {format_dollars(after * 100)} of equity raised "
                f"after its close, {_raised_at(s, lab)}"
            )
        post = v["latest_post_money"]
        out += [
            f"  {'  value at latest price':<25}{_money(v['stake_value_diluted']):>12}"
            f"   ${v['latest_price']:,.2f} a share",
            f"  {'  effective post-money':<25}{_money(v['effective_post_money_diluted']):>12}"
            "   net cost / stake at the end"
            + (f", beside the latest round's {format_dollars(post * 100)}" if post else ""),
        ]
    return out


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2%}"


def _money(dollars: float | None) -> str:
    return "n/a" if dollars is None else format_dollars(dollars * 100)
