"""Patch masters made by other writers and prove nothing else in them moved.

For each corpus file: apply a change set to the tasks sheet (text, number,
percent, date, a formula cell the program owns, text that looks like a formula,
one appended row), then check that
* every member other than the tasks sheet part and its table part is
  byte-identical, compressed bytes included, in the same order;
* the sheet part differs only inside the touched rows;
* openpyxl and python-calamine read the new values;
* LibreOffice (when installed) opens it and shows the new values.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from kehoach_xl.io.xlsx_diff import changed_rows, diff_packages
from kehoach_xl.io.xlsx_patch import patch_xlsx
from kehoach_xl.model.changes import MasterChanges
from tests.fidelity.builders import (
    N_TASKS,
    TASKS,
    build_libreoffice,
    build_xlsm_with_button,
    build_xlsxwriter_rich,
)

SHEET_PART = "xl/worksheets/sheet1.xml"
TABLE_PART = "xl/tables/table1.xml"
APPENDED = ["NV999", "Nhiệm vụ bổ sung — thêm bởi chương trình", "Sở Tư pháp", dt.date(2025, 12, 31),
            "Chưa thực hiện", 0, None, "Trong hạn", "=ghi chú, không phải công thức"]


def _changes() -> MasterChanges:
    ch = MasterChanges()
    ch.set(TASKS, 3, 5, "Hoàn thành")
    ch.set(TASKS, 3, 6, 1.0)
    ch.set(TASKS, 4, 8, "Quá hạn")
    ch.set(TASKS, 5, 4, dt.date(2026, 6, 30))
    ch.set(TASKS, 6, 9, "+84 912 345 678")
    ch.append(TASKS, APPENDED)
    return ch


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("corpus")
    files = {
        "xlsxwriter": build_xlsxwriter_rich(d / "rich.xlsx"),
        "xlsm": build_xlsm_with_button(d / "nut_bam.xlsm"),
    }
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice:
        files["libreoffice"] = build_libreoffice(d / "libreoffice.xlsx", soffice)
    return files


KINDS = ["xlsxwriter", "xlsm", "libreoffice"]


def _src(corpus: dict[str, Path], kind: str) -> Path:
    if kind not in corpus:
        pytest.skip("LibreOffice (soffice) not installed")
    return corpus[kind]


@pytest.fixture(scope="module")
def patched(corpus: dict[str, Path]) -> dict[str, tuple[Path, Path]]:
    out = {}
    for kind, src in corpus.items():
        dst = src.with_name(src.stem + "_patched" + src.suffix)
        res = patch_xlsx(src, dst, _changes())
        assert res.rows_appended == {TASKS: 1}
        assert res.cells_written == 5 + len(APPENDED)
        out[kind] = (src, dst)
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_untouched_members_are_byte_identical(patched, corpus, kind: str) -> None:
    _src(corpus, kind)
    src, dst = patched[kind]
    d = diff_packages(src, dst)
    assert sorted(d.changed) == sorted([SHEET_PART, TABLE_PART])
    assert d.same_order and not d.added and not d.removed
    with zipfile.ZipFile(src) as zf:
        names = zf.namelist()
    assert sorted(d.raw_identical) == sorted(n for n in names if n not in (SHEET_PART, TABLE_PART))
    with zipfile.ZipFile(dst) as zf:
        assert zf.testzip() is None


def _over_list_grown(xml: bytes) -> bytes:
    """``xml`` with its conditional-format ranges ending at the last task row moved one row down."""
    def grow(m: re.Match[bytes]) -> bytes:
        return m.group(1) + re.sub(rb"([A-Z]+)%d\b" % (N_TASKS + 1), rb"\g<1>%d" % (N_TASKS + 2), m.group(2)) + m.group(3)

    xml = re.sub(rb'(<(?:\w+:)?conditionalFormatting\b[^>]*sqref=")([^"]*)(")', grow, xml)
    return re.sub(rb"(<xm:sqref>)([^<]*)(</xm:sqref>)(?=</x14:conditionalFormatting>)", grow, xml)


@pytest.mark.parametrize("kind", KINDS)
def test_sheet_part_differs_only_in_touched_rows(patched, corpus, kind: str) -> None:
    _src(corpus, kind)
    src, dst = patched[kind]
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst) as b:
        old, new = a.read(SHEET_PART), b.read(SHEET_PART)
        old_t, new_t = a.read(TABLE_PART), b.read(TABLE_PART)
    # Conditional formats laid over the list (rows 2..N_TASKS + 1) grow with the appended row
    # (tests/fidelity/test_growth.py); validations reaching further down stay as they were.
    assert _over_list_grown(old) != old or kind == "libreoffice"  # that corpus file has no format over the list
    assert changed_rows(_over_list_grown(old), new) == {3, 4, 5, 6, N_TASKS + 2}
    # The table grew by exactly the appended row, and nothing else in it changed.
    assert new_t.replace(f"{N_TASKS + 2}\"".encode(), f"{N_TASKS + 1}\"".encode()) == old_t


@pytest.mark.filterwarnings("ignore:.*extension is not supported:UserWarning")
@pytest.mark.parametrize("kind", KINDS)
def test_readers_see_new_values(patched, corpus, kind: str) -> None:
    _src(corpus, kind)
    _, dst = patched[kind]
    ws = openpyxl.load_workbook(dst, keep_vba=dst.suffix == ".xlsm")[TASKS]
    assert ws["E3"].value == "Hoàn thành" and ws["F3"].value == 1
    assert ws["H4"].value == "Quá hạn"
    assert ws["D5"].value == dt.datetime(2026, 6, 30) and "yy" in ws["D5"].number_format
    assert ws["I6"].value == "+84 912 345 678" and ws["I6"].data_type == "s"
    row = N_TASKS + 2
    assert ws.cell(row, 1).value == "NV999"
    assert ws.cell(row, 9).value == APPENDED[8] and ws.cell(row, 9).data_type == "s"
    assert ws.tables[next(iter(ws.tables))].ref.endswith(str(row))
    rows = CalamineWorkbook.from_path(str(dst)).get_sheet_by_name(TASKS).to_python()
    assert rows[2][4] == "Hoàn thành" and rows[3][7] == "Quá hạn"
    assert rows[4][3] == dt.date(2026, 6, 30)
    assert rows[row - 1][:2] == APPENDED[:2] and rows[row - 1][3] == dt.date(2025, 12, 31)


def test_features_still_present(patched) -> None:
    """Spot-check that what openpyxl would drop is still in the patched file."""
    _, dst = patched["xlsxwriter"]
    with zipfile.ZipFile(dst) as zf:
        sheet = zf.read(SHEET_PART)
        names = set(zf.namelist())
    for marker in (b"x14:sparklineGroups", b"x14:dataValidations", b"x14:dataBar", b"iconSet", b"<drawing ",
                   b"<legacyDrawing ", b"<hyperlinks>", b"<mergeCells", b"<pane "):
        assert marker in sheet, marker
    assert {"xl/charts/chart1.xml", "xl/media/image1.png", "xl/comments1.xml"} <= names
    _, xlsm = patched["xlsm"]
    with zipfile.ZipFile(xlsm) as zf:
        assert "xl/vbaProject.bin" in zf.namelist()
        assert b"CapNhat" in zf.read("xl/drawings/vmlDrawing1.vml")


@pytest.mark.parametrize("kind", KINDS)
def test_libreoffice_opens_patched_file(patched, corpus, kind: str, soffice_sheets) -> None:
    _src(corpus, kind)
    _, dst = patched[kind]
    rows = soffice_sheets(dst)[TASKS]
    assert rows[2][4] == "Hoàn thành" and rows[3][7] == "Quá hạn"
    assert rows[4][3] == "30/06/2026"
    assert rows[N_TASKS + 1][0] == "NV999" and rows[N_TASKS + 1][8] == APPENDED[8]
