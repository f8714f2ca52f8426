"""Human names for inputs and deals, made from the scenario itself: agent labels, deal ids and
each input's declared unit (sim/inputs/values.py). What a person reads on a chart axis, a
tornado row, a table or a report: ``deals.4.total`` is "AWS expansion (aws-expansion): total",
``agents.openai.revenue.growth`` "OpenAI revenue growth, a year".
"""

from __future__ import annotations

from sim.errors import ScenarioError
from sim.inputs.scenario import Scenario
from sim.inputs.specs import varied_input

# Paths inside an agent that read better as a phrase: (the parts, the phrase with {} for the
# agent the last part names)
_PHRASES = (
    (("spending", "compute", "providers", "*"), "share of compute bought at {}"),
    (("costs", "*"), "share of costs routed to {}"),
    (("costs", "*", "share"), "share of costs routed to {}"),
    (("costs", "*", "lag"), "lag of costs routed to {}"),
    (("costs", "*", "lead"), "lead of costs routed to {}"),
)
_SILENT = ("annual",)  # an annual flow says "a year" once, by its unit


def deal_name(scenario: Scenario, deal: int | str) -> str:
    """A deal by its place in ``deals:`` (0, or "0") or its id, as a person reads it: its id in
    words, agents by their labels, then the id itself ("AWS expansion (aws-expansion)")."""
    ids = [d.key for d in scenario.deals]
    if isinstance(deal, str) and deal in ids:
        key = deal
    elif isinstance(deal, int) or (deal.isascii() and deal.isdigit()):
        i = int(deal)
        if not 0 <= i < len(ids):
            raise ScenarioError(f"there is no deals.{deal}: the scenario has {len(ids)} deals")
        key = ids[i]
    else:
        raise ScenarioError(f"no deal with the id {deal!r}; ids: {', '.join(ids) or 'none'}")
    words = " ".join(_word(scenario, w) for w in key.split("-") if w)
    return f"{words[:1].upper()}{words[1:]} ({key})"


def input_name(scenario: Scenario, path: str) -> str:
    """A dotted input path (as ``--set`` takes it) as a person reads it: the agent's label or the
    deal's name, the rest in words, and ", a year" for a rate or a flow. A path that names no
    input of ``scenario`` is given back in words as it stands."""
    parts = path.split(".")
    if parts[0] == "agents" and len(parts) > 1:
        head, rest = scenario.label(parts[1]), parts[2:]
        text = f"{head} {_words(scenario, rest)}".strip()
    elif parts[0] == "deals" and len(parts) > 1:
        try:
            head = deal_name(scenario, parts[1])
        except ScenarioError:
            head = f"deals {parts[1]}"
        text = f"{head}: {_words(scenario, parts[2:])}" if parts[2:] else head
    else:
        words = _words(scenario, parts)
        text = f"{words[:1].upper()}{words[1:]}"
    try:
        per = varied_input(scenario.resolved, path).per
    except ScenarioError:
        per = ""
    return f"{text}, {per}" if per else text


def _words(scenario: Scenario, parts: list[str]) -> str:
    """Path parts in words: a phrase where one fits, agents by label, "tranche 2" for
    ``tranches.1``, underscores as spaces."""
    for pattern, phrase in _PHRASES:
        if len(pattern) == len(parts) and all(
            p in ("*", q) for p, q in zip(pattern, parts, strict=True)
        ):
            star = parts[pattern.index("*")]
            return phrase.format(scenario.label(star))
    out: list[str] = []
    for i, part in enumerate(parts):
        if part.isascii() and part.isdigit() and i > 0:
            out[-1] = f"{parts[i - 1].removesuffix('s')} {int(part) + 1}"
        elif part not in _SILENT:
            out.append(_word(scenario, part))
    return " ".join(out)


def _word(scenario: Scenario, word: str) -> str:
    """An agent's key as its label; other words with spaces for underscores."""
    return scenario.labels.get(word) or word.replace("_", " ")
