"""The history is read only when a rule asks for it: refresh and validation of a master whose sheet
"Phần việc" holds every part never parse it, and give what an eager read gives."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from kehoach_xl.commands.merge import merge
from kehoach_xl.errors import DataError
from kehoach_xl.io.master_read import read_master, read_master_and
from kehoach_xl.io.master_write import write_master
from kehoach_xl.model import schema
from kehoach_xl.model.changes import MasterChanges
from kehoach_xl.model.config import Config
from kehoach_xl.rules.refresh import compute_refresh
from kehoach_xl.rules.validate import compute_validation
from tests.bad_inputs.make import fill, setup_month

T6 = "DDCI2024-006"  # led by "Các phòng, đơn vị": members report by attributed lines
T3 = "DDCI2024-003"  # led by "Thanh tra Sở": its part is the task's own columns
AS_OF = dt.date(2024, 6, 5)


def _merged(tmp: Path) -> Path:
    master, files, inbox = setup_month(tmp)
    for slug, values in (("Thanh_tra_So", {"status": "Đang thực hiện", "progress": 60}),
                         ("Van_phong_So", {"status": "Hoàn thành", "progress": 100, "result": "Đã xong"})):
        src = files[slug]
        fill(src, inbox / src.name, {T6: values, T3: values})
    merge(master, inbox, now=dt.datetime(2024, 5, 31, 20))
    assert read_master(master).history.rows, "the month's reports are in the history"
    return master


def _cells(out: object) -> dict:
    ch = out.changes  # type: ignore[attr-defined]
    return {"cells": ch.cells, "appends": ch.appends, "new": ch.new_sheets}


def _lazy(master: Path):  # noqa: ANN202
    return read_master_and(master, later=[schema.HISTORY.name])[0]


def test_refresh_and_validation_leave_the_history_unread_and_agree_with_an_eager_read(tmp_path: Path) -> None:
    master = _merged(tmp_path)
    lazy, eager = _lazy(master), read_master(master)
    assert lazy.history.present and not lazy.history.is_loaded
    assert _cells(compute_refresh(lazy, as_of=AS_OF, config=Config())) == \
        _cells(compute_refresh(eager, as_of=AS_OF, config=Config()))
    lazy_v = compute_validation(lazy, as_of=AS_OF, config=Config()).result
    eager_v = compute_validation(eager, as_of=AS_OF, config=Config()).result
    assert [p.to_dict() for p in lazy_v.problems] == [p.to_dict() for p in eager_v.problems]
    assert not lazy.history.is_loaded  # every part was in "Phần việc": nothing asked


def test_a_part_the_sheet_lacks_reads_the_history_then_and_gets_the_same_result(tmp_path: Path) -> None:
    master = _merged(tmp_path)
    md = read_master(master)
    # Staff cleared a lead part's row (a task added since, a row deleted): built from the task's
    # columns, its period comes from the history.
    i = next(k for k, r in enumerate(md.parts.rows) if r["task_id"] == T3 and r["unit"] == "Thanh tra Sở")
    assert md.parts.rows[i]["period"]
    ch = MasterChanges()
    for key in ("task_id", "unit"):
        ch.set(schema.PARTS.name, md.parts.row_numbers[i], md.parts.columns[key], None)
    write_master(master, ch, action="edit")

    lazy, eager = _lazy(master), read_master(master)
    assert _cells(compute_refresh(lazy, as_of=AS_OF, config=Config())) == \
        _cells(compute_refresh(eager, as_of=AS_OF, config=Config()))
    assert lazy.history.is_loaded
    assert lazy.history.rows == eager.history.rows and lazy.history.row_numbers == eager.history.row_numbers


def test_a_save_between_the_read_and_the_history_is_refused_in_vietnamese(tmp_path: Path) -> None:
    master = _merged(tmp_path)
    lazy = _lazy(master)
    backup = tmp_path / "before.xlsx"
    shutil.copy2(master, backup)
    os.utime(master, ns=(lazy.stamp[0] + 10**9, lazy.stamp[0] + 10**9))  # staff saved it meanwhile
    with pytest.raises(DataError, match="vừa được lưu trong lúc chương trình đang đọc"):
        _ = lazy.history.rows
    assert master.read_bytes() == backup.read_bytes()  # read only: nothing written


def test_the_refresh_command_reads_no_history_on_a_complete_master(tmp_path: Path, monkeypatch) -> None:
    from kehoach_xl.commands.refresh import refresh
    from kehoach_xl.io import master_read

    master = _merged(tmp_path)
    asked: list[list[str]] = []
    real = master_read.read_grids

    def spy(path, sheets=None, **kw):  # noqa: ANN001, ANN202 - records which sheets each read parses
        out = real(path, sheets, **kw)
        asked.append(list(out))
        return out

    monkeypatch.setattr(master_read, "read_grids", spy)
    res = refresh(master, as_of=AS_OF)
    assert res.tasks > 0
    assert asked and all(schema.HISTORY.name not in names for names in asked)
