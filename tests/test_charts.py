"""Charts: every chart renders to every format as a valid file of the right size, the same bytes
every time, text kept as text with the title and source line; the plotted numbers are the run's."""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib.dates as mdates
import pandas as pd
import pytest
from IPython.core.formatters import DisplayFormatter
from matplotlib._pylab_helpers import Gcf
from matplotlib.figure import Figure

import sim
from sim.analysis.result import inputs_hash
from sim.io.output import read_run, write_run
from sim.views.charts import CHARTS, DEFAULT_DPI, FORMATS, SLIDE_SIZE, render
from sim.views.charts.caused import run_vs_twin
from sim.views.charts.series import TWIN_SERIES_COLUMNS, lab_cash_by_origin, twin_series_of
from sim.views.charts.style import NOTEBOOK_DPI, save
from sim.views.charts.timeseries import cumulative_flows, investor_cash, lab_cash

pypdf = pytest.importorskip("pypdf")

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ("amazon_openai_50b", "amazon_anthropic")  # one investor; two investors
CASES = [(s, c, f) for s in SCENARIOS for c in CHARTS for f in FORMATS]
# Runs short in 2027-08: 5B invested, the own cloud takes half of 2B a month of compute at a
# 50% margin; the lab spends all it has, so the 5B buys 5B more compute than in its twin.
# A contract that came with the investment (with: stake) is most of what the investment caused:
# the twin without both takes 20% of 2B a month, the run 1B a month under the contract and 20% of
# the rest. The investment alone adds only what the lab could not otherwise pay for.
LINKED = """
name: linked
start: 2026-01-01
horizon: 2y
step: 1mo
discount_rate: 10%
agents:
  inv: {kind: investor, owns: [own]}
  lab:
    kind: lab
    cash: 1B
    revenue: {annual: 20B}
    spending: {compute: {annual: 24B, providers: {own: 20%, rival: 80%}}}
  own: {kind: cloud, margin: 50%}
  rival: {kind: cloud, margin: 10%}
deals:
  - kind: investment
    id: stake
    investor: inv
    lab: lab
    pre_money: 45B
    tranches: [{at: 2026-01-01, amount: 5B}]
  - {kind: compute_contract, lab: lab, cloud: own, total: 24B, over: 2y, with: stake}
"""
TINY = """
name: tiny
start: 2026-01-01
horizon: 2y
step: 1mo
agents:
  inv: {kind: investor, owns: [own]}
  lab:
    kind: lab
    cash: 1B
    revenue: {annual: 20B}
    spending: {compute: {annual: 24B, providers: {own: 50%, rival: 30%}}}
  own: {kind: cloud, margin: 50%}
  rival: {kind: cloud, margin: 10%}
deals:
  - kind: investment
    investor: inv
    lab: lab
    tranches: [{at: 2026-01-01, amount: 3B}, {at: 2026-07-01, amount: 2B}]
"""


@pytest.fixture(scope="module")
def results() -> dict[str, sim.Result]:
    return {s: sim.run(sim.load_scenario(ROOT / "scenarios" / f"{s}.yaml")) for s in SCENARIOS}


@pytest.fixture(scope="module")
def drawn(results, tmp_path_factory) -> dict[str, tuple[Path, Path, dict[str, str]]]:
    """Every chart of each scenario in every format; the first scenario's twice (two folders:
    the same bytes every time is the charts' own property, whatever the scenario); and each
    title."""
    out = {}
    for k, (s, result) in enumerate(results.items()):
        first = tmp_path_factory.mktemp(f"{s}-1")
        render(result, first, FORMATS)
        second = first
        if k == 0:
            second = tmp_path_factory.mktemp(f"{s}-2")
            render(result, second, FORMATS)
        titles = {}
        for name, chart in CHARTS.items():
            fig = chart(result)
            titles[name] = max(fig.texts, key=lambda t: t.get_fontsize()).get_text()
        out[s] = (first, second, titles)
    return out


def words(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("name", list(CHARTS))
def test_each_chart_is_a_figure_with_a_title_and_source_line(results, scenario, name) -> None:
    result = results[scenario]
    fig = CHARTS[name](result)
    assert isinstance(fig, Figure)
    texts = [t.get_text() for t in fig.texts]
    source = next(t for t in texts if t.startswith("Source:"))
    # the file was given as an absolute path: the source line names only the file
    assert f" of {scenario}.yaml (inputs " in source and str(ROOT) not in source
    assert inputs_hash(result.scenario) in source
    assert tuple(fig.get_size_inches()) == pytest.approx(SLIDE_SIZE)


@pytest.mark.parametrize(("scenario", "name", "fmt"), CASES)
def test_each_file_is_valid_of_the_slide_size_and_the_same_every_time(
    drawn, results, scenario, name, fmt
) -> None:
    first, second, titles = drawn[scenario]
    data = (first / f"{name}.{fmt}").read_bytes()
    assert data == (second / f"{name}.{fmt}").read_bytes()  # no dates, no random ids
    width, height = SLIDE_SIZE
    title = titles[name]
    if fmt == "png":
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
        # a 16:9 slide at 150 dpi: 13 1/3 in x 7.5 in -> 2000 x 1125 pixels
        assert struct.unpack(">II", data[16:24]) == (2000, 1125)
        assert (int(width * DEFAULT_DPI), int(height * DEFAULT_DPI)) == (2000, 1125)
    elif fmt == "svg":
        root = ET.fromstring(data)
        assert float(root.get("width", "").removesuffix("pt")) == pytest.approx(width * 72)
        assert float(root.get("height", "").removesuffix("pt")) == pytest.approx(height * 72)
        texts = "".join(
            "".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")
        )
        assert words(title) in words(texts)  # text stays text, editable
        assert inputs_hash(results[scenario].scenario) in texts
    else:
        assert data.startswith(b"%PDF")
        page = pypdf.PdfReader(first / f"{name}.pdf").pages[0]
        box = [float(v) for v in page.mediabox]
        assert box == pytest.approx([0, 0, width * 72, height * 72])
        assert words(title) in words(page.extract_text())


# ---- the numbers on the charts are the run's ------------------------------------------------


@pytest.fixture
def tiny(make_scenario) -> sim.Result:
    return sim.run(make_scenario(TINY))


@pytest.fixture
def linked(make_scenario) -> sim.Result:
    return sim.run(make_scenario(LINKED))


def line(ax, label: str):
    (found,) = [ln for ln in ax.get_lines() if ln.get_label() == label]
    return found


def test_cumulative_lines_end_at_the_metrics(tiny) -> None:
    m = tiny.metrics_dict()["investors"]["inv"]
    caused, own = cumulative_flows(tiny).axes
    ends = {
        label: float(line(ax, label).get_ydata()[-1])
        for ax, labels in (
            (caused, ("incremental_revenue", "incremental_profit", "invested")),
            (own, ("invested", "round_trip", "round_trip_profit")),
        )
        for label in labels
    }
    assert ends == pytest.approx({k: m[k] for k in ends}, abs=0.005)
    assert ends["invested"] == 5e9  # 3B + 2B
    # the lab spends every dollar it has (it runs short in both runs), so the 5B buys 5B more
    # compute, half of it from its own cloud (50% share): 2.5B of revenue, at a 50% margin 1.25B
    # (to the dollar: splitting each month's spending by share rounds to the cent)
    assert ends["incremental_revenue"] == pytest.approx(2.5e9, abs=1)
    assert ends["incremental_profit"] == pytest.approx(1.25e9, abs=1)


def test_cumulative_keeps_the_traced_round_trip_beside_what_was_caused(tiny) -> None:
    caused, own = cumulative_flows(tiny).axes
    assert caused.get_title(loc="left") == "What the investment caused at own"
    assert own.get_title(loc="left") == "Traced: whose dollars came back to inv"
    assert {ln.get_label() for ln in caused.get_lines()} == {
        "incremental_revenue",
        "incremental_profit",
        "invested",
    }
    labels = {t.get_text() for t in own.texts}
    assert "Round trip, traced\n$2.5B" in labels


def test_net_position_ends_at_minus_net_cost_and_payback_is_marked(linked) -> None:
    m = linked.metrics_dict()["investors"]["inv"]
    (ax,) = investor_cash(linked).axes
    net = line(ax, "net_position")
    # present values are rounded once each in metrics.json: within a cent of the line's end
    assert float(net.get_ydata()[-1]) == pytest.approx(-m["net_cost"], abs=0.01)
    assert float(min(net.get_ydata())) == -5e9  # the 5B at the start: its present value is 5B
    payback = line(ax, "incremental_payback_date")
    assert m["incremental_payback_date"] == "2027-02-01"
    assert payback.get_xdata()[0] == mdates.date2num(pd.Timestamp("2027-02-01"))
    # the net position crosses zero there: below before, at or above on the day
    y = pd.Series(net.get_ydata(), index=pd.DatetimeIndex(net.get_xdata()))
    assert y[y.index < "2027-02-01"].max() < 0 <= y[y.index >= "2027-02-01"].min()
    texts = [t.get_text() for t in ax.texts]
    assert "Net cost\n-$4.2B" in texts  # net_cost itself, negative: ahead


def test_no_payback_within_the_horizon_is_said() -> None:
    toy = sim.run(sim.load_scenario(ROOT / "scenarios" / "toy_round_trip.yaml"))
    assert toy.metrics_dict()["investors"]["bigtech"]["incremental_payback_date"] is None
    fig = investor_cash(toy)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts] + [t.get_text() for t in fig.texts]
    assert any("No payback within the horizon" in t for t in texts)
    assert any("not paid back" in t and "net cost $9.7B" in t for t in texts)


# ---- run and twin ---------------------------------------------------------------------------


def gap_at_end(ax) -> tuple[float, float]:
    """The shaded gap's bottom and top at its last date, read off the polygon drawn."""
    (fill,) = [c for c in ax.collections if c.get_label() == "incremental_revenue"]
    points = fill.get_paths()[0].vertices
    last = points[:, 0].max()
    ys = points[points[:, 0] == last, 1]
    return float(ys.min()), float(ys.max())


@pytest.mark.parametrize("fixture", ["tiny", "linked"])
def test_the_shaded_gap_is_the_incremental_revenue_to_the_cent(request, fixture) -> None:
    run = request.getfixturevalue(fixture)
    m = run.metrics_dict()["investors"]["inv"]
    both, alone = run_vs_twin(run).axes
    bottom, top = gap_at_end(both)
    cents = round(m["incremental_revenue"] * 100)
    assert round((top - bottom) * 100) == cents
    # between the run's line and the twin's, which end at the clouds' revenue and the twin's
    assert top == float(line(both, "revenue_run").get_ydata()[-1])
    assert bottom == float(line(both, "revenue_twin").get_ydata()[-1])
    assert round(top * 100) == round(m["spend_on_own_cloud"] * 100)
    # beside it, the same gap on its own scale, and the traced round trip
    low, high = gap_at_end(alone)
    assert low == 0 and round(high * 100) == cents
    assert float(line(alone, "round_trip").get_ydata()[-1]) == pytest.approx(m["round_trip"])


def test_the_twin_keeping_a_linked_contract_is_drawn_where_one_is_linked(tiny, linked) -> None:
    m = linked.metrics_dict()["investors"]["inv"]
    both, _ = run_vs_twin(linked).axes
    only = float(line(both, "revenue_twin_investment_only").get_ydata()[-1])
    assert only == pytest.approx(m["spend_on_own_cloud"] - m["incremental_revenue_investment_only"])
    # 20.20B with the contract, 1.00B without it: the contract, not the money, made the gap
    assert m["incremental_revenue"] == pytest.approx(20.2e9, abs=1)
    assert m["incremental_revenue_investment_only"] == pytest.approx(1e9, abs=1)
    labels = {ln.get_label() for ln in run_vs_twin(tiny).axes[0].get_lines()}
    assert "revenue_twin_investment_only" not in labels  # nothing linked: one twin


def test_the_twin_series_sum_to_the_caused_metrics_to_the_cent(linked) -> None:
    frame = twin_series_of(linked)
    assert tuple(frame.columns) == TWIN_SERIES_COLUMNS
    assert set(frame.investor) == {"inv"} and set(frame.lab) == {"lab"}
    m = linked.metrics_dict()["investors"]["inv"]
    for suffix, twin in (("", "twin"), ("_investment_only", "twin_investment_only")):
        revenue = frame.revenue_cents_run.sum() - frame[f"revenue_cents_{twin}"].sum()
        profit = frame.profit_cents_run.sum() - frame[f"profit_cents_{twin}"].sum()
        assert revenue == round(m["incremental_revenue" + suffix] * 100)
        assert profit == round(m["incremental_profit" + suffix] * 100)
    assert frame.revenue_cents_run.sum() == round(m["spend_on_own_cloud"] * 100)


def test_a_saved_run_draws_the_twin_from_its_twin_series(linked, tmp_path) -> None:
    """A run folder that holds the twin's series draws what a fresh run draws; one without it
    marks the twin at the end, from metrics.json, and says so."""
    write_run(linked, tmp_path / "run")
    saved = read_run(tmp_path / "run")
    m = saved.metrics_dict()["investors"]["inv"]
    if not hasattr(saved, "twin_series"):  # run folders that do not hold it yet
        both, alone = run_vs_twin(saved).axes
        twin_end = line(both, "revenue_twin")
        assert float(twin_end.get_ydata()[-1]) == pytest.approx(
            m["spend_on_own_cloud"] - m["incremental_revenue"]
        )
        assert float(line(alone, "incremental_revenue").get_ydata()[-1]) == pytest.approx(
            m["incremental_revenue"]
        )
        subtitle = run_vs_twin(saved).texts[1].get_text()
        assert "This run folder does not hold the twin's path over time" in words_apart(subtitle)
        saved.twin_series = twin_series_of(linked)
    fresh, kept = run_vs_twin(linked), run_vs_twin(saved)
    for a, b in zip(fresh.axes, kept.axes, strict=True):
        assert [ln.get_label() for ln in a.get_lines()] == [ln.get_label() for ln in b.get_lines()]
        for la, lb in zip(a.get_lines(), b.get_lines(), strict=True):
            assert list(la.get_ydata()) == list(lb.get_ydata())
        assert gap_at_end(a) == gap_at_end(b)


def words_apart(text: str) -> str:
    return " ".join(text.split())


def test_lab_cash_stacks_to_the_closing_cash_and_marks_the_cash_out_date(tiny) -> None:
    m = tiny.metrics_dict()["labs"]["lab"]
    cash = lab_cash_by_origin(tiny, "lab")
    assert list(cash.columns) == ["inv:investment", "lab:revenue", "lab:cash"]
    assert float(cash.iloc[-1].sum()) == pytest.approx(m["cash_end"])
    assert float(cash.iloc[0].sum()) == 1e9  # opening cash
    (ax,) = lab_cash(tiny).axes
    assert line(ax, "cash_out_date").get_xdata()[0] == mdates.date2num(pd.Timestamp("2027-08-01"))
    assert len(ax.collections) == 3  # one band per origin


def test_render_refuses_unknown_formats_names_sizes_before_drawing(tiny, tmp_path) -> None:
    with pytest.raises(ValueError, match="unknown chart format 'gif'; choose from png, svg, pdf"):
        render(tiny, tmp_path / "a", ["gif"])
    with pytest.raises(
        ValueError,
        match="unknown chart .pie.; choose from run_vs_twin, cumulative, investor_cash, "
        "substitution",
    ):
        render(tiny, tmp_path / "b", ["png"], names=["pie"])
    with pytest.raises(ValueError, match="6 to 40 inches wide"):
        render(tiny, tmp_path / "c", ["png"], size=(2, 1))
    with pytest.raises(ValueError, match="dpi is 50 to 600"):
        render(tiny, tmp_path / "d", ["png"], dpi=5)
    assert list(tmp_path.iterdir()) == []


def test_charts_draw_inside_house_style_and_leave_matplotlib_settings_alone(tiny) -> None:
    import matplotlib as mpl

    before = dict(mpl.rcParams)
    for chart in CHARTS.values():
        chart(tiny, size=(10, 5.625))
    assert dict(mpl.rcParams) == before


# ---- in a notebook: the PNG IPython shows ---------------------------------------------------


@pytest.mark.parametrize(
    ("size", "pixels", "shown"),
    [
        # 13 1/3 x 7.5 in at 144 dpi: 1920 x 1080 pixels, shown at half, 960 x 540
        (SLIDE_SIZE, (1920, 1080), {"width": 960, "height": 540}),
        # 10 x 5.625 in at 144 dpi: 1440 x 810 pixels, shown at 720 x 405
        ((10, 5.625), (1440, 810), {"width": 720, "height": 405}),
    ],
)
def test_a_chart_shows_in_a_notebook_as_a_png_at_half_its_pixels(tiny, size, pixels, shown):
    assert NOTEBOOK_DPI == 144
    data, metadata = DisplayFormatter().format(investor_cash(tiny, size=size))  # as IPython does
    png = data["image/png"]
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    assert struct.unpack(">II", png[16:24]) == pixels
    assert metadata["image/png"] == shown
    assert b"Software" not in png  # no version string: the same chart, the same bytes


def test_showing_a_chart_changes_neither_its_files_nor_any_setting(tiny, tmp_path) -> None:
    import matplotlib as mpl

    before = dict(mpl.rcParams)
    shown = lab_cash(tiny)
    first, _ = shown._repr_png_()
    second, _ = shown._repr_png_()
    assert first == second
    for fmt in FORMATS:
        a = save(shown, tmp_path / f"shown.{fmt}").read_bytes()
        b = save(lab_cash(tiny), tmp_path / f"fresh.{fmt}").read_bytes()
        assert a == b, fmt
    assert dict(mpl.rcParams) == before
    assert Gcf.get_all_fig_managers() == []  # pyplot never saw it


def test_panels_are_drawn_only_for_investors_that_own_a_cloud(results) -> None:
    """In the $50B file Nvidia and SoftBank own no cloud: nothing is caused at a cloud of
    theirs and none of their dollars come back to one. The charts per investor draw Amazon's
    panels only and name the others in the subtitle."""
    run = results["amazon_openai_50b"]
    for chart in (cumulative_flows, investor_cash, run_vs_twin):
        fig = chart(run)
        titles = " ".join(ax.get_title(loc="left") + " " for ax in fig.axes)
        titles += " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
        assert "Nvidia" not in titles and "SoftBank" not in titles, chart.__name__
        assert all(ax.get_visible() for ax in fig.axes)
        subtitle = fig.texts[1].get_text().replace("\n", " ")
        assert "Nvidia and SoftBank: no cloud of its own, so nothing caused there" in subtitle
    # two investors with clouds: a row each
    assert len(cumulative_flows(results["amazon_anthropic"]).axes) == 4


def test_revenue_caused_below_zero_is_drawn_below_zero() -> None:
    """Microsoft's revenue share leaves OpenAI less to spend, so its investment causes less
    Azure revenue than its twin had: the right panel's axis reaches the (negative) figure that
    its label states."""
    run = sim.run(sim.load_scenario(ROOT / "scenarios" / "microsoft_openai.yaml"))
    caused = run.metrics_dict()["investors"]["microsoft"]["incremental_revenue"]
    assert caused < 0
    right = run_vs_twin(run).axes[1]
    low, high = right.get_ylim()
    assert low < caused < 0 < high
