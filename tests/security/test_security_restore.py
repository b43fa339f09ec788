"""Restore only what the program backed up: a manifest (name, time, SHA-256, operation) decides."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from kehoach_xl.cli.main import cli
from kehoach_xl.io.backup import BACKUP_DIR, backups_to_keep, list_backups, read_manifest
from kehoach_xl.io.master_read import read_master
from kehoach_xl.io.master_write import write_master
from kehoach_xl.model import schema
from kehoach_xl.model.changes import MasterChanges
from kehoach_xl.model.config import Config
from tests.helpers import make_sample_master, sample_tasks


def _write(master: Path, text: str, action: str = "merge") -> None:
    md = read_master(master)
    ch = MasterChanges()
    ch.set(schema.TASKS.name, md.tasks.row_numbers[0], md.tasks.columns["result"], text)
    write_master(master, ch, action=action)


def _result(master: Path) -> object:
    return read_master(master).tasks.rows[0]["result"]


def test_future_named_foreign_master_is_not_restored(tmp_path: Path) -> None:
    master = make_sample_master(tmp_path / "so_theo_doi.xlsx")
    _write(master, "bản một", "refresh")
    _write(master, "bản hai", "merge")
    # Another plan's master, copied in with a name from the future, so it sorts as the newest backup.
    other = make_sample_master(tmp_path / "khac" / "so_theo_doi.xlsx", tasks=sample_tasks()[:2])
    planted = tmp_path / BACKUP_DIR / "so_theo_doi-20991231-235959-000000.xlsx"
    shutil.copyfile(other, planted)
    runner = CliRunner()
    listed = runner.invoke(cli, ["restore", str(master), "--list"])
    assert listed.exit_code == 0, listed.output
    assert planted.name in listed.output.split("Bỏ qua")[1]  # reported as ignored, not as a backup
    assert "(trước khi: tổng hợp báo cáo đơn vị)" in listed.output
    assert "(trước khi: cập nhật thời hạn)" in listed.output
    res = runner.invoke(cli, ["restore", str(master)])  # the newest *real* backup
    assert res.exit_code == 0, res.output
    assert _result(master) == "bản một"
    before = master.read_bytes()
    res = runner.invoke(cli, ["restore", str(master), "--to", planted.name])
    assert res.exit_code == 1 and "không có trong danh mục sao lưu" in res.output
    assert master.read_bytes() == before


def test_planted_workbook_is_refused(tmp_path: Path) -> None:
    master = make_sample_master(tmp_path / "so.xlsx")
    _write(master, "thật")
    planted = tmp_path / BACKUP_DIR / "so-20240101-000000-000000.xlsx"
    forged = make_sample_master(tmp_path / "gia" / "so.xlsx")
    _write(forged, "giả mạo")
    shutil.copyfile(forged, planted)
    before = master.read_bytes()
    res = CliRunner().invoke(cli, ["restore", str(master), "--to", planted.name])
    assert res.exit_code == 1 and "không có trong danh mục sao lưu" in res.output
    assert master.read_bytes() == before


def test_backup_changed_after_it_was_made_is_refused(tmp_path: Path) -> None:
    master = make_sample_master(tmp_path / "so.xlsx")
    _write(master, "một")
    _write(master, "hai")
    real = list_backups(master)[0]
    forged = make_sample_master(tmp_path / "gia" / "so.xlsx")
    _write(forged, "giả mạo")
    shutil.copyfile(forged, real.path)  # same name, listed, other bytes
    before = master.read_bytes()
    res = CliRunner().invoke(cli, ["restore", str(master), "--to", real.path.name])
    assert res.exit_code == 1 and "SHA-256" in res.output
    assert master.read_bytes() == before


def test_manifest_records_each_backup(tmp_path: Path) -> None:
    master = make_sample_master(tmp_path / "so.xlsx")
    _write(master, "một", "refresh")
    res = CliRunner().invoke(cli, ["restore", str(master), "--list", "--json"])
    rows = json.loads(res.output)
    assert [r["operation"] for r in rows] == ["refresh"]
    entry = read_manifest(master)[0]
    import hashlib

    assert entry["sha256"] == hashlib.sha256((tmp_path / BACKUP_DIR / entry["file"]).read_bytes()).hexdigest()


def test_age_policy_keeps_the_week_then_one_a_day(tmp_path: Path) -> None:
    from kehoach_xl.io.backup import BackupInfo

    now = dt.datetime(2024, 6, 30, 12)
    backups = []
    for hours in range(0, 24 * 120, 6):  # one every 6 hours for 120 days
        t = now - dt.timedelta(hours=hours)
        backups.append(BackupInfo(tmp_path / f"b{hours}.xlsx", t, 1))
    kept = backups_to_keep(backups, now=now, keep_all_days=7, keep_daily_days=92, keep_min=1)
    recent = [b for b in backups if now - b.time <= dt.timedelta(days=7)]
    assert all(b.path in kept for b in recent)
    older = [b for b in backups if b.path in kept and now - b.time > dt.timedelta(days=7)]
    days = [b.time.date() for b in older]
    assert len(days) == len(set(days))  # one a day
    assert max(now - b.time for b in older) <= dt.timedelta(days=92)
    assert len(older) >= 80
    # The config defaults are this policy.
    c = Config()
    assert (c.backups_keep_all_days, c.backups_keep_daily_days) == (7, 92)
