"""Batches: each run of a batch gives exactly what running it alone gives, to the cent."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

import sim

# One investor owning one of two clouds, a lab short of cash part of the time, a take-or-pay
# contract with its own payment terms: every kind of record, and cash running out.
BASE = """\
name: batch base
start: 2026-01-31
horizon: 2y
step: 1mo
tracing: {tracing}
agents:
  inv: {{kind: investor, owns: [own]}}
  lab:
    kind: lab
    cash: 2B
    revenue: {{annual: 6B, growth: 30%}}
    spending:
      compute: {{annual: 12B, growth: 40%, providers: {{own: 40%, rival: 35%}}}}
      other: {{annual: 2B}}
  own: {{kind: cloud, margin: 35%, payment_terms: 30d}}
  rival: {{kind: cloud, margin: 10%}}
deals:
  - kind: investment
    investor: inv
    lab: lab
    pre_money: 90B
    tranches:
      - {{at: 2026-01-31, amount: 5B}}
      - {{at: 2026-09-15, amount: 3B}}
  - {{kind: compute_contract, lab: lab, cloud: rival, total: 4B, over: 1y, payment_terms: 15d}}
"""

# Same structure, other values: shares, tranche dates and amounts, margins, terms, growth, cash.
VARIANTS: list[dict[str, Any]] = [
    {},
    {"agents.lab.spending.compute.providers.own": "10%"},
    {"agents.lab.spending.compute.providers.own": "65%"},
    {"deals.0.tranches.1.at": "2027-06-30", "deals.0.tranches.0.amount": "0.5B"},
    {"deals.0.tranches.0.at": "2026-05-17", "deals.0.tranches.1.amount": "12.34B"},
    {"agents.own.margin": "0%", "agents.rival.margin": "89.5%"},
    {"agents.own.payment_terms": "0d", "deals.1.payment_terms": "60d"},
    {"agents.own.payment_terms": "45d", "deals.1.start": "2026-07-31"},
    {"agents.lab.revenue.growth": "-50%", "agents.lab.spending.compute.growth": "80%"},
    {"agents.lab.cash": "0.01", "agents.lab.spending.other.growth": "15%"},
]


def variants(tracing: str) -> list[sim.inputs.scenario.Scenario]:  # type: ignore[name-defined]
    base = BASE.format(tracing=tracing)
    return [sim.parse_scenario(base, "base.yaml", v) for v in VARIANTS]


def same(a: object, b: object) -> bool:
    """Equal, treating None and NaN alike (a metric that is undefined)."""
    if pd.isna(a) and pd.isna(b):  # type: ignore[arg-type]
        return True
    return a == b


def assert_same_run(got: sim.Result, alone: sim.Result) -> None:
    for frame in ("metrics", "metrics_by_lab", "lab_metrics"):
        assert_frame_equal(getattr(got, frame), getattr(alone, frame), check_exact=True)
    assert got.metrics_dict() == alone.metrics_dict()
    assert_frame_equal(
        got.ledger.reset_index(drop=True), alone.ledger.reset_index(drop=True), check_exact=True
    )


@pytest.fixture(scope="module", params=["pro_rata", "fifo"])
def batch_and_alone(request) -> tuple[sim.BatchResult, list[sim.Result]]:
    runs = variants(request.param)
    return sim.run_batch(runs, keep_balances=True), [sim.run(s) for s in runs]


def test_the_variants_really_differ(batch_and_alone) -> None:
    _, alone = batch_and_alone
    hashes = {r.metrics_dict()["inputs_hash"] for r in alone}
    round_trips = {r.metrics.loc["inv"].round_trip for r in alone}
    assert len(hashes) == len(VARIANTS)
    assert len(round_trips) >= len(VARIANTS) - 2
    assert any(r.lab_metrics.loc["lab"].cash_out_date is not None for r in alone)


def test_each_run_of_a_batch_equals_the_run_alone(batch_and_alone) -> None:
    batch, alone = batch_and_alone
    assert len(batch) == len(alone)
    for i, single in enumerate(alone):
        assert_same_run(batch[i], single)


def test_each_runs_balances_in_a_batch_equal_the_run_alone(batch_and_alone) -> None:
    batch, alone = batch_and_alone
    for i, single in enumerate(alone):
        assert_frame_equal(batch[i].balances, single.balances, check_exact=True)


def test_batch_metrics_table_holds_each_runs_metrics(batch_and_alone) -> None:
    batch, alone = batch_and_alone
    table = batch.metrics
    assert list(table.index.names) == ["run", "investor"]
    for i, single in enumerate(alone):
        row, expected = table.loc[(i, "inv")], single.metrics.loc["inv"]
        for name, value in expected.items():
            if name.startswith("incremental_payback_date") and value is not None:
                value = pd.Timestamp(value)
            assert same(row[name], value), (i, name, row[name], value)


def test_a_batch_of_one_equals_a_single_run() -> None:
    s = variants("fifo")[3]
    batch = sim.run_batch([s], keep_balances=True)
    alone = sim.run(s)
    assert len(batch) == 1
    assert_same_run(batch[0], alone)
    assert batch[0].summary() == alone.summary()
    assert_frame_equal(batch[0].balances, alone.balances, check_exact=True)


def test_a_batch_kept_without_balances_says_so() -> None:
    batch = sim.run_batch(variants("pro_rata")[:2])
    with pytest.raises(ValueError, match="keep_balances=False"):
        _ = batch[0].balances
    assert batch[0].check["balanced"] is True


NEW_CLOUD = {
    "agents.other": {"kind": "cloud", "margin": 0.1},
    "agents.lab.spending.compute.providers.other": "5%",
}


@pytest.mark.parametrize(
    "change",
    [
        {"step": "1d"},
        {"start": "2026-01-30"},
        {"tracing": "fifo"},
        {"deals.0.tranches.2": {"at": "2026-12-01", "amount": "1B"}},
        NEW_CLOUD,
    ],
    ids=["step", "start", "tracing", "tranches", "providers"],
)
def test_a_batch_of_different_structures_is_refused(change: dict[str, Any]) -> None:
    base = BASE.format(tracing="pro_rata")
    runs = [sim.parse_scenario(base, "a.yaml"), sim.parse_scenario(base, "b.yaml", change)]
    with pytest.raises(ValueError, match=r"run 1 \('batch base'\) differs in structure from run 0"):
        sim.run_batch(runs)


def test_an_empty_batch_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one scenario"):
        sim.run_batch([])


def pct(lo: int, hi: int) -> st.SearchStrategy[str]:
    return st.integers(lo * 100, hi * 100).map(lambda bp: f"{bp / 100}%")


IN_HORIZON = st.dates(dt.date(2026, 1, 31), dt.date(2028, 1, 30))
RANDOM_VARIANT = st.fixed_dictionaries(
    {
        "agents.lab.spending.compute.providers.own": pct(0, 65),
        "agents.lab.cash": st.integers(0, 10**12).map(lambda c: f"{c / 100:.2f}"),
        "agents.lab.revenue.growth": pct(-50, 80),
        "agents.own.margin": pct(0, 89),
        "agents.own.payment_terms": st.integers(0, 60).map(lambda d: f"{d}d"),
        "deals.0.tranches.0.at": IN_HORIZON,
        "deals.0.tranches.1.at": IN_HORIZON,
        "deals.0.tranches.1.amount": st.integers(1, 10**12).map(lambda c: f"{c / 100:.2f}"),
        "deals.1.payment_terms": st.integers(0, 60).map(lambda d: f"{d}d"),
    }
)


@settings(max_examples=15, deadline=None)
@given(
    st.sampled_from(["pro_rata", "fifo"]),
    st.lists(RANDOM_VARIANT, min_size=2, max_size=4),
)
def test_random_batches_equal_their_runs_alone(tracing: str, changes: list[dict[str, Any]]) -> None:
    runs = [sim.parse_scenario(BASE.format(tracing=tracing), "base.yaml", c) for c in changes]
    batch = sim.run_batch(runs)
    for i, s in enumerate(runs):
        assert_same_run(batch[i], sim.run(s))


@pytest.mark.parametrize("tracing", ["pro_rata", "fifo"])
def test_the_same_scenario_run_twice_gives_identical_results(tracing: str) -> None:
    s = variants(tracing)[4]
    first, second = sim.run(s), sim.run(s)
    assert_same_run(first, second)
    assert_frame_equal(first.balances, second.balances, check_exact=True)
    assert first.to_json() == second.to_json()
    assert not math.isnan(first.metrics.loc["inv"].round_trip)


def test_a_scenario_repeated_in_a_batch_is_planned_once_with_the_same_arrays() -> None:
    """build_plan plans a repeated scenario object (a run and its twins) once and repeats its
    column; every array of the Plan must be what planning each copy separately gives."""
    import copy
    import dataclasses

    from sim.model.schedule import build_plan

    path = Path(__file__).resolve().parent.parent / "scenarios" / "amazon_openai_50b.yaml"
    a = sim.load_scenario(path)
    b = sim.load_scenario(path, ["agents.aws.margin=40%"])
    repeated = build_plan([a, b, a, a])
    copies = build_plan([a, b, copy.deepcopy(a), copy.deepcopy(a)])

    def same(x: object, y: object, where: str) -> None:
        if isinstance(x, np.ndarray):
            assert isinstance(y, np.ndarray) and x.dtype == y.dtype, where
            np.testing.assert_array_equal(x, y, err_msg=where)
            return
        if dataclasses.is_dataclass(x) and not isinstance(x, type):
            for f in dataclasses.fields(x):
                if f.name != "scenarios":
                    same(getattr(x, f.name), getattr(y, f.name), f"{where}.{f.name}")
        elif isinstance(x, dict):
            assert isinstance(y, dict) and x.keys() == y.keys(), where
            for k in x:
                same(x[k], y[k], f"{where}[{k}]")
        elif isinstance(x, list) and x and not isinstance(x[0], str):
            assert isinstance(y, list) and len(x) == len(y), where
            for k, (u, v) in enumerate(zip(x, y, strict=True)):
                same(u, v, f"{where}[{k}]")
        else:
            assert x == y, where

    same(repeated, copies, "plan")
    # the repeated columns are fresh arrays: zeroing a twin's column leaves its run alone
    repeated.investments[0].amounts[:, 2] = 0
    assert repeated.investments[0].amounts[:, 0].any()
