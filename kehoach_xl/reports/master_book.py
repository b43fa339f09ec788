"""A new master workbook built whole with openpyxl: every sheet, Table, rule and print setting.

A new master is written from nothing with openpyxl, which is fine because there is nothing of
the staff's to lose yet. Existing masters are only ever changed through the surgical writer
(:mod:`kehoach_xl.io.master_write`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableStyleInfo

from kehoach_xl.model import schema
from kehoach_xl.model.schema import Sheet
from kehoach_xl.rules.layout import row_height
from kehoach_xl.rules.safe_cells import put_text
from kehoach_xl.text import join_list, normalize_text
from kehoach_xl.vn import DATE_FORMAT, DATETIME_FORMAT, DECIMAL_FORMAT

FONT_NAME = "Times New Roman"


HEADER_FILL = PatternFill("solid", fgColor="1F4E78")


HEADER_FONT = Font(name=FONT_NAME, sz=12, bold=True, color="FFFFFF")


THIN = Side(style="thin", color="808080")


BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


WRAP_TOP = Alignment(wrap_text=True, vertical="top")


CENTER = Alignment(horizontal="center", vertical="top", wrap_text=True)


# Conditional formats cover at least this many rows so rows staff add later are coloured too.
CF_MIN_ROWS = 2000


def _format_for(col: schema.Column) -> str | None:
    return {"date": DATE_FORMAT, "datetime": DATETIME_FORMAT, "percent": "0", "int": "0",
            "float": DECIMAL_FORMAT}.get(col.type)


def _cell_value(col: schema.Column, value: Any) -> Any:
    if value is None:
        return None
    if col.type == "list" and isinstance(value, (list, tuple)):
        return join_list(value)
    if col.type in ("date", "datetime") and isinstance(value, str):
        if not value:
            return None
        try:
            return dt.date.fromisoformat(value) if col.type == "date" else dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, str) and col.type in ("text", "list", "email"):
        return normalize_text(value, keep_newlines=True)
    return value


def _write_table_sheet(wb: Workbook, sheet: Sheet, rows: Sequence[Mapping[str, Any]], *, first: bool = False) -> Any:
    ws = wb.active if first else wb.create_sheet()
    ws.title = sheet.name
    cols = sheet.columns
    for j, col in enumerate(cols, start=1):
        c = ws.cell(row=1, column=j, value=col.header)
        c.font = HEADER_FONT
        c.fill = HEADER_FILL
        c.alignment = CENTER
        c.border = BORDER
        ws.column_dimensions[get_column_letter(j)].width = col.width
    ws.row_dimensions[1].height = 32
    # An Excel Table needs at least one data row; an empty master gets one blank row.
    data = list(rows) or [{}]
    for i, row in enumerate(data, start=2):
        for j, col in enumerate(cols, start=1):
            c = put_text(ws.cell(row=i, column=j), _cell_value(col, row.get(col.key)))
            c.alignment = CENTER if col.type in ("int", "percent", "date", "datetime") or col.key in ("stt", "id", "group") else WRAP_TOP
            c.border = BORDER
            fmt = _format_for(col)
            if fmt:
                c.number_format = fmt
        ws.row_dimensions[i].height = row_height(row, cols)
    last_col = get_column_letter(len(cols))
    ref = f"A1:{last_col}{len(data) + 1}"
    if sheet.table_name:
        table = Table(displayName=sheet.table_name, ref=ref)
        table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
        ws.add_table(table)
    ws.freeze_panes = "B2" if sheet is schema.TASKS else "A2"
    if sheet is schema.TASKS:
        # Whole columns, so rows added later print too (empty pages are not printed).
        ws.print_area = f"A1:{get_column_letter(schema.TASKS_PRINT_COLUMNS)}1048576"
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    ws.print_options.horizontalCentered = True
    return ws


def _col_letter(sheet: Sheet, key: str) -> str:
    return get_column_letter(sheet.keys.index(key) + 1)


def _add_task_rules(wb: Workbook, ws: Any, n_rows: int) -> None:
    """Dropdowns and the colour-by-deadline-state rules of the tasks sheet."""
    last = max(n_rows + 1, CF_MIN_ROWS)
    settings = quote_sheetname(schema.SETTINGS.name)
    units = quote_sheetname(schema.UNITS.name)
    leaders = quote_sheetname(schema.LEADERS.name)
    status_dv = DataValidation(
        type="list", formula1=f"{settings}!$C$2:$C${1 + len(schema.STATUSES)}", allow_blank=True,
        showErrorMessage=True, errorTitle="Trạng thái không hợp lệ",
        error="Chọn một trong: " + ", ".join(schema.STATUSES) + ".",
        promptTitle="Trạng thái", prompt="Chọn trạng thái thực hiện từ danh sách.",
    )
    # Cells may name several units/leaders ("A; B"), so the list only guides: errorStyle information.
    unit_dv = DataValidation(type="list", formula1=f"{units}!$A$2:$A$500", allow_blank=True,
                             showErrorMessage=True, errorStyle="information",
                             error="Tên đơn vị chưa có trong sheet Đơn vị; nhiều đơn vị thì ngăn cách bằng dấu ;")
    leader_dv = DataValidation(type="list", formula1=f"{leaders}!$A$2:$A$100", allow_blank=True,
                               showErrorMessage=True, errorStyle="information",
                               error="Tên lãnh đạo chưa có trong sheet Lãnh đạo.")
    pct_dv = DataValidation(type="decimal", operator="between", formula1="0", formula2="100", allow_blank=True,
                            showErrorMessage=True, error="Tiến độ là số từ 0 đến 100.")
    date_dv = DataValidation(type="date", operator="greaterThan", formula1="36526", allow_blank=True,
                             showErrorMessage=True, error="Nhập ngày dạng dd/mm/yyyy.")
    for dv, key in ((status_dv, "status"), (unit_dv, "lead_units"), (unit_dv, "coordinating_units"),
                    (leader_dv, "leaders"), (pct_dv, "progress"), (date_dv, "completed_on")):
        letter = _col_letter(schema.TASKS, key)
        dv.add(f"{letter}2:{letter}{last}")
    for dv in (status_dv, unit_dv, leader_dv, pct_dv, date_dv):
        ws.add_data_validation(dv)
    state = _col_letter(schema.TASKS, "deadline_state")
    rng = f"A2:{get_column_letter(len(schema.TASKS.columns))}{last}"
    for code, colour in schema.STATE_COLOURS.items():
        label = schema.DEADLINE_STATES[code]
        ws.conditional_formatting.add(
            rng, FormulaRule(formula=[f'${state}2="{label}"'], fill=PatternFill("solid", bgColor=colour), stopIfTrue=True)
        )


def _settings_sheet(wb: Workbook, meta: Mapping[str, Any]) -> None:
    ws = wb.create_sheet(schema.SETTINGS.name)
    for j, col in enumerate(schema.SETTINGS.columns, start=1):
        c = ws.cell(row=1, column=j, value=col.header)
        c.font, c.fill, c.alignment = HEADER_FONT, HEADER_FILL, CENTER
        ws.column_dimensions[get_column_letter(j)].width = col.width
    for i, (key, label) in enumerate(schema.SETTINGS_ROWS.items(), start=2):
        ws.cell(row=i, column=1, value=label).alignment = WRAP_TOP
        value = meta.get(key)
        c = put_text(ws.cell(row=i, column=2), value)
        c.alignment = WRAP_TOP
        if isinstance(value, dt.date) or key == "as_of":
            c.number_format = DATE_FORMAT  # refresh writes a real date here later
    for i, status in enumerate(schema.STATUSES, start=2):
        ws.cell(row=i, column=3, value=status)
    wb.defined_names["DanhMucTrangThai"] = DefinedName(
        "DanhMucTrangThai", attr_text=f"{quote_sheetname(schema.SETTINGS.name)}!$C$2:$C${1 + len(schema.STATUSES)}"
    )


def _plain_sheet(wb: Workbook, name: str, title: str) -> None:
    ws = wb.create_sheet(name)
    ws["A1"] = title
    ws["A1"].font = Font(name=FONT_NAME, sz=14, bold=True)
    ws.column_dimensions["A"].width = 36
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def new_workbook() -> Workbook:
    """A workbook whose default font is Times New Roman (the national document font)."""
    wb = Workbook()
    wb._fonts = IndexedList([Font(name=FONT_NAME, sz=12, family=1)])
    return wb


