"""Operation counts that must not grow with the number of tasks (a guard, not a timing).

The briefing at 10,000 tasks once took 23 s and at 50,000 tasks 302 s: the summary export
asked openpyxl for ``Worksheet.max_row`` (which scans every cell) once per row, and every
render built a new Jinja2 environment, so every template was compiled again (~200 times per
briefing). Counting those operations catches a regression on any machine, however loaded,
where a timing would not.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import jinja2
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from kehoach_xl.commands.init import create_master
from kehoach_xl.io.master_read import read_master
from kehoach_xl.model.config import Config
from kehoach_xl.reports import render
from kehoach_xl.reports.briefing import write_briefing_files

PERIOD = "2025-04"
AS_OF = dt.date(2025, 5, 5)
UNITS = [f"Phòng Chuyên môn số {i + 1}" for i in range(6)]
# Overdue, due soon, in time, continuous and done: every list of the briefing and of the
# exported summary grows with the number of tasks.
DEADLINES = ["Quý I/2025", "Trước 10/5/2025", "Năm 2025", "Thường xuyên", "Tháng 2/2025"]


def _tasks(n: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        done = i % 5 == 4
        rows.append({
            "id": f"NV{i + 1:04d}", "group": f"G{i % 4 + 1}", "task": f"Nhiệm vụ thử số {i + 1}",
            "lead_units": UNITS[i % len(UNITS)], "leaders": "Đ/c Nguyễn Văn A",
            "deadline_text": DEADLINES[i % len(DEADLINES)],
            "status": "Hoàn thành" if done else "Đang thực hiện", "progress": 1.0 if done else 0.4,
            "difficulties": "Thiếu kinh phí" if i % 7 == 0 else "",
        })
    return rows


def _count_briefing(tmp: Path, n: int, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    master = create_master(tmp / f"master_{n}.xlsx", tasks=_tasks(n),
                           units=[{"name": u, "email": f"u{i}@example.vn"} for i, u in enumerate(UNITS)],
                           meta={"plan_title": "Kế hoạch thử"}, overwrite=True)
    md = read_master(master)
    counts: Counter[str] = Counter()
    max_row, max_column = Worksheet.max_row, Worksheet.max_column
    compile_ = jinja2.Environment.compile

    def counted(name: str, prop: property) -> property:
        def get(self: Worksheet) -> int:
            counts[name] += 1
            return prop.fget(self)  # type: ignore[misc]
        return property(get)

    def compile_counted(self: jinja2.Environment, *args: Any, **kwargs: Any) -> Any:
        counts["jinja2 compile"] += 1
        return compile_(self, *args, **kwargs)

    render._environment.cache_clear()  # each run starts as a fresh process would
    with monkeypatch.context() as m:
        m.setattr(Worksheet, "max_row", counted("Worksheet.max_row", max_row))
        m.setattr(Worksheet, "max_column", counted("Worksheet.max_column", max_column))
        m.setattr(jinja2.Environment, "compile", compile_counted)
        res, _ = write_briefing_files(md, period=PERIOD, as_of=AS_OF, config=Config(), out=tmp / f"out_{n}")
    counts["environments"] = render._environment.cache_info().misses
    counts["reminders"] = len(res.reminders)
    return counts


def test_briefing_operation_counts_do_not_grow_with_tasks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    small = _count_briefing(tmp_path, 30, monkeypatch)  # every unit has every kind of task
    large = _count_briefing(tmp_path, 300, monkeypatch)
    assert small["reminders"] == large["reminders"] == len(UNITS)  # same units: only the tasks grew
    # Each template is compiled once per process, whatever the number of tasks or reminders.
    assert small["jinja2 compile"] == large["jinja2 compile"] <= 8, (small, large)
    assert small["environments"] == large["environments"] <= 2, (small, large)
    # openpyxl's max_row/max_column scan every cell: a few calls while saving, never one per row.
    # (Before the fix: 37 max_row calls at 30 tasks, 183 at 300; 39 compilations.)
    for op in ("Worksheet.max_row", "Worksheet.max_column"):
        assert small[op] == large[op] <= 20, (op, small, large)
