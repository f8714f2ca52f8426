"""Step 3 of the scenario pipeline, first part: the checks of a whole scenario that span several
values of its agents (names, references between agents, cost routes, financing) and of the
calendar (horizon and step), and what the engine needs to run it. The deals are checked in
sim/inputs/deal_checks.py. Each check returns every error it finds, each at its place.
"""

from __future__ import annotations

import math

from sim.errors import ScenarioError
from sim.inputs.document import YamlDoc, YamlPath
from sim.inputs.models import (
    NAME_RE,
    RESERVED_NAMES,
    SELLER_KINDS,
    ContractModel,
    InvestmentModel,
    InvestorModel,
    LabModel,
    ScenarioModel,
    SellerModel,
)
from sim.inputs.units import MAX_STEPS, add_months, count_steps, shown
from sim.inputs.values import did_you_mean

MAX_HORIZON_YEARS = 100
# Money a file states (opening cash and tranches) must add up to less than 2**63 cents, or the
# int64 sums made when the flows are planned would wrap around. Planning then refuses anything past
# 2**52 cents (~$45T, the range of exact cents) once revenue is added; this check only makes sure
# it sees the true sum. Both say $45T: any sum refused here is past it.
MAX_STATED_CENTS = 2**63


def first_error(errors: list[ScenarioError]) -> ScenarioError:
    """The first error by place (overrides first, then by line), noting how many more there are."""
    errors = sorted(errors, key=lambda e: (e.line or 0, e.column or 0))
    first, more = errors[0], len(errors) - 1
    if not more:
        return first
    suffix = f" (and {more} more error{'s' if more > 1 else ''})"
    return ScenarioError(
        first.message + suffix,
        file=first.file,
        line=first.line,
        column=first.column,
        path=first.path,
    )


def check_calendar(m: ScenarioModel, doc: YamlDoc) -> list[ScenarioError]:
    """The horizon must be at most 100 years, on a grid of at most MAX_STEPS.

    No date arithmetic here can fail: the start is at most 2199-12-31 and every duration at most
    about 110 years (both checked where they are read)."""
    end = m.horizon.after(m.start)
    steps = count_steps(m.start, end, m.step)  # arithmetic only: never builds the grid
    if steps > MAX_STEPS:
        path: YamlPath = ("step",) if ("step",) in doc.overrides else ("horizon",)
        return [
            doc.error(
                path,
                f"a horizon of {m.horizon} at a step of {m.step} is {steps:,} steps, more than "
                f"the {MAX_STEPS:,} a run may have; use a coarser step (such as 1w or 1mo) or a "
                "shorter horizon",
            )
        ]
    limit = add_months(m.start, 12 * MAX_HORIZON_YEARS)
    if end > limit:
        return [
            doc.error(
                ("horizon",),
                f"the horizon {m.horizon} is longer than {MAX_HORIZON_YEARS} years; at most "
                f"{MAX_HORIZON_YEARS}y, or {(limit - m.start).days:,}d from {m.start}",
            )
        ]
    return []


def check_agents(m: ScenarioModel, doc: YamlDoc) -> list[ScenarioError]:
    errors: list[ScenarioError] = []
    seen: dict[str, str] = {}
    for name in m.agents:
        path: YamlPath = ("agents", name)
        if not NAME_RE.fullmatch(name):
            errors.append(
                doc.error(
                    path,
                    f"an agent name is letters, digits and _ starting with a letter, such as "
                    f"openai or aws_2; got {shown(name)}",
                    key=True,
                )
            )
        elif name.lower() in RESERVED_NAMES:
            errors.append(
                doc.error(
                    path,
                    f"{shown(name)} is the name of an account outside the model "
                    f"({', '.join(RESERVED_NAMES)}); pick another name",
                    key=True,
                )
            )
        elif name.lower() in seen:
            errors.append(
                doc.error(
                    path,
                    f"{shown(seen[name.lower()])} and {shown(name)} differ only in case",
                    key=True,
                )
            )
        seen.setdefault(name.lower(), name)
    owner: dict[str, str] = {}
    for name, agent in m.agents.items():
        if isinstance(agent, InvestorModel):
            for i, cloud in enumerate(agent.owns):
                path = ("agents", name, "owns", i)
                bad = ref(m, doc, path, cloud, "seller")
                if bad:
                    errors.append(bad)
                elif cloud in owner:
                    who = "this investor" if owner[cloud] == name else repr(owner[cloud])
                    errors.append(
                        doc.error(
                            path,
                            f"{shown(cloud)} is already owned by {who}; "
                            "a cloud or vendor has at most one owner",
                        )
                    )
                owner.setdefault(cloud, name)
        if isinstance(agent, LabModel):
            providers = agent.spending.compute.providers
            base: YamlPath = ("agents", name, "spending", "compute", "providers")
            for cloud in providers:
                bad = ref(m, doc, (*base, cloud), cloud, "seller", key=True)
                if bad:
                    errors.append(bad)
            total = math.fsum(providers.values())
            if total > 1 + 1e-9:
                shares = ", ".join(f"{c} {pct(s)}" for c, s in providers.items())
                errors.append(
                    doc.error(
                        base,
                        f"the provider shares sum to {pct(total)} ({shares}), more than 100%; "
                        "what is left of 100% is bought from compute suppliers outside the model",
                        key=True,
                    )
                )
        if isinstance(agent, SellerModel):
            errors += _check_costs(m, doc, name, agent)
    errors += _check_routes_acyclic(m, doc)
    errors += _check_financing(m, doc)
    return errors


def _check_costs(
    m: ScenarioModel, doc: YamlDoc, name: str, agent: SellerModel
) -> list[ScenarioError]:
    """A seller's cost routes name other sellers and share at most 100% of its costs."""
    errors: list[ScenarioError] = []
    base: YamlPath = ("agents", name, "costs")
    for to in agent.costs:
        if to == name:
            errors.append(
                doc.error(
                    (*base, to),
                    f"{shown(name)} routes its costs to itself; a cost route names another "
                    "cloud or vendor that this one buys from",
                    key=True,
                )
            )
            continue
        bad = ref(m, doc, (*base, to), to, "seller", key=True)
        if bad:
            errors.append(bad)
    for to, r in agent.costs.items():
        if not r.lead.is_zero and not r.lag.is_zero:
            errors.append(
                doc.error(
                    (*base, to),
                    f"the route to {shown(to)} has both a lag and a lead; a share of the costs "
                    "is paid after the sale (lag) or before the seller is paid (lead), not both",
                    key=True,
                )
            )
        elif not r.lead.is_zero and not _paid_later(m, name):
            errors.append(
                doc.error(
                    (*base, to, "lead"),
                    f"a lead pays the route's part of an invoice before {shown(name)} is paid for "
                    f"it, but {shown(name)} is paid at once (payment_terms 0d, and no contract "
                    "with it states longer terms); give it payment_terms, or drop the lead",
                )
            )
    total = math.fsum(r.share for r in agent.costs.values())
    if total > 1 + 1e-9:
        shares = ", ".join(f"{c} {pct(r.share)}" for c, r in agent.costs.items())
        sink = "vendor_costs" if agent.kind == "vendor" else "cloud_costs"
        errors.append(
            doc.error(
                base,
                f"the cost shares sum to {pct(total)} ({shares}), more than 100%; what is left "
                f"of 100% of its costs leaves the model (to {sink})",
                key=True,
            )
        )
    return errors


def _paid_later(m: ScenarioModel, seller: str) -> bool:
    """Whether some invoice to ``seller`` may be paid after it is issued: its own payment terms,
    or those a contract with it states, are longer than zero."""
    agent = m.agents[seller]
    own = isinstance(agent, SellerModel) and not agent.payment_terms.is_zero
    return own or any(
        isinstance(d, ContractModel)
        and d.cloud == seller
        and d.payment_terms is not None
        and not d.payment_terms.is_zero
        for d in m.deals
    )


def _check_routes_acyclic(m: ScenarioModel, doc: YamlDoc) -> list[ScenarioError]:
    """Cost routes may not come back to a seller (A buys from B, B from A): each payment is
    passed on at once along the routes, so a loop among sellers would never end."""
    routes = {
        n: [t for t in a.costs if isinstance(m.agents.get(t), SellerModel) and t != n]
        for n, a in m.agents.items()
        if isinstance(a, SellerModel)
    }
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(n: str, path: list[str]) -> list[str] | None:
        state[n] = 1
        for t in routes.get(n, []):
            if state.get(t) == 1:
                return [*path[path.index(t) :], t] if t in path else [*path, t]
            if state.get(t) is None:
                found = visit(t, [*path, t])
                if found:
                    return found
        state[n] = 2
        return None

    for n in routes:
        if state.get(n) is None:
            loop = visit(n, [n])
            if loop:
                return [
                    doc.error(
                        ("agents", loop[0], "costs", loop[1]),
                        "the cost routes go round in a loop ("
                        + " -> ".join(loop)
                        + "); a seller's costs may reach another seller only once along any "
                        "chain: remove one of these routes",
                        key=True,
                    )
                ]
    return []


def _check_financing(m: ScenarioModel, doc: YamlDoc) -> list[ScenarioError]:
    """A lab's financing: a rate for debt and only for debt; a source that is an account of its
    own (its name no agent's and not reserved; two labs may share one)."""
    errors: list[ScenarioError] = []
    agents = {n.lower(): n for n in m.agents}
    sources: dict[str, str] = {}
    for name, agent in m.agents.items():
        if not isinstance(agent, LabModel) or agent.financing is None:
            continue
        f, path = agent.financing, ("agents", name, "financing")
        if f.kind == "equity" and f.rate is not None:
            errors.append(
                doc.error(
                    (*path, "rate"),
                    "a rate applies to debt only: equity pays no interest and is never repaid; "
                    "remove 'rate' or write kind: debt",
                    key=True,
                )
            )
        if f.kind == "debt" and f.rate is None:
            errors.append(
                doc.error(path, "debt needs a 'rate', its interest per year (such as 9%)", key=True)
            )
        source, where = f.source, (*path, "source")
        if not NAME_RE.fullmatch(source):
            errors.append(
                doc.error(
                    where,
                    f"a source name is letters, digits and _ starting with a letter, such as "
                    f"private_markets; got {shown(source)}",
                )
            )
        elif source.lower() in RESERVED_NAMES:
            errors.append(
                doc.error(
                    where,
                    f"{shown(source)} is the name of an account outside the model "
                    f"({', '.join(RESERVED_NAMES)}); a financing source needs a name of its own",
                )
            )
        elif source.lower() in agents:
            other = agents[source.lower()]
            errors.append(
                doc.error(
                    where,
                    f"{shown(source)} is the name of the {m.agents[other].kind} {shown(other)}; "
                    "a financing source is an account outside the model: give it a name no "
                    "agent has",
                )
            )
        elif sources.setdefault(source.lower(), source) != source:
            errors.append(
                doc.error(
                    where,
                    f"{shown(sources[source.lower()])} and {shown(source)} differ only in case; "
                    "write the same name to share a source",
                )
            )
    return errors


def pct(share: float) -> str:
    return f"{round(share * 100, 6):g}%"


def ref(
    m: ScenarioModel, doc: YamlDoc, path: YamlPath, name: str, want: str, *, key: bool = False
) -> ScenarioError | None:
    """None if ``name`` is an agent of kind ``want``, else an error listing the valid names."""
    kinds = SELLER_KINDS if want == "seller" else (want,)
    agent = m.agents.get(name)
    if agent is not None and agent.kind in kinds:
        return None
    valid = [n for n, a in m.agents.items() if a.kind in kinds]
    plural = "clouds and vendors" if want == "seller" else f"{want}s"
    wanted = "a cloud or a vendor" if want == "seller" else f"a {want}"
    listing = f"{plural}: {', '.join(valid)}" if valid else f"there is no {wanted} among the agents"
    if agent is not None:
        article = "an" if agent.kind == "investor" else "a"
        want_article = "an" if want == "investor" else "a"
        wanted = wanted if want == "seller" else f"{want_article} {want}"
        message = f"{shown(name)} is {article} {agent.kind}, not {wanted}; {listing}"
    else:
        hint = did_you_mean(name, valid or list(m.agents))
        message = f"no agent named {shown(name)}{hint}; {listing}"
    return doc.error(path, message, key=key)


def check_runnable(m: ScenarioModel, doc: YamlDoc) -> list[ScenarioError]:
    """What the engine needs beyond valid values: a lab to follow, sums it can add up."""
    if not any(isinstance(a, LabModel) for a in m.agents.values()):
        others = ", ".join(f"{n} ({a.kind})" for n, a in m.agents.items())
        return [
            doc.error(
                ("agents",),
                f"there is no lab among the agents ({others}); a scenario follows the money of "
                "at least one lab: add an agent with kind: lab",
                key=True,
            )
        ]
    stated = [
        (("agents", n, "cash"), a.cash)
        for n, a in m.agents.items()
        if isinstance(a, LabModel | SellerModel)
    ] + [
        (("deals", i, "tranches", j, "amount"), t.amount)
        for i, d in enumerate(m.deals)
        if isinstance(d, InvestmentModel)
        for j, t in enumerate(d.tranches)
    ]
    total = 0
    for path, cents in stated:
        total += cents
        if total >= MAX_STATED_CENTS:
            return [
                doc.error(
                    path,
                    "the opening cash and investments in this file add up past the $45T this "
                    f"simulator can keep exact to the cent (past ${MAX_STATED_CENTS // 10**14:,}T "
                    "by here); lower the amounts",
                )
            ]
    return []
