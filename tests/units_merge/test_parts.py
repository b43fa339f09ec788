"""Parts as data: every unit's part of every task, read from a 0.1.0 master without losing a line,
and the task's status derived from its parts (rules/parts)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from kehoach_xl.io.master_read import read_master
from kehoach_xl.model import schema
from kehoach_xl.model.part import ATTRIBUTED_LINE as _LINE
from kehoach_xl.model.part import SOURCE_COLUMNS, SOURCE_LINE, Part
from kehoach_xl.model.registry import Registry
from kehoach_xl.model.roles import Role
from kehoach_xl.rules.merge import _member_text
from kehoach_xl.rules.parts import (
    DECIDING_ROLES,
    derive_task_status,
    parse_line_text,
    parts_by_task,
    parts_of,
    task_status,
    task_statuses,
)
from kehoach_xl.text import normalize_text

V010 = Path(__file__).parents[1] / "fixtures" / "v0_1_0" / "demo_master.xlsx"


def _fields(p: Part) -> dict:
    return {"status": p.status, "progress": p.progress, "completed_on": p.completed_on, "result": p.result,
            "difficulties": p.difficulties, "proposals": p.proposals}


def test_v010_master_every_line_is_a_part_and_every_task_has_its_lead() -> None:
    md = read_master(V010)
    reg = Registry.from_master(md)
    parts = parts_of(md)
    by_task = parts_by_task(parts)
    lines = 0
    for row in md.tasks.rows:
        tid = normalize_text(row["id"])
        ps = by_task[tid]
        assert any(p.role in DECIDING_ROLES for p in ps), tid
        lead_cell = normalize_text(row["lead_units"])
        if not reg.is_group(reg.match_unit(lead_cell).canonical or ""):
            lead = [p for p in ps if p.role == Role.LEAD]
            assert [p.unit for p in lead] == [lead_cell], tid
            # the lead's part is the task's own columns
            assert lead[0].source == SOURCE_COLUMNS and lead[0].status == normalize_text(row["status"])
            assert lead[0].result == normalize_text(row["result"], keep_newlines=True)
        else:
            assert any(p.role == Role.MEMBER for p in ps) and any(p.role == Role.SYNTH for p in ps), tid
        for line in normalize_text(row.get("coordination_reports"), keep_newlines=True).split("\n"):
            m = _LINE.match(line)
            if not m:
                continue
            lines += 1
            unit = reg.match_unit(m["unit"].strip()).canonical
            (p,) = [p for p in ps if p.unit == unit]
            assert p.line == line and p.period == f"{m['y']}-{m['m']}"
            if p.source == SOURCE_LINE:
                # nothing typed is lost: the fields read back write the very same text
                assert _member_text(_fields(p)) == normalize_text(m["text"]), line
    assert lines >= 50  # the fixture's lines were all seen
    # each (task, unit) once
    assert len({(p.task_id, p.unit) for p in parts}) == len(parts)


def test_v010_collective_task_closed_by_the_synthesiser_while_members_are_open() -> None:
    md = read_master(V010)
    st_ = task_statuses(md, parts_of(md))
    # DDCI2024-002: the synthesiser reported "Hoàn thành"; members are still at work: the parts win.
    t = st_["DDCI2024-002"]
    assert t.cell_status == schema.STATUS_DONE and t.status == schema.STATUS_IN_PROGRESS and not t.hand_set
    # The same cell with no report behind it is the office's hand: it wins, and says so.
    md.history.rows = [r for r in md.history.rows if normalize_text(r.get("task_id")) != "DDCI2024-002"]
    parts = parts_by_task(parts_of(md))["DDCI2024-002"]
    t = task_status(md, "DDCI2024-002", parts)
    assert t.hand_set and t.status == schema.STATUS_DONE and t.derived_status == schema.STATUS_IN_PROGRESS


def test_line_text_round_trip_examples() -> None:
    f = parse_line_text("Hoàn thành; 100%; hoàn thành ngày 01/05/2024. Đã xong. Khó khăn: Thiếu người. Đề xuất: Gia hạn.")
    assert f == {"status": schema.STATUS_DONE, "progress": 100.0, "completed_on": dt.date(2024, 5, 1),
                 "result": "Đã xong.", "difficulties": "Thiếu người.", "proposals": "Gia hạn."}
    f = parse_line_text("Hoàn thành dự thảo báo cáo, đang xin ý kiến.")  # a contribution, no status
    assert f["status"] is None and f["result"] == "Hoàn thành dự thảo báo cáo, đang xin ý kiến."
    assert parse_line_text("Đang thực hiện; 62,5%.")["progress"] == 62.5


_words = st.text(alphabet="abcđơ ệ,", min_size=1, max_size=12).map(lambda s: s.strip(" ,")).filter(bool)


@given(status=st.sampled_from([None, *schema.STATUSES]), progress=st.one_of(st.none(), st.integers(0, 100)),
       completed=st.one_of(st.none(), st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31))),
       result=st.one_of(st.just(""), _words), diff=st.one_of(st.just(""), _words), prop=st.one_of(st.just(""), _words))
def test_line_text_round_trip(status, progress, completed, result, diff, prop) -> None:  # noqa: ANN001
    values = {"status": status, "progress": progress, "completed_on": completed, "result": result,
              "difficulties": diff, "proposals": prop}
    text = _member_text(values)
    back = parse_line_text(text)
    assert _member_text(back) == text
    assert back["status"] == status and back["completed_on"] == completed
    assert back["progress"] == (None if progress is None else float(progress))


_parts = st.lists(st.builds(
    lambda role, status, progress, n: Part("T", f"Đơn vị {n}", role, status=status, progress=progress),
    st.sampled_from(list(Role)), st.sampled_from([None, *schema.STATUSES]),
    st.one_of(st.none(), st.floats(0, 100)), st.integers(0, 9)), max_size=8)


@given(_parts)
def test_derived_status_never_done_while_a_deciding_part_is_open(parts: list[Part]) -> None:
    status, progress = derive_task_status(parts)
    deciding = [p for p in parts if p.role in DECIDING_ROLES]
    if status == schema.STATUS_DONE:
        assert deciding and all(p.status == schema.STATUS_DONE for p in deciding)
    if any(p.status != schema.STATUS_DONE for p in deciding):
        assert status != schema.STATUS_DONE
    # the minimum: never above any deciding part's own figure
    for p in deciding:
        if p.progress is not None and progress is not None:
            assert progress <= p.progress
    # order does not matter; coordinating parts change nothing
    assert derive_task_status(list(reversed(parts))) == (status, progress)
    assert derive_task_status(deciding) == (status, progress) or not deciding


@given(_parts)
def test_coordinating_parts_never_decide(parts: list[Part]) -> None:
    coords = [replace(p, role=Role.COORD) for p in parts]
    base = [Part("T", "Chủ trì", Role.LEAD, status=schema.STATUS_IN_PROGRESS, progress=40)]
    assert derive_task_status(base + coords) == (schema.STATUS_IN_PROGRESS, 40)


def test_named_lead_decides_alone_and_collective_takes_the_slowest_member() -> None:
    lead = Part("T", "A", Role.LEAD, status=schema.STATUS_DONE, progress=100)
    assert derive_task_status([lead, Part("T", "B", Role.COORD)]) == (schema.STATUS_DONE, 100)
    members = [Part("T", "A", Role.SYNTH, status=schema.STATUS_DONE, progress=100),
               Part("T", "B", Role.MEMBER, status=schema.STATUS_DONE),
               Part("T", "C", Role.MEMBER, status=schema.STATUS_IN_PROGRESS, progress=30),
               Part("T", "D", Role.MEMBER)]
    assert derive_task_status(members) == (schema.STATUS_IN_PROGRESS, 0.0)
    assert derive_task_status(members[:3]) == (schema.STATUS_IN_PROGRESS, 30)
    assert derive_task_status([replace(p, status=schema.STATUS_DONE) for p in members])[0] == schema.STATUS_DONE
