"""roundtrip: a simulator of circular money flows in AI.

An investor puts money into an AI lab, the lab buys compute from the investor's own cloud, and
the money comes back as cloud revenue. ``load_scenario`` reads a YAML scenario, ``run`` simulates
it on a SimPy event loop with an exact, traced ledger, and the ``Result`` gives metrics, ledger
and balances as pandas objects. ``load_template`` reads a file once to make many scenarios from it
(``grid`` of sweeps, ``draw`` from distributions).

The names below are imported on first use (PEP 562), so that ``roundtrip --help`` and
``roundtrip validate`` do not pay for pandas and the engine. The package stands above its
layers: ``sweep``, ``monte_carlo``, ``sensitivity`` and ``compare`` are the studies of
sim.runs.studies, handed the chart functions of sim.views.charts when charts are asked for (the
runs layer comes before the views layer and does not import it).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what type checkers and editors see; at run time, __getattr__ below
    from sim.analysis.result import BatchResult as BatchResult
    from sim.analysis.result import Result as Result
    from sim.errors import ConservationError as ConservationError
    from sim.errors import ScenarioError as ScenarioError
    from sim.inputs.loader import load_scenario as load_scenario
    from sim.inputs.loader import parse_scenario as parse_scenario
    from sim.ranges.vary import Distribution as Distribution
    from sim.ranges.vary import Sweep as Sweep
    from sim.ranges.vary import Template as Template
    from sim.ranges.vary import describe as describe
    from sim.ranges.vary import draw as draw
    from sim.ranges.vary import first_point as first_point
    from sim.ranges.vary import grid as grid
    from sim.ranges.vary import load_template as load_template
    from sim.ranges.vary import parse_vary as parse_vary
    from sim.runs.runner import run as run
    from sim.runs.runner import run_batch as run_batch
    from sim.runs.studies import compare as compare
    from sim.runs.studies import monte_carlo as monte_carlo
    from sim.runs.studies import sensitivity as sensitivity
    from sim.runs.studies import sweep as sweep

_WHERE = {
    "BatchResult": "sim.analysis.result",
    "ConservationError": "sim.errors",
    "compare": "sim.runs.studies",
    "Result": "sim.analysis.result",
    "ScenarioError": "sim.errors",
    "load_scenario": "sim.inputs.loader",
    "parse_scenario": "sim.inputs.loader",
    "run": "sim.runs.runner",
    "run_batch": "sim.runs.runner",
    "Distribution": "sim.ranges.vary",
    "Sweep": "sim.ranges.vary",
    "Template": "sim.ranges.vary",
    "describe": "sim.ranges.vary",
    "draw": "sim.ranges.vary",
    "first_point": "sim.ranges.vary",
    "grid": "sim.ranges.vary",
    "load_template": "sim.ranges.vary",
    "parse_vary": "sim.ranges.vary",
    "sensitivity": "sim.runs.studies",
    "sweep": "sim.runs.studies",
    "monte_carlo": "sim.runs.studies",
}
_DRAWING = ("sweep", "monte_carlo", "sensitivity")  # studies that draw charts when asked
__all__ = sorted(_WHERE)

# The layers of the package, in pipeline order: a module imports only from its own layer and the
# layers before it (tests/test_architecture.py walks every import to hold this).
LAYERS = ("errors", "inputs", "ranges", "model", "analysis", "io", "runs", "views", "cli", "entry")
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
        if name in _DRAWING:
            value = _with_views(value)
        globals()[name] = value
        return value
    if name == "charts":  # the chart functions, as sim.charts.<name>
        return importlib.import_module("sim.views.charts")
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))


def _with_views(study: Callable[..., Any]) -> Callable[..., Any]:
    """``study`` handed the chart functions (``views=sim.views.charts``, imported only then)
    when called with ``charts``; its signature and docstring are the study's."""

    @functools.wraps(study)
    def public(*args: Any, **options: Any) -> Any:
        if options.get("charts") and options.get("views") is None:
            options["views"] = importlib.import_module("sim.views.charts")
        return study(*args, **options)

    return public
