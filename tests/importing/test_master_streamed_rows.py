"""Rows streamed at save time (io/master_new.StreamedRows) come out as openpyxl writes the same cells.

A new master's task and part rows are no longer openpyxl cells: they are written while the workbook
is saved, most as one XML text per row. The sheet is compared, in canonical XML (C14N: the same
document whatever the serialiser's choice of ``<c/>`` or ``<c></c>``), with the sheet openpyxl
writes from real cells holding the same values and styles — including the values the fast path
hands back to openpyxl (error codes, carriage returns, booleans, NaN, a date in a column without a
date format, text over Excel's limit).
"""

from __future__ import annotations

import datetime as dt
import math
import zipfile
from copy import copy
from functools import partial
from pathlib import Path

from lxml import etree
from openpyxl.cell import Cell
from openpyxl.styles import Alignment, Border, Side, is_date_format

from kehoach_xl.io.master_new import StreamedRows, _save_atomic, stream_rows
from kehoach_xl.reports.master_book import new_workbook
from kehoach_xl.rules.safe_cells import put_text

THIN = Side(style="thin")
FORMATS = (None, "dd/mm/yyyy", "0", None)  # text, date, number, text
VALUES = [
    ["Sở Tài chính", dt.date(2025, 3, 31), 12, "  lề trái và phải  "],
    ["A & B <c> \"d\" 'e'", dt.datetime(2025, 1, 2, 3, 4, 5), 1.5, ""],
    ["=SUM(A1:A2)", None, -7, "@tên"],
    ["#N/A", dt.date(2024, 2, 29), 0.1 + 0.2, "dòng 1\ndòng 2"],
    ["có\r\nCR", dt.date(2025, 1, 1), True, None],
    [None, dt.date(2025, 12, 31), math.nan, dt.date(2025, 6, 30)],  # a date in a text column: its own format
    ["x" * 40000, dt.date(2025, 5, 5), 10**15, "Tiếng Việt có dấu: ắằẳẵặ"],
]


def _styled(ws, row: int, j: int):
    c = ws.cell(row=row, column=j)
    c.alignment = Alignment(wrap_text=True, vertical="top")
    c.border = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
    if FORMATS[j - 1]:
        c.number_format = FORMATS[j - 1]
    return c


def _fill(ws, row: int, values: list, make) -> list:
    """Cells as master_book writes a task row: the column's style, then the value, then the column's format."""
    out = []
    for j, v in enumerate(values, start=1):
        c = make(row=row, column=j)
        c._style = copy(TEMPLATES[j - 1])
        put_text(c, v)
        if FORMATS[j - 1] and c.number_format != FORMATS[j - 1]:
            c.number_format = FORMATS[j - 1]
        out.append(c)
    return out


TEMPLATES: list = []
SLOW: list[int] = []  # the streamed rows handed back to openpyxl's cells


def _book(path: Path, *, streamed: bool) -> Path:
    wb = new_workbook()
    ws = wb.active
    ws.title = "Nhiệm vụ"
    for j, h in enumerate(("Nhiệm vụ", "Hạn", "Số", "Ghi chú"), start=1):
        ws.cell(row=1, column=j, value=h)
    TEMPLATES[:] = [copy(_styled(ws, 2, j)._style) for j in range(1, 5)]
    rows = [VALUES[0], *VALUES] * 3
    _fill(ws, 2, rows[0], ws.cell)
    ws.row_dimensions[2].height = 18
    if streamed:
        def values(k: int) -> list:
            return [c.value for c in _fill(ws, 3 + k, rows[k + 1], partial(Cell, ws))]

        def slow(k: int) -> tuple[list, float]:
            SLOW.append(k)
            return _fill(ws, 3 + k, rows[k + 1], partial(Cell, ws)), 18.0 + k

        SLOW.clear()
        stream_rows(ws, StreamedRows(
            3, len(rows) - 1, slow,
            values=values, styles=TEMPLATES, dates_keep_style=[is_date_format(f or "General") for f in FORMATS],
            height=lambda k: 18.0 + k))
    else:
        for k, values in enumerate(rows[1:]):
            _fill(ws, 3 + k, values, ws.cell)
            ws.row_dimensions[3 + k].height = 18.0 + k
    _save_atomic(wb, path)
    if streamed:
        assert len(ws._cells) == 8, "the streamed rows stay out of the sheet's cells"
    return path


def _canonical(path: Path, part: str) -> bytes:
    return etree.tostring(etree.fromstring(zipfile.ZipFile(path).read(part)), method="c14n")


def test_streamed_rows_are_the_cells_openpyxl_writes(tmp_path):
    plain = _book(tmp_path / "plain.xlsx", streamed=False)
    streamed = _book(tmp_path / "streamed.xlsx", streamed=True)
    assert _canonical(streamed, "xl/worksheets/sheet1.xml") == _canonical(plain, "xl/worksheets/sheet1.xml")
    assert _canonical(streamed, "xl/styles.xml") == _canonical(plain, "xl/styles.xml")
    # both paths were taken: the rows with an error code, a CR, a boolean or NaN, a date without a date format
    slow_values = {id(VALUES[i]) for i in (3, 4, 5)}
    rows = [VALUES[0], *VALUES] * 3
    assert SLOW == [k for k, r in enumerate(rows[1:]) if id(r) in slow_values]


def test_streamed_rows_read_back(tmp_path):
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(_book(tmp_path / "s.xlsx", streamed=True))).get_sheet_by_name(
        "Nhiệm vụ").to_python(skip_empty_area=False)
    assert len(rows) == 1 + 3 * (len(VALUES) + 1)
    assert rows[3][:3] == ["A & B <c> \"d\" 'e'", dt.datetime(2025, 1, 2, 3, 4, 5), 1.5]
    assert rows[2][3] == "  lề trái và phải  " and rows[4][0] == "=SUM(A1:A2)"  # text, not a formula
    assert rows[8][0] == "x" * 32767 and rows[8][2] == 10**15


def test_stream_rows_refuses_a_sheet_that_has_those_rows():
    """Streamed rows never overlap cells: the sheet would hold two rows with one number."""
    import pytest

    wb = new_workbook()
    ws = wb.active
    ws.cell(row=3, column=1, value="x")
    with pytest.raises(ValueError):
        stream_rows(ws, StreamedRows(3, 1, lambda k: ([], None)))
