"""The master's grids are read row by row with repeated values held once (memory at 50,000 tasks),
and must equal calamine's own ``to_python(skip_empty_area=False)``, value and type, cell by cell."""

from __future__ import annotations

import datetime as dt

import openpyxl
from python_calamine import CalamineWorkbook

from kehoach_xl.io.master_read import read_grids, sheet_grid


def _book(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Lệch"
    # Data starting away from A1: calamine's rows start at the first used column.
    ws["C3"], ws["D3"], ws["E3"] = "Phòng A", 1, 1.0
    ws["C4"], ws["D4"], ws["E4"] = "Phòng A", True, -0.0
    ws["C5"], ws["D5"], ws["E5"] = dt.datetime(2025, 3, 1), dt.datetime(2025, 3, 1, 8, 30), 0.0
    ws["C6"], ws["D6"], ws["E6"] = dt.datetime(2025, 3, 1), 2.5, 2.5
    ws["G9"] = "cuối"
    wb.create_sheet("Trống")
    full = wb.create_sheet("Đầy")
    for r in range(1, 200):
        full.append([f"Phòng {r % 7}", r % 3, r / 4, dt.date(2025, 1, 1 + r % 28), None, "x"])
    wb.save(path)


def test_grid_equals_calamines_own_value_and_type(tmp_path):
    p = tmp_path / "b.xlsx"
    _book(p)
    wb = CalamineWorkbook.from_path(str(p))
    for name in wb.sheet_names:
        want = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        got = sheet_grid(wb.get_sheet_by_name(name))
        assert got == want, name
        assert [[type(v) for v in r] for r in got] == [[type(v) for v in r] for r in want], name
    lech = sheet_grid(wb.get_sheet_by_name("Lệch"))
    # 1, 1.0 and True are equal in Python: each keeps its own type; -0.0 keeps its sign.
    assert lech[3][3] is True
    assert str(lech[3][4]) == "-0.0"


def test_repeated_values_are_one_object(tmp_path):
    p = tmp_path / "b.xlsx"
    _book(p)
    grid = read_grids(p, ["Đầy"])["Đầy"]
    firsts = {}
    for row in grid:
        firsts.setdefault(row[0], row[0])
        assert row[0] is firsts[row[0]]
    assert len({id(r[5]) for r in grid}) == 1
    assert len({id(r[3]) for r in grid}) == 28


def test_signed_zero_is_not_shared(tmp_path):
    p = tmp_path / "b.xlsx"
    _book(p)
    wb = CalamineWorkbook.from_path(str(p))
    want = wb.get_sheet_by_name("Lệch").to_python(skip_empty_area=False)
    got = sheet_grid(wb.get_sheet_by_name("Lệch"))
    assert [str(r[4]) for r in got[3:5]] == [str(r[4]) for r in want[3:5]] == ["-0.0", "0.0"]
