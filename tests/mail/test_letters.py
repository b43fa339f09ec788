"""The letters: rendered by LibreOffice (not blank, Vietnamese intact), escaped, the reply subject in the thread."""

from __future__ import annotations

import subprocess
from pathlib import Path

from kehoach_xl.io.mailbox import parse_message, sender_of
from kehoach_xl.model.config import Config
from kehoach_xl.reports.render import render

CTX = {"unit": "Phòng Quản lý đất đai", "period_label": "07/2024", "reply_by": "20/07/2024",
       "file_name": "2024-07_Phong_Quan_ly_dat_dai.xlsx", "tasks": 3, "plan_ref": "Kế hoạch số 62/KH-STNMT",
       "sender_name": "Văn phòng Sở", "contact": "Chị Hoàng Thị Lan, điện thoại 0205 3812 345", "subject": "x"}


def test_issue_letter_renders(soffice: str, soffice_convert, artifacts_dir: Path, tmp_path: Path) -> None:
    from PIL import Image

    html = tmp_path / "thu_giao.html"
    html.write_text(render("letter_issue.html.j2", CTX), encoding="utf-8")
    cmd = [soffice, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless", "--norestore",
           "--infilter=HTML (StarWriter)", "--convert-to", "pdf:writer_pdf_Export", "--outdir", str(tmp_path), str(html)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=180)
    pdf = tmp_path / "thu_giao.pdf"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Kính gửi: Phòng Quản lý đất đai." in text and "20/07/2024" in text and "0205 3812 345" in text
    png = artifacts_dir / "letter_issue"
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(png)], check=True)
    img = Image.open(str(png) + ".png").convert("L")
    dark = sum(1 for p in img.get_flattened_data() if p < 128)
    assert dark > 0.005 * img.width * img.height, "rendered letter is blank"


def test_letters_escape_and_omit_contact() -> None:
    ctx = dict(CTX, unit="<script>alert(1)</script>", contact="")
    html = render("letter_issue.html.j2", ctx)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "liên hệ" not in render("letter_issue.txt.j2", ctx)


def test_reply_subject_keeps_the_thread() -> None:
    base = {"unit": "Thanh tra Sở", "files": [], "notes": [], "sender_name": "Văn phòng Sở", "contact": ""}
    assert render("letter_reply_subject.txt.j2", dict(base, subject="Re: Giao tệp")).strip() == "Re: Giao tệp"
    assert render("letter_reply_subject.txt.j2", dict(base, subject="Báo cáo")).strip() == "Re: Báo cáo"
    assert render("letter_reply_subject.txt.j2", dict(base, subject="")).strip() == \
        "Kết quả tiếp nhận báo cáo của Thanh tra Sở"
    assert "không có tệp báo cáo" in render("letter_reply.txt.j2", dict(base, subject=""))


def test_parse_message_takes_only_top_level_workbook_attachments() -> None:
    import email.policy
    from email.message import EmailMessage

    inner = EmailMessage()
    inner["From"] = "x@y.vn"
    inner.add_attachment(b"PK\x03\x04inner", maintype="application", subtype="octet-stream", filename="an.xlsx")
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = "Phòng QLĐĐ <QLDD@stnmt.example.vn>"
    msg["Subject"] = "bc"
    msg.set_content("xem http://example.invalid/a.xlsx")
    msg.add_attachment(b"PK\x03\x04top", maintype="application", subtype="octet-stream", filename="C:\\tmp\\..\\bc.XLSX")
    msg.add_attachment(inner)  # a forwarded message: its attachment is not taken
    inc = parse_message("1", msg.as_bytes(), mail=Config().mail, limits=Config().limits)
    assert inc.sender == "qldd@stnmt.example.vn"
    assert [(a.name, a.ext, a.data) for a in inc.attachments] == [("bc.XLSX", ".xlsx", b"PK\x03\x04top")]
    two = EmailMessage()
    two["From"] = "a@b.vn, c@d.vn"
    assert sender_of(two) == ""  # several senders: nobody's
