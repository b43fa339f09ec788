"""Deadline forms met in real plans (issue 13): a first deadline then yearly, milestones written as periods,
a period with a condition in brackets, the old spelling "Quí", a day and month with the plan's year."""

from __future__ import annotations

import datetime as dt

import pytest

from kehoach_xl.model import schema
from kehoach_xl.rules.deadline import parse_deadline

D = dt.date


@pytest.mark.parametrize(("text", "kind", "due", "recurrence", "start"), [
    ("2026 và hằng năm", "recurring", D(2026, 12, 31), "yearly", D(2026, 1, 1)),
    ("Năm 2026 và hàng năm", "recurring", D(2026, 12, 31), "yearly", D(2026, 1, 1)),
    ("Quý II/2026 và các năm tiếp theo", "recurring", D(2026, 6, 30), "yearly", D(2026, 4, 1)),
    ("Tháng 3/2026, sau đó hằng năm", "recurring", D(2026, 3, 31), "yearly", D(2026, 3, 1)),
    ("Hằng năm", "recurring", None, "yearly", None),
    ("Thường xuyên, hằng năm", "recurring", None, "yearly", None),
    ("Quí IV-2025", "quarter", D(2025, 12, 31), None, D(2025, 10, 1)),
    ("QUÍ I/2026", "quarter", D(2026, 3, 31), None, D(2026, 1, 1)),
    ("2026 - 2030", "year_range", D(2030, 12, 31), None, D(2026, 1, 1)),
])
def test_first_deadline_then_yearly_and_spellings(text, kind, due, recurrence, start):
    d = parse_deadline(text, plan_year=2026)
    assert (d.kind, d.due, d.recurrence, d.start) == (kind, due, recurrence, start), d
    assert d.text == text and d.kind in schema.DEADLINE_KINDS


def test_then_yearly_says_so_and_keeps_the_plan_year_assumption():
    d = parse_deadline("2026 và hằng năm")
    assert "first_due" in d.flags and "31/12/2026" in d.note and "hằng năm" in d.note
    d = parse_deadline("Quý II và các năm tiếp theo", plan_year=2026)
    assert d.due == D(2026, 6, 30) and "year_assumed" in d.flags and "năm 2026" in d.note
    assert parse_deadline("Quý II và các năm tiếp theo").kind == "unknown"  # no year anywhere: not guessed


def test_milestones_written_as_periods():
    d = parse_deadline("Tháng 6/2026 (sơ kết); tháng 12/2026 (tổng kết)")
    assert d.kind == "milestones" and d.due == D(2026, 12, 31)
    assert d.milestones == ((D(2026, 6, 30), "Tháng 6/2026 (sơ kết)"), (D(2026, 12, 31), "tháng 12/2026 (tổng kết)"))
    d = parse_deadline("Quý I/2026; Quý III/2026")
    assert d.kind == "milestones" and [m for m, _ in d.milestones] == [D(2026, 3, 31), D(2026, 9, 30)]


def test_milestone_sentences_keep_the_undated_part_in_the_note():
    text = ("Ban hành các quy định trong Quý II/2026.\nĐầu tư, nâng cấp hạ tầng trong Quý II/2026.\n"
            "Cập nhật thường xuyên")
    d = parse_deadline(text)
    assert d.kind == "milestones" and d.due == D(2026, 6, 30) and d.text == text
    assert "undated_part" in d.flags and "Cập nhật thường xuyên" in d.note


def test_a_period_with_a_condition_in_brackets():
    d = parse_deadline("Năm 2026\n(sau khi Chính phủ ban hành Nghị định quy định chi tiết)")
    assert (d.kind, d.due) == ("year", D(2026, 12, 31)) and "conditional" in d.flags
    assert "sau khi Chính phủ ban hành Nghị định" in d.note
    # no year of its own: stays an event-based deadline, no date invented
    assert parse_deadline("Trong năm (sau khi có hướng dẫn)", plan_year=2026).due is None


@pytest.mark.parametrize("text", ["Trước 28/5", "trước ngày 28/5", "Trước ngày 28 tháng 5"])
def test_day_and_month_take_the_plan_year(text):
    d = parse_deadline(text, plan_year=2026)
    assert d.due == D(2026, 5, 28) and "year_assumed" in d.flags and "năm kế hoạch" in d.note
    assert parse_deadline(text).kind == "unknown"  # without a plan year: flagged, not guessed
    rolled = parse_deadline(text, plan_year=2026, issued_on=D(2026, 6, 10))
    assert rolled.due == D(2027, 5, 28) and "year_rolled" in rolled.flags


@pytest.mark.parametrize("text", [
    "Quý II, III/2024", "Tháng 6 - 9/2024", "Tháng 12/2024 - tháng 01/2025", "Quý IV/2025- Quý II/2026",
    "- Đến 31/12/2022: Hoàn thành 90%. - Đến 31/01/2023: Hoàn thành 100%",
])
def test_single_periods_and_dated_lists_are_unchanged(text):
    d = parse_deadline(text, plan_year=2024)
    assert d.kind in ("quarter", "month", "milestones") and not {"first_due", "undated_part"} & set(d.flags)
