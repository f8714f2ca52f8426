"""Where a run becomes metrics: every figure is read off the books, vectorized over runs.

Sums come from the flow matrix (cents by payer, payee, kind, deal, origin and run), dates and
present values from the timed records (sim/recorder.py); both recorders give the same two, so
every figure is the same whether a run kept its whole ledger or not.

Definitions (docs/metrics.md has the formulas and examples). For investor ``i``, the labs ``L``
it invested in and the clouds ``C`` it owns, over the run's horizon:

What the investment caused, run against its counterfactual twin (sim/twin.py):

* ``announced``: every tranche of ``i``'s deals with ``L``, paid or not; ``invested``: what
  was paid (investment records);
* ``stake = sum over deals of invested_d * stake_per_cent_d`` (funded money only);
  ``stake_announced``: the same on announced money; undefined (nan) unless every deal of ``i``
  with ``L`` states a valuation;
* ``incremental_revenue``: compute payments from ``L`` to ``C`` in the run less in the twin;
* ``incremental_profit``: the same difference of the profit ``C`` made on those payments;
* ``pv_invested``, ``pv_incremental_profit``: present values at the scenario's start,
  ``amount / (1 + discount_rate) ** year_fraction(start, day)``, to the cent;
* ``net_cost = pv_invested - pv_incremental_profit``;
* ``effective_post_money = net_cost / stake``, beside ``stated_post_money`` (announced money over
  the announced stake: the deal's post-money valuation);
* ``incremental_payback_date``: the first day the cumulative discounted incremental profit
  reaches ``pv_invested``;
* the same six figures against the twin that keeps the contracts linked to the investment carry
  the suffix ``_investment_only`` (equal to the above where no contract is linked).

Whose dollars came back (traced through the ledger's origins, not an effect):

* ``spend_on_own_cloud``: compute payments from ``L`` to ``C``, all origins;
* ``round_trip``: the part of those payments whose origin is ``i``'s investment;
* ``round_trip_ratio = round_trip / invested``;
* ``circular_revenue_share = round_trip / spend_on_own_cloud``;
* ``relationship_profit``: profit ``C`` made on compute payments from ``L``, with or without
  the investment; ``round_trip_profit``: the part of it whose origin is ``i``'s investment.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sim.books import KIND, Cents, Flows, Timed
from sim.engine import RunData
from sim.schedule import det_expm1, det_log1p
from sim.twin import Twins
from sim.units import year_fraction

Array = npt.NDArray[np.int64] | npt.NDArray[np.float64]

# what the investment caused (against a twin); the suffixed set against the twin that keeps
# the contracts linked to the investment
CAUSED = (
    "incremental_revenue",
    "incremental_profit",
    "pv_incremental_profit",
    "net_cost",
    "effective_post_money",
    "incremental_payback_date",
)
ONLY = "_investment_only"
MONEY = (
    "announced",
    "invested",
    "pv_invested",
    "stated_post_money",
    *(m + suffix for suffix in ("", ONLY) for m in CAUSED if not m.endswith("_date")),
    "spend_on_own_cloud",
    "round_trip",
    "relationship_profit",
    "round_trip_profit",
)
RATIOS = ("stake", "stake_announced", "round_trip_ratio", "circular_revenue_share")
# whose dollars came back, traced through the ledger's origins: a label on the money, not an
# effect of the investment
TRACED = (
    "spend_on_own_cloud",
    "round_trip",
    "round_trip_ratio",
    "circular_revenue_share",
    "relationship_profit",
    "round_trip_profit",
)
DATES = ("incremental_payback_date", "incremental_payback_date" + ONLY)
INVESTOR_METRICS = (
    "announced",
    "invested",
    "stake",
    "stake_announced",
    "incremental_revenue",
    "incremental_profit",
    "pv_invested",
    "pv_incremental_profit",
    "net_cost",
    "effective_post_money",
    "stated_post_money",
    "incremental_payback_date",
    *(m + ONLY for m in CAUSED),
    *TRACED,
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
    """Metric name -> array over the runs of the batch, twins included (a twin's own caused
    figures are 0: it has no twin). Money in cents (int64; effective_post_money and
    stated_post_money float), ratios as floats (nan where the denominator is zero), dates as
    days since start (-1: none). ``twins`` says which batch run is whose twin."""

    investors: dict[str, dict[str, Array]]
    by_lab: dict[tuple[str, str], dict[str, Array]]
    labs: dict[str, dict[str, Array]]
    twins: Twins


def _ratio(num: Cents, den: Cents) -> npt.NDArray[np.float64]:
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


def distinct(values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The sorted distinct values, as ``np.unique`` (which imports numpy.ma: 15 ms of start-up)."""
    v = np.sort(values, axis=None)
    return v[np.concatenate(([True], v[1:] != v[:-1]))] if len(v) else v


class Discount:
    """``(1 + r) ** year_fraction(start, day)`` for a batch, made once per distinct record day
    and distinct rate (a batch usually shares one) with the project's deterministic exp and
    log, so present values are the same on every machine; a cent paid on that day is worth
    ``1 / factor`` cents at the start."""

    def __init__(self, data: RunData) -> None:
        plan, timed = data.plan, data.timed
        self.time = timed.time
        self.days = distinct(timed.time)
        years = np.array(
            [year_fraction(plan.start, plan.start + dt.timedelta(days=int(d))) for d in self.days]
        )
        rates = np.array([s.discount_rate for s in plan.scenarios], dtype=np.float64)
        unique_rates = np.array(sorted(set(rates.tolist())), dtype=np.float64)
        self.which = np.searchsorted(unique_rates, rates)
        self.table = 1.0 + det_expm1(years[:, None] * det_log1p(unique_rates)[None, :])

    def factors(self, rows: npt.NDArray[np.intp]) -> npt.NDArray[np.float64]:
        """The factors of the timed records ``rows``, ``[row, run]``: only the records asked
        for, since a batch's records by its runs are large."""
        at = np.searchsorted(self.days, self.time[rows])
        return self.table[at][:, self.which]


def _present_value(cents: npt.NDArray[np.int64], factors: npt.NDArray[np.float64]) -> Cents:
    """Sum of ``cents[record, run] / factors[record, run]`` over records, to the cent."""
    return np.rint((cents / factors).sum(axis=0)).astype(np.int64)


def _investor_metrics(
    data: RunData,
    twins: Twins,
    investor: str,
    labs: list[str],
    amount: Cents,
    discount: Discount,
) -> dict[str, Array]:
    """``amount``: each flow's cents summed over origins, ``[flow, run]``."""
    plan, fl, tm = data.plan, data.flows, data.timed
    acc = {a: k for k, a in enumerate(plan.accounts)}
    inv, owned = acc[investor], [acc[c] for c in plan.investors[investor]]
    lab_ids = [acc[lab] for lab in labs]
    origin = plan.origins.index(f"{investor}:investment")
    deal_lab = np.array([dl in labs for dl in data.deal_lab])

    def investment(r: Flows | Timed) -> npt.NDArray[np.bool_]:
        return (r.kind == KIND["investment"]) & (r.payer == inv) & np.isin(r.payee, lab_ids)

    def profit_from_labs(r: Flows | Timed) -> npt.NDArray[np.bool_]:
        return (
            (r.kind == KIND["profit"])
            & (r.payee == inv)
            & np.isin(r.payer, owned)
            & deal_lab[r.deal]
        )

    inv_rows = investment(fl)
    own_rows = (fl.kind == KIND["compute"]) & np.isin(fl.payer, lab_ids) & np.isin(fl.payee, owned)
    profit_rows = profit_from_labs(fl)
    invested = amount[inv_rows].sum(axis=0)
    spend = amount[own_rows].sum(axis=0)
    round_trip = fl.cents[own_rows, origin].sum(axis=0)
    profit = amount[profit_rows].sum(axis=0)
    round_trip_profit = fl.cents[profit_rows, origin].sum(axis=0)
    # Present values and payback read the timed profit and investment records, in time order
    profit_at = np.flatnonzero(profit_from_labs(tm))
    inv_at = np.flatnonzero(investment(tm))
    pv_invested = _present_value(tm.amount[inv_at], discount.factors(inv_at))
    pv_profit_by_record = tm.amount[profit_at] / discount.factors(profit_at)

    # the stake counts funded money; the announced stake all the money announced
    stake = np.zeros(plan.n_runs)
    stake_announced = np.zeros(plan.n_runs)
    announced = np.zeros(plan.n_runs, dtype=np.int64)
    for d in plan.investments:
        if d.investor != investor or d.lab not in labs:
            continue
        d_rows = inv_rows & (fl.deal == data.deals.index(d.id))
        stake += amount[d_rows].sum(axis=0) * d.stake_per_cent
        stake_announced += d.announced * d.stake_per_cent
        announced += d.announced
    stated_post_money = np.where(
        stake_announced > 0, announced / np.where(stake_announced > 0, stake_announced, 1), np.nan
    )

    out: dict[str, Array] = {
        "announced": announced,
        "invested": invested,
        "stake": stake,
        "stake_announced": stake_announced,
        "pv_invested": pv_invested,
        "stated_post_money": stated_post_money,
        "spend_on_own_cloud": spend,
        "round_trip": round_trip,
        "round_trip_ratio": _ratio(round_trip, invested),
        "circular_revenue_share": _ratio(round_trip, spend),
        "relationship_profit": profit,
        "round_trip_profit": round_trip_profit,
    }
    n = plan.n_runs
    for suffix, keeps_linked in (("", False), (ONLY, True)):
        cols = twins.columns(investor, keeps_linked=keeps_linked)
        # each run's twin, as a batch column per run (twins themselves: their own column,
        # so that a twin's caused figures are 0)
        twin_of = np.arange(n) if cols is None else np.array(cols + list(range(twins.n_runs, n)))
        inc_profit_pv = pv_profit_by_record - pv_profit_by_record[:, twin_of]
        pv_inc_profit = np.rint(inc_profit_pv.sum(axis=0)).astype(np.int64)
        net_cost = pv_invested - pv_inc_profit
        # payback: the first record (in time order) at which the cumulative discounted
        # incremental profit reaches what was invested, in present value (it can first reach
        # it only on a profit record: elsewhere the sum does not change, and it starts at 0)
        cum = np.cumsum(inc_profit_pv, axis=0)
        reached = (cum >= pv_invested - 0.5) & (pv_invested > 0)  # reached, to the cent
        hit = reached.any(axis=0) if len(cum) else np.zeros(n, dtype=bool)
        first = reached.argmax(axis=0) if len(cum) else np.zeros(n, dtype=np.int64)
        payback = np.where(hit, tm.time[profit_at[first]] if len(cum) else -1, -1)
        out["incremental_revenue" + suffix] = spend - spend[twin_of]
        out["incremental_profit" + suffix] = profit - profit[twin_of]
        out["pv_incremental_profit" + suffix] = pv_inc_profit
        out["net_cost" + suffix] = net_cost
        out["effective_post_money" + suffix] = np.where(
            stake > 0, net_cost / np.where(stake > 0, stake, 1), np.nan
        )
        out["incremental_payback_date" + suffix] = payback.astype(np.int64)
    return out


def compute(data: RunData, twins: Twins | None = None) -> Metrics:
    """All metrics of a batch, read off its flow matrix and timed records; ``twins`` says which
    runs are whose counterfactual twins (none: every caused figure is 0)."""
    plan, fl, tm = data.plan, data.flows, data.timed
    twins = twins if twins is not None else Twins(plan.n_runs)
    amount = fl.cents.sum(axis=1)  # [flow, run]: each flow's cents, all origins
    discount = Discount(data)
    acc = {a: k for k, a in enumerate(plan.accounts)}

    investors: dict[str, dict[str, Array]] = {}
    by_lab: dict[tuple[str, str], dict[str, Array]] = {}
    for investor in plan.investors:
        labs = list(dict.fromkeys(d.lab for d in plan.investments if d.investor == investor))
        investors[investor] = _investor_metrics(data, twins, investor, labs, amount, discount)
        if len(labs) > 1:
            for lab in labs:
                by_lab[(investor, lab)] = _investor_metrics(
                    data, twins, investor, [lab], amount, discount
                )
        for lab in labs:
            by_lab.setdefault((investor, lab), investors[investor])

    labs_out: dict[str, dict[str, Array]] = {}
    for lab, stats in data.lab_stats.items():
        a = acc[lab]
        out_rows = fl.payer == a
        # money raised: its timed records in time order; the first with cents in it, per run
        raise_rows = np.flatnonzero((tm.kind == KIND["financing"]) & (tm.payee == a))
        raised = tm.amount[raise_rows]  # [raise record, run]
        first_raise = np.full(plan.n_runs, -1, dtype=np.int64)
        if len(raise_rows):
            hit = (raised > 0).any(axis=0)
            first_raise[hit] = tm.time[raise_rows[(raised > 0).argmax(axis=0)]][hit]
        labs_out[lab] = {
            "revenue": amount[(fl.kind == KIND["revenue"]) & (fl.payee == a)].sum(axis=0),
            "invested_in": amount[(fl.kind == KIND["investment"]) & (fl.payee == a)].sum(axis=0),
            "compute_spend": amount[out_rows & (fl.kind == KIND["compute"])].sum(axis=0),
            "other_spend": amount[out_rows & (fl.kind == KIND["other"])].sum(axis=0),
            "unmet_compute": stats["unmet_compute"],
            "unmet_other": stats["unmet_other"],
            "contract_shortfall": stats["shortfall"],
            "unused_commitment": stats["unused_commitment"],
            "payables_outstanding": data.payables[lab],
            "cash_end": data.plan.labs[lab].opening
            + amount[fl.payee == a].sum(axis=0)
            - amount[out_rows].sum(axis=0),
            "cash_out_date": stats["cash_out_day"],
            "raised": raised.sum(axis=0),
            "interest_paid": amount[out_rows & (fl.kind == KIND["interest"])].sum(axis=0),
            "debt_outstanding": stats["debt_outstanding"],
            "first_raise_date": first_raise,
        }
    return Metrics(investors=investors, by_lab=by_lab, labs=labs_out, twins=twins)
