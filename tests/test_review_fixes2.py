"""Regressions found by the second review: each failed before its fix."""

from __future__ import annotations

import datetime as dt
import shutil

import openpyxl
from openpyxl.worksheet.table import Table

from kehoach_xl.commands.merge import merge
from kehoach_xl.commands.summary import summary
from kehoach_xl.io.master_read import read_master
from kehoach_xl.io.master_write import write_master
from kehoach_xl.model import schema
from kehoach_xl.model.changes import MasterChanges
from kehoach_xl.rules.values import parse_percent
from tests.bad_inputs.make import AS_OF, fill, setup_month
from tests.helpers import make_sample_master, sample_tasks


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


def test_history_period_that_excel_made_a_date_does_not_duplicate_rows(tmp_path):
    master, files, inbox = setup_month(tmp_path)
    f = fill(files["Thanh_tra_So"], inbox / files["Thanh_tra_So"].name,
             {"DDCI2024-003": {"progress": 90, "result": "Đã rà soát"}})
    keep = tmp_path / "again.xlsx"
    shutil.copyfile(f, keep)
    first = merge(master, inbox, as_of=AS_OF)
    assert first.history_rows > 0
    wb = openpyxl.load_workbook(master)  # staff retyped the period; Excel turned it into a date
    ws = wb[schema.HISTORY.name]
    for r in range(2, ws.max_row + 1):
        if ws.cell(r, 1).value:
            ws.cell(r, 1).value = dt.datetime(2024, 5, 1)
    wb.save(master)
    shutil.copyfile(keep, inbox / f.name)
    again = merge(master, inbox, as_of=AS_OF)
    assert again.applied == 0 and again.history_rows == 0


def test_percent_text_with_a_percent_sign_is_not_scaled():
    assert parse_percent("0,5%") == 0.5
    assert parse_percent("0.5 %") == 0.5
    assert parse_percent("0,8") == 80  # documented: text below 1 without a % sign means ×100
    assert parse_percent(0.8, "0%") == 80  # Excel stores 80% as 0.8 with a percent format
    assert parse_percent(80, '0"%"') == 80  # a literal % in the format does not scale
    assert parse_percent(80, "0\\%") == 80
