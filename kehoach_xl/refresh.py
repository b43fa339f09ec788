"""Fill the derived columns of every task and stamp the as-of date.

``compute_refresh`` is pure: it compares what :func:`derive_all` says with what
the cells hold and returns only the cells that change, so a second refresh with
the same as-of date writes nothing (and leaves the file, its backups and its log
alone). Colours are not written: the master's conditional formatting colours
each row from the deadline-state label.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import schema
from .config import Config, load_config
from .errors import DataError
from .io.changes import CellValue, LogEntry, MasterChanges
from .master import MasterData, find_sheet_name, read_master_and, settings_cell, summary_sheet_is_ours
from .rules.deadline import format_vn_date, parse_vn_date
from .rules.derive import Derived, derive_all
from .text import normalize_text

__all__ = ["RefreshResult", "compute_refresh", "refresh", "as_of_line", "SUMMARY_AS_OF_CELL"]

SUMMARY_AS_OF_CELL = (2, 1)  # A2 of the summary sheet
_UNKNOWN = object()  # "the caller did not read the summary cell"


@dataclass
class RefreshResult:
    path: Path
    as_of: dt.date
    tasks: int
    cells_changed: int
    states: dict[str, int] = field(default_factory=dict)  # deadline-state code -> number of tasks
    missing_columns: list[str] = field(default_factory=list)  # derived columns the sheet lacks (headers)
    backup: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "as_of": self.as_of.isoformat(), "tasks": self.tasks,
                "cells_changed": self.cells_changed, "states": self.states,
                "missing_columns": self.missing_columns, "backup": str(self.backup) if self.backup else None}


def as_of_line(as_of: dt.date) -> str:
    return f"{schema.SETTINGS_ROWS['as_of']} {format_vn_date(as_of)}"


def _same(old: Any, new: Any) -> bool:
    """Equal as the workbook shows them (a date read back is a date; 5.0 is 5; '' is empty)."""
    if isinstance(old, str):
        old = normalize_text(old) or None
    if isinstance(new, str):
        new = normalize_text(new) or None
    if old is None or new is None:
        return old is None and new is None
    if isinstance(new, dt.date):
        try:
            return parse_vn_date(old) == (new.date() if isinstance(new, dt.datetime) else new)
        except (ValueError, TypeError, OverflowError):
            return False
    if isinstance(new, (int, float)) and isinstance(old, (int, float)) and not isinstance(old, bool):
        return float(old) == float(new)
    return old == new


def _is_task(row: dict[str, Any]) -> bool:
    # A row with neither id nor task text is a note or spacer staff typed into the table.
    return bool(normalize_text(row.get("id")) or normalize_text(row.get("task")))


def _derive(md: MasterData, as_of: dt.date, config: Config) -> list[Derived]:
    return derive_all(md.tasks.rows, as_of, due_soon_days=config.due_soon_days,
                      due_soon_unit=config.due_soon_unit, plan_year=md.plan_year)


def derived_cells_for(md: MasterData, changes: MasterChanges, rows: Iterable[int], as_of: dt.date, *,
                      config: Config | None = None) -> None:
    """Add to ``changes`` the derived cells of the task rows ``rows`` (indexes into md.tasks.rows)
    as they will be once ``changes`` is applied, so colours follow a merge without a refresh."""
    config = config or Config()
    sd = md.tasks
    name = find_sheet_name(md.sheet_names, schema.TASKS.name)
    if not name or not sd.present:
        return
    pending = changes.cells.get(name, {})
    by_col = {col: key for key, col in sd.columns.items()}
    owned = [k for k in schema.DERIVED_FIELDS if k in sd.columns]
    for i in rows:
        r = sd.row_numbers[i]
        row = dict(sd.rows[i])
        for (rr, c), v in pending.items():
            if rr == r and c in by_col:
                row[by_col[c]] = v
        new = derive_all([row], as_of, due_soon_days=config.due_soon_days,
                         due_soon_unit=config.due_soon_unit, plan_year=md.plan_year)[0].cells()
        for key in owned:
            if not _same(row.get(key), new[key]):
                changes.set(name, r, sd.columns[key], new[key])


def compute_refresh(md: MasterData, as_of: dt.date, *, config: Config | None = None,
                    summary_grid: Any = _UNKNOWN, derived: list[Derived] | None = None) -> MasterChanges:
    """Cells of the derived columns, the settings as-of row and the summary's as-of line that change.

    ``summary_grid`` is the summary sheet as it stands (rows of values). The as-of line
    goes into its A2 only when the program made that sheet (a staff's own "Tổng hợp"
    is left alone); when the caller did not read it, the line is rewritten only when
    the settings' as-of date changes.
    """
    config = config or Config()
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    ch = MasterChanges()
    sd = md.tasks
    tasks_name = find_sheet_name(md.sheet_names, schema.TASKS.name)
    if tasks_name and sd.present:
        owned = [k for k in schema.DERIVED_FIELDS if k in sd.columns]
        for i, (row, d) in enumerate(zip(sd.rows, derived if derived is not None else _derive(md, as_of, config), strict=True)):
            if not _is_task(row):
                continue
            new = d.cells()
            for key in owned:
                if not _same(row.get(key), new[key]):
                    ch.set(tasks_name, sd.row_numbers[i], sd.columns[key], new[key])

    settings_name = find_sheet_name(md.sheet_names, schema.SETTINGS.name)
    old_as_of = md.settings.get("as_of")
    as_of_changed = not _same(old_as_of, as_of)
    if settings_name and as_of_changed:
        # New masters give this cell a dd/mm/yyyy format, so a real date is written; a
        # master whose cell holds text keeps text, since a date there would show as a serial.
        value: CellValue = format_vn_date(as_of) if isinstance(old_as_of, str) else as_of
        cell = settings_cell(md, "as_of")
        if cell is not None:
            ch.set(settings_name, *cell, value)
        else:  # label row deleted by staff: add it back rather than guess a cell (it may hold the master_id)
            ch.append(settings_name, [schema.SETTINGS_ROWS["as_of"], value])

    summary_name = find_sheet_name(md.sheet_names, schema.SUMMARY_SHEET_NAME)
    line = as_of_line(as_of)
    if summary_grid is _UNKNOWN:
        ours, stale = True, as_of_changed
    else:
        r, c = SUMMARY_AS_OF_CELL
        grid = summary_grid or []
        a2 = grid[r - 1][c - 1] if len(grid) >= r and len(grid[r - 1]) >= c else None
        ours, stale = summary_sheet_is_ours(grid), normalize_text(a2) != line
    if summary_name and ours:
        if stale:
            ch.set(summary_name, *SUMMARY_AS_OF_CELL, line)

    n = ch.cell_count()
    if n:
        ch.log.append(LogEntry(action="refresh", new=f"{line}: {n} ô thay đổi"))
    return ch


def refresh(master: Path | str, *, as_of: dt.date | None = None, config: Config | None = None) -> RefreshResult:
    """Recompute the derived columns of the master file as of ``as_of`` (today by default)."""
    from .io.master_write import write_master

    master = Path(master)
    as_of = as_of or dt.date.today()
    config = config or load_config(master)
    md, grids = read_master_and(master, [schema.SUMMARY_SHEET_NAME])
    if not md.tasks.present:
        raise DataError(f"Sổ theo dõi “{master.name}” không có sheet “{schema.TASKS.name}”: không có gì để cập nhật.")
    summary_name = find_sheet_name(grids, schema.SUMMARY_SHEET_NAME)
    derived = _derive(md, as_of, config)
    changes = compute_refresh(md, as_of, config=config, derived=derived,
                              summary_grid=grids[summary_name] if summary_name else None)
    states = Counter(d.deadline_state for row, d in zip(md.tasks.rows, derived, strict=True) if _is_task(row))
    missing = [schema.TASKS.col(k).header for k in schema.DERIVED_FIELDS if k not in md.tasks.columns]
    backup = None
    if not changes.is_empty():
        backup = write_master(master, changes, action="refresh", config=config, expect=md.stamp).backup
    return RefreshResult(path=master, as_of=as_of, tasks=sum(states.values()), cells_changed=changes.cell_count(),
                         states=dict(states), missing_columns=missing, backup=backup)
