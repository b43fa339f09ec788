"""One range mapper for both directions: rows appended (the writer) and rows archived away (the trim).

``map_ranges`` finds the ranges laid over a list — in a sheet's XML after ``</sheetData>`` and in a
Table part — and the caller's rule says what becomes of each. The last tests go through both
callers on one real workbook: append with the writer, archive with the trim, and every range is
back where it started.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import PatternFill
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table
from python_calamine import CalamineWorkbook

from kehoach_xl.io.xlsx_ranges import (
    exact_rule,
    grow_range,
    grow_rule,
    map_defined_names,
    map_ranges,
    shrink_range,
    shrink_rule,
)
from kehoach_xl.io.xlsx_sheet import SheetEdit, patch_sheet
from kehoach_xl.io.xlsx_styles import Styles
from kehoach_xl.io.xlsx_trim import TrimError, _trim_part, trim_sheets

# A sheet's tail as Excel writes it: a list A1:K20 (header on row 1) with everything laid over it.
TAIL = (
    b'</sheetData><autoFilter ref="A1:K20"/>'
    b'<mergeCells count="1"><mergeCell ref="M1:N20"/></mergeCells>'
    b'<conditionalFormatting sqref="B2:B20 D2:D20 F5"><cfRule type="expression" dxfId="0" priority="1">'
    b"<formula>B2&gt;0</formula></cfRule></conditionalFormatting>"
    b'<conditionalFormatting sqref="H2:H10"><cfRule type="expression" dxfId="0" priority="2">'
    b"<formula>1</formula></cfRule></conditionalFormatting>"
    b'<dataValidations count="1"><dataValidation type="list" allowBlank="1" sqref="$C$2:$C$20">'
    b"<formula1>\"a,b\"</formula1></dataValidation></dataValidations>"
    b'<extLst><ext uri="{78C0D931-6437-407d-A8EE-F0AAD7539E65}">'
    b'<x14:conditionalFormattings><x14:conditionalFormatting><x14:cfRule type="dataBar" id="{1}"/>'
    b"<xm:sqref>E2:E20</xm:sqref></x14:conditionalFormatting></x14:conditionalFormattings></ext>"
    b'<ext uri="{05C60535-1F16-4fd2-B633-F4F36F0B64E0}"><x14:sparklineGroups><x14:sparklineGroup>'
    b"<x14:sparklines><x14:sparkline><xm:f>Sheet1!A2:K2</xm:f><xm:sqref>L2</xm:sqref></x14:sparkline>"
    b"</x14:sparklines></x14:sparklineGroup></x14:sparklineGroups></ext></extLst></worksheet>"
)
TABLE = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<table xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" id="1" name="NhatKy" '
    b'displayName="NhatKy" ref="A1:K20"><autoFilter ref="A1:K20"/><tableColumns count="1">'
    b'<tableColumn id="1" name="A"/></tableColumns><tableStyleInfo name="TableStyleMedium2"/></table>'
)


def _ranges(xml: bytes) -> list[str]:
    """Every ref/sqref value and x14 sqref text, in document order."""
    return [a.decode() or b.decode() for a, b in re.findall(rb'\b(?:sq)?ref="([^"]*)"|<xm:sqref>([^<]*)<', xml)]


def test_grow_moves_every_range_that_reached_the_list_end_and_nothing_else() -> None:
    out = map_ranges(TAIL, grow_rule(20, 25, 1))
    assert _ranges(out) == [
        "A1:K25",  # sheet autoFilter
        "M1:N20",  # a merge never grows with a list
        "B2:B25 D2:D25 F5",  # each range of an sqref on its own; a single cell below row 2 stays
        "H2:H10",  # ends above the list's end
        "$C$2:$C$25",  # absolute stays absolute
        "E2:E25",  # x14 data bar
        "L2",  # a sparkline's location is not a range over the list
    ]
    assert out.replace(b"25", b"20") == TAIL  # every other byte kept


def test_a_sparkline_location_is_not_a_list_range() -> None:
    one_row = TAIL.replace(b"<xm:sqref>E2:E20</xm:sqref>", b"<xm:sqref>E2</xm:sqref>")
    out = map_ranges(one_row, grow_rule(1, 6, 1))  # a one-row list: its single cells are its columns
    assert b"<xm:sqref>E2:E6</xm:sqref>" in out
    assert b"<xm:sqref>L2</xm:sqref>" in out


def test_shrink_is_the_same_walk_with_the_other_rule() -> None:
    out = map_ranges(TAIL, shrink_rule(20, 7, 1))
    assert _ranges(out) == ["A1:K7", "M1:N20", "B2:B7 D2:D7 F5", "H2:H10", "$C$2:$C$7", "E2:E7", "L2"]
    back = map_ranges(out, grow_rule(7, 20, 1))
    # and back, but for H2:H10: rows 8 to 10 are now appended rows, so it is a range over the list
    assert back == TAIL.replace(b'"H2:H10"', b'"H2:H20"')


def test_nothing_to_move_returns_the_same_bytes() -> None:
    assert map_ranges(TAIL, shrink_rule(20, 20, 1)) == TAIL
    assert map_ranges(TAIL, lambda ref: ref) is not None
    assert map_ranges(b"<dimension ref=\"A1:K20\"/><mergeCell ref=\"A2:K20\"/>", grow_rule(20, 30, 1)) == (
        b"<dimension ref=\"A1:K20\"/><mergeCell ref=\"A2:K20\"/>"  # the used range is each writer's own
    )


def test_table_part_ref_and_its_autofilter_move_together() -> None:
    grown = map_ranges(TABLE, exact_rule("A1:K20", "A1:K25"))
    assert _ranges(grown) == ["A1:K25", "A1:K25"]
    assert b'<tableColumns count="1">' in grown and b'id="1"' in grown
    assert map_ranges(TABLE, grow_rule(20, 25, 1)) == grown  # the same as the list rule for a Table
    shrunk = map_ranges(grown, shrink_rule(25, 3, 1))
    assert _ranges(shrunk) == ["A1:K3", "A1:K3"]
    assert map_ranges(TABLE, exact_rule("A1:K19", "A1:K99")) == TABLE  # another range: untouched


@pytest.mark.parametrize(("ref", "grown"), [
    ("A2:K20", "A2:K30"), ("A1:K20", "A1:K30"),  # reached the last data row
    ("A2:K22", "A2:K30"),  # ended on an empty row the append filled
    ("A2:K19", "A2:K19"), ("A1:K1", "A1:K1"),  # above the end; the header alone
    ("A2:K40", "A2:K40"),  # already further
    ("A2", "A2"),  # one cell of a longer list
])
def test_grow_range(ref: str, grown: str) -> None:
    assert grow_range(ref, 20, 30, 1) == grown


def test_a_one_row_list_grows_from_its_only_cell() -> None:
    assert grow_range("C2", 1, 6, 1) == "C2:C6"
    assert grow_range("$C$2", 2, 6, 1) == "$C$2:$C$6"


@pytest.mark.parametrize(("ref", "shrunk"), [
    ("A2:K20", "A2:K7"), ("A1:K20", "A1:K7"), ("A2:K25", "A2:K7"),  # to the end or past it
    ("A2:K19", "A2:K19"),  # a block above the end
    ("A5:K20", "A5:K20"),  # starts inside the list: not over the whole list
    ("A2:K5", "A2:K5"), ("C2", "C2"),
])
def test_shrink_range(ref: str, shrunk: str) -> None:
    assert shrink_range(ref, 20, 7, 1) == shrunk


WORKBOOK = (
    "<workbook><definedNames>"
    "<definedName name=\"_xlnm._FilterDatabase\" localSheetId=\"0\" hidden=\"1\">'Nhật ký'!$A$1:$K$20</definedName>"
    "<definedName name=\"_xlnm.Print_Area\" localSheetId=\"0\">'Nhật ký'!$A$1:$K$20,'Nhật ký'!$M$1:$N$5</definedName>"
    "<definedName name=\"Khac\">Khac!$A$1:$K$20</definedName>"
    "<definedName name=\"Dem\">COUNTA('Nhật ký'!$B$2:$B$20)+COUNTA('A &amp; B'!$B$2:$B$20)</definedName>"
    "</definedNames></workbook>"
).encode()


def test_defined_names_on_the_sheet_follow_the_list_both_ways() -> None:
    grown = map_defined_names(WORKBOOK, "Nhật ký", grow_rule(20, 25, 1)).decode()
    assert "'Nhật ký'!$A$1:$K$25</definedName>" in grown
    assert "'Nhật ký'!$A$1:$K$25,'Nhật ký'!$M$1:$N$5" in grown  # print area: only the list's block
    assert "Khac!$A$1:$K$20" in grown  # another sheet
    assert "COUNTA('Nhật ký'!$B$2:$B$25)+COUNTA('A &amp; B'!$B$2:$B$20)" in grown  # inside a formula
    assert "'A &amp; B'!$B$2:$B$25" in map_defined_names(WORKBOOK, "A & B", grow_rule(20, 25, 1)).decode()
    assert map_defined_names(grown.encode(), "Nhật ký", shrink_rule(25, 20, 1)) == WORKBOOK
    assert map_defined_names(WORKBOOK, "Khác nữa", grow_rule(20, 25, 1)) is WORKBOOK


# --- through both callers --------------------------------------------------------------------------------

SHEET = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main" '
    b'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
    b'<dimension ref="A1:K20"/><sheetData>'
    + b"".join(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>r%d</t></is></c></row>' % (r, r, r) for r in range(1, 21))
    + TAIL.replace(b"<mergeCells count=\"1\"><mergeCell ref=\"M1:N20\"/></mergeCells>", b"")
)


def test_patch_sheet_grows_the_tail_and_the_dimension() -> None:
    res = patch_sheet(SHEET, SheetEdit(appends=[["x"]] * 5), Styles(None))
    assert res.append_rows == (21, 25)
    xml = res.xml
    assert b'<dimension ref="A1:K25"/>' in xml
    tail = xml[xml.index(b"</sheetData>"):]
    assert _ranges(tail) == ["A1:K25", "B2:B25 D2:D25 F5", "H2:H10", "$C$2:$C$25", "E2:E25", "L2"]


def test_trim_part_shrinks_the_tail_and_the_dimension() -> None:
    chunks, removed, old_last, new_last = _trim_part(SHEET, set(range(14, 21)), 1, "Nhật ký")
    assert (removed, old_last, new_last) == (12, 20, 8)
    xml = b"".join(chunks)
    assert b'<dimension ref="A1:K8"/>' in xml
    tail = xml[xml.index(b"</sheetData>"):]
    assert _ranges(tail) == ["A1:K8", "B2:B8 D2:D8 F5", "H2:H10", "$C$2:$C$8", "E2:E8", "L2"]
    with pytest.raises(TrimError, match="ô gộp"):  # merged cells are anchored to rows: refused
        _trim_part(SHEET.replace(b"</sheetData>", b'</sheetData><mergeCells><mergeCell ref="A2:B2"/></mergeCells>'),
                   {14}, 1, "Nhật ký")


def _workbook(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Nhật ký"
    ws.append([f"Cột {c}" for c in "ABCDE"])
    for r in range(2, 11):
        ws.append([f"k{r}", r, "a", r * 2, "ghi chú"])
    ws.add_table(Table(displayName="NhatKy", ref="A1:E10"))
    ws.conditional_formatting.add("B2:B10", CellIsRule(operator="greaterThan", formula=["5"],
                                                       fill=PatternFill("solid", fgColor="FFC7CE")))
    dv = DataValidation(type="list", formula1='"a,b"', allow_blank=True)
    dv.add("C2:C10")
    ws.add_data_validation(dv)
    ws.print_area = "A1:E10"
    wb.defined_names["DuLieu"] = DefinedName("DuLieu", attr_text="'Nhật ký'!$A$2:$E$10")
    wb.save(path)
    return path


def _refs(path: Path) -> dict[str, list[str]]:
    with zipfile.ZipFile(path) as z:
        sheet, table, book = (z.read(p) for p in ("xl/worksheets/sheet1.xml", "xl/tables/table1.xml", "xl/workbook.xml"))
    names = re.findall(r"<definedName [^>]*>([^<]*)<", book.decode())
    dimension = re.search(rb'<dimension ref="([^"]*)"', sheet)
    assert dimension is not None
    return {"sheet": [dimension.group(1).decode(), *_ranges(sheet[sheet.index(b"</sheetData>"):])],
            "table": _ranges(table), "names": names}


def test_append_then_archive_puts_every_range_back(tmp_path: Path) -> None:
    from kehoach_xl.io.xlsx_patch import patch_xlsx
    from kehoach_xl.model.changes import MasterChanges

    src = _workbook(tmp_path / "so.xlsx")
    before = _refs(src)
    assert before["table"] == ["A1:E10", "A1:E10"]
    ch = MasterChanges()
    for r in range(11, 16):
        ch.append("Nhật ký", [f"k{r}", r, "b", r * 2, "mới"])
    grown = patch_xlsx(src, tmp_path / "grown.xlsx", ch)
    assert "xl/tables/table1.xml" in grown.changed_parts
    after = _refs(tmp_path / "grown.xlsx")
    assert after["table"] == ["A1:E15", "A1:E15"]
    assert after["sheet"] == ["A1:E15", "B2:B15", "C2:C15"]  # dimension, conditional format, validation
    assert "'Nhật ký'!$A$2:$E$15" in after["names"] and "'Nhật ký'!$A$1:$E$15" in after["names"]

    # Archive the five appended rows away again: the trim's rule on the same places.
    res = trim_sheets(tmp_path / "grown.xlsx", tmp_path / "trimmed.xlsx", {"Nhật ký": list(range(2, 11))},
                      header_rows={"Nhật ký": 1})
    assert res.rows_removed == {"Nhật ký": 5} and res.last_row == {"Nhật ký": 10}
    assert _refs(tmp_path / "trimmed.xlsx") == before
    rows = CalamineWorkbook.from_path(str(tmp_path / "trimmed.xlsx")).get_sheet_by_name("Nhật ký").to_python()
    assert [r[0] for r in rows] == ["Cột A"] + [f"k{r}" for r in range(2, 11)]
