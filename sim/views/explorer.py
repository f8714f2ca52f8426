"""An interactive what-if for one scenario file, for notebooks: five inputs rerun the engine.

``Explorer(path)`` picks the loop to explore (the first investor that owns a cloud and invests,
or the one named; its first deal's lab; the first of its clouds that lab buys from by share) and
offers five inputs: the share of the lab's compute bought at that cloud (the lab's other
providers rescaled so that the total stays as written, as a sweep does), the deal's amount (its
tranches scaled), the cloud's margin, the lab's revenue growth and the scenario's discount rate.
``update(...)`` makes the run for a set of values, its two charts (the flow diagram and the run
against its twin), its figures (what the investment and the contracts that came with it caused,
beside what the investment alone caused, then the traced figures) and the ``roundtrip run``
command that gives the same run. ``widget()`` lays it out with ipywidgets: a slider and a
readout a person can type into (``40%``, ``$25B``) for each input, a scenario and an investor
picker, a reset, the command, and a button that saves the view (``export``).

What is shown is always the run of the values shown: a value whose run fails (a share past
100%, growth so high the money leaves the range the ledger keeps exact) clears the figures and
charts and shows the error in one line. The growth slider stops where runs stop being valid
(``Explorer.growth_limit``). A value left at the file's own is not set at all, so the defaults
give the file's run exactly (``sim.run(sim.load_scenario(path))``).
"""

from __future__ import annotations

import html
import math
import os
import shlex
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.analysis import causes, tables
from sim.errors import ScenarioError
from sim.inputs.names import input_name
from sim.inputs.points import point_items
from sim.inputs.specs import varied_input
from sim.inputs.units import parse_amount_cents, parse_share
from sim.ranges.vary import Point, Template, load_template

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from sim.analysis.result import Result

# control -> (lowest, highest, step) a slider offers: a view's choice, cut to the bounds each
# input declares (sim.inputs.values.Declared) and, for growth, to where runs stop being valid
# (Explorer.growth_limit); shares as fractions, the amount in billions of dollars.
RANGES = {
    "share": (0.0, 1.0, 0.01),
    "amount": (1.0, 200.0, 1.0),
    "margin": (0.0, 0.9, 0.01),
    "growth": (-0.5, 3.0, 0.01),
    "discount_rate": (0.0, 0.3, 0.005),
}
# The investor's figures shown, metric -> as a person reads it: first what was caused (the run
# against a twin without the package, and against a twin without the investment alone), then
# whose dollars came back, traced through the ledger (not an effect: one reading only).
CAUSED = {
    "incremental_revenue_booked": "incremental revenue, booked",
    "incremental_revenue": "incremental revenue, cash received",
    "incremental_profit_booked": "incremental profit, booked",
    "incremental_profit": "incremental profit, cash received",
    "pv_invested": "PV invested",
    "pv_incremental_profit": "PV incremental profit",
    "net_cost": "net cost",
    "effective_post_money": "effective post-money",
}
# the caused revenue (booked) under each counterfactual.substitution: what decides it
BOUNDS = {
    f"incremental_revenue_booked_substitution_{w}": f"incremental revenue, booked, if {words}"
    for w, words in (
        ("none", "the money is not replaced (none)"),
        ("file", "the labs' financing rules hold (file)"),
        ("full", "every missing dollar is raised (full)"),
    )
}
TRACED = {
    "spend_on_own_cloud": "spend on own cloud (traced)",
    "round_trip": "round trip (traced)",
    "round_trip_ratio": "round trip ratio (traced)",
}
PACKAGE = "the investment and its contracts"  # the figures' two readings, as columns
ALONE = "the investment alone"
EXPORT_KIND = "explorer view"  # an exported view's marker (sim.io.output) says so
CHART_FILES = ("run_vs_twin", "flows")  # the view's charts, as files
FIGURES_FILE = "figures.csv"


@dataclass(frozen=True)
class Shown:
    """What the explorer shows for one set of values: the run, its charts, its figures and the
    command that gives the same run."""

    values: dict[str, float]
    result: Result
    flows: Figure  # the flow diagram
    run_vs_twin: Figure  # the cloud's revenue in the run and in its twin
    figures: pd.DataFrame  # per figure: PACKAGE and ALONE (dollars or a fraction; ALONE empty
    # for a traced figure) and its "kind" (sim.analysis.tables: money or ratio)
    command: str  # roundtrip run FILE --set ...: the same run from a terminal
    assumption: str = ""  # the deciding assumption of the caused figures (sim.analysis.causes)

    def table(self) -> pd.DataFrame:
        """The figures as text ($81.51B, 17.2%; blank where a reading does not apply)."""
        return figures_text(self.figures)


def figures_text(figures: pd.DataFrame) -> pd.DataFrame:
    """``Shown.figures`` as a person reads them, through the one formatting layer
    (sim.analysis.tables: money in $B, fractions in %); blank where a reading does not apply."""
    text = figures[[PACKAGE, ALONE]].astype(object)
    for figure, row in figures.iterrows():
        for column in (PACKAGE, ALONE):
            value = float(row[column])
            shown = "" if math.isnan(value) else tables.show(value, str(row["kind"]))
            text.loc[figure, column] = shown
    return text


def explorable(path: str | os.PathLike[str]) -> list[str]:
    """The investors of a scenario file that own a cloud and invest: those the explorer can
    explore (``ScenarioError`` if the file cannot be read)."""
    s = Point(load_template(path), ()).scenario()
    owners = [i for i, inv in s.investors.items() if inv.owns]
    return [i for i in owners if any(d.investor == i for d in s.investments)]


def scenario_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The scenario files in ``folder`` the explorer can explore (for its picker: the bundled
    files beside the one explored), by name."""
    found = []
    for f in sorted(Path(folder).glob("*.yaml")):
        try:
            if explorable(f):
                found.append(f)
        except ScenarioError:
            continue  # not a scenario, or one that does not validate: not offered
    return found


class Explorer:
    """The loop of one scenario file, with five inputs to move (see the module's docstring)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        investor: str | None = None,
        size: tuple[float, float] = (11.0, 6.2),
    ) -> None:
        self.path = os.fspath(path)
        self.template: Template = load_template(path)
        s = Point(self.template, ()).scenario()  # the file's own, at its first point
        self.choices = explorable(path)  # the investors that may be picked
        if investor is None:
            if not self.choices:
                raise ScenarioError(
                    "no investor in this file owns a cloud and invests: nothing to explore",
                    file=self.path,
                )
            investor = self.choices[0]
        if investor not in self.choices:
            raise ScenarioError(
                f"{investor!r} is not an investor that owns a cloud and invests here; choose "
                f"from {', '.join(self.choices) or 'none'}",
                file=self.path,
            )
        self.investor = investor
        self.labels = {i: s.label(i) for i in self.choices}  # for the investor picker
        deal = next(k for k, d in enumerate(s.investments) if d.investor == investor)
        self.lab = s.investments[deal].lab
        providers = s.labs[self.lab].providers
        clouds = [c for c in s.investors[investor].owns if c in providers]
        if not clouds:
            raise ScenarioError(
                f"{self.lab} buys from none of {investor}'s clouds by share: no share to move",
                file=self.path,
            )
        self.cloud = clouds[0]
        self.size = size
        self.shown: Shown | None = None  # what the widget shows now (None: its run failed)
        self.error = ""  # why the widget shows no figures, in one line
        self.panel: Any = None  # the widget's controls (sim.views.explorer.Panel), once made
        self._limit: float | None = None
        index = self._deal_index(deal)
        self.paths = {
            "share": f"agents.{self.lab}.spending.compute.providers.{self.cloud}",
            "amount": f"deals.{index}.amount",
            "margin": f"agents.{self.cloud}.margin",
            "growth": f"agents.{self.lab}.revenue.growth",
            "discount_rate": "discount_rate",
        }
        # each control's input as a person reads it (sim.inputs.names): "AWS margin"
        self.names = {k: input_name(s, path) for k, path in self.paths.items()}
        data = self.template.ranges.base.data
        self.declared = {k: varied_input(data, path) for k, path in self.paths.items()}
        self.names["amount"] += ", $B"
        d = s.investments[deal]
        self.title = f"{s.label(investor)} in {s.label(self.lab)}, at {s.label(self.cloud)}"
        self.defaults = {
            "share": float(providers[self.cloud]),
            "amount": d.total / 1e11,  # cents -> $B
            "margin": float(s.sellers[self.cloud].margin),
            "growth": float(s.labs[self.lab].revenue.growth),
            "discount_rate": float(s.discount_rate),
        }

    def load(self, path: str | os.PathLike[str], *, investor: str | None = None) -> None:
        """Explore another file (or another investor of this one), as ``Explorer(path,
        investor=...)`` would; on an error (``ScenarioError``) nothing changes."""
        fresh = Explorer(path, investor=investor, size=self.size)
        fresh.panel = self.panel
        vars(self).update(vars(fresh))

    # ---- the controls ----------------------------------------------------------------------

    def _span(self, name: str) -> tuple[float, float, float]:
        lo, hi, step = RANGES[name]
        d = self.declared[name]
        scale = 1e11 if d.kind == "amount" else 1.0  # cents -> $B
        lo = max(lo, d.lo / scale + (step if d.lo_open else 0.0))
        hi = min(hi, d.hi / scale - (step if d.hi_open else 0.0))
        default = self.defaults[name]
        return (min(lo, default), max(hi, default), step)

    def spans(self) -> dict[str, tuple[float, float, float]]:
        """Each control's slider: (lowest, highest, step), the span of ``RANGES`` cut to the
        bounds its input declares (an excluded end one step inside), growth's cut where runs
        stop being valid (``growth_limit``), each widened to hold the file's own value."""
        out = {name: self._span(name) for name in RANGES}
        lo, hi, step = out["growth"]
        out["growth"] = (lo, max(min(hi, self.growth_limit()), self.defaults["growth"]), step)
        return out

    def growth_limit(self) -> float:
        """The highest growth on the slider's steps at which the run is valid, with the amount
        at its slider's top (so that every pair of values the sliders offer is).

        The rule that fails past it is the ledger's: every cent is held exactly in a float64,
        so the money a scenario can hold (opening cash, revenue accrued over the horizon,
        investments) must stay below 2**52 cents, about $45T (sim/model/accrual.py and
        sim/model/schedule.py refuse it before a run). Revenue grows as ``(1+growth)**years``,
        so the limit falls as the horizon lengthens: about 160% a year over the $50B file's 8
        years. Found by bisection over the slider's steps with the rule's own check
        (``build_plan``), never a number of our own."""
        if self._limit is None:
            lo, hi, step = self._span("growth")
            top = self._span("amount")[1]
            k_lo, k_hi = round(self.defaults["growth"] / step), math.floor(hi / step + 1e-9)
            if self._plans(k_hi * step, top):
                k_lo = k_hi
            while k_hi - k_lo > 1:  # k_lo's run is valid, k_hi's is not
                mid = (k_lo + k_hi) // 2
                k_lo, k_hi = (mid, k_hi) if self._plans(mid * step, top) else (k_lo, mid)
            self._limit = round(k_lo * step, 10)
        return self._limit

    def _plans(self, growth: float, amount: float) -> bool:
        """Whether the run at ``growth`` and ``amount`` passes the checks made before a run."""
        from sim.model.schedule import build_plan

        try:
            build_plan([self.scenario(growth=round(growth, 10), amount=amount)])
        except ScenarioError:
            return False
        return True

    def read(self, name: str, text: str) -> float:
        """What a person typed into a control's readout, read with the scenario language's
        grammar (sim.inputs.units): a share as ``40%`` or ``0.4``, the amount in billions of
        dollars as ``25``, ``$25B`` or ``25,000M``. ``ValueError`` says what is accepted."""
        if self.declared[name].kind == "amount":
            written = text.strip()
            if not written[-1:].isalpha():  # no unit: the readout's own, billions
                written += "B"
            return parse_amount_cents(written) / 1e11
        return parse_share(text)

    def readout(self, name: str, value: float) -> str:
        """A control's value as its readout shows it (and ``read`` reads it back): ``20%``,
        ``$50B``."""
        if self.declared[name].kind == "amount":
            return f"${_plain(Decimal(repr(float(value))))}B"
        return f"{_plain(Decimal(repr(float(value))).scaleb(2))}%"

    # ---- a run -----------------------------------------------------------------------------

    def scenario(self, **values: float) -> Any:
        """The scenario for ``values`` (control -> value, as in ``RANGES``); a value equal to the
        file's own is not set."""
        return Point(self.template, tuple(self._changed(values))).scenario()

    def _changed(self, values: dict[str, float]) -> list[tuple[str, Any, str]]:
        unknown = sorted(set(values) - set(RANGES))
        if unknown:
            raise ValueError(f"unknown control(s) {', '.join(unknown)}; the controls are "
                             f"{', '.join(RANGES)}")  # fmt: skip
        out: list[tuple[str, Any, str]] = []
        for name, value in values.items():
            if value == self.defaults[name]:
                continue
            given: Any = value
            if name == "amount":  # $B -> whole cents, written in dollars as --set takes them
                cents = round(float(value) * 1e11)
                given = f"{cents // 100}.{cents % 100:02d}"
            out.append((self.paths[name], given, f"explorer {name}"))
        return out

    def overrides(self, **values: float) -> list[str]:
        """The ``PATH=VALUE`` that ``roundtrip run --set`` takes for ``values``: the amount as
        its tranches scaled, the share with the lab's other providers rescaled (as the explorer
        and a sweep set them); shares as percentages, amounts in dollars."""
        items = point_items(self.template.ranges.base, self._changed(values), True)
        return [f"{path}={_written(value)}" for path, value, _ in items]

    def command(self, **values: float) -> str:
        """The ``roundtrip run`` command that makes the run of ``values`` (quoted for a shell)."""
        sets = [f"--set {shlex.quote(o)}" for o in self.overrides(**values)]
        return " ".join(["roundtrip run", shlex.quote(self.path), *sets])

    def update(self, **values: float) -> Shown:
        """Run the scenario for ``values`` (the others at the file's own) and draw its charts."""
        import sim
        from sim.views.charts import flow_diagram, run_vs_twin

        full = {**self.defaults, **values}
        result = sim.run(self.scenario(**values))
        return Shown(
            values=full,
            result=result,
            flows=flow_diagram(result, size=self.size),
            run_vs_twin=run_vs_twin(result, size=self.size),
            figures=self.figures(result),
            command=self.command(**values),
            assumption=causes.assumption(result.scenario, self.investor),
        )

    def figures(self, result: Result) -> pd.DataFrame:
        """The investor's figures of a run: caused by the investment and its contracts (the
        package) beside caused by the investment alone, then traced (dollars, or a fraction)."""
        import pandas as pd

        m: dict[str, Any] = result.metrics_dict()["investors"][self.investor]  # dollars

        def value(key: str) -> float:
            return math.nan if m.get(key) is None else float(m[key])

        rows = []
        for key, name in CAUSED.items():
            alone = key if key == "pv_invested" else f"{key}_investment_only"
            rows.append((name, value(key), value(alone), tables.metric_kind(key)))
        for key, name in BOUNDS.items():
            alone = key.replace("_substitution_", "_investment_only_substitution_")
            if m.get(key) is not None:
                rows.append((name, value(key), value(alone), tables.metric_kind(key)))
        for key, name in TRACED.items():
            rows.append((name, value(key), math.nan, tables.metric_kind(key)))
        return pd.DataFrame(rows, columns=["figure", PACKAGE, ALONE, "kind"]).set_index("figure")

    # ---- saving a view ---------------------------------------------------------------------

    def export(
        self, folder: str | os.PathLike[str], shown: Shown | None = None, *, dpi: int = 150
    ) -> list[Path]:
        """Save a view (by default what the widget shows) into ``folder``: each chart as PNG and
        SVG and the figures as CSV (dollars to the cent, fractions), with the command in the
        folder's marker. Written whole, as every output (sim/io/publish.py): a new folder, or
        one roundtrip wrote of the same kind; never over anything else (``ScenarioError``)."""
        from sim.io.output import check_folder, reserve, write_atomically
        from sim.views.charts.style import save

        shown = shown if shown is not None else self.shown
        if shown is None:
            raise ScenarioError(
                f"nothing to save: {self.error or 'no run shown yet'}", file=os.fspath(folder)
            )
        target = Path(folder)
        about = {"kind": EXPORT_KIND, "scenario": self.path, "command": shown.command}
        charts = {"run_vs_twin": shown.run_vs_twin, "flows": shown.flows}
        written: list[Path] = []

        def fill(tmp: Path) -> None:
            for name, fig in charts.items():
                for fmt in ("png", "svg"):
                    save(fig, tmp / f"{name}.{fmt}", dpi=dpi)
                    written.append(target / f"{name}.{fmt}")
            shown.figures.to_csv(tmp / FIGURES_FILE)
            written.append(target / FIGURES_FILE)

        with reserve(target):
            check_folder(target, about, force=False, can_force=False)
            write_atomically(target, fill, about=about)
        return written

    def widget(self) -> Any:
        """The controls and what they show, as an ipywidgets box (``pip install
        'roundtrip[notebooks]'``); each change reruns ``update``."""
        self.panel = Panel(self)
        return self.panel.box

    def _deal_index(self, investment: int) -> int:
        """The position in the file's ``deals:`` list of the ``investment``-th investment."""
        deals = self.template.ranges.base.data.get("deals", [])
        at = [
            k for k, d in enumerate(deals) if isinstance(d, dict) and d.get("kind") == "investment"
        ]
        return at[investment]


def _plain(number: Decimal) -> str:
    """A decimal without exponent or trailing zeros: 20, 45.5, 0.125."""
    text = format(number.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _written(value: object) -> str:
    """A value of ``point_items`` as ``--set`` takes it, exactly the same number: a share (a
    float) as a percentage (``37.5%``), a tranche's amount (dollars: an int, or text with
    cents) in billions (``7.5B``)."""
    if isinstance(value, float):
        return f"{_plain(Decimal(repr(value)).scaleb(2))}%"
    return f"{_plain(Decimal(str(value)).scaleb(-9))}B"


def _png(fig: Figure) -> tuple[bytes, dict[str, int]]:
    """A chart's PNG and its size on screen, as Jupyter shows it (IPython's formatter reads the
    chart's own display method: sim.views.charts.style.ChartFigure)."""
    from IPython.core.formatters import PNGFormatter

    png, size = PNGFormatter()(fig)
    return png, size


_GREY = '<div style="color:#777;font-style:italic;padding:0.5em 0">{}</div>'
_ERROR = '<div style="color:#b00020;font-weight:bold;padding:0.3em 0">{}</div>'


class Panel:
    """The explorer's widgets (made by ``Explorer.widget``): a scenario and an investor picker,
    a slider and a readout per control, a reset, the command, the figures and the charts, and
    a button that saves the view. ``values`` are the values shown; every change reruns them."""

    def __init__(self, explorer: Explorer) -> None:
        import ipywidgets as w

        self.e = explorer
        self.found: dict[str, list[Path]] = {}  # the explorable files of each folder seen
        self.syncing = False  # set while the panel moves its own controls: no rerun meanwhile
        wide = w.Layout(width="auto")
        self.files = w.Dropdown(description="Scenario", layout=w.Layout(width="24rem"))
        self.path = w.Text(placeholder="or a scenario file's path", layout=w.Layout(width="20rem"))
        self.open = w.Button(description="Open", tooltip="explore the file at this path")
        self.investors = w.Dropdown(description="Investor", layout=w.Layout(width="16rem"))
        self.title = w.HTML()
        self.rows = w.VBox()
        self.reset = w.Button(description="Reset", tooltip="every input back to the file's own")
        self.folder = w.Text(value="explorer-view", description="Save to", layout=wide)
        self.save = w.Button(
            description="Save view", tooltip="charts as PNG and SVG, figures as CSV"
        )
        self.saved = w.HTML()
        self.status = w.HTML()  # a failed run's error, in one line
        self.command = w.HTML()
        self.table = w.HTML()
        self.charts = [w.Image(format="png"), w.Image(format="png")]  # run vs twin, flows
        self.sliders: dict[str, Any] = {}
        self.texts: dict[str, Any] = {}
        self.values: dict[str, float] = {}
        self.files.observe(lambda c: self.load(c["new"]), names="value")
        self.investors.observe(lambda c: self.load(self.e.path, c["new"]), names="value")
        self.open.on_click(lambda _: self.load(self.path.value.strip()))
        self.reset.on_click(lambda _: self.back_to_defaults())
        self.save.on_click(lambda _: self.export())
        self.box = w.VBox(
            [
                w.HBox([self.files, self.path, self.open]),
                self.investors,
                self.title,
                self.rows,
                w.HBox([self.reset, self.folder, self.save]),
                self.saved,
                self.status,
                self.command,
                self.table,
                *self.charts,
            ]
        )
        self.build()

    def build(self) -> None:
        """The pickers and controls for the file and investor explored, and its run shown."""
        import ipywidgets as w

        e = self.e
        self.syncing = True
        try:
            folder = os.path.abspath(Path(e.path).parent)
            if folder not in self.found:  # each folder's files read once
                self.found[folder] = scenario_files(Path(e.path).parent)
            found = self.found[folder]
            options = [(f.name, str(f)) for f in found if not _same_file(f, e.path)]
            self.files.options = sorted([*options, (Path(e.path).name, e.path)])
            self.files.value = e.path
            self.investors.options = [(e.labels[i], i) for i in e.choices]
            self.investors.value = e.investor
        finally:
            self.syncing = False
        self.title.value = f"<b>{e.title}</b>"
        self.values = dict(e.defaults)
        self.sliders, self.texts, rows = {}, {}, []
        for name, (lo, hi, step) in e.spans().items():
            slider = w.FloatSlider(
                value=e.defaults[name],
                min=lo,
                max=hi,
                step=step,
                description=e.names[name],
                continuous_update=False,
                readout=False,  # the readout is the text beside it, which a person may type in
                style={"description_width": "22rem"},
                layout=w.Layout(width="40rem"),
            )
            text = w.Text(
                value=e.readout(name, e.defaults[name]),
                continuous_update=False,
                layout=w.Layout(width="7rem"),
            )
            slider.observe(lambda c, n=name: self.moved(n, c["new"]), names="value")
            text.observe(lambda c, n=name: self.typed(n, c["new"]), names="value")
            self.sliders[name], self.texts[name] = slider, text
            rows.append(w.HBox([slider, text]))
        self.rows.children = rows
        self.redraw()

    def load(self, path: str, investor: str | None = None) -> None:
        """Explore another file or investor; an error is shown, and nothing changes."""
        if self.syncing or not path:
            return
        try:
            self.e.load(path, investor=investor)
        except ScenarioError as x:
            self.fail(str(x))
            return
        self.build()

    def moved(self, name: str, value: float) -> None:
        """A slider moved: its value on the slider's steps (no float noise), then a rerun."""
        if self.syncing:
            return
        step = repr(RANGES[name][2])
        self.values[name] = round(value, len(step.partition(".")[2]))
        self.put(name)
        self.redraw()

    def typed(self, name: str, text: str) -> None:
        """A readout typed in: read with the scenario language (``40%``), then a rerun; a value
        past the slider's end runs too (the slider stays at its end)."""
        if self.syncing:
            return
        try:
            self.values[name] = self.e.read(name, text)
        except ValueError as x:
            self.fail(f"{self.e.names[name]}: {x}")
            return
        self.put(name)
        self.redraw()

    def put(self, name: str) -> None:
        """Show ``values[name]`` on its slider and its readout, without a rerun."""
        self.syncing = True
        try:
            self.sliders[name].value = self.values[name]
            self.texts[name].value = self.e.readout(name, self.values[name])
        finally:
            self.syncing = False

    def back_to_defaults(self) -> None:
        self.values = dict(self.e.defaults)
        for name in self.values:
            self.put(name)
        self.redraw()

    def redraw(self) -> None:
        """Run the values shown and show the run; a run that fails shows its error instead,
        and no figure."""
        try:
            shown = self.e.update(**self.values)
        except (ScenarioError, ValueError) as x:
            self.fail(str(x))
            return
        except Exception as x:  # a bug: said in the widget too, never hidden behind old figures
            self.fail(f"internal error: {type(x).__name__}: {x}")
            raise
        self.e.shown, self.e.error = shown, ""
        self.status.value = ""
        self.command.value = _code(shown.command)
        table = shown.table()
        table.index.name = None
        said = f"<p>Deciding assumption: {html.escape(shown.assumption)}</p>"
        self.table.value = said + table.to_html(border=0)
        for image, fig in zip(self.charts, (shown.run_vs_twin, shown.flows), strict=True):
            png, size = _png(fig)
            image.value, image.width = png, str(size["width"])
            image.layout.display = None

    def fail(self, message: str) -> None:
        """Show ``message`` (the first line) and no figure: the table and charts cleared."""
        line = message.splitlines()[0] if message else "the run failed"
        self.e.shown, self.e.error = None, line
        self.status.value = _ERROR.format(html.escape(line))
        try:  # the command that gives the same error, where one can be written
            self.command.value = _code(self.e.command(**self.values))
        except (ScenarioError, ValueError):
            self.command.value = ""
        self.table.value = _GREY.format("No figures: the run for these values failed.")
        for image in self.charts:
            image.value = b""
            image.layout.display = "none"

    def export(self) -> None:
        try:
            written = self.e.export(self.folder.value.strip())
        except (ScenarioError, ValueError) as x:
            self.saved.value = _ERROR.format(html.escape(str(x).splitlines()[0]))
            return
        names = ", ".join(p.name for p in written)
        self.saved.value = _GREY.format(html.escape(f"Saved {self.folder.value.strip()}/: {names}"))


def _same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    return os.path.abspath(a) == os.path.abspath(b)


def _code(command: str) -> str:
    return (
        '<div style="padding:0.3em 0">The same run from a terminal: '
        f'<code style="white-space:pre-wrap">{html.escape(command)}</code></div>'
    )
