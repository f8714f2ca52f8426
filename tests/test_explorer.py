"""sim/views/explorer.py: the notebook explorer's update function, tested directly, and its
widget: what it shows is always the run of the values shown, or an error and no figure."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.cli import main
from sim.ranges.vary import Point
from sim.views.explorer import ALONE, PACKAGE, RANGES, Explorer

ROOT = Path(__file__).resolve().parent.parent
FIFTY = ROOT / "scenarios" / "amazon_openai_50b.yaml"
TOY = ROOT / "scenarios" / "toy_round_trip.yaml"


@pytest.fixture(scope="module")
def explorer() -> Explorer:
    return Explorer(FIFTY)


@pytest.fixture
def panel():
    pytest.importorskip("ipywidgets")
    e = Explorer(FIFTY)
    e.widget()
    return e.panel


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
    # sim.inputs.names.input_name: agents by their labels, the deal by its id in words, the unit
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


def test_the_growth_slider_stops_where_runs_stop_being_valid(explorer) -> None:
    # $20B a year of revenue growing g a year for 8 years accrues 20B * ((1+g)**8 - 1) / ln(1+g):
    # at 160% about $43.7T, at 170% about $56.9T; with the cash, the financing limit and the
    # investments the money must stay below 2**52 cents (about $45T): the limit is near 160%
    limit = explorer.growth_limit()
    assert explorer.spans()["growth"][1] == limit < RANGES["growth"][1]
    assert 1.5 < limit < 1.7
    top = explorer.spans()["amount"][1]
    explorer.update(growth=limit, amount=top)  # the slider's corner runs
    with pytest.raises(sim.ScenarioError, match=r"\$45T"):
        explorer.update(growth=round(limit + 0.01, 2), amount=top)  # one step past it does not
    # the toy file (no growth) runs to the top of the view's range
    assert Explorer(TOY).spans()["growth"][1] == RANGES["growth"][1]


def test_at_its_defaults_the_explorer_shows_the_files_own_run(explorer) -> None:
    shown = explorer.update()
    alone = sim.run(sim.load_scenario(FIFTY))
    assert shown.result.metrics_dict() == alone.metrics_dict()
    m = alone.metrics.loc["amazon"]
    assert shown.figures.loc["incremental revenue, cash received", PACKAGE] == m.incremental_revenue
    assert shown.table().loc["incremental revenue, cash received", PACKAGE] == "$81.51B"
    assert shown.table().loc["round trip ratio (traced)", PACKAGE] == f"{m.round_trip_ratio:.1%}"
    assert shown.command == f"roundtrip run {FIFTY}"  # nothing set: the file as written
    assert shown.flows.axes and shown.run_vs_twin.axes  # both charts drawn


def test_the_investment_alone_stands_beside_the_package(explorer) -> None:
    # at a $1B amount the package (with the $100B AWS expansion) still causes $81.51B of revenue:
    # its net cost is below zero; the investment alone causes nothing and costs its PV invested
    shown = explorer.update(amount=1.0)
    f, m = shown.figures, shown.result.metrics.loc["amazon"]
    assert f.loc["net cost", PACKAGE] == m.net_cost < 0
    assert f.loc["net cost", ALONE] == m.net_cost_investment_only == m.pv_invested > 0
    assert (
        f.loc["incremental revenue, cash received", ALONE]
        == m.incremental_revenue_investment_only
        == 0
    )
    assert shown.table().loc["round trip (traced)", ALONE] == ""  # traced: one reading only


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
    base = explorer.update().figures[PACKAGE]
    shown = explorer.update(**values)
    assert not np.allclose(shown.figures[PACKAGE], base)  # the figures moved
    # ... to those of the same values set as a sweep sets them, run alone
    same = [(explorer.paths[k], v if k != "amount" else f"{v * 1e9:.2f}", k)
            for k, v in values.items()]  # fmt: skip
    alone = sim.run(Point(explorer.template, tuple(same)).scenario())
    assert shown.result.metrics_dict() == alone.metrics_dict()
    assert shown.values == {**explorer.defaults, **values}


def test_the_overrides_rescale_the_other_providers_and_scale_the_tranches(explorer) -> None:
    s = explorer.scenario(share=0.4, amount=25.0)
    written = sim.load_scenario(FIFTY).labs["openai"].providers
    got = s.labs["openai"].providers
    assert got["aws"] == 0.4
    assert sum(got.values()) == pytest.approx(sum(written.values()))
    amazon = next(d for d in s.investments if d.investor == "amazon")
    assert amazon.total == 25_000_000_000_00
    # the others keep their proportions in the 60% left: 50:20:10 of 80% -> 37.5%, 15%, 7.5%;
    # the tranches $15B and $35B of $50B -> $7.5B and $17.5B of $25B
    assert explorer.overrides(share=0.4, amount=25.0) == [
        "agents.openai.spending.compute.providers.aws=40%",
        "deals.0.tranches.0.amount=7.5B",
        "deals.0.tranches.1.amount=17.5B",
        "agents.openai.spending.compute.providers.azure=37.5%",
        "agents.openai.spending.compute.providers.oracle=15%",
        "agents.openai.spending.compute.providers.coreweave=7.5%",
    ]


def run_command(command: str, tmp_path: Path, *extra: str) -> str:
    """Run a shown ``roundtrip run`` command in-process, into a folder under ``tmp_path``."""
    words = shlex.split(command)
    assert words[:2] == ["roundtrip", "run"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main([*words[1:], *extra, "-o", str(tmp_path / f"run{len(extra)}")])
    assert code == 0
    return out.getvalue()


@pytest.mark.parametrize(
    "values",
    [
        {"share": 0.4, "amount": 25.3},
        {"share": 0.37, "margin": 0.31, "growth": 0.61, "discount_rate": 0.115},
    ],
    ids=["share,amount", "share,margin,growth,rate"],
)
def test_the_command_shown_reproduces_the_view(explorer, values, tmp_path) -> None:
    shown = explorer.update(**values)
    # roundtrip run --set accepts every override, and prints the same figures as the view
    printed = json.loads(run_command(shown.command, tmp_path, "--json"))
    assert printed["investors"] == shown.result.metrics_dict()["investors"]
    for figure, key in [
        ("incremental revenue, cash received", "incremental_revenue"),
        ("net cost", "net_cost"),
    ]:
        assert printed["investors"]["amazon"][key] == shown.figures.loc[figure, PACKAGE]
        assert (
            printed["investors"]["amazon"][f"{key}_investment_only"]
            == shown.figures.loc[figure, ALONE]
        )
    summary = run_command(shown.command, tmp_path)  # the summary prints the table's text
    table = shown.table()
    for figure in ("incremental revenue, booked", "net cost", "round trip (traced)"):
        assert f" {table.loc[figure, PACKAGE]} " in summary


def test_a_value_the_scenario_refuses_is_a_clear_error_and_an_unknown_control_too(
    explorer,
) -> None:
    with pytest.raises(sim.ScenarioError, match="explorer margin: .*margin must be"):
        explorer.update(margin=1.0)
    with pytest.raises(ValueError, match="unknown control"):
        explorer.update(colour=1.0)


def test_a_readout_reads_the_scenario_languages_numbers(explorer) -> None:
    assert explorer.read("share", "40%") == 0.4
    assert explorer.read("share", "0.4") == 0.4
    assert explorer.read("amount", "25") == explorer.read("amount", "$25B") == 25.0
    assert explorer.read("amount", "2,500M") == 2.5
    with pytest.raises(ValueError, match="a share such as 35% or 0.35"):
        explorer.read("margin", "forty")
    for name, value in explorer.defaults.items():  # a readout reads back as its value
        assert explorer.read(name, explorer.readout(name, value)) == value
    assert explorer.readout("growth", 0.455) == "45.5%"


def test_a_file_with_no_loop_to_explore_is_refused(tmp_path) -> None:
    f = tmp_path / "plain.yaml"
    f.write_text(
        "name: no investor owns a cloud\nstart: 2026-01-01\nhorizon: 1y\n"
        "agents:\n  lab: {kind: lab}\n  cloud: {kind: cloud, margin: 20%}\n"
    )
    with pytest.raises(sim.ScenarioError, match="no investor in this file owns a cloud"):
        Explorer(f)


def test_the_widget_has_a_slider_per_control_and_redraws_when_one_moves(panel) -> None:
    e = panel.e
    assert [s.description for s in panel.sliders.values()] == [e.names[k] for k in RANGES]
    assert [s.value for s in panel.sliders.values()] == list(e.defaults.values())
    assert e.shown is not None and e.shown.values == e.defaults
    assert "$81.51B" in panel.table.value
    panel.sliders["share"].value = 0.45
    panel.sliders["margin"].value = 0.3
    assert e.shown.values == {**e.defaults, "share": 0.45, "margin": 0.3}
    assert panel.texts["share"].value == "45%"
    again = e.update(share=0.45, margin=0.3)
    assert e.shown.result.metrics_dict() == again.result.metrics_dict()
    assert html_of(panel.command.value) == again.command
    assert all(c.value[:8] == b"\x89PNG\r\n\x1a\n" for c in panel.charts)


def html_of(text: str) -> str:
    import html

    return html.unescape(text.split("<code", 1)[1].split(">", 1)[1].split("</code>")[0])


def test_typing_40_percent_into_a_readout_sets_the_share_to_0_4(panel) -> None:
    panel.texts["share"].value = "40%"
    assert panel.values["share"] == panel.sliders["share"].value == 0.4
    assert panel.e.shown is not None and panel.e.shown.values["share"] == 0.4
    assert panel.texts["share"].value == "40%"


def test_a_failing_value_shows_its_error_and_no_old_figure(panel) -> None:
    e = panel.e
    assert "$81.51B" in panel.table.value
    panel.texts["growth"].value = "180%"  # past the slider's end: the run fails
    assert e.shown is None
    assert "$45 trillion" in e.error and "\n" not in e.error
    assert e.error in panel.status.value
    assert "$" not in panel.table.value and "failed" in panel.table.value  # no figure left
    assert all(c.value == b"" and c.layout.display == "none" for c in panel.charts)
    assert "revenue.growth=180%" in panel.command.value  # the command gives the same error
    with pytest.raises(sim.ScenarioError):
        e.export(panel.folder.value)  # nothing to save
    panel.texts["growth"].value = "forty"  # not a number: said, and still no figure
    assert "expected a share" in e.error and e.shown is None
    panel.texts["growth"].value = "60%"  # a valid value: figures back, of that run
    assert e.shown is not None and e.shown.values["growth"] == 0.6
    assert e.error == "" and panel.status.value == ""


def test_reset_puts_every_input_back_to_the_files_own(panel) -> None:
    panel.sliders["amount"].value = 80.0
    panel.texts["margin"].value = "99%"
    panel.reset.click()
    e = panel.e
    assert panel.values == e.defaults
    assert [s.value for s in panel.sliders.values()] == list(e.defaults.values())
    assert panel.texts["margin"].value == "35%"
    assert e.shown is not None and e.shown.values == e.defaults
    assert "$81.51B" in panel.table.value


def test_the_pickers_offer_the_bundled_files_and_the_investors(panel) -> None:
    names = [name for name, _ in panel.files.options]
    # the files beside the one explored in which an investor owns a cloud and invests
    assert "amazon_openai_50b.yaml" in names and "toy_round_trip.yaml" in names
    assert "aws_openai_38b.yaml" not in names  # AWS alone: no investor to explore
    assert panel.investors.options == (("Amazon", "amazon"),)
    panel.files.value = dict(panel.files.options)["toy_round_trip.yaml"]
    e = panel.e
    assert (e.investor, e.lab, e.cloud) == ("bigtech", "labco", "bigcloud")
    assert panel.sliders["share"].description == "LabCo share of compute bought at BigCloud"
    assert e.shown is not None and e.shown.values == e.defaults
    panel.path.value = str(ROOT / "scenarios" / "aws_openai_38b.yaml")
    panel.open.click()  # a file with nothing to explore: said, the view left as it was
    assert "nothing to explore" in panel.status.value and e.path == str(TOY)


def test_export_writes_the_charts_and_the_figures_and_never_a_users_folder(
    explorer, tmp_path
) -> None:
    shown = explorer.update(share=0.3)
    written = explorer.export(tmp_path / "view", shown)
    assert sorted(p.name for p in written) == [
        "figures.csv",
        "flows.png",
        "flows.svg",
        "run_vs_twin.png",
        "run_vs_twin.svg",
    ]
    assert (tmp_path / "view" / "flows.png").read_bytes()[:4] == b"\x89PNG"
    assert "<svg" in (tmp_path / "view" / "run_vs_twin.svg").read_text()
    csv = pd.read_csv(tmp_path / "view" / "figures.csv", index_col="figure")
    pd.testing.assert_frame_equal(csv, shown.figures, check_exact=True)
    marker = json.loads((tmp_path / "view" / ".roundtrip-run").read_text())
    assert marker["kind"] == "explorer view" and marker["command"] == shown.command
    explorer.export(tmp_path / "view", explorer.update())  # its own export is replaced
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    with pytest.raises(sim.ScenarioError, match="did not write"):
        explorer.export(mine, shown)
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


def test_the_save_button_exports_what_the_widget_shows(panel, tmp_path) -> None:
    panel.texts["share"].value = "30%"
    panel.folder.value = str(tmp_path / "saved")
    panel.save.click()
    assert "Saved" in panel.saved.value
    csv = pd.read_csv(tmp_path / "saved" / "figures.csv", index_col="figure")
    pd.testing.assert_frame_equal(csv, panel.e.shown.figures, check_exact=True)
