"""Derived deadline columns."""

from __future__ import annotations

import datetime as dt
import time
import unicodedata

import pytest

from kehoach_xl.model import schema
from kehoach_xl.rules.derive import derive, derive_all, is_done, period_end

D = dt.date


def task(deadline: object = "", status: str = "Đang thực hiện", **kw: object) -> dict:
    return {"deadline_text": deadline, "status": status, **kw}


def test_overdue_due_soon_on_track_in_calendar_days() -> None:
    as_of = D(2024, 6, 14)
    assert derive(task("20/6/2024"), as_of).deadline_state == "due_soon"
    assert derive(task("21/6/2024"), as_of).deadline_state == "due_soon"  # exactly 7 days
    assert derive(task("22/6/2024"), as_of).deadline_state == "on_track"
    assert derive(task("14/6/2024"), as_of).deadline_state == "due_soon"  # due today
    r = derive(task("13/6/2024"), as_of)
    assert (r.deadline_state, r.days_remaining, r.working_days_remaining) == ("overdue", -1, -1)


def test_days_remaining_across_tet_2025() -> None:
    # Friday 24/01/2025 → Tuesday 04/02/2025: 11 calendar days, 2 working days (03/02, 04/02).
    r = derive(task("04/02/2025"), D(2025, 1, 24))
    assert (r.days_remaining, r.working_days_remaining) == (11, 2)
    assert r.deadline_state == "on_track"
    r = derive(task("04/02/2025"), D(2025, 1, 24), due_soon_unit="working", due_soon_days=5)
    assert r.deadline_state == "due_soon"
    # As of the last day of Tết the task is one working day from due.
    assert derive(task("04/02/2025"), D(2025, 2, 2)).working_days_remaining == 2
    assert derive(task("04/02/2025"), D(2025, 2, 3)).working_days_remaining == 1


def test_due_soon_in_working_days_around_29_04_2024() -> None:
    # Friday 26/04/2024 → Tuesday 07/05/2024: 11 calendar days but only 5 working days
    # (02/05, 03/05, Saturday 04/05 worked in exchange for 29/04, 06/05, 07/05).
    t = task("07/05/2024")
    cal = derive(t, D(2024, 4, 26))
    work = derive(t, D(2024, 4, 26), due_soon_unit="working")
    assert (cal.days_remaining, cal.working_days_remaining) == (11, 5)
    assert cal.deadline_state == "on_track"
    assert work.deadline_state == "due_soon"
    assert derive(t, D(2024, 4, 26), due_soon_unit="working", due_soon_days=4).deadline_state == "on_track"
    # On the substitution day itself nothing is worked; 29/04 → 30/04 counts 0.
    assert derive(task("30/04/2024"), D(2024, 4, 29)).working_days_remaining == 0


def test_month_end_and_leap_day() -> None:
    r = derive(task("Tháng 2/2024"), D(2024, 2, 28))
    assert r.due_date == D(2024, 2, 29) and r.days_remaining == 1
    assert r.deadline_kind == "month"
    r = derive(task("Trong tháng 1/2025"), D(2025, 1, 31))
    assert (r.days_remaining, r.deadline_state) == (0, "due_soon")
    assert derive(task("Tháng 1/2025"), D(2025, 2, 1)).deadline_state == "overdue"
    assert derive(task("29/02/2024"), D(2024, 3, 1)).days_remaining == -1
    assert derive(task("Quý I/2024"), D(2024, 2, 29)).due_date == D(2024, 3, 31)


def test_done_on_time_and_late() -> None:
    done = "Hoàn thành"
    assert derive(task("20/6/2024", done, completed_on=D(2024, 6, 20)), D(2024, 7, 1)).deadline_state \
        == "done_on_time"
    r = derive(task("20/6/2024", done, completed_on="21/06/2024"), D(2024, 7, 1))
    assert r.deadline_state == "done_late"
    assert r.days_remaining is None  # no countdown on a finished task
    assert derive(task("Theo quy định của Sở Nội vụ", done, completed_on=D(2030, 1, 1)),
                  D(2024, 7, 1)).deadline_state == "done_on_time"
    # Done without a completion date: benefit of the doubt.
    assert derive(task("20/6/2024", done), D(2024, 7, 1)).deadline_state == "done_on_time"
    # An unreadable completion date is treated as missing, not as a crash.
    assert derive(task("20/6/2024", done, completed_on="31/02/2024"), D(2024, 7, 1)).deadline_state \
        == "done_on_time"
    assert derive(task("20/6/2024", done, completed_on=45464), D(2024, 7, 1)).deadline_state == "done_late"


@pytest.mark.parametrize("status", ["Hoàn thành", " hoàn  thành ", "HOÀN THÀNH",
                                    unicodedata.normalize("NFD", "Hoàn thành"), "Đã hoàn thành"])
def test_done_status_is_compared_normalised(status: str) -> None:
    assert is_done(status)
    assert derive(task("20/6/2024", status), D(2024, 7, 1)).deadline_state == "done_on_time"


@pytest.mark.parametrize("status", ["Đang thực hiện", "Chưa thực hiện", "", None, "Chưa hoàn thành"])
def test_not_done(status: str | None) -> None:
    assert not is_done(status)


def test_continuous_and_recurring() -> None:
    as_of = D(2024, 5, 15)
    r = derive(task("Thường xuyên", due_date=D(2024, 1, 1)), as_of)
    assert (r.deadline_state, r.due_date, r.days_remaining) == ("continuous", None, None)
    r = derive(task("Hằng tháng"), as_of)
    assert (r.deadline_state, r.recurrence, r.next_due) == ("continuous", "monthly", D(2024, 5, 31))
    assert derive(task("Hằng quý"), as_of).next_due == D(2024, 6, 30)
    assert derive(task("Hằng năm"), as_of).next_due == D(2024, 12, 31)
    assert derive(task("định kỳ hằng tháng, quý"), D(2024, 2, 10)).next_due == D(2024, 2, 29)
    assert derive(task("Định kỳ 6 tháng"), as_of).next_due == D(2024, 6, 30)
    assert derive(task("Hằng tuần"), as_of).next_due == D(2024, 5, 19)
    assert derive(task("Định kỳ 2 tháng"), as_of).next_due is None


def test_period_end() -> None:
    assert period_end(D(2024, 12, 15), "monthly") == D(2024, 12, 31)
    assert period_end(D(2024, 11, 1), "quarterly") == D(2024, 12, 31)
    assert period_end(D(2024, 4, 1), "quarterly") == D(2024, 6, 30)
    assert period_end(D(2025, 2, 1), "monthly_quarterly") == D(2025, 2, 28)
    assert period_end(D(2025, 2, 1), None) is None


def test_no_deadline_kinds() -> None:
    as_of = D(2024, 5, 15)
    for text in ("", "Theo Kế hoạch kiểm tra", "Khi có yêu cầu", "không rõ", "31/02/2024"):
        r = derive(task(text), as_of)
        assert r.deadline_state == "no_deadline", text
        assert r.due_date is None and r.days_remaining is None


def test_hand_set_due_date_used_only_when_text_has_none() -> None:
    as_of = D(2024, 5, 15)
    r = derive(task("Khi có yêu cầu", due_date="20/05/2024"), as_of)
    assert (r.due_date, r.deadline_state, r.deadline_kind) == (D(2024, 5, 20), "due_soon", "relative")
    assert "due_from_cell" in r.flags
    r = derive(task("30/6/2024", due_date=D(2024, 5, 20)), as_of)
    assert r.due_date == D(2024, 6, 30) and "due_from_cell" not in r.flags


def test_milestones_next_due() -> None:
    t = task("- Đến 31/12/2022: Hoàn thành 90% - Đến 31/01/2023: Hoàn thành 100%")
    r = derive(t, D(2022, 12, 1))
    assert (r.due_date, r.next_due, r.deadline_kind) == (D(2023, 1, 31), D(2022, 12, 31), "milestones")
    assert derive(t, D(2023, 1, 10)).next_due == D(2023, 1, 31)
    assert derive(t, D(2023, 2, 1)).deadline_state == "overdue"


def test_plan_year_reaches_the_parser() -> None:
    r = derive(task("trước ngày 20/8"), D(2020, 8, 1), plan_year=2020)
    assert r.due_date == D(2020, 8, 20) and "year_assumed" in r.flags and r.note


def test_cells_use_workbook_labels() -> None:
    cells = derive(task("Hằng quý"), D(2024, 5, 15)).cells()
    assert set(cells) == set(schema.DERIVED_FIELDS)
    assert cells["deadline_state"] == schema.DEADLINE_STATES["continuous"]
    assert cells["deadline_kind"] == "Định kỳ"
    assert cells["recurrence"] == "Hằng quý"


def test_derive_all_50000_tasks_is_fast() -> None:
    texts = ["20/6/2024", "Trong năm 2024", "Quý III/2024", "Thường xuyên", "Hằng tháng",
             "Theo quy định của Sở Nội vụ", "Tháng 9/2024", "", "trước ngày 20/8"]
    tasks = [task(texts[i % len(texts)] if i % 5 else f"{i % 28 + 1}/{i % 12 + 1}/2024",
                  "Hoàn thành" if i % 4 == 0 else "Đang thực hiện",
                  completed_on=D(2024, 6, 1) if i % 4 == 0 else None)
             for i in range(50_000)]
    t0 = time.perf_counter()
    out = derive_all(tasks, D(2024, 6, 15), plan_year=2024, due_soon_unit="working")
    elapsed = time.perf_counter() - t0
    assert len(out) == 50_000
    assert {d.deadline_state for d in out} >= {"overdue", "due_soon", "on_track", "continuous",
                                               "no_deadline", "done_on_time", "done_late"}
    assert elapsed < 5.0, elapsed  # about 0.3 s on the 2-core CI machine
