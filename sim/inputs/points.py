"""A point: a scenario document with values set as a sweep or a draw sets them, and the ranges a
file states (a ``sweep:`` mapping, distributions in place of values) read out of it.

``at_first_point`` is how every command that takes one scenario reads a file with ranges: its
sweep at its first point, its distributions at their medians. Setting ``deals.N.amount`` scales
the investment's tranches; setting a provider's share rescales the lab's other providers.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sim.errors import ScenarioError
from sim.inputs.document import YamlDoc, YamlPath, dotted, set_values
from sim.inputs.specs import (
    DEAL_AMOUNT,
    DISTRIBUTIONS,
    PROVIDER,
    SHARE_PLACES,
    Distribution,
    Sweep,
    grid_size,
    input_at,
    read_distribution,
    read_sweep,
    shown_value,
    varied_input,
)
from sim.inputs.units import parse_amount_cents, parse_share, shown
from sim.inputs.values import dollars


def _at(data: Any, path: Sequence[str]) -> Any:
    for part in path:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def point(doc: YamlDoc, values: Sequence[tuple[str, Any, str]], rescale: bool = True) -> YamlDoc:
    """``doc`` with each ``(path, value, label)`` set: ``deals.N.amount`` scales the tranches,
    a provider's share rescales the lab's other providers (unless ``rescale`` is off)."""
    return set_values(doc, point_items(doc, values, rescale))


def point_items(
    doc: YamlDoc, values: Sequence[tuple[str, Any, str]], rescale: bool
) -> list[tuple[str, object, str]]:
    """The ``(path, value, label)`` to set for ``values``: as given, with a deal's amount
    spread over its tranches and a provider's share rescaling the lab's other providers."""
    items: list[tuple[str, object, str]] = []
    providers: dict[str, dict[str, tuple[Any, str]]] = {}
    for path, value, label in values:
        m = DEAL_AMOUNT.fullmatch(path)
        p = PROVIDER.fullmatch(path)
        if m:
            items += _tranches(doc.data, int(m.group(1)), value, label)
            continue
        if p:
            providers.setdefault(p.group(1), {})[p.group(2)] = (value, label)
        items.append((path, value, label))
    for lab, varied in providers.items():
        items += _providers(doc.data, lab, varied, rescale)
    return items


def _tranches(data: dict[str, Any], i: int, value: Any, label: str) -> list[tuple[str, Any, str]]:
    """The tranches of deals.i scaled to add up to ``value`` exactly, each to the cent
    (largest remainders: the cents left over go to the largest fractions, then the first)."""
    tranches = _at(data, ("deals", str(i), "tranches"))
    try:
        total = parse_amount_cents(value)
        cents = [parse_amount_cents(t["amount"]) for t in tranches]
    except (ValueError, TypeError, KeyError):
        return [
            (f"deals.{i}.tranches.{j}.amount", value, label) for j in range(len(tranches or []))
        ]
    written = sum(cents)
    if written <= 0:
        return []
    shares = [Fraction(total * c, written) for c in cents]
    scaled = [math.floor(s) for s in shares]
    left = total - sum(scaled)
    for j in sorted(range(len(scaled)), key=lambda j: (scaled[j] - shares[j], j))[:left]:
        scaled[j] += 1
    note = f"{label} (scaled from {dollars(written)})"
    return [(f"deals.{i}.tranches.{j}.amount", dollars(c), note) for j, c in enumerate(scaled)]


def _shares(values: dict[str, Any]) -> dict[str, Decimal] | None:
    """Shares as exact decimals of what was written (None if one is no share)."""
    try:
        return {k: Decimal(repr(parse_share(v))) for k, v in values.items()}
    except ValueError:
        return None


def _providers(
    data: dict[str, Any], lab: str, varied: dict[str, tuple[Any, str]], rescale: bool
) -> list[tuple[str, Any, str]]:
    """Set the varied shares; the lab's other providers scale in proportion so that the total
    stays as written (down to none; past that, the part bought outside the model shrinks)."""
    base = f"agents.{lab}.spending.compute.providers"
    written = _at(data, base.split("."))
    new = _shares({c: v for c, (v, _) in varied.items()})
    shares = _shares(written) if isinstance(written, dict) else None
    if new is None or shares is None:
        return []  # validation says what is wrong
    others = [c for c in shares if c not in varied]
    rest = sum((shares[c] for c in others), Decimal(0))  # the others' shares as written
    want = sum(shares.values(), Decimal(0)) - sum(new.values(), Decimal(0))  # for the others
    label = next(iter(varied.values()))[1]
    if not rescale:
        after = sum(new.values(), rest)
        if after > 1:
            raise ScenarioError(
                f"with rescale off the other providers of {shown(lab)} keep their shares, and "
                f"the shares would sum to {shown_value(float(after))}, past 100%; lower the value, "
                "or "
                "let the others rescale in proportion (rescale on: drop --no-rescale)",
                file=label,
            )
        return []
    if not others or rest == 0:
        return []  # the part bought outside the model takes the difference
    want = max(want, Decimal(0))
    scaled = {c: (shares[c] * want / rest).quantize(SHARE_PLACES) for c in others}
    scaled[others[-1]] = want - sum((scaled[c] for c in others[:-1]), Decimal(0))
    note = f"rescaled for {label}"
    return [(f"{base}.{c}", float(s), note) for c, s in scaled.items()]


@dataclass(frozen=True)
class Ranges:
    """A document's ranges: ``base`` has no ``sweep:`` and its distributions at their medians."""

    base: YamlDoc
    sweeps: tuple[Sweep, ...]
    distributions: tuple[Distribution, ...]


def ranges(doc: YamlDoc) -> Ranges:
    """The sweeps and distributions written in ``doc``, checked; errors name file:line."""
    sweep = doc.data.get("sweep")
    found: list[tuple[YamlPath, dict[str, Any]]] = []
    _find(doc.data, (), found)
    if sweep is None and not found:
        return Ranges(doc, (), ())
    data = copy.deepcopy(doc.data)
    data.pop("sweep", None)
    dists: list[Distribution] = []
    for path, value in found:
        if path[:1] == ("sweep",):
            continue
        inp = input_at(data, [str(p) for p in path])
        if inp is None or inp.kind == "mapping":
            continue  # validation says the key is unknown

        def fail(message: str, path: YamlPath = path) -> ScenarioError:
            return doc.error(path, message)

        if len(value) != 1:
            raise fail(
                f"a distribution is one key ({', '.join(DISTRIBUTIONS)}), got {shown(value)}"
            )
        ((kind, params),) = value.items()
        label = _label(doc, path)
        dist = read_distribution(dotted(path), str(kind), params, inp, label, fail)
        dists.append(dist)
        parent = _at(data, [str(p) for p in path[:-1]])
        parent[path[-1]] = dist.median()
    sweeps: list[Sweep] = []
    if sweep is not None:
        if not isinstance(sweep, dict):
            raise doc.error(("sweep",), f"expected a mapping PATH: SPEC, got {shown(sweep)}")
        for key, spec in sweep.items():
            where: YamlPath = ("sweep", key)

            def fail_at(message: str, where: YamlPath = where) -> ScenarioError:
                return doc.error(where, message)

            def fail_key(message: str, where: YamlPath = where) -> ScenarioError:
                return doc.error(where, message, key=True)

            inp = varied_input(data, str(key), fail_key)
            sweeps.append(read_sweep(str(key), spec, inp, _label(doc, where), fail_at))
        grid_size(sweeps, lambda m: doc.error(("sweep",), m, key=True))
    comments = {
        c: t for c, t in doc.comments.items() if c != "sweep" and not c.startswith("sweep.")
    }
    return Ranges(replace(doc, data=data, comments=comments), tuple(sweeps), tuple(dists))


def _label(doc: YamlDoc, path: YamlPath) -> str:
    file, line, _ = doc.where(path)
    return f"{file}:{line} {dotted(path)}" if line is not None else file


def _find(node: Any, path: YamlPath, out: list[tuple[YamlPath, dict[str, Any]]]) -> None:
    """Mappings that may be distributions (one key, or a distribution's name among the keys),
    in file order: (path, mapping); ``ranges`` keeps those in place of a value."""
    if isinstance(node, dict):
        if path and (len(node) == 1 or any(k in DISTRIBUTIONS for k in node)):
            out.append((path, node))
            if any(k in DISTRIBUTIONS for k in node):
                return
        for k, v in node.items():
            _find(v, (*path, k), out)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _find(v, (*path, i), out)


def at_first_point(doc: YamlDoc) -> YamlDoc:
    """``doc`` as ``run`` and ``validate`` read it: its sweep at its first point, its
    distributions at their medians (``doc`` itself when it has neither)."""
    r = ranges(doc)
    if not r.sweeps:
        return r.base
    return point(r.base, [(s.path, s.values[0], s.label) for s in r.sweeps])
