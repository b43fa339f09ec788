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


def unitbook_name(unit: str, period: str) -> str:
    """'2024-05_Van_phong_So.xlsx': period first so files sort by month, then the unit, ASCII only."""
    return f"{parse_period(period)}_{slugify(unit, max_len=60)}.xlsx"


def meta_payload(unit: str, period: str, master_id: str, plan_code: str, issued_at: str,
                 tasks: list[dict[str, Any]]) -> dict[str, Any]:
    return {"v": FORMAT_VERSION, "unit": unit, "period": period, "master_id": master_id,
            "plan_code": plan_code, "issued_at": issued_at, "tasks": tasks}
