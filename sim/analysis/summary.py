"""The text summary `roundtrip run` prints: per investor what it put in, what its investment
caused (against its twins) and whose dollars came back; per lab its revenue, spend and cash; and
whether the books balance. Read off a run's metrics dict (``Result.metrics_dict``).
"""

from __future__ import annotations

import textwrap
from typing import Any

from sim.analysis.captable import stake_lines
from sim.analysis.causes import (
    SUBSTITUTIONS,
    assumption,
    cause,
    financing_assumption,
    invested_labs,
    linked,
    margin_words,
    substitution,
)
from sim.analysis.tables import money, percent
from sim.inputs.scenario import Scenario
from sim.inputs.units import format_dollars


def summary_text(s: Scenario, d: dict[str, Any]) -> str:
    """The summary of the run whose scenario is ``s`` and metrics dict ``d``."""
    lines = [
        f"{s.name}",
        f"  {s.start.isoformat()} to {s.end.isoformat()}, step {s.step}, "
        f"tracing {s.tracing.replace('_', '-')}, inputs {d['inputs_hash']}",
    ]
    for inv, m in d["investors"].items():
        lines += _investor_lines(s, inv, m, d["labs"])
    for lab, m in d["labs"].items():
        lines += _lab_lines(s, lab, m)
    return "\n".join([*lines, *_check_lines(d["check"])])


# how money reaches the sellers an investor owns (sim.analysis.metrics.PATHS), as the summary says
# it
PATH_LABELS = {
    "own_cloud": "lab -> its cloud",
    "own_vendor": "lab -> its vendor",
    "via_others": "via other sellers",
}


def _fig(m: dict[str, Any], name: str) -> str:
    """A money figure of ``m`` as the summary prints it, right-aligned in its column."""
    return f"{money(m[name]):>12}"


def _readings(m: dict[str, Any], name: str, suffix: str) -> str:
    """A revenue or profit figure: booked, with cash received beside it, where both exist."""
    booked = f"{name}_booked{suffix}"
    if booked not in m:
        return _fig(m, name + suffix)
    return f"{_fig(m, booked)} {_fig(m, name + suffix)}"


def _caused_lines(
    s: Scenario,
    inv: str,
    m: dict[str, Any],
    suffix: str,
    by_path: bool = False,
    labs: dict[str, Any] | None = None,
) -> list[str]:
    """The caused figures of one investor, against the package twin or (``suffix``
    ``_investment_only``) the twin that keeps the contracts linked to the investment."""
    rate = f"{s.discount_rate:.1%}".replace(".0%", "%")
    two = f"incremental_revenue_booked{suffix}" in m
    payback = m["incremental_payback_date" + suffix] or "none"
    post = ""
    if m["stated_post_money"] is not None:
        post = f", {s.post_money_word(inv)} {money(m['stated_post_money'])}"
    # a revenue-share deal: what it brings in is a return beside the profit
    has_shares = bool(m["revenue_share"] or m["incremental_revenue_share" + suffix])
    what = (
        "sales into what it owns, less the twin's"
        if by_path
        else "its clouds' sales to the lab, less the twin's"
    )
    lines = [f"    {'':<23}{'booked':>12} {'cash':>12}"] if two else []
    lines.append(
        f"    incremental revenue    {_readings(m, 'incremental_revenue', suffix)}   {what}"
    )
    lines += [
        f"      {label:<20} "
        + (f"{'':>12} " if two else "")
        + _fig(m, f"incremental_revenue_{p}" + suffix)
        for p, label in PATH_LABELS.items()
        if by_path
    ]
    lines.append(
        f"    incremental profit     {_readings(m, 'incremental_profit', suffix)}"
        f"   {margin_words(s, inv)}"
    )
    if has_shares:
        lines.append(
            "    incremental rev. share "
            + (f"{'':>12} " if two else "")
            + _fig(m, "incremental_revenue_share" + suffix)
            + f"   of {money(m['revenue_share'])} received, less the twin's"
        )
    lines += _bounds_lines(s, inv, m, suffix)
    lines += _timing_note(s, inv, m, suffix, labs or {})
    lines += _net_cost_lines(m, suffix, rate, has_shares)
    return lines + [
        f"    effective post-money   {_fig(m, 'effective_post_money' + suffix)}"
        f"   net cost / stake{post}",
        f"    incremental payback    {payback:>12}   when the PV of what came back reaches"
        " PV invested",
    ]


def _net_cost_lines(m: dict[str, Any], suffix: str, rate: str, has_shares: bool) -> list[str]:
    """The net cost and its parts, so that a negative one says where it comes from."""
    lines = [
        f"    net cost               {_fig(m, 'net_cost' + suffix)}"
        f"   by its parts, present values at the start at {rate} a year:",
        f"      PV invested          {_fig(m, 'pv_invested')}",
    ]
    if m.get("pv_invested_credits"):
        lines += [
            f"        in cash            {_fig(m, 'pv_invested_cash')}",
            f"        in credits         {_fig(m, 'pv_invested_credits')}"
            "   compute it granted, at the dates it was granted",
        ]
    lines.append(
        f"      less PV incr. profit {_fig(m, 'pv_incremental_profit' + suffix)}"
        "   cash, what is owed at the horizon at its due date"
    )
    if has_shares:
        lines.append(
            f"      less PV incr. share  {_fig(m, 'pv_incremental_revenue_share' + suffix)}"
            "   the revenue share, which the twin drops with the investment"
        )
    if m.get("pv_lent"):
        lines += [
            f"      PV lent              {_fig(m, 'pv_lent')}",
            f"      less PV repaid       {_fig(m, 'pv_loan_received')}"
            "   its loans' interest and principal received",
        ]
    return lines


def _loan_lines(m: dict[str, Any]) -> list[str]:
    """What an investor lent, and what came back of it (docs/metrics.md, "Loans")."""
    if not m.get("lent"):
        return []
    return [
        f"  lent                     {_fig(m, 'lent')}"
        f"   interest received {money(m['loan_interest_received'])}, principal received "
        f"{money(m['loan_principal_received'])}",
        f"  loans outstanding        {_fig(m, 'loan_outstanding')}"
        f"   at the end, of which past due {money(m['loan_past_due'])}",
    ]


BOUND_WORDS = {"none": "not replaced", "file": "as filed", "full": "all raised"}


def _bounds_lines(s: Scenario, inv: str, m: dict[str, Any], suffix: str) -> list[str]:
    """The caused figures under each substitution (what the twin does about the money it
    lacks), where the run measured them: the range the deciding assumption spans."""
    booked = "_booked" if "incremental_revenue_booked" in m else ""
    figures = (f"incremental_revenue{booked}", f"incremental_profit{booked}", "net_cost")
    if not all(
        m.get(f"{f}{suffix}_substitution_{w}") is not None for f in figures for w in SUBSTITUTIONS
    ):
        return []
    labs = invested_labs(s, inv)
    if all(s.labs[lab].financing is None for lab in labs):
        names = " and ".join(s.label(lab) for lab in labs)
        return [
            f"    by substitution: {names} {'has' if len(labs) == 1 else 'have'} no financing "
            "rule, so no twin raises anything: none, file and full agree"
        ]
    chosen = substitution(s)
    lines = [
        f"    {'by substitution':<23}{'revenue':>12} {'profit':>12} {'net cost':>12}"
        + ("   revenue and profit booked" if booked else "")
    ]
    for w in SUBSTITUTIONS:
        values = " ".join(_fig(m, f"{f}{suffix}_substitution_{w}") for f in figures)
        label = f"{w}: {BOUND_WORDS[w]}"
        lines.append(f"      {label:<21}{values}" + ("   the file's choice" if w == chosen else ""))
    return lines


def _timing_note(
    s: Scenario, inv: str, m: dict[str, Any], suffix: str, labs: dict[str, Any]
) -> list[str]:
    """Where ``none`` causes less than ``file``: say why. Every lab with a financing rule raised
    its whole limit in the run, so the file's twin cannot raise more in all than the run did
    either; the two twins differ only in when they raise it (docs/metrics.md, "Substitution")."""
    name = (
        "incremental_revenue_booked" if "incremental_revenue_booked" in m else "incremental_revenue"
    )
    none, file = (m.get(f"{name}{suffix}_substitution_{w}") for w in ("none", "file"))
    if none is None or file is None or none >= file:
        return []
    ruled = [lab for lab in invested_labs(s, inv) if s.labs[lab].financing is not None]
    spent = [
        lab
        for lab in ruled
        if lab in labs
        and round(labs[lab]["raised"] * 100) == getattr(s.labs[lab].financing, "limit", None)
    ]
    if not ruled or spent != ruled:
        return []  # (labs absent: nothing to say it from)
    who = " and ".join(s.label(lab) for lab in ruled)
    return _wrapped(
        f"none causes less than file here: {who} raised {'its' if len(ruled) == 1 else 'their'} "
        "whole limit in the run, so the file's twin cannot raise more in all either; it raises "
        "the same money sooner, and the twins differ only in when the lab spends it",
        "      ",
    )


def _by_path(s: Scenario) -> bool:
    """With vendors or routed costs, money can come back by more than one path: say which."""
    return any(c.kind == "vendor" or c.costs for c in s.sellers.values())


def _stake_text(s: Scenario, inv: str, m: dict[str, Any]) -> str:
    """The investor's stake: one figure, or a stake per lab (they do not add up)."""
    stake = ""
    if len(invested_labs(s, inv)) > 1:
        stake = ", ".join(
            f"{s.label(x)} {v['stake']:.2%}"
            for x, v in m.get("by_lab", {}).items()
            if v.get("stake") is not None
        )
    if m["stake"] is not None:
        stake = f"{m['stake']:.2%}"
        if m["stake_announced"] != m["stake"]:
            stake += f" of {m['stake_announced']:.2%} announced"
    return stake


def _investor_lines(
    s: Scenario, inv: str, m: dict[str, Any], lab_figures: dict[str, Any]
) -> list[str]:
    """The summary's lines for one investor: what it put in, what it caused, what came back."""
    multi = _by_path(s)
    owns = s.investors[inv].owns
    clouds = ", ".join(s.label(c) for c in owns) or ("nothing" if multi else "no cloud")
    labs = ", ".join(s.label(x) for x in invested_labs(s, inv))
    if not labs:  # it owns sellers but invests in no lab here
        return [
            "",
            f"Investor {inv} (owns {clouds}): no investment in this file",
            *_loan_lines(m),
            *(
                [
                    f"  caused by its loans      {_fig(m, 'incremental_revenue_booked')}"
                    "   its sellers' booked sales, less the twin's without its loans",
                    f"  net cost                 {_fig(m, 'net_cost')}"
                    "   PV lent less PV repaid and PV incremental profit",
                    *_wrapped(
                        "Deciding assumption: "
                        + financing_assumption(
                            s,
                            [
                                x.borrower
                                for x in s.loans
                                if x.lender == inv and x.borrower in s.labs
                            ],
                        ),
                        "  ",
                    ),
                ]
                if m.get("lent") and owns
                else []
            ),
            f"  sales into what it owns  {money(m['spend_on_own_cloud']):>12}"
            "   from every lab, all origins",
            f"  profit on them           {money(m['relationship_profit']):>12}",
        ]
    stake = _stake_text(s, inv, m)
    invested = money(m["invested"])
    if m["announced"] != m["invested"]:
        invested += f" of {money(m['announced'])} announced"
    lines = [
        "",
        f"Investor {inv} (owns {clouds}), in {labs}",
        f"  invested                 {invested:>12}"
        + (f"   stake {stake}" if stake else "")
        + (f"   {money(m['invested_credits'])} of it in credits" if m["invested_credits"] else ""),
        *_loan_lines(m),
    ]
    lines += stake_lines(s, inv, m)  # through the cap table: announced, at close, at the end
    if m["stake_value"] is not None:
        lines += [
            f"  stake value              {money(m['stake_value']):>12}"
            "   the stake at the lab's latest post-money",
            f"  share of the lab result  {money(m['equity_share_of_result']):>12}"
            "   stake x the lab's net result (equity method)",
        ]
    if not owns and not m["revenue_share"]:  # nothing comes back to it
        lines.append(
            "  it owns no cloud"
            + (" or vendor" if multi else "")
            + ": no revenue comes back to it, caused or traced"
        )
        return lines
    return lines + _caused_section(s, inv, m, lab_figures) + _traced_lines(m, multi)


def _caused_section(s: Scenario, inv: str, m: dict[str, Any], labs: dict[str, Any]) -> list[str]:
    """What the investment caused (and, with contracts tied to it, what it caused alone), each
    under a heading that names its cause and the assumption that decides it."""
    multi = _by_path(s)
    lines = [
        *_wrapped(
            f"What {cause(s, inv)} caused: this run against a twin without "
            + ("them" if linked(s, inv) else "it"),
            "  ",
        ),
        *_wrapped(f"Deciding assumption: {assumption(s, inv)}", "  "),
        *_caused_lines(s, inv, m, "", multi, labs),
    ]
    if linked(s, inv):
        lines += [
            *_wrapped(
                f"What {cause(s, inv, investment_only=True)} caused: a twin that keeps "
                + ", ".join(linked(s, inv)),
                "  ",
            ),
            *_caused_lines(s, inv, m, "_investment_only", multi, labs),
        ]
    return lines


def _wrapped(text: str, indent: str) -> list[str]:
    """A sentence of the summary, wrapped at 96 columns, its later lines indented two more."""
    return textwrap.wrap(
        text,
        width=96,
        initial_indent=indent,
        subsequent_indent=indent + "  ",
        break_on_hyphens=False,
    )


def _traced_lines(m: dict[str, Any], multi: bool) -> list[str]:
    """Whose dollars came back: the traced figures of one investor. Origins ride cash, so the
    figures traced to the investor's own dollars are cash only (in the cash column)."""
    two = "spend_on_own_cloud_booked" in m

    def cash(text: str) -> str:
        return f"{'':>12} {text:>12}" if two else f"{text:>12}"

    return [
        "  Whose dollars came back (traced through the ledger; not an effect)",
        *([f"    {'':<23}{'booked':>12} {'cash':>12}"] if two else []),
        f"    spend on own cloud     {_readings(m, 'spend_on_own_cloud', '')}",
        f"    round trip             {cash(money(m['round_trip']))}"
        f"   {percent(m['round_trip_ratio'])} of invested",
        *(
            f"      {label:<20} {cash(money(m[f'round_trip_{p}']))}"
            for p, label in PATH_LABELS.items()
            if multi
        ),
        f"    circular revenue share {cash(percent(m['circular_revenue_share']))}"
        "   of own-cloud spend",
        *(
            [
                f"    credits consumed       {cash(money(m['credits_consumed']))}"
                "   compute paid in its credits: in kind, not cash",
                f"      profit in kind       {cash(money(m['profit_in_kind']))}"
                "   its margin on them",
            ]
            if m["invested_credits"] or m["credits_consumed"]
            else []
        ),
        f"    relationship profit    {_readings(m, 'relationship_profit', '')}"
        "   from the lab, with or without the investment",
        f"      on its own dollars   {cash(money(m['round_trip_profit']))}",
    ]


def _lab_lines(s: Scenario, lab: str, m: dict[str, Any]) -> list[str]:
    """The summary's lines for one lab: revenue, spend, cash, and its financing if any."""
    lines = [
        "",
        f"Lab {lab}",
        f"  revenue                  {money(m['revenue']):>12}",
        f"  compute spend            {money(m['compute_spend']):>12}",
        f"  unmet compute            {money(m['unmet_compute']):>12}",
        f"  cash at end              {money(m['cash_end']):>12}",
        f"  cash runs out            {m['cash_out_date'] or 'never':>12}",
    ]
    if m.get("borrowed"):
        lines.append(
            f"  borrowed                 {money(m['borrowed']):>12}"
            f"   interest paid {money(m['loan_interest_paid'])}, principal repaid "
            f"{money(m['loan_principal_repaid'])}, outstanding {money(m['loan_outstanding'])}"
        )
    fin = s.labs[lab].financing
    if fin is not None:
        first = m["first_raise_date"]
        label = f"raised ({fin.kind})"
        lines.append(
            f"  {label:<25}{money(m['raised']):>12}   from {fin.source}"
            + (f", first on {first}" if first else ", never needed")
        )
        if fin.kind == "debt":
            lines += [
                f"  interest paid            {money(m['interest_paid']):>12}",
                f"  debt outstanding         {money(m['debt_outstanding']):>12}",
            ]
    return lines


def _check_lines(c: dict[str, Any]) -> list[str]:
    """Whether the books balance, as the summary's last line says it."""
    if c["balanced"]:
        return [
            "",
            f"Books balance to the cent: {c['records']:,} "
            f"{'records' if c['recorder'] == 'ledger' else 'flows'}, "
            f"{format_dollars(c['closing_total_cents'])} in all accounts as at the start.",
        ]
    failed = [k for k in ("origins_conserved", "no_negative_cash", "ledger_replays")]
    return [
        "",
        "The books do NOT balance: "
        + ", ".join(k.replace("_", " ") for k in failed if not c[k])
        + " failed; these figures cannot be trusted.",
    ]
