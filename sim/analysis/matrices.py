"""Accounting views of a run: the transaction-flow matrix, the balance sheet and consolidation.

Economists read a system of payments like this one as a stock-flow consistent (SFC) model
(Godley and Lavoie, *Monetary Economics*, 2007): a **transaction-flow matrix** with a column per
account and a row per kind of payment, each row and each column summing to zero, and a
**balance-sheet matrix** of what each account holds and owes at a date, summing to zero the same
way. Both are read here off what either recorder keeps (the flow matrix,
``sim.model.recorder.Flows``)
and the pools at the start and the end, so they are the same under ``record="ledger"`` and
``record="flows"``. Accounts and kinds are never listed here: the columns are ``plan.accounts``
(agents of any kind, then the external accounts), the rows ``sim.model.recorder.KINDS``.

Every cell is integer cents. ``check`` builds both matrices for every run of a batch and raises
``ConservationError`` if a row or a column is off by a cent; the engine calls it after every
run. ``consolidate`` merges accounts into groups (an investor and the clouds it owns) and drops
the payments made inside a group. docs/matrices.md defines every row, sign and check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from sim.errors import ConservationError
from sim.model.kernels import Cents
from sim.model.recorder import KIND, KINDS
from sim.model.schedule import CAPEX_FUNDING

if TYPE_CHECKING:  # the engine imports this module: RunData is for the type checker only
    import pandas as pd

    from sim.model.engine import RunData
    from sim.model.schedule import Plan

CHANGE_IN_CASH = "change in cash"  # the transaction-flow matrix's last row
BEFORE_START = "(before start)"  # the balance sheet's counterpart of the opening cash
CASH, STAKE, COMMITMENT, NET_WORTH = "cash", "equity stake", "commitment", "minus net worth"
INVOICE = "invoice owed"
DEBT = "debt"
LOAN = "loan"

Row = tuple[str, ...]


@dataclass(frozen=True)
class RunFlows:
    """One run's flows and pools, all a transaction-flow matrix is read from: a flow is
    (payer, payee, kind) with its cents by origin."""

    accounts: tuple[str, ...]
    origins: tuple[str, ...]
    payer: npt.NDArray[np.int64]  # account index, per flow
    payee: npt.NDArray[np.int64]
    kind: npt.NDArray[np.int64]  # index into KINDS
    cents: Cents  # [flow, origin]
    opening: Cents  # [account, origin]
    closing: Cents  # [account, origin]


@dataclass(frozen=True)
class Matrix:
    """Integer cents ``cents[row, column]``; rows are labelled by ``levels`` (one or two
    names), columns by account (or group). Every row and every column sums to zero."""

    title: str
    levels: tuple[str, ...]
    rows: tuple[Row, ...]
    columns: tuple[str, ...]
    cents: Cents  # [row, column]
    flows: RunFlows | None = None  # what a transaction-flow matrix was read from
    by_origin: bool = False

    def _repr_html_(self) -> str:
        """In Jupyter, the matrix as a person reads it (sim.analysis.tables.matrix): money in $B,
        every column shown, zero rows and columns left out, accounts by their keys."""
        from sim.analysis.tables import matrix

        return matrix(self).to_html()

    def off_by(self) -> int:
        """The largest row or column sum in absolute cents: 0 when the matrix balances."""
        sums = np.concatenate([self.cents.sum(axis=0), self.cents.sum(axis=1)])
        return int(np.abs(sums).max(initial=0))

    def cell(self, row: str | Row, column: str) -> int:
        """The cents in one cell; ``row`` is the first level alone when it has one level."""
        key = (row,) if isinstance(row, str) else row
        return int(self.cents[self.rows.index(key), self.columns.index(column)])

    def frame(self, *, cents: bool = False) -> pd.DataFrame:
        """As a DataFrame: dollars (float, for display) or, with ``cents``, exact int64 cents."""
        import pandas as pd

        if len(self.levels) == 1:
            index = pd.Index([r[0] for r in self.rows], name=self.levels[0])
        else:
            index = pd.MultiIndex.from_tuples(list(self.rows), names=list(self.levels))
        values = self.cents if cents else self.cents / 100
        return pd.DataFrame(values, index=index, columns=list(self.columns))

    def csv(self) -> str:
        """As CSV text: the row labels, then a column per account, in dollars to the cent
        (``-1234.56``), written from the integer cents (exact, no float)."""
        import csv
        import io

        buf = io.StringIO()
        out = csv.writer(buf, lineterminator="\n")
        out.writerow([*self.levels, *self.columns])
        for row, values in zip(self.rows, self.cents.tolist(), strict=True):
            out.writerow([*row, *(dollars(v) for v in values)])
        return buf.getvalue()


def dollars(cents: int) -> str:
    """Exact cents as dollars to the cent: ``-123456`` -> ``-1234.56``."""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{'-' if cents < 0 else ''}{whole}.{part:02d}"


# ---- the cells, over every run of a batch at once ------------------------------------------------


def flow_cells(
    payer: npt.NDArray[np.int64],
    payee: npt.NDArray[np.int64],
    kind: npt.NDArray[np.int64],
    amount: Cents,
    n_columns: int,
) -> Cents:
    """``T[kind, column, ...] = sum(amount to column) - sum(amount from column)`` over flows of
    that kind; ``amount[flow, ...]`` is cents per run (or per origin and run)."""
    out = np.zeros((len(KINDS) * n_columns, *amount.shape[1:]), dtype=np.int64)
    into, out_of = (kind * n_columns + payee).tolist(), (kind * n_columns + payer).tolist()
    for f, (i, o) in enumerate(zip(into, out_of, strict=True)):  # tens of flows: a row each
        out[i] += amount[f]
        out[o] -= amount[f]
    return out.reshape(len(KINDS), n_columns, *amount.shape[1:])


def change_in_cash(opening: Cents, closing: Cents) -> Cents:
    """The last row of the transaction-flow matrix: ``-(closing - opening)`` summed over
    origins, ``[account, run]`` (a rise in cash is a use of funds, so it is negative)."""
    return -(closing.sum(axis=1) - opening.sum(axis=1))


def _deal_index(data: RunData) -> dict[str, int]:
    return {name: d for d, name in enumerate(data.deals)}


def _paid(data: RunData, amount: Cents, deal: int, payer: int, payee: int) -> Cents:
    """Cents ``payer`` paid ``payee`` under ``deal``, whatever the kind, per run."""
    f = data.flows
    rows = (f.deal == deal) & (f.payer == payer) & (f.payee == payee)
    return amount[rows].sum(axis=0)


def _contract_deals(data: RunData) -> dict[int, list[int]]:
    """Compute deals that carry take-or-pay minimums -> the contracts (positions in
    ``plan.contracts``) booked under them: a contract's own id, or, where a lab has several
    contracts with one cloud (their minimums add up), ``<lab>-<cloud>-compute``."""
    index = _deal_index(data)
    out: dict[int, list[int]] = {}
    for i, c in enumerate(data.plan.contracts):
        name = c.id if c.id in index else f"{c.lab}-{c.cloud}-compute"
        if name not in index:
            raise ConservationError(f"contract {c.id}: no deal books its compute")
        out.setdefault(index[name], []).append(i)
    return out


def balance_rows(data: RunData, amount: Cents) -> tuple[list[Row], list[tuple[int, int]], Cents]:
    """The claims between accounts at the end of the run, each held by one account and owed by
    another: its row label, (holder, owes) account indices, and its cents per run ``[claim,
    run]``. ``amount[flow, run]``: the flows' cents summed over origins.

    * equity stake per investment deal, at cost: what the investor paid the lab under it;
    * money a lab raised: equity at cost (what the source paid it), or debt outstanding (drawn
      plus interest not paid); the source holds it;
    * commitment per compute deal with minimums: ``max(sum of minimums - paid under it -
      invoiced and owed under it, 0)``, the take-or-pay minimums within the horizon the lab has
      neither paid nor been invoiced for; the cloud holds it;
    * debt per seller with a route paid ahead (a lead): what it borrowed from
      ``capex_funding`` to pay those routes ahead, less what it repaid as the invoices were
      paid; the lender holds it;
    * loan per loan deal: its principal outstanding (drawn, less repaid, plus interest not
      paid); the lender holds it, the borrower owes it;
    * invoice owed per compute deal whose invoices may be paid after they are issued: invoices
      issued within the horizon and not paid by its end (due after it); the cloud holds it.
    """
    plan, index = data.plan, {a: i for i, a in enumerate(data.plan.accounts)}
    deal = _deal_index(data)
    rows: list[Row] = []
    sides: list[tuple[int, int]] = []
    values: list[Cents] = []
    for inv in plan.investments:
        holder, owes = index[inv.investor], index[inv.lab]
        rows.append((STAKE, inv.id))
        sides.append((holder, owes))
        values.append(_paid(data, amount, deal[inv.id], holder, owes))
    for name, lab_plan in plan.labs.items():
        fin = lab_plan.financing
        if fin is None:
            continue
        source, a = index[fin.source], index[name]
        if fin.kind == "debt":
            rows.append((DEBT, f"{name}-financing"))
            values.append(data.lab_stats[name]["debt_outstanding"])
        else:
            rows.append((STAKE, f"{name}-financing"))
            values.append(_paid(data, amount, deal[f"{name}-financing"], source, a))
        sides.append((source, a))
    n_runs = data.opening.shape[2]
    for d, contracts in _contract_deals(data).items():
        first = plan.contracts[contracts[0]]
        lab, cloud = index[first.lab], index[first.cloud]
        minimum = sum(plan.contracts[i].minimum.sum(axis=0) for i in contracts)
        owed = data.owed.get((first.lab, first.cloud), np.zeros(n_runs, dtype=np.int64))
        rows.append((COMMITMENT, data.deals[d]))
        sides.append((cloud, lab))
        values.append(np.maximum(minimum - _paid(data, amount, d, lab, cloud) - owed, 0))
    if plan.lead_sellers:
        f, funding = data.flows, index[CAPEX_FUNDING]
        loan, repaid = KIND["capex_loan"], KIND["capex_repaid"]
        for seller in plan.lead_sellers:
            a = index[seller]
            lent = amount[(f.kind == loan) & (f.payer == funding) & (f.payee == a)].sum(axis=0)
            back = amount[(f.kind == repaid) & (f.payer == a) & (f.payee == funding)].sum(axis=0)
            rows.append((DEBT, f"{seller}-capex"))
            sides.append((funding, a))
            values.append(lent - back)
    for lent in plan.loans:  # principal outstanding, unpaid interest added; the lender holds it
        rows.append((LOAN, lent.id))
        sides.append((index[lent.lender], index[lent.borrower]))
        values.append(data.loans[lent.id]["outstanding"])
    for (lab_name, cloud_name), owed in data.owed.items():
        rows.append((INVOICE, data.deals[data.compute_deal[(lab_name, cloud_name)]]))
        sides.append((index[cloud_name], index[lab_name]))
        values.append(owed)
    stacked = np.stack(values) if values else np.zeros((0, data.opening.shape[2]), np.int64)
    return rows, sides, stacked.astype(np.int64, copy=False)


def balance_cells(data: RunData, amount: Cents) -> tuple[list[Row], Cents]:
    """The balance-sheet matrix at the end of every run, ``[row, column, run]``; the columns
    are the accounts, then ``BEFORE_START``.

    Rows: cash per origin (each account's closing pool, the opening cash's counterpart
    ``-sum(opening)`` in ``BEFORE_START``); each claim of ``balance_rows``, ``+`` for its holder
    and ``-`` for the account that owes it; last ``minus net worth``, ``-(column sum)``, so that
    every column sums to zero (Godley and Lavoie write net worth so)."""
    n_accounts, n_origins, n_runs = data.closing.shape
    rows, sides, claims = balance_rows(data, amount)
    cells = np.zeros((n_origins + len(rows) + 1, n_accounts + 1, n_runs), dtype=np.int64)
    cells[:n_origins, :n_accounts] = data.closing.transpose(1, 0, 2)
    cells[:n_origins, n_accounts] = -data.opening.sum(axis=0)
    for k, (holder, owes) in enumerate(sides):
        cells[n_origins + k, holder] += claims[k]
        cells[n_origins + k, owes] -= claims[k]
    cells[-1] = -cells[:-1].sum(axis=0)
    labels = [(CASH, o) for o in data.plan.origins] + rows + [(NET_WORTH, "")]
    return labels, cells


def check(data: RunData) -> None:
    """Build the transaction-flow matrix and the balance sheet of every run of the batch and
    raise ``ConservationError`` unless each row and each column sums to zero to the cent.

    The column sums of the transaction-flow matrix compare the flows with the pools (an
    account's net receipts equal the change in its cash); the cash rows of the balance sheet
    compare the pools at the end with those at the start (conservation of every origin). The
    other sums hold by double entry; they are checked all the same, at no cost worth naming."""
    amount = data.flows.cents.sum(axis=1)  # [flow, run]
    f, n_accounts = data.flows, data.closing.shape[0]
    tf = flow_cells(f.payer, f.payee, f.kind, amount, n_accounts)  # [kind, account, run]
    last = change_in_cash(data.opening, data.closing)
    _zero(tf.sum(axis=1), "transaction-flow matrix", "row", list(KINDS))
    _zero(tf.sum(axis=0) + last, "transaction-flow matrix", "column", data.plan.accounts)
    labels, bs = balance_cells(data, amount)
    _zero(bs.sum(axis=1), "balance sheet", "row", [" ".join(r).strip() for r in labels])
    _zero(bs.sum(axis=0), "balance sheet", "column", [*data.plan.accounts, BEFORE_START])


def _zero(sums: Cents, matrix: str, what: str, names: Sequence[str]) -> None:
    """Raise unless ``sums[item, run]`` are all zero, naming the first item and run off."""
    if not sums.any():
        return
    item, run = (int(x[0]) for x in np.nonzero(sums))
    raise ConservationError(
        f"{matrix}: {what} {names[item]!r} sums to {int(sums[item, run])} cents, not 0, "
        f"in run {run} of the batch"
    )


# ---- one run ---------------------------------------------------------------------------------


def run_flows(data: RunData, run: int) -> RunFlows:
    """What run ``run`` of the batch moved, and its pools at the start and the end."""
    f, r = data.flows, run
    return RunFlows(
        accounts=tuple(data.plan.accounts),
        origins=tuple(data.plan.origins),
        payer=f.payer,
        payee=f.payee,
        kind=f.kind,
        cents=f.cents[:, :, r],
        opening=data.opening[:, :, r],
        closing=data.closing[:, :, r],
    )


def _flow_matrix(
    flows: RunFlows, columns: Sequence[str], column_of: npt.NDArray[np.intp], by_origin: bool
) -> Matrix:
    """The transaction-flow matrix of ``flows`` with account ``a`` in column ``column_of[a]``."""
    n = len(columns)
    payer, payee = column_of[flows.payer], column_of[flows.payee]
    delta = flows.closing - flows.opening  # [account, origin]
    if by_origin:  # rows (kind, origin), then (change in cash, origin)
        body = flow_cells(payer, payee, flows.kind, flows.cents, n)  # [kind, column, origin]
        body = body.transpose(0, 2, 1).reshape(-1, n)
        last = np.zeros((n, len(flows.origins)), dtype=np.int64)
        np.subtract.at(last, column_of, delta)
        cents = np.concatenate([body, last.T])
        rows: list[Row] = [(k, o) for k in (*KINDS, CHANGE_IN_CASH) for o in flows.origins]
        levels: tuple[str, ...] = ("kind", "origin")
    else:
        body = flow_cells(payer, payee, flows.kind, flows.cents.sum(axis=1), n)
        last1 = np.zeros(n, dtype=np.int64)
        np.subtract.at(last1, column_of, delta.sum(axis=1))
        cents = np.concatenate([body, last1[None]])
        rows = [(k,) for k in (*KINDS, CHANGE_IN_CASH)]
        levels = ("kind",)
    title = "transaction flows" + (" by origin" if by_origin else "")
    return Matrix(title, levels, tuple(rows), tuple(columns), cents, flows, by_origin)


def transaction_flows(data: RunData, run: int = 0, *, by_origin: bool = False) -> Matrix:
    """The transaction-flow matrix of one run: a column per account, a row per kind of flow
    (``KINDS``), then ``change in cash``. Cell ``T[k, a]`` = cents ``a`` received less cents
    ``a`` paid in flows of kind ``k``; ``T[change in cash, a] = -(closing_a - opening_a)``.
    With ``by_origin``, a row per (kind, origin): whose money it was."""
    flows = run_flows(data, run)
    column_of = np.arange(len(flows.accounts), dtype=np.intp)
    return _flow_matrix(flows, flows.accounts, column_of, by_origin)


def balance_sheet(data: RunData, run: int = 0) -> Matrix:
    """The balance-sheet matrix of one run at its end (see ``balance_cells``): rows (item,
    of what), columns the accounts then ``BEFORE_START``."""
    one = _one_run(data, run)
    labels, cells = balance_cells(one, one.flows.cents.sum(axis=1))
    columns = (*data.plan.accounts, BEFORE_START)
    return Matrix("balance sheet", ("item", "of"), tuple(labels), columns, cells[:, :, 0])


def _one_run(data: RunData, run: int) -> RunData:
    """``data`` narrowed to one run (views; the plan's per-run arrays sliced where read)."""
    import dataclasses

    r = slice(run, run + 1)
    plan = data.plan
    contracts = [dataclasses.replace(c, minimum=c.minimum[:, r]) for c in plan.contracts]
    return dataclasses.replace(
        data,
        plan=dataclasses.replace(plan, contracts=contracts),
        flows=data.flows.select(run),
        opening=data.opening[:, :, r],
        closing=data.closing[:, :, r],
        lab_stats={lab: {k: v[r] for k, v in s.items()} for lab, s in data.lab_stats.items()},
        owed={pair: cents[r] for pair, cents in data.owed.items()},
    )


# ---- consolidation ---------------------------------------------------------------------------


def default_groups(plan: Plan) -> dict[str, list[str]]:
    """Each investor that owns clouds with them, as ``"<investor> + <cloud> + ..."``; every
    other account stays alone."""
    return {
        " + ".join((investor, *owns)): [investor, *owns]
        for investor, owns in plan.investors.items()
        if owns
    }


def consolidate(matrix: Matrix, groups: Mapping[str, Sequence[str]]) -> Matrix:
    """The transaction-flow ``matrix`` with each group's members merged into one column named
    after the group, and every flow whose payer and payee are both in the group removed (what a
    cloud earns from its owner's own money is no new money for the owner). Accounts in no group
    keep their column. Read from the flows, not the cells, so that what is removed is exactly
    the flows inside a group; the result still sums to zero by rows and columns."""
    flows = matrix.flows
    if flows is None:
        raise ValueError("consolidate takes a transaction-flow matrix (it reads its flows)")
    column_of, columns = _group_columns(flows.accounts, groups)
    inside = column_of[flows.payer] == column_of[flows.payee]
    kept = RunFlows(
        flows.accounts,
        flows.origins,
        flows.payer[~inside],
        flows.payee[~inside],
        flows.kind[~inside],
        flows.cents[~inside],
        flows.opening,
        flows.closing,
    )
    out = _flow_matrix(kept, columns, column_of, matrix.by_origin)
    return Matrix(
        "consolidated " + out.title, out.levels, out.rows, out.columns, out.cents, kept,
        matrix.by_origin,
    )  # fmt: skip


def _group_columns(
    accounts: Sequence[str], groups: Mapping[str, Sequence[str]]
) -> tuple[npt.NDArray[np.intp], list[str]]:
    """Per account, its column; the columns in the order of their first account. A member that
    is no account, an account in two groups, or a group named after an account outside it is
    refused (``ValueError``)."""
    group_of: dict[str, str] = {}
    for name, members in groups.items():
        for m in members:
            if m not in accounts:
                raise ValueError(f"group {name!r}: {m!r} is not an account of this run")
            if m in group_of:
                raise ValueError(f"{m!r} is in two groups, {group_of[m]!r} and {name!r}")
            group_of[m] = name
        if name in accounts and group_of.get(name) != name:
            raise ValueError(f"group {name!r} has the name of an account it does not hold")
    labels = [group_of.get(a, a) for a in accounts]
    columns = list(dict.fromkeys(labels))
    return np.array([columns.index(x) for x in labels], dtype=np.intp), columns


@dataclass(frozen=True)
class Matrices:
    """The accounting views of one run (``Result.matrices()``)."""

    transaction_flows: Matrix
    balance_sheet: Matrix
    consolidated: Matrix


def views(
    data: RunData, run: int = 0, groups: Mapping[str, Sequence[str]] | None = None
) -> Matrices:
    """All three views of run ``run``; ``groups`` default to ``default_groups``."""
    tf = transaction_flows(data, run)
    chosen = default_groups(data.plan) if groups is None else groups
    return Matrices(tf, balance_sheet(data, run), consolidate(tf, chosen))
