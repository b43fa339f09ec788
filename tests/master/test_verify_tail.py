"""A write that only appends to a sheet (the log, the history) checks the rows it added from the
sheet's end: the same rows calamine reads, without reading the whole sheet back."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from kehoach_xl.io import _verify
from kehoach_xl.io.master_write import VerifyFailedError, write_master
from kehoach_xl.io.xlsx_package import zip_sheet_map
from kehoach_xl.io.xlsx_tail import TailKeeper, last_used_rows
from kehoach_xl.model import schema
from kehoach_xl.model.changes import MasterChanges
from tests.master.test_master_write import cfg, make_master, status_change

LOG = schema.LOG.name


def _log_part(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        return zip_sheet_map(zf)[1][LOG]


def _keeper(path: Path, part: str) -> TailKeeper:
    keeper = TailKeeper()
    with zipfile.ZipFile(path) as zf, zf.open(part) as fh:
        while chunk := fh.read(1 << 20):
            keeper.feed(chunk)
    return keeper


def _many_writes(tmp_path: Path, n: int) -> Path:
    master = make_master(tmp_path)
    for i in range(n):
        ch = status_change("Đang thực hiện" if i % 2 else "Hoàn thành")
        ch.append(LOG, [dt.datetime(2024, 5, 1 + i % 28, 8), "sửa", "tệp.xlsx", "Văn phòng Sở", f"NV{i}",
                        "Tiến độ (%)", i, 40.5 + i, "  có khoảng trắng  \n dòng hai"])
        write_master(master, ch, action="merge", config=cfg())
    return master


def test_the_last_rows_read_from_the_end_are_the_rows_calamine_reads(tmp_path: Path) -> None:
    master = _many_writes(tmp_path, 6)
    grid = CalamineWorkbook.from_path(str(master)).get_sheet_by_name(LOG).to_python(skip_empty_area=False)
    used = [i + 1 for i, row in enumerate(grid) if any(v not in (None, "") for v in row)]
    keeper = _keeper(master, _log_part(master))
    for k in (1, 3, 8):
        end = last_used_rows(keeper, k)
        assert end is not None
        height, rows = end
        assert height == len(grid)
        for r in used[-k:]:
            got = rows[r]
            want = grid[r - 1]
            assert len(got) <= len(want)
            for c, w in enumerate(want):
                g = got[c] if c < len(got) else None
                assert _verify.same_value(g, w) or _verify.same_value(w, g), (r, c, g, w)


def test_a_write_that_appends_to_the_log_does_not_read_the_log_back_whole(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    master = _many_writes(tmp_path, 3)
    read_whole: list[str] = []
    real = _verify._rows_needed

    def spy(wb, name, changes, *rest):  # noqa: ANN001, ANN002, ANN202
        read_whole.append(name)
        return real(wb, name, changes, *rest)

    monkeypatch.setattr(_verify, "_rows_needed", spy)
    write_master(master, status_change("Hoàn thành", row=3), action="merge", config=cfg())
    assert read_whole == [schema.TASKS.name]  # the changed cell's sheet; the log from its end


def test_an_appended_row_altered_on_disk_is_refused_by_the_tail_check(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from kehoach_xl.io.xlsx_patch import patch_xlsx

    master = _many_writes(tmp_path, 2)

    def lying_patcher(src: Path, dst: Path, changes: MasterChanges, **options):  # noqa: ANN202
        bad = MasterChanges(appends={s: [[*row[:-1], "SAI"] for row in rows] for s, rows in changes.appends.items()})
        return patch_xlsx(src, dst, bad, **options)

    monkeypatch.setattr("kehoach_xl.io.xlsx_patch.patch_xlsx", lying_patcher)
    monkeypatch.setattr(_verify, "_rows_needed", lambda *a: pytest.fail("the tail check should decide"))
    before = master.read_bytes()
    ch = MasterChanges()
    ch.append(LOG, [dt.datetime(2024, 6, 1, 8), "sửa", "", "", "NV1", "", None, "mới", "máy"])
    with pytest.raises(VerifyFailedError, match="dòng thêm"):
        write_master(master, ch, action="merge", config=cfg())
    assert master.read_bytes() == before


def test_what_the_tail_cannot_read_is_left_to_the_whole_read() -> None:
    keeper = TailKeeper()
    ns = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    keeper.feed(b"<worksheet " + ns + b"><sheetData>"
                b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>'  # a shared string: needs the table
                b"</sheetData></worksheet>")
    assert last_used_rows(keeper, 1) is None
    keeper = TailKeeper()
    keeper.feed(b"<worksheet " + ns + b"><sheetData>"
                b'<row r="7"><c r="B7" t="inlineStr"><is><r><t>a</t></r><r><t> b</t></r></is></c>'
                b'<c r="C7" t="b"><v>1</v></c><c r="D7"><v>2.5</v></c><c r="E7" t="str"><v>x</v></c></row>'
                b'<row r="8"/></sheetData></worksheet>')
    assert last_used_rows(keeper, 1) == (8, {8: [], 7: [None, "a b", True, 2.5, "x"]})
    assert last_used_rows(keeper, 2) is None  # fewer used rows than asked: read whole


def test_a_changed_row_is_held_by_its_changed_cells_only(tmp_path: Path) -> None:
    """Above a cleared range the check keeps a changed row's changed cells, not its long texts: at
    50,000 tasks a refresh changes every task row, and holding them whole was the write's peak."""
    from tests.master.test_master_write import STATUS_COL, TASKS

    master = make_master(tmp_path)
    ch = status_change("Hoàn thành")
    wb = CalamineWorkbook.from_path(str(master))
    try:
        grid = _verify._rows_needed(wb, TASKS, ch)
        whole = wb.get_sheet_by_name(TASKS).to_python(skip_empty_area=False)
    finally:
        wb.close()
    row = grid[1]  # Excel row 2, the one changed
    assert len(row) == len(whole[1]) and "Nhiệm vụ số 1" in whole[1]
    assert [c for c, v in enumerate(row, start=1) if v is not None] == [STATUS_COL]
    # A wrong value in the changed cell is still caught.
    bad = MasterChanges()
    bad.set(TASKS, 2, STATUS_COL, "Chưa thực hiện")
    with pytest.raises(VerifyFailedError):
        _verify._check_sheet(grid, TASKS, bad, master.name)


def test_many_appended_rows_are_compared_as_they_stream_not_held(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """More appended rows than the tail check takes (a merge's quarter of a million log rows at 50,000
    tasks) are read back by calamine and compared in a second pass, none of them kept: holding them as
    Python lists was a merge's peak. A row altered on disk is still refused, naming its cell."""
    from kehoach_xl.io.xlsx_patch import patch_xlsx

    master = _many_writes(tmp_path, 2)
    monkeypatch.setattr(_verify, "_TAIL_ROWS_MAX", 0)  # every append goes the calamine way
    grids: list[object] = []
    real = _verify._rows_needed

    def spy(wb, name, changes, *rest):  # noqa: ANN001, ANN002, ANN202
        grid = real(wb, name, changes, *rest)
        grids.append((name, grid))
        return grid

    monkeypatch.setattr(_verify, "_rows_needed", spy)
    ch = MasterChanges()
    for i in range(40):
        ch.append(LOG, [dt.datetime(2024, 6, 1, 8), "sửa", "", "", f"NV{i}", "", None, "mới", "máy"])
    write_master(master, ch, action="merge", config=cfg())
    (name, grid), = grids
    assert name == LOG and grid.appended_checked and len(grid.tail) >= 40  # with the write's own log rows
    assert grid.rows == {}  # compared as they streamed: no appended row held

    def lying_patcher(src: Path, dst: Path, changes: MasterChanges, **options):  # noqa: ANN202
        bad = MasterChanges(appends={s: [*rows[:-1], [*rows[-1][:-1], "SAI"]] for s, rows in changes.appends.items()})
        return patch_xlsx(src, dst, bad, **options)

    monkeypatch.setattr("kehoach_xl.io.xlsx_patch.patch_xlsx", lying_patcher)
    before = master.read_bytes()
    with pytest.raises(VerifyFailedError, match="dòng thêm .*SAI"):
        write_master(master, ch, action="merge", config=cfg())
    assert master.read_bytes() == before
