"""Issue one report workbook per unit for a reporting period.

Who gets which task, and with which role:

* ``lead``   – a unit named as lead: owns the task's unit fields (status, progress …).
* ``member`` – a member unit of a collective lead ("Các phòng, đơn vị", registry kind
  "Nhóm đơn vị"): reports its own part; the merge writes it, attributed, into the
  "Báo cáo của đơn vị phối hợp" column, never into the task's status fields.
* ``synth``  – the unit that synthesises a collective task: the coordinating party whose
  role note says "tổng hợp", or the only coordinating unit. It owns the status fields of
  that task like a lead (the plan makes it "phối hợp và tổng hợp chung").
* ``coord``  – a coordinating unit: reports its contribution, added attributed.

Unit workbooks are new files, so the full writer (openpyxl) is fine here.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from . import schema
from .config import Config, load_config
from .errors import SetupError
from .master import (
    BORDER,
    CENTER,
    DATE_FORMAT,
    FONT_NAME,
    HEADER_FILL,
    HEADER_FONT,
    WRAP_TOP,
    MasterData,
    new_workbook,
    read_master,
)
from .registry import Registry, split_parties
from .rules.period import parse_period, period_label, period_ym
from .safe_cells import put_text
from .signing import sign, value_hash
from .text import normalize_text, slugify

log = logging.getLogger(__name__)

REPORT_SHEET = "Báo cáo"
GUIDE_SHEET = "Hướng dẫn"
META_SHEET = "_kehoach_meta"
META_MARK = "kehoach_xl unit workbook"
FORMAT_VERSION = 1
HEADER_ROW = 4

ROLE_LABELS = {
    "lead": "Chủ trì",
    "synth": "Tổng hợp chung (nhiệm vụ giao các phòng, đơn vị)",
    "member": "Chủ trì phần việc của đơn vị",
    "coord": "Phối hợp",
}
# Roles whose report fills the unit fields of the row (status … proposals).
REPORTING_ROLES = ("lead", "synth", "member")

C = schema.Column
T = schema.TASKS.col
UNIT_SHEET = schema.Sheet(
    key="unit_report",
    name=REPORT_SHEET,
    columns=(
        T("id"), T("stt"), T("task"), T("output"),
        C("role", "Vai trò của đơn vị", width=16, aliases=("Vai trò",)),
        T("deadline_text"), T("due_date"),
        T("status"), T("progress"), T("completed_on"), T("result"), T("difficulties"), T("proposals"),
        C("contribution", "Nội dung phối hợp của đơn vị", width=36, owner="unit",
          aliases=("Nội dung phối hợp", "Báo cáo phối hợp")),
    ),
)
INPUT_FIELDS: tuple[str, ...] = (*schema.UNIT_FIELDS, "contribution")
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")  # pale yellow: "type here"


@dataclass(frozen=True)
class Assignment:
    task_id: str
    index: int  # position in md.tasks.rows
    role: str  # lead | synth | member | coord


def _synthesiser(coord_parties: Sequence[Any], registry: Registry) -> str | None:
    known = [(p, registry.match_unit(p.name).canonical) for p in coord_parties]
    known = [(p, c) for p, c in known if c and not registry.is_group(c)]
    for p, c in known:
        if "tổng hợp" in p.note.casefold():
            return c
    return known[0][1] if len(known) == 1 else None


def assignments(md: MasterData, registry: Registry | None = None) -> dict[str, list[Assignment]]:
    """unit name → its tasks with roles, in task order. Unknown names are logged and skipped."""
    registry = registry or Registry.from_master(md)
    members = registry.member_units()
    out: dict[str, dict[str, Assignment]] = {}

    def add(unit: str, a: Assignment) -> None:
        got = out.setdefault(unit, {})
        # A unit named twice keeps its strongest role (lead > synth > member > coord).
        order = ("lead", "synth", "member", "coord")
        if a.task_id not in got or order.index(a.role) < order.index(got[a.task_id].role):
            got[a.task_id] = a

    for i, row in enumerate(md.tasks.rows):
        tid = normalize_text(row.get("id"))
        if not tid:
            continue
        leads = split_parties(row.get("lead_units"))
        coords = split_parties(row.get("coordinating_units"))
        # "A (chủ trì); B (phối hợp)" in the lead cell: markers win over the column.
        for p in list(leads):
            if p.role == "coord":
                leads.remove(p)
                coords.append(p)
        collective = False
        for p in leads:
            name = registry.match_unit(p.name).canonical
            if name is None:
                log.warning("task %s: unknown lead unit %r skipped", tid, p.name)
            elif registry.is_group(name):
                collective = True
            else:
                add(name, Assignment(tid, i, "lead"))
        synth = _synthesiser(coords, registry) if collective else None
        if collective:
            for m in members:
                if m != synth:
                    add(m, Assignment(tid, i, "member"))
            if synth:
                add(synth, Assignment(tid, i, "synth"))
        for p in coords:
            name = registry.match_unit(p.name).canonical
            if name and not registry.is_group(name) and name != synth:
                add(name, Assignment(tid, i, "coord"))
            elif name and registry.is_group(name):
                for m in members:
                    add(m, Assignment(tid, i, "coord"))
    return {u: sorted(a.values(), key=lambda x: x.index) for u, a in out.items()}


def unitbook_name(unit: str, period: str) -> str:
    """'2024-05_Van_phong_So.xlsx': period first so files sort by month, then the unit, ASCII only."""
    return f"{parse_period(period)}_{slugify(unit, max_len=60)}.xlsx"


def meta_payload(unit: str, period: str, master_id: str, plan_code: str, issued_at: str,
                 tasks: list[dict[str, Any]]) -> dict[str, Any]:
    return {"v": FORMAT_VERSION, "unit": unit, "period": period, "master_id": master_id,
            "plan_code": plan_code, "issued_at": issued_at, "tasks": tasks}


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
    _guide(wb, unit, period, f"7. Gửi tệp về Văn phòng Sở trước ngày {nxt:%d/%m/%Y}.")
    _meta_sheet(wb, payload, sign(payload, secret))
    wb.properties.creator = "kehoach_xl"
    wb.properties.title = f"Báo cáo tháng {period_label(period)} — {unit}"
    return wb


def issue(master: Path | str, *, period: str, out: Path | str, config: Config | None = None,
          units: Sequence[str] | None = None, issued_at: dt.datetime | None = None) -> list[Path]:
    """Write one workbook per unit that leads or coordinates a task; returns the paths written."""
    period = parse_period(period)  # "2024-5" is signed as "2024-05", the form merge and history compare
    master = Path(master)
    cfg = config or load_config(master)
    md = read_master(master)
    if md.tasks.missing:
        raise SetupError(f"Sheet '{schema.TASKS.name}' thiếu cột: {', '.join(md.tasks.missing)}.")
    if not md.settings.get("master_id"):
        log.warning("master %s has no master_id in settings; unit workbooks will carry an empty one", master.name)
    plan = assignments(md)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    wanted = {normalize_text(u) for u in units} if units else None
    written: list[Path] = []
    for unit in sorted(plan):
        if wanted is not None and unit not in wanted:
            continue
        wb = build_unitbook(md, unit, period, plan[unit], secret=cfg.secret, issued_at=issued_at)
        path = out / unitbook_name(unit, period)
        wb.save(path)
        written.append(path)
    return written
