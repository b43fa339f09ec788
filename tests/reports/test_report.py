"""The formal report: national format (NĐ 30/2020), figures from the task list, rendered by LibreOffice."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import docx
import pytest
from docx.shared import Mm

from kehoach_xl.commands.report import report
from kehoach_xl.commands.tasks import tasks
from tests.reports_sample import AS_OF, PERIOD, make_master


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("report")
    master = make_master(d / "so_theo_doi.xlsx", with_derived=True)
    return master, report(master, period=PERIOD, out=d / "bao_cao", as_of=AS_OF)


def _all_text(doc: docx.document.Document) -> str:
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            parts += [c.text for c in row.cells]
    return "\n".join(parts)


def test_national_format(built: tuple[Path, Path]) -> None:
    _, path = built
    doc = docx.Document(path)
    sec = doc.sections[0]
    assert (round(sec.page_width.mm), round(sec.page_height.mm)) == (210, 297)
    assert Mm(20) <= sec.top_margin <= Mm(25) and Mm(20) <= sec.bottom_margin <= Mm(25)
    assert Mm(30) <= sec.left_margin <= Mm(35) and Mm(15) <= sec.right_margin <= Mm(20)
    head = doc.tables[0]
    left, right = head.cell(0, 0).text, head.cell(0, 1).text
    assert "UBND TỈNH LẠNG SƠN" in left and "SỞ TÀI NGUYÊN VÀ MÔI TRƯỜNG" in left
    assert re.search(r"Số:\s+/BC-STNMT", left)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in right and "Độc lập - Tự do - Hạnh phúc" in right
    date_par = next(p for p in head.cell(0, 1).paragraphs if "ngày" in p.text)
    assert date_par.text == "Lạng Sơn, ngày 15 tháng 7 năm 2024"
    assert all(r.italic for r in date_par.runs if r.text.strip())
    text = _all_text(doc)
    for needle in ("BÁO CÁO", "I. KẾT QUẢ THỰC HIỆN", "II. TỒN TẠI, HẠN CHẾ VÀ NGUYÊN NHÂN",
                   "III. NHIỆM VỤ TRỌNG TÂM THÁNG TỚI", "IV. ĐỀ XUẤT, KIẾN NGHỊ", "Nơi nhận:", "GIÁM ĐỐC",
                   "Nguyễn Ngọc Thiều", "Phụ lục"):
        assert needle in text, needle
    sizes = {r.font.size.pt for p in doc.paragraphs for r in p.runs if r.text.strip() and r.font.size}
    assert sizes <= {13.0, 14.0}, sizes
    fonts = {r.font.name for p in doc.paragraphs for r in p.runs if r.text.strip()}
    assert fonts == {"Times New Roman"}
    assert "{{" not in text and "{%" not in text


def test_figures_and_appendix_agree_with_task_list(built: tuple[Path, Path]) -> None:
    master, path = built
    rows = tasks(master)
    doc = docx.Document(path)
    text = _all_text(doc)
    overdue = [r for r in rows if r["deadline_state"] == "overdue"]
    assert f"Kế hoạch có {len(rows)} nhiệm vụ." in text
    assert f"Có {len(overdue)} nhiệm vụ quá hạn" in text
    assert "6,39 điểm, giảm 0,42 điểm" in text
    appendix = doc.tables[-1]
    data = [[c.text for c in row.cells] for row in appendix.rows[1:]]
    assert len(data) == len(rows)
    # Each task cited by the plan's numbering (group.STT) with its ID in brackets.
    assert [d[1] for d in data] == [f"{r['task']} ({r['id']})" for r in rows]
    assert [d[0] for d in data] == [".".join(str(x) for x in (r["group"], r["stt"]) if x) for r in rows]
    assert sum(1 for d in data if d[4].startswith("Quá hạn")) == len(overdue)


def test_pdf_first_page(built: tuple[Path, Path], soffice_convert, artifacts_dir: Path) -> None:
    from PIL import Image

    _, path = built
    pdf = soffice_convert(path, "pdf")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "(A4)" in info
    assert int(re.search(r"Pages:\s+(\d+)", info)[1]) >= 2  # body, then the appendix on its own page
    out = artifacts_dir / "report_page1"
    subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(out)],
                   check=True)
    img = Image.open(str(out) + ".png").convert("L")
    w, h = img.size
    assert abs(h / w - 297 / 210) < 0.01
    px = img.get_flattened_data()
    assert sum(1 for p in px if p < 128) > 0.01 * w * h, "first page is blank"
    # The left margin (30 mm) is wider than the right one (15 mm): ink starts further from the left edge.
    cols = [x for x in range(w) if any(img.getpixel((x, y)) < 128 for y in range(0, h, 3))]
    assert cols[0] / w > (w - cols[-1]) / w
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Kế hoạch có 12 nhiệm vụ." in text


def test_cli_report(built: tuple[Path, Path], tmp_path: Path) -> None:
    from click.testing import CliRunner

    from kehoach_xl.cli.main import cli

    master, _ = built
    res = CliRunner().invoke(cli, ["report", str(master), "--period", PERIOD, "--as-of", AS_OF.isoformat(),
                                   "--out", str(tmp_path / "bc.docx")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "bc.docx").exists()


def test_cli_report_bad_period_names_the_value(built: tuple[Path, Path], tmp_path: Path) -> None:
    from click.testing import CliRunner

    from kehoach_xl.cli.main import cli

    master, _ = built
    res = CliRunner().invoke(cli, ["report", str(master), "--period", "xx", "--out", str(tmp_path)])
    assert res.exit_code == 2, res.output
    assert "Kỳ báo cáo “xx”" in res.output and "Traceback" not in res.output


def test_cli_report_out_existing_non_docx_file_is_refused(built: tuple[Path, Path], tmp_path: Path) -> None:
    from click.testing import CliRunner

    from kehoach_xl.cli.main import cli

    master, _ = built
    target = tmp_path / "ghi_chu.txt"
    target.write_text("giữ nguyên", encoding="utf-8")
    res = CliRunner().invoke(cli, ["report", str(master), "--period", PERIOD, "--out", str(target)])
    assert res.exit_code == 2, res.output
    assert "ghi_chu.txt" in res.output and ".docx" in res.output
    assert target.read_text(encoding="utf-8") == "giữ nguyên"


def test_section_iv_separates_asks_of_the_province_from_units_asks_of_the_department(tmp_path: Path) -> None:
    """A unit's proposal addressed to the province goes under "Kiến nghị UBND tỉnh …"; one addressed to
    the department ("Đề nghị Sở …", "Đề nghị Lãnh đạo Sở …") is listed apart, as the department's to settle."""
    from kehoach_xl.io.master_read import read_master
    from kehoach_xl.reports.context import addressed_above
    from kehoach_xl.reports.docx_report import compute_report

    assert addressed_above("Đề nghị UBND tỉnh bố trí kinh phí số hóa hồ sơ")
    assert addressed_above("Kiến nghị Bộ Tài nguyên và Môi trường hướng dẫn")
    assert not addressed_above("Đề nghị Sở bổ sung kinh phí số hóa hồ sơ")
    assert not addressed_above("Đề nghị gia hạn đến hết quý III")
    master = make_master(tmp_path / "so.xlsx", with_derived=True)
    md = read_master(master)
    row = next(r for r in md.tasks.rows if r.get("proposals"))
    # The lead's report is its row in the sheet "Phần việc" (the store of every part), not the task's cells.
    assert md.parts.present
    part = next(r for r in md.parts.rows if r.get("task_id") == row["id"] and r.get("proposals"))
    part["proposals"] = row["proposals"] = "Đề nghị UBND tỉnh bố trí kinh phí số hóa hồ sơ"
    body = compute_report(md, period=PERIOD, as_of=AS_OF).result["body_text"]
    iv = body[body.index("ĐỀ XUẤT, KIẾN NGHỊ"):]
    up, down = iv.index("1. Kiến nghị UBND tỉnh Lạng Sơn"), iv.index("2. Đề nghị của các phòng, đơn vị")
    assert up < iv.index("Đề nghị UBND tỉnh bố trí kinh phí") < down
    assert iv.index("Đề nghị Lãnh đạo Sở cho phép kéo dài") > down
    assert re.search(r"\[DDCI-\d+\]", iv)  # cited by the plan's numbering with the ID


def test_the_report_cites_the_plan_with_its_issuing_date(tmp_path: Path) -> None:
    """Import stores the plan's date in "Cấu hình" ("Ngày ban hành văn bản"); the report's opening
    line cites the plan the way a document does: number and date."""
    from kehoach_xl.commands.import_plan import import_plan
    from kehoach_xl.io.master_read import read_master
    from tests.importing.test_import_docs import build_plan_docx

    plan = tmp_path / "ke_hoach.docx"
    build_plan_docx(plan)
    master = tmp_path / "so.xlsx"
    import_plan(plan, master, plan_code="KT", add_unknown=True)
    md = read_master(master)
    assert md.settings.get("plan_number") and md.settings.get("plan_date")
    from kehoach_xl import vn
    from kehoach_xl.reports.context import plan_citation

    cite = plan_citation(md.settings)
    assert cite == f"Kế hoạch số {md.settings['plan_number']} ngày {vn.date(vn.parse_date(md.settings['plan_date']))}"
    out = tmp_path / "bao_cao.docx"
    report(master, period="2024-05", out=out, as_of=None)
    assert f"Thực hiện {cite}" in _all_text(docx.Document(out))
