"""sim/views/explorer.py: the notebook explorer's update function, tested directly, and its
widget."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.ranges.vary import Point
from sim.views.explorer import RANGES, Explorer

ROOT = Path(__file__).resolve().parent.parent
FIFTY = ROOT / "scenarios" / "amazon_openai_50b.yaml"


@pytest.fixture(scope="module")
def explorer() -> Explorer:
    return Explorer(FIFTY)


def test_the_explorer_picks_the_loop_and_reads_its_defaults_from_the_file(explorer) -> None:
    assert (explorer.investor, explorer.lab, explorer.cloud) == ("amazon", "openai", "aws")
    assert explorer.defaults == {
        "share": 0.2,
        "amount": 50.0,
        "margin": 0.35,
        "growth": 0.5,
        "discount_rate": 0.08,
    }
    assert set(explorer.paths) == set(RANGES) == set(explorer.names)


def test_each_control_is_named_as_a_person_reads_its_input(explorer) -> None:
    # sim.inputs.names.input_name: agents by their labels, the deal by its id in words
    assert explorer.names == {
        "share": "OpenAI share of compute bought at AWS",
        "amount": "Amazon OpenAI (amazon-openai): amount, $B",
        "margin": "AWS margin",
        "growth": "OpenAI revenue growth, a year",
        "discount_rate": "Discount rate, a year",
    }


def test_each_slider_stays_inside_the_bounds_its_input_declares(explorer, monkeypatch) -> None:
    # the declarations the scenario models carry (sim.inputs.values): a margin is a share below
    # 100% (excluded), growth above -100% (excluded), the deal's amount in cents above 0
    kinds = {k: d.kind for k, d in explorer.declared.items()}
    assert kinds == {
        "share": "share",
        "amount": "amount",
        "margin": "share",
        "growth": "share",
        "discount_rate": "share",
    }
    assert explorer.declared["margin"].bounds == (0, 1, False, True)
    spans = explorer.spans()
    for name, (lo, hi, _) in spans.items():
        d = explorer.declared[name]
        scale = 1e11 if d.kind == "amount" else 1.0
        assert d.lo / scale <= lo <= explorer.defaults[name] <= hi <= d.hi / scale
    # a narrower declaration narrows the slider, an excluded end one step inside
    narrower = dataclasses.replace(explorer.declared["margin"], hi=0.5)
    monkeypatch.setitem(explorer.declared, "margin", narrower)
    assert explorer.spans()["margin"] == (0.0, pytest.approx(0.49), 0.01)


def test_at_its_defaults_the_explorer_shows_the_files_own_run(explorer) -> None:
    shown = explorer.update()
    alone = sim.run(sim.load_scenario(FIFTY))
    assert shown.result.metrics_dict() == alone.metrics_dict()
    m = alone.metrics.loc["amazon"]
    assert shown.figures.loc["caused: incremental revenue", "value"] == m.incremental_revenue
    assert shown.figures.loc["caused: incremental revenue", "shown"] == "$81.51B"
    assert shown.figures.loc["traced: round trip ratio", "shown"] == f"{m.round_trip_ratio:.1%}"
    assert shown.flows.axes and shown.run_vs_twin.axes  # both charts drawn


@pytest.mark.parametrize(
    "values",
    [
        {"share": 0.4},
        {"amount": 25.0},
        {"margin": 0.3},
        {"growth": 0.2},
        {"discount_rate": 0.12},
        {"share": 0.55, "amount": 80.0, "margin": 0.25},
    ],
    ids=lambda v: ",".join(v),
)
def test_moving_a_slider_changes_the_figures_to_a_run_with_the_same_values(
    explorer, values
) -> None:
    base = explorer.update().figures["value"]
    shown = explorer.update(**values)
    assert not np.allclose(shown.figures["value"], base)  # the figures moved
    # ... to those of the same values set as a sweep sets them, run alone
    same = [(explorer.paths[k], v if k != "amount" else f"{v * 1e9:.2f}", k)
            for k, v in values.items()]  # fmt: skip
    alone = sim.run(Point(explorer.template, tuple(same)).scenario())
    assert shown.result.metrics_dict() == alone.metrics_dict()
    assert shown.values == {**explorer.defaults, **values}


def test_the_share_rescales_the_other_providers_and_the_amount_scales_the_tranches(
    explorer,
) -> None:
    s = explorer.scenario(share=0.4, amount=25.0)
    written = sim.load_scenario(FIFTY).labs["openai"].providers
    got = s.labs["openai"].providers
    assert got["aws"] == 0.4
    assert sum(got.values()) == pytest.approx(sum(written.values()))
    others = {c: written[c] / (1 - written["aws"]) for c in written if c != "aws"}
    for c, part in others.items():
        assert got[c] == pytest.approx(part * (sum(written.values()) - 0.4), abs=1e-9)
    amazon = next(d for d in s.investments if d.investor == "amazon")
    assert amazon.total == 25_000_000_000_00
    assert explorer.overrides(share=0.4, amount=25.0) == [
        "agents.openai.spending.compute.providers.aws=0.4",
        "deals.0.amount=25000000000.00",
    ]


def test_a_value_the_scenario_refuses_is_a_clear_error_and_an_unknown_control_too(
    explorer,
) -> None:
    with pytest.raises(sim.ScenarioError, match="explorer margin: .*margin must be"):
        explorer.update(margin=1.0)
    with pytest.raises(ValueError, match="unknown control"):
        explorer.update(colour=1.0)


def test_a_file_with_no_loop_to_explore_is_refused(tmp_path) -> None:
    f = tmp_path / "plain.yaml"
    f.write_text(
        "name: no investor owns a cloud\nstart: 2026-01-01\nhorizon: 1y\n"
        "agents:\n  lab: {kind: lab}\n  cloud: {kind: cloud, margin: 20%}\n"
    )
    with pytest.raises(sim.ScenarioError, match="no investor in this file owns a cloud"):
        Explorer(f)


def test_the_widget_has_a_slider_per_control_and_redraws_when_one_moves(explorer) -> None:
    pytest.importorskip("ipywidgets")
    box = explorer.widget()
    *sliders, out = box.children
    assert [s.description for s in sliders] == [explorer.names[k] for k in RANGES]
    assert [s.value for s in sliders] == list(explorer.defaults.values())
    assert explorer.shown is not None and explorer.shown.values == explorer.defaults
    sliders[0].value = 0.45  # the share
    sliders[2].value = 0.3  # the margin
    assert explorer.shown.values == {**explorer.defaults, "share": 0.45, "margin": 0.3}
    again = explorer.update(share=0.45, margin=0.3)
    assert explorer.shown.result.metrics_dict() == again.result.metrics_dict()
    assert type(out).__name__ == "Output"  # where the charts go (shown in a kernel: 05_explorer)
