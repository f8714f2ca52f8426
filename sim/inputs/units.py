"""Units of the scenario language: money, shares, durations and the calendar.

Every parser takes what a user may write in a scenario file (``50B``, ``$38bn``, ``35%``, ``18mo``)
and returns an exact value, or raises ``ValueError`` with a message that says what is accepted.
Money leaves this module as integer cents; nothing downstream sees a float dollar amount.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
import functools
import numbers
import re
from dataclasses import dataclass
from decimal import Context, Decimal, Inexact, InvalidOperation, Overflow

CENTS_PER_DOLLAR = 100

# Every value is bounded here, before any arithmetic on it, so that nothing downstream can
# overflow a Decimal context, a float, a C integer or the calendar.
MAX_DIGITS = 30  # digits a number may have before, and after, its decimal point
MAX_DURATION_MONTHS = 1_200  # 100 years (100y, 400q, 1200mo)
# In days, a round number past any 100 years (36,524 or 36,525 days), so that a horizon a little
# past 100 years is told what is wrong with it (too many steps, or more than 100 years).
MAX_DURATION_DAYS = 40_000
# The calendar a scenario may use. With every duration at most about 110 years, every date the
# engine derives (the horizon's end, a contract's end, an invoice's due date) stays before 2550.
FIRST_DATE, LAST_DATE = dt.date(1900, 1, 1), dt.date(2199, 12, 31)
# Arithmetic on bounded numbers (at most 2 * MAX_DIGITS digits, times 10**14 at most) is exact at
# this precision; any rounding or overflow would be a bug, so it raises instead of rounding.
_EXACT = Context(prec=100, traps=[Inexact, InvalidOperation, Overflow])


def shown(value: object, limit: int = 40) -> str:
    """``repr(value)`` cut to ``limit`` characters: a message quotes a value on one short line."""
    if isinstance(value, dt.date):
        return str(value)  # 2026-03-01, as written, not datetime.date(2026, 3, 1)
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # an int of over 4,300 digits; lists nested too deep
        if isinstance(value, int):
            return f"a number of about {int(value.bit_length() * 0.30103):,} digits"
        return f"a {type(value).__name__} too large to show"
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---------------------------------------------------------------------------------------------
# The one grammar of a written number: amounts, shares and durations (and the loader's numbers
# with separators) all read their digits here, so that a number means the same thing everywhere
# ---------------------------------------------------------------------------------------------

# Digits 0-9 only, no leading zero (0.5 and 0, not 007); the digits before the point may be
# grouped by three, with commas or with underscores (one kind per number): 1,500,000 and
# 1_500_000, never 1,5 or 1_0_0. A point for decimals (1.5, .5, 5.), and an exponent (1e9,
# 2.5E-3). A group of three after a 0 (0,500) is a decimal comma, and a lone 000 the end of a
# thousand a list split at its commas (--vary cash=1,000,000): both refused.
_GROUPED = r"[1-9][0-9]{0,2}(?:,[0-9]{3})+|[1-9][0-9]{0,2}(?:_[0-9]{3})+"
_DIGITS = rf"{_GROUPED}|0|[1-9][0-9]*"
_EXPONENT = r"(?:[eE][-+]?[0-9]+)?"
_NUMBER_RE = re.compile(rf"(?:(?:{_DIGITS})(?:\.[0-9]*)?|\.[0-9]+){_EXPONENT}", re.ASCII)
_WHOLE_RE = re.compile(_DIGITS, re.ASCII)  # a count: no point, no exponent
# What may be meant as a number, so that a misplaced comma is told as such (not as a bad suffix)
_NUMBER_LIKE = r"[0-9.,_]+(?:[eE][-+]?[0-9.,_]*)?"
_DECIMAL_COMMA_RE = re.compile(r"[0-9]*,[0-9]+", re.ASCII)  # 1,5 35,5 ,5 (a single comma)
_SEPARATORS = "a comma or _ only groups the digits before the point by three, as in 1,500,000"


def _number_problem(text: str, written: str = "") -> str:
    """Why ``text`` (the number in ``written``, the whole value as written) is not a number of
    the grammar above, in a few words to follow the accepted forms; "" when no more is known."""
    whole = written or text
    if any(c.isdigit() and not c.isascii() for c in whole):
        return "write the digits as 0-9"
    if _DECIMAL_COMMA_RE.fullmatch(text) and not _WHOLE_RE.fullmatch(text):
        point = text.replace(",", ".")
        point = "0" + point if point.startswith(".") else point
        return f"use a point for decimals: {whole.strip().replace(text, point, 1)}; {_SEPARATORS}"
    if "," in text or "_" in text:
        return _SEPARATORS
    if text.count(".") > 1:
        return "a number has at most one point"
    if re.fullmatch("0[0-9]{2}", text):  # 000 of 1,000,000 split at its commas
        return (
            "a number does not start with 0 unless it is below 1; where a comma separates "
            "values (a list such as 10B,25B), write one number as 1000000 or 1_000_000"
        )
    if re.match("0[0-9]", text):
        return "a number does not start with 0 unless it is below 1 (7, not 007)"
    if re.search(r"[0-9]\s+[0-9]", whole):
        return "write a number without spaces inside it (1000000 or 1,000,000)"
    return ""


def read_number(text: str, *, whole: bool = False) -> Decimal:
    """The number written ``text`` (no sign, no unit) under the one grammar above, exactly;
    ``whole``: a count (digits, grouped or not). ValueError(a few words) if it is none."""
    if not (_WHOLE_RE if whole else _NUMBER_RE).fullmatch(text):
        raise ValueError(_number_problem(text))
    return Decimal(text.replace(",", "").replace("_", ""))  # finite: the grammar has no nan


def ungrouped(text: str) -> str:
    """A number as YAML resolved it (``-2_500_000``, ``1_000.5``), its separators checked by
    the one grammar and taken out: what ``int()`` or ``float()`` may read. ValueError if the
    separators are out of place (``1_0_0``)."""
    sign = text[:1] if text[:1] in "+-" else ""
    if not _NUMBER_RE.fullmatch(text[len(sign) :]):
        raise ValueError(_number_problem(text[len(sign) :]) or "not a number")
    return text.replace("_", "").replace(",", "")


def _number(value: object) -> Decimal | None:
    """An int or a float as an exact, finite Decimal; None if it is none (text is read by the
    grammar, by its caller)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):  # int, and numpy's integers from a notebook
        return Decimal(int(value))
    if isinstance(value, numbers.Real) and not isinstance(value, Decimal):  # float, numpy's
        f = float(value)  # repr(numpy.float64(0.4)) is 'np.float64(0.4)', repr(0.4) is '0.4'
        return Decimal(repr(f)) if f == f and abs(f) != float("inf") else None
    return None


def _expected(help_text: str, value: object, problem: str = "") -> ValueError:
    """The refusal of a value: what is accepted, what was given, and why if it is known."""
    return ValueError(
        f"expected {help_text}, got {shown(value)}" + (f": {problem}" if problem else "")
    )


def _too_large(number: Decimal) -> bool:
    """More than MAX_DIGITS digits before the decimal point."""
    return bool(number) and number.adjusted() >= MAX_DIGITS


def _too_fine(number: Decimal) -> bool:
    """A digit other than 0 more than MAX_DIGITS places after the decimal point."""
    if not number:
        return False
    _, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return exponent + trailing_zeros < -MAX_DIGITS


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
# An amount: a sign (before or after the $), a $, the number, a suffix; spaces between them
_AMOUNT_RE = re.compile(rf"\s*([-+]?)\s*(\$?)\s*([-+]?)\s*({_NUMBER_LIKE})\s*([a-zA-Z]*)\s*")
AMOUNT_HELP = "an amount such as 50B, $38bn, 500M, 1.2T, 2,500,000 or 1e9 (dollars)"

# Largest single figure a scenario may state: $10 trillion. Keeps every amount, and sums of many,
# well inside the range where float64 holds whole cents exactly (2**53 cents is about $90T).
MAX_DOLLARS = Decimal(10) ** 13


def parse_amount_cents(value: object) -> int:
    """Dollars (``50B``, ``$38bn``, ``500M``, ``1.2T``, ``2,500,000``, ``1e9``, 7) -> cents."""
    negative = False
    suffix = ""
    if isinstance(value, str):
        m = _AMOUNT_RE.fullmatch(value)
        suffix = m.group(5).lower() if m else ""
        if not m or suffix not in _AMOUNT_SUFFIX or (m.group(1) and m.group(3)):
            problem = _number_problem(m.group(4), value) if m else _number_problem("", value)
            raise _expected(AMOUNT_HELP, value, problem)
        negative = "-" in (m.group(1), m.group(3))
        try:
            number: Decimal | None = read_number(m.group(4))
        except ValueError:
            raise _expected(AMOUNT_HELP, value, _number_problem(m.group(4), value)) from None
    else:
        number = _number(value)
    if number is None:
        raise _expected(AMOUNT_HELP, value)
    too_large = f"{shown(value)} is larger than the $10T this simulator accepts for one figure"
    fractions = f"{shown(value)} has fractions of a cent"
    if _too_large(number):  # checked before multiplying: 1e999999999 would overflow
        raise ValueError(too_large)
    if _too_fine(number):
        raise ValueError(fractions)
    dollars = _EXACT.multiply(number, _AMOUNT_SUFFIX[suffix])
    if dollars.copy_abs() > MAX_DOLLARS:
        raise ValueError(too_large)
    cents = _EXACT.multiply(dollars, CENTS_PER_DOLLAR)
    if cents != cents.to_integral_value():
        raise ValueError(fractions)
    return -int(cents) if negative else int(cents)


SHARE_HELP = "a share such as 35% or 0.35"


# A share: a sign, the number, a % (or none: a fraction); spaces between them
_SHARE_RE = re.compile(rf"\s*([-+]?)\s*({_NUMBER_LIKE})\s*(%?)\s*")


def parse_share(value: object) -> float:
    """A share written as ``35%`` or ``0.35`` -> 0.35 (the caller checks the range it needs).

    Always finite: NaN and infinity are refused, and so is any number with more than MAX_DIGITS
    digits before or after its decimal point (``1e999999999%``, ``1e-999999999``)."""
    percent = False
    if isinstance(value, str):
        m = _SHARE_RE.fullmatch(value)
        if not m:
            raise _expected(SHARE_HELP, value, _number_problem("", value))
        try:
            read = read_number(m.group(2))
        except ValueError:
            raise _expected(SHARE_HELP, value, _number_problem(m.group(2), value)) from None
        number: Decimal | None = read.copy_negate() if m.group(1) == "-" else read
        percent = bool(m.group(3))
    else:
        number = _number(value)
    if number is None:
        raise _expected(SHARE_HELP, value)
    if _too_large(number) or _too_fine(number):
        raise ValueError(
            f"expected {SHARE_HELP}, got {shown(value)}: a number here has at most {MAX_DIGITS} "
            "digits before and after its decimal point"
        )
    return float(_EXACT.scaleb(number, -2) if percent else number)


_DURATION_UNITS = {
    "d": "d", "day": "d", "days": "d",
    "w": "w", "wk": "w", "week": "w", "weeks": "w",
    "mo": "mo", "month": "mo", "months": "mo",
    "q": "q", "quarter": "q", "quarters": "q",
    "y": "y", "yr": "y", "year": "y", "years": "y",
}  # fmt: skip
_DURATION_RE = re.compile(rf"\s*({_NUMBER_LIKE})\s*([a-zA-Z]+)\s*")
DURATION_HELP = "a duration such as 90d, 2w, 18mo, 1q or 7y"
DURATION_LIMIT = (
    f"at most 100 years ({MAX_DURATION_MONTHS // 12}y, {MAX_DURATION_MONTHS // 3}q, "
    f"{MAX_DURATION_MONTHS}mo), or {MAX_DURATION_DAYS}d ({MAX_DURATION_DAYS // 7}w) in days"
)


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

    def before(self, end: dt.date) -> dt.date:
        """The date this long before ``end`` (month ends clamp as in ``after``)."""
        if self.months:
            return add_months(end, -self.months)
        return end - dt.timedelta(days=self.days)

    @property
    def is_zero(self) -> bool:
        return self.days == 0 and self.months == 0

    def __str__(self) -> str:
        if self.months:
            return f"{self.months // 12}y" if self.months % 12 == 0 else f"{self.months}mo"
        return f"{self.days}d"


def parse_duration(value: object) -> Duration:
    """``90d``, ``2w``, ``18mo``, ``1q``, ``7y`` -> Duration. A bare 0 means no time.

    At most MAX_DURATION_MONTHS or MAX_DURATION_DAYS, checked before any arithmetic."""
    if isinstance(value, Duration):
        duration = value
    elif isinstance(value, int | float) and not isinstance(value, bool) and value == 0:
        duration = Duration()
    else:
        text = value if isinstance(value, str) else ""
        m = _DURATION_RE.fullmatch(text) if text else None
        unit = _DURATION_UNITS.get(m.group(2).lower()) if m else None
        if not m or unit is None:
            raise _expected(DURATION_HELP, value, _number_problem("", text))
        try:
            read_number(m.group(1), whole=True)
        except ValueError:
            problem = _number_problem(m.group(1), text)
            if not problem or problem.startswith("use a point"):  # 1.5y, 1,5y: no part units
                problem = "a duration counts whole days, weeks, months, quarters or years (18mo)"
            raise _expected(DURATION_HELP, value, problem) from None
        digits = m.group(1).replace(",", "").replace("_", "").lstrip("0") or "0"
        n = int(digits) if len(digits) <= 6 else MAX_DURATION_DAYS + 1  # never int() long text
        if unit in ("d", "w"):
            duration = Duration(days=n * (7 if unit == "w" else 1))
        else:
            duration = Duration(months=n * {"mo": 1, "q": 3, "y": 12}[unit])
    if duration.days < 0 or duration.months < 0:  # only a Duration given from Python can be
        raise ValueError(f"expected {DURATION_HELP}, got {shown(value)}")
    if duration.days > MAX_DURATION_DAYS or duration.months > MAX_DURATION_MONTHS:
        raise ValueError(f"{shown(value)} is too long: a duration is {DURATION_LIMIT}")
    return duration


DATE_HELP = "an ISO date such as 2026-03-01"
# A date is a day: year, month and day as YYYY-MM-DD (a one-digit month or day too, 2026-3-1,
# as YAML reads a date written so). A time or a time zone would be dropped (the engine's
# calendar has days, not hours), so a date that states one is refused, not silently cut to its
# day; so are ISO's other forms (20260301, week dates 2026-W09-7, ordinal dates 2026-060).
_DATE_RE = re.compile(r"\s*([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})\s*", re.ASCII)
_DATE_TIME_RE = re.compile(r"\s*([0-9]{4}-[0-9]{1,2}-[0-9]{1,2})[Tt\s].*", re.ASCII | re.DOTALL)


def _no_time(day: str) -> ValueError:
    return ValueError(f"a date has no time or zone here; write {day}")


def parse_date(value: object) -> dt.date:
    """An ISO date (YYYY-MM-DD) from FIRST_DATE to LAST_DATE (YAML gives a date already; text
    is parsed). A datetime, or text with a time or a zone, is refused: see _DATE_RE."""
    date: dt.date | None = None
    if isinstance(value, dt.datetime):  # YAML's reading of 2026-01-01T23:30:00-05:00
        raise _no_time(value.date().isoformat())
    if isinstance(value, dt.date):
        date = value
    elif isinstance(value, str):
        m = _DATE_RE.fullmatch(value)
        if m:
            with contextlib.suppress(ValueError):
                date = dt.date(*map(int, m.groups()))
        elif (t := _DATE_TIME_RE.fullmatch(value)) is not None:
            day: dt.date | None = None
            with contextlib.suppress(ValueError):
                day = dt.date(*map(int, t.group(1).split("-")))
            if day is not None:  # a day that exists, with a time
                raise _no_time(day.isoformat())
    if date is None:
        raise ValueError(f"expected {DATE_HELP}, got {shown(value)}")
    if not FIRST_DATE <= date <= LAST_DATE:
        raise ValueError(
            f"the date {date} is outside the calendar a scenario may use: "
            f"{FIRST_DATE} to {LAST_DATE}"
        )
    return date


# ---------------------------------------------------------------------------------------------
# The calendar
# ---------------------------------------------------------------------------------------------


def add_months(d: dt.date, months: int) -> dt.date:
    """``d`` plus whole months, the day clamped to the month's end."""
    y, m0 = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m0 + 1
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        raise ValueError(f"year {year} is out of range")
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


@functools.lru_cache(maxsize=2**16)
def year_fraction(start: dt.date, d: dt.date) -> float:
    """Years from ``start`` to ``d``: calendar months elapsed / 12, a part month by its days.

    This day count makes monthly and daily step grids agree exactly at every month boundary, so a
    rate of $12B a year yields exactly $1B a month, and the same total on a daily grid. (Kept
    for the dates asked again: the runs of a sweep or notebook share their calendar.)
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


# ---------------------------------------------------------------------------------------------
# The step grid
# ---------------------------------------------------------------------------------------------

# A run may have at most this many steps (a 100-year horizon on a daily grid). Past it the scenario
# is refused at validation with a clear message instead of running for minutes.
MAX_STEPS = 36_600


def step_grid(start: dt.date, end: dt.date, step: Duration) -> list[dt.date]:
    """Dates start, start+step, start+2*step, ... while before ``end``, then ``end``. Made once
    per calendar (a sweep's or Monte Carlo's runs share theirs), a fresh list each call."""
    return list(_step_grid(start, end, step))


@functools.lru_cache(maxsize=256)
def _step_grid(start: dt.date, end: dt.date, step: Duration) -> tuple[dt.date, ...]:
    if step.is_zero:
        raise ValueError("step must be longer than zero")
    dates = [start]
    k = 1
    while True:
        d = (
            start + dt.timedelta(days=step.days * k)
            if step.days
            else Duration(months=step.months * k).after(start)
        )
        if d >= end:
            break
        dates.append(d)
        k += 1
        if k > MAX_STEPS:
            raise ValueError(f"more than {MAX_STEPS:,} steps")
    dates.append(end)
    return tuple(dates)


def count_steps(start: dt.date, end: dt.date, step: Duration) -> int:
    """Number of steps without building the grid (used to refuse huge grids before running)."""
    if step.days:
        return -(-(end - start).days // step.days)
    months = year_fraction(start, end) * 12
    return int(-(-months // step.months))
