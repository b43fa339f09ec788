"""`tasks --csv` keeps formula-like text as text."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from kehoach_xl.cli.main import cli
from kehoach_xl.cli.options import csv_safe
from kehoach_xl.io.master_read import read_master
from kehoach_xl.io.master_write import write_master
from kehoach_xl.model import schema
from kehoach_xl.model.changes import MasterChanges
from kehoach_xl.model.config import Config
from tests.helpers import make_sample_master


def test_tasks_csv_neutralises_formulas(tmp_path: Path) -> None:
    master = make_sample_master(tmp_path / "so.xlsx")
    md = read_master(master)
    ch = MasterChanges()
    ch.set(schema.TASKS.name, md.tasks.row_numbers[0], md.tasks.columns["task"], '=HYPERLINK("http://x","bấm")')
    ch.set(schema.TASKS.name, md.tasks.row_numbers[0], md.tasks.columns["result"], "@SUM(1)")
    write_master(master, ch, action="test", config=Config())
    res = CliRunner().invoke(cli, ["tasks", str(master), "--csv"])
    assert res.exit_code == 0, res.output
    assert "'=HYPERLINK" in res.output and "'@SUM(1)" in res.output
    assert ",=" not in res.output and ',"=' not in res.output
    assert [csv_safe(v) for v in ("+1", "-x", "\tA", "\rB", "bình thường", 5, None)] == [
        "'+1", "'-x", "'\tA", "'\rB", "bình thường", 5, None]
