"""The unit workbook's layout as data: sheets, header row, columns, roles, the signed meta payload."""

from __future__ import annotations

from typing import Any

from kehoach_xl.model import schema
from kehoach_xl.text import slugify
from kehoach_xl.vn import parse_period

REPORT_SHEET = "Báo cáo"


GUIDE_SHEET = "Hướng dẫn"


META_SHEET = "_kehoach_meta"


META_MARK = "kehoach_xl unit workbook"


# 1: members' and coordinators' rows issued blank; only the lead's and synthesiser's rows prefilled.
# 2: every row prefilled with its unit's last report of its own part, a context column (the task's
#    overall state as its lead reported it); ``h`` fingerprints what each row's input cells held when
#    issued, for every role, so a row returned unchanged is no report.
FORMAT_VERSION = 2


HEADER_ROW = 4


ROLE_LABELS = {
    "lead": "Chủ trì",
    "synth": "Tổng hợp chung",
    "member": "Thành viên",
    "coord": "Phối hợp",
}


# What each role means, for the instructions sheet.
ROLE_HELP = {
    "lead": "đơn vị chủ trì nhiệm vụ, báo cáo tình hình chung của nhiệm vụ",
    "synth": "nhiệm vụ giao chung cho các phòng, đơn vị; đơn vị tổng hợp báo cáo chung của nhiệm vụ",
    "member": "nhiệm vụ giao chung cho các phòng, đơn vị; đơn vị báo cáo phần việc của chính mình",
    "coord": "đơn vị phối hợp, ghi nội dung đã phối hợp",
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
        # The deadline as a date, or the plan's words when it has none ("Thường xuyên").
        C("due_date", "Thời hạn", type="date", width=11, aliases=("Hạn hoàn thành",)),
        # Context, read-only and never read back: the task as its lead (or synthesiser) last reported it.
        C("overall", "Tình hình chung của nhiệm vụ (để tham khảo)", width=22,
          aliases=("Tình hình chung của nhiệm vụ",)),
        T("status"), T("progress"), T("completed_on"), T("result"), T("difficulties"), T("proposals"),
        C("contribution", "Nội dung phối hợp của đơn vị", width=36, owner="unit",
          aliases=("Nội dung phối hợp", "Báo cáo phối hợp")),
    ),
)


INPUT_FIELDS: tuple[str, ...] = (*schema.UNIT_FIELDS, "contribution")


# Roles whose rows become one attributed line in the master: the whole row is the report.
LINE_ROLES = ("member", "coord")


# Read-only context columns: shown to the unit, never read back.
CONTEXT_FIELDS: tuple[str, ...] = ("overall",)


def editable_fields(role: str) -> tuple[str, ...]:
    """The input cells of a row the unit of ``role`` fills (yellow, unlocked)."""
    return schema.UNIT_FIELDS if role in REPORTING_ROLES else ("contribution",)


def unitbook_name(unit: str, period: str) -> str:
    """'2024-05_Van_phong_So.xlsx': period first so files sort by month, then the unit, ASCII only."""
    return f"{parse_period(period)}_{slugify(unit, max_len=60)}.xlsx"


def meta_payload(unit: str, period: str, master_id: str, plan_code: str, issued_at: str,
                 tasks: list[dict[str, Any]]) -> dict[str, Any]:
    return {"v": FORMAT_VERSION, "unit": unit, "period": period, "master_id": master_id,
            "plan_code": plan_code, "issued_at": issued_at, "tasks": tasks}
