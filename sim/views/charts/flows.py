"""The flow diagram of the circuit: money in -> labs -> clouds and vendors -> back to investors.

An alluvial diagram in four columns: where the labs' money came from (by origin), the labs, what
they spent it on (and what they still hold), and what the clouds passed on (cost, and profit to
the investor that owns them). Each band's width is the money it carries over the run; every band
is split by origin, so an investor's own dollars keep its colour all the way round and back.

``flow_bands`` gives the numbers, read off the ledger and balances; ``flow_diagram`` draws them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import matplotlib as mpl
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path

from sim.analysis.result import RunLike
from sim.views.charts.labels import money_text, origin_name
from sim.views.charts.style import (
    MUTED,
    SLIDE_SIZE,
    Palette,
    agent_label,
    format_money,
    house_style,
    new_figure,
)

CENTS = 100
STAGES = ("in", "spend", "out")  # column 0 -> 1, 1 -> 2, 2 -> 3
COLUMN_TITLES = ("Money in", "Labs", "Spent on", "Passed on by the clouds")


def flow_bands(run: RunLike) -> pd.DataFrame:
    """Every band of the diagram: ``stage``, ``source``, ``target``, ``origin``, ``dollars``.

    * ``in``: origin -> lab: opening cash, customer revenue, investments and money raised (its
      financing) the lab received;
    * ``spend``: lab -> what it paid (clouds, ``other_compute``, ``suppliers``, interest to its
      financing source) and
      ``<lab>:held``, the cash it still holds at the end (unpaid invoices included);
    * ``out``: cloud -> ``cloud_costs`` and the owner's profit, and ``<cloud>:kept``, the profit
      a cloud no investor owns keeps. Money a seller borrowed to pay a route ahead (origin
      ``<seller>:capex``, a lead) is no lab's and is left out; its repayment, lab money, is a
      band to ``capex_funding``.

    Sums over origins are the ledger's figures: a lab's ``in`` equals its ``spend`` and a
    cloud's receipts from labs equal its ``out``, to the cent.
    """
    s, led, bal = run.scenario, run.ledger, run.balances
    origins = [c.removeprefix("from:") for c in led.columns if c.startswith("from:")]
    cols = [f"from:{o}" for o in origins]
    first, last = bal.step.min(), bal.step.max()
    rows: list[pd.DataFrame] = []

    def add(stage: str, source: str, target: str, cents: pd.Series) -> None:
        frame = pd.DataFrame({"origin": origins, "cents": cents.reindex(cols).to_numpy()})
        frame.insert(0, "target", target)
        frame.insert(0, "source", source)
        frame.insert(0, "stage", stage)
        rows.append(frame)

    def held(account: str, step: int) -> pd.Series:
        b = bal[(bal.account == account) & (bal.step == step)]
        return b.groupby("origin").cents.sum().rename(lambda o: f"from:{o}")

    for lab in s.labs:
        add("in", "", lab, held(lab, first))  # opening cash: its own origin row
        into = led[(led.payee == lab) & led.kind.isin(["investment", "revenue", "financing"])]
        add("in", "", lab, into[cols].sum())
        paid = led[led.payer == lab]
        for payee, group in paid.groupby("payee", sort=False):
            add("spend", lab, str(payee), group[cols].sum())
        add("spend", lab, f"{lab}:held", held(lab, last))
    # what sellers pass on, of the money that came from labs: borrowed money is no lab's
    lab_cols = [c for c in cols if not c.endswith(":capex")]
    for cloud in s.sellers:
        from_labs = led[(led.payee == cloud) & led.payer.isin(list(s.labs))][lab_cols].sum()
        received: pd.Series = from_labs.reindex(cols, fill_value=0)
        passed = led[led.payer == cloud]
        for payee, group in passed.groupby("payee", sort=False):
            add("out", cloud, str(payee), group[lab_cols].sum().reindex(cols, fill_value=0))
        add(
            "out",
            cloud,
            f"{cloud}:kept",
            received - passed[lab_cols].sum().reindex(cols, fill_value=0),
        )

    bands = pd.concat(rows, ignore_index=True)
    # an "in" band's source is its origin
    is_in = bands.stage == "in"
    bands.loc[is_in, "source"] = bands.loc[is_in, "origin"]
    bands = bands[bands.cents > 0]
    keys = ["stage", "source", "target", "origin"]
    summed = bands.groupby(keys, sort=False).cents.sum().reset_index()
    summed["dollars"] = summed.pop("cents") / CENTS
    return summed


# ---- layout ----------------------------------------------------------------------------------


@dataclass
class Node:
    key: str
    column: int
    value: float  # dollars through the node
    top: float = 0.0  # in axes fraction
    height: float = 0.0
    out_used: float = 0.0  # dollars of outgoing bands placed so far
    in_used: float = 0.0
    label: str = ""
    colour: str = MUTED


@dataclass
class Layout:
    nodes: dict[tuple[int, str], Node]
    scale: float  # axes fraction per dollar
    x: Sequence[float]
    width: float
    origin_order: list[str] = field(default_factory=list)


COLUMN_X = (0.16, 0.39, 0.60, 0.80)
NODE_WIDTH = 0.012
TOP, BOTTOM = 0.90, 0.03  # the diagram's vertical extent in axes fraction
GAP = 0.022
LABEL_SIZE = 11.5  # points


def _node_order(run: RunLike, bands: pd.DataFrame) -> list[list[str]]:
    """Nodes of each column, top to bottom: investors' money first, owned clouds near the top."""
    s = run.scenario
    investors = list(s.investors)
    owned = [c for i in investors for c in s.investors[i].owns]
    col0 = [f"{i}:investment" for i in investors]
    col0 += [f"{lab}:{what}" for lab in s.labs for what in ("revenue", "cash")]
    col0 += [o for o in bands.origin.unique() if o not in col0]
    col1 = list(s.labs)
    col2 = owned + [c for c in s.sellers if c not in owned] + ["other_compute", "suppliers"]
    col2 += [t for t in bands.target[bands.stage == "spend"].unique() if t not in col2]  # sources
    col2 += [f"{lab}:held" for lab in s.labs]
    # each cloud's profit where it goes (owner, or kept), in cloud order; costs at the bottom
    col3 = [t for c in col2 for t in (s.owner_of(c), f"{c}:kept") if t] + ["cloud_costs"]
    # then whatever else a seller passed on: other sellers (routed costs), vendor_costs, credits
    col3 += [t for t in bands.target[bands.stage == "out"].unique() if t not in col3]
    col3 = list(dict.fromkeys(col3))
    present = [
        set(bands[bands.stage == "in"].source),
        set(bands.target[bands.stage == "in"]) | set(bands.source[bands.stage == "spend"]),
        set(bands.target[bands.stage == "spend"]) | set(bands.source[bands.stage == "out"]),
        set(bands.target[bands.stage == "out"]),
    ]
    columns = [col0, col1, col2, col3]
    return [[k for k in col if k in present[c]] for c, col in enumerate(columns)]


# characters a label left of the first column may take: the figure's left margin holds about
# 30 at the house style's size ("BigTech's investment" is 20)
_FIRST_COLUMN = 30


def _label(run: RunLike, key: str, column: int) -> str:
    s = run.scenario
    name, _, what = key.partition(":")
    who = agent_label(s, name)
    if column == 0:  # left of the first column, in the figure's margin: the whole line is cut
        return origin_name(run, key, _FIRST_COLUMN)
    if what == "held":
        return f"{who}: cash left"
    if what == "kept":
        return f"{who}: profit kept"
    if column == 3 and name in s.investors:
        return f"{who}: profit"
    return {
        "other_compute": "other compute",
        "suppliers": "other costs",
        "cloud_costs": "clouds' costs",
        "vendor_costs": "vendors' costs",
        "credits_issued": "credits redeemed",
        "capex_funding": "capex loans repaid",
    }.get(key, who)


def _layout(run: RunLike, bands: pd.DataFrame, palette: Palette) -> Layout:
    order = _node_order(run, bands)
    through: dict[tuple[int, str], float] = {}
    for stage, (src_col, dst_col) in zip(STAGES, ((0, 1), (1, 2), (2, 3)), strict=True):
        b = bands[bands.stage == stage]
        for key, v in b.groupby("source").dollars.sum().items():
            through[(src_col, str(key))] = max(through.get((src_col, str(key)), 0.0), v)
        for key, v in b.groupby("target").dollars.sum().items():
            through[(dst_col, str(key))] = max(through.get((dst_col, str(key)), 0.0), v)
    span = TOP - BOTTOM
    scale = (
        min(
            (span - GAP * (len(col) - 1)) / sum(through[(c, k)] for k in col)
            for c, col in enumerate(order)
            if col
        )
        if any(order)
        else 1.0
    )  # nothing to draw (no investor's money in a run without one)
    nodes: dict[tuple[int, str], Node] = {}
    for c, col in enumerate(order):
        height = sum(through[(c, k)] for k in col) * scale + GAP * (len(col) - 1)
        y = TOP - (span - height) / 2  # each column centred
        for k in col:
            node = Node(k, c, through[(c, k)], top=y, height=through[(c, k)] * scale)
            node.label = _label(run, k, c)
            agent = k.partition(":")[0]
            node.colour = palette.origin(k) if c == 0 else palette.agent(agent)
            nodes[(c, k)] = node
            y -= node.height + GAP
    origin_order = [o for o in order[0]] + [o for o in bands.origin.unique() if o not in order[0]]
    return Layout(nodes, scale, COLUMN_X, NODE_WIDTH, origin_order)


# ---- drawing ---------------------------------------------------------------------------------


def band_id(stage: str, source: str, target: str, origin: str) -> str:
    """The id a band carries in the figure (and in SVG): no spaces, ``:`` as ``.``."""
    return "band--" + "--".join(x.replace(":", ".") for x in (stage, source, target, origin))


def _ribbon(x0: float, y0: float, x1: float, y1: float, h0: float, h1: float) -> Path:
    """A band from the top-left ``(x0, y0)`` to the top-right ``(x1, y1)`` (heights h0, h1)."""
    xm = (x0 + x1) / 2
    verts = [
        (x0, y0),
        (xm, y0),
        (xm, y1),
        (x1, y1),
        (x1, y1 - h1),
        (xm, y1 - h1),
        (xm, y0 - h0),
        (x0, y0 - h0),
        (x0, y0),
    ]
    codes = [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4, Path.LINETO]
    codes += [Path.CURVE4, Path.CURVE4, Path.CURVE4, Path.CLOSEPOLY]
    return Path(verts, codes)


def _draw_bands(
    ax: Axes, bands: pd.DataFrame, lay: Layout, palette: Palette, focus: set[str]
) -> None:
    """Each band leaves its source in the order of its targets and enters its target in the
    order of its sources, so bands do not cross at the nodes; origins keep one order inside."""
    rank = {o: i for i, o in enumerate(lay.origin_order)}
    for stage, (c0, c1) in zip(STAGES, ((0, 1), (1, 2), (2, 3)), strict=True):
        b = bands[bands.stage == stage]
        if b.empty:
            continue
        pos0 = {k: i for i, (c, k) in enumerate(lay.nodes) if c == c0}
        pos1 = {k: i for i, (c, k) in enumerate(lay.nodes) if c == c1}
        b = b.assign(s=b.source.map(pos0), t=b.target.map(pos1), o=b.origin.map(rank))
        y0: dict[object, float] = {}
        for i, r in b.sort_values(["s", "t", "o"]).iterrows():
            src = lay.nodes[(c0, r.source)]
            y0[i] = src.top - src.out_used * lay.scale
            src.out_used += r.dollars
        for i, r in b.sort_values(["t", "s", "o"]).iterrows():
            dst = lay.nodes[(c1, r.target)]
            y1 = dst.top - dst.in_used * lay.scale
            dst.in_used += r.dollars
            h = r.dollars * lay.scale
            own = r.origin in focus
            ax.add_patch(
                PathPatch(
                    _ribbon(lay.x[c0] + lay.width, y0[i], lay.x[c1], y1, h, h),
                    facecolor=palette.origin(r.origin),
                    edgecolor="none",
                    alpha=0.9 if own else 0.33,
                    zorder=3 if own else 2,
                    gid=band_id(stage, r.source, r.target, r.origin),
                )
            )


def _spread(wanted: list[float], gap: float, low: float, high: float) -> list[float]:
    """Label centres as near ``wanted`` (top to bottom) as they can be at least ``gap`` apart,
    inside ``[low, high]`` (the caller checks that they fit: ``len(wanted) * gap`` at most
    ``high - low + gap``)."""
    ys = [min(y, high) for y in wanted]
    for i in range(1, len(ys)):
        ys[i] = min(ys[i], ys[i - 1] - gap)
    if ys and ys[-1] < low:
        ys[-1] = low
        for i in range(len(ys) - 2, -1, -1):
            ys[i] = max(ys[i], ys[i + 1] + gap)
    return ys


def _fit_last_column(lay: Layout, size: Sequence[float]) -> None:
    """Move the columns closer where the last column's widest label, on one line, would run
    past the figure's right edge (the axes span the figure's width less 1.3 inches)."""
    last = max(c for c, _ in lay.nodes) if lay.nodes else 0
    chars = max((len(n.label) + 9 for (c, _), n in lay.nodes.items() if c == last), default=0)
    axes_pt = (float(size[0]) - 1.3) * 72
    room = chars * 0.6 * LABEL_SIZE / axes_pt + lay.width + 0.015
    x_last = min(COLUMN_X[-1], 1.0 - room)
    first = COLUMN_X[0]
    stretch = (x_last - first) / (COLUMN_X[-1] - first)
    lay.x = [first + (x - first) * stretch for x in COLUMN_X]


HEADS_Y = 0.955  # the column titles' baseline, in axes fraction


def _draw_nodes(ax: Axes, lay: Layout, line_height: float) -> None:
    """Node bars, and beside each its name and the money through it: on two lines where a
    column's labels fit so, else on one, and never over one another or the column titles."""
    columns: dict[int, list[Node]] = {}
    for (c, _), node in lay.nodes.items():
        columns.setdefault(c, []).append(node)
        ax.add_patch(
            Rectangle(
                (lay.x[c], node.top - node.height),
                lay.width,
                max(node.height, 0.002),
                facecolor=node.colour,
                edgecolor="none",
                zorder=4,
            )
        )
    box = {"boxstyle": "round,pad=0.15", "facecolor": "white", "alpha": 0.8, "edgecolor": "none"}
    for c, nodes in columns.items():
        wanted = [n.top - n.height / 2 for n in nodes]
        lines = 2 if len(nodes) * 2.15 * line_height <= HEADS_Y - 0.01 else 1
        half = lines * line_height / 2 + 0.01  # half a label and its box's padding
        gap = (lines + 0.15) * line_height
        ys = _spread(wanted, gap, half, HEADS_Y - half)
        for node, y in zip(nodes, ys, strict=True):
            text = f"{node.label}{chr(10) if lines == 2 else '  '}{money_text(node.value)}"
            if c == 0:
                ax.text(lay.x[c] - 0.008, y, text, ha="right", va="center", zorder=5)
            else:
                x = lay.x[c] + lay.width + 0.006
                ax.text(x, y, text, ha="left", va="center", zorder=5, bbox=box)


def _headline(run: RunLike) -> tuple[str, str]:
    """A title that states the finding, and a subtitle that says how to read the bands."""
    m, s = run.metrics_dict(), run.scenario
    active = [(i, v) for i, v in m["investors"].items() if v["invested"]]
    span = f"{m['start'][:7]} to {m['end'][:7]}"
    if len(active) == 1:
        inv, v = active[0]
        labs = " and ".join(
            agent_label(s, lab) for lab in {d.lab for d in s.investments if d.investor == inv}
        )
        clouds = " and ".join(agent_label(s, c) for c in s.investors[inv].owns) or "its clouds"
        title = (
            f"{agent_label(s, inv)}'s {format_money(v['invested'])} in {labs}, traced: "
            f"{money_text(v['round_trip'] or 0)} of it comes back as {clouds} revenue"
        )
    else:
        title = "Where the money goes, and whose dollars come back (traced)"
    own = ", ".join(
        f"{agent_label(s, i)}'s {money_text(v['round_trip_profit'] or 0)}" for i, v in active
    )
    subtitle = (
        f"All money over {span}, band widths to scale. Investors' own dollars in strong colour, "
        f"traced {s.tracing.replace('_', ' ')}: whose dollars, not what the investment caused; "
        f"profit on them: {own}."
    )
    return title, subtitle


def flow_diagram(run: RunLike, *, size: Sequence[float] = SLIDE_SIZE) -> Figure:
    """The circuit as an alluvial diagram; investors' own dollars drawn in their colours."""
    title, subtitle = _headline(run)
    return _diagram(run, flow_bands(run), title, subtitle, size)


def own_dollars_diagram(run: RunLike, *, size: Sequence[float] = SLIDE_SIZE) -> Figure:
    """The same circuit for the investors' own dollars only: where each invested dollar went,
    how much came back to the investor's cloud, and how much of that was profit."""
    s, m = run.scenario, run.metrics_dict()
    mine = [f"{i}:investment" for i in s.investors]
    bands = flow_bands(run)
    bands = bands[bands.origin.isin(mine)].reset_index(drop=True)
    active = [(i, v) for i, v in m["investors"].items() if v["invested"]]
    title = "Follow the investors' own dollars"
    if not active:
        title = "No investor put money in: there are no investors' dollars to follow"
    if len(active) == 1:
        inv, v = active[0]
        title = f"Follow {agent_label(s, inv)}'s {format_money(v['invested'])}"
    parts = [
        f"{agent_label(s, i)}: {money_text(v['round_trip'] or 0)} back as revenue of its cloud "
        f"({(v['round_trip_ratio'] or 0):.1%}), {money_text(v['round_trip_profit'] or 0)} "
        "of it profit"
        for i, v in active
    ]
    subtitle = (
        "; ".join(parts) + f". Traced {s.tracing.replace('_', ' ')}, to scale: whose dollars "
        "came back, not what the investment caused."
    )
    return _diagram(run, bands, title, subtitle, size)


def _diagram(
    run: RunLike, bands: pd.DataFrame, title: str, subtitle: str, size: Sequence[float]
) -> Figure:
    palette = Palette.of(run)
    lay = _layout(run, bands, palette)
    _fit_last_column(lay, size)
    focus = {f"{i}:investment" for i in run.scenario.investors}
    with house_style(), mpl.rc_context({"font.size": LABEL_SIZE}):
        fig, (ax,) = new_figure(run, title, subtitle, size=size)
        # no tick labels here: let the diagram use the room kept for them
        pos = ax.get_position()
        low = 0.75 / fig.get_figheight()
        ax.set_position((pos.x0, low, pos.width, pos.y1 - low))
        ax.set_axis_off()
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        _draw_bands(ax, bands, lay, palette, focus)
        # one line of text in axes fraction: font size in points over the axes height in points
        axes_height_pt = ax.get_position().height * fig.get_figheight() * 72
        _draw_nodes(ax, lay, 1.2 * LABEL_SIZE / axes_height_pt)
        for c, head in enumerate(COLUMN_TITLES):
            ax.text(
                lay.x[c] + lay.width / 2,
                HEADS_Y,
                head.upper(),
                ha="center",
                va="bottom",
                fontsize=10.5,
                color=MUTED,
                fontweight="bold",
            )
    return fig
