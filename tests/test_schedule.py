"""Plans: flows per step, take-or-pay spreads, and the platform-independent exp/log."""

from __future__ import annotations

import math

import numpy as np
import pytest

import sim
from sim.model.accrual import det_expm1, det_log1p, flow_cents
from sim.model.schedule import build_plan


def test_det_log1p_and_expm1_match_the_math_library_to_double_precision():
    g = np.array([-0.9, -0.5, -0.2, -1e-6, 0.0, 1e-9, 0.05, 0.2, 0.4, 0.5, 1.0, 3.0, 9.0])
    assert np.allclose(det_log1p(g), [math.log1p(x) for x in g], rtol=2e-15, atol=1e-300)
    x = np.array([-5.0, -1.0, -0.3, -1e-8, 0.0, 1e-12, 0.2, 0.34, 0.7, 1.0, 3.3, 12.0])
    assert np.allclose(det_expm1(x), [math.expm1(v) for v in x], rtol=4e-15, atol=1e-300)


def test_flow_steps_add_up_to_the_integral_rounded_once():
    # 12B a year growing 50%: year 1 = 12B * 0.5 / ln 1.5 = $14,797,918,421.85 (in cents: x100)
    years = np.arange(13) / 12
    steps = flow_cents(np.array([1_200_000_000_000.0]), np.array([0.5]), years)
    assert steps.shape == (12, 1)
    assert steps.sum() == round(1_200_000_000_000 * 0.5 / math.log(1.5))
    assert (np.diff(steps[:, 0]) > 0).all()  # growing month by month


def test_flow_without_growth_is_the_annual_rate_times_the_year_fraction():
    steps = flow_cents(np.array([1_200.0]), np.array([0.0]), np.arange(13) / 12)
    assert steps[:, 0].tolist() == [100] * 12


def test_flows_past_the_exact_range_are_refused_as_bad_input():
    with pytest.raises(sim.ScenarioError, match="45 trillion"):
        flow_cents(np.array([1e15]), np.array([9.0]), np.arange(0, 31.0))


def test_take_or_pay_minimum_is_spread_evenly_and_sums_to_the_total(make_scenario):
    s = make_scenario(
        """
        name: contract only
        start: 2026-01-01
        horizon: 3y
        agents:
          lab: {kind: lab, cash: 100B}
          c: {kind: cloud, margin: 10%}
        deals:
          - {kind: compute_contract, lab: lab, cloud: c, total: 10B, over: 2y, start: 2026-07-01}
        """
    )
    plan = build_plan([s])
    m = plan.contracts[0].minimum[:, 0]
    assert m.sum() == 10 * 10**9 * 100
    assert (m[:6] == 0).all() and (m[30:] == 0).all()  # before the start and after the end
    # $10B over 24 months: $416,666,666.67 a month, each month within a cent of it
    assert np.abs(m[6:30] - 10e11 / 24).max() <= 1


def test_a_batch_plan_stacks_runs_and_refuses_different_structures(make_scenario):
    text = """
        name: b
        start: 2026-01-01
        horizon: 1y
        agents:
          lab: {kind: lab, cash: 1B, spending: {compute: {annual: 12B, providers: {c: 50%}}}}
          c: {kind: cloud, margin: 10%}
    """
    a, b = make_scenario(text), make_scenario(text, agents__c__margin="20%")
    plan = build_plan([a, b])
    assert plan.margins[0].tolist() == [0.1, 0.2]
    other = make_scenario(text, horizon="2y")
    with pytest.raises(ValueError, match="structure"):
        build_plan([a, other])
