"""The inbox as files: what is waiting, under which names, with which content, and what was applied.

Everything here treats the inbox as hostile: names may not be valid UTF-8 or may be 250 bytes
long, a file may still be being copied in, a symlink may point anywhere, a file may be replaced
while a merge runs. Each file is read once into memory (bounded), hashed (SHA-256), and parsed
from that snapshot, so what is merged and what is filed are known to be the same bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import signal
import stat
import threading
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_SETTLE_SECONDS = 60.0
SETTLE_ENV = "KEHOACH_INBOX_SETTLE_SECONDS"
FILED_NAME_MAX_BYTES = 120
_UNIQUE_ROOM = 24  # ".YYYYmmdd-HHMMSS-NN" added when a name is taken
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
_CTRL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_UNSAFE = re.compile(r"[^\w .()+,=@\[\]-]", re.UNICODE)


@dataclass
class InboxEntry:
    path: Path  # the real path (its name may hold surrogate escapes)
    original: str  # the name as the file system gave it (surrogate-escaped when not UTF-8)
    display: str  # the name shown to people: valid UTF-8, no control characters, unique in this run
    size: int = 0
    mtime: float = 0.0
    symlink: bool = False
    sha256: str = ""  # of the bytes read (set when read)

    @property
    def name_is_clean(self) -> bool:
        return self.display == self.original

    def original_for_log(self) -> str:
        """The original name for logs: exact, printable, ASCII-safe when it is not clean."""
        if self.name_is_clean:
            return self.original
        return f"{self.display} (original bytes {os.fsencode(self.original)!r})"


def display_name(original: str) -> str:
    """A name people can read: undecodable bytes and control characters become U+FFFD."""
    raw = original.encode("utf-8", "surrogateescape")
    text = raw.decode("utf-8", "replace")
    return unicodedata.normalize("NFC", _CTRL.sub("\ufffd", text))


def filing_name(display: str, max_bytes: int = FILED_NAME_MAX_BYTES) -> str:
    """A safe file name (no separators, controls or leading dots), at most ``max_bytes`` UTF-8 bytes
    even after a uniqueness suffix; the extension is kept when it is short."""
    name = _UNSAFE.sub("_", display.replace("\ufffd", "_")).strip(" .") or "tep"
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext.encode()) > 8:
        stem, ext = name, ""
    ext = f".{ext}" if ext else ""
    if stem.split(".")[0].upper() in _WINDOWS_RESERVED:
        stem = "_" + stem
    room = max_bytes - _UNIQUE_ROOM - len(ext.encode())
    b = stem.encode()
    if len(b) > room:
        stem = b[:room].decode("utf-8", "ignore").rstrip(" .") or "tep"
    return stem + ext


def unique_path(dest: Path) -> Path:
    if not os.path.lexists(dest):
        return dest
    stamp = time.strftime("%Y%m%d-%H%M%S")
    n = 1
    while True:
        cand = dest.with_name(f"{Path(dest.name).stem}.{stamp}-{n}{dest.suffix}")
        if not os.path.lexists(cand):
            return cand
        n += 1


def settle_seconds(configured: float | None) -> float:
    if configured is not None:
        return float(configured)
    try:
        return float(os.environ.get(SETTLE_ENV, DEFAULT_SETTLE_SECONDS))
    except ValueError:
        return DEFAULT_SETTLE_SECONDS


def _skipped_name(name: str) -> bool:
    return name.startswith(("~$", ".", ".~lock")) or name.endswith(".txt")


def scan(inbox: Path) -> list[InboxEntry]:
    """Every candidate in ``inbox``, sorted by name; symlinks are listed (not followed), folders not."""
    out: list[InboxEntry] = []
    seen: set[str] = set()
    try:
        names = sorted(os.listdir(inbox))
    except OSError:
        return []
    for name in names:
        if _skipped_name(name):
            continue
        p = inbox / name
        try:
            st = os.lstat(p)
        except OSError:
            continue
        link = stat.S_ISLNK(st.st_mode)
        if not link and not stat.S_ISREG(st.st_mode):
            if not stat.S_ISDIR(st.st_mode):
                log.warning("mục %r trong thư mục nhận không phải tệp thường; không đọc, để nguyên",
                            os.fsencode(name))
            continue
        disp = display_name(name)
        base, n = disp, 2
        while disp in seen:
            stem, dot, ext = base.rpartition(".")
            disp = f"{stem} ({n}).{ext}" if dot and stem else f"{base} ({n})"
            n += 1
        seen.add(disp)
        out.append(InboxEntry(path=p, original=name, display=disp, size=st.st_size, mtime=st.st_mtime, symlink=link))
    return out


def read_snapshot(entry: InboxEntry, max_bytes: int) -> bytes | None:
    """The file's bytes (None when bigger than ``max_bytes``: the reader refuses it by size), never
    through a symlink; sets ``entry.sha256``."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(entry.path, flags)
    with os.fdopen(fd, "rb") as fh:
        h = hashlib.sha256()
        chunks = []
        total = 0
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            total += len(chunk)
            if total <= max_bytes:
                chunks.append(chunk)
            else:
                chunks = []
        entry.sha256 = h.hexdigest()
    return b"".join(chunks) if total <= max_bytes else None


def file_sha256(path: Path) -> str | None:
    """The current content hash of ``path`` (not through a symlink); None when it is gone or unreadable."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
    except OSError:
        return None
    h = hashlib.sha256()
    with os.fdopen(fd, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


class Ledger:
    """Content hashes already applied to a master, with when and from which file (a JSON file)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: dict[str, dict[str, Any]] = {}
        self.dirty = False
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                self.items = {k: v for k, v in data.items() if isinstance(v, dict)}
        except (OSError, ValueError, RecursionError):
            self.items = {}

    def get(self, sha: str) -> dict[str, Any] | None:
        return self.items.get(sha)

    def add(self, sha: str, **info: Any) -> None:
        self.items[sha] = info
        self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(self.items, ensure_ascii=False, indent=0, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)


def ledger_path(master: Path | None, inbox: Path) -> Path:
    """Beside the master (units can write to the inbox, not to the master's folder); else in the inbox."""
    if master and master.name:
        return master.with_name(f".{master.name}.da_tong_hop.json")
    return inbox / ".kehoach_da_tong_hop.json"


class FileTimeout(BaseException):  # noqa: N818 - the name says what happened
    """Not an Exception: the readers' broad ``except Exception`` (malformed parts) must not swallow it."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`FileTimeout` inside the block after ``seconds`` (POSIX main thread; elsewhere no limit)."""
    usable = (seconds and seconds > 0 and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def _alarm(signum: int, frame: Any) -> None:
        raise FileTimeout(seconds)

    old = signal.signal(signal.SIGALRM, _alarm)
    prev, _ = signal.setitimer(signal.ITIMER_REAL, seconds)  # someone else's alarm (a test time-out) …
    started = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        if prev > 0:  # … is set again for what was left of it
            signal.setitimer(signal.ITIMER_REAL, max(prev - (time.monotonic() - started), 0.001))
