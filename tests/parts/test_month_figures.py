"""A month simulated end to end on the sample plan (collective-lead tasks included): units report,
the merge and the refresh write the parts sheet, and the figures by unit recomputed from that sheet
alone (read with openpyxl) are the figures the reports print (``reports/figures.unit_parts_table``)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import openpyxl

from kehoach_xl.commands.merge import merge
from kehoach_xl.commands.refresh import refresh
from kehoach_xl.io.master_read import read_master
from kehoach_xl.model import schema
from kehoach_xl.reports.figures import unit_parts_table
from tests.bad_inputs.make import fill, setup_month

T1, T2, T3, T4, T6 = "DDCI2024-001", "DDCI2024-002", "DDCI2024-003", "DDCI2024-004", "DDCI2024-006"
AS_OF = dt.date(2024, 6, 5)


def _sheet(path: Path) -> list[dict[str, object]]:
    ws = openpyxl.load_workbook(path, read_only=True)[schema.PARTS.name]
    rows = list(ws.iter_rows(values_only=True))
    keys = {c.header: c.key for c in schema.PARTS.columns}
    head = [keys.get(str(h)) for h in rows[0]]
    return [dict(zip(head, r, strict=False)) for r in rows[1:] if r[0]]


def test_figures_by_unit_from_the_parts_sheet_match_the_reports(tmp_path: Path) -> None:
    master, files, inbox = setup_month(tmp_path)
    fill(files["Thanh_tra_So"], inbox / files["Thanh_tra_So"].name, {
        T6: {"status": "Hoàn thành", "progress": 100, "completed_on": "01/05/2024", "result": "Xong phần của Thanh tra"},
        T1: {"progress": 90, "result": "Gần xong"},
        T3: {"status": "Đang thực hiện", "progress": 40, "result": "Đang rà soát"},
        T4: {"contribution": "Cử cán bộ tham gia"}})
    fill(files["Van_phong_Dang_ky_dat_dai"], inbox / files["Van_phong_Dang_ky_dat_dai"].name, {
        T6: {"status": "Đang thực hiện", "progress": 35, "difficulties": "Thiếu người"},
        T2: {"progress": 75, "proposals": "Đề nghị nâng cấp máy chủ"}})
    fill(files["Van_phong_So"], inbox / files["Van_phong_So"].name, {
        T6: {"status": "Hoàn thành", "progress": 100, "completed_on": "15/05/2024", "result": "Đã tổng hợp"}})
    rep = merge(master, inbox, now=dt.datetime(2024, 5, 31, 20))
    assert rep.written and not [f for f in rep.files if f.status == "rejected"]
    refresh(master, as_of=AS_OF)

    rows = _sheet(master)
    led, owed, done, overdue = Counter(), Counter(), Counter(), Counter()
    for r in rows:
        owed[r["unit"]] += 1
        led[r["unit"]] += r["role"] == "Chủ trì"
        done[r["unit"]] += r["deadline_state"] in ("Hoàn thành đúng hạn", "Hoàn thành trễ hạn")
        overdue[r["unit"]] += r["deadline_state"] == "Quá hạn"
    table = unit_parts_table(read_master(master), AS_OF)
    assert {u.unit: (u.led, u.owed, u.done, u.overdue) for u in table} == \
        {u: (led[u], owed[u], done[u], overdue[u]) for u in owed}

    # The unit's own report decides its own part: Thanh tra Sở did its part of T6 on 01/05, before
    # the 20/05 deadline, while the task itself stays open and overdue (another member is at 35 %).
    by = {(r["task_id"], r["unit"]): r for r in rows}
    tt = by[(T6, "Thanh tra Sở")]
    assert (tt["status"], tt["deadline_state"], tt["period"]) == ("Hoàn thành", "Hoàn thành đúng hạn", "05/2024")
    assert by[(T6, "Văn phòng Đăng ký đất đai")]["progress"] == 35
    assert by[(T6, "Văn phòng Đăng ký đất đai")]["deadline_state"] == "Quá hạn"
    task = next(r for r in read_master(master).tasks.rows if r["id"] == T6)
    assert (task["status"], task["deadline_state"]) == ("Đang thực hiện", "Quá hạn")  # the synthesiser's "Hoàn thành" does not close it
    assert all(r["task_status"].startswith("Đang thực hiện") and not r["note"] for r in rows if r["task_id"] == T6)

    # History: one row per part reported, its deadline state its own part's.
    hist = [h for h in read_master(master).history.rows if h.get("task_id") == T6]
    state = {h["unit"]: h["deadline_state"] for h in hist}
    assert state == {"Thanh tra Sở": "Hoàn thành đúng hạn", "Văn phòng Đăng ký đất đai": "Quá hạn",
                     "Văn phòng Sở": "Hoàn thành đúng hạn"}
    assert all(h["period"] == "05/2024" for h in hist)
