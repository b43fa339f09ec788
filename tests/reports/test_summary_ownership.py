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
