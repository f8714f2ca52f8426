"""Step 2 of the scenario pipeline: plain data -> validated pydantic model, and its resolution.

``validate`` checks each value where it stands (its value type, sim/inputs/values.py) and gives
the ``ScenarioModel`` (sim/inputs/models.py), or the first error by place in plain words;
``with_values`` and ``revalidated`` validate again only what a sweep or a draw changed; ``resolve``
writes out the defaults that depend on other inputs. ``sim.inputs.scenario.to_scenario`` runs
the checks across values (sim/inputs/checks.py) between the two. The models live in
sim/inputs/models.py and the value types in sim/inputs/values.py, and are imported from there.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel, PlainValidator, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

from sim.errors import ScenarioError
from sim.inputs.checks import first_error
from sim.inputs.document import YamlDoc, YamlPath
from sim.inputs.models import (
    AGENT_KINDS,
    DEAL_KINDS,
    AgentModel,
    DealModel,
    InvestmentModel,
    LoanModel,
    RevenueShareModel,
    ScenarioModel,
    checked_year,
    contract_terms,
)
from sim.inputs.units import shown
from sim.inputs.values import did_you_mean

# ---------------------------------------------------------------------------------------------
# Validation errors, in plain words and at the right place
# ---------------------------------------------------------------------------------------------


def _data_path(loc: tuple[str | int, ...], data: Any) -> YamlPath:
    """pydantic's location minus the union tag it inserts after ``agents.x`` and ``deals.N``."""
    out: list[str | int] = []
    node = data
    tag_skipped = False
    for seg in loc:
        at_union = len(out) == 2 and out[0] in ("agents", "deals") and isinstance(node, dict)
        if at_union and not tag_skipped and node.get("kind") == seg:
            tag_skipped = True
            continue
        out.append(seg)
        if isinstance(node, dict):
            node = node.get(seg)
        elif isinstance(node, list) and isinstance(seg, int) and 0 <= seg < len(node):
            node = node[seg]
        else:
            node = None
    return tuple(out)


def _translate(err: Any, doc: YamlDoc) -> ScenarioError:
    path = _data_path(tuple(err["loc"]), doc.data)
    kind, value = err["type"], err.get("input")
    if kind == "unknown_key":
        return doc.error((*path, err["ctx"]["unknown_key_name"]), err["msg"], key=True)
    if kind == "missing":
        return doc.error(path[:-1], f"missing required key {path[-1]!r}", key=True)
    if kind in ("union_tag_not_found", "union_tag_invalid"):
        kinds = AGENT_KINDS if path[:1] == ("agents",) else DEAL_KINDS
        accepted = f"expected one of: {', '.join(kinds)}"
        if kind == "union_tag_not_found":
            return doc.error(path, f"missing 'kind'; {accepted}", key=True)
        tag = value.get("kind") if isinstance(value, dict) else None
        hint = did_you_mean(tag, list(kinds)) if isinstance(tag, str) else ""
        return doc.error((*path, "kind"), f"unknown kind {shown(tag)}{hint}; {accepted}")
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return doc.error(path, f"expected a mapping (key: value, ...), got {shown(value)}")
    if kind == "list_type":
        return doc.error(path, f"expected a list such as [a, b], got {shown(value)}")
    if kind == "too_short":
        return doc.error(path, "expected at least one entry, got none", key=True)
    if kind == "string_type":
        return doc.error(path, f"expected text, got {shown(value)}", key=True)
    return doc.error(path, str(err["msg"]))


def validate(doc: YamlDoc) -> ScenarioModel:
    """The validated model of ``doc``, or the first ScenarioError by place (checks of one
    value or one mapping at a time; ``to_scenario`` then checks how they fit together)."""
    try:
        return ScenarioModel.model_validate(doc.data)
    except ValidationError as e:
        raise first_error([_translate(err, doc) for err in e.errors(include_url=False)]) from None


@functools.cache
def _adapter(kind: str) -> TypeAdapter[Any]:
    """The validator of one agent or one deal, made on first use (not at import: start-up)."""
    return TypeAdapter(AgentModel if kind == "agents" else DealModel)


def revalidated(
    base: ScenarioModel, doc: YamlDoc, parts: Iterable[tuple[str, str | int]]
) -> ScenarioModel | None:
    """``base`` with the agents and deals named in ``parts`` (``("agents", name)``,
    ``("deals", index)``) validated again from ``doc``, the rest taken from ``base``: the model
    ``validate(doc)`` gives when ``doc`` differs from ``base``'s document only inside those.
    None where one of them fails: ``validate(doc)`` then says what is wrong, at its place."""
    agents, deals = dict(base.agents), list(base.deals)
    try:
        for kind, key in parts:
            if kind == "agents" and isinstance(key, str) and key in agents:
                agents[key] = _adapter(kind).validate_python(doc.data["agents"][key])
            elif kind == "deals" and isinstance(key, int) and 0 <= key < len(deals):
                deals[key] = _adapter(kind).validate_python(doc.data["deals"][key])
            else:
                return None
    except ValidationError:
        return None
    return base.model_copy(update={"agents": agents, "deals": deals})


def with_values(
    base: ScenarioModel, doc: YamlDoc, paths: Iterable[YamlPath]
) -> ScenarioModel | None:
    """``base`` with the single values at ``paths`` read again from ``doc`` through their own
    validators, everything else taken from ``base``: what ``validate(doc)`` gives when ``doc``
    differs from ``base``'s document only in those values. Every value of a model here has its
    own validator (a ``PlainValidator``) and no model checks one value against another (that is
    ``to_scenario``'s work), so validating the changed values alone is validating the whole.
    None where a path does not end at a value that ``base`` has, or a value fails: then
    ``validate(doc)`` says what is wrong, at its place."""
    m: Any = base
    for path in paths:
        raw = _value_at(doc.data, path)
        try:
            m = _replaced(m, path, raw)
        except (PydanticCustomError, ValueError, TypeError, KeyError, IndexError):
            return None
        if m is None:
            return None
    return m


def _value_at(data: Any, path: YamlPath) -> Any:
    for part in path:
        data = data[part]
    return data


def _replaced(node: Any, path: YamlPath, raw: Any) -> Any:
    """``node`` (a model, or a dict or list of models and values) with the value at ``path``
    validated from ``raw``; None where the path is not one of its values."""
    head, rest = path[0], path[1:]
    if isinstance(node, BaseModel):
        names = {f.alias or n: n for n, f in type(node).model_fields.items()}
        if not isinstance(head, str) or head not in names:
            return None
        name = names[head]
        value = getattr(node, name)
        if len(rest) == 1 and isinstance(value, dict) and rest[0] in value:
            # a value in a mapping of values (a provider's share): by the mapping's value type
            tp = type(node).model_fields[name].annotation
            args = get_args(tp) if get_origin(tp) is dict else ()
            check = _validator(list(get_args(args[1])[1:])) if len(args) == 2 else None
            if (
                check is None
                or isinstance(raw, dict | list)
                or get_origin(args[1]) is not Annotated
            ):
                return None
            return node.model_copy(update={name: {**value, rest[0]: check(raw)}})
        if rest:
            new = _replaced(value, rest, raw)
        else:
            check = _validator(type(node).model_fields[name].metadata)
            if check is None or isinstance(raw, dict | list):
                return None
            new = check(raw)
        return None if new is None else node.model_copy(update={name: new})
    if isinstance(node, dict) and head in node and rest:
        new = _replaced(node[head], rest, raw)
        return None if new is None else {**node, head: new}
    if isinstance(node, list) and isinstance(head, int) and 0 <= head < len(node) and rest:
        new = _replaced(node[head], rest, raw)
        return None if new is None else [*node[:head], new, *node[head + 1 :]]
    # a value in a dict or a list (a provider's share, a schedule's amount): by its type's
    # validator, which the model holds only in its annotation; left to the whole validation
    return None


def _validator(metadata: list[Any]) -> Callable[[Any], Any] | None:
    """The PlainValidator's function among a field's metadata, if it has one (ours all take
    the value alone)."""
    func: Any = next((m.func for m in metadata if isinstance(m, PlainValidator)), None)
    return func


def resolve(m: ScenarioModel, ids: list[str]) -> ScenarioModel:
    """The model with every default that depends on other inputs written out: labels (the
    key), agents' names, deal ids, a contract's start, growth and payment terms, an ``on:``
    tranche's ``until``, a revenue share's window. Defaults of a field's own are the model's.

    A deal resolved the same way before (the same object, with the same defaults) is that
    same resolved object: the runs of a sweep or a Monte Carlo share the deals they do not
    vary, and the plan reads what they share once (sim.model.schedule.build_plan)."""
    end = m.horizon.after(m.start)
    agents: dict[str, Any] = dict(m.agents)
    for name, a in m.agents.items():
        if a.label is None or a.name != name:  # validated on its own (``revalidated``)
            agents[name] = a.model_copy(update={"label": a.label or name})
            agents[name]._name = name
    deals: list[Any] = []
    for i, d in enumerate(m.deals):
        if isinstance(d, InvestmentModel):  # the horizon's end is a default of on: only
            given: tuple[Any, ...] = (ids[i], end if any(t.on for t in d.tranches) else None)
        elif isinstance(d, RevenueShareModel):
            given = (ids[i], d.start or m.start, d.until or end)
        elif isinstance(d, LoanModel):
            given = (ids[i],)
        else:
            given = (ids[i], contract_terms(m, d), m.start)
        deals.append(_resolved_deal(d, given))
    return m.model_copy(update={"agents": agents, "deals": deals})


# (id(deal as validated), the defaults it is resolved with) -> (that deal, the resolved deal); the
# deal is held, so its id is not reused while its entry lives. Cleared when full.
_RESOLVED: dict[tuple[int, tuple[Any, ...]], tuple[Any, Any]] = {}
_RESOLVED_MAX = 4096


def _resolved_deal(d: Any, given: tuple[Any, ...]) -> Any:
    """Deal ``d`` with the defaults ``given`` written out (see ``resolve``)."""
    key = (id(d), given)
    hit = _RESOLVED.get(key)
    if hit is not None and hit[0] is d:
        return hit[1]
    if isinstance(d, InvestmentModel):
        deal_id, end = given
        tranches = [
            t.model_copy(update={"on": t.on.model_copy(update={"until": t.on.until or end})})
            if t.on is not None
            else t
            for t in d.tranches
        ]
        out: Any = d.model_copy(update={"id": deal_id, "tranches": tranches})
    elif isinstance(d, RevenueShareModel):
        deal_id, start, until = given
        out = d.model_copy(update={"id": deal_id, "start": start, "until": until})
    elif isinstance(d, LoanModel):
        out = d.model_copy(update={"id": given[0]})
    else:
        deal_id, payment_terms, start = given
        terms: dict[str, Any] = {"id": deal_id, "payment_terms": payment_terms}
        if d.schedule is None:  # a total over a term, from a start, growing
            terms |= {"growth": d.growth or 0.0, "start": d.start or start}
        else:  # a schedule of calendar years, by year
            terms["schedule"] = {checked_year(y): c for y, c in d.schedule.items()}
        out = d.model_copy(update=terms)
    if len(_RESOLVED) >= _RESOLVED_MAX:
        _RESOLVED.clear()
    _RESOLVED[key] = (d, out)
    return out
