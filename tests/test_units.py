"""Parsers of the scenario language (money, shares, durations) and the calendar."""

from __future__ import annotations

import datetime as dt

import pytest

from sim.units import (
    Duration,
    add_months,
    parse_amount_cents,
    parse_date,
    parse_duration,
    parse_share,
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
    assert parse_date(dt.datetime(2026, 3, 1, 12, 0)) == dt.date(2026, 3, 1)
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
