"""Import names the file it cannot read; Vietnamese CSV in cp1258 imports."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from click.testing import CliRunner

from kehoach_xl.cli.main import cli


def test_import_fake_docx(tmp_path: Path) -> None:
    fake = tmp_path / "ke_hoach_gia.docx"
    fake.write_text("không phải Word", encoding="utf-8")
    res = CliRunner().invoke(cli, ["import", str(fake), "--into", str(tmp_path / "so.xlsx")])
    assert res.exit_code == 1 and "ke_hoach_gia.docx" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "so.xlsx").exists()


def test_import_without_task_table_names_file(tmp_path: Path) -> None:
    plan = tmp_path / "danh_sach.csv"
    plan.write_text("Họ tên,Tuổi\nAn,30\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["import", str(plan), "--into", str(tmp_path / "so.xlsx")])
    assert res.exit_code == 1 and "Không nhận ra bảng nhiệm vụ trong tệp 'danh_sach.csv'" in res.output


_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}  # the marks cp1258 stores as separate bytes


def _cp1258(text: str) -> bytes:
    """Encode as Windows Vietnamese does: precomposed base letters, tone marks as combining bytes."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        parts = unicodedata.normalize("NFD", ch)
        tone = "".join(c for c in parts if c in _TONES)
        out.append(unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES)) + tone)
    return "".join(out).encode("cp1258")


def test_cp1258_csv_is_not_read_as_utf16() -> None:
    from kehoach_xl.importer.table_reader import _decode

    text = "STT,Nhiệm vụ,Đơn vị chủ trì\n1,Rà soát thủ tục,Văn phòng Sở\n"
    data = _cp1258(text)
    if len(data) % 2:
        data += b"\n"
    assert len(data) % 2 == 0
    assert unicodedata.normalize("NFC", _decode(data)).startswith("STT,Nhiệm vụ,Đơn vị chủ trì")
    assert _decode("STT,Nhiệm vụ\n".encode("utf-16")) == "STT,Nhiệm vụ\n"


def test_cp1258_csv_imports(tmp_path: Path) -> None:
    from kehoach_xl.importer.plan_import import parse_plan

    plan = tmp_path / "kh.csv"
    body = ("STT,Nhiệm vụ,Đơn vị chủ trì,Thời gian hoàn thành\n"
            "1,Rà soát thủ tục hành chính,Văn phòng Sở,30/6/2024\n")
    data = _cp1258(body)
    plan.write_bytes(data if len(data) % 2 == 0 else data + b"\n")
    parsed = parse_plan(plan, plan_year=2024)
    assert [t.task for t in parsed.tasks] == ["Rà soát thủ tục hành chính"]
