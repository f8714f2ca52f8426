"""Where runs are farmed out: one scenario, or a batch through one event loop.

Today everything runs in this process; sweeps, Monte Carlo and the Dask backend will come in
behind the same two calls.
"""

from __future__ import annotations

from collections.abc import Sequence

from sim import metrics
from sim.engine import simulate
from sim.errors import ScenarioError
from sim.result import BatchResult, Result
from sim.scenario import Scenario
from sim.schedule import Plan, build_plan


def _plan(scenarios: Sequence[Scenario]) -> Plan:
    try:
        return build_plan(list(scenarios))
    except ScenarioError as e:
        if e.file is None:
            e.file = scenarios[0].source
        raise


def run(scenario: Scenario, *, keep_balances: bool = True) -> Result:
    """Run one scenario; the books are checked to the cent before this returns."""
    data = simulate(_plan([scenario]), keep_balances=keep_balances)
    return Result(scenario, data, metrics.compute(data))


def run_batch(scenarios: Sequence[Scenario], *, keep_balances: bool = False) -> BatchResult:
    """Run scenarios of the same structure together, every amount an array over runs.

    Each run's figures are identical to running it alone.
    """
    data = simulate(_plan(scenarios), keep_balances=keep_balances)
    return BatchResult(list(scenarios), data, metrics.compute(data))
