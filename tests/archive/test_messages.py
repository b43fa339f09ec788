"""What staff read when the archive cannot run: in Vietnamese, with the exit code, and nothing changed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kehoach_xl.cli.main import cli
from kehoach_xl.io.archive_book import archive_path
from tests.archive.build import AS_OF, used_master

AS_OF_TEXT = AS_OF.strftime("%d/%m/%Y")


@pytest.fixture()
def master(tmp_path: Path) -> Path:
    return used_master(tmp_path)


def _state(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def _run(*args: str):
    return CliRunner().invoke(cli, ["archive", *args])


def test_cli_archives_and_prints_vietnamese(master):
    res = _run(str(master), "--as-of", AS_OF_TEXT)
    assert res.exit_code == 0, res.output
    assert "Đã chuyển 144 dòng nhật ký (nhật ký trước 15/03/2025) và 30 dòng lịch sử (trước kỳ 07/2024)" in res.output
    assert archive_path(master, 2024).name in res.output
    again = _run(str(master), "--as-of", AS_OF_TEXT, "--json")
    assert again.exit_code == 0 and json.loads(again.output)["log_archived"] == 0


def test_wrong_file_is_refused_before_anything(tmp_path, master):
    other = tmp_path / "ghi_chu.xlsx"
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active["A1"] = "không phải sổ theo dõi"
    wb.save(other)
    before = _state(tmp_path)
    res = _run(str(other), "--as-of", AS_OF_TEXT)
    assert res.exit_code == 2 and "Lỗi" in res.output and "sổ theo dõi" in res.output, res.output
    missing = _run(str(tmp_path / "khong_co.xlsx"))
    assert missing.exit_code == 2 and "Không tìm thấy" in missing.output
    assert _state(tmp_path) == before


def test_keep_months_below_one_is_a_usage_error(master):
    res = _run(str(master), "--keep-months", "0")
    assert res.exit_code == 2 and "ít nhất là 1" in res.output


def test_archive_file_open_in_excel_changes_nothing(master):
    _run(str(master), "--as-of", AS_OF_TEXT, "--keep-months", "9")  # the 2024 file exists now
    book = archive_path(master, 2024)
    owner = book.with_name("~$" + book.name)
    owner.write_bytes(b"\x05Lan  " + b" " * 48 + b"\x03\x00" + "Lan".encode("utf-16-le"))
    before = _state(master.parent)
    res = _run(str(master), "--as-of", AS_OF_TEXT)
    assert res.exit_code == 1, res.output
    assert f"Tệp lưu trữ '{book.name}' đang được mở trong Excel bởi người dùng 'Lan'" in res.output
    assert "Chưa có gì thay đổi" in res.output
    assert _state(master.parent) == before  # master, archive, backups: byte for byte
    owner.unlink()
    assert _run(str(master), "--as-of", AS_OF_TEXT).exit_code == 0


def test_master_open_in_excel_changes_nothing(master):
    owner = master.with_name("~$" + master.name)
    owner.write_bytes(b"\x03Anh" + b" " * 51 + b"\x03\x00" + "Anh".encode("utf-16-le"))
    before = _state(master.parent)
    res = _run(str(master), "--as-of", AS_OF_TEXT)
    assert res.exit_code == 1 and f"Sổ theo dõi '{master.name}' đang được mở trong Excel" in res.output, res.output
    assert _state(master.parent) == before and not archive_path(master, 2024).exists()


def test_another_archive_run_holds_the_lock(master):
    from kehoach_xl.io.archive_book import archive_lock

    (master.parent / "kehoach.toml").write_text("lock_timeout = 0.5\n", encoding="utf-8")
    lock = archive_lock(master, stale_after=1800)
    lock.acquire()
    try:
        before = _state(master.parent)
        res = _run(str(master), "--as-of", AS_OF_TEXT)
        assert res.exit_code == 1 and "đang được ghi bởi" in res.output, res.output
        assert {k: v for k, v in _state(master.parent).items() if not k.endswith(".lock")} == \
            {k: v for k, v in before.items() if not k.endswith(".lock")}
    finally:
        lock.release()
