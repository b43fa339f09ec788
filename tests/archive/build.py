"""A master after a year of use (2024), with a few rows nobody can date, for the archive tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from kehoach_xl.io.master_read import read_master
from kehoach_xl.io.master_write import write_master
from kehoach_xl.model import schema
from kehoach_xl.model.changes import MasterChanges
from tests.excel.year_of_use import add_year_of_use
from tests.helpers import make_sample_master

AS_OF = dt.date(2025, 6, 15)  # log kept from 15/03/2025, history from 07/2024


def used_master(folder: Path, *, tasks: list | None = None) -> Path:
    master = make_sample_master(folder / "so_theo_doi.xlsx", tasks)
    add_year_of_use(master, months=12, year=2024)
    md = read_master(master)
    ch = MasterChanges()
    log = {"time": "không rõ ngày", "action": "ghi tay", "new": "dòng nhân viên gõ, không ghi ngày"}
    ch.append(schema.LOG.name, [log.get(k) for k in schema.LOG.keys])
    hist = {"period": "quý 1", "task_id": "NV1", "unit": "Văn phòng", "status": "Đang thực hiện"}
    ch.append(schema.HISTORY.name, [hist.get(k) for k in schema.HISTORY.keys])
    recent = {"time": dt.datetime(2025, 5, 2, 9, 30), "action": "merge", "task_id": "NV1", "field": "Tiến độ",
              "old": "10", "new": "20"}
    ch.append(schema.LOG.name, [recent.get(k) for k in schema.LOG.keys])
    write_master(master, ch, action="merge", expect=md.stamp)
    return master
