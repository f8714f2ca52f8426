"""Every input is declared once, on its value type (sim/inputs/values.py): each value a scenario
model holds has a declaration, and the readers of inputs find it there."""

from __future__ import annotations

import types
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
from pydantic import BaseModel

from sim.inputs.models import FlowModel, LabModel, ScenarioModel
from sim.inputs.specs import input_at
from sim.inputs.values import MAX_CENTS, Declared, declaration, declared


def leaves(model: type[BaseModel], seen: set[type] | None = None) -> list[tuple[str, Any, Any]]:
    """(model.field, annotation, metadata) of every field that holds a value, not a model."""
    seen = set() if seen is None else seen
    out: list[tuple[str, Any, Any]] = []
    for name, info in model.model_fields.items():
        models = [
            a for a in _flat(info.annotation) if isinstance(a, type) and issubclass(a, BaseModel)
        ]
        if models:
            for m in models:
                if m not in seen:
                    seen.add(m)
                    out += leaves(m, seen)
        elif name != "sweep":
            out.append((f"{model.__name__}.{name}", info.annotation, tuple(info.metadata)))
    return out


def _flat(tp: Any) -> list[Any]:
    args = get_args(tp)
    return [tp] if not args else [a for x in args for a in _flat(x)]


def value_type(tp: Any, metadata: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
    """The type of one value of a field: a mapping's or a list's values, not the container."""
    while True:
        if get_origin(tp) is Annotated:
            tp, *more = get_args(tp)
            metadata = (*metadata, *more)
        elif get_origin(tp) in (Union, types.UnionType) and type(None) in get_args(tp):
            (tp,) = [a for a in get_args(tp) if a is not type(None)]
        elif get_origin(tp) in (dict, list):
            tp, metadata = get_args(tp)[-1], ()
        else:
            return tp, metadata


def test_every_value_of_every_model_has_a_declaration() -> None:
    missing = [
        where
        for where, annotation, metadata in leaves(ScenarioModel)
        if declared(*value_type(annotation, metadata)) is None
    ]
    assert missing == []


def test_a_declaration_is_read_by_model_and_field_and_by_path() -> None:
    growth = declaration(FlowModel, "growth")
    assert growth == Declared(
        "share", "share", -1, 10.0, lo_open=True, per="a year", description=growth.description
    )
    cash = declaration(LabModel, "cash")
    assert cash is not None and (cash.kind, cash.unit, cash.hi) == ("amount", "dollars", MAX_CENTS)
    data = {"agents": {"lab": {"kind": "lab"}}}
    assert input_at(data, ["agents", "lab", "revenue", "growth"]) == growth
    assert input_at(data, ["agents", "lab", "kind"]) == Declared("text", choices=("lab",))
    assert input_at(data, ["agents", "lab", "revenue"]) == Declared("mapping")


def test_bounds_say_which_ends_are_open() -> None:
    growth = declaration(FlowModel, "growth")  # above -100%, at most 1000%
    assert growth is not None and growth.bounds == (-1, 10.0, True, False)


def test_a_declaration_of_an_unknown_kind_or_backward_bounds_fails_at_once() -> None:
    with pytest.raises(ValueError, match="kind\\(='money'\\) must be one of amount, share"):
        Declared("money")
    with pytest.raises(ValueError, match="lo\\(=1\\) must be at most hi\\(=0\\)"):
        Declared("share", lo=1, hi=0)
