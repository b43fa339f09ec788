"""A new master workbook built whole with openpyxl: every sheet, Table, rule and print setting.

A new master is written from nothing with openpyxl, which is fine because there is nothing of
the staff's to lose yet. Existing masters are only ever changed through the surgical writer
(:mod:`kehoach_xl.io.master_write`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from copy import copy
from functools import partial
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side, is_date_format
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableStyleInfo

from kehoach_xl import vn
from kehoach_xl.io.master_new import STREAMED_ROWS, StreamedRows, stream_rows
from kehoach_xl.io.xlsx_print import a4_one_page_wide
from kehoach_xl.model import schema
from kehoach_xl.model.footer import as_of_part, hf
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


# Days left, in words when the deadline has passed: -16 shows "Quá 16 ngày" (the cell keeps the
# number, so sorting, filters and the program read it as before).
DAYS_FORMAT = '0;"Quá "0" ngày";0'


def _format_for(col: schema.Column) -> str | None:
    if col.key in ("days_remaining", "working_days_remaining"):
        return DAYS_FORMAT
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
    # One styled cell per column, its style array copied to the others: setting alignment and
    # border cell by cell costs openpyxl a hash lookup each (most of the time of a 10,000-task import).
    templates = []
    for j, col in enumerate(cols, start=1):
        c = ws.cell(row=2, column=j)
        c.alignment = CENTER if col.type in ("int", "percent", "date", "datetime") or col.key in ("stt", "id", "group") else WRAP_TOP
        c.border = BORDER
        fmt = _format_for(col)
        if fmt:
            c.number_format = fmt
        templates.append((c._style, fmt))

    def cells(i: int, row: Mapping[str, Any], make: Any) -> list[Any]:
        out = []
        for j, col in enumerate(cols, start=1):
            c = make(row=i, column=j)
            style, fmt = templates[j - 1]
            c._style = copy(style)
            put_text(c, _cell_value(col, row.get(col.key)))
            if fmt and c.number_format != fmt:  # a date in a number column: its format wins, as before
                c.number_format = fmt
            out.append(c)
        return out

    # The first data row is written as cells; the others are streamed when the workbook is saved.
    cells(2, data[0], ws.cell)
    ws.row_dimensions[2].height = row_height(data[0], cols)
    if len(data) > 1:
        stream_rows(ws, StreamedRows(
            3, len(data) - 1, lambda k: (cells(3 + k, data[k + 1], partial(Cell, ws)), row_height(data[k + 1], cols)),
            values=_RowValues(cols, data),
            styles=[style for style, _ in templates],
            dates_keep_style=[is_date_format(ws.cell(row=2, column=j).number_format) for j in range(1, len(cols) + 1)],
            height=lambda k: row_height(data[k + 1], cols)))
    last_col = get_column_letter(len(cols))
    ref = f"A1:{last_col}{len(data) + 1}"
    if sheet.table_name:
        table = Table(displayName=sheet.table_name, ref=ref)
        table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
        ws.add_table(table)
    ws.freeze_panes = "B2" if sheet is schema.TASKS else "A2"
    a4_one_page_wide(ws)
    ws.print_options.horizontalCentered = True
    if sheet is schema.TASKS:
        print_task_sheet(ws)
    return ws


# The printed task list (see docs/master-format.md, “Bản in”): two A4 landscape pages side by side
# per band of rows, the plan's identity columns (Mã, Nhóm, STT, Nhiệm vụ) repeated on both, a fixed
# scale so 12 pt text prints at 9.2 pt, and a break chosen so that page 1 holds who does what by
# when and page 2 what was done, the difficulties, the deadline state and the proposals.
TASK_PRINT_SCALE = 77
TASK_PRINT_TITLE_COLUMNS = "A:D"
TASK_PRINT_BREAK_AFTER = "completed_on"  # the last column of page 1


def print_task_sheet(ws: Any, meta: Mapping[str, Any] | None = None) -> None:
    """Print setup of the tasks sheet: area, repeated columns, scale, page break, header and footer."""
    from openpyxl.worksheet.pagebreak import Break

    last = get_column_letter(schema.TASKS_PRINT_COLUMNS)
    # Whole columns, so rows added later print too (empty pages are not printed).
    ws.print_area = f"A1:{last}1048576"
    ws.print_title_rows = "1:1"
    ws.print_title_cols = TASK_PRINT_TITLE_COLUMNS
    ws.sheet_properties.pageSetUpPr.fitToPage = False
    ws.page_setup.scale = TASK_PRINT_SCALE
    ws.page_setup.fitToWidth = ws.page_setup.fitToHeight = None
    ws.page_setup.pageOrder = "overThenDown"  # both halves of a band of rows come out one after the other
    ws.print_options.horizontalCentered = False
    ws.page_margins.left = ws.page_margins.right = 0.25
    ws.page_margins.top = 0.8
    ws.page_margins.bottom = 0.6
    ws.page_margins.header = ws.page_margins.footer = 0.25
    ws.col_breaks.append(Break(id=schema.TASKS.keys.index(TASK_PRINT_BREAK_AFTER) + 1))
    set_task_print_header(ws, meta or {})


def set_task_print_header(ws: Any, meta: Mapping[str, Any]) -> None:
    """The plan's title and number at the top of every printed page; agency, page x/y and the data's
    as-of date below (``meta["as_of"]``, else today: refresh keeps it up to date, see model/footer)."""
    title = normalize_text(meta.get("plan_title")) or "Sổ theo dõi thực hiện kế hoạch"
    number = normalize_text(meta.get("plan_number"))
    head = hf(title, bold=True)
    if number:
        head += hf(f" (Kế hoạch số {number})")
    ws.HeaderFooter.scaleWithDoc = False  # 11 pt on paper whatever the sheet's scale
    ws.oddHeader.center.text = head
    ws.oddFooter.left.text = hf(normalize_text(meta.get("agency")))
    ws.oddFooter.center.text = hf("Trang ") + "&P/&N"
    # Not "&D": Excel prints that in the PC's regional format (12/3/2026 for 3 December on a US setup).
    ws.oddFooter.right.text = as_of_part(_as_of(meta.get("as_of")))


def _as_of(value: Any) -> dt.date:
    """The as-of date the settings sheet will hold (a date or a dd/mm/yyyy text), else today."""
    try:
        return vn.parse_date(value) or dt.date.today()
    except (TypeError, ValueError, OverflowError):
        return dt.date.today()


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
    # The printed settings stop before the master's internal identifier (a random hash staff have no
    # use for on paper); it stays in the sheet for the program.
    shown = [k for k in schema.SETTINGS_ROWS if k != "master_id"]
    ws.print_area = f"A1:{get_column_letter(len(schema.SETTINGS.columns))}{1 + len(shown)}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
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


# The problems sheet (“Kiểm tra”): the program rewrites its values on every check through the
# surgical writer, which keeps each cell's style, so the layout is set here once: widths that show
# a whole address and message, wrapped text on the rows the check fills, the severity coloured.
PROBLEMS_WIDTHS = (5, 10, 12, 18, 6, 16, 20, 22, 56, 22)  # STT … Nội dung, Mã lỗi
PROBLEMS_STYLED_ROWS = 500
SEVERITY_FILLS = {"Lỗi": ("FFC7CE", "9C0006"), "Cảnh báo": ("FFEB9C", "7F6000")}


def _problems_sheet(wb: Workbook) -> Any:
    from kehoach_xl.rules import validation_rules as rules
    from kehoach_xl.rules.validate import PROBLEMS_HEADER_ROW, PROBLEMS_TITLE

    ws = wb.create_sheet(schema.PROBLEMS_SHEET_NAME)
    ws["A1"] = PROBLEMS_TITLE
    ws["A1"].font = Font(name=FONT_NAME, sz=14, bold=True)
    ws["A3"] = "Bấm vào địa chỉ ở cột “Ô” để đến ngay ô cần sửa."
    ws["A3"].font = Font(name=FONT_NAME, sz=12, italic=True)
    headers = rules.PROBLEM_SHEET_HEADERS
    for j, (h, w) in enumerate(zip(headers, PROBLEMS_WIDTHS, strict=True), start=1):
        ws.column_dimensions[get_column_letter(j)].width = w
        c = ws.cell(row=PROBLEMS_HEADER_ROW, column=j, value=h)
        c.font, c.fill, c.alignment, c.border = HEADER_FONT, HEADER_FILL, CENTER, BORDER
    first, last = PROBLEMS_HEADER_ROW + 1, PROBLEMS_HEADER_ROW + PROBLEMS_STYLED_ROWS
    centred = {1, 2, 5}
    link_font = Font(name=FONT_NAME, sz=12, color="0563C1", underline="single")
    for r in range(first, last + 1):
        for j in range(1, len(headers) + 1):
            c = ws.cell(row=r, column=j)
            c.alignment = CENTER if j in centred else WRAP_TOP
            if j == 4:
                c.font = link_font
    sev = get_column_letter(2)
    for label, (fill, colour) in SEVERITY_FILLS.items():
        ws.conditional_formatting.add(
            f"{sev}{first}:{sev}{last}",
            FormulaRule(formula=[f'${sev}{first}="{label}"'], fill=PatternFill("solid", bgColor=fill),
                        font=Font(color=colour, bold=True), stopIfTrue=True))
    ws.freeze_panes = f"A{first}"
    # The slug (last column) is for IT staff; the printed page stops at the message.
    ws.print_area = f"A1:{get_column_letter(len(headers) - 1)}{last}"
    ws.print_title_rows = f"{PROBLEMS_HEADER_ROW}:{PROBLEMS_HEADER_ROW}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.oddFooter.center.text = hf("Trang ") + "&P/&N"
    return ws


def new_workbook() -> Workbook:
    """A workbook whose default font is Times New Roman (the national document font)."""
    wb = Workbook()
    wb._fonts = IndexedList([Font(name=FONT_NAME, sz=12, family=1)])
    return wb




def add_parts_sheet(wb: Workbook, as_of: dt.date | None = None) -> Any:
    """The sheet "Phần việc" of a new master, right after the task sheet, built from the tasks written.

    Its rows come from the same pure step as a refresh or merge (``rules/parts``), and its layout
    from the same builder as the sheet grafted into an older master (``io/xlsx_graft``), so a new
    master and a migrated one hold the same sheet.
    """
    from kehoach_xl.io.xlsx_graft import style_owned_sheet
    from kehoach_xl.model.master import master_from_grids
    from kehoach_xl.rules.parts import parts_of, parts_sheet_changes

    grids = {ws.title: _grid(ws) for ws in wb.worksheets}
    md = master_from_grids(grids)
    md.parts.present = False
    rows = parts_sheet_changes(md, parts_of(md), as_of or dt.date.today()).new_sheets.get(schema.PARTS.name)
    del grids, md
    tasks_at = wb.sheetnames.index(schema.TASKS.name) if schema.TASKS.name in wb.sheetnames else 0
    ws = wb.create_sheet(schema.PARTS.name, tasks_at + 1)
    rows = rows or [[c.header for c in schema.PARTS.columns]]
    # The header and the first part as cells, laid out by the graft's builder; the other parts
    # streamed at save time with the same styles, heights, Table and colours.
    style_owned_sheet(ws, schema.PARTS, rows[:2])
    if len(rows) > 2:
        _stream_parts(ws, rows)
    return ws


class _RowValues:
    """The cell values of data rows 1 … (row 0 is written as cells), each text cleaned once per distinct text.

    The parts of a new master are computed from these values and the sheet is written from them,
    and a plan repeats its unit, deadline and group texts on many rows.
    """

    def __init__(self, cols: Sequence[schema.Column], data: Sequence[Mapping[str, Any]]) -> None:
        self.cols, self.data = cols, data
        self._texts: dict[tuple[str, str], Any] = {}

    def __call__(self, k: int) -> list[Any]:
        row, out = self.data[k + 1], []
        for col in self.cols:
            v = row.get(col.key)
            if isinstance(v, str) and col.type in ("text", "list", "email"):
                key = (col.type, v)
                if key not in self._texts:
                    self._texts[key] = _bound(_cell_value(col, v))
                out.append(self._texts[key])
            else:
                out.append(_bound(_cell_value(col, v)))
        return out


def _bound(value: Any) -> Any:
    """The value an openpyxl cell holds once given ``value``: text is cut at Excel's 32,767 characters."""
    return value[:32767] if isinstance(value, str) else value


def _grid(ws: Any) -> list[list[Any]]:
    """The sheet's values as openpyxl would read them back, streamed rows included."""
    grid = [list(r) for r in ws.iter_rows(values_only=True)]
    streamed = getattr(ws, STREAMED_ROWS, None)
    if streamed is not None:
        grid += (streamed.row_values(k) for k in range(streamed.count))
    return grid


def _stream_parts(ws: Any, rows: Sequence[Sequence[Any]]) -> None:
    """``style_owned_sheet(ws, PARTS, rows)`` for rows 3 on, given it wrote the header and one part."""
    from openpyxl.formatting.formatting import ConditionalFormattingList

    from kehoach_xl.io.xlsx_graft import _CF_MIN_ROWS as _PARTS_CF_MIN_ROWS

    cols = schema.PARTS.columns
    keys = schema.PARTS.keys
    n = len(rows) - 1  # data rows
    last_col = get_column_letter(len(cols))
    for table in ws.tables.values():
        table.ref = f"A1:{last_col}{n + 1}"
    one = f"A2:{last_col}{max(2, _PARTS_CF_MIN_ROWS)}"
    if n + 1 > _PARTS_CF_MIN_ROWS:  # the colours cover every part, as style_owned_sheet does for more rows
        old, ws.conditional_formatting = ws.conditional_formatting, ConditionalFormattingList()
        for cf in old:
            sqref = str(cf.sqref)
            for rule in cf.rules:
                ws.conditional_formatting.add(f"A2:{last_col}{n + 1}" if sqref == one else sqref, rule)
    templates = [ws.cell(row=2, column=j)._style for j in range(1, len(cols) + 1)]

    def row(k: int) -> tuple[list[Any], float]:
        values = rows[k + 2]
        out = []
        for j in range(len(cols)):
            c = put_text(Cell(ws, row=k + 3, column=j + 1), values[j] if j < len(values) else None)
            c._style = copy(templates[j])
            out.append(c)
        return out, height(k)

    def height(k: int) -> float:
        return row_height(dict(zip(keys, rows[k + 2], strict=False)), cols)

    def values(k: int) -> list[Any]:
        vals = rows[k + 2]
        return [_bound(vals[j]) if j < len(vals) else None for j in range(len(cols))]

    # the style is set after the value there, so every cell ends with its column's style, dates too
    stream_rows(ws, StreamedRows(3, n - 1, row, values=values, styles=templates,
                                 dates_keep_style=[True] * len(cols), height=height))
