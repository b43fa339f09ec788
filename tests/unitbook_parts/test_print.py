"""The unit workbook as a clerk prints it (#14): A4 landscape, the plan named, the unit and
"Trang x/y" on every page, row heights that hold long texts, instructions without overlapping lines.
Checked on LibreOffice's PDF: no two words drawn over each other on any page, long texts whole."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook

from kehoach_xl.commands.issue import issue
from kehoach_xl.model.unitbook import GUIDE_SHEET, HEADER_ROW, REPORT_SHEET
from kehoach_xl.reports.unitbook import row_height, text_lines
from tests.helpers import make_sample_master, sample_tasks
from tests.unitbook_parts.helpers import report_rows

LONG_TASK = ("Rà soát, đánh giá toàn bộ quy trình nội bộ giải quyết thủ tục hành chính trong lĩnh vực đất đai, "
             "môi trường, tài nguyên nước và khoáng sản; đề xuất cắt giảm thời gian giải quyết, thành phần hồ sơ, "
             "chi phí tuân thủ; xây dựng quy chế phối hợp giữa các phòng, đơn vị thuộc Sở và với Ủy ban nhân dân "
             "các huyện, thành phố trong tiếp nhận, luân chuyển, giải quyết hồ sơ; công khai kết quả trên Cổng "
             "dịch vụ công và báo cáo định kỳ hằng tháng kết quả thực hiện về Văn phòng Sở kèm số liệu minh chứng "
             "chi tiết cuối cùng")


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("print")
    tasks = sample_tasks()
    tasks[0] = {**tasks[0], "task": LONG_TASK}
    master = make_sample_master(root / "so_theo_doi.xlsx", tasks)
    (path,) = issue(master, period="2024-05", out=root / "gui", units=["Thanh tra Sở"])
    return path


def test_page_setup_names_plan_unit_and_pages(book: Path) -> None:
    wb = load_workbook(book)
    for name in (REPORT_SHEET, GUIDE_SHEET):
        ws = wb[name]
        assert ws.page_setup.orientation == "landscape" and str(ws.page_setup.paperSize) == "9"  # A4
        head = ws.oddHeader.left.text + ws.oddHeader.center.text + ws.oddHeader.right.text
        assert "Kế hoạch số 62/KH-STNMT" in head and "Thanh tra Sở — tháng 05/2024" in head
        assert ws.oddFooter.center.text.endswith("Trang &P/&N")
    ws = wb[REPORT_SHEET]
    assert "Kế hoạch số 62/KH-STNMT: Kế hoạch nâng cao chỉ số" in ws["A2"].value
    assert ws.print_title_rows.replace("$", "") == f"{HEADER_ROW}:{HEADER_ROW}"
    assert ws.print_title_cols.replace("$", "") == "A:B"


def test_row_heights_hold_the_text(book: Path) -> None:
    rows, ws = report_rows(book)
    long = next(r for r in rows if r["task"] == LONG_TASK)
    height = ws.row_dimensions[long["_row"]].height
    width = ws.column_dimensions[long["_cells"]["task"].column_letter].width
    assert height >= row_height(text_lines(LONG_TASK, width)) >= 8 * 11  # eight lines at least, not a fixed 60 pt
    short = min(rows, key=lambda r: len(str(r["task"])))
    assert ws.row_dimensions[short["_row"]].height < height / 2
    guide = load_workbook(book)[GUIDE_SHEET]
    assert all(guide.row_dimensions[r].height for r in range(1, guide.max_row + 1))


def _words(pdf: Path) -> list[list[tuple[float, float, float, float, str]]]:
    xml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    pages = []
    for page in xml.split("<page ")[1:]:
        pages.append([(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', page)])
    return pages


def _overlaps(words: list[tuple[float, float, float, float, str]]) -> list[tuple[str, str]]:
    bad = []
    for i, (x0, y0, x1, y1, w) in enumerate(words):
        for a0, b0, a1, b1, v in words[i + 1:]:
            # side by side and less than 60 % of a line apart: one line drawn over another (the
            # boxes of two lines in a row touch by their ascenders and descenders, so boxes alone do not say)
            near = abs((y0 + y1) - (b0 + b1)) / 2 < 0.6 * min(y1 - y0, b1 - b0)
            if min(x1, a1) - max(x0, a0) > 1.5 and near:
                bad.append((w, v))
    return bad


def test_printed_pages_have_no_text_over_text(book: Path, soffice_convert: Callable[..., Path],
                                              tmp_path: Path) -> None:
    pdf = soffice_convert(book, "pdf", tmp_path)
    pages = _words(pdf)
    n = len(pages)
    assert 3 <= n <= 4  # the report two pages wide (the plan half, the report half), then the instructions
    for k, words in enumerate(pages, start=1):
        assert _overlaps(words) == [], f"page {k}"
        text = " ".join(w for *_, w in words)
        assert f"Trang {k}/{n}" in text and "Thanh tra Sở — tháng 05/2024" in text
    first = " ".join(w for *_, w in pages[0])
    assert " ".join(LONG_TASK.split()) in first  # whole, in reading order
    assert "Nội dung phối hợp" in " ".join(w for *_, w in pages[1])  # every input column on the report half
    assert "HƯỚNG DẪN ĐIỀN BÁO CÁO" in " ".join(w for *_, w in pages[-1])
