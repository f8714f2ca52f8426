"""Units of the scenario language: money, shares, durations and the calendar.

Every parser takes what a user may write in a scenario file (``50B``, ``$38bn``, ``35%``, ``18mo``)
and returns an exact value, or raises ``ValueError`` with a message that says what is accepted.
Money leaves this module as integer cents; nothing downstream sees a float dollar amount.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

CENTS_PER_DOLLAR = 100

# Suffixes for amounts in dollars. Both the short (B) and the press forms (bn) are accepted.
_AMOUNT_SUFFIX = {
    "": Decimal(1),
    "k": Decimal(10) ** 3,
    "thousand": Decimal(10) ** 3,
    "m": Decimal(10) ** 6,
    "mm": Decimal(10) ** 6,
    "mn": Decimal(10) ** 6,
    "million": Decimal(10) ** 6,
    "b": Decimal(10) ** 9,
    "bn": Decimal(10) ** 9,
    "billion": Decimal(10) ** 9,
    "t": Decimal(10) ** 12,
    "tn": Decimal(10) ** 12,
    "trillion": Decimal(10) ** 12,
}
_AMOUNT_RE = re.compile(
    r"^\s*(-?)\s*\$?\s*(-?)([0-9][0-9_,]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Z]*)\s*$"
)
AMOUNT_HELP = "an amount such as 50B, $38bn, 500M, 1.2T, 2_500_000 or 1e9 (dollars)"

# Largest single figure a scenario may state: $10 trillion. Keeps every amount, and sums of many,
# well inside the range where float64 holds whole cents exactly (2**53 cents is about $90T).
MAX_DOLLARS = Decimal(10) ** 13


def parse_amount_cents(value: object) -> int:
    """Dollars (``50B``, ``$38bn``, ``500M``, ``1.2T``, ``2_500_000``, ``1e9``, 7) -> cents."""
    if isinstance(value, bool):
        raise ValueError(f"expected {AMOUNT_HELP}, got {value!r}")
    if isinstance(value, int):
        dollars = Decimal(value)
    elif isinstance(value, float):
        dollars = Decimal(repr(value))
    elif isinstance(value, str):
        m = _AMOUNT_RE.match(value)
        suffix = m.group(4).lower() if m else ""
        if not m or suffix not in _AMOUNT_SUFFIX:
            raise ValueError(f"expected {AMOUNT_HELP}, got {value!r}")
        try:
            dollars = Decimal(m.group(3).replace("_", "").replace(",", "")) * _AMOUNT_SUFFIX[suffix]
        except InvalidOperation:
            raise ValueError(f"expected {AMOUNT_HELP}, got {value!r}") from None
        if m.group(1) or m.group(2):
            dollars = -dollars
    else:
        raise ValueError(f"expected {AMOUNT_HELP}, got {value!r}")
    if abs(dollars) > MAX_DOLLARS:
        raise ValueError(f"{value!r} is larger than the $10T this simulator accepts for one figure")
    cents = dollars * CENTS_PER_DOLLAR
    if cents != cents.to_integral_value():
        raise ValueError(f"{value!r} has fractions of a cent")
    return int(cents)


SHARE_HELP = "a share such as 35% or 0.35"


def parse_share(value: object) -> float:
    """A share written as ``35%`` or ``0.35`` -> 0.35 (the caller checks the range it needs)."""
    if isinstance(value, bool):
        raise ValueError(f"expected {SHARE_HELP}, got {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            if text.endswith("%"):
                return float(Decimal(text[:-1].strip()) / 100)
            return float(Decimal(text))
        except InvalidOperation:
            pass
    raise ValueError(f"expected {SHARE_HELP}, got {value!r}")


_DURATION_UNITS = {
    "d": "d", "day": "d", "days": "d",
    "w": "w", "wk": "w", "week": "w", "weeks": "w",
    "mo": "mo", "month": "mo", "months": "mo",
    "q": "q", "quarter": "q", "quarters": "q",
    "y": "y", "yr": "y", "year": "y", "years": "y",
}  # fmt: skip
_DURATION_RE = re.compile(r"^\s*([0-9]+)\s*([a-zA-Z]+)\s*$")
DURATION_HELP = "a duration such as 90d, 2w, 18mo, 1q or 7y"


@dataclass(frozen=True, order=True)
class Duration:
    """A calendar duration: whole days, or whole months (a year is 12 months, a quarter 3)."""

    days: int = 0
    months: int = 0

    def __post_init__(self) -> None:
        if self.days and self.months:
            raise ValueError("a duration is either days or months, not both")

    def after(self, start: dt.date) -> dt.date:
        """The date this long after ``start`` (month ends clamp: Jan 31 + 1mo = Feb 28/29)."""
        if self.months:
            return add_months(start, self.months)
        return start + dt.timedelta(days=self.days)

    @property
    def is_zero(self) -> bool:
        return self.days == 0 and self.months == 0

    def __str__(self) -> str:
        if self.months:
            return f"{self.months // 12}y" if self.months % 12 == 0 else f"{self.months}mo"
        return f"{self.days}d"


def parse_duration(value: object) -> Duration:
    """``90d``, ``2w``, ``18mo``, ``1q``, ``7y`` -> Duration. A bare 0 means no time."""
    if isinstance(value, Duration):
        return value
    if value == 0 and not isinstance(value, bool):
        return Duration()
    m = _DURATION_RE.match(value) if isinstance(value, str) else None
    unit = _DURATION_UNITS.get(m.group(2).lower()) if m else None
    if not m or unit is None:
        raise ValueError(f"expected {DURATION_HELP}, got {value!r}")
    n = int(m.group(1))
    if unit == "d":
        return Duration(days=n)
    if unit == "w":
        return Duration(days=7 * n)
    return Duration(months=n * {"mo": 1, "q": 3, "y": 12}[unit])


DATE_HELP = "an ISO date such as 2026-03-01"


def parse_date(value: object) -> dt.date:
    """An ISO date (YAML gives us a date already; a string is parsed)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"expected {DATE_HELP}, got {value!r}")


# ---------------------------------------------------------------------------------------------
# The calendar
# ---------------------------------------------------------------------------------------------


def add_months(d: dt.date, months: int) -> dt.date:
    """``d`` plus whole months, the day clamped to the month's end."""
    y, m0 = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m0 + 1
    next_first = dt.date(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_first - dt.timedelta(days=1)).day
    return dt.date(year, month, min(d.day, last_day))


def year_fraction(start: dt.date, d: dt.date) -> float:
    """Years from ``start`` to ``d``: calendar months elapsed / 12, a part month by its days.

    This day count makes monthly and daily step grids agree exactly at every month boundary, so a
    rate of $12B a year yields exactly $1B a month, and the same total on a daily grid.
    """
    months = (d.year - start.year) * 12 + d.month - start.month
    anchor = add_months(start, months)
    if anchor > d:
        months -= 1
        anchor = add_months(start, months)
    nxt = add_months(start, months + 1)
    return (months + (d - anchor).days / (nxt - anchor).days) / 12


def format_dollars(cents: int | float, unit: str = "B") -> str:
    """Cents -> ``$12.34B`` (unit B, M or T) for summaries."""
    scale = {"T": 1e12, "B": 1e9, "M": 1e6}[unit] * CENTS_PER_DOLLAR
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) / scale:,.2f}{unit}"
