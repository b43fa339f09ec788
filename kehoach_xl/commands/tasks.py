"""List the tasks of a master as JSON-ready dicts (``kehoach-xl tasks``) or as a pandas DataFrame."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from kehoach_xl.commands._guard import checked_master
from kehoach_xl.io.master_read import TASK_SHEETS, read_master
from kehoach_xl.model.master import task_records

if TYPE_CHECKING:
    import pandas as pd


def tasks(master: Path | str) -> list[dict[str, Any]]:
    """Every task of the master as a JSON-ready dict."""
    return task_records(read_master(checked_master(master), TASK_SHEETS))


def tasks_frame(master: Path | str) -> pd.DataFrame:
    """Every task of the master as a typed DataFrame: one row per task, columns named by the schema keys.

    Dates are ``datetime64``, progress a float 0–100, whole numbers nullable ``Int64``, unit and
    leader lists Python lists, text ``string``; see :mod:`kehoach_xl.reports.frame`.
    """
    from kehoach_xl.reports.frame import tasks_frame_from  # pandas loads here, not with the package

    return tasks_frame_from(read_master(checked_master(master), TASK_SHEETS))
