"""sim/ranges/vary.py's fast derivation: a draw or a grid point validates only what it changed.

A point of a sweep or a Monte Carlo draw sets a few values in a template parsed once; only those
values (or the agents and deals they are in) are validated again, the rest of the model is the
template's. Whatever the values, valid or not, the scenario, its inputs hash, its comments and
any error must be exactly what validating the whole document gives (``--set``'s path).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.inputs.points import point
from sim.inputs.resolved import inputs_hash
from sim.inputs.scenario import to_scenario
from sim.ranges import vary

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = sorted((ROOT / "scenarios").glob("*.yaml"))
TEMPLATES = {p.stem: sim.load_template(p) for p in BUNDLED}


def numeric_inputs(root: Any, node: Any = None, prefix: str = "") -> list[str]:
    """Every dotted path to a number in ``root`` that a sweep or a draw may vary (amounts,
    shares, integers)."""
    node = root if node is None else node
    out: list[str] = []
    for key, value in node.items() if isinstance(node, dict) else enumerate(node):
        path = f"{prefix}{key}"
        if isinstance(value, dict | list):
            out += numeric_inputs(root, value, path + ".")
            continue
        found = vary.input_at(root, path.split("."))
        if found is not None and found.kind in vary.NUMERIC:
            out.append(path)
    return out


PATHS = {name: numeric_inputs(t.ranges.base.data) for name, t in TEMPLATES.items()}

VALUES = st.one_of(
    st.integers(-(10**15), 10**15).map(lambda c: f"{c / 100:.2f}"),  # dollars, maybe negative
    st.integers(-200, 1200).map(lambda bp: f"{bp / 10}%"),  # shares, maybe out of range
    st.floats(-2, 12, allow_nan=False),
    st.sampled_from(["5B", "1e999999999", "nan", "-0.0", "abc", "", "100%", "99.99%", "1T"]),
    st.integers(0, 10**20),
)


@st.composite
def points(draw: st.DrawFn) -> tuple[str, list[tuple[str, Any, str]]]:
    name = draw(st.sampled_from(sorted(TEMPLATES)))
    chosen = draw(st.lists(st.sampled_from(PATHS[name]), min_size=1, max_size=3, unique=True))
    return name, [(p, draw(VALUES), f"--vary {p}") for p in chosen]


def slow(template: sim.Template, inputs: list[tuple[str, Any, str]]) -> sim.Scenario:
    """The whole document validated, as --set does it."""
    doc = template.ranges.base
    return to_scenario(point(doc, inputs, template.rescale))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(points())
def test_a_point_is_the_scenario_or_the_error_that_validating_it_whole_gives(
    point: tuple[str, list[tuple[str, Any, str]]],
) -> None:
    name, inputs = point
    t = TEMPLATES[name]
    try:
        want = slow(t, inputs)
    except sim.ScenarioError as e:
        with pytest.raises(sim.ScenarioError) as got:
            vary.scenario_at(t, inputs)
        assert str(got.value) == str(e)
        return
    _, s = vary.scenario_at(t, inputs)
    assert s == want
    assert inputs_hash(s) == inputs_hash(want)
    assert s.comments == want.comments and s.resolved == want.resolved


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_numeric_input_varied_to_a_valid_value_gives_the_whole_validations_scenario(
    name: str,
) -> None:
    t = TEMPLATES[name]
    checked = 0
    for path in PATHS[name]:
        kind = vary.input_at(t.ranges.base.data, path.split("."))
        value = {"amount": "1.25B", "share": "0.3%", "integer": 7}[kind.kind]  # type: ignore[union-attr]
        inputs = [(path, value, f"--vary {path}")]
        try:
            want = slow(t, inputs)
        except sim.ScenarioError:
            continue  # a value this input does not take here (a tranche's cash level, ...)
        _, s = vary.scenario_at(t, inputs)
        assert s == want, path
        assert inputs_hash(s) == inputs_hash(want), path
        checked += 1
    assert checked >= len(PATHS[name]) / 2, (checked, len(PATHS[name]))


def test_every_bundled_file_has_numeric_inputs_to_vary() -> None:
    assert all(len(p) >= 5 for p in PATHS.values()), {k: len(v) for k, v in PATHS.items()}
    assert "agents.aws.margin" in PATHS["amazon_openai_50b"]


def test_a_draw_leaves_the_template_as_it_was() -> None:
    t = sim.load_template(ROOT / "scenarios" / "amazon_openai_50b.yaml")
    before = repr(t.ranges.base.data)
    runs = vary.draw(t, 5, seed=3, specs=["agents.aws.margin~uniform(20%,40%)"])
    assert repr(t.ranges.base.data) == before
    assert len({s.sellers["aws"].margin for _, s in runs}) == 5


def test_points_are_made_one_at_a_time_and_point_k_is_the_same_however_it_is_reached() -> None:
    import tracemalloc

    import numpy as np

    t = TEMPLATES["amazon_openai_50b"]
    specs = ["agents.aws.margin~uniform(20%,40%)", "agents.openai.revenue.growth~normal(50%,9%)"]
    points = vary.draw_points(t, 50_000, seed=9, specs=specs)
    assert len(points) == 50_000 and points.varied == tuple(s.split("~")[0] for s in specs)
    # run k's values come from SeedSequence(9).spawn(n)[k], whatever n
    child = np.random.SeedSequence(9).spawn(50_000)[31_337]
    rng = np.random.default_rng(child)
    want = [d.sample(rng) for d in (vary.parse_vary(s, t.ranges.base.data) for s in specs)]
    assert list(points[31_337][0].values()) == want
    assert points[31_337] == vary.draw_points(t, 31_338, seed=9, specs=specs)[-1]
    tracemalloc.start()
    try:
        for _ in points:  # 50,000 points, none kept
            pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2**20, peak  # flat: well under a megabyte
    grid = vary.grid_points(t, ["agents.aws.margin=10%,20%,30%", "deals.0.amount=10B,20B"])
    assert len(grid) == 6 and grid.varied == ("agents.aws.margin", "deals.0.amount")
    assert [tuple(i.values()) for i, _ in grid] == [
        (m, a) for m in (0.1, 0.2, 0.3) for a in (10_000_000_000, 20_000_000_000)
    ]


SHARED = """\
name: shared
start: 2026-01-01
horizon: 2y
agents:
  inv: {kind: investor, owns: [c]}
  lab:
    kind: lab
    cash: 10B
    revenue: {annual: 5B}
    spending: {compute: {annual: 8B, providers: {c: 50%}}}
  c: {kind: cloud, margin: 30%, payment_terms: 15d}
deals:
  - {kind: investment, investor: inv, lab: lab, tranches: [{at: 2026-02-01, amount: 1B}]}
  - {kind: compute_contract, lab: lab, cloud: c, total: 2B, over: 1y}
  - {kind: revenue_share, investor: inv, lab: lab, share: 10%}
"""


def test_draws_share_the_deals_they_do_not_vary_and_resolve_again_those_whose_defaults_move(
    tmp_path: Path,
) -> None:
    # a contract without terms of its own takes its cloud's; a revenue share ends at the horizon
    path = tmp_path / "shared.yaml"
    path.write_text(SHARED)
    specs = ["agents.c.payment_terms~choice(0d,30d,90d)", "horizon~choice(2y,3y)"]
    runs = sim.draw(sim.load_template(path), 12, seed=5, specs=specs)
    for inputs, s in runs:
        assert s == sim.load_scenario(path, {k: str(v) for k, v in inputs.items()})
        assert str(s.contracts[0].payment_terms) == inputs["agents.c.payment_terms"]
        assert s.revenue_shares[0].until == s.end
    # the investment's defaults move with neither input: every run holds the same object; the
    # contract is one object per payment terms drawn (the horizon is not one of its defaults)
    assert len({id(s.investments[0]) for _, s in runs}) == 1
    terms = {i["agents.c.payment_terms"] for i, _ in runs}
    assert len(terms) > 1 and len({id(s.contracts[0]) for _, s in runs}) == len(terms)
    assert len({id(s.revenue_shares[0]) for _, s in runs}) == len({i["horizon"] for i, _ in runs})
