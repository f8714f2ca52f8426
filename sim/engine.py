"""The event loop: a Plan (a batch of one or many runs) goes through one SimPy environment.

Time is in days since the scenario's start. At one instant events run in this order (the phases
below, given to SimPy as event priorities): tranches, customer revenue, invoices falling due, lab
spending (with the cloud's reaction to each payment), and last the snapshot of every pool.
Every amount is an array over the runs of the batch, so a run's
result never depends on the batch it was in; an event whose day differs between runs is scheduled
once per distinct day and moves money only in the runs it concerns.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
import numpy.typing as npt
import simpy

from sim import agents
from sim.books import Books, Cents, LedgerArrays
from sim.schedule import EXTERNAL_ACCOUNTS, Plan

LAB_STATS = ("unmet_compute", "unmet_other", "shortfall", "unused_commitment", "cash_out_day")


@dataclass
class SettleLegs:
    """The fixed shape of a settlement of some clouds (see agents.cloud_settles)."""

    margins: npt.NDArray[np.float64]  # [cloud, run]
    owned: list[int]  # positions of owned clouds among them
    payers: list[int]
    payees: list[int]
    kinds: list[str]
    deal_pos: list[int]  # per leg, the position of its cloud's deal


@dataclass
class RunData:
    """What a batch leaves behind: the ledger, pool snapshots and each lab's counters."""

    plan: Plan
    deals: list[str]  # deal names, indexed by LedgerArrays.deal
    deal_lab: list[str | None]  # the lab each deal concerns
    ledger: LedgerArrays
    balances: Cents | None  # [grid point, account, origin, run], None if not kept
    lab_stats: dict[str, dict[str, Cents]]  # lab -> counter -> [run]
    payables: dict[str, Cents]  # invoices still unpaid at the horizon, per lab [run]


class Engine:
    """Holds the state of one batch while SimPy runs the agents' processes over it."""

    def __init__(self, plan: Plan, *, keep_balances: bool = True) -> None:
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
        contract_ids = {(c.lab, c.cloud): c.id for c in plan.contracts}
        for lab, cloud in plan.due:
            name = contract_ids.get((lab, cloud), f"{lab}-{cloud}-compute")
            self.compute_deal[(lab, cloud)] = self._deal(name, lab)
        for lab in plan.labs:
            for suffix in ("revenue", "other", "other-compute"):
                self._deal(f"{lab}-{suffix}", lab)

        opening = np.zeros((len(plan.accounts), len(plan.origins), n), dtype=np.int64)
        for name, lab_plan in plan.labs.items():
            opening[self.index[name], self.origin[f"{name}:cash"]] = lab_plan.opening
        for c, cloud in enumerate(plan.clouds):
            opening[self.index[cloud], self.origin[f"{cloud}:cash"]] = plan.cloud_opening[c]
        external = {self.index[x] for x in EXTERNAL_ACCOUNTS}
        self.books = Books(
            plan.accounts,
            plan.origins,
            opening,
            tracing=plan.tracing,
            traced={self.index[lab] for lab in plan.labs},
            external=external,
        )

        self.payables = {lab: np.zeros(n, dtype=np.int64) for lab in plan.labs}
        self.lab_stats = {
            lab: {s: np.zeros(n, dtype=np.int64) for s in LAB_STATS} for lab in plan.labs
        }
        for stats in self.lab_stats.values():
            stats["cash_out_day"][:] = -1
        self._lab_tables()
        self.keep_balances = keep_balances
        self._snapshots: list[Cents] = []

    def _lab_tables(self) -> None:
        """Per lab, the fixed shape of its spending: whom it pays, in what order, for what."""
        plan, n = self.plan, self.plan.n_runs
        self.minimums: dict[str, Cents] = {}
        self.share_weights: dict[str, npt.NDArray[np.float64]] = {}
        self.invoice_clouds: dict[str, list[str]] = {}
        self.invoice_matrix: dict[str, npt.NDArray[np.int64]] = {}
        self.due: dict[str, npt.NDArray[np.int64]] = {}
        self.payees: dict[str, list[int]] = {}
        self.kinds: dict[str, list[str]] = {}
        self.pay_deals: dict[str, list[int]] = {}
        self.settle_legs: dict[tuple[str, ...], SettleLegs] = {
            (c,): self._settle_legs((c,)) for c in plan.clouds
        }
        for name, lp in plan.labs.items():
            contracts = [c for c in plan.contracts if c.lab == name]
            self.minimums[name] = (
                np.stack([c.minimum for c in contracts], axis=1)
                if contracts
                else np.zeros((plan.n_steps, 0, n), dtype=np.int64)
            )
            # provider shares, with what is left of 100% going to other_compute as a last item
            rest = np.clip(1.0 - lp.shares.sum(axis=0), 0.0, 1.0)
            self.share_weights[name] = np.concatenate([lp.shares, rest[None]])
            clouds = list(lp.providers) + [
                c.cloud for c in contracts if c.cloud not in lp.providers
            ]
            self.invoice_clouds[name] = clouds
            # invoices = matrix @ [funded per provider..., minimum paid per contract...]
            m = np.zeros((len(clouds), len(lp.providers) + len(contracts)), dtype=np.int64)
            for i in range(len(lp.providers)):
                m[i, i] = 1
            for j, c in enumerate(contracts):
                m[clouds.index(c.cloud), len(lp.providers) + j] = 1
            self.invoice_matrix[name] = m
            self.due[name] = (
                np.stack([plan.due[(name, c)] for c in clouds], axis=1)
                if clouds
                else (np.zeros((plan.n_steps, 0, n), dtype=np.int64))
            )
            self.payees[name] = [self.index[c] for c in clouds] + [
                self.index["other_compute"],
                self.index["suppliers"],
            ]
            self.settle_legs[tuple(clouds)] = self._settle_legs(tuple(clouds))
            self.kinds[name] = ["compute"] * (len(clouds) + 1) + ["other"]
            self.pay_deals[name] = [self.compute_deal[(name, c)] for c in clouds] + [
                self.deal_index[f"{name}-other-compute"],
                self.deal_index[f"{name}-other"],
            ]

    def _settle_legs(self, clouds: tuple[str, ...]) -> SettleLegs:
        """Who pays whom when ``clouds`` settle together: a cost leg each, a profit leg if owned."""
        plan = self.plan
        pos = [self.cloud_pos[c] for c in clouds]
        owned = [i for i, c in enumerate(clouds) if plan.owner[c] is not None]
        return SettleLegs(
            margins=plan.margins[pos],
            owned=owned,
            payers=[self.index[c] for c in clouds] + [self.index[clouds[i]] for i in owned],
            payees=[self.index["cloud_costs"]] * len(clouds)
            + [self.index[plan.owner[clouds[i]] or ""] for i in owned],
            kinds=["cloud_cost"] * len(clouds) + ["profit"] * len(owned),
            deal_pos=list(range(len(clouds))) + owned,
        )

    def _deal(self, name: str, lab: str | None) -> int:
        self.deal_index[name] = len(self.deals)
        self.deals.append(name)
        self.deal_lab.append(lab)
        return self.deal_index[name]

    def invoice_later(
        self, lab: str, cloud: str, amount: Cents, due: npt.NDArray[np.int64]
    ) -> None:
        """Set ``amount`` aside as owed; pay it on its due day if that falls within the horizon."""
        self.payables[lab] += amount
        end = int(self.plan.days[-1])
        for day in sorted(set(due[amount > 0].tolist())):
            if day > end:
                continue  # due after the horizon: stays owed
            part = np.where(due == day, amount, 0)
            ev = agents.At(self.env, int(day), agents.DUE)
            ev.callbacks.append(partial(self._pay_due, lab, cloud, part))

    def _pay_due(self, lab: str, cloud: str, part: Cents, _event: simpy.events.Event) -> None:
        agents.pay_invoice(self, lab, cloud, part, int(self.env.now))

    def snapshot(self) -> None:
        if self.keep_balances:
            self._snapshots.append(self.books.pool.copy())

    def run(self) -> RunData:
        env, plan = self.env, self.plan
        for inv in plan.investments:
            env.process(agents.investor_tranches(env, self, inv))
        for lab in plan.labs.values():
            env.process(agents.customer_revenue(env, self, lab))
        for lab in plan.labs.values():
            env.process(agents.lab_spending(env, self, lab))
        env.process(agents.books_closing(env, self))
        env.run()
        self.books.check()
        return RunData(
            plan=plan,
            deals=self.deals,
            deal_lab=self.deal_lab,
            ledger=self.books.ledger(),
            balances=np.stack(self._snapshots) if self.keep_balances else None,
            lab_stats=self.lab_stats,
            payables=self.payables,
        )


def simulate(plan: Plan, *, keep_balances: bool = True) -> RunData:
    """Run a batch through the event loop and check its books; raises ConservationError if off."""
    return Engine(plan, keep_balances=keep_balances).run()
