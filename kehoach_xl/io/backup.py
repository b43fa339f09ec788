"""Backups of the master in ``<master dir>/.kehoach_backups/``.

A backup is copied to a hidden ``.part`` file, fsynced, and only then renamed to
its final name ``<stem>-YYYYmmdd-HHMMSS-ffffff<suffix>``. A run killed half-way
leaves at most a ``.part`` file, which :func:`list_backups` never shows and the
next write (holding the master lock) deletes. So every listed backup is whole.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kehoach_xl import vn

BACKUP_DIR = ".kehoach_backups"
_STAMP = "%Y%m%d-%H%M%S-%f"
CHUNK = 1 << 20


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    time: dt.datetime  # when the backup was taken (from its name)
    size: int

    @property
    def label(self) -> str:
        return vn.datetime(self.time, seconds=True)


def backup_dir(master: Path) -> Path:
    return master.parent / BACKUP_DIR


def _pattern(master: Path) -> re.Pattern[str]:
    return re.compile(
        re.escape(master.stem) + r"-(\d{8}-\d{6}-\d{6})" + re.escape(master.suffix) + r"$", re.IGNORECASE
    )


def fsync_dir(path: Path) -> None:
    """Make a rename/create inside ``path`` durable (no-op where directories cannot be opened)."""
    if os.name == "nt":
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some network filesystems refuse fsync on a directory; the rename itself is atomic
    finally:
        os.close(fd)


def copy_durable(src: Path, dst: Path, *, on_chunk: Callable[[], None] | None = None) -> None:
    """Byte copy ``src`` to a new file ``dst`` and fsync it; ``dst`` is removed on error."""
    try:
        with open(src, "rb") as fi, open(dst, "xb") as fo:
            while chunk := fi.read(CHUNK):
                fo.write(chunk)
                if on_chunk:
                    on_chunk()
            fo.flush()
            os.fsync(fo.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            dst.unlink()
        raise


def make_backup(master: Path, *, on_chunk: Callable[[], None] | None = None,
                now: dt.datetime | None = None) -> Path:
    """Copy the master into the backup folder; returns the backup's path."""
    folder = backup_dir(master)
    folder.mkdir(exist_ok=True)
    stamp = now or dt.datetime.now()
    while True:  # two writes within one microsecond (or a clock step back) must not collide
        final = folder / f"{master.stem}-{stamp.strftime(_STAMP)}{master.suffix}"
        if not final.exists():
            break
        stamp += dt.timedelta(microseconds=1)
    part = folder / f".{final.name}.part-{os.getpid()}"
    copy_durable(master, part, on_chunk=on_chunk)
    try:
        os.replace(part, final)
    except BaseException:
        with contextlib.suppress(OSError):
            part.unlink()
        raise
    fsync_dir(folder)
    return final


def list_backups(master: Path) -> list[BackupInfo]:
    """Whole backups of ``master``, newest first."""
    folder = backup_dir(master)
    pat = _pattern(master)
    out = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    for e in entries:
        m = pat.match(e.name)
        if not m or not e.is_file():
            continue
        try:
            when = dt.datetime.strptime(m.group(1), _STAMP)
            size = e.stat().st_size
        except (ValueError, OSError):
            continue
        out.append(BackupInfo(path=Path(e.path), time=when, size=size))
    out.sort(key=lambda b: (b.time, b.path.name), reverse=True)
    return out


def prune_backups(master: Path, keep: int, *, protect: Path | None = None) -> list[Path]:
    """Delete all but the ``keep`` newest backups (never fewer than one). Returns what was removed.

    ``protect`` (the backup a restore is reading from) is kept this time even if old.
    """
    removed = []
    for b in list_backups(master)[max(1, keep):]:
        if protect is not None and b.path.resolve() == Path(protect).resolve():
            continue
        with contextlib.suppress(FileNotFoundError):
            b.path.unlink()
            removed.append(b.path)
    return removed


def clean_partials(master: Path) -> None:
    """Remove ``.part`` files left by killed runs. Call only while holding the master lock."""
    pat = re.compile(r"\." + _pattern(master).pattern[:-1] + r"\.part-\d+$", re.IGNORECASE)
    with contextlib.suppress(OSError):
        for e in os.scandir(backup_dir(master)):
            if pat.match(e.name):
                with contextlib.suppress(OSError):
                    os.unlink(e.path)
