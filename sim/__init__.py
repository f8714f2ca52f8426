"""roundtrip: a simulator of circular money flows in AI.

An investor puts money into an AI lab, the lab buys compute from the investor's own cloud, and
the money comes back as cloud revenue. ``load_scenario`` reads a YAML scenario, ``run`` simulates
it on a SimPy event loop with an exact, traced ledger, and the ``Result`` gives metrics, ledger
and balances as pandas objects.
"""

from sim.errors import ConservationError, ScenarioError
from sim.loader import load_scenario, parse_scenario
from sim.result import BatchResult, Result
from sim.runner import run, run_batch

__all__ = [
    "BatchResult",
    "ConservationError",
    "Result",
    "ScenarioError",
    "load_scenario",
    "parse_scenario",
    "run",
    "run_batch",
]
__version__ = "0.1.0"
