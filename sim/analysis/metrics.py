"""Where a run becomes metrics: every figure is read off the books, vectorized over runs.

Sums come from the flow matrix (cents by payer, payee, kind, deal, origin and run), dates and
present values from the timed records (sim/model/recorder.py); both recorders give the same two, so
every figure is the same whether a run kept its whole ledger or not.

Definitions (docs/metrics.md has the formulas and examples). For investor ``i``, the labs ``L``
it invested in and the clouds ``C`` it owns, over the run's horizon:

What the investment caused, run against its counterfactual twin (sim/model/twin.py):

* ``announced``: every tranche of ``i``'s deals with ``L``, paid or not; ``invested``: what
  was paid (investment records);
* ``stake = sum over deals of invested_d * stake_per_cent_d`` (funded money only);
  ``stake_announced``: the same on announced money; undefined (nan) unless every deal of ``i``
  with ``L`` states a valuation;
* ``incremental_revenue``: compute payments from ``L`` to ``C`` in the run less in the twin;
* ``incremental_profit``: the same difference of the profit ``C`` made on those payments;
* ``pv_invested``, ``pv_incremental_profit``: present values at the scenario's start,
  ``amount / (1 + discount_rate) ** year_fraction(start, day)``, to the cent;
* ``net_cost = pv_invested + pv_lent - pv_loan_received - pv_incremental_profit
  - pv_incremental_revenue_share`` (a lender's loans: ``LENDER_METRICS``);
* ``effective_post_money = net_cost / stake``, beside ``stated_post_money`` (announced money over
  the announced stake: the deal's post-money valuation);
* ``incremental_payback_date``: the first day the cumulative discounted incremental profit
  reaches ``pv_invested``;
* the same six figures against the twin that keeps the contracts linked to the investment carry
  the suffix ``_investment_only`` (equal to the above where no contract is linked).

Revenue and profit as booked (suffix ``_booked``; sim/analysis/caused.py, ``owed``): the cash
figure plus what the labs owe the investor's sellers at the horizon, invoices issued but due
after it. Present values stay on cash, and count the profit part of what is owed at the present
value of its due day, so that ``pv_incremental_profit``, ``net_cost`` and the payback date do not
move with the horizon's edge. ``pv_invested = pv_invested_cash + pv_invested_credits``.

Whose dollars came back (traced through the ledger's origins, not an effect):

* ``spend_on_own_cloud``: compute payments from ``L`` to ``C``, all origins;
* ``round_trip``: the part of those payments whose origin is ``i``'s investment;
* ``round_trip_ratio = round_trip / invested``;
* ``circular_revenue_share = round_trip / spend_on_own_cloud``;
* ``relationship_profit``: profit ``C`` made on compute payments from ``L``, with or without
  the investment; ``round_trip_profit``: the part of it whose origin is ``i``'s investment;
* ``spend_on_own_cloud_booked``, ``relationship_profit_booked``: the first and the last, as
  booked (what ``L`` owes ``C`` at the horizon added).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sim.analysis import captable, caused
from sim.analysis.captable import CAP_TABLE, CAP_TABLE_MONEY, CAP_TABLE_RATIOS, LAB_CAP_TABLE
from sim.analysis.captable import SHARE_COUNTS as SHARE_COUNTS

# named here as well for the modules that read them with the metrics (result.py, charts/paths.py)
from sim.analysis.caused import PATHS as PATHS
from sim.analysis.caused import sales_paths as sales_paths
from sim.inputs.units import year_fraction
from sim.inputs.values import SUBSTITUTIONS
from sim.model.accrual import det_expm1, det_log1p
from sim.model.books import KIND, Cents, Flows, Timed
from sim.model.engine import RunData
from sim.model.schedule import Plan
from sim.model.twin import Twins

Array = npt.NDArray[np.int64] | npt.NDArray[np.float64]

# what the investment caused (against a twin); the suffixed set against the twin that keeps
# the contracts linked to the investment; PATHS (sim/analysis/caused.py): the paths by which
# money reaches the sellers an investor owns
CAUSED = (
    "incremental_revenue",
    "incremental_revenue_booked",
    *(f"incremental_revenue_{p}" for p in PATHS),
    "incremental_profit",
    "incremental_profit_booked",
    "pv_incremental_profit",
    "incremental_revenue_share",
    "pv_incremental_revenue_share",
    "net_cost",
    "effective_post_money",
    "incremental_payback_date",
)
ONLY = "_investment_only"
# the caused figures given against the twins of every substitution too (docs/metrics.md,
# "Substitution"), each as ``<figure>_substitution_<none|file|full>`` and with ``ONLY`` before
# the suffix; a figure added here appears for every investor, beside its headline
SUBSTITUTION_FIGURES = (
    "incremental_revenue",
    "incremental_revenue_booked",
    "incremental_profit",
    "incremental_profit_booked",
    "net_cost",
)
BOUNDS = tuple(
    f"{m}{only}_substitution_{sub}"
    for m in SUBSTITUTION_FIGURES
    for only in ("", ONLY)
    for sub in SUBSTITUTIONS
)
MONEY = (
    "announced",
    "invested",
    "pv_invested",
    "pv_invested_cash",
    "pv_invested_credits",
    "stated_post_money",
    *(m + suffix for suffix in ("", ONLY) for m in CAUSED if not m.endswith("_date")),
    *BOUNDS,
    "spend_on_own_cloud",
    "spend_on_own_cloud_booked",
    "round_trip",
    *(f"round_trip_{p}" for p in PATHS),
    "relationship_profit",
    "relationship_profit_booked",
    "round_trip_profit",
    "invested_credits",
    "credits_consumed",
    "profit_in_kind",
    "revenue_share",
    # equity as a stock (undefined, nan, where the stake is)
    "stake_value",
    "equity_share_of_result",
    *("lent", "pv_lent", "loan_interest_received", "loan_principal_received"),
    *("pv_loan_received", "loan_outstanding", "loan_past_due"),
    *("borrowed", "loan_interest_paid", "loan_principal_repaid"),
    *CAP_TABLE_MONEY,
)
# a lender's loans (sim/model/kinds/loans.py): what it lent and got back, in cash and in
# present value, and what is still owed it at the end (docs/metrics.md, "Loans")
LENDER_METRICS = (
    "lent",
    "pv_lent",
    "loan_interest_received",
    "loan_principal_received",
    "pv_loan_received",
    "loan_outstanding",
    "loan_past_due",
)
# a borrowing lab's side of the same
BORROWER_METRICS = ("borrowed", "loan_interest_paid", "loan_principal_repaid", "loan_outstanding")
RATIOS = (
    "stake",
    "stake_announced",
    "round_trip_ratio",
    "circular_revenue_share",
    *CAP_TABLE_RATIOS,
)
# whose dollars came back, traced through the ledger's origins: a label on the money, not an
# effect of the investment
TRACED = (
    "spend_on_own_cloud",
    "spend_on_own_cloud_booked",
    "round_trip",
    *(f"round_trip_{p}" for p in PATHS),
    "credits_consumed",
    "profit_in_kind",
    "round_trip_ratio",
    "circular_revenue_share",
    "relationship_profit",
    "relationship_profit_booked",
    "round_trip_profit",
)
DATES = ("incremental_payback_date", "incremental_payback_date" + ONLY)
INVESTOR_METRICS = (
    "announced",
    "invested",
    "invested_credits",
    "stake",
    "stake_announced",
    "stake_value",
    "equity_share_of_result",
    "incremental_revenue",
    "incremental_revenue_booked",
    *(f"incremental_revenue_{p}" for p in PATHS),
    "incremental_profit",
    "incremental_profit_booked",
    "revenue_share",
    "incremental_revenue_share",
    "pv_invested",
    "pv_invested_cash",
    "pv_invested_credits",
    "pv_incremental_profit",
    "pv_incremental_revenue_share",
    "net_cost",
    "effective_post_money",
    "stated_post_money",
    "incremental_payback_date",
    *(m + ONLY for m in CAUSED),
    *BOUNDS,
    *TRACED,
    *LENDER_METRICS,
    *CAP_TABLE,
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
    "compute_in_credits",
    "credits_unused",
    "revenue_shares_paid",
    "net_result",
    *BORROWER_METRICS,
    *LAB_CAP_TABLE,
)
# what a lab's net result takes off its revenue (with compute paid in credits): interest on its
# debt and its loans alike
SPENT = ("compute", "other", "interest", "revenue_share", "loan_interest")
LAB_DATES = ("cash_out_date", "first_raise_date")
# a lab's figures in money (cents in the batch, dollars in tables): all but its dates and counts
LAB_MONEY = tuple(m for m in LAB_METRICS if m not in LAB_DATES and m not in SHARE_COUNTS)


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
        self.log_rates = det_log1p(unique_rates)
        self.table = 1.0 + det_expm1(years[:, None] * self.log_rates[None, :])

    def on_days(self, plan: Plan, days: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """The factors of days ``days[item, run]`` (any day, after the horizon too: the due day
        of an invoice owed at its end), ``[item, run]``, by the same rule as ``factors``."""
        unique = distinct(days)
        years = np.array(
            [year_fraction(plan.start, plan.start + dt.timedelta(days=int(d))) for d in unique]
        )
        table = 1.0 + det_expm1(years[:, None] * self.log_rates[None, :])  # [day, rate]
        return np.asarray(table[np.searchsorted(unique, days), self.which[None, :]])

    def factors(self, rows: npt.NDArray[np.intp]) -> npt.NDArray[np.float64]:
        """The factors of the timed records ``rows``, ``[row, run]``: only the records asked
        for, since a batch's records by its runs are large."""
        at = np.searchsorted(self.days, self.time[rows])
        return self.table[at][:, self.which]


def _present_value(cents: npt.NDArray[np.int64], factors: npt.NDArray[np.float64]) -> Cents:
    """Sum of ``cents[record, run] / factors[record, run]`` over records, to the cent."""
    return np.rint((cents / factors).sum(axis=0)).astype(np.int64)


def latest_post_money(plan: Plan, lab: str) -> Cents:
    """Per run, the post-money valuation of the lab's latest deal that states or implies one
    (latest by its first tranche's date; in file order on a tie): 0 where none does."""
    out = np.zeros(plan.n_runs, dtype=np.int64)
    when = np.full(plan.n_runs, -1, dtype=np.int64)
    for d in plan.investments:
        if d.lab != lab:
            continue
        first = d.days.min(axis=0)
        later = (d.post_money > 0) & (first >= when)
        out = np.where(later, d.post_money, out)
        when = np.where(later, first, when)
    return out


@dataclass
class _Picked:
    """Which flows (of the flow matrix) and timed records one investor's figures sum, with the
    origins they trace: what the figures of ``_investor_metrics`` are read from."""

    origin: int  # the investor's investment, as an origin
    in_kind: int | None  # its credits, as an origin (None: it granted none)
    credits: npt.NDArray[np.bool_]  # credits granted on its deals with the labs
    invested: npt.NDArray[np.bool_]  # money it paid in: cash to the labs, and those credits
    paths: dict[str, npt.NDArray[np.bool_]]  # sales into what it owns, by path (caused.py)
    sales: npt.NDArray[np.bool_]  # the same, every path
    profit: npt.NDArray[np.bool_]  # profit its sellers passed to it on the labs' deals
    shares: npt.NDArray[np.bool_]  # revenue shares the labs paid it
    timed_invested: npt.NDArray[np.intp]  # the timed records of money paid in
    timed_credits: npt.NDArray[np.bool_]  # which of those are credits
    timed_back: npt.NDArray[np.intp]  # the timed records of profit and revenue shares, in order
    back_is_profit: npt.NDArray[np.bool_]  # which of those are profit
    owed: caused.Owed  # what the labs owe its sellers at the horizon (booked, not yet cash)


def _pick(data: RunData, investor: str, labs: list[str]) -> _Picked:
    """The records ``investor``'s figures with ``labs`` read, on both the flow matrix and the
    timed records."""
    plan, fl, tm = data.plan, data.flows, data.timed
    acc = {a: k for k, a in enumerate(plan.accounts)}
    inv, lab_ids = acc[investor], [acc[lab] for lab in labs]
    deal_lab = caused.deals_with(data, labs)
    # the labs' credit accounts its deals pay credits into (sim/model/kinds/credits.py)
    credit_ids = [
        acc[a]
        for d in plan.investments
        if d.investor == investor and d.lab in labs and (a := d.credit_account)
    ]

    def credits(r: Flows | Timed) -> npt.NDArray[np.bool_]:
        return (r.kind == KIND["credits"]) & np.isin(r.payee, credit_ids)

    def investment(r: Flows | Timed) -> npt.NDArray[np.bool_]:
        """Money it paid in: cash to the labs, and credits granted on its deals with them."""
        cash = (r.kind == KIND["investment"]) & (r.payer == inv) & np.isin(r.payee, lab_ids)
        return cash | credits(r) if credit_ids else cash

    def shares(r: Flows | Timed) -> npt.NDArray[np.bool_]:
        return (r.kind == KIND["revenue_share"]) & (r.payee == inv) & np.isin(r.payer, lab_ids)

    paths = caused.sales_paths(plan, investor, deal_lab, fl)
    # what comes back (profit, and revenue shares), as timed records in time order
    is_profit = caused.profit_back(plan, investor, deal_lab, tm)
    back_at = np.flatnonzero(is_profit | shares(tm))
    in_kind = f"{investor}:credits"
    timed_invested = np.flatnonzero(investment(tm))
    return _Picked(
        origin=plan.origins.index(f"{investor}:investment"),
        in_kind=plan.origins.index(in_kind) if in_kind in plan.origins else None,
        credits=credits(fl),
        invested=investment(fl),
        paths=paths,
        sales=paths["own_cloud"] | paths["own_vendor"] | paths["via_others"],
        profit=caused.profit_back(plan, investor, deal_lab, fl),
        shares=shares(fl),
        timed_invested=timed_invested,
        timed_credits=credits(tm)[timed_invested],
        timed_back=back_at,
        back_is_profit=is_profit[back_at],
        owed=caused.owed(data, investor, labs),
    )


def _stakes(
    data: RunData,
    investor: str,
    labs: list[str],
    amount: Cents,
    invested: npt.NDArray[np.bool_],
    results: dict[str, Array],
) -> dict[str, Array]:
    """Its stake in ``labs`` (funded and announced), what was announced, the stated post-money,
    and equity as a stock: each stake at the lab's latest valuation, and its share of the lab's
    result (the equity method). ``invested``: the flows of money it paid in."""
    plan, fl = data.plan, data.flows
    # the stake counts funded money; the announced stake all the money announced
    stake = np.zeros(plan.n_runs)
    stake_announced = np.zeros(plan.n_runs)
    announced = np.zeros(plan.n_runs, dtype=np.int64)
    stake_value = np.zeros(plan.n_runs)
    share_of_result = np.zeros(plan.n_runs)
    for d in plan.investments:
        if d.investor != investor or d.lab not in labs:
            continue
        d_rows = invested & (fl.deal == data.deals.index(d.id))
        d_stake = amount[d_rows].sum(axis=0) * d.stake_per_cent
        stake += d_stake
        stake_value += np.nan_to_num(d_stake) * latest_post_money(plan, d.lab)
        share_of_result += np.nan_to_num(d_stake) * results[d.lab]
        stake_announced += d.announced * d.stake_per_cent
        announced += d.announced
    stated_post_money = np.where(
        stake_announced > 0, announced / np.where(stake_announced > 0, stake_announced, 1), np.nan
    )
    valued = ~np.isnan(stake)  # every deal states a valuation: its stock has a value
    if len(labs) > 1:
        # shares of different labs do not add up to a share of anything, nor have one
        # valuation: stake and post-money figures are per lab only (by_lab)
        stake = np.full(plan.n_runs, np.nan)
        stake_announced = stake.copy()
        stated_post_money = stake.copy()
    return {
        "announced": announced,
        "stake": stake,
        "stake_announced": stake_announced,
        "stake_value": np.where(valued, stake_value, np.nan),
        "equity_share_of_result": np.where(valued, np.rint(share_of_result), np.nan),
        "stated_post_money": stated_post_money,
    }


def _traced(fl: Flows, p: _Picked, amount: Cents, invested: Cents) -> dict[str, Array]:
    """Whose dollars came back: the sums over the picked flows, and the parts of them whose
    origin is the investment (or its credits); revenue and profit as booked beside them."""
    spend = amount[p.sales].sum(axis=0)
    relationship_profit = amount[p.profit].sum(axis=0)
    round_trip = fl.cents[p.sales, p.origin].sum(axis=0)
    zeros = np.zeros(fl.cents.shape[2], dtype=np.int64)
    in_kind = p.in_kind
    return {
        "spend_on_own_cloud": spend,
        "spend_on_own_cloud_booked": spend + p.owed.revenue.sum(axis=0),
        "round_trip": round_trip,
        "invested_credits": amount[p.credits].sum(axis=0),
        "credits_consumed": fl.cents[p.sales, in_kind].sum(axis=0)
        if in_kind is not None
        else zeros,
        "profit_in_kind": fl.cents[p.profit, in_kind].sum(axis=0) if in_kind is not None else zeros,
        **{
            f"round_trip_{path}": fl.cents[rows, p.origin].sum(axis=0)
            for path, rows in p.paths.items()
        },
        "round_trip_ratio": _ratio(round_trip, invested),
        "circular_revenue_share": _ratio(round_trip, spend),
        "relationship_profit": relationship_profit,
        "relationship_profit_booked": relationship_profit + p.owed.profit.sum(axis=0),
        "revenue_share": amount[p.shares].sum(axis=0),
        "round_trip_profit": fl.cents[p.profit, p.origin].sum(axis=0),
    }


def _caused(
    data: RunData,
    twins: Twins,
    investor: str,
    p: _Picked,
    amount: Cents,
    discount: Discount,
    sofar: dict[str, Array],
) -> dict[str, Array]:
    """What the investment caused, against each twin (``CAUSED``, and with the suffix ``ONLY``
    against the twin that keeps the linked contracts), under the file's substitution; and
    ``SUBSTITUTION_FIGURES`` of each again against the twins of each substitution, suffixed
    ``_substitution_<name>`` (where the batch ran them: ``bounds``). ``sofar``: its other
    figures."""
    n = data.plan.n_runs
    out: dict[str, Array] = {}
    for suffix, keeps_linked in (("", False), (ONLY, True)):
        done: dict[tuple[int, ...] | None, dict[str, Array]] = {}  # by twin columns
        for sub in (None, *SUBSTITUTIONS):
            cols = twins.columns(investor, keeps_linked=keeps_linked, substitution=sub)
            if sub is not None and cols is None and None in done:
                # no twin at all: what it causes is 0 under any substitution, as the headline
                out.update(
                    {f"{m}{suffix}_substitution_{sub}": done[None][m] for m in SUBSTITUTION_FIGURES}
                )
                continue
            if sub is not None and cols is None:  # the batch ran no twins under it (bounds)
                out.update(
                    {f"{m}{suffix}_substitution_{sub}": _not_run(n) for m in SUBSTITUTION_FIGURES}
                )
                continue
            key = None if cols is None else tuple(cols)
            if key not in done:
                # each run's twin, as a batch column per run (twins themselves: their own
                # column, so that a twin's caused figures are 0)
                twin_of = (
                    np.arange(n) if cols is None else np.array([*cols, *range(twins.n_runs, n)])
                )
                done[key] = _against(data, p, amount, discount, sofar, twin_of)
            against = done[key]
            if sub is None:
                out.update({name + suffix: value for name, value in against.items()})
            else:
                out.update(
                    {f"{m}{suffix}_substitution_{sub}": against[m] for m in SUBSTITUTION_FIGURES}
                )
    return out


def _not_run(n: int) -> Array:
    """A bound the batch did not measure (it ran no twin under that substitution): nan."""
    return np.full(n, np.nan)


def _against(
    data: RunData,
    p: _Picked,
    amount: Cents,
    discount: Discount,
    sofar: dict[str, Array],
    twin_of: npt.NDArray[np.intp],
) -> dict[str, Array]:
    """The ``CAUSED`` figures of every run of the batch against the batch column
    ``twin_of[run]`` (a run's own column: every figure 0)."""
    tm, owed = data.timed, p.owed
    pv_invested, stake = sofar["pv_invested"], sofar["stake"]
    spend, profit, shares = (amount[rows].sum(axis=0) for rows in (p.sales, p.profit, p.shares))
    spend_by_path = {path: amount[rows].sum(axis=0) for path, rows in p.paths.items()}
    # as booked: what the labs owe the investor's sellers at the horizon added to the cash
    spend_booked = spend + owed.revenue.sum(axis=0)
    profit_booked = profit + owed.profit.sum(axis=0)
    pv_back_by_record = tm.amount[p.timed_back] / discount.factors(p.timed_back)
    inc_back_pv = pv_back_by_record - pv_back_by_record[:, twin_of]
    # the profit part of each invoice owed at the horizon, at its due day's present value
    pv_owed = owed.profit / discount.on_days(data.plan, owed.due)  # [invoice, run]
    inc_owed_pv = pv_owed - pv_owed[:, twin_of]
    pv_inc_profit = np.rint(
        inc_back_pv[p.back_is_profit].sum(axis=0) + inc_owed_pv.sum(axis=0)
    ).astype(np.int64)
    pv_inc_shares = np.rint(inc_back_pv[~p.back_is_profit].sum(axis=0)).astype(np.int64)
    # a loan enters as money out (its present value lent) less what came back on it
    net_cost = (
        pv_invested + sofar["pv_lent"] - sofar["pv_loan_received"] - pv_inc_profit - pv_inc_shares
    )
    payback = _payback(tm.time[p.timed_back], inc_back_pv, owed.due, inc_owed_pv, pv_invested)
    out: dict[str, Array] = {
        "incremental_revenue": spend - spend[twin_of],
        "incremental_revenue_booked": spend_booked - spend_booked[twin_of],
    }
    for path, by_path in spend_by_path.items():
        out[f"incremental_revenue_{path}"] = by_path - by_path[twin_of]
    out["incremental_profit"] = profit - profit[twin_of]
    out["incremental_profit_booked"] = profit_booked - profit_booked[twin_of]
    out["pv_incremental_profit"] = pv_inc_profit
    out["incremental_revenue_share"] = shares - shares[twin_of]
    out["pv_incremental_revenue_share"] = pv_inc_shares
    out["net_cost"] = net_cost
    out["effective_post_money"] = np.where(
        stake > 0, net_cost / np.where(stake > 0, stake, 1), np.nan
    )
    out["incremental_payback_date"] = payback
    return out


def _payback(
    time: npt.NDArray[np.int64],
    inc_pv: npt.NDArray[np.float64],
    owed_due: npt.NDArray[np.int64],
    inc_owed_pv: npt.NDArray[np.float64],
    pv_invested: Array,
) -> npt.NDArray[np.int64]:
    """The first day at which the cumulative discounted incremental profit (and revenue
    shares) reaches what was invested, in present value, per run (-1: never). ``time``,
    ``inc_pv[record, run]``: the timed records, in time order; then the invoices owed at the
    horizon, each on its due day (``owed_due[invoice, run]``, after every record), in the
    order of their due days. It can first reach it only on a record or an invoice: elsewhere
    the sum does not change, and it starts at 0."""
    n = inc_pv.shape[1]
    order = np.argsort(owed_due, axis=0, kind="stable")
    days = np.concatenate(
        [np.broadcast_to(time[:, None], inc_pv.shape), np.take_along_axis(owed_due, order, 0)]
    )
    cum = np.cumsum(np.concatenate([inc_pv, np.take_along_axis(inc_owed_pv, order, 0)]), axis=0)
    reached = (cum >= pv_invested - 0.5) & (pv_invested > 0)  # reached, to the cent
    if not len(cum):
        return np.full(n, -1, dtype=np.int64)
    first = reached.argmax(axis=0)
    return np.where(reached.any(axis=0), days[first, np.arange(n)], -1).astype(np.int64)


def _investor_metrics(
    data: RunData,
    twins: Twins,
    investor: str,
    labs: list[str],
    amount: Cents,
    discount: Discount,
    results: dict[str, Array],
    loans_to: str | None = None,
) -> dict[str, Array]:
    """One investor's figures with ``labs``, and its loans (to ``loans_to`` only, if given);
    ``amount``: each flow's cents summed over origins, ``[flow, run]``."""
    loans = [
        x.id for x in data.plan.loans if x.lender == investor and loans_to in (None, x.borrower)
    ]
    p = _pick(data, investor, labs)
    invested = amount[p.invested].sum(axis=0)
    stakes = _stakes(data, investor, labs, amount, p.invested, results)
    pv_invested = _present_value(
        data.timed.amount[p.timed_invested], discount.factors(p.timed_invested)
    )
    # its parts: in credits, each rounded once; in cash, the rest (so they add up to the cent)
    in_credits = p.timed_invested[p.timed_credits]
    pv_credits = _present_value(data.timed.amount[in_credits], discount.factors(in_credits))
    out: dict[str, Array] = {
        "invested": invested,
        **stakes,
        "pv_invested": pv_invested,
        "pv_invested_cash": pv_invested - pv_credits,
        "pv_invested_credits": pv_credits,
        **_traced(data.flows, p, amount, invested),
        **_lender(data, investor, loans, amount, discount),
    }
    return out | _caused(data, twins, investor, p, amount, discount, out)


def _lender(
    data: RunData, investor: str, loans: list[str], amount: Cents, discount: Discount
) -> dict[str, Array]:
    """``LENDER_METRICS`` of ``investor`` over its ``loans``: cash lent and received (interest
    and principal) off the flow matrix, their present values off the timed records, and what
    is outstanding and past due at the end off the loans' counters."""
    fl, tm, plan = data.flows, data.timed, data.plan
    inv = plan.accounts.index(investor)
    ids = [data.deals.index(x) for x in loans]
    n = plan.n_runs

    def rows(r: Flows | Timed, kind: str, out: bool) -> npt.NDArray[np.bool_]:
        mine = (r.payer == inv) if out else (r.payee == inv)
        return (r.kind == KIND[kind]) & mine & np.isin(r.deal, ids)

    def pv(mask: npt.NDArray[np.bool_]) -> Cents:
        at = np.flatnonzero(mask)
        return _present_value(tm.amount[at], discount.factors(at))

    back = rows(tm, "loan_interest", False) | rows(tm, "loan_principal", False)
    zero = np.zeros(n, dtype=np.int64)
    return {
        "lent": amount[rows(fl, "loan", True)].sum(axis=0),
        "pv_lent": pv(rows(tm, "loan", True)),
        "loan_interest_received": amount[rows(fl, "loan_interest", False)].sum(axis=0),
        "loan_principal_received": amount[rows(fl, "loan_principal", False)].sum(axis=0),
        "pv_loan_received": pv(back),
        "loan_outstanding": sum((data.loans[x]["outstanding"] for x in loans), zero),
        "loan_past_due": sum((data.loans[x]["past_due"] for x in loans), zero),
    }


def _borrower(data: RunData, lab: str, amount: Cents) -> dict[str, Array]:
    """``BORROWER_METRICS`` of ``lab``: what it borrowed and paid back on its loans."""
    fl, a = data.flows, data.plan.accounts.index(lab)
    loans = [x.id for x in data.plan.loans if x.borrower == lab]
    zero = np.zeros(data.plan.n_runs, dtype=np.int64)

    def paid(kind: str, into: bool) -> Cents:
        side = fl.payee if into else fl.payer
        return amount[(fl.kind == KIND[kind]) & (side == a)].sum(axis=0)

    return {
        "borrowed": paid("loan", True),
        "loan_interest_paid": paid("loan_interest", False),
        "loan_principal_repaid": paid("loan_principal", False),
        "loan_outstanding": sum((data.loans[x]["outstanding"] for x in loans), zero),
    }


def compute(data: RunData, twins: Twins | None = None) -> Metrics:
    """All metrics of a batch, read off its flow matrix and timed records; ``twins`` says which
    runs are whose counterfactual twins (none: every caused figure is 0)."""
    plan, fl, tm = data.plan, data.flows, data.timed
    twins = twins if twins is not None else Twins(plan.n_runs)
    amount = fl.cents.sum(axis=1)  # [flow, run]: each flow's cents, all origins
    discount = Discount(data)
    acc = {a: k for k, a in enumerate(plan.accounts)}

    labs_out: dict[str, dict[str, Array]] = {}
    for lab, stats in data.lab_stats.items():
        a = acc[lab]
        out_rows = fl.payer == a
        # its credit accounts (sim/model/kinds/credits.py): what they paid for, and what is left in
        # them
        held = [
            acc[x]
            for x in dict.fromkeys(d.credit_account for d in plan.investments if d.lab == lab)
            if x
        ]
        from_credits = np.isin(fl.payer, held)
        # money raised: its timed records in time order; the first with cents in it, per run
        raise_rows = np.flatnonzero((tm.kind == KIND["financing"]) & (tm.payee == a))
        raised = tm.amount[raise_rows]  # [raise record, run]
        first_raise = np.full(plan.n_runs, -1, dtype=np.int64)
        if len(raise_rows):
            hit = (raised > 0).any(axis=0)
            first_raise[hit] = tm.time[raise_rows[(raised > 0).argmax(axis=0)]][hit]
        in_credits = amount[from_credits & (fl.kind == KIND["compute"])].sum(axis=0)
        spent = {k: amount[out_rows & (fl.kind == KIND[k])].sum(axis=0) for k in SPENT}
        revenue = amount[(fl.kind == KIND["revenue"]) & (fl.payee == a)].sum(axis=0)
        labs_out[lab] = {
            "revenue": revenue,
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
            "compute_in_credits": in_credits,
            "credits_unused": amount[np.isin(fl.payee, held)].sum(axis=0)
            - amount[from_credits].sum(axis=0),
            "revenue_shares_paid": spent["revenue_share"],
            # revenue less what it spent: compute (in cash and in credits), other costs,
            # interest (on its debt and its loans) and revenue shares; investments, money
            # raised and loans drawn are not income
            "net_result": revenue - in_credits - sum(spent.values()),
            **_borrower(data, lab, amount),
        }
    # each lab's result over the horizon, for its investors' share of it (equity method)
    results = {lab: m["net_result"] for lab, m in labs_out.items()}
    investors: dict[str, dict[str, Array]] = {}
    by_lab: dict[tuple[str, str], dict[str, Array]] = {}
    for investor in plan.investors:
        labs = list(dict.fromkeys(d.lab for d in plan.investments if d.investor == investor))
        # an investor with no deal (a seller's owner only): its sellers' sales to every lab
        investors[investor] = _investor_metrics(
            data, twins, investor, labs or list(plan.labs), amount, discount, results
        )
        if len(labs) > 1:
            for lab in labs:
                by_lab[(investor, lab)] = _investor_metrics(
                    data, twins, investor, [lab], amount, discount, results, lab
                )
        for lab in labs:
            by_lab.setdefault((investor, lab), investors[investor])
    _add_cap_table(data, investors, by_lab, labs_out)
    return Metrics(investors=investors, by_lab=by_lab, labs=labs_out, twins=twins)


def _add_cap_table(
    data: RunData,
    investors: dict[str, dict[str, Array]],
    by_lab: dict[tuple[str, str], dict[str, Array]],
    labs: dict[str, dict[str, Array]],
) -> None:
    """The cap-table figures (sim/analysis/captable.py), read only, beside the others: per
    investor and lab, and per investor where it holds one lab only (nan where several)."""
    plan = data.plan
    tables = {lab: captable.cap_table(data, lab) for lab in plan.labs}
    for lab, t in tables.items():
        labs[lab].update(captable.lab_figures(t))
    for (investor, lab), values in by_lab.items():
        post = latest_post_money(plan, lab)
        values.update(captable.investor_figures(tables[lab], investor, values["net_cost"], post))
    for investor, values in investors.items():
        if "stake_at_end" not in values:  # several labs, or none: no one cap table
            n = plan.n_runs
            zeros = np.zeros(n, dtype=np.int64)
            values.update(captable.investor_figures(None, investor, zeros, zeros))
