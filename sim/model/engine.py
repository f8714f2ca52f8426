"""The engine: the clock, the books and the accounts of a batch; the agents' behaviours live in
sim/model/kinds/, one module per kind (investors, labs, sellers; credits beside the labs).

A Plan (a batch of one or many runs) goes through one SimPy environment. Time is in days since
the scenario's start; at one instant events run in the phases of sim/model/clock.py. Every amount
is an
array over the runs of the batch, so a run's result never depends on the batch it was in; an
event whose day differs between runs is scheduled once per distinct day and moves money only in
the runs it concerns.

The engine names the accounts, origins and deals, opens the books, builds each kind from the Plan
(sellers first: labs settle their payments with the sellers' tables), starts their processes,
takes a snapshot of every pool at each step's end, and checks the books once the run is done
(the accounting matrices are checked by the runs layer, sim/runs/runner.py: the model does not
import the analysis). Adding an agent kind is a module in sim/model/kinds/ with a class
built
from the engine and a ``start`` that launches its processes, built here and put in ``kinds``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import simpy

from sim.model import jit
from sim.model.books import Books, Cents, Flows, LedgerArrays, Timed
from sim.model.clock import CLOSING, At, Process
from sim.model.kinds import Investors, Labs, Sellers
from sim.model.recorder import FlowRecorder
from sim.model.schedule import Plan


@dataclass
class RunData:
    """What a batch leaves behind: what the recorder kept (sim/model/recorder.py), pool snapshots
    and
    each lab's counters."""

    plan: Plan
    deals: list[str]  # deal names, indexed by the records' ``deal``
    deal_lab: list[str | None]  # the lab each deal concerns
    ledger: LedgerArrays | None  # every record; None under the flows recorder
    flows: Flows  # the flow matrix: cents by (payer, payee, kind, deal), origin and run
    timed: Timed  # the records of the kinds whose date a metric reads, in time order
    balances: Cents | None  # [grid point, account, origin, run], None if not kept
    lab_stats: dict[str, dict[str, Cents]]  # lab -> counter -> [run]
    payables: dict[str, Cents]  # invoices still unpaid at the horizon, per lab [run]
    # the same per (lab, seller), for the pairs whose invoices may be paid after they are issued
    owed: dict[tuple[str, str], Cents]
    compute_deal: dict[tuple[str, str], int]  # the deal a lab's compute at a seller is booked under
    opening: Cents  # every pool at the start [account, origin, run]
    closing: Cents  # every pool at the end [account, origin, run]
    external: set[int]  # accounts outside the model (may go negative)


class Engine:
    """Holds the clock, the books and the accounts of one batch while SimPy runs the kinds'
    processes over it."""

    def __init__(self, plan: Plan, *, keep_balances: bool = True, record: str = "ledger") -> None:
        self.plan = plan
        self.env = simpy.Environment()
        self.index = {name: i for i, name in enumerate(plan.accounts)}
        self.origin = {o.removesuffix(":investment"): i for i, o in enumerate(plan.origins)}
        self.origin.update({o: i for i, o in enumerate(plan.origins)})
        self.seller_pos = {c: i for i, c in enumerate(plan.sellers)}
        n = plan.n_runs

        # deals: investments, compute per (lab, cloud), each lab's revenue, other costs and
        # other compute
        self.deals: list[str] = []
        self.deal_lab: list[str | None] = []
        self.deal_index: dict[str, int] = {}
        self.compute_deal: dict[tuple[str, str], int] = {}
        for inv in plan.investments:
            self._deal(inv.id, inv.lab)
        # compute at a cloud is booked under the lab's contract with it; with none, or with
        # several (their minimums add up), under <lab>-<cloud>-compute
        contract_ids: dict[tuple[str, str], list[str]] = {}
        for contract in plan.contracts:
            contract_ids.setdefault((contract.lab, contract.cloud), []).append(contract.id)
        for lab, cloud in plan.due:
            ids = contract_ids.get((lab, cloud), [])
            name = ids[0] if len(ids) == 1 else f"{lab}-{cloud}-compute"
            self.compute_deal[(lab, cloud)] = self._deal(name, lab)
        for lab in plan.labs:
            for suffix in ("revenue", "other", "other-compute"):
                self._deal(f"{lab}-{suffix}", lab)
        for lab, lab_plan in plan.labs.items():
            if lab_plan.financing is not None:  # money raised and interest paid on it
                self._deal(f"{lab}-financing", lab)
        for share in plan.revenue_shares:
            self._deal(share.id, share.lab)

        opening = np.zeros((len(plan.accounts), len(plan.origins), n), dtype=np.int64)
        for name, lab_plan in plan.labs.items():
            opening[self.index[name], self.origin[f"{name}:cash"]] = lab_plan.opening
        for c, cloud in enumerate(plan.sellers):
            opening[self.index[cloud], self.origin[f"{cloud}:cash"]] = plan.seller_opening[c]
        external = {self.index[x] for x in plan.external_accounts}
        self.books = Books(
            plan.accounts,
            plan.origins,
            opening,
            tracing=plan.tracing,
            traced={self.index[lab] for lab in plan.labs},
            external=external,
            record=record,
            n_deals=len(self.deals),
        )

        # each kind's tables, from the Plan; their processes start in the reverse order, so that
        # at one instant and phase the investors' events come before the labs'
        self.sellers = Sellers(self)
        self.labs = Labs(self)
        self.investors = Investors(self)
        self.kinds: tuple[Sellers | Labs | Investors, ...] = (
            self.sellers,
            self.labs,
            self.investors,
        )
        # every pool at every grid point, written in place: one array of (steps + 1) x accounts
        # x origins x runs cents (sim/model/budget.py counts it before the run starts)
        self.balances: Cents | None = None
        if keep_balances:
            shape = (plan.n_steps + 1, len(plan.accounts), len(plan.origins), n)
            self.balances = np.empty(shape, dtype=np.int64)
        self._snapshots_taken = 0

    def _deal(self, name: str, lab: str | None) -> int:
        self.deal_index[name] = len(self.deals)
        self.deals.append(name)
        self.deal_lab.append(lab)
        return self.deal_index[name]

    def snapshot(self) -> None:
        """Keep every pool as it stands (at the start and at each step's end), if kept."""
        if self.balances is not None:
            self.balances[self._snapshots_taken] = self.books.pool
        self._snapshots_taken += 1

    def run(self) -> RunData:
        env, plan = self.env, self.plan
        for kind in reversed(self.kinds):
            kind.start(self)
        env.process(books_closing(env, self))
        env.run()
        if self._snapshots_taken != self.plan.n_steps + 1:
            raise RuntimeError(
                f"{self._snapshots_taken} snapshots for {self.plan.n_steps + 1} grid points"
            )
        ledger = self.books.ledger()
        flows, timed = self.books.flows_and_timed(ledger)
        self.books.check(ledger if ledger is not None else flows)
        labs = self.labs
        data = RunData(
            plan=plan,
            deals=self.deals,
            deal_lab=self.deal_lab,
            ledger=ledger,
            flows=flows,
            timed=timed,
            balances=self.balances,
            lab_stats={name: labs.stats(self, t) for name, t in labs.tables.items()},
            payables=labs.payables,
            owed=labs.owed,
            compute_deal=self.compute_deal,
            opening=self.books.opening,
            closing=self.books.pool,
            external=self.books.external,
        )
        return data


def books_closing(env: simpy.Environment, eng: Engine) -> Process:
    """After everything else at each step's end, take a snapshot of every pool."""
    eng.snapshot()
    for k in range(eng.plan.n_steps):
        yield At(env, int(eng.plan.days[k + 1]), CLOSING)
        eng.snapshot()


def simulate(
    plan: Plan, *, keep_balances: bool = True, record: str = "ledger", timed: int = 0
) -> RunData:
    """Run a batch through the event loop and check its books; raises ConservationError if off.
    ``record``: what the books keep, every record (``"ledger"``) or the flow matrix and the
    timed records only (``"flows"``; sim/model/recorder.py), with room made for ``timed`` of them
    (sim/model/budget.py counts them from the Plan)."""
    jit.prepare(plan.n_steps * plan.n_runs)  # numpy or compiled kernels: the same cents
    engine = Engine(plan, keep_balances=keep_balances, record=record)
    if isinstance(engine.books.recorder, FlowRecorder):
        engine.books.recorder.reserve(timed)
    return engine.run()
