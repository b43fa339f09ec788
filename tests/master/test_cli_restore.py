"""``kehoach-xl restore`` over the safe writer's backups."""

from __future__ import annotations

import json

from click.testing import CliRunner

from kehoach_xl.cli.main import cli
from kehoach_xl.io.master_read import read_master
from kehoach_xl.io.master_write import write_master
from kehoach_xl.model.changes import MasterChanges
from tests.helpers import make_sample_master


def test_restore_list_and_roll_back(tmp_path):
    master = make_sample_master(tmp_path / "so.xlsx")
    original = master.read_bytes()
    ch = MasterChanges()
    md = read_master(master)
    ch.set("Nhiệm vụ", md.tasks.row_numbers[0], md.tasks.columns["result"], "Đã ban hành văn bản")
    write_master(master, ch, action="test")
    assert read_master(master).tasks.rows[0]["result"] == "Đã ban hành văn bản"

    runner = CliRunner()
    listed = runner.invoke(cli, ["restore", str(master), "--list", "--json"])
    assert listed.exit_code == 0, listed.output
    backups = json.loads(listed.output)
    assert len(backups) == 1
    assert (tmp_path / ".kehoach_backups" / backups[0]["file"]).read_bytes() == original

    res = runner.invoke(cli, ["restore", str(master), "--to", backups[0]["file"]])
    assert res.exit_code == 0, res.output
    assert "Đã khôi phục" in res.output
    assert read_master(master).tasks.rows[0]["result"] is None
    # The restore itself was backed up, so it can be undone.
    assert len(json.loads(runner.invoke(cli, ["restore", str(master), "--list", "--json"]).output)) == 2


def test_restore_unknown_backup_is_a_usage_error(tmp_path):
    master = make_sample_master(tmp_path / "so.xlsx")
    res = CliRunner().invoke(cli, ["restore", str(master), "--to", "khong-co.xlsx"])
    assert res.exit_code in (1, 2) and "khong-co.xlsx" in res.output
    assert CliRunner().invoke(cli, ["restore", str(tmp_path / "x.xlsx"), "--list"]).exit_code == 2
