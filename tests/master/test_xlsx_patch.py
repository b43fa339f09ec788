"""The surgical patcher: values, styles, appends, fidelity of untouched bytes."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from kehoach_xl.io.xlsx_cells import clean_text, excel_serial
from kehoach_xl.io.xlsx_diff import changed_rows, diff_packages
from kehoach_xl.io.xlsx_patch import PatchError, _prune_calc_chain, patch_xlsx
from kehoach_xl.io.xlsx_zip import ZipPackage
from kehoach_xl.model.changes import MasterChanges

SHEET = "Nhiệm vụ"
HEADERS = ["Mã nhiệm vụ", "Nhiệm vụ/Hoạt động", "Hạn hoàn thành", "Số ngày còn lại", "Tình trạng thời hạn", "Ghi chú"]


def build(path: Path, n: int = 5, *, table: bool = True, below: str | None = None) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet(SHEET)
    date_fmt = wb.add_format({"num_format": "dd/mm/yyyy", "border": 1})
    text_fmt = wb.add_format({"border": 1, "text_wrap": True})
    num_fmt = wb.add_format({"border": 1, "num_format": "0"})
    for r in range(1, n + 1):
        ws.set_row(r, 30)
        ws.write_string(r, 0, f"NV{r:03d}", text_fmt)
        ws.write_string(r, 1, f"Triển khai nhiệm vụ số {r}", text_fmt)
        ws.write_datetime(r, 2, dt.datetime(2025, 1, r), date_fmt)
        ws.write_formula(r, 3, f"=C{r + 1}-DATE(2025,1,1)", num_fmt, r - 1)
        ws.write_string(r, 4, "Trong hạn", text_fmt)
        ws.write_blank(r, 5, None, text_fmt)
    if table:
        ws.add_table(0, 0, n, len(HEADERS) - 1, {"name": "NhiemVu", "columns": [{"header": h} for h in HEADERS]})
    else:
        for c, h in enumerate(HEADERS):
            ws.write_string(0, c, h)
    if below is not None:
        ws.write_string(n + 1, 0, below)
    ws.freeze_panes(1, 1)
    ws.conditional_format(1, 0, n, 5, {"type": "text", "criteria": "containing", "value": "Quá hạn",
                                       "format": wb.add_format({"bg_color": "#F8CBAD"})})
    other = wb.add_worksheet("Đơn vị")
    other.write_string(0, 0, "Tên đơn vị")
    other.write_string(1, 0, "Sở Tài chính")
    wb.close()
    return path


def sheet_xml(path: Path, part: str = "xl/worksheets/sheet1.xml") -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read(part)


def calamine_rows(path: Path, sheet: str = SHEET) -> list[list]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()


@pytest.fixture()
def master(tmp_path: Path) -> Path:
    return build(tmp_path / "master.xlsx")


def test_cell_values_types_and_styles(master: Path, tmp_path: Path) -> None:
    dst = tmp_path / "out.xlsx"
    ch = MasterChanges()
    ch.set(SHEET, 2, 2, "=HYPERLINK(\"http://x\") & <b> \x07")
    ch.set(SHEET, 2, 4, 17)  # formula cell the program owns -> value
    ch.set(SHEET, 3, 3, dt.date(2026, 2, 28))
    ch.set(SHEET, 3, 4, 2.5)
    ch.set(SHEET, 4, 5, None)
    ch.set(SHEET, 4, 6, True)
    ch.set(SHEET, 5, 5, "  lề trái\nxuống dòng ")
    res = patch_xlsx(master, dst, ch)
    assert res.cells_written == 7
    assert res.changed_parts == ["xl/worksheets/sheet1.xml"]

    wb = openpyxl.load_workbook(dst)
    ws = wb[SHEET]
    assert ws["B2"].value == '=HYPERLINK("http://x") & <b> '
    assert ws["B2"].data_type == "s"
    assert ws["D2"].value == 17 and ws["D2"].data_type == "n"
    assert ws["C3"].value == dt.datetime(2026, 2, 28)
    assert ws["C3"].number_format == "dd/mm/yyyy"
    assert ws["D3"].value == 2.5
    assert ws["E4"].value is None and ws["E4"].border.left.style == "thin"  # style kept
    assert ws["F4"].value is True
    assert ws["E5"].value == "  lề trái\nxuống dòng "
    rows = calamine_rows(dst)
    assert rows[1][1] == '=HYPERLINK("http://x") & <b> '
    assert rows[2][2] == dt.date(2026, 2, 28)
    # The style index of an overwritten cell is kept and no formula is left behind.
    xml = sheet_xml(dst)
    assert b'<c r="D2" s="' in xml and b"<f>C3-DATE" not in xml
    assert re.search(rb'<c r="E5" s="\d+" t="inlineStr"><is><t xml:space="preserve">', xml)


def test_only_touched_rows_differ_and_other_parts_raw_identical(master: Path, tmp_path: Path) -> None:
    dst = tmp_path / "out.xlsx"
    ch = MasterChanges()
    ch.set(SHEET, 3, 5, "Quá hạn")
    ch.set(SHEET, 5, 4, -3)
    patch_xlsx(master, dst, ch)
    d = diff_packages(master, dst)
    assert d.changed == ["xl/worksheets/sheet1.xml"]
    assert d.same_order and not d.added and not d.removed
    assert set(d.raw_identical) == set(ZipPackage.open(master).names()) - {"xl/worksheets/sheet1.xml"}
    assert changed_rows(sheet_xml(master), sheet_xml(dst)) == {3, 5}
    with zipfile.ZipFile(master) as a, zipfile.ZipFile(dst) as b:
        for ia, ib in zip(a.infolist(), b.infolist(), strict=True):
            assert (ia.filename, ia.date_time, ia.compress_type) == (ib.filename, ib.date_time, ib.compress_type)
        assert b.testzip() is None


def test_append_rows_grow_table_and_copy_style(master: Path, tmp_path: Path) -> None:
    dst = tmp_path / "out.xlsx"
    ch = MasterChanges()
    ch.append(SHEET, ["NV006", "Nhiệm vụ mới", dt.date(2025, 3, 1), 10, "Trong hạn", None])
    ch.append(SHEET, ["NV007", "Nhiệm vụ mới 2", None, None, "Quá hạn", "=không phải công thức"])
    res = patch_xlsx(master, dst, ch)
    assert res.rows_appended == {SHEET: 2}
    assert res.changed_parts == ["xl/worksheets/sheet1.xml", "xl/tables/table1.xml"]
    ws = openpyxl.load_workbook(dst)[SHEET]
    assert ws.tables["NhiemVu"].ref == "A1:F8"
    assert ws.tables["NhiemVu"].autoFilter.ref == "A1:F8"
    assert ws["A7"].value == "NV006" and ws["C7"].value == dt.datetime(2025, 3, 1)
    assert ws["C7"].number_format == "dd/mm/yyyy"
    assert ws["F8"].value == "=không phải công thức" and ws["F8"].data_type == "s"
    assert ws["B8"].border.left.style == "thin"  # style of the row above
    assert ws.row_dimensions[8].height == 30
    xml = sheet_xml(dst)
    assert b'<dimension ref="A1:F8"/>' in xml
    # The conditional format laid over the list grows with it (tests/fidelity/test_growth.py).
    assert b'sqref="A2:F8"' in xml
    assert changed_rows(sheet_xml(master).replace(b'sqref="A2:F6"', b'sqref="A2:F8"'), xml) == {7, 8}
    assert calamine_rows(dst)[7][:2] == ["NV007", "Nhiệm vụ mới 2"]


def test_append_never_overwrites_rows_below_the_table(tmp_path: Path) -> None:
    src = build(tmp_path / "below.xlsx", n=3, below="Ghi chú của cán bộ dưới bảng")
    ch = MasterChanges()
    ch.append(SHEET, ["NV004"])
    with pytest.raises(PatchError, match="dòng 5 ngay dưới bảng"):
        patch_xlsx(src, tmp_path / "o.xlsx", ch)


def test_append_fills_empty_table_rows_first(tmp_path: Path) -> None:
    src = build(tmp_path / "pre.xlsx", n=3)
    ch = MasterChanges()
    ch.clear_from[SHEET] = 4  # rows 4.. become empty rows of the Table
    mid = tmp_path / "mid.xlsx"
    patch_xlsx(src, mid, ch)
    ch = MasterChanges()
    ch.append(SHEET, ["NV003b"])
    res = patch_xlsx(mid, tmp_path / "o.xlsx", ch)
    assert res.changed_parts == ["xl/worksheets/sheet1.xml"]  # Table ref unchanged
    assert calamine_rows(tmp_path / "o.xlsx")[3][0] == "NV003b"


def test_append_without_table_goes_after_last_used_row(tmp_path: Path) -> None:
    src = build(tmp_path / "plain.xlsx", n=3, table=False)
    dst = tmp_path / "out.xlsx"
    ch = MasterChanges()
    ch.append(SHEET, ["NV004", "Bốn"])
    patch_xlsx(src, dst, ch)
    rows = calamine_rows(dst)
    assert rows[4][:2] == ["NV004", "Bốn"]
    assert diff_packages(src, dst).changed == ["xl/worksheets/sheet1.xml"]


def test_clear_from_keeps_styles(master: Path, tmp_path: Path) -> None:
    dst = tmp_path / "out.xlsx"
    ch = MasterChanges()
    ch.clear_from[SHEET] = 4
    ch.set(SHEET, 4, 1, "NV-mới")
    patch_xlsx(master, dst, ch)
    ws = openpyxl.load_workbook(dst)[SHEET]
    assert ws["A4"].value == "NV-mới"
    assert ws["B4"].value is None and ws["C6"].value is None and ws["D5"].value is None
    assert ws["B5"].border.left.style == "thin"
    assert ws["B3"].value == "Triển khai nhiệm vụ số 2"


def test_new_cells_and_rows_beyond_data(master: Path, tmp_path: Path) -> None:
    dst = tmp_path / "out.xlsx"
    ch = MasterChanges()
    ch.set(SHEET, 2, 9, "cột mới")  # a cell after the row's last cell
    ch.set(SHEET, 20, 2, 5)  # a row that does not exist
    ch.set(SHEET, 10, 1, dt.datetime(2025, 5, 1, 13, 30))
    patch_xlsx(master, dst, ch)
    ws = openpyxl.load_workbook(dst)[SHEET]
    assert ws["I2"].value == "cột mới" and ws["B20"].value == 5
    assert ws["A10"].value == dt.datetime(2025, 5, 1, 13, 30)
    assert "h" in ws["A10"].number_format
    assert b'<dimension ref="A1:I20"/>' in sheet_xml(dst)


def test_date1904_and_serials() -> None:
    assert excel_serial(dt.date(1900, 3, 1)) == 61
    assert excel_serial(dt.date(2025, 1, 1)) == 45658
    assert excel_serial(dt.datetime(2025, 1, 1, 12)) == 45658.5
    assert excel_serial(dt.date(1904, 1, 2), date1904=True) == 1


def test_refuses_doctype_missing_sheet_and_same_file(master: Path, tmp_path: Path) -> None:
    ch = MasterChanges()
    ch.set("Không có", 1, 1, "x")
    with pytest.raises(PatchError, match="không tìm thấy trang tính"):
        patch_xlsx(master, tmp_path / "o.xlsx", ch)
    with pytest.raises(PatchError):
        patch_xlsx(master, master, MasterChanges())
    evil = tmp_path / "evil.xlsx"
    with zipfile.ZipFile(master) as zin, zipfile.ZipFile(evil, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY a "b">]>', 1)
            zout.writestr(info, data)
    ch = MasterChanges()
    ch.set(SHEET, 2, 1, "x")
    with pytest.raises(PatchError, match="DOCTYPE"):
        patch_xlsx(evil, tmp_path / "o2.xlsx", ch)


def test_shared_formula_master_is_refused(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = SHEET
    wb.save(tmp_path / "s.xlsx")
    src = tmp_path / "shared.xlsx"
    sheet = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
             b'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1"><f t="shared" ref="A1:A2" si="0">B1</f>'
             b'<v>0</v></c></row><row r="2"><c r="A2"><f t="shared" si="0"/><v>0</v></c></row></sheetData>'
             b"</worksheet>")
    with zipfile.ZipFile(tmp_path / "s.xlsx") as zin, zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, sheet if info.filename == "xl/worksheets/sheet1.xml" else zin.read(info))
    ch = MasterChanges()
    ch.set(SHEET, 1, 1, 5)
    with pytest.raises(PatchError, match="shared formula"):
        patch_xlsx(src, tmp_path / "o.xlsx", ch)
    ch.set(SHEET, 2, 1, 6)  # overwriting the whole shared range is fine
    patch_xlsx(src, tmp_path / "o.xlsx", ch)
    assert calamine_rows(tmp_path / "o.xlsx")[1] == [6.0]


def test_prefixed_namespace_sheet(master: Path, tmp_path: Path) -> None:
    """Some generators write <x:row>, <x:c> …: the same edits must work."""
    src = tmp_path / "prefixed.xlsx"
    with zipfile.ZipFile(master) as zin, zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb"<(/?)(?!\?)([A-Za-z]+)\b", rb"<\1x:\2", data)
                data = data.replace(b"xmlns=", b"xmlns:x=", 1)
            zout.writestr(info, data)
    dst = tmp_path / "out.xlsx"
    ch = MasterChanges()
    ch.set(SHEET, 2, 5, "Quá hạn")
    ch.set(SHEET, 3, 9, 3)
    ch.append(SHEET, ["NV009"])
    patch_xlsx(src, dst, ch)
    xml = sheet_xml(dst)
    assert b'<x:c r="E2" s="' in xml and b"<x:is><x:t>Qu" in xml
    ws = openpyxl.load_workbook(dst)[SHEET]
    assert ws["E2"].value == "Quá hạn" and ws["I3"].value == 3 and ws["A7"].value == "NV009"


def test_prune_calc_chain_carries_sheet_index() -> None:
    xml = b'<calcChain><c r="D2" i="1"/><c r="D3"/><c r="D4"/><c r="A1" i="2"/><c r="A2"/></calcChain>'
    out = _prune_calc_chain(xml, "1", {"D2", "D4"})
    assert out == b'<calcChain><c r="D3" i="1"/><c r="A1" i="2"/><c r="A2"/></calcChain>'
    assert _prune_calc_chain(xml, "2", {"A2"}).endswith(b'<c r="A1" i="2"/></calcChain>')


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(min_size=1, max_size=40))
@example(text="dòng 1\r\ndòng 2\r")
@example(text="_x0041_ &amp; ]]> \x00\ud800 ")
def test_any_text_reads_back_as_text(master: Path, tmp_path: Path, text: str) -> None:
    dst = tmp_path / "h.xlsx"
    ch = MasterChanges()
    ch.set(SHEET, 2, 2, text)
    patch_xlsx(master, dst, ch)
    got = calamine_rows(dst)[1][1]
    expected = clean_text(text)
    # Calamine (like Excel) reads back exactly the text written, illegal characters dropped.
    assert got == expected


def test_libreoffice_reads_inline_strings(master: Path, tmp_path: Path, soffice_sheets) -> None:
    dst = tmp_path / "lo.xlsx"
    ch = MasterChanges()
    ch.set(SHEET, 2, 2, "=1+1")
    ch.set(SHEET, 3, 3, dt.date(2026, 12, 31))
    ch.set(SHEET, 4, 4, 42)
    ch.append(SHEET, ["NV006", "Đẩy mạnh chuyển đổi số"])
    patch_xlsx(master, dst, ch)
    rows = soffice_sheets(dst)[SHEET]
    assert rows[1][1] == "=1+1"
    assert rows[2][2] == "31/12/2026"
    assert rows[3][3] == "42"
    assert rows[6][:2] == ["NV006", "Đẩy mạnh chuyển đổi số"]


class _NoSeek:
    """A write-only stream: zipfile then writes data descriptors (flag bit 3)."""

    def __init__(self, fh) -> None:
        self.fh = fh

    def write(self, b: bytes) -> int:
        return self.fh.write(b)

    def flush(self) -> None:
        self.fh.flush()


def _rezip(src: Path, dst: Path, edit=None, extra: dict[str, bytes] | None = None, stream: bool = False) -> Path:
    with zipfile.ZipFile(src) as zin, open(dst, "wb") as fh:
        with zipfile.ZipFile(_NoSeek(fh) if stream else fh, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                data = zin.read(info)
                zout.writestr(info.filename, edit(info.filename, data) if edit else data)
            for name, data in (extra or {}).items():
                zout.writestr(name, data)
    return dst


def test_data_descriptors_are_copied_raw(master: Path, tmp_path: Path) -> None:
    src = _rezip(master, tmp_path / "dd.xlsx", stream=True)
    assert all(i.flag_bits & 0x08 for i in zipfile.ZipFile(src).infolist())
    dst = tmp_path / "out.xlsx"
    ch = MasterChanges()
    ch.set(SHEET, 2, 5, "Quá hạn")
    patch_xlsx(src, dst, ch)
    d = diff_packages(src, dst)
    assert d.changed == ["xl/worksheets/sheet1.xml"] and len(d.raw_identical) == len(ZipPackage.open(src).names()) - 1
    with zipfile.ZipFile(dst) as zf:
        assert zf.testzip() is None
    assert calamine_rows(dst)[1][4] == "Quá hạn"


def test_calc_chain_entry_removed_with_the_formula(master: Path, tmp_path: Path) -> None:
    """Excel keeps xl/calcChain.xml; a cell without a formula must leave it."""
    chain = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<calcChain xmlns="http://schemas.'
             b'openxmlformats.org/spreadsheetml/2006/main"><c r="D2" i="1"/><c r="D3"/><c r="D4"/></calcChain>')

    def edit(name: str, data: bytes) -> bytes:
        if name == "[Content_Types].xml":
            return data.replace(b"</Types>", b'<Override PartName="/xl/calcChain.xml" ContentType="application/'
                                b'vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"/></Types>')
        if name == "xl/_rels/workbook.xml.rels":
            return data.replace(b"</Relationships>", b'<Relationship Id="rId99" Type="http://schemas.openxml'
                                b'formats.org/officeDocument/2006/relationships/calcChain" Target="calcChain.xml"/>'
                                b"</Relationships>")
        return data

    src = _rezip(master, tmp_path / "cc.xlsx", edit, {"xl/calcChain.xml": chain})
    dst = tmp_path / "out.xlsx"
    ch = MasterChanges()
    ch.set(SHEET, 2, 4, 0)
    res = patch_xlsx(src, dst, ch)
    assert res.changed_parts == ["xl/worksheets/sheet1.xml", "xl/calcChain.xml"]
    new_chain = zipfile.ZipFile(dst).read("xl/calcChain.xml")
    assert new_chain.endswith(b'<c r="D3" i="1"/><c r="D4"/></calcChain>')
    assert openpyxl.load_workbook(dst)[SHEET]["D3"].value == "=C3-DATE(2025,1,1)"
