"""The engine: the clock, the books and the accounts of a batch, and the loop over the agent
kinds of sim/model/kinds/ (a registry, ``AGENT_KINDS``), where every behaviour lives.

A Plan (a batch of one or many runs) goes through one SimPy environment. Time is in days since
the scenario's start; at one instant events run in the phases of sim/model/clock.py. Every
amount is an array over the runs of the batch, so a run's result never depends on the batch it
was in; an event whose day differs between runs is scheduled once per distinct day and moves
money only in the runs it concerns.

The engine names the accounts, origins and the kinds' deals, opens the books, builds each kind
from a Context (in the registry's order: a kind calls those built before it), starts their
processes, takes a snapshot of every pool at each step's end, and checks the books once the run
is done. (The accounting matrices are checked by the runs layer, sim/runs/runner.py: the model
does not import the analysis.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import simpy

from sim.model import jit
from sim.model.books import Books, Cents, Flows, LedgerArrays, Timed
from sim.model.clock import CLOSING, At, Process
from sim.model.kinds import AGENT_KINDS, Context, Kind
from sim.model.recorder import FlowRecorder
from sim.model.schedule import Plan


@dataclass
class RunData:
    """What a batch leaves behind: what the recorder kept (sim/model/recorder.py), pool
    snapshots, and what the kinds add (``Kind.results``: the labs' counters and invoices)."""

    plan: Plan
    deals: list[str]  # deal names, indexed by the records' ``deal``
    deal_lab: list[str | None]  # the lab each deal concerns
    ledger: LedgerArrays | None  # every record; None under the flows recorder
    flows: Flows  # the flow matrix: cents by (payer, payee, kind, deal), origin and run
    timed: Timed  # the records of the kinds whose date a metric reads, in time order
    balances: Cents | None  # [grid point, account, origin, run], None if not kept
    opening: Cents  # every pool at the start [account, origin, run]
    closing: Cents  # every pool at the end [account, origin, run]
    external: set[int]  # accounts outside the model (may go negative)
    # from the labs (sim/model/kinds/lab.py)
    lab_stats: dict[str, dict[str, Cents]] = field(default_factory=dict)  # lab -> counter -> [run]
    payables: dict[str, Cents] = field(default_factory=dict)  # invoices unpaid at the end [run]
    # the same per (lab, seller), for the pairs whose invoices may be paid after they are issued
    owed: dict[tuple[str, str], Cents] = field(default_factory=dict)
    # per (lab, seller) it pays, each step's invoice [step, run] (paid then or later: revenue as
    # booked, issued at the step's end) and the seller's profit part of it [step, run]
    invoiced: dict[tuple[str, str], Cents] = field(default_factory=dict)
    invoiced_profit: dict[tuple[str, str], Cents] = field(default_factory=dict)
    # the deal a lab's compute at a seller is booked under
    compute_deal: dict[tuple[str, str], int] = field(default_factory=dict)
    # from the loans (sim/model/kinds/loans.py): loan id -> counter -> [run]
    loans: dict[str, dict[str, Cents]] = field(default_factory=dict)


# what the engine itself fills in RunData; the kinds fill the rest
ENGINE_FIELDS = frozenset(
    ("plan", "deals", "deal_lab", "ledger", "flows", "timed", "balances")
    + ("opening", "closing", "external")
)


class Engine:
    """Holds the clock, the books and the accounts of one batch while SimPy runs the kinds'
    processes over it."""

    def __init__(
        self,
        plan: Plan,
        *,
        keep_balances: bool = True,
        record: str = "ledger",
        kinds: Sequence[type[Kind]] = AGENT_KINDS,
    ) -> None:
        self.plan = plan
        index = {name: i for i, name in enumerate(plan.accounts)}
        origin = {o.removesuffix(":investment"): i for i, o in enumerate(plan.origins)}
        origin.update({o: i for i, o in enumerate(plan.origins)})
        # every kind's deals, numbered from the last kind registered to the first
        self.deals: list[str] = []
        self.deal_lab: list[str | None] = []
        deal_index: dict[str, int] = {}
        own_deals: dict[str, list[int]] = {}
        for cls in reversed(kinds):
            own_deals[cls.name] = []
            for name, lab in cls.deals(plan):
                deal_index[name] = len(self.deals)
                own_deals[cls.name].append(len(self.deals))
                self.deals.append(name)
                self.deal_lab.append(lab)
        books = Books(
            plan.accounts,
            plan.origins,
            _opening(plan, index, origin),
            tracing=plan.tracing,
            traced={index[lab] for lab in plan.labs},
            external={index[x] for x in plan.external_accounts},
            record=record,
            n_deals=len(self.deals),
        )
        self.books, self.env = books, simpy.Environment()
        ctx = Context(plan, self.env, books, index, origin, deal_index, own_deals)
        self.kinds: list[Kind] = []
        for cls in kinds:
            kind = cls(ctx)
            ctx.built[cls.name] = kind
            self.kinds.append(kind)
        # every pool at every grid point, written in place: one array of (steps + 1) x accounts
        # x origins x runs cents (sim/model/budget.py counts it before the run starts)
        self.balances: Cents | None = None
        if keep_balances:
            shape = (plan.n_steps + 1, len(plan.accounts), len(plan.origins), plan.n_runs)
            self.balances = np.empty(shape, dtype=np.int64)
        self._snapshots_taken = 0

    def snapshot(self) -> None:
        """Keep every pool as it stands (at the start and at each step's end), if kept."""
        if self.balances is not None:
            self.balances[self._snapshots_taken] = self.books.pool
        self._snapshots_taken += 1

    def run(self) -> RunData:
        for kind in reversed(self.kinds):
            kind.start(self.env)
        self.env.process(books_closing(self.env, self))
        self.env.run()
        if self._snapshots_taken != self.plan.n_steps + 1:
            raise RuntimeError(
                f"{self._snapshots_taken} snapshots for {self.plan.n_steps + 1} grid points"
            )
        ledger = self.books.ledger()
        flows, timed = self.books.flows_and_timed(ledger)
        self.books.check(ledger if ledger is not None else flows)
        return RunData(
            plan=self.plan,
            deals=self.deals,
            deal_lab=self.deal_lab,
            ledger=ledger,
            flows=flows,
            timed=timed,
            balances=self.balances,
            opening=self.books.opening,
            closing=self.books.pool,
            external=self.books.external,
            **self.results(),
        )

    def results(self) -> dict[str, Any]:
        """What the kinds add to RunData: each field once, and only RunData's own."""
        out: dict[str, Any] = {}
        known = {f.name for f in fields(RunData)} - ENGINE_FIELDS
        for kind in self.kinds:
            for name, value in kind.results().items():
                if name not in known or name in out:
                    raise ValueError(f"kind {kind.name!r}: RunData has no free field {name!r}")
                out[name] = value
        return out


def _opening(plan: Plan, index: dict[str, int], origin: dict[str, int]) -> Cents:
    """Every pool at the start: each lab's and each seller's opening cash, ``<agent>:cash``."""
    opening = np.zeros((len(plan.accounts), len(plan.origins), plan.n_runs), dtype=np.int64)
    for name, lab_plan in plan.labs.items():
        opening[index[name], origin[f"{name}:cash"]] = lab_plan.opening
    for c, seller in enumerate(plan.sellers):
        opening[index[seller], origin[f"{seller}:cash"]] = plan.seller_opening[c]
    return opening


def books_closing(env: simpy.Environment, eng: Engine) -> Process:
    """After everything else at each step's end, take a snapshot of every pool."""
    eng.snapshot()
    for k in range(eng.plan.n_steps):
        yield At(env, int(eng.plan.days[k + 1]), CLOSING)
        eng.snapshot()


def simulate(
    plan: Plan,
    *,
    keep_balances: bool = True,
    record: str = "ledger",
    timed: int = 0,
    kinds: Sequence[type[Kind]] = AGENT_KINDS,
) -> RunData:
    """Run a batch through the event loop and check its books; raises ConservationError if off.
    ``record``: what the books keep, every record (``"ledger"``) or the flow matrix and the
    timed records only (``"flows"``; sim/model/recorder.py), with room made for ``timed`` of them
    (sim/model/budget.py counts them from the Plan). ``kinds``: the agent kinds, in the order
    they are built (sim/model/kinds/__init__.py)."""
    jit.prepare(plan.n_steps * plan.n_runs)  # numpy or compiled kernels: the same cents
    engine = Engine(plan, keep_balances=keep_balances, record=record, kinds=kinds)
    if isinstance(engine.books.recorder, FlowRecorder):
        engine.books.recorder.reserve(timed)
    return engine.run()
