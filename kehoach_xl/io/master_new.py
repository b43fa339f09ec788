"""Save a newly built workbook atomically, over an existing master only under the lock and after a backup."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from openpyxl import Workbook

from kehoach_xl.errors import SetupError


@contextlib.contextmanager
def replacing_master(path: Path) -> Iterator[Path | None]:
    """Guard for replacing a whole workbook at ``path``: yields the backup of the old one (None if new).

    Holds the master's lock, refuses when Excel/LibreOffice has the file open and copies it into
    the writer's backup folder first, so ``init --overwrite`` can be undone with ``restore``.
    """
    if not path.exists():
        yield None
        return
    from kehoach_xl.io import backup as _backup
    from kehoach_xl.io.lock import MasterLock, wait_for_owner_file
    from kehoach_xl.model.config import Config, load_config

    try:
        cfg = load_config(path)
    except SetupError:  # a broken kehoach.toml must not stop a re-init
        cfg = Config()
    lock = MasterLock(path, stale_after=cfg.lock_stale_minutes * 60)
    lock.acquire(timeout=cfg.lock_timeout)
    try:
        wait_for_owner_file(path, stale_hours=cfg.owner_file_stale_hours, wait_seconds=0)
        yield _backup.make_backup(path, operation="init")
    finally:
        lock.release()


def _save_atomic(wb: Workbook, path: Path) -> None:
    """Save beside ``path`` and rename over it, so a crash never leaves half a workbook."""
    from kehoach_xl.io.backup import fsync_dir

    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")  # the name the writer cleans up after crashes
    try:
        wb.save(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)
