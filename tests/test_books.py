"""The ledger's arithmetic: exact proportional splits, pro-rata and FIFO provenance, the check."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.errors import ConservationError
from sim.model.books import Books, Legs, allocate, repair, split_pro_rata

cents = st.integers(min_value=0, max_value=10**14)  # up to $1T


def test_allocate_splits_exactly_and_by_cumulative_rounding():
    # 100 cents in thirds: running shares 1/3, 2/3, 1 -> edges 33, 67, 100 -> parts 33, 34, 33
    parts = allocate(np.array([100]), np.array([[1], [1], [1]]))
    assert parts[:, 0].tolist() == [33, 34, 33]


def test_allocate_gives_nothing_when_all_weights_are_zero():
    # run 0: no weights, nothing; run 1: 5 halved -> edges round(2.5)=3 and 5 -> parts 3, 2
    assert allocate(np.array([0, 5]), np.array([[0, 1], [0, 1]])).tolist() == [[0, 3], [0, 2]]


@settings(max_examples=300, deadline=None)
@given(st.lists(cents, min_size=1, max_size=8), st.integers(min_value=0, max_value=10**6))
def test_allocate_never_exceeds_an_integer_weight_and_sums_exactly(weights, cut):
    w = np.array(weights, dtype=np.int64)[:, None]
    total = np.array([max(int(w.sum()) - cut, 0)])
    parts = allocate(total, w)
    assert parts.sum() == total[0]
    assert (parts >= 0).all()
    assert (parts <= w).all()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(cents, min_size=1, max_size=6),
    st.lists(st.floats(min_value=0, max_value=1), min_size=1, max_size=6),
    st.floats(min_value=0, max_value=1),
)
def test_pay_gives_each_payee_exactly_its_amount_and_no_origin_more_than_it_holds(
    pool, weights, used
):
    p = np.array(pool, dtype=np.int64)[:, None]
    total = int(round(int(p.sum()) * used))
    amounts = allocate(np.array([total]), np.array(weights)[:, None] + 1e-9)
    n = len(weights)
    opening = np.zeros((n + 1, len(pool), 1), dtype=np.int64)
    opening[0] = p
    books = Books([f"a{i}" for i in range(n + 1)], [f"o{i}" for i in range(len(pool))], opening)
    legs = Legs.of([(0, i, "compute", 0) for i in range(1, n + 1)])
    parts = books.pay(0, 0, legs, amounts)
    assert (parts.sum(axis=1) == amounts).all()
    assert (parts >= 0).all()
    assert (books.pool[0] == p - parts.sum(axis=0)).all()
    assert (books.pool >= 0).all()
    books.check()


def test_split_that_would_overdraw_an_origin_is_repaired_cent_by_cent():
    # pool 1 and 1 cents, two payees of 1 cent each: cells weigh 1,1,1,1 -> rounding can give
    # a payee the same origin twice over; repair must leave each origin paying exactly 1
    p = np.array([[1], [1]])
    amounts = np.array([[1], [1]])
    parts, overdrawn = split_pro_rata(p, amounts)
    assert overdrawn == bool((parts.sum(axis=0) > p).any())
    if overdrawn:
        repair(parts, p, amounts)
    assert parts.sum(axis=0).tolist() == [[1], [1]]
    assert parts.sum(axis=1).tolist() == [[1], [1]]


def test_pro_rata_payment_carries_the_pools_mix():
    # pool: 600 of origin 0, 300 of origin 1; pay 300 -> 200 and 100
    books = Books(["a", "b"], ["x", "y"], np.array([[[600], [300]], [[0], [0]]]))
    books.pay(0, 0, Legs.of([(0, 1, "compute", 0)]), np.array([[300]]))
    assert books.pool[1, :, 0].tolist() == [200, 100]
    books.check()


def test_fifo_payment_takes_the_oldest_cents_first():
    books = Books(
        ["a", "b", "src"],
        ["x", "y"],
        np.zeros((3, 2, 1), dtype=np.int64),
        tracing="fifo",
        external={2},
    )
    books.issue(0, Legs.of([(2, 0, "funding", 0)]), 0, np.array([500]))  # x arrives first
    books.issue(1, Legs.of([(2, 0, "revenue", 0)]), 1, np.array([500]))  # then y
    books.pay(2, 0, Legs.of([(0, 1, "compute", 0)]), np.array([[700]]))
    assert books.pool[1, :, 0].tolist() == [500, 200]
    books.check()


def test_check_fails_loudly_when_money_appears_from_nowhere():
    books = Books(["a", "b"], ["x"], np.array([[[100]], [[0]]]))
    books.pool[1, 0, 0] += 1
    with pytest.raises(ConservationError, match="do not balance"):
        books.check()


def test_paying_more_than_the_pool_holds_is_refused():
    books = Books(["a", "b"], ["x"], np.array([[[100]], [[0]]]))
    with pytest.raises(ConservationError):
        books.pay(0, 0, Legs.of([(0, 1, "compute", 0)]), np.array([[101]]))


def test_check_fails_loudly_when_the_ledger_does_not_replay_to_the_balances():
    books = Books(["a", "b"], ["x"], np.array([[[100]], [[0]]]))
    books.pay(0, 0, Legs.of([(0, 1, "compute", 0)]), np.array([[40]]))
    books.check()
    led = books.ledger()
    assert led is not None
    led.cents[0, 0, 0] += 1  # the record says 41 cents moved, the pools say 40
    with pytest.raises(ConservationError, match="replay"):
        books.check()


def test_check_fails_loudly_when_the_flow_matrix_does_not_replay_to_the_balances():
    books = Books(["a", "b"], ["x"], np.array([[[100]], [[0]]]), record="flows", n_deals=1)
    legs = Legs.of([(0, 1, "compute", 0)])
    books.pay(0, 0, legs, np.array([[40]]))
    books.pay(3, 0, legs, np.array([[25]]))
    assert books.ledger() is None  # flows only
    flows, timed = books.flows_and_timed(None)
    assert flows.cents.tolist() == [[[65]]]  # two records, one flow
    assert timed.time.tolist() == [0, 3] and timed.amount.tolist() == [[40], [25]]
    books.check()
    books.recorder._sums[0, 0, 0] += 1  # the flow says 66 cents moved, the pools say 65
    with pytest.raises(ConservationError, match="replay"):
        books.check()


def test_result_check_reports_what_it_measured_and_turns_false_when_the_books_are_wrong():
    import dataclasses
    from pathlib import Path

    import sim
    from sim.analysis.result import Result

    path = Path(__file__).resolve().parent.parent / "scenarios" / "toy_round_trip.yaml"
    good = sim.run(sim.load_scenario(path), keep_balances=False)
    assert good.check["balanced"] and good.check["ledger_replays"]
    assert good.check["closing_total_cents"] == good.check["opening_total_cents"]
    assert "Books balance to the cent" in good.summary()

    # one cent more in one ledger record: the ledger no longer replays to the balances
    ledger = dataclasses.replace(good.data.ledger, cents=good.data.ledger.cents.copy())
    ledger.cents[3, 0, 0] += 1
    bad = Result(good.scenario, dataclasses.replace(good.data, ledger=ledger), good.all_metrics)
    assert bad.check["balanced"] is False and bad.check["ledger_replays"] is False
    assert "do NOT balance" in bad.summary()

    # a cent appearing from nowhere in a closing pool: origins are no longer conserved
    closing = good.data.closing.copy()
    closing[0, 0, 0] += 1
    bad = Result(good.scenario, dataclasses.replace(good.data, closing=closing), good.all_metrics)
    assert bad.check["origins_conserved"] is False and bad.check["balanced"] is False
    assert bad.check["closing_total_cents"] == bad.check["opening_total_cents"] + 1
