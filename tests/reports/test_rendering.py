"""What leadership gets on paper, checked by machine: every output of the demo printed by LibreOffice.

The master (all sheets), the exported summary, a unit workbook, the Word report, the briefing
HTML and a reminder are converted to PDF and read back with ``pdftotext -bbox-layout``: the
smallest printed font on the task pages, every input column on paper with its header whole,
the summary's headers whole (no cut cell), the report's page numbers (NĐ 30/2020: from page 2,
centred in the top margin, none on page 1), and no decimal point in a Vietnamese number anywhere.
"""

from __future__ import annotations

import datetime as dt
import email
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from email import policy
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


def _pdf(src: Path, work: Path, *, html: bool = False) -> Path:
    prof = work / "lo_profile"
    extra = ["--infilter=HTML (StarWriter)"] if html else []
    subprocess.run(["soffice", f"-env:UserInstallation={prof.as_uri()}", "--headless", "--norestore", *extra,
                    "--convert-to", "pdf:writer_pdf_Export" if html else "pdf", "--outdir", str(work), str(src)],
                   check=True, capture_output=True, timeout=240)
    return work / (src.stem + ".pdf")


def _text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True).stdout.decode()


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
    out = work / "demo" / "bao_cao"
    report = next(out.glob("bao_cao_*.docx"))
    eml = email.message_from_bytes(sorted((out / "nhac_viec").glob("*.eml"))[0].read_bytes(), policy=policy.default)
    reminder = work / "nhac_viec.html"
    reminder.write_text(eml.get_body(preferencelist=("html",)).get_content(), encoding="utf-8")
    yield {"master": _pdf(res.master, work), "report": _pdf(report, work),
           "summary": _pdf(next(out.glob("tong_hop_*.xlsx")), work),
           "unit": _pdf(sorted((work / "demo" / "gui_don_vi").glob("*.xlsx"))[0], work),
           "briefing": _pdf(next(out.glob("bao_cao_giao_ban_*.html")), work, html=True),
           "reminder": _pdf(reminder, work, html=True)}


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


def test_task_pages_say_the_data_as_of_date_in_vietnamese_format(demo_files: dict[str, Path]) -> None:
    # Not the PC's print date ("&D" printed 12/3/2026 for 3 December under US regional settings):
    # the as-of date of the demo's refresh, dd/mm/yyyy, on every task page.
    from kehoach_xl.commands.demo import DEMO_AS_OF

    wanted = f"Số liệu đến ngày {DEMO_AS_OF:%d/%m/%Y}"
    pages = [p for p in _text(demo_files["master"]).split("\f") if "Trang" in p and "Mã" in p and "Vai" not in p]
    task_pages = [p for p in pages if "Kế hoạch số" in p]
    assert task_pages and all(wanted in " ".join(p.split()) for p in task_pages)
    assert not any("In ngày" in p for p in pages)
    today = dt.date.today()
    us = {f"{today.month}/{today.day}/{today.year}", f"{today:%m/%d/%Y}", f"{today:%m/%d/%y}"}
    assert not any(u in p for p in task_pages for u in us if u != f"{today:%d/%m/%Y}")


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


def _summary_pages(pdf: Path) -> list[list[tuple[str, float, float, float, float]]]:
    pages, on = [], False
    for _w, _h, words in _pages(pdf):
        text = " ".join(t for t, *_ in words)
        if "TỔNG HỢP TÌNH HÌNH" in text:
            on = True
        elif on and ("KẾT QUẢ KIỂM TRA" in text or not any(t == "Trang" for t, *_ in words)):
            break
        if on:
            pages.append(words)
    assert pages, "không tìm thấy trang in của sheet Tổng hợp"
    return pages


def _cut_headers(headers: list[str], pages: list[list[tuple[str, float, float, float, float]]]) -> list[str]:
    """Header cells printed cut: on a header row (a line where three or more headers start), each cell
    starting with a header's first two words must show every word of one of the headers that start
    so, within a cell's reach below and right of its first word. A cut cell loses its last lines
    ("Tổng số nhiệm") or prints half a word ("Hoàn thành đú"). Returns what was cut, as printed."""
    starts = {h.split()[0] for h in headers}
    cut = []
    for words in pages:
        lines: dict[int, set[str]] = {}
        for t, _x0, y0, _x1, _y1 in words:
            if t in starts:
                lines.setdefault(round(y0), set()).add(t)
        header_ys = [y for y, firsts in lines.items() if len(firsts) >= 3]
        for t, x0, y0, _x1, _y1 in words:
            if t not in starts or not any(abs(y0 - y) <= 1 for y in header_ys):
                continue
            near = [(wy, wx, w) for w, wx, wy, _a, _b in words if -45 <= wx - x0 <= 90 and -2 <= wy - y0 <= 50]
            names = {w for _y, _x, w in near}
            family = [h for h in headers if h.split()[:2] == [t, *[w for w in h.split()[1:2] if w in names]]
                      and len(h.split()) > 1]
            if family and not any(all(w in names for w in h.split()) for h in family):
                cut.append(" ".join(w for _y, _x, w in sorted(near)[:6]))
    return cut


@pytest.mark.parametrize("which", ["master", "summary"])
def test_summary_headers_are_printed_whole(demo_files: dict[str, Path], which: str) -> None:
    from kehoach_xl.reports.summary import PARTS_HEADERS, TALLY_HEADERS, UNIT_TALLY_HEADERS

    pages = _summary_pages(demo_files[which])
    shown = [*UNIT_TALLY_HEADERS, *TALLY_HEADERS, *PARTS_HEADERS]
    cut = _cut_headers(list(dict.fromkeys(shown)), pages)
    assert not cut, f"tiêu đề bị cắt trên bản in ({which}): {cut}"
    words = {t for page in pages for t, *_ in page}
    for h in shown:  # and each header is on paper
        assert all(w in words for w in h.split()), h
    words = [t for page in pages for t, *_ in page]
    assert "Tổng" in words and "1." in words and "TỔNG" in words
    # The summary's rates print with a decimal comma and one decimal (42,9 and 100,0, never 42.9 or 100).
    assert any(re.fullmatch(r"\d{1,3},\d", t) for t in words)


# A decimal point in a number: "7.63", "33.3", "0.5". Not a thousands group (1.234), not a date, a
# version, a code or the plan's numbering with roman group numbers (I.1).
_DECIMAL_POINT = re.compile(r"(?<![\w./-])\d{1,3}\.\d{1,2}(?![\w./-])")


@pytest.mark.parametrize("which", ["master", "summary", "unit", "report", "briefing", "reminder"])
def test_no_decimal_point_in_any_output(demo_files: dict[str, Path], which: str) -> None:
    text = _text(demo_files[which])
    assert len(text) > 200, f"{which}: bản in gần như trống"
    bad = sorted({m.group(0) for m in _DECIMAL_POINT.finditer(text)})
    assert not bad, f"{which}: số viết dấu chấm thập phân {bad}"


def test_the_summary_export_fits_a_few_pages(demo_files: dict[str, Path]) -> None:
    """No score comment column and each difficulty or proposal once keep the export short (it ran 5 pages)."""
    pages = _pages(demo_files["summary"])
    assert 1 < len(pages) <= 4, len(pages)
    for width, height, words in pages:
        assert width > height  # landscape A4
        assert any(t == "Trang" for t, *_ in words)
