"""What decides a caused figure, drawn: the caused revenue under each substitution.

A twin runs without the investment; what it does about the money it then lacks is an assumption
(``counterfactual.substitution``, sim/analysis/causes.py): ``none``, the money is not replaced;
``file``, the labs' financing rules as the file states them; ``full``, every missing dollar is
raised without limit. Per investor with a twin, one row for what the investment and the contracts
that came with it caused, one for the investment alone (where a contract came with it): the
caused revenue under each of the three, on one line, the file's own choice marked. The figures
are the metrics' own (``incremental_revenue_booked..._substitution_none`` etc.,
docs/metrics.md, "Substitution").
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.analysis import causes
from sim.analysis.result import RunLike
from sim.views.charts.labels import assumption_note, caused_by, money_text
from sim.views.charts.style import (
    BASE_COLOURS,
    INK,
    MUTED,
    SLIDE_SIZE,
    agent_label,
    house_style,
    money_axis,
    new_figure,
)

MARKERS = {"none": "o", "file": "D", "full": "s"}
COLOURS = dict(zip(causes.SUBSTITUTIONS, (BASE_COLOURS[1], INK, BASE_COLOURS[0]), strict=True))


def substitution_table(run: RunLike) -> pd.DataFrame:
    """Per investor with a twin and reading (the package, the investment alone): the caused
    revenue (booked where the run has that reading) under each substitution, in dollars; empty
    where the run did not measure them (a batch run without bound twins)."""
    s, d = run.scenario, run.metrics_dict()["investors"]
    rows = []
    for inv, m in d.items():
        if not (s.investors[inv].owns and m["invested"]):
            continue
        base = (
            "incremental_revenue_booked"
            if "incremental_revenue_booked" in m
            else "incremental_revenue"
        )
        readings = [("", False)] + ([("_investment_only", True)] if causes.linked(s, inv) else [])
        for suffix, alone in readings:
            keys = [f"{base}{suffix}_substitution_{w}" for w in causes.SUBSTITUTIONS]
            if not all(m.get(k) is not None for k in keys):
                continue
            rows.append(
                {
                    "investor": inv,
                    "reading": causes.cause(
                        s,
                        inv,
                        investment_only=alone,
                        amount="investment",
                        short=True,
                        label=lambda a: agent_label(s, a),
                    ),
                    **{w: float(m[k]) for w, k in zip(causes.SUBSTITUTIONS, keys, strict=True)},
                }
            )
    return pd.DataFrame(rows, columns=["investor", "reading", *causes.SUBSTITUTIONS])


def substitution_chart(run: RunLike, *, size: Sequence[float] = SLIDE_SIZE) -> Figure:
    """The caused revenue under each substitution, per investor and reading (see the module's
    docstring)."""
    table = substitution_table(run)
    chosen = causes.substitution(run.scenario)
    values = table[list(causes.SUBSTITUTIONS)].to_numpy(dtype=float)
    if len(table):
        spread = values.max(axis=1) - values.min(axis=1)
        first = table.iloc[int(np.argmax(spread))]  # the row the assumption moves most
        title = (
            f"What {first.reading} caused: {money_text(first[chosen])} as the file assumes, "
            f"{money_text(values[int(np.argmax(spread))].min())} to "
            f"{money_text(values[int(np.argmax(spread))].max())} over the three substitutions"
        )
    else:
        title = "No investor here has a twin measured under the three substitutions"
    subtitle = (
        "Caused revenue at the investor's own sellers (this run less its twin), as booked, under "
        "each assumption of what the twin does about the money it lacks: none, the money is not "
        "replaced; file, the labs' financing rules as stated; full, every missing dollar raised."
        + assumption_note(run, list(dict.fromkeys(table.investor)))
    )
    with house_style():
        fig, (ax,) = new_figure(run, title, subtitle, size=size)
        if not len(table):
            _say_why_empty(run, ax)
            return fig
        _draw_rows(run, ax, table, values, chosen)
    return fig


def _say_why_empty(run: RunLike, ax: Axes) -> None:
    """No row to draw: say why, investor by investor."""
    s = run.scenario
    ax.set_axis_off()
    lines = [
        "A substitution decides what a twin does about the money its lab lacks without an "
        "investment;",
        "here no investor both invests and owns a seller, so no caused figure depends on it.",
        *(
            f"{agent_label(s, i)}: "
            + (
                "owns " + ", ".join(agent_label(s, c) for c in inv.owns)
                if inv.owns
                else "owns no seller"
            )
            + ("" if any(d.investor == i for d in s.investments) else ", invests in no lab here")
            for i, inv in s.investors.items()
        ),
    ]
    for k, line in enumerate(lines):
        ax.text(
            0.0, 0.95 - 0.08 * k, line, transform=ax.transAxes, fontsize=12, color=MUTED, va="top"
        )


def _draw_rows(
    run: RunLike, ax: Axes, table: pd.DataFrame, values: npt.NDArray[np.float64], chosen: str
) -> None:
    """One line per row from its least to its most caused revenue, a marker per substitution,
    the row's name and its figures (each distinct one once) above its line."""
    y = np.arange(len(table))[::-1].astype(float)
    largest = float(np.abs(values).max()) or 1.0
    lo = min(0.0, float(values.min()))
    ax.hlines(y, values.min(axis=1), values.max(axis=1), color=MUTED, linewidth=2, zorder=1)
    for j, w in enumerate(causes.SUBSTITUTIONS):
        ax.scatter(
            values[:, j],
            y,
            s=120 if w == chosen else 70,
            marker=MARKERS[w],
            color=COLOURS[w],
            edgecolor=INK,
            zorder=3 + (w == chosen),
            label=f"{w}{', the file' + chr(39) + 's choice' if w == chosen else ''}: "
            + causes.SUBSTITUTION_WORDS[w],
        )
    for k, (inv, reading) in enumerate(zip(table.investor, table.reading, strict=True)):
        said: dict[str, list[str]] = {}
        for j, w in enumerate(causes.SUBSTITUTIONS):
            said.setdefault(money_text(values[k, j]), []).append(w)
        figures = ", ".join(f"{' = '.join(which)} {text}" for text, which in said.items())
        name = _row_name(run, inv, str(reading))
        ax.text(lo, y[k] + 0.22, f"{name}: {figures}", fontsize=12, color=INK, va="bottom")
    ax.set_yticks([])
    money_axis(ax, largest, axis="x")
    ax.set_xlim(lo - 0.03 * largest, 1.08 * largest)
    ax.set_ylim(-0.9, len(table) - 0.3)
    ax.legend(loc="lower right", frameon=False, fontsize=10)


def _row_name(run: RunLike, investor: str, reading: str) -> str:
    """A row's name on the axis: the investor and what its reading keeps or drops."""
    if reading.endswith("alone"):
        return f"{agent_label(run.scenario, investor)} (alone)"
    return caused_by(run, investor)
