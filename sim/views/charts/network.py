"""A picture of the whole web: the companies as circles, the run's money between them as arrows
to scale, and, for one investor, what its money caused and where its traced dollars went.

The numbers come first, as plain DataFrames a notebook or a test can check without drawing:
``network_nodes`` (each company and the dollars its circle stands for), ``network_edges`` (the
money that moved between two companies over the run, by kind, and the part of it that is the
chosen investor's traced dollars) and ``caused_edges`` (the revenue the investor's money caused at
the sellers it owns, by lab: the run less its twin, the rule of sim/analysis/caused.py, read off
the run's ``twin_series``). ``network_chart`` only draws them.

The layout is deliberate, not a force layout: four columns, investors, labs, clouds, vendors, left
to right, the way the money first goes; an investor and the sellers it owns share a row, on a
shaded lane, so Amazon is beside AWS and the profit AWS passes back is a short arrow along the
lane; the labs sit in the middle rows. Sizes are in inches, so the chart reads the same at any
size: a circle's area and an arrow's width are proportional to dollars, with the scale in the
legend.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyBboxPatch, Polygon
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from sim.analysis.result import RunLike
from sim.views.charts.labels import (
    assumption_note,
    caused_by,
    money_text,
    name_of,
    possessive,
    span,
    tracing_words,
)
from sim.views.charts.layout import shade
from sim.views.charts.series import CENTS, twin_series
from sim.views.charts.style import (
    INK,
    MUTED,
    SLIDE_SIZE,
    Palette,
    format_money,
    house_style,
    new_figure,
    tint,
)

# ---- the numbers -----------------------------------------------------------------------------

ROLES = ("investor", "lab", "cloud", "vendor")  # the columns, left to right
# a ledger kind as the chart names it; kinds not here are named by their own words
KIND_WORDS = {
    "investment": "investment",
    "credits": "investment",  # credits granted with an investment: the investor's, in kind
    "compute": "compute",
    "supply": "supply",
    "profit": "profit",
    "revenue_share": "revenue share",
}
BACK = ("profit", "revenue share")  # money back to an investor: drawn a darker grey
# money that only moves inside the model's bookkeeping (an agent's cash drawn from outside to pay)
NOT_DRAWN = ("funding",)


def company_of(run: RunLike, account: str, kind: str = "", deal: str = "") -> str | None:
    """The company a ledger account belongs to: an agent itself, a lab's credits held at a seller
    (``openai@azure``) its lab, credits granted (``credits_issued`` paying ``credits``) the
    investor whose deal granted them; None for accounts outside the web (customers, suppliers,
    the clouds' costs, private markets)."""
    s = run.scenario
    if account in s.agents:
        return account
    lab, at, _ = account.partition("@")
    if at and lab in s.labs:
        return lab
    if kind == "credits":
        for d in s.investments:
            if d.key == deal:
                return d.investor
    return None


def _companies(run: RunLike) -> pd.DataFrame:
    """The ledger's rows with ``source`` and ``target`` companies (None: outside the web)."""
    led = run.ledger
    deal = led.deal.fillna("").astype(str)
    source = [
        company_of(run, p, k, d)
        for p, k, d in zip(led.payer.astype(str), led.kind.astype(str), deal, strict=True)
    ]
    target = [company_of(run, p) for p in led.payee.astype(str)]
    return led.assign(
        source=pd.Series(source, index=led.index, dtype=object),
        target=pd.Series(target, index=led.index, dtype=object),
    )


def role_of(run: RunLike, company: str) -> str:
    s = run.scenario
    if company in s.investors:
        return "investor"
    if company in s.labs:
        return "lab"
    return s.sellers[company].kind  # cloud or vendor


def network_nodes(run: RunLike) -> pd.DataFrame:
    """One row per company (index: its key): ``role`` (investor, lab, cloud, vendor), ``label``,
    ``owner`` (the investor that owns a seller, else ""), ``put_in`` (what an investor paid into
    labs: its investments, in cash and credits), ``took_in`` (every dollar the company received
    over the run, from anyone: revenue, investments, outside financing, purchases; not the cash the
    model draws from outside to pay, ``funding``), and ``dollars``, what its circle's area stands
    for: ``put_in`` for an investor, ``took_in`` for the others."""
    s = run.scenario
    rows = _companies(run)
    rows = rows[~rows.kind.isin(NOT_DRAWN)]
    received = rows[rows.target.notna() & (rows.source != rows.target)]
    took = received.groupby("target").amount_cents.sum() / CENTS
    invested = rows[rows.kind.isin(["investment", "credits"])]
    put = invested[invested.source.notna()].groupby("source").amount_cents.sum() / CENTS
    out = pd.DataFrame(index=pd.Index(list(s.agents), name="company"))
    out["role"] = [role_of(run, c) for c in out.index]
    out["label"] = [name_of(run, c) for c in out.index]
    out["owner"] = [s.owner_of(c) or "" if c in s.sellers else "" for c in out.index]
    out["put_in"] = [float(put.get(c, 0.0)) for c in out.index]
    out["took_in"] = [float(took.get(c, 0.0)) for c in out.index]
    out["dollars"] = np.where(out.role == "investor", out.put_in, out.took_in)
    return out


def network_edges(run: RunLike, investor: str | None = None) -> pd.DataFrame:
    """The money that moved from one company to another over the run, one row per pair:
    ``source``, ``target``, ``kind`` (``KIND_WORDS``, several joined by ", "), ``dollars``, and
    ``traced``: the part of it that is ``investor``'s own dollars (the ledger's
    ``from:INVESTOR:investment`` column; 0 without an investor), largest first."""
    rows = _companies(run)
    rows = rows[rows.source.notna() & rows.target.notna() & (rows.source != rows.target)]
    rows = rows[~rows.kind.isin(NOT_DRAWN)]
    column = f"from:{investor}:investment"
    traced = rows[column] if investor and column in rows else pd.Series(0, index=rows.index)
    words = rows.kind.astype(str).map(lambda k: KIND_WORDS.get(k, k.replace("_", " ")))
    frame = pd.DataFrame(
        {
            "source": rows.source,
            "target": rows.target,
            "kind": words,
            "cents": rows.amount_cents,
            "traced_cents": traced,
        }
    )
    grouped = frame.groupby(["source", "target"], sort=False)
    out = grouped[["cents", "traced_cents"]].sum()
    out["kind"] = grouped.kind.agg(lambda k: ", ".join(dict.fromkeys(k)))
    out = out[out.cents > 0].reset_index()
    out["dollars"] = out.pop("cents") / CENTS
    out["traced"] = out.pop("traced_cents") / CENTS
    columns = ["source", "target", "kind", "dollars", "traced"]
    return out.sort_values("dollars", ascending=False, kind="stable")[columns].reset_index(
        drop=True
    )


def caused_edges(run: RunLike, investor: str) -> pd.DataFrame | None:
    """What ``investor``'s money caused at the sellers it owns, per lab it invested in: the
    sales into them on that lab's deals, every path, in the run less in its twin without the
    investment (``incremental_revenue``, split by lab; the rows add up to the metric). Columns
    ``lab``, ``seller`` (the first seller it owns, where the arrow points), ``dollars``. None
    for a run folder that does not hold the twin's series."""
    series = twin_series(run)
    if series is None:
        return None
    owns = run.scenario.investors[investor].owns
    mine = series[series.investor == investor]
    by_lab = (mine.revenue_cents_run - mine.revenue_cents_twin).groupby(mine.lab, sort=False).sum()
    rows = [
        {"lab": str(lab), "seller": owns[0], "dollars": cents / CENTS}
        for lab, cents in by_lab.items()
        if owns and cents != 0
    ]
    return pd.DataFrame(rows, columns=["lab", "seller", "dollars"])


def default_investor(run: RunLike) -> str | None:
    """The investor a network chart follows by default: the first (in file order) that owns a
    seller and invests; else the first that invests; None if none does."""
    s = run.scenario
    investing = [i for i in s.investors if any(d.investor == i for d in s.investments)]
    owning = [i for i in investing if s.investors[i].owns]
    return (owning or investing or [None])[0]


# ---- the layout, in inches -------------------------------------------------------------------


@dataclass
class Spot:
    """A company's circle: its centre and radius in inches, and its column."""

    x: float
    y: float
    r: float
    column: int


def rows_of(run: RunLike, nodes: pd.DataFrame) -> list[dict[str, list[str]]]:
    """The rows, top to bottom, each mapping a role to the companies in it: a row per investor
    with its sellers (a lane), and in the middle the labs beside the sellers no investor owns and
    the investors that own none."""
    s = run.scenario
    lanes: list[dict[str, list[str]]] = []
    loose: dict[str, list[str]] = {r: [] for r in ROLES}
    for inv in s.investors:
        owned = s.investors[inv].owns
        if not owned:
            loose["investor"].append(inv)
            continue
        lane: dict[str, list[str]] = {"investor": [inv]}
        for seller in owned:
            lane.setdefault(role_of(run, seller), []).append(seller)
        depth = max(len(v) for v in lane.values())
        lanes += [{r: v[k : k + 1] for r, v in lane.items() if v[k : k + 1]} for k in range(depth)]
    loose["lab"] = list(s.labs)
    for seller in s.sellers:
        if not s.owner_of(seller):
            loose[role_of(run, seller)].append(seller)
    middle = max(len(v) for v in loose.values())
    hub = [{r: v[k : k + 1] for r, v in loose.items() if v[k : k + 1]} for k in range(middle)]
    half = (len(lanes) + 1) // 2
    return lanes[:half] + hub + lanes[half:]


@dataclass
class Frame:
    """Where the web is drawn, in inches of the axes: its width and height, and how many square
    inches a dollar of a circle takes and how many inches of width a dollar of an arrow."""

    width: float
    height: float
    area_per_dollar: float
    width_per_dollar: float
    columns: list[float]  # each column's x
    roles: list[str]  # each column's role


LABEL_ROOM = (1.55, 1.75)  # inches left of the first column and right of the last, for labels
HEADER = 0.3  # inches above the first row for the columns' names
MAX_ARROW = 0.2  # inches: the widest arrow (the largest flow)
MIN_ARROW = 0.006  # inches: a flow thinner than this is drawn this thin (a hairline), not lost


def place(
    run: RunLike, nodes: pd.DataFrame, edges: pd.DataFrame, width: float, height: float
) -> tuple[dict[str, Spot], Frame]:
    """Every company's circle, and the scales: columns evenly spaced between the rooms for
    labels, rows evenly spaced; the largest circle as big as its row and column allow."""
    rows = rows_of(run, nodes)
    roles = [r for r in ROLES if any(r in row for row in rows)]
    left, right = LABEL_ROOM
    step_x = (width - left - right) / max(len(roles) - 1, 1)
    step_y = (height - HEADER) / len(rows)
    largest = float(nodes.dollars.max()) if len(nodes) else 0.0
    r_max = min(0.42 * step_y, 0.2 * step_x, 0.5)
    area = math.pi * r_max**2 / largest if largest > 0 else 0.0
    spots: dict[str, Spot] = {}
    for k, row in enumerate(rows):
        y = height - HEADER - step_y * (k + 0.5)
        for role, companies in row.items():
            c = roles.index(role)
            x = left + c * step_x if len(roles) > 1 else width / 2
            for company in companies:
                r = math.sqrt(area * nodes.dollars[company] / math.pi) if area else 0.0
                spots[company] = Spot(x, y, max(r, 0.04), c)
    biggest = float(edges.dollars.max()) if len(edges) else 0.0
    per_dollar = MAX_ARROW / biggest if biggest > 0 else 0.0
    return spots, Frame(
        width, height, area, per_dollar, [left + c * step_x for c in range(len(roles))], roles
    )


# ---- arrows ----------------------------------------------------------------------------------

SAMPLES = 48  # points along an arrow's curve


def _curve(a: Spot, b: Spot, bend: float) -> npt.NDArray[np.float64]:
    """Points of a quadratic curve from ``a``'s centre to ``b``'s, bowed to the right of the way
    it goes by ``bend`` times its length (so the arrows of a pair going both ways part)."""
    p0, p2 = np.array([a.x, a.y]), np.array([b.x, b.y])
    d = p2 - p0
    normal = np.array([d[1], -d[0]])
    p1 = (p0 + p2) / 2 + bend * normal
    t = np.linspace(0, 1, SAMPLES)[:, None]
    return np.asarray((1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2, dtype=np.float64)


def arrow_outline(
    a: Spot, b: Spot, width: float, *, bend: float = 0.12, gap: float = 0.03
) -> npt.NDArray[np.float64]:
    """The outline of an arrow ``width`` inches wide from circle ``a`` to circle ``b``: a band
    along the curve, from the edge of one circle to a head that touches the other."""
    points = _curve(a, b, bend)
    outside = (np.hypot(*(points - [a.x, a.y]).T) > a.r + gap) & (
        np.hypot(*(points - [b.x, b.y]).T) > b.r + gap
    )
    points = points[outside] if outside.sum() >= 3 else points[[0, -1]]
    steps = np.hypot(*np.diff(points, axis=0).T)
    along = np.concatenate([[0.0], np.cumsum(steps)])
    head = min(max(0.08, 0.9 * width), 0.45 * along[-1])
    shaft = points[along <= along[-1] - head]
    if len(shaft) < 2:
        shaft = points[:2]
    tangent = np.gradient(shaft, axis=0)
    tangent /= np.maximum(np.hypot(*tangent.T), 1e-12)[:, None]
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
    half = width / 2
    left, right = shaft + half * normal, shaft - half * normal
    wing = half + max(0.03, 0.22 * width)
    tip, base, n = points[-1], shaft[-1], normal[-1]
    head_points = [base + wing * n, tip, base - wing * n]
    return np.vstack([left, head_points, right[::-1]])


def draw_arrow(
    ax: Axes,
    a: Spot,
    b: Spot,
    width: float,
    colour: str,
    *,
    bend: float,
    z: float,
    gid: str,
    filled: bool = True,
) -> None:
    """An arrow from ``a`` to ``b``; not ``filled``: its dashed outline (a negative amount)."""
    ax.add_patch(
        Polygon(
            arrow_outline(a, b, width, bend=bend),
            closed=True,
            facecolor=colour if filled else "none",
            edgecolor="none" if filled else colour,
            linestyle="solid" if filled else (0, (3, 2)),
            linewidth=0 if filled else 1.0,
            zorder=z,
            gid=gid,
        )
    )


def arrow_width(frame: Frame, dollars: float) -> float:
    """An arrow's width in inches: ``dollars`` times the scale, at least a hairline."""
    return max(abs(dollars) * frame.width_per_dollar, MIN_ARROW)


FORWARD_GREY, BACK_GREY = "#C4C4C4", "#8C8C8C"
BEND, CAUSED_BEND = 0.12, -0.2


def _draw_edges(
    ax: Axes,
    edges: pd.DataFrame,
    caused: pd.DataFrame | None,
    spots: dict[str, Spot],
    frame: Frame,
    colours: tuple[str, str],
) -> None:
    """The run's flows in grey, the investor's traced dollars over them on the same curve, what
    its money caused on an arrow of its own (bowed the other way)."""
    traced_colour, caused_colour = colours
    for e in records(edges):
        back = any(k in BACK for k in str(e["kind"]).split(", "))
        a, b = spots[e["source"]], spots[e["target"]]
        draw_arrow(
            ax,
            a,
            b,
            arrow_width(frame, e["dollars"]),
            BACK_GREY if back else FORWARD_GREY,
            bend=BEND,
            z=2 + 1 / (1 + e["dollars"] / 1e9),  # thinner arrows over wider ones
            gid=f"flow--{e['source']}--{e['target']}",
        )
    for e in records(edges[edges.traced > 0]):
        a, b = spots[e["source"]], spots[e["target"]]
        gid = f"traced--{e['source']}--{e['target']}"
        draw_arrow(
            ax, a, b, arrow_width(frame, e["traced"]), traced_colour, bend=BEND, z=4, gid=gid
        )
    for c in [] if caused is None else records(caused):
        a, b = spots[c["lab"]], spots[c["seller"]]
        gid = f"caused--{c['lab']}--{c['seller']}"
        width = arrow_width(frame, c["dollars"])
        # less revenue than in the twin (a rival's deal drained the lab): a dashed outline
        filled = c["dollars"] > 0
        draw_arrow(ax, a, b, width, caused_colour, bend=CAUSED_BEND, z=5, gid=gid, filled=filled)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows as dicts, column name to value."""
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def curve_point(a: Spot, b: Spot, bend: float, t: float) -> tuple[float, float]:
    points = _curve(a, b, bend)
    x, y = points[round(t * (SAMPLES - 1))]
    return float(x), float(y)


# ---- text that never overlaps ----------------------------------------------------------------


class Placer:
    """Puts each text at the first of its candidate places where it overlaps no text placed
    before and no circle, measuring with the figure's renderer (the same Agg extents the tests
    check)."""

    def __init__(self, ax: Axes, spots: dict[str, Spot], renderer: RendererBase) -> None:
        self.ax, self.renderer = ax, renderer
        self.taken: list[Bbox] = []
        to_display = ax.transData.transform
        self.circles = [
            Bbox(to_display([[s.x - s.r, s.y - s.r], [s.x + s.r, s.y + s.r]]))
            for s in spots.values()
        ]
        self.inside = ax.get_window_extent(renderer)

    def put(self, text: Text, places: Sequence[tuple[float, float, str, str]]) -> bool:
        """Try ``places`` (x, y in inches, horizontal and vertical alignment) in order; keep the
        text at the first free one and return True, else remove it and return False."""
        for x, y, ha, va in places:
            text.set_position((x, y))
            text.set_horizontalalignment(ha)  # type: ignore[arg-type]
            text.set_verticalalignment(va)  # type: ignore[arg-type]
            box = text.get_window_extent(self.renderer).expanded(1.04, 1.1)
            clear = not any(box.overlaps(t) for t in self.taken)
            clear = clear and not any(box.overlaps(c) for c in self.circles)
            if clear and _contains(self.inside, box):
                self.taken.append(box)
                return True
        text.remove()
        return False


def _contains(outer: Bbox, inner: Bbox) -> bool:
    return bool(
        outer.x0 <= inner.x0
        and inner.x1 <= outer.x1
        and outer.y0 <= inner.y0
        and inner.y1 <= outer.y1
    )


WHITE_BOX = {"boxstyle": "round,pad=0.1", "facecolor": "white", "alpha": 0.8, "edgecolor": "none"}
LABEL_PT = 11  # points: a company's name and its dollars
AMOUNT_PT = 9.5  # points: the dollars on an arrow
PAD = 0.05  # inches between a circle and its label


def _label_places(s: Spot, last: int) -> list[tuple[float, float, str, str]]:
    """Where a company's label may go, best first: the first column's to the left, the last's and
    the sellers' to the right, the labs' above or below their circle; then anywhere around it,
    and further out."""
    places = []
    for k in (1.0, 2.0, 3.2):
        d = s.r + PAD * k + 0.12 * (k - 1)
        q = d * 0.72
        right = (s.x + d, s.y, "left", "center")
        left = (s.x - d, s.y, "right", "center")
        above = (s.x, s.y + d, "center", "bottom")
        below = (s.x, s.y - d, "center", "top")
        diagonals = [
            (s.x + q, s.y - q, "left", "top"),
            (s.x + q, s.y + q, "left", "bottom"),
            (s.x - q, s.y - q, "right", "top"),
            (s.x - q, s.y + q, "right", "bottom"),
        ]
        if s.column == 0:
            places += [left, *diagonals[2:], below, above, right]
        elif s.column == 1:
            places += [above, below, *diagonals, right, left]
        else:
            places += [right, *diagonals[:2], below, above, left, *diagonals[2:]]
    return places


def node_text(nodes: pd.DataFrame, company: str) -> str:
    """``AWS`` over ``took in $385B`` (an investor: ``put in``)."""
    what = "put in" if nodes.role[company] == "investor" else "took in"
    return f"{nodes.label[company]}\n{what} {money_text(float(nodes.dollars[company]))}"


def _draw_nodes(
    ax: Axes, nodes: pd.DataFrame, spots: dict[str, Spot], palette: Palette, placer: Placer
) -> None:
    """The circles (each company's colour) and their labels, largest circles' labels first."""
    for company, s in spots.items():
        colour = palette.agent(company)
        ax.add_patch(
            Circle(
                (s.x, s.y),
                s.r,
                facecolor=tint(colour, 0.3),
                edgecolor=shade(colour, 0.25),
                linewidth=1.2,
                zorder=6,
                gid=f"company--{company}",
            )
        )
    last = max(s.column for s in spots.values())
    for company in sorted(spots, key=lambda c: -spots[c].r):
        text = ax.text(
            0,
            0,
            node_text(nodes, company),
            fontsize=LABEL_PT,
            zorder=8,
            linespacing=1.15,
            gid=f"label--{company}",
            bbox=WHITE_BOX,
        )
        placer.put(text, _label_places(spots[company], last))


def _draw_lanes(run: RunLike, ax: Axes, spots: dict[str, Spot], palette: Palette) -> None:
    """A shaded lane behind each investor and the sellers it owns, in the investor's hue."""
    s = run.scenario
    for inv in s.investors:
        group = [spots[c] for c in (inv, *s.investors[inv].owns) if c in spots]
        if len(group) < 2:
            continue
        pad = 0.12
        x0 = min(g.x - g.r for g in group) - pad
        x1 = max(g.x + g.r for g in group) + pad
        half = max(g.r for g in group) + pad
        y = group[0].y
        ax.add_patch(
            FancyBboxPatch(
                (x0, y - half),
                x1 - x0,
                2 * half,
                boxstyle=f"round,pad=0,rounding_size={half:.3f}",
                facecolor=tint(palette.agent(inv), 0.85),
                edgecolor="none",
                zorder=1,
                gid=f"lane--{inv}",
            )
        )


HEADERS = {"investor": "INVESTORS", "lab": "LABS", "cloud": "CLOUDS", "vendor": "VENDORS"}


def _headers(ax: Axes, frame: Frame, placer: Placer) -> None:
    """Each column's name above it."""
    for x, role in zip(frame.columns, frame.roles, strict=True):
        text = ax.text(0, 0, HEADERS[role], fontsize=10.5, color=MUTED, fontweight="bold")
        placer.put(text, [(x, frame.height - 0.02, "center", "top")])


def _arrow_labels(
    ax: Axes,
    edges: pd.DataFrame,
    caused: pd.DataFrame | None,
    spots: dict[str, Spot],
    placer: Placer,
    colours: tuple[str, str],
) -> None:
    """Dollars on the arrows a reader follows: each investment, and what the investor's money
    caused; each where it overlaps no other text (else the arrow's width still says it)."""
    box = {"boxstyle": "round,pad=0.12", "facecolor": "white", "alpha": 0.85, "edgecolor": "none"}
    items: list[tuple[str, str, str, float, str]] = [
        (e["source"], e["target"], money_text(e["dollars"]), BEND, MUTED)
        for e in records(edges)
        if "investment" in str(e["kind"])
    ]
    if caused is not None:
        items += [
            (c["lab"], c["seller"], f"caused {money_text(c['dollars'])}", CAUSED_BEND, colours[1])
            for c in records(caused)
        ]
    for source, target, words, bend, colour in items:
        a, b = spots[source], spots[target]
        text = ax.text(
            0,
            0,
            words,
            fontsize=AMOUNT_PT,
            color=colour,
            zorder=9,
            bbox=box,
            gid=f"amount--{source}--{target}",
        )
        places = [
            (*curve_point(a, b, bend, t), "center", "center") for t in (0.5, 0.4, 0.6, 0.3, 0.7)
        ]
        placer.put(text, places)


# ---- the legend ------------------------------------------------------------------------------

LEGEND_WIDTH = 2.75  # inches right of the web


def round_dollars(dollars: float) -> float:
    """The largest 1, 2 or 5 times a power of ten at most ``dollars`` (a legend's reference)."""
    if dollars <= 0:
        return 0.0
    power = 10.0 ** math.floor(math.log10(dollars))
    return max(m * power for m in (1, 2, 5) if m * power <= dollars * (1 + 1e-9))


def _legend(
    ax: Axes,
    height: float,
    frame: Frame,
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    keys: list[tuple[str, str]],
) -> None:
    """The scales (reference circles and a reference arrow, in $B) and what each colour is:
    drawn at the web's own scale, in inches."""
    y = height - 0.05
    ax.text(0, y, "Circle area: dollars", fontsize=10.5, fontweight="bold", va="top")
    y -= 0.3
    big = round_dollars(float(nodes.dollars.max()))
    for ref in dict.fromkeys(v for v in (big, round_dollars(big / 10)) if v > 0):
        r = math.sqrt(frame.area_per_dollar * ref / math.pi)
        y -= r
        ax.add_patch(Circle((0.05 + r, y), r, facecolor="none", edgecolor=MUTED, linewidth=1))
        ax.text(0.05 + 2 * r + 0.1, y, format_money(ref), fontsize=10, va="center")
        y -= r + 0.12
    ax.text(0, y, "Arrow width: dollars moved", fontsize=10.5, fontweight="bold", va="top")
    y -= 0.4
    ref = round_dollars(float(edges.dollars.max()) / 2) if len(edges) else 0.0
    if ref:
        a, b = Spot(0.0, y, 0.0, 0), Spot(1.0, y, 0.0, 0)
        outline = arrow_outline(a, b, arrow_width(frame, ref), bend=0.0, gap=0.0)
        ax.add_patch(Polygon(outline, facecolor=FORWARD_GREY, edgecolor="none"))
        ax.text(1.1, y, format_money(ref), fontsize=10, va="center")
        y -= 0.35
    for colour, words in keys:
        ax.add_patch(
            Polygon(
                [[0, y - 0.05], [0.5, y - 0.05], [0.5, y + 0.05], [0, y + 0.05]],
                facecolor=colour,
                edgecolor="none",
            )
        )
        ax.text(0.6, y, words, fontsize=10, va="center", linespacing=1.1)
        y -= 0.5


def frame_of(ax: Axes, fig: Figure) -> tuple[float, float]:
    """An axes' size in inches, set as its data limits: one unit is one inch either way."""
    box = ax.get_position()
    w, h = fig.get_size_inches()
    width, height = box.width * w, box.height * h
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_axis_off()
    return width, height


# ---- the chart -------------------------------------------------------------------------------


def _headline(run: RunLike, investor: str | None, edges: pd.DataFrame) -> tuple[str, str]:
    """A title that states the finding for the investor followed, and a subtitle that says how
    to read the circles, the arrows and the colours."""
    s, m = run.scenario, run.metrics_dict()
    total = money_text(float(edges.dollars.sum())) if len(edges) else "$0"
    web = f"{len(s.agents)} companies, {total} moved between them over {span(run)}"
    if investor is None:
        return (
            f"The web: {web}",
            "Circle area: what each company took in. Arrow width: dollars moved (darker: back to "
            "an investor). No investor invests here: nothing to follow.",
        )
    who, v = name_of(run, investor), m["investors"][investor]
    owns = s.investors[investor].owns
    sellers = " and ".join(name_of(run, c) for c in owns) or "its sellers"
    title = (
        f"{caused_by(run, investor, money_text(v['invested']))} caused "
        f"{money_text(v['incremental_revenue'])} of {sellers} revenue; traced, "
        f"{money_text(v['round_trip'])} of its dollars came back"
        if owns
        else f"Where {possessive(who)} {money_text(v['invested'])} went, traced"
    )
    subtitle = (
        f"The web: {web}. Circle area: what an investor put in, what the others took in; "
        "arrow width: dollars moved (grey; darker: back to an investor). In colour: "
        f"{possessive(who)} own dollars, traced {tracing_words(run)}"
        + (
            f", and, bowed the other way, the {sellers} revenue its money caused (the run less "
            "its twin without the investment and any contract that came with it)."
            + assumption_note(run, [investor])
            if owns
            else "."
        )
    )
    return title, subtitle


def network_chart(
    run: RunLike, *, size: Sequence[float] = SLIDE_SIZE, investor: str | None = None
) -> Figure:
    """The whole web: companies as circles, the run's money as arrows, to scale; for
    ``investor`` (default ``default_investor``) its traced dollars and what its money caused,
    in colour over the grey flows."""
    s = run.scenario
    investor = default_investor(run) if investor is None else investor
    if investor is not None and investor not in s.investors:
        raise ValueError(
            f"investor(={investor!r}) is not an investor of the scenario; "
            f"choose from {', '.join(s.investors) or 'none'}"
        )
    nodes, edges = network_nodes(run), network_edges(run, investor)
    caused = caused_edges(run, investor) if investor and s.investors[investor].owns else None
    palette = Palette.of(run)
    colours = (palette.agent(investor) if investor else INK, INK)
    title, subtitle = _headline(run, investor, edges)
    with house_style():
        fig, (ax,) = new_figure(run, title, subtitle, size=size)
        w, h = fig.get_size_inches()
        box = ax.get_position()
        bottom = 0.6 / h
        ax.set_position((0.25 / w, bottom, 1 - (0.25 + LEGEND_WIDTH + 0.2) / w, box.y1 - bottom))
        legend = fig.add_axes(
            (1 - (LEGEND_WIDTH + 0.2) / w, bottom, LEGEND_WIDTH / w, box.y1 - bottom)
        )
        width, height = frame_of(ax, fig)
        spots, frame = place(run, nodes, edges, width, height)
        _draw_lanes(run, ax, spots, palette)
        _draw_edges(ax, edges, caused, spots, frame, colours)
        renderer = FigureCanvasAgg(fig).get_renderer()  # measures text; no pyplot
        placer = Placer(ax, spots, renderer)
        _headers(ax, frame, placer)
        _draw_nodes(ax, nodes, spots, palette, placer)
        _arrow_labels(ax, edges, caused, spots, placer, colours)
        _legend(
            legend,
            frame_of(legend, fig)[1],
            frame,
            nodes,
            edges,
            _keys(run, investor, caused, colours),
        )
    return fig


def _keys(
    run: RunLike, investor: str | None, caused: pd.DataFrame | None, colours: tuple[str, str]
) -> list[tuple[str, str]]:
    """The legend's colours and what each means."""
    keys = [
        (FORWARD_GREY, "Money between companies\nover the run"),
        (BACK_GREY, "Back to an investor:\nprofit, revenue share"),
    ]
    if investor is None:
        return keys
    who = possessive(name_of(run, investor))
    keys.append((colours[0], f"{who} own dollars,\ntraced"))
    if caused is not None:
        keys.append((colours[1], f"Caused by {who} money:\nrun less twin (dashed: less)"))
    palette = Palette.of(run)
    owner = next((i for i in run.scenario.investors if run.scenario.investors[i].owns), None)
    if owner:
        keys.append((tint(palette.agent(owner), 0.85), "An investor and the\nsellers it owns"))
    return keys
