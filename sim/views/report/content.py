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

import numpy as np
from matplotlib.figure import Figure

from sim.analysis import causes
from sim.analysis.matrices import Matrix
from sim.analysis.result import RunLike
from sim.analysis.tables import money, percent
from sim.inputs.names import input_name
from sim.inputs.scenario import Scenario
from sim.inputs.specs import input_at
from sim.model.kernels import Cents
from sim.views.charts.series import investor_flows
from sim.views.charts.style import source_line

ASSUMPTIONS_NOTE = (
    "Every input of the run after defaults and overrides, by its name and the path --set takes, "
    "with the comment written beside it in the scenario file (in grey: a comment written beside "
    "the item that holds the input)."
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
    name: str = ""  # as a person reads it (sim.inputs.names.input_name): "AWS margin"

    @property
    def inherited(self) -> bool:
        """The comment belongs to an item holding this input (``agents.aws``), not to it."""
        return self.comment_on is not None and self.comment_on != self.path


@dataclass(frozen=True)
class Table:
    """A header and rows of text; the first column labels, the others (in figures) values.
    Rows in ``sections`` are headings of the rows after them: a label across the table."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    sections: frozenset[int] = frozenset()


Points = tuple[str, tuple[str, ...]]  # whose figures, sentences reading them


@dataclass(frozen=True)
class ReportContent:
    """Everything the report says, in the order it says it (the charts aside): what the
    investment caused first, then whose dollars came back (traced), then the labs."""

    title: str
    subtitle: str
    question: str
    description: str
    headline: tuple[str, ...]  # the finding per investor, from the caused figures
    caused: Table  # what the investment caused, one column per investor
    caused_note: str  # the twin, and the present-value rate
    caused_reading: tuple[Points, ...]
    traced: Table  # whose dollars came back, one column per investor
    traced_note: str
    traced_reading: tuple[Points, ...]
    labs: Table  # one column per lab
    labs_reading: tuple[Points, ...]
    assumptions: tuple[Assumption, ...]
    check: str
    check_table: Table
    source: str  # the charts' source line: scenario file, inputs hash, scenario name
    version: str  # roundtrip's
    # the accounting matrices (heading, note, table); none for a run folder read back
    matrices: tuple[tuple[str, str, Table], ...] = ()

    @property
    def source_and_version(self) -> str:
        return f"{self.source} roundtrip {self.version}."


CAUSED_HEADING = "What the investment caused"
TRACED_HEADING = "Whose dollars came back (traced)"
LABS_HEADING = "The labs"


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
    """The question the report answers, in the words of the scenario's investors and labs: what
    the investment caused first, then whose dollars came back."""
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
            f"What did {inv}'s investment in {_join(labs_of[inv])} add to the revenue and profit "
            f"of its own {clouds}, what does the {stake} cost net of that, and whose dollars "
            "came back?"
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
        f"What did {what} add to the revenue and profit of their own clouds, what do the stakes "
        "cost net of that, and whose dollars came back?"
    )


def _stake(fraction: float | None) -> str:
    return percent(fraction, 2)


def _payback(date: str | None) -> str:
    return date or "not within horizon"


def _exact(cents: int) -> str:
    """Cents -> ``$40,000,000,000.00``: every cent written out."""
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) // 100:,}.{abs(cents) % 100:02d}"


def rate(scenario: Scenario) -> str:
    """The present-value rate as written: ``8%``, ``7.5%``."""
    return f"{scenario.discount_rate * 100:.4f}".rstrip("0").rstrip(".") + "%"


Row = tuple[str, str, Callable[[Any], str]]  # label, metric, how its value is written

CAUSED_ROWS: tuple[Row, ...] = (
    ("invested", "invested", money),
    ("stake", "stake", _stake),
    ("incremental revenue, booked", "incremental_revenue_booked", money),
    ("incremental revenue, cash received", "incremental_revenue", money),
    ("incremental profit, booked", "incremental_profit_booked", money),
    ("PV invested", "pv_invested", money),
    ("PV incremental profit", "pv_incremental_profit", money),
    ("net cost: PV invested less PV incremental profit", "net_cost", money),
    ("effective post-money: net cost / stake", "effective_post_money", money),
    ("post-money, stated or implied by the stake", "stated_post_money", money),
    ("incremental payback", "incremental_payback_date", _payback),
)
# against the twin that keeps the contracts linked to the investment (``with:``)
ONLY_ROWS: tuple[Row, ...] = tuple(
    (label, key + "_investment_only", fmt)
    for label, key, fmt in CAUSED_ROWS
    if key
    in {  # as booked only: the cash readings are in the package's rows above
        "incremental_revenue_booked",
        "incremental_profit_booked",
        "pv_incremental_profit",
        "net_cost",
        "effective_post_money",
        "incremental_payback_date",
    }
)
TRACED_ROWS: tuple[Row, ...] = (
    ("invested", "invested", money),
    ("spend on own cloud", "spend_on_own_cloud", money),
    ("round trip (traced)", "round_trip", money),
    ("round trip / invested", "round_trip_ratio", percent),
    ("circular revenue share", "circular_revenue_share", percent),
    ("relationship profit: with or without the investment", "relationship_profit", money),
    ("profit on its own dollars", "round_trip_profit", money),
)
LAB_ROWS: tuple[Row, ...] = (
    ("revenue", "revenue", money),
    ("compute spend", "compute_spend", money),
    ("unmet compute", "unmet_compute", money),
    ("cash at end", "cash_end", money),
    ("cash runs out", "cash_out_date", lambda v: v or "never"),
)
ONLY_SECTION = "the investment alone: a twin that keeps the contracts that came with it"


def linked(scenario: Scenario, investor: str) -> list[str]:
    """Ids of the compute contracts that came ``with`` one of the investor's investments."""
    ids = {d.id for d in scenario.investments if d.investor == investor}
    return [c.key for c in scenario.contracts if c.with_investment in ids]


def _figure_table(
    scenario: Scenario,
    blocks: dict[str, dict[str, Any]],
    rows: Sequence[Row],
    kind: str,
    sections: Sequence[tuple[str, Sequence[Row]]] = (),
) -> Table:
    """One column per agent; ``sections`` add a heading row, then their rows."""
    names = list(blocks)
    body = [(label, *(fmt(blocks[n][key]) for n in names)) for label, key, fmt in rows]
    headings = []
    for heading, more in sections:
        headings.append(len(body))
        body.append((heading, *("" for _ in names)))
        body += [(label, *(fmt(blocks[n][key]) for n in names)) for label, key, fmt in more]
    return Table(
        header=(kind, *(scenario.label(n) for n in names)),
        rows=tuple(body),
        sections=frozenset(headings),
    )


def caused_table(run: RunLike) -> Table:
    """What the investment caused, per investor; the investment alone where a contract came
    with it."""
    s, d = run.scenario, run.metrics_dict()["investors"]
    rows = list(CAUSED_ROWS)
    if any(m["announced"] != m["invested"] for m in d.values()):
        rows.insert(1, ("announced", "announced", money))
    if any(m["pv_incremental_revenue_share"] for m in d.values()):
        at = [key for _, key, _ in rows].index("net_cost")
        rows.insert(at, ("PV incremental revenue share", "pv_incremental_revenue_share", money))
    if any(m.get("pv_invested_credits") for m in d.values()):
        at = [key for _, key, _ in rows].index("pv_invested") + 1
        rows.insert(at, ("of which in credits", "pv_invested_credits", money))
    # (the figures under each substitution: the finding's last sentence, and their chart)
    sections = [(ONLY_SECTION, ONLY_ROWS)] if any(linked(s, inv) for inv in d) else []
    return _figure_table(s, d, rows, "investor", sections)


def headline(run: RunLike) -> tuple[str, ...]:
    """The finding, a few sentences per investor: what its investment caused, naming the cause
    (with the contracts that came with it, or alone) and the assumption that decides it, and
    what the stake cost net of it (``net_cost``), in present value at the scenario's rate."""
    s, d = run.scenario, run.metrics_dict()["investors"]
    out = []
    for inv, m in d.items():
        name, labs = s.label(inv), _join([s.label(x) for x in _labs_of(s).get(inv, [])])
        clouds = _join([s.label(c) for c in s.investors[inv].owns])
        if not m["invested"]:
            out.append(f"{name} invested nothing within the horizon.")
            continue
        if not clouds:
            out.append(
                f"{name} owns no cloud, so its {money(m['invested'])} in {labs} caused no "
                f"revenue or profit of its own; in present value at {rate(s)} a year the stake "
                f"cost it {money(m['net_cost'])}."
            )
            continue
        out.append(_caused_sentences(s, inv, m, clouds))
    return tuple(out)


def _caused_sentences(s: Scenario, inv: str, m: dict[str, Any], clouds: str) -> str:
    """What one investor's investment caused, by its cause, and the assumption deciding it."""
    name = s.label(inv)
    text = (
        f"{causes.cause(s, inv, amount=money(m['invested']))} caused "
        f"{_revenue(m, '', clouds)} and {_profit(m, '')} by "
        f"{s.end.isoformat()}. " + _cost_sentence(s, inv, name, m, "")
    )
    if linked(s, inv):
        text += (
            f" {causes.cause(s, inv, investment_only=True)} caused "
            f"{_revenue(m, '_investment_only')}, a net cost of "
            f"{money(m['net_cost_investment_only'])}."
        )
    bounds = _bounds_sentence(s, inv, m)
    return text + f" Deciding assumption: {causes.assumption(s, inv)}." + bounds


def _revenue(m: dict[str, Any], suffix: str, of: str = "") -> str:
    """Caused revenue as booked (``of``: whose revenue), with cash received beside it where
    they differ: "$85.02B of AWS revenue as booked ($81.51B received in cash)"."""
    cash = m["incremental_revenue" + suffix]
    booked = m.get("incremental_revenue_booked" + suffix, cash)
    text = f"{money(booked)} of {of + ' ' if of else ''}revenue"
    if booked == cash:
        return text
    return f"{text} as booked ({money(cash)} received in cash)"


def _profit(m: dict[str, Any], suffix: str) -> str:
    """Caused profit as booked (cash beside it where they differ)."""
    cash = m["incremental_profit" + suffix]
    booked = m.get("incremental_profit_booked" + suffix, cash)
    text = f"{money(booked)} of profit"
    return text if booked == cash else f"{text} ({money(cash)} in cash)"


def _bounds_sentence(s: Scenario, inv: str, m: dict[str, Any]) -> str:
    """What the investment caused under each substitution, where the run measured them and
    they differ: the investment alone's where a contract came with it, else the investment's."""
    alone = bool(linked(s, inv))
    suffix = "_investment_only" if alone else ""
    base = (
        "incremental_revenue_booked" if "incremental_revenue_booked" in m else "incremental_revenue"
    )
    keys = {w: f"{base}{suffix}_substitution_{w}" for w in causes.SUBSTITUTIONS}
    values = [m.get(k) for k in keys.values()]
    if any(v is None for v in values) or len(set(values)) == 1:
        return ""
    spans = ", ".join(f"{money(m[k])} ({causes.SUBSTITUTION_WORDS[w]})" for w, k in keys.items())
    who = causes.cause(s, inv, investment_only=alone)
    return f" Under each substitution {who} caused {spans} of revenue."


def _cost_sentence(s: Scenario, investor: str, name: str, m: dict[str, Any], suffix: str) -> str:
    """What the stake cost net of the profit the investment caused: said only from
    ``net_cost``, and "nothing" only where it is zero or less."""
    cost, post = m["net_cost" + suffix], m["effective_post_money" + suffix]
    at = f"In present value at {rate(s)} a year"
    if cost is None:
        return ""
    back = "that profit and the revenue share" if m["revenue_share"] else "that profit"
    if cost <= 0:
        verb = "exceed" if m["revenue_share"] else "exceeds"
        text = (
            f"{at}, {back} {verb} the investment by {money(-cost)}: net of it the stake "
            f"cost {name} nothing (a net cost of {money(cost)})"
        )
    else:
        text = f"{at}, net of {back} the stake cost {name} {money(cost)}"
    if post is not None and m["stated_post_money"] is not None:
        text += (
            f", an effective post-money valuation of {money(post)} against the "
            f"{s.post_money_word(investor)} {money(m['stated_post_money'])}"
        )
    paid = m["incremental_payback_date" + suffix]
    return text + (f"; paid back on {paid}." if paid else "; not paid back within the horizon.")


def reading(run: RunLike) -> tuple[Points, ...]:
    """Plain sentences reading the key figures, in the report's order: per investor what the
    investment caused, then per investor whose dollars came back, then per lab."""
    return (*caused_reading(run), *traced_reading(run), *lab_reading(run))


def caused_reading(run: RunLike) -> tuple[Points, ...]:
    d = run.metrics_dict()
    return tuple(_caused_points(run, inv, m) for inv, m in d["investors"].items())


def traced_reading(run: RunLike) -> tuple[Points, ...]:
    d = run.metrics_dict()
    return tuple(_traced_points(run, inv, m) for inv, m in d["investors"].items())


def lab_reading(run: RunLike) -> tuple[Points, ...]:
    d = run.metrics_dict()
    return tuple(_lab_reading(run.scenario, lab, m) for lab, m in d["labs"].items())


def _caused_points(run: RunLike, investor: str, m: dict[str, Any]) -> Points:
    s = run.scenario
    name, end, start = s.label(investor), s.end.isoformat(), s.start.isoformat()
    labs = _join([s.label(x) for x in _labs_of(s).get(investor, [])]) or "no lab"
    clouds = _join([s.label(c) for c in s.investors[investor].owns])
    if not m["invested"]:
        return name, (f"{name} invested nothing within the horizon.",)
    contracts = linked(s, investor)
    dropped = " and the contracts that came with it" if contracts else ""
    if not clouds:
        points = [
            f"{name} owns no cloud in this scenario: its investment has no twin, and what it "
            "causes at a cloud of its own is 0."
        ]
    else:
        gap = m["incremental_revenue"] or 0.0
        run_revenue = m["spend_on_own_cloud"] or 0.0
        points = [
            f"Against a twin of this run without {name}'s investment{dropped}, {labs} paid "
            f"{clouds} {money(gap)} more by {end} ({money(run_revenue)} in the run, "
            f"{money(run_revenue - gap)} in the twin), and {clouds} received "
            f"{money(m['incremental_profit'])} more profit. As booked, with the invoices still "
            f"owed at the horizon: {money(m.get('incremental_revenue_booked', gap))} of revenue "
            f"and {money(m.get('incremental_profit_booked', m['incremental_profit']))} of profit."
        ]
    points.append(
        f"In present value at {rate(s)} a year, discounted to {start}: {name} put in "
        f"{money(m['pv_invested'])} and the investment brought back "
        f"{money(m['pv_incremental_profit'])} of profit"
        + (
            f" and {money(m['pv_incremental_revenue_share'])} of revenue share"
            if m["revenue_share"]
            else ""
        )
        + f", a net cost of {money(m['net_cost'])}."
        + (" Net of that the stake cost nothing." if (m["net_cost"] or 0) <= 0 else "")
    )
    if m["stake"] is not None and m["effective_post_money"] is not None:
        stated = m["stated_post_money"]
        points.append(
            f"For a stake of {_stake(m['stake'])} that is an effective post-money valuation of "
            f"{money(m['effective_post_money'])}"
            + (
                f", against the {run.scenario.post_money_word(investor)} {money(stated)}."
                if stated is not None
                else "."
            )
        )
    if clouds:
        paid = m["incremental_payback_date"]
        points.append(
            f"The discounted incremental profit repays the discounted investment on {paid}."
            if paid
            else f"The discounted incremental profit has not repaid the investment by {end}."
        )
    if contracts and clouds:
        points.append(
            f"The investment alone, against a twin that keeps {_join(contracts)}: "
            f"{money(m['incremental_revenue_investment_only'])} of revenue and "
            f"{money(m['incremental_profit_investment_only'])} of profit. "
            + _cost_sentence(s, investor, name, m, "_investment_only")
        )
    return name, tuple(points)


def _traced_points(run: RunLike, investor: str, m: dict[str, Any]) -> Points:
    s = run.scenario
    name, end = s.label(investor), s.end.isoformat()
    lab_keys = _labs_of(s).get(investor, [])
    labs = _join([s.label(lab) for lab in lab_keys]) if lab_keys else "no lab"
    clouds = _join([s.label(c) for c in s.investors[investor].owns])
    if not m["invested"]:
        return name, (f"{name} invested nothing within the horizon.",)
    if not clouds:
        return name, (
            f"{name} put {money(m['invested'])} into {labs} and owns no cloud in this "
            "scenario, so none of it can come back as its own cloud's revenue.",
        )
    points = [
        f"Of the {money(m['invested'])} {name} put into {labs}, {money(m['round_trip'])} "
        f"({percent(m['round_trip_ratio'])}) came back as revenue of {clouds} by "
        f"{end}{_half_way(run, investor, m['round_trip'])}. Traced through the ledger, these are "
        f"{name}'s own dollars; they are not what the investment caused."
    ]
    if m["spend_on_own_cloud"]:
        whose = "the lab's" if len(lab_keys) == 1 else "the labs'"
        points += [
            f"That is {percent(m['circular_revenue_share'])} of the "
            f"{money(m['spend_on_own_cloud'])} {labs} paid {clouds} in all; the rest was "
            f"{whose} own revenue and cash.",
            f"{clouds} made {money(m['relationship_profit'])} of profit on all of it, with or "
            f"without the investment (the relationship, not the stake), "
            f"{money(m['round_trip_profit'])} of it on {name}'s own returning dollars.",
        ]
    return name, tuple(points)


def _lab_reading(s: Scenario, lab: str, m: dict[str, Any]) -> Points:
    points = [
        f"{s.label(lab)} earned {money(m['revenue'])} of revenue and spent "
        f"{money(m['compute_spend'])} on compute from {s.start.isoformat()} to "
        f"{s.end.isoformat()}."
    ]
    if m["cash_out_date"]:
        points.append(
            f"It first ran short of cash in the step ending {m['cash_out_date']}; "
            f"{money(m['unmet_compute'])} of compute demand went unmet over the horizon, and it "
            f"ends with {money(m['cash_end'])}."
        )
    else:
        points.append(f"It never ran short of cash and ends with {money(m['cash_end'])}.")
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
            rows.append(_assumption(scenario, path, value))

    walk(scenario.resolved, ())
    return tuple(rows)


def _assumption(scenario: Scenario, path: tuple[str, ...], value: Any) -> Assumption:
    """One leaf input, its value written by its declared kind (sim.inputs.values), with its
    comment or the nearest holding item's."""
    comments = scenario.comments
    dotted = ".".join(path)
    declared = input_at(scenario.resolved, path)
    shown = format_input(value, declared.kind if declared else None)
    own = [comments[dotted]] if dotted in comments else []
    if isinstance(value, list):  # a list of names: comments written beside its items
        own += [comments[f"{dotted}.{i}"] for i in range(len(value)) if f"{dotted}.{i}" in comments]
    name = input_name(scenario, dotted)
    if own:
        return Assumption(dotted, shown, " ".join(own), dotted, name)
    for n in range(len(path) - 1, 0, -1):
        parent = ".".join(path[:n])
        if parent in comments:
            return Assumption(dotted, shown, comments[parent], parent, name)
    return Assumption(dotted, shown, name=name)


def format_input(value: Any, kind: str | None = None) -> str:
    """An input's resolved value as a reader would write it, by its declared ``kind``
    (``sim.inputs.values.Declared.kind``): an amount ``$730B``, a share ``35%``, a date
    ``2026-03-01``, a list ``aws, gcp``; anything else as it is."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return ", ".join(format_input(v, kind) for v in value) or "none"
    if kind == "amount" and isinstance(value, int | str):
        return _input_dollars(Decimal(str(value)))
    if kind == "share" and isinstance(value, int | float):
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
    start = s.start.isoformat()
    return ReportContent(
        title=s.name,
        subtitle=(
            f"{start} to {s.end.isoformat()}, step {s.step}, "
            f"tracing {s.tracing.replace('_', '-')}, inputs {d['inputs_hash']}, "
            f"present values at {rate(s)} a year"
        ),
        question=question(s),
        description=s.description,
        headline=headline(run),
        caused=caused_table(run),
        caused_note=(
            "Each figure is this run less its counterfactual twin: the same run without the "
            "investor's investments and the contracts that came with them, all else the same. "
            f"PV: present value at the start ({start}) at {rate(s)} a year (the scenario's "
            "discount_rate); other money summed over the horizon, undiscounted (B: billions of "
            "dollars). Definitions: docs/metrics.md."
        ),
        caused_reading=caused_reading(run),
        traced=_figure_table(s, d["investors"], TRACED_ROWS, "investor"),
        traced_note=(
            "Traced through the ledger: every cent carries its origin, so these say whose "
            "dollars reached the investor's clouds under the tracing rule "
            f"({s.tracing.replace('_', '-')}). They are a label on the money, not an effect: "
            "they say nothing of what the stake cost. Undiscounted."
        ),
        traced_reading=traced_reading(run),
        labs=_figure_table(s, d["labs"], LAB_ROWS, "lab"),
        labs_reading=lab_reading(run),
        assumptions=assumptions(s),
        check=check,
        check_table=check_table,
        source=source_line(run),
        version=roundtrip_version(),
        matrices=matrix_tables(run),
    )


# ---- the accounting matrices (sim/analysis/matrices.py)
# ----------------------------------------------

MATRICES_NOTE = (
    "{what} In {unit} of dollars (blank: not a cent; 0.00: less than half a hundredth); every "
    "row and every column sums to zero to the cent, checked after the run. Definitions, signs "
    "and a worked example: docs/matrices.md."
)


def matrix_tables(run: RunLike) -> tuple[tuple[str, str, Table], ...]:
    """The transaction-flow matrix and the balance sheet at the end as tables (heading, note,
    table), rows that are zero throughout left out; none for a run that is not a ``Result``
    (a run folder keeps the ledger, not the plan the balance sheet reads)."""
    from sim.analysis.result import Result

    if not isinstance(run, Result):
        return ()
    views, s = run.matrices(), run.scenario
    flows = (
        "Transaction flows",
        "A column per account, a row per kind of flow: what the account received less what it "
        "paid over the whole run; the last row is minus the change in its cash.",
        views.transaction_flows,
    )
    stocks = (
        "Balance sheet at the end",
        "What each account holds (+) and owes (-) at the end: cash by origin (the opening cash's "
        "counterpart in the last column), stakes at cost, debt, take-or-pay minimums not yet "
        "paid; the last row is minus net worth.",
        views.balance_sheet,
    )
    return tuple(
        (heading, MATRICES_NOTE.format(what=what, unit=_unit(m.cents)), _matrix_table(s, m))
        for heading, what, m in (flows, stocks)
    )


def _unit(cents: Cents) -> str:
    """Billions, or millions for a small run."""
    return "billions" if int(np.abs(cents).max(initial=0)) >= 10**11 else "millions"


def _matrix_table(s: Scenario, m: Matrix) -> Table:
    """A ``sim.analysis.matrices.Matrix`` as text: rows zero throughout dropped, figures in $B
    ($M)."""
    scale = 10**11 if _unit(m.cents) == "billions" else 10**8

    def figure(cents: int) -> str:
        return "" if cents == 0 else f"{cents / scale:,.2f}"

    rows = tuple(
        (", ".join(x for x in label if x), *(figure(c) for c in values))
        for label, values in zip(m.rows, m.cents.tolist(), strict=True)
        if any(values)
    )
    # agents by their labels; the other accounts' names with spaces, so that headers can wrap
    header = ("", *(s.label(c).replace("_", " ") for c in m.columns))
    return Table(header=header, rows=rows)


def assumption_cells(rows: Sequence[Assumption]) -> Iterator[tuple[str, str, str]]:
    """Input (its name, then on a line of its own the path ``--set`` takes), value, comment per
    row; a comment inherited from the same item as the row above's is written "as above", so
    that a long comment on a deal is read once."""
    above = None
    for a in rows:
        same = a.inherited and a.comment_on == above
        named = f"{a.name}\n{a.path}" if a.name else a.path
        yield named, a.value, ("as above" if same else a.comment)
        above = a.comment_on if a.inherited else None


def chart_figures(run: RunLike, size: tuple[float, float]) -> Iterator[tuple[str, Figure]]:
    """Every chart of ``sim.views.charts.CHARTS``, drawn when asked for, in its order."""
    from sim.views.charts import CHARTS

    for name, chart in CHARTS.items():
        yield name, chart(run, size=size)
