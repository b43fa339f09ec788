"""Growth that stays faithful: rows the program appends extend what staff laid over the data by
hand — a sheet-level autofilter, defined names, conditional-format and validation ranges ending at
the last data row — and leave every other range alone. Checked in the XML and in LibreOffice."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import PatternFill
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

import kehoach_xl as kx
from kehoach_xl.io.master_read import read_master
from kehoach_xl.model import schema
from tests.helpers import make_sample_master

TASKS, LOG = schema.TASKS.name, schema.LOG.name
RED = PatternFill(start_color="FFC7CE", end_color="FFC7CE", fill_type="solid")


def _hand_edited(path: Path) -> dict[str, Any]:
    """A master where staff added, in Excel, ranges over the task list and over a log without a Table."""
    make_sample_master(path)
    wb = openpyxl.load_workbook(path)
    ws = wb[TASKS]
    last = ws.tables["NhiemVu"].ref.split(":")[1]
    n = int(re.sub(r"\D", "", last))  # last task row
    col = {c.value: c.column_letter for c in ws[1]}
    pr, st = col["Tiến độ (%)"], col["Trạng thái"]
    ws.conditional_formatting.add(f"{pr}2:{pr}{n}", CellIsRule(operator="lessThan", formula=["50"], fill=RED))
    ws.conditional_formatting.add(f"A1:{pr}1", CellIsRule(operator="equal", formula=['"x"'], fill=RED))  # header only
    ws.conditional_formatting.add("AF40:AF45", CellIsRule(operator="equal", formula=["1"], fill=RED))  # a block aside
    dv = DataValidation(type="list", formula1='"Chưa thực hiện,Đang thực hiện,Hoàn thành"')
    dv.add(f"{st}2:{st}{n}")
    ws.add_data_validation(dv)
    dv_aside = DataValidation(type="whole", operator="between", formula1="0", formula2="9")
    dv_aside.add("AF2:AF3")  # ends above the last data row: not over the list
    ws.add_data_validation(dv_aside)
    wb.defined_names["DanhSachMa"] = DefinedName("DanhSachMa", attr_text=f"'{TASKS}'!$A$2:$A${n}")
    wb.defined_names["DonViKhac"] = DefinedName("DonViKhac", attr_text=f"'{schema.UNITS.name}'!$A$2:$A$4")
    # The log as staff keep it in an old master: no Excel Table, a sheet-level autofilter instead.
    log = wb[LOG]
    del log.tables["NhatKy"]
    log_last = log.max_row
    log.auto_filter.ref = f"A1:I{log_last}"
    log.conditional_formatting.add(f"B2:B{log_last}", CellIsRule(operator="equal", formula=['"merge"'], fill=RED))
    wb.defined_names["NhatKyDuLieu"] = DefinedName("NhatKyDuLieu", attr_text=f"'{LOG}'!$A$2:$I${log_last}")
    wb.save(path)
    return {"tasks": n, "log": log_last, "pr": pr, "st": st}


def _xml(path: Path, part: str) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(part).decode("utf-8")


def _sheet_part(path: Path, name: str) -> str:
    from kehoach_xl.io.xlsx_patch import _Workbook
    from kehoach_xl.io.xlsx_zip import ZipPackage

    return _Workbook(ZipPackage.open(path)).sheet_part(name)[0]


@pytest.fixture(scope="module")
def grown(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], dict[str, int]]:
    from kehoach_xl.importer import build_sample_plan_docx

    tmp = tmp_path_factory.mktemp("growth")
    master = tmp / "so_theo_doi.xlsx"
    before = _hand_edited(master)
    plan = build_sample_plan_docx(tmp / "ke_hoach.docx", name="langson_ddci_2024")
    kx.import_plan(plan, master, plan_code="DDCI2024B", add_unknown=True)
    wb = openpyxl.load_workbook(master, read_only=True)
    after = {"tasks": read_master(master).tasks.row_numbers[-1], "log": wb[LOG].max_row}
    wb.close()
    assert after["tasks"] > before["tasks"] and after["log"] > before["log"]
    return master, before, after


def test_appended_task_rows_grow_the_ranges_over_the_list(grown: tuple[Path, dict[str, Any], dict[str, int]]) -> None:
    master, before, after = grown
    m, pr, st = after["tasks"], before["pr"], before["st"]
    sheet = _xml(master, _sheet_part(master, TASKS))
    cf = re.findall(r'<conditionalFormatting[^>]*sqref="([^"]+)"', sheet)
    dv = re.findall(r'<dataValidation\b[^>]*sqref="([^"]+)"', sheet)
    assert f"{pr}2:{pr}{m}" in cf and f"{st}2:{st}{m}" in dv, (cf, dv)
    # The header-only rule and the blocks beside the list are untouched.
    assert f"A1:{pr}1" in cf and "AF40:AF45" in cf and "AF2:AF3" in dv
    names = _xml(master, "xl/workbook.xml")
    assert f"'{TASKS}'!$A$2:$A${m}</definedName>" in names
    assert f"'{schema.UNITS.name}'!$A$2:$A$4</definedName>" in names  # another sheet: untouched


def test_log_rows_grow_a_sheet_level_autofilter(grown: tuple[Path, dict[str, Any], dict[str, int]]) -> None:
    master, _before, after = grown
    sheet = _xml(master, _sheet_part(master, LOG))
    assert re.search(rf'<autoFilter ref="A1:I{after["log"]}"', sheet), re.findall(r"<autoFilter[^>]*>", sheet)
    assert f'sqref="B2:B{after["log"]}"' in sheet
    assert f"'{LOG}'!$A$2:$I${after['log']}</definedName>" in _xml(master, "xl/workbook.xml")


def test_libreoffice_sees_the_grown_ranges(grown: tuple[Path, dict[str, Any], dict[str, int]], soffice_convert) -> None:
    """An independent reader: LibreOffice opens the grown master and, saved back as .xlsx, still
    has the name, the autofilter and the validation reaching the new last rows."""
    master, _before, after = grown
    out = soffice_convert(master, "xlsx")
    wb = openpyxl.load_workbook(out)
    dn = wb.defined_names["DanhSachMa"].attr_text
    assert dn.endswith(f"$A${after['tasks']}"), dn
    assert wb[LOG].auto_filter.ref == f"A1:I{after['log']}"
    ranges = [str(r) for dv in wb[TASKS].data_validations.dataValidation for r in dv.sqref.ranges]
    assert any(r.endswith(str(after["tasks"])) for r in ranges), ranges
