"""The nightly's steps hand their rows on to the next step's data (``follow_changes``).

What a step gets that way must be exactly what a fresh read of the same cells gives: these tests
chain the steps as the nightly does and compare each step's parts, task statuses and rows with
those of data built afresh from the changed grids.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

from kehoach_xl.commands.merge import compute_inbox
from kehoach_xl.io.master_read import read_master_and
from kehoach_xl.model import schema
from kehoach_xl.model.apply import apply_changes, follow_changes, held_in_rows
from kehoach_xl.model.changes import MasterChanges
from kehoach_xl.model.config import Config
from kehoach_xl.model.master import MasterData, master_from_grids
from kehoach_xl.rules.parts import parts_of, task_statuses
from kehoach_xl.rules.refresh import compute_refresh
from tests.bad_inputs.make import fill, setup_month

T6 = "DDCI2024-006"  # led by "Các phòng, đơn vị"
NOW = dt.datetime(2024, 5, 31, 20)


def _fresh(grids: dict[str, list[list[Any]]]) -> MasterData:
    return master_from_grids(grids, "x.xlsx")


def _same_as_fresh(md: MasterData, grids: dict[str, list[list[Any]]]) -> None:
    fresh = _fresh(grids)
    for sheet in ("tasks", "parts", "units", "history"):
        a, b = getattr(md, sheet), getattr(fresh, sheet)
        assert (a.rows, a.row_numbers, a.columns) == (b.rows, b.row_numbers, b.columns), sheet
    assert parts_of(md) == parts_of(fresh)
    assert task_statuses(md, parts_of(md)) == task_statuses(fresh, parts_of(fresh))


def _step(md: MasterData, grids: dict[str, list[list[Any]]], ch: MasterChanges
          ) -> tuple[MasterData, dict[str, list[list[Any]]]]:
    followed = follow_changes(md, ch, held_in_rows(md, grids)[0])
    assert followed is not None
    return followed, apply_changes(grids, ch)


def test_each_step_sees_the_parts_a_fresh_read_gives(tmp_path: Path) -> None:
    master, files, inbox = setup_month(tmp_path)
    for slug, src in files.items():  # every unit reports on its tasks
        fill(src, inbox / "a" / src.name, {T6: {"status": "Đang thực hiện", "progress": 40}})
        shutil.move(inbox / "a" / src.name, inbox / src.name)
        if slug.startswith("Thanh"):
            break
    md, grids = read_master_and(master)
    grids = {k: v for k, v in grids.items()}
    parts_of(md), task_statuses(md, parts_of(md))  # the first step works them out
    cfg = Config()
    cfg.limits.inbox_settle_seconds = 0
    merged = compute_inbox(md, inbox, config=cfg, now=NOW)
    assert merged.changes.cell_count()
    md, grids = _step(md, grids, merged.changes)
    _same_as_fresh(md, grids)
    md, grids = _step(md, grids, compute_refresh(md, as_of=dt.date(2024, 6, 5)).changes)
    _same_as_fresh(md, grids)


def test_a_changed_cell_is_not_answered_from_the_earlier_step(tmp_path: Path) -> None:
    master, _files, _inbox = setup_month(tmp_path)
    md, grids = read_master_and(master)
    before = {(p.task_id, p.unit): p for p in parts_of(md)}
    statuses = task_statuses(md, parts_of(md))
    i = next(k for k, r in enumerate(md.parts.rows) if r["task_id"] == T6)
    unit = md.parts.rows[i]["unit"]
    ch = MasterChanges()
    ch.set(schema.PARTS.name, md.parts.row_numbers[i], md.parts.columns["progress"], 55)
    ch.set(schema.PARTS.name, md.parts.row_numbers[i], md.parts.columns["status"], "Đang thực hiện")
    j = md.task_index()[T6]
    ch.set(schema.TASKS.name, md.tasks.row_numbers[j], md.tasks.columns["status"], "Hoàn thành")
    md2, grids2 = _step(md, grids, ch)
    # The rows the change left alone are carried over as they were; the changed ones are read again.
    assert all(md2.tasks.rows[k] is md.tasks.rows[k] for k in range(len(md.tasks.rows)) if k != j)
    assert md2.tasks.rows[j] is not md.tasks.rows[j] and md2.tasks.rows[j]["status"] == "Hoàn thành"
    after = {(p.task_id, p.unit): p for p in parts_of(md2)}
    assert after[(T6, unit)].progress == 55 and before[(T6, unit)].progress != 55
    assert task_statuses(md2, parts_of(md2))[T6] != statuses[T6]
    # Every other task's parts are those of the step before, and all are those of a fresh read.
    assert {k: p for k, p in after.items() if k[0] != T6} == {k: p for k, p in before.items() if k[0] != T6}
    _same_as_fresh(md2, grids2)
