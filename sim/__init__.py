"""roundtrip: a simulator of circular money flows in AI.

An investor puts money into an AI lab, the lab buys compute from the investor's own cloud, and
the money comes back as cloud revenue. ``load_scenario`` reads a YAML scenario, ``run`` simulates
it on a SimPy event loop with an exact, traced ledger, and the ``Result`` gives metrics, ledger
and balances as pandas objects.

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
    from sim.loader import load_scenario as load_scenario
    from sim.loader import parse_scenario as parse_scenario
    from sim.result import BatchResult as BatchResult
    from sim.result import Result as Result
    from sim.runner import run as run
    from sim.runner import run_batch as run_batch
    from sim.sensitivity import sensitivity as sensitivity

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
    "sensitivity": "sim.sensitivity",
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
