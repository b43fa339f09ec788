"""The safe master writer: lock, owner file, backups, restore, disk errors."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from kehoach_xl.commands.init import create_master
from kehoach_xl.io import lock as lockmod
from kehoach_xl.io.backup import BACKUP_DIR
from kehoach_xl.io.lock import decode_excel_owner, lock_path
from kehoach_xl.io.master_write import (
    MasterLockedError,
    MasterOpenInExcelError,
    VerifyFailedError,
    WriteFailedError,
    list_backups,
    restore,
    write_master,
)
from kehoach_xl.model import schema
from kehoach_xl.model.changes import LogEntry, MasterChanges
from kehoach_xl.model.config import Config

ROOT = Path(__file__).resolve().parents[2]
TASKS = schema.TASKS.name
STATUS_COL = schema.TASKS.keys.index("status") + 1
RESULT_COL = schema.TASKS.keys.index("result") + 1
LOG_KEYS = schema.LOG.keys


def make_master(folder: Path, name: str = "so_theo_doi.xlsx") -> Path:
    tasks = [
        {"id": f"NV{i}", "task": f"Nhiệm vụ số {i}", "lead_units": "Văn phòng Sở", "deadline_text": "20/6/2024"}
        for i in range(1, 4)
    ]
    return create_master(folder / name, tasks=tasks, meta={"plan_code": "KH62"})


def cfg(**kw: object) -> Config:
    base = {"lock_timeout": 0.0, "backups_keep": 3, "backups_keep_all_days": 0, "backups_keep_daily_days": 0}
    base.update(kw)
    return Config(**base)  # type: ignore[arg-type]


def status_change(value: str, row: int = 2) -> MasterChanges:
    ch = MasterChanges()
    ch.set(TASKS, row, STATUS_COL, value)
    ch.log.append(LogEntry("merge", file="don_vi.xlsx", unit="Văn phòng Sở", task_id=f"NV{row - 1}",
                           field="status", old=None, new=value))
    return ch


def cell(path: Path, sheet: str, row: int, col: int) -> object:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return wb[sheet].cell(row=row, column=col).value
    finally:
        wb.close()


def log_rows(path: Path) -> list[dict[str, object]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = list(wb[schema.LOG.name].iter_rows(values_only=True))
    finally:
        wb.close()
    header = list(rows[0])
    out = []
    for r in rows[1:]:
        if any(v not in (None, "") for v in r):
            out.append({k: r[header.index(schema.LOG.col(k).header)] for k in LOG_KEYS})
    return out


def leftovers(folder: Path) -> list[str]:
    return sorted(n for n in os.listdir(folder) if ".tmp-" in n or n.endswith(".kehoach.lock"))


@pytest.fixture()
def master(tmp_path: Path) -> Path:
    return make_master(tmp_path)


# --- the ordinary write -------------------------------------------------------------------


def test_write_sets_cells_logs_and_backs_up(master: Path) -> None:
    before = master.read_bytes()
    ch = status_change(schema.STATUS_DONE)
    ch.set(TASKS, 3, RESULT_COL, "=SUM(A1) là văn bản")
    res = write_master(master, ch, action="merge", config=cfg(), user="Chuyên viên A")
    assert cell(master, TASKS, 2, STATUS_COL) == schema.STATUS_DONE
    assert cell(master, TASKS, 3, RESULT_COL) == "=SUM(A1) là văn bản"  # text, not a formula
    assert res.log_rows == 1 and res.cells_written >= 2 and res.duration > 0
    assert res.backup is not None and res.backup.read_bytes() == before
    assert res.backup.parent == master.parent / BACKUP_DIR
    [row] = log_rows(master)
    assert row["action"] == "merge" and row["task_id"] == "NV1" and row["new"] == schema.STATUS_DONE
    assert row["old"] in ("", None) and row["user"] == "Chuyên viên A"
    assert isinstance(row["time"], dt.datetime)
    assert leftovers(master.parent) == []
    assert ch.appends == {}  # the caller's changes are not modified
    assert len(ch.log) == 1


def test_a_write_that_consumes_lets_the_log_entries_go_once_they_are_rows(master: Path) -> None:
    """``consume``: the caller does not use the change set again (merge, nightly); its log entries go
    once they are rows, and the log sheet holds the same rows as without it."""
    ch = status_change(schema.STATUS_DONE)
    res = write_master(master, ch, action="merge", config=cfg(), user="Chuyên viên A", consume=True)
    assert res.log_rows == 1 and ch.log == []
    [row] = log_rows(master)
    assert row["task_id"] == "NV1" and row["new"] == schema.STATUS_DONE and row["user"] == "Chuyên viên A"
    assert cell(master, TASKS, 2, STATUS_COL) == schema.STATUS_DONE


def test_summary_log_row_when_no_entries_and_values_stringified(master: Path) -> None:
    ch = MasterChanges()
    ch.set(TASKS, 2, STATUS_COL, schema.STATUS_IN_PROGRESS)
    write_master(master, ch, action="refresh", config=cfg(), user="máy chủ")
    [row] = log_rows(master)
    assert row["action"] == "refresh" and "1 ô" in str(row["new"])
    ch2 = MasterChanges(log=[LogEntry("merge", field="progress", old=0.5, new=dt.date(2024, 6, 20),
                                      time=dt.datetime(2024, 6, 1, 8, 30))])
    write_master(master, ch2, action="merge", config=cfg())
    last = log_rows(master)[-1]
    assert (last["old"], last["new"]) == ("0,5", "20/06/2024")
    assert last["time"] == dt.datetime(2024, 6, 1, 8, 30)


def test_log_columns_found_by_header_after_staff_moved_them(master: Path) -> None:
    wb = openpyxl.load_workbook(master)
    ws = wb[schema.LOG.name]
    old_j, new_j = LOG_KEYS.index("old") + 1, LOG_KEYS.index("new") + 1
    a, b = ws.cell(1, old_j).value, ws.cell(1, new_j).value
    ws.cell(1, old_j).value, ws.cell(1, new_j).value = b, a
    wb.save(master)
    write_master(master, MasterChanges(log=[LogEntry("merge", old="cũ", new="mới")]), action="merge", config=cfg())
    [row] = log_rows(master)
    assert (row["old"], row["new"]) == ("cũ", "mới")


def test_nothing_to_change_writes_nothing(master: Path) -> None:
    before = master.read_bytes()
    res = write_master(master, MasterChanges(), action="refresh", config=cfg())
    assert res.backup is None and master.read_bytes() == before
    assert not (master.parent / BACKUP_DIR).exists()


def _wrong_cells(changes: MasterChanges) -> MasterChanges:  # every changed cell gets another value
    return MasterChanges(cells={s: {k: "SAI" for k in c} for s, c in changes.cells.items()}, appends=changes.appends)


def _wrong_log_row(changes: MasterChanges) -> MasterChanges:  # the appended log row's last text is altered
    return MasterChanges(cells=changes.cells, appends={
        s: [[*row[:-1], "SAI"] if s == schema.LOG.name else row for row in rows] for s, rows in changes.appends.items()})


@pytest.mark.parametrize(("alter", "message"), [(_wrong_cells, "giữ nguyên"), (_wrong_log_row, "dòng thêm")])
def test_verify_rejects_a_wrong_temp_file(master: Path, monkeypatch: pytest.MonkeyPatch, alter, message) -> None:  # noqa: ANN001
    from kehoach_xl.io.xlsx_patch import patch_xlsx

    def lying_patcher(src: Path, dst: Path, changes: MasterChanges, **options):  # writes another value than asked
        return patch_xlsx(src, dst, alter(changes), **options)

    monkeypatch.setattr("kehoach_xl.io.xlsx_patch.patch_xlsx", lying_patcher)
    before = master.read_bytes()
    with pytest.raises(VerifyFailedError, match=message):
        write_master(master, status_change(schema.STATUS_DONE), action="merge", config=cfg())
    assert master.read_bytes() == before
    assert leftovers(master.parent) == [] and list_backups(master) == []


# --- lock -----------------------------------------------------------------------------------

HOLD_LOCK = """
import sys, time
from pathlib import Path
from kehoach_xl.io.lock import MasterLock
lk = MasterLock(Path(sys.argv[1]), stale_after=600)
lk.acquire(5)
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
lk.release()
"""


def _child(code: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True, env=env)


def test_lock_held_by_another_process_refuses_then_waits(master: Path) -> None:
    before = master.read_bytes()
    child = _child(HOLD_LOCK, str(master), "1.5")
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "locked"
        with pytest.raises(MasterLockedError) as err:
            write_master(master, status_change(schema.STATUS_DONE), action="merge", config=cfg())
        assert "đang được ghi" in str(err.value) and str(child.pid) in str(err.value)
        assert master.read_bytes() == before
        t0 = time.monotonic()
        res = write_master(master, status_change(schema.STATUS_DONE), action="merge", config=cfg(lock_timeout=10))
        assert res.backup is not None and time.monotonic() - t0 > 0.5
    finally:
        child.wait(10)
    assert cell(master, TASKS, 2, STATUS_COL) == schema.STATUS_DONE


WRITE_LOOP = """
import sys
from pathlib import Path
from kehoach_xl.model.config import Config
from kehoach_xl.model.changes import LogEntry, MasterChanges
from kehoach_xl.io.master_write import write_master
for i in range(int(sys.argv[2])):
    ch = MasterChanges(log=[LogEntry("merge", file=sys.argv[3], task_id=str(i))])
    write_master(Path(sys.argv[1]), ch, action="merge", config=Config(lock_timeout=30, backups_keep=2,
                 backups_keep_all_days=0, backups_keep_daily_days=0))
print("done", flush=True)
"""


def test_two_processes_writing_at_once_lose_nothing(master: Path) -> None:
    n = 8
    kids = [_child(WRITE_LOOP, str(master), str(n), f"p{k}") for k in range(2)]
    for k in kids:
        out, _ = k.communicate(timeout=60)
        assert k.returncode == 0 and "done" in out
    rows = log_rows(master)
    assert sorted((r["file"], int(str(r["task_id"]))) for r in rows) == sorted(
        (f"p{k}", i) for k in range(2) for i in range(n))
    assert len(list_backups(master)) == 2 and leftovers(master.parent) == []


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _write_lock(master: Path, **fields: object) -> None:
    info = {"host": socket.gethostname(), "pid": os.getpid(), "time": time.time(), "user": "x", "token": "t"}
    info.update(fields)
    lock_path(master).write_text(json.dumps(info))


@pytest.mark.parametrize("kind", ["dead_pid", "old_other_host", "rebooted"])
def test_stale_lock_is_taken_over(master: Path, kind: str) -> None:
    if kind == "dead_pid":
        _write_lock(master, pid=_dead_pid())
    elif kind == "old_other_host":
        _write_lock(master, host="may-khac", pid=1, time=time.time() - 31 * 60)
    else:
        if not lockmod._boot_id():
            pytest.skip("no boot id on this system")
        _write_lock(master, boot="another-boot")
    res = write_master(master, status_change(schema.STATUS_DONE), action="merge", config=cfg())
    assert res.backup is not None and not lock_path(master).exists()


def test_fresh_lock_of_another_host_is_respected(master: Path) -> None:
    _write_lock(master, host="may-khac", pid=1, time=time.time() - 60)
    with pytest.raises(MasterLockedError, match="may-khac"):
        write_master(master, status_change(schema.STATUS_DONE), action="merge", config=cfg())
    assert lock_path(master).exists()  # not ours to remove


def test_empty_lock_file_becomes_stale_after_grace(master: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lockmod, "UNREADABLE_GRACE", 0.3)
    lock_path(master).write_bytes(b"")
    with pytest.raises(MasterLockedError):
        write_master(master, status_change(schema.STATUS_DONE), action="merge", config=cfg())
    res = write_master(master, status_change(schema.STATUS_DONE), action="merge", config=cfg(lock_timeout=3))
    assert res.backup is not None


# --- Excel owner file -------------------------------------------------------------------


def excel_owner_bytes(user: str) -> bytes:
    """An owner file as Office writes it: ANSI name padded to 54 bytes, then length + UTF-16LE name."""
    ansi = user.encode("cp1252", "replace")
    data = bytes([len(ansi)]) + ansi.ljust(53, b" ") + len(user).to_bytes(2, "little") + user.encode("utf-16-le")
    return data.ljust(165, b"\x20")


def test_decode_excel_owner() -> None:
    assert decode_excel_owner(excel_owner_bytes("Nguyễn Văn Thiều")) == "Nguyễn Văn Thiều"
    assert decode_excel_owner(bytes([5]) + b"admin".ljust(60, b" ")) == "admin"
    assert decode_excel_owner(b"") == ""


def test_owner_file_refuses_and_leaves_master_alone(master: Path) -> None:
    owner = master.with_name("~$" + master.name)
    owner.write_bytes(excel_owner_bytes("Trần Thị Bình"))
    before = master.read_bytes()
    with pytest.raises(MasterOpenInExcelError) as err:
        write_master(master, status_change(schema.STATUS_DONE), action="merge", config=cfg())
    msg = str(err.value)
    assert "Trần Thị Bình" in msg and owner.name in msg and "Excel" in msg
    assert master.read_bytes() == before and list_backups(master) == [] and leftovers(master.parent) == []


def test_stale_owner_file_is_ignored(master: Path) -> None:
    owner = master.with_name("~$" + master.name)
    owner.write_bytes(excel_owner_bytes("Trần Thị Bình"))
    old = time.time() - 13 * 3600
    os.utime(owner, (old, old))
    write_master(master, status_change(schema.STATUS_DONE), action="merge", config=cfg(owner_file_stale_hours=12))
    assert cell(master, TASKS, 2, STATUS_COL) == schema.STATUS_DONE


def test_libreoffice_lock_and_waiting_for_close(master: Path) -> None:
    lo = master.with_name(f".~lock.{master.name}#")
    lo.write_text("Lê Văn C,pc-vanphong,lvc,23.11.2026 08:00,file:///x;", encoding="utf-8")
    with pytest.raises(MasterOpenInExcelError, match="LibreOffice.*Lê Văn C"):
        write_master(master, status_change(schema.STATUS_DONE), action="merge", config=cfg())
    threading.Timer(0.5, lo.unlink).start()
    res = write_master(master, status_change(schema.STATUS_DONE), action="merge", config=cfg(), wait_seconds=5)
    assert res.backup is not None


# --- backups and restore -------------------------------------------------------------------


def test_backups_pruned_to_keep_and_whole(master: Path) -> None:
    versions = []
    for i in range(6):
        versions.append(master.read_bytes())
        write_master(master, status_change(f"v{i}"), action="merge", config=cfg(backups_keep=3))
    backups = list_backups(master)
    assert len(backups) == 3
    assert [b.path.read_bytes() for b in backups] == versions[::-1][:3]  # newest first
    for b in backups:
        with zipfile.ZipFile(b.path) as zf:
            assert zf.testzip() is None


def test_restore_round_trip(master: Path) -> None:
    c = cfg(backups_keep=10)
    write_master(master, status_change("một"), action="merge", config=c)
    v1 = master.read_bytes()
    write_master(master, status_change("hai"), action="merge", config=c)
    v2 = master.read_bytes()
    listed = list_backups(master)
    assert listed[0].path.read_bytes() == v1 and len(listed) == 2
    res = restore(master, listed[0].path.name, config=c)  # by bare file name, as the CLI passes it
    assert cell(master, TASKS, 2, STATUS_COL) == "một"
    assert res.backup is not None and res.backup.read_bytes() == v2  # the restore itself can be undone
    assert log_rows(master)[-1]["action"] == "restore"
    restore(master, config=c)  # None → newest backup, i.e. the state just before the restore
    assert cell(master, TASKS, 2, STATUS_COL) == "hai"
    assert len(list_backups(master)) == 4


def test_restore_without_backups_is_a_clear_error(master: Path) -> None:
    from kehoach_xl.errors import SetupError

    with pytest.raises(SetupError, match="Chưa có bản sao lưu"):
        restore(master, config=cfg())
    with pytest.raises(SetupError, match="Không tìm thấy bản sao lưu"):
        restore(master, "khong_co.xlsx", config=cfg())


# --- disk full and read-only ------------------------------------------------------------------


@contextlib.contextmanager
def mounted(args: list[str], target: Path) -> Iterator[Path]:
    target.mkdir(exist_ok=True)
    proc = subprocess.run(["mount", *args, str(target)], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount here: {proc.stderr.strip()}")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], capture_output=True)


def _leave_free(folder: Path, pages: int) -> None:
    """Fill the filesystem of ``folder`` so that exactly ``pages`` 4 KiB pages stay free."""
    filler = folder / "filler.bin"
    with open(filler, "wb") as fh:
        with contextlib.suppress(OSError):
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        with contextlib.suppress(OSError):
            fh.close()
    os.truncate(filler, max(0, filler.stat().st_size - pages * 4096))


def _pages(path: Path) -> int:
    return -(-path.stat().st_size // 4096)


@pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0, reason="needs root to mount a tmpfs")
@pytest.mark.parametrize("fail_at", ["backup", "temp"])
def test_full_disk_gives_clear_error_and_keeps_master(tmp_path: Path, fail_at: str) -> None:
    src = make_master(tmp_path)
    with mounted(["-t", "tmpfs", "-o", "size=2m", "tmpfs"], tmp_path / "mnt") as mnt:
        master = mnt / src.name
        shutil.copyfile(src, master)
        before = master.read_bytes()
        # one page for the lock file; then either no room for the backup, or room for it but not the temp
        _leave_free(mnt, 1 + (0 if fail_at == "backup" else _pages(master) + 1))  # +1 page: the manifest
        with pytest.raises(WriteFailedError) as err:
            write_master(master, status_change(schema.STATUS_DONE), action="merge", config=cfg())
        assert "đầy" in str(err.value) and "giữ nguyên" in str(err.value)
        assert ("tạo bản sao lưu" if fail_at == "backup" else "ghi tệp tạm") in str(err.value)
        assert master.read_bytes() == before
        assert leftovers(mnt) == [] and list_backups(master) == []
        assert [n for n in os.listdir(mnt / BACKUP_DIR) if n.startswith(".")] == []  # no partial copies
        (mnt / "filler.bin").unlink()
        write_master(master, status_change(schema.STATUS_DONE), action="merge", config=cfg())
        assert cell(master, TASKS, 2, STATUS_COL) == schema.STATUS_DONE


@pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0, reason="needs root for a bind mount")
def test_read_only_folder_gives_clear_error(tmp_path: Path) -> None:
    src_dir = tmp_path / "share"
    src_dir.mkdir()
    make_master(src_dir)
    ro = tmp_path / "ro"
    with mounted(["--bind", str(src_dir)], ro):
        proc = subprocess.run(["mount", "-o", "remount,bind,ro", str(ro)], capture_output=True, text=True)
        if proc.returncode != 0:
            pytest.skip(f"cannot remount read-only: {proc.stderr.strip()}")
        master = ro / "so_theo_doi.xlsx"
        before = master.read_bytes()
        with pytest.raises(WriteFailedError, match="chỉ cho phép đọc"):
            write_master(master, status_change(schema.STATUS_DONE), action="merge", config=cfg())
        assert master.read_bytes() == before
    assert leftovers(src_dir) == []


def test_immutable_master_gives_clear_error(master: Path) -> None:
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(master)],
                                                        capture_output=True).returncode != 0:
        pytest.skip("chattr +i not available here")
    try:
        before = master.read_bytes()
        with pytest.raises(WriteFailedError, match="thay sổ theo dõi bằng bản mới"):
            write_master(master, status_change(schema.STATUS_DONE), action="merge", config=cfg())
        assert master.read_bytes() == before
        assert leftovers(master.parent) == [] and list_backups(master) == []
    finally:
        subprocess.run(["chattr", "-i", str(master)], check=True)


def test_verify_compares_stored_values() -> None:
    from kehoach_xl.io._verify import same_value

    assert same_value(5, 5.0) and same_value(None, "") and same_value(dt.date(2024, 6, 20), dt.datetime(2024, 6, 20))
    assert same_value(45000, dt.date(2023, 3, 15))  # a number in a date-formatted cell reads back as a date
    assert same_value(dt.date(2023, 3, 15), 45000.0)  # and a date in a number-formatted cell as its serial
    assert same_value(60, dt.date(1900, 2, 28)) and same_value(0.5, dt.time(12, 0))
    assert not same_value(5, 6) and not same_value("a", "b") and not same_value("5", 5)
    assert not same_value(dt.date(2024, 6, 20), dt.date(2024, 6, 21)) and not same_value(None, 0)


def test_number_into_date_formatted_column(master: Path) -> None:
    ch = MasterChanges()
    ch.set(TASKS, 2, schema.TASKS.keys.index("next_due") + 1, 60)
    ch.set(TASKS, 3, schema.TASKS.keys.index("due_date") + 1, dt.date(2024, 6, 20))
    res = write_master(master, ch, action="refresh", config=cfg())
    assert res.backup is not None  # verification accepted it
    assert cell(master, TASKS, 3, schema.TASKS.keys.index("due_date") + 1) == dt.datetime(2024, 6, 20)


def test_a_text_longer_than_a_cell_holds_is_cut_to_excels_limit_and_named_in_the_run_log(
        master: Path, caplog: pytest.LogCaptureFixture) -> None:
    from kehoach_xl.io.master_write import EXCEL_TEXT_MAX

    long = "Báo cáo rất dài. " * 2500  # 42,500 characters
    ch = MasterChanges()
    ch.set(TASKS, 2, RESULT_COL, long)
    with caplog.at_level("WARNING"):
        write_master(master, ch, action="merge", config=cfg())
    got = cell(master, TASKS, 2, RESULT_COL)
    assert got == long[:EXCEL_TEXT_MAX]
    # The log row's "new value" repeats it: cut too, so no cell of the file is over the limit.
    assert all(len(str(v)) <= EXCEL_TEXT_MAX for r in log_rows(master) for v in r.values() if v is not None)
    assert "quá giới hạn 32.767 ký tự của một ô Excel" in caplog.text
    assert f"ô {TASKS}!{get_column_letter(RESULT_COL)}2" in caplog.text
