"""Grids and draws: the points of a sweep (every combination of its inputs' values, the last
varying fastest) and of a Monte Carlo (one numpy generator per run, spawned from one seed), made
one at a time as they are iterated. docs/scenarios.md, "Ranges: sweeps and distributions".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sim.errors import ScenarioError
from sim.inputs.scenario import Scenario
from sim.inputs.specs import (
    DEAL_AMOUNT,
    MAX_RUNS,
    Distribution,
    Sweep,
    grid_size,
    parse_vary,
    shown_value,
)
from sim.inputs.units import shown
from sim.inputs.values import MAX_SEED
from sim.ranges.template import Inputs, Point, Template


def _specs(template: Template, specs: Iterable[str | Sweep | Distribution]) -> list[Any]:
    data = template.ranges.base.data
    out: list[Sweep | Distribution] = []
    for spec in specs:
        if isinstance(spec, str):
            spec = parse_vary(spec, data)
        elif spec.text:  # made without a template: check it against this one's inputs
            spec = parse_vary(spec.text, data)
        twice = next((s for s in out if _overlap(s.path, spec.path)), None)
        if twice is not None:
            what = (
                f"{spec.path} is varied twice"
                if twice.path == spec.path
                else f"{spec.path} overlaps {twice.path}: varying one sets the other"
            )
            raise ScenarioError(
                f"{what} (also by {twice.label}); vary an input once, with all its values",
                file=spec.label,
            )
        out.append(spec)
    return out


def _overlap(a: str, b: str) -> bool:
    """Whether varying path ``a`` and varying ``b`` set some input twice: the same path, one
    inside the other (``agents.lab`` and ``agents.lab.cash``), or an investment's whole amount
    and one of its tranches."""

    def sets(path: str) -> str:
        m = DEAL_AMOUNT.fullmatch(path)
        return f"deals.{m.group(1)}.tranches" if m else path

    x, y = sets(a), sets(b)
    return x == y or x.startswith(y + ".") or y.startswith(x + ".")


def grid(template: Template, specs: Iterable[str | Sweep] = ()) -> list[tuple[Inputs, Scenario]]:
    """Every combination of the file's sweep and ``specs`` (``PATH=SPEC``; one given again
    replaces the file's), the last varying fastest; distributions at their medians."""
    return [(inputs, p.scenario()) for inputs, p in grid_points(template, specs)]


@dataclass(frozen=True)
class Points:
    """The points of a sweep or a Monte Carlo, made one at a time as they are iterated (a
    million draws hold no million points): ``len`` of them, each ``(inputs, Point)``, the
    input paths ``varied``."""

    template: Template
    varied: tuple[str, ...]  # the input paths every point sets, in the file's order
    total: int
    make: Callable[[int], tuple[Inputs, Point]] = field(repr=False)  # point k
    # the point made before anything runs (``check``): None for the first one
    typical: tuple[tuple[str, Any, str], ...] | None = None

    def check(self) -> Scenario:
        """Make, before anything runs, the point that stands for them all: a grid's first point,
        a Monte Carlo's distributions at their medians (what ``run`` would read in a file). A
        spec no value of which can make a scenario (one naming a whole agent, a range starting
        out of bounds) is refused by it with ``ScenarioError``; a draw that is invalid is a row
        with its error, whichever run draws it."""
        if self.typical is None:
            return self.make(0)[1].scenario()
        return Point(self.template, self.typical).scenario()

    def __len__(self) -> int:
        return self.total

    def __iter__(self) -> Iterator[tuple[Inputs, Point]]:
        return (self.make(k) for k in range(self.total))

    def __getitem__(self, k: int) -> tuple[Inputs, Point]:
        if not -self.total <= k < self.total:
            raise IndexError(f"point {k} of {self.total}")
        return self.make(k % self.total)


def _made(template: Template, values: list[tuple[str, Any, str]]) -> tuple[Inputs, Point]:
    return {path: value for path, value, _ in values}, Point(template, tuple(values))


def grid_points(template: Template, specs: Iterable[str | Sweep] = ()) -> Points:
    """``grid`` as points not made yet (``Point.scenario()`` makes each), the last input
    varying fastest."""
    sweeps = {s.path: s for s in template.ranges.sweeps}
    for spec in _specs(template, specs):
        if isinstance(spec, Distribution):
            raise ScenarioError(
                "a distribution is drawn by Monte Carlo (draw), not swept; give a list a,b,c "
                "or a range LO..HI:N here",
                file=spec.label,
            )
        sweeps[spec.path] = spec
    axes = list(sweeps.values())
    sizes = [len(s.values) for s in axes]
    total = grid_size(axes, lambda m: ScenarioError(m, file=template.filename))

    def make(k: int) -> tuple[Inputs, Point]:
        values = []
        for axis, size in zip(reversed(axes), reversed(sizes), strict=True):  # last fastest
            k, i = divmod(k, size)
            v = axis.values[i]
            values.append((axis.path, v, f"{axis.label} at {shown_value(v)}"))
        return _made(template, values[::-1])

    return Points(template, tuple(s.path for s in axes), total, make)


def draw(
    template: Template, n_runs: int, seed: int, specs: Iterable[str | Distribution] = ()
) -> list[tuple[Inputs, Scenario]]:
    """``n_runs`` scenarios, the file's distributions and ``specs`` (``PATH~DIST``) drawn with
    one generator per run from ``SeedSequence(seed).spawn(n_runs)``: run k's draws depend on
    ``seed`` and k only. A sweep in the file is held at its first point."""
    return [(inputs, p.scenario()) for inputs, p in draw_points(template, n_runs, seed, specs)]


def draw_points(
    template: Template, n_runs: int, seed: int, specs: Iterable[str | Distribution] = ()
) -> Points:
    """``draw`` as points not made yet: each point's values are drawn as it is iterated (run
    k's generator is ``SeedSequence(seed).spawn(n_runs)[k]``, made alone), its scenario by
    ``Point.scenario()`` (on a worker, when farmed out)."""
    import numpy as np

    if isinstance(n_runs, bool) or not isinstance(n_runs, int) or not 1 <= n_runs <= MAX_RUNS:
        raise ScenarioError(
            f"the number of runs must be a whole number from 1 to {MAX_RUNS:,}, got {shown(n_runs)}"
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ScenarioError(
            f"the seed must be a whole number from 0 to 2**63 - 1, got {shown(seed)}"
        )
    dists = {d.path: d for d in template.ranges.distributions}
    for spec in _specs(template, specs):
        if isinstance(spec, Sweep):
            raise ScenarioError(
                "a list or range is swept (grid), not drawn; give a distribution here, such as "
                "PATH~normal(50%,15%)",
                file=spec.label,
            )
        dists[spec.path] = spec
    fixed = [
        (s.path, s.values[0], f"{s.label} at {shown_value(s.values[0])}")
        for s in template.ranges.sweeps
        if s.path not in dists
    ]
    root = np.random.SeedSequence(seed)

    def make(k: int) -> tuple[Inputs, Point]:
        # the k-th child of root.spawn(n_runs), made alone: the same entropy, spawn key (k,)
        child = np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, k))
        rng = np.random.default_rng(child)
        values = [(d.path, d.sample(rng), d.label) for d in dists.values()]
        return _made(
            template, fixed + [(p, v, f"{label} drew {shown_value(v)}") for p, v, label in values]
        )

    varied = tuple(p for p, _, _ in fixed) + tuple(dists)
    medians = [(d.path, d.median(), f"{d.label} at its median") for d in dists.values()]
    return Points(template, varied, n_runs, make, tuple(fixed + medians))
