"""Build one unit's workbook (new file, written whole with openpyxl)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from kehoach_xl import vn
from kehoach_xl.model import schema
from kehoach_xl.model.master import MasterData
from kehoach_xl.model.unitbook import (
    GUIDE_SHEET,
    HEADER_ROW,
    META_MARK,
    META_SHEET,
    REPORT_SHEET,
    REPORTING_ROLES,
    ROLE_LABELS,
    UNIT_SHEET,
    meta_payload,
)
from kehoach_xl.reports.master_book import (
    BORDER,
    CENTER,
    FONT_NAME,
    HEADER_FILL,
    HEADER_FONT,
    WRAP_TOP,
    new_workbook,
)
from kehoach_xl.rules.assignments import Assignment
from kehoach_xl.rules.safe_cells import put_text
from kehoach_xl.rules.signing import sign, value_hash
from kehoach_xl.text import normalize_text
from kehoach_xl.vn import DATE_FORMAT, parse_period, period_label, period_ym

log = logging.getLogger(__name__)


INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")  # pale yellow: "type here"


def _guide(wb: Any, unit: str, period: str, deadline_hint: str) -> None:
    ws = wb.create_sheet(GUIDE_SHEET)
    ws.column_dimensions["A"].width = 110
    lines = [
        ("HƯỚNG DẪN ĐIỀN BÁO CÁO", True),
        (f"Đơn vị: {unit} — Kỳ báo cáo: tháng {period_label(period)}", True),
        ("1. Chỉ điền vào các ô nền vàng ở sheet “Báo cáo”; các ô khác được khóa để giữ nguyên nội dung kế hoạch.", False),
        ("2. Dòng có vai trò “Chủ trì” (hoặc “Tổng hợp chung”, “Chủ trì phần việc của đơn vị”): chọn Trạng thái từ "
         "danh sách, nhập Tiến độ (%) là số từ 0 đến 100, Ngày hoàn thành dạng dd/mm/yyyy khi đã xong, "
         "và ghi Kết quả thực hiện, Khó khăn, vướng mắc, Đề xuất, kiến nghị.", False),
        ("3. Dòng có vai trò “Phối hợp”: ghi nội dung đơn vị đã phối hợp vào cột “Nội dung phối hợp của đơn vị”.", False),
        ("4. Không đổi tên sheet, không xóa hoặc đổi tên cột, không thêm nhiệm vụ mới; không sửa cột Mã nhiệm vụ.", False),
        ("5. Lưu tệp dạng .xlsx (không dùng .xls, không đặt mật khẩu, không chèn macro hay liên kết tới tệp khác) "
         "và giữ nguyên tên tệp khi gửi về Văn phòng Sở.", False),
        ("6. Tệp có chữ ký điện tử ẩn gắn với đơn vị và kỳ báo cáo; tệp sao chép sang đơn vị khác hoặc sửa phần ẩn sẽ bị trả lại.", False),
        (deadline_hint, False),
    ]
    for i, (text, bold) in enumerate(lines, start=1):
        c = ws.cell(row=i, column=1, value=text)
        c.font = Font(name=FONT_NAME, sz=13 if bold else 12, bold=bold)
        c.alignment = Alignment(wrap_text=True, vertical="top")


def _report_sheet(wb: Any, md: MasterData, unit: str, period: str, items: list[Assignment]) -> None:
    ws = wb.active
    ws.title = REPORT_SHEET
    cols = UNIT_SHEET.columns
    last = get_column_letter(len(cols))
    ws["A1"] = "BÁO CÁO TIẾN ĐỘ THỰC HIỆN KẾ HOẠCH"
    ws["A1"].font = Font(name=FONT_NAME, sz=14, bold=True)
    ws["A2"] = f"Đơn vị: {unit}    Kỳ báo cáo: tháng {period_label(period)}"
    ws["A2"].font = Font(name=FONT_NAME, sz=12, bold=True)
    ws.merge_cells(f"A1:{last}1")
    ws.merge_cells(f"A2:{last}2")
    for j, col in enumerate(cols, start=1):
        c = ws.cell(row=HEADER_ROW, column=j, value=col.header)
        c.font, c.fill, c.alignment, c.border = HEADER_FONT, HEADER_FILL, CENTER, BORDER
        ws.column_dimensions[get_column_letter(j)].width = col.width
    ws.row_dimensions[HEADER_ROW].height = 32
    first = HEADER_ROW + 1
    for r, a in enumerate(items, start=first):
        row = md.tasks.rows[a.index]
        values = {k: row.get(k) for k in UNIT_SHEET.keys}
        values["id"] = a.task_id
        values["role"] = ROLE_LABELS[a.role]
        if a.role not in ("lead", "synth"):
            # Members and coordinators report their own part, not the task's current state.
            for k in schema.UNIT_FIELDS:
                values[k] = None
        values["contribution"] = None
        editable = set(schema.UNIT_FIELDS) if a.role in REPORTING_ROLES else {"contribution"}
        for j, col in enumerate(cols, start=1):
            v = values.get(col.key)
            if isinstance(v, str):
                v = normalize_text(v, keep_newlines=True)
            c = put_text(ws.cell(row=r, column=j), v)  # text that looks like a formula stays text
            c.border = BORDER
            c.alignment = CENTER if col.type in ("date", "percent") or col.key in ("id", "stt") else WRAP_TOP
            if col.type == "date":
                c.number_format = DATE_FORMAT
            elif col.type == "percent":
                c.number_format = "0"
            if col.key in editable:
                c.protection = Protection(locked=False)
                c.fill = INPUT_FILL
        ws.row_dimensions[r].height = 60
    end = max(first, first + len(items) - 1)
    letter = {k: get_column_letter(UNIT_SHEET.keys.index(k) + 1) for k in UNIT_SHEET.keys}
    status_dv = DataValidation(type="list", formula1='"' + ",".join(schema.STATUSES) + '"', allow_blank=True,
                               showErrorMessage=True, errorTitle="Trạng thái không hợp lệ",
                               error="Chọn một trong: " + ", ".join(schema.STATUSES) + ".")
    pct_dv = DataValidation(type="decimal", operator="between", formula1="0", formula2="100", allow_blank=True,
                            showErrorMessage=True, error="Tiến độ là số từ 0 đến 100 (không cần dấu %).")
    date_dv = DataValidation(type="date", operator="greaterThan", formula1="36526", allow_blank=True,
                             showErrorMessage=True, error="Nhập ngày dạng dd/mm/yyyy.")
    for dv, key in ((status_dv, "status"), (pct_dv, "progress"), (date_dv, "completed_on")):
        dv.add(f"{letter[key]}{first}:{letter[key]}{end}")
        ws.add_data_validation(dv)
    ws.freeze_panes = f"C{first}"
    ws.protection.sheet = True
    ws.protection.password = "kehoach"  # a guard against slips, not security: the signature is
    ws.protection.formatRows = False
    ws.protection.formatColumns = False
    ws.protection.formatCells = False
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"


def _meta_sheet(wb: Any, payload: dict[str, Any], signature: str) -> None:
    ws = wb.create_sheet(META_SHEET)
    ws["A1"], ws["B1"] = "marker", META_MARK
    head = {k: v for k, v in payload.items() if k != "tasks"}
    ws["A2"], ws["B2"] = "header", json.dumps(head, ensure_ascii=False, sort_keys=True)
    ws["A3"], ws["B3"] = "signature", signature
    # One row per task keeps every cell far below Excel's 32 767-character limit.
    for i, t in enumerate(payload["tasks"], start=4):
        ws.cell(row=i, column=1, value="task")
        ws.cell(row=i, column=2, value=json.dumps(t, ensure_ascii=False, sort_keys=True))
    ws.sheet_state = "veryHidden"
    ws.protection.sheet = True


def build_unitbook(md: MasterData, unit: str, period: str, items: list[Assignment], *, secret: bytes,
                   issued_at: dt.datetime | None = None) -> Any:
    """The openpyxl workbook for one unit (not saved)."""
    period = parse_period(period)
    issued = (issued_at or dt.datetime.now()).replace(microsecond=0).isoformat()
    tasks = []
    for a in items:
        row = md.tasks.rows[a.index]
        tasks.append({"id": a.task_id, "role": a.role,
                      "h": {k: value_hash(row.get(k)) for k in schema.UNIT_FIELDS}})
    payload = meta_payload(unit, period, str(md.settings.get("master_id") or ""),
                           str(md.settings.get("plan_code") or ""), issued, tasks)
    wb = new_workbook()
    _report_sheet(wb, md, unit, period, items)
    y, m = period_ym(period)
    nxt = dt.date(y + (m == 12), m % 12 + 1, 5)
    _guide(wb, unit, period, f"7. Gửi tệp về Văn phòng Sở trước ngày {vn.date(nxt)}.")
    _meta_sheet(wb, payload, sign(payload, secret))
    wb.properties.creator = "kehoach_xl"
    wb.properties.title = f"Báo cáo tháng {period_label(period)} — {unit}"
    return wb
