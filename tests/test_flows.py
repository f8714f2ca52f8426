"""The flow diagram: its bands are the ledger's figures, drawn to scale."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch

import sim
from sim.views.charts.flows import band_id, flow_bands, flow_diagram, own_dollars_diagram

TINY = """
name: tiny circuit
start: 2026-01-01
horizon: 1y
agents:
  inv: {kind: investor, label: Investor, owns: [own]}
  lab:
    kind: lab
    cash: 2B
    revenue: {annual: 6B}
    spending:
      compute: {annual: 12B, providers: {own: 30%, rival: 70%}}
      other: {annual: 1.2B}
  own: {kind: cloud, margin: 50%}
  rival: {kind: cloud, margin: 10%}
deals:
  - {kind: investment, investor: inv, lab: lab, tranches: [{at: 2026-01-01, amount: 6B}]}
"""


@pytest.fixture(scope="module")
def tiny():
    return sim.run(sim.parse_scenario(TINY, "tiny.yaml"))


def band(bands, stage, source, target, origin=None):
    b = bands[(bands.stage == stage) & (bands.source == source) & (bands.target == target)]
    if origin is not None:
        b = b[b.origin == origin]
    return b.dollars.sum()


def test_bands_carry_the_ledgers_figures(tiny):
    bands = flow_bands(tiny)
    m = tiny.metrics_dict()["investors"]["inv"]
    led = tiny.ledger
    # money in: the investment, the revenue and the opening cash, each its own origin
    assert band(bands, "in", "inv:investment", "lab") == m["invested"] == 6e9
    assert band(bands, "in", "lab:revenue", "lab") == 6e9
    assert band(bands, "in", "lab:cash", "lab") == 2e9
    # spent: what the lab paid each cloud, and the investor's own dollars inside it
    assert band(bands, "spend", "lab", "own") == m["spend_on_own_cloud"]
    assert band(bands, "spend", "lab", "own", "inv:investment") == m["round_trip"]
    paid_rival = led.query("payer == 'lab' and payee == 'rival'").amount_cents.sum() / 100
    assert band(bands, "spend", "lab", "rival") == paid_rival
    # passed on: the owner's profit, and the profit made on its own dollars
    assert band(bands, "out", "own", "inv") == m["relationship_profit"]
    assert band(bands, "out", "own", "inv", "inv:investment") == m["round_trip_profit"]
    # a cloud no investor owns keeps its profit: 10% of what it was paid
    assert band(bands, "out", "rival", "rival:kept") == pytest.approx(0.1 * paid_rival, abs=0.01)


def test_every_lab_spends_what_it_got_and_every_cloud_passes_on_what_it_was_paid(tiny):
    bands = flow_bands(tiny)
    got = bands[bands.stage == "in"].dollars.sum()
    spent = bands[(bands.stage == "spend") & (bands.source == "lab")].dollars.sum()
    assert spent == pytest.approx(got, abs=0.005)  # cash left included
    for cloud in ("own", "rival"):
        paid = band(bands, "spend", "lab", cloud)
        passed = bands[(bands.stage == "out") & (bands.source == cloud)].dollars.sum()
        assert passed == pytest.approx(paid, abs=0.005)


def test_a_seller_paying_ahead_with_borrowed_money_still_passes_on_what_labs_paid_it() -> None:
    # a lead (tests/test_circuits.py, LEAD): the borrowed dollars are no lab's and are left out;
    # what labs paid Oracle goes to its costs, its lender (repaid) and the profit it keeps
    from test_circuits import LEAD

    run = sim.run(sim.parse_scenario(LEAD, "lead.yaml"))
    bands = flow_bands(run)
    paid = band(bands, "spend", "lab", "oracle")
    assert paid == 9e9
    passed = bands[(bands.stage == "out") & (bands.source == "oracle")].dollars.sum()
    assert passed == pytest.approx(paid, abs=0.005)
    assert band(bands, "out", "oracle", "capex_funding") == 3.6e9
    assert not bands.origin.str.endswith(":capex").any()
    plt_close(flow_diagram(run))


def plt_close(fig: Figure) -> None:
    import matplotlib.pyplot as plt

    plt.close(fig)


def _ribbons(fig: Figure) -> dict[str, float]:
    """Each band's drawn width (axes fraction), by the id it carries."""
    out = {}
    for patch in fig.axes[0].patches:
        if isinstance(patch, PathPatch) and (patch.get_gid() or "").startswith("band--"):
            v = patch.get_path().vertices
            out[patch.get_gid()] = v[0][1] - v[7][1]  # top-left minus bottom-left
    return out


@pytest.mark.parametrize("draw", [flow_diagram, own_dollars_diagram])
def test_band_widths_are_drawn_in_proportion_to_the_money(tiny, draw):
    fig = draw(tiny)
    bands = flow_bands(tiny)
    widths = _ribbons(fig)
    assert widths, "no bands drawn"
    per_dollar = []
    for b in bands.itertuples():
        w = widths.get(band_id(b.stage, b.source, b.target, b.origin))
        if w is not None:
            per_dollar.append(w / b.dollars)
    assert len(per_dollar) == len(widths)
    assert np.allclose(per_dollar, per_dollar[0], rtol=1e-9)


def test_the_own_dollars_diagram_draws_only_the_investors_money(tiny):
    gids = _ribbons(own_dollars_diagram(tiny))
    assert gids and all(g.endswith("--inv.investment") for g in gids)


def test_labels_state_the_money_and_the_title_the_finding(tiny):
    fig = flow_diagram(tiny)
    texts = " ".join(t.get_text() for t in fig.texts + fig.axes[0].texts)
    m = tiny.metrics_dict()["investors"]["inv"]
    # Investor's $6B in lab: $1.8B (30% of the $6B it funded) comes back as own revenue
    assert "Investor's $6B in lab" in texts and "comes back as own revenue" in texts
    assert "Investor's investment" in texts and "$6B" in texts
    assert "tiny.yaml" in texts  # the source line names the scenario file
    assert f"${m['round_trip'] / 1e9:.1f}B".replace(".0B", "B") in texts


def test_a_labs_outside_equity_is_named_and_a_zero_is_not_thousands() -> None:
    """A lab that raises money (``raises:``) has an origin ``<lab>:equity``; the diagram names
    it as a reader would, and an investor with no cloud is said to make $0 on its dollars, not
    "$0K"."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "scenarios"
    result = sim.run(sim.load_scenario(root / "amazon_openai_50b.yaml"))
    assert "openai:equity" in set(flow_bands(result).origin)  # OpenAI raises money here
    fig = flow_diagram(result)
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert any(t.startswith("OpenAI's outside equity\n$") for t in labels)
    assert not any(":" in t.split("\n")[0] and "equity" in t for t in labels)
    subtitle = fig.texts[1].get_text().replace("\n", " ")
    assert "Nvidia's $0," in subtitle and "SoftBank's $0." in subtitle
    assert "$0K" not in " ".join(t.get_text() for t in fig.texts + fig.axes[0].texts)
