"""Working-day calendar: fixed dates around Tết, swaps, month ends and the leap day."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kehoach_xl.rules import workdays
from kehoach_xl.rules.workdays import (
    add_working_days,
    holiday_name,
    holidays_in_year,
    is_working_day,
    working_days_between,
)

D = dt.date


@pytest.mark.parametrize(("day", "working"), [
    # Tết Giáp Thìn 2024: public servants off Thu 08/02 – Wed 14/02.
    (D(2024, 2, 7), True),
    (D(2024, 2, 8), False),
    (D(2024, 2, 9), False),
    (D(2024, 2, 12), False),
    (D(2024, 2, 14), False),
    (D(2024, 2, 15), True),
    # 30/4 – 1/5 2024: Monday 29/04 off, swapped for Saturday 04/05 worked.
    (D(2024, 4, 29), False),
    (D(2024, 4, 30), False),
    (D(2024, 5, 1), False),
    (D(2024, 5, 2), True),
    (D(2024, 5, 4), True),
    (D(2024, 5, 5), False),
    # Leap day 2024 is an ordinary Thursday.
    (D(2024, 2, 29), True),
    # 2/9/2024: Monday 02 and Tuesday 03 off.
    (D(2024, 9, 2), False),
    (D(2024, 9, 3), False),
    # Tết Ất Tỵ 2025: Mon 27/01 – Fri 31/01 off; Monday 03/02 back to work.
    (D(2025, 1, 24), True),
    (D(2025, 1, 27), False),
    (D(2025, 1, 31), False),
    (D(2025, 2, 3), True),
    # 2025 swap: Friday 02/05 off, Saturday 26/04 worked.
    (D(2025, 4, 26), True),
    (D(2025, 5, 2), False),
    # Tết Bính Ngọ 2026: Mon 16/02 – Fri 20/02 off.
    (D(2026, 2, 13), True),
    (D(2026, 2, 16), False),
    (D(2026, 2, 20), False),
    (D(2026, 2, 23), True),
    # Ordinary weekends and New Year's Day.
    (D(2024, 6, 15), False),
    (D(2024, 6, 16), False),
    (D(2025, 1, 1), False),
])
def test_is_working_day(day: D, working: bool) -> None:
    assert is_working_day(day) is working
    assert is_working_day(dt.datetime.combine(day, dt.time(9))) is working


def test_holiday_names_are_vietnamese() -> None:
    assert "thay cho ngày 04/05/2024" in (holiday_name(D(2024, 4, 29)) or "")
    assert "Tết" in (holiday_name(D(2025, 1, 29)) or "")
    assert holiday_name(D(2024, 6, 20)) is None
    h = holidays_in_year(2024)
    assert D(2024, 2, 10) in h and D(2024, 5, 4) not in h
    assert list(h) == sorted(h)


@pytest.mark.parametrize(("start", "end", "expected"), [
    (D(2024, 6, 20), D(2024, 6, 20), 0),
    (D(2024, 6, 21), D(2024, 6, 24), 1),  # Friday → Monday
    (D(2024, 6, 24), D(2024, 6, 21), -1),
    (D(2024, 4, 26), D(2024, 5, 6), 4),  # 02/05, 03/05, Sat 04/05, 06/05
    (D(2024, 2, 7), D(2024, 2, 15), 1),  # across Tết 2024
    (D(2024, 2, 28), D(2024, 3, 1), 2),  # 29/02 and 01/03
    (D(2024, 1, 31), D(2024, 2, 29), 16),  # Feb 2024: 21 weekdays − 5 Tết weekdays (8–9, 12–14)
    (D(2024, 12, 31), D(2025, 1, 2), 1),  # across a year end and 01/01
    (D(2025, 1, 24), D(2025, 2, 3), 1),  # across Tết 2025
    (D(2026, 2, 13), D(2026, 2, 23), 1),  # across Tết 2026
    (D(2024, 5, 31), D(2024, 6, 30), 20),  # June 2024
])
def test_working_days_between(start: D, end: D, expected: int) -> None:
    assert working_days_between(start, end) == expected


@pytest.mark.parametrize(("start", "n", "expected"), [
    (D(2024, 2, 7), 1, D(2024, 2, 15)),
    (D(2024, 4, 26), 1, D(2024, 5, 2)),
    (D(2024, 4, 26), 3, D(2024, 5, 4)),  # the working Saturday counts
    (D(2024, 5, 6), -1, D(2024, 5, 4)),
    (D(2025, 2, 3), -1, D(2025, 1, 24)),
    (D(2024, 12, 30), 2, D(2025, 1, 2)),
    (D(2024, 6, 15), 0, D(2024, 6, 15)),
    (D(2024, 2, 28), 1, D(2024, 2, 29)),
])
def test_add_working_days(start: D, n: int, expected: D) -> None:
    assert add_working_days(start, n) == expected


def _brute(a: D, b: D) -> int:
    if b < a:
        return -_brute(b, a)
    return sum(is_working_day(a + dt.timedelta(days=i)) for i in range(1, (b - a).days + 1))


span = st.dates(min_value=D(2023, 6, 1), max_value=D(2026, 12, 31))


@settings(max_examples=150, deadline=None)
@given(span, span)
def test_between_matches_day_by_day_count(a: D, b: D) -> None:
    assert working_days_between(a, b) == _brute(a, b)
    assert working_days_between(a, b) == -working_days_between(b, a)


@settings(max_examples=150, deadline=None)
@given(span, st.integers(-400, 400))
def test_add_then_count_is_identity(a: D, n: int) -> None:
    r = add_working_days(a, n)
    if n:
        assert is_working_day(r)
    if n > 0 or is_working_day(a):
        assert working_days_between(a, r) == n


def test_extra_days_table_overrides_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(workdays.EXTRA_DAYS_OFF, D(2031, 6, 2), "Nghỉ bù (thử nghiệm)")
    monkeypatch.setitem(workdays.EXTRA_WORKDAYS, D(2031, 6, 7), "Làm bù (thử nghiệm)")
    workdays.clear_cache()
    try:
        assert not is_working_day(D(2031, 6, 2))
        assert is_working_day(D(2031, 6, 7))
        assert holiday_name(D(2031, 6, 2)) == "Nghỉ bù (thử nghiệm)"
    finally:
        monkeypatch.undo()
        workdays.clear_cache()
    assert is_working_day(D(2031, 6, 2))
