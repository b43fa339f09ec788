"""A write never overwrites a master changed since it was read; init and restore guard the file."""

from __future__ import annotations

import datetime as dt
import importlib
import os
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from kehoach_xl.cli.main import cli
from kehoach_xl.commands.init import init
from kehoach_xl.errors import DataError
from kehoach_xl.io.backup import BACKUP_DIR, list_backups
from kehoach_xl.io.master_read import read_master
from kehoach_xl.io.master_write import MasterOpenInExcelError, write_master
from kehoach_xl.model import schema
from kehoach_xl.model.changes import MasterChanges
from kehoach_xl.model.config import Config
from kehoach_xl.model.master import settings_cell
from tests.helpers import make_sample_master

D = dt.date


def _one_change(master: Path) -> MasterChanges:
    md = read_master(master)
    ch = MasterChanges()
    ch.set(schema.TASKS.name, md.tasks.row_numbers[0], md.tasks.columns["result"], "Đã xong")
    return ch


def _touch_later(path: Path) -> None:
    """What a save by staff looks like to the stamp: a new modification time."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))


def test_write_refused_when_master_changed_since_read(tmp_path: Path) -> None:
    master = make_sample_master(tmp_path / "so.xlsx")
    md = read_master(master)
    assert md.stamp == (master.stat().st_mtime_ns, master.stat().st_size)
    ch = _one_change(master)
    _touch_later(master)
    before = master.read_bytes()
    with pytest.raises(DataError, match="vừa được thay đổi"):
        write_master(master, ch, action="test", config=Config(), expect=md.stamp)
    assert master.read_bytes() == before and list_backups(master) == []
    # Same changes against a fresh read go through.
    write_master(master, ch, action="test", config=Config(), expect=read_master(master).stamp)
    assert read_master(master).tasks.rows[0]["result"] == "Đã xong"


@pytest.mark.parametrize("command", ["refresh", "validate", "import"])
def test_commands_pass_their_read_stamp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    """A save between a command's read and its write is refused, for every writing command here."""
    master = make_sample_master(tmp_path / "so.xlsx")

    def saving_in_between(module: str, name: str) -> None:
        mod = importlib.import_module(module)
        real = getattr(mod, name)

        def wrapped(*a, **kw):
            out = real(*a, **kw)
            _touch_later(master)
            return out

        monkeypatch.setattr(mod, name, wrapped)

    if command == "refresh":
        from kehoach_xl.commands.refresh import refresh

        saving_in_between("kehoach_xl.commands.refresh", "compute_refresh")
        before = master.read_bytes()
        with pytest.raises(DataError, match="vừa được thay đổi"):
            refresh(master, as_of=D(2024, 6, 5), config=Config())
    elif command == "validate":
        from kehoach_xl.commands.validate import validate

        saving_in_between("kehoach_xl.commands.validate", "compute_validation")
        before = master.read_bytes()
        with pytest.raises(DataError, match="vừa được thay đổi"):
            validate(master, write=True, config=Config(), as_of=D(2024, 6, 5))
    else:
        from kehoach_xl.commands.import_plan import import_plan
        from kehoach_xl.importer.plan_docs import build_sample_plan_docx

        empty = tmp_path / "moi.xlsx"
        make_sample_master(empty, tasks=[])
        master = empty
        plan = build_sample_plan_docx(tmp_path / "kh.docx", name="langson_ddci_2024")
        saving_in_between("kehoach_xl.commands.import_plan", "compute_import")
        before = master.read_bytes()
        with pytest.raises(DataError, match="vừa được thay đổi"):
            import_plan(plan, master, plan_code="DDCI2024")
    assert master.read_bytes() == before


def test_refresh_adds_missing_as_of_row_instead_of_overwriting_master_id(tmp_path: Path) -> None:
    from kehoach_xl.commands.refresh import refresh

    master = make_sample_master(tmp_path / "so.xlsx")
    md = read_master(master)
    master_id = md.settings["master_id"]
    wb = openpyxl.load_workbook(master)
    wb[schema.SETTINGS.name].delete_rows(md.settings_rows["as_of"])  # staff deleted the as-of row
    wb.save(master)
    md = read_master(master)
    assert settings_cell(md, "as_of") is None
    refresh(master, as_of=D(2024, 6, 5), config=Config())
    after = read_master(master)
    assert after.settings["master_id"] == master_id
    assert after.settings["as_of"] == D(2024, 6, 5)
    assert after.settings_rows["as_of"] > after.settings_rows["master_id"]


def test_init_overwrite_backs_up_and_refuses_when_open(tmp_path: Path) -> None:
    master = make_sample_master(tmp_path / "so.xlsx")
    old = master.read_bytes()
    owner = tmp_path / "~$so.xlsx"
    owner.write_bytes(b"\x05Lan  ")
    with pytest.raises(MasterOpenInExcelError):
        init(master, overwrite=True)
    assert master.read_bytes() == old
    owner.unlink()
    init(master, overwrite=True)
    assert master.read_bytes() != old and read_master(master).tasks.rows == []
    backups = list_backups(master)
    assert len(backups) == 1 and backups[0].path.read_bytes() == old
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


def test_restore_refuses_foreign_and_broken_files(tmp_path: Path) -> None:
    master = make_sample_master(tmp_path / "so.xlsx")
    write_master(master, _one_change(master), action="test", config=Config())
    before = master.read_bytes()
    runner = CliRunner()
    # An empty master somewhere else.
    other = tmp_path / "khac" / "rong.xlsx"
    make_sample_master(other, tasks=[])
    res = runner.invoke(cli, ["restore", str(master), "--to", str(other)])
    assert res.exit_code == 2 and "rong.xlsx" in res.output and "Traceback" not in res.output
    # A corrupt file and a non-master workbook inside the backup folder, named like backups.
    folder = tmp_path / BACKUP_DIR
    broken = folder / "so-20240101-000000-000000.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    res = runner.invoke(cli, ["restore", str(master), "--to", broken.name])
    assert res.exit_code == 1 and broken.name in res.output and "Traceback" not in res.output
    plain = folder / "so-20240101-000001-000000.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Trang 1"
    wb.save(plain)
    res = runner.invoke(cli, ["restore", str(master), "--to", str(plain)])
    # Planted files are not in the backup manifest: refused before they are even read.
    assert res.exit_code == 1 and plain.name in res.output and "không có trong danh mục sao lưu" in res.output
    assert master.read_bytes() == before
