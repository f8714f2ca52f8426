"""What a run gives back: metrics, ledger and balances as pandas objects, and a text summary.

``Result`` is one run; ``BatchResult`` holds many and gives each run's ``Result`` by index.
Money in DataFrames is in dollars (float) except ledger and balance amounts, which stay integer
cents so that sums over them are exact.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from sim.analysis import matrices as accounting
from sim.analysis.metrics import (
    DATES,
    INVESTOR_METRICS,
    LAB_DATES,
    LAB_METRICS,
    LAB_MONEY,
    MONEY,
    Metrics,
    distinct,
    sales_paths,
)
from sim.analysis.summary import summary_text
from sim.inputs.models import Substitution
from sim.inputs.resolved import inputs_hash as inputs_hash
from sim.inputs.resolved import resolved_yaml as resolved_yaml
from sim.inputs.resolved import resolved_yaml_with_sources as resolved_yaml_with_sources
from sim.inputs.scenario import Scenario
from sim.inputs.units import format_dollars
from sim.model.books import KIND, KINDS, Flows, LedgerArrays, audit
from sim.model.engine import RunData

if TYPE_CHECKING:  # pandas is imported where a frame is made: `roundtrip run` needs none
    import pandas as pd
    from pandas.io.formats.style import Styler

# a lab's figures in cents: all but its dates and its share counts (the cap table)


def _dates_as_datetime(df: pd.DataFrame) -> pd.DataFrame:
    """Date columns as pandas datetimes (NaT where there is no date), for plotting and filtering."""
    import pandas as pd

    for c in df.columns:
        if c in DATES or c in LAB_DATES:
            df[c] = pd.to_datetime(df[c])
    return df


def _arrow(values: npt.NDArray[Any]) -> pa.Array:
    """A numpy column (int32, int64 or datetime64[s]) as an Arrow array over the same memory.
    ``pa.array`` would do the same, but it first imports pandas to ask whether this is a pandas
    object, which costs a plain ``roundtrip run`` half a second; hence also ``_names``."""
    kinds = {"int32": pa.int32(), "int64": pa.int64(), "datetime64[s]": pa.timestamp("s")}
    kind = kinds[str(values.dtype)]
    raw = np.ascontiguousarray(values).view(np.int32 if kind == pa.int32() else np.int64)
    return pa.Array.from_buffers(kind, len(raw), [None, pa.py_buffer(raw)])


def _names(values: Sequence[str | None], codes: npt.NDArray[Any]) -> pa.Array:
    """A string column of ``values[codes]`` (null where the value is None), made in Arrow: no
    Python object per row."""
    data = [(v or "").encode() for v in values]
    offsets = np.zeros(len(data) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in data], out=offsets[1:])
    valid = np.array([v is not None for v in values], dtype=bool)
    bitmap = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    names = pa.Array.from_buffers(
        pa.large_string(), len(data), [bitmap, pa.py_buffer(offsets), pa.py_buffer(b"".join(data))]
    )
    return names.take(_arrow(codes))


def _date(start: dt.date, day: int) -> dt.date | None:
    return None if day < 0 else start + dt.timedelta(days=int(day))


class RunLike(Protocol):
    """What charts and reports read from a run: a fresh ``Result`` or a saved run folder
    (``sim.io.output.read_run``) alike."""

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
        if name in MONEY or name in LAB_MONEY:
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
        import pandas as pd

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
        import pandas as pd

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
        import pandas as pd

        rows = {
            lab: {n: self._value(n, v[n]) for n in LAB_METRICS}
            for lab, v in self.all_metrics.labs.items()
        }
        return _dates_as_datetime(
            pd.DataFrame.from_dict(rows, orient="index", columns=list(LAB_METRICS))
        )

    # ---- the counterfactual twins -------------------------------------------------------------
    def twin(
        self,
        investor: str,
        *,
        investment_only: bool = False,
        substitution: Substitution | None = None,
    ) -> Result | None:
        """This run's counterfactual twin for ``investor``: the same run without its investments
        and the contracts that came with them (with ``investment_only``, keeping those
        contracts), replacing the money by ``substitution`` (None: the file's, the headline
        twin); None if it has none (it owns no cloud or does not invest, or the batch ran no
        twin under that substitution). The twin's ledger, balances and lab metrics (what it
        raised: ``lab_metrics.raised``) are read as a run's; its own caused figures are 0."""
        col = self.all_metrics.twins.column(
            self.run, investor, keeps_linked=investment_only, substitution=substitution
        )
        if col is None:
            return None
        return Result(self.scenario, self.data, self.all_metrics, col)

    # ---- money cycles ------------------------------------------------------------------------
    def cycles(
        self, *, length_bound: int | None = None, max_cycles: int | None = None
    ) -> pd.DataFrame:
        """The money cycles of this run and the traced dollars that came back along each, one
        row per cycle, then per investor its group cycles (sim/analysis/cycles.py, docs/cycles.md).
        ``length_bound``: the longest cycle looked for, in edges; ``max_cycles``: at most that
        many per enumeration (default ``sim.analysis.cycles.MAX_CYCLES``; a warning says if hit)."""
        from sim.analysis import cycles  # networkx only where cycles are asked for

        limit = cycles.MAX_CYCLES if max_cycles is None else max_cycles
        found = cycles.cycles(self.data, self.run, length_bound=length_bound, max_cycles=limit)
        return cycles.table(found)

    def cycles_summary(self, top: int = 10) -> str:
        """The money cycles that brought traced dollars back, largest first (at most ``top``):
        the text ``roundtrip run --matrices`` prints."""
        table = self.cycles()
        back = table[table.throughput_cents > 0].sort_values("throughput_cents", ascending=False)
        lines = [
            f"Money cycles: {len(back)} of {len(table)} brought traced dollars back "
            "(docs/cycles.md; all of them in cycles.csv)"
        ]
        for _, c in back.head(top).iterrows():
            who = c.group if isinstance(c.group, str) else c.start
            lines.append(
                f"  {format_dollars(int(c.throughput_cents)):>10}  {c.share:6.1%} of what "
                f"{self.scenario.label(who)} sent   {c.path}"
            )
        if len(back) > top:
            lines.append(f"  ... and {len(back) - top} more")
        return "\n".join(lines)

    # ---- ledger and balances -----------------------------------------------------------------
    @cached_property
    def ledger_table(self) -> pa.Table:
        """Each movement of the run as an Arrow table: day, date, payer, payee, kind, deal, the
        lab the deal concerns, cents, and cents by origin (``from:<origin>`` columns). This is
        what ``ledger.parquet`` holds; ``ledger`` is the same as a pandas frame.

        Built column by column in Arrow, with no Python object per row: names are taken from a
        small string array by code, and each ``from:`` column is a contiguous slice of one block."""
        led, plan = self.data.ledger, self.data.plan
        if led is None:
            raise ValueError("this batch kept flows only (record='flows'), not the ledger")
        cents = led.cents[:, :, self.run]  # [record, origin]
        amount = cents.sum(axis=1)
        keep = np.flatnonzero(amount != 0)
        start = np.datetime64(plan.start, "D")
        # the block is [origin, record], so each column is contiguous and goes to Arrow (and on
        # to Parquet) without a copy; filled 16 MiB at a time
        block = np.empty((cents.shape[1], len(keep)), dtype=np.int64)
        chunk = max(1, 2**21 // max(cents.shape[1], 1))  # records per 2**21 cents
        for i in range(0, len(keep), chunk):
            block[:, i : i + chunk] = cents[keep[i : i + chunk]].T
        deals = led.deal[keep]
        columns: dict[str, pa.Array] = {
            "day": _arrow(led.time[keep].astype(np.int64)),
            "date": _arrow((start + led.time[keep].astype("timedelta64[D]")).astype("M8[s]")),
            "payer": _names(plan.accounts, led.payer[keep]),
            "payee": _names(plan.accounts, led.payee[keep]),
            "kind": _names(list(KINDS), led.kind[keep]),
            "deal": _names(self.data.deals, deals),
            "lab": _names(self.data.deal_lab, deals),
            "amount_cents": _arrow(amount[keep]),
        }
        for name, column in zip(plan.origins, block, strict=True):
            columns[f"from:{name}"] = _arrow(column)
        return pa.table(columns)

    @cached_property
    def twin_series_table(self) -> pa.Table:
        """What the run and its twins moved, per investor with a twin, lab and date, as an Arrow
        table (``twin_series.parquet``): date, investor, lab, then the cents moved that day (not
        cumulative) as ``revenue_cents_{run,twin,twin_investment_only}`` (sales into the sellers
        it owns on the lab's deals, every path: ``sim.analysis.metrics.sales_paths``) and
        ``profit_cents_{...}`` (profit those sellers passed to the investor on that lab's
        deals). One row per date on which any of them moved; investors without a twin have no
        rows. Sums over it give the caused metrics."""
        d, led, plan = self.data, self.data.timed, self.data.plan
        acc = {a: k for k, a in enumerate(plan.accounts)}
        twins = self.all_metrics.twins
        amount = led.amount  # [record, run]
        deal_lab = np.array([dl or "" for dl in d.deal_lab], dtype=object)
        sides = ("run", "twin", "twin_investment_only")
        columns: dict[str, list[Any]] = {"day": [], "investor": [], "lab": []}
        columns.update({f"{k}_cents_{side}": [] for k in ("revenue", "profit") for side in sides})
        for investor, owns in plan.investors.items():
            package = twins.column(self.run, investor)
            if package is None:
                continue
            only = twins.column(self.run, investor, keeps_linked=True)
            cols = [self.run, package, only if only is not None else package]
            owned = [acc[c] for c in owns]
            labs = list(dict.fromkeys(x.lab for x in plan.investments if x.investor == investor))
            for lab in labs:
                # sales into what it owns on this lab's deals, every path (as the caused metrics)
                paths = sales_paths(plan, investor, deal_lab == lab, led)
                rows = {
                    "revenue": paths["own_cloud"] | paths["own_vendor"] | paths["via_others"],
                    "profit": (led.kind == KIND["profit"])
                    & (led.payee == acc[investor])
                    & np.isin(led.payer, owned)
                    & (deal_lab[led.deal] == lab),
                }
                picked = {k: amount[r][:, cols] for k, r in rows.items()}  # [record, side]
                times = {k: led.time[r] for k, r in rows.items()}
                days = distinct(np.concatenate(list(times.values())))
                sums = {}
                for k in rows:
                    at = np.searchsorted(days, times[k])
                    sums[k] = np.zeros((len(days), 3), dtype=np.int64)
                    np.add.at(sums[k], at, picked[k])
                moved = (sums["revenue"] != 0).any(axis=1) | (sums["profit"] != 0).any(axis=1)
                columns["day"] += days[moved].tolist()
                columns["investor"] += [investor] * int(moved.sum())
                columns["lab"] += [lab] * int(moved.sum())
                for k in rows:
                    for j, side in enumerate(sides):
                        columns[f"{k}_cents_{side}"] += sums[k][moved, j].tolist()
        start = np.datetime64(plan.start, "D")
        day = np.array(columns.pop("day"), dtype=np.int64)
        investors, labs_col = columns.pop("investor"), columns.pop("lab")
        names = list(dict.fromkeys(investors + labs_col))
        code = {n: i for i, n in enumerate(names)}
        table = {
            "date": _arrow((start + day.astype("timedelta64[D]")).astype("M8[s]")),
            "investor": _names(names, np.array([code[x] for x in investors], dtype=np.int64)),
            "lab": _names(names, np.array([code[x] for x in labs_col], dtype=np.int64)),
        }
        for name, values in columns.items():
            table[name] = _arrow(np.array(values, dtype=np.int64))
        return pa.table(table)

    def paths_series(self) -> pd.DataFrame:
        """When the money came back, by path: per investor with a seller and a deal, path
        (``sim.analysis.metrics.PATHS``) and date, the cumulative dollars of sales into what it
        owns in
        this run (``sales``), in its twin without the investment (``twin``), the difference
        (``caused``) and the part of the run's that is its own money (``traced``): the
        ``incremental_revenue_*`` and ``round_trip_*`` metrics as they built up over time."""
        import pandas as pd

        d, plan, led = self.data, self.data.plan, self.data.ledger
        if led is None:
            raise ValueError("this batch kept flows only (record='flows'), not the ledger")
        twins = self.all_metrics.twins
        frames = []
        start = np.datetime64(plan.start, "D")
        for investor in plan.investors:
            labs = {x.lab for x in plan.investments if x.investor == investor}
            if not plan.investors[investor] or not labs:
                continue
            twin = twins.column(self.run, investor)
            on_deals = np.array([dl in labs for dl in d.deal_lab])
            origin = plan.origins.index(f"{investor}:investment")
            for path, rows in sales_paths(plan, investor, on_deals, led).items():
                at = np.flatnonzero(rows)
                run = led.cents[at, :, self.run].sum(axis=1)
                other = led.cents[at, :, twin].sum(axis=1) if twin is not None else 0 * run
                frame = pd.DataFrame(
                    {
                        "date": start + led.time[at].astype("timedelta64[D]"),
                        "sales": run,
                        "twin": other,
                        "traced": led.cents[at, origin, self.run],
                    }
                )
                frame = frame.groupby("date", sort=True).sum().cumsum() / 100
                frame["caused"] = frame.sales - frame.twin
                frame.insert(0, "path", path)
                frame.insert(0, "investor", investor)
                frames.append(frame.reset_index())
        columns = ["investor", "path", "date", "sales", "twin", "caused", "traced"]
        if not frames:
            return pd.DataFrame(columns=columns)
        return pd.concat(frames, ignore_index=True)[columns]

    @cached_property
    def twin_series(self) -> pd.DataFrame:
        """``twin_series_table`` as a pandas frame."""
        return self.twin_series_table.to_pandas()

    @cached_property
    def ledger(self) -> pd.DataFrame:
        """``ledger_table`` as a pandas frame (str names, datetime64 dates, int64 cents)."""
        return self.ledger_table.to_pandas()

    @cached_property
    def balances_table(self) -> pa.Table:
        """Cash per grid date, per account (agents and external accounts), per origin, in cents,
        as an Arrow table: what ``balances.parquet`` holds; ``balances`` is the pandas frame."""
        plan, bal = self.data.plan, self.data.balances
        if bal is None:
            raise ValueError("this batch ran without keeping balances (keep_balances=False)")
        n_p, n_a, n_o = bal.shape[:3]
        dates = np.array(plan.grid, dtype="datetime64[D]").astype("datetime64[s]")
        # a row per (point, account, origin), point-major: several times the size of the
        # balances themselves, so each column is made once and handed over without a copy
        account = np.repeat(np.arange(n_a, dtype=np.int32), n_o)
        return pa.table(
            {
                "step": _arrow(np.repeat(np.arange(n_p, dtype=np.int64), n_a * n_o)),
                "date": _arrow(np.repeat(dates, n_a * n_o)),
                "account": _names(plan.accounts, np.tile(account, n_p)),
                "origin": _names(plan.origins, np.tile(np.arange(n_o, dtype=np.int32), n_p * n_a)),
                "cents": _arrow(bal[:, :, :, self.run].flatten()),  # a copy, never a view
            }
        )

    @cached_property
    def balances(self) -> pd.DataFrame:
        """``balances_table`` as a pandas frame."""
        return self.balances_table.to_pandas()

    @cached_property
    def check(self) -> dict[str, Any]:
        """The conservation checks, measured again on this run's opening and closing pools and
        its ledger, or its flow matrix where the ledger was not kept (``sim.model.books.audit``):
        ``balanced`` is true only if all three hold. ``records``: how many rows with cents in
        them were replayed, the run's ledger records, or its flows where ``recorder`` is
        ``"flows"``."""
        d, r = self.data, self.run
        led = d.ledger
        rows: LedgerArrays | Flows = d.flows.select(r)
        if led is not None:
            rows = LedgerArrays(
                led.time, led.payer, led.payee, led.kind, led.deal, led.cents[:, :, r : r + 1]
            )
        found = audit(d.opening[:, :, r : r + 1], d.closing[:, :, r : r + 1], rows, d.external)
        return {
            "balanced": bool(found.balanced[0]),
            "origins_conserved": bool(found.conserved[0]),
            "no_negative_cash": bool(found.non_negative[0]),
            "ledger_replays": bool(found.replayed[0]),
            "records": int((rows.cents[:, :, 0].sum(axis=1) != 0).sum()),
            "recorder": "ledger" if led is not None else "flows",
            "opening_total_cents": int(found.opening_total[0]),
            "closing_total_cents": int(found.closing_total[0]),
        }

    # ---- accounting matrices (sim/analysis/matrices.py, docs/matrices.md)
    # -------------------------------
    def matrices(self, groups: dict[str, list[str]] | None = None) -> accounting.Matrices:
        """This run's transaction-flow matrix, balance sheet at the end, and transaction flows
        consolidated by ``groups`` (default: each investor with the clouds it owns), in exact
        integer cents; each ``Matrix`` gives ``.frame()`` in dollars, ``.frame(cents=True)``."""
        return accounting.views(self.data, self.run, groups)

    def transaction_flows(self, *, by_origin: bool = False, cents: bool = False) -> pd.DataFrame:
        """The transaction-flow matrix: a row per kind of flow, then ``change in cash``; a column
        per account; received less paid. Dollars, or int64 cents with ``cents``; with
        ``by_origin``, a row per (kind, origin)."""
        matrix = accounting.transaction_flows(self.data, self.run, by_origin=by_origin)
        return matrix.frame(cents=cents)

    def balance_sheet(self, *, cents: bool = False) -> pd.DataFrame:
        """The balance-sheet matrix at the end of the run: cash by origin, equity stakes, debt,
        commitments not yet paid, minus net worth. Dollars, or int64 cents with ``cents``."""
        return accounting.balance_sheet(self.data, self.run).frame(cents=cents)

    def consolidated(
        self, groups: dict[str, list[str]] | None = None, *, cents: bool = False
    ) -> pd.DataFrame:
        """The transaction-flow matrix with each group's accounts in one column and the flows
        inside a group removed (default groups: each investor with the clouds it owns)."""
        return self.matrices(groups).consolidated.frame(cents=cents)

    # ---- text --------------------------------------------------------------------------------
    def table(self, which: str = "investors", *, keep_empty: bool = False) -> Styler:
        """The metrics as a person reads them (``sim.analysis.tables``): a row per metric not
        zero or empty for every agent, a column per agent; ``which`` is ``investors``, ``labs``
        or ``by_lab``. The numbers stay in ``metrics``, ``lab_metrics``, ``metrics_by_lab``."""
        from sim.analysis import tables

        return tables.result_table(self, which, keep_empty=keep_empty)

    def _repr_html_(self) -> str:
        from sim.analysis import tables

        return tables.result_html(self)

    def summary(self) -> str:
        """The readable summary `roundtrip run` prints (sim/analysis/summary.py)."""
        return summary_text(self.scenario, self.metrics_dict())

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
        if not -len(self) <= run < len(self):
            raise IndexError(f"run {run} of a batch of {len(self)}")
        return Result(self.scenarios[run], self.data, self.all_metrics, run % len(self))

    @cached_property
    def metrics(self) -> pd.DataFrame:
        """One row per (run, investor), the investor metrics as columns (money in dollars)."""
        import pandas as pd

        frames = []
        for inv, values in self.all_metrics.investors.items():
            cols: dict[str, Any] = {"run": np.arange(len(self)), "investor": inv}
            for n in INVESTOR_METRICS:
                v = values[n][: len(self)]  # the twins, after the runs, are not rows
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
