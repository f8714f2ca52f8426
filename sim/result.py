"""What a run gives back: metrics, ledger and balances as pandas objects, and a text summary.

``Result`` is one run; ``BatchResult`` holds many and gives each run's ``Result`` by index.
Money in DataFrames is in dollars (float) except ledger and balance amounts, which stay integer
cents so that sums over them are exact.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from sim.books import KINDS, LedgerArrays, audit
from sim.engine import RunData
from sim.metrics import (
    DATES,
    INVESTOR_METRICS,
    LAB_DATES,
    LAB_METRICS,
    MONEY,
    Metrics,
)
from sim.resolved import inputs_hash as inputs_hash
from sim.resolved import resolved_yaml as resolved_yaml
from sim.resolved import resolved_yaml_with_sources as resolved_yaml_with_sources
from sim.scenario import Scenario
from sim.units import format_dollars

_LAB_MONEY = tuple(m for m in LAB_METRICS if m not in LAB_DATES)


def _dates_as_datetime(df: pd.DataFrame) -> pd.DataFrame:
    """Date columns as pandas datetimes (NaT where there is no date), for plotting and filtering."""
    for c in df.columns:
        if c in DATES or c in LAB_DATES:
            df[c] = pd.to_datetime(df[c])
    return df


def _date(start: dt.date, day: int) -> dt.date | None:
    return None if day < 0 else start + dt.timedelta(days=int(day))


class RunLike(Protocol):
    """What charts and reports read from a run: a fresh ``Result`` or a saved run folder
    (``sim.output.read_run``) alike."""

    @property
    def scenario(self) -> Scenario: ...

    @property
    def ledger(self) -> pd.DataFrame: ...

    @property
    def balances(self) -> pd.DataFrame: ...

    def metrics_dict(self) -> dict[str, Any]: ...


@dataclass
class Result:
    """One run of a scenario."""

    scenario: Scenario
    data: RunData
    all_metrics: Metrics
    run: int = 0  # index of this run in the batch it ran in

    # ---- metrics -----------------------------------------------------------------------------
    def _value(self, name: str, arr: Any) -> Any:
        v = arr[self.run]
        if name in DATES or name in LAB_DATES:
            return _date(self.scenario.start, int(v))
        if name in MONEY or name in _LAB_MONEY:
            return None if np.isnan(v) else float(v) / 100  # cents -> dollars
        return None if np.isnan(v) else float(v)

    def metrics_dict(self) -> dict[str, Any]:
        """Everything metrics.json holds: dollars, ratios, ISO dates (None where undefined)."""

        def block(values: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
            out = {n: self._value(n, values[n]) for n in names}
            return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in out.items()}

        m = self.all_metrics
        investors = {}
        for inv, values in m.investors.items():
            entry = block(values, INVESTOR_METRICS)
            entry["by_lab"] = {
                lab: block(v, INVESTOR_METRICS) for (i, lab), v in m.by_lab.items() if i == inv
            }
            investors[inv] = entry
        return {
            "scenario": self.scenario.name,
            "source": self.scenario.source,
            "inputs_hash": inputs_hash(self.scenario),
            "currency": "USD",
            "start": self.scenario.start.isoformat(),
            "end": self.scenario.end.isoformat(),
            "investors": investors,
            "labs": {lab: block(v, LAB_METRICS) for lab, v in m.labs.items()},
            "check": self.check,
        }

    @cached_property
    def metrics(self) -> pd.DataFrame:
        """One row per investor, its metrics as columns (dollars, ratios, dates)."""
        rows = {
            inv: {n: self._value(n, v[n]) for n in INVESTOR_METRICS}
            for inv, v in self.all_metrics.investors.items()
        }
        return _dates_as_datetime(
            pd.DataFrame.from_dict(rows, orient="index", columns=list(INVESTOR_METRICS))
        )

    @cached_property
    def metrics_by_lab(self) -> pd.DataFrame:
        """One row per (investor, lab) pair."""
        rows = {
            key: {n: self._value(n, v[n]) for n in INVESTOR_METRICS}
            for key, v in self.all_metrics.by_lab.items()
        }
        df = pd.DataFrame.from_dict(rows, orient="index", columns=list(INVESTOR_METRICS))
        df.index = pd.MultiIndex.from_tuples(list(rows), names=["investor", "lab"])
        return _dates_as_datetime(df)

    @cached_property
    def lab_metrics(self) -> pd.DataFrame:
        """One row per lab: revenue, spending, unmet demand, cash at the end, cash-out date."""
        rows = {
            lab: {n: self._value(n, v[n]) for n in LAB_METRICS}
            for lab, v in self.all_metrics.labs.items()
        }
        return _dates_as_datetime(
            pd.DataFrame.from_dict(rows, orient="index", columns=list(LAB_METRICS))
        )

    # ---- ledger and balances -----------------------------------------------------------------
    @cached_property
    def ledger(self) -> pd.DataFrame:
        """Each movement of the run: day, date, payer, payee, kind, deal, the lab the deal concerns,
        cents, and cents by origin (``from:<origin>`` columns).

        Built in one go, not column by column: the ``from:`` columns (one per origin, so
        thousands with thousands of agents) are one block joined to the other columns."""
        led, plan = self.data.ledger, self.data.plan
        cents = led.cents[:, :, self.run]  # [record, origin]
        amount = cents.sum(axis=1)
        keep = np.flatnonzero(amount != 0)
        start = np.datetime64(plan.start, "D")
        accounts = np.array(plan.accounts, dtype=object)
        df = pd.DataFrame(
            {
                "day": led.time[keep],
                "date": start + led.time[keep].astype("timedelta64[D]"),
                "payer": accounts[led.payer[keep]],
                "payee": accounts[led.payee[keep]],
                "kind": np.array(KINDS, dtype=object)[led.kind[keep]],
                "deal": np.array(self.data.deals, dtype=object)[led.deal[keep]],
                "lab": np.array(self.data.deal_lab, dtype=object)[led.deal[keep]],
                "amount_cents": amount[keep],
            }
        )
        # the block is [origin, record], so each column is contiguous and Arrow writes it to
        # Parquet without a copy; filled 16 MiB at a time, and handed to the frame as it is
        block = np.empty((cents.shape[1], len(keep)), dtype=np.int64)
        chunk = max(1, 2**21 // max(cents.shape[1], 1))  # records per 2**21 cents
        for i in range(0, len(keep), chunk):
            block[:, i : i + chunk] = cents[keep[i : i + chunk]].T
        columns = [f"from:{name}" for name in plan.origins]
        return pd.concat([df, pd.DataFrame(block.T, columns=columns, copy=False)], axis=1)

    @cached_property
    def balances(self) -> pd.DataFrame:
        """Cash per grid date, per account (agents and external accounts), per origin, in cents."""
        plan, bal = self.data.plan, self.data.balances
        if bal is None:
            raise ValueError("this batch ran without keeping balances (keep_balances=False)")
        n_p, n_a, n_o = bal.shape[:3]
        dates = np.array(plan.grid, dtype="datetime64[D]").astype("datetime64[s]")

        def names(values: list[str], codes: npt.NDArray[np.int32]) -> pd.Series:
            """A str column of ``values[codes]``, made in Arrow: no Python object per row."""
            return pd.Series(pa.array(values, pa.large_string()).take(codes), dtype="str")

        # a row per (point, account, origin), point-major: several times the size of the
        # balances themselves, so each column is made once and handed over without a copy
        account = np.repeat(np.arange(n_a, dtype=np.int32), n_o)
        return pd.DataFrame(
            {
                "step": np.repeat(np.arange(n_p, dtype=np.int64), n_a * n_o),
                "date": np.repeat(dates, n_a * n_o),
                "account": names(plan.accounts, np.tile(account, n_p)),
                "origin": names(plan.origins, np.tile(np.arange(n_o, dtype=np.int32), n_p * n_a)),
                "cents": bal[:, :, :, self.run].flatten(),  # always a copy, never a view
            },
            copy=False,
        )

    @cached_property
    def check(self) -> dict[str, Any]:
        """The conservation checks, measured again on this run's opening and closing pools and
        its ledger (``sim.books.audit``): ``balanced`` is true only if all three hold."""
        d, r = self.data, self.run
        found = audit(
            d.opening[:, :, r : r + 1],
            d.closing[:, :, r : r + 1],
            LedgerArrays(
                d.ledger.time,
                d.ledger.payer,
                d.ledger.payee,
                d.ledger.kind,
                d.ledger.deal,
                d.ledger.cents[:, :, r : r + 1],
            ),
            d.external,
        )
        return {
            "balanced": bool(found.balanced[0]),
            "origins_conserved": bool(found.conserved[0]),
            "no_negative_cash": bool(found.non_negative[0]),
            "ledger_replays": bool(found.replayed[0]),
            "records": int((d.ledger.cents[:, :, r].sum(axis=1) != 0).sum()),
            "opening_total_cents": int(found.opening_total[0]),
            "closing_total_cents": int(found.closing_total[0]),
        }

    # ---- text --------------------------------------------------------------------------------
    def summary(self) -> str:
        """The readable summary `roundtrip run` prints."""
        s = self.scenario
        d = self.metrics_dict()
        lines = [
            f"{s.name}",
            f"  {s.start.isoformat()} to {s.end.isoformat()}, step {s.step}, "
            f"tracing {s.tracing.replace('_', '-')}, inputs {d['inputs_hash']}",
        ]

        def money(v: float | None) -> str:
            return "n/a" if v is None else format_dollars(v * 100)

        def pct(v: float | None) -> str:
            return "n/a" if v is None else f"{v:.1%}"

        for inv, m in d["investors"].items():
            lines += [
                "",
                f"Investor {inv}",
                f"  invested                 {money(m['invested']):>12}",
                f"  spend on own cloud       {money(m['spend_on_own_cloud']):>12}",
                f"  round trip (traced)      {money(m['round_trip']):>12}"
                f"   {pct(m['round_trip_ratio'])} of invested",
                f"  circular revenue share   {pct(m['circular_revenue_share']):>12}"
                "   of own-cloud spend",
                f"  cloud profit             {money(m['cloud_profit']):>12}",
                f"    on its own dollars     {money(m['round_trip_profit']):>12}",
                f"  net cash cost            {money(m['net_cash_cost']):>12}",
            ]
            if m["stake"] is not None:
                lines += [
                    f"  stake                    {m['stake']:>12.2%}",
                    f"  effective valuation      {money(m['effective_valuation']):>12}",
                ]
            lines.append(
                f"  payback date             {m['payback_date'] or 'not within horizon':>12}"
            )
        for lab, m in d["labs"].items():
            lines += [
                "",
                f"Lab {lab}",
                f"  revenue                  {money(m['revenue']):>12}",
                f"  compute spend            {money(m['compute_spend']):>12}",
                f"  unmet compute            {money(m['unmet_compute']):>12}",
                f"  cash at end              {money(m['cash_end']):>12}",
                f"  cash runs out            {m['cash_out_date'] or 'never':>12}",
            ]
        c = d["check"]
        if c["balanced"]:
            lines += [
                "",
                f"Books balance to the cent: {c['records']:,} records, "
                f"{format_dollars(c['closing_total_cents'])} in all accounts as at the start.",
            ]
        else:
            failed = [k for k in ("origins_conserved", "no_negative_cash", "ledger_replays")]
            lines += [
                "",
                "The books do NOT balance: "
                + ", ".join(k.replace("_", " ") for k in failed if not c[k])
                + " failed; these figures cannot be trusted.",
            ]
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(self.metrics_dict(), indent=2)


@dataclass
class BatchResult:
    """Many runs that went through one event loop together."""

    scenarios: list[Scenario]
    data: RunData
    all_metrics: Metrics

    def __len__(self) -> int:
        return len(self.scenarios)

    def __getitem__(self, run: int) -> Result:
        return Result(self.scenarios[run], self.data, self.all_metrics, run)

    @cached_property
    def metrics(self) -> pd.DataFrame:
        """One row per (run, investor), the investor metrics as columns (money in dollars)."""
        frames = []
        for inv, values in self.all_metrics.investors.items():
            cols: dict[str, Any] = {"run": np.arange(len(self)), "investor": inv}
            for n in INVESTOR_METRICS:
                v = values[n]
                if n in DATES:
                    cols[n] = pd.to_datetime(
                        [_date(self.scenarios[0].start, int(x)) for x in v]  # type: ignore[arg-type]
                    )
                elif n in MONEY:
                    cols[n] = v / 100
                else:
                    cols[n] = v
            frames.append(pd.DataFrame(cols))
        return pd.concat(frames, ignore_index=True).set_index(["run", "investor"])
