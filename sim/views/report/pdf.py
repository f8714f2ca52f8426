"""The report as PDF, with matplotlib alone: text pages laid out in inches, a page per chart.

Text pages are filled top to bottom by ``Flow``: paragraphs wrap to the page, a heading stays
with what follows it, and a table that runs over a page repeats its header there. Lines are
measured in the house font, so the layout holds at any page size. The pages are then drawn as
figures (``fig.text`` and thin rules) and written with ``PdfPages``: TrueType text, no dates.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple, Protocol

from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D

from sim.analysis.result import RunLike
from sim.views.charts.style import GRID, INK, MUTED, RC, SAVE_METADATA, drawable, house_style
from sim.views.report.content import (
    ASSUMPTIONS_NOTE,
    CAUSED_HEADING,
    LABS_HEADING,
    TRACED_HEADING,
    Assumption,
    Points,
    ReportContent,
    Table,
    assumption_cells,
    chart_figures,
)

FONT = str(RC["font.family"])
MARGIN = 0.6  # inches, left and right
TOP = 0.45  # inches above the first line
FOOTER = 0.75  # inches kept free at the bottom for the source line
GAP = 0.22  # inches between table columns
MATRIX_GAP = 0.12  # inches between the many columns of an accounting matrix
READING_WIDTH = 11.0  # inches: longer lines of running text are hard to follow


class _Text(NamedTuple):
    x: float  # inches from the left: the start of the line, or its end if ``right``
    y: float  # inches from the top to the baseline
    text: str
    size: float  # points
    bold: bool
    colour: str
    right: bool


class _Rule(NamedTuple):
    x0: float
    x1: float
    y: float
    width: float  # points
    colour: str


Page = list[_Text | _Rule]


@cache
def _renderer() -> RendererAgg:
    return RendererAgg(1, 1, 72)  # at 72 dpi a pixel is a point


@cache
def text_width(text: str, size: float, bold: bool = False) -> float:
    """Width of one line in inches, in the house font (with a little room to spare)."""
    prop = FontProperties(family=FONT, size=size, weight="bold" if bold else "normal")
    w, _, _ = _renderer().get_text_width_height_descent(text, prop, ismath=False)
    return w / 72 * 1.02


def wrap(text: str, width: float, size: float, bold: bool = False) -> list[str]:
    """Lines no wider than ``width`` inches; a word too long is cut after a dot if it can be."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if text_width(candidate, size, bold) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            while text_width(word, size, bold) > width and len(word) > 1:
                fits = 1
                while fits < len(word) and text_width(word[: fits + 1], size, bold) <= width:
                    fits += 1
                breaks = [i + 1 for i in range(fits - 1) if word[i] in "./-_,"]
                cut = breaks[-1] if breaks else fits
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
    return lines


@dataclass
class Column:
    """A column of a table on a PDF page."""

    width: float  # inches
    right: bool = False  # right-aligned (figures)


class Flow:
    """Text pages filled top to bottom; a new page when the next piece does not fit."""

    def __init__(self, size: tuple[float, float]) -> None:
        self.width, self.height = size
        self.pages: list[Page] = [[]]
        self.y = TOP  # inches from the top of the current page

    @property
    def text_width(self) -> float:
        return self.width - 2 * MARGIN

    @property
    def room(self) -> float:
        return self.height - FOOTER - self.y

    def new_page(self) -> None:
        if self.pages[-1]:
            self.pages.append([])
        self.y = TOP

    def need(self, inches: float) -> None:
        if inches > self.room:
            self.new_page()

    def line(
        self,
        text: str,
        size: float,
        *,
        x: float = MARGIN,
        top: float | None = None,
        bold: bool = False,
        colour: str = INK,
        right: bool = False,
    ) -> None:
        """One line whose top is at ``top`` (default: the current position)."""
        baseline = (self.y if top is None else top) + size / 72
        self.pages[-1].append(_Text(x, baseline, text, size, bold, colour, right))

    def rule(self, x0: float, x1: float, width: float, colour: str) -> None:
        self.pages[-1].append(_Rule(x0, x1, self.y, width, colour))

    def space(self, inches: float) -> None:
        """Blank space, except at the top of a page."""
        if self.pages[-1] and self.y > TOP:
            self.y += inches

    def paragraph(
        self,
        text: str,
        size: float = 13,
        *,
        bold: bool = False,
        colour: str = INK,
        width: float | None = None,
        after: float = 0.12,
        bullet: bool = False,
    ) -> None:
        step = size * 1.4 / 72
        indent = 0.3 if bullet else 0.0
        lines = wrap(text, (width or self.text_width) - indent, size, bold)
        for k, line in enumerate(lines):
            self.need(step)
            if bullet and k == 0:
                self.line("\u2022", size, x=MARGIN + 0.08, colour=MUTED)
            self.line(line, size, x=MARGIN + indent, bold=bold, colour=colour)
            self.y += step
        self.y += after

    def paragraph_height(
        self,
        text: str,
        size: float = 13,
        *,
        bold: bool = False,
        width: float | None = None,
        after: float = 0.12,
        bullet: bool = False,
    ) -> float:
        """The inches ``paragraph`` with the same arguments takes."""
        indent = 0.3 if bullet else 0.0
        lines = wrap(text, (width or self.text_width) - indent, size, bold)
        return len(lines) * size * 1.4 / 72 + after

    def heading(self, text: str, keep: float = 0.6) -> None:
        """A section heading, kept on one page with ``keep`` inches of what follows."""
        self.space(0.18)
        self.need(0.42 + keep)
        self.line(text, 17, bold=True)
        self.y += 0.42

    def table(
        self,
        table: Table,
        columns: Sequence[Column],
        *,
        size: float = 11,
        x: float = MARGIN,
        colour: Callable[[int, int], str] | None = None,
        on_new_page: Callable[[int, int], str] | None = None,
        gap: float = GAP,
    ) -> None:
        """A table whose cells wrap to their column, with a rule under the header and hairlines
        between rows. A table that runs over a page repeats its header there, and neither its
        first nor its last row stands alone on a page. ``colour(row, col)`` colours a cell;
        ``on_new_page(row, col)`` gives a cell's text where its row starts a page (so that "as
        above" is not left without the row above)."""
        step, pad = size * 1.35 / 72, size * 0.25 / 72
        right_edge = x + sum(c.width for c in columns) + gap * (len(columns) - 1)

        def cells(row: Sequence[str], bold: bool = False) -> list[list[str]]:
            return [wrap(t, c.width, size, bold) for t, c in zip(row, columns, strict=True)]

        def section(row: Sequence[str]) -> list[list[str]]:
            """A section heading: its label across the whole table, nothing in the others."""
            return [wrap(row[0], right_edge - x, size, True)] + [[] for _ in columns[1:]]

        def height(lines: list[list[str]]) -> float:
            return max(map(len, lines)) * step + 2 * pad

        def draw(lines: list[list[str]], colours: Sequence[str], bold: bool = False) -> None:
            left = x
            for cell, col, ink in zip(lines, columns, colours, strict=True):
                at = left + col.width if col.right else left
                for k, text in enumerate(cell):
                    top = self.y + pad + k * step
                    self.line(text, size, x=at, top=top, bold=bold, colour=ink, right=col.right)
                left += col.width + gap
            self.y += height(lines)

        def header() -> None:
            draw(cells(table.header, bold=True), [INK] * len(columns), bold=True)
            self.rule(x, right_edge, 0.9, "#555555")

        head = height(cells(table.header, bold=True))
        rows = [
            section(row) if r in table.sections else cells(row) for r, row in enumerate(table.rows)
        ]
        heights = [height(lines) for lines in rows]
        n = len(heights)
        for r, row in enumerate(table.rows):
            lines = rows[r]
            heading = r in table.sections
            need = heights[r] + (heights[1] if r == 0 and n > 1 else 0)
            need += heights[-1] if r == n - 2 and n > 2 else 0
            need += heights[r + 1] if r in table.sections and r + 1 < n else 0
            if r == 0:
                self.need(head + need)
                header()
            elif need > self.room:
                self.new_page()
                if on_new_page is not None:
                    lines = cells([on_new_page(r, c) for c in range(len(row))])
                header()
            if heading:  # keep a heading with the row after it
                draw(lines, [INK] * len(row), bold=True)
            else:
                draw(lines, [colour(r, c) if colour else INK for c in range(len(row))])
            self.rule(x, right_edge, 0.5, GRID)

    def table_height(self, table: Table, columns: Sequence[Column], size: float) -> float:
        step, pad = size * 1.35 / 72, size * 0.25 / 72
        width = sum(c.width for c in columns) + GAP * (len(columns) - 1)
        rows = [(table.header, True)] + [(row, False) for row in table.rows]
        return sum(
            (
                len(wrap(row[0], width, size, True))
                if k - 1 in table.sections
                else max(
                    len(wrap(t, c.width, size, bold)) for t, c in zip(row, columns, strict=True)
                )
            )
            * step
            + 2 * pad
            for k, (row, bold) in enumerate(rows)
        )


def figure_columns(
    table: Table, size: float, width: float, *, min_value: float = 1.2
) -> list[Column]:
    """A label column and right-aligned figure columns, all within ``width`` inches (the labels
    wrap if they must)."""
    rows = [r for k, r in enumerate(table.rows) if k not in table.sections]
    every = (table.header, *rows)
    values = [
        max(min_value, 0.1 + max(text_width(r[i], size, r is table.header) for r in every))
        for i in range(1, len(table.header))
    ]
    room = width - sum(values) - GAP * len(values)
    label = min(max(text_width(r[0], size) for r in every) + 0.1, room)
    return [Column(max(label, 1.0))] + [Column(w, right=True) for w in values]


def figure_section(
    flow: Flow,
    heading: str,
    table: Table,
    note: str,
    reading: Sequence[Points],
) -> None:
    """A section: its heading, its table of figures in the largest type (12 down to 10 points)
    that keeps it on the page it starts on, a note under it, and the sentences reading it."""

    def layout(size: float) -> tuple[list[Column], float]:
        columns = figure_columns(table, size, flow.text_width)
        return columns, flow.table_height(table, columns, size)

    # the note under the table is its caption: the table, the note and the heading share a page
    note_width = min(flow.text_width, READING_WIDTH)
    room = 0.1 + (flow.paragraph_height(note, 10, width=note_width) if note else 0.0)
    page = flow.height - FOOTER - TOP

    def fitting(space: float) -> list[float]:
        return [size for size in (12.0, 11.0, 10.0) if layout(size)[1] + room + 0.6 <= space]

    # the largest type that fits here, else on a page of its own, else the smallest
    fits = fitting(flow.room) or fitting(page)
    size = fits[0] if fits else 10.0
    columns, height = layout(size)
    flow.heading(heading, keep=height + room)
    flow.table(table, columns, size=size)
    flow.y += 0.1
    if note:
        flow.need(room - 0.1)  # whole, if a table too long for a page left it no room
        flow.paragraph(note, 10, colour=MUTED, width=note_width)
    width = min(flow.text_width, READING_WIDTH)
    for who, points in reading:
        # what is said of one investor stays on one page where it can
        block = flow.paragraph_height(who, 13, bold=True, after=0.04) + sum(
            flow.paragraph_height(p, 13, width=width, after=0.06, bullet=True) for p in points
        )
        flow.space(0.05)
        flow.need(min(max(block, 0.9), page))
        flow.paragraph(who, 13, bold=True, after=0.04)
        for point in points:
            flow.paragraph(point, 13, width=width, after=0.06, bullet=True)


def _front(content: ReportContent, size: tuple[float, float]) -> list[Page]:
    """The pages before the charts: title, question, the finding; what the investment caused,
    whose dollars came back, the labs: each with its figures and what they say."""
    flow = Flow(size)
    flow.paragraph(content.title, 24, bold=True, after=0.02)
    flow.paragraph(content.subtitle, 12, colour=MUTED, after=0.2)
    flow.paragraph(content.question, 15, width=min(flow.text_width, 11.5))
    if content.description:
        flow.paragraph(content.description, 13, colour=MUTED)
    for line in content.headline:
        flow.paragraph(line, 14, bold=True, width=min(flow.text_width, READING_WIDTH))
    figure_section(
        flow, CAUSED_HEADING, content.caused, content.caused_note, content.caused_reading
    )
    figure_section(
        flow, TRACED_HEADING, content.traced, content.traced_note, content.traced_reading
    )
    figure_section(flow, LABS_HEADING, content.labs, "", content.labs_reading)
    return [p for p in flow.pages if p]


def _back(content: ReportContent, size: tuple[float, float]) -> list[Page]:
    """The pages after the charts: the assumptions, the accounting matrices and the
    conservation check."""
    flow = Flow(size)
    assumptions_table(flow, content.assumptions, "Assumptions")
    for heading, note, table in content.matrices:
        matrix_table(flow, heading, note, table)
    if content.matrices:  # the check on a page of its own, whole
        flow.new_page()
    width = flow.text_width
    flow.heading("Conservation check", keep=1.2)
    flow.paragraph(content.check, 12, width=min(width, READING_WIDTH))
    flow.space(0.05)
    flow.table(
        content.check_table,
        figure_columns(content.check_table, 11, width, min_value=2.2),
        size=11,
    )
    return [p for p in flow.pages if p]


def matrix_table(flow: Flow, heading: str, note: str, table: Table) -> None:
    """An accounting matrix on a page of its own: a column per account, in the largest type
    (10 down to 6 points) whose columns fit the page's width."""
    flow.new_page()
    flow.heading(heading, keep=1.0)
    flow.paragraph(note, 11, colour=MUTED, width=min(flow.text_width, READING_WIDTH))
    gap = MATRIX_GAP
    for size in (10.0, 9.0, 8.0, 7.0, 6.0):
        columns = _matrix_columns(table, size)
        if sum(c.width for c in columns) + gap * (len(columns) - 1) <= flow.text_width:
            break
    flow.table(table, columns, size=size, gap=gap)


def _matrix_columns(table: Table, size: float) -> list[Column]:
    """Labels as wide as the longest; each figure column as wide as its widest figure or the
    longest word of its header (headers wrap at spaces)."""
    label = max(text_width(r[0], size) for r in (table.header, *table.rows)) + 0.05
    values = [
        0.05
        + max(
            *(text_width(r[i], size) for r in table.rows),
            *(text_width(w, size, True) for w in table.header[i].split()),
        )
        for i in range(1, len(table.header))
    ]
    return [Column(label)] + [Column(w, right=True) for w in values]


def assumptions_table(flow: Flow, rows: Sequence[Assumption], heading: str) -> None:
    """Every input with its value and source comment, under ``heading``: the path and value
    columns as wide as they need (within limits), the comment taking the rest."""
    flow.heading(heading, keep=1.0)
    flow.paragraph(ASSUMPTIONS_NOTE, 11, colour=MUTED, width=min(flow.text_width, READING_WIDTH))
    tsize, width = 10.0, flow.text_width
    path_w = max(text_width(line, tsize) for a in rows for line in (a.name, a.path))
    path_w = min(path_w + 0.05, 0.36 * width)
    value_w = min(max(text_width(a.value, tsize) for a in rows) + 0.05, 0.16 * width)
    value_w = max(value_w, text_width("2026-03-01", tsize) + 0.05)  # dates stay on one line
    table = Table(("input", "value", "source comment"), tuple(assumption_cells(rows)))
    flow.table(
        table,
        [Column(path_w), Column(value_w), Column(width - path_w - value_w - 2 * GAP)],
        size=tsize,
        colour=lambda r, c: MUTED if c == 2 and rows[r].inherited else INK,
        on_new_page=lambda r, c: rows[r].comment if c == 2 else table.rows[r][c],
    )


def _draw(page: Page, size: tuple[float, float]) -> Figure:
    width, height = size
    fig = Figure(figsize=size)
    for op in page:
        if isinstance(op, _Text):
            fig.text(
                op.x / width,
                1 - op.y / height,
                op.text,
                fontsize=op.size,
                color=op.colour,
                fontweight="bold" if op.bold else "normal",
                ha="right" if op.right else "left",
                va="baseline",
                parse_math=False,  # "$50B ... $20B" is money, not mathtext
            )
        else:
            y = 1 - op.y / height
            line = Line2D([op.x0 / width, op.x1 / width], [y, y], linewidth=op.width)
            line.set(color=op.colour, transform=fig.transFigure)
            fig.add_artist(line)
    return fig


def _footer(fig: Figure, content: Footed, page: int, pages: int, *, source: bool) -> None:
    """The source line at the bottom left (a chart has its own), the version and the page number
    at the bottom right, or just under the source line where the page is too narrow for both."""
    width, height = (float(x) for x in fig.get_size_inches())
    size = min(10.0, max(6.0, 10 * (width - 0.6) / text_width(content.source, 10)))
    if source:
        fig.text(
            0.3 / width,
            0.18 / height,
            content.source,
            fontsize=size,
            color=MUTED,
            va="bottom",
            parse_math=False,
        )
    right = f"roundtrip {content.version} \u00b7 page {page} of {pages}"
    fits = text_width(content.source, size) + text_width(right, 10) + 0.9 <= width
    y = (0.18 if fits else 0.03) / height
    fig.text(
        1 - 0.3 / width,
        y,
        right,
        fontsize=10,
        color=MUTED,
        va="bottom",
        ha="right",
        parse_math=False,
    )


class Footed(Protocol):
    """What a page's footer reads of a report's content (one run's, or many runs')."""

    @property
    def title(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def version(self) -> str: ...


def write_pdf(
    content: Footed,
    front: list[Page],
    charts: Sequence[Figure],
    back: list[Page],
    size: tuple[float, float],
    dpi: int,
) -> bytes:
    """The PDF of text pages ``front``, a page per chart, text pages ``back``, each with its
    footer (a chart has its own source line)."""
    buf = io.BytesIO()
    metadata = {**SAVE_METADATA["pdf"], "Title": f"roundtrip report: {content.title}"}
    metadata["Creator"] = "roundtrip report"  # the mark sim.views.report.is_report looks for
    # the fonts are embedded when the file closes: the house style (TrueType) holds till then
    with house_style(), PdfPages(buf, metadata=metadata) as pdf:
        total = len(front) + len(charts) + len(back)
        n = 0
        for pages, own_source in ((front, True), (charts, False), (back, True)):
            for page in pages:
                n += 1
                fig = page if isinstance(page, Figure) else _draw(page, size)
                _footer(fig, content, n, total, source=own_source)
                drawable(fig)  # characters no font has: one warning, not one per glyph
                pdf.savefig(fig, dpi=dpi)
    return buf.getvalue()


def pdf_report(run: RunLike, content: ReportContent, size: tuple[float, float], dpi: int) -> bytes:
    """The whole PDF: front pages, a page per chart at the page size, back pages."""
    with house_style():
        front, back = _front(content, size), _back(content, size)
        charts = [fig for _, fig in chart_figures(run, size)]
    return write_pdf(content, front, charts, back, size, dpi)
