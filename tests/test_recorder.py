"""The two recorders (sim/model/recorder.py): the full ledger and the flow matrix give the same
figures.

The flows recorder keeps cents summed by flow (payer, payee, kind, deal), origin and run, and
the records of the few kinds whose date a metric reads; the ledger recorder keeps every record.
Metrics read only the flow matrix and the timed records, so each figure must be the same, bit
for bit, under both; the flow matrix must be the ledger's records summed by flow; the books
check must replay it; and it must take a fraction of the ledger's memory.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from test_conservation import scenarios as random_scenarios

import sim
from sim.analysis.metrics import Metrics
from sim.model.recorder import KIND, TIMED

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = sorted((ROOT / "scenarios").glob("*.yaml"))


def assert_same_metrics(a: Metrics, b: Metrics) -> None:
    """Every metric array of ``a`` equals ``b``'s exactly (nan where nan)."""
    for part in ("investors", "by_lab", "labs"):
        left, right = getattr(a, part), getattr(b, part)
        assert left.keys() == right.keys()
        for key in left:
            assert left[key].keys() == right[key].keys()
            for name in left[key]:
                np.testing.assert_array_equal(left[key][name], right[key][name], err_msg=name)


def without_check(d: dict[str, Any]) -> dict[str, Any]:
    """A metrics dict without the books check, whose record count differs by recorder."""
    return {k: v for k, v in d.items() if k != "check"}


def both(scenarios: list[sim.Scenario]) -> tuple[sim.BatchResult, sim.BatchResult]:
    return (
        sim.run_batch(scenarios, record="ledger"),
        sim.run_batch(scenarios, record="flows"),
    )


def check_flows_are_the_ledger_summed(full: sim.BatchResult, lean: sim.BatchResult) -> None:
    led, flows = full.data.ledger, lean.data.flows
    assert led is not None and lean.data.ledger is None
    keys = list(zip(flows.payer, flows.payee, flows.kind, flows.deal, strict=True))
    assert len(set(keys)) == len(keys)  # each flow once
    for f, (payer, payee, kind, deal) in enumerate(keys):
        rows = (led.payer == payer) & (led.payee == payee) & (led.kind == kind)
        rows &= led.deal == deal
        np.testing.assert_array_equal(led.cents[rows].sum(axis=0), flows.cents[f])
    # every ledger record is in some flow: the totals agree
    np.testing.assert_array_equal(led.cents.sum(axis=0), flows.cents.sum(axis=0))
    timed = np.isin(led.kind, TIMED)
    np.testing.assert_array_equal(led.time[timed], lean.data.timed.time)
    np.testing.assert_array_equal(led.cents[timed].sum(axis=1), lean.data.timed.amount)


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_every_bundled_scenario_gives_the_same_metrics_under_both_recorders(path: Path) -> None:
    s = sim.load_scenario(path)
    full, lean = both([s])
    assert_same_metrics(full.all_metrics, lean.all_metrics)
    check_flows_are_the_ledger_summed(full, lean)
    assert lean[0].check["balanced"] and lean[0].check["ledger_replays"]
    assert without_check(lean[0].metrics_dict()) == without_check(full[0].metrics_dict())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_scenarios())
def test_random_scenarios_give_the_same_metrics_under_both_recorders(data: dict[str, Any]) -> None:
    s = sim.parse_scenario(yaml.safe_dump(data, sort_keys=False), "random.yaml")
    full, lean = both([s])
    assert_same_metrics(full.all_metrics, lean.all_metrics)
    check_flows_are_the_ledger_summed(full, lean)


def test_a_batch_under_the_flows_recorder_equals_each_run_alone_with_run() -> None:
    template = sim.load_template(ROOT / "tests" / "data" / "amazon_openai_50b_first.yaml")
    draws = ["agents.aws.margin~uniform(25%,45%)", "agents.openai.revenue.growth~normal(50%,15%)"]
    scenarios = [s for _, s in sim.draw(template, 12, seed=7, specs=draws)]
    lean = sim.run_batch(scenarios, record="flows")
    for k, s in enumerate(scenarios):
        alone = sim.run(s)  # the default: the whole ledger
        assert without_check(lean[k].metrics_dict()) == without_check(alone.metrics_dict())
        assert lean[k].check["recorder"] == "flows" and alone.check["recorder"] == "ledger"


def test_the_flows_recorder_refuses_the_ledger_with_a_clear_error_and_keeps_the_check() -> None:
    s = sim.load_scenario(ROOT / "scenarios" / "toy_round_trip.yaml")
    r = sim.run(s, record="flows", keep_balances=False)
    with pytest.raises(ValueError, match="flows only"):
        _ = r.ledger_table
    check = r.check
    assert check["balanced"] and check["records"] > 0
    # the flow count is the number of distinct (payer, payee, kind, deal) with cents in them
    full = sim.run(s)
    led = full.ledger
    assert check["records"] == len(led.groupby(["payer", "payee", "kind", "deal"]))
    with pytest.raises(ValueError, match="recorders are ledger, flows"):
        sim.run(s, record="sums")


def test_a_corrupted_flow_turns_the_check_false() -> None:
    import dataclasses

    from sim.analysis.result import Result

    s = sim.load_scenario(ROOT / "scenarios" / "toy_round_trip.yaml")
    good = sim.run(s, record="flows", keep_balances=False)
    flows = dataclasses.replace(good.data.flows, cents=good.data.flows.cents.copy())
    compute = int(np.flatnonzero(flows.kind == KIND["compute"])[0])
    flows.cents[compute, 0, 0] += 1
    bad = Result(s, dataclasses.replace(good.data, flows=flows), good.all_metrics)
    assert not bad.check["ledger_replays"] and not bad.check["balanced"]


def _peak(fn: Any) -> int:
    fn()  # kernels loaded and lazy imports done before measuring
    tracemalloc.start()
    try:
        kept = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del kept
    return peak


def test_the_flows_recorder_takes_a_fraction_of_the_ledgers_memory() -> None:
    s = sim.load_scenario(ROOT / "tests" / "data" / "amazon_openai_50b_first.yaml")
    scenarios = [s] * 300
    full = _peak(lambda: sim.run_batch(scenarios, record="ledger"))
    lean = _peak(lambda: sim.run_batch(scenarios, record="flows"))
    assert lean < 0.5 * full, (lean, full)
    # and the memory estimate says so before the run
    from sim.model import budget
    from sim.model.schedule import build_plan
    from sim.model.twin import plan_twins

    plan = build_plan(plan_twins(scenarios).expand(scenarios))
    ledger_est = budget.estimate(plan, keep_balances=False)
    flows_est = budget.estimate(plan, keep_balances=False, record="flows")
    assert flows_est.total < 0.5 * ledger_est.total
    assert 0.5 * lean <= flows_est.total <= 2 * lean, (flows_est.total, lean)
