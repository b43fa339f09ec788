"""A master after a year of use: twelve months of log and history rows, as nightly merges leave them.

Shared by the remote-payload test (tests/excel/test_remote_payload.py) and the measurement in
bench/bench_remote_payload.py (figures in docs/excel-buttons.md). Rows go in through the safe
writer, the way the program itself appends them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from kehoach_xl.io.livebook import remote_payload
from kehoach_xl.io.master_read import read_master
from kehoach_xl.io.master_write import write_master
from kehoach_xl.model import schema
from kehoach_xl.model.changes import MasterChanges


def add_year_of_use(master: Path, *, months: int = 12, log_fields: int = 2, year: int = 2024) -> dict[str, int]:
    """Append, for every task and month, ``log_fields`` log rows and one history row; returns the counts."""
    md = read_master(master)
    ids = [str(r.get("id")) for r in md.tasks.rows if r.get("id")]
    units = {str(r.get("id")): str(r.get("lead_units") or "") for r in md.tasks.rows}
    log_cols = list(schema.LOG.keys)
    hist_cols = list(schema.HISTORY.keys)
    changes = MasterChanges()
    for m in range(1, months + 1):
        period = f"{year}-{m:02d}"
        at = dt.datetime(year, m, 28, 23, 0)
        for i, tid in enumerate(ids):
            progress = min(100, m * 8 + i % 7)
            for f, (field, old, new) in enumerate([("progress", progress - 8, progress),
                                                   ("result", "", f"Kết quả tháng {m}/{year} của nhiệm vụ {tid}")][:log_fields]):
                rec: dict[str, Any] = {"time": at + dt.timedelta(seconds=i * 2 + f), "action": "merge",
                                       "file": f"{period}_{i % 20:02d}.xlsx", "unit": units[tid], "task_id": tid,
                                       "field": field, "old": old, "new": new, "user": "kehoach@may-chu"}
                changes.append(schema.LOG.name, [rec.get(k) for k in log_cols])
            hist = {"period": period, "task_id": tid, "unit": units[tid], "status": "Đang thực hiện",
                    "progress": progress, "deadline_state": "Trong hạn",
                    "result": f"Kết quả tháng {m}/{year} của nhiệm vụ {tid}", "recorded_at": at}
            changes.append(schema.HISTORY.name, [hist.get(k) for k in hist_cols])
    write_master(master, changes, action="merge", expect=md.stamp)
    return {"log_rows": len(changes.appends[schema.LOG.name]), "history_rows": len(changes.appends[schema.HISTORY.name])}


def vba_client_payload(master: Path, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """What xlwings' VBA client posts with ``exclude:=``: an excluded sheet keeps its name, with no
    pictures, no tables and ``values`` ``[[]]`` (Remote.bas, ``IsInArray(..., excludeArray)``)."""
    payload = remote_payload(master)
    for s in payload["sheets"]:
        if s["name"] in exclude:
            s.update(pictures=[], tables=[], values=[[]])
    return payload
