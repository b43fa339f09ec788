"""Create a new master workbook (full writer) and read any master (fast reader).

A new master is written from nothing with openpyxl, which is fine because there
is nothing of the staff's to lose yet. Existing masters are only ever changed
through :mod:`kehoach_xl.io.master_write`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableStyleInfo

from . import schema
from .errors import DataError, SetupError
from .safe_cells import put_text
from .schema import Sheet
from .text import join_list, name_key, normalize_text, split_list

FONT_NAME = "Times New Roman"
DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
# [$-42A] is the Vietnamese locale: Excel and LibreOffice show 6,39 (decimal comma) on any PC.
DECIMAL_FORMAT = "[$-42A]#,##0.00"
DECIMAL1_FORMAT = "[$-42A]0.0"
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
    if isinstance(value, str) and col.type in ("text", "list"):
        return normalize_text(value, keep_newlines=True)
    return value


def row_height(row: Mapping[str, Any], cols: Sequence[schema.Column]) -> float:
    """Height that shows wrapped text in full.

    Neither Excel nor LibreOffice re-fits row heights of a file on opening, so
    without this a printed page shows long task texts cut or overlapping.
    """
    lines = 1
    for col in cols:
        v = row.get(col.key)
        if v is None or col.type not in ("text", "list"):
            continue
        text = join_list(v) if isinstance(v, (list, tuple)) else str(v)
        per_line = max(col.width * 1.15, 4)
        n = sum(max(1, -(-len(part) // int(per_line))) for part in text.split("\n"))
        lines = max(lines, n)
    return min(15.0 * lines + 3, 409.0)


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
        type="list", formula1=f"={settings}!$C$2:$C${1 + len(schema.STATUSES)}", allow_blank=True,
        showErrorMessage=True, errorTitle="Trạng thái không hợp lệ",
        error="Chọn một trong: " + ", ".join(schema.STATUSES) + ".",
        promptTitle="Trạng thái", prompt="Chọn trạng thái thực hiện từ danh sách.",
    )
    # Cells may name several units/leaders ("A; B"), so the list only guides: errorStyle information.
    unit_dv = DataValidation(type="list", formula1=f"={units}!$A$2:$A$500", allow_blank=True,
                             showErrorMessage=True, errorStyle="information",
                             error="Tên đơn vị chưa có trong sheet Đơn vị; nhiều đơn vị thì ngăn cách bằng dấu ;")
    leader_dv = DataValidation(type="list", formula1=f"={leaders}!$A$2:$A$100", allow_blank=True,
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


@contextlib.contextmanager
def replacing_master(path: Path) -> Iterator[Path | None]:
    """Guard for replacing a whole workbook at ``path``: yields the backup of the old one (None if new).

    Holds the master's lock, refuses when Excel/LibreOffice has the file open and copies it into
    the writer's backup folder first, so ``init --overwrite`` can be undone with ``restore``.
    """
    if not path.exists():
        yield None
        return
    from .config import Config, load_config
    from .io import backup as _backup
    from .io.lock import MasterLock, wait_for_owner_file

    try:
        cfg = load_config(path)
    except SetupError:  # a broken kehoach.toml must not stop a re-init
        cfg = Config()
    lock = MasterLock(path, stale_after=cfg.lock_stale_minutes * 60)
    lock.acquire(timeout=cfg.lock_timeout)
    try:
        wait_for_owner_file(path, stale_hours=cfg.owner_file_stale_hours, wait_seconds=0)
        yield _backup.make_backup(path, operation="init")
    finally:
        lock.release()


def _save_atomic(wb: Workbook, path: Path) -> None:
    """Save beside ``path`` and rename over it, so a crash never leaves half a workbook."""
    from .io.backup import fsync_dir

    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")  # the name the writer cleans up after crashes
    try:
        wb.save(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def create_master(
    path: Path | str,
    *,
    tasks: Sequence[Mapping[str, Any]] = (),
    units: Sequence[Mapping[str, Any]] = (),
    leaders: Sequence[Mapping[str, Any]] = (),
    scores: Sequence[Mapping[str, Any]] = (),
    meta: Mapping[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a new master workbook with every sheet, rule and print setting.

    ``tasks`` etc. are mappings keyed by the column keys in :mod:`schema`.
    """
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise SetupError(f"create_master viết tệp .xlsx (dùng init hoặc build_xlsm cho .xlsm): {path.name}")
    if path.exists() and not overwrite:
        raise SetupError(f"Tệp {path} đã tồn tại; không ghi đè sổ theo dõi đang có.")
    meta = dict(meta or {})
    meta.setdefault("master_id", uuid.uuid4().hex)
    wb = new_workbook()
    ws = _write_table_sheet(wb, schema.TASKS, tasks, first=True)
    _add_task_rules(wb, ws, len(tasks))
    ws.sheet_view.zoomScale = 90
    _write_table_sheet(wb, schema.UNITS, units)
    _write_table_sheet(wb, schema.LEADERS, leaders)
    _write_table_sheet(wb, schema.SCORES, scores)
    _plain_sheet(wb, schema.SUMMARY_SHEET_NAME, schema.SUMMARY_TITLE)
    _plain_sheet(wb, schema.PROBLEMS_SHEET_NAME, "KẾT QUẢ KIỂM TRA DỮ LIỆU")
    _settings_sheet(wb, meta)
    _write_table_sheet(wb, schema.LOG, [])
    _write_table_sheet(wb, schema.HISTORY, [])
    from .reports.summary import build_summary_scaffold  # late: reports imports this module

    build_summary_scaffold(wb)
    wb.properties.creator = "kehoach_xl"
    wb.properties.title = str(meta.get("plan_title") or "Sổ theo dõi thực hiện kế hoạch")
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing_master(path):
        _save_atomic(wb, path)
    return path


# --- reading ----------------------------------------------------------------


@dataclass
class SheetData:
    """One sheet read by header: rows as dicts plus where each value lives."""

    sheet: Sheet
    present: bool = True
    columns: dict[str, int] = field(default_factory=dict)  # key -> 1-based column
    headers: dict[int, str] = field(default_factory=dict)  # 1-based column -> header text as found
    rows: list[dict[str, Any]] = field(default_factory=list)
    row_numbers: list[int] = field(default_factory=list)  # Excel row of each entry in rows
    missing: list[str] = field(default_factory=list)  # required keys whose column was not found
    header_row: int = 1

    def cell(self, i: int, key: str) -> str:
        """Address as the user sees it, e.g. ``Nhiệm vụ!H17``."""
        return f"{self.sheet.name}!{get_column_letter(self.columns[key])}{self.row_numbers[i]}"


@dataclass
class MasterData:
    path: Path
    tasks: SheetData
    units: SheetData
    leaders: SheetData
    scores: SheetData
    history: SheetData
    settings: dict[str, Any]
    sheet_names: list[str]
    settings_rows: dict[str, int] = field(default_factory=dict)  # key -> Excel row on the settings sheet
    # (st_mtime_ns, st_size) of the file when it was read; None for a live book. Writers pass it
    # as write_master(expect=...) so a save by staff in between is refused, not patched over.
    stamp: tuple[int, int] | None = None

    @property
    def plan_year(self) -> int | None:
        y = self.settings.get("plan_year")
        try:
            return int(y) if y not in (None, "") else None
        except (TypeError, ValueError):
            return None

    def task_index(self) -> dict[str, int]:
        return {normalize_text(r.get("id")): i for i, r in enumerate(self.tasks.rows) if r.get("id")}


def match_headers(sheet: Sheet, header_cells: Sequence[Any]) -> tuple[dict[str, int], dict[int, str]]:
    """Find each schema column by its header (or an alias), in any order."""
    wanted: dict[str, str] = {}
    for col in sheet.columns:
        for h in (col.header, *col.aliases):
            wanted.setdefault(name_key(h), col.key)
    found: dict[str, int] = {}
    headers: dict[int, str] = {}
    for j, raw in enumerate(header_cells, start=1):
        text = normalize_text(raw)
        if not text:
            continue
        headers[j] = text
        key = wanted.get(name_key(text))
        if key and key not in found:
            found[key] = j
    return found, headers


def _to_python(value: Any) -> Any:
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()
    return value


def read_sheet_rows(sheet: Sheet, grid: list[list[Any]], *, offset_row: int = 0) -> SheetData:
    data = SheetData(sheet=sheet)
    if not grid:
        data.present = True
        data.missing = [c.key for c in sheet.columns if c.required]
        return data
    # The header is the first row that matches at least two known headers.
    hdr_idx = 0
    for i, row in enumerate(grid[:10]):
        if len(match_headers(sheet, row)[0]) >= 2:
            hdr_idx = i
            break
    data.columns, data.headers = match_headers(sheet, grid[hdr_idx])
    data.header_row = hdr_idx + 1 + offset_row
    data.missing = [c.key for c in sheet.columns if c.required and c.key not in data.columns]
    cols = list(data.columns.items())
    for i in range(hdr_idx + 1, len(grid)):
        row = grid[i]
        rec = {}
        for key, j in cols:
            rec[key] = _to_python(row[j - 1]) if j - 1 < len(row) else None
        if all(v is None for v in rec.values()):
            continue
        data.rows.append(rec)
        data.row_numbers.append(i + 1 + offset_row)
    return data


def find_sheet_name(names: Iterable[str], wanted: str) -> str | None:
    key = name_key(wanted)
    for n in names:
        if name_key(n) == key:
            return n
    return None


def master_from_grids(grids: Mapping[str, list[list[Any]]], path: Path | str = "",
                      stamp: tuple[int, int] | None = None) -> MasterData:
    """Build :class:`MasterData` from raw sheet grids (sheet name -> rows of values).

    This is how a live workbook inside Excel (xlwings) and a file on disk share
    one code path: both are turned into grids first.
    """
    names = list(grids)

    def sheet(s: Sheet) -> SheetData:
        actual = find_sheet_name(names, s.name)
        if actual is None:
            d = SheetData(sheet=s, present=False)
            d.missing = [c.key for c in s.columns if c.required]
            return d
        return read_sheet_rows(s, [list(r) for r in grids[actual]])

    settings: dict[str, Any] = {}
    settings_rows: dict[str, int] = {}
    st_name = find_sheet_name(names, schema.SETTINGS.name)
    if st_name:
        # Found by label, so staff may move or insert rows on the settings sheet.
        for r, row in enumerate(list(grids[st_name])[1:], start=2):
            label = normalize_text(row[0]) if row else ""
            if label in schema.SETTINGS_LABEL_KEYS:
                key = schema.SETTINGS_LABEL_KEYS[label]
                settings[key] = _to_python(row[1]) if len(row) > 1 else None
                settings_rows[key] = r
    return MasterData(
        path=Path(path),
        tasks=sheet(schema.TASKS),
        units=sheet(schema.UNITS),
        leaders=sheet(schema.LEADERS),
        scores=sheet(schema.SCORES),
        history=sheet(schema.HISTORY),
        settings=settings,
        sheet_names=names,
        settings_rows=settings_rows,
        stamp=stamp,
    )


# Sheets whose contents the rules need; the summary, log and problems sheets are skipped for speed.
_READ_SHEETS = (schema.TASKS, schema.UNITS, schema.LEADERS, schema.SCORES, schema.HISTORY, schema.SETTINGS)
MASTER_SHEETS: tuple[str, ...] = tuple(s.name for s in _READ_SHEETS)  # what the rules read, files and live books


def file_stamp(path: Path | str) -> tuple[int, int]:
    """(st_mtime_ns, st_size) of a file: changes whenever anyone saves it."""
    st = Path(path).stat()
    return st.st_mtime_ns, st.st_size


def read_stamped_grids(path: Path | str, sheets: Iterable[str] | None = None, *,
                       below: dict[str, tuple[int, list[list[Any]]]] | None = None
                       ) -> tuple[dict[str, list[list[Any]]], tuple[int, int]]:
    """:func:`read_grids` plus the file's stamp, taken before reading.

    Taken before, so a save during the read makes the stamp stale (the write is refused)
    rather than hiding the save.
    """
    path = Path(path)
    if not path.exists():
        raise SetupError(f"Không tìm thấy tệp: {path}")
    stamp = file_stamp(path)
    return read_grids(path, sheets, below=below), stamp


def read_grids(path: Path | str, sheets: Iterable[str] | None = None, *, tasks_table_only: bool = True,
               below: dict[str, tuple[int, list[list[Any]]]] | None = None) -> dict[str, list[list[Any]]]:
    """Raw values of the named sheets (all when None), read with python-calamine.

    ``tasks_table_only``: drop the rows below the task sheet's Excel Table (see
    :func:`cut_tasks_below_table`); False gives the whole used range, as Excel sends it.
    ``below``: when given, receives {sheet: (first Excel row, rows)} of what was cut.
    """
    from python_calamine import CalamineWorkbook

    path = Path(path)
    if not path.exists():
        raise SetupError(f"Không tìm thấy tệp: {path}")
    try:
        wb = CalamineWorkbook.from_path(str(path), load_tables=True)
    except Exception as exc:  # noqa: BLE001 - calamine raises several error types
        raise DataError(f"Không mở được tệp {path.name}: tệp hỏng hoặc không phải Excel ({exc}).") from exc
    try:
        names = list(wb.sheet_names)
        if sheets is not None:
            keep = {name_key(s) for s in sheets}
            names = [n for n in names if name_key(n) in keep]
        grids = {n: wb.get_sheet_by_name(n).to_python(skip_empty_area=False) for n in names}
        if tasks_table_only:
            _cut_below_task_table(wb, grids, below)
        return grids
    finally:
        wb.close()


def _cut_below_task_table(wb: Any, grids: dict[str, list[list[Any]]],
                          below: dict[str, tuple[int, list[list[Any]]]] | None = None) -> None:
    try:
        tables = [wb.get_table_by_name(t) for t in wb.table_names]
    except Exception:  # noqa: BLE001 - a workbook whose tables calamine cannot read: keep every row
        return
    tasks_key = name_key(schema.TASKS.name)
    on_tasks = [t for t in tables if name_key(t.sheet) == tasks_key]
    if not on_tasks:
        return
    # Staff may add a small Table of their own (a legend) beside the tasks: the task list is the
    # Table the program named, else the longest one. calamine's end row is 0-based.
    chosen = task_table(on_tasks, name=lambda t: t.name, rows=lambda t: t.end[0] - t.start[0])
    cut_tasks_below_table(grids, {chosen.sheet: chosen.end[0] + 1}, below)


def task_table(tables: Sequence[Any], *, name: Callable[[Any], str], rows: Callable[[Any], int]) -> Any:
    """The task list among the Excel Tables of the tasks sheet: ours by name, else the longest."""
    for t in tables:
        if name_key(name(t)) == name_key(schema.TASKS.table_name or ""):
            return t
    return max(tables, key=rows)


def rows_below_task_table(below: Mapping[str, tuple[int, list[list[Any]]]]) -> list[tuple[int, Any]]:
    """(Excel row, first value) of the non-empty rows cut below the task Table by :func:`read_grids`.

    LibreOffice does not grow a Table when a row is typed under it, so a task added
    there would go unseen: validation points at such rows instead of guessing.
    """
    out = []
    for first, rows in below.values():
        for i, row in enumerate(rows, start=first):
            values = [v for v in row if v not in (None, "")]
            if values:
                out.append((i, values[0]))
    return out


def cut_tasks_below_table(grids: dict[str, list[list[Any]]], table_last_row: Mapping[str, int],
                          below: dict[str, tuple[int, list[list[Any]]]] | None = None) -> None:
    """On a tasks sheet that holds an Excel Table, the tasks are the Table's rows.

    Staff write notes, links and merged captions below the table; read as tasks,
    refresh would write deadline states into them. Rows the program appends grow
    the Table, so nothing of the program's is lost by the cut. ``table_last_row``
    maps a sheet name to the Excel row of its Table's last row (from calamine for a
    file, from Excel for a live book).
    """
    tasks_key = name_key(schema.TASKS.name)
    last = max((r for sheet, r in table_last_row.items() if name_key(sheet) == tasks_key), default=None)
    if last is None:
        return
    for name, grid in grids.items():
        if name_key(name) == tasks_key:
            if below is not None:
                below[name] = (last + 1, grid[last:])
            del grid[last:]


def read_master(path: Path | str) -> MasterData:
    """Read every sheet of a master by header, quickly and without evaluating anything."""
    return read_master_and(path)[0]


def read_master_and(path: Path | str, extra: Iterable[str] = (), *,
                    below: dict[str, tuple[int, list[list[Any]]]] | None = None
                    ) -> tuple[MasterData, dict[str, list[list[Any]]]]:
    """:func:`read_master` plus the raw grids of ``extra`` sheets, in one read of the file."""
    grids, stamp = read_stamped_grids(path, [*MASTER_SHEETS, *extra], below=below)
    return master_from_grids(grids, path, stamp), grids


def summary_sheet_is_ours(grid: list[list[Any]] | None) -> bool:
    """A summary sheet the program made starts with its title in A1.

    A "Tổng hợp" sheet of the staff's own (a pivot table, a hand-made table) is
    theirs: neither refresh nor summary may write into it.
    """
    return bool(grid and grid[0] and normalize_text(grid[0][0]) == schema.SUMMARY_TITLE)


def settings_cell(md: MasterData, key: str) -> tuple[int, int] | None:
    """(row, col) of a settings value, for writers; None when its label row is missing.

    No fallback to the row a new master uses: staff may have deleted or moved rows, and that
    row may now hold another setting (the master_id).
    """
    if key in md.settings_rows:
        return md.settings_rows[key], 2
    return None


# --- the tasks view used by the CLI and reports ------------------------------------


def _iso(v: Any) -> Any:
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return v


def task_records(md: MasterData) -> list[dict[str, Any]]:
    """Tasks as JSON-ready dicts with snake_case keys (lists split, dates ISO)."""
    out = []
    for row in md.tasks.rows:
        rec: dict[str, Any] = {}
        for col in schema.TASKS.columns:
            v = row.get(col.key)
            if col.type == "list":
                v = split_list(v)
            elif col.key == "deadline_state" and v:
                v = schema.DEADLINE_STATE_CODES.get(normalize_text(v), v)
            elif col.key == "deadline_kind" and v:
                v = schema.DEADLINE_KIND_CODES.get(normalize_text(v), v)
            elif col.key == "recurrence" and v:
                v = schema.RECURRENCE_CODES.get(normalize_text(v), v)
            elif isinstance(v, str):
                v = normalize_text(v, keep_newlines=True)
            rec[col.key] = _iso(v)
        out.append(rec)
    return out


def tasks(master: Path | str) -> list[dict[str, Any]]:
    """Every task of the master as a JSON-ready dict."""
    return task_records(read_master(master))


def init(master: Path | str, *, sample: str | None = None, overwrite: bool = False) -> Path:
    """Create an empty master (optionally with a sample plan's registry) and a default kehoach.toml."""
    from .config import CONFIG_NAME, default_toml, ensure_signing_key
    from .sample import sample_registry

    master = Path(master)
    reg: dict[str, Any] = sample_registry(sample) if sample else {}
    macro = master.suffix.lower() == ".xlsm"
    if macro and master.exists() and not overwrite:
        raise SetupError(f"Tệp {master} đã tồn tại; không ghi đè sổ theo dõi đang có.")
    # An .xlsm is the .xlsx master plus xlwings' VBA project and the buttons (see xlsm.py).
    plain = master.with_name(f".{master.stem}.tao-moi.xlsx") if macro else master
    if macro:
        plain.unlink(missing_ok=True)  # left by a killed run; a scratch file, not a master to back up
    path = create_master(
        plain,
        units=reg.get("units", ()),
        leaders=reg.get("leaders", ()),
        scores=reg.get("scores", ()),
        meta=reg.get("meta"),
        overwrite=overwrite and not macro,
    )
    if macro:
        from .xlsm import build_xlsm

        try:
            with replacing_master(master):  # an existing .xlsm is backed up like any master
                path = build_xlsm(plain, master, overwrite=overwrite)
        finally:
            plain.unlink(missing_ok=True)
    toml = path.parent / CONFIG_NAME
    if not toml.exists():
        # The department's own random key for signing unit workbooks (there is no built-in one).
        toml.write_text(default_toml(path.name), encoding="utf-8")
    else:
        ensure_signing_key(toml)  # an older kehoach.toml without a key gets one; an existing key is kept
    return path
