"""The master's data as the program sees it: sheets found by name, columns by header, rows as dicts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from kehoach_xl.model import schema
from kehoach_xl.model.address import sheet_cell
from kehoach_xl.model.rows import row_maker
from kehoach_xl.model.schema import Sheet
from kehoach_xl.text import name_key, normalize_text, split_list


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
        return sheet_cell(self.sheet.name, self.row_numbers[i], self.columns[key])


def _forward(name: str) -> property:
    return property(lambda self: getattr(self.loaded(), name))


class DeferredSheetData(SheetData):
    """A sheet that is read the first time a rule looks at its rows.

    The history ("Lịch sử") gains a row per report every period and soon outweighs the task list,
    yet refresh and validation rarely need it (the sheet "Phần việc" holds each part's period and
    derived status). Reading it only when asked keeps a year-old master as fast as a new one.
    ``load`` reads the sheet then (``io/master_read`` checks the file is still the one read).
    """

    # Not the dataclass __init__: nothing is known of the sheet but that it exists.
    def __init__(self, sheet: Sheet, load: Callable[[], SheetData]) -> None:  # noqa: D107
        self.sheet = sheet
        self.present = True
        self._load: Callable[[], SheetData] | None = load
        self._data: SheetData | None = None

    def loaded(self) -> SheetData:
        if self._data is None:
            assert self._load is not None
            self._data, self._load = self._load(), None
        return self._data

    @property
    def is_loaded(self) -> bool:
        return self._data is not None

    columns = _forward("columns")  # type: ignore[assignment]
    headers = _forward("headers")  # type: ignore[assignment]
    rows = _forward("rows")  # type: ignore[assignment]
    row_numbers = _forward("row_numbers")  # type: ignore[assignment]
    missing = _forward("missing")  # type: ignore[assignment]
    header_row = _forward("header_row")  # type: ignore[assignment]


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
    # The sheet "Phần việc" (one row per task and unit); not present in a master made before it existed.
    parts: SheetData = field(default_factory=lambda: SheetData(sheet=schema.PARTS, present=False))
    # What the rules derive from this read and several steps ask for again (who owes what, each
    # part): worked out once per MasterData. Nobody edits a MasterData's rows in place; a step
    # that changes the data builds a new one (``model/apply.follow_changes``, else
    # ``master_from_grids``), which starts empty.
    _memo: dict[Any, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __deepcopy__(self, memo: dict[int, Any]) -> MasterData:
        # A copy is made to be changed (tests, what-if runs): it must not answer from the original's memo.
        import copy

        new = object.__new__(MasterData)
        for f in fields(self):
            setattr(new, f.name, {} if f.name == "_memo" else copy.deepcopy(getattr(self, f.name), memo))
        return new

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()`` the first time ``key`` is asked of this read, the same object after."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    @property
    def plan_year(self) -> int | None:
        y = self.settings.get("plan_year")
        try:
            return int(y) if y not in (None, "") else None
        except (TypeError, ValueError):
            return None

    def task_index(self) -> dict[str, int]:
        """Task ID → its index in ``tasks.rows``; one dict per read, shared: look up, never change it."""
        return self.memo("task_index", lambda: {normalize_text(r.get("id")): i
                                                for i, r in enumerate(self.tasks.rows) if r.get("id")})


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


def read_value(value: Any) -> Any:
    """A cell's value as the rows hold it: blank text is None, 5.0 is 5, a midnight datetime its date."""
    t = type(value)  # every cell of every sheet read passes here: the common types first, by identity
    if t is str:
        return value if value and not value.isspace() else None
    if t is float:
        return int(value) if value.is_integer() else value
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()
    return value


def read_row(row: Sequence[Any], places: Sequence[int]) -> list[Any]:
    """The cells at ``places`` (0-based columns) of a grid row as the rows hold them
    (:func:`read_value`); None past the row's end."""
    n = len(row)
    return [read_value(row[j]) if j < n else None for j in places]


def read_sheet_rows(sheet: Sheet, grid: list[list[Any]], *, offset_row: int = 0) -> SheetData:
    """The sheet's rows by header."""
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
    places = [j - 1 for j in data.columns.values()]
    make = row_maker(data.columns)  # the rows share one key table (model/rows)
    for i in range(hdr_idx + 1, len(grid)):
        values = read_row(grid[i], places)
        if not any(v is not None for v in values):
            continue
        data.rows.append(make(values))
        data.row_numbers.append(i + 1 + offset_row)
    return data


def find_sheet_name(names: Iterable[str], wanted: str) -> str | None:
    key = name_key(wanted)
    for n in names:
        if name_key(n) == key:
            return n
    return None


def master_from_grids(grids: Mapping[str, list[list[Any]]], path: Path | str = "",
                      stamp: tuple[int, int] | None = None, *,
                      later: Mapping[str, Callable[[], list[list[Any]]]] | None = None) -> MasterData:
    """Build :class:`MasterData` from raw sheet grids (sheet name -> rows of values).

    This is how a live workbook inside Excel (xlwings) and a file on disk share
    one code path: both are turned into grids first. ``later``: sheet
    name → a function giving its grid, for sheets read only when a rule first looks at their rows
    (:class:`DeferredSheetData`).
    """
    later = later or {}
    names = [*grids, *(n for n in later if n not in grids)]

    def sheet(s: Sheet) -> SheetData:
        actual = find_sheet_name(names, s.name)
        if actual is not None and actual not in grids:
            grid_of = later[actual]
            return DeferredSheetData(s, lambda: read_sheet_rows(s, grid_of()))
        if actual is None:
            d = SheetData(sheet=s, present=False)
            d.missing = [c.key for c in s.columns if c.required]
            return d
        return read_sheet_rows(s, grids[actual])  # read, never changed: no copy of a 50,000-row grid

    settings: dict[str, Any] = {}
    settings_rows: dict[str, int] = {}
    st_name = find_sheet_name(names, schema.SETTINGS.name)
    if st_name:
        # Found by label, so staff may move or insert rows on the settings sheet.
        for r, row in enumerate(list(grids[st_name])[1:], start=2):
            label = normalize_text(row[0]) if row else ""
            if label in schema.SETTINGS_LABEL_KEYS:
                key = schema.SETTINGS_LABEL_KEYS[label]
                settings[key] = read_value(row[1]) if len(row) > 1 else None
                settings_rows[key] = r
    md = MasterData(
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
        parts=sheet(schema.PARTS),
    )
    return md


# Schema key of each sheet read into rows → its attribute of MasterData.
SHEET_ATTRS = {schema.TASKS.key: "tasks", schema.UNITS.key: "units", schema.LEADERS.key: "leaders",
                schema.SCORES.key: "scores", schema.HISTORY.key: "history", schema.PARTS.key: "parts"}

# Sheets whose contents the rules need; the summary, log and problems sheets are skipped for speed.
_READ_SHEETS = (schema.TASKS, schema.UNITS, schema.LEADERS, schema.SCORES, schema.HISTORY, schema.SETTINGS,
                schema.PARTS)
MASTER_SHEETS: tuple[str, ...] = tuple(s.name for s in _READ_SHEETS)  # what the rules read, files and live books


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
