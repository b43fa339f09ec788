"""``kehoach-xl refresh``: read the master, compute the derived columns, write what changed."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from kehoach_xl.errors import DataError
from kehoach_xl.io.master_read import read_master_and
from kehoach_xl.model import schema
from kehoach_xl.model.config import Config, load_config
from kehoach_xl.model.master import find_sheet_name
from kehoach_xl.rules.refresh import RefreshResult, _derive, _is_task, compute_refresh


def refresh(master: Path | str, *, as_of: dt.date | None = None, config: Config | None = None) -> RefreshResult:
    """Recompute the derived columns of the master file as of ``as_of`` (today by default)."""
    from kehoach_xl.io.master_write import write_master

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
