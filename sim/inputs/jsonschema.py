"""The JSON Schema of a scenario file, made from the models' own declarations: pydantic's schema
of ``ScenarioModel`` with each field's description, and each value's forms, unit and bounds as
its type declares them (sim/inputs/values.py). An editor with a YAML language server validates
and completes a file that names it (``# yaml-language-server: $schema=scenario.schema.json``).

The schema accepts what the loader accepts: amounts as numbers of dollars or text (``$1.5B``),
shares as fractions or text (``35%``), durations as text (``18mo``), an empty mapping for all
its defaults, a bare share for a cost route, and a distribution in place of any value. What
spans several values (references between agents, dates inside the horizon) is the loader's to
check, not the schema's.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel, TypeAdapter

from sim.inputs.models import ScenarioModel
from sim.inputs.specs import DISTRIBUTIONS
from sim.inputs.values import DISTRIBUTION_MARK

SCHEMA_URI = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_TITLE = "roundtrip scenario"  # how a schema file roundtrip wrote is known again
_DISTRIBUTION = {
    "type": "object",
    "description": "drawn at random, in the value's own units: "
    + "; ".join(f"{k}: {v}" for k, v in DISTRIBUTIONS.items()),
    "properties": {
        k: {"type": "array", "minItems": 1 if k == "choice" else len(v.split(","))}
        | ({} if k == "choice" else {"maxItems": len(v.split(","))})
        for k, v in DISTRIBUTIONS.items()
    },
    "additionalProperties": False,
    "minProperties": 1,
    "maxProperties": 1,
}


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file."""
    schema = ScenarioModel.model_json_schema(mode="validation")
    models = _models(ScenarioModel)
    pairs: list[tuple[str, type[BaseModel]]] = [("ScenarioModel", ScenarioModel), *models.items()]
    for name, model in pairs:
        node = schema if name == "ScenarioModel" else schema["$defs"][name]
        _defaults(node, model)
        if name != "ScenarioModel":  # ``spending:`` with nothing under it: all defaults
            node["type"] = ["object", "null"]
    schema["properties"]["sweep"] = {
        "type": "object",
        "description": "PATH -> the values a sweep gives it: a list [a, b, c] or a range "
        "LO..HI:N (docs/scenarios.md, 'Ranges')",
        "additionalProperties": {"anyOf": [{"type": "array"}, {"type": "string"}]},
    }
    schema = _marked(schema)
    schema["$defs"]["Distribution"] = _DISTRIBUTION
    schema["title"] = SCHEMA_TITLE
    schema["description"] = "A scenario of roundtrip: agents, deals and the calendar they run on."
    return {"$schema": SCHEMA_URI, **schema}


def schema_text() -> str:
    """The schema as the committed file holds it (scenarios/scenario.schema.json)."""
    return json.dumps(scenario_schema(), indent=2, ensure_ascii=False) + "\n"


def _models(model: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """Every model reachable from ``model``'s fields, by class name (pydantic's $defs names)."""
    found: dict[str, type[BaseModel]] = {}

    def visit(tp: Any) -> None:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp.__name__ in found:
                return
            found[tp.__name__] = tp
            for info in tp.model_fields.values():
                visit(info.annotation)
        for arg in getattr(tp, "__args__", ()) or ():
            visit(arg)
        for meta in getattr(tp, "__metadata__", ()) or ():
            visit(getattr(meta, "json_schema_input_type", None))

    for info in model.model_fields.values():
        visit(info.annotation)
    return found


def _defaults(node: dict[str, Any], model: type[BaseModel]) -> None:
    """Each field's default as a file writes it (``1mo``, not pydantic's dump of a Duration)."""
    for name, info in model.model_fields.items():
        prop = node.get("properties", {}).get(info.alias or name)
        if prop is None or "default" not in prop or info.default is None:
            continue
        tp: Any = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
        prop["default"] = TypeAdapter(tp).dump_python(info.default, mode="json", by_alias=True)


def _marked(node: Any) -> Any:
    """``node`` with each value's distribution mark made a reference to the definition."""
    if isinstance(node, dict):
        if node.get(DISTRIBUTION_MARK) is True:
            return {"$ref": "#/$defs/Distribution"}
        return {k: _marked(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_marked(v) for v in node]
    return node
