"""``kehoach-xl refresh``: read the master, compute the derived columns, write what changed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from kehoach_xl.commands._guard import checked_master
from kehoach_xl.errors import DataError
from kehoach_xl.io.master_read import read_master_and
from kehoach_xl.model import schema
from kehoach_xl.model.config import Config, load_config
from kehoach_xl.model.master import find_sheet_name
from kehoach_xl.rules.refresh import RefreshResult, compute_refresh


def refresh(master: Path | str, *, as_of: dt.date | None = None, config: Config | None = None) -> RefreshResult:
    """Recompute the derived columns of the master file as of ``as_of`` (today by default)."""
    from kehoach_xl.io.master_write import write_master
    from kehoach_xl.io.xlsx_footer import sheet_footer  # its part alone, from the end: calamine has no footers

    master = checked_master(master)
    as_of = as_of or dt.date.today()
    config = config or load_config(master)
    # Every sheet the rules read: the parts (their sheet, the units, the history) decide each task's status.
    # The history only for a part the sheet "Phần việc" does not hold yet: read if a rule asks.
    md, grids = read_master_and(master, [schema.SUMMARY_SHEET_NAME], later=[schema.HISTORY.name])
    if not md.tasks.present:
        raise DataError(f"Sổ theo dõi “{master.name}” không có sheet “{schema.TASKS.name}”: không có gì để cập nhật.")
    summary_name = find_sheet_name(grids, schema.SUMMARY_SHEET_NAME)
    summary_grid = grids[summary_name] if summary_name else None
    del grids  # the rows live on in ``md``; the raw grids would only add to the peak
    out = compute_refresh(md, as_of=as_of, config=config, summary_grid=summary_grid,
                          task_footer=sheet_footer(master, schema.TASKS.name))
    backup = None
    stamp = md.stamp
    del md  # the rows and parts are not needed to write: the writer's peak is its own
    if not out.changes.is_empty():
        backup = write_master(master, out.changes, action="refresh", config=config, expect=stamp).backup
    f = out.figures
    return RefreshResult(path=master, as_of=as_of, tasks=f["tasks"], cells_changed=f["cells_changed"],
                         states=f["states"], missing_columns=f["missing_columns"], backup=backup)

