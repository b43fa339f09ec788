"""One write per night: one backup, one atomic replace, log rows for every step; a quiet night writes nothing."""

from __future__ import annotations

import os

import pytest
from python_calamine import CalamineWorkbook

from kehoach_xl.commands.nightly import nightly
from kehoach_xl.commands.simulate import simulate_unit_submissions
from kehoach_xl.io.backup import backup_dir
from kehoach_xl.model import schema
from kehoach_xl.model.apply import apply_changes, changes_anything, combine
from kehoach_xl.model.changes import Link, LogEntry, MasterChanges
from tests.bad_inputs.make import AS_OF, setup_month


def _setup(tmp_path, mistakes: bool = False):
    master, files, _ = setup_month(tmp_path)
    (tmp_path / "kehoach.toml").write_text('master = "so_theo_doi.xlsx"\n', encoding="utf-8")
    simulate_unit_submissions(tmp_path / "hop_thu_den", list(files.values()), seed=3, mistakes=mistakes)
    return master


def _backups(master) -> list[str]:
    d = backup_dir(master)
    return sorted(p.name for p in d.iterdir() if p.suffix in (".xlsx", ".xlsm")) if d.is_dir() else []


def _log_actions(master) -> list[str]:
    wb = CalamineWorkbook.from_path(str(master))
    try:
        grid = wb.get_sheet_by_name(schema.LOG.name).to_python(skip_empty_area=False)
    finally:
        wb.close()
    col = next(j for j, h in enumerate(grid[0]) if str(h).strip() == schema.LOG.col("action").header)
    return [str(r[col]) for r in grid[1:] if len(r) > col and r[col] not in (None, "")]


def _inbox(tmp_path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "hop_thu_den").glob("*.xlsx"))


def _night(tmp_path):
    return nightly(tmp_path / "kehoach.toml", as_of=AS_OF, progress=False)


def test_a_night_with_submissions_writes_once_with_log_rows_for_every_step(tmp_path, monkeypatch):
    from kehoach_xl.io import master_write

    master = _setup(tmp_path)
    writes: list[str] = []
    real = master_write._write

    def counting(*a, **kw):
        writes.append(kw.get("action"))
        return real(*a, **kw)

    monkeypatch.setattr(master_write, "_write", counting)
    log_before = _log_actions(master)
    rep = _night(tmp_path)
    assert rep.ok, rep.to_dict()
    assert [s.step for s in rep.steps] == ["merge", "validate", "refresh", "summary"]
    assert writes == ["nightly"]
    assert len(_backups(master)) == 1
    new = _log_actions(master)[len(log_before):]
    assert {"merge", "validate", "refresh", "summary"} <= set(new), new
    assert rep.merge["written"] is True and not _inbox(tmp_path)


def test_an_unchanged_night_writes_nothing_three_times(tmp_path):
    master = _setup(tmp_path)
    first = _night(tmp_path)
    assert first.ok, first.to_dict()
    data, mtime = master.read_bytes(), os.stat(master).st_mtime_ns
    backups, log_rows = _backups(master), _log_actions(master)
    for _ in range(3):
        rep = _night(tmp_path)
        assert rep.ok, rep.to_dict()
        assert master.read_bytes() == data and os.stat(master).st_mtime_ns == mtime
        assert _backups(master) == backups
        assert _log_actions(master) == log_rows


@pytest.mark.parametrize("step", ["refresh", "summary"])
def test_a_failing_later_step_leaves_master_and_inbox_untouched(tmp_path, monkeypatch, step):
    master = _setup(tmp_path)
    before, inbox = master.read_bytes(), _inbox(tmp_path)
    assert inbox

    def boom(*a, **kw):
        raise RuntimeError("hỏng giữa chừng")

    if step == "refresh":
        monkeypatch.setattr("kehoach_xl.rules.refresh.compute_refresh", boom)
    else:
        monkeypatch.setattr("kehoach_xl.reports.summary.summary_of", boom)
    rep = _night(tmp_path)
    statuses = {s.step: s.status for s in rep.steps}
    assert statuses[step] == "failed" and not rep.ok
    assert master.read_bytes() == before
    assert _backups(master) == []
    assert _inbox(tmp_path) == inbox
    assert not (tmp_path / "hop_thu_den" / "processed").exists()


def test_apply_and_combine_in_memory():
    grids = {"A": [["t", None], ["x", 1]], "B": [["h"], ["old"], ["older"]]}
    first = MasterChanges()
    first.set("A", 2, 2, 5)
    first.set("B", 2, 1, "kept?")
    first.log.append(LogEntry(action="one"))
    second = MasterChanges()
    second.set("A", 2, 2, 6)
    second.set("A", 3, 3, Link(target="'A'!A1", text="A!A1"))
    second.clear_from["B"] = 2
    second.append("B", ["new"], height=20)
    second.log.append(LogEntry(action="two"))
    both = combine([first, second])
    assert both.cells["A"] == {(2, 2): 6, (3, 3): Link(target="'A'!A1", text="A!A1")}
    assert both.cells.get("B", {}) == {} and both.clear_from == {"B": 2}
    assert [e.action for e in both.log] == ["one", "two"] and both.append_heights["B"] == [20]
    after = apply_changes(grids, both)
    assert after["A"] == [["t", None], ["x", 6], [None, None, "A!A1"]]
    assert after["B"] == [["h"], ["new"]]
    assert grids["A"][1][1] == 1  # the input is left alone
    same = MasterChanges()
    same.set("A", 2, 2, 1.0)
    assert not changes_anything(grids, same)
    assert changes_anything(grids, first)
    stamp = MasterChanges()
    stamp.set("A", 1, 1, "t2")
    assert not changes_anything(grids, stamp, ignore=[("A", 1, 1)])


def test_combine_consuming_the_parts_is_combine_copying_them():
    """The nightly hands its steps' change sets over (``consume``): their dicts and lists are taken,
    not copied, and the result is the same change set."""
    def parts() -> list[MasterChanges]:
        a, b, c = MasterChanges(), MasterChanges(), MasterChanges()
        a.set("T", 2, 2, "a")
        a.append("H", ["h1"], height=15)
        a.appends["H"].append(["h2"])  # added straight to the list: no height
        a.log.append(LogEntry(action="merge"))
        b.set("T", 2, 2, "b")
        b.set("T", 3, 1, 7)
        b.append("H", ["h3"])
        b.clear_from["S"] = 3
        c.set("S", 4, 1, "s")
        c.append("L", ["l1"], height=30)
        c.footers["T"] = {"oddFooter": "x"}
        return [a, b, c]

    copied = combine(parts())
    given = parts()
    taken = combine(given, consume=True)
    assert taken == copied
    assert taken.appends["H"] == [["h1"], ["h2"], ["h3"]] and taken.append_heights["H"] == [15, None, None]
    assert taken.cells["T"] is given[0].cells["T"] and taken.appends["H"] is given[0].appends["H"]
    kept = parts()
    assert combine(kept).appends["H"][0] is not kept[0].appends["H"][0]  # without ``consume``: copies
