"""Hostile numbers and dates: one grammar reads every number, and a date is a day.

A comma or an underscore only groups the digits before the point by three (``1,500,000``,
``1_500_000``); every other one is refused with the forms accepted, never read as some other
number (``cash: 1,5B`` was read as $15B). Digits are 0-9. A date with a time or a time zone is
refused, never cut to its day (docs/scenarios.md, "Values"). Revenue shares a lab pays on the same
steps sum to at most 100%, or the file is refused at validation (they passed, then the run ended
in an internal error). Each case checks the exact line both ``validate`` and ``run`` answer with
(``refusal``: exit 2, one line, nothing written), or the exact value read.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from conftest import cli
from hypothesis import given, settings
from hypothesis import strategies as st
from test_hostile_inputs import TOY, refusal, toy

import sim
from sim.inputs.units import parse_amount_cents, parse_date, parse_duration, parse_share

AMOUNT = "expected an amount such as 50B, $38bn, 500M, 1.2T, 2,500,000 or 1e9 (dollars), got "
SHARE = "expected a share such as 35% or 0.35, got "
DURATION = "expected a duration such as 90d, 2w, 18mo, 1q or 7y, got "
DATE = "expected an ISO date such as 2026-03-01, got "
SEP = "a comma or _ only groups the digits before the point by three, as in 1,500,000"
WHOLE = "a duration counts whole days, weeks, months, quarters or years (18mo)"
NO_TIME = "a date has no time or zone here; write "
ZERO = "a number does not start with 0 unless it is below 1 (7, not 007)"
LIST = (
    "a number does not start with 0 unless it is below 1; where a comma separates values (a list "
    "such as 10B,25B), write one number as 1000000 or 1_000_000"
)
CASH = ":36:11: agents.labco.cash: "
MARGIN = ":42:52: agents.bigcloud.margin: "
HORIZON = ":28:10: horizon: "
START = ":27:8: start: "
RATE = ":30:16: discount_rate: "


def place(line: str) -> str:
    """A refusal without its file's path: from the line number on."""
    assert line.startswith("error: ") and ".yaml:" in line, line
    return ":" + line.split(".yaml:", 1)[1]


# ---- numbers: the cases, then our own -----------------------------------------------

REFUSED = [
    # a decimal comma: never $15B; the hint writes the number with a point
    ("cash: 0", "cash: 1,5B", CASH + AMOUNT + f"'1,5B': use a point for decimals: 1.5B; {SEP}"),
    ("cash: 0", "cash: 1,,0", CASH + AMOUNT + f"'1,,0': {SEP}"),
    ("cash: 0", "cash: 1,00", CASH + AMOUNT + f"'1,00': use a point for decimals: 1.00; {SEP}"),
    ("cash: 0", "cash: ',5'", CASH + AMOUNT + f"',5': use a point for decimals: 0.5; {SEP}"),
    ("cash: 0", "cash: 12,34,567", CASH + AMOUNT + f"'12,34,567': {SEP}"),  # lakh grouping
    (
        "discount_rate: 8%",
        "discount_rate: 1,5%",
        RATE + SHARE + f"'1,5%': use a point for decimals: 1.5%; {SEP}",
    ),
    # in a flow mapping {...} YAML itself splits at the comma: refused, though in YAML's words
    (
        "margin: 50%",
        "margin: 1,5%",
        ":42:54: agents.bigcloud.5%: unknown key '5%'; accepted keys: kind, label, margin, "
        "margin_basis, payment_terms, cash, costs",
    ),
    # our own: commas and underscores out of place
    ("cash: 0", "cash: 0,500", CASH + AMOUNT + f"'0,500': use a point for decimals: 0.500; {SEP}"),
    ("cash: 0", "cash: $1,5B", CASH + AMOUNT + f"'$1,5B': use a point for decimals: $1.5B; {SEP}"),
    (
        "cash: 0",
        "cash: 1000,000",
        CASH + AMOUNT + f"'1000,000': use a point for decimals: 1000.000; {SEP}",
    ),
    (
        "cash: 0",
        "cash: 1,0000",
        CASH + AMOUNT + f"'1,0000': use a point for decimals: 1.0000; {SEP}",
    ),
    ("cash: 0", "cash: 1,000_000", CASH + AMOUNT + f"'1,000_000': {SEP}"),  # one kind per number
    ("cash: 0", "cash: 1.000,50", CASH + AMOUNT + f"'1.000,50': {SEP}"),  # European grouping
    ("cash: 0", "cash: 1,000.000,5", CASH + AMOUNT + f"'1,000.000,5': {SEP}"),
    ("cash: 0", "cash: '1_0_0'", CASH + AMOUNT + f"'1_0_0': {SEP}"),  # Python's rule is not ours
    ("cash: 0", "cash: 1_0_0", CASH + f"invalid integer '1_0_0': {SEP}"),  # as YAML reads it
    ("cash: 0", "cash: 1__000", CASH + f"invalid integer '1__000': {SEP}"),
    ("cash: 0", "cash: 1_000.000_1", CASH + f"invalid number '1_000.000_1': {SEP}"),
    ("cash: 0", "cash: 1e3,000", CASH + AMOUNT + f"'1e3,000': {SEP}"),
    ("cash: 0", "cash: 1,5e3", CASH + AMOUNT + f"'1,5e3': {SEP}"),
    # leading zeros: 007 is not 7, 01.5 is not 1.5 (YAML 1.1 read 007 as octal)
    ("cash: 0", "cash: '007'", CASH + AMOUNT + f"'007': {LIST}"),
    ("cash: 0", "cash: '00'", CASH + AMOUNT + "'00': " + ZERO),
    ("cash: 0", "cash: 01.5", CASH + "invalid number '01.5': " + ZERO),
    # digits other than 0-9, points, signs, spaces
    ("cash: 0", "cash: １２B", CASH + AMOUNT + "'１２B': write the digits as 0-9"),  # full-width
    ("cash: 0", "cash: ٥B", CASH + AMOUNT + "'٥B': write the digits as 0-9"),  # Arabic-Indic 5
    ("cash: 0", "cash: ५M", CASH + AMOUNT + "'५M': write the digits as 0-9"),  # Devanagari 5
    ("cash: 0", "cash: 1.5.0B", CASH + AMOUNT + "'1.5.0B': a number has at most one point"),
    ("cash: 0", "cash: -$-5B", CASH + AMOUNT + "'-$-5B'"),  # two signs
    ("cash: 0", "cash: +-5B", CASH + AMOUNT + "'+-5B'"),
    ("cash: 0", "cash: -5B", CASH + "must not be negative, got '-5B'"),
    (
        "cash: 0",
        "cash: 1 000 000",
        CASH
        + AMOUNT
        + "'1 000 000': write a number without spaces inside it (1000000 or 1,000,000)",
    ),
    ("cash: 0", "cash: 5BB", CASH + AMOUNT + "'5BB'"),
    # shares and durations read their number by the same grammar
    (
        "discount_rate: 8%",
        "discount_rate: 35,5%",
        RATE + SHARE + f"'35,5%': use a point for decimals: 35.5%; {SEP}",
    ),
    ("discount_rate: 8%", "discount_rate: 3_5%", RATE + SHARE + f"'3_5%': {SEP}"),
    ("discount_rate: 8%", "discount_rate: ٣٥%", RATE + SHARE + "'٣٥%': write the digits as 0-9"),
    (
        "margin: 50%",
        "margin: '0,35'",
        MARGIN + SHARE + f"'0,35': use a point for decimals: 0.35; {SEP}",
    ),
    (
        "discount_rate: 8%",
        "discount_rate: 1,000%",
        RATE + "a discount rate must be between 0% and 100% a year, got '1,000%'",
    ),
    ("horizon: 1y", "horizon: 1,5y", HORIZON + DURATION + f"'1,5y': {WHOLE}"),
    ("horizon: 1y", "horizon: 1.5y", HORIZON + DURATION + f"'1.5y': {WHOLE}"),
    ("horizon: 1y", "horizon: 1e1y", HORIZON + DURATION + f"'1e1y': {WHOLE}"),
    ("horizon: 1y", "horizon: 1_2mo", HORIZON + DURATION + f"'1_2mo': {SEP}"),
    ("horizon: 1y", "horizon: ١y", HORIZON + DURATION + "'١y': write the digits as 0-9"),
    ("horizon: 1y", "horizon: +1y", HORIZON + DURATION + "'+1y'"),
]


@pytest.mark.parametrize(("old", "new", "expected"), REFUSED, ids=[c[1] for c in REFUSED])
def test_a_number_outside_the_grammar_is_refused_with_the_forms_accepted(
    capsys, tmp_path, old: str, new: str, expected: str
) -> None:
    assert place(refusal(capsys, tmp_path, toy(old, new))) == expected


ACCEPTED = [
    ("1,000,000", 1_000_000_00),
    ("$1,500,000.50", 1_500_000_50),
    ("2,500M", 2_500_000_000_00),
    ("1_000_000", 1_000_000_00),
    ("'1_000'", 1_000_00),
    ("1,000.5", 1_000_50),
    (".5B", 500_000_000_00),
    ("+5B", 5_000_000_000_00),
    ("'5\u00a0B'", 5_000_000_000_00),  # a no-break space between a number and its unit
    ("999,999,999,999.99", 999_999_999_999_99),
]


@pytest.mark.parametrize(("written", "cents"), ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_digits_grouped_by_three_are_read_as_thousands(written: str, cents: int) -> None:
    s = sim.parse_scenario(toy("cash: 0", f"cash: {written}"), "toy.yaml")
    assert s.labs["labco"].cash == cents


def test_shares_and_durations_take_the_same_grouping() -> None:
    assert parse_share("1,000%") == 10.0  # read, then refused where a share is at most 100%
    assert parse_share("- 5%") == -0.05  # a growth may be negative
    assert parse_duration("1,200mo") == parse_duration("100y")
    assert parse_duration("36_524d").days == 36_524
    assert parse_amount_cents("1e3") == 1_000_00  # an exponent, as before


@settings(max_examples=200, deadline=None)
@given(dollars=st.integers(0, 10**13 - 1), cents=st.integers(0, 99))
def test_any_amount_grouped_by_three_reads_as_python_writes_it(dollars: int, cents: int) -> None:
    for grouped in (f"{dollars:,}", f"{dollars:_}", f"${dollars:,}.{cents:02d}"):
        expected = dollars * 100 + (cents if "." in grouped else 0)
        assert parse_amount_cents(grouped) == expected, grouped


@settings(max_examples=200, deadline=None)
@given(
    head=st.integers(0, 999_999), tail=st.text("0123456789", max_size=6), sep=st.sampled_from(",_")
)
def test_a_separator_not_followed_by_exactly_three_digits_is_refused(
    head: int, tail: str, sep: str
) -> None:
    text = f"{head}{sep}{tail}M"
    grouped = len(tail) == 3 and 1 <= len(str(head)) <= 3 and head > 0
    if grouped:
        assert parse_amount_cents(text) == (head * 1000 + int(tail)) * 10**6 * 100
    else:
        with pytest.raises(ValueError, match=f"^{re.escape(AMOUNT)}"):
            parse_amount_cents(text)


def test_cash_written_with_a_decimal_comma_in_an_override_is_refused(capsys, tmp_path) -> None:
    line = refusal(capsys, tmp_path, TOY, "--set", "agents.labco.cash=1,5B")
    assert line == (
        "error: --set agents.labco.cash=1,5B: agents.labco.cash: "
        + AMOUNT
        + f"'1,5B': use a point for decimals: 1.5B; {SEP}"
    )


def test_a_range_with_a_decimal_comma_is_refused_before_any_run(capsys, tmp_path) -> None:
    path, out = tmp_path / "toy.yaml", tmp_path / "sweep.parquet"
    path.write_text(TOY)
    code, printed, err = cli(
        capsys, "sweep", path, "--vary", "agents.labco.cash=1,5B..2B:3", "--out", out
    )
    assert (code, printed) == (2, "")
    assert err == (
        "error: --vary agents.labco.cash=1,5B..2B:3: the range's ends: "
        + AMOUNT
        + f"'1,5B': use a point for decimals: 1.5B; {SEP}\n"
    )
    assert not out.exists()


@pytest.mark.parametrize("size", ["１３x7.5", "13,3x7.5", "1_3x7.5"])
def test_a_chart_size_reads_its_numbers_by_the_same_grammar(capsys, tmp_path, size: str) -> None:
    path, out = tmp_path / "toy.yaml", tmp_path / "out"
    path.write_text(TOY)
    code, printed, err = cli(
        capsys, "run", path, "--out", out, "--charts", "png", "--chart-size", size
    )
    assert (code, printed, out.exists()) == (2, "", False)
    assert (
        err
        == f"error: --chart-size: expected WIDTHxHEIGHT in inches such as 13.33x7.5, got {size!r}\n"
    )


def test_a_sweep_over_a_number_with_thousands_commas_is_refused_not_split(capsys, tmp_path) -> None:
    # in --vary PATH=a,b,c a comma separates values: 1,000,000 was $1, $0 and $0
    path, out = tmp_path / "toy.yaml", tmp_path / "sweep.parquet"
    path.write_text(TOY)
    code, printed, err = cli(
        capsys, "sweep", path, "--vary", "agents.labco.cash=1,000,000", "--out", out
    )
    assert (code, printed, out.exists()) == (2, "", False)
    assert err == (
        "error: --vary agents.labco.cash=1,000,000: '1,000,000' reads both as one number grouped "
        "by thousands and as a list of values; write one number as 1_000_000, or a list with a "
        "space after each comma: 1, 000, 000\n"
    )


# ---- dates: a date is a day -------------------------------------------------------------------

DATES = [
    # the case: text YAML does not take for a timestamp (no seconds)
    ("start: 2026-01-01", "start: 2026-01-01T23:30-05:00", START + NO_TIME + "2026-01-01"),
    # YAML's timestamps, with a zone, with a time, at midnight in UTC
    ("start: 2026-01-01", "start: 2026-01-01T23:30:00-05:00", START + NO_TIME + "2026-01-01"),
    ("start: 2026-01-01", "start: 2026-01-01 23:30:00", START + NO_TIME + "2026-01-01"),
    ("start: 2026-01-01", "start: 2026-01-01T00:00:00Z", START + NO_TIME + "2026-01-01"),
    ("start: 2026-01-01", "start: '2026-01-01 09:00'", START + NO_TIME + "2026-01-01"),
    # every date field, not start alone
    (
        "at: 2026-01-01",
        "at: 2026-01-01T12:00:00",
        ":50:14: deals.0.tranches.0.at: " + NO_TIME + "2026-01-01",
    ),
    # ISO's other forms of a date, which Python's fromisoformat reads
    ("start: 2026-01-01", "start: 2026-W01-4", START + DATE + "'2026-W01-4'"),
    ("start: 2026-01-01", "start: '20260101'", START + DATE + "'20260101'"),
    ("start: 2026-01-01", "start: 2026-001", START + DATE + "'2026-001'"),  # an ordinal date
    ("start: 2026-01-01", "start: '２０２６-01-01'", START + DATE + "'２０２６-01-01'"),
]


@pytest.mark.parametrize(("old", "new", "expected"), DATES, ids=[c[1] for c in DATES])
def test_a_date_with_a_time_a_zone_or_another_iso_form_is_refused(
    capsys, tmp_path, old: str, new: str, expected: str
) -> None:
    assert place(refusal(capsys, tmp_path, toy(old, new))) == expected


@pytest.mark.parametrize(
    ("key", "value", "day"),
    [
        ("milestones", "{ipo: 2026-06-01T00:00:00}", "2026-06-01"),
        (
            "deals.1",
            "{kind: revenue_share, investor: bigtech, lab: labco, share: 5%, "
            "until: 2026-06-01 12:00:00}",
            "2026-06-01",
        ),
        (
            "deals.1",
            "{kind: compute_contract, lab: labco, cloud: bigcloud, total: 1B, over: 1y, "
            "start: 2026-02-01T08:00:00+01:00}",
            "2026-02-01",
        ),
        (
            "deals.0.tranches.0.on",
            "{lab_cash_below: 1B, until: 2026-05-01T00:00:00Z}",
            "2026-05-01",
        ),
    ],
)
def test_a_time_in_any_date_given_by_set_is_refused(
    capsys, tmp_path, key: str, value: str, day: str
) -> None:
    line = refusal(capsys, tmp_path, TOY, "--set", f"{key}={value}")
    assert line.startswith(f"error: --set {key}={value}: {key}")
    assert line.endswith(NO_TIME + day)


def test_a_datetime_from_python_is_refused_and_a_date_is_read() -> None:
    with pytest.raises(ValueError, match="^a date has no time or zone here; write 2026-03-01$"):
        parse_date(dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    assert parse_date(" 2026-03-01 ") == dt.date(2026, 3, 1)
    assert parse_date("2026-3-1") == dt.date(2026, 3, 1)  # as YAML reads 2026-3-1 unquoted


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-3-1 10:00", "a date has no time or zone here; write 2026-03-01"),  # as a date is
        ("2026-03-01\t10:00", "a date has no time or zone here; write 2026-03-01"),
        ("2026-02-30T10:00", DATE + "'2026-02-30T10:00'"),  # no such day: not "write 2026-02-30"
        ("2026-03-01Z", DATE + "'2026-03-01Z'"),
    ],
)
def test_text_with_a_time_says_which_day_to_write_if_there_is_one(text: str, message: str) -> None:
    with pytest.raises(ValueError) as e:
        parse_date(text)
    assert str(e.value) == message


# ---- revenue shares: what validate accepts, run runs --------------------------------------------


def shares(*written: str) -> str:
    lines = "".join(
        f"  - {{kind: revenue_share, investor: bigtech, lab: labco, share: {w}}}\n" for w in written
    )
    return TOY + lines


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (shares("51%", "50%"), "101% (deals.1 51%, deals.2 50%)"),
        (shares("60%", "60%"), "120% (deals.1 60%, deals.2 60%)"),
        (shares("30%", "30%", "40.01%"), "100.01% (deals.1 30%, deals.2 30%, deals.3 40.01%)"),
    ],
)
def test_revenue_shares_past_100_percent_are_refused_at_validation(
    capsys, tmp_path, text: str, expected: str
) -> None:
    line = place(refusal(capsys, tmp_path, text))
    assert line.startswith(f":{text.count(chr(10))}:")  # the last deal's line: its share
    assert line.endswith(
        f"share: the revenue shares 'labco' pays on the same steps sum to {expected}, more than "
        "100%; a lab pays at most 100% of its revenue: lower a share, or make their start and "
        "until not overlap"
    )


def test_revenue_shares_in_windows_that_do_not_overlap_may_each_be_60_percent(
    capsys, tmp_path: Path
) -> None:
    text = shares("60%", "60%").replace("share: 60%}", "share: 60%, until: 2026-07-01}", 1)
    text = text.replace("share: 60%}", "share: 60%, start: 2026-07-01}", 1)
    path = tmp_path / "windows.yaml"
    path.write_text(text)
    code, printed, err = cli(capsys, "run", path, "--out", tmp_path / "out")
    assert (code, err) == (0, "")
    # the lab receives $0.5B a month and pays 60% of it, $0.3B, in every month: $3.6B in all
    s = sim.load_scenario(path)
    paid = sim.run(s).ledger.query("kind == 'revenue_share'").amount_cents.sum()
    assert paid == 12 * 300_000_000_00


def test_revenue_shares_of_exactly_100_percent_pay_out_the_revenue_and_no_more() -> None:
    # 25% and 75% of 2 cents a month round half up to 1 and 2 cents: the second is paid the 1
    # cent left; the lab, with no other cash, once paid out more than it held (internal error)
    text = (
        "name: two shares\nstart: 2026-01-01\nhorizon: 1y\nagents:\n  inv: {kind: investor}\n"
        "  lab: {kind: lab, revenue: {annual: 0.24}}\ndeals:\n"
        "  - {kind: revenue_share, investor: inv, lab: lab, share: 25%}\n"
        "  - {kind: revenue_share, investor: inv, lab: lab, share: 75%}\n"
    )
    for tracing in ("pro_rata", "fifo"):
        s = sim.parse_scenario(text, "two.yaml", {"tracing": tracing})
        led = sim.run(s).ledger
        by_deal = led.query("kind == 'revenue_share'").groupby("deal").amount_cents.sum()
        assert by_deal.to_dict() == {"lab-inv-revenue-share": 12, "lab-inv-revenue-share-2": 12}
