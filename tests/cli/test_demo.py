"""The demo runs the whole monthly cycle end to end on the bundled plan."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from kehoach_xl.cli.main import cli
from kehoach_xl.commands.tasks import tasks
from kehoach_xl.io.master_read import read_master
from kehoach_xl.model import schema


def test_demo_runs_every_step(tmp_path):
    folder = tmp_path / "demo"
    res = CliRunner().invoke(cli, ["demo", str(folder)])
    assert res.exit_code == 0, res.output
    assert "✘" not in res.output
    master = folder / "so_theo_doi_DDCI_2024.xlsx"
    rows = tasks(master)
    assert len(rows) == 14  # the Lạng Sơn appendix has 14 tasks under 4 index groups
    assert {r["group"] for r in rows} == {"I", "II", "III", "IV"}
    # The merge brought unit reports in, and refresh classified every task.
    assert any(r["status"] == schema.STATUS_DONE for r in rows)
    assert all(r["deadline_state"] in schema.DEADLINE_STATES for r in rows)
    md = read_master(master)
    assert md.settings["as_of"].isoformat() == "2024-06-05"
    assert (folder / "hop_thu_den" / "processed").is_dir()
    # The simulated mistakes were reported back to their units in Vietnamese, beside the file,
    # and the CSV renamed .xlsx was refused whole.
    assert list((folder / "hop_thu_den" / "processed").glob("*.bao_cao_loi.txt"))
    rejected = list((folder / "hop_thu_den" / "rejected").glob("*.bao_cao_loi.txt"))
    assert len(rejected) == 1 and "CSV" in rejected[0].read_text(encoding="utf-8")
    assert list((folder / "gui_don_vi").glob("*.xlsx"))
    reports = folder / "bao_cao"
    for pattern in ("*.txt", "*.html", "*.eml", "*.docx", "tong_hop_*.xlsx"):
        assert list(reports.glob(pattern)), pattern
    _assert_log_archived(folder, master, res.output)
    # Running it again over the same folder needs --force and then rebuilds it.
    again = CliRunner().invoke(cli, ["demo", str(folder)])
    assert again.exit_code == 2 and "--force" in again.output
    out = CliRunner().invoke(cli, ["tasks", str(master), "--json"])
    assert json.loads(out.output)[0]["id"] == "DDCI2024-001"


def _assert_log_archived(folder: Path, master: Path, output: str) -> None:
    """The last step moved every log row the demo wrote into the archive workbook beside the master,
    and said so: how many rows and where the file is."""
    line = next((ln for ln in output.splitlines() if ln.startswith("✔ Lưu trữ nhật ký cũ:")), "")
    moved = re.search(r"Đã chuyển (\d[\d.]*) dòng nhật ký", line)
    assert moved, output
    n = int(moved[1].replace(".", ""))
    archives = list(folder.glob("so_theo_doi_DDCI_2024_luu_tru_*.xlsx"))
    assert len(archives) == 1 and f"→ {archives[0]}" in output
    archived = CalamineWorkbook.from_path(str(archives[0])).get_sheet_by_name("Nhật ký").to_python()
    assert n > 50 and len(archived) == n + 1  # the import alone logs every new task's fields
    assert {row[1] for row in archived[1:]} >= {"import", "merge"}
    # What stays in the master's log: the archive run's own row, naming the file it filled.
    log = CalamineWorkbook.from_path(str(master)).get_sheet_by_name("Nhật ký").to_python()
    assert [row[1] for row in log[1:]] == ["archive"] and archives[0].name in log[1][7]
