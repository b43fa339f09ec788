"""``kehoach-xl validate``: read the master, check every sheet, optionally write the problems sheet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from kehoach_xl.commands._guard import checked_master
from kehoach_xl.errors import SetupError
from kehoach_xl.io.master_read import read_master_and
from kehoach_xl.model import schema
from kehoach_xl.model.config import Config, load_config
from kehoach_xl.model.master import MasterData, find_sheet_name, rows_below_task_table
from kehoach_xl.rules import validation_rules as rules
from kehoach_xl.rules.validate import (
    CONFIG_SOURCE,
    Problem,
    ValidationReport,
    compute_problems_sheet,
    compute_validation,
)


def validate(master: Path | str, *, write: bool = False, config: Config | None = None,
             as_of: dt.date | None = None) -> ValidationReport:
    """Validate the master file; with ``write`` also list the problems in its "Kiểm tra" sheet."""
    from kehoach_xl.io.master_write import write_master

    master = checked_master(master)
    # The problems sheet is read too (names only matter) so the pure part can find it.
    below: dict[str, Any] = {}
    md, _grids = read_master_and(master, [schema.PROBLEMS_SHEET_NAME], below=below, later=[schema.HISTORY.name])
    config_error = None
    if config is None:
        try:
            config = load_config(master)
        except SetupError as exc:
            config_error = str(exc)
    report = validation_report(md, below, as_of=as_of, config=config)
    if config_error:
        kind = rules.PROBLEMS["config_invalid"]
        report.problems.append(Problem("config_invalid", kind.template.format(detail=config_error), kind.severity,
                                       sheet=CONFIG_SOURCE))
    if write:
        write_master(master, compute_problems_sheet(md, report), action="validate", config=config or Config(),
                     expect=md.stamp)
    return report


def validation_report(md: MasterData, below: dict[str, Any], *, as_of: dt.date | None,
                      config: Config | None) -> ValidationReport:
    """:func:`compute_validation` plus the rows typed below the task Table (``below`` from the read)."""
    report = compute_validation(md, as_of=as_of, config=config).result
    tasks_sheet = find_sheet_name(md.sheet_names, schema.TASKS.name)
    if tasks_sheet:
        kind = rules.PROBLEMS["task_below_table"]
        for row, value in rows_below_task_table(below):
            report.problems.append(Problem("task_below_table", kind.template, kind.severity, sheet=tasks_sheet,
                                           cell=f"{tasks_sheet}!A{row}", row=row, value=value))
    return report
