"""Derived columns of every task (days remaining, working days, deadline state) as a change set."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kehoach_xl import vn
from kehoach_xl.model import schema
from kehoach_xl.model.changes import CellValue, LogEntry, MasterChanges
from kehoach_xl.model.config import Config
from kehoach_xl.model.footer import ODD_FOOTER, as_of_part, with_right
from kehoach_xl.model.master import MasterData, find_sheet_name, settings_cell, summary_sheet_is_ours
from kehoach_xl.model.outcome import Outcome
from kehoach_xl.rules.derive import Derived, derive_all
from kehoach_xl.rules.parts import (
        derived_status_cells,
        parts_of,
        parts_sheet_changes,
        reported_over_hand,
        task_statuses,
        write_derived_status,
    )
from kehoach_xl.text import normalize_text

__all__ = ["RefreshResult", "compute_refresh", "as_of_line", "SUMMARY_AS_OF_CELL"]


SUMMARY_AS_OF_CELL = (3, 1)  # A3 of the summary sheet: where the summary itself puts this line (A2 is the plan title)


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
    return f"{schema.SETTINGS_ROWS['as_of']} {vn.date(as_of)}"


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
            return vn.parse_date(old) == (new.date() if isinstance(new, dt.datetime) else new)
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
    # Pending changes indexed by row once: a merge touching many rows stays linear.
    pending: dict[int, dict[int, Any]] = {}
    for (rr, c), v in changes.cells.get(name, {}).items():
        pending.setdefault(rr, {})[c] = v
    by_col = {col: key for key, col in sd.columns.items()}
    owned = [k for k in schema.DERIVED_FIELDS if k in sd.columns]
    for i in rows:
        r = sd.row_numbers[i]
        row = sd.rows[i].copy()
        for c, v in pending.get(r, {}).items():
            if c in by_col:
                row[by_col[c]] = v
        new = derive_all([row], as_of, due_soon_days=config.due_soon_days,
                         due_soon_unit=config.due_soon_unit, plan_year=md.plan_year)[0].cells()
        for key in owned:
            if not _same(row.get(key), new[key]):
                changes.set(name, r, sd.columns[key], new[key])


def parts_step(md: MasterData, ch: MasterChanges, as_of: dt.date, config: Config, *,
               written: Iterable[tuple[int, str]] = (), time: dt.datetime | None = None,
               tasks: list[dict[str, Any]] | None = None, parts: list[Any] | None = None,
               only: set[str] | None = None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Each task's status derived from its parts, written back where the office did not set it by
    hand, and the sheet "Phần việc" brought up to date (or added whole): into ``ch``.

    The one step refresh, merge and nightly share (``rules/parts`` holds the rule). ``tasks``: the
    task rows as they will be (default the master's); ``written``: (row index, key) cells a unit's
    report sets in the same change set. Returns the task rows with the derived status applied,
    for the deadline columns computed after it, and each task's ``TaskStatus``. ``parts``: the
    parts as they will be (a merge's reports applied); default as the master holds them.
    ``only``: task IDs whose part rows may change (a merge: the tasks reported on); the parts of a
    task whose derived status changes are always included. Refresh passes None: every part row,
    so the deadline states follow the day; a merge leaves the others to refresh, as on the task sheet.
    """
    rows = list(md.tasks.rows if tasks is None else tasks)
    parts = parts_of(md) if parts is None else parts
    written = list(written)
    statuses = reported_over_hand(md, task_statuses(md, parts), written)
    cells = derived_status_cells(md, statuses, tasks=rows)
    write_derived_status(md, ch, cells, time=time)
    for i, values in cells.items():
        row = rows[i].copy()  # a copy keeps the read's shared key table (model/rows): a third of a new dict
        row.update(values)
        rows[i] = row
    if only is not None and md.parts.present:
        index = md.task_index()
        by_row = {i: tid for tid, i in index.items()}
        keep = set(only) | {by_row[i] for i in cells if i in by_row}
        parts = [p for p in parts if p.task_id in keep]
    sheet = parts_sheet_changes(md, parts, as_of, statuses=statuses, due_soon_days=config.due_soon_days,
                                due_soon_unit=config.due_soon_unit, tasks=rows)
    for name, cs in sheet.cells.items():
        if name in ch.cells:
            ch.cells[name].update(cs)
        else:
            ch.cells[name] = cs  # taken over, not copied cell by cell
    for name, appended in sheet.appends.items():
        for values in appended:
            ch.append(name, values)
    ch.new_sheets.update(sheet.new_sheets)
    return rows, statuses


def compute_refresh(md: MasterData, *, as_of: dt.date, config: Config | None = None,
                    summary_grid: Any = _UNKNOWN, task_footer: Any = _UNKNOWN) -> Outcome:
    """Cells of the derived columns, the settings as-of row, the summary's as-of line and the printed
    task list's as-of footer that change.

    ``outcome.figures``: ``tasks`` (rows that are tasks), ``states`` (deadline-state code → tasks,
    after the refresh), ``missing_columns`` (headers of derived columns the sheet lacks).

    ``summary_grid`` is the summary sheet as it stands (rows of values). The as-of line
    goes into its A3 (the cell the summary writes it to) only when the program made that sheet (a staff's own "Tổng hợp"
    is left alone); when the caller did not read it, the line is rewritten only when
    the settings' as-of date changes.

    ``task_footer`` is the task sheet's footer as it stands (``oddFooter``, None when it has none).
    Its right part becomes "Số liệu đến ngày dd/mm/yyyy" when the program wrote it and it says
    otherwise (an old master's "In ngày &D" included); when the caller did not read it, whenever the
    settings' as-of date changes (the writer still leaves a right part staff wrote).
    """
    config = config or Config()
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    ch = MasterChanges()
    sd = md.tasks
    states: Counter[str] = Counter()
    tasks_name = find_sheet_name(md.sheet_names, schema.TASKS.name)
    if tasks_name and sd.present:
        owned = [k for k in schema.DERIVED_FIELDS if k in sd.columns]
        rows, _ = parts_step(md, ch, as_of, config)
        derived = derive_all(rows, as_of, due_soon_days=config.due_soon_days,
                             due_soon_unit=config.due_soon_unit, plan_year=md.plan_year)
        for i, (row, d) in enumerate(zip(rows, derived, strict=True)):
            if not _is_task(row):
                continue
            states[d.deadline_state] += 1
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
        value: CellValue = vn.date(as_of) if isinstance(old_as_of, str) else as_of
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

    if tasks_name and sd.present:
        right = as_of_part(as_of)
        if task_footer is _UNKNOWN:
            stale = as_of_changed
        else:
            stale = task_footer is not None and with_right(task_footer, right) is not None
        if stale:
            ch.footers[tasks_name] = {ODD_FOOTER: right}

    n = ch.cell_count()
    if n or ch.footers:
        note = "; chân trang bản in theo ngày số liệu" if ch.footers else ""
        ch.log.append(LogEntry(action="refresh", new=f"{line}: {n} ô thay đổi{note}"))
    missing = [schema.TASKS.col(k).header for k in schema.DERIVED_FIELDS if k not in sd.columns] if sd.present else []
    return Outcome(as_of=as_of, changes=ch, figures={"tasks": sum(states.values()), "cells_changed": n,
                                                     "states": dict(states), "missing_columns": missing})
