"""A big sheet whose cells only a write set is read back by calamine a slice of rows at a time
(io/xlsx_slices), never whole: the rows are the rows calamine reads whole, a shared string reads as
a mark no written value is, and a changed cell not as written is still refused."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from kehoach_xl.io import _verify
from kehoach_xl.io.master_write import VerifyFailedError, write_master
from kehoach_xl.io.xlsx_package import zip_sheet_map
from kehoach_xl.io.xlsx_slices import SHARED_MARK, SliceUnreadable, sheet_rows
from kehoach_xl.model import schema
from kehoach_xl.model.changes import MasterChanges
from tests.master.test_master_write import cfg, make_master

TASKS = schema.TASKS.name


_INLINE = re.compile(rb'<c([^>]*?) t="inlineStr"><is><t(?:\s[^>]*)?>(.*?)</t></is></c>', re.S)


def with_shared_strings(path: Path) -> Path:
    """``path`` rewritten with every inline string of its sheets in a shared-string table, as Excel
    saves a workbook (this machine's openpyxl writes inline strings)."""
    with zipfile.ZipFile(path) as zf:
        members = {i.filename: zf.read(i.filename) for i in zf.infolist()}
    table: dict[bytes, int] = {}

    def shared(m: re.Match[bytes]) -> bytes:
        return b'<c%s t="s"><v>%d</v></c>' % (m.group(1), table.setdefault(m.group(2), len(table)))

    for name in [n for n in members if n.startswith("xl/worksheets/sheet")]:
        members[name] = _INLINE.sub(shared, members[name])
    members["xl/sharedStrings.xml"] = (
        b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
        b' count="%d" uniqueCount="%d">' % (len(table), len(table))
        + b"".join(b'<si><t xml:space="preserve">%s</t></si>' % t for t in table) + b"</sst>")
    members["[Content_Types].xml"] = members["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    members["xl/_rels/workbook.xml.rels"] = members["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rIdSst" Type="http://schemas.openxmlformats.org/officeDocument/'
        b'2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _book(path: Path, rows: int = 300) -> Path:
    """A sheet as Excel or openpyxl writes it: shared strings, dates, numbers, booleans, gaps."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Dữ liệu"
    for r in range(1, rows + 1):
        if r % 17 == 0:
            continue  # an empty row
        ws.cell(r, 1, f"NV{r}")
        ws.cell(r, 2, r * 1.25)
        ws.cell(r, 3, dt.date(2024, 1, 1) + dt.timedelta(days=r))
        ws.cell(r, 4 + r % 3, "Đang thực hiện" if r % 2 else True)
        if r % 5 == 0:
            ws.cell(r, 9, dt.datetime(2025, 5, 1, 8, 30))
    wb.save(path)
    return with_shared_strings(path)


def _part_and_styles(path: Path, sheet: str) -> tuple[bytes, bytes | None, bool]:
    with zipfile.ZipFile(path) as zf:
        part = zip_sheet_map(zf)[1][sheet]
        styles, date1904 = _verify._styles_and_dates(zf)
        return zf.read(part), styles, date1904


def _pieces(data: bytes, size: int):
    return (data[i : i + size] for i in range(0, len(data), size))


@pytest.mark.parametrize(("piece", "slice_size"), [(13, 200), (1000, 1), (1 << 20, 4 << 20)])
def test_sliced_rows_are_the_rows_calamine_reads_whole(tmp_path: Path, piece: int, slice_size: int) -> None:
    path = _book(tmp_path / "a.xlsx")
    data, styles, date1904 = _part_and_styles(path, "Dữ liệu")
    assert b' t="s"' in data  # the shared strings this test is about
    got = dict(sheet_rows(_pieces(data, piece), styles, date1904, size=slice_size))
    whole = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Dữ liệu").to_python()
    used = {r: row for r, row in enumerate(whole, start=1) if any(v not in ("", None) for v in row)}
    assert set(got) == set(used)
    for r, row in used.items():
        mine = got[r] + [""] * (len(row) - len(got[r]))
        for c, (a, b) in enumerate(zip(mine, row, strict=True), start=1):
            # A shared string reads as the mark (the slice has no string table); everything else as whole.
            assert a == b or (a == SHARED_MARK and isinstance(b, str)), (r, c, a, b)
    assert got[5][2] == dt.date(2024, 1, 6) and got[10][8] == dt.datetime(2025, 5, 1, 8, 30)  # dates stay dates


@pytest.mark.parametrize("xml", [
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row><c r="A1">'
    b"<v>1</v></c></row></sheetData></worksheet>",  # a row without its number
    b'<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>'
    b'<x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c></x:row></x:sheetData></x:worksheet>',  # prefixed
])
def test_what_slices_cannot_read_as_the_whole_read_is_refused(xml: bytes) -> None:
    with pytest.raises(SliceUnreadable):
        list(sheet_rows(_pieces(xml, 50)))


def _sliced_only(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every sheet of cells only is read in slices; the whole read must not be needed."""
    read: list[str] = []
    real = _verify._sliced_check

    def spy(path, part, name, *args):  # noqa: ANN001, ANN202
        read.append(name)
        done = real(path, part, name, *args)
        assert done, "the sliced read should have read it"
        return done

    monkeypatch.setattr(_verify, "_SLICED_FROM", 0)
    monkeypatch.setattr(_verify, "_sliced_check", spy)
    monkeypatch.setattr(_verify, "_rows_needed", lambda *a: pytest.fail("the sliced read should decide"))
    return read


def _task_cells(values: dict[tuple[int, int], object]) -> MasterChanges:
    ch = MasterChanges()
    for (r, c), v in values.items():
        ch.set(TASKS, r, c, v)
    return ch


def test_a_write_of_cells_checks_them_in_slices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    master = make_master(tmp_path)
    read = _sliced_only(monkeypatch)
    opened: list[str] = []
    monkeypatch.setattr(_verify._LazyBook, "_get", lambda self: opened.append("whole") or pytest.fail("opened whole"))
    ch = _task_cells({(2, 2): "Nhiệm vụ đã sửa", (3, 9): 42.5, (4, 12): dt.date(2024, 7, 1), (2, 40): None})
    write_master(master, ch, action="sửa", config=cfg())
    assert read == [TASKS] and opened == []  # the slices only: calamine never took the whole file
    grid = CalamineWorkbook.from_path(str(master)).get_sheet_by_name(TASKS).to_python()
    assert grid[1][1] == "Nhiệm vụ đã sửa" and _verify.same_value(42.5, grid[2][8])  # (a date column)


@pytest.mark.parametrize("wanted", ["mới", None, 7])
def test_a_changed_cell_not_written_is_refused_even_where_a_shared_string_was(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch,
                                                                              wanted: object) -> None:
    """The cell keeps the master's shared string (a writer that skipped it): the slice reads the mark,
    which is no value written, so the write is refused — whether the cell was to hold a text, a
    number or nothing."""
    from kehoach_xl.io.xlsx_patch import patch_xlsx

    master = with_shared_strings(make_master(tmp_path))  # as Excel saves it: the texts in a table
    with zipfile.ZipFile(master) as zf:
        assert zf.read(zip_sheet_map(zf)[1][TASKS]).count(b' t="s"') > 3
    _sliced_only(monkeypatch)

    def lying_patcher(src: Path, dst: Path, changes: MasterChanges, **options):  # noqa: ANN202
        skipped = MasterChanges(cells={s: {k: v for k, v in cells.items() if k != (3, 4)}
                                       for s, cells in changes.cells.items()},
                                appends=changes.appends)
        return patch_xlsx(src, dst, skipped, **options)

    monkeypatch.setattr("kehoach_xl.io.xlsx_patch.patch_xlsx", lying_patcher)
    before = master.read_bytes()
    with pytest.raises(VerifyFailedError, match="R3C4 đọc lại là"):
        write_master(master, _task_cells({(3, 4): wanted, (2, 9): 10}), action="sửa", config=cfg())
    assert master.read_bytes() == before


def test_a_changed_cell_altered_on_disk_is_refused_by_the_sliced_read(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from kehoach_xl.io.xlsx_patch import patch_xlsx

    master = make_master(tmp_path)
    _sliced_only(monkeypatch)

    def lying_patcher(src: Path, dst: Path, changes: MasterChanges, **options):  # noqa: ANN202
        bad = MasterChanges(cells={s: {k: ("SAI" if k == (2, 9) else v) for k, v in cells.items()}
                                   for s, cells in changes.cells.items()}, appends=changes.appends)
        return patch_xlsx(src, dst, bad, **options)

    monkeypatch.setattr("kehoach_xl.io.xlsx_patch.patch_xlsx", lying_patcher)
    before = master.read_bytes()
    with pytest.raises(VerifyFailedError, match="R2C9 đọc lại là 'SAI'"):
        write_master(master, _task_cells({(2, 9): 55.0}), action="sửa", config=cfg())
    assert master.read_bytes() == before


def test_a_slices_workbook_is_a_sound_zip() -> None:
    """The slice's workbook is made by hand, in one join: zipfile reads it back member by member, CRCs checked."""
    import io

    from kehoach_xl.io.xlsx_slices import _package

    rows = '<row r="7"><c r="B7" t="inlineStr"><is><t>Sở</t></is></c></row>'.encode()
    data = _package(b"<worksheet><sheetData>", rows, None, True)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None
        assert zf.namelist()[-1] == "xl/worksheets/sheet1.xml"
        assert zf.read("xl/worksheets/sheet1.xml") == b"<worksheet><sheetData>" + rows + b"</sheetData></worksheet>"
        assert b'date1904="1"' in zf.read("xl/workbook.xml")


def test_a_changed_cell_in_a_row_that_reads_back_empty_is_refused(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The slices never give a row that reads empty: its cells are compared with nothing after the read
    (a cell to be emptied there is right, a value is not)."""
    from kehoach_xl.io.xlsx_patch import patch_xlsx

    master = make_master(tmp_path)
    read = _sliced_only(monkeypatch)
    write_master(master, _task_cells({(300, 2): None, (2, 9): 10}), action="sửa", config=cfg())  # nothing to read
    assert read == [TASKS]

    def lying_patcher(src: Path, dst: Path, changes: MasterChanges, **options):  # noqa: ANN202
        dropped = MasterChanges(cells={s: {k: v for k, v in cells.items() if k[0] != 300}
                                       for s, cells in changes.cells.items()}, appends=changes.appends)
        return patch_xlsx(src, dst, dropped, **options)

    monkeypatch.setattr("kehoach_xl.io.xlsx_patch.patch_xlsx", lying_patcher)
    before = master.read_bytes()
    with pytest.raises(VerifyFailedError, match="R300C2 đọc lại là None, cần 'mất'"):
        write_master(master, _task_cells({(300, 2): "mất", (2, 9): 11}), action="sửa", config=cfg())
    assert master.read_bytes() == before
