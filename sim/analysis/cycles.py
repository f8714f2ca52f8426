"""Money cycles in a run's flow graph, and how many traced dollars came home along each.

The graph of one run has an edge ``a -> b`` between two agents (never an external account) when
some flow of the flow matrix moved cents from ``a`` to ``b`` in that run, of any kind. Every
elementary cycle of it is found (Johnson's algorithm, networkx ``simple_cycles``) and starts at
an agent ``A`` that owns an origin whose cents flow along its first edge. With ``X`` the origins
``A`` owns (an origin belongs to the agent named before its ``:``) and the path
``A = v0 -> v1 -> ... -> vk = A``, the **throughput** is the part of ``A``'s traced cents that
came back to ``A`` along that path within the horizon, by the pro-rata decomposition of where
each agent's ``X``-cents came from::

    throughput = X(v_{k-1} -> vk) * prod_{j=1..k-1} X(v_{j-1} -> v_j) / X_in(v_j)

``X(a -> b)``: the ``X``-cents of every flow from ``a`` to ``b``; ``X_in(v)``: the ``X``-cents
``v`` received from any account, external ones included. The product is exact (a
``Fraction``), rounded once to the cent, half up. A **group cycle** treats an investor and the
agents it owns as one node: it leaves the group from a member and comes back to a member, with
``X`` the origins of all members. docs/cycles.md has the definitions and a worked example.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import islice
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
import numpy.typing as npt

from sim.model.books import KINDS, Cents, Flows
from sim.model.engine import RunData

if TYPE_CHECKING:  # pandas is imported where a frame is made
    import pandas as pd

MAX_CYCLES = 10_000  # cycles found in one enumeration before it stops (and warns)


class CycleLimitWarning(UserWarning):
    """The enumeration stopped at ``max_cycles``: the cycles returned are not all there are."""


@dataclass(frozen=True)
class Cycle:
    """A path along which money came back: ``path[0]`` to ``path[-1]``, which is ``path[0]`` for
    a cycle and a member of the group for a group cycle. Money in integer cents."""

    path: tuple[str, ...]  # v0 .. vk, agents in the order the money went
    kinds: tuple[tuple[str, ...], ...]  # kinds of the flows on each edge v_j -> v_j+1
    origins: tuple[str, ...]  # X: the origins followed round, those the start (or group) owns
    edge_cents: tuple[int, ...]  # X-cents on each edge
    throughput_exact: Fraction  # cents, before rounding
    throughput_cents: int  # the same rounded half up to the cent
    sent_cents: int  # X-cents the start (the group) paid to agents outside it, on any path
    group: str | None = None  # the investor whose group this is; None for a plain cycle

    @property
    def start(self) -> str:
        return self.path[0]

    @property
    def end(self) -> str:
        return self.path[-1]

    @property
    def length(self) -> int:
        """Edges (hops) along the path."""
        return len(self.path) - 1

    @property
    def label(self) -> str:
        """``"amazon -> openai -> aws -> amazon"``."""
        return " -> ".join(self.path)

    @property
    def share(self) -> float | None:
        """``throughput / sent``: the part of the X-cents the start sent to other agents that
        came back along this path; None when it sent none."""
        return float(self.throughput_exact / self.sent_cents) if self.sent_cents else None


@dataclass(frozen=True)
class MoneyGraph:
    """One run's flows summed by (payer, payee) between agents, and what each account
    received by origin (from external accounts too; every kind)."""

    accounts: Sequence[str]
    edges: dict[tuple[int, int], Cents]  # (payer, payee) agents -> cents by origin
    kinds: dict[tuple[int, int], tuple[str, ...]]  # the kinds that moved cents on each edge
    inflow: Cents  # [account, origin]

    def digraph(self) -> nx.DiGraph:
        g = nx.DiGraph()
        g.add_edges_from(self.edges)
        return g


def origin_owners(origins: Sequence[str]) -> dict[str, tuple[int, ...]]:
    """Each owner's origins (positions in ``origins``): ``amazon:investment`` is ``amazon``'s."""
    owned: dict[str, list[int]] = {}
    for i, origin in enumerate(origins):
        owned.setdefault(origin.partition(":")[0], []).append(i)
    return {owner: tuple(ids) for owner, ids in owned.items()}


def money_graph(flows: Flows, accounts: Sequence[str], external: set[int], run: int) -> MoneyGraph:
    """The graph of run ``run``: an edge between two distinct agents wherever a flow moved cents
    in that run (a payment to oneself moves nothing and is left out)."""
    cents = flows.cents[:, :, run]  # [flow, origin]
    moved = np.flatnonzero(cents.any(axis=1) & (flows.payer != flows.payee))
    n_origins = cents.shape[1]
    inflow = np.zeros((len(accounts), n_origins), dtype=np.int64)
    np.add.at(inflow, flows.payee[moved], cents[moved])
    edges: dict[tuple[int, int], Cents] = {}
    kinds: dict[tuple[int, int], set[int]] = {}
    for f in moved.tolist():
        a, b = int(flows.payer[f]), int(flows.payee[f])
        if a in external or b in external:
            continue
        if (a, b) in edges:
            edges[(a, b)] = edges[(a, b)] + cents[f]
        else:
            edges[(a, b)] = cents[f].copy()
        kinds.setdefault((a, b), set()).add(int(flows.kind[f]))
    names = {e: tuple(KINDS[k] for k in sorted(ks)) for e, ks in kinds.items()}
    return MoneyGraph(accounts, edges, names, inflow)


def _cents_of(by_origin: npt.NDArray[np.int64], x: Sequence[int]) -> int:
    """The cents of origins ``x`` in a vector by origin, summed exactly (Python integers)."""
    return sum(int(by_origin[o]) for o in x)


def throughput(graph: MoneyGraph, path: Sequence[int], x: Sequence[int]) -> Fraction:
    """Exact X-cents that came back along ``path`` (v0 .. vk, account positions)::

    X(v_k-1 -> v_k) * prod over j = 1 .. k-1 of X(v_j-1 -> v_j) / X_in(v_j)

    a share being 0 where ``v_j`` received no X-cents at all."""
    numerator, denominator = _cents_of(graph.edges[(path[-2], path[-1])], x), 1
    for before, node in zip(path[:-2], path[1:-1], strict=True):
        if numerator == 0:
            break  # nothing came back; a node that received no X-cents gets here too
        numerator *= _cents_of(graph.edges[(before, node)], x)
        denominator *= _cents_of(graph.inflow[node], x) or 1
    return Fraction(numerator, denominator)


def sent(graph: MoneyGraph, members: set[int], x: Sequence[int]) -> int:
    """X-cents that ``members`` paid to agents outside them: what could come back along a
    cycle (what they paid to external accounts has left the model)."""
    out = (v for (a, b), v in graph.edges.items() if a in members and b not in members)
    return sum(_cents_of(v, x) for v in out)


def round_half_up(value: Fraction) -> int:
    """To the nearest cent, halves up: ``floor(value + 1/2)``."""
    return (2 * value.numerator + value.denominator) // (2 * value.denominator)


def _cycle(
    graph: MoneyGraph,
    path: Sequence[int],
    x: Sequence[int],
    sent: int,
    origins: Sequence[str],
    group: str | None = None,
) -> Cycle:
    exact = throughput(graph, path, x)
    hops = list(zip(path[:-1], path[1:], strict=True))
    return Cycle(
        path=tuple(graph.accounts[a] for a in path),
        kinds=tuple(graph.kinds[e] for e in hops),
        origins=tuple(origins[o] for o in x),
        edge_cents=tuple(_cents_of(graph.edges[e], x) for e in hops),
        throughput_exact=exact,
        throughput_cents=round_half_up(exact),
        sent_cents=sent,
        group=group,
    )


def _rotated(
    graph: MoneyGraph,
    nodes: list[int],
    owned: dict[int, tuple[int, ...]],
    own: dict[tuple[int, int], int],
    alone: dict[int, int],
    origins: Sequence[str],
) -> Cycle:
    """The cycle through ``nodes`` started at the agent whose own origins (``owned``) flow on
    its first edge and come back the most (ties: more of them on the first edge, then account
    order); where none of its agents' origins flows on its first edge, at its first agent by
    account order (throughput 0). ``own``: each edge's cents of its payer's own origins;
    ``alone``: all an agent sent of them to other agents."""
    best: tuple[Fraction, int, int] | None = None  # throughput, cents on the first edge, -agent
    start, n = min(nodes), len(nodes)
    for i, first in enumerate(nodes):
        out = own[(first, nodes[(i + 1) % n])]
        if out == 0:
            continue
        back = Fraction(0)  # nothing of its own on the last edge: nothing came back
        if _cents_of(graph.edges[(nodes[i - 1], first)], owned[first]):
            back = throughput(graph, [*nodes[i:], *nodes[:i], first], owned[first])
        if best is None or (back, out, -first) > best:
            best, start = (back, out, -first), first
    i = nodes.index(start)
    path = [*nodes[i:], *nodes[:i], start]
    return _cycle(graph, path, owned[start], alone[start], origins)


def _group_paths(
    graph: MoneyGraph, members: set[int], length_bound: int | None
) -> Iterator[list[int]]:
    """Every path that leaves the group from a member, passes agents outside it (each once)
    and comes back to a member: the elementary cycles through the group taken as one node,
    one path per (member it left from, member it came back to)."""
    source, target = -1, -2  # the group as it pays out and as it is paid
    h = nx.DiGraph()
    for a, b in graph.edges:
        if a in members and b not in members:
            h.add_edge(source, b)
        elif a not in members and b in members:
            h.add_edge(a, target)
        elif a not in members and b not in members:
            h.add_edge(a, b)
    if source not in h or target not in h:
        return
    # only agents on some way out and back: no search into dead ends
    on_way = (nx.descendants(h, source) & nx.ancestors(h, target)) | {source, target}
    h = h.subgraph(on_way)
    for inner in nx.all_simple_paths(h, source, target, cutoff=length_bound):
        middle = inner[1:-1]
        for out in sorted(m for m in members if (m, middle[0]) in graph.edges):
            for back in sorted(m for m in members if (middle[-1], m) in graph.edges):
                yield [out, *middle, back]


def _bounded(found: Iterable[Cycle], limit: int) -> tuple[list[Cycle], bool]:
    """At most ``limit`` of ``found``, and whether there were more."""
    taken = list(islice(found, limit + 1))
    return taken[:limit], len(taken) > limit


def _order(c: Cycle) -> tuple[Fraction, str]:
    return (-c.throughput_exact, c.label)


def flow_cycles(
    flows: Flows,
    accounts: Sequence[str],
    origins: Sequence[str],
    *,
    external: set[int],
    groups: dict[str, Sequence[str]] | None = None,
    run: int = 0,
    length_bound: int | None = None,
    max_cycles: int = MAX_CYCLES,
) -> tuple[list[Cycle], bool]:
    """The cycles of run ``run`` of a flow matrix, then the group cycles of each group of two
    agents or more (``groups``: investor -> the agents it owns), each lot in decreasing order
    of throughput; and whether an enumeration stopped at ``max_cycles`` (at most that many plain
    cycles, and as many per group: which ones are then kept is the enumeration's order).
    ``length_bound``: the longest cycle looked for, in edges (None: any)."""
    if max_cycles < 0:
        raise ValueError(f"max_cycles(={max_cycles}) must be >= 0")
    if length_bound is not None and length_bound < 1:
        raise ValueError(f"length_bound(={length_bound}) must be >= 1")
    graph = money_graph(flows, accounts, external, run)
    by_name = origin_owners(origins)
    owned = {a: by_name.get(name, ()) for a, name in enumerate(accounts)}
    own = {(a, b): _cents_of(v, owned[a]) for (a, b), v in graph.edges.items()}
    alone = dict.fromkeys(owned, 0)  # each agent's own origins it paid to other agents
    for (a, _), cents in own.items():
        alone[a] += cents
    plain = (
        _rotated(graph, nodes, owned, own, alone, origins)
        for nodes in nx.simple_cycles(graph.digraph(), length_bound=length_bound)
        if len(nodes) > 1
    )
    found, truncated = _bounded(plain, max_cycles)
    found.sort(key=_order)
    index = {name: i for i, name in enumerate(accounts)}
    for investor, owns in (groups or {}).items():
        members = {index[m] for m in (investor, *owns) if m in index}
        if len(members) < 2:
            continue  # a group of one: its cycles are the plain ones
        x = tuple(sorted(o for m in members for o in owned[m]))
        out = sent(graph, members, x)
        paths = _group_paths(graph, members, length_bound)
        more, cut = _bounded(
            (_cycle(graph, p, x, out, origins, investor) for p in paths), max_cycles
        )
        found += sorted(more, key=_order)
        truncated |= cut
    return found, truncated


def cycles(
    data: RunData,
    run: int = 0,
    *,
    length_bound: int | None = None,
    max_cycles: int = MAX_CYCLES,
) -> list[Cycle]:
    """The money cycles of run ``run`` of a batch and their throughput (module docstring),
    plain cycles first, then each investor's group cycles (the investor with the agents it
    owns, ``plan.investors``). Warns with ``CycleLimitWarning`` if ``max_cycles`` was hit."""
    plan = data.plan
    found, truncated = flow_cycles(
        data.flows,
        plan.accounts,
        plan.origins,
        external=data.external,
        groups=dict(plan.investors),
        run=run,
        length_bound=length_bound,
        max_cycles=max_cycles,
    )
    if truncated:
        warnings.warn(
            f"stopped at max_cycles={max_cycles}: the run has more cycles than listed",
            CycleLimitWarning,
            stacklevel=2,
        )
    return found


def table(found: Sequence[Cycle]) -> pd.DataFrame:
    """One row per cycle, in the order given: ``group`` (the investor, for a group cycle; None
    for a plain one), ``start``, ``end``, ``path``, ``length`` (edges), ``throughput`` and
    ``sent`` in dollars, ``throughput_cents`` (exact), ``share`` (throughput / sent),
    ``origins`` followed round and the ``kinds`` on each edge (``investment / compute``)."""
    import pandas as pd

    columns = ["group", "start", "end", "path", "length", "throughput", "throughput_cents"]
    columns += ["sent", "share", "origins", "kinds"]
    rows = [
        {
            "group": c.group,
            "start": c.start,
            "end": c.end,
            "path": c.label,
            "length": c.length,
            "throughput": c.throughput_cents / 100,
            "throughput_cents": c.throughput_cents,
            "sent": c.sent_cents / 100,
            "share": c.share,
            "origins": ", ".join(c.origins),
            "kinds": " / ".join("+".join(k) for k in c.kinds),
        }
        for c in found
    ]
    return pd.DataFrame(rows, columns=columns)
