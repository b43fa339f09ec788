"""Fixes from the code review: stale reads, settings rows, init --overwrite, demo --force,
CSV injection, restore sources, readable errors for wrong files, Windows-1258 CSV."""

from __future__ import annotations

import datetime as dt
import importlib
import os
import shutil
import unicodedata
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from kehoach_xl.cli.main import cli
from kehoach_xl.cli.options import csv_safe
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


# --- 1. read-before-lock race ----------------------------------------------------------------


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


# --- 2. settings label row missing ---------------------------------------------------------------


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


# --- 3. init --overwrite --------------------------------------------------------------------------


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


# --- 4. demo --force ---------------------------------------------------------------------------------


def test_demo_force_deletes_only_demo_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    demo_mod = importlib.import_module("kehoach_xl.commands.demo")  # the package exports the function as `demo`

    real = tmp_path / "that"
    real.mkdir()
    (real / "so_theo_doi.xlsx").write_bytes(b"real work")
    res = CliRunner().invoke(cli, ["demo", str(real), "--force"])
    assert res.exit_code == 2 and "không xóa" in res.output
    assert (real / "so_theo_doi.xlsx").read_bytes() == b"real work"

    # A folder the demo made (marker present) is rebuilt; stop the run right after the reset.
    made = tmp_path / "demo"
    made.mkdir()
    (made / demo_mod.DEMO_MARKER).write_text("x", encoding="utf-8")
    (made / "cu.txt").write_text("cũ", encoding="utf-8")

    def stop(name: str):
        raise RuntimeError("stop")

    monkeypatch.setattr("kehoach_xl.model.sample.sample_registry", stop)
    with pytest.raises(RuntimeError):
        demo_mod.demo(made, force=True)
    assert not (made / "cu.txt").exists() and (made / demo_mod.DEMO_MARKER).is_file()


def test_demo_marks_new_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    demo_mod = importlib.import_module("kehoach_xl.commands.demo")  # the package exports the function as `demo`

    monkeypatch.setattr("kehoach_xl.model.sample.sample_registry", lambda name: (_ for _ in ()).throw(RuntimeError()))
    with pytest.raises(RuntimeError):
        demo_mod.demo(tmp_path / "new")
    assert (tmp_path / "new" / demo_mod.DEMO_MARKER).is_file()


# --- 5. CSV formula injection ----------------------------------------------------------------------


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


# --- 6. restore sources ------------------------------------------------------------------------------


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


# --- 7. wrong files give Vietnamese errors naming them -------------------------------------------


def test_import_fake_docx(tmp_path: Path) -> None:
    fake = tmp_path / "ke_hoach_gia.docx"
    fake.write_text("không phải Word", encoding="utf-8")
    res = CliRunner().invoke(cli, ["import", str(fake), "--into", str(tmp_path / "so.xlsx")])
    assert res.exit_code == 1 and "ke_hoach_gia.docx" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "so.xlsx").exists()


def test_import_without_task_table_names_file(tmp_path: Path) -> None:
    plan = tmp_path / "danh_sach.csv"
    plan.write_text("Họ tên,Tuổi\nAn,30\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["import", str(plan), "--into", str(tmp_path / "so.xlsx")])
    assert res.exit_code == 1 and "Không nhận ra bảng nhiệm vụ trong tệp 'danh_sach.csv'" in res.output


def test_xlsm_on_renamed_docx_and_on_non_master(tmp_path: Path) -> None:
    from kehoach_xl.importer.plan_docs import build_sample_plan_docx

    docx = build_sample_plan_docx(tmp_path / "kh.docx", name="langson_ddci_2024")
    renamed = tmp_path / "doi_ten.xlsx"
    shutil.copy(docx, renamed)
    res = CliRunner().invoke(cli, ["xlsm", str(renamed)])
    assert res.exit_code in (1, 2) and "doi_ten.xlsx" in res.output and "Traceback" not in res.output
    other = tmp_path / "bang_khac.xlsx"
    openpyxl.Workbook().save(other)
    res = CliRunner().invoke(cli, ["xlsm", str(other)])
    assert res.exit_code == 2 and "bang_khac.xlsx" in res.output and "không phải sổ theo dõi" in res.output
    assert not (tmp_path / "bang_khac.xlsm").exists() and not (tmp_path / "doi_ten.xlsm").exists()


# --- 8. Windows-1258 CSV -------------------------------------------------------------------------------

_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}  # the marks cp1258 stores as separate bytes


def _cp1258(text: str) -> bytes:
    """Encode as Windows Vietnamese does: precomposed base letters, tone marks as combining bytes."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        parts = unicodedata.normalize("NFD", ch)
        tone = "".join(c for c in parts if c in _TONES)
        out.append(unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES)) + tone)
    return "".join(out).encode("cp1258")



def test_cp1258_csv_is_not_read_as_utf16() -> None:
    from kehoach_xl.importer.table_reader import _decode

    text = "STT,Nhiệm vụ,Đơn vị chủ trì\n1,Rà soát thủ tục,Văn phòng Sở\n"
    data = _cp1258(text)
    if len(data) % 2:
        data += b"\n"
    assert len(data) % 2 == 0
    assert unicodedata.normalize("NFC", _decode(data)).startswith("STT,Nhiệm vụ,Đơn vị chủ trì")
    assert _decode("STT,Nhiệm vụ\n".encode("utf-16")) == "STT,Nhiệm vụ\n"


def test_cp1258_csv_imports(tmp_path: Path) -> None:
    from kehoach_xl.importer.plan_import import parse_plan

    plan = tmp_path / "kh.csv"
    body = ("STT,Nhiệm vụ,Đơn vị chủ trì,Thời gian hoàn thành\n"
            "1,Rà soát thủ tục hành chính,Văn phòng Sở,30/6/2024\n")
    data = _cp1258(body)
    plan.write_bytes(data if len(data) % 2 == 0 else data + b"\n")
    parsed = parse_plan(plan, plan_year=2024)
    assert [t.task for t in parsed.tasks] == ["Rà soát thủ tục hành chính"]
