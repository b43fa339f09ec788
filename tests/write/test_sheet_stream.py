"""The streamed patch of a sheet whose cells only are set (io/xlsx_sheet_stream) makes, byte for
byte, what the whole-part patch makes, however the part is cut into pieces and windows; and
``patch_xlsx`` takes that way for such a sheet without inflating the part whole."""

from __future__ import annotations

import datetime as dt
import random
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from kehoach_xl.io import xlsx_sheet_stream, xlsx_zip
from kehoach_xl.io.xlsx_patch import patch_xlsx
from kehoach_xl.io.xlsx_sheet import SheetEdit, SheetPatchError, patch_sheet
from kehoach_xl.io.xlsx_sheet_stream import patch_sheet_stream, streamable
from kehoach_xl.io.xlsx_styles import Styles
from kehoach_xl.model.changes import MasterChanges
from kehoach_xl.model.footer import as_of_part
from tests.master.test_patch_identity import _STYLES, INPUT, _sheet, _value


def _pieces(xml: bytes, size: int):
    def read() -> Iterator[bytes]:
        for i in range(0, len(xml), size):
            yield xml[i : i + size]
    return read


def _outcome(make):
    styles = Styles(_STYLES)
    try:
        res = make(styles)
        if res is None:
            return None
        return (res.xml, res.cells_written, res.last_col, res.removed_formulas, styles.xml)
    except SheetPatchError as exc:
        return ("refused", str(exc))


_FOOTER = (b'<headerFooter><oddFooter>&amp;LS&#7903; A&amp;RIn ng&#224;y &amp;D</oddFooter>'
           b"<evenFooter>&amp;CX</evenFooter></headerFooter>")


def _cells_edit(rng: random.Random, n_rows: int, n_cols: int) -> SheetEdit:
    top = n_rows + 6
    cells = {(rng.randrange(1, top), rng.randrange(1, n_cols + 3)): _value(rng, links=True)
             for _ in range(rng.choice([1, 2, 5, 40, 200]))}
    footers = {"oddFooter": as_of_part(dt.date(2025, 5, 5))} if rng.random() < 0.3 else {}
    return SheetEdit(cells=cells, footers=footers)


def _with_footer(xml: bytes) -> bytes:
    """The part with a print footer the program wrote (the right part "In ngày &D"), before its end."""
    if b"<x:worksheet" in xml:
        return xml
    return xml.replace(b"</worksheet>", _FOOTER + b"</worksheet>")


@pytest.mark.parametrize(("piece", "window"), [(7, 64), (100, 1), (4096, 300), (1 << 20, 4 << 20)])
def test_streamed_patch_is_the_whole_patch(monkeypatch: pytest.MonkeyPatch, piece: int, window: int) -> None:
    monkeypatch.setattr(xlsx_sheet_stream, "WINDOW", window)
    rng = random.Random(2026)
    compared = refused = footed = 0
    for _ in range(250):
        n_rows, n_cols = rng.choice([(1, 2), (4, 5), (12, 8), (40, 6), (120, 12)])
        prefix = "x" if rng.random() < 0.15 else ""
        xml = _sheet(rng, prefix, n_rows, n_cols)
        edit = _cells_edit(rng, n_rows, n_cols)
        if rng.random() < 0.5:
            xml = _with_footer(xml)
        date1904 = rng.random() < 0.2
        whole = _outcome(lambda st, xml=xml, edit=edit, d=date1904: patch_sheet(xml, edit, st, d))
        streamed = _outcome(lambda st, xml=xml, edit=edit, d=date1904: patch_sheet_stream(_pieces(xml, piece), edit,
                                                                                          st, d))
        if streamed is None:  # <sheetData/>: patched whole
            assert b"sheetData/>" in xml
            continue
        assert streamed == whole, xml[:300]
        compared += 1
        footed += bool(edit.footers) and streamed[0] != "refused" and b"ng\xc3\xa0y 05/05/2025" in streamed[0]
        refused += streamed[0] == "refused"
    # (the refusals are overwritten anchors of shared formulas: the part made again, whole, to look)
    assert compared > 200 and 10 < refused < 60 and footed > 20, (compared, refused, footed)


def test_rows_out_of_order_across_windows_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsx_sheet_stream, "WINDOW", 1)
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in (1, 2, 3, 2, 5))
    xml = (f'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{rows}'
           "</sheetData></worksheet>").encode()
    res = patch_sheet_stream(_pieces(xml, 10), SheetEdit(cells={(5, 1): "x"}), Styles(None))
    assert res is not None
    with pytest.raises(SheetPatchError, match="thứ tự tăng dần"):
        res.xml  # noqa: B018 - made as read


def test_only_a_cells_edit_is_streamed() -> None:
    assert streamable(SheetEdit(cells={(2, 2): 1}))
    assert streamable(SheetEdit(cells={(2, 2): 1}, footers={"oddFooter": "y"}))
    for edit in (SheetEdit(cells={(2, 2): 1}, appends=[["a"]]), SheetEdit(cells={(2, 2): 1}, clear_from=3),
                 SheetEdit(cells={(2, 2): 1}, row_heights={2: 30}), SheetEdit(footers={"oddFooter": "y"}),
                 SheetEdit()):
        assert not streamable(edit)


def test_a_doctype_is_refused_before_a_byte_is_made() -> None:
    xml = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><worksheet><sheetData><row r="1"/>'
           b"</sheetData></worksheet>")
    with pytest.raises(SheetPatchError, match="DOCTYPE"):
        patch_sheet_stream(_pieces(xml, 5), SheetEdit(cells={(1, 1): "x"}), Styles(None))


def test_zip_stream_gives_the_member_in_bounded_pieces(tmp_path: Path) -> None:
    data = b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (i, i, i) for i in range(200_000))
    path = tmp_path / "z.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.xml", data)
        zf.writestr("stored.xml", data[:5000], compress_type=zipfile.ZIP_STORED)
    pkg = xlsx_zip.ZipPackage.open(path)
    pieces = list(pkg.stream("big.xml", size=1 << 16))
    assert b"".join(pieces) == data and max(map(len, pieces)) <= 1 << 16 and len(pieces) > 50
    assert b"".join(pkg.stream("stored.xml", size=1000)) == data[:5000]


def test_patch_xlsx_streams_a_cells_only_sheet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The task sheet of the golden master gets cells only: it is never read whole, and the package
    written is the one the whole-part patch writes."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(INPUT))
    sheet = wb.sheet_names[0]
    changes = MasterChanges()
    for r in range(2, 60):
        changes.set(sheet, r, 3, f"giá trị {r}")
        changes.set(sheet, r, 40, r * 1.5)  # a column past the sheet's: the dimension grows
    whole = tmp_path / "whole.xlsx"
    real = xlsx_sheet_stream.patch_sheet_stream
    monkeypatch.setattr("kehoach_xl.io.xlsx_patch.patch_sheet_stream", lambda *a, **k: None)
    patch_xlsx(INPUT, whole, changes)
    monkeypatch.setattr("kehoach_xl.io.xlsx_patch.patch_sheet_stream", real)
    read_whole: list[str] = []
    orig_read = xlsx_zip.ZipPackage.read

    def spy(self, name: str) -> bytes:
        read_whole.append(name)
        return orig_read(self, name)

    monkeypatch.setattr(xlsx_zip.ZipPackage, "read", spy)
    streamed = tmp_path / "streamed.xlsx"
    res = patch_xlsx(INPUT, streamed, changes)
    assert not [n for n in read_whole if n.startswith("xl/worksheets/sheet")], read_whole
    with zipfile.ZipFile(whole) as a, zipfile.ZipFile(streamed) as b:
        assert a.namelist() == b.namelist()
        for name in a.namelist():
            assert a.read(name) == b.read(name), name
    assert res.cells_written == 2 * 58
    got = CalamineWorkbook.from_path(str(streamed)).get_sheet_by_name(sheet).to_python()
    assert got[9][2] == "giá trị 10" and got[9][39] == 15.0
