"""Keep two writers off the master: our own lock file, and Excel's owner file.

Why a lock *file* made with ``O_CREAT | O_EXCL`` and not ``fcntl``/``flock``:
the master lives on a shared drive (SMB/CIFS). Byte-range and flock locks are
advisory, are not honoured at all by some SMB servers and clients, and vanish
or are mapped differently when the same share is reached from Windows and from
Linux. Exclusive create, on the other hand, is a single open request that the
file server itself answers ("already exists"), so it holds across machines and
operating systems. The price is that a run that dies leaves the file behind,
so a lock file records who made it (host, pid, boot, time) and is *stale* when

* it was made on this host and its process is gone (or the host rebooted), or
* it is older than ``lock_stale_minutes`` (any host: we cannot see other
  machines' processes, and a write takes seconds, not minutes), or
* it is empty/unreadable and stays unchanged for ``UNREADABLE_GRACE`` seconds
  (the writer died between creating it and writing into it).

A stale lock is removed under a short-lived second lock (``…lock.takeover``)
and re-checked first, so two runs that both see the same stale lock cannot
both remove it and then delete each other's fresh lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import json
import os
import socket
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from kehoach_xl import vn
from kehoach_xl.io.write_errors import MasterLockedError, MasterOpenInExcelError, write_failed

UNREADABLE_GRACE = 2.0  # seconds an empty lock file may stay unchanged before it is stale
TAKEOVER_STALE = 10.0  # seconds; the takeover guard is held for milliseconds only
POLL = 0.1


def lock_path(master: Path) -> Path:
    return master.with_name(f".{master.name}.kehoach.lock")


def current_user() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - getuser raises various errors without a login name
        user = "?"
    return f"{user}@{socket.gethostname()}"


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if sys.platform == "win32":  # os.kill(pid, 0) would send CTRL_C_EVENT on Windows
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return ctypes.get_last_error() == 5  # access denied: it exists
        code = ctypes.c_ulong()
        kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        kernel32.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class LockInfo:
    host: str
    pid: int
    time: float  # epoch seconds when taken
    user: str = ""
    boot: str = ""
    token: str = ""

    def describe(self) -> str:
        when = vn.datetime(dt.datetime.fromtimestamp(self.time), seconds=True)
        return f"{self.user or '?'} (máy {self.host}, tiến trình {self.pid}, từ {when})"


def read_lock(path: Path) -> LockInfo | None:
    """The lock's content, or None when it is missing, empty or unreadable."""
    try:
        raw = json.loads(path.read_bytes().decode("utf-8"))
        return LockInfo(
            host=str(raw["host"]), pid=int(raw["pid"]), time=float(raw["time"]),
            user=str(raw.get("user", "")), boot=str(raw.get("boot", "")), token=str(raw.get("token", "")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _stat_key(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


class FileLock:
    """An exclusive-create lock file. Use :meth:`acquire` / :meth:`release` or ``with``."""

    def __init__(self, path: Path, *, stale_after: float, label: str = "") -> None:
        self.path = path
        self.stale_after = stale_after
        self.label = label or path.name
        self.token = ""
        self._unreadable_seen: dict[tuple[int, int, int], float] = {}
        self._guard_lock: FileLock | None = None

    @property
    def _guard(self) -> FileLock:
        # One instance per lock, so what it has observed of an empty guard file persists across retries.
        if self._guard_lock is None:
            self._guard_lock = FileLock(self.path.with_name(self.path.name + ".takeover"),
                                        stale_after=TAKEOVER_STALE)
        return self._guard_lock

    # -- staleness -----------------------------------------------------------

    def is_stale(self, info: LockInfo | None, key: tuple[int, int, int] | None) -> bool:
        if key is None:
            return False  # vanished meanwhile: just retry the create
        if info is None:
            # Judged by what we observe ourselves, so clock skew between hosts does not matter.
            first = self._unreadable_seen.setdefault(key, time.monotonic())
            return time.monotonic() - first >= UNREADABLE_GRACE or time.time() - key[2] / 1e9 > self.stale_after
        if info.host == socket.gethostname():
            if info.boot and _boot_id() and info.boot != _boot_id():
                return True
            if not _pid_alive(info.pid):
                return True
        return time.time() - info.time > self.stale_after

    def _break_if_stale(self) -> bool:
        """Remove the lock if it is stale; True when the caller should retry at once."""
        info, key = read_lock(self.path), _stat_key(self.path)
        if key is None:
            return True
        if not self.is_stale(info, key):
            return False
        guard = self._guard
        if not guard._try_create():
            g_info, g_key = read_lock(guard.path), _stat_key(guard.path)
            if guard.is_stale(g_info, g_key):
                with contextlib.suppress(OSError):
                    guard.path.unlink()
            return False
        try:
            # Re-check under the guard: another run may have replaced the stale lock already.
            if read_lock(self.path) == info and _stat_key(self.path) == key:
                with contextlib.suppress(FileNotFoundError):
                    self.path.unlink()
        finally:
            guard.release()
        return True

    # -- taking and releasing ---------------------------------------------------

    def _try_create(self) -> bool:
        # The body is ready before the file exists: a kill between create and write leaves an
        # empty lock, which is recoverable (UNREADABLE_GRACE) but slower, so keep that window tiny.
        token = uuid.uuid4().hex
        body = json.dumps({
            "program": "kehoach_xl", "host": socket.gethostname(), "pid": os.getpid(), "time": time.time(),
            "when": dt.datetime.now().isoformat(timespec="seconds"), "user": current_user(),
            "boot": _boot_id(), "token": token,
        }).encode()
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        try:
            os.write(fd, body)
            os.fsync(fd)
        except OSError:
            os.close(fd)
            with contextlib.suppress(OSError):
                self.path.unlink()
            raise
        os.close(fd)
        self.token = token
        return True

    def acquire(self, timeout: float = 0) -> None:
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            if self._try_create():
                self._tidy_guard()
                return
            if self._break_if_stale():
                continue
            if time.monotonic() >= deadline:
                holder = read_lock(self.path)
                who = holder.describe() if holder else "một lần chạy khác"
                raise MasterLockedError(
                    f"Sổ theo dõi '{self.label}' đang được ghi bởi {who}. "
                    f"Hãy đợi lần chạy đó kết thúc rồi thử lại (tệp khóa: {self.path.name})."
                )
            time.sleep(min(POLL, max(0.0, deadline - time.monotonic())) or POLL)

    def _tidy_guard(self) -> None:
        """Remove a takeover guard left by a run killed while holding it (only if its owner is gone)."""
        guard = self._guard
        info = read_lock(guard.path)
        if info is not None and guard.is_stale(info, _stat_key(guard.path)):
            with contextlib.suppress(OSError):
                guard.path.unlink()

    def release(self) -> None:
        if not self.token:
            return
        # Only remove our own lock: if it was wrongly judged stale and replaced, leave the new one.
        info = read_lock(self.path)
        if info is not None and info.token == self.token:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        self.token = ""

    @property
    def held(self) -> bool:
        return bool(self.token)


class MasterLock(FileLock):
    """The lock of one master workbook, with Vietnamese errors for disk problems."""

    def __init__(self, master: Path, *, stale_after: float) -> None:
        super().__init__(lock_path(master), stale_after=stale_after, label=master.name)
        self.master = master

    def acquire(self, timeout: float = 0) -> None:
        try:
            super().acquire(timeout)
        except OSError as exc:
            raise write_failed(exc, self.master, "tạo tệp khóa") from exc

    def __enter__(self) -> MasterLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


# --- Excel / LibreOffice owner files ------------------------------------------


@dataclass(frozen=True)
class OwnerFile:
    path: Path
    user: str
    app: str  # "Excel" or "LibreOffice"
    mtime: float


def decode_excel_owner(data: bytes) -> str:
    """User name from an Office owner file (``~$name``), best effort.

    Layout as Office writes it: byte 0 = length of the name in the ANSI code
    page, the name padded with spaces to 54 bytes, then a 2-byte length and the
    same name in UTF-16LE. The UTF-16 copy keeps Vietnamese diacritics, so it
    wins when it decodes cleanly.
    """
    ansi = ""
    if data and 0 < data[0] <= 53 and len(data) > data[0]:
        ansi = data[1 : 1 + data[0]].decode("cp1252", "replace")
    for off in (54, 55):
        if len(data) < off + 2:
            continue
        n = int.from_bytes(data[off : off + 2], "little")
        if 0 < n <= 54 and len(data) >= off + 2 + 2 * n:
            try:
                name = data[off + 2 : off + 2 + 2 * n].decode("utf-16-le")
            except UnicodeDecodeError:
                continue
            if name.strip() and name.isprintable():
                return name.strip()
    return ansi.strip()


def decode_lo_owner(data: bytes) -> str:
    """User name from a LibreOffice lock file ``.~lock.name#`` ("Name,host,user,time,url;")."""
    text = data.decode("utf-8", "replace")
    fields = text.split(",")
    return (fields[0] or (fields[2] if len(fields) > 2 else "")).strip()


def find_owner_file(master: Path, *, stale_hours: float) -> OwnerFile | None:
    """The owner file of an Excel/LibreOffice session that has ``master`` open, if fresh."""
    name = master.name
    candidates = [(master.with_name("~$" + name), "Excel")]
    if len(name) > 2:  # Office shortens long names by overwriting their first two characters
        candidates.append((master.with_name("~$" + name[2:]), "Excel"))
    candidates.append((master.with_name(f".~lock.{name}#"), "LibreOffice"))
    now = time.time()
    for path, app in candidates:
        try:
            st = path.stat()
            data = path.read_bytes()[:4096]
        except OSError:
            continue
        if now - st.st_mtime > stale_hours * 3600:
            continue  # left behind by a crash long ago
        user = decode_excel_owner(data) if app == "Excel" else decode_lo_owner(data)
        return OwnerFile(path=path, user=user, app=app, mtime=st.st_mtime)
    return None


def owner_error(master: Path, owner: OwnerFile) -> MasterOpenInExcelError:
    since = vn.datetime(dt.datetime.fromtimestamp(owner.mtime))
    who = f"người dùng '{owner.user}'" if owner.user else "một người dùng"
    return MasterOpenInExcelError(
        f"Sổ theo dõi '{master.name}' đang được mở trong {owner.app} bởi {who} (từ {since}). "
        f"Hãy lưu và đóng tệp trong {owner.app} rồi chạy lại. Nếu chắc chắn không ai đang mở, "
        f"hãy xóa tệp '{owner.path.name}' cạnh sổ theo dõi."
    )


def wait_for_owner_file(master: Path, *, stale_hours: float, wait_seconds: float) -> None:
    """Raise ``MasterOpenInExcelError`` if the master is open, after waiting up to ``wait_seconds``."""
    deadline = time.monotonic() + max(0.0, wait_seconds)
    while True:
        owner = find_owner_file(master, stale_hours=stale_hours)
        if owner is None:
            return
        if time.monotonic() >= deadline:
            raise owner_error(master, owner)
        time.sleep(min(0.5, max(0.05, deadline - time.monotonic())))
