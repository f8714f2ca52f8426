"""The text summary `roundtrip run` prints: per investor what it put in, what its investment
caused (against its twins) and whose dollars came back; per lab its revenue, spend and cash; and
whether the books balance. Read off a run's metrics dict (``Result.metrics_dict``).
"""

from __future__ import annotations

from typing import Any

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
        lines += _investor_lines(s, inv, m)
    for lab, m in d["labs"].items():
        lines += _lab_lines(s, lab, m)
    return "\n".join([*lines, *_check_lines(d["check"])])


def _invested_labs(s: Scenario, investor: str) -> list[str]:
    return list(dict.fromkeys(d.lab for d in s.investments if d.investor == investor))


# how money reaches the sellers an investor owns (sim.analysis.metrics.PATHS), as the summary says
# it
PATH_LABELS = {
    "own_cloud": "lab -> its cloud",
    "own_vendor": "lab -> its vendor",
    "via_others": "via other sellers",
}


def _caused_lines(
    m: dict[str, Any],
    suffix: str,
    rate: str,
    word: str,
    by_path: bool = False,
) -> list[str]:
    """The caused figures of one investor, plain or ``_investment_only``."""
    payback = m["incremental_payback_date" + suffix] or "none"
    post = ""
    if m["stated_post_money"] is not None:
        post = f", {word} {money(m['stated_post_money'])}"
    # a revenue-share deal: what it brings in is a return beside the profit
    has_shares = bool(m["revenue_share"] or m["incremental_revenue_share" + suffix])
    and_shares = " and revenue share" if has_shares else ""
    shares = (
        [
            f"    incremental rev. share {money(m['incremental_revenue_share' + suffix]):>12}"
            f"   of {money(m['revenue_share'])} received, less the twin's",
            f"    PV incr. revenue share {money(m['pv_incremental_revenue_share' + suffix]):>12}",
        ]
        if has_shares
        else []
    )
    paths = [
        f"      {label:<20} {money(m[f'incremental_revenue_{p}' + suffix]):>12}"
        for p, label in PATH_LABELS.items()
        if by_path
    ]
    return [
        f"    incremental revenue    {money(m['incremental_revenue' + suffix]):>12}"
        + (
            "   sales into what it owns, less the twin's"
            if by_path
            else "   the clouds' revenue from the lab, less the twin's"
        ),
        *paths,
        f"    incremental profit     {money(m['incremental_profit' + suffix]):>12}",
        f"    PV invested            {money(m['pv_invested']):>12}"
        f"   present values at the start, at {rate} a year",
        f"    PV incremental profit  {money(m['pv_incremental_profit' + suffix]):>12}",
        *shares,
        f"    net cost               {money(m['net_cost' + suffix]):>12}"
        f"   PV invested less PV incremental profit{and_shares}",
        f"    effective post-money   {money(m['effective_post_money' + suffix]):>12}"
        f"   net cost / stake{post}",
        f"    incremental payback    {payback:>12}   PV incremental profit{and_shares} reaches"
        " PV invested",
    ]


def _by_path(s: Scenario) -> bool:
    """With vendors or routed costs, money can come back by more than one path: say which."""
    return any(c.kind == "vendor" or c.costs for c in s.sellers.values())


def _stake_text(s: Scenario, inv: str, m: dict[str, Any]) -> str:
    """The investor's stake: one figure, or a stake per lab (they do not add up)."""
    stake = ""
    if len(_invested_labs(s, inv)) > 1:
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


def _investor_lines(s: Scenario, inv: str, m: dict[str, Any]) -> list[str]:
    """The summary's lines for one investor: what it put in, what it caused, what came back."""
    multi = _by_path(s)
    owns = s.investors[inv].owns
    clouds = ", ".join(s.label(c) for c in owns) or ("nothing" if multi else "no cloud")
    labs = ", ".join(s.label(x) for x in _invested_labs(s, inv))
    if not labs:  # it owns sellers but invests in no lab here
        return [
            "",
            f"Investor {inv} (owns {clouds}): no investment in this file",
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
    ]
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
    return lines + _caused_section(s, inv, m) + _traced_lines(m, multi)


def _caused_section(s: Scenario, inv: str, m: dict[str, Any]) -> list[str]:
    """What the investment caused (and, with contracts tied to it, what it caused alone)."""
    multi = _by_path(s)
    rate = f"{s.discount_rate:.1%}".replace(".0%", "%")
    ids = {d.id for d in s.investments if d.investor == inv}
    tied = [c.key for c in s.contracts if c.with_investment in ids]
    head = "  What the investment caused: this run against a twin without it"
    if tied:
        head = (
            f"  What the investment and the contracts that came with it caused "
            f"({', '.join(tied)}):\n  this run against a twin without them"
        )
    word = s.post_money_word(inv)
    lines = [head, *_caused_lines(m, "", rate, word, multi)]
    if tied:
        lines += [
            "  The investment alone: a twin that keeps the contracts that came with it",
            *_caused_lines(m, "_investment_only", rate, word, multi),
        ]
    return lines


def _traced_lines(m: dict[str, Any], multi: bool) -> list[str]:
    """Whose dollars came back: the traced figures of one investor."""
    return [
        "  Whose dollars came back (traced through the ledger; not an effect)",
        f"    spend on own cloud     {money(m['spend_on_own_cloud']):>12}",
        f"    round trip             {money(m['round_trip']):>12}"
        f"   {percent(m['round_trip_ratio'])} of invested",
        *(
            f"      {label:<20} {money(m[f'round_trip_{p}']):>12}"
            for p, label in PATH_LABELS.items()
            if multi
        ),
        f"    circular revenue share {percent(m['circular_revenue_share']):>12}"
        "   of own-cloud spend",
        *(
            [
                f"    credits consumed       {money(m['credits_consumed']):>12}"
                "   compute paid in its credits: in kind, not cash",
                f"      profit in kind       {money(m['profit_in_kind']):>12}   its margin on them",
            ]
            if m["invested_credits"] or m["credits_consumed"]
            else []
        ),
        f"    relationship profit    {money(m['relationship_profit']):>12}"
        "   from the lab, with or without the investment",
        f"      on its own dollars   {money(m['round_trip_profit']):>12}",
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
