"""Issued unit workbooks: names, contents, protection, dropdowns, hidden signed metadata."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from openpyxl import load_workbook

from kehoach_xl.commands.issue import issue
from kehoach_xl.errors import SetupError
from kehoach_xl.io.master_read import read_master
from kehoach_xl.model.config import Config
from kehoach_xl.model.unitbook import META_SHEET, unitbook_name
from kehoach_xl.rules.assignments import assignments
from kehoach_xl.rules.signing import verify
from tests.bad_inputs.make import setup_month


def test_names_show_period_and_unit():
    assert unitbook_name("Văn phòng Sở", "2024-05") == "2024-05_Van_phong_So.xlsx"
    assert unitbook_name("Phòng Quản lý đất đai", "2024-5") == "2024-05_Phong_Quan_ly_dat_dai.xlsx"
    assert unitbook_name("X", "5/2024") == "2024-05_X.xlsx"
    with pytest.raises(SetupError):
        unitbook_name("X", "2024-13")


def test_issue_signs_the_padded_period(tmp_path):
    from tests.bad_inputs.make import setup_month as _setup

    master, _, _ = _setup(tmp_path)
    (path, *_rest) = issue(master, period="2024-5", out=tmp_path / "gui", units=["Thanh tra Sở"])
    assert path.name.startswith("2024-05_")
    wb = load_workbook(path)
    meta = {r[0]: r[1] for r in wb[META_SHEET].iter_rows(values_only=True) if r[0] != "task"}
    assert json.loads(meta["header"])["period"] == "2024-05"


def test_collective_lead_expanded_to_members_with_synthesiser(tmp_path):
    master, files, _ = setup_month(tmp_path)
    plan = assignments(read_master(master))
    roles = {u: {a.task_id: a.role for a in items} for u, items in plan.items()}
    assert roles["Văn phòng Sở"]["DDCI2024-001"] == "synth"  # "Các phòng, đơn vị" lead, VP Sở coordinates
    assert roles["Thanh tra Sở"]["DDCI2024-001"] == "member"
    assert roles["Thanh tra Sở"]["DDCI2024-003"] == "lead"
    assert roles["Văn phòng Sở"]["DDCI2024-003"] == "coord"
    assert "Các phòng, đơn vị" not in roles
    assert len(files) == 8


def test_workbook_layout_protection_and_signature(tmp_path):
    master, files, _ = setup_month(tmp_path)
    wb = load_workbook(files["Thanh_tra_So"])
    assert wb.sheetnames == ["Báo cáo", "Hướng dẫn", META_SHEET]
    assert wb[META_SHEET].sheet_state == "veryHidden"
    ws = wb["Báo cáo"]
    assert ws.protection.sheet
    hdr = {c.value: c.column for c in ws[4]}
    ids = [ws.cell(r, hdr["Mã nhiệm vụ"]).value for r in range(5, ws.max_row + 1)]
    # chủ trì first, then its parts of the collective tasks, then what it coordinates
    assert ids == ["DDCI2024-003", "DDCI2024-001", "DDCI2024-005", "DDCI2024-006", "DDCI2024-004"]
    assert [ws.cell(r, hdr["Vai trò của đơn vị"]).value for r in range(5, ws.max_row + 1)] == [
        "Chủ trì", "Thành viên", "Thành viên", "Thành viên", "Phối hợp"]
    lead_row = 5 + ids.index("DDCI2024-003")
    coord_row = 5 + ids.index("DDCI2024-004")
    assert ws.cell(lead_row, hdr["Tiến độ (%)"]).protection.locked is False
    assert ws.cell(lead_row, hdr["Nhiệm vụ/Hoạt động"]).protection.locked is True
    assert ws.cell(coord_row, hdr["Tiến độ (%)"]).protection.locked is True
    assert ws.cell(coord_row, hdr["Nội dung phối hợp của đơn vị"]).protection.locked is False
    assert ws.cell(lead_row, hdr["Ngày hoàn thành"]).number_format == "dd/mm/yyyy"
    assert ws.cell(lead_row, hdr["Ngày hoàn thành"]).value == dt.datetime(2024, 5, 27)
    kinds = sorted(dv.type for dv in ws.data_validations.dataValidation)
    assert kinds == ["date", "decimal", "list"]
    assert "Các ô nền vàng đã điền sẵn báo cáo gần nhất" in wb["Hướng dẫn"]["A5"].value
    meta = wb[META_SHEET]
    head = json.loads(meta["B2"].value)
    tasks = [json.loads(meta.cell(r, 2).value) for r in range(4, meta.max_row + 1)]
    payload = {**head, "tasks": tasks}
    assert head["unit"] == "Thanh tra Sở" and head["period"] == "2024-05"
    assert head["master_id"] == read_master(master).settings["master_id"]
    assert verify(payload, meta["B3"].value, Config().secret)
    assert not verify({**payload, "unit": "Văn phòng Sở"}, meta["B3"].value, Config().secret)
    assert not verify(payload, meta["B3"].value, b"another key")


def test_issue_only_requested_units(tmp_path):
    master, _, _ = setup_month(tmp_path)
    out = issue(master, period="2024-06", out=tmp_path / "x", units=["Thanh tra Sở"])
    assert [p.name for p in out] == ["2024-06_Thanh_tra_So.xlsx"]
