"""A page anyone can open: one self-contained HTML file with sliders over a grid of exact runs.

``build_page(scenario, "page.html")`` runs every point of a grid (``sim.runs.grid``: the file's
``sweep:`` and ``vary``, or without them the explorer's five inputs at three values each) and
writes one HTML file holding all of it: a slider per varied input over its values, the
investor's figures (what its investment caused, the investment alone, the traced round trip),
the run-vs-twin chart (Plotly, its JavaScript inlined), the ``roundtrip run`` command that
reproduces the point, and buttons that save the chart (PNG, SVG) and the figures (CSV). Every
value shown is one of the runs, never an interpolation; a point whose run failed shows its
error and no figure. Nothing is fetched when the page opens: every script, style and value is
in the file. ``roundtrip explore`` calls it. docs/page.md.
"""

from __future__ import annotations

import html
import json
import os
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.analysis import causes
from sim.analysis.tables import money, percent
from sim.errors import ScenarioError
from sim.inputs.names import input_name
from sim.inputs.specs import shown_value
from sim.inputs.units import parse_amount_cents
from sim.io import publish
from sim.ranges.vary import Template, load_template
from sim.runs.farm import version
from sim.runs.grid import Grid, run_grid, set_text
from sim.views.page_script import PAGE_CSS, PAGE_JS

# (metric, what the page calls it, its group): the investor's figures, in the order shown
FIGURES = (
    ("invested", "Invested", "package"),
    ("incremental_revenue_booked", "Revenue caused at {sellers}, as booked", "caused"),
    ("incremental_revenue", "Revenue caused at {sellers}, cash received", "caused"),
    ("incremental_profit_booked", "Profit caused, as booked", "caused"),
    ("incremental_profit", "Profit caused, passed back to {investor} in cash", "caused"),
    ("net_cost", "Net cost, present value", "caused"),
    (
        "incremental_revenue_booked_investment_only",
        "Revenue caused at {sellers}, as booked",
        "alone",
    ),
    ("incremental_revenue_investment_only", "Revenue caused at {sellers}, cash received", "alone"),
    ("incremental_profit_investment_only", "Profit caused", "alone"),
    ("net_cost_investment_only", "Net cost, present value", "alone"),
    ("spend_on_own_cloud", "{labs} paid {sellers}", "traced"),
    ("round_trip", "{investor}'s own dollars that came back", "traced"),
    ("round_trip_ratio", "Round trip, share of what it invested", "traced"),
)
GROUPS = {
    "package": "The package",
    "caused": "What the investment caused (against the twin without it and its contracts)",
    "alone": "The investment alone (the twin keeps the contracts that came with it)",
    "traced": "Traced: whose dollars came back",
}
DEFAULT_FACTORS = (0.5, 1.0, 1.5)  # without --vary: half, as written, one and a half times
MARK = '<meta name="generator" content="roundtrip explore'  # what says a page is ours
INK, MUTED, CAUSED = "#222222", "#666666", "#e8a33d"  # the charts' ink, muted grey, a fill


def check_page_path(path: str | os.PathLike[str], *, force: bool = False) -> None:
    """Refuse (``ScenarioError``), before anything runs, a path a page cannot be written to or
    must not replace: not ``.html``, a folder, a symbolic link, anything but a plain file, a
    folder above it missing, and, unless ``force``, a file that is not a page roundtrip wrote."""
    p = Path(path)
    if p.suffix.lower() != ".html":
        got = repr(p.suffix) if p.suffix else "no suffix"
        raise ScenarioError(f"a page is an .html file; got {got}", file=str(p))
    publish.check_file_target(
        p, noun="page", example="page.html", is_ours=is_page, force=force, option="-o"
    )


def is_page(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a page roundtrip wrote: its head's generator tag says so."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    return head.lstrip().startswith(b"<!DOCTYPE html>") and MARK.encode() in head


@dataclass(frozen=True)
class Page:
    """What ``build_page`` wrote: the file, its size, the runs and how many failed."""

    path: Path
    size: int  # bytes
    runs: int
    errors: int
    varied: list[str]


def build_page(
    scenario: str | os.PathLike[str],
    out: str | os.PathLike[str],
    vary: Sequence[str] = (),
    *,
    overrides: Sequence[str] = (),
    investor: str | None = None,
    force: bool = False,
) -> Page:
    """Run the grid of ``scenario`` and write its page to ``out`` (see the module's docstring).
    ``vary``: ``PATH=SPEC`` as ``roundtrip sweep`` takes them; none (and no ``sweep:`` in the
    file) gives the explorer's five inputs at half, as written and one and a half times their
    value. ``investor``: whose investment (default: the explorer's, the first that owns a cloud
    and invests). The path is checked before any run and written whole, replacing only a page
    roundtrip wrote (any file with ``force``; never a folder or a link)."""
    from sim.views.explorer import Explorer

    check_page_path(out, force=force)
    template = load_template(scenario, list(overrides))
    explorer = Explorer(scenario, investor=investor)
    if not vary and not template.ranges.sweeps:
        vary = default_vary(template, explorer)
    grid = run_grid(template, vary, explorer.investor, [m for m, _, _ in FIGURES])
    text = page_html(grid, command_of(scenario, overrides))
    path = write_page(Path(out), text.encode("utf-8"), force=force)
    errors = sum(r.error is not None for r in grid.runs)
    return Page(path, path.stat().st_size, len(grid.runs), errors, [p for p, _, _ in grid.axes])


def default_vary(template: Template, explorer: Any) -> list[str]:
    """The explorer's inputs (``Explorer.paths``) at ``DEFAULT_FACTORS`` times their value in
    ``template`` (as written, with its overrides), kept inside the explorer's slider spans."""
    from sim.ranges.vary import first_point

    s = first_point(template)[1]
    deal = next(d for d in s.investments if d.investor == explorer.investor)
    own = {
        "share": float(s.labs[explorer.lab].providers[explorer.cloud]),
        "amount": deal.total / 1e11,  # cents -> $B
        "margin": float(s.sellers[explorer.cloud].margin),
        "growth": float(s.labs[explorer.lab].revenue.growth),
        "discount_rate": float(s.discount_rate),
    }
    specs = []
    for name, (lo, hi, step) in explorer.spans().items():
        v = own[name]
        wanted = [v * f for f in DEFAULT_FACTORS] if v else [v, v + 10 * step, v + 20 * step]
        kept = sorted({v, *(round(min(max(x, lo), hi), 4) for x in wanted)})
        if name == "amount":
            texts = [f"{x:g}B" for x in kept]
        else:
            texts = [f"{round(x * 100, 10):g}%" for x in kept]
        specs.append(f"{explorer.paths[name]}={','.join(texts)}")
    return specs


def command_of(scenario: str | os.PathLike[str], overrides: Sequence[str]) -> str:
    """The start of every point's command: ``roundtrip run FILE`` with the page's overrides."""
    words = ["roundtrip", "run", os.fspath(scenario)]
    for o in overrides:
        words += ["--set", o]
    return shlex.join(words)


def page_data(grid: Grid, command: str) -> dict[str, Any]:
    """What the page's script reads (docs/page.md, "What the page holds"): the axes, the
    figures' names, the dates, and per run its figures (values and as shown), its revenue in
    the run and the twin (whole $M, as monthly steps: each value the step from the one
    before), its error and its ``--set`` values (indices into ``sets``)."""
    s = grid.base
    inv = grid.investor
    labs = list(dict.fromkeys(d.lab for d in s.investments if d.investor == inv))
    words = {
        "investor": s.label(inv),
        "sellers": " and ".join(s.label(c) for c in s.investors[inv].owns),
        "labs": " and ".join(s.label(lab) for lab in labs),
    }
    axes = []
    for path, values, kind in grid.axes:
        shown = [_shown_input(v, kind) for v in values]
        axes.append(
            {
                "path": path,
                "name": input_name(s, path),
                "values": [set_text(v, kind) for v in values],  # as --set takes them
                "shown": shown,
            }
        )
    sets: dict[str, int] = {}
    runs: dict[str, list[Any]] = {"values": [], "shown": [], "run": [], "twin": [], "error": []}
    runs["sets"] = []
    for r in grid.runs:
        runs["sets"].append([sets.setdefault(x, len(sets)) for x in r.sets])
        runs["error"].append(r.error)
        if r.figures is None or r.revenue is None:
            for k in ("values", "shown", "run", "twin"):
                runs[k].append(None)
            continue
        runs["values"].append([r.figures[m] for m, _, _ in FIGURES])
        runs["shown"].append([_shown_figure(m, r.figures[m]) for m, _, _ in FIGURES])
        for j, side in enumerate(("run", "twin")):
            millions = (r.revenue[:, j] / 10**8).round().astype("int64")  # cents -> whole $M
            runs[side].append([int(millions[0]), *(int(x) for x in millions[1:] - millions[:-1])])
    return {
        "title": s.name,
        "words": words,
        "figures": [{"key": m, "name": name.format(**words), "group": g} for m, name, g in FIGURES],
        "groups": {
            **GROUPS,
            "caused": f"What {causes.cause(s, inv)} caused (against the twin "
            f"without it; deciding assumption: {causes.assumption(s, inv)})",
            "alone": f"What {causes.cause(s, inv, investment_only=True)} caused "
            "(the twin keeps the contracts that came with it)",
        },
        "axes": axes,
        "start": grid.start,
        "dates": [d.isoformat() for d in grid.dates],
        "command": command,
        "sets": [shlex.quote(f"{x}") for x in sets],
        "runs": runs,
    }


def _shown_input(value: Any, kind: str) -> str:
    """A grid value as a slider's readout shows it: ``$25.00B``, ``17.5%``."""
    if kind == "amount":
        return money(parse_amount_cents(value) / 100)
    return shown_value(value)


def _shown_figure(metric: str, value: float | None) -> str:
    return percent(value) if metric.endswith("_ratio") else money(value)


def page_html(grid: Grid, command: str) -> str:
    """The page's HTML: the head (its generator mark), the sliders, the figures, the chart and
    its buttons, then the data, plotly.js and the page's script, all inline."""
    import plotly.graph_objects as go
    from plotly.offline import get_plotlyjs

    data = page_data(grid, command)
    w = data["words"]
    figure = go.Figure()
    figure.add_scatter(
        x=data["dates"],
        y=[],
        name="Twin, without the investment",
        line={"color": MUTED, "width": 2, "dash": "dash"},
        hovertemplate="%{x|%b %Y}: $%{y:,.2f}B<extra>twin</extra>",
    )
    figure.add_scatter(
        x=data["dates"],
        y=[],
        name="With the investment (the gap: caused)",
        line={"color": INK, "width": 3},
        fill="tonexty",
        fillcolor="rgba(232, 163, 61, 0.35)",
        hovertemplate="%{x|%b %Y}: $%{y:,.2f}B<extra>run</extra>",
    )
    figure.update_layout(
        template="simple_white",
        font={"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 14},
        title={  # below the mode bar, which sits at the top right
            "text": "",
            "x": 0.01,
            "xanchor": "left",
            "y": 0.93,
            "yref": "container",
            "font": {"size": 16},
        },
        yaxis={
            "title": {"text": "$B, cumulative"},
            "rangemode": "tozero",
            "gridcolor": "#e3e3e3",
            "showgrid": True,
        },  # fmt: skip
        xaxis={  # the dates fixed: a failed point keeps its axis, with no line
            "title": {"text": f"{w['sellers']} revenue from {w['labs']}, by month"},
            "type": "date",
            "range": [data["dates"][0], data["dates"][-1]],
        },
        legend={"orientation": "h", "x": 0, "y": -0.22},
        margin={"l": 70, "r": 20, "t": 90, "b": 100},
        height=520,
    )
    blob = json.dumps(data, separators=(",", ":"), allow_nan=False)
    spec = figure.to_json()
    plotly_js = get_plotlyjs().replace("</script", "<\\/script")
    name = html.escape(data["title"])
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8">\n{MARK} {html.escape(version())}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{name}: explore</title>\n<style>{PAGE_CSS}</style></head>\n<body>\n"
        f'<header><h1>{name}</h1><p class="lede">Move the sliders: every figure and line is '
        f"one of {len(grid.runs):,} runs of the scenario made when this page was built, never "
        f"an interpolation. {html.escape(w['investor'])}'s investment in "
        f"{html.escape(w['labs'])}, against its twin: the same run without it.</p></header>\n"
        '<main><section id="controls"></section>\n<section id="view">'
        '<div id="chart"></div><p id="error" hidden></p>'
        '<div id="figures"></div>'
        '<div id="export"><button id="png">Chart as PNG</button><button id="svg">Chart as SVG'
        '</button><button id="csv">Figures as CSV</button><button id="reset">Reset</button>'
        "</div>\n"
        '<h2>Reproduce this point</h2><pre id="command"></pre></section></main>\n'
        f"<footer>roundtrip {html.escape(version())}: {len(grid.runs):,} runs of "
        f"{html.escape(data['title'])}. Nothing on this page is fetched from a network.</footer>\n"
        f'<script type="application/json" id="page-data">{_safe(blob)}</script>\n'
        f'<script type="application/json" id="page-figure">{_safe(spec)}</script>\n'
        f"<script>{plotly_js}</script>\n<script>{PAGE_JS}</script>\n</body></html>\n"
    )


def _safe(text: str) -> str:
    """JSON inside a script element: no ``</`` can end it early."""
    return text.replace("</", "<\\/")


def write_page(path: Path, data: bytes, *, force: bool = False) -> Path:
    """Put the page ``data`` at ``path`` whole (``sim.io.publish.write_file``), checked again
    under its claim (``check_page_path``)."""
    return publish.write_file(
        path,
        data,
        check=lambda: check_page_path(path, force=force),
        hint="choose another file with -o",
    )
