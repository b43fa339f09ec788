"""What leadership gets on paper, checked by machine: the demo master and report printed by LibreOffice.

The master's task list and the Word report are converted to PDF and read back with
``pdftotext -bbox-layout``: the smallest printed font on the task pages, every input column
on paper with its header whole, and the report's page numbers (NĐ 30/2020: from page 2,
centred in the top margin, none on page 1).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from kehoach_xl.model import schema

HAVE_TOOLS = bool(shutil.which("soffice") and shutil.which("pdftotext"))
pytestmark = pytest.mark.skipif(
    not HAVE_TOOLS and not os.environ.get("KEHOACH_REQUIRE_SOFFICE"),
    reason="cần LibreOffice (soffice) và poppler-utils (pdftotext)",
)

NS = "{http://www.w3.org/1999/xhtml}"
FOOTER_PT = 11  # the task sheet's footer ("Trang x/y") prints at 11 pt, unscaled


def _pdf(src: Path, work: Path) -> Path:
    prof = work / "lo_profile"
    subprocess.run(["soffice", f"-env:UserInstallation={prof.as_uri()}", "--headless", "--norestore",
                    "--convert-to", "pdf", "--outdir", str(work), str(src)],
                   check=True, capture_output=True, timeout=240)
    return work / (src.stem + ".pdf")


def _pages(pdf: Path) -> list[tuple[float, float, list[tuple[str, float, float, float, float]]]]:
    """(width, height, words (text, xMin, yMin, xMax, yMax)) per page."""
    out = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], check=True, capture_output=True).stdout
    root = ET.fromstring(out)
    pages = []
    for page in root.iter(f"{NS}page"):
        words = [(w.text or "", *(float(w.get(k)) for k in ("xMin", "yMin", "xMax", "yMax")))
                 for w in page.iter(f"{NS}word")]
        pages.append((float(page.get("width")), float(page.get("height")), words))
    return pages


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    from kehoach_xl.commands.demo import demo

    work = tmp_path_factory.mktemp("render")
    res = demo(work / "demo")
    report = next((work / "demo" / "bao_cao").glob("bao_cao_*.docx"))
    yield {"master": _pdf(res.master, work), "report": _pdf(report, work)}


def _task_pages(pdf: Path) -> list[list[tuple[str, float, float, float, float]]]:
    # The task sheet is the only one whose pages carry the header line "… (Kế hoạch số …)".
    pages = [words for _w, _h, words in _pages(pdf)
             if any(t == "Trang" for t, *_ in words) and any(t.startswith("số") for t, *_ in words)
             and any(t == "Mã" for t, *_ in words) and not any(t == "Vai" for t, *_ in words)]  # not "Phần việc"
    assert pages, "không tìm thấy trang in của sheet Nhiệm vụ"
    return pages


def test_task_list_prints_at_9_pt_or_more(demo_files: dict[str, Path]) -> None:
    pages = _task_pages(demo_files["master"])
    # Calibrate word height against the footer's "Trang" (11 pt): height is proportional to size.
    trang = [y1 - y0 for page in pages for t, _x0, y0, _x1, y1 in page if t == "Trang"]
    per_pt = min(trang) / FOOTER_PT
    heights = [y1 - y0 for page in pages for t, _x0, y0, _x1, y1 in page if re.search(r"\w", t)]
    smallest = min(heights) / per_pt
    assert smallest >= 9.0, f"chữ nhỏ nhất trên bản in chỉ {smallest:.1f} pt"


def test_every_input_column_is_on_paper_with_its_header_whole(demo_files: dict[str, Path]) -> None:
    pages = _task_pages(demo_files["master"])
    words = {t for page in pages for t, *_ in page}
    printed = schema.TASKS.columns[: schema.TASKS_PRINT_COLUMNS]
    inputs = [c for c in schema.TASKS.columns if c.owner in ("id", "unit", "plan") and c.key not in (
        # plan columns kept for reference, not filled each month; on screen only (docs/master-format.md)
        "criterion", "output", "group_title", "plan_code", "coordination_reports", "updated_at", "updated_by")]
    assert {c.key for c in inputs} <= {c.key for c in printed}
    assert "proposals" in {c.key for c in inputs}
    for col in printed:
        missing = [w for w in col.header.split() if w not in words]
        assert not missing, f"tiêu đề cột “{col.header}” bị cắt hoặc không in ra: thiếu {missing}"
    # Both halves of a band of rows repeat the plan's numbering and the task text.
    assert all(any(t == "Nhóm" for t, *_ in page) and any(t == "STT" for t, *_ in page) for page in pages)
    assert any(t == "Trang" for page in pages for t, *_ in page)


def test_report_page_numbers_from_page_two_centred_at_top(demo_files: dict[str, Path]) -> None:
    pages = _pages(demo_files["report"])
    assert len(pages) >= 2

    def top_number(width: float, words: list) -> str | None:
        top = [w for w in words if w[2] < 72]  # the top margin area (20 mm) plus the header line
        for t, x0, _y0, x1, _y1 in top:
            if t.isdigit() and abs((x0 + x1) / 2 - width / 2) < 0.1 * width:
                return t
        return None

    assert top_number(pages[0][0], pages[0][2]) is None
    for k, (width, _h, words) in enumerate(pages[1:], start=2):
        assert top_number(width, words) == str(k), f"trang {k} thiếu số trang ở giữa lề trên"
