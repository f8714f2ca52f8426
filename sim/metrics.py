"""Where a run becomes metrics: every figure is read off the ledger, vectorized over runs.

Definitions (docs/metrics.md has the formulas and examples). For investor ``i`` and the labs ``L``
it invested in, over the run's horizon:

* ``invested``: cents ``i`` paid to its labs (investment records);
* ``spend_on_own_cloud``: compute payments from ``L`` to clouds ``i`` owns, all origins;
* ``round_trip``: the part of those payments whose origin is ``i``'s investment (traced);
* ``round_trip_ratio = round_trip / invested``;
* ``circular_revenue_share = round_trip / spend_on_own_cloud``;
* ``cloud_profit``: profit ``i``'s clouds made on compute payments from ``L``;
* ``round_trip_profit``: the part of that profit whose origin is ``i``'s investment (traced);
* ``net_cash_cost = invested - cloud_profit``;
* ``stake = sum over deals of invested_d / (pre_money_d + round_size_d)`` (undefined unless
  every deal of ``i`` with ``L`` states a pre-money valuation);
* ``effective_valuation = net_cash_cost / stake``: the valuation the net cash actually paid;
* ``payback_date``: first day cumulative ``cloud_profit`` reaches the total ``invested``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sim.books import KIND, Cents
from sim.engine import RunData

Array = npt.NDArray[np.int64] | npt.NDArray[np.float64]

MONEY = (
    "invested",
    "spend_on_own_cloud",
    "round_trip",
    "cloud_profit",
    "round_trip_profit",
    "net_cash_cost",
    "effective_valuation",
)
RATIOS = ("round_trip_ratio", "circular_revenue_share", "stake")
DATES = ("payback_date",)
INVESTOR_METRICS = (
    "invested",
    "spend_on_own_cloud",
    "round_trip",
    "round_trip_ratio",
    "circular_revenue_share",
    "cloud_profit",
    "round_trip_profit",
    "net_cash_cost",
    "stake",
    "effective_valuation",
    "payback_date",
)
LAB_METRICS = (
    "revenue",
    "invested_in",
    "compute_spend",
    "other_spend",
    "unmet_compute",
    "unmet_other",
    "contract_shortfall",
    "unused_commitment",
    "payables_outstanding",
    "cash_end",
    "cash_out_date",
    "raised",
    "interest_paid",
    "debt_outstanding",
    "first_raise_date",
)
LAB_DATES = ("cash_out_date", "first_raise_date")


@dataclass
class Metrics:
    """Metric name -> array over runs. Money in cents (int64, effective_valuation float),
    ratios as floats (nan where the denominator is zero), dates as days since start (-1: none)."""

    investors: dict[str, dict[str, Array]]
    by_lab: dict[tuple[str, str], dict[str, Array]]
    labs: dict[str, dict[str, Array]]


def _ratio(num: Cents, den: Cents) -> npt.NDArray[np.float64]:
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _investor_metrics(
    data: RunData, investor: str, labs: list[str], amount: Cents
) -> dict[str, Array]:
    plan, led = data.plan, data.ledger
    acc = {a: k for k, a in enumerate(plan.accounts)}
    inv, owned = acc[investor], [acc[c] for c in plan.investors[investor]]
    lab_ids = [acc[lab] for lab in labs]
    origin = plan.origins.index(f"{investor}:investment")
    deal_lab = np.array([dl in labs for dl in data.deal_lab])

    inv_rows = (led.kind == KIND["investment"]) & (led.payer == inv) & np.isin(led.payee, lab_ids)
    own_rows = (
        (led.kind == KIND["compute"]) & np.isin(led.payer, lab_ids) & np.isin(led.payee, owned)
    )
    profit_rows = (
        (led.kind == KIND["profit"])
        & (led.payee == inv)
        & np.isin(led.payer, owned)
        & deal_lab[led.deal]
    )
    invested = amount[inv_rows].sum(axis=0)
    spend = amount[own_rows].sum(axis=0)
    round_trip = led.cents[own_rows, origin].sum(axis=0)
    profit = amount[profit_rows].sum(axis=0)
    round_trip_profit = led.cents[profit_rows, origin].sum(axis=0)
    net = invested - profit

    # the stake is defined only if every deal states its valuation (pre-money > 0)
    stake = np.zeros(plan.n_runs)
    for d in plan.investments:
        if d.investor != investor or d.lab not in labs:
            continue
        d_rows = inv_rows & (led.deal == data.deals.index(d.id))
        post = np.where(d.post_money > 0, d.post_money, 1)
        stake += np.where(d.post_money > 0, amount[d_rows].sum(axis=0) / post, np.nan)

    # payback: first record time at which cumulative profit reaches the total invested
    cum = np.cumsum(np.where(profit_rows[:, None], amount, 0), axis=0)
    reached = (cum >= invested) & (invested > 0)
    hit = reached.any(axis=0) if len(cum) else np.zeros(plan.n_runs, dtype=bool)
    payback = np.where(hit, led.time[reached.argmax(axis=0)] if len(cum) else -1, -1)

    return {
        "invested": invested,
        "spend_on_own_cloud": spend,
        "round_trip": round_trip,
        "round_trip_ratio": _ratio(round_trip, invested),
        "circular_revenue_share": _ratio(round_trip, spend),
        "cloud_profit": profit,
        "round_trip_profit": round_trip_profit,
        "net_cash_cost": net,
        "stake": stake,
        "effective_valuation": np.where(stake > 0, net / np.where(stake > 0, stake, 1), np.nan),
        "payback_date": payback.astype(np.int64),
    }


def compute(data: RunData) -> Metrics:
    """All metrics of a batch, read off its ledger."""
    plan, led = data.plan, data.ledger
    amount = led.cents.sum(axis=1)  # [record, run]: each record's cents, all origins
    acc = {a: k for k, a in enumerate(plan.accounts)}

    investors: dict[str, dict[str, Array]] = {}
    by_lab: dict[tuple[str, str], dict[str, Array]] = {}
    for investor in plan.investors:
        labs = list(dict.fromkeys(d.lab for d in plan.investments if d.investor == investor))
        investors[investor] = _investor_metrics(data, investor, labs, amount)
        if len(labs) > 1:
            for lab in labs:
                by_lab[(investor, lab)] = _investor_metrics(data, investor, [lab], amount)
        for lab in labs:
            by_lab.setdefault((investor, lab), investors[investor])

    labs_out: dict[str, dict[str, Array]] = {}
    for lab, stats in data.lab_stats.items():
        a = acc[lab]
        out_rows = led.payer == a
        # money raised: its records in time order; the first with cents in it, per run
        raise_rows = np.flatnonzero((led.kind == KIND["financing"]) & (led.payee == a))
        raised = amount[raise_rows]  # [raise record, run]
        first_raise = np.full(plan.n_runs, -1, dtype=np.int64)
        if len(raise_rows):
            hit = (raised > 0).any(axis=0)
            first_raise[hit] = led.time[raise_rows[(raised > 0).argmax(axis=0)]][hit]
        labs_out[lab] = {
            "revenue": amount[(led.kind == KIND["revenue"]) & (led.payee == a)].sum(axis=0),
            "invested_in": amount[(led.kind == KIND["investment"]) & (led.payee == a)].sum(axis=0),
            "compute_spend": amount[out_rows & (led.kind == KIND["compute"])].sum(axis=0),
            "other_spend": amount[out_rows & (led.kind == KIND["other"])].sum(axis=0),
            "unmet_compute": stats["unmet_compute"],
            "unmet_other": stats["unmet_other"],
            "contract_shortfall": stats["shortfall"],
            "unused_commitment": stats["unused_commitment"],
            "payables_outstanding": data.payables[lab],
            "cash_end": data.plan.labs[lab].opening
            + amount[led.payee == a].sum(axis=0)
            - amount[out_rows].sum(axis=0),
            "cash_out_date": stats["cash_out_day"],
            "raised": raised.sum(axis=0),
            "interest_paid": amount[out_rows & (led.kind == KIND["interest"])].sum(axis=0),
            "debt_outstanding": stats["debt_outstanding"],
            "first_raise_date": first_raise,
        }
    return Metrics(investors=investors, by_lab=by_lab, labs=labs_out)
