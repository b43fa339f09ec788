"""List the tasks of a master as JSON-ready dicts (``kehoach-xl tasks``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kehoach_xl.io.master_read import read_master
from kehoach_xl.model.master import task_records


def tasks(master: Path | str) -> list[dict[str, Any]]:
    """Every task of the master as a JSON-ready dict."""
    return task_records(read_master(master))
