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
from sim.charts import CHARTS, DEFAULT_DPI, FORMATS, SLIDE_SIZE, render
from sim.charts.series import lab_cash_by_origin
from sim.charts.style import NOTEBOOK_DPI, save
from sim.charts.timeseries import cumulative_flows, investor_cash, lab_cash
from sim.result import inputs_hash

pypdf = pytest.importorskip("pypdf")

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ("amazon_openai_50b", "amazon_anthropic")  # one investor; two investors
CASES = [(s, c, f) for s in SCENARIOS for c in CHARTS for f in FORMATS]
# Pays back in 2026-11 and runs short in 2027-08: 5B invested, the own cloud takes half of
# 2B a month of compute at a 50% margin, so 0.5B of profit a month while the lab can pay.
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
    """Every chart of each scenario in every format, twice (two folders); and each title."""
    out = {}
    for s, result in results.items():
        first, second = tmp_path_factory.mktemp(f"{s}-1"), tmp_path_factory.mktemp(f"{s}-2")
        render(result, first, FORMATS)
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
    assert f"scenarios/{scenario}.yaml" in source
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


def line(ax, label: str):
    (found,) = [ln for ln in ax.get_lines() if ln.get_label() == label]
    return found


def test_cumulative_lines_end_at_the_metrics(tiny) -> None:
    m = tiny.metrics_dict()["investors"]["inv"]
    whole, own = cumulative_flows(tiny).axes
    ends = {
        label: float(line(ax, label).get_ydata()[-1])
        for ax, labels in (
            (whole, ("spend_on_own_cloud", "cloud_profit", "invested")),
            (own, ("invested", "round_trip", "round_trip_profit")),
        )
        for label in labels
    }
    assert ends == pytest.approx({k: m[k] for k in ends}, abs=0.005)
    assert ends["invested"] == 5e9  # 3B + 2B
    assert ends["cloud_profit"] == pytest.approx(ends["spend_on_own_cloud"] * 0.5, abs=0.02)


def test_net_cash_ends_at_profit_less_invested_and_payback_is_marked(tiny) -> None:
    m = tiny.metrics_dict()["investors"]["inv"]
    (ax,) = investor_cash(tiny).axes
    net = line(ax, "net_cash")
    assert float(net.get_ydata()[-1]) == pytest.approx(m["cloud_profit"] - m["invested"])
    assert float(min(net.get_ydata())) == -3e9  # the first 3B, before any profit
    payback = line(ax, "payback_date")
    assert m["payback_date"] == "2026-11-01"
    assert payback.get_xdata()[0] == mdates.date2num(pd.Timestamp("2026-11-01"))
    # the net position crosses zero there: below before, at or above on the day
    y = pd.Series(net.get_ydata(), index=pd.DatetimeIndex(net.get_xdata()))
    assert y[y.index < "2026-11-01"].max() < 0 <= y[y.index >= "2026-11-01"].min()


def test_lab_cash_stacks_to_the_closing_cash_and_marks_the_cash_out_date(tiny) -> None:
    m = tiny.metrics_dict()["labs"]["lab"]
    cash = lab_cash_by_origin(tiny, "lab")
    assert list(cash.columns) == ["inv:investment", "lab:revenue", "lab:cash"]
    assert float(cash.iloc[-1].sum()) == pytest.approx(m["cash_end"])
    assert float(cash.iloc[0].sum()) == 1e9  # opening cash
    (ax,) = lab_cash(tiny).axes
    assert line(ax, "cash_out_date").get_xdata()[0] == mdates.date2num(pd.Timestamp("2027-08-01"))
    assert len(ax.collections) == 3  # one band per origin


def test_no_payback_within_the_horizon_is_said() -> None:
    toy = sim.run(sim.load_scenario(ROOT / "scenarios" / "toy_round_trip.yaml"))
    assert toy.metrics_dict()["investors"]["bigtech"]["payback_date"] is None
    fig = investor_cash(toy)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts] + [t.get_text() for t in fig.texts]
    assert any("No payback within the horizon" in t for t in texts)
    assert any("not paid back" in t for t in texts)


def test_render_refuses_unknown_formats_names_sizes_before_drawing(tiny, tmp_path) -> None:
    with pytest.raises(ValueError, match="unknown chart format 'gif'; choose from png, svg, pdf"):
        render(tiny, tmp_path / "a", ["gif"])
    with pytest.raises(
        ValueError, match="unknown chart .pie.; choose from flows, own_dollars, cumulative"
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
