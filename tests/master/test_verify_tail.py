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
from kehoach_xl.io.xlsx_appended import AppendedRows
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
    monkeypatch.setattr(_verify, "_many_appends_only", lambda *a: False)  # (not streamed: io/xlsx_appended)
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


# --- many appended rows, compared as the written part streams past (io/xlsx_appended) ------------------

def _streams(monkeypatch: pytest.MonkeyPatch) -> list[AppendedRows]:
    made: list[AppendedRows] = []

    class Spy(AppendedRows):
        def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(_verify, "AppendedRows", Spy)
    monkeypatch.setattr(_verify, "_TAIL_ROWS_MAX", 3)  # more than three appended rows are streamed
    return made


def _log_rows(n: int, text: str = "mới") -> MasterChanges:
    ch = MasterChanges()
    for i in range(n):
        ch.append(LOG, [dt.datetime(2024, 6, 1, 8, i % 60), "sửa", "", "", f"NV{i}", "", i * 0.5, text, "máy"])
    return ch


def test_many_appended_rows_are_compared_as_the_part_streams_past(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A merge's quarter of a million log rows are not read back whole: each is compared with the row
    written as the check's stream passes it, from the first row the writer appended."""
    master = _many_writes(tmp_path, 2)
    made = _streams(monkeypatch)
    monkeypatch.setattr(_verify, "_rows_needed", lambda *a: pytest.fail("the streamed check should decide"))
    # Texts as a reader must give them back: Excel's own escape written literally, markup, CR LF.
    ch = _log_rows(40, "_x0041_ <b>&amp; \r\n dòng hai")
    write_master(master, ch, action="merge", config=cfg())
    (stream,) = made
    assert stream.usable and stream.failure is None and stream.checked == len(stream.want) == 41  # + the write's own
    grid = CalamineWorkbook.from_path(str(master)).get_sheet_by_name(LOG).to_python()
    assert grid[-2][7] == "_x0041_ <b>&amp; \r\n dòng hai"


@pytest.mark.parametrize(("lie", "message"), [
    (lambda rows: [*rows[:-1], [*rows[-1][:-1], "SAI"]], "dòng thêm .*SAI"),  # a value altered
    (lambda rows: rows[:-1], "thiếu 1 dòng được thêm"),  # a row lost
    (lambda rows: [*rows, ["thêm"]], "có giá trị ở dòng"),  # a row no one asked for
])
def test_a_streamed_appended_row_that_is_not_the_one_written_is_refused(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch,
                                                                       lie, message: str) -> None:  # noqa: ANN001
    from kehoach_xl.io.xlsx_patch import patch_xlsx

    master = _many_writes(tmp_path, 2)
    made = _streams(monkeypatch)
    monkeypatch.setattr(_verify, "_rows_needed", lambda *a: pytest.fail("the streamed check should decide"))

    def lying_patcher(src: Path, dst: Path, changes: MasterChanges, **options):  # noqa: ANN202
        return patch_xlsx(src, dst, MasterChanges(appends={s: lie(rows) for s, rows in changes.appends.items()}),
                          **options)

    monkeypatch.setattr("kehoach_xl.io.xlsx_patch.patch_xlsx", lying_patcher)
    before = master.read_bytes()
    with pytest.raises(VerifyFailedError, match=message):
        write_master(master, _log_rows(10), action="merge", config=cfg())
    assert master.read_bytes() == before and len(made) == 1


_NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _sheet(rows: bytes) -> bytes:
    return b"<worksheet " + _NS + b"><sheetData>" + rows + b"</sheetData><pageMargins/></worksheet>"


def _row(r: int, text: str, number: str) -> bytes:
    return (b'<row r="%d" spans="1:2"><c r="A%d" t="inlineStr"><is><t>%s</t></is></c><c r="B%d" s="3"><v>%s</v></c></row>'
            % (r, r, text.encode(), r, number.encode()))


@pytest.mark.parametrize("size", [1, 7, 64, 1 << 20])
def test_the_streamed_rows_are_found_whatever_the_chunks(size: int) -> None:
    """The claimed first row and the end of the rows are found when a chunk splits them; rows above
    the claimed one are not looked at."""
    xml = _sheet(_row(1, "đầu", "1") + _row(2, "cũ", "2") + _row(3, "a", "3.5") + b'<row r="4"/>' + _row(5, "b", "4"))
    seen: list[tuple[int, list[object]]] = []
    stream = AppendedRows(LOG, 3, [["a", 3.5], ["b", 4]], lambda r, got, want: seen.append((r, got)) or None)
    for i in range(0, len(xml), size):
        stream.feed(xml[i:i + size])
    stream.close()
    assert stream.usable and stream.failure is None and stream.checked == 2
    assert seen == [(3, ["a", 3.5]), (5, ["b", 4])]


def test_what_the_stream_cannot_read_is_left_to_the_whole_read() -> None:
    def run(xml: bytes, first: int = 1) -> AppendedRows:
        stream = AppendedRows(LOG, first, [["a"]], lambda *a: None)
        stream.feed(xml)
        stream.close()
        return stream

    assert not run(_sheet(b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>')).usable  # a shared string
    assert not run(_sheet(_row(1, "a", "1")), first=2).usable  # no row numbered as the writer said
    prefixed = (b'<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>'
                b'<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>a</x:t></x:is></x:c></x:row>'
                b"</x:sheetData></x:worksheet>")
    assert not run(prefixed).usable
    assert not run(_sheet(b'<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></c></row>')).usable  # calamine refuses
    ok = run(_sheet(_row(1, "a", "1")))
    assert ok.usable and ok.failure is None and ok.checked == 1


def test_a_text_that_looks_like_excels_escape_reads_back_from_the_tail(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """"_x0041_" typed by a unit is written escaped and read back as typed, by the tail check too."""
    master = _many_writes(tmp_path, 1)
    monkeypatch.setattr(_verify, "_rows_needed", lambda *a: pytest.fail("the tail check should decide"))
    write_master(master, _log_rows(2, "mã _x0041_ và _X00e1_"), action="merge", config=cfg())
    grid = CalamineWorkbook.from_path(str(master)).get_sheet_by_name(LOG).to_python()
    assert grid[-2][7] == "mã _x0041_ và _X00e1_"
