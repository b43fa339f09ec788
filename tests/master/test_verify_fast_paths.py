"""The verifier's quicker comparisons still refuse a wrong file.

The check compares a row read back whole first and cell by cell only where it differs, takes a
cell read back as the very value (of its type, or a whole number as a float) as equal without more
ado, finds appended rows and cleared rows among the rows it kept, and checks the zip and XML on a
worker thread while calamine reads the sheets back. Each test below has the patcher write something else than asked on one
of those paths and expects the write refused with the master untouched.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from kehoach_xl.io import _verify
from kehoach_xl.io.master_write import VerifyFailedError, write_master
from kehoach_xl.model import schema
from kehoach_xl.model.changes import MasterChanges
from tests.master.test_master_write import TASKS, cell, cfg, make_master

LOG = schema.LOG.name
PROGRESS_COL = schema.TASKS.keys.index("progress") + 1
TASK_COL = schema.TASKS.keys.index("task") + 1


@pytest.fixture
def master(tmp_path: Path) -> Path:
    return make_master(tmp_path)


def _lie(monkeypatch: pytest.MonkeyPatch, alter: Callable[[MasterChanges], MasterChanges]) -> None:
    from kehoach_xl.io.xlsx_patch import patch_xlsx

    def lying_patcher(src: Path, dst: Path, changes: MasterChanges, **options):  # noqa: ANN202 - writes what alter makes of it
        return patch_xlsx(src, dst, alter(changes), **options)

    monkeypatch.setattr("kehoach_xl.io.xlsx_patch.patch_xlsx", lying_patcher)


def _wrong_values(c: MasterChanges) -> MasterChanges:
    return MasterChanges(cells={s: {k: "SAI" for k in cells} for s, cells in c.cells.items()}, appends=c.appends)


def _refused(master: Path, changes: MasterChanges, match: str) -> None:
    before = master.read_bytes()
    with pytest.raises(VerifyFailedError, match=match):
        write_master(master, changes, action="merge", config=cfg())
    assert master.read_bytes() == before


def _verify_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("kehoach-verify")]


def test_a_number_read_back_as_another_number_is_refused(master: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a whole number written, a number read back: the shortcut for equal values must compare the values.
    ch = MasterChanges()
    ch.set(TASKS, 2, PROGRESS_COL, 40)
    _lie(monkeypatch, lambda c: MasterChanges(cells={s: {k: (v + 1 if type(v) is int else v) for k, v in cells.items()}
                                                     for s, cells in c.cells.items()}, appends=c.appends))
    _refused(master, ch, rf"R2C{PROGRESS_COL} đọc lại là 41(\.0)?, cần 40")


def test_an_honest_write_of_every_kind_of_value_passes(master: Path) -> None:
    ch = MasterChanges()
    ch.set(TASKS, 2, PROGRESS_COL, 40)
    ch.set(TASKS, 3, PROGRESS_COL, 12.5)
    ch.set(TASKS, 4, TASK_COL, "Nhiệm vụ đổi tên")
    ch.set(TASKS, 4, PROGRESS_COL, None)
    write_master(master, ch, action="merge", config=cfg())
    assert cell(master, TASKS, 2, PROGRESS_COL) == 40 and cell(master, TASKS, 3, PROGRESS_COL) == 12.5
    assert cell(master, TASKS, 4, TASK_COL) == "Nhiệm vụ đổi tên" and cell(master, TASKS, 4, PROGRESS_COL) is None


def _log_row(note: str | None) -> list[object]:
    # the layout create_master writes: time, action, file, unit, task, field, old, new, user
    return [dt.datetime(2024, 6, 1, 8), "sửa", None, "Văn phòng Sở", "NV1", None, None, note, "máy"]


@pytest.mark.parametrize("from_the_end", [True, False], ids=["tail check", "calamine read"])
def test_appended_rows_with_empty_cells_pass_and_a_filled_one_is_refused(
        master: Path, monkeypatch: pytest.MonkeyPatch, from_the_end: bool) -> None:
    if not from_the_end:  # the whole-sheet path, as for the night's 50,000 log rows
        monkeypatch.setattr(_verify, "_TAIL_ROWS_MAX", 0)
    ch = MasterChanges()
    for i in range(3):
        ch.append(LOG, _log_row(f"mới {i}"))
    write_master(master, ch, action="merge", config=cfg())  # empty cells read back empty: passes

    def fill_empty(c: MasterChanges) -> MasterChanges:  # the empty "file" cell of each appended log row gets a value
        return MasterChanges(cells=c.cells, appends={s: [["SAI" if j == 2 and v is None else v for j, v in enumerate(row)]
                                                         if s == LOG else row for row in rows]
                                                     for s, rows in c.appends.items()})

    _lie(monkeypatch, fill_empty)
    ch = MasterChanges()
    ch.append(LOG, _log_row("lần hai"))
    _refused(master, ch, "dòng thêm")


def test_appended_rows_the_file_lacks_are_refused(master: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_verify, "_TAIL_ROWS_MAX", 0)  # the whole-sheet path
    _lie(monkeypatch, lambda c: MasterChanges(cells=c.cells))  # nothing appended at all
    ch = MasterChanges()
    ch.append(LOG, _log_row("không có"))
    _refused(master, ch, "dòng thêm|thiếu dòng")


def test_a_cleared_range_the_file_still_holds_is_refused(master: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ch = MasterChanges()
    ch.clear_from[TASKS] = 3  # rows 3.. emptied, row 3 written again
    ch.set(TASKS, 3, TASK_COL, "Giữ lại")
    _lie(monkeypatch, lambda c: MasterChanges(cells=c.cells, appends=c.appends))  # the clear is not done
    _refused(master, ch, "lẽ ra đã được xóa")


def test_an_honest_clear_passes(master: Path) -> None:
    ch = MasterChanges()
    ch.clear_from[TASKS] = 3
    ch.set(TASKS, 3, TASK_COL, "Giữ lại")
    write_master(master, ch, action="merge", config=cfg())
    assert cell(master, TASKS, 3, TASK_COL) == "Giữ lại"
    assert cell(master, TASKS, 4, TASK_COL) is None


def _open_fds() -> int | None:
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None


def test_the_reading_thread_and_file_are_gone_after_a_pass_and_a_refusal(master: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    fds = _open_fds()
    ch = MasterChanges()
    ch.set(TASKS, 2, PROGRESS_COL, 40)
    write_master(master, ch, action="merge", config=cfg())
    assert _verify_threads() == [] and _open_fds() == fds
    _lie(monkeypatch, _wrong_values)
    _refused(master, ch, "đọc lại")
    assert _verify_threads() == [] and _open_fds() == fds
    assert [p.name for p in master.parent.iterdir() if ".tmp-" in p.name] == []


def test_a_broken_structure_is_reported_before_wrong_values(master: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The XML check runs beside the value check; whichever ends first, the structure is named first.
    def not_well_formed(zf, part, keeper=None):  # noqa: ANN001, ANN202
        raise _verify._NotWellFormed(f"{part}: hỏng")

    monkeypatch.setattr(_verify, "_check_well_formed", not_well_formed)
    _lie(monkeypatch, _wrong_values)
    ch = MasterChanges()
    ch.set(TASKS, 2, PROGRESS_COL, 40)
    _refused(master, ch, "cấu trúc tệp")
    assert _verify_threads() == []


def test_a_file_openpyxl_cannot_open_is_reported_before_wrong_values(master: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import openpyxl

    def cannot_open(*_a, **_k):  # noqa: ANN002, ANN003, ANN202
        raise ValueError("hỏng")

    monkeypatch.setattr(openpyxl, "load_workbook", cannot_open)
    _lie(monkeypatch, _wrong_values)
    ch = MasterChanges()
    ch.set(TASKS, 2, PROGRESS_COL, 40)
    _refused(master, ch, "openpyxl không mở được")


def test_an_empty_row_among_the_appended_ones_is_looked_past(master: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The last rows of the sheet then hold fewer used rows than were appended: the check looks further up.
    monkeypatch.setattr(_verify, "_TAIL_ROWS_MAX", 0)  # the whole-sheet path
    ch = MasterChanges()
    for row in (_log_row("trên"), [None] * 9, _log_row("dưới")):
        ch.append(LOG, row)
    write_master(master, ch, action="merge", config=cfg())

    def alter_first(c: MasterChanges) -> MasterChanges:  # the first appended log row (above the empty one) is altered
        rows = [list(r) for r in c.appends[LOG]]
        rows[0][7] = "SAI"
        return MasterChanges(cells=c.cells, appends={**c.appends, LOG: rows})

    _lie(monkeypatch, alter_first)
    _refused(master, ch, "dòng thêm")
