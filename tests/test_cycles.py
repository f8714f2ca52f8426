"""Money cycles of a run's flow graph and their throughput (sim/analysis/cycles.py,
docs/cycles.md)."""

from __future__ import annotations

import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.analysis.cycles import Cycle, CycleLimitWarning, flow_cycles, round_half_up
from sim.model.books import KIND, Flows

ROOT = Path(__file__).resolve().parent.parent


def flows_of(accounts: list[str], rows: list[tuple[str, str, str, list[int]]]) -> Flows:
    """A one-run flow matrix from (payer, payee, kind, cents by origin) rows."""
    at = {name: i for i, name in enumerate(accounts)}
    return Flows(
        payer=np.array([at[r[0]] for r in rows], dtype=np.int64),
        payee=np.array([at[r[1]] for r in rows], dtype=np.int64),
        kind=np.array([KIND[r[2]] for r in rows], dtype=np.int64),
        deal=np.zeros(len(rows), dtype=np.int64),
        cents=np.array([r[3] for r in rows], dtype=np.int64)[:, :, None],
    )


def found(
    accounts: list[str],
    origins: list[str],
    external: list[str],
    rows: list[tuple[str, str, str, list[int]]],
    **kw: object,
) -> list[Cycle]:
    cycles, truncated = flow_cycles(
        flows_of(accounts, rows),
        accounts,
        origins,
        external={accounts.index(x) for x in external},
        **kw,  # type: ignore[arg-type]
    )
    assert not truncated
    return cycles


# A two-hop loop A -> L -> C -> V -> A. A's money also reaches C from outside the model
# (A -> market -> C), so C's A-cents come 60,000 from L and 10,000 from the market.
LOOP_ACCOUNTS = ["A", "L", "C", "V", "funding", "customers", "market", "suppliers", "costs"]
LOOP_EXTERNAL = ["funding", "customers", "market", "suppliers", "costs"]
LOOP_ORIGINS = ["A:investment", "L:revenue"]
LOOP = [
    ("funding", "A", "funding", [100_000, 0]),
    ("A", "L", "investment", [90_000, 0]),
    ("A", "market", "other", [10_000, 0]),
    ("customers", "L", "revenue", [0, 30_000]),
    ("L", "C", "compute", [60_000, 20_000]),  # L forwards 2/3 of what it got
    ("L", "suppliers", "other", [30_000, 10_000]),
    ("market", "C", "compute", [10_000, 0]),
    ("C", "V", "compute", [39_000, 12_000]),  # C forwards part, the rest is its cost
    ("C", "costs", "cloud_cost", [31_000, 8_000]),
    ("V", "A", "profit", [13_000, 4_000]),  # V passes a third back to A
    ("V", "costs", "cloud_cost", [26_000, 8_000]),
]


def test_a_two_hop_loop_brings_back_the_last_edge_scaled_by_each_nodes_share():
    (cycle,) = found(LOOP_ACCOUNTS, LOOP_ORIGINS, LOOP_EXTERNAL, LOOP)
    assert cycle.path == ("A", "L", "C", "V", "A")  # A's origin flows on the first edge
    assert cycle.kinds == (("investment",), ("compute",), ("compute",), ("profit",))
    assert cycle.origins == ("A:investment",)
    assert cycle.edge_cents == (90_000, 60_000, 39_000, 13_000)
    # 13,000 on V -> A x (L: 90,000 / 90,000) x (C: 60,000 / 70,000) x (V: 39,000 / 39,000)
    # = 13,000 x 6/7 = 11,142.857... cents, rounded once: 11,143
    assert cycle.throughput_exact == Fraction(78_000, 7)
    assert cycle.throughput_cents == 11_143
    assert cycle.sent_cents == 90_000  # paid to agents; the 10,000 to the market left the model
    assert cycle.share == pytest.approx(78_000 / 7 / 90_000)
    assert (cycle.start, cycle.end, cycle.length, cycle.group) == ("A", "A", 4, None)
    assert cycle.label == "A -> L -> C -> V -> A"


def test_a_group_comes_back_to_the_member_it_owns():
    # A owns V: the group's money is back when it reaches V, one hop earlier
    cycles = found(LOOP_ACCOUNTS, LOOP_ORIGINS, LOOP_EXTERNAL, LOOP, groups={"A": ["V"]})
    plain, group = cycles
    assert plain.path == ("A", "L", "C", "V", "A")
    assert group.path == ("A", "L", "C", "V")
    assert group.group == "A"
    # 39,000 on C -> V x (L: 1) x (C: 60,000 / 70,000) = 33,428.571... -> 33,429
    assert group.throughput_cents == 33_429
    assert group.sent_cents == 90_000  # V -> A is inside the group


def test_two_predecessors_split_the_last_edge_pro_rata():
    accounts = ["A", "B", "C", "D", "funding", "costs"]
    rows = [
        ("funding", "A", "funding", [100_000]),
        ("A", "B", "investment", [60_000]),
        ("A", "C", "investment", [40_000]),
        ("B", "D", "compute", [30_000]),
        ("C", "D", "compute", [10_000]),
        ("D", "A", "profit", [8_001]),
        ("B", "costs", "cloud_cost", [30_000]),
        ("C", "costs", "cloud_cost", [30_000]),
        ("D", "costs", "cloud_cost", [31_999]),
    ]
    via_b, via_c = found(accounts, ["A:investment"], ["funding", "costs"], rows)
    assert via_b.path == ("A", "B", "D", "A") and via_c.path == ("A", "C", "D", "A")
    # D's A-cents: 30,000 from B (3/4), 10,000 from C (1/4); B and C got them only from A
    assert via_b.throughput_exact == Fraction(8_001 * 3, 4)  # 6,000.75 -> 6,001
    assert via_c.throughput_exact == Fraction(8_001, 4)  # 2,000.25 -> 2,000
    assert (via_b.throughput_cents, via_c.throughput_cents) == (6_001, 2_000)
    # together they are every A-cent on the shared last edge, exactly and to the cent
    assert via_b.throughput_exact + via_c.throughput_exact == 8_001
    assert via_b.throughput_cents + via_c.throughput_cents == 8_001
    assert via_b.sent_cents == via_c.sent_cents == 100_000


def test_rounding_is_half_up_once():
    assert [round_half_up(Fraction(n, 2)) for n in (1, 3, 5)] == [1, 2, 3]
    assert round_half_up(Fraction(78_000, 7)) == 11_143


@pytest.fixture(scope="module")
def amazon() -> sim.Result:
    return sim.run(sim.load_scenario(ROOT / "scenarios" / "amazon_openai_50b.yaml"))


def test_amazon_money_comes_home_as_aws_profit(amazon: sim.Result):
    from sim.analysis.cycles import cycles

    d = amazon.data
    plain = [c for c in cycles(d, amazon.run) if c.group is None]
    (loop,) = [c for c in plain if c.path == ("amazon", "openai", "aws", "amazon")]
    # read independently: amazon's origin on the aws -> amazon profit flows of this run
    acc, origin = d.plan.accounts, d.plan.origins.index("amazon:investment")
    f = d.flows
    rows = (f.payer == acc.index("aws")) & (f.payee == acc.index("amazon"))
    assert (f.kind[rows] == KIND["profit"]).all()
    profit = int(f.cents[rows, origin, amazon.run].sum())
    assert profit > 0
    assert loop.throughput_cents == profit == loop.edge_cents[-1]
    assert loop.kinds == (("investment",), ("compute",), ("profit",))
    m = amazon.metrics_dict()["investors"]["amazon"]
    assert loop.throughput_cents == round(m["round_trip_profit"] * 100)
    assert loop.sent_cents == round(m["invested"] * 100)


def test_amazon_group_cycle_is_the_round_trip(amazon: sim.Result):
    table = amazon.cycles()
    (row,) = table[table.group == "amazon"].itertuples()
    m = amazon.metrics_dict()["investors"]["amazon"]
    assert row.path == "amazon -> openai -> aws"
    assert row.throughput_cents == round(m["round_trip"] * 100)  # $8.60B
    assert row.share == pytest.approx(m["round_trip_ratio"])  # 17.2% of invested
    assert row.kinds == "investment / compute"


def test_toy_cycles_are_the_worked_example_of_the_docs():
    toy = sim.run(sim.load_scenario(ROOT / "scenarios" / "toy_round_trip.yaml"))
    table = toy.cycles()
    # docs/cycles.md: 50% x 40% x $12B back to bigtech, 40% x $12B back to its group
    assert table.path.tolist() == [
        "bigtech -> labco -> bigcloud -> bigtech",
        "bigtech -> labco -> bigcloud",
    ]
    assert table.throughput_cents.tolist() == [240_000_000_000, 480_000_000_000]
    assert table.share.tolist() == [pytest.approx(0.2), pytest.approx(0.4)]


def test_a_run_kept_on_flows_has_the_same_cycles():
    path = ROOT / "scenarios" / "nvidia_openai_oracle.yaml"
    on_ledger = sim.run(sim.load_scenario(path)).cycles()
    on_flows = sim.run(sim.load_scenario(path), record="flows").cycles()
    assert len(on_ledger) > 0
    assert on_flows.equals(on_ledger)


def test_external_accounts_never_appear_in_a_cycle(amazon: sim.Result):
    # with external accounts as nodes, A -> market -> C -> V -> A would be a second cycle
    (cycle,) = found(LOOP_ACCOUNTS, LOOP_ORIGINS, LOOP_EXTERNAL, LOOP)
    assert not set(cycle.path) & set(LOOP_EXTERNAL)
    d = amazon.data
    external = {d.plan.accounts[i] for i in d.external}
    assert {"funding", "customers", "cloud_costs", "private_markets"} <= external
    table = amazon.cycles()
    assert len(table) == 2
    for path in table.path:
        assert not set(path.split(" -> ")) & external


def dense(n: int, seed: int) -> tuple[list[str], list[tuple[str, str, str, list[int]]]]:
    """``n`` agents, each paying most of the others, each its own origin."""
    rng = np.random.default_rng(seed)
    names = [f"n{i}" for i in range(n)]
    rows = []
    for a in range(n):
        for b in range(n):
            if a != b and rng.random() < 0.8:
                cents = [0] * n
                cents[a] = int(rng.integers(1, 1_000_000))
                rows.append((names[a], names[b], "compute", cents))
    return names, rows


def test_the_bound_on_cycles_is_honoured_on_a_dense_graph():
    names, rows = dense(14, seed=7)  # far more than a million elementary cycles
    origins = [f"{x}:cash" for x in names]
    flows = flows_of(names, rows)
    cycles, truncated = flow_cycles(
        flows, names, origins, external=set(), groups={"n0": ["n1", "n2"]}, max_cycles=200
    )
    assert truncated
    plain = [c for c in cycles if c.group is None]
    group = [c for c in cycles if c.group == "n0"]
    assert len(plain) == len(group) == 200
    assert len({c.label for c in plain}) == 200  # each cycle once
    assert all(c.path[0] == c.path[-1] for c in plain)
    assert all(c.start in {"n0", "n1", "n2"} and c.end in {"n0", "n1", "n2"} for c in group)
    short, cut = flow_cycles(flows, names, origins, external=set(), length_bound=2)
    assert not cut
    assert {c.length for c in short} == {2}  # every pair paying each other, and no more
    pairs = {frozenset((r[0], r[1])) for r in rows}
    both = [p for p in pairs if sum(1 for r in rows if frozenset((r[0], r[1])) == p) == 2]
    assert len(short) == len(both)


def test_cycles_warns_when_it_stops_at_the_bound(amazon: sim.Result):
    with pytest.warns(CycleLimitWarning, match="max_cycles=0"):
        assert amazon.cycles(max_cycles=0).empty
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(amazon.cycles(max_cycles=1)) == 2  # one plain cycle, one group cycle


def test_run_with_matrices_lists_the_cycles_and_writes_them(tmp_path, capsys) -> None:
    from conftest import cli

    out = tmp_path / "run"
    code, printed, err = cli(
        capsys, "run", ROOT / "scenarios" / "amazon_openai_50b.yaml", "-o", out, "--matrices"
    )
    assert (code, err) == (0, "")
    written = pd.read_csv(out / "cycles.csv")
    back = written[written.throughput_cents > 0]
    assert "amazon -> openai -> aws -> amazon" in set(back.path)
    assert f"Money cycles: {len(back)} of {len(written)} brought traced dollars back" in printed
    top = back.sort_values("throughput_cents", ascending=False).iloc[0]
    assert f"{top.path}\n" in printed
