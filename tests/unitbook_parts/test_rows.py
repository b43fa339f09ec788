"""Each unit's workbook lists exactly its own parts: role in words, chủ trì first, its last reported
values filled in, the lead's state beside them read-only. Expectations come from ``parts_of`` and
``assignments``, not from the workbook builder."""

from __future__ import annotations

import datetime as dt

from kehoach_xl.io.master_read import read_master
from kehoach_xl.model import schema
from kehoach_xl.model.roles import ROLE_STRENGTH, Role
from kehoach_xl.model.unitbook import unitbook_name
from kehoach_xl.rules.assignments import assignments
from kehoach_xl.rules.parts import parts_of
from kehoach_xl.rules.signing import canon_value
from tests.unitbook_parts.conftest import JUNE, T1, T3, T4, T5, Month
from tests.unitbook_parts.helpers import report_rows

WORDS = {Role.LEAD: "Chủ trì", Role.SYNTH: "Tổng hợp chung", Role.MEMBER: "Thành viên", Role.COORD: "Phối hợp"}


def _same(a: object, b: object) -> bool:
    return canon_value(a) == canon_value(b)


def test_every_unit_gets_exactly_its_parts_in_role_order(month: Month) -> None:
    md = read_master(month.master)
    plan = assignments(md)
    parts = {(p.task_id, p.unit): p for p in parts_of(md)}
    index = md.task_index()
    assert len(month.june) == len(plan)
    for unit, items in plan.items():
        rows, ws = report_rows(month.june[unitbook_name(unit, JUNE)[8:-5]])
        assert {r["id"] for r in rows} == {a.task_id for a in items}, unit
        assert len(rows) == len(items)
        roles = {a.task_id: a.role for a in items}
        assert [r["role"] for r in rows] == [WORDS[Role(roles[r["id"]])] for r in rows]
        order = [(ROLE_STRENGTH.index(Role(roles[r["id"]])), index[r["id"]]) for r in rows]
        assert order == sorted(order), unit  # chủ trì first, plan order within a role
        for r in rows:
            part, row = parts[(r["id"], unit)], md.tasks.rows[index[r["id"]]]
            cells = r["_cells"]
            if part.role == Role.COORD:
                assert _same(r["contribution"], part.line.split("] ", 1)[1] if part.line else None)
                assert all(r[k] is None for k in schema.UNIT_FIELDS)
                assert cells["contribution"].protection.locked is False
                assert cells["status"].protection.locked is True
            else:
                want = {"status": part.status, "progress": part.progress, "completed_on": part.completed_on,
                        "result": part.result, "difficulties": part.difficulties, "proposals": part.proposals}
                got = {k: r[k] for k in want}
                assert all(_same(got[k], want[k]) for k in want), (unit, r["id"], got, want)
                assert all(cells[k].protection.locked is False for k in schema.UNIT_FIELDS)
                assert cells["contribution"].protection.locked is True
            # the lead's state: read-only, grey, never the unit's own input cell
            assert cells["overall"].protection.locked is True
            assert cells["overall"].fill.fgColor.rgb.endswith("EDEDED")
            owners = [p.unit for p in parts.values() if p.task_id == r["id"] and p.role in (Role.LEAD, Role.SYNTH)]
            assert r["overall"].startswith("; ".join(owners) + ":") if owners else r["overall"]
            if row.get("status"):
                assert str(row["status"]) in r["overall"]


def test_thanh_tra_so_sees_its_may_reports(month: Month) -> None:
    rows, _ = report_rows(month.june["Thanh_tra_So"])
    by = {r["id"]: r for r in rows}
    assert [r["id"] for r in rows][0] == T3 and by[T3]["role"] == "Chủ trì"
    assert by[T3]["progress"] == 100 and by[T3]["result"] == "Đã rà soát 14 cuộc kiểm tra."
    assert by[T1]["role"] == "Thành viên"
    assert (by[T1]["status"], by[T1]["progress"]) == ("Đang thực hiện", 60)
    assert by[T1]["difficulties"].startswith("Thiếu cán bộ") and by[T1]["proposals"] == "Đề nghị gia hạn"
    assert "Văn phòng Sở" in by[T1]["overall"]  # the synthesiser's state, not the unit's own
    # a part done is still listed, with its date, so the unit can correct it
    assert (by[T5]["status"], by[T5]["completed_on"]) == ("Hoàn thành", dt.datetime(2024, 5, 12))
    assert by[T4]["role"] == "Phối hợp" and by[T4]["contribution"] == "Cử 01 thanh tra viên tham gia đoàn"


def test_instructions_say_what_to_update(month: Month) -> None:
    from openpyxl import load_workbook

    ws = load_workbook(month.june["Thanh_tra_So"])["Hướng dẫn"]
    text = "\n".join(str(c.value) for c in ws["A"] if c.value)
    assert "Kế hoạch số 62/KH-STNMT" in text
    assert "Chỉ sửa ô có thay đổi trong kỳ này" in text
    assert "Phần việc đã hoàn thành vẫn được liệt kê" in text
    assert "5 phần việc của đơn vị (1 chủ trì, 3 thành viên, 1 phối hợp); 2 phần việc đã báo cáo hoàn thành" in text
    assert "chương trình không đọc cột này" in text
