"""Masters built by independent writers, carrying what staff put in real masters.

* :func:`build_xlsxwriter_rich` — XlsxWriter: chart, image, text box, comments,
  hyperlink, rich text, merged cells, data validation pointing at another sheet
  (injected as an x14 extension as well, since XlsxWriter writes the plain one),
  data bars and icon sets, sparklines, defined names, a hidden and a protected
  sheet, freeze panes, an autofilter, an Excel Table.
* :func:`build_xlsm_with_button` — XlsxWriter .xlsm with a form button bound to
  a macro. No real vbaProject.bin is available offline, so a stand-in OLE blob
  is embedded: the test only needs it carried through byte for byte.
* :func:`build_libreoffice` — a flat ODS (.fods) written as text with a
  DataPilot (pivot table), converted to .xlsx by LibreOffice headless.
"""

from __future__ import annotations

import datetime as dt
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path

import xlsxwriter

TASKS = "Nhiệm vụ"
UNITS = "Đơn vị"
HEADERS = ["Mã nhiệm vụ", "Nhiệm vụ/Hoạt động", "Đơn vị chủ trì", "Hạn hoàn thành",
           "Trạng thái", "Tiến độ (%)", "Số ngày còn lại", "Tình trạng thời hạn", "Ghi chú"]
UNIT_NAMES = ["Sở Tài chính", "Sở Tư pháp", "Sở Nội vụ", "Sở Công Thương"]
N_TASKS = 8


def tiny_png() -> bytes:
    """A 4×4 red PNG, made here so the corpus needs no binary fixtures."""
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 4 for _ in range(4))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def _task_rows() -> list[list]:
    rows = []
    for i in range(N_TASKS):
        rows.append([f"NV{i + 1:03d}", f"Triển khai nhiệm vụ cải cách hành chính số {i + 1}",
                     UNIT_NAMES[i % len(UNIT_NAMES)], dt.date(2025, 1 + i % 12, 10),
                     "Đang thực hiện", 0.1 * i, 30 - i, "Trong hạn", ""])
    return rows


def _tasks_sheet(wb: xlsxwriter.Workbook, path: Path) -> None:
    ws = wb.add_worksheet(TASKS)
    fmt = wb.add_format({"border": 1, "text_wrap": True, "valign": "top"})
    datef = wb.add_format({"border": 1, "num_format": "dd/mm/yyyy"})
    pct = wb.add_format({"border": 1, "num_format": "0%"})
    for r, row in enumerate(_task_rows(), start=1):
        ws.set_row(r, 28)
        for c, v in enumerate(row):
            if isinstance(v, dt.date):
                ws.write_datetime(r, c, dt.datetime(v.year, v.month, v.day), datef)
            elif c == 5:
                ws.write_number(r, c, v, pct)
            elif c == 6:
                ws.write_formula(r, c, f"=D{r + 1}-DATE(2025,1,1)", fmt, v)
            else:
                ws.write(r, c, v, fmt)
    ws.add_table(0, 0, N_TASKS, len(HEADERS) - 1,
                 {"name": "NhiemVu", "columns": [{"header": h} for h in HEADERS], "style": "Table Style Medium 2"})
    ws.freeze_panes(1, 1)
    ws.data_validation(1, 2, 200, 2, {"validate": "list", "source": f"='{UNITS}'!$A$2:$A$20"})
    ws.data_validation(1, 4, 200, 4, {"validate": "list",
                                      "source": ["Chưa thực hiện", "Đang thực hiện", "Hoàn thành"]})
    ws.conditional_format(1, 5, N_TASKS, 5, {"type": "data_bar", "data_bar_2010": True})
    ws.conditional_format(1, 6, N_TASKS, 6, {"type": "icon_set", "icon_style": "3_traffic_lights"})
    ws.conditional_format(1, 0, N_TASKS, 8, {"type": "formula", "criteria": '=$H2="Quá hạn"',
                                             "format": wb.add_format({"bg_color": "#F8CBAD"})})
    ws.add_sparkline(N_TASKS + 3, 5, {"range": f"'{TASKS}'!F2:F{N_TASKS + 1}", "type": "column"})
    ws.write_comment(1, 0, "Nhiệm vụ trọng tâm — ghi chú của chuyên viên", {"author": "Văn phòng Sở"})
    ws.write_url(N_TASKS + 3, 0, "https://dichvucong.gov.vn", string="Cổng dịch vụ công")
    bold = wb.add_format({"bold": True, "font_color": "red"})
    ws.write_rich_string(N_TASKS + 4, 0, "Lưu ý: ", bold, "không sửa cột ", "tự động")
    ws.merge_range(N_TASKS + 5, 0, N_TASKS + 5, 3, "Ô gộp do cán bộ tạo", fmt)
    ws.insert_textbox(N_TASKS + 7, 1, "Hộp văn bản: ghi chú của lãnh đạo", {"width": 300, "height": 60})
    ws.insert_image(N_TASKS + 7, 5, str(path.with_suffix(".png")))
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"name": "Tiến độ", "categories": [TASKS, 1, 0, N_TASKS, 0],
                      "values": [TASKS, 1, 5, N_TASKS, 5]})
    ws.insert_chart(N_TASKS + 12, 1, chart)


def _other_sheets(wb: xlsxwriter.Workbook) -> None:
    units = wb.add_worksheet(UNITS)
    units.write_row(0, 0, ["Tên đơn vị", "Số nhiệm vụ"])
    for r, name in enumerate(UNIT_NAMES, start=1):
        units.write_row(r, 0, [name, r * 2])
    units.autofilter(0, 0, len(UNIT_NAMES), 1)
    secret = wb.add_worksheet("Ẩn")
    secret.write(0, 0, "trang ẩn")
    secret.hide()
    locked = wb.add_worksheet("Bảo vệ")
    locked.write(0, 0, "trang được bảo vệ")
    locked.protect("matkhau")
    wb.define_name("DanhSachDonVi", f"='{UNITS}'!$A$2:$A$20")
    wb.define_name(f"'{TASKS}'!VungIn", f"='{TASKS}'!$A$1:$I$20")


_X14_DV = (
    b'<ext xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main" '
    b'uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}"><x14:dataValidations count="1" '
    b'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"><x14:dataValidation type="list" '
    b'allowBlank="1" showInputMessage="1" showErrorMessage="1"><x14:formula1><xm:f>DanhSachDonVi</xm:f>'
    b"</x14:formula1><xm:sqref>I2:I200</xm:sqref></x14:dataValidation></x14:dataValidations></ext>"
)


def _inject_x14_validation(path: Path) -> None:
    """Add an x14 data validation (the form Excel uses for some cross-sheet lists)."""
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                assert b"<extLst>" in data
                data = data.replace(b"<extLst>", b"<extLst>" + _X14_DV, 1)
            zout.writestr(info, data)
    tmp.replace(path)


def build_xlsxwriter_rich(path: Path) -> Path:
    path.with_suffix(".png").write_bytes(tiny_png())
    wb = xlsxwriter.Workbook(str(path))
    _tasks_sheet(wb, path)
    _other_sheets(wb)
    wb.close()
    _inject_x14_validation(path)
    return path


def fake_vba_project(path: Path) -> Path:
    """Stand-in for vbaProject.bin: an OLE signature and filler (not a real VBA project)."""
    path.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + bytes(range(256)) * 8)
    return path


def build_xlsm_with_button(path: Path) -> Path:
    assert path.suffix == ".xlsm"
    path.with_suffix(".png").write_bytes(tiny_png())
    wb = xlsxwriter.Workbook(str(path))
    _tasks_sheet(wb, path)
    _other_sheets(wb)
    wb.set_vba_name("ThisWorkbook")
    wb.add_vba_project(str(fake_vba_project(path.with_name("vbaProject.bin"))))
    wb.get_worksheet_by_name(TASKS).insert_button(
        N_TASKS + 3, 8, {"macro": "CapNhat", "caption": "Cập nhật", "width": 120, "height": 30})
    wb.close()
    return path


def _fods(rows: list[list]) -> str:
    def cell(v: object) -> str:
        if isinstance(v, dt.date):
            return (f'<table:table-cell table:style-name="ce_date" office:value-type="date" '
                    f'office:date-value="{v.isoformat()}"><text:p>{v:%d/%m/%Y}</text:p></table:table-cell>')
        if isinstance(v, (int, float)):
            return f'<table:table-cell office:value-type="float" office:value="{v}"><text:p>{v}</text:p></table:table-cell>'
        return f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>'

    body = "".join("<table:table-row>" + "".join(cell(v) for v in r) + "</table:table-row>" for r in rows)
    n = len(rows)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0"
 xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
 office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.spreadsheet">
<office:automatic-styles>
 <number:date-style style:name="N_dmy"><number:day number:style="long"/><number:text>/</number:text>
  <number:month number:style="long"/><number:text>/</number:text><number:year number:style="long"/></number:date-style>
 <style:style style:name="ce_date" style:family="table-cell" style:data-style-name="N_dmy"/>
 <style:style style:name="ro_tall" style:family="table-row"><style:table-row-properties style:row-height="0.8cm"/></style:style>
</office:automatic-styles>
<office:body><office:spreadsheet>
<table:table table:name="{TASKS}">{body}</table:table>
<table:table table:name="Tổng hợp"><table:table-row><table:table-cell/></table:table-row></table:table>
<table:database-ranges><table:database-range table:name="NhiemVuDb" table:target-range-address="'{TASKS}'.A1:'{TASKS}'.I{n}" table:display-filter-buttons="true"/></table:database-ranges>
<table:data-pilot-tables>
 <table:data-pilot-table table:name="BangTongHop" table:target-range-address="'Tổng hợp'.A1:'Tổng hợp'.B8" table:buttons="'Tổng hợp'.A1">
  <table:source-cell-range table:cell-range-address="'{TASKS}'.A1:'{TASKS}'.I{n}"/>
  <table:data-pilot-field table:source-field-name="Đơn vị chủ trì" table:orientation="row" table:used-hierarchy="-1">
   <table:data-pilot-level table:show-empty="false"/></table:data-pilot-field>
  <table:data-pilot-field table:source-field-name="Tiến độ (%)" table:orientation="data" table:function="sum"/>
  <table:data-pilot-field table:source-field-name="" table:is-data-layout-field="true" table:orientation="column"/>
 </table:data-pilot-table>
</table:data-pilot-tables>
</office:spreadsheet></office:body></office:document>
"""


def build_libreoffice(path: Path, soffice: str) -> Path:
    rows = [HEADERS] + _task_rows()
    src = path.with_suffix(".fods")
    src.write_text(_fods(rows), encoding="utf-8")
    profile = path.parent / "lo_profile"
    cmd = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
           "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(path.parent), str(src)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=180)
    out = src.with_suffix(".xlsx")
    if out != path:
        out.replace(path)
    return path
