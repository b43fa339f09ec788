"""The problems sheet links each address to its cell, in every reader."""

from __future__ import annotations

import zipfile

from python_calamine import CalamineWorkbook

from kehoach_xl.io.xlsx_patch import patch_xlsx
from kehoach_xl.model import schema
from kehoach_xl.model.changes import Link, MasterChanges
from tests.helpers import make_sample_master


def test_link_is_written_as_hyperlink_formula_with_cached_text(tmp_path, soffice_sheets):
    src = make_sample_master(tmp_path / "so.xlsx")
    dst = tmp_path / "out.xlsx"
    ch = MasterChanges()
    link = Link(target="'Nhiệm vụ'!J3", text='Nhiệm vụ!J3 "trạng thái"')
    ch.set(schema.PROBLEMS_SHEET_NAME, 5, 4, link)
    ch.set(schema.PROBLEMS_SHEET_NAME, 6, 4, "=1+1")  # plain text stays text, never a formula
    patch_xlsx(src, dst, ch)
    wb = CalamineWorkbook.from_path(str(dst))
    grid = wb.get_sheet_by_name(schema.PROBLEMS_SHEET_NAME).to_python(skip_empty_area=False)
    assert grid[4][3] == link.text and grid[5][3] == "=1+1"
    with zipfile.ZipFile(dst) as z:
        names = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        xml = b"".join(z.read(n) for n in names).decode()
    expected = '<f>HYPERLINK("#\'Nhiệm vụ\'!J3","Nhiệm vụ!J3 ""trạng thái""")</f>'
    assert expected in xml
    shown = soffice_sheets(dst)[schema.PROBLEMS_SHEET_NAME]
    assert shown[4][3] == link.text  # LibreOffice recalculates HYPERLINK and shows the text
    assert shown[5][3] == "=1+1"
