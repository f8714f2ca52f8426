"""The scenario ``roundtrip init`` writes for a new user: one investor, one lab, the investor's
cloud and a rival cloud, one investment and, if asked, one compute contract; every line says what
it means and its unit, and the inputs that decide the headline figure are marked KEY.

The text is a template with the parties' names put in; those names are checked first (the rule
of an agent name, ``sim.inputs.models.NAME_RE``, not a reserved account, read by YAML as the same
text), so each is a plain YAML scalar and the template stays valid YAML whatever they are.
Its comments state inputs only, never a figure a run computes: the run prints those.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from sim.errors import ScenarioError
from sim.inputs.document import read_value, read_yaml
from sim.inputs.models import NAME_RE, RESERVED_NAMES

SCHEMA_NAME = "scenario.schema.json"  # what the first line names, beside the file
FINANCING_SOURCE = "private_markets"  # the lab's financing source: no agent may take the name
DEFAULT_NAMES = {"investor": "bigtech", "lab": "labco", "cloud": "bigcloud", "rival": "rivalcloud"}
DEFAULT_LABELS = {
    "bigtech": "BigTech",
    "labco": "LabCo",
    "bigcloud": "BigCloud",
    "rivalcloud": "RivalCloud",
}
MAX_STARTER_BYTES = 64 * 2**10  # a starter is about 7 kB: a larger file is not one


@dataclass(frozen=True)
class Parties:
    """The names (scenario keys) and labels of the starter's four agents."""

    investor: str
    lab: str
    cloud: str  # the investor's own cloud
    rival: str  # a cloud no investor of the file owns
    labels: tuple[str, str, str, str]  # in the same order


def label_of(name: str) -> str:
    """A label for an agent named ``name``: the default's own, or the name with spaces for
    ``_``; a name all in lower case gets capitals: in full if it is one word of up to three
    letters (most likely an acronym: ``aws`` -> "AWS"), else each word's first letter
    (``big_tech`` -> "Big Tech")."""
    if name in DEFAULT_LABELS:
        return DEFAULT_LABELS[name]
    words = [w for w in name.split("_") if w]
    if name != name.lower():
        return " ".join(words)
    if len(name) <= 3 and name.isalpha():
        return name.upper()
    return " ".join(w.capitalize() for w in words)


def parties(
    investor: str | None = None,
    lab: str | None = None,
    cloud: str | None = None,
    rival: str | None = None,
) -> Parties:
    """The starter's agents named as given (each defaults to ``DEFAULT_NAMES``), labels derived
    by ``label_of``; a name that cannot be a scenario key, or two that clash, raise
    ``ScenarioError`` naming the option (``--investor``...)."""
    given = {"investor": investor, "lab": lab, "cloud": cloud, "rival": rival}
    names = {role: DEFAULT_NAMES[role] if n is None else n for role, n in given.items()}
    seen: dict[str, str] = {}
    for role, name in names.items():
        _check_name(f"--{role}", name)
        other = seen.get(name.lower())
        if other is not None:
            # the option given takes the blame; a default clashing is named as one
            blame, of = (other, role) if given[role] is None else (role, other)
            was, fix = ("the default name", f" (or give the {of} one with --{of})")
            if given[of] is not None:
                was, fix = "the name", ""
            raise ScenarioError(
                f"{names[blame]!r} is {was} of the {of} too (names are compared without "
                f"case); the four agents need four names: pick another{fix}",
                file=f"--{blame}",
            )
        seen[name.lower()] = role
    order = (names["investor"], names["lab"], names["cloud"], names["rival"])
    labels = tuple(label_of(n) for n in order)
    return Parties(*order, labels=(labels[0], labels[1], labels[2], labels[3]))


def _check_name(option: str, name: str) -> None:
    if not NAME_RE.fullmatch(name):
        raise ScenarioError(
            f"an agent name is letters, digits and _ starting with a letter, such as "
            f"openai or aws_2; got {name!r}",
            file=option,
        )
    if name.lower() in (*RESERVED_NAMES, FINANCING_SOURCE):
        raise ScenarioError(
            f"{name!r} is the name of an account outside the model "
            f"({', '.join((*RESERVED_NAMES, FINANCING_SOURCE))}); pick another name",
            file=option,
        )
    if read_value(name, option) != name:  # true, null...: YAML reads them as something else
        raise ScenarioError(
            f"YAML reads {name!r} as {read_value(name, option)!r}, not as a name; pick another "
            "name",
            file=option,
        )


def file_word(file_name: str) -> str:
    """How the starter's comments name its own file in a command: the name, quoted for a shell
    where it needs it, or FILE where it holds characters a comment line cannot."""
    return shlex.quote(file_name) if file_name.isprintable() and file_name else "FILE"


def starter_text(p: Parties, *, contract: bool = False, file_name: str = "FILE") -> str:
    """The starter scenario, with a compute contract between the lab and the investor's cloud
    if ``contract``; ``file_name`` is how its comments name it in commands (``file_word``)."""
    il, ll, cl, rl = p.labels
    f = file_word(file_name)
    v = {"i": p.investor, "l": p.lab, "c": p.cloud, "r": p.rival, "f": f}
    v |= {"il": il, "ll": ll, "cl": cl, "rl": rl, "deal": f"{p.investor}-{p.lab}"}
    text = _HEAD.format(**v) + _AGENTS.format(**v) + _INVESTMENT.format(**v)
    return text + (_CONTRACT.format(**v) if contract else "")


# What decides the headline figure: README ("What a run prints") and docs/metrics.md ("How to
# read them"). Each KEY below is one of these.
_HEAD = """\
# yaml-language-server: $schema=scenario.schema.json
# A new scenario written by `roundtrip init`: {il} invests in {ll},
# which buys compute from {il}'s own cloud, {cl}, and from a rival, {rl}.
# Every figure is a placeholder: write your own, and beside each one where it comes from
# (docs/scenarios.md, "Citing sources").
#   roundtrip validate {f}   checks it without running it
#   roundtrip run {f}        runs it and prints what the investment caused
# Every key: docs/scenarios.md. Every figure the run prints: docs/metrics.md.
#
# KEY marks the inputs that decide the headline figure: the revenue and profit the investment
# caused at {cl} (against a twin run without it) and the stake's cost net of that profit.
# They are:
#   - the share of {ll}'s compute bought at {cl};
#   - {cl}'s margin, its profit on each dollar {ll} pays it;
#   - the amount invested;
#   - {ll}'s revenue and its growth: a lab that can pay for its compute anyway buys it with or
#     without the investment, so the investment causes little;
#   - the financing limit: a lab that can raise money elsewhere when short does the same.
# None of them is public for a real deal: read the answer over a range of each, for example
#   roundtrip sweep {f} --vary agents.{c}.margin=20%..40%:3

name: {il} invests in {ll}  # the title of summaries, charts and reports (text)
# what the scenario is about (text)
description: A starter scenario written by roundtrip init; replace every figure with your own.
start: 2026-01-01  # the first day simulated (a date, YYYY-MM-DD)
horizon: 5y  # how long is simulated (a duration: 90d, 18mo, 5y)
step: 1mo  # money moves once a step (a duration)
discount_rate: 8%  # present values at the start use it: the investor's cost of capital (a year)
"""

_AGENTS = """
agents:  # each under its name: letters, digits and _, starting with a letter
  {i}:  # the investor
    kind: investor  # puts money into labs
    label: {il}  # its name in charts and reports (text)
    owns:  # the clouds whose profit it receives (names)
      - {c}  # its own cloud
  {l}:  # the lab
    kind: lab  # buys compute with what it earns, is given and raises
    label: {ll}  # its name in charts and reports (text)
    cash: 5B  # cash at the start (dollars)
    revenue:  # what its customers pay it
      annual: 10B  # KEY: revenue at the start (dollars a year)
      growth: 40%  # KEY: how fast that revenue grows (a share, a year)
    spending:  # what it wants to buy; what its cash cannot pay for is not bought
      compute:  # compute: the money that may come back to {cl}
        annual: 20B  # compute it wants at the start (dollars a year)
        growth: 30%  # how fast that grows (a share, a year)
        providers:  # where it buys that compute, above any contract's minimum (shares)
          {c}: 40%  # KEY: the share bought at the investor's own cloud
          {r}: 40%  # the share bought at the rival; the rest is bought outside the model
      other:  # staff and every other cost
        annual: 4B  # other costs at the start (dollars a year)
        growth: 10%  # how fast they grow (a share, a year)
    financing:  # how it raises money when short; without this, it never does
      source: private_markets  # who it raises from: an account outside the model (a name)
      kind: equity  # equity is never repaid; debt bears interest at a rate it states
      floor: 2B  # it raises when its cash would fall below this (dollars)
      limit: 20B  # KEY: the most it raises over the whole horizon (dollars; 0: never); it
      # decides what the investment alone causes: the twin raises what it lacks up to here
  {c}:  # the investor's cloud
    kind: cloud  # sells compute to labs
    label: {cl}  # its name in charts and reports (text)
    margin: 30%  # KEY: the share of each payment it keeps as profit, for {il}
    margin_basis: operating  # what the margin is: operating (after all costs) or gross
  {r}:  # the rival cloud
    kind: cloud  # sells compute to labs
    label: {rl}  # its name in charts and reports (text)
    margin: 25%  # the share of each payment it keeps as profit; no investor here owns it
    margin_basis: operating  # operating (after all costs) or gross
"""

_INVESTMENT = """
deals:  # investments and compute contracts
  - kind: investment  # {il} buys a stake in {ll}
    id: {deal}  # how charts, reports and --set name this deal (text)
    investor: {i}  # who pays (a name above)
    lab: {l}  # who is paid (a name above)
    post_money: 100B  # {ll}'s value after the round; the stake is amount / post_money (dollars)
    tranches:  # the payments, each on its date
      - at: 2026-01-01  # when it is paid (a date within the horizon)
        amount: 10B  # KEY: the amount invested (dollars)
"""

_CONTRACT = """\
  - kind: compute_contract  # take-or-pay: {ll} pays {cl} at least this, used or not
    id: {l}-{c}  # how charts, reports and --set name this deal (text)
    lab: {l}  # who pays (a name above)
    cloud: {c}  # who is paid (a name above)
    total: 20B  # the minimum over the term (dollars)
    over: 4y  # the term, from the start (a duration)
    payment_terms: 30d  # each invoice is paid this long after it is issued (a duration)
    # KEY: the investment this contract came with: the twin without the investment drops the
    # contract too, so what the contract brings {cl} counts as caused. Delete the line if
    # {ll} would have signed it anyway.
    with: {deal}
"""


def parties_of(text: str) -> tuple[Parties, bool] | None:
    """The parties and whether there is a contract, read back from a starter's text; ``None``
    where the text is not laid out as a starter (so it cannot be one)."""
    data: Any = read_yaml(text, "<starter>").data
    agents = data.get("agents")
    deals = data.get("deals")
    if not isinstance(agents, dict) or not isinstance(deals, list) or len(agents) != 4:
        return None
    kinds = {k: a.get("kind") if isinstance(a, dict) else None for k, a in agents.items()}
    by_kind = {kind: [k for k, v in kinds.items() if v == kind] for kind in set(kinds.values())}
    investors, labs, clouds = (by_kind.get(k, []) for k in ("investor", "lab", "cloud"))
    if len(investors) != 1 or len(labs) != 1 or len(clouds) != 2:
        return None
    owns = agents[investors[0]].get("owns")
    if not isinstance(owns, list) or len(owns) != 1 or owns[0] not in clouds:
        return None
    rival = next(c for c in clouds if c != owns[0])
    names = (investors[0], labs[0], owns[0], rival)
    labels = tuple(str(agents[n].get("label")) for n in names)
    found = Parties(*names, labels=(labels[0], labels[1], labels[2], labels[3]))
    return found, len(deals) == 2


def is_starter(text: str, file_name: str) -> bool:
    """Whether ``text`` is, to the byte, the starter ``roundtrip init`` writes as
    ``file_name``: an edited starter is its user's file, not roundtrip's."""
    if len(text.encode("utf-8")) > MAX_STARTER_BYTES:
        return False
    try:
        found = parties_of(text)
    except ScenarioError:  # not YAML a scenario may be: not a starter either
        return False
    if found is None:
        return False
    p, contract = found
    return text == starter_text(p, contract=contract, file_name=file_name)
