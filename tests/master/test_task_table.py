"""The task list is the program's Table, among several on the sheet."""

from __future__ import annotations

import openpyxl
from openpyxl.worksheet.table import Table

from kehoach_xl.io.master_read import read_master
from kehoach_xl.io.master_write import write_master
from kehoach_xl.model import schema
from kehoach_xl.model.changes import MasterChanges
from tests.helpers import make_sample_master, sample_tasks


def test_a_second_small_table_on_the_tasks_sheet_does_not_hide_tasks(tmp_path):
    master = make_sample_master(tmp_path / "so.xlsx")
    wb = openpyxl.load_workbook(master)
    ws = wb[schema.TASKS.name]
    ws["AF1"], ws["AG1"], ws["AF2"], ws["AG2"], ws["AF3"], ws["AG3"] = "Màu", "Nghĩa", "Đỏ", "Quá hạn", "Xanh", "Xong"
    ws.add_table(Table(displayName="ChuGiai", ref="AF1:AG3"))
    wb.save(master)
    md = read_master(master)
    assert [r["id"] for r in md.tasks.rows] == [t["id"] for t in sample_tasks()]
    # Rows the program appends go to the task list, not to the legend.
    keys = schema.TASKS.keys
    row = [None] * len(keys)
    row[keys.index("id")], row[keys.index("task")] = "DDCI2024-099", "Nhiệm vụ bổ sung"
    ch = MasterChanges()
    ch.append(schema.TASKS.name, row)
    write_master(master, ch, action="test")
    wb = openpyxl.load_workbook(master)
    assert wb[schema.TASKS.name].tables["NhiemVu"].ref.endswith(str(len(sample_tasks()) + 2))
    assert wb[schema.TASKS.name].tables["ChuGiai"].ref == "AF1:AG3"
    assert read_master(master).tasks.rows[-1]["id"] == "DDCI2024-099"
