"""Staff typing in the parts sheet: an office edit, kept; a unit report that contradicts it is a conflict."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from kehoach_xl.commands.merge import merge
from kehoach_xl.commands.refresh import refresh
from kehoach_xl.io.master_read import read_master
from kehoach_xl.io.master_write import write_master
from kehoach_xl.model import schema
from kehoach_xl.model.changes import MasterChanges
from tests.bad_inputs.make import fill, setup_month

T6 = "DDCI2024-006"  # led by "Các phòng, đơn vị", due 20/05/2024
NOW = dt.datetime(2024, 5, 31, 20)


def _part(master: Path, unit: str) -> dict:
    md = read_master(master)
    return next(r for r in md.parts.rows if r["task_id"] == T6 and r["unit"] == unit)


def _edit_part(master: Path, unit: str, key: str, value: object) -> None:
    md = read_master(master)
    i = next(k for k, r in enumerate(md.parts.rows) if r["task_id"] == T6 and r["unit"] == unit)
    ch = MasterChanges()
    ch.set(schema.PARTS.name, md.parts.row_numbers[i], md.parts.columns[key], value)
    write_master(master, ch, action="edit")


def test_a_hand_edit_of_a_part_is_kept_and_a_conflicting_report_is_a_problem(tmp_path: Path) -> None:
    master, files, inbox = setup_month(tmp_path)
    src = files["Thanh_tra_So"]
    fill(src, inbox / "a" / src.name, {T6: {"status": "Đang thực hiện", "progress": 60}})
    shutil.move(inbox / "a" / src.name, inbox / src.name)
    merge(master, inbox, now=NOW)
    assert _part(master, "Thanh tra Sở")["progress"] == 60
    _edit_part(master, "Thanh tra Sở", "progress", 50)  # the office corrects the unit's figure

    fill(src, inbox / "b.xlsx", {T6: {"status": "Đang thực hiện", "progress": 70, "result": "Thêm kết quả"}})
    rep = merge(master, inbox, now=NOW + dt.timedelta(hours=1))
    part = _part(master, "Thanh tra Sở")
    assert part["progress"] == 50  # kept
    assert part["result"] == "Thêm kết quả"  # the field the office did not touch still takes the report
    (c,) = [c for c in rep.conflicts if c.sheet == schema.PARTS.name]
    assert (c.task_id, c.unit, c.field) == (T6, "Thanh tra Sở", "progress")
    p = c.problem()
    assert p.sheet == schema.PARTS.name and "Thanh tra Sở" in p.message and "Tiến độ (%)" in p.message
    assert "Văn phòng đã sửa phần việc" in p.message


def test_the_office_setting_a_task_status_by_hand_wins_and_is_shown(tmp_path: Path) -> None:
    master, _files, _inbox = setup_month(tmp_path)
    refresh(master, as_of=dt.date(2024, 6, 5))
    md = read_master(master)
    i = md.task_index()[T6]
    assert md.tasks.rows[i]["status"] == "Đang thực hiện"
    ch = MasterChanges()
    ch.set(schema.TASKS.name, md.tasks.row_numbers[i], md.tasks.columns["status"], "Hoàn thành")
    ch.set(schema.TASKS.name, md.tasks.row_numbers[i], md.tasks.columns["progress"], 100)
    write_master(master, ch, action="edit")
    refresh(master, as_of=dt.date(2024, 6, 6))
    md = read_master(master)
    assert md.tasks.rows[i]["status"] == "Hoàn thành"  # not written back over
    notes = {r["note"] for r in md.parts.rows if r["task_id"] == T6}
    assert notes == {"Văn phòng đặt trạng thái nhiệm vụ: Hoàn thành"}
    # Cleared by the office: the derivation takes the task back at the next refresh.
    ch = MasterChanges()
    ch.set(schema.TASKS.name, md.tasks.row_numbers[i], md.tasks.columns["status"], None)
    write_master(master, ch, action="edit")
    refresh(master, as_of=dt.date(2024, 6, 7))
    md = read_master(master)
    assert md.tasks.rows[i]["status"] == "Đang thực hiện"
    assert {r["note"] for r in md.parts.rows if r["task_id"] == T6} == {None}
