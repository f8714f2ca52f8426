"""An interactive what-if for one scenario file, for notebooks: five sliders rerun the engine.

``Explorer(path)`` picks the loop to explore (the first investor that owns a cloud and invests,
its first deal's lab, and the first of its clouds that lab buys from by share) and offers five
inputs: the share of the lab's compute bought at that cloud (the lab's other providers rescaled
so that the total stays as written, as a sweep does), the deal's amount (its tranches scaled),
the cloud's margin, the lab's revenue growth and the scenario's discount rate. ``update(...)``
makes the run for a set of values and its two charts (the flow diagram and the run against its
twin) and a table of what the investment caused beside the traced figures; ``widget()`` lays
the sliders out with ipywidgets and calls ``update`` on every change. A single run takes
milliseconds, so the charts follow the sliders.

Everything here is the public API's: a value left at the file's own is not set at all, so the
defaults give the file's run exactly (``sim.run(sim.load_scenario(path))``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sim.errors import ScenarioError
from sim.inputs.names import input_name
from sim.inputs.specs import varied_input
from sim.inputs.units import format_dollars
from sim.ranges.vary import Point, Template, load_template

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from sim.analysis.result import Result

# control -> (lowest, highest, step) a slider offers: a view's choice, kept inside the bounds each
# input declares (sim.inputs.values.Declared, Explorer.spans); shares as fractions, the amount
# in billions of dollars. A slider is labelled with its input's human name (Explorer.names).
RANGES = {
    "share": (0.0, 1.0, 0.01),
    "amount": (1.0, 200.0, 1.0),
    "margin": (0.0, 0.9, 0.01),
    "growth": (-0.5, 2.0, 0.01),
    "discount_rate": (0.0, 0.3, 0.005),
}
CAUSED = ("incremental_revenue", "incremental_profit", "net_cost")
TRACED = ("round_trip", "round_trip_ratio")


@dataclass(frozen=True)
class Shown:
    """What the explorer shows for one set of values: the run, its two charts, its figures."""

    values: dict[str, float]
    result: Result
    flows: Figure  # the flow diagram
    run_vs_twin: Figure  # the cloud's revenue in the run and in its twin
    figures: pd.DataFrame  # the investor's caused figures, then the traced: value (dollars or a
    # fraction) and shown ($81.51B, 17.2%)


class Explorer:
    """The loop of one scenario file, with five inputs to move (see the module's docstring)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        investor: str | None = None,
        size: tuple[float, float] = (11.0, 6.2),
    ) -> None:
        self.template: Template = load_template(path)
        s = Point(self.template, ()).scenario()  # the file's own, at its first point
        owners = [i for i, inv in s.investors.items() if inv.owns]
        investing = [i for i in owners if any(d.investor == i for d in s.investments)]
        if investor is None:
            if not investing:
                raise ScenarioError(
                    "no investor in this file owns a cloud and invests: nothing to explore",
                    file=os.fspath(path),
                )
            investor = investing[0]
        if investor not in investing:
            raise ScenarioError(
                f"{investor!r} is not an investor that owns a cloud and invests here; choose "
                f"from {', '.join(investing) or 'none'}",
                file=os.fspath(path),
            )
        self.investor = investor
        deal = next(k for k, d in enumerate(s.investments) if d.investor == investor)
        self.lab = s.investments[deal].lab
        providers = s.labs[self.lab].providers
        clouds = [c for c in s.investors[investor].owns if c in providers]
        if not clouds:
            raise ScenarioError(
                f"{self.lab} buys from none of {investor}'s clouds by share: no share to move",
                file=os.fspath(path),
            )
        self.cloud = clouds[0]
        self.size = size
        self.shown: Shown | None = None  # what the widget last showed
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
        self.defaults = {
            "share": float(providers[self.cloud]),
            "amount": d.total / 1e11,  # cents -> $B
            "margin": float(s.sellers[self.cloud].margin),
            "growth": float(s.labs[self.lab].revenue.growth),
            "discount_rate": float(s.discount_rate),
        }

    def spans(self) -> dict[str, tuple[float, float, float]]:
        """Each control's slider: (lowest, highest, step), the span of ``RANGES`` cut to the
        bounds its input declares (an excluded end one step inside) and widened to hold the
        file's own value."""
        out = {}
        for name, (lo, hi, step) in RANGES.items():
            d = self.declared[name]
            scale = 1e11 if d.kind == "amount" else 1.0  # cents -> $B
            lo = max(lo, d.lo / scale + (step if d.lo_open else 0.0))
            hi = min(hi, d.hi / scale - (step if d.hi_open else 0.0))
            default = self.defaults[name]
            out[name] = (min(lo, default), max(hi, default), step)
        return out

    def _deal_index(self, investment: int) -> int:
        """The position in the file's ``deals:`` list of the ``investment``-th investment."""
        deals = self.template.ranges.base.data.get("deals", [])
        at = [
            k for k, d in enumerate(deals) if isinstance(d, dict) and d.get("kind") == "investment"
        ]
        return at[investment]

    def scenario(self, **values: float) -> Any:
        """The scenario for ``values`` (control -> value, as in ``RANGES``); a value equal to the
        file's own is not set."""
        changed = self._changed(values)
        return Point(self.template, tuple(changed)).scenario()

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
        """The ``--set PATH=VALUE`` a command line would take for ``values`` (the provider
        rescaling and the tranche scaling aside: those are the explorer's, as a sweep's)."""
        return [f"{path}={value}" for path, value, _ in self._changed(values)]

    def update(self, **values: float) -> Shown:
        """Run the scenario for ``values`` (the others at the file's own) and draw its charts."""
        import pandas as pd

        import sim
        from sim.views.charts import flow_diagram, run_vs_twin

        full = {**self.defaults, **values}
        result = sim.run(self.scenario(**values))
        m: dict[str, Any] = result.metrics_dict()["investors"][self.investor]  # dollars

        def shown(k: str) -> str:
            v = float(m[k])
            return f"{v:.1%}" if k.endswith("_ratio") else format_dollars(v * 100)

        rows = [(f"caused: {k.replace('_', ' ')}", m[k], shown(k)) for k in CAUSED]
        rows += [(f"traced: {k.replace('_', ' ')}", m[k], shown(k)) for k in TRACED]
        figures = pd.DataFrame(rows, columns=["figure", "value", "shown"]).set_index("figure")
        return Shown(
            values=full,
            result=result,
            flows=flow_diagram(result, size=self.size),
            run_vs_twin=run_vs_twin(result, size=self.size),
            figures=figures,
        )

    def widget(self) -> Any:
        """The sliders and what they show, as an ipywidgets box (``pip install
        'roundtrip[notebooks]'``); each change reruns ``update``."""
        import ipywidgets as w
        from IPython.display import display

        sliders = {}
        for name, (lo, hi, step) in self.spans().items():
            d = self.declared[name]  # its kind says how the readout shows it
            sliders[name] = w.FloatSlider(
                value=self.defaults[name],
                min=lo,
                max=hi,
                step=step,
                description=self.names[name],
                continuous_update=False,
                readout_format=".1%" if d.kind == "share" else ".0f",
                style={"description_width": "initial"},
                layout=w.Layout(width="32rem"),
            )
        out = w.Output()

        def redraw(_: Any = None) -> None:
            shown = self.update(**{k: s.value for k, s in sliders.items()})
            self.shown = shown  # what the widget shows now
            out.clear_output(wait=True)
            with out:
                display(shown.figures[["shown"]], shown.run_vs_twin, shown.flows)

        for s in sliders.values():
            s.observe(redraw, names="value")
        redraw()
        return w.VBox([*sliders.values(), out])
