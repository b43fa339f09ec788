"""Vietnam's working-day calendar for public agencies.

Holidays come from the ``holidays`` package (country "VN"): Tết, Giỗ Tổ Hùng
Vương, 30/4, 1/5, 2/9, their observed days, and the government's yearly swaps
of a weekday off for a working Saturday (for 2024: Monday 29/04 off, Saturday
04/05 worked). ``holidays`` keeps the swapped Saturdays in
``weekend_workdays`` (filled from ``VietnamStaticHolidays.special_public_holidays``),
which is what we read here.

When the government announces a swap that the installed ``holidays`` release
does not know yet, add it to ``EXTRA_DAYS_OFF`` / ``EXTRA_WORKDAYS`` below with
the announcing document in a comment, and remove it once ``holidays`` has it.

Lookups are precomputed per year (a sorted table of working days and a running
count), so counting working days between two dates is O(1) per year spanned.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import threading
from dataclasses import dataclass
from functools import cache

import holidays as _holidays

__all__ = [
    "EXTRA_DAYS_OFF",
    "EXTRA_WORKDAYS",
    "add_working_days",
    "holiday_name",
    "holidays_in_year",
    "is_working_day",
    "working_days_between",
]

# Days off / working days announced after the installed `holidays` release.
# Each entry: date -> Vietnamese reason (with the announcing document).
EXTRA_DAYS_OFF: dict[dt.date, str] = {}
EXTRA_WORKDAYS: dict[dt.date, str] = {}

_lock = threading.Lock()


@dataclass(frozen=True)
class _Year:
    year: int
    days_off: dict[dt.date, str]  # weekday holidays and substituted days off, with names
    weekend_workdays: frozenset[dt.date]
    working: tuple[int, ...]  # ordinals of this year's working days, sorted

    def count_upto(self, ordinal: int) -> int:
        """Working days of this year on or before ``ordinal``."""
        return bisect.bisect_right(self.working, ordinal)


@cache
def _year(year: int) -> _Year:
    with _lock:
        cal = _holidays.country_holidays("VN", years=year, language="vi")
        names = {d: str(n) for d, n in cal.items() if d.year == year}
        workdays = {d for d in cal.weekend_workdays if d.year == year}
    for d, why in EXTRA_DAYS_OFF.items():
        if d.year == year:
            names[d] = why
            workdays.discard(d)
    for d in EXTRA_WORKDAYS:
        if d.year == year:
            names.pop(d, None)
            workdays.add(d)
    first = dt.date(year, 1, 1).toordinal()
    last = dt.date(year, 12, 31).toordinal()
    working = []
    for o in range(first, last + 1):
        d = dt.date.fromordinal(o)
        if d in workdays or (d.weekday() < 5 and d not in names):
            working.append(o)
    return _Year(year, names, frozenset(workdays), tuple(working))


def _as_date(d: dt.date | dt.datetime) -> dt.date:
    return d.date() if isinstance(d, dt.datetime) else d


def is_working_day(d: dt.date | dt.datetime) -> bool:
    """True on Monday–Friday that is not a holiday, and on a swapped working Saturday."""
    d = _as_date(d)
    y = _year(d.year)
    i = bisect.bisect_left(y.working, d.toordinal())
    return i < len(y.working) and y.working[i] == d.toordinal()


def holiday_name(d: dt.date | dt.datetime) -> str | None:
    """Vietnamese name of the holiday or day off on ``d`` (None on ordinary days)."""
    d = _as_date(d)
    return _year(d.year).days_off.get(d)


def holidays_in_year(year: int) -> dict[dt.date, str]:
    """Every holiday and day off of ``year`` (weekend ones included), by date."""
    return dict(sorted(_year(year).days_off.items()))


def working_days_between(start: dt.date | dt.datetime, end: dt.date | dt.datetime) -> int:
    """Working days after ``start`` up to and including ``end``; negative if end < start.

    Friday → next Monday is 1; a date to itself is 0; from Monday back to the
    previous Friday is -1.
    """
    return _between(_as_date(start), _as_date(end))


@functools.lru_cache(maxsize=1 << 14)  # refresh asks for (today, deadline): a few hundred deadlines, 50,000 tasks
def _between(start: dt.date, end: dt.date) -> int:
    if end < start:
        return -_between(end, start)
    if start.year == end.year:
        y = _year(start.year)
        return y.count_upto(end.toordinal()) - y.count_upto(start.toordinal())
    total = len(_year(start.year).working) - _year(start.year).count_upto(start.toordinal())
    for year in range(start.year + 1, end.year):
        total += len(_year(year).working)
    return total + _year(end.year).count_upto(end.toordinal())


def add_working_days(d: dt.date | dt.datetime, n: int) -> dt.date:
    """The n-th working day after ``d`` (before it when n < 0); ``d`` itself when n == 0."""
    d = _as_date(d)
    if n == 0:
        return d
    year = d.year
    o = d.toordinal()
    if n > 0:
        while True:
            y = _year(year)
            i = bisect.bisect_right(y.working, o)  # first working day after o
            if i + n - 1 < len(y.working):
                return dt.date.fromordinal(y.working[i + n - 1])
            n -= len(y.working) - i
            year += 1
            o = dt.date(year, 1, 1).toordinal() - 1
    n = -n
    while True:
        y = _year(year)
        i = bisect.bisect_left(y.working, o)  # working days strictly before o: indices < i
        if i - n >= 0:
            return dt.date.fromordinal(y.working[i - n])
        n -= i
        year -= 1
        o = dt.date(year, 12, 31).toordinal() + 1


def clear_cache() -> None:
    """Forget computed years (after editing EXTRA_DAYS_OFF / EXTRA_WORKDAYS)."""
    _year.cache_clear()
    _between.cache_clear()
