"""Evidence for the reminders (``reports/briefing.reminders_for``): a June simulated end to end on the
seed plan (the demo's May, then June workbooks issued with each unit's parts prefilled; half the
units update them, the others send them back unchanged; merge). Each unit's reminder must list
exactly its own outstanding parts with its own figures — the expectation is computed here from the
files the units sent back and the tasks' deadlines, not from ``parts_of``."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from kehoach_xl.commands.demo import demo
from kehoach_xl.commands.issue import issue
from kehoach_xl.commands.merge import merge
from kehoach_xl.commands.simulate import simulate_unit_submissions
from kehoach_xl.io.master_read import read_master
from kehoach_xl.model import schema
from kehoach_xl.model.master import MasterData, match_headers
from kehoach_xl.model.roles import Role
from kehoach_xl.model.unitbook import HEADER_ROW, REPORT_SHEET, ROLE_LABELS, UNIT_SHEET, unitbook_name
from kehoach_xl.reports.briefing import compute_briefing, reminders_for
from kehoach_xl.reports.summary import summary_of
from kehoach_xl.rules.assignments import assignments
from kehoach_xl.rules.derive import derive
from tests.unitbook_parts.helpers import report_rows

JUNE = "2024-06"
AS_OF = dt.date(2024, 6, 28)
OFFICE = "Văn phòng Sở"
ROLE_OF = {v: Role(k) for k, v in ROLE_LABELS.items()}
DECIDING = (Role.LEAD, Role.SYNTH, Role.MEMBER)


class June:
    def __init__(self, md: MasterData, sent: dict[tuple[str, str], dict[str, Any]], updated: set[str]) -> None:
        self.md, self.sent, self.updated = md, sent, updated


@pytest.fixture(scope="module")
def june(tmp_path_factory: pytest.TempPathFactory) -> June:
    root = tmp_path_factory.mktemp("june")
    res = demo(root / "demo")
    assert res.ok, [s for s in res.steps if not s.ok]
    md0 = read_master(res.master)
    units = sorted(assignments(md0))
    issued = issue(res.master, period=JUNE, out=root / "gui_06", issued_at=dt.datetime(2024, 6, 1, 8))
    by_unit = {u: next(p for p in issued if p.name == unitbook_name(u, JUNE)) for u in units}
    updated = set(units[::2])
    inbox = root / "hop_thu_den_06"
    filled = simulate_unit_submissions(root / "dien_06", [by_unit[u] for u in sorted(updated)], seed=6,
                                       mistakes=False)
    inbox.mkdir()
    closer = next(u for u in sorted(updated) if u != OFFICE)
    for p in filled:
        if p.name == unitbook_name(closer, JUNE):
            _all_done(p)  # one unit finishes every part it owes: it must get no reminder
        shutil.copyfile(p, inbox / p.name)
    for u in units:
        if u not in updated:  # sent back as issued: the May figures prefilled, no report
            shutil.copyfile(by_unit[u], inbox / by_unit[u].name)
    sent: dict[tuple[str, str], dict[str, Any]] = {}
    for u in units:
        rows, _ = report_rows(inbox / by_unit[u].name)
        was = {r["id"]: r for r in report_rows(by_unit[u])[0]}
        for r in rows:
            sent[(u, r["id"])] = {"role": ROLE_OF[r["role"]], "status": r["status"], "progress": r["progress"],
                                  "new_contribution": r["contribution"] != was[r["id"]]["contribution"]}
    rep = merge(res.master, inbox, now=dt.datetime(2024, 6, 28, 17))
    assert rep.written and not rep.conflicts, rep.to_dict()
    return June(read_master(res.master), sent, updated)


def _all_done(path: Path) -> None:
    wb = load_workbook(path)
    ws = wb[REPORT_SHEET]
    cols, _ = match_headers(UNIT_SHEET, [c.value for c in ws[HEADER_ROW]])
    for r in range(HEADER_ROW + 1, ws.max_row + 1):
        if ws.cell(r, cols["role"]).value != ROLE_LABELS["coord"]:
            ws.cell(r, cols["status"]).value = schema.STATUS_DONE
            ws.cell(r, cols["progress"]).value = 100
            ws.cell(r, cols["completed_on"]).value = dt.datetime(2024, 6, 15)
    wb.save(path)


def _expected(j: June) -> dict[str, dict[tuple[str, str], tuple[Role, float | None]]]:
    """unit → (task, state) → (role, the unit's own progress as it sent it)."""
    md, index = j.md, j.md.task_index()
    task_done: dict[str, bool] = {}
    for (_u, tid), v in j.sent.items():
        if v["role"] in DECIDING:
            task_done[tid] = task_done.get(tid, True) and v["status"] == schema.STATUS_DONE
    out: dict[str, dict] = {}
    for (unit, tid), v in j.sent.items():
        d = derive({**md.tasks.rows[index[tid]], "status": None}, AS_OF, plan_year=md.plan_year)
        if unit == OFFICE or d.days_remaining is None or task_done.get(tid):
            continue
        if v["role"] == Role.COORD:
            if v["new_contribution"]:  # its contribution for June came in: nothing owed now
                continue  # (the same text sent back as issued is no report, so still owed)
        elif v["status"] == schema.STATUS_DONE:
            continue
        state = "overdue" if d.days_remaining < 0 else "due_soon" if d.days_remaining <= 7 else None
        if state:
            progress = None if v["role"] == Role.COORD or v["progress"] is None else float(v["progress"])
            out.setdefault(unit, {})[(tid, state)] = (v["role"], progress)
    return out


def test_each_unit_is_reminded_of_its_own_outstanding_parts_with_its_own_figures(june: June) -> None:
    s = summary_of(june.md, AS_OF, period=JUNE)
    got = {r.unit: r for r in reminders_for(s, june.md)}
    want = _expected(june)
    assert want and any(r == Role.MEMBER for w in want.values() for r, _ in w.values())
    assert OFFICE not in got  # the sending office is never reminded of itself
    assert set(got) == set(want)  # and a unit with nothing outstanding gets none
    assert set(assignments(june.md)) - set(got) - {OFFICE}, "some unit must have nothing outstanding"
    for unit, r in got.items():
        items = {(f.id, f.state): (r.roles[f.id], None if f.progress is None else float(f.progress))
                 for f in r.overdue + r.due_soon}
        assert items == want[unit], unit


def test_reminder_texts_carry_each_units_own_figures(june: June) -> None:
    res = compute_briefing(june.md, period=JUNE, as_of=AS_OF).result
    want = _expected(june)
    assert {r.unit for r in res.reminders} == set(want)
    for r in res.reminders:
        assert r.text.startswith(f"Kính gửi: {r.unit}.")
        for (tid, _state), (_role, progress) in want[r.unit].items():
            assert tid in r.text
            if progress is not None:
                line = next(ln for ln in r.text.splitlines() if tid in ln)
                assert f"{progress:g}%" in line.replace(",", "."), (r.unit, line)


def test_units_that_sent_june_back_unchanged_kept_their_may_parts(june: June) -> None:
    """No report from an unchanged workbook: their lines still carry May."""
    md = june.md
    for row in md.tasks.rows:
        for line in str(row.get("coordination_reports") or "").split("\n"):
            if line.startswith("["):
                unit = line[1:line.index(" – kỳ")]
                if unit not in june.updated and unit in {u for u, _ in june.sent}:
                    assert "kỳ 05/2024" in line, line
