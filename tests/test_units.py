"""Parsers of the scenario language (money, shares, durations) and the calendar."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from sim.inputs.units import (
    Duration,
    add_months,
    parse_amount_cents,
    parse_date,
    parse_duration,
    parse_share,
    shown,
    year_fraction,
)


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("50B", 50 * 10**9 * 100),
        ("$38bn", 38 * 10**9 * 100),
        ("500M", 500 * 10**6 * 100),
        ("1.2T", 12 * 10**11 * 100),  # 1.2 * 10**12 dollars, exactly
        ("2_500_000", 2_500_000 * 100),
        ("1e9", 10**9 * 100),
        ("$1,000", 1000 * 100),
        ("12.34", 1234),
        ("-5B", -5 * 10**9 * 100),
        ("750 million", 750 * 10**6 * 100),
    ],
)
def test_amount_text_is_exact_cents(text: str, cents: int) -> None:
    assert parse_amount_cents(text) == cents


@pytest.mark.parametrize(
    ("number", "cents"),
    [(2_500_000, 250_000_000), (1e9, 100_000_000_000), (0.1, 10), (12.34, 1234), (0, 0)],
)
def test_plain_numbers_are_dollars(number: float, cents: int) -> None:
    assert parse_amount_cents(number) == cents


@pytest.mark.parametrize("bad", ["lots", "50X", "", True, None, [1], "1.2.3B"])
def test_amount_rejects_what_is_not_an_amount_and_says_what_is(bad: object) -> None:
    with pytest.raises(ValueError, match=r"expected an amount such as 50B, \$38bn"):
        parse_amount_cents(bad)


def test_amount_rejects_fractions_of_a_cent() -> None:
    with pytest.raises(ValueError, match="fractions of a cent"):
        parse_amount_cents("0.001")


def test_amount_over_ten_trillion_is_refused() -> None:
    with pytest.raises(ValueError, match=r"\$10T"):
        parse_amount_cents("11T")


@pytest.mark.parametrize(
    ("value", "share"), [("35%", 0.35), ("0.35", 0.35), (0.35, 0.35), ("100%", 1.0), (1, 1.0)]
)
def test_share_as_percent_or_fraction(value: object, share: float) -> None:
    assert parse_share(value) == share


@pytest.mark.parametrize("bad", ["lots", "35 %%", True, None])
def test_share_rejects_non_shares(bad: object) -> None:
    with pytest.raises(ValueError, match="expected a share such as 35% or 0.35"):
        parse_share(bad)


@pytest.mark.parametrize(
    ("text", "duration", "canonical"),
    [
        ("90d", Duration(days=90), "90d"),
        ("2w", Duration(days=14), "14d"),
        ("18mo", Duration(months=18), "18mo"),
        ("1q", Duration(months=3), "3mo"),
        ("7y", Duration(months=84), "7y"),
        ("30 days", Duration(days=30), "30d"),
        (0, Duration(), "0d"),
    ],
)
def test_durations_parse_and_print_canonically(
    text: object, duration: Duration, canonical: str
) -> None:
    assert parse_duration(text) == duration
    assert str(duration) == canonical


@pytest.mark.parametrize("bad", ["1.5y", "7", "7 fortnights", True, 30])
def test_duration_rejects_what_is_not_a_duration(bad: object) -> None:
    with pytest.raises(ValueError, match="expected a duration such as 90d"):
        parse_duration(bad)


def test_date_from_iso_text_or_yaml_date() -> None:
    assert parse_date("2026-03-01") == dt.date(2026, 3, 1)
    # a time (and a zone) would be dropped: refused, never cut to the day (docs/scenarios.md)
    with pytest.raises(ValueError, match="a date has no time or zone here; write 2026-03-01"):
        parse_date(dt.datetime(2026, 3, 1, 12, 0))
    with pytest.raises(ValueError, match="ISO date"):
        parse_date("March 1st")


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),  # February is short: clamp
        (dt.date(2024, 1, 31), 1, dt.date(2024, 2, 29)),  # leap year
        (dt.date(2026, 3, 31), -1, dt.date(2026, 2, 28)),
        (dt.date(2026, 8, 31), 1, dt.date(2026, 9, 30)),
        (dt.date(2026, 11, 15), 2, dt.date(2027, 1, 15)),  # across a year end
        (dt.date(2026, 3, 1), 96, dt.date(2034, 3, 1)),  # 8 years
    ],
)
def test_add_months_clamps_to_month_end(start: dt.date, months: int, expected: dt.date) -> None:
    assert add_months(start, months) == expected


def test_year_fraction_is_exact_at_month_boundaries() -> None:
    start = dt.date(2026, 3, 1)
    assert year_fraction(start, start) == 0.0
    assert year_fraction(start, dt.date(2026, 4, 1)) == 1 / 12
    assert year_fraction(start, dt.date(2026, 9, 1)) == 6 / 12
    assert year_fraction(start, dt.date(2027, 3, 1)) == 1.0
    assert year_fraction(start, dt.date(2034, 3, 1)) == 8.0


def test_year_fraction_counts_a_part_month_by_its_days() -> None:
    start = dt.date(2026, 3, 1)
    # March has 31 days: 15 of them elapsed is 15/31 of a month.
    assert year_fraction(start, dt.date(2026, 3, 16)) == pytest.approx((15 / 31) / 12)
    # April 1 + 14 of April's 30 days.
    assert year_fraction(start, dt.date(2026, 4, 15)) == pytest.approx((1 + 14 / 30) / 12)


def test_year_fraction_from_a_month_end_uses_clamped_anchors() -> None:
    start = dt.date(2026, 1, 31)
    assert year_fraction(start, dt.date(2026, 2, 28)) == 1 / 12  # Jan 31 + 1mo = Feb 28
    assert year_fraction(start, dt.date(2027, 1, 31)) == 1.0


# ---------------------------------------------------------------------------------------------
# Hostile values: bounded before any arithmetic, refused in one line saying what is accepted
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("1e999999999", "'1e999999999' is larger than the $10T"),  # would overflow a Decimal
        ("-1e999999999B", "is larger than the $10T"),
        pytest.param(10**5000, "a number of about 5,000 digits is larger", id="10**5000"),
        ("9" * 5000, "'" + "9" * 36 + "... is larger than the $10T"),
        ("1e-999999999", "'1e-999999999' has fractions of a cent"),  # would underflow to 0
        (1e-300, "1e-300 has fractions of a cent"),
        # 31 decimals: once rounded to 28 digits and read as exactly 1 cent
        ("0.0100000000000000000000000000001", "has fractions of a cent"),
        ("0.010000000000000000000000000001", "has fractions of a cent"),  # 30: exact, not whole
        (float("nan"), "expected an amount"),
        (float("inf"), "expected an amount"),
    ],
)
def test_amounts_past_any_context_are_refused_not_overflowed(bad: object, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_amount_cents(bad)


@pytest.mark.parametrize(
    "bad", ["nan", "NaN%", "sNaN", ".inf", "-Infinity", "Infinity%", float("nan"), float("inf")]
)
def test_shares_are_never_nan_or_infinite(bad: object) -> None:
    with pytest.raises(ValueError, match=r"^expected a share such as 35% or 0.35, got "):
        parse_share(bad)


@pytest.mark.parametrize("bad", ["1e999999999%", "1e-999999999%", "1e30", 10**400, 1e-300])
def test_shares_with_more_than_30_digits_either_side_are_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="a number here has at most 30 digits before and after"):
        parse_share(bad)


def test_share_limits_keep_ordinary_values_as_they_were() -> None:
    assert parse_share("12.3%") == float(Decimal("0.123"))
    assert parse_share("1e29") == 1e29 and parse_share("1e-30") == 1e-30
    assert parse_share("0e-999999999") == 0.0  # zero, however written


@pytest.mark.parametrize(
    ("text", "duration"),
    [("100y", Duration(months=1200)), ("400q", Duration(months=1200)), ("40000d", Duration(40000))],
)
def test_durations_up_to_the_limit_parse(text: str, duration: Duration) -> None:
    assert parse_duration(text) == duration


@pytest.mark.parametrize(
    "bad", ["101y", "1201mo", "401q", "40001d", "5715w", "99999999y", "9" * 10_000 + "d"]
)
def test_durations_past_the_limit_are_refused_before_any_arithmetic(bad: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(bad)
    assert str(info.value).endswith(
        "is too long: a duration is at most 100 years (100y, 400q, 1200mo), or 40000d (5714w) "
        "in days"
    )


@pytest.mark.parametrize(
    "bad", ["1899-12-31", "2200-01-01", dt.date(9999, 12, 31), dt.date(1, 1, 1)]
)
def test_dates_outside_the_calendar_are_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="outside the calendar a scenario may use: 1900-01-01 to"):
        parse_date(bad)


def test_add_months_reaches_the_last_month_of_the_calendar() -> None:
    assert add_months(dt.date(9999, 1, 31), 11) == dt.date(9999, 12, 31)
    with pytest.raises(ValueError, match="year 10000 is out of range"):
        add_months(dt.date(9999, 12, 1), 1)


def test_shown_quotes_a_value_on_one_short_line() -> None:
    assert shown("a\nb") == "'a\\nb'"
    assert shown("x" * 100) == "'" + "x" * 36 + "..."
    assert shown(dt.date(2026, 3, 1)) == "2026-03-01"
