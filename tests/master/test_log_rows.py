"""The log sheet's rows, one function for the file writer and the Excel buttons (model.changes.log_rows)."""

from __future__ import annotations

import datetime as dt

from kehoach_xl.model import schema
from kehoach_xl.model.changes import LogEntry, log_rows

_COLS = {c.key: j for j, c in enumerate(schema.LOG.columns, start=1)}


def test_values_land_under_their_headers_even_when_staff_moved_the_columns():
    moved = {key: len(_COLS) + 1 - j for key, j in _COLS.items()}  # every column the other way round
    e = LogEntry("merge", file="a.xlsx", unit="Phòng A", task_id="NV-01", field="Tiến độ (%)", old=0.5, new=0.75,
                 time=dt.datetime(2025, 5, 5, 8, 30, 12, 999), user="")
    (row,) = log_rows([e], moved, "vanthu@may1")
    got = {key: row[j - 1] for key, j in moved.items()}
    assert got == {"time": dt.datetime(2025, 5, 5, 8, 30, 12), "action": "merge", "file": "a.xlsx", "unit": "Phòng A",
                   "task_id": "NV-01", "field": "Tiến độ (%)", "old": "0,5", "new": "0,75", "user": "vanthu@may1"}


def test_old_and_new_values_read_as_staff_write_them():
    entries = [LogEntry("merge", old=dt.date(2025, 4, 30), new=["Phòng A", "Phòng B"]),
               LogEntry("merge", old={"Phòng C"}, new=None)]
    rows = log_rows(entries, _COLS, "u")
    old, new = _COLS["old"] - 1, _COLS["new"] - 1
    assert (rows[0][old], rows[0][new]) == ("30/04/2025", "Phòng A; Phòng B")
    assert (rows[1][old], rows[1][new]) == ("Phòng C", "")


def test_entries_of_one_command_share_one_time_converted_once():
    t = dt.datetime(2025, 5, 5, 23, 59, 59, 500_000)
    rows = log_rows([LogEntry("merge", time=t) for _ in range(3)], _COLS, "u")
    times = [r[_COLS["time"] - 1] for r in rows]
    assert times == [dt.datetime(2025, 5, 5, 23, 59, 59)] * 3
    assert times[0] is times[1] is times[2]  # one object for a quarter of a million rows, not one each


def test_an_entry_without_time_or_user_takes_now_and_the_default_user():
    before = dt.datetime.now().replace(microsecond=0)
    (row,) = log_rows([LogEntry("refresh", new="5 ô thay đổi")], _COLS, "vanthu@may1")
    assert before <= row[_COLS["time"] - 1] <= dt.datetime.now()
    assert row[_COLS["user"] - 1] == "vanthu@may1"
    assert len(row) == max(_COLS.values())
