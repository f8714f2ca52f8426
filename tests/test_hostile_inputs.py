"""Hostile input: whatever a user writes, the answer is a result or one plain refusal.

A refusal is one ScenarioError whose text is one line; on the command line, exit code 2, one line
on stderr starting "error: ", no traceback, no warning, and nothing written. Each test below is one
class of input that once crashed (exit 1) or was wrongly accepted; the property tests at the end
throw random values at the parsers, at a bundled file and at ``--set``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.errors import ScenarioError
from sim.inputs.units import (
    FIRST_DATE,
    LAST_DATE,
    Duration,
    parse_amount_cents,
    parse_date,
    parse_duration,
    parse_share,
)

TOY = (Path(__file__).resolve().parent.parent / "scenarios" / "toy_round_trip.yaml").read_text()
CONTRACT = "  - {kind: compute_contract, lab: labco, cloud: bigcloud, total: 1B, over: 2y}\n"
_runs = itertools.count()


def toy(old: str, new: str) -> str:
    """The bundled toy scenario with ``old`` replaced by ``new``."""
    assert old in TOY, old
    return TOY.replace(old, new, 1)


def refusal(capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, *argv: str) -> str:
    """The one line both ``validate`` and ``run`` answer ``text`` with, having checked that it is
    a refusal as the user must see it: exit 2, "error: ...", no traceback or warning, no folder."""
    n = next(_runs)
    path, out = tmp_path / f"x{n}.yaml", tmp_path / f"out{n}"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    answers = []
    for command in (["validate", path], ["run", path, "--out", out]):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a warning would make this exit 1, not 2
            code, printed, err = cli(capsys, *command, *argv)
        assert (code, printed) == (2, ""), err
        assert err.startswith("error: ") and err.endswith("\n") and err.count("\n") == 1, err
        assert "Traceback" not in err and "Warning" not in err
        answers.append(err.rstrip("\n"))
    assert not out.exists()
    assert answers[0] == answers[1]  # validate refuses what run refuses, in the same words
    return answers[0]


# ---------------------------------------------------------------------------------------------
# One test per class of hostile input
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("cash: 0", "cash: '1e999999999'", "'1e999999999' is larger than the $10T"),
        ("cash: 0", "cash: 1e999999999", "invalid number '1e999999999': too large"),
        ("cash: 0", "cash: '1e-999999999'", "'1e-999999999' has fractions of a cent"),
        ("cash: 0", "cash: 1e-999999999", "invalid number '1e-999999999': too small"),
        ("cash: 0", "cash: " + "9" * 5000, "invalid integer '99999999999999999999"),
        ("cash: 0", "cash: '" + "9" * 5000 + "'", "is larger than the $10T"),
        ("cash: 0", "cash: 0." + "0" * 5000 + "1B", "has fractions of a cent"),
        ("margin: 50%", "margin: 1e999999999%", "got '1e999999999%': a number here has at most"),
        ("margin: 50%", "margin: 1e-999999999%", "got '1e-999999999%': a number here has at most"),
        ("margin: 50%", "margin: '-1e999999999'", "a number here has at most 30 digits"),
        ("margin: 50%", "margin: 'nan'", "expected a share such as 35% or 0.35, got 'nan'"),
        ("margin: 50%", "margin: .inf", "expected a share such as 35% or 0.35, got '.inf'"),
        ("margin: 50%", "margin: Infinity%", "got 'Infinity%'"),
        ("bigcloud: 40%", "bigcloud: " + "1" * 5000 + "%", "got '111111111111111111111"),
    ],
)
def test_numbers_past_any_decimal_context_or_float_are_refused_in_plain_words(
    capsys, tmp_path, old: str, new: str, message: str
) -> None:
    line = refusal(capsys, tmp_path, toy(old, new))
    assert message in line
    assert len(line) < 400  # a 5,000-digit value is quoted cut short


@pytest.mark.parametrize(
    ("text", "argv", "where"),
    [
        (toy("margin: 50%", "margin: 50%, payment_terms: 99999999y"), [], "agents.bigcloud"),
        (TOY + CONTRACT.replace("2y", "99999999999999999999d"), [], "deals.1.over: "),
        (TOY, ["--set", "step=99999999999999999999d"], "--set step=999"),
        (toy("horizon: 1y", "horizon: 99999999999y"), [], ":28:10: horizon: "),
    ],
)
def test_durations_past_100_years_are_refused_before_any_date_arithmetic(
    capsys, tmp_path, text: str, argv: list[str], where: str
) -> None:
    line = refusal(capsys, tmp_path, text, *argv)
    assert where in line
    assert line.endswith(
        "is too long: a duration is at most 100 years (100y, 400q, 1200mo), or 40000d (5714w) "
        "in days"
    )


def test_dates_near_the_end_of_the_calendar_are_refused_not_overflowed(capsys, tmp_path) -> None:
    # a contract starting on 9999-12-31 and running 2 years would end in year 10001
    text = toy("start: 2026-01-01", "start: 9999-12-01") + CONTRACT.replace(
        "over: 2y", "over: 2y, start: 9999-12-31"
    )
    line = refusal(capsys, tmp_path, text)
    assert line.endswith(
        ":27:8: start: the date 9999-12-01 is outside the calendar a scenario may use: "
        "1900-01-01 to 2199-12-31 (and 1 more error)"
    )
    # a date with a time zone that moves it past 9999-12-31 (a time or zone is refused in any
    # date, docs/scenarios.md), or an impossible time zone
    line = refusal(
        capsys, tmp_path, TOY, "--set", "deals.0.tranches.0.at=9999-12-31T23:00:00-05:00"
    )
    assert line.endswith("deals.0.tranches.0.at: a date has no time or zone here; write 9999-12-31")
    line = refusal(
        capsys, tmp_path, TOY, "--set", "deals.0.tranches.0.at=2026-01-01T00:00:00+99:00"
    )
    assert line == (
        "error: --set deals.0.tranches.0.at=2026-01-01T00:00:00+99:00: invalid date "
        "'2026-01-01T00:00:00+99:00': expected a date such as 2026-03-01, without a time"
    )


@pytest.mark.parametrize(
    ("char", "where"), [("\x00", ":25:7: "), ("\x07", ":25:7: "), ("\x1b", ":25:7: ")]
)
def test_control_characters_in_the_file_are_refused_where_they_are(
    capsys, tmp_path, char: str, where: str
) -> None:
    line = refusal(capsys, tmp_path, toy("name: Toy", f"name: {char}Toy"))
    assert where in line
    assert line.endswith(
        f"the character {char!r} (U+{ord(char):04X}) is not allowed; YAML text holds printable "
        "characters, tabs and line breaks only"
    )


def test_control_characters_in_an_override_are_refused(capsys, tmp_path) -> None:
    line = refusal(capsys, tmp_path, TOY, "--set", "name=a\x07b")
    assert line == (
        "error: --set name=a\\x07b: the character '\\x07' (U+0007) is not allowed; YAML text "
        "holds printable characters, tabs and line breaks only"
    )


@pytest.mark.parametrize(
    "agents",
    [
        "  a: {kind: investor}\n",
        "  c: {kind: cloud, margin: 10%}\n",
        "  a: {kind: investor, owns: [c]}\n  c: {kind: cloud, margin: 10%}\n",
    ],
)
def test_a_scenario_without_a_lab_is_refused_by_validate_as_by_run(
    capsys, tmp_path, agents: str
) -> None:
    text = "name: t\nstart: 2026-01-01\nhorizon: 1y\nagents:\n" + agents
    line = refusal(capsys, tmp_path, text)
    assert ":4:1: agents: there is no lab among the agents (" in line
    assert line.endswith(
        "a scenario follows the money of at least one lab: add an agent with kind: lab"
    )


@pytest.mark.parametrize(
    "agents",
    [
        "  l: {kind: lab}\n",  # nothing to spend, nothing to buy from
        "  a: {kind: investor}\n  l: {kind: lab, cash: 1B, spending: {other: {annual: 2B}}}\n",
        "  l: {kind: lab, spending: {compute: {annual: 1B, providers: {c: 50%}}}}\n"
        "  c: {kind: cloud, margin: 0}\n",
    ],
)
def test_odd_but_runnable_scenarios_run(capsys, tmp_path, agents: str) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text("name: t\nstart: 2026-01-01\nhorizon: 1y\nstep: 1d\nagents:\n" + agents)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        code, _, err = cli(capsys, "run", path, "--out", tmp_path / "out")
    assert (code, err) == (0, "")


NEW = "  {}: {{kind: cloud, margin: 1%}}\n  rivalcloud:"  # a new agent, above rivalcloud


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("  rivalcloud:", NEW.format('"aws\\n"'), ":43:3: agents.aws\\n: an agent name is letters"),
        ("  rivalcloud:", NEW.format('"funding\\n"'), "such as openai or aws_2; got 'funding\\n'"),
        ("label: LabCo", 'label: "Lab\\nCo"', "expected one line of text without control"),
        ("lab: labco", 'lab: "labco\\n"', "deals.0.lab: expected one line of text"),
        ("- kind: investment", '- id: "a\\u2028b"\n    kind: investment', "U+2028 at character 2"),
        (
            "name: Toy round trip (teaching example)",
            'name: "\\x1b[2JToy"',
            "(U+001B at character 1)",
        ),
    ],
)
def test_names_ids_and_labels_match_whole_and_hold_no_control_characters(
    capsys, tmp_path, old: str, new: str, message: str
) -> None:
    assert message in refusal(capsys, tmp_path, toy(old, new))


@pytest.mark.parametrize(
    ("growth", "message"),
    [
        (
            "1e308",
            "got 1e+308: a number here has at most 30 digits before and after its decimal point",
        ),
        ("1e20", "growth must be more than -100% and at most 1000% a year, got 1e+20"),
        ("1001%", "growth must be more than -100% and at most 1000% a year, got '1001%'"),
    ],
)
def test_absurd_growth_is_refused_without_a_warning(
    capsys, tmp_path, growth: str, message: str
) -> None:
    line = refusal(capsys, tmp_path, toy("annual: 6B}", f"annual: 6B, growth: {growth}}}"))
    assert line.endswith(message)


def test_the_largest_growth_over_the_longest_horizon_is_refused_without_a_warning(
    capsys, tmp_path
) -> None:
    text = toy("annual: 6B}", "annual: 10T, growth: 1000%}").replace("horizon: 1y", "horizon: 100y")
    line = refusal(capsys, tmp_path, text)
    assert line.endswith(": horizon: flows grow past $45 trillion within the horizon; lower the "
                         "growth or shorten the horizon")  # fmt: skip


def test_money_past_64_bit_integers_is_refused_at_validation(capsys, tmp_path) -> None:
    # 9,300 tranches of $10T: 9.3e18 cents, past 2**63 (9.2e18) where int64 sums wrap around
    tranches = "&t {at: 2026-01-01, amount: 10T}, " + ", ".join(["*t"] * 9_299)
    text = toy("tranches:\n      - {at: 2026-01-01, amount: 12B}", f"tranches: [{tranches}]")
    line = refusal(capsys, tmp_path, text)
    assert (
        ": deals.0.tranches.9223.amount: the opening cash and investments in this file add up "
        in line
    )
    assert line.endswith("past the $45T this simulator can keep exact to the cent (past $92,233T "
                         "by here); lower the amounts")  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Random hostile values: at the parsers, in a bundled file, through --set and the command line
# ---------------------------------------------------------------------------------------------

ATOMS = [
    "1e999999999", "-1e999999999", "1e-999999999", "1e999999999%", "'1e-999999999%'",
    "nan", ".nan", ".inf", "-.inf", "Infinity", "Infinity%", "NaN%", "sNaN", "1e308", "1e20",
    "9" * 5000, "'" + "9" * 5000 + "'", "0." + "0" * 5000 + "1", "1_000_000T", "$-5B", "0.001",
    "99999999y", "99999999999999999999d", "36601d", "1201mo", "0d", "-1d", "1.5y", "0",
    "9999-12-31", "0001-01-01", "2199-12-31", "'2026-02-30'", "2026-01-01T00:00:00+99:00",
    '"aws\\n"', '"funding\\n"', '"\\x07"', '"\\0"', "~", "[]", "{}", "[[[[[]]]]]", "true",
    "1001%", "-100%", "-99.9999%", "1000%", "10T", "10.001T", "customers", "bigcloud", "labco",
]  # fmt: skip
# Anything, as YAML would read it: atoms, random text (as a YAML string), numbers of any size.
VALUES = st.one_of(
    st.sampled_from(ATOMS),
    st.text(max_size=20).map(json.dumps),
    st.floats().map(repr),
    st.integers().map(str),
    st.integers(min_value=-400, max_value=400).map(lambda e: f"1e{e}"),
)
# Values near and past the limits, in the forms a file uses: the engine runs on those it accepts.
EDGES = st.one_of(
    st.integers(0, 10**13).map(lambda d: f"{d / 100:g}B"),
    st.integers(-200, 2_000).map(lambda p: f"{p / 2:g}%"),
    st.tuples(st.integers(0, 40_000), st.sampled_from(["d", "w", "mo", "q", "y"])).map(
        lambda t: f"{t[0] // {'d': 1, 'w': 7, 'mo': 30, 'q': 90, 'y': 365}[t[1]]}{t[1]}"
    ),
    st.dates(dt.date(1899, 12, 1), dt.date(2200, 1, 31)).map(str),
)


def _value_spans(text: str) -> list[tuple[int, int]]:
    """Where each plain value is in ``text``: after ``key: `` or in ``[a, b]``, not in comments."""
    spans, offset = [], 0
    for line in text.split("\n"):
        code = line.split(" #")[0] if not line.lstrip().startswith("#") else ""
        for pattern in (r": ([^,{}\[\]\s][^,{}\[\]]*?)\s*(?=[,}\]]|$)", r"[\[,] ?(\w+)(?=[,\]])"):
            spans += [(offset + m.start(1), offset + m.end(1)) for m in re.finditer(pattern, code)]
        offset += len(line) + 1
    return sorted(set(spans))


_VALUE_SPANS = _value_spans(TOY)


def assert_plain_refusal(e: ScenarioError) -> None:
    assert "\n" not in str(e) and "\r" not in str(e), str(e)
    assert len(str(e)) < 1000


def run_or_refuse(text: str, overrides: list[str] | None = None) -> None:
    """Parse and run ``text``: it must run, or raise one ScenarioError of one line, no warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            sim.run(sim.parse_scenario(text, "x.yaml", overrides))
        except ScenarioError as e:
            assert_plain_refusal(e)


# What each parser may return: exact cents within $10T, a finite share, a duration of at most 100
# years (in months) or 40,000 days, a date in the calendar a scenario may use.
BOUNDED: dict[Callable[[Any], Any], Callable[[Any], bool]] = {
    parse_amount_cents: lambda c: isinstance(c, int) and abs(c) <= 10**15,
    parse_share: lambda s: isinstance(s, float) and math.isfinite(s),
    parse_duration: lambda d: isinstance(d, Duration) and d.months <= 1_200 and d.days <= 40_000,
    parse_date: lambda d: isinstance(d, dt.date) and FIRST_DATE <= d <= LAST_DATE,
}


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(VALUES, st.text(), st.floats(), st.integers(), st.none(), st.booleans()))
def test_value_parsers_give_a_bounded_value_or_one_line_value_error(value: object) -> None:
    for parse, bounded in BOUNDED.items():
        try:
            result = parse(value)
        except ValueError as e:
            assert "\n" not in str(e) and len(str(e)) < 300, str(e)
            continue
        assert bounded(result), (parse.__name__, value, result)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_bundled_file_with_hostile_values_runs_or_is_refused_in_one_line(data) -> None:
    spans = data.draw(st.lists(st.sampled_from(_VALUE_SPANS), min_size=1, max_size=3, unique=True))
    text = TOY
    for start, end in sorted(spans, reverse=True):  # from the end: earlier spans stay in place
        text = text[:start] + data.draw(VALUES | EDGES) + text[end:]
    if data.draw(st.booleans()):  # and drop a line: a key or a whole agent goes missing
        lines = text.split("\n")
        del lines[data.draw(st.integers(0, len(lines) - 1))]
        text = "\n".join(lines)
    run_or_refuse(text)


@st.composite
def odd_scenarios(draw: st.DrawFn) -> str:
    """Any mix of 0 to 2 investors, labs and clouds, with deals between any two names."""
    pick = lambda *xs: draw(st.sampled_from(xs))  # noqa: E731
    kinds = {k: [f"{k[0]}{i}" for i in range(draw(st.integers(0, 2)))] for k in ("inv", "lab")}
    clouds = [f"c{i}" for i in range(draw(st.integers(0, 2)))]
    names = [*kinds["inv"], *kinds["lab"], *clouds, "zz"]
    agents = [f"{n}: {{kind: investor, owns: [{pick('', *clouds)}]}}" for n in kinds["inv"]]
    agents += [
        f"{n}: {{kind: lab, cash: {pick(0, '1B')}, revenue: {{annual: {pick(0, '1B')}, "
        f"growth: {pick('-99%', '1000%')}}}, spending: {{compute: {{annual: {pick(0, '10T')}, "
        f"providers: {{{pick('', *(f'{c}: 100%' for c in clouds))}}}}}}}}}"
        for n in kinds["lab"]
    ]
    agents += [
        f"{c}: {{kind: cloud, margin: {pick(0, '99%')}, payment_terms: 100y}}" for c in clouds
    ]
    deals = [
        pick(
            f"{{kind: investment, investor: {pick(*names)}, lab: {pick(*names)}, "
            f"tranches: [{{at: {pick('2026-01-31', '2027-01-30')}, "
            f"amount: {pick('0.01', '10T')}}}]}}",
            f"{{kind: compute_contract, lab: {pick(*names)}, cloud: {pick(*names)}, total: 1B, "
            f"over: {pick('1d', '100y')}, start: 2027-01-30}}",
        )
        for _ in range(draw(st.integers(0, 3)))
    ]
    return (
        f"name: odd\nstart: 2026-01-31\nhorizon: 1y\nstep: {pick('1d', '1mo', '100y')}\n"
        f"tracing: {pick('fifo', 'pro_rata')}\nagents: {{{', '.join(agents)}}}\n"
        f"deals: [{', '.join(deals)}]\n"
    )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(odd_scenarios())
def test_any_mix_of_agents_and_deals_runs_if_valid_or_is_refused_in_one_line(text: str) -> None:
    run_or_refuse(text)


PATHS = [
    "name", "start", "horizon", "step", "tracing", "seed", "agents", "deals", "agents.labco",
    "agents.labco.cash", "agents.labco.label", "agents.labco.revenue.growth",
    "agents.labco.spending.compute.providers.bigcloud", "agents.bigcloud.margin",
    "agents.bigcloud.payment_terms", "agents.bigtech.owns", "agents.new", "deals.0.lab",
    "deals.0.id", "deals.0.tranches.0.at", "deals.0.tranches.0.amount", "deals.1",
    "deals.0.tranches.99999999999999999999", "deals.²", "agents.labco.cash.x",
]  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sets=st.lists(st.tuples(st.sampled_from(PATHS) | st.text(max_size=10), VALUES), max_size=3))
def test_hostile_overrides_run_or_are_refused_in_one_line(sets: list[tuple[str, str]]) -> None:
    run_or_refuse(TOY, [f"{path}={value}" for path, value in sets])


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=VALUES | EDGES, span=st.sampled_from(_VALUE_SPANS))
def test_the_command_line_answers_a_hostile_file_with_exit_0_or_one_error_line(
    capsys, tmp_path, value: str, span: tuple[int, int]
) -> None:
    text = TOY[: span[0]] + value + TOY[span[1] :]
    n = next(_runs)
    path, out = tmp_path / f"h{n}.yaml", tmp_path / f"h{n}"
    path.write_text(text)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        code, _, err = cli(capsys, "run", path, "--out", out)
    assert code in (0, 2), err
    if code == 2:
        assert err.startswith("error: ") and err.count("\n") == 1, err
        assert "Traceback" not in err and "Warning" not in err
        assert not out.exists()


def test_numpy_numbers_from_a_notebook_are_read_as_the_numbers_they_are() -> None:
    import numpy as np

    import sim

    path = "scenarios/amazon_openai_50b.yaml"
    s = sim.load_scenario(
        path, {"agents.aws.margin": np.float64(0.4), "agents.openai.cash": np.int64(7)}
    )
    assert (s.sellers["aws"].margin, s.labs["openai"].cash) == (0.4, 700)
    with pytest.raises(sim.ScenarioError, match="margin"):
        sim.load_scenario(path, {"agents.aws.margin": np.float64("nan")})
