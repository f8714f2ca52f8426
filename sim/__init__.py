"""roundtrip: a simulator of circular money flows in AI.

An investor puts money into an AI lab, the lab buys compute from the investor's own cloud, and
the money comes back as cloud revenue. ``load_scenario`` reads a YAML scenario, ``run`` simulates
it on a SimPy event loop with an exact, traced ledger, and the ``Result`` gives metrics, ledger
and balances as pandas objects. ``load_template`` reads a file once to make many scenarios from it
(``grid`` of sweeps, ``draw`` from distributions).

The names below are imported on first use (PEP 562), so that ``roundtrip --help`` and
``roundtrip validate`` do not pay for pandas and the engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what type checkers and editors see; at run time, __getattr__ below
    from sim.compare import compare as compare
    from sim.errors import ConservationError as ConservationError
    from sim.errors import ScenarioError as ScenarioError
    from sim.farm import monte_carlo as monte_carlo
    from sim.farm import sweep as sweep
    from sim.loader import load_scenario as load_scenario
    from sim.loader import parse_scenario as parse_scenario
    from sim.result import BatchResult as BatchResult
    from sim.result import Result as Result
    from sim.runner import run as run
    from sim.runner import run_batch as run_batch
    from sim.sensitivity import sensitivity as sensitivity
    from sim.vary import Distribution as Distribution
    from sim.vary import Sweep as Sweep
    from sim.vary import Template as Template
    from sim.vary import describe as describe
    from sim.vary import draw as draw
    from sim.vary import first_point as first_point
    from sim.vary import grid as grid
    from sim.vary import load_template as load_template
    from sim.vary import parse_vary as parse_vary

_WHERE = {
    "BatchResult": "sim.result",
    "ConservationError": "sim.errors",
    "compare": "sim.compare",
    "Result": "sim.result",
    "ScenarioError": "sim.errors",
    "load_scenario": "sim.loader",
    "parse_scenario": "sim.loader",
    "run": "sim.runner",
    "run_batch": "sim.runner",
    "Distribution": "sim.vary",
    "Sweep": "sim.vary",
    "Template": "sim.vary",
    "describe": "sim.vary",
    "draw": "sim.vary",
    "first_point": "sim.vary",
    "grid": "sim.vary",
    "load_template": "sim.vary",
    "parse_vary": "sim.vary",
    "sensitivity": "sim.sensitivity",
    "sweep": "sim.farm",
    "monte_carlo": "sim.farm",
}
__all__ = sorted(_WHERE)
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
