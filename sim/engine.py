"""The event loop: a Plan (a batch of one or many runs) goes through one SimPy environment.

Time is in days since the scenario's start. At one instant events run in this order (the phases
below, given to SimPy as event priorities): tranches, customer revenue, invoices falling due, lab
spending (with the cloud's reaction to each payment), and last the snapshot of every pool.
Every amount is an array over the runs of the batch, so a run's
result never depends on the batch it was in; an event whose day differs between runs is scheduled
once per distinct day and moves money only in the runs it concerns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import numpy as np
import numpy.typing as npt
import simpy

from sim import agents, credits, jit
from sim.books import Books, Cents, Flows, LedgerArrays, Legs, Timed
from sim.credits import CreditLine
from sim.matrices import check as check_matrices
from sim.recorder import FlowRecorder
from sim.schedule import FinancingPlan, Plan
from sim.sellers import Sellers


@dataclass
class Settle:
    """The fixed shape of some clouds settling a payment (see agents.cloud_settles)."""

    margins: npt.NDArray[np.float64]  # [cloud, run]
    owned: npt.NDArray[np.intp]  # positions of the clouds an investor owns
    # a cost leg per cloud that routes none of its costs, then a profit leg per owned
    legs: list[tuple[int, int, str, int]]
    # clouds whose costs sim/sellers.py passes on: (position here, position in plan.clouds, deal)
    routed: list[tuple[int, int, int]]
    # the rows of legs_cents posted with ``legs`` (all but the routed clouds' cost rows);
    # None: all of them
    keep: npt.NDArray[np.intp] | None


@dataclass(frozen=True)
class FinancingTerms:
    """A lab's financing rule as the engine applies it: fixed for the whole run."""

    debt: bool  # debt bears interest and is reported outstanding; equity does neither
    plan: FinancingPlan  # floor, limit [run]; interest per cent of debt in each step [step, run]
    origin: int  # the origin of the money raised (``<lab>:equity`` or ``<lab>:debt``)
    raise_legs: Legs  # source -> lab, financing
    interest_legs: Legs  # lab -> source, interest


@dataclass
class Financed:
    """What a lab's financing has come to so far, per run (changes step by step)."""

    raised: Cents  # all money received from its source [run]
    debt: Cents  # debt outstanding: drawn plus interest not paid [run]; 0 for equity

    @classmethod
    def none(cls, n_runs: int) -> Financed:
        return cls(np.zeros(n_runs, dtype=np.int64), np.zeros(n_runs, dtype=np.int64))


@dataclass
class LabTables:
    """A lab's spending, fixed in advance where it does not depend on cash; counters per step."""

    name: str
    index: int  # account
    clouds: list[str]  # invoice targets: providers in share order, then contract-only clouds
    n_providers: int
    contract_rows: list[int]  # position in ``clouds`` of each contract's cloud
    minimum: Cents  # take-or-pay minimum [step, contract, run]
    min_total: Cents  # [step, run]
    excess: Cents  # compute demand above the minimums [step, run]
    other: Cents  # other costs [step, run]
    wanted: npt.NDArray[np.float64]  # [step, provider.. + other_compute + other, run]
    wanted_total: Cents  # excess + other [step, run]
    unused: Cents  # minimums above demand [step, run]
    due: npt.NDArray[np.int64]  # due day of each step's invoice [step, cloud, run]
    due_now: npt.NDArray[np.bool_]  # due the day it is issued [step, cloud, run]
    deferred: list[list[int]]  # per step, clouds whose invoice some run pays later
    same_due: npt.NDArray[np.bool_]  # all runs share the due day [step, cloud]
    now_clouds: list[int]  # positions of clouds some run pays the day they invoice
    settle: Settle  # how those clouds pass the money on
    legs: Legs  # to each cloud, other_compute and suppliers; then the clouds' cost and profit
    invoice_legs: list[Legs]  # per cloud: a deferred invoice, with the cloud's cost and profit
    invoice_settle: list[Settle]
    unmet_compute: Cents  # filled step by step [step, run]
    unmet_other: Cents
    shortfall: Cents
    financed: Financed  # money raised so far and debt outstanding (zero without financing)
    financing: FinancingTerms | None = None  # None: the lab never raises money
    credit_lines: list[CreditLine] = field(default_factory=list)  # credits it holds (if any)

    @property
    def n_contracts(self) -> int:
        return len(self.contract_rows)


@dataclass
class RunData:
    """What a batch leaves behind: what the recorder kept (sim/recorder.py), pool snapshots and
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
    opening: Cents  # every pool at the start [account, origin, run]
    closing: Cents  # every pool at the end [account, origin, run]
    external: set[int]  # accounts outside the model (may go negative)


class Engine:
    """Holds the state of one batch while SimPy runs the agents' processes over it."""

    def __init__(self, plan: Plan, *, keep_balances: bool = True, record: str = "ledger") -> None:
        self.plan = plan
        self.env = simpy.Environment()
        self.index = {name: i for i, name in enumerate(plan.accounts)}
        self.origin = {o.removesuffix(":investment"): i for i, o in enumerate(plan.origins)}
        self.origin.update({o: i for i, o in enumerate(plan.origins)})
        self.cloud_pos = {c: i for i, c in enumerate(plan.clouds)}
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
        for c, cloud in enumerate(plan.clouds):
            opening[self.index[cloud], self.origin[f"{cloud}:cash"]] = plan.cloud_opening[c]
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

        self.payables = {lab: np.zeros(n, dtype=np.int64) for lab in plan.labs}
        self.sellers = Sellers(self)
        self._lab_tables()
        # every pool at every grid point, written in place: one array of (steps + 1) x accounts
        # x origins x runs cents (sim/budget.py counts it before the run starts)
        self.balances: Cents | None = None
        if keep_balances:
            shape = (plan.n_steps + 1, len(plan.accounts), len(plan.origins), n)
            self.balances = np.empty(shape, dtype=np.int64)
        self._snapshots_taken = 0

    def _lab_tables(self) -> None:
        """Per lab, everything about its spending that does not depend on its cash, up front."""
        plan, n = self.plan, self.plan.n_runs
        self.labs: dict[str, LabTables] = {}
        for name, lp in plan.labs.items():
            contracts = [c for c in plan.contracts if c.lab == name]
            clouds = list(lp.providers) + [
                c.cloud for c in contracts if c.cloud not in lp.providers
            ]
            steps = plan.n_steps
            minimum = (
                np.stack([c.minimum for c in contracts], axis=1)
                if contracts
                else np.zeros((steps, 0, n), dtype=np.int64)
            )
            min_total = minimum.sum(axis=1)
            excess = np.maximum(lp.compute - min_total, 0)  # compute demand above the minimums
            # provider shares, with what is left of 100% going to other_compute, then other costs
            rest = np.clip(1.0 - lp.shares.sum(axis=0), 0.0, 1.0)
            shares = np.concatenate([lp.shares, rest[None]])  # [item, run]
            wanted = np.concatenate(
                [shares[None] * excess[:, None, :], lp.other[:, None, :]], axis=1
            )
            due = (
                np.stack([plan.due[(name, c)] for c in clouds], axis=1)
                if clouds
                else np.zeros((steps, 0, n), dtype=np.int64)
            )
            due_now = due == plan.days[1:, None, None]
            deferred = [
                [i for i, later in enumerate(row) if later]
                for row in (~due_now.all(axis=2)).tolist()
            ]
            deals = [self.compute_deal[(name, c)] for c in clouds]
            # clouds that some run pays the day it is invoiced; only these get immediate legs
            now_clouds = [i for i in range(len(clouds)) if due_now[:, i, :].any()]
            settle = self._settle(
                [clouds[i] for i in now_clouds], [deals[i] for i in now_clouds], n_other=2
            )
            a = self.index[name]
            spend_legs = [(a, self.index[clouds[i]], "compute", deals[i]) for i in now_clouds]
            spend_legs += [
                (
                    a,
                    self.index["other_compute"],
                    "compute",
                    self.deal_index[f"{name}-other-compute"],
                ),
                (a, self.index["suppliers"], "other", self.deal_index[f"{name}-other"]),
            ]
            invoice_legs, invoice_settle = [], []
            for c, d in zip(clouds, deals, strict=True):
                one = self._settle([c], [d])
                invoice_settle.append(one)
                invoice_legs.append(Legs.of([(a, self.index[c], "compute", d), *one.legs]))
            self.labs[name] = LabTables(
                name=name,
                index=self.index[name],
                clouds=clouds,
                n_providers=len(lp.providers),
                contract_rows=[clouds.index(c.cloud) for c in contracts],
                minimum=minimum,
                min_total=min_total,
                excess=excess,
                other=lp.other,
                wanted=wanted,
                wanted_total=excess + lp.other,
                unused=np.maximum(min_total - lp.compute, 0),
                due=due,
                due_now=due_now,
                deferred=deferred,
                same_due=(due == due[:, :, :1]).all(axis=2),
                now_clouds=now_clouds,
                settle=settle,
                legs=Legs.of(spend_legs + settle.legs),
                invoice_legs=invoice_legs,
                invoice_settle=invoice_settle,
                unmet_compute=np.zeros((steps, n), dtype=np.int64),
                unmet_other=np.zeros((steps, n), dtype=np.int64),
                shortfall=np.zeros((steps, n), dtype=np.int64),
                financed=Financed.none(n),
            )
            if lp.financing is not None:
                self._financing_tables(self.labs[name], lp.financing)
            self.labs[name].credit_lines = credits.lines(
                self, self.labs[name], [c.cloud for c in contracts]
            )

    def _financing_tables(self, lab: LabTables, f: FinancingPlan) -> None:
        """The legs and origin of a lab's financing."""
        a, source = lab.index, self.index[f.source]
        d = self.deal_index[f"{lab.name}-financing"]
        lab.financing = FinancingTerms(
            debt=f.kind == "debt",
            plan=f,
            origin=self.origin[f"{lab.name}:{f.kind}"],
            raise_legs=Legs.of([(source, a, "financing", d)]),
            interest_legs=Legs.of([(a, source, "interest", d)]),
        )

    def _settle(self, clouds: list[str], deals: list[int], n_other: int = 0) -> Settle:
        """Who pays whom when ``clouds`` settle payments made under ``deals`` (with
        ``n_other`` other payees in the same payment): the costs of a cloud that routes some
        are passed on by sim/sellers.py, not here."""
        plan = self.plan
        pos = [self.cloud_pos[c] for c in clouds]
        owned = [i for i, c in enumerate(clouds) if plan.owner[c] is not None]
        routes = [self.sellers.routes(c) for c in clouds]
        cost = [
            (self.index[c], self.index[plan.sink(c)], "cloud_cost", d)
            for c, d, r in zip(clouds, deals, routes, strict=True)
            if not r
        ]
        routed = [(i, pos[i], deals[i]) for i, r in enumerate(routes) if r]
        n = len(clouds)
        rows = [
            k
            for k in range(2 * n + n_other + len(owned))
            if not (n + n_other <= k < 2 * n + n_other and routes[k - n - n_other])
        ]
        keep = np.array(rows, dtype=np.intp) if routed else None
        profit = [
            (self.index[clouds[i]], self.index[plan.owner[clouds[i]] or ""], "profit", deals[i])
            for i in owned
        ]
        return Settle(
            plan.margins[pos], np.array(owned, dtype=np.intp), cost + profit, routed, keep
        )

    def _deal(self, name: str, lab: str | None) -> int:
        self.deal_index[name] = len(self.deals)
        self.deals.append(name)
        self.deal_lab.append(lab)
        return self.deal_index[name]

    def invoice_later(self, lab: LabTables, i: int, k: int, amount: Cents) -> None:
        """Set step ``k``'s invoice from cloud ``i`` aside as owed, and pay it when due (if that
        falls within the horizon); runs with different due days get one event per day."""
        self.payables[lab.name] += amount
        end = int(self.plan.days[-1])
        due = lab.due[k, i]
        days = [int(due[0])] if lab.same_due[k, i] else sorted(set(due[amount > 0].tolist()))
        for day in days:
            if day > end:
                continue  # due after the horizon: stays owed
            part = amount if len(days) == 1 else np.where(due == day, amount, 0)
            ev = agents.At(self.env, day, agents.DUE)
            ev.callbacks.append(partial(self._pay_due, lab, i, part))

    def _pay_due(self, lab: LabTables, i: int, part: Cents, _event: simpy.events.Event) -> None:
        agents.pay_invoice(self, lab, i, part, int(self.env.now))

    def _lab_stats(self, t: LabTables) -> dict[str, Cents]:
        """A lab's counters over the run; its cash-out day is the first step anything was cut."""
        cut = (t.unmet_compute + t.unmet_other + t.shortfall) > 0  # [step, run]
        first = cut.argmax(axis=0)
        return {
            "unmet_compute": t.unmet_compute.sum(axis=0),
            "unmet_other": t.unmet_other.sum(axis=0),
            "shortfall": t.shortfall.sum(axis=0),
            "unused_commitment": t.unused.sum(axis=0),
            "cash_out_day": np.where(cut.any(axis=0), self.plan.days[1:][first], -1),
            "debt_outstanding": t.financed.debt.copy(),
        }

    def snapshot(self) -> None:
        """Keep every pool as it stands (at the start and at each step's end), if kept."""
        if self.balances is not None:
            self.balances[self._snapshots_taken] = self.books.pool
        self._snapshots_taken += 1

    def run(self) -> RunData:
        env, plan = self.env, self.plan
        cash_before = agents.CashBeforeTranches(self)
        for inv in plan.investments:
            env.process(agents.investor_tranches(env, self, inv, cash_before))
        for lab in plan.labs.values():
            env.process(agents.customer_revenue(env, self, lab))
        for tables in self.labs.values():
            env.process(agents.lab_spending(env, self, tables))
        env.process(agents.books_closing(env, self))
        env.run()
        if self._snapshots_taken != self.plan.n_steps + 1:
            raise RuntimeError(
                f"{self._snapshots_taken} snapshots for {self.plan.n_steps + 1} grid points"
            )
        ledger = self.books.ledger()
        flows, timed = self.books.flows_and_timed(ledger)
        self.books.check(ledger if ledger is not None else flows)
        data = RunData(
            plan=plan,
            deals=self.deals,
            deal_lab=self.deal_lab,
            ledger=ledger,
            flows=flows,
            timed=timed,
            balances=self.balances,
            lab_stats={name: self._lab_stats(t) for name, t in self.labs.items()},
            payables=self.payables,
            opening=self.books.opening,
            closing=self.books.pool,
            external=self.books.external,
        )
        check_matrices(data)  # every row and column of the accounting matrices sums to zero
        return data


def simulate(
    plan: Plan, *, keep_balances: bool = True, record: str = "ledger", timed: int = 0
) -> RunData:
    """Run a batch through the event loop and check its books; raises ConservationError if off.
    ``record``: what the books keep, every record (``"ledger"``) or the flow matrix and the
    timed records only (``"flows"``; sim/recorder.py), with room made for ``timed`` of them
    (sim/budget.py counts them from the Plan)."""
    jit.prepare(plan.n_steps * plan.n_runs)  # numpy or compiled kernels: the same cents
    engine = Engine(plan, keep_balances=keep_balances, record=record)
    if isinstance(engine.books.recorder, FlowRecorder):
        engine.books.recorder.reserve(timed)
    return engine.run()
