"""Where a run is made: one scenario, or a batch through one event loop.

Each run carries its counterfactual twins in the same batch (sim/model/twin.py). Both calls run in
this process; many runs are farmed out in chunks, each a ``run_batch``, by sim/runs/farm.py. Before
either starts the event loop, the run's memory is estimated from its Plan and a run past the
memory budget is refused (sim/model/budget.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from sim.analysis import metrics
from sim.analysis.matrices import check as check_matrices
from sim.analysis.result import BatchResult, Result
from sim.errors import ScenarioError
from sim.inputs.scenario import Scenario
from sim.model import budget
from sim.model.engine import simulate
from sim.model.recorder import RECORDERS
from sim.model.schedule import Plan, build_plan
from sim.model.twin import Twins, plan_twins


def _plan(
    scenarios: Sequence[Scenario],
    twins: Twins,
    *,
    keep_balances: bool,
    memory_budget: str | int | None,
    record: str,
) -> tuple[Plan, budget.Estimate]:
    """The batch's Plan with its twins (what each drops zeroed, how each replaces it set), once
    its memory estimate is within the budget, and the estimate."""
    if record not in RECORDERS:
        raise ValueError(f"record={record!r}: the recorders are {', '.join(RECORDERS)}")
    try:
        plan = build_plan(twins.expand(scenarios))
        twins.drop(plan)
        est = budget.check_plan(
            plan, keep_balances=keep_balances, budget=memory_budget, record=record
        )
    except ScenarioError as e:
        if e.file is None:
            e.file = scenarios[0].source
        raise
    return plan, est


def run(
    scenario: Scenario,
    *,
    keep_balances: bool = True,
    memory_budget: str | int | None = None,
    record: str = "ledger",
    bounds: bool = True,
) -> Result:
    """Run one scenario; the books are checked to the cent before this returns.

    ``record``: ``"ledger"`` keeps every record (the ledger file, the charts, the report);
    ``"flows"`` keeps only the flow matrix and the timed records that the metrics read
    (sim/model/recorder.py): the same metrics, a fraction of the memory.

    A run whose memory estimate exceeds ``memory_budget`` (bytes, or a size such as ``"8GiB"``;
    default ``ROUNDTRIP_MEMORY_BUDGET``, else 4 GiB) is refused with ScenarioError before it
    starts. ``bounds``: as for ``run_batch``."""
    twins = plan_twins([scenario], bounds=bounds)
    plan, est = _plan(
        [scenario],
        twins,
        keep_balances=keep_balances,
        memory_budget=memory_budget,
        record=record,
    )
    data = simulate(plan, keep_balances=keep_balances, record=record, timed=est.timed)
    check_matrices(data)  # every row and column of the accounting matrices sums to zero
    return Result(scenario, data, metrics.compute(data, twins))


def run_batch(
    scenarios: Sequence[Scenario],
    *,
    keep_balances: bool = False,
    memory_budget: str | int | None = None,
    record: str = "ledger",
    bounds: bool = True,
) -> BatchResult:
    """Run scenarios of the same structure together, every amount an array over runs.

    Each run's figures are identical to running it alone, under either recorder (``record``, as
    for ``run``; sweeps and Monte Carlo use ``"flows"``). The whole batch is held in memory at
    once: past ``memory_budget`` (as for ``run``) it is refused before it starts; split it.

    ``bounds``: run each investor's twins under the two substitutions the file does not choose
    too (docs/metrics.md, "Substitution"), as ``run`` does; sweeps and Monte Carlo pass False
    (their ``_substitution_`` figures are nan): those twins make a batch 1.7-3.5 times slower."""
    twins = plan_twins(scenarios, bounds=bounds)
    plan, est = _plan(
        scenarios,
        twins,
        keep_balances=keep_balances,
        memory_budget=memory_budget,
        record=record,
    )
    data = simulate(plan, keep_balances=keep_balances, record=record, timed=est.timed)
    check_matrices(data)  # every row and column of the accounting matrices sums to zero
    return BatchResult(list(scenarios), data, metrics.compute(data, twins))
