"""The exported summary workbook is, byte for byte, the file openpyxl's write-only writer makes.

``export_summary`` writes the sheet's rows as the XML openpyxl writes for them (issue 18: a cell
object and an lxml element for each of the 15 styled cells of every row were most of the export's
time). The reference here is the export as it was made before, every cell through openpyxl; both
files must hold the same bytes in every part (the package's timestamps aside), for the sample
master and for cells holding what the fast path must get right or leave to openpyxl: Vietnamese and
astral characters (ASCII with character references), markup characters, a carriage return, text with
outer spaces, formula-like text, an error code, text over Excel's 32,767 characters, floats, big
integers, a bool, NaN.
"""

from __future__ import annotations

import datetime as dt
import gc
import re
import zipfile
from copy import copy
from pathlib import Path
from typing import Any

import pytest
from openpyxl.utils.exceptions import IllegalCharacterError

from kehoach_xl.io.master_read import read_master
from kehoach_xl.model import schema
from kehoach_xl.reports import summary as summary_mod
from kehoach_xl.reports.master_book import new_workbook
from kehoach_xl.reports.summary import Summary, export_summary, summary_of
from kehoach_xl.rules.safe_cells import put_text
from tests.reports_sample import AS_OF, make_master


def reference_export(s: Summary, path: Path) -> Path:
    """The export as main made it before the rows were written as text: every cell an openpyxl cell."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils.indexed_list import IndexedList

    m = summary_mod
    cells = m.summary_cells(s, compact=True)
    n_units = max(1, len(m._unit_rows(s)))
    last_value_row = max((r for r, _ in cells), default=m.UNIT_FIRST_ROW)
    heights = m.row_heights(cells)
    proto_wb = new_workbook()
    proto = proto_wb.active
    m._title_cell(proto)
    m._style_cells(proto, m.UNIT_TOTAL_ROW)
    wb = Workbook(write_only=True)
    wb._fonts = IndexedList([proto_wb._fonts[0]])
    ws = wb.create_sheet(m.SHEET)
    looks: dict[tuple[int, int], Any] = {}
    for (r, c), pc in proto._cells.items():
        if r <= m.UNIT_TOTAL_ROW and pc.has_style:
            look = WriteOnlyCell(ws)
            look.font, look.alignment = copy(pc.font), copy(pc.alignment)
            look.number_format = pc.number_format
            looks[(r if r < m.UNIT_TOTAL_ROW else 0, c)] = look
    m._columns(ws)
    m._sheet_furniture(ws, n_units, styled_rows=last_value_row, chart_row=m.UNIT_FIRST_ROW + n_units + 1)
    for r, h in heights.items():
        ws.row_dimensions[r].height = h
    title = WriteOnlyCell(ws, schema.SUMMARY_TITLE)
    title._style = copy(looks[(1, 1)]._style)
    ws.append([title])
    keys = sorted(cells)
    k = 0
    for r in range(2, last_value_row + 1):
        kind = r if r < m.UNIT_TOTAL_ROW else 0
        row: list[Any] = []
        while k < len(keys) and keys[k][0] == r:
            c = keys[k][1]
            row.extend([None] * (c - 1 - len(row)))
            row.append(put_text(WriteOnlyCell(ws), cells[keys[k]]))
            k += 1
        row.extend([None] * (m.LAST_COL - len(row)))
        for c in range(1, m.LAST_COL + 1):
            look = looks.get((kind, c))
            if look is None:
                continue
            cell = row[c - 1]
            if cell is None:
                cell = row[c - 1] = WriteOnlyCell(ws)
            cell._style = copy(look._style)
        ws.append(row)
    wb.save(path)
    return path


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        out = {n: z.read(n) for n in z.namelist()}
    out["docProps/core.xml"] = re.sub(rb"<dcterms:(created|modified)[^<]*</dcterms:\w+>", b"",
                                      out["docProps/core.xml"])
    return out


def _same_files(a: Path, b: Path) -> None:
    ma, mb = _members(a), _members(b)
    assert list(ma) == list(mb)
    for name in ma:
        assert ma[name] == mb[name], name


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Summary:
    path = make_master(tmp_path_factory.mktemp("export_bytes") / "so.xlsx", with_derived=True)
    return summary_of(read_master(path), AS_OF)


ODD_VALUES: list[Any] = [
    "Tổng hợp kết quả thực hiện – Sở Tài nguyên và Môi trường 😀",
    "a & b < c > d \"e\" 'f'", "dòng một\r\ndòng hai\tcột", "  lề trái", "lề phải ", "\u00a0",
    "=SUM(A1:A3)", "=", "+84 912", "-", "@x", "#N/A", "#DIV/0!", "x" * 40_000, "y" * 32_767,
    0, -3, 10**20, 123456789012345678, 0.1 + 0.2, 1e-7, -0.0, 2.5, 1e300, True, float("nan"),
]


def test_sample_export_is_openpyxls_file(sample: Summary, tmp_path: Path) -> None:
    _same_files(reference_export(sample, tmp_path / "ref.xlsx"), export_summary(sample, tmp_path / "new.xlsx"))


def test_odd_values_are_written_as_openpyxl_writes_them(sample: Summary, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    real = summary_mod.summary_cells

    def with_odd_values(s: Summary, *, compact: bool = False) -> dict[tuple[int, int], Any]:
        cells = real(s, compact=compact)
        last = max(r for r, _ in cells)
        for i, v in enumerate(ODD_VALUES):
            # in the first rows (their own looks), in the body, in the hidden role column, past the styled columns
            for r, c in ((2 + i % 3, 1 + i % 10), (last + 2 + i, 1), (last + 2 + i, 1 + i % 15), (last + 2 + i, 17)):
                cells[(r, c)] = v
        return cells

    monkeypatch.setattr(summary_mod, "summary_cells", with_odd_values)
    new = export_summary(sample, tmp_path / "new.xlsx")
    _same_files(reference_export(sample, tmp_path / "ref.xlsx"), new)
    with zipfile.ZipFile(new) as z:
        sheet = z.read("xl/worksheets/sheet1.xml")
    assert b"T&#7893;ng h&#7907;p" in sheet and b"&#128512;" in sheet and b"&#13;" in sheet  # the cases occurred
    assert b'xml:space="preserve"' in sheet and b't="e"' in sheet and b't="b"' in sheet


# openpyxl's reference leaves its row writer half way when the cell is refused: collected below.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_illegal_characters_are_refused_as_before(sample: Summary, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    real = summary_mod.summary_cells
    monkeypatch.setattr(summary_mod, "summary_cells",
                        lambda s, *, compact=False: {**real(s, compact=compact), (9, 1): "bell\x07"})
    for export in (reference_export, export_summary):
        with pytest.raises(IllegalCharacterError):
            export(sample, tmp_path / f"{export.__name__}.xlsx")
    gc.collect()


def test_the_comparison_sees_one_changed_byte(sample: Summary, tmp_path: Path) -> None:
    """A file that differs in one cell's value does not pass (no test that cannot fail)."""
    other = Summary(**{**vars(sample), "as_of": sample.as_of + dt.timedelta(days=1)})
    with pytest.raises(AssertionError):
        _same_files(reference_export(sample, tmp_path / "ref.xlsx"), export_summary(other, tmp_path / "new.xlsx"))
