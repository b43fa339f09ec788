"""The nightly follows its steps' changes on the rows it read, without the sheets' grids.

``follow_changes`` must give exactly what a read of the changed grids gives
(``master_from_grids(apply_changes(grids, changes))``), and say None, touching nothing, for
every change only the grids can follow; the nightly then reads the sheets again.
"""

from __future__ import annotations

import copy
import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest

from kehoach_xl.commands.merge import compute_inbox
from kehoach_xl.io.master_read import read_master_and
from kehoach_xl.model import schema
from kehoach_xl.model.apply import apply_changes, follow_changes, held_in_rows
from kehoach_xl.model.changes import MasterChanges
from kehoach_xl.model.config import Config
from kehoach_xl.model.master import SHEET_ATTRS, MasterData, master_from_grids
from kehoach_xl.reports.summary import summary_changes, summary_of
from kehoach_xl.rules.parts import parts_of, task_statuses
from kehoach_xl.rules.refresh import compute_refresh
from tests.bad_inputs.make import fill, setup_month

NOW = dt.datetime(2024, 5, 31, 20)
EXTRA = [schema.PROBLEMS_SHEET_NAME, "Tổng hợp"]


def _read(master: Path) -> tuple[MasterData, dict[str, list[list[Any]]]]:
    return read_master_and(master, EXTRA)


def _assert_same(md: MasterData, last: dict[str, int], grids: dict[str, list[list[Any]]]) -> None:
    fresh = master_from_grids(grids, md.path, md.stamp)
    for attr in SHEET_ATTRS.values():
        a, b = getattr(md, attr), getattr(fresh, attr)
        assert (a.present, a.rows, a.row_numbers, a.columns, a.headers, a.header_row, a.missing) == \
            (b.present, b.rows, b.row_numbers, b.columns, b.headers, b.header_row, b.missing), attr
        assert [type(v) for r in a.rows for v in r.values()] == [type(v) for r in b.rows for v in r.values()], attr
    assert (md.settings, md.settings_rows, md.sheet_names) == (fresh.settings, fresh.settings_rows, fresh.sheet_names)
    assert last == held_in_rows(fresh, grids)[0]
    assert parts_of(md) == parts_of(fresh)
    assert task_statuses(md, parts_of(md)) == task_statuses(fresh, parts_of(fresh))


def _step(md: MasterData, last: dict[str, int], grids: dict[str, list[list[Any]]], ch: MasterChanges
          ) -> tuple[MasterData, dict[str, list[list[Any]]]]:
    followed = follow_changes(md, ch, last)
    assert followed is not None
    after = apply_changes(grids, ch)
    _assert_same(followed, last, after)
    return followed, after


def _month(tmp_path: Path, units: int = 4) -> tuple[Path, Path]:
    master, files, inbox = setup_month(tmp_path)
    tasks = read_master_and(master)[0].tasks.rows
    for n, src in enumerate(files.values()):
        if n == units:
            break
        rows = {r["id"]: ({"status": "Hoàn thành", "progress": 100, "completed_on": dt.date(2024, 5, 20)} if i % 3 == 0
                          else {"status": "Đang thực hiện", "progress": 40 + n})
                for i, r in enumerate(tasks)}
        fill(src, inbox / "a" / src.name, rows)
        shutil.move(inbox / "a" / src.name, inbox / src.name)
    return master, inbox


def test_the_nights_steps_followed_on_the_rows_give_what_a_read_of_the_grids_gives(tmp_path: Path) -> None:
    master, inbox = _month(tmp_path)
    md, grids = _read(master)
    last = held_in_rows(md, grids)[0]
    cfg = Config()
    cfg.limits.inbox_settle_seconds = 0
    merged = compute_inbox(md, inbox, config=cfg, now=NOW).changes
    assert merged.cells.get(schema.TASKS.name) and merged.appends.get(schema.HISTORY.name)
    history_before = last[schema.HISTORY.name]
    md, grids = _step(md, last, grids, merged)
    assert last[schema.HISTORY.name] == history_before + len(merged.appends[schema.HISTORY.name])
    refreshed = compute_refresh(md, as_of=dt.date(2024, 6, 5), config=cfg).changes
    assert refreshed.cells.get(schema.SETTINGS.name)  # the refresh's date: a setting followed too
    md, grids = _step(md, last, grids, refreshed)
    summary = summary_changes(summary_of(md, dt.date(2024, 6, 5), config=cfg))
    same = follow_changes(md, summary, last)
    assert same is md  # the summary sheet is no sheet the rows hold: the data and its memo stay


def _cases(md: MasterData) -> dict[str, MasterChanges]:
    t, h, u = md.tasks, md.history, md.units
    first, col = t.row_numbers[0], t.columns["status"]
    cases: dict[str, MasterChanges] = {}

    def case(name: str) -> MasterChanges:
        cases[name] = MasterChanges()
        return cases[name]

    case("new sheet").new_sheets["Phần việc"] = [["Mã nhiệm vụ"]]
    case("sheet cleared").clear_from[schema.TASKS.name] = first
    case("header cell").set(schema.TASKS.name, t.header_row, col, "Tình trạng mới")
    case("row below the rows").set(schema.TASKS.name, max(t.row_numbers) + 5, col, "Đang thực hiện")
    emptied = case("row left with no value")
    for c in u.columns.values():
        emptied.set(schema.UNITS.name, u.row_numbers[0], c, None)
    case("empty appended row").append(schema.HISTORY.name, [None] * max(h.columns.values()))
    two = case("two spellings")
    two.set(schema.TASKS.name, first, col, "Đang thực hiện")
    two.set(schema.TASKS.name.upper(), first, col, "Hoàn thành")
    case("settings label").set(schema.SETTINGS.name, next(iter(md.settings_rows.values())), 1, "Nhãn khác")
    case("settings row read by no label").set(schema.SETTINGS.name, max(md.settings_rows.values()) + 3, 2, "x")
    return cases


@pytest.mark.parametrize("name", ["new sheet", "sheet cleared", "header cell", "row below the rows",
                                  "row left with no value", "empty appended row", "two spellings",
                                  "settings label", "settings row read by no label"])
def test_a_change_only_the_grids_can_follow_is_refused_and_changes_nothing(tmp_path: Path, name: str) -> None:
    master, _files, _inbox = setup_month(tmp_path)
    md, grids = _read(master)
    last = held_in_rows(md, grids)[0]
    kept_last, kept_rows = dict(last), copy.deepcopy(md.tasks.rows)
    assert follow_changes(md, _cases(md)[name], last) is None
    assert last == kept_last and md.tasks.rows == kept_rows


def test_a_cell_in_a_column_the_rows_do_not_hold_changes_no_row(tmp_path: Path) -> None:
    master, _files, _inbox = setup_month(tmp_path)
    md, grids = _read(master)
    last = held_in_rows(md, grids)[0]
    ch = MasterChanges()
    ch.set(schema.TASKS.name, md.tasks.row_numbers[0], max(md.tasks.headers) + 2, "ghi chú riêng")
    after = follow_changes(md, ch, last)
    assert after is not None and after.tasks.rows == md.tasks.rows
    _assert_same(after, last, apply_changes(grids, ch))


def test_the_grids_the_night_keeps_are_only_the_sheets_it_holds_no_rows_of(tmp_path: Path) -> None:
    master, _files, _inbox = setup_month(tmp_path)
    md, grids = _read(master)
    last, kept = held_in_rows(md, grids)
    assert set(kept) == {n for n in grids if n in EXTRA}
    assert {schema.TASKS.name, schema.PARTS.name, schema.SETTINGS.name} <= set(last)
    assert last[schema.TASKS.name] == max(md.tasks.row_numbers)


def test_values_are_held_as_a_read_gives_them(tmp_path: Path) -> None:
    """Empty text is None, 5.0 is 5, a midnight datetime its date: in rows set and rows appended."""
    master, _files, _inbox = setup_month(tmp_path)
    md, grids = _read(master)
    last = held_in_rows(md, grids)[0]
    t, h = md.tasks, md.history
    ch = MasterChanges()
    ch.set(schema.TASKS.name, t.row_numbers[0], t.columns["progress"], 40.0)
    ch.set(schema.TASKS.name, t.row_numbers[1], t.columns["completed_on"], dt.datetime(2024, 5, 20))
    ch.set(schema.TASKS.name, t.row_numbers[2], t.columns["difficulties"], "   ")
    row: list[Any] = [None] * max(h.columns.values())
    row[h.columns["task_id"] - 1], row[h.columns["progress"] - 1] = t.rows[0]["id"], 60.0
    row[h.columns["recorded_at"] - 1] = dt.datetime(2024, 6, 1)
    ch.append(schema.HISTORY.name, row)
    after = follow_changes(md, ch, last)
    assert after is not None
    assert after.tasks.rows[0]["progress"] == 40 and type(after.tasks.rows[0]["progress"]) is int
    assert after.tasks.rows[1]["completed_on"] == dt.date(2024, 5, 20)
    assert after.tasks.rows[2]["difficulties"] is None
    _assert_same(after, last, apply_changes(grids, ch))
