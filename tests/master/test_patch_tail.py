"""Appends to a long sheet read only its tail; where the tail cannot be trusted, the whole sheet is read."""

from __future__ import annotations

import datetime as dt

import pytest

from kehoach_xl.io import xlsx_sheet
from kehoach_xl.io.xlsx_cells import excel_serial
from kehoach_xl.io.xlsx_sheet import SheetEdit, SheetPatchError, patch_sheet
from kehoach_xl.io.xlsx_styles import Styles

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _sheet(rows: list[str]) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}><dimension ref="A1:C{len(rows)}"/>'
            f"<sheetData>{''.join(rows)}</sheetData></worksheet>").encode()


def _log(n: int, *, placeholders: int = 0, r_on_last: bool = True) -> bytes:
    rows = ['<row r="1"><c r="A1" t="inlineStr"><is><t>Thời gian</t></is></c></row>']
    for i in range(2, n + 2):
        r = f' r="{i}"' if r_on_last or i < n + 1 else ""
        rows.append(f'<row{r} ht="20" customHeight="1"><c r="A{i}" s="1"><v>{45000 + i}</v></c>'
                    f'<c r="B{i}" t="inlineStr"><is><t>dòng {i}</t></is></c></row>')
    for i in range(n + 2, n + 2 + placeholders):
        rows.append(f'<row r="{i}"><c r="A{i}" s="1"/><c r="B{i}" s="1"/></row>')
    return _sheet(rows)


@pytest.fixture()
def no_full_index(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = xlsx_sheet.index_rows

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(xlsx_sheet, "index_rows", counting)
    return calls


def test_appends_read_only_the_tail(no_full_index: list[int]) -> None:
    xml = _log(3000)
    res = patch_sheet(xml, SheetEdit(appends=[[dt.datetime(2025, 5, 1, 2), "mới"]] * 3), Styles(None))
    assert no_full_index == []
    assert res.append_rows == (3002, 3004)
    out = res.xml
    # After the old last row, in order, with the last row's height and the first column's style.
    assert out.index(b'<row r="3001"') < out.index(b'<row r="3002" ht="20" customHeight="1">') < out.index(b"</sheetData>")
    serial = excel_serial(dt.datetime(2025, 5, 1, 2))
    assert (f'<c r="A3004" s="1"><v>{serial!r}</v></c><c r="B3004" t="inlineStr"><is><t>mới</t></is></c>'
            .encode() in out)


def test_appends_fill_a_table_placeholder_from_the_tail(no_full_index: list[int]) -> None:
    xml = _log(50, placeholders=2)
    res = patch_sheet(xml, SheetEdit(appends=[["x", "y"]] * 4, table=(1, 1, 53)), Styles(None))
    assert no_full_index == []
    assert res.append_rows == (52, 55)  # the two empty rows inside the Table first, then below it
    assert res.xml.count(b'<row r="52"') == 1 and b'<c r="A55" s="1" t="inlineStr">' in res.xml


def test_a_tail_row_without_its_number_reads_the_whole_sheet(no_full_index: list[int]) -> None:
    xml = _log(40, r_on_last=False)
    res = patch_sheet(xml, SheetEdit(appends=[["x"]]), Styles(None))
    assert no_full_index == [1]
    assert res.append_rows == (42, 42)


def test_cells_and_appends_together_read_the_whole_sheet(no_full_index: list[int]) -> None:
    res = patch_sheet(_log(40), SheetEdit(cells={(2, 3): "z"}, appends=[["x"]]), Styles(None))
    assert no_full_index == [1]
    assert res.append_rows == (42, 42) and b'<c r="C2" t="inlineStr"><is><t>z</t></is></c>' in res.xml


def test_rows_out_of_order_in_the_tail_are_refused() -> None:
    rows = [f'<row r="{r}"><c r="A{r}"><v>1</v></c></row>' for r in (1, 2, 9, 5)]
    rows[-1] = '<row r="5"/>'  # empty: the search goes on back to row 9
    with pytest.raises(SheetPatchError, match="không theo thứ tự"):
        patch_sheet(_sheet(rows), SheetEdit(appends=[["x"]]), Styles(None))
