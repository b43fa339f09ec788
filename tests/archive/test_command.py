"""The whole command on a real master: what leaves, what stays, read back by LibreOffice, calamine and openpyxl."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from kehoach_xl.commands.archive import archive, nightly_archive
from kehoach_xl.commands.refresh import refresh
from kehoach_xl.io.archive_book import KEY_HEADER, archive_path
from kehoach_xl.io.master_read import read_grids, read_master
from kehoach_xl.model import schema
from kehoach_xl.model.config import Config
from kehoach_xl.rules.parts import parts_of, task_statuses
from tests.archive.build import AS_OF, used_master

LOG, HIST = schema.LOG.name, schema.HISTORY.name


@pytest.fixture()
def master(tmp_path: Path) -> Path:
    return used_master(tmp_path)


def _rows(path: Path, sheet: str) -> list[list]:
    grid = read_grids(path, [sheet])[sheet]
    return [r for r in grid[1:] if any(v not in (None, "") for v in r)]


def _table_ref(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as z:
        for n in z.namelist():
            if n.startswith("xl/tables/"):
                xml = z.read(n).decode()
                if f'name="{name}"' in xml:
                    return re.search(r'\sref="([^"]+)"', xml).group(1)
    raise AssertionError(name)


def test_archive_moves_old_rows_and_libreoffice_reads_both_files(master, soffice_sheets):
    before_lo = soffice_sheets(master)
    log_before, hist_before = _rows(master, LOG), _rows(master, HIST)
    md = read_master(master)
    statuses_before = task_statuses(md, parts_of(md))

    res = archive(master, as_of=AS_OF)

    # 2024's 144 log rows leave; the undated row, the recent one and the writers' own rows stay.
    assert res.log_archived == 144 and res.history_archived == 6 * 5
    assert res.files == [archive_path(master, 2024)] and res.rows_written == 174 and res.backup is not None
    log_after, hist_after = _rows(master, LOG), _rows(master, HIST)
    assert len(log_after) == len(log_before) - 144 + 1  # + the archive's own log row
    assert log_after[-1][1] == "archive" and "Chuyển 144 dòng nhật ký" in log_after[-1][7]
    assert len(hist_after) == len(hist_before) - 30
    assert any(r[0] == "không rõ ngày" for r in log_after) and any(r[0] == "quý 1" for r in hist_after)
    # The Tables end on the last kept row: no empty tail for Excel to show or to fill.
    assert _table_ref(master, "NhatKy") == f"A1:I{len(log_after) + 1}"
    assert _table_ref(master, "LichSu") == f"A1:K{len(hist_after) + 1}"

    # LibreOffice shows the kept rows exactly as before, packed under the header, in order.
    after_lo = soffice_sheets(master)
    kept_log = [r for r in before_lo[LOG][1:] if not r[0].endswith("/2024") and r[0] and any(r)]
    assert after_lo[LOG][0] == before_lo[LOG][0]
    assert [r for r in after_lo[LOG][1:] if any(r)][:-1] == [r for r in before_lo[LOG][1:] if any(r)
                                                             and not re.search(r"/2024\b", r[0])]
    assert len(kept_log) >= 2
    hist_lo_before = [r for r in before_lo[HIST][1:] if any(r)]
    hist_lo_after = [r for r in after_lo[HIST][1:] if any(r)]
    assert hist_lo_after == [r for r in hist_lo_before if r[0] not in [f"2024-0{m}" for m in range(1, 6)]]
    for sheet in (schema.TASKS.name, schema.PARTS.name, schema.UNITS.name):
        assert after_lo[sheet] == before_lo[sheet]

    # The archive: both sheets, the master's headers plus three, every moved row once, in LibreOffice too.
    book = archive_path(master, 2024)
    arch_lo = soffice_sheets(book)
    assert arch_lo[LOG][0][:9] == before_lo[LOG][0][:9] and arch_lo[LOG][0][9:] == ["Cột khác", KEY_HEADER,
                                                                                 "Ngày chuyển lưu trữ"]
    moved = [r for r in before_lo[LOG][1:] if re.search(r"/2024\b", r[0])]
    assert [r[:9] for r in arch_lo[LOG][1:] if any(r)] == moved
    assert [r[:11] for r in arch_lo[HIST][1:] if any(r)] == [r for r in hist_lo_before if r not in hist_lo_after]
    wb = openpyxl.load_workbook(book, read_only=True)
    assert wb.sheetnames == [LOG, HIST]
    wb.close()

    # Every rule that reads "Lịch sử" answers the same; refresh still runs on the smaller master.
    md2 = read_master(master)
    assert task_statuses(md2, parts_of(md2)) == statuses_before
    refresh(master, as_of=AS_OF)


def test_second_run_archives_nothing(master):
    first = archive(master, as_of=AS_OF)
    assert first.log_archived
    book = archive_path(master, 2024)
    size, data = book.stat().st_size, master.read_bytes()
    again = archive(master, as_of=AS_OF)
    assert (again.log_archived, again.history_archived, again.rows_written) == (0, 0, 0)
    assert "Không có dòng nào cần lưu trữ" in again.message()
    assert master.read_bytes() == data and book.stat().st_size == size


def test_later_run_appends_to_the_year_file(master):
    archive(master, as_of=AS_OF, keep_months=9)  # log from 15/09/2024: 8 months leave
    n1 = len(_rows(archive_path(master, 2024), LOG))
    archive(master, as_of=AS_OF)  # the rest of 2024
    keys = [r[10] for r in _rows(archive_path(master, 2024), LOG)]
    assert n1 == 96 and len(keys) == 144 and len(set(keys)) == 144


def test_dry_run_changes_nothing(master):
    data = master.read_bytes()
    res = archive(master, as_of=AS_OF, dry_run=True)
    assert res.log_archived == 144 and res.dry_run and "Sẽ chuyển" in res.message()
    assert master.read_bytes() == data and not archive_path(master, 2024).exists()


def test_nightly_archives_on_its_day_only(master):
    cfg = Config()
    assert nightly_archive(master, as_of=AS_OF, config=cfg) is None  # the 15th
    res = nightly_archive(master, as_of=AS_OF.replace(day=1), config=cfg)
    assert res is not None and res.log_archived
    cfg.archive.nightly_day = 0
    assert nightly_archive(master, as_of=AS_OF.replace(day=1), config=cfg) is None


def test_cells_in_columns_staff_added_are_kept_or_archived_never_dropped(master):
    wb = openpyxl.load_workbook(master)
    ws = wb[LOG]
    ws.cell(1, 10, "Ghi chú của văn phòng")
    ws.cell(2, 10, "đã kiểm tra")  # a 2024 row: it leaves, its note with it
    ws.cell(ws.max_row + 1, 10, "chỉ ghi ở cột riêng")  # nothing in the program's columns: stays
    wb.save(master)

    archive(master, as_of=AS_OF)

    moved = _rows(archive_path(master, 2024), LOG)
    assert moved[0][9] == "Ghi chú của văn phòng: đã kiểm tra"
    assert all(r[9] in (None, "") for r in moved[1:])
    kept = _rows(master, LOG)
    assert any(len(r) > 9 and r[9] == "chỉ ghi ở cột riêng" for r in kept)
    assert len(kept) == 6  # undated, recent, the two writers' rows, the note-only row and the archive's own


def test_the_nightly_job_archives_after_its_own_write_on_its_day(master):
    from kehoach_xl.commands.nightly import nightly

    (master.parent / "hop_thu").mkdir()
    (master.parent / "kehoach.toml").write_text(f'master = "{master.name}"\ninbox = "hop_thu"\n', encoding="utf-8")
    before = len(_rows(master, LOG))
    rep = nightly(master.parent / "kehoach.toml", as_of=AS_OF, retries=0)  # the 15th: no archive step
    assert "archive" not in [s.step for s in rep.steps]
    rep = nightly(master.parent / "kehoach.toml", as_of=AS_OF.replace(day=1), retries=0)
    step = next(s for s in rep.steps if s.step == "archive")
    assert step.status == "ok" and "Đã chuyển" in step.message, step.message
    assert len(_rows(master, LOG)) < before and archive_path(master, 2024).exists()
