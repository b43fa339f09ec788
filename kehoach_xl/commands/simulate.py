"""Simulated units filling in their workbooks, for the demo and tests.

Realistic progress text, and with ``mistakes=True`` a few slips staff really make:
percent typed as "80%" or "0,8" or in words, dates typed as text in several forms,
unaccented status, NFD text with a zero-width space, a row for a task that does not
exist, and text starting with "=" or "-" (kept as text).
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from openpyxl import load_workbook

from kehoach_xl.model import schema
from kehoach_xl.model.master import match_headers
from kehoach_xl.model.unitbook import HEADER_ROW, REPORT_SHEET, ROLE_LABELS, UNIT_SHEET

RESULTS = (
    "Đã rà soát {n} thủ tục hành chính, cập nhật quy trình nội bộ lên Cổng dịch vụ công.",
    "Đã ban hành văn bản hướng dẫn; tổ chức {n} cuộc làm việc với doanh nghiệp.",
    "Hoàn thành dự thảo báo cáo, đang xin ý kiến các phòng, đơn vị.",
    "Đã tiếp nhận và giải quyết {n} hồ sơ đúng hạn, không có hồ sơ trễ hạn.",
)
DIFFICULTIES = ("Thiếu nhân lực do cán bộ đi học tập trung.", "Phần mềm một cửa điện tử thường xuyên lỗi kết nối.", None)
PROPOSALS = ("Đề nghị Sở bổ sung kinh phí số hóa hồ sơ.", "Đề nghị gia hạn đến hết quý III.", None)
CONTRIB = ("Đã cung cấp số liệu về hồ sơ đất đai cho đơn vị chủ trì.", "Cử cán bộ tham gia tổ rà soát.",
           "Đã góp ý dự thảo báo cáo bằng văn bản.")


def simulate_unit_submissions(out_dir: Path | str, issued_files: Sequence[Path | str], *, seed: int = 0,
                              mistakes: bool = True) -> list[Path]:
    """Fill each issued workbook as its unit would and save it into ``out_dir``; returns the files."""
    rng = random.Random(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for n_file, src in enumerate(sorted(Path(p) for p in issued_files)):
        wb = load_workbook(src)
        ws = wb[REPORT_SHEET]
        cols, _ = match_headers(UNIT_SHEET, [c.value for c in ws[HEADER_ROW]])
        y, m = (int(x) for x in src.name[:7].split("-"))
        for r in _rows_in_task_order(ws, cols):  # the same draws for the same task whatever the row order
            role = ws.cell(r, cols["role"]).value
            if role == ROLE_LABELS["coord"]:
                ws.cell(r, cols["contribution"]).value = rng.choice(CONTRIB)
                continue
            done = rng.random() < 0.3
            pct = 100 if done else rng.choice((20, 40, 50, 60, 75, 80, 90))
            ws.cell(r, cols["status"]).value = schema.STATUS_DONE if done else schema.STATUS_IN_PROGRESS
            ws.cell(r, cols["progress"]).value = pct
            # rows come prefilled with the unit's last report: a part not done has no completion date
            ws.cell(r, cols["completed_on"]).value = f"{rng.randint(1, 25)}/{m}/{y}" if done else None
            ws.cell(r, cols["result"]).value = rng.choice(RESULTS).format(n=rng.randint(3, 40))
            ws.cell(r, cols["difficulties"]).value = rng.choice(DIFFICULTIES)
            ws.cell(r, cols["proposals"]).value = rng.choice(PROPOSALS)
        if mistakes:
            _mistake(ws, cols, n_file, rng)
        dest = out / src.name
        wb.save(dest)
        written.append(dest)
    return written


def _rows_in_task_order(ws, cols: dict[str, int]) -> list[int]:  # noqa: ANN001
    return sorted(range(HEADER_ROW + 1, ws.max_row + 1), key=lambda r: str(ws.cell(r, cols["id"]).value or ""))


def _mistake(ws, cols: dict[str, int], n: int, rng: random.Random) -> None:  # noqa: ANN001
    roles = {r: ws.cell(r, cols["role"]).value for r in _rows_in_task_order(ws, cols)}
    lead_rows = [r for r, v in roles.items() if v != ROLE_LABELS["coord"]]
    if not lead_rows:
        return
    r = lead_rows[0]
    kind = n % 6
    if kind == 0:
        ws.cell(r, cols["progress"]).value = "80%"
    elif kind == 1:
        ws.cell(r, cols["progress"]).value = "0,8"
        ws.cell(r, cols["status"]).value = "dang thuc hien"
    elif kind == 2:
        ws.cell(r, cols["progress"]).value = "tám mươi"
        ws.cell(r, cols["result"]).value = unicodedata.normalize("NFD", "Đã hoàn thiện\u200b dự thảo quy chế phối hợp.")
    elif kind == 3:
        ws.cell(r, cols["status"]).value = "Hoàn thành"
        ws.cell(r, cols["progress"]).value = 100
        ws.cell(r, cols["completed_on"]).value = "ngày 5 tháng 5 năm 2024" if rng.random() < 2 else None
    elif kind == 4:
        c = ws.cell(r, cols["result"])
        c.value = "- Đã tổ chức 02 hội nghị đối thoại doanh nghiệp"
        c.data_type = "s"  # typed with a leading dash: text, not a formula
        row = ws.max_row + 1
        ws.cell(row, cols["id"]).value = "DDCI2024-999"  # a task the plan does not have
        ws.cell(row, cols["progress"]).value = 50
    else:
        ws.cell(r, cols["completed_on"]).value = "31/02/2024"  # a date that does not exist
        ws.cell(r, cols["status"]).value = "Hoàn thành"
