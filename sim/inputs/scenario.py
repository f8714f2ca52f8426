"""The typed scenario: what the engine runs.

A scenario file goes through three visible steps: YAML text with positions
(sim/inputs/document.py) -> validated pydantic model (sim/inputs/schema.py: defaults filled,
errors with file:line:col) -> checked as a whole (sim/inputs/checks.py, deal_checks.py) and
resolved: a ``Scenario`` (``to_scenario``, here). Every input is declared once, as a field of a
model in sim/inputs/models.py typed with a value type of sim/inputs/values.py: that field
validates the value, is what the engine reads here, and writes the resolved file back. A
``Scenario`` *is* the validated model of its file with every
default that depends on other inputs written out (labels, deal ids, a contract's start and
terms, a tranche's window, a revenue share's dates), plus views of it by kind and where it came
from. Money here is integer cents, shares are fractions, rates are per year.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, TypeVar

from pydantic import ConfigDict, PrivateAttr

from sim.inputs.checks import check_agents, check_calendar, check_runnable, first_error
from sim.inputs.deal_checks import check_deals
from sim.inputs.document import YamlDoc
from sim.inputs.models import (
    ContractModel,
    InvestmentModel,
    InvestorModel,
    LabModel,
    LoanModel,
    RevenueShareModel,
    ScenarioModel,
    SellerModel,
    deal_ids,
)
from sim.inputs.schema import resolve, validate
from sim.inputs.units import MAX_STEPS, Duration, count_steps, step_grid

__all__ = [
    "MAX_STEPS",
    "Scenario",
    "count_steps",
    "step_grid",
    "to_scenario",
    "to_scenario_from",
]

T = TypeVar("T")


class _view(functools.cached_property[T]):
    """A value read off a scenario's inputs, made on first read and kept in the instance's dict
    (where pydantic keeps ``functools.cached_property`` values), without the lock Python 3.11's
    takes on each first read. ``Scenario.of`` fills the views by kind at once."""

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = self.func(instance)
        instance.__dict__[self.attrname] = value
        return value


class Scenario(ScenarioModel):
    """A checked, resolved scenario (``to_scenario`` makes them): its inputs are the fields of
    ``ScenarioModel``; the rest is read off them."""

    model_config = ConfigDict(ignored_types=(_view,))  # merged with ScenarioModel's

    _source: str | None = PrivateAttr(None)  # the file it came from
    _comments: dict[str, str] = PrivateAttr(default_factory=dict)

    @classmethod
    def of(cls, resolved: ScenarioModel, source: str | None, comments: dict[str, str]) -> Scenario:
        """The scenario of a model already checked and resolved (no validation again)."""
        inputs = {name: getattr(resolved, name) for name in ScenarioModel.model_fields}
        s = cls.model_construct(_fields_set=resolved.model_fields_set, **inputs)
        s._source = source
        s._comments = dict(comments)
        s._by_kind()  # the plan reads the views from every run: made once, here
        return s

    def _by_kind(self) -> dict[str, Any]:
        """The views by kind, made in one pass over the agents and deals and kept in the
        instance's dict, where each view (``_view``) is then read."""
        views: dict[str, Any] = {"investors": {}, "labs": {}, "sellers": {}}
        for name, a in self.agents.items():
            views["sellers" if isinstance(a, SellerModel) else f"{a.kind}s"][name] = a
        deals: dict[type, list[Any]] = {
            InvestmentModel: [],
            ContractModel: [],
            RevenueShareModel: [],
            LoanModel: [],
        }
        for d in self.deals:
            deals[type(d)].append(d)
        views["investments"] = tuple(deals[InvestmentModel])
        views["contracts"] = tuple(deals[ContractModel])
        views["revenue_shares"] = tuple(deals[RevenueShareModel])
        views["loans"] = tuple(deals[LoanModel])
        self.__dict__.update(views)
        return views

    def model_copy(
        self, *, update: Mapping[str, Any] | None = None, deep: bool = False
    ) -> Scenario:
        """A copy; with ``update``, its views are made again from the new inputs (which are
        not checked or resolved again: overrides belong in ``sim.load_scenario``)."""
        s = super().model_copy(update=update, deep=deep)
        return Scenario.of(s, self._source, self._comments) if update else s

    def with_source(self, source: str | None) -> Scenario:
        """The same scenario, said to come from ``source``."""
        s = self.model_copy()
        s._source = source
        return s

    def with_comments(self, comments: dict[str, str]) -> Scenario:
        """The same scenario with ``comments`` written beside its inputs (dotted path -> text)."""
        s = self.model_copy()
        s._comments = dict(comments)
        return s

    def __eq__(self, other: object) -> bool:
        """Equal inputs from the same file; the comments beside them do not count."""
        if not isinstance(other, Scenario):
            return NotImplemented
        names = type(self).model_fields
        return self._source == other._source and all(
            getattr(self, n) == getattr(other, n) for n in names
        )

    __hash__ = None  # type: ignore[assignment]  # its inputs hold dicts

    # -- where it came from --------------------------------------------------------------------

    @property
    def source(self) -> str | None:
        """The file it came from, if any."""
        return self._source

    @property
    def comments(self) -> dict[str, str]:
        """The comment written beside each input in the file (dotted path -> text)."""
        return self._comments

    @_view
    def resolved(self) -> dict[str, Any]:
        """Every input after defaults and overrides, as plain YAML values that load back the
        same: each value as its type writes it (amounts in dollars, durations as text), each
        optional input left out where it is not given (sim/inputs/resolved.py writes the file)."""
        return self.model_dump(mode="python", by_alias=True)

    @_view
    def labels(self) -> dict[str, str]:
        """Display names for charts and reports (agent key -> label), e.g. openai -> OpenAI."""
        return {n: a.label or n for n, a in self.agents.items()}

    # -- views by kind ---------------------------------------------------------------------------

    @_view
    def investors(self) -> dict[str, InvestorModel]:
        out: Any = self._by_kind()["investors"]
        return out

    @_view
    def labs(self) -> dict[str, LabModel]:
        out: Any = self._by_kind()["labs"]
        return out

    @_view
    def sellers(self) -> dict[str, SellerModel]:
        """Every seller: clouds and vendors."""
        out: Any = self._by_kind()["sellers"]
        return out

    @_view
    def investments(self) -> tuple[InvestmentModel, ...]:
        out: Any = self._by_kind()["investments"]
        return out

    @_view
    def contracts(self) -> tuple[ContractModel, ...]:
        out: Any = self._by_kind()["contracts"]
        return out

    @_view
    def revenue_shares(self) -> tuple[RevenueShareModel, ...]:
        out: Any = self._by_kind()["revenue_shares"]
        return out

    @_view
    def loans(self) -> tuple[LoanModel, ...]:
        out: Any = self._by_kind()["loans"]
        return out

    # -- calendar and relations ------------------------------------------------------------------

    @property
    def end(self) -> dt.date:
        return self.horizon.after(self.start)

    def grid(self) -> list[dt.date]:
        """Step boundaries: start, start+step, ... and the horizon's end (last step maybe short)."""
        return step_grid(self.start, self.end, self.step)

    def label(self, name: str) -> str:
        """An agent's display name (its ``label``, else its key); other accounts as they are."""
        return self.labels.get(name, name)

    def post_money_word(self, investor: str) -> str:
        """How the post-money valuation of ``investor``'s deals is known: "stated" where each
        states pre_money or post_money, "implied by the stake" where some states its stake."""
        forms = {d.valuation for d in self.investments if d.investor == investor}
        return "implied by the stake" if "stake" in forms else "stated"

    def owner_of(self, seller: str) -> str | None:
        """The investor that owns ``seller``, if any."""
        for inv in self.investors.values():
            if seller in inv.owns:
                return inv.name
        return None

    def payment_terms(self, lab: str, seller: str) -> Duration:
        """Terms of ``seller``'s invoices to ``lab``: the contract's if any (resolved: its own or
        its seller's), else the seller's own."""
        for c in self.contracts:
            if c.lab == lab and c.cloud == seller and c.payment_terms is not None:
                return c.payment_terms
        return self.sellers[seller].payment_terms

    def contract_total(self, c: ContractModel) -> int:
        """Cents of ``c``'s minimums over the run: its ``total``, or what its schedule accrues
        inside the horizon."""
        if not c.schedule:
            assert c.total is not None  # sim.inputs.deal_checks
            return c.total
        return c.scheduled_cents(self.end) - c.scheduled_cents(self.start)


# ---------------------------------------------------------------------------------------------
# Step 3: a validated model, checked as a whole and resolved
# ---------------------------------------------------------------------------------------------


def to_scenario(doc: YamlDoc, filename: str | None = None) -> Scenario:
    """Validate ``doc`` and build the typed Scenario, or raise the first ScenarioError by place."""
    if filename is not None and filename != doc.filename:
        doc = replace(doc, filename=filename)
    return to_scenario_from(validate(doc), doc)


def to_scenario_from(m: ScenarioModel, doc: YamlDoc) -> Scenario:
    """The Scenario of a model made by ``validate`` (or ``sim.inputs.schema.revalidated``) from
    ``doc``: how its values fit together is checked, then its defaults resolved."""
    errors = check_calendar(m, doc) + check_agents(m, doc) + check_deals(m, doc)
    errors += check_runnable(m, doc)
    if errors:
        raise first_error(errors)
    return Scenario.of(resolve(m, deal_ids(m)), doc.filename, doc.comments)
