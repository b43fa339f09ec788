"""Rows the program adds look like the rows staff already have."""

from __future__ import annotations

import datetime as dt

import openpyxl

from kehoach_xl.commands.init import create_master
from kehoach_xl.io.master_write import write_master
from kehoach_xl.model import schema
from kehoach_xl.model.changes import MasterChanges


def test_rows_appended_to_a_new_master_take_the_data_row_style_and_a_fitting_height(tmp_path):
    master = create_master(tmp_path / "so.xlsx")  # one empty placeholder row inside the Table
    keys = schema.TASKS.keys
    ch = MasterChanges()
    long_task = "Đánh giá, rà soát thực tế các doanh nghiệp thanh toán trực tuyến phí, lệ phí hồ sơ " * 3
    for i in range(3):
        row = [None] * len(keys)
        row[keys.index("id")] = f"KH-{i + 1:03d}"
        row[keys.index("task")] = long_task if i == 1 else "Ngắn"
        row[keys.index("due_date")] = dt.date(2024, 6, 20)
        ch.append(schema.TASKS.name, row, height=120.0 if i == 1 else None)
    write_master(master, ch, action="test")

    wb = openpyxl.load_workbook(master)
    ws = wb[schema.TASKS.name]
    due = keys.index("due_date") + 1
    task = keys.index("task") + 1
    for r in (2, 3, 4):
        assert ws.cell(r, due).number_format == "dd/mm/yyyy"
        assert ws.cell(r, task).alignment.wrap_text
        assert ws.cell(r, task).border.left.style == "thin"
    assert ws.row_dimensions[3].height == 120
    assert ws.row_dimensions[2].height == ws.row_dimensions[4].height  # copied from the placeholder row
    assert ws.tables["NhiemVu"].ref == f"A1:{openpyxl.utils.get_column_letter(len(keys))}4"
