"""What the charts plot, read off a run's ledger and balances (the same rules as
sim/analysis/metrics.py).

Each function returns plain pandas objects in dollars, so a notebook can plot or check them on
their own; the chart functions only draw them. Figures the investment *caused* need the run's
counterfactual twin (sim/model/twin.py): a fresh ``Result`` has it; a saved run folder gives it as
``run.twin_series`` (the frame ``twin_series_of`` makes), or the caused series are ``None``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from sim.analysis.caused import named, profit_back, sales
from sim.analysis.result import Result, RunLike
from sim.inputs.scenario import Scenario
from sim.inputs.units import year_fraction
from sim.model.accrual import det_expm1, det_log1p

CENTS = 100

# The twin's side of what an investment caused, per investor, lab and date: each column the cents
# moved on that date (not cumulative). "twin" drops the investor's investments and the contracts
# that came with them; "twin_investment_only" keeps those contracts (the same as "twin" where no
# contract is linked). Revenue: sales into the sellers the investor owns on deals of that lab,
# every path; profit: what those sellers passed to the investor on them (sim/analysis/caused.py).
TWIN_SERIES_COLUMNS = (
    "date",
    "investor",
    "lab",
    "revenue_cents_run",
    "revenue_cents_twin",
    "revenue_cents_twin_investment_only",
    "profit_cents_run",
    "profit_cents_twin",
    "profit_cents_twin_investment_only",
)


def investor_labs(run: RunLike, investor: str) -> list[str]:
    """The labs ``investor`` invested in, in deal order."""
    return list(dict.fromkeys(d.lab for d in run.scenario.investments if d.investor == investor))


def _dates(run: RunLike, *more: pd.Series) -> pd.DatetimeIndex:
    """Every date the ledger (or ``more``) moved on, with the horizon's first and last days."""
    s = run.scenario
    when = {pd.Timestamp(s.start), pd.Timestamp(s.end), *pd.to_datetime(run.ledger.date)}
    for dates in more:
        when.update(pd.to_datetime(dates))
    return pd.DatetimeIndex(sorted(when))


def _cumulative(when: pd.Series, cents: pd.Series, dates: pd.DatetimeIndex) -> pd.Series:
    """Cents moved on each date, summed to each of ``dates``, in dollars."""
    daily = cents.groupby(pd.to_datetime(when)).sum()
    return daily.reindex(dates, fill_value=0).cumsum() / CENTS


def caused_records(
    run: RunLike, investor: str, labs: list[str]
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Which rows of the run's ledger are sales into what ``investor`` owns on the deals with
    ``labs`` (every path), and which the profit those sellers passed to it: the caused rule
    (``sim.analysis.caused``) read on the ledger by name, so a saved run folder has it too."""
    led = run.ledger
    records = named(
        run.scenario,
        led.payer.to_numpy(dtype=object),
        led.payee.to_numpy(dtype=object),
        led.kind.to_numpy(dtype=object),
        led.lab.fillna("").to_numpy(dtype=object),
    )
    on_deals = records.on_deals(labs)
    return (
        sales(records, investor, on_deals, records),
        profit_back(records, investor, on_deals, records),
    )


def investor_flows(run: RunLike, investor: str) -> pd.DataFrame:
    """Cumulative dollars by date for one investor and the labs it invested in, traced.

    Columns: ``invested`` (cash paid in; credits granted are not in it),
    ``spend_on_own_cloud`` (sales into the sellers it owns on those labs' deals, every path:
    sim/analysis/caused.py), ``round_trip``, ``relationship_profit`` and ``round_trip_profit``.
    One row per date on which any of them moved, plus the first and last dates of the horizon;
    the last row equals metrics.json's figures (``invested`` where no deal pays in credits).
    """
    led = run.ledger
    labs = investor_labs(run, investor)
    origin = f"from:{investor}:investment"
    inv = led[(led.kind == "investment") & (led.payer == investor) & led.payee.isin(labs)]
    # sales into what it owns, every path, and the profit passed back: the caused rule's records
    own, profit = (led[rows] for rows in caused_records(run, investor, labs))
    parts = {
        "invested": (inv.date, inv.amount_cents),
        "spend_on_own_cloud": (own.date, own.amount_cents),
        "round_trip": (own.date, own[origin]),
        "relationship_profit": (profit.date, profit.amount_cents),
        "round_trip_profit": (profit.date, profit[origin]),
    }
    dates = _dates(run)
    out = pd.DataFrame({name: _cumulative(w, c, dates) for name, (w, c) in parts.items()})
    out.index.name = "date"
    return out


# ---- what the investment caused: the run against its twin ------------------------------------


def twin_series_of(result: Result) -> pd.DataFrame:
    """``TWIN_SERIES_COLUMNS`` of a fresh run: ``Result.twin_series``, what a run folder's
    ``twin_series.parquet`` holds, so a chart drawn from the run and one redrawn from its folder
    are the same."""
    return result.twin_series[list(TWIN_SERIES_COLUMNS)]


def twin_series(run: RunLike) -> pd.DataFrame | None:
    """The run's ``twin_series`` if it carries one (a saved run folder that holds it), else made
    from a fresh ``Result``'s twins; None for a saved run without it."""
    saved = getattr(run, "twin_series", None)
    if isinstance(saved, pd.DataFrame):
        return saved
    if isinstance(run, Result):
        return twin_series_of(run)
    return None


def has_twin_series(run: RunLike) -> bool:
    """Whether ``twin_series(run)`` gives a frame (without making it)."""
    return isinstance(getattr(run, "twin_series", None), pd.DataFrame) or isinstance(run, Result)


def discount_factors(scenario: Scenario, dates: pd.DatetimeIndex) -> npt.NDArray[np.float64]:
    """``(1 + r) ** year_fraction(start, date)`` per date, made as sim/analysis/metrics.py makes it
    (the
    project's deterministic exp and log): a cent paid on that date is worth ``1 / factor`` cents
    at the start."""
    years = np.array([year_fraction(scenario.start, d.date()) for d in dates], dtype=np.float64)
    rate = det_log1p(np.array([scenario.discount_rate], dtype=np.float64))
    return np.asarray(1.0 + det_expm1(years * rate[0]), dtype=np.float64)


def pv_invested(run: RunLike, investor: str, dates: pd.DatetimeIndex | None = None) -> pd.Series:
    """The money ``investor`` put into its labs, in present value at the scenario's start and
    ``discount_rate``, cumulative to each of ``dates`` (default: as ``investor_flows``), in
    dollars; read off the run's own ledger, so a saved run folder has it too."""
    led = run.ledger
    dates = _dates(run) if dates is None else dates
    inv = led[
        (led.kind == "investment")
        & (led.payer == investor)
        & led.payee.isin(investor_labs(run, investor))
    ]
    daily = inv.amount_cents.groupby(pd.to_datetime(inv.date)).sum().reindex(dates, fill_value=0)
    return (daily / discount_factors(run.scenario, dates)).cumsum() / CENTS


def caused_flows(run: RunLike, investor: str) -> pd.DataFrame | None:
    """Cumulative dollars by date of what ``investor``'s investment caused at its clouds, from
    the run and its twin; None if the run carries no twin series (a saved run folder without it).

    Columns: ``revenue_run`` (= ``spend_on_own_cloud``), ``revenue_twin``,
    ``incremental_revenue``, ``incremental_profit``, ``revenue_twin_investment_only``,
    ``incremental_revenue_investment_only``, ``incremental_profit_investment_only``, and in present
    values at the scenario's ``discount_rate``: ``pv_invested``, ``pv_incremental_profit``,
    ``net_position`` (``pv_incremental_profit - pv_invested``: it ends at ``-net_cost`` and
    reaches 0 on ``incremental_payback_date``), ``net_position_investment_only``, and
    ``pv_owed_profit``: at the last date, the present value (at each invoice's due day) of the
    caused profit still owed at the horizon, which the last row of the present values includes,
    as ``net_cost`` does. Rows as in
    ``investor_flows``; the last row equals metrics.json's figures (present values within a cent:
    metrics.json rounds each once). An investor without a twin caused nothing: zeros.
    """
    series = twin_series(run)
    if series is None:
        return None
    mine = series[series.investor == investor]
    dates = _dates(run, mine.date)
    factors = pd.Series(discount_factors(run.scenario, dates), index=dates)

    def cumulative(column: str, pv: bool = False) -> pd.Series:
        daily = mine[column].groupby(pd.to_datetime(mine.date)).sum().reindex(dates, fill_value=0)
        return (daily / factors if pv else daily).cumsum() / CENTS

    out = pd.DataFrame(index=dates)
    out["revenue_run"] = cumulative("revenue_cents_run")
    out["revenue_twin"] = cumulative("revenue_cents_twin")
    out["incremental_revenue"] = out.revenue_run - out.revenue_twin
    out["incremental_profit"] = cumulative("profit_cents_run") - cumulative("profit_cents_twin")
    out["revenue_twin_investment_only"] = cumulative("revenue_cents_twin_investment_only")
    out["incremental_revenue_investment_only"] = out.revenue_run - out.revenue_twin_investment_only
    out["incremental_profit_investment_only"] = cumulative("profit_cents_run") - cumulative(
        "profit_cents_twin_investment_only"
    )
    out["pv_invested"] = pv_invested(run, investor, dates)
    pv_profit = cumulative("profit_cents_run", pv=True)
    out["pv_incremental_profit"] = pv_profit - cumulative("profit_cents_twin", pv=True)
    out["net_position"] = out.pv_incremental_profit - out.pv_invested
    out["net_position_investment_only"] = (
        pv_profit - cumulative("profit_cents_twin_investment_only", pv=True) - out.pv_invested
    )
    # profit on invoices still owed at the horizon counts at its due day's present value
    # (docs/metrics.md, "Booked and cash"): added at the last date, from the metrics
    m = run.metrics_dict()["investors"][investor]
    out["pv_owed_profit"] = 0.0
    for suffix in ("", "_investment_only"):
        if len(out) and m.get("net_cost" + suffix) is not None:
            gap = -float(m["net_cost" + suffix]) - float(out["net_position" + suffix].iloc[-1])
            columns = ["net_position" + suffix]
            columns += [] if suffix else ["pv_owed_profit", "pv_incremental_profit"]
            for column in columns:
                values = out[column].to_numpy(dtype=float, copy=True)
                values[-1] += gap
                out[column] = values
    out.index.name = "date"
    return out


def lab_cash_by_origin(run: RunLike, lab: str) -> pd.DataFrame:
    """A lab's cash in dollars at each step's end (rows: dates), by origin (columns, in the
    scenario's origin order); origins the lab never held are left out."""
    b = run.balances
    mine = b[b.account == lab]
    table = mine.pivot_table(
        index="date", columns="origin", values="cents", aggfunc="sum", sort=False
    )
    order = [o for o in dict.fromkeys(mine.origin) if (table[o] != 0).any()]
    table = table[order] / CENTS
    table.index = pd.to_datetime(table.index)
    table.columns.name = "origin"
    return table
