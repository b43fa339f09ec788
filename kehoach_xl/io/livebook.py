"""The live-book adapter: a workbook open in Excel, seen through xlwings.

Inside Excel the program never saves the file (Excel owns it); it reads the
sheets it needs as grids, runs the same pure ``compute_*`` functions as the
command line, and applies the resulting :class:`MasterChanges` to the open book.

Every round trip to Excel is slow (COM on Windows, one JSON action per call
with the button server), so reads are one ``.value`` per sheet and writes are
grouped into rectangular blocks. A refresh of N tasks makes the same number of
calls whatever N is: program-owned columns (the derived deadline columns, the
summary and problems sheets) are written as whole 2-D blocks, filling the rows
in between with what the sheet already holds. ``LiveBook.calls`` counts the
round trips so tests can hold that promise.

Works with any xlwings engine: the desktop one (``RunPython``) and the remote
one (``xw.Book(json=payload)`` behind ``RunRemotePython``).
"""

from __future__ import annotations

import datetime as dt
import getpass
import re
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kehoach_xl.model import changes as _changes
from kehoach_xl.model import schema
from kehoach_xl.model.changes import CellValue, Link, LogEntry, MasterChanges
from kehoach_xl.model.master import find_sheet_name, match_headers, task_table
from kehoach_xl.rules.safe_cells import formula_like
from kehoach_xl.text import name_key

# Sheets the program rewrites wholesale: any gap inside a block may be filled.
_OWNED_SHEETS = (schema.SUMMARY_SHEET_NAME, schema.PROBLEMS_SHEET_NAME)
_OWNED_TASK_KEYS = frozenset(schema.DERIVED_FIELDS)

# Text Excel would turn into a formula, number or date when assigned through .Value.
# Formula-like text is decided by the one rule in safe_cells; this adds what Excel would read as
# a number or a date.
_RISKY_TEXT = re.compile(r"^[\s\d.,/:%()eE$€₫-]+$")


def excel_text(value: CellValue) -> CellValue:
    """A value ready for ``Range.value``: risky text gets Excel's text prefix (')."""
    if isinstance(value, Link):
        return "=" + value.formula
    if isinstance(value, str) and value and (formula_like(value) or _RISKY_TEXT.search(value)):
        return "'" + value
    return value


@dataclass
class Block:
    """One rectangular range write: top-left (row, col), 1-based, and its rows."""

    sheet: str
    row: int
    col: int
    values: list[list[CellValue]]

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.values), max((len(r) for r in self.values), default=0)


@dataclass
class Plan:
    """What applying a MasterChanges to a live book will do, before doing it."""

    clears: list[tuple[str, int, int, int]] = field(default_factory=list)  # sheet, first row, last row, last col
    blocks: list[Block] = field(default_factory=list)
    table_growth: list[tuple[str, int, int]] = field(default_factory=list)  # sheet, last row, last col

    @property
    def n_writes(self) -> int:
        return len(self.clears) + len(self.blocks) + len(self.table_growth)


def _cell(grid: list[list[Any]], r: int, c: int) -> Any:
    if 1 <= r <= len(grid) and 1 <= c <= len(grid[r - 1]):
        return grid[r - 1][c - 1]
    return None


def _last_used_row(grid: list[list[Any]]) -> int:
    for r in range(len(grid), 0, -1):
        if any(v not in (None, "") for v in grid[r - 1]):
            return r
    return 0


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Contiguous runs of sorted row numbers as (first, last)."""
    out: list[tuple[int, int]] = []
    for r in rows:
        if out and r == out[-1][1] + 1:
            out[-1] = (out[-1][0], r)
        else:
            out.append((r, r))
    return out


def owned_columns(sheet: str, grid: list[list[Any]]) -> set[int] | None:
    """Columns of ``sheet`` the program owns (None = the whole sheet)."""
    key = name_key(sheet)
    if key in {name_key(n) for n in _OWNED_SHEETS}:
        return None
    if key == name_key(schema.TASKS.name) and grid:
        found, _ = match_headers(schema.TASKS, grid[schema.TASKS.header_row - 1])
        return {j for k, j in found.items() if k in _OWNED_TASK_KEYS}
    if key == name_key(schema.PARTS.name) and grid:  # the parts sheet: its program-written columns
        found, _ = match_headers(schema.PARTS, grid[schema.PARTS.header_row - 1])
        return {j for k, j in found.items() if schema.PARTS.col(k).owner == "derived"}
    return set()


def _blocks_for_sheet(sheet: str, cells: Mapping[tuple[int, int], CellValue], grid: list[list[Any]]) -> list[Block]:
    owned = owned_columns(sheet, grid)
    by_col: dict[int, dict[int, CellValue]] = {}
    for (r, c), v in cells.items():
        by_col.setdefault(c, {})[r] = v
    blocks: list[Block] = []

    # Owned columns: adjacent columns become one block spanning all their changed rows;
    # rows without a change keep the value the sheet holds (read a moment ago).
    bridge = sorted(c for c in by_col if owned is None or c in owned)
    groups: list[list[int]] = []
    for c in bridge:
        if groups and c == groups[-1][-1] + 1:
            groups[-1].append(c)
        else:
            groups.append([c])
    for cols in groups:
        rows = [r for c in cols for r in by_col[c]]
        top, bottom = min(rows), max(rows)
        values = [
            [by_col[c].get(r, _cell(grid, r, c)) if r in by_col[c] else _cell(grid, r, c) for c in cols]
            for r in range(top, bottom + 1)
        ]
        blocks.append(Block(sheet, top, cols[0], values))

    # Other columns (staff's data): only the cells asked for, as contiguous runs,
    # with adjacent columns sharing identical runs merged into one block.
    runs_by_col = {c: tuple(_runs(sorted(by_col[c]))) for c in sorted(by_col) if c not in bridge}
    pending: list[tuple[tuple[tuple[int, int], ...], list[int]]] = []
    for c, runs in runs_by_col.items():
        if pending and pending[-1][0] == runs and pending[-1][1][-1] == c - 1:
            pending[-1][1].append(c)
        else:
            pending.append((runs, [c]))
    for runs, cols in pending:
        for top, bottom in runs:
            values = [[by_col[c][r] for c in cols] for r in range(top, bottom + 1)]
            blocks.append(Block(sheet, top, cols[0], values))
    return blocks


def plan_changes(
    changes: MasterChanges,
    grids: Mapping[str, list[list[Any]]],
    tables: Mapping[str, tuple[int, int, int, int]] | None = None,
    log_rows: Mapping[str, list[list[CellValue]]] | None = None,
) -> Plan:
    """Turn ``changes`` into bulk operations, the way the file writer would apply them.

    ``grids`` are the sheets as read (from A1). ``tables`` gives, per sheet, the
    first Excel Table's (header row, first col, last row, last col); appended
    rows go right under the table or the last used row, whichever is lower,
    and the table is grown over them. ``log_rows`` are extra appends (the log).
    """
    tables = tables or {}
    plan = Plan()
    names = list(grids)

    def actual(sheet: str) -> str:
        return find_sheet_name(names, sheet) or sheet

    appends: dict[str, list[list[CellValue]]] = {}
    for sheet, rows in list(changes.appends.items()) + list((log_rows or {}).items()):
        if rows:
            appends.setdefault(actual(sheet), []).extend(rows)
    cells: dict[str, dict[tuple[int, int], CellValue]] = {}
    for sheet, sheet_cells in changes.cells.items():
        if sheet_cells:
            cells.setdefault(actual(sheet), {}).update(sheet_cells)

    clear_from = {actual(s): v for s, v in changes.clear_from.items()}
    for name, start in clear_from.items():
        grid = grids.get(name, [])
        last = len(grid)
        width = max((len(r) for r in grid), default=0)
        if last >= start and width:
            plan.clears.append((name, start, last, width))

    for sheet in sorted(set(cells) | set(appends)):
        grid = list(grids.get(sheet, []))
        if sheet in clear_from:
            start = clear_from[sheet]
            grid = [row if i + 1 < start else [None] * len(row) for i, row in enumerate(grid)]
        sheet_cells = dict(cells.get(sheet, {}))
        rows = appends.get(sheet, [])
        if rows:
            table = tables.get(sheet)
            first_row = _last_used_row(list(grids.get(sheet, []))) + 1
            first_col = 1
            if table is not None:
                first_row = max(first_row, table[0] + 1)
                first_col = table[1]
            width = max(len(r) for r in rows)
            plan.blocks.append(
                Block(sheet, first_row, first_col, [list(r) + [None] * (width - len(r)) for r in rows])
            )
            if table is not None:
                last_row = first_row + len(rows) - 1
                if last_row > table[2] or first_col + width - 1 > table[3]:
                    plan.table_growth.append((sheet, max(last_row, table[2]), max(table[3], first_col + width - 1)))
        if sheet_cells:
            plan.blocks.extend(_blocks_for_sheet(sheet, sheet_cells, grid))
    return plan


def default_user() -> str:
    try:
        return f"{getpass.getuser()}@{socket.gethostname()}"
    except Exception:  # noqa: BLE001 - no login name in some service accounts
        return socket.gethostname()


class LiveBook:
    """An xlwings Book plus a count of the calls made to Excel."""

    def __init__(self, book: Any) -> None:
        self.book = book
        self.calls = 0
        self.grids: dict[str, list[list[Any]]] = {}
        self._names: list[str] | None = None

    # --- reading ---------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return str(self.book.name)

    def sheet_names(self) -> list[str]:
        if self._names is None:
            self.calls += 1
            self._names = [s.name for s in self.book.sheets]
        return self._names

    def read_grids(self, wanted: Iterable[str] | None = None) -> dict[str, list[list[Any]]]:
        """Values of the wanted sheets (all when None), each from A1 in one read."""
        names = self.sheet_names()
        if wanted is not None:
            keys = {name_key(w) for w in wanted}
            names = [n for n in names if name_key(n) in keys]
        for n in names:
            if n not in self.grids:
                self.grids[n] = self._read_sheet(n)
        return {n: self.grids[n] for n in names}

    def _read_sheet(self, name: str) -> list[list[Any]]:
        sheet = self.book.sheets[name]
        self.calls += 1
        last = sheet.used_range.last_cell
        rows, cols = last.row, last.column
        self.calls += 1
        values = sheet.range((1, 1), (rows, cols)).options(ndim=2).value
        grid = [list(r) for r in (values or [])]
        if len(grid) == 1 and all(v is None for v in grid[0]):
            return []
        return grid

    def tables(self, sheets: Iterable[str]) -> dict[str, tuple[int, int, int, int]]:
        """The main Excel Table of each sheet: (header row, first col, last row, last col).

        The program's own Table by name, else the longest (a sheet may also hold a small one of the staff's).
        """
        out: dict[str, tuple[int, int, int, int]] = {}
        for name in sheets:
            self.calls += 1
            tbls = list(self.book.sheets[name].tables)
            if tbls:
                self.calls += len(tbls)
                main = task_table(tbls, name=lambda t: t.name, rows=lambda t: t.range.rows.count)
                rng = main.range
                self.calls += 1
                out[name] = (rng.row, rng.column, rng.last_cell.row, rng.last_cell.column)
        return out

    # --- writing ---------------------------------------------------------------------------

    def apply(self, changes: MasterChanges, *, action: str, user: str | None = None) -> Plan:
        """Apply ``changes`` to the open book in bulk; the log rows go to "Nhật ký"."""
        needed = set(changes.cells) | set(changes.appends) | set(changes.clear_from)
        log_name = find_sheet_name(self.sheet_names(), schema.LOG.name)
        if log_name:
            needed.add(log_name)
        grids = self.read_grids(needed)
        log_rows: dict[str, list[list[CellValue]]] = {}
        if log_name:
            entries = list(changes.log)
            if not entries:
                n_cells = sum(len(v) for v in changes.cells.values())
                n_rows = sum(len(v) for v in changes.appends.values())
                entries = [LogEntry(action=action, new=f"Ghi {n_cells} ô, thêm {n_rows} dòng (trong Excel)")]
            header = grids.get(log_name, [[]])
            found, _ = match_headers(schema.LOG, header[0] if header else [])
            if not found:
                found = {c.key: j for j, c in enumerate(schema.LOG.columns, start=1)}
            log_rows[log_name] = _changes.log_rows(entries, found, user or default_user())
        append_sheets = {find_sheet_name(self.sheet_names(), s) or s for s in changes.appends} | set(log_rows)
        tables = self.tables([s for s in append_sheets if s in self.sheet_names()])
        plan = plan_changes(changes, grids, tables, log_rows)
        self.execute(plan)
        return plan

    def execute(self, plan: Plan) -> None:
        for sheet, first, last, width in plan.clears:
            self.calls += 1
            self.book.sheets[sheet].range((first, 1), (last, width)).clear_contents()
        for b in plan.blocks:
            nrows, ncols = b.shape
            values = [[excel_text(v) for v in row] + [None] * (ncols - len(row)) for row in b.values]
            self.calls += 1
            self.book.sheets[b.sheet].range((b.row, b.col), (b.row + nrows - 1, b.col + ncols - 1)).value = values
        for sheet, last_row, last_col in plan.table_growth:
            sht = self.book.sheets[sheet]
            table = sht.tables[0]
            top = table.range
            self.calls += 1
            table.resize(sht.range((top.row, top.column), (last_row, last_col)))

    # --- talking to the user ---------------------------------------------------------------

    def alert(self, message: str, title: str, *, critical: bool = False) -> None:
        self.calls += 1
        self.book.app.alert(message, title=title, buttons="ok", mode="critical" if critical else "info")

    def select(self, sheet: str, row: int, col: int) -> None:
        """Show ``sheet`` and select one cell (activate first: Excel selects only on the active sheet)."""
        sht = self.book.sheets[sheet]
        self.calls += 2
        sht.activate()
        sht.range((row, col)).select()


# --- the request xlwings' VBA client sends (RunRemotePython), built from a file ---------------


def _json_cell(value: Any) -> Any:
    """A cell as VBA-JSON encodes Range.Value: dates as ISO text, empty as null."""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if isinstance(value, dt.date):
        return f"{value:%Y-%m-%d}T00:00:00.000Z"
    if isinstance(value, dt.time):
        return f"1899-12-30T{value:%H:%M:%S}.000Z"
    if value == "":
        return None
    return value


def remote_payload(path: Any, *, active_sheet: int = 0, selection: str | None = "A1",
                   version: str | None = None) -> dict[str, Any]:
    """The JSON body ``RunRemotePython`` posts for the workbook ``path``.

    Same shape as xlwings' VBA client (``Remote.bas``): book name, active sheet
    index, selection, named ranges, and for every worksheet its name, pictures,
    tables and the values of the range from A1 to the used range's last cell.
    Used by tests and to try the button server with curl.
    """
    from pathlib import Path

    import xlwings
    from openpyxl import load_workbook

    from kehoach_xl.io.master_read import read_grids

    path = Path(path)
    grids = read_grids(path, tasks_table_only=False)  # Excel's client sends the whole used range
    wb = load_workbook(path, read_only=False)
    sheets = []
    try:
        for ws in wb.worksheets:
            grid = grids.get(ws.title, [])
            width = max((len(r) for r in grid), default=0)
            values = [[_json_cell(v) for v in list(r) + [None] * (width - len(r))] for r in grid] or [[]]
            tables = []
            for t in ws.tables.values():
                first, last = t.ref.split(":")
                header_last = re.sub(r"\d+", "", last) + re.sub(r"\D+", "", first)
                body_first = re.sub(r"\d+", "", first) + str(int(re.sub(r"\D+", "", first)) + 1)
                tables.append({
                    "name": t.displayName, "range_address": _abs(t.ref),
                    "header_row_range_address": _abs(f"{first}:{header_last}"),
                    "data_body_range_address": _abs(f"{body_first}:{last}"),
                    "total_row_range_address": None, "show_headers": True, "show_totals": False,
                    "table_style": t.tableStyleInfo.name if t.tableStyleInfo else "",
                    "show_autofilter": True,
                })
            sheets.append({"name": ws.title, "pictures": [], "tables": tables, "values": values})
    finally:
        wb.close()
    return {
        "client": "VBA",
        "version": version or xlwings.__version__,
        "book": {"name": path.name, "active_sheet_index": active_sheet, "selection": selection},
        "names": [],
        "sheets": sheets,
    }


def _abs(ref: str) -> str:
    return ":".join(re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", part) for part in ref.split(":"))
