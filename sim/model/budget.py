"""How much memory a run will take, counted from its Plan before anything large is allocated.

Memory grows with the shape of a run, not with its amounts: the ledger keeps a record per leg
posted, each with cents per origin per run; the balances keep every pool (account x origin x run)
at every grid point; the DataFrames a Result builds repeat both for one run. ``estimate`` counts
them from the Plan's shape (a few small array operations per lab and cloud, nothing the size of
the run) and ``check_plan`` refuses, as bad input, a run whose estimate exceeds the memory
budget: 4 GiB unless a ``memory_budget=`` argument or ``ROUNDTRIP_MEMORY_BUDGET`` (``8GiB``) says
otherwise. ``sim.run``, ``sim.run_batch`` and ``roundtrip validate`` all check it.

The estimate is of the peak of what ``roundtrip run`` does: the event loop, at whose end the
ledger is held twice (each posting's block, and the assembled arrays), then one run's ledger and
balances DataFrames, written to Parquet. It leaves out the ~0.3 GB the interpreter and the
libraries take before a run starts.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass

import numpy as np

from sim.errors import ScenarioError
from sim.model.schedule import Plan

__all__ = [
    "BUDGET_VARIABLE",
    "DEFAULT_BUDGET",
    "Estimate",
    "check_plan",
    "estimate",
    "estimate_bytes",
    "format_bytes",
    "memory_budget",
    "parse_bytes",
]

GiB = 2**30
DEFAULT_BUDGET = 4 * GiB  # well under the 24 GiB of the machine the project runs on
BUDGET_VARIABLE = "ROUNDTRIP_MEMORY_BUDGET"

# Bytes per item, from the layouts in sim/model/books.py, sim/model/engine.py and
# sim/analysis/result.py.
CENT = 8  # one int64 cent amount
BLOCK = 250  # one posting's block in Books: a small ndarray, its tuple and list slot
RECORD_META = 5 * 8  # a ledger record's time, payer, payee, kind and deal (int64 each)
RECORD_ASSEMBLY = 6 * 8  # Books.ledger(): the times twice and the [record, 4] meta array
STRING = 8  # a pandas str column (Arrow large_string): an offset per row, then the text
# units of a memory size; a lone G or M is refused, as it means 10**9 to some and 2**30 to others
_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_UNITS |= {"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*$", re.IGNORECASE)


def parse_bytes(text: str | int) -> int:
    """A memory size: ``8GiB``, ``512MiB``, ``6GB`` (powers of ten), ``1.5GiB`` or a number of
    bytes. Raises ValueError naming the accepted forms."""
    if isinstance(text, int) and not isinstance(text, bool):
        if text <= 0:
            raise ValueError(f"a memory budget must be positive, not {text}")
        return text
    m = _SIZE.match(str(text))
    unit = m.group(2).lower() if m else ""
    if m is None or unit not in _UNITS or float(m.group(1)) <= 0:
        raise ValueError(
            f"{text!r} is not a memory size; write e.g. 8GiB, 512MiB, 6GB or a number of bytes"
        )
    return int(float(m.group(1)) * _UNITS[unit])


def format_bytes(n: float) -> str:
    """Bytes for a message: ``23.4 GiB``, ``4.04 GiB``, ``812 MiB``, ``64 KiB``."""
    if n >= 10 * GiB:
        return f"{n / GiB:,.1f} GiB"
    if n >= GiB:
        return f"{n / GiB:.2f} GiB"
    if n >= 2**20:
        return f"{n / 2**20:,.0f} MiB"
    return f"{n / 2**10:,.0f} KiB"


def memory_budget(budget: str | int | None = None) -> int:
    """The budget in bytes: ``budget`` if given, else ``ROUNDTRIP_MEMORY_BUDGET``, else 4 GiB."""
    if budget is not None:
        return parse_bytes(budget)
    text = os.environ.get(BUDGET_VARIABLE, "").strip()
    if not text:
        return DEFAULT_BUDGET
    try:
        return parse_bytes(text)
    except ValueError as e:
        raise ScenarioError(str(e), file=BUDGET_VARIABLE) from None


@dataclass(frozen=True)
class Estimate:
    """Bytes a run will need at its peak (``total``), and the parts that make it up."""

    records: int  # ledger records (legs posted), over all runs
    ledger: int  # the ledger as a finished run keeps it: cents by origin and run, per record
    balances: int  # pool snapshots at every grid point (0 when not kept)
    tables: int  # the Plan, the per-lab tables and the pools
    engine: int  # the event loop's peak: the above, with the ledger held twice at its end
    frames: int  # one run's Result.ledger and Result.balances, and building them
    total: int  # engine + frames: the allocator keeps what the loop freed (see ``estimate``)
    timed: int = (
        0  # timed records (sim/model/recorder.py), an upper bound: the flows recorder's room
    )

    def parts(self) -> str:
        """The two largest parts, for a message: ``ledger 14.2 GiB, balances 1.83 GiB``."""
        named = [("ledger", self.ledger), ("balances", self.balances), ("tables", self.tables)]
        named.append(("DataFrames", self.frames))
        named.sort(key=lambda p: -p[1])
        return ", ".join(f"{name} {format_bytes(b)}" for name, b in named[:2] if b)


def _ledger_records(plan: Plan) -> tuple[int, int, int]:
    """Records (legs), postings and timed records (sim/model/recorder.TIMED: investment, compute,
    profit, financing) the engine will write, from the Plan's shape: per step per lab, one
    revenue record, and one spending posting of a leg to each seller paid at once, to
    other_compute and to suppliers, then each such seller's cost and, if owned, profit; each
    invoice paid later is a posting of its own (lab -> seller, cost, profit) per distinct due
    day within the horizon; two records per tranche day; a raise and an interest record per
    step for a lab with financing. An upper bound: a deferred invoice of zero in every run is
    not posted."""
    days_end = plan.days[1:, None]  # [step, 1]
    last = int(plan.days[-1])
    s = plan.n_steps
    records = postings = timed = 0
    for name, lab in plan.labs.items():
        contract_sellers = [c.cloud for c in plan.contracts if c.lab == name]
        sellers = list(dict.fromkeys([*lab.providers, *contract_sellers]))
        now_legs, now_timed = 2, 1  # other_compute (timed: compute) and suppliers
        for seller in sellers:
            due = plan.due[(name, seller)]  # [step, run]
            owned = plan.owner[seller] is not None
            now = due == days_end
            if now.any():
                now_legs += 2 + owned  # lab -> seller, seller -> costs, seller -> owner
                now_timed += 1 + owned  # the compute and the profit
            later = np.where(now | (due > last), -1, due)
            if (later < 0).all():
                continue
            later.sort(axis=1)
            distinct = (later[:, :1] >= 0).sum() + (np.diff(later, axis=1) != 0).sum()
            postings += int(distinct)
            records += int(distinct) * (2 + owned)
            timed += int(distinct) * (1 + owned)
        records += s * (1 + now_legs)  # revenue, then the spending posting
        timed += s * now_timed
        postings += 2 * s
        if lab.financing is not None:
            records += 2 * s
            timed += s
            postings += 2 * s
    for inv in plan.investments:
        n_days = len(set(inv.days.ravel().tolist()))  # np.unique would import numpy.ma
        records += 2 * n_days
        timed += n_days
        postings += n_days
    return records, postings, timed


def estimate(plan: Plan, *, keep_balances: bool = True, record: str = "ledger") -> Estimate:
    """The memory a run of ``plan`` will need, in bytes, without allocating it.

    Under the flows recorder (``record="flows"``, sim/model/recorder.py) the ledger's part is the
    flow matrix, ``F x O x R x 8`` with ``F`` flows (at most the records, and no more than
    accounts x accounts x kinds x deals), and the timed records, ``T x (R x 8 + 40)``, each
    held twice at the end (as posted and assembled); no DataFrame is built.

    With ``R`` runs, ``S`` steps, ``A`` accounts, ``O`` origins and ``N`` ledger records:

    * ledger: ``N x (O x R x 8 + 40)``: int64 cents by origin and run, then each record's time,
      payer, payee, kind and deal. At the end of the event loop it is there twice: the block
      each posting wrote, and the arrays ``Books.ledger`` assembles from them;
    * balances: ``(S + 1) x A x O x R x 8``, written in place (never copied);
    * tables: the Plan and each lab's ``[step, item, run]`` tables (what it invoiced each seller
      and the profit part of it among them), and the pools;
    * DataFrames, for one run: the ledger frame (a column per origin, ``N x (O x 8 + ~90)``) and
      the balances frame (a row per point, account and origin, ``~60`` bytes each), plus the
      columns they are built from. The blocks the event loop freed are small allocations that
      the C allocator keeps for reuse, so the frames count on top of the loop's peak.

    Measured (growth of peak resident memory for a run, its two frames and their Parquet
    files, on this project's 2-core machine), estimate / measured: 10 labs daily for 8 years
    279 / 268 MiB; 50 labs daily for 4 years 2.17 / 1.80 GiB; one lab and 600 clouds monthly
    563 / 467 MiB, with 1,500 clouds 3.45 / 2.59 GiB; a batch of 3,000 monthly runs 270 / 224
    MiB. The full table is in docs/model.md, "Memory"; tests/test_budget.py holds the estimate
    within a factor of two of tracemalloc's peak.
    """
    r, s = plan.n_runs, plan.n_steps
    a, o = len(plan.accounts), len(plan.origins)
    n, postings, n_timed = _ledger_records(plan)

    ledger = n * (o * r * CENT + RECORD_META)
    blocks = n * o * r * CENT + postings * BLOCK + n * RECORD_ASSEMBLY
    if record == "flows":
        # per lab revenue, other, other compute, raise and interest, and per seller it pays the
        # compute, the seller's cost and profit; two per investment deal (funding, investment)
        n_flows = 2 * len(plan.investments) + sum(
            5 + 3 * len({*lab.providers, *(c.cloud for c in plan.contracts if c.lab == name)})
            for name, lab in plan.labs.items()
        )
        # the sums (grown by doubling: up to twice the rows) and their grouped copy
        ledger = 3 * min(n, n_flows) * o * r * CENT + n_timed * (r * CENT + RECORD_META)
        blocks = n_timed * r * CENT + postings * BLOCK
    balances = (s + 1) * a * o * r * CENT if keep_balances else 0
    n_items = sum(len(lab.providers) + 2 for lab in plan.labs.values())  # + other compute, other
    n_flows = 3 * len(plan.labs) + len(plan.contracts) + len(plan.due)
    # + per (lab, seller) pair, what was invoiced and its profit part, each step (booked figures)
    tables = s * r * CENT * (2 * n_items + 4 * n_flows + 2 * len(plan.due) + 9 * len(plan.labs))
    tables += 4 * a * o * r * CENT  # opening (twice), the pool, the books check's replay
    engine = tables + balances + blocks + ledger

    # one run's frames: names are pandas str columns (Arrow: an offset and the text per row)
    name = math.ceil(sum(map(len, plan.accounts)) / a)
    origin_name = math.ceil(sum(map(len, plan.origins)) / max(o, 1))
    points = (s + 1) * a * o if keep_balances else 0
    ledger_frame = n * (o * CENT + 3 * CENT + 5 * (STRING + name))
    balances_frame = points * (3 * CENT + 2 * STRING + name + origin_name)
    # while built, some columns exist twice: a Python object per ledger row and name column;
    # int32 codes and repeated columns for the balances
    building = max(n * 5 * 2 * CENT, points * 2 * CENT)
    frames = ledger_frame + balances_frame + building
    if record == "flows":  # a batch of many runs: no frames are built
        frames = 0

    return Estimate(n, ledger, balances, tables, engine, frames, engine + frames, n_timed)


def estimate_bytes(plan: Plan, *, keep_balances: bool = True, record: str = "ledger") -> int:
    """The peak memory a run of ``plan`` will need, in bytes (``estimate(...).total``)."""
    return estimate(plan, keep_balances=keep_balances, record=record).total


def check_plan(
    plan: Plan,
    *,
    keep_balances: bool = True,
    budget: str | int | None = None,
    record: str = "ledger",
) -> Estimate:
    """Refuse (ScenarioError, exit 2 from the CLI) a run whose memory estimate exceeds the budget;
    return the estimate otherwise. Takes a few milliseconds and allocates nothing large."""
    est = estimate(plan, keep_balances=keep_balances, record=record)
    limit = memory_budget(budget)
    if est.total <= limit:
        return est
    first = plan.scenarios[0]
    hints = []
    if len(plan.grid) > 100:
        hints.append(f"a coarser step than {first.step}")
    hints.append("fewer labs or clouds")
    if plan.n_runs > 1:
        hints.append("fewer runs per batch")
    if est.balances > est.total / 4:
        hints.append("keep_balances=False")
    need = math.ceil(est.total / GiB)
    raise ScenarioError(
        f"this run would need about {format_bytes(est.total)} of memory ({est.parts()}), "
        f"over the budget of {format_bytes(limit)}; use {', '.join(hints)}, or raise the "
        f"budget: {BUDGET_VARIABLE}={need}GiB",
        file=first.source,
    )
