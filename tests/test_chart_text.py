"""Every chart of every bundled file reads cleanly: drawn by matplotlib's Agg renderer at slide
size, no two visible texts overlap (tick labels, legend entries, annotations, titles), no text
shows an internal path (``deals.0.``, ``agents.``, ``openai:equity``, a file's snake_case stem as
a name), and no source line names an absolute path or a temporary file.

The runs are made once per module: a run of each bundled file, a small sweep, a small Monte
Carlo, one sensitivity table and one comparison of every file; each chart is drawn once and its
texts kept (``_texts``), so that the three checks read the same drawing.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.transforms import Bbox

import sim
from sim.runs import farm
from sim.views.charts import CHARTS, COMPARE_CHARTS, RANGE_CHARTS, SENSITIVITY_CHARTS
from sim.views.charts.ranges import range_runs, read_ranges

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted((ROOT / "scenarios").glob("*.yaml"))
FIFTY = ROOT / "scenarios" / "amazon_openai_50b.yaml"
WEB = ROOT / "scenarios" / "whole_web.yaml"

# Charts are drawn at the slide size at a modest resolution: text is laid out in points, so what
# overlaps at 72 dpi overlaps at 150 (each box is only rounded to whole pixels).
DPI = 72
# Two boxes overlap if they share more than this many points both across and down. A text's box is
# its line height (the font's ascent and descent, more than the ink), so two lines one above the
# other touch without their letters meeting; half a point (half a pixel here) allows boxes
# that touch after rounding to pixels, and nothing a reader would see as overlapping.
TOLERANCE = 0.5  # points

# What a reader must never see: paths inside a scenario file, origins of money as the ledger
# names them, a file's stem used as a name.
INTERNAL = (
    (re.compile(r"\bdeals\.\d+\b"), "a deal's path"),
    (re.compile(r"\bagents\."), "an agent's path"),
    (re.compile(r"\w+:(equity|investment|cash|revenue|debt|credits|capex)\b"), "an origin"),
    (re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b"), "a snake_case name"),
)
# The source line names its file (scenarios/amazon_anthropic.yaml is a file, not a name)
FILE_NAME = re.compile(r"\S+\.(?:yaml|yml|parquet)\b")
# In a source line: a path from the root, a home folder, a temporary folder or file
ABSOLUTE = re.compile(r"(^|[\s(])(/|~|[A-Za-z]:\\)|\btmp|\btemp|\bpytest-", re.IGNORECASE)


@functools.cache
def _result(path: Path) -> sim.Result:
    return sim.run(sim.load_scenario(path))


@pytest.fixture(scope="module")
def ranges(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The range charts' inputs: a one-input and a two-input sweep and a Monte Carlo of the $50B
    file (each small: 4, 6 and 12 runs), written where a user would write them, a temporary
    folder."""
    from sim.ranges.vary import draw, grid, load_template

    template = load_template(FIFTY)
    scenario = sim.load_scenario(FIFTY)
    share = "agents.openai.spending.compute.providers.aws"
    margin = "agents.aws.margin"
    folder = tmp_path_factory.mktemp("ranges")

    def farmed(jobs: list, name: str, kind: str, **kw: object) -> Path:
        out = folder / f"{name}.parquet"
        farm.farm(((k, i, s) for k, (i, s) in enumerate(jobs)), out, kind=kind, **kw)
        return out

    line = farmed(grid(template, [f"{share}=10%..40%:4"]), "line", "sweep")
    heat = farmed(grid(template, [f"{share}=10%,30%", f"{margin}=20%,30%,40%"]), "heat", "sweep")
    draws = draw(template, 12, 3, [f"{margin}~uniform(20%,40%)", f"{share}~uniform(10%,50%)"])
    mc = farmed(draws, "mc", "mc", seed=3)
    return {
        "sweep_line": range_runs(line, scenario, varied=[share], kind="sweep"),
        "sweep_heatmap": range_runs(heat, scenario, varied=[share, margin], kind="sweep"),
        "fan": read_ranges(mc),  # as a notebook reads it back: the scenario from the file
    }


@pytest.fixture(scope="module")
def swings() -> object:
    """The $50B file's inputs swung one at a time (about 60 runs, in batches)."""
    return sim.sensitivity(FIFTY, metric="incremental_profit")


@pytest.fixture(scope="module")
def compared() -> object:
    """Every bundled file side by side."""
    return sim.compare(FILES)


def drawn_texts(fig: Figure) -> list[tuple[str, Bbox]]:
    """Every text the Agg renderer draws in ``fig`` at ``DPI`` and its box in pixels: the texts
    whose ``draw`` ran with something to show (tick labels of ticks inside the axes, legend
    entries, annotations, titles), each box cut to its clip box (a text clipped away is not
    seen)."""
    fig.set_dpi(DPI)
    renderer = FigureCanvasAgg(fig).get_renderer()
    seen: list[tuple[str, Bbox]] = []
    draw = Text.draw

    def record(text: Text, renderer_: object) -> None:
        draw(text, renderer_)
        value = text.get_text()
        if not text.get_visible() or not value.strip() or text.get_alpha() == 0:
            return
        box = text.get_window_extent(renderer)
        clip = text.get_clip_box() if text.get_clip_on() else None
        if clip is not None:
            box = Bbox.intersection(box, clip)
            if box is None:
                return
        seen.append((value, box))

    with mock.patch.object(Text, "draw", record):
        fig.draw(renderer)
    return seen


def overlaps(texts: list[tuple[str, Bbox]]) -> list[str]:
    """Each pair of texts whose boxes share more than ``TOLERANCE`` both ways, as words."""
    tol = TOLERANCE * DPI / 72
    found = []
    for i, (a, box_a) in enumerate(texts):
        for b, box_b in texts[i + 1 :]:
            across = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
            down = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
            if across > tol and down > tol:
                found.append(f"{a!r} over {b!r} ({across:.1f} x {down:.1f} px)")
    return found


def outside(texts: list[tuple[str, Bbox]], fig: Figure) -> list[str]:
    """Each text that runs past the figure's edges by more than ``TOLERANCE``."""
    tol = TOLERANCE * DPI / 72
    width, height = fig.get_figwidth() * DPI, fig.get_figheight() * DPI
    return [
        f"{value!r} at {box.bounds}"
        for value, box in texts
        if box.x0 < -tol or box.y0 < -tol or box.x1 > width + tol or box.y1 > height + tol
    ]


def internal_names(texts: list[tuple[str, Bbox]]) -> list[str]:
    found = []
    for value, _ in texts:
        shown = FILE_NAME.sub("", value)
        for pattern, what in INTERNAL:
            if m := pattern.search(shown):
                found.append(f"{what} {m.group(0)!r} in {value!r}")
    return found


CASES = [(f.stem, c) for f in FILES for c in CHARTS]
OTHERS = [*RANGE_CHARTS, *SENSITIVITY_CHARTS, *COMPARE_CHARTS]
Texts = list[tuple[str, Bbox]]
_drawn: dict[tuple[str, str], tuple[Texts, list[str]]] = {}


def _texts(key: tuple[str, str], make: Callable[[], Figure]) -> tuple[Texts, list[str]]:
    """A chart's drawn texts and those that leave its figure, drawn once per module."""
    if key not in _drawn:
        fig = make()
        texts = drawn_texts(fig)
        _drawn[key] = texts, outside(texts, fig)
        fig.clear()
    return _drawn[key]


def _run_chart(stem: str, chart: str) -> tuple[Texts, list[str]]:
    return _texts(
        (stem, chart), lambda: CHARTS[chart](_result(ROOT / "scenarios" / f"{stem}.yaml"))
    )


@pytest.fixture
def other_chart(ranges, swings, compared) -> Callable[[str], tuple[Texts, list[str]]]:
    def texts(chart: str) -> tuple[Texts, list[str]]:
        if chart in RANGE_CHARTS:
            return _texts(("ranges", chart), lambda: RANGE_CHARTS[chart](ranges[chart]))
        if chart in SENSITIVITY_CHARTS:
            return _texts(("sensitivity", chart), lambda: SENSITIVITY_CHARTS[chart](swings))
        return _texts(("compare", chart), lambda: COMPARE_CHARTS[chart](compared))

    return texts


# ---- the checks ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("stem", "chart"), CASES)
def test_the_texts_of_a_run_chart_neither_overlap_nor_leave_the_figure(stem, chart) -> None:
    texts, out = _run_chart(stem, chart)
    assert len(texts) > 5  # a title, a subtitle, a source line and the axes' labels at least
    assert overlaps(texts) == []
    assert out == []


@pytest.mark.parametrize(("stem", "chart"), CASES)
def test_a_run_chart_shows_no_internal_name(stem: str, chart: str) -> None:
    assert internal_names(_run_chart(stem, chart)[0]) == []


@pytest.mark.parametrize("chart", OTHERS)
def test_the_texts_of_a_chart_of_many_runs_neither_overlap_nor_leave_the_figure(
    chart, other_chart
) -> None:
    texts, out = other_chart(chart)
    assert len(texts) > 5
    assert overlaps(texts) == []
    assert out == []


@pytest.mark.parametrize("chart", OTHERS)
def test_a_chart_of_many_runs_shows_no_internal_name(chart: str, other_chart) -> None:
    assert internal_names(other_chart(chart)[0]) == []


@pytest.mark.parametrize("chart", [*CASES, *OTHERS])
def test_the_source_line_names_no_absolute_path_or_temporary_file(chart, other_chart) -> None:
    texts, _ = _run_chart(*chart) if isinstance(chart, tuple) else other_chart(chart)
    [source] = [v for v, _ in texts if v.startswith("Source: ")]
    assert not ABSOLUTE.search(source), source
    # the files a source line names are scenario files, never the results it was drawn from
    assert not re.search(r"\.parquet\b", source), source


def test_the_checks_find_what_they_look_for() -> None:
    """Two texts one over the other are caught, two lines stacked at their line height are not,
    a text past the edge is, and a tick outside the axes' limits is not drawn so not counted."""
    fig = Figure(figsize=(4, 3))
    ax = fig.add_subplot()
    ax.set_xticks([0.0, 0.5, 1.0, 2.0])
    ax.set_xlim(0, 1)  # 2.0 now lies outside the limits: matplotlib does not draw it
    ax.set_yticks([])
    fig.text(0.1, 0.9, "Amazon: profit", fontsize=12)
    fig.text(0.12, 0.905, "AWS: profit kept", fontsize=12)
    fig.text(0.98, 0.5, "past the edge", fontsize=12)
    fig.text(0.15, 0.6, "agents.x and openai:equity and amazon_anthropic", fontsize=8)
    texts = drawn_texts(fig)
    found = overlaps(texts)
    assert len(found) == 1 and found[0].startswith("'Amazon: profit' over 'AWS: profit kept'")
    assert [t for t, _ in texts if t in ("0.0", "0.5", "1.0", "2.0")] == ["0.0", "0.5", "1.0"]
    assert [o.split(" at ")[0] for o in outside(texts, fig)] == ["'past the edge'"]
    assert [n.split(" in ")[0] for n in internal_names(texts)] == [
        "an agent's path 'agents.'",
        "an origin 'openai:equity'",
        "a snake_case name 'amazon_anthropic'",
    ]
    stacked = Figure(figsize=(4, 3))
    stacked.text(0.1, 0.5, "one line\nanother line\na third")  # one text: lines never clash
    stacked.text(0.1, 0.8, "above")
    stacked.text(0.1, 0.8 - 12 * 1.2 / (3 * 72), "below, one line lower")
    assert overlaps(drawn_texts(stacked)) == []
