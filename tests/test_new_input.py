"""A new numeric input is one field on a real model, with a declared value type, and nothing
else: here a lab's ``reserve`` (a share, 0% to 100%), added in a test-only subclass of LabModel
that the scenario model takes for labs. It is then settable (--set), sweepable (a grid), drawable
(a distribution), swung by sensitivity, read by its kind and written back to the resolved file,
with no code of its own in any of them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import pytest
from pydantic import Field

import sim
from sim.inputs import scenario, schema, specs
from sim.inputs.models import CloudModel, InvestorModel, LabModel, ScenarioModel, VendorModel
from sim.inputs.resolved import resolved_yaml
from sim.inputs.scenario import Scenario
from sim.inputs.values import Share

TOY = Path(__file__).resolve().parent.parent / "scenarios" / "toy_round_trip.yaml"
PATH = "agents.labco.reserve"


class ReserveLab(LabModel):
    """A lab with one input more: the share of its cash it would keep in reserve."""

    reserve: Share = Field(default=0.0, description="the share of its cash it keeps in reserve")


Agent = Annotated[
    InvestorModel | ReserveLab | CloudModel | VendorModel, Field(discriminator="kind")
]


class ReserveScenarioModel(ScenarioModel):
    agents: Annotated[dict[str, Agent], Field(min_length=1)]  # type: ignore[assignment]


class ReserveScenario(ReserveScenarioModel, Scenario):  # type: ignore[misc]
    """The typed scenario of such a model, which writes the reserve back."""


@pytest.fixture(autouse=True)
def reserve_lab(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Scenarios read with the subclass: the model ``validate`` checks a file against, the one
    a sweep revalidates an agent with, the root paths are looked up from, and the typed
    scenario made of it."""
    monkeypatch.setattr(schema, "ScenarioModel", ReserveScenarioModel)
    monkeypatch.setattr(schema, "AgentModel", Agent)
    monkeypatch.setattr(specs, "ScenarioModel", ReserveScenarioModel)
    monkeypatch.setattr(scenario, "Scenario", ReserveScenario)
    schema._adapter.cache_clear()
    yield
    schema._adapter.cache_clear()


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    p = tmp_path / "toy.yaml"
    p.write_text(
        TOY.read_text().replace("    label: LabCo\n", "    label: LabCo\n    reserve: 25%\n")
    )
    return p


def reserve(s: Scenario) -> float:
    lab = s.agents["labco"]
    assert isinstance(lab, ReserveLab)
    return lab.reserve


def test_it_is_read_from_the_file_and_written_back(toy: Path) -> None:
    s = sim.load_scenario(toy)
    assert reserve(s) == 0.25
    assert "reserve: 0.25" in resolved_yaml(s)


def test_it_is_settable_and_refused_past_its_declared_bounds(toy: Path) -> None:
    assert reserve(sim.load_scenario(toy, [f"{PATH}=40%"])) == 0.4
    with pytest.raises(sim.ScenarioError, match="a share must be between 0% and 100%"):
        sim.load_scenario(toy, [f"{PATH}=140%"])


def test_it_is_sweepable_over_a_list_and_a_range(toy: Path) -> None:
    t = sim.load_template(toy)
    assert t.kind(PATH) == "share"
    assert [reserve(s) for _, s in sim.grid(t, [f"{PATH}=10%,20%"])] == [0.1, 0.2]
    assert [reserve(s) for _, s in sim.grid(t, [f"{PATH}=0%..100%:3"])] == [0.0, 0.5, 1.0]


def test_it_is_drawable_within_its_bounds(toy: Path) -> None:
    t = sim.load_template(toy)
    drawn = [reserve(s) for _, s in sim.draw(t, 20, seed=1, specs=[f"{PATH}~normal(90%,30%)"])]
    assert all(0 <= x <= 1 for x in drawn) and len(set(drawn)) > 1
    assert 1.0 in drawn  # a draw past 100% is clipped to the declared bound


def test_a_file_drawing_it_is_read_at_its_median(toy: Path) -> None:
    toy.write_text(toy.read_text().replace("reserve: 25%", "reserve: {uniform: [10%, 30%]}"))
    assert reserve(sim.load_scenario(toy)) == 0.2


def test_sensitivity_swings_it(toy: Path) -> None:
    table = sim.sensitivity(toy).set_index("input")
    row = table.loc[PATH]
    assert (row["unit"], row["base"], row["low"], row["high"]) == ("share", 0.25, 0.2, 0.3)
    assert row["swing"] == 0  # the engine has no rule that reads it: nothing moves


def test_sensitivity_reads_a_file_with_distributions_at_their_medians(toy: Path) -> None:
    # uniform(10%, 30%) has its median at 20%: swung 20% each way, 16% and 24%
    toy.write_text(toy.read_text().replace("reserve: 25%", "reserve: {uniform: [10%, 30%]}"))
    row = sim.sensitivity(toy).set_index("input").loc[PATH]
    assert (row["base"], row["low"], row["high"]) == (0.2, 0.16, 0.24)
