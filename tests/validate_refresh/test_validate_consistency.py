"""Rows a partial merge or a hand edit leaves inconsistent: each reported with its cell and a
Vietnamese message, through the command line as staff run it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from kehoach_xl.cli.main import cli
from kehoach_xl.model import schema
from kehoach_xl.rules import validation_rules as rules
from tests.helpers import make_sample_master


def test_hand_edited_inconsistent_rows_are_reported_with_their_cells(tmp_path: Path) -> None:
    master = make_sample_master(tmp_path / "so.xlsx")
    wb = openpyxl.load_workbook(master)
    ws = wb[schema.TASKS.name]
    col = {c.value: c.column for c in ws[1]}
    st, pr, done_on = col["Trạng thái"], col["Tiến độ (%)"], col["Ngày hoàn thành"]
    # row 3 (DDCI2024-002): a status refused by merge but its progress applied
    ws.cell(3, st, "Chưa thực hiện")
    ws.cell(3, pr, 80)
    # row 5 (DDCI2024-004): done typed by hand, progress left behind, no date
    ws.cell(5, st, "Hoàn thành")
    ws.cell(5, pr, 40)
    # row 6 (DDCI2024-005): a completion date without done, in the future
    ws.cell(6, done_on, dt.datetime(2099, 1, 2))
    # row 7 (DDCI2024-006): 100 % but still "in progress"
    ws.cell(7, pr, 100)
    wb.save(master)

    res = CliRunner().invoke(cli, ["validate", str(master), "--json"])
    assert res.exit_code == 1, res.output
    got = {(p["slug"], p["cell"]) for p in _all(json.loads(res.output))}
    L = openpyxl.utils.get_column_letter
    sheet = schema.TASKS.name
    expected = {
        ("not_started_with_progress", f"{sheet}!{L(pr)}3"),
        ("done_progress_not_full", f"{sheet}!{L(pr)}5"),
        ("done_without_date", f"{sheet}!{L(done_on)}5"),
        ("completed_not_done", f"{sheet}!{L(st)}6"),
        ("completed_in_future", f"{sheet}!{L(done_on)}6"),
        ("full_progress_not_done", f"{sheet}!{L(st)}7"),
    }
    assert expected <= got, expected - got

    text = CliRunner().invoke(cli, ["validate", str(master)]).output
    assert f"{sheet}!{L(pr)}3" in text and "Chưa thực hiện" in text and "02/01/2099" in text


def test_every_row_rule_has_a_vietnamese_problem_kind() -> None:
    for rule in schema.TASK_ROW_RULES:
        kind = rules.PROBLEMS[rule.slug]
        assert kind.template and rule.slug in rules.PROBLEM_LABELS
        assert all(k in schema.TASKS.keys for k in (*rule.cell, *rule.needs))


def _all(report: dict) -> list[dict]:
    return [*report["errors"], *report["warnings"]]
