"""Briefing and reminders: golden text, figures against the task list, .eml structure, overrides."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import os
import re
from pathlib import Path

import pytest

from kehoach_xl.commands.briefing import briefing
from kehoach_xl.commands.tasks import tasks
from kehoach_xl.io.master_read import read_master
from kehoach_xl.model import schema
from kehoach_xl.reports.briefing import BriefingResult
from kehoach_xl.reports.docx_report import compute_report
from tests.reports_sample import AS_OF, PERIOD, _add_history, make_master

GOLDEN = Path(__file__).parents[1] / "golden"
# Words that would betray untranslated text or leaked Python values in a Vietnamese email.
ENGLISH = re.compile(r"\b(the|and|task|tasks|overdue|due|done|email|None|null|nan|True|False|undefined)\b")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BriefingResult]:
    d = tmp_path_factory.mktemp("briefing")
    master = make_master(d / "so_theo_doi.xlsx", with_derived=True)
    return master, briefing(master, period=PERIOD, out=d / "out", as_of=AS_OF)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1" or not path.exists():
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs; UPDATE_GOLDEN=1 to accept"


def test_golden_texts(run: tuple[Path, BriefingResult]) -> None:
    _, res = run
    check_golden("briefing_2024_07.txt", res.text)
    by_unit = {r.unit: r for r in res.reminders}
    check_golden("briefing_reminder_thanh_tra_2024_07.txt", by_unit["Thanh tra Sở"].text)


def test_figures_agree_with_task_list(run: tuple[Path, BriefingResult]) -> None:
    master, res = run
    rows = tasks(master)
    overdue = [r for r in rows if r["deadline_state"] == "overdue"]
    done = [r for r in rows if r["status"] == schema.STATUS_DONE]
    assert f"Kế hoạch có {len(rows)} nhiệm vụ." in res.text
    rate = f"{100 * len(done) / len(rows):.1f}".replace(".", ",")  # a rate always shows one decimal
    assert f"{len(done)} nhiệm vụ đã hoàn thành, đạt {rate}%" in res.text
    assert f"Có {len(overdue)} nhiệm vụ quá hạn (" in res.text
    for r in overdue:
        days = (AS_OF - __import__("datetime").date.fromisoformat(r["due_date"])).days
        assert re.search(rf"\[{r['id']}\]: .*quá hạn {days} ngày", res.text), r["id"]  # "I.3 [DDCI-03]: …"
    for html in (res.html, res.html_path.read_text(encoding="utf-8")):
        assert f"Kế hoạch có {len(rows)} nhiệm vụ." in html
        assert all(r["id"] in html for r in overdue)
    # reminders go exactly to the units leading overdue or due-soon tasks
    late_units = {u for r in rows if r["deadline_state"] in ("overdue", "due_soon") for u in r["lead_units"]}
    assert {r.unit for r in res.reminders} == late_units


def test_vietnamese_only_and_no_empty_sections(run: tuple[Path, BriefingResult]) -> None:
    _, res = run
    texts = [res.text, res.subject, *(r.text for r in res.reminders), *(r.subject for r in res.reminders)]
    for t in texts:
        assert not ENGLISH.search(t), ENGLISH.search(t)
        assert not re.search(r"\d\.\d", t.replace("DDCI", "")), "decimal point instead of comma"
        assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", t), "ISO date leaked"
    lines = res.text.splitlines()
    for i, ln in enumerate(lines):
        if re.match(r"^\d+\. [A-ZĐÀ-Ỹ ]+", ln):
            assert lines[i + 1].strip(), f"section '{ln}' is empty"
    assert "6,39 điểm, giảm 0,42 điểm" in res.text


def test_eml_structure(run: tuple[Path, BriefingResult]) -> None:
    _, res = run
    msg = email.message_from_bytes(res.eml_path.read_bytes(), policy=email.policy.default)
    assert msg["Subject"] == "Báo cáo tình hình thực hiện Kế hoạch số 62/KH-STNMT tháng 7/2024"
    to = [a.addr_spec for a in msg["To"].addresses]
    assert "thieu.nn@stnmt.langson.example.vn" in to
    assert "thanhtra@stnmt.langson.example.vn" in [a.addr_spec for a in msg["Cc"].addresses]
    plain = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert plain.replace("\r\n", "\n") == res.text
    cid = re.search(r'src="cid:([^"]+)"', html)[1]
    images = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1 and images[0]["Content-ID"] == f"<{cid}>"
    assert images[0].get_content()[:8] == b"\x89PNG\r\n\x1a\n"
    att = [p for p in msg.iter_attachments() if p.get_filename() == "tong_hop_2024_07.xlsx"]
    assert att and att[0].get_content()[:2] == b"PK"
    for r in res.reminders:
        rm = email.message_from_bytes(r.eml_path.read_bytes(), policy=email.policy.default)
        assert [a.addr_spec for a in rm["To"].addresses] == r.to
        assert rm.get_body(("html",)) is not None and rm["Subject"] == r.subject  # no space lost when folded


def test_long_vietnamese_subject_keeps_its_spaces() -> None:
    # The stdlib folder used to turn "nhiệm vụ quá hạn" into "nhiệm vụquá hạn" across encoded words.
    from kehoach_xl.model.config import Config
    from kehoach_xl.reports.mailer import Outgoing, build_message

    subject = ("Nhắc việc: Phòng Quản lý Tài nguyên nước và Khoáng sản có 2 nhiệm vụ quá hạn và 1 nhiệm vụ "
               "sắp đến hạn (Kế hoạch số 62/KH-STNMT)")
    raw = build_message(Outgoing(subject=subject, to=["a@b.vn"], text="x"), Config().mail).as_bytes()
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    assert email.message_from_bytes(raw, policy=email.policy.default)["Subject"] == subject


def test_templates_next_to_master_override(tmp_path: Path) -> None:
    master = make_master(tmp_path / "so.xlsx", with_derived=True)
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "briefing_subject.txt.j2").write_text(
        "Giao ban {{ period_label }}: {{ t.overdue }} nhiệm vụ quá hạn\n", encoding="utf-8")
    res = briefing(master, period=PERIOD, out=tmp_path / "out", as_of=AS_OF)
    assert res.subject == "Giao ban tháng 7/2024: 3 nhiệm vụ quá hạn"
    assert res.text.startswith("Kính gửi")  # the other templates still come from the package


def test_html_email_renders(run: tuple[Path, BriefingResult], soffice: str, artifacts_dir: Path,
                            tmp_path: Path) -> None:
    """The HTML briefing (with its chart) rendered by LibreOffice Writer; first page kept as a PNG artefact."""
    import shutil
    import subprocess

    from PIL import Image

    _, res = run
    cmd = [soffice, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless", "--norestore",
           "--infilter=HTML (StarWriter)", "--convert-to", "pdf:writer_pdf_Export", "--outdir", str(tmp_path),
           str(res.html_path)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=180)
    pdf = tmp_path / (res.html_path.stem + ".pdf")
    images = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "png" in images or "image" in images, "the chart image is missing from the rendered email"
    png = artifacts_dir / "briefing_html"
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(png)],
                   check=True)
    img = Image.open(str(png) + ".png").convert("L")
    dark = sum(1 for p in img.get_flattened_data() if p < 128)
    assert dark > 0.005 * img.width * img.height, "rendered page is blank"
    shutil.copy(res.chart_path, artifacts_dir / "briefing_chart.png")
    chart = Image.open(res.chart_path)
    assert chart.width > 500 and len(set(chart.convert("RGB").get_flattened_data())) > 10


def _history_row(period: str, tid: str, unit: str, status: str, state: str) -> dict:
    return {"period": period, "task_id": tid, "unit": unit, "status": status, "deadline_state": state,
            "recorded_at": dt.datetime(2024, 7, 1, 8, 0)}


def test_comparison_is_with_the_period_before_the_reported_one(tmp_path: Path) -> None:
    """History holds June (the sample) and here May; members' rows do not stand for a task."""
    master = make_master(tmp_path / "so.xlsx", with_derived=True)
    _add_history(master, [
        _history_row("2024-05", "DDCI-02", "Văn phòng Sở", "Đang thực hiện", "Trong hạn"),
        # Thanh tra Sở does not lead DDCI-04: its "done" must not count as the task's state in June.
        _history_row("2024-06", "DDCI-04", "Thanh tra Sở", "Hoàn thành", "Trong hạn"),
    ])
    july = briefing(master, period="2024-07", out=tmp_path / "t7", as_of=AS_OF)
    assert "So với tháng 6/2024, số nhiệm vụ đã hoàn thành tăng từ 1 lên 3;" in july.text
    assert "2 nhiệm vụ mới quá hạn (I.4 [DDCI-04], IV.11 [DDCI-11])" in july.text
    # Reporting on June: the previous period is May, never June itself.
    june = briefing(master, period="2024-06", out=tmp_path / "t6", as_of=dt.date(2024, 7, 5))
    assert "So với tháng 5/2024" in june.text
    assert "so với tháng 6/2024" not in june.text.casefold()


def test_no_comparison_section_without_an_earlier_period(tmp_path: Path) -> None:
    # The demo's situation: the only history is the reported month's own, reported early next month.
    master = make_master(tmp_path / "so.xlsx", with_derived=True)  # history: 2024-06 only
    res = briefing(master, period="2024-06", out=tmp_path / "out", as_of=dt.date(2024, 7, 5))
    assert "SO VỚI KỲ TRƯỚC" not in res.text and "So với tháng" not in res.text
    assert "So với kỳ trước" not in res.html
    ctx = compute_report(read_master(master), period="2024-06", as_of=dt.date(2024, 7, 5)).result
    assert "So sánh với kỳ trước" not in ctx["body_text"]
