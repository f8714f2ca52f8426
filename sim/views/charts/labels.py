"""Words about a run that charts of one run put in their titles and labels: agents by the names
the scenario gives them, money, months, the horizon, the tracing rule, and the note said when a
run folder does not hold the twin's series.

One place for them, so that the charts over time (``timeseries.py``) and the run against its twin
(``caused.py``) say the same thing the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd

from sim.analysis import causes
from sim.analysis.result import RunLike
from sim.views.charts.series import has_twin_series
from sim.views.charts.style import agent_label, fit_label, format_money

# said in the subtitle of a chart drawn from a run folder that does not hold the twin's series
TWIN_MISSING = (
    "This run folder does not hold the twin's path over time: what the investment caused is "
    "marked at the end only, from metrics.json (a fresh run draws it)."
)


def name_of(run: RunLike, agent: str) -> str:
    """An agent as the scenario names it for readers (its ``label``, else its key)."""
    return agent_label(run.scenario, agent)


def names_of(run: RunLike, agents: Iterable[str]) -> str:
    """``A``, ``A and B``, ``A, B and C`` (``no lab`` if there are none)."""
    names = [name_of(run, a) for a in agents]
    if not names:
        return "no lab"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def possessive(name: str) -> str:
    """``Amazon's``, ``Ross'``."""
    return name + ("'" if name.endswith("s") else "'s")


# Where money came from, as the ledger names an origin (``openai:equity``) and a reader reads it
# after the agent's name ("OpenAI's outside equity")
ORIGIN_WORDS = {
    "investment": "investment",
    "revenue": "revenue",
    "cash": "cash at start",
    "equity": "outside equity",
    "debt": "borrowing",
    "credits": "credits",
    "capex": "capex loans",
}


def origin_name(run: RunLike, origin: str, limit: int | None = None) -> str:
    """An origin of money in words: ``openai:equity`` -> "OpenAI's outside equity". With
    ``limit``, the agent's name is cut so that the whole fits in ``limit`` characters."""
    agent, _, what = origin.partition(":")
    words = ORIGIN_WORDS.get(what, what.replace("_", " "))
    name = run.scenario.label(agent)
    if limit is not None:
        name = fit_label(name, max(8, limit - len(words) - 3))
    return f"{possessive(name_of(run, agent) if limit is None else name)} {words}"


def money_text(dollars: float | None) -> str:
    """Dollars as a chart writes them (``$1.2B``), ``$0`` under half a cent, ``n/a`` for None."""
    if dollars is None:
        return "n/a"
    return "$0" if abs(dollars) < 0.005 else format_money(dollars)


def month(date: str | dt.date | pd.Timestamp) -> str:
    """``Mar 2026``."""
    return f"{pd.Timestamp(date):%b %Y}"


def span(run: RunLike) -> str:
    """The run's horizon: ``Mar 2026 to Mar 2034``."""
    s = run.scenario
    return f"{month(s.start)} to {month(s.end)}"


def tracing_words(run: RunLike) -> str:
    """The tracing rule in words: ``pro rata`` (no hyphen for a line to break at)."""
    return run.scenario.tracing.replace("_", " ")


def twin_note(run: RunLike) -> str:
    """``TWIN_MISSING`` after a space, for a run folder without the twin's series; else ``""``."""
    return "" if has_twin_series(run) else " " + TWIN_MISSING


def clouds_of(run: RunLike, investor: str) -> str:
    """The names of the sellers an investor owns, or ``its cloud`` if it owns none."""
    owns = run.scenario.investors[investor].owns
    return names_of(run, owns) if owns else "its cloud"


def caused_by(run: RunLike, investor: str, amount: str = "") -> str:
    """What a chart's caused figure is caused by, in few words: "Amazon's $50B with the AWS
    expansion" (sim/analysis/causes.py says it once for every reader)."""
    return causes.cause(
        run.scenario, investor, amount=amount, short=True, label=lambda a: name_of(run, a)
    )


def assumption_note(run: RunLike, investors: Iterable[str]) -> str:
    """ " Deciding assumption: ..." for a subtitle, in few words: what the twins of
    ``investors`` do about the money their labs lack, said once for all of them."""
    s = run.scenario
    chosen = list(investors)
    if not chosen:
        return ""
    labs = list(dict.fromkeys(lab for i in chosen for lab in causes.invested_labs(s, i)))
    text = causes.financing_assumption(s, labs, short=True, label=lambda a: name_of(run, a))
    if any(r.investor in chosen for r in s.revenue_shares):
        text += "; revenue shares dropped with the investment"
    return f" Deciding assumption: {text}."
