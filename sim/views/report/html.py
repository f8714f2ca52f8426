"""The report as one self-contained HTML file: no links, fonts or scripts from elsewhere.

Charts are inline SVG (their text stays text); a small embedded stylesheet reads on screen and
prints well (a chart per printed page, table headers repeated). Every text is escaped.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterable, Sequence

from matplotlib.figure import Figure

from sim.analysis.result import RunLike
from sim.views.charts.style import SAVE_METADATA, house_style
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

CSS = """
body { font: 16px/1.5 "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: #222;
  max-width: 64rem; margin: 2rem auto; padding: 0 1.25rem; }
h1 { font-size: 1.9rem; line-height: 1.2; margin: 0 0 .3rem; }
h2 { font-size: 1.3rem; margin: 2.2rem 0 .6rem; padding-bottom: .2rem;
  border-bottom: 1px solid #ddd; break-after: avoid; }
h3 { font-size: 1rem; margin: 1rem 0 .2rem; break-after: avoid; }
ul { margin: 0; padding-left: 1.4rem; }
.muted, .source { color: #666; }
.source { font-size: .8rem; }
.question { font-size: 1.15rem; }
.headline { font-size: 1.1rem; font-weight: bold; }
tr.section th { text-align: left; font-style: italic; padding-top: .6rem; }
table { border-collapse: collapse; margin: .4rem 0 .8rem; font-variant-numeric: tabular-nums; }
th, td { text-align: left; vertical-align: top; padding: .22rem .9rem .22rem 0;
  border-bottom: 1px solid #e3e3e3; }
thead th { border-bottom: 1.5px solid #555; }
.num { text-align: right; white-space: nowrap; }
table.assumptions { width: 100%; font-size: .85rem; }
table.assumptions td:first-child { width: 30%; }
td.inherited { color: #666; }
code.path { color: #666; font-size: 0.85em; overflow-wrap: anywhere;
  font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; }
.wide { overflow-x: auto; }
section.matrix table { font-size: .8rem; }
section.matrix th, section.matrix td { padding-right: .6rem; }
figure { margin: 1.5rem 0; }
figure svg { display: block; width: 100%; height: auto; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10.5pt; }
  figure { break-inside: avoid; break-before: page; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; }
}
"""


def inline_svg(fig: Figure, prefix: str, dpi: int) -> str:
    """A chart as inline SVG: no XML prolog, metadata or namespace declarations (nothing that
    names a URL; HTML needs none), its element ids prefixed so that charts cannot clash."""
    buf = io.BytesIO()
    with house_style():
        fig.savefig(buf, format="svg", dpi=dpi, metadata=SAVE_METADATA["svg"])
    svg = buf.getvalue().decode("utf-8")
    svg = re.sub(r"<\?xml[^>]*\?>\s*|<!DOCTYPE[^>]*>\s*", "", svg)
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = re.sub(r'\s+xmlns(?::\w+)?="[^"]*"', "", svg)
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", svg)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{prefix} chart" ', 1).strip()


def table_html(table: Table) -> str:
    """A table of figures: labels on the left, figures right-aligned; a section row is a
    heading across the table."""
    e = html.escape

    def row(cells: Sequence[str], tag: str) -> str:
        return (
            "<tr>"
            + "".join(
                f"<{tag}>{e(c)}</{tag}>" if i == 0 else f'<{tag} class="num">{e(c)}</{tag}>'
                for i, c in enumerate(cells)
            )
            + "</tr>"
        )

    def section(label: str) -> str:
        span = len(table.header)
        return f'<tr class="section"><th colspan="{span}" scope="rowgroup">{e(label)}</th></tr>'

    body = "\n".join(
        section(r[0]) if i in table.sections else row(r, "td") for i, r in enumerate(table.rows)
    )
    return f"<table>\n<thead>{row(table.header, 'th')}</thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def points_html(reading: Sequence[Points]) -> list[str]:
    """Sentences reading the figures: a heading per whom they are about, a list under it."""
    e = html.escape
    return [
        f"<h3>{e(who)}</h3>\n<ul>\n" + "".join(f"<li>{e(p)}</li>\n" for p in points) + "</ul>"
        for who, points in reading
    ]


def page_top(title: str, subtitle: str, source: str, version: str, question: str) -> list[str]:
    """The document's head (self-contained: the stylesheet inline), then its header: title,
    subtitle, source line, and the question it answers."""
    e = html.escape
    return [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="roundtrip {e(version)}">',
        f"<title>{e(title)}: roundtrip report</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{e(title)}</h1>",
        f'<p class="muted">{e(subtitle)}</p>',
        f'<p class="source">{e(source)}</p>',
        "</header>",
        f'<p class="question">{e(question)}</p>',
    ]


def charts_section(figures: Iterable[tuple[str, Figure]], dpi: int) -> list[str]:
    e = html.escape
    return [
        '<section id="charts">',
        "<h2>Charts</h2>",
        *(
            f'<figure id="chart-{e(name)}">\n{inline_svg(fig, e(name), dpi)}\n</figure>'
            for name, fig in figures
        ),
        "</section>",
    ]


def assumptions_section(rows: Sequence[Assumption], heading: str) -> list[str]:
    """Every input, its value and its source comment (grey where inherited)."""
    e = html.escape
    lines = []
    for a, (named, value, note) in zip(rows, assumption_cells(rows), strict=True):
        grey = ' class="inherited"' if a.inherited else ""
        cell = "<br>".join(  # its name, then the path --set takes, in grey
            e(line) if k == 0 or not a.name else f'<code class="path">{e(line)}</code>'
            for k, line in enumerate(named.split("\n"))
        )
        lines.append(f"<tr><td>{cell}</td><td>{e(value)}</td><td{grey}>{e(note)}</td></tr>\n")
    return [
        '<section id="assumptions">',
        f"<h2>{e(heading)}</h2>",
        f'<p class="muted">{e(ASSUMPTIONS_NOTE)}</p>',
        '<table class="assumptions">',
        "<thead><tr><th>input</th><th>value</th><th>source comment</th></tr></thead>",
        f"<tbody>\n{''.join(lines)}</tbody>",
        "</table>",
        "</section>",
    ]


def page_end(source: str) -> list[str]:
    return [f'<footer><p class="source">{html.escape(source)}</p></footer>', "</body>", "</html>"]


def html_report(run: RunLike, content: ReportContent, size: tuple[float, float], dpi: int) -> bytes:
    """The whole page, UTF-8."""
    e = html.escape
    top = page_top(
        content.title,
        content.subtitle,
        content.source_and_version,
        content.version,
        content.question,
    )
    if content.description:
        top.append(f'<p class="muted">{e(content.description)}</p>')
    figures = [
        '<section id="headline">',
        *(f'<p class="headline">{e(h)}</p>' for h in content.headline),
        "</section>",
        '<section id="caused">',
        f"<h2>{e(CAUSED_HEADING)}</h2>",
        table_html(content.caused),
        f'<p class="muted">{e(content.caused_note)}</p>',
        *points_html(content.caused_reading),
        "</section>",
        '<section id="traced">',
        f"<h2>{e(TRACED_HEADING)}</h2>",
        table_html(content.traced),
        f'<p class="muted">{e(content.traced_note)}</p>',
        *points_html(content.traced_reading),
        "</section>",
        '<section id="labs">',
        f"<h2>{e(LABS_HEADING)}</h2>",
        table_html(content.labs),
        *points_html(content.labs_reading),
        "</section>",
    ]
    end = [
        *assumptions_section(content.assumptions, "Assumptions"),
        *(
            f'<section class="matrix">\n<h2>{e(heading)}</h2>\n<p class="muted">{e(note)}</p>\n'
            f'<div class="wide">{table_html(table)}</div>\n</section>'
            for heading, note, table in content.matrices
        ),
        '<section id="check">',
        "<h2>Conservation check</h2>",
        f"<p>{e(content.check)}</p>",
        table_html(content.check_table),
        "</section>",
        *page_end(content.source_and_version),
    ]
    charts = charts_section(chart_figures(run, size), dpi)
    return "\n".join([*top, *figures, *charts, *end, ""]).encode("utf-8")
