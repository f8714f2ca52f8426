"""The network chart of the whole web: circles and arrows to scale (checked by hand on the toy
file), the investor's traced and caused money in colour, every company named by its label with
no two texts overlapping, on every bundled file, and `roundtrip chart --only network`."""

from __future__ import annotations

import functools
import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import cli
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Polygon
from matplotlib.text import Text

import sim
from sim.views.charts import CHARTS
from sim.views.charts.network import (
    MAX_ARROW,
    caused_edges,
    default_investor,
    network_chart,
    network_edges,
    network_nodes,
)

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
BUNDLED = sorted(p.name for p in SCENARIOS.glob("*.yaml"))
B = 1e9


@functools.cache
def result(name: str) -> sim.Result:
    return sim.run(sim.load_scenario(SCENARIOS / name))


def by_gid(fig: Figure, kind: type) -> dict[str, object]:
    return {a.get_gid(): a for a in fig.axes[0].findobj(kind) if a.get_gid()}


def arrow_width(patch: Polygon) -> float:
    """An arrow's width in inches: its outline starts on one edge of the shaft and ends on the
    other, at the same point of the curve."""
    xy = patch.get_xy()
    return float(np.hypot(*(xy[0] - xy[-2])))


def test_toy_flows_between_companies_are_the_ledger_by_pair() -> None:
    # the toy's hand check (scenarios/toy_round_trip.yaml): BigTech puts $12B into LabCo, which
    # pays 40% of its $18B of compute to each cloud (7.2 and 7.2); BigCloud keeps 50% of its
    # $7.2B as profit for BigTech (3.6). Traced pro rata: BigTech's $12B all spent, 40% each
    # way (4.8 and 4.8), half of the 4.8 profit (2.4).
    edges = network_edges(result("toy_round_trip.yaml"), "bigtech")
    got = {
        (e.source, e.target): (e.kind, round(e.dollars / B, 6), round(e.traced / B, 6))
        for e in edges.itertuples()
    }
    assert got == (
        {
            ("bigtech", "labco"): ("investment", 12.0, 12.0),
            ("labco", "bigcloud"): ("compute", 7.2, 4.8),
            ("labco", "rivalcloud"): ("compute", 7.2, 4.8),
            ("bigcloud", "bigtech"): ("profit", 3.6, 2.4),
        }
    )


def test_toy_circles_stand_for_what_each_put_in_or_took_in() -> None:
    nodes = network_nodes(result("toy_round_trip.yaml"))
    # BigTech put in $12B; LabCo took in the $12B and 12 x $0.5B of revenue = $18B; each cloud
    # took in $7.2B
    assert (nodes.dollars / B).to_dict() == pytest.approx(
        {"bigtech": 12.0, "labco": 18.0, "bigcloud": 7.2, "rivalcloud": 7.2}
    )
    assert nodes.label.to_dict() == {
        "bigtech": "BigTech",
        "labco": "LabCo",
        "bigcloud": "BigCloud",
        "rivalcloud": "RivalCloud",
    }


def test_toy_arrow_widths_and_circle_areas_are_proportional_to_dollars() -> None:
    fig = network_chart(result("toy_round_trip.yaml"))
    arrows = {k: arrow_width(p) for k, p in by_gid(fig, Polygon).items()}  # type: ignore[arg-type]
    # the largest flow, the $12B investment, is MAX_ARROW wide; the others in proportion
    assert arrows["flow--bigtech--labco"] == pytest.approx(MAX_ARROW)
    assert arrows["flow--labco--bigcloud"] == pytest.approx(MAX_ARROW * 7.2 / 12)
    assert arrows["flow--bigcloud--bigtech"] == pytest.approx(MAX_ARROW * 3.6 / 12)
    assert arrows["traced--labco--rivalcloud"] == pytest.approx(MAX_ARROW * 4.8 / 12)
    assert arrows["traced--bigcloud--bigtech"] == pytest.approx(MAX_ARROW * 2.4 / 12)
    # what BigTech's money caused at BigCloud: $7.2B in the run less $2.4B in the twin without
    # the investment (LabCo has only its $6B of revenue: 40% of it) = $4.8B
    assert arrows["caused--labco--bigcloud"] == pytest.approx(MAX_ARROW * 4.8 / 12)
    circles = by_gid(fig, Circle)
    area = {k.removeprefix("company--"): math.pi * c.get_radius() ** 2 for k, c in circles.items()}  # type: ignore[attr-defined]
    assert area["labco"] / area["bigtech"] == pytest.approx(18 / 12)
    assert area["bigcloud"] / area["bigtech"] == pytest.approx(7.2 / 12)
    assert area["rivalcloud"] == pytest.approx(area["bigcloud"])


def test_caused_by_lab_adds_up_to_the_metric() -> None:
    run = result("whole_web.yaml")
    assert default_investor(run) == "amazon"  # the first that owns a seller and invests
    caused = caused_edges(run, "amazon")
    assert caused is not None and set(caused.lab) == {"openai", "anthropic"}
    assert set(caused.seller) == {"aws"}
    metric = run.metrics_dict()["investors"]["amazon"]["incremental_revenue"]
    assert caused.dollars.sum() == pytest.approx(metric, abs=0.01)


def visible_texts(fig: Figure) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def overlaps(fig: Figure) -> list[tuple[str, str]]:
    """Pairs of visible texts whose boxes (as the Agg renderer draws them) intersect."""
    renderer = FigureCanvasAgg(fig).get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in visible_texts(fig)]
    return [
        (a, b)
        for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2)
        if box_a.overlaps(box_b)
    ]


@pytest.mark.parametrize("name", BUNDLED)
def test_every_bundled_file_draws_every_company_named_with_no_text_overlapping(name) -> None:
    run = result(name)
    fig = network_chart(run)
    assert overlaps(fig) == []
    texts = [t.get_text() for t in visible_texts(fig) if not t.get_text().startswith("Source:")]
    labels = [t.get_text() for t in fig.axes[0].texts if (t.get_gid() or "").startswith("label--")]
    s = run.scenario
    assert sorted(line.split("\n")[0] for line in labels) == sorted(s.label(a) for a in s.agents)
    internal = [a for a in s.agents if s.label(a) != a] + [":equity", ":investment", "deals."]
    assert [(t, w) for t in texts for w in internal if w in t] == []


def test_whole_web_at_slide_size_names_its_thirteen_companies_and_four_columns() -> None:
    fig = network_chart(result("whole_web.yaml"))
    assert tuple(fig.get_size_inches()) == pytest.approx((13 + 1 / 3, 7.5))
    texts = {t.get_text() for t in visible_texts(fig)}
    assert {"INVESTORS", "LABS", "CLOUDS", "VENDORS"} <= texts
    assert "AWS\ntook in $385.3B" in texts and "Amazon\nput in $75B" in texts
    assert (
        fig.texts[0]
        .get_text()
        .startswith("Amazon's $75B with the 2 contracts caused $83.5B of AWS revenue")
    )


def test_another_investor_can_be_followed_and_a_stranger_is_refused() -> None:
    run = result("whole_web.yaml")
    fig = network_chart(run, investor="nvidia")
    assert fig.texts[0].get_text().startswith("Nvidia's $40B caused")
    traced = [g for g in by_gid(fig, Polygon) if g.startswith("traced--nvidia--")]
    assert sorted(traced) == ["traced--nvidia--anthropic", "traced--nvidia--openai"]
    with pytest.raises(ValueError, match="investor\\(='aws'\\) is not an investor"):
        network_chart(run, investor="aws")


def test_roundtrip_chart_only_network_writes_it(tmp_path, capsys) -> None:
    assert "network" in CHARTS
    out = tmp_path / "run"
    toy = SCENARIOS / "toy_round_trip.yaml"
    assert cli(capsys, "run", toy, "--out", out)[0] == 0
    code, _, err = cli(capsys, "chart", out, "--only", "network", "--format", "png,svg")
    assert code == 0, err
    assert sorted(p.name for p in (out / "charts").iterdir()) == ["network.png", "network.svg"]
    assert (out / "charts" / "network.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
