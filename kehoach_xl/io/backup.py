"""Backups of the master in ``<master dir>/.kehoach_backups/``.

A backup is copied to a hidden ``.part`` file, fsynced, and only then renamed to
its final name ``<stem>-YYYYmmdd-HHMMSS-ffffff<suffix>``. A run killed half-way
leaves at most a ``.part`` file, which :func:`list_backups` never shows and the
next write (holding the master lock) deletes. So every listed backup is whole.

Each backup is recorded in a manifest, ``.<master name>.manifest.json`` in the same
folder (name, time, SHA-256, size, and the operation it preceded), written atomically
before the backup gets its final name. Only backups in the manifest are listed, pruned
or restored, and a restore checks the SHA-256: a workbook planted in the folder, or
another plan's master renamed with a future timestamp, is never taken for a backup.
Backups are kept by age (:func:`prune_backups`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
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
    time: dt.datetime  # when the backup was taken (from the manifest)
    size: int
    operation: str = ""  # the write this backup preceded: merge, refresh, restore …
    sha256: str = ""

    @property
    def label(self) -> str:
        return vn.datetime(self.time, seconds=True)


def backup_dir(master: Path) -> Path:
    return master.parent / BACKUP_DIR


def _pattern(master: Path) -> re.Pattern[str]:
    return re.compile(
        re.escape(master.stem) + r"-(\d{8}-\d{6}-\d{6})" + re.escape(master.suffix) + r"$", re.IGNORECASE
    )


def fsync_file(path: Path) -> None:
    """Force a written file's bytes to disk before it is renamed into place."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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


def copy_durable(src: Path, dst: Path, *, on_chunk: Callable[[], None] | None = None) -> str:
    """Byte copy ``src`` to a new file ``dst`` and fsync it; returns the SHA-256 of what was written.
    ``dst`` is removed on error."""
    digest = hashlib.sha256()
    try:
        with open(src, "rb") as fi, open(dst, "xb") as fo:
            while chunk := fi.read(CHUNK):
                fo.write(chunk)
                digest.update(chunk)
                if on_chunk:
                    on_chunk()
            fo.flush()
            os.fsync(fo.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            dst.unlink()
        raise
    return digest.hexdigest()


# --- the manifest ---------------------------------------------------------------------------


def manifest_path(master: Path) -> Path:
    return backup_dir(master) / f".{master.name}.manifest.json"


def read_manifest(master: Path) -> list[dict[str, object]]:
    """The manifest's entries (oldest first); empty when there is none or it is unreadable."""
    try:
        data = json.loads(manifest_path(master).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    entries = data.get("backups") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return []
    return [e for e in entries if isinstance(e, dict) and isinstance(e.get("file"), str)
            and isinstance(e.get("sha256"), str) and isinstance(e.get("time"), str)]


def _write_manifest(master: Path, entries: list[dict[str, object]]) -> None:
    """Replace the manifest atomically (temp file, fsync, rename). Call only holding the master lock."""
    path = manifest_path(master)
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    body = json.dumps({"master": master.name, "backups": entries}, ensure_ascii=False, indent=1)
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    fsync_dir(path.parent)


def discard_backup(master: Path, backup: Path) -> None:
    """Remove a backup and its manifest entry (a write that failed: the master did not change).
    The manifest goes when it lists nothing. Call only holding the master lock."""
    with contextlib.suppress(OSError):
        backup.unlink()
    entries = [e for e in read_manifest(master) if e["file"] != backup.name]
    if entries:
        _write_manifest(master, entries)
    else:
        with contextlib.suppress(OSError):
            manifest_path(master).unlink()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_entry(master: Path, name: str) -> dict[str, object] | None:
    return next((e for e in read_manifest(master) if e["file"] == name), None)


def make_backup(master: Path, *, on_chunk: Callable[[], None] | None = None,
                now: dt.datetime | None = None, operation: str = "") -> Path:
    """Copy the master into the backup folder and record it in the manifest; returns the backup's path."""
    folder = backup_dir(master)
    folder.mkdir(exist_ok=True)
    stamp = now or dt.datetime.now()
    while True:  # two writes within one microsecond (or a clock step back) must not collide
        final = folder / f"{master.stem}-{stamp.strftime(_STAMP)}{master.suffix}"
        if not final.exists():
            break
        stamp += dt.timedelta(microseconds=1)
    part = folder / f".{final.name}.part-{os.getpid()}"
    sha = copy_durable(master, part, on_chunk=on_chunk)
    try:
        # The manifest first: a run killed before the rename leaves an entry without a file
        # (never listed, dropped by the next prune), never a listed file without an entry.
        entries = read_manifest(master)
        entries.append({"file": final.name, "time": stamp.isoformat(), "sha256": sha,
                        "size": part.stat().st_size, "operation": operation})
        _write_manifest(master, entries)
        os.replace(part, final)
    except BaseException:
        with contextlib.suppress(OSError):
            part.unlink()
        raise
    fsync_dir(folder)
    return final


def list_backups(master: Path) -> list[BackupInfo]:
    """Backups of ``master`` recorded in the manifest whose file is present, newest first."""
    folder = backup_dir(master)
    out = []
    for e in read_manifest(master):
        name = str(e["file"])
        if Path(name).name != name or not _pattern(master).match(name):
            continue
        p = folder / name
        try:
            when = dt.datetime.fromisoformat(str(e["time"]))
            st = p.stat()
        except (ValueError, OSError):
            continue
        out.append(BackupInfo(path=p, time=when, size=st.st_size, operation=str(e.get("operation") or ""),
                              sha256=str(e["sha256"])))
    out.sort(key=lambda b: (b.time, b.path.name), reverse=True)
    return out


def unlisted_backups(master: Path) -> list[Path]:
    """Files named like backups of ``master`` that the manifest does not know (planted, or older versions')."""
    listed = {b.path.name for b in list_backups(master)}
    pat = _pattern(master)
    try:
        entries = list(os.scandir(backup_dir(master)))
    except OSError:
        return []
    return sorted(Path(e.path) for e in entries if pat.match(e.name) and e.name not in listed)


def backups_to_keep(backups: list[BackupInfo], *, now: dt.datetime, keep_all_days: float,
                    keep_daily_days: float, keep_min: int) -> set[Path]:
    """Every backup of the last ``keep_all_days``, then the newest of each day up to ``keep_daily_days``,
    and always the ``keep_min`` newest (at least one)."""
    newest_first = sorted(backups, key=lambda b: (b.time, b.path.name), reverse=True)
    keep = {b.path for b in newest_first[:max(1, keep_min)]}
    days: set[dt.date] = set()
    for b in newest_first:
        age = now - b.time
        if age <= dt.timedelta(days=keep_all_days):
            keep.add(b.path)
        elif age <= dt.timedelta(days=keep_daily_days) and b.time.date() not in days:
            keep.add(b.path)
        days.add(b.time.date())
    return keep


def prune_backups(master: Path, keep: int = 1, *, protect: Path | None = None, keep_all_days: float = 0,
                  keep_daily_days: float = 0, now: dt.datetime | None = None) -> list[Path]:
    """Delete the backups the age policy (:func:`backups_to_keep`) does not keep. Returns what was removed.

    ``protect`` (the backup a restore is reading from) is kept this time even if old. Files the
    manifest does not know are left alone. Call only while holding the master lock.
    """
    backups = list_backups(master)
    kept = backups_to_keep(backups, now=now or dt.datetime.now(), keep_all_days=keep_all_days,
                           keep_daily_days=keep_daily_days, keep_min=keep)
    removed = []
    for b in backups:
        if b.path in kept or (protect is not None and b.path.resolve() == Path(protect).resolve()):
            continue
        with contextlib.suppress(FileNotFoundError):
            b.path.unlink()
            removed.append(b.path)
    present = {b.path.name for b in backups if b.path not in removed}
    entries = read_manifest(master)
    if len(entries) != len(present) or any(e["file"] not in present for e in entries):
        _write_manifest(master, [e for e in entries if e["file"] in present])
    return removed


def clean_partials(master: Path) -> None:
    """Remove ``.part`` files and manifest temp files left by killed runs. Call only holding the master lock."""
    pat = re.compile(r"\." + _pattern(master).pattern[:-1] + r"\.part-\d+$", re.IGNORECASE)
    manifest_tmp = manifest_path(master).name + ".tmp-"
    with contextlib.suppress(OSError):
        for e in os.scandir(backup_dir(master)):
            if pat.match(e.name) or e.name.startswith(manifest_tmp):
                with contextlib.suppress(OSError):
                    os.unlink(e.path)
