"""CI guard of the report commands' cost (issue 18): operation counts, not timings.

``summary --export``, ``briefing`` and ``report`` run through their command functions on a master
of 200 and one of 800 tasks (40 units, e-mail addresses, parts of every kind). The operations
that once made them grow faster than the data are counted by wrapping them; every count must be
the same at both sizes, so a loop that calls one of them per task or per row fails here on any
machine, however loaded, where a timing would not:

* Jinja2 template compilations (every render once built a new environment: ~200 per briefing);
* openpyxl ``Worksheet.max_row`` / ``max_column`` / ``calculate_dimension`` (each scans every
  cell: asked once per row of the exported summary, the briefing was quadratic);
* reads of the master (calamine), workbooks loaded by openpyxl, zip opens of the master;
* ``rules.parts.parts_of`` / ``part_states`` (every part of every task, built three times a briefing).

``test_the_guard_catches_an_operation_per_row`` shows the guard failing on a deliberately
quadratic change (``max_row`` asked for each cell written), so it is no test that cannot fail.
"""

from __future__ import annotations

import datetime as dt
import functools
import sys
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jinja2
import openpyxl
import pytest
from openpyxl.reader.excel import ExcelReader
from openpyxl.worksheet.worksheet import Worksheet

from kehoach_xl.commands.briefing import briefing
from kehoach_xl.commands.init import create_master
from kehoach_xl.commands.report import report
from kehoach_xl.commands.summary import summary
from kehoach_xl.io import master_read
from kehoach_xl.reports import render
from kehoach_xl.rules import parts as rules_parts

SIZES = (200, 800)
PERIOD = "2025-04"
AS_OF = dt.date(2025, 5, 5)
UNITS = [f"Phòng Chuyên môn số {i + 1:02d}" for i in range(40)]
COLLECTIVE = "Các phòng, đơn vị"
# Overdue, due soon, in time, continuous and done: every list of the reports grows with the tasks.
DEADLINES = ["Quý I/2025", "Trước 10/5/2025", "Năm 2025", "Thường xuyên", "Tháng 2/2025", "Trước 30/4/2025"]


def _tasks(n: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        done = i % 5 == 4
        rows.append({
            "id": f"NV{i + 1:05d}", "group": f"G{i % 4 + 1}", "stt": str(i + 1),
            "task": f"Nhiệm vụ thử số {i + 1}: cập nhật & rà soát \"hồ sơ\"",
            # every 13th task led by the collective: members' and the synthesiser's parts
            "lead_units": COLLECTIVE if i % 13 == 0 else UNITS[i % len(UNITS)],
            "coordinating_units": f"{UNITS[(i + 7) % len(UNITS)]} (tổng hợp chung)" if i % 13 == 0
            else UNITS[(i + 7) % len(UNITS)],
            "leaders": "Đ/c Nguyễn Văn A", "deadline_text": DEADLINES[i % len(DEADLINES)],
            "status": "Hoàn thành" if done else "Đang thực hiện", "progress": 1.0 if done else 0.4,
            "result": "Đã triển khai.\nĐang hoàn thiện báo cáo" if i % 3 == 0 else "",
            "difficulties": "Thiếu kinh phí và nhân lực" if i % 7 == 0 else "",
            "proposals": "Đề nghị UBND tỉnh bổ sung kinh phí" if i % 11 == 0 else "",
        })
    return rows


def build_master(path: Path, n: int) -> Path:
    """A master of ``n`` tasks (also the golden outputs' master, test_report_outputs_golden)."""
    return create_master(
        path, tasks=_tasks(n),
        units=[*({"name": u, "email": f"donvi{i + 1:02d}@example.vn"} for i, u in enumerate(UNITS)),
               {"name": COLLECTIVE, "kind": "Nhóm đơn vị"}],
        leaders=[{"name": "Đ/c Nguyễn Văn A", "title": "Giám đốc", "email": "lanhdao@example.vn"}],
        meta={"plan_title": "Kế hoạch thử", "plan_number": "12/KH-STNMT", "agency": "Sở Tài nguyên và Môi trường"},
        overwrite=True)


@pytest.fixture(scope="module")
def masters(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    return {n: build_master(tmp_path_factory.mktemp(f"master_{n}") / "master.xlsx", n) for n in SIZES}


def _wrap_everywhere(m: pytest.MonkeyPatch, original: Callable[..., Any], wrapper: Callable[..., Any]) -> None:
    """Replace ``original`` in every loaded module that holds it (``from x import f`` copies it)."""
    for mod in list(sys.modules.values()):
        for name, value in list(getattr(mod, "__dict__", {}).items()):
            if value is original:
                m.setattr(mod, name, wrapper)


@contextmanager
def counting(master: Path) -> Iterator[Counter[str]]:
    """Count the watched operations while the block runs (a fresh process's caches)."""
    counts: Counter[str] = Counter()
    master = master.resolve()

    def counted(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            counts[name] += 1
            return fn(*args, **kwargs)
        return call

    def counted_property(name: str, prop: property) -> property:
        return property(counted(name, prop.fget))  # type: ignore[arg-type]

    zip_init = zipfile.ZipFile.__init__

    def zip_open(self: zipfile.ZipFile, file: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(file, (str, Path)) and Path(file).resolve() == master:
            counts["zip opens of the master"] += 1
        zip_init(self, file, *args, **kwargs)

    render._environment.cache_clear()
    with pytest.MonkeyPatch.context() as m:
        m.setattr(jinja2.Environment, "compile", counted("jinja2 compile", jinja2.Environment.compile))
        for prop in ("max_row", "max_column"):
            m.setattr(Worksheet, prop, counted_property(f"Worksheet.{prop}", getattr(Worksheet, prop)))
        m.setattr(Worksheet, "calculate_dimension",
                  counted("Worksheet.calculate_dimension", Worksheet.calculate_dimension))
        m.setattr(ExcelReader, "read", counted("openpyxl load_workbook", ExcelReader.read))
        m.setattr(zipfile.ZipFile, "__init__", zip_open)
        m.setattr(master_read, "read_grids", counted("master reads", master_read.read_grids))
        for fn in (rules_parts.parts_of, rules_parts.part_states):
            _wrap_everywhere(m, fn, counted(f"parts.{fn.__name__}", fn))
        yield counts
    counts["environments"] = render._environment.cache_info().misses


def _run(command: str, master: Path, out: Path) -> Counter[str]:
    with counting(master) as counts:
        if command == "summary":
            s = summary(master, as_of=AS_OF, export=out / "tong_hop.xlsx")
            counts["(overdue listed)"] = len(s.overdue)
        elif command == "briefing":
            res = briefing(master, period=PERIOD, out=out / "giao_ban", as_of=AS_OF)
            counts["(reminders)"] = len(res.reminders)
        else:
            report(master, period=PERIOD, out=out / "bao_cao.docx", as_of=AS_OF)
    return counts


def _constant(counts: dict[int, Counter[str]]) -> list[str]:
    """The watched operations whose count changed with the number of tasks."""
    small, large = counts[SIZES[0]], counts[SIZES[1]]
    return [f"{op}: {small[op]} → {large[op]}" for op in sorted(set(small) | set(large))
            if not op.startswith("(") and small[op] != large[op]]


# What each command may do at any size. One read of the master (calamine) and a few zip opens
# (its kind, its task Table's end); the summary's safe write opens it again to patch and to verify.
# The report compiles its body template and docxtpl's document, headers and properties, once each.
LIMITS = {
    "summary": {"master reads": 1, "parts.parts_of": 1, "parts.part_states": 1, "jinja2 compile": 0},
    "briefing": {"master reads": 1, "parts.parts_of": 1, "parts.part_states": 1, "jinja2 compile": 8,
                 "openpyxl load_workbook": 0, "zip opens of the master": 3},
    "report": {"master reads": 1, "parts.parts_of": 1, "parts.part_states": 1, "jinja2 compile": 12,
               "openpyxl load_workbook": 0, "zip opens of the master": 3},
}


@pytest.mark.parametrize("command", ["summary", "briefing", "report"])
def test_operation_counts_do_not_grow_with_tasks(command: str, masters: dict[int, Path],
                                                  tmp_path: Path) -> None:
    counts = {n: _run(command, masters[n], tmp_path / str(n)) for n in SIZES}
    small, large = counts[SIZES[0]], counts[SIZES[1]]
    # The data did grow: more tasks listed, the same units reminded.
    if command == "summary":
        assert large["(overdue listed)"] > 3 * small["(overdue listed)"] > 0
    if command == "briefing":
        assert small["(reminders)"] == large["(reminders)"] >= 30
    print(command, dict(large))  # the counts, for the record (pytest -s)
    assert not _constant(counts), (command, _constant(counts), small, large)
    for op, most in LIMITS[command].items():
        assert large[op] <= most, (command, op, large)
    for op in ("Worksheet.max_row", "Worksheet.max_column", "Worksheet.calculate_dimension"):
        assert large[op] <= 20, (command, op, large)  # a few while saving, never one per row


def test_the_guard_catches_an_operation_per_row(masters: dict[int, Path], tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A deliberately quadratic export (``max_row`` asked for each cell written, the old bug)."""
    from kehoach_xl.reports import summary as summary_module

    lines = summary_module._lines  # asked for each text cell of the sheet and of the export (row heights)
    sheet = openpyxl.Workbook().active  # the export is written row by row now: a write-only sheet has no max_row

    def lines_asking_max_row(text: str, width: float, bold: bool) -> int:
        sheet.max_row  # noqa: B018 - the regression under test: a full scan per cell
        return lines(text, width, bold)

    monkeypatch.setattr(summary_module, "_lines", lines_asking_max_row)
    counts = {n: _run("summary", masters[n], tmp_path / str(n)) for n in SIZES}
    assert any(c.startswith("Worksheet.max_row") for c in _constant(counts)), counts
