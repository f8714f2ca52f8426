"""sim/ranges/vary.py: templates parsed once, sweeps on a grid, distributions drawn per run."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.inputs.resolved import inputs_hash
from sim.ranges.vary import draw, first_point, grid, load_template, parse_vary

ROOT = Path(__file__).resolve().parent.parent
FIFTY = ROOT / "scenarios" / "amazon_openai_50b.yaml"
TOY = ROOT / "scenarios" / "toy_round_trip.yaml"


def template(tmp_path: Path, extra: str = "", **replace: str) -> sim.Template:
    """The toy scenario with ``extra`` appended and each ``old=new`` text replaced."""
    text = TOY.read_text()
    for old, new in replace.items():
        text = text.replace(old, new)
    path = tmp_path / "toy.yaml"
    path.write_text(text + textwrap.dedent(extra))
    return load_template(path)


def providers(s: sim.inputs.scenario.Scenario, lab: str = "labco") -> dict[str, float]:  # type: ignore[name-defined]
    return dict(s.labs[lab].providers)


# --- derive --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"agents.aws.margin": "30%"},
        ["agents.aws.margin=30%", "horizon=5y"],
        ["deals.0.tranches.1.at=2028-03-01"],
        [],
    ],
)
def test_derive_equals_load_scenario_with_the_same_overrides(overrides: object) -> None:
    t = load_template(FIFTY)
    derived, loaded = t.derive(overrides), sim.load_scenario(FIFTY, overrides)  # type: ignore[arg-type]
    assert derived == loaded
    assert inputs_hash(derived) == inputs_hash(loaded)
    assert derived.comments == loaded.comments


def test_derive_raises_the_same_error_as_set() -> None:
    t = load_template(FIFTY)
    with pytest.raises(sim.ScenarioError) as derived:
        t.derive(["agents.aws.margin=120%"])
    with pytest.raises(sim.ScenarioError) as loaded:
        sim.load_scenario(FIFTY, ["agents.aws.margin=120%"])
    assert str(derived.value) == str(loaded.value)
    assert str(derived.value).startswith("--set agents.aws.margin=120%: agents.aws.margin:")


def test_derive_does_not_read_the_file_again(tmp_path: Path) -> None:
    t = template(tmp_path)
    (tmp_path / "toy.yaml").unlink()
    assert t.derive(["agents.bigcloud.margin=10%"]).sellers["bigcloud"].margin == 0.1


# --- sweeps --------------------------------------------------------------------------------


def test_grid_is_every_combination_the_last_varying_fastest() -> None:
    points = grid(load_template(TOY), ["agents.bigcloud.margin=0%..60%:4", "horizon=1y,2y"])
    assert len(points) == 4 * 2
    assert [i["agents.bigcloud.margin"] for i, _ in points] == [0, 0, 0.2, 0.2, 0.4, 0.4, 0.6, 0.6]
    assert [i["horizon"] for i, _ in points[:2]] == ["1y", "2y"]
    assert [s.sellers["bigcloud"].margin for _, s in points][::2] == [0, 0.2, 0.4, 0.6]


@pytest.mark.parametrize(
    ("spec", "values"),
    [
        ("agents.labco.cash=10B..30B:3", [10_000_000_000, 20_000_000_000, 30_000_000_000]),
        ("agents.labco.cash=[10B, $25bn, 2_500_000]", [10_000_000_000, 25_000_000_000, 2_500_000]),
        ("agents.labco.cash=0..1:3", [0, "0.5", 1]),  # dollars: half a dollar is 50 cents
        ("seed=1..7:4", [1, 3, 5, 7]),
        ("horizon=1y..3y:3", ["1y", "2y", "3y"]),
        ("horizon=12mo..18mo:3", ["1y", "15mo", "18mo"]),
        ("step=7d..21d:3", ["7d", "14d", "21d"]),
        ("tracing=fifo,pro_rata", ["fifo", "pro_rata"]),
    ],
)
def test_sweep_values_in_the_form_set_takes(spec: str, values: list[object]) -> None:
    sweep = parse_vary(spec, load_template(TOY).doc.data)
    assert isinstance(sweep, sim.Sweep)
    assert list(sweep.values) == values


def test_date_range_is_spaced_by_whole_days() -> None:
    import datetime as dt

    sweep = parse_vary(
        "deals.0.tranches.0.at=2026-01-01..2026-01-31:4", load_template(TOY).doc.data
    )
    assert isinstance(sweep, sim.Sweep)
    # 30 days in 3 steps: 10 days apart
    assert sweep.values == tuple(dt.date(2026, 1, d) for d in (1, 11, 21, 31))


@settings(max_examples=60, deadline=None)
@given(
    lo=st.integers(0, 10_000),
    width=st.integers(1, 10_000),
    n=st.integers(2, 30),
)
def test_share_range_has_n_points_from_lo_to_hi_increasing(lo: int, width: int, n: int) -> None:
    data = {"agents": {"l": {"kind": "lab"}}}  # only kinds are looked up
    spec = f"agents.l.spending.compute.providers.c={lo / 100}%..{(lo + width) / 100}%:{n}"
    sweep = parse_vary(spec, data)
    assert isinstance(sweep, sim.Sweep)
    values = sweep.values
    assert len(values) == n
    assert values[0] == lo / 10_000 and values[-1] == (lo + width) / 10_000
    assert all(a < b for a, b in zip(values, values[1:], strict=False))


@settings(max_examples=60, deadline=None)
@given(lo=st.integers(0, 10**12), width=st.integers(1, 10**6), n=st.integers(2, 200))
def test_amount_range_in_whole_cents_ends_exact_or_refused(lo: int, width: int, n: int) -> None:
    data = {"agents": {"l": {"kind": "lab"}}}
    spec = f"agents.l.cash={lo / 100}..{(lo + width) / 100}:{n}"
    if n > width + 1:  # fewer cents in the range than points
        with pytest.raises(sim.ScenarioError, match="would repeat values in whole cents"):
            parse_vary(spec, data)
        return
    sweep = parse_vary(spec, data)
    assert isinstance(sweep, sim.Sweep)
    cents = [int(Decimal(str(v)) * 100) for v in sweep.values]
    assert cents[0] == lo and cents[-1] == lo + width and len(set(cents)) == n
    assert all(abs((b - a) - width / (n - 1)) <= 1 for a, b in zip(cents, cents[1:], strict=False))


# --- provider shares and investment amounts -----------------------------------------------


def test_provider_share_rescales_the_other_providers_to_keep_the_total() -> None:
    # 50B file: aws 20%, azure 50%, oracle 20%, coreweave 10% = 100%. aws at 60% leaves 40% for
    # the others, who had 80%: half each, azure 25%, oracle 10%, coreweave 5%.
    ((_, s),) = grid(load_template(FIFTY), ["agents.openai.spending.compute.providers.aws=60%"])
    assert providers(s, "openai") == {"aws": 0.6, "azure": 0.25, "oracle": 0.1, "coreweave": 0.05}


def test_provider_shares_sum_exactly_as_written_at_every_point() -> None:
    spec = "agents.openai.spending.compute.providers.azure=0%..100%:13"
    for _, s in grid(load_template(FIFTY), [spec]):
        total = sum(Decimal(repr(v)) for v in providers(s, "openai").values())
        assert total == 1


def test_a_lone_provider_takes_from_the_unshared_part(tmp_path: Path) -> None:
    t = template(
        tmp_path, **{"providers: {bigcloud: 40%, rivalcloud: 40%}": "providers: {bigcloud: 40%}"}
    )
    ((_, s),) = grid(t, ["agents.labco.spending.compute.providers.bigcloud=70%"])
    assert providers(s) == {"bigcloud": 0.7}  # 30% now bought outside the model, not 60%


def test_provider_share_past_the_total_zeroes_the_others_then_the_unshared_part() -> None:
    # toy: 40% + 40%; bigcloud at 90% leaves nothing for rivalcloud, and 10% outside the model
    ((_, s),) = grid(load_template(TOY), ["agents.labco.spending.compute.providers.bigcloud=90%"])
    assert providers(s) == {"bigcloud": 0.9, "rivalcloud": 0.0}


def test_rescale_off_keeps_the_others_and_refuses_past_100_percent() -> None:
    t = load_template(TOY, rescale=False)
    ((_, s),) = grid(t, ["agents.labco.spending.compute.providers.bigcloud=50%"])
    assert providers(s) == {"bigcloud": 0.5, "rivalcloud": 0.4}
    with pytest.raises(sim.ScenarioError, match="with rescale off .* would sum to 110%, past 100%"):
        grid(t, ["agents.labco.spending.compute.providers.bigcloud=70%"])


def test_investment_amount_scales_its_tranches_to_the_cent() -> None:
    # amazon-openai: 15B + 35B = 50B. At $33,333,333,333.33: 30% and 70% of it, 9,999,999,999.999
    # and 23,333,333,333.331 dollars; rounded to the cent with the cent left over going to the
    # larger fraction: 10,000,000,000.00 and 23,333,333,333.33.
    ((inputs, s),) = grid(load_template(FIFTY), ["deals.0.amount=33333333333.33"])
    cents = [t.amount for t in s.investments[0].tranches]
    assert cents == [1_000_000_000_000, 2_333_333_333_333]
    assert sum(cents) == 3_333_333_333_333
    assert inputs == {"deals.0.amount": "33333333333.33"}


# --- distributions -------------------------------------------------------------------------


def test_a_file_with_distributions_is_read_at_their_medians(tmp_path: Path) -> None:
    t = template(
        tmp_path,
        **{
            "revenue: {annual: 6B}": (
                "revenue: {annual: {uniform: [4B, 8B]}, growth: {normal: [50%, 15%]}}"
            ),
            "margin: 25%": "margin: {triangular: [0%, 0%, 50%]}",
            "cash: 0 ": "cash: {lognormal: [2B, 0.5]} ",
        },
    )
    inputs, s = first_point(t)
    lab = s.labs["labco"]
    assert lab.revenue.annual == 6_000_000_000_00 and lab.revenue.growth == 0.5
    assert lab.cash == 2_000_000_000_00
    # triangular (0, 0, 0.5): median = 0.5 - sqrt(0.5 * 0.5 / 2) = 0.1464466...
    assert s.sellers["rivalcloud"].margin == pytest.approx(0.146446609407, abs=1e-12)
    assert sim.load_scenario(tmp_path / "toy.yaml") == s
    assert "read at their medians" in sim.describe(t)
    assert inputs["agents.labco.revenue.growth"] == 0.5


def test_same_seed_same_draws_and_run_k_independent_of_the_number_of_runs(tmp_path: Path) -> None:
    t = template(tmp_path, **{"margin: 25%": "margin: {normal: [25%, 10%]}"})
    specs = ["agents.labco.cash~uniform(1B,3B)"]
    ten = draw(t, 10, seed=7, specs=specs)
    assert [i for i, _ in ten] == [i for i, _ in draw(t, 10, seed=7, specs=specs)]
    thousand = draw(t, 1000, seed=7, specs=specs)
    assert [i for i, _ in ten] == [i for i, _ in thousand[:10]]
    assert [s for _, s in ten] == [s for _, s in thousand[:10]]
    assert [i for i, _ in draw(t, 10, seed=8, specs=specs)] != [i for i, _ in ten]
    assert len({i["agents.rivalcloud.margin"] for i, _ in ten}) == 10


def test_draws_are_clipped_to_the_inputs_valid_range() -> None:
    t = load_template(TOY)
    runs = draw(
        t,
        200,
        seed=1,
        specs=["agents.bigcloud.margin~normal(95%,50%)", "agents.labco.cash~normal(0,5B)"],
    )
    margins = [s.sellers["bigcloud"].margin for _, s in runs]
    cash = [s.labs["labco"].cash for _, s in runs]
    assert min(margins) == 0 and 0.999 < max(margins) < 1  # a margin is below 100%
    assert min(cash) == 0 and max(cash) > 0


def test_choice_draws_among_the_listed_values() -> None:
    runs = draw(load_template(TOY), 50, seed=3, specs=["tracing~choice(fifo, pro_rata)"])
    assert {s.tracing for _, s in runs} == {"fifo", "pro_rata"}


def test_a_sweep_in_the_file_is_run_at_its_first_point(tmp_path: Path) -> None:
    t = template(tmp_path, "sweep:\n  agents.bigcloud.margin: 10%..50%:5\n  horizon: [2y, 1y]\n")
    inputs, s = first_point(t)
    assert inputs == {"agents.bigcloud.margin": 0.1, "horizon": "2y"}
    assert sim.load_scenario(tmp_path / "toy.yaml") == s
    assert len(grid(t)) == 10
    assert sim.describe(t).startswith("sweep of 10 points over agents.bigcloud.margin, horizon")
    assert len(grid(t, ["horizon=1y"])) == 5  # given again, replaces the file's


# --- errors --------------------------------------------------------------------------------

ERRORS = [
    ("agents.bigcloud.margn=1%,2%", "names no input of a scenario"),
    ("agents.bigcloud.label=a..b:3", "a range applies to amounts, shares, numbers"),
    ("agents.bigcloud.margin=0%..50%:1", "N must be from 2 to 100,000"),
    ("agents.bigcloud.margin=0%..50%", "the number of points N is missing"),
    ("agents.bigcloud.margin=50%..0%:3", "LO must be below HI"),
    ("horizon=1y..30d:3", "both ends in days"),
    ("horizon=1y..2y:30", "would repeat values in whole months"),
    ("agents.bigcloud.margin=", "the list of values is empty"),
    ("agents.labco.cash=10B,lots", "expected an amount such as 50B"),
    ("agents.bigcloud.margin~normal(50%,-5%)", "the sd must be at least 0"),
    ("agents.labco.cash~uniform(3B,1B)", "with lo <= hi"),
    ("agents.bigcloud.margin~triangular(1%,50%,20%)", "with lo <= mode <= hi"),
    ("agents.labco.cash~lognormal(0,1)", "the median must be above 0"),
    ("agents.bigcloud.margin~normal(50%)", "normal takes [mean, sd]"),
    ("agents.bigcloud.margin~choice()", "the list is empty"),
    ("start~choice([2026-01-01, 2026-02-01])", "a date is one value, not a list"),
    ("agents.bigcloud.margin~choice([10%, 20%])", "write the values themselves, choice(a,b)"),
    ("agents.bigcloud.margin~gauss(1,2)", "unknown distribution 'gauss'"),
    ("agents.bigcloud.label~normal(1,2)", "this input is text"),
    ("start~uniform(2026-01-01,2027-01-01)", "this input is date"),
    ("deals.0.amount=[1B], ", "expected"),
    ("deals.7.amount=1B", "there is no deals.7"),
    ("agents.bigcloud.margin", "expected PATH=SPEC"),
]


@pytest.mark.parametrize(("spec", "message"), ERRORS)
def test_a_bad_spec_names_itself_what_is_wrong_and_what_is_accepted(
    spec: str, message: str
) -> None:
    with pytest.raises(sim.ScenarioError) as e:
        parse_vary(spec, load_template(TOY).doc.data)
    assert e.value.file == f"--vary {spec}"
    assert message in e.value.message


def test_a_value_refused_at_a_point_names_the_spec_and_the_point() -> None:
    with pytest.raises(sim.ScenarioError) as e:
        grid(load_template(TOY), ["agents.bigcloud.margin=0%..100%:3"])
    assert str(e.value).startswith("--vary agents.bigcloud.margin=0%..100%:3 at 100%: ")
    assert "a margin must be at least 0% and below 100%" in e.value.message


def test_a_distribution_given_to_grid_or_a_sweep_to_draw_is_refused() -> None:
    t = load_template(TOY)
    with pytest.raises(sim.ScenarioError, match="drawn by Monte Carlo"):
        grid(t, ["agents.bigcloud.margin~normal(50%,5%)"])
    with pytest.raises(sim.ScenarioError, match="swept \\(grid\\), not drawn"):
        draw(t, 2, 0, ["agents.bigcloud.margin=1%,2%"])
    with pytest.raises(sim.ScenarioError, match="the number of runs"):
        draw(t, 0, 0)


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("margin: 25%", "margin: {normal: [25%, -1%]}", 43, "the sd must be at least 0"),
        ("margin: 25%", "margin: {uniform: [50%, 10%]}", 43, "with lo <= hi"),
        ("margin: 25%", "margin: {poisson: [3]}", 43, "unknown distribution 'poisson'"),
        ("label: RivalCloud", "label: {normal: [1, 2]}", 43, "this input is text"),
        ("margin: 25%", "margin: {choice: []}", 43, "the list is empty"),
    ],
)
def test_a_bad_distribution_in_the_file_names_its_line(
    tmp_path: Path, old: str, new: str, line: int, message: str
) -> None:
    path = tmp_path / "toy.yaml"
    path.write_text(TOY.read_text().replace(old, new))
    with pytest.raises(sim.ScenarioError) as e:
        sim.load_scenario(path)
    assert (e.value.file, e.value.line) == (str(path), line)
    assert message in e.value.message


@pytest.mark.parametrize(
    ("sweep", "message"),
    [
        ("sweep:\n  agents.bigcloud.margn: [1%]\n", "names no input of a scenario"),
        ("sweep:\n  agents.bigcloud.margin: 1%..2%:1\n", "N must be from 2"),
        ("sweep:\n  agents.bigcloud.margin: []\n", "the list of values is empty"),
        ("sweep: [a, b]\n", "expected a mapping PATH: SPEC"),
    ],
)
def test_a_bad_sweep_in_the_file_names_its_line(tmp_path: Path, sweep: str, message: str) -> None:
    path = tmp_path / "toy.yaml"
    text = TOY.read_text()
    path.write_text(text + sweep)
    with pytest.raises(sim.ScenarioError) as e:
        load_template(path).ranges  # noqa: B018
    assert e.value.file == str(path)
    assert e.value.line is not None and e.value.line > text.count("\n")
    assert message in e.value.message


def test_the_errors_shown_in_the_docs_are_the_errors_given() -> None:
    docs = (ROOT / "docs" / "scenarios.md").read_text()
    shown = [line for line in docs.splitlines() if line.startswith("--vary ")]
    assert len(shown) >= 8
    t = load_template(FIFTY)
    for line in shown:
        spec = line.removeprefix("--vary ").split(": ", 1)[0].removesuffix(" at 100%")
        with pytest.raises(sim.ScenarioError) as e:
            (draw(t, 1, 0, [spec]) if "~" in spec else grid(t, [spec]))
        assert str(e.value) == line
