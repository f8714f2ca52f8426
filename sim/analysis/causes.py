"""What a caused figure is caused by, and the assumption that decides it, said in one place.

A caused figure is a run less a twin (sim/model/twin.py): the package twin drops an investor's
investments together with the contracts that came ``with`` them; the investment-alone twin keeps
those contracts. Which of the two a figure reads is its *cause*. What the twin does about the
money it lacks (the lab's financing rule, or the scenario's ``counterfactual.substitution``)
decides how much of the lab's spending the investment caused: that is the *deciding
assumption*. The summary, the report's first page, the charts' titles and the notebooks name both
through these functions, so that no sentence states a caused figure without them.
"""

from __future__ import annotations

from collections.abc import Callable

from sim.inputs.margins import margin_phrase
from sim.inputs.names import deal_name
from sim.inputs.scenario import Scenario
from sim.inputs.units import format_dollars

# what a twin does about the money it lacks, by the scenario's counterfactual.substitution
SUBSTITUTIONS = ("none", "file", "full")
SUBSTITUTION_WORDS = {
    "none": "the money it lacks is not replaced",
    "file": "the lab's financing rule as the file states it",
    "full": "every missing dollar raised, without limit",
}


def invested_labs(s: Scenario, investor: str) -> list[str]:
    """The labs ``investor`` invests in, in file order."""
    return list(dict.fromkeys(d.lab for d in s.investments if d.investor == investor))


def linked(s: Scenario, investor: str) -> list[str]:
    """The ids of the contracts that came ``with`` the investor's investments."""
    ids = {d.id for d in s.investments if d.investor == investor}
    return [c.key for c in s.contracts if c.with_investment in ids]


def possessive(name: str) -> str:
    """``Amazon's``; ``Nvidia's``; a name ending in s: ``Los Alamos'``."""
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def cause(
    s: Scenario,
    investor: str,
    *,
    investment_only: bool = False,
    amount: str = "",
    short: bool = False,
    label: Callable[[str], str] | None = None,
) -> str:
    """What a caused figure of ``investor`` is caused by, as a person reads it: "Amazon's
    investment in OpenAI with the AWS expansion (aws-expansion) that came with it", or, against
    the twin that keeps that contract, "Amazon's investment in OpenAI alone". ``amount``: the
    money invested as text, said before "investment" ("Amazon's $50.00B investment"). ``short``:
    for a chart's title, "Amazon's $50.00B with the AWS expansion" ("Amazon's $50.00B alone")."""
    name = label or s.label
    if short:
        return _short_cause(s, investor, investment_only, amount, name)
    labs = " and ".join(name(x) for x in invested_labs(s, investor)) or "no lab"
    text = f"{possessive(name(investor))} {amount + ' ' if amount else ''}investment in {labs}"
    tied = linked(s, investor)
    if not tied:
        return text
    if investment_only:
        return f"{text} alone"
    names = [deal_name(s, c) for c in tied]
    if len(names) == 1:
        return f"{text} with the {names[0]} that came with it"
    return f"{text} with {', '.join(names[:-1])} and {names[-1]} that came with it"


def _short_cause(
    s: Scenario, investor: str, investment_only: bool, amount: str, name: Callable[[str], str]
) -> str:
    """``cause`` in few words: "Amazon's $50B with the AWS expansion"; deals by name without
    their ids, no lab; without ``amount``, "Amazon (with the AWS expansion)"."""
    tied = [deal_name(s, c).rsplit(" (", 1)[0] for c in linked(s, investor)]
    what = ""
    if tied and investment_only:
        what = "alone"
    elif tied:
        what = f"with the {len(tied)} contracts" if len(tied) > 1 else f"with the {tied[0]}"
    if not amount:
        return f"{name(investor)} ({what})" if what else name(investor)
    text = f"{possessive(name(investor))} {amount}"
    return f"{text} {what}" if what else text


def substitution(s: Scenario) -> str:
    """The scenario's ``counterfactual.substitution``: ``file`` unless it says otherwise."""
    counterfactual = getattr(s, "counterfactual", None)
    return str(getattr(counterfactual, "substitution", "file"))


def assumption(
    s: Scenario,
    investor: str,
    which: str | None = None,
    *,
    short: bool = False,
    label: Callable[[str], str] | None = None,
) -> str:
    """The assumption that decides ``investor``'s caused figures under the substitution
    ``which`` (default: the scenario's): what the twin does about the money the lab lacks
    without the investment, and (where the investor has one) that the twin drops its revenue
    share. "the twin raises what OpenAI lacks as its financing rule allows: outside equity up to
    $150.00B, free of cost (counterfactual.substitution: file)". ``short``: for a chart's
    subtitle, "OpenAI may raise outside equity up to $150.00B (substitution: file)"."""
    labs = invested_labs(s, investor)
    text = financing_assumption(s, labs, which, short=short, tag=False, label=label)
    if any(r.investor == investor for r in s.revenue_shares):
        text += "; the twin drops the revenue share with the investment (a term of it)"
    return f"{text} ({substitution_tag(s, which, short)})"


def substitution_tag(s: Scenario, which: str | None = None, short: bool = False) -> str:
    """``counterfactual.substitution: file`` (``substitution: file`` when ``short``)."""
    which = which or substitution(s)
    return f"substitution: {which}" if short else f"counterfactual.substitution: {which}"


def financing_assumption(
    s: Scenario,
    labs: list[str],
    which: str | None = None,
    *,
    short: bool = False,
    tag: bool = True,
    label: Callable[[str], str] | None = None,
) -> str:
    """What the twins of ``labs`` do about the money they lack, under the substitution
    ``which`` (default: the scenario's), with its name unless ``tag`` is false."""
    which = which or substitution(s)
    text = _financing_words(s, labs, which, short, label or s.label)
    return f"{text} ({substitution_tag(s, which, short)})" if tag else text


def _financing_words(
    s: Scenario, labs: list[str], which: str, short: bool, name: Callable[[str], str]
) -> str:
    """``financing_assumption`` without the substitution's name."""
    if which == "none":
        return "the twin raises no more by any date than the run had raised by then"
    if which == "full":
        return "the twin raises every dollar it lacks, without limit"
    rules = []
    for lab in labs:
        fin = s.labs[lab].financing
        if fin is None:
            rules.append(f"{name(lab)} raises nothing" if short else "")
            continue
        cost = "free of cost" if fin.kind == "equity" else f"at {fin.rate:.1%} a year"
        limit = format_dollars(fin.limit)
        rule = f"outside {fin.kind} up to {limit}" + ("" if short else f", {cost}")
        if short:
            rule = f"{name(lab)} may raise {rule}"
        elif len(labs) > 1:
            rule = f"{name(lab)}, {rule}"
        rules.append(rule)
    if not labs:
        return "no lab"
    if short:
        return "; ".join(rules)
    if len(labs) == 1 and s.labs[labs[0]].financing is None:
        text = f"{name(labs[0])} has no financing rule: the twin raises nothing"
    elif len(labs) == 1:
        text = f"the twin raises what {name(labs[0])} lacks as its financing rule allows: "
        text += rules[0]
    else:
        text = "the twin raises what each lab lacks as its financing rule allows: "
        text += "; ".join(r or f"{name(lab)} none" for r, lab in zip(rules, labs, strict=True))
    return text


def margin_words(s: Scenario, investor: str) -> str:
    """The margins ``investor``'s incremental profit is taken at, as the summary says them
    beside it: "at AWS's 35% operating margin", and each contract of its sellers that states
    its own ("and AWS's 15% operating margin on contract aws-expansion")."""
    owns = s.investors[investor].owns
    parts = [margin_phrase(s, name) for name in owns]
    parts += [
        margin_phrase(s, c.cloud, c.key)
        for c in s.contracts
        if c.cloud in owns and c.margin is not None
    ]
    return "at " + " and ".join(parts) if parts else ""
