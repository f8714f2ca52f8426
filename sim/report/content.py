"""What the report says, the same in PDF and HTML: the question, the key figures, sentences
reading them, the assumptions and the conservation check, as plain text and tables.

Everything is read off the run: ``metrics_dict()``, the scenario's resolved inputs and the
comments beside them in its file. A run folder read back with ``read_run`` gives the same figures
(its inputs come from scenario.resolved.yaml, which holds no comments).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from matplotlib.figure import Figure

from sim.charts.series import investor_flows
from sim.charts.style import source_line
from sim.result import RunLike
from sim.scenario import Scenario
from sim.units import format_dollars

# Keys of the resolved inputs that hold dollars, and those that hold fractions (besides the shares
# under a lab's compute providers): how the assumptions table writes their values.
_MONEY_KEYS = {"cash", "annual", "pre_money", "round_size", "amount", "total"}
_SHARE_KEYS = {"growth", "margin"}

ASSUMPTIONS_NOTE = (
    "Every input of the run after defaults and overrides, as --set names it, with the comment "
    "written beside it in the scenario file (in grey: a comment written beside the item that "
    "holds the input)."
)


def roundtrip_version() -> str:
    """The installed version, as ``roundtrip --version`` prints it."""
    try:
        return version("roundtrip")
    except PackageNotFoundError:  # running from a source tree that was never installed
        from sim import __version__

        return __version__


@dataclass(frozen=True)
class Assumption:
    """One input: its dotted path (as ``--set`` takes it), its value as shown, and the comment
    written beside it in the scenario file, or beside the nearest item holding it."""

    path: str
    value: str
    comment: str = ""
    comment_on: str | None = None  # the dotted path the comment is written beside

    @property
    def inherited(self) -> bool:
        """The comment belongs to an item holding this input (``agents.aws``), not to it."""
        return self.comment_on is not None and self.comment_on != self.path


@dataclass(frozen=True)
class Table:
    """A header and rows of text; the first column labels, the others (in figures) values."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


Points = tuple[str, tuple[str, ...]]  # whose figures, sentences reading them


@dataclass(frozen=True)
class ReportContent:
    """Everything the report says, in the order it says it (the charts aside)."""

    title: str
    subtitle: str
    question: str
    description: str
    investors: Table  # key figures, one column per investor
    labs: Table  # key figures, one column per lab
    figures_note: str
    reading: tuple[Points, ...]  # a few sentences per investor and per lab
    assumptions: tuple[Assumption, ...]
    check: str
    check_table: Table
    source: str  # the charts' source line: scenario file, inputs hash, scenario name
    version: str  # roundtrip's

    @property
    def source_and_version(self) -> str:
        return f"{self.source} roundtrip {self.version}."


def _join(words: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c`` (empty for no words)."""
    return " and ".join(words) if len(words) <= 2 else f"{', '.join(words[:-1])} and {words[-1]}"


def _labs_of(scenario: Scenario) -> dict[str, list[str]]:
    """Investor -> the labs it invested in, in deal order."""
    out: dict[str, list[str]] = {}
    for d in scenario.investments:
        labs = out.setdefault(d.investor, [])
        if d.lab not in labs:
            labs.append(d.lab)
    return out


def question(scenario: Scenario) -> str:
    """The question the report answers, in the words of the scenario's investors and labs."""
    name = scenario.label
    labs_of = {name(inv): [name(lab) for lab in labs] for inv, labs in _labs_of(scenario).items()}
    owns = {name(inv): scenario.investors[inv].owns for inv in _labs_of(scenario)}
    if not labs_of:
        return (
            "This scenario has no investment: how do the labs' revenue, compute spending and "
            "cash play out over the horizon?"
        )
    investors = list(labs_of)
    if len(investors) == 1:
        inv = investors[0]
        clouds = "cloud" if len(owns[inv]) <= 1 else "clouds"
        stake = "stake" if len(labs_of[inv]) == 1 else "stakes"
        return (
            f"How much of {inv}'s investment in {_join(labs_of[inv])} comes back as revenue of "
            f"its own {clouds}, when, how much of it is profit, and what does the {stake} "
            "really cost?"
        )
    all_labs = {tuple(labs) for labs in labs_of.values()}
    if len(all_labs) == 1:
        whose = _join([f"{i}'s" for i in investors])
        what = f"{whose} investments in {_join(labs_of[investors[0]])}"
    else:
        first, *rest = investors
        what = _join(
            [f"{first}'s investment in {_join(labs_of[first])}"]
            + [f"{i}'s in {_join(labs_of[i])}" for i in rest]
        )
    return (
        f"How much of {what} comes back as revenue of their own clouds, when, how much of it is "
        "profit, and what do the stakes really cost?"
    )


def _money(dollars: float | None) -> str:
    return "n/a" if dollars is None else format_dollars(dollars * 100)


def _pct(fraction: float | None, digits: int = 1) -> str:
    return "n/a" if fraction is None else f"{fraction:.{digits}%}"


def _exact(cents: int) -> str:
    """Cents -> ``$40,000,000,000.00``: every cent written out."""
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) // 100:,}.{abs(cents) % 100:02d}"


INVESTOR_ROWS: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
    ("invested", "invested", _money),
    ("spend on own cloud", "spend_on_own_cloud", _money),
    ("round trip (traced)", "round_trip", _money),
    ("round trip / invested", "round_trip_ratio", _pct),
    ("circular revenue share", "circular_revenue_share", _pct),
    ("cloud profit", "cloud_profit", _money),
    ("cloud profit on its own dollars", "round_trip_profit", _money),
    ("net cash cost", "net_cash_cost", _money),
    ("stake", "stake", lambda v: _pct(v, 2)),
    ("effective valuation", "effective_valuation", _money),
    ("payback date", "payback_date", lambda v: v or "not within horizon"),
)
LAB_ROWS: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
    ("revenue", "revenue", _money),
    ("compute spend", "compute_spend", _money),
    ("unmet compute", "unmet_compute", _money),
    ("cash at end", "cash_end", _money),
    ("cash runs out", "cash_out_date", lambda v: v or "never"),
)


def _figure_table(
    scenario: Scenario, blocks: dict[str, dict[str, Any]], rows: Sequence[Any], kind: str
) -> Table:
    names = list(blocks)
    return Table(
        header=(kind, *(scenario.label(n) for n in names)),
        rows=tuple((label, *(fmt(blocks[n][key]) for n in names)) for label, key, fmt in rows),
    )


def reading(run: RunLike) -> tuple[Points, ...]:
    """Plain sentences reading the key figures: a few points per investor, then per lab."""
    d = run.metrics_dict()
    investors = [_investor_reading(run, inv, m) for inv, m in d["investors"].items()]
    labs = [_lab_reading(run.scenario, lab, m) for lab, m in d["labs"].items()]
    return (*investors, *labs)


def _investor_reading(run: RunLike, investor: str, m: dict[str, Any]) -> Points:
    s = run.scenario
    name, end = s.label(investor), s.end.isoformat()
    lab_keys = _labs_of(s).get(investor, [])
    labs = _join([s.label(lab) for lab in lab_keys]) if lab_keys else "no lab"
    clouds = _join([s.label(c) for c in s.investors[investor].owns])
    if not m["invested"]:
        return name, (f"{name} invested nothing within the horizon.",)
    if not clouds:
        points = [
            f"{name} put {_money(m['invested'])} into {labs} and owns no cloud in this "
            "scenario, so none of it can come back as its own cloud's revenue."
        ]
    else:
        points = [
            f"Of the {_money(m['invested'])} {name} put into {labs}, {_money(m['round_trip'])} "
            f"({_pct(m['round_trip_ratio'])}) came back as revenue of {clouds} by "
            f"{end}{_half_way(run, investor, m['round_trip'])}."
        ]
        if m["spend_on_own_cloud"]:
            whose = "the lab's" if len(lab_keys) == 1 else "the labs'"
            points += [
                f"That is {_pct(m['circular_revenue_share'])} of the "
                f"{_money(m['spend_on_own_cloud'])} {labs} paid {clouds} in all; the rest was "
                f"{whose} own revenue and cash.",
                f"{clouds} made {_money(m['cloud_profit'])} of profit on all of it, "
                f"{_money(m['round_trip_profit'])} of it on {name}'s own returning dollars.",
            ]
    cost, stake = m["net_cash_cost"], []
    if cost is not None and cost < 0:
        stake.append(
            f"That profit exceeds the investment by {_money(-cost)}: net of it the stake cost "
            f"{name} nothing (a net cash cost of {_money(cost)})."
        )
    elif cost is not None:
        stake.append(
            f"Net of that profit the stake cost {name} {_money(cost)}."
            if clouds
            else f"The stake cost {name} the full {_money(cost)}."
        )
    if m["stake"] is not None and m["effective_valuation"] is not None:
        post = [x.post_money_cents for x in s.investments if x.investor == investor]
        against = (
            f", against a post-money valuation of {format_dollars(post[0])}"
            if len(post) == 1 and post[0] is not None
            else ""
        )
        stake.append(
            f"For a stake of {_pct(m['stake'], 2)} that is an effective valuation of "
            f"{_money(m['effective_valuation'])}{against}."
        )
    if stake:
        points.append(" ".join(stake))
    if clouds:
        points.append(
            f"Cloud profit repaid the investment on {m['payback_date']}."
            if m["payback_date"]
            else f"Cloud profit had not repaid the investment by {end}."
        )
    return name, tuple(points)


def _lab_reading(s: Scenario, lab: str, m: dict[str, Any]) -> Points:
    points = [
        f"{s.label(lab)} earned {_money(m['revenue'])} of revenue and spent "
        f"{_money(m['compute_spend'])} on compute from {s.start.isoformat()} to "
        f"{s.end.isoformat()}."
    ]
    if m["cash_out_date"]:
        points.append(
            f"It first ran short of cash in the step ending {m['cash_out_date']}; "
            f"{_money(m['unmet_compute'])} of compute demand went unmet over the horizon, and it "
            f"ends with {_money(m['cash_end'])}."
        )
    else:
        points.append(f"It never ran short of cash and ends with {_money(m['cash_end'])}.")
    return s.label(lab), tuple(points)


def _half_way(run: RunLike, investor: str, round_trip: float | None) -> str:
    """``, half of it by 2029-04-01``: when the round trip came back."""
    if not round_trip or round_trip <= 0:
        return ""
    came_back = investor_flows(run, investor)["round_trip"]
    when = came_back.index[came_back >= round_trip / 2]
    return f", half of it by {when[0].date().isoformat()}" if len(when) else ""


def _check(metrics: dict[str, Any]) -> tuple[str, Table]:
    c = metrics["check"]
    opening, closing = c["opening_total_cents"], c["closing_total_cents"]
    if c["balanced"] and opening == closing:
        text = (
            "Books balance to the cent. After the run, for each origin of money the balances of "
            "all accounts (external ones included) add up to what they held at the start; no "
            "agent holds a negative amount of any origin; and replaying the "
            f"{c['records']:,} ledger records from the opening balances reproduces every balance "
            "exactly."
        )
    else:
        text = "The books do NOT balance: this run's figures cannot be trusted."
    table = Table(
        header=("check", "value"),
        rows=(
            ("ledger records", f"{c['records']:,}"),
            *(
                (label, "holds" if c.get(key, c["balanced"]) else "FAILS")
                for key, label in (
                    ("origins_conserved", "every origin's cents add up as at the start"),
                    ("no_negative_cash", "no agent holds negative cash of any origin"),
                    ("ledger_replays", "replaying the ledger gives every balance"),
                )
            ),
            ("opening total: the agents' cash at the start", _exact(opening)),
            ("closing total: every account at the end", _exact(closing)),
            ("difference", _exact(closing - opening)),
        ),
    )
    return text, table


# ---- assumptions ----------------------------------------------------------------------------


def assumptions(scenario: Scenario) -> tuple[Assumption, ...]:
    """Every leaf input of ``scenario.resolved`` once, in file order, with its source comment."""
    rows: list[Assumption] = []

    def walk(value: Any, path: tuple[str, ...]) -> None:
        if isinstance(value, dict) and value:
            for k, v in value.items():
                walk(v, (*path, str(k)))
        elif isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
            for i, v in enumerate(value):
                walk(v, (*path, str(i)))
        else:
            rows.append(_assumption(scenario.comments, path, value))

    walk(scenario.resolved, ())
    return tuple(rows)


def _assumption(comments: dict[str, str], path: tuple[str, ...], value: Any) -> Assumption:
    dotted = ".".join(path)
    own = [comments[dotted]] if dotted in comments else []
    if isinstance(value, list):  # a list of names: comments written beside its items
        own += [comments[f"{dotted}.{i}"] for i in range(len(value)) if f"{dotted}.{i}" in comments]
    if own:
        return Assumption(dotted, format_input(path, value), " ".join(own), dotted)
    for n in range(len(path) - 1, 0, -1):
        parent = ".".join(path[:n])
        if parent in comments:
            return Assumption(dotted, format_input(path, value), comments[parent], parent)
    return Assumption(dotted, format_input(path, value))


def format_input(path: Sequence[str], value: Any) -> str:
    """An input as a reader would write it: ``$730B``, ``35%``, ``2026-03-01``, ``aws, gcp``."""
    key = path[-1] if path else ""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return ", ".join(format_input(path, v) for v in value) or "none"
    if key in _MONEY_KEYS and isinstance(value, int | str):
        return _input_dollars(Decimal(str(value)))
    shares = key in _SHARE_KEYS or tuple(path[-3:-1]) == ("compute", "providers")
    if shares and isinstance(value, int | float):
        return f"{Decimal(repr(float(value))) * 100:f}".rstrip("0").rstrip(".") + "%"
    return str(value) if value != "" else "(empty)"


def _input_dollars(dollars: Decimal) -> str:
    """Exact and short: ``$730B``, ``$1.4T``, ``$2.5M``, else every dollar (and cent)."""
    for unit, scale in (("T", 10**12), ("B", 10**9), ("M", 10**6)):
        q = dollars / scale
        if abs(q) >= 1 and q == q.quantize(Decimal("0.001")):
            return f"${q.normalize():,f}{unit}"
    return f"${dollars:,.0f}" if dollars == dollars.to_integral_value() else f"${dollars:,.2f}"


def report_content(run: RunLike) -> ReportContent:
    """Everything the report says, as text and tables."""
    s, d = run.scenario, run.metrics_dict()
    check, check_table = _check(d)
    return ReportContent(
        title=s.name,
        subtitle=(
            f"{s.start.isoformat()} to {s.end.isoformat()}, step {s.step}, "
            f"tracing {s.tracing.replace('_', '-')}, inputs {d['inputs_hash']}"
        ),
        question=question(s),
        description=s.description,
        investors=_figure_table(s, d["investors"], INVESTOR_ROWS, "investor"),
        labs=_figure_table(s, d["labs"], LAB_ROWS, "lab"),
        figures_note=(
            "Money summed over the whole horizon, undiscounted (B: billions of dollars). "
            "Definitions: docs/metrics.md."
        ),
        reading=reading(run),
        assumptions=assumptions(s),
        check=check,
        check_table=check_table,
        source=source_line(run),
        version=roundtrip_version(),
    )


def assumption_cells(rows: Sequence[Assumption]) -> Iterator[tuple[str, str, str]]:
    """Path, value, comment per row; a comment inherited from the same item as the row above's
    is written "as above", so that a long comment on a deal is read once."""
    above = None
    for a in rows:
        same = a.inherited and a.comment_on == above
        yield a.path, a.value, ("as above" if same else a.comment)
        above = a.comment_on if a.inherited else None


def chart_figures(run: RunLike, size: tuple[float, float]) -> Iterator[tuple[str, Figure]]:
    """Every chart of ``sim.charts.CHARTS``, drawn when asked for, in its order."""
    from sim.charts import CHARTS

    for name, chart in CHARTS.items():
        yield name, chart(run, size=size)
