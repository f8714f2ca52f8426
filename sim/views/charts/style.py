"""The house style: one look for every chart, readable in print and on a slide.

Every chart is made with ``new_figure`` inside ``house_style()``: readable type, a colour per
agent kept across every chart (``Palette``), money in $B (or $T, $M) with round ticks, concise
dates, a title and a source line naming the scenario file and a short hash of its resolved
inputs, so that a chart in a report can be traced back to the exact run. ``save`` writes PNG, SVG
or PDF with no timestamps or random ids, text left as text. A chart's Figure (``ChartFigure``)
also shows itself in a notebook, as a PNG, without pyplot.
"""

from __future__ import annotations

import colorsys
import functools
import io
import struct
import sys
import textwrap
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib as mpl
import matplotlib.dates as mdates
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.analysis.result import RunLike, inputs_hash
from sim.inputs.scenario import Scenario
from sim.model.schedule import EXTERNAL_ACCOUNTS

SLIDE_SIZE = (13 + 1 / 3, 7.5)  # inches: a 16:9 slide
DEFAULT_DPI = 150  # 2000 x 1125 pixels at the slide size
TITLE_BAND = 1.05  # inches above the axes for the title and subtitle
SOURCE_BAND = 0.5  # inches below the axes for the source line
# In a notebook: drawn at 144 dpi, shown at half its pixels, 72 per inch (a slide: 1920 x 1080
# pixels, 960 x 540 on screen), so type is as many pixels as points and sharp on dense screens.
NOTEBOOK_DPI = 144
NOTEBOOK_SCALE = 2  # pixels drawn per pixel shown

INK = "#222222"
MUTED = "#666666"
GRID = "#e3e3e3"

RC: dict[str, Any] = {
    # DejaVu Sans ships with matplotlib: the same glyphs, and so the same files, everywhere
    "font.family": "DejaVu Sans",
    "font.size": 13,
    "axes.titlesize": 15,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 13,
    "axes.labelcolor": INK,
    "axes.edgecolor": "#555555",
    "axes.linewidth": 0.9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "axes.axisbelow": True,
    "grid.color": GRID,
    "grid.linewidth": 0.9,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
    "xtick.color": "#444444",
    "ytick.color": "#444444",
    "legend.fontsize": 12,
    "legend.frameon": False,
    "lines.linewidth": 2.6,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "text.color": INK,
    # "$50B: $19.9B" is money, not mathematics: no mathtext between dollar signs
    "text.parse_math": False,
    # text stays text: editable in SVG, selectable and editable (TrueType) in PDF
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    # no random ids in SVG: the same run gives the same bytes
    "svg.hashsalt": "roundtrip",
}


@contextmanager
def house_style() -> Iterator[None]:
    """Matplotlib settings for one chart; the caller's own settings are left as they were."""
    with mpl.rc_context(_rc()), _glyphs_told_once():  # type: ignore[arg-type]
        yield


@contextmanager
def _glyphs_told_once() -> Iterator[None]:
    """Matplotlib warns once per missing glyph, while laying out and again while saving; a
    chart says it once, in ``drawable``."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Glyph .* missing from font", UserWarning)
        yield


# ---- text: fonts and lengths ------------------------------------------------------------------
# Families tried, in order, for characters DejaVu Sans lacks (Chinese, Japanese, Korean, other
# scripts), when one is installed (Debian: fonts-noto-cjk); text DejaVu Sans covers is drawn with
# it alone, so its files stay byte for byte the same everywhere. Characters no installed font
# covers (emoji: matplotlib draws no colour fonts) are drawn as MISSING, with one warning line.
FALLBACK_FAMILIES = (
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
    "Noto Sans CJK TC",
    "Noto Sans CJK KR",
    "Noto Sans",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
)
MISSING = "?"
MAX_LABEL = 40  # characters of an agent's label drawn in a chart; a longer one is cut, with "…"
MAX_TITLE_LINES, MAX_SUBTITLE_LINES = 3, 4  # the title band never outgrows the figure


@functools.cache
def fonts() -> tuple[tuple[str, ...], frozenset[int]]:
    """The families charts draw with (DejaVu Sans, then the fallbacks installed here) and the
    code points they cover between them."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    installed = {f.name for f in font_manager.fontManager.ttflist}
    families = ("DejaVu Sans", *(f for f in FALLBACK_FAMILIES if f in installed))
    covered: set[int] = set()
    for family in families:
        try:  # the regular face, as matplotlib picks it for the family
            face = font_manager.FontProperties(family=family)
            path = font_manager.findfont(face, fallback_to_default=False)
            covered |= set(FT2Font(path).get_charmap())
        except (OSError, RuntimeError, ValueError):  # unreadable: the family adds nothing
            continue
    return families, frozenset(covered)


def _rc() -> dict[str, Any]:
    return {**RC, "font.family": list(fonts()[0])}


def fit_label(text: str, limit: int = MAX_LABEL) -> str:
    """``text`` cut to ``limit`` characters, ending in "…" where cut: a label of any length
    fits beside a line, in a legend or a title."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def agent_label(scenario: Scenario, agent: str) -> str:
    """An agent as charts name it: its ``label`` (else its key), cut by ``fit_label``; every
    chart takes agents' names from here."""
    return fit_label(scenario.label(agent))


_warned: list[str] = []  # the one warning about missing glyphs, once it was given


def drawable(fig: Figure) -> None:
    """Replace, in every text of ``fig``, the characters no chart font has by ``MISSING``, and
    say so once per process on one line of stderr (instead of matplotlib's warning per glyph)."""
    from matplotlib.text import Text

    covered = fonts()[1]
    missing: set[str] = set()
    for text in fig.findobj(Text):
        value = text.get_text()
        if value.isascii():
            continue
        absent = {c for c in value if ord(c) not in covered and not c.isspace()}
        if absent:
            missing |= absent
            text.set_text("".join(MISSING if c in absent else c for c in value))
    if missing and not _warned:
        shown = " ".join(sorted(missing)[:8]) + (" ..." if len(missing) > 8 else "")
        _warned.append(shown)
        print(
            f"warning: no chart font has these characters of the text ({shown}); charts draw "
            f"them as {MISSING!r} (docs/charts.md, Fonts)",
            file=sys.stderr,
        )


# Colourblind-safe qualitative colours (Okabe & Ito), then Tableau's for larger casts.
BASE_COLOURS = [
    "#E69F00",  # orange
    "#0072B2",  # blue
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#D55E00",  # vermillion
    "#56B4E9",  # sky blue
    "#8C564B",  # brown
    "#7F7F7F",  # grey
    "#BCBD22",  # olive
    "#17BECF",  # cyan
]
EXTERNAL_COLOUR = "#B0B0B0"


def tint(colour: str, amount: float) -> str:
    """The colour lightened towards white by ``amount`` (0: as is, 1: white)."""
    rgb = mpl.colors.to_rgb(colour)
    h, light, s = colorsys.rgb_to_hls(*rgb)
    light = light + (1 - light) * amount
    return mpl.colors.to_hex(colorsys.hls_to_rgb(h, light, s))


def cash_tint(colour: str) -> str:
    """A muted, pale shade for opening cash: the agent's hue, greyed and lightened."""
    h, light, sat = colorsys.rgb_to_hls(*mpl.colors.to_rgb(colour))
    return mpl.colors.to_hex(colorsys.hls_to_rgb(h, light + (1 - light) * 0.5, sat * 0.35))


@dataclass
class Palette:
    """A colour for every agent and origin of a scenario, the same in every chart of it.

    Investors first, in file order, then labs, then clouds no investor owns; a cloud an investor
    owns is a lighter shade of its owner (its profit is the owner's). Origins take the colour of
    their agent: an investor's investment its investor's, a lab's revenue its lab's, opening cash
    a paler shade. Accounts outside the model are grey.
    """

    colours: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, run: RunLike) -> Palette:
        s = run.scenario
        colours: dict[str, str] = {}
        queue = iter(BASE_COLOURS * 3)
        for name in s.investors:
            colours[name] = next(queue)
        for name in s.labs:
            colours[name] = next(queue)
        for name in s.sellers:
            owner = s.owner_of(name)
            colours[name] = tint(colours[owner], 0.45) if owner else next(queue)
        for name in EXTERNAL_ACCOUNTS:
            colours[name] = EXTERNAL_COLOUR
        return cls(colours)

    def agent(self, name: str) -> str:
        return self.colours.get(name, EXTERNAL_COLOUR)

    def origin(self, origin: str) -> str:
        """``amazon:investment`` -> amazon's colour; ``openai:cash`` -> a pale openai."""
        agent, _, what = origin.partition(":")
        colour = self.agent(agent)
        return cash_tint(colour) if what == "cash" else colour


# ---- money and dates ------------------------------------------------------------------------

_UNITS = (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3))


def money_unit(largest_dollars: float) -> tuple[str, float]:
    """The unit for a money axis: $B unless the figures call for $T or $M."""
    big = abs(largest_dollars)
    for name, scale in _UNITS:
        if big >= scale * 0.95 or name == "K":
            if name == "T" and big < 2e12:
                continue  # $1,500B reads better than $1.5T on a chart of billions
            return name, scale
    return "B", 1e9


def format_money(dollars: float, unit: tuple[str, float] | None = None, digits: int = 1) -> str:
    """``$12.3B``; negative as ``-$12.3B``."""
    name, scale = unit or money_unit(dollars)
    value = dollars / scale
    text = f"{abs(value):,.{digits}f}".rstrip("0").rstrip(".") if digits else f"{abs(value):,.0f}"
    return f"{'-' if value < 0 else ''}${text}{name}"


def money_axis(ax: Axes, largest_dollars: float, axis: str = "y") -> tuple[str, float]:
    """Ticks in round amounts of $B (or $T, $M) on an axis whose data are in dollars."""
    unit = money_unit(largest_dollars)
    name, scale = unit

    def fmt(x: float, _pos: int) -> str:
        v = x / scale
        text = f"{abs(v):,.2f}".rstrip("0").rstrip(".")
        return f"{'-' if v < 0 else ''}${text}{name}"

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(ticker.MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
    target.set_major_formatter(ticker.FuncFormatter(fmt))
    return unit


def date_axis(ax: Axes) -> None:
    """Concise dates: years on the ticks, months where the span is short."""
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=False))


# ---- figures -------------------------------------------------------------------------------


def source_file(scenario: Scenario) -> str:
    """The scenario file as a source line names it: as the user gave it, or only its file name if
    that was an absolute path (a home or temporary folder says nothing to a reader, and a chart
    should not carry it); "a scenario built in Python" if it came from no file."""
    if not scenario.source:
        return "a scenario built in Python"
    given = scenario.source
    return Path(given).name if Path(given).is_absolute() else given


def source_line(run: RunLike) -> str:
    """What a reader needs to trace the chart to its run: the file and its inputs' hash."""
    s = run.scenario
    where = source_file(s)
    return f"Source: roundtrip simulation of {where} (inputs {inputs_hash(s)}), {s.name!r}."


def _source_text(run: RunLike, width_in: float) -> str:
    """The source line, without the scenario's name if the full line would not fit."""
    full = source_line(run)
    if len(full) <= (width_in - 0.6) * 72 / (10 * 0.55):
        return full
    return full[: full.rindex(" (inputs ")] + full[full.rindex(" (inputs ") :].split(")")[0] + ")."


def _wrap(text: str, width_in: float, size_pt: float, em: float, most: int) -> list[str]:
    """At most ``most`` lines of ``text`` that fit the figure's width, for a font of ``size_pt``
    whose average character is ``em`` of its size wide; the last ends in "…" if text is left."""
    chars = max(20, int((width_in - 0.6) * 72 / (size_pt * em)))
    lines = textwrap.wrap(text, chars, break_on_hyphens=False, max_lines=most, placeholder=" …")
    return lines or [""]


def new_figure(
    run: RunLike,
    title: str,
    subtitle: str | None = None,
    *,
    nrows: int = 1,
    ncols: int = 1,
    size: Sequence[float] = SLIDE_SIZE,
    sharex: bool = False,
    source: str | None = None,
    **grid: Any,
) -> tuple[ChartFigure, list[Axes]]:
    """A figure in the house style with a title band on top and the source line at the bottom
    (``run``'s, or ``source`` for a chart of several runs).

    Call inside ``house_style()``. The bands are fixed in inches, so titles are never clipped
    whatever the size. Returns the figure and its axes as a flat list.
    """
    width, height = float(size[0]), float(size[1])
    fig = ChartFigure(figsize=(width, height), dpi=DEFAULT_DPI)
    # title and subtitle wrap to the figure's width; the band above the axes grows to fit them
    title_lines = _wrap(title, width, 19, 0.62, MAX_TITLE_LINES)
    sub_lines = _wrap(subtitle, width, 13, 0.53, MAX_SUBTITLE_LINES) if subtitle else []
    band = max(TITLE_BAND, 0.22 + 0.33 * len(title_lines) + 0.08 + 0.24 * len(sub_lines) + 0.22)
    top = 1 - band / height
    bottom = SOURCE_BAND / height + 0.7 / height  # room for tick labels above the source line
    gs = fig.add_gridspec(
        nrows, ncols, left=0.95 / width, right=1 - 0.35 / width, top=top, bottom=bottom, **grid
    )
    axes: list[Axes] = []
    for r in range(nrows):
        for c in range(ncols):
            share = axes[0] if (sharex and axes) else None
            axes.append(fig.add_subplot(gs[r, c], sharex=share))
    x = 0.3 / width
    fig.text(
        x,
        1 - 0.22 / height,
        "\n".join(title_lines),
        fontsize=19,
        fontweight="bold",
        va="top",
        linespacing=1.15,
    )
    if sub_lines:
        y = 0.22 + 0.33 * len(title_lines) + 0.08
        fig.text(
            x,
            1 - y / height,
            "\n".join(sub_lines),
            fontsize=13,
            color=MUTED,
            va="top",
            linespacing=1.25,
        )
    line = source if source is not None else _source_text(run, width)
    fig.text(x, 0.18 / height, line, fontsize=10, color=MUTED, va="bottom")
    return fig, axes


class ChartFigure(Figure):
    """A chart: a plain matplotlib ``Figure`` that also shows itself in a notebook.

    A Figure made without pyplot has no picture for Jupyter, which would print ``<Figure size
    2000x1125 with 1 Axes>``. ``_repr_png_`` gives IPython a PNG in the house style at
    ``NOTEBOOK_DPI``; it touches no pyplot and no global settings, and the same figure gives the
    same bytes. Saving is Figure's own: ``savefig`` and ``save`` write what they always did.
    """

    def _repr_png_(self) -> tuple[bytes, dict[str, int]]:
        """The PNG and the size to show it at (half its pixels: sharp on dense screens)."""
        buffer = io.BytesIO()
        drawable(self)
        with mpl.rc_context(_rc()), _glyphs_told_once():  # type: ignore[arg-type]
            self.savefig(buffer, format="png", dpi=NOTEBOOK_DPI, metadata=SAVE_METADATA["png"])
        png = buffer.getvalue()
        width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk: pixels drawn
        return png, {"width": width // NOTEBOOK_SCALE, "height": height // NOTEBOOK_SCALE}


SAVE_METADATA: dict[str, dict[str, Any]] = {
    # no dates and no version strings inside the files: the same run gives the same bytes
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
}
FORMATS = tuple(SAVE_METADATA)


def save(fig: Figure, path: str | Path, *, dpi: int = DEFAULT_DPI) -> Path:
    """Write ``fig`` as PNG, SVG or PDF (by the file's suffix), byte for byte reproducible."""
    p = Path(path)
    fmt = p.suffix.lstrip(".").lower()
    if fmt not in SAVE_METADATA:
        raise ValueError(f"unknown chart format {fmt!r}; choose from {', '.join(FORMATS)}")
    drawable(fig)
    with mpl.rc_context(_rc()), _glyphs_told_once():  # type: ignore[arg-type]
        fig.savefig(p, format=fmt, dpi=dpi, metadata=SAVE_METADATA[fmt])
    return p
