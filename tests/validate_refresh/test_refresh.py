"""Refresh: derived columns through the real file, only owned cells, idempotent, colours in LibreOffice."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from kehoach_xl.commands.refresh import refresh
from kehoach_xl.io.backup import list_backups
from kehoach_xl.io.master_read import read_master
from kehoach_xl.model import schema
from kehoach_xl.model.config import Config
from kehoach_xl.model.master import master_from_grids, settings_cell
from kehoach_xl.rules.refresh import compute_refresh
from tests.helpers import make_sample_master

D = dt.date
STATE = schema.DEADLINE_STATES


def _task(tid: str, deadline: Any, status: str = "Đang thực hiện", **kw: Any) -> dict[str, Any]:
    return {"id": tid, "task": f"Nhiệm vụ {tid}", "lead_units": "Văn phòng Sở", "deadline_text": deadline,
            "status": status, "progress": 10, **kw}


CALENDAR_TASKS = [
    _task("TET", "04/02/2025"),
    _task("LE3004", "07/05/2024"),
    _task("THANG1", "Trong tháng 1/2025"),
    _task("THANG2", "Tháng 2/2024"),
    _task("NHUAN", "29/02/2024"),
    _task("DINHKY", "Báo cáo định kỳ hằng quý"),
    _task("XONG", "20/5/2024", status="Hoàn thành", progress=100, completed_on=D(2024, 5, 27)),
]


def _by_id(path: Path) -> dict[str, dict[str, Any]]:
    md = read_master(path)
    return {r["id"]: r for r in md.tasks.rows}


@pytest.mark.parametrize(("as_of", "tid", "days", "wdays", "state"), [
    # Friday before Tết 2025 → Tuesday after: 11 calendar days, 2 working days (03/02, 04/02).
    (D(2025, 1, 24), "TET", 11, 2, "on_track"),
    (D(2025, 2, 3), "TET", 1, 1, "due_soon"),
    # 26/04/2024 → 07/05/2024: 29/04 is the substitution day off, Saturday 04/05 is worked.
    (D(2024, 4, 26), "LE3004", 11, 5, "on_track"),
    (D(2024, 5, 8), "LE3004", -1, -1, "overdue"),
    # Month ends and the leap day.
    (D(2025, 1, 31), "THANG1", 0, 0, "due_soon"),
    (D(2025, 2, 1), "THANG1", -1, None, "overdue"),
    (D(2024, 2, 28), "THANG2", 1, 1, "due_soon"),
    (D(2024, 3, 1), "NHUAN", -1, -1, "overdue"),
])
def test_refresh_writes_days_and_states(tmp_path: Path, as_of: dt.date, tid: str, days: int,
                                        wdays: int | None, state: str) -> None:
    path = make_sample_master(tmp_path / "m.xlsx", tasks=CALENDAR_TASKS)
    refresh(path, as_of=as_of, config=Config())
    row = _by_id(path)[tid]
    assert row["days_remaining"] == days
    if wdays is not None:
        assert row["working_days_remaining"] == wdays
    assert row["deadline_state"] == STATE[state]
    assert row["deadline_kind"] in schema.DEADLINE_KINDS.values()
    rec = _by_id(path)["DINHKY"]
    assert rec["deadline_state"] == STATE["continuous"] and rec["recurrence"] == "Hằng quý"
    q_end = D(as_of.year, (as_of.month - 1) // 3 * 3 + 3, 1)
    assert rec["next_due"].year == as_of.year and rec["next_due"].month == q_end.month
    assert _by_id(path)["XONG"]["deadline_state"] == STATE["done_late"]


def test_refresh_stamps_as_of_and_a_second_run_writes_nothing(tmp_path: Path) -> None:
    path = make_sample_master(tmp_path / "m.xlsx")
    first = refresh(path, as_of=D(2024, 6, 5), config=Config())
    assert first.cells_changed > 0 and first.backup is not None
    md = read_master(path)
    assert md.settings["as_of"] == dt.date(2024, 6, 5)  # a real date in a dd/mm/yyyy cell
    ws = openpyxl.load_workbook(path)[schema.SUMMARY_SHEET_NAME]
    assert ws["A3"].value == "Số liệu tính đến ngày 05/06/2024"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    n_backups = len(list_backups(path))
    second = refresh(path, as_of=D(2024, 6, 5), config=Config())
    assert second.cells_changed == 0 and second.backup is None
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert len(list_backups(path)) == n_backups
    # A later day changes the counters but not the states that did not move.
    third = refresh(path, as_of=D(2024, 6, 6), config=Config())
    assert 0 < third.cells_changed < first.cells_changed
    assert third.states == {"done_on_time": 1, "due_soon": 1, "done_late": 1, "on_track": 1,
                            "continuous": 1, "overdue": 1}


def _all_values(path: Path) -> dict[str, dict[tuple[int, int], Any]]:
    wb = openpyxl.load_workbook(path)
    return {ws.title: {(c.row, c.column): c.value for row in ws.iter_rows() for c in row if c.value is not None}
            for ws in wb.worksheets}


def test_refresh_changes_only_owned_cells(tmp_path: Path) -> None:
    path = make_sample_master(tmp_path / "m.xlsx")
    # Staff content the program does not own, in the tasks sheet and beside it.
    wb = openpyxl.load_workbook(path)
    ws = wb[schema.TASKS.name]
    ws.cell(40, 3, "Ghi chú tay của Văn phòng")
    wb[schema.SUMMARY_SHEET_NAME]["D7"] = "ô của cán bộ"
    wb.save(path)
    before = _all_values(path)
    result = refresh(path, as_of=D(2024, 6, 5), config=Config())
    after = _all_values(path)
    md = read_master(path)
    owned_cols = {md.tasks.columns[k] for k in schema.DERIVED_FIELDS}
    task_rows = set(md.tasks.row_numbers)
    allowed = {
        schema.TASKS.name: lambda r, c: r in task_rows and c in owned_cols,
        schema.SETTINGS.name: lambda r, c: (r, c) == settings_cell(md, "as_of"),
        schema.SUMMARY_SHEET_NAME: lambda r, c: (r, c) == (3, 1),
        schema.LOG.name: lambda r, c: r > 1,
        schema.PARTS.name: lambda r, c: r > 1,  # program-owned: each part's deadline state follows the day
    }
    changed = 0
    assert set(before) == set(after)
    for sheet in before:
        for rc in set(before[sheet]) | set(after[sheet]):
            if before[sheet].get(rc) != after[sheet].get(rc):
                changed += 1
                assert sheet in allowed and allowed[sheet](*rc), (sheet, rc, before[sheet].get(rc), after[sheet].get(rc))
    assert changed >= result.cells_changed > 0
    log_rows = [r for r in openpyxl.load_workbook(path)[schema.LOG.name].iter_rows(min_row=2, values_only=True) if any(r)]
    assert len(log_rows) == 1 and log_rows[0][1] == "refresh"


def test_columns_found_by_header_in_any_order_and_missing_ones_skipped() -> None:
    keys = ["deadline_state", "task", "id", "deadline_text", "status", "days_remaining", "lead_units"]
    headers = [schema.TASKS.col(k).header for k in keys]
    grid = [headers,
            [None, "Việc A", "A", "10/6/2024", "Đang thực hiện", None, "Văn phòng Sở"],
            [None, None, None, None, None, None, None],
            ["Quá hạn", "Việc B", "B", "Thường xuyên", "Đang thực hiện", 3, "Văn phòng Sở"]]
    md = master_from_grids({"Nhiệm vụ": grid, "Cấu hình": [["Thông số", "Giá trị"]]}, "live.xlsx")
    ch = compute_refresh(md, as_of=D(2024, 6, 5), config=Config()).changes
    cells = ch.cells["Nhiệm vụ"]
    assert cells == {(2, 1): "Sắp đến hạn", (2, 6): 5, (4, 1): "Thường xuyên/định kỳ", (4, 6): None}
    # The settings sheet has no as-of label row: a new row is added, no guessed cell is written.
    assert settings_cell(md, "as_of") is None and "Cấu hình" not in ch.cells
    assert ch.appends["Cấu hình"] == [[schema.SETTINGS_ROWS["as_of"], dt.date(2024, 6, 5)]]


def test_cli_refresh(tmp_path: Path) -> None:
    from kehoach_xl.cli.main import cli

    path = make_sample_master(tmp_path / "m.xlsx")
    res = CliRunner().invoke(cli, ["refresh", str(path), "--as-of", "2024-06-05"])
    assert res.exit_code == 0, res.output
    assert "05/06/2024" in res.output and "Quá hạn: 1" in res.output
    vn_style = CliRunner().invoke(cli, ["refresh", str(path), "--as-of", "05/06/2024"])  # dd/mm/yyyy too
    assert vn_style.exit_code == 0 and "05/06/2024" in vn_style.output, vn_style.output
    bad = CliRunner().invoke(cli, ["refresh", str(path), "--as-of", "31/02/2024"])
    assert bad.exit_code == 2


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]


def test_libreoffice_shows_state_colours(tmp_path: Path, soffice_convert: Any, artifacts_dir: Path) -> None:
    from PIL import Image

    path = make_sample_master(tmp_path / "mau_sac.xlsx")
    refresh(path, as_of=D(2024, 6, 5), config=Config())
    pdf = soffice_convert(path, "pdf", tmp_path)
    out = artifacts_dir / "refresh_colours"
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(out)], check=True,
                   timeout=120)
    png = next(artifacts_dir.glob("refresh_colours*.png"))
    img = Image.open(png).convert("RGB")
    w, h = img.size
    px = img.load()

    def rows_with(colour: str, tol: int = 10) -> list[int]:
        target = _rgb(colour)
        hits = []
        for y in range(h):
            n = sum(1 for x in range(0, w, 2) if all(abs(a - b) <= tol for a, b in zip(px[x, y], target, strict=True)))
            if n > w // 20:  # a coloured band across a good part of the row
                hits.append(y)
        return hits

    red = rows_with(schema.STATE_COLOURS["overdue"])
    green = rows_with(schema.STATE_COLOURS["done_on_time"])
    amber = rows_with(schema.STATE_COLOURS["due_soon"])
    assert red and green and amber, (png, len(red), len(green), len(amber))
    # Sample order: DDCI2024-001 done on time (row 2) … DDCI2024-006 overdue (row 7, the last).
    assert min(green) < min(amber) < min(red)
