"""The report's body is written chunk by chunk (``reports/docx_report.write_docx``) instead of by
``DocxTemplate.render`` + ``save`` (a whole-body string and lxml tree: 700 MiB at 10,000 tasks).
The document must be the same: every part of the two .docx files is the same XML once parsed
(C14N), with values that exercise docxtpl's rewriting (new lines, tabs, XML specials, quotes)
spread over enough tasks that the body is written in several chunks."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from kehoach_xl.commands.init import create_master
from kehoach_xl.commands.report import _template_path
from kehoach_xl.io.master_read import read_master
from kehoach_xl.model.config import Config
from kehoach_xl.reports import docx_report
from kehoach_xl.reports.docx_report import _write_with_docxtpl, compute_report, write_docx
from kehoach_xl.reports.render import environment

UNITS = ["Văn phòng Sở", "Thanh tra Sở", "Phòng Kế hoạch – Tài chính"]


def _tasks(n: int) -> list[dict[str, object]]:
    return [{
        "id": f"NV{i + 1:04d}", "group": f"G{i % 3 + 1}", "stt": str(i + 1),
        "task": f"Rà soát <hồ sơ> & \"thủ tục\" số {i + 1}\tđợt 'một'",
        "lead_units": UNITS[i % 3], "deadline_text": ["Quý I/2025", "Trước 10/5/2025", "Thường xuyên"][i % 3],
        "status": "Đang thực hiện", "progress": 0.3,
        "result": "Dòng một;\nDòng hai & <ba>\n\tthụt đầu dòng",
        "difficulties": "Thiếu kinh phí" if i % 4 == 0 else "",
    } for i in range(n)]


def _canonical(data: bytes) -> bytes:
    return etree.tostring(etree.fromstring(data), method="c14n")


@pytest.mark.parametrize("chunk", [1 << 14, 2000])
def test_streamed_report_is_docxtpls_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    monkeypatch.setattr(docx_report, "_CHUNK_CHARS", chunk)  # small chunks: many cuts between paragraphs
    master = create_master(tmp_path / "master.xlsx", tasks=_tasks(150), units=[{"name": u} for u in UNITS],
                           meta={"plan_title": "Kế hoạch thử", "agency": "Sở Tài nguyên & Môi trường"})
    config = Config()
    ctx = compute_report(read_master(master), period="2025-04", as_of=dt.date(2025, 5, 5), config=config).result
    env = environment(config, autoescape=True)
    ours = write_docx(_template_path(config), ctx, env, tmp_path / "streamed.docx")
    theirs = _write_with_docxtpl(_template_path(config), ctx, env, tmp_path / "docxtpl.docx")
    with zipfile.ZipFile(ours) as a, zipfile.ZipFile(theirs) as b:
        assert a.namelist() == b.namelist()
        body = a.read("word/document.xml")
        assert len(body) > 10 * chunk  # the body did go out in many pieces
        assert b"<w:br/>" in body  # new lines typed in values were rewritten into line breaks
        for name in a.namelist():
            x, y = a.read(name), b.read(name)
            if name.endswith((".xml", ".rels")):
                assert _canonical(x) == _canonical(y), name
            else:
                assert x == y, name
    assert not list(tmp_path.glob(".bao_cao_*"))  # the working folder is gone


def test_a_template_needing_docxtpls_tree_pass_is_rendered_by_docxtpl(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Cell loops, merges and images need docxtpl's parse of the whole body: it does them, as before."""
    used: list[str] = []
    real = docx_report._write_with_docxtpl

    def spy(*args: object, **kwargs: object) -> Path:
        used.append("docxtpl")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(docx_report, "_write_with_docxtpl", spy)
    monkeypatch.setattr(docx_report, "_NEEDS_TREE", docx_report.re.compile(r"w:body"))  # as if it had a {% hm %}
    master = create_master(tmp_path / "master.xlsx", tasks=_tasks(5), units=[{"name": u} for u in UNITS])
    config = Config()
    ctx = compute_report(read_master(master), period="2025-04", as_of=dt.date(2025, 5, 5), config=config).result
    out = write_docx(_template_path(config), ctx, environment(config, autoescape=True), tmp_path / "r.docx")
    assert used == ["docxtpl"] and zipfile.ZipFile(out).testzip() is None
