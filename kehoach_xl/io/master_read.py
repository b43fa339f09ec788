"""Read a master from disk fast (calamine): only the sheets asked for, tasks from the Table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from kehoach_xl.errors import DataError, SetupError
from kehoach_xl.model import schema
from kehoach_xl.model.master import MASTER_SHEETS, MasterData, cut_tasks_below_table, master_from_grids, task_table
from kehoach_xl.text import name_key


def file_stamp(path: Path | str) -> tuple[int, int]:
    """(st_mtime_ns, st_size) of a file: changes whenever anyone saves it."""
    st = Path(path).stat()
    return st.st_mtime_ns, st.st_size


def read_stamped_grids(path: Path | str, sheets: Iterable[str] | None = None, *,
                       below: dict[str, tuple[int, list[list[Any]]]] | None = None,
                       skipped: list[str] | None = None
                       ) -> tuple[dict[str, list[list[Any]]], tuple[int, int]]:
    """:func:`read_grids` plus the file's stamp, taken before reading.

    Taken before, so a save during the read makes the stamp stale (the write is refused)
    rather than hiding the save.
    """
    path = Path(path)
    if not path.exists():
        raise SetupError(f"Không tìm thấy tệp: {path}")
    stamp = file_stamp(path)
    return read_grids(path, sheets, below=below, skipped=skipped), stamp


def read_grids(path: Path | str, sheets: Iterable[str] | None = None, *, tasks_table_only: bool = True,
               below: dict[str, tuple[int, list[list[Any]]]] | None = None,
               skipped: list[str] | None = None) -> dict[str, list[list[Any]]]:
    """Raw values of the named sheets (all when None), read with python-calamine.

    ``tasks_table_only``: drop the rows below the task sheet's Excel Table (see
    :func:`cut_tasks_below_table`); False gives the whole used range, as Excel sends it.
    ``below``: when given, receives {sheet: (first Excel row, rows)} of what was cut.
    ``skipped``: when given, receives the names of the workbook's sheets not read.
    """
    from python_calamine import CalamineWorkbook

    path = Path(path)
    if not path.exists():
        raise SetupError(f"Không tìm thấy tệp: {path}")
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # noqa: BLE001 - calamine raises several error types
        raise DataError(f"Không mở được tệp {path.name}: tệp hỏng hoặc không phải Excel ({exc}).") from exc
    try:
        names = list(wb.sheet_names)
        if sheets is not None:
            keep = {name_key(s) for s in sheets}
            if skipped is not None:
                skipped.extend(n for n in names if name_key(n) not in keep)
            names = [n for n in names if name_key(n) in keep]
        grids = {n: sheet_grid(wb.get_sheet_by_name(n)) for n in names}
        if tasks_table_only:
            _cut_below_task_table(path, grids, below)
        return grids
    finally:
        wb.close()


def sheet_grid(sheet: Any) -> list[list[Any]]:
    """A calamine sheet's values from A1, as ``to_python(skip_empty_area=False)`` gives them,
    with each repeated text and date held once.

    A master repeats the same few texts down its columns (unit names, leaders, statuses, dates):
    at 50,000 tasks and 100,000 parts, one object per cell was ~100 MiB more than one per distinct
    value (a year's log: 349 → 203 MiB). Rows come one by one from calamine, so the grid of copies
    never exists whole. One table serves texts and dates: a text never equals a date, and a datetime
    never equals a date. Numbers are left alone (``1 == 1.0 == True``, and ``-0.0 == 0.0``).
    """
    end = sheet.end
    if end is None:
        return []
    width = end[1] + 1
    shared = {}.setdefault
    kinds = (str, dt.date, dt.datetime)
    grid = [[shared(v, v) if type(v) in kinds else v for v in row] for row in sheet.iter_rows()]
    for row in grid:
        if len(row) < width:  # calamine's rows start at the first used column
            row[:0] = [""] * (width - len(row))
    if len(grid) < end[0] + 1:  # and may start at the first used row
        grid[:0] = [[""] * width for _ in range(end[0] + 1 - len(grid))]
    return grid


def _cut_below_task_table(path: Path, grids: dict[str, list[list[Any]]],
                          below: dict[str, tuple[int, list[list[Any]]]] | None = None) -> None:
    from kehoach_xl.io.xlsx_head import tables as table_refs

    try:
        # From the table parts alone: calamine's tables load their cells, the task list a second time.
        tables = table_refs(path)
    except Exception:  # noqa: BLE001 - a workbook whose tables cannot be read: keep every row
        return
    tasks_key = name_key(schema.TASKS.name)
    on_tasks = [t for t in tables if name_key(t[1]) == tasks_key]
    if not on_tasks:
        return
    # Staff may add a small Table of their own (a legend) beside the tasks: the task list is the
    # Table the program named, else the longest one.
    chosen = task_table(on_tasks, name=lambda t: t[0], rows=lambda t: t[3] - t[2])
    cut_tasks_below_table(grids, {chosen[1]: chosen[3]}, below)


# What the commands that only look at the task list read: history grows by one row per reported
# task every period (it soon outweighs the task list), and units, leaders and scores are small
# but still parsed. Sheets left out come back as not present (``SheetData.present`` False).
TASK_SHEETS: tuple[str, ...] = (schema.TASKS.name, schema.SETTINGS.name)


def read_master(path: Path | str, sheets: Iterable[str] | None = None) -> MasterData:
    """Read the sheets of a master by header, quickly and without evaluating anything.

    ``sheets``: the master sheets the caller needs (default: every one of ``MASTER_SHEETS``);
    e.g. :data:`TASK_SHEETS` for a command that only reads the tasks and the settings.
    """
    return read_master_and(path, sheets=sheets)[0]


def read_master_and(path: Path | str, extra: Iterable[str] = (), *, sheets: Iterable[str] | None = None,
                    below: dict[str, tuple[int, list[list[Any]]]] | None = None, later: Iterable[str] = ()
                    ) -> tuple[MasterData, dict[str, list[list[Any]]]]:
    """:func:`read_master` plus the raw grids of ``extra`` sheets, in one read of the file.

    ``later``: sheets among ``sheets`` read only when a rule first looks at their rows
    (``model.master.DeferredSheetData``): e.g. the history for refresh and validation, which
    need it only for parts the sheet "Phần việc" does not hold yet. Their grids are not returned.
    """
    path = Path(path)
    wanted = MASTER_SHEETS if sheets is None else tuple(sheets)
    put_off = {name_key(s) for s in later}
    skipped: list[str] = []
    grids, stamp = read_stamped_grids(path, [s for s in (*wanted, *extra) if name_key(s) not in put_off],
                                      below=below, skipped=skipped)
    deferred = {n: _reader(path, n, stamp) for n in skipped if name_key(n) in put_off}
    return master_from_grids(grids, path, stamp, later=deferred), grids


def _reader(path: Path, name: str, stamp: tuple[int, int]) -> Callable[[], list[list[Any]]]:
    def grid() -> list[list[Any]]:
        # The rest of the data came from the file as it was: a save in between would mix two versions.
        if file_stamp(path) != stamp:
            raise DataError(f"Sổ theo dõi “{path.name}” vừa được lưu trong lúc chương trình đang đọc. "
                            "Sổ theo dõi giữ nguyên; hãy chạy lại lệnh.")
        return read_grids(path, [name], tasks_table_only=False)[name]
    return grid
