"""Validation: every rule broken once (golden report), plus the edges one at a time.

Regenerate the golden file after an intended change with
``UPDATE_GOLDEN=1 .venv/bin/pytest tests/validate_refresh/test_validate.py`` and review the diff.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import unicodedata
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from kehoach_xl.commands.init import create_master
from kehoach_xl.commands.validate import validate
from kehoach_xl.io.master_read import read_master
from kehoach_xl.model import schema
from kehoach_xl.model.config import Config
from kehoach_xl.model.master import master_from_grids
from kehoach_xl.model.sample import sample_registry
from kehoach_xl.rules import validation_rules as rules
from kehoach_xl.rules.validate import compute_validation
from tests.helpers import make_sample_master, sample_tasks

GOLDEN = Path(__file__).parents[1] / "golden" / "validate_broken.json"
TODAY = dt.date(2024, 7, 1)
NFD = lambda s: unicodedata.normalize("NFD", s)  # noqa: E731


def _task(tid: str | None, text: str, **kw: Any) -> dict[str, Any]:
    base = {"id": tid, "task": text, "lead_units": "Văn phòng Sở", "leaders": "Nguyễn Ngọc Thiều",
            "deadline_text": "30/9/2024", "status": "Đang thực hiện", "progress": 50}
    base.update(kw)
    return base


def _broken_tasks() -> list[dict[str, Any]]:
    """One task per broken rule; rows 2.. in this order (row = index + 2)."""
    return [
        _task("T-01", "Nhiệm vụ đúng, làm mốc so sánh"),                              # 2: fine
        _task(None, "Nhiệm vụ không có mã"),                                          # 3
        _task("T-01", "Mã trùng với dòng 2"),                                         # 4
        _task("T-04", None),                                                          # 5: no task text
        _task("T-05", "Không có đơn vị chủ trì", lead_units=None),                    # 6
        _task("T-06", "Đơn vị gõ sai", lead_units="Thanh tra So"),                    # 7
        _task("T-07", "Lãnh đạo gõ sai", leaders="Nguyễn Ngọc Thiệu"),                # 8
        _task("T-08", "Trạng thái lạ", status="Xong"),                                # 9
        _task("T-09", "Tiến độ quá 100", progress=120),                               # 10
        _task("T-10", "Tiến độ gõ dạng chữ", progress="80%"),                         # 11
        _task("T-11", "Tiến độ không phải số", progress="gần xong"),                  # 12
        _task("T-12", "Tiến độ dạng phân số", progress=0.8),                          # 13
        _task("T-13", "Ngày hoàn thành không tồn tại", completed_on="31/02/2024"),    # 14 (+completed_not_done? no: invalid)
        _task("T-14", "Không ghi thời hạn", deadline_text=None),                      # 15
        _task("T-15", "Thời hạn không đọc được", deadline_text="Khi nào xong thì báo"),  # 16
        _task("T-16", "Thời hạn ngày sai", deadline_text="Trước ngày 31/6/2024"),     # 17
        _task("T-17", "Hoàn thành thiếu ngày", status="Hoàn thành", progress=100),    # 18
        _task("T-18", "Hoàn thành chưa đủ 100", status="Hoàn thành", progress=90,
              completed_on=dt.date(2024, 6, 1)),                                      # 19
        _task("T-19", "Ngày hoàn thành ở tương lai", status="Hoàn thành", progress=100,
              completed_on=dt.date(2024, 8, 15)),                                     # 20
        _task("T-20", "Có ngày hoàn thành mà chưa xong", completed_on=dt.date(2024, 6, 3)),  # 21
        _task("T-21", "Tiến độ 100 mà chưa xong", progress=100),                      # 22
        _task("T-22", "Nhiệm vụ đúng,  làm mốc so sánh ", lead_units="VP Sở"),        # 23: duplicate of row 2
        _task("T-23", "Chưa thực hiện mà tiến độ 80 (hợp nhất dở)", status="Chưa thực hiện", progress=80),  # 24
        _task("T-24", "Hoàn thành 60%, chưa có ngày (sửa tay)", status="Hoàn thành", progress=60),  # 25
    ]


def build_broken_master(path: Path) -> Path:
    reg = sample_registry("langson_ddci_2024")
    units = [dict(u) for u in reg["units"]]
    units.append({"name": "Phòng Pháp chế", "aliases": ["VP Sở"], "email": "khong-phai-email"})  # alias conflict, bad email
    create_master(path, tasks=_broken_tasks(), units=units, leaders=reg["leaders"], scores=reg["scores"],
                  meta={**reg["meta"], "plan_year": "năm nay", "as_of": "32/13/2024"})
    wb = openpyxl.load_workbook(path)
    # Edits create_master would normalise away, made the way staff make them in Excel.
    ws_units = wb[schema.UNITS.name]
    n = ws_units.max_row
    ws_units.cell(n + 1, 1, NFD("Thanh tra Sở") + "  ")  # duplicate name: NFD + stray spaces
    ws_units.cell(n + 2, 3, "donvi@example.vn")  # a unit with an email but no name
    ws_scores = wb[schema.SCORES.name]
    ws_scores.cell(1, 1, "Bộ chỉ sô")  # a renamed required column
    ws_scores.cell(2, 4, 99)  # score above max
    ws_scores.cell(2, 6, 80)  # rank above total
    ws_scores.cell(2, 7, 20)
    ws_scores.cell(3, 3, 1990)  # year out of range
    ws_tasks = wb[schema.TASKS.name]
    col = {c.value: c.column for c in ws_tasks[1]}
    ws_tasks.cell(22, col["Số ngày còn lại"], "mười")  # not a number in a derived int column
    wb.save(path)
    return path


def flat(report: Any) -> dict[str, Any]:
    return json.loads(json.dumps(report.to_dict(), ensure_ascii=False, default=str))


def test_broken_master_matches_golden(tmp_path: Path) -> None:
    md = read_master(build_broken_master(tmp_path / "hong.xlsx"))
    report = compute_validation(md, config=Config(due_soon_days=-1), as_of=TODAY).result
    got = flat(report)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(got, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert got == json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_golden_covers_every_rule_except_missing_sheets(tmp_path: Path) -> None:
    md = read_master(build_broken_master(tmp_path / "hong.xlsx"))
    report = compute_validation(md, config=Config(due_soon_days=-1), as_of=TODAY).result
    assert not report.valid
    # value_duplicate is the generic slug of ColumnRule.unique (the rules use specific ones);
    # task_below_table needs the file (the Table's extent) and has its own test below.
    missing = set(rules.PROBLEMS) - set(report.slugs()) - {"sheet_missing", "sheet_missing_optional", "value_duplicate",
                                                           "task_below_table"}
    assert not missing, missing
    # The valid reference row 2 has no problem; every problem has a Vietnamese message and a location.
    assert all(p.row != 2 or p.sheet != schema.TASKS.name for p in report.problems)
    for p in report.problems:
        assert p.message and "{" not in p.message
        if p.cell:
            assert p.cell.startswith(p.sheet + "!") and p.cell.endswith(str(p.row))


def test_specific_problem_records(tmp_path: Path) -> None:
    md = read_master(build_broken_master(tmp_path / "hong.xlsx"))
    by = {}
    for p in compute_validation(md, as_of=TODAY).problems:
        by.setdefault(p.slug, p)
    unit = by["unit_unknown"]
    assert (unit.cell, unit.column, unit.value) == ("Nhiệm vụ!E7", "Đơn vị chủ trì", "Thanh tra So")
    assert "Thanh tra Sở" in unit.message  # suggestion
    assert "Nguyễn Ngọc Thiều" in by["leader_unknown"].message
    assert by["task_id_duplicate"].row == 4 and "dòng 2" in by["task_id_duplicate"].message
    assert by["date_invalid"].cell == "Nhiệm vụ!L14" and "29 ngày" in by["date_invalid"].message
    assert by["number_as_text"].severity == "warning" and "80" in by["number_as_text"].message
    assert by["task_duplicate"].row == 23 and "dòng 2" in by["task_duplicate"].message
    assert by["name_duplicate"].sheet == "Đơn vị" and "dòng 3" in by["name_duplicate"].message
    assert "Văn phòng Sở" in by["alias_conflict"].message
    assert "Bộ chỉ sô" in by["column_missing"].message
    assert by["completed_in_future"].severity == "error"
    assert {p.slug for p in compute_validation(md, as_of=TODAY).problems if p.slug == "config_invalid"} == set()


def test_sample_master_is_valid(tmp_path: Path) -> None:
    report = validate(make_sample_master(tmp_path / "m.xlsx"), as_of=TODAY)
    assert report.valid and report.problems == []


def test_name_variants_count_as_the_same_unit() -> None:
    reg = sample_registry("langson_ddci_2024")
    tasks_grid = [[c.header for c in schema.TASKS.columns]]
    keys = schema.TASKS.keys
    for tid, lead in (("A", NFD("Văn phòng Sở")), ("B", "  Văn   phòng Sở "), ("C", "vp sở"),
                      ("D", "Các phòng, đơn vị (chủ trì); Văn phòng Sở (phối hợp và tổng hợp chung)")):
        row: list[Any] = [None] * len(keys)
        row[keys.index("id")], row[keys.index("task")] = tid, f"Nhiệm vụ {tid}"
        row[keys.index("lead_units")], row[keys.index("deadline_text")] = lead, "31/12/2024"
        tasks_grid.append(row)
    units_grid = [[c.header for c in schema.UNITS.columns]] + [
        [u["name"], "; ".join(u["aliases"]), u["email"], u["head"], u["kind"]] for u in reg["units"]]
    md = master_from_grids({"Nhiệm vụ": tasks_grid, "Đơn vị": units_grid}, "live.xlsx")
    slugs = compute_validation(md, as_of=TODAY).result.slugs()
    assert "unit_unknown" not in slugs
    # Missing sheets are one problem each, not a crash.
    assert slugs.count("sheet_missing") == 2  # leaders, settings
    assert slugs.count("sheet_missing_optional") == 1  # scores


def test_dates_in_every_form_are_accepted_and_impossible_ones_caught() -> None:
    headers = ["Mã nhiệm vụ", "Nhiệm vụ/Hoạt động", "Đơn vị chủ trì", "Ngày hoàn thành", "Trạng thái",
               "Tiến độ (%)", "Thời hạn (nguyên văn)"]
    rows = [
        ["A", "Ngày thật", "Văn phòng Sở", dt.datetime(2024, 5, 2), "Hoàn thành", 100, "30/5/2024"],
        ["B", "Số ngày Excel", "Văn phòng Sở", 45414.0, "Hoàn thành", 100, 45444],
        ["C", "Chữ dd/mm/yyyy", "Văn phòng Sở", "02/05/2024", "Hoàn thành", 100, "30/5/2024"],
        ["D", "29/02 năm nhuận", "Văn phòng Sở", "29/02/2024", "Hoàn thành", 100, "30/5/2024"],
        ["E", "29/02 năm thường", "Văn phòng Sở", "29/02/2023", "Hoàn thành", 100, "30/5/2024"],
    ]
    units = [["Tên đơn vị"], ["Văn phòng Sở"]]
    md = master_from_grids({"Nhiệm vụ": [headers, *rows], "Đơn vị": units}, "x.xlsx")
    bad = [p for p in compute_validation(md, as_of=TODAY).problems if p.sheet == "Nhiệm vụ"]
    assert [(p.slug, p.cell) for p in bad] == [("date_invalid", "Nhiệm vụ!D6")]
    assert "28 ngày" in bad[0].message


def test_missing_and_renamed_columns_are_one_problem_each(tmp_path: Path) -> None:
    path = make_sample_master(tmp_path / "m.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb[schema.TASKS.name]
    headers = {c.value: c for c in ws[1]}
    headers["Đơn vị chủ trì"].value = "Đơn vi chu tri"
    ws.delete_cols(headers["Mã nhiệm vụ"].column)
    del wb[schema.LEADERS.name]
    wb.save(path)
    report = validate(path, as_of=TODAY)
    got = [(p.slug, p.column) for p in report.errors]
    assert ("column_missing", "Mã nhiệm vụ") in got and ("column_missing", "Đơn vị chủ trì") in got
    assert sum(1 for s, _ in got if s == "column_missing") == 2
    assert ("sheet_missing", None) in got
    assert "Đơn vi chu tri" in next(p.message for p in report.errors if p.column == "Đơn vị chủ trì")


def test_bad_config_file_is_reported_not_raised(tmp_path: Path) -> None:
    path = make_sample_master(tmp_path / "m.xlsx")
    (tmp_path / "kehoach.toml").write_text("due_soon_days = 999\n", encoding="utf-8")
    report = validate(path, as_of=TODAY)
    assert [p.slug for p in report.errors] == ["config_invalid"]
    assert "due_soon_days" in report.errors[0].message


def test_cli_json_and_exit_code(tmp_path: Path) -> None:
    from kehoach_xl.cli.main import cli

    path = build_broken_master(tmp_path / "hong.xlsx")
    res = CliRunner().invoke(cli, ["validate", str(path), "--json"])
    assert res.exit_code == 1, res.output
    data = json.loads(res.output)
    assert data["valid"] is False and data["errors"] and data["warnings"]
    assert set(data["errors"][0]) == {"slug", "severity", "sheet", "cell", "row", "column", "value", "message"}
    res = CliRunner().invoke(cli, ["validate", str(path)])
    assert res.exit_code == 1 and "Nhiệm vụ!E7" in res.output and "lỗi" in res.output
    ok = CliRunner().invoke(cli, ["validate", str(make_sample_master(tmp_path / "ok.xlsx"))])
    assert ok.exit_code == 0, ok.output


def test_write_lists_problems_in_the_problems_sheet(tmp_path: Path) -> None:
    path = build_broken_master(tmp_path / "hong.xlsx")
    before = openpyxl.load_workbook(path)
    report = validate(path, write=True, as_of=TODAY)
    wb = openpyxl.load_workbook(path)
    ws = wb[schema.PROBLEMS_SHEET_NAME]
    assert ws["A1"].value == "KẾT QUẢ KIỂM TRA DỮ LIỆU"
    assert f"{len(report.errors)} lỗi" in ws["A2"].value
    assert [c.value for c in ws[4]][:10] == list(rules.PROBLEM_SHEET_HEADERS)
    shown = openpyxl.load_workbook(path, data_only=True)[schema.PROBLEMS_SHEET_NAME]
    listed = [(shown.cell(r, 4).value, ws.cell(r, 10).value) for r in range(5, 5 + len(report.problems))]
    assert listed == [(p.cell or None, p.slug) for p in report.problems]
    # Each address is a link that jumps to the cell to fix.
    first = report.problems[0]
    sheet, _, addr = first.cell.rpartition("!")
    assert ws.cell(5, 4).value == f'=HYPERLINK("#\'{sheet}\'!{addr}","{first.cell}")'
    assert ws.cell(5 + len(report.problems), 1).value is None
    # Nothing else changed: the tasks sheet is byte-for-byte the same values.
    for name in (schema.TASKS.name, schema.UNITS.name):
        assert [[c.value for c in r] for r in before[name].iter_rows()] == \
               [[c.value for c in r] for r in wb[name].iter_rows()]
    # A second write with fewer problems leaves no stale rows behind.
    fixed = openpyxl.load_workbook(path)
    fixed[schema.TASKS.name]["A3"] = "T-02"
    fixed.save(path)
    again = validate(path, write=True, as_of=TODAY)
    assert len(again.problems) == len(report.problems) - 1
    ws = openpyxl.load_workbook(path)[schema.PROBLEMS_SHEET_NAME]
    assert ws.cell(4 + len(again.problems), 10).value and ws.cell(5 + len(again.problems), 1).value is None
    assert all(ws.cell(5 + len(again.problems), c).value is None for c in range(1, 11))
    path2 = make_sample_master(tmp_path / "ok.xlsx")
    validate(path2, write=True, as_of=TODAY)
    ws2 = openpyxl.load_workbook(path2)[schema.PROBLEMS_SHEET_NAME]
    assert "không có lỗi" in ws2["A2"].value and ws2["A5"].value is None


@pytest.mark.parametrize("status", ["Hoàn thành", "hoàn thành", NFD("Hoàn thành")])
def test_done_variants_need_a_date(status: str) -> None:
    headers = ["Mã nhiệm vụ", "Nhiệm vụ/Hoạt động", "Đơn vị chủ trì", "Trạng thái", "Ngày hoàn thành", "Tiến độ (%)"]
    md = master_from_grids({"Nhiệm vụ": [headers, ["A", "x", "Văn phòng Sở", status, None, 100]],
                            "Đơn vị": [["Tên đơn vị"], ["Văn phòng Sở"]]}, "x.xlsx")
    assert "done_without_date" in compute_validation(md, as_of=TODAY).result.slugs()


def test_sample_tasks_helper_unchanged() -> None:
    # The fixture above relies on the shared helper's six tasks staying valid.
    assert len(sample_tasks()) == 6


def test_rows_typed_below_the_task_table_are_pointed_at(tmp_path: Path) -> None:
    """LibreOffice does not grow a Table: a task typed under it is flagged, not silently ignored."""
    path = make_sample_master(tmp_path / "so.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb[schema.TASKS.name]
    last = ws.tables["NhiemVu"].ref.split(":")[1]
    below = int("".join(ch for ch in last if ch.isdigit())) + 1
    ws.cell(row=below, column=1, value="DDCI2024-099")
    ws.cell(row=below, column=4, value="Nhiệm vụ thêm bằng tay dưới bảng")
    wb.save(path)
    report = validate(path, as_of=TODAY)
    hits = [p for p in report.warnings if p.slug == "task_below_table"]
    assert [(p.cell, p.value) for p in hits] == [(f"Nhiệm vụ!A{below}", "DDCI2024-099")]
    assert "Resize Table" in hits[0].message
    assert "DDCI2024-099" not in [r["id"] for r in read_master(path).tasks.rows]
