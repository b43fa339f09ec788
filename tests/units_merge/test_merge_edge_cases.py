"""History periods stored as dates match; '0,5%' is half a percent."""

from __future__ import annotations

import datetime as dt
import shutil

import openpyxl

from kehoach_xl.commands.merge import merge
from kehoach_xl.model import schema
from kehoach_xl.rules.values import parse_percent
from tests.bad_inputs.make import AS_OF, fill, setup_month


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
