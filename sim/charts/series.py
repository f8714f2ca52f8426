"""What the charts plot, read off a run's ledger and balances (the same rules as sim/metrics.py).

Each function returns plain pandas objects in dollars, so a notebook can plot or check them on
their own; the chart functions only draw them.
"""

from __future__ import annotations

import pandas as pd

from sim.result import RunLike

CENTS = 100


def investor_labs(run: RunLike, investor: str) -> list[str]:
    """The labs ``investor`` invested in, in deal order."""
    return list(dict.fromkeys(d.lab for d in run.scenario.investments if d.investor == investor))


def investor_flows(run: RunLike, investor: str) -> pd.DataFrame:
    """Cumulative dollars by date for one investor and the labs it invested in.

    Columns: ``invested``, ``spend_on_own_cloud``, ``round_trip``, ``cloud_profit``,
    ``round_trip_profit`` and ``net_cash`` (cloud profit less invested: the investor's net cash
    position from these deals). One row per date on which any of them moved, plus the first and
    last dates of the horizon; the last row equals metrics.json's figures.
    """
    s, led = run.scenario, run.ledger
    labs = investor_labs(run, investor)
    owned = list(s.investors[investor].owns)
    origin = f"from:{investor}:investment"
    inv = led[(led.kind == "investment") & (led.payer == investor) & led.payee.isin(labs)]
    own = led[(led.kind == "compute") & led.payer.isin(labs) & led.payee.isin(owned)]
    profit = led[
        (led.kind == "profit")
        & (led.payee == investor)
        & led.payer.isin(owned)
        & led.lab.isin(labs)
    ]
    parts = {
        "invested": (inv.date, inv.amount_cents),
        "spend_on_own_cloud": (own.date, own.amount_cents),
        "round_trip": (own.date, own[origin]),
        "cloud_profit": (profit.date, profit.amount_cents),
        "round_trip_profit": (profit.date, profit[origin]),
    }
    dates = pd.DatetimeIndex(
        sorted({pd.Timestamp(s.start), pd.Timestamp(s.end), *pd.to_datetime(led.date)})
    )
    out = pd.DataFrame(index=dates)
    for name, (when, cents) in parts.items():
        daily = cents.groupby(pd.to_datetime(when)).sum()
        out[name] = daily.reindex(dates, fill_value=0).cumsum() / CENTS
    out["net_cash"] = out["cloud_profit"] - out["invested"]
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
