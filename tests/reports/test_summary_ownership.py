"""The summary leaves a staff-made Tổng hợp sheet alone."""

from __future__ import annotations

import datetime as dt

import openpyxl

from kehoach_xl.commands.summary import summary
from kehoach_xl.model import schema
from tests.helpers import make_sample_master


def test_summary_leaves_a_staff_made_tong_hop_sheet_alone(tmp_path):
    master = make_sample_master(tmp_path / "so.xlsx")
    wb = openpyxl.load_workbook(master)
    ws = wb[schema.SUMMARY_SHEET_NAME]
    for row in ws.iter_rows():
        for c in row:
            c.value = None
    ws["A1"], ws["A2"], ws["B3"] = "Bảng theo dõi riêng của phòng", "Ghi chú quan trọng", 123
    wb.save(master)
    s = summary(master, as_of=dt.date(2024, 6, 7))
    assert any("không do chương trình tạo" in w for w in s.warnings)
    ws = openpyxl.load_workbook(master)[schema.SUMMARY_SHEET_NAME]
    assert (ws["A1"].value, ws["A2"].value, ws["B3"].value) == ("Bảng theo dõi riêng của phòng", "Ghi chú quan trọng", 123)


def test_the_command_line_does_not_say_it_wrote_a_sheet_it_left_alone(tmp_path):
    """Read aloud: "Đã ghi sheet Tổng hợp" over a staff-made sheet the program did not touch was untrue."""
    from click.testing import CliRunner

    from kehoach_xl.cli.main import cli

    master = make_sample_master(tmp_path / "so.xlsx")
    wb = openpyxl.load_workbook(master)
    wb[schema.SUMMARY_SHEET_NAME]["A1"] = "Bảng theo dõi riêng của phòng"
    wb.save(master)
    before = master.read_bytes()
    res = CliRunner().invoke(cli, ["summary", str(master), "--as-of", "2024-06-07"])
    assert res.exit_code == 0, res.output
    assert "Đã ghi" not in res.output and "sổ theo dõi giữ nguyên" in res.output
    assert "không do chương trình tạo" in res.output and master.read_bytes() == before
    res = CliRunner().invoke(cli, ["summary", str(make_sample_master(tmp_path / "b.xlsx")), "--as-of", "2024-06-07"])
    assert res.exit_code == 0 and "Đã ghi sheet Tổng hợp (số liệu đến ngày 07/06/2024)" in res.output, res.output
