"""Build one unit's workbook (new file, written whole with openpyxl).

One row per part the unit owes (``rules/parts``), chủ trì rows first, each prefilled with the unit's
last report of its own part so units update rather than retype; the task as its lead last reported
it beside, read-only. The hidden signed sheet fingerprints what every input cell held when issued
(``h``): the reader takes a row returned unchanged as no report (``io/submission.read_unitbook``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.pagebreak import Break

from kehoach_xl import vn
from kehoach_xl.model import schema
from kehoach_xl.model.footer import hf
from kehoach_xl.model.master import MasterData
from kehoach_xl.model.part import Part
from kehoach_xl.model.roles import ROLE_STRENGTH, Role
from kehoach_xl.model.unitbook import (
    GUIDE_SHEET,
    HEADER_ROW,
    META_MARK,
    META_SHEET,
    REPORT_SHEET,
    ROLE_HELP,
    ROLE_LABELS,
    UNIT_SHEET,
    editable_fields,
    meta_payload,
)
from kehoach_xl.reports.master_book import BORDER, CENTER, FONT_NAME, HEADER_FILL, HEADER_FONT, WRAP_TOP, new_workbook
from kehoach_xl.rules.assignments import Assignment
from kehoach_xl.rules.derive import is_done
from kehoach_xl.rules.parts import parts_of
from kehoach_xl.rules.safe_cells import put_text
from kehoach_xl.rules.signing import sign, value_hash
from kehoach_xl.text import normalize_text
from kehoach_xl.vn import DATE_FORMAT, parse_period, period_label, period_ym

log = logging.getLogger(__name__)


INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")  # pale yellow: "type here"
CONTEXT_FILL = PatternFill("solid", fgColor="EDEDED")  # grey: read-only context, not the unit's report
CONTEXT_FONT = Font(name=FONT_NAME, sz=10, italic=True, color="404040")
BODY_SIZE = 11
BODY_FONT = Font(name=FONT_NAME, sz=BODY_SIZE)

# Printed widths (Excel character units). Two A4 landscape pages side by side at 100 %: page 1 the
# plan (what the task is, the unit's role, the deadline, the lead's state), page 2 the unit's report;
# the task ID and STT repeat on page 2 so each printed row is found again.
WIDTHS = {"id": 12, "stt": 6, "task": 38, "output": 26, "role": 12, "due_date": 11, "overall": 24,
          "status": 12, "progress": 7, "completed_on": 11, "result": 26, "difficulties": 18, "proposals": 18,
          "contribution": 18}
# What one A4 landscape page holds at 100 % between 0,3" margins, in the same units (measured on
# LibreOffice's PDF: 5 px a unit at 60 dpi).
PAGE_WIDTH = 132
PRINT_TITLE_COLUMNS = "A:B"
REPORT_TITLE = "BÁO CÁO TIẾN ĐỘ THỰC HIỆN KẾ HOẠCH"
PRINT_BREAK_AFTER = "overall"

_LINE_TEXT = re.compile(r"^\[[^\]]*\]\s*(?P<text>.*)$", re.S)


# --- text height -------------------------------------------------------------------------------------

def text_lines(text: Any, width: float, size: float = BODY_SIZE) -> int:
    """Lines ``text`` takes when wrapped in a column ``width`` characters wide at ``size`` pt.

    An estimate on the safe side: a column unit is one digit of the 12 pt default font; Vietnamese
    text in Times New Roman averages a little under a digit a character, and wrapping at word
    boundaries loses part of a word a line.
    """
    s = normalize_text(text, keep_newlines=True) if not isinstance(text, str) else text
    if not s:
        return 1
    per_line = max(1.0, (width - 1.2) * 12.0 / size * 1.15)
    lines = 0
    for para in s.split("\n"):
        words = para.split(" ")
        n, cur = 1, 0
        for w in words:
            need = len(w) if cur == 0 else cur + 1 + len(w)
            if need <= per_line:
                cur = need
            else:
                extra = max(0, math.ceil(len(w) / per_line) - 1)  # a word longer than the line breaks inside
                n += 1 + extra
                cur = len(w) - extra * per_line
        lines += n
    return lines


def row_height(lines: int, size: float = BODY_SIZE) -> float:
    """Points for ``lines`` lines of ``size`` pt text, with the cell's top and bottom padding."""
    return round(lines * size * 1.25 + 5, 1)


# --- the report sheet --------------------------------------------------------------------------------

def _line_text(line: str) -> str:
    m = _LINE_TEXT.match(line or "")
    return m["text"].strip() if m else normalize_text(line)


def _whole(value: float | None) -> float | int | None:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _issued_values(role: str, row: Mapping[str, Any], part: Part | None) -> dict[str, Any]:
    """What the row's input cells hold when issued: the unit's own last report of its part."""
    if role in (Role.LEAD, Role.SYNTH):
        # The task's own columns are this unit's part (the values the master shows, as it shows them).
        return {k: row.get(k) for k in schema.UNIT_FIELDS}
    if part is None:
        return {}
    if role == Role.COORD:
        return {"contribution": _line_text(part.line) or None}
    return {"status": part.status, "progress": _whole(part.progress), "completed_on": part.completed_on,
            "result": part.result or None, "difficulties": part.difficulties or None,
            "proposals": part.proposals or None}


def _overall(row: Mapping[str, Any], owners: Sequence[str]) -> str:
    """The task as its lead (or synthesiser) last reported it: "Văn phòng Sở: Đang thực hiện, 40%"."""
    who = "; ".join(owners) or normalize_text(row.get("lead_units")) or "Đơn vị chủ trì"
    bits = []
    status = normalize_text(row.get("status"))
    if status:
        bits.append(status)
    progress = row.get("progress")
    if isinstance(progress, (int, float)) and not isinstance(progress, bool):
        bits.append(vn.percent(progress))
    done = row.get("completed_on")
    if isinstance(done, (dt.date, dt.datetime)):
        bits.append(f"xong ngày {vn.date(done)}")
    return f"{who}: " + (", ".join(bits) if bits else "chưa báo cáo")


def _deadline(row: Mapping[str, Any]) -> Any:
    due = row.get("due_date")
    if isinstance(due, (dt.date, dt.datetime)):
        return due
    return normalize_text(row.get("deadline_text")) or None


def ordered_items(items: Iterable[Assignment]) -> list[Assignment]:
    """Chủ trì first, then tổng hợp chung, thành viên, phối hợp; in plan order within a role."""
    return sorted(items, key=lambda a: (ROLE_STRENGTH.index(Role(a.role)), a.index))


def _plan_line(md: MasterData) -> str:
    meta = md.settings
    title = normalize_text(meta.get("plan_title"))
    number = normalize_text(meta.get("plan_number"))
    code = normalize_text(meta.get("plan_code"))
    head = f"Kế hoạch số {number}" if number else (f"Kế hoạch {code}" if code else "Kế hoạch")
    return f"{head}: {title}" if title else head


def _plan_short(md: MasterData) -> str:
    number = normalize_text(md.settings.get("plan_number"))
    code = normalize_text(md.settings.get("plan_code"))
    return f"Kế hoạch số {number}" if number else (f"Kế hoạch {code}" if code else "")


def _page_frame(ws: Any, unit: str, period: str, plan_short: str, title: str) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_margins.left = ws.page_margins.right = 0.3
    ws.page_margins.top = 0.7
    ws.page_margins.bottom = 0.6
    ws.page_margins.header = ws.page_margins.footer = 0.25
    ws.HeaderFooter.scaleWithDoc = False
    # Three short parts that never overlap: the plan's number, the title, the unit and period. The
    # plan's full name is the title row on screen and the first line of the instructions.
    ws.oddHeader.left.text = hf(plan_short, 10)
    ws.oddHeader.center.text = hf(title, 11, bold=True)
    ws.oddHeader.right.text = hf(f"{unit} — tháng {period_label(period)}", 10, bold=True)
    ws.oddFooter.center.text = hf("Trang ", 10) + "&P/&N"


def _report_sheet(wb: Any, md: MasterData, unit: str, period: str, rows: list[dict[str, Any]],
                  plan: str, deadline: dt.date) -> None:
    ws = wb.active
    ws.title = REPORT_SHEET
    cols = UNIT_SHEET.columns
    last = get_column_letter(len(cols))
    page1 = sum(WIDTHS[c.key] for c in cols[: UNIT_SHEET.keys.index(PRINT_BREAK_AFTER) + 1])
    heads = [(REPORT_TITLE, 14, True),
             (plan, 12, True),
             (f"Đơn vị: {unit}    Kỳ báo cáo: tháng {period_label(period)}    "
              f"Hạn gửi về Văn phòng Sở: {vn.date(deadline)}", 12, False)]
    for r, (text, size, bold) in enumerate(heads, start=1):
        c = ws.cell(row=r, column=1, value=text)
        c.font = Font(name=FONT_NAME, sz=size, bold=bold)
        c.alignment = Alignment(wrap_text=True, vertical="center")
        # Merged over page 1 only, so the title prints whole on the first page.
        ws.merge_cells(start_row=r, start_column=1, end_row=r,
                       end_column=UNIT_SHEET.keys.index(PRINT_BREAK_AFTER) + 1)
        ws.row_dimensions[r].height = row_height(text_lines(text, page1, size * (1.12 if bold else 1)), size)
    for j, col in enumerate(cols, start=1):
        c = ws.cell(row=HEADER_ROW, column=j, value=col.header)
        c.font, c.fill, c.alignment, c.border = HEADER_FONT, HEADER_FILL, CENTER, BORDER
        ws.column_dimensions[get_column_letter(j)].width = WIDTHS[col.key]
    ws.row_dimensions[HEADER_ROW].height = row_height(
        max(text_lines(c.header, WIDTHS[c.key], 12) for c in cols), 12)
    first = HEADER_ROW + 1
    for r, values in enumerate(rows, start=first):
        editable = set(editable_fields(values["_role"]))
        lines = 1
        for j, col in enumerate(cols, start=1):
            v = values.get(col.key)
            if isinstance(v, str):
                v = normalize_text(v, keep_newlines=True)
            c = put_text(ws.cell(row=r, column=j), v)  # text that looks like a formula stays text
            c.border = BORDER
            c.font = BODY_FONT
            c.alignment = CENTER if col.type in ("date", "percent") or col.key in ("id", "stt") else WRAP_TOP
            if col.type == "date":
                c.number_format = DATE_FORMAT
            elif col.type == "percent":
                c.number_format = "0"
            if col.key in editable:
                c.protection = Protection(locked=False)
                c.fill = INPUT_FILL
            elif col.key == "overall":
                c.fill, c.font = CONTEXT_FILL, CONTEXT_FONT
            if isinstance(v, str):
                size = CONTEXT_FONT.sz if col.key == "overall" else BODY_SIZE
                lines = max(lines, math.ceil(text_lines(v, WIDTHS[col.key], size) * size / BODY_SIZE))
        ws.row_dimensions[r].height = row_height(max(lines, 2))
    end = max(first, first + len(rows) - 1)
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
    ws.freeze_panes = f"D{first}"
    ws.protection.sheet = True
    ws.protection.password = "kehoach"  # a guard against slips, not security: the signature is
    ws.protection.formatRows = False
    ws.protection.formatColumns = False
    ws.protection.formatCells = False
    _page_frame(ws, unit, period, _plan_short(md), REPORT_TITLE)
    # From the header row down: the title rows, merged over page 1, would print cut on page 2; the
    # page header carries the title, the plan, the unit and the period on every page instead.
    ws.print_area = f"A{HEADER_ROW}:{last}{end}"
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.print_title_cols = PRINT_TITLE_COLUMNS
    ws.sheet_properties.pageSetUpPr.fitToPage = False
    ws.page_setup.scale = 100
    ws.page_setup.pageOrder = "overThenDown"  # the plan half, then the report half of the same rows
    ws.col_breaks.append(Break(id=UNIT_SHEET.keys.index(PRINT_BREAK_AFTER) + 1))


# --- the instructions sheet --------------------------------------------------------------------------

GUIDE_WIDTH = 125


def _guide_lines(unit: str, period: str, plan: str, deadline: dt.date,
                 rows: list[dict[str, Any]]) -> list[tuple[str, bool]]:
    roles = [r["_role"] for r in rows]
    counts = ", ".join(f"{roles.count(k)} {ROLE_LABELS[k].lower()}" for k in ROLE_STRENGTH if roles.count(k))
    done = sum(1 for r in rows if r["_done"])
    where = [f"“{ROLE_LABELS[k]}”: {ROLE_HELP[k]}" for k in ROLE_STRENGTH if k in roles]
    return [
        ("HƯỚNG DẪN ĐIỀN BÁO CÁO", True),
        (plan, True),
        (f"Đơn vị: {unit} — Kỳ báo cáo: tháng {period_label(period)} — hạn gửi: {vn.date(deadline)}", True),
        (f"Sheet “{REPORT_SHEET}” liệt kê {len(rows)} phần việc của đơn vị ({counts}); "
         f"{done} phần việc đã báo cáo hoàn thành. Vai trò của đơn vị ở từng dòng: " + "; ".join(where) + ".", False),
        ("1. Các ô nền vàng đã điền sẵn báo cáo gần nhất của đơn vị. Chỉ sửa ô có thay đổi trong kỳ này "
         "(trạng thái, tiến độ, kết quả mới…); ô không đổi thì để nguyên, không cần gõ lại. "
         "Dòng đơn vị không sửa gì được hiểu là kỳ này không có gì mới.", False),
        ("2. Phần việc đã hoàn thành vẫn được liệt kê để đơn vị đính chính khi cần; nếu không có gì "
         "cần sửa thì để nguyên.", False),
        ("3. Dòng “Chủ trì”, “Tổng hợp chung”, “Thành viên”: chọn Trạng thái từ danh sách, Tiến độ (%) là số "
         "từ 0 đến 100, Ngày hoàn thành dạng dd/mm/yyyy khi đã xong; ghi Kết quả thực hiện, Khó khăn, vướng mắc, "
         "Đề xuất, kiến nghị. Dòng “Thành viên” là phần việc của riêng đơn vị trong nhiệm vụ giao chung.", False),
        ("4. Dòng “Phối hợp”: ghi nội dung đơn vị đã phối hợp vào cột “Nội dung phối hợp của đơn vị”.", False),
        ("5. Cột nền xám “Tình hình chung của nhiệm vụ” là báo cáo gần nhất của đơn vị chủ trì (hoặc tổng hợp), "
         "chỉ để tham khảo; chương trình không đọc cột này.", False),
        ("6. Các ô khác được khóa để giữ nguyên nội dung kế hoạch. Không đổi tên sheet, không xóa hoặc đổi tên "
         "cột, không thêm nhiệm vụ mới; không sửa cột Mã nhiệm vụ.", False),
        ("7. Lưu tệp dạng .xlsx (không dùng .xls, không đặt mật khẩu, không chèn macro hay liên kết tới tệp khác) "
         "và giữ nguyên tên tệp khi gửi về Văn phòng Sở.", False),
        ("8. Tệp có chữ ký điện tử ẩn gắn với đơn vị và kỳ báo cáo; tệp sao chép sang đơn vị khác hoặc sửa phần ẩn "
         "sẽ bị trả lại.", False),
        (f"9. Gửi tệp về Văn phòng Sở trước ngày {vn.date(deadline)}.", False),
    ]


def _guide(wb: Any, unit: str, period: str, plan: str, plan_short: str, deadline: dt.date,
           rows: list[dict[str, Any]]) -> None:
    ws = wb.create_sheet(GUIDE_SHEET)
    ws.column_dimensions["A"].width = GUIDE_WIDTH
    for i, (text, bold) in enumerate(_guide_lines(unit, period, plan, deadline, rows), start=1):
        size = 13 if bold else 12
        c = ws.cell(row=i, column=1, value=text)
        c.font = Font(name=FONT_NAME, sz=size, bold=bold)
        c.alignment = Alignment(wrap_text=True, vertical="top")
        # An explicit height per line: a wrapped cell without one prints over the next line.
        # Bold glyphs are wider: count them as a larger size.
        ws.row_dimensions[i].height = row_height(text_lines(text, GUIDE_WIDTH, size * (1.12 if bold else 1)), size) + 4
    _page_frame(ws, unit, period, plan_short, REPORT_TITLE)
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_area = f"A1:A{ws.max_row}"


# --- the signed hidden sheet -------------------------------------------------------------------------

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


def _rows(md: MasterData, unit: str, items: list[Assignment], parts: Sequence[Part]) -> list[dict[str, Any]]:
    mine = {p.task_id: p for p in parts if p.unit == unit}
    owners: dict[str, list[str]] = {}
    for p in parts:
        if p.role in (Role.LEAD, Role.SYNTH):
            owners.setdefault(p.task_id, []).append(p.unit)
    out = []
    for a in ordered_items(items):
        row = md.tasks.rows[a.index]
        part = mine.get(a.task_id)
        values: dict[str, Any] = {k: row.get(k) for k in ("task", "output")}
        # The plan's own numbering (group and STT, "II.9"): STT alone repeats from one group to the next.
        values["stt"] = ".".join(x for x in (normalize_text(row.get("group")), normalize_text(row.get("stt"))) if x)
        values.update(id=a.task_id, role=ROLE_LABELS[a.role], due_date=_deadline(row),
                      overall=_overall(row, owners.get(a.task_id, [])))
        issued = _issued_values(a.role, row, part)
        values.update(issued)
        values["_role"], values["_issued"] = str(a.role), issued
        values["_done"] = is_done(issued.get("status")) if a.role != Role.COORD else False
        out.append(values)
    return out


def build_unitbook(md: MasterData, unit: str, period: str, items: list[Assignment], *, secret: bytes,
                   issued_at: dt.datetime | None = None, parts: Sequence[Part] | None = None) -> Any:
    """The openpyxl workbook for one unit (not saved).

    ``parts``: ``rules.parts.parts_of(md)``, computed once by a caller issuing many units.
    """
    period = parse_period(period)
    issued = (issued_at or dt.datetime.now()).replace(microsecond=0).isoformat()
    rows = _rows(md, unit, items, parts_of(md) if parts is None else parts)
    tasks = [{"id": r["id"], "role": r["_role"],
              "h": {k: value_hash(r["_issued"].get(k)) for k in editable_fields(r["_role"])}} for r in rows]
    payload = meta_payload(unit, period, str(md.settings.get("master_id") or ""),
                           str(md.settings.get("plan_code") or ""), issued, tasks)
    y, m = period_ym(period)
    deadline = dt.date(y + (m == 12), m % 12 + 1, 5)
    plan = _plan_line(md)
    wb = new_workbook()
    _report_sheet(wb, md, unit, period, rows, plan, deadline)
    _guide(wb, unit, period, plan, _plan_short(md), deadline, rows)
    _meta_sheet(wb, payload, sign(payload, secret))
    wb.properties.creator = "kehoach_xl"
    wb.properties.title = f"Báo cáo tháng {period_label(period)} — {unit}"
    return wb
