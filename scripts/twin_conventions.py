"""What a package caused, under the twin's convention and under deleting its contracts.

The counterfactual twin (sim/model/twin.py) runs without an investor's investments and revenue
shares and with the take-or-pay minimums of the contracts linked to them set to zero: the
contracts themselves stay, and so do their payment terms on the lab's purchases at that seller.
A user asked "what if the deal had not happened" would rather delete them. This script measures
both, for every bundled file with a linked contract and every investor with one: the package's
caused revenue (cash and booked) and its net cost,

* zeroed: the run's metrics, against its twin, as metrics.json gives them;
* deleted: the same run against the scenario rebuilt without the investor's investments, revenue
  shares and linked contracts, run alone; read with the same rule (sim/analysis/caused.py) and
  the same present values (``sim.analysis.metrics.Discount``).

Booked figures do not depend on payment terms, so they agree to the cent; cash figures differ
by what the terms move across the horizon's end. docs/metrics.md ("What each twin keeps and
drops") holds the table this prints, and tests/test_booked.py that it is the one this computes.

    python scripts/twin_conventions.py
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sim  # noqa: E402
from sim.analysis import caused  # noqa: E402
from sim.analysis.metrics import Discount  # noqa: E402
from sim.analysis.result import Result  # noqa: E402
from sim.inputs.loader import parse_resolved  # noqa: E402
from sim.inputs.resolved import resolved_yaml_of  # noqa: E402
from sim.model.books import KIND  # noqa: E402
from sim.model.engine import RunData  # noqa: E402

BUNDLED = sorted((ROOT / "scenarios").glob("*.yaml"))
HEADER = (
    "| File | Investor | Revenue, cash: zeroed | deleted | Revenue, booked: zeroed | deleted "
    "| Net cost: zeroed | deleted |"
)


@dataclass(frozen=True)
class Row:
    """One package's caused figures, in cents, under both conventions."""

    file: str
    investor: str
    revenue: tuple[int, int]  # cash: (zeroed, deleted)
    revenue_booked: tuple[int, int]
    profit: tuple[int, int]
    profit_booked: tuple[int, int]
    net_cost: tuple[int, int]


def linked(doc: dict[str, Any]) -> dict[str, set[str]]:
    """Per investor, the ids of the contracts that came ``with`` one of its investments
    (``doc``: a scenario resolved, every deal with its id)."""
    deals = doc["deals"]
    owner = {d["id"]: d["investor"] for d in deals if d.get("kind") == "investment" and "id" in d}
    out: dict[str, set[str]] = {}
    for d in deals:
        if d.get("kind") == "compute_contract" and d.get("with") in owner:
            out.setdefault(owner[d["with"]], set()).add(d.get("id", ""))
    return out


def without(doc: dict[str, Any], investor: str) -> dict[str, Any]:
    """``doc`` without ``investor``'s investments, its revenue shares and the contracts linked
    to its investments."""
    deals = doc["deals"]
    ids = {d["id"] for d in deals if d.get("kind") == "investment" and d["investor"] == investor}
    kept = [
        d
        for d in deals
        if not (d.get("kind") in ("investment", "revenue_share") and d["investor"] == investor)
        and not (d.get("kind") == "compute_contract" and d.get("with") in ids)
    ]
    return {**doc, "deals": kept}


def figures(data: RunData, investor: str, labs: list[str], col: int) -> dict[str, float]:
    """Batch column ``col``'s sales into ``investor``'s sellers from ``labs`` (cash and
    booked), the profit they passed to it (both), and what came back in present value: that
    profit (owed invoices at their due day) and revenue shares, in cents."""
    plan, fl, tm = data.plan, data.flows, data.timed
    on = caused.deals_with(data, labs)
    amount = fl.cents.sum(axis=1)[:, col]
    owed = caused.owed(data, investor, labs)
    acc = {a: k for k, a in enumerate(plan.accounts)}
    lab_ids = [acc[lab] for lab in labs]
    shares = tm.kind == KIND["revenue_share"]
    shares &= (tm.payee == acc[investor]) & np.isin(tm.payer, lab_ids)
    back = np.flatnonzero(caused.profit_back(plan, investor, on, tm) | shares)
    discount = Discount(data)
    pv = (tm.amount[back] / discount.factors(back)).sum(axis=0)
    pv = pv + (owed.profit / discount.on_days(plan, owed.due)).sum(axis=0)
    revenue = float(amount[caused.sales(plan, investor, on, fl)].sum())
    profit = float(amount[caused.profit_back(plan, investor, on, fl)].sum())
    return {
        "revenue": revenue,
        "revenue_booked": revenue + float(owed.revenue[:, col].sum()),
        "profit": profit,
        "profit_booked": profit + float(owed.profit[:, col].sum()),
        "pv_back": float(pv[col]),
    }


def _cents(x: float | npt.NDArray[Any]) -> int:
    return int(np.rint(x))


def _both(
    m: dict[str, Any], run: dict[str, float], deleted: dict[str, float], key: str
) -> tuple[int, int]:
    """A caused figure, zeroed (the metric ``incremental_<key>``) and deleted."""
    return int(m[f"incremental_{key}"][0]), _cents(run[key] - deleted[key])


def rows(files: list[Path] = BUNDLED) -> list[Row]:
    """The table's rows: per file and investor with a linked contract."""
    out: list[Row] = []
    for path in files:
        scenario = sim.load_scenario(path)
        doc = scenario.resolved
        for investor in sorted(linked(doc)):
            result = sim.run(scenario, record="flows", keep_balances=False)
            m = result.all_metrics.investors[investor]
            labs = sorted({d.lab for d in result.scenario.investments if d.investor == investor})
            twin = result.all_metrics.twins.column(0, investor)
            assert twin is not None
            run, zeroed = (figures(result.data, investor, labs, c) for c in (0, twin))
            text = resolved_yaml_of(without(doc, investor), {})
            alone: Result = sim.run(
                parse_resolved(text, f"{path.name} without {investor}"),
                record="flows",
                keep_balances=False,
            )
            deleted = figures(alone.data, investor, labs, 0)
            # the zeroed column read here is the metrics' own twin: the same figures
            assert _cents(run["revenue"] - zeroed["revenue"]) == int(m["incremental_revenue"][0])
            pv_invested = int(m["pv_invested"][0])

            out.append(
                Row(
                    file=path.name,
                    investor=investor,
                    revenue=_both(m, run, deleted, "revenue"),
                    revenue_booked=_both(m, run, deleted, "revenue_booked"),
                    profit=_both(m, run, deleted, "profit"),
                    profit_booked=_both(m, run, deleted, "profit_booked"),
                    net_cost=(
                        int(m["net_cost"][0]),
                        pv_invested - _cents(run["pv_back"] - deleted["pv_back"]),
                    ),
                )
            )
    return out


def billions(cents: int) -> str:
    """Cents as dollars in billions, to the ten million: ``$13.54B``, ``-$3.01B``."""
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) / 1e11:,.2f}B"


def table(found: list[Row]) -> str:
    """The rows as the markdown table of docs/metrics.md."""
    lines = [HEADER, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in found:
        cells = [r.revenue, r.revenue_booked, r.net_cost]
        lines.append(
            f"| {r.file} | {r.investor} | "
            + " | ".join(f"{billions(z)} | {billions(d)}" for z, d in cells)
            + " |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(rows()))
