"""Crash safety: SIGKILL the writer anywhere, the master stays old or new, never broken.

Each trial forks a child that runs ``write_master`` on the same small master and
kills it: at a named fault point (``KEHOACH_FAULT_POINT``; the child kills
itself, or in "pause" mode parks and the parent kills it), or after a random
delay. After every trial the master must be byte-identical to the old or to the
new version, open with openpyxl, and every backup must be a whole copy of a
version the master really had. The next trial's child must get through the
stale lock the previous one left, which the named-point trials prove by
reaching their point.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import random
import select
import shutil
import signal
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from kehoach_xl.commands.init import create_master
from kehoach_xl.io import lock as lockmod
from kehoach_xl.io.backup import BACKUP_DIR, list_backups
from kehoach_xl.io.master_write import FAULT_POINTS, write_master
from kehoach_xl.model import schema
from kehoach_xl.model.changes import LogEntry, MasterChanges
from kehoach_xl.model.config import Config

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL")

TRIALS_PER_POINT = 8  # x 10 named points, half of them in "pause" mode
RANDOM_TRIALS = 70
KEEP = 4
STATUS_COL = schema.TASKS.keys.index("status") + 1
CFG = Config(lock_timeout=5.0, backups_keep=KEEP, backups_keep_all_days=0, backups_keep_daily_days=0)


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def _changes(i: int) -> MasterChanges:
    ch = MasterChanges()
    ch.set(schema.TASKS.name, 2 + i % 3, STATUS_COL, f"Lần ghi {i}")
    ch.log.append(LogEntry("merge", file=f"t{i}.xlsx", task_id=f"NV{1 + i % 3}", field="status",
                           new=f"Lần ghi {i}", time=dt.datetime(2024, 6, 1, 8, 0), user="kiểm thử"))
    return ch


def _expected_new(master: Path, old: bytes, scratch: Path, i: int) -> bytes:
    """The bytes a completed write of ``old`` would produce (the patcher is deterministic)."""
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir()
    copy = scratch / master.name
    copy.write_bytes(old)
    write_master(copy, _changes(i), action="merge", config=CFG)
    return copy.read_bytes()


def _run_child(master: Path, i: int, *, point: str | None, mode: str, delay: float) -> tuple[int, str | None]:
    """Fork a writer; returns (wait status, fault point reported in pause mode)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        code = 1
        try:
            os.close(r)
            os.dup2(w, 2)
            if point:
                os.environ["KEHOACH_FAULT_POINT"] = point
                os.environ["KEHOACH_FAULT_MODE"] = mode
            write_master(master, _changes(i), action="merge", config=CFG)
            code = 0
        except BaseException as exc:  # noqa: BLE001 - report anything to the parent
            os.write(2, f"CHILD ERROR {type(exc).__name__}: {exc}\n".encode())
        finally:
            os._exit(code)
    os.close(w)
    seen = None
    if point and mode == "pause":
        buf = b""
        deadline = time.monotonic() + 10
        while b"\n" not in buf and time.monotonic() < deadline:
            ready, _, _ = select.select([r], [], [], 0.5)
            if ready:
                chunk = os.read(r, 4096)
                if not chunk:
                    break
                buf += chunk
        text = buf.decode(errors="replace")
        if text.startswith("KEHOACH_FAULT "):
            seen = text.split()[1]
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    elif not point:
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    err = buf if point and mode == "pause" else b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        err += chunk
    os.close(r)
    if b"CHILD ERROR" in err:
        raise AssertionError(err.decode(errors="replace") + _lock_state(master))
    return status, seen


def _lock_state(master: Path) -> str:
    """What the lock files say, and whether their owners live (for failure messages)."""
    out = []
    for lk in master.parent.glob(f".{master.name}.kehoach.lock*"):
        info = lockmod.read_lock(lk)
        alive = info is not None and Path(f"/proc/{info.pid}").exists()
        out.append(f"{lk.name}: {info} alive={alive}")
    return " | ".join(out) or "no lock files"


def _check_state(master: Path, old: bytes, new: Callable[[], bytes], versions: set[str]) -> bool:
    """Invariants after a trial; returns True when the master now holds the new version."""
    now = master.read_bytes()
    if now != old:
        assert now == new(), "master is neither the old nor the new version"
        versions.add(_sha(now))
    openpyxl.load_workbook(master).close()
    folder = master.parent / BACKUP_DIR
    listed = {b.path.name for b in list_backups(master)}
    visible = {n for n in os.listdir(folder) if not n.startswith(".")} if folder.exists() else set()
    assert visible == listed, f"unexpected files in backups: {visible - listed}"
    for b in list_backups(master):
        data = b.path.read_bytes()
        assert _sha(data) in versions, f"backup {b.path.name} is not a version the master had"
        with zipfile.ZipFile(b.path) as zf:
            assert zf.testzip() is None
    if now != old:
        newest = list_backups(master)[0]
        assert newest.path.read_bytes() == old, "the replaced version has no backup"
    return now != old


def test_sigkill_anywhere_leaves_old_or_new(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lockmod, "UNREADABLE_GRACE", 0.2)
    monkeypatch.delenv("KEHOACH_FAULT_POINT", raising=False)
    folder = tmp_path / "share"
    master = create_master(folder / "so_theo_doi.xlsx", tasks=[
        {"id": f"NV{i}", "task": f"Nhiệm vụ {i}", "lead_units": "Văn phòng Sở"} for i in range(1, 4)
    ])
    scratch = tmp_path / "scratch"
    versions = {_sha(master.read_bytes())}

    # How long one child write takes, to spread the random kills over it.
    new = _expected_new(master, master.read_bytes(), scratch, 0)
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            write_master(master, _changes(0), action="merge", config=CFG)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    span = time.monotonic() - t0
    assert master.read_bytes() == new
    versions.add(_sha(new))

    seed = int(os.environ.get("KEHOACH_FAULT_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    plan: list[tuple[str | None, str]] = [
        (p, "pause" if k % 2 else "kill") for k in range(TRIALS_PER_POINT) for p in FAULT_POINTS
    ] + [(None, "")] * RANDOM_TRIALS
    rng.shuffle(plan)
    outcomes = {"old": 0, "new": 0}
    started = time.monotonic()
    for i, (point, mode) in enumerate(plan, start=1):
        old = master.read_bytes()
        status, seen = _run_child(master, i, point=point, mode=mode, delay=rng.uniform(0, span * 1.2))
        where = f"trial {i} point={point} mode={mode} seed={seed}"
        if point:
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, f"{where}: point not reached"
            if mode == "pause":
                assert seen == point, f"{where}: child paused at {seen}"
        else:
            assert os.WIFSIGNALED(status) or os.WEXITSTATUS(status) == 0, where
        is_new = _check_state(master, old, lambda i=i, old=old: _expected_new(master, old, scratch, i), versions)
        outcomes["new" if is_new else "old"] += 1
        if point in ("replaced", "dir_synced", "pruned"):
            assert is_new, f"{where}: a kill after the replace must keep the new master"
        if point in ("locked", "owner_checked", "backup_copying", "backup_done", "patched", "verified",
                     "tmp_synced"):
            assert not is_new, f"{where}: a kill before the replace must keep the old master"
    elapsed = time.monotonic() - started
    print(f"{len(plan)} trials in {elapsed:.1f}s, seed {seed}, outcomes {outcomes}", file=sys.stderr)

    # After all that, an ordinary write goes through and tidies up.
    old = master.read_bytes()
    res = write_master(master, _changes(999), action="merge", config=CFG)
    assert res.backup is not None and res.backup.read_bytes() == old
    assert len(list_backups(master)) == KEEP
    left = sorted(n for n in os.listdir(folder) if n.startswith("."))
    assert left == [BACKUP_DIR], f"leftovers: {left}"
    # Only the manifest is hidden there, and it lists exactly the backups that are present.
    assert [n for n in os.listdir(folder / BACKUP_DIR) if n.startswith(".")] == [f".{master.name}.manifest.json"]
    from kehoach_xl.io.backup import read_manifest

    assert sorted(e["file"] for e in read_manifest(master)) == sorted(b.path.name for b in list_backups(master))
    assert outcomes["old"] > 0 and outcomes["new"] > 0
