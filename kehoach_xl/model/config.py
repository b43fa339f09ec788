"""Configuration read from ``kehoach.toml`` beside the master.

Every setting has a default that works, so a master with no configuration file
next to it behaves sensibly. Unknown keys and wrong types are reported as a
``SetupError`` naming the key, never silently ignored.
"""

from __future__ import annotations

import dataclasses
import os
import re
import secrets
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kehoach_xl.errors import SetupError

CONFIG_NAME = "kehoach.toml"


@dataclass
class MailConfig:
    host: str = "127.0.0.1"
    port: int = 25
    starttls: bool = False
    ssl: bool = False
    user: str = ""
    password_env: str = "KEHOACH_SMTP_PASSWORD"
    sender: str = "vanphong@stnmt.example.gov.vn"
    sender_name: str = "Văn phòng Sở"
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    timeout: float = 30.0
    # A CA bundle (PEM) trusted besides the system's: a provincial server with its own CA.
    cafile: str = ""
    # The OS keyring entry (service name) holding the password when the environment variable is
    # unset; the user name is the account's. Needs the optional ``keyring`` package.
    keyring_service: str = ""
    # --- collecting replies over IMAP (empty imap_host: not configured) ---
    imap_host: str = ""
    imap_port: int = 993
    imap_tls: str = "ssl"  # "ssl" (IMAPS, port 993) | "starttls" (port 143); never plain text
    imap_user: str = ""  # default: ``user``
    imap_password_env: str = ""  # default: ``password_env``
    imap_folder: str = "INBOX"
    # Top-level folder names (no hierarchy: servers separate levels with "/" or "."), ASCII.
    done_folder: str = "KeHoach-DaXuLy"  # handled messages move here, only after their files are saved
    unknown_folder: str = "KeHoach-CanXem"  # senders not in the "Đơn vị" sheet, too big: for the office to look at
    max_messages: int = 200  # per run; the rest wait for the next run
    max_message_mb: float = 30.0  # bigger messages are not downloaded (checked from the server's size)
    max_attachments: int = 5  # workbook attachments per message; a message with more is refused whole
    replies: bool = True  # answer each sender after the merge
    # --- the monthly letters ---
    report_day: int = 20  # units reply by this day of the period's month
    contact: str = ""  # who units call with questions, as printed in the letters
    reminder_days_before: list[int] = field(default_factory=list)  # nightly mails reminders N days before report_day

    @property
    def password(self) -> str:
        return _secret(self.password_env, self.keyring_service, self.user)

    @property
    def imap_login(self) -> str:
        return self.imap_user or self.user

    @property
    def imap_password(self) -> str:
        return _secret(self.imap_password_env or self.password_env, self.keyring_service, self.imap_login)


def _secret(env: str, keyring_service: str, user: str) -> str:
    """The password from the environment, else from the OS keyring; never from the file."""
    value = os.environ.get(env, "") if env else ""
    if value or not keyring_service or not user:
        return value
    try:
        import keyring  # optional: not every server has an OS keyring
    except ImportError:
        return ""
    try:
        return keyring.get_password(keyring_service, user) or ""
    except Exception:  # noqa: BLE001 - a broken keyring backend means "no password", reported by the caller
        return ""


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8765
    token_env: str = "KEHOACH_SERVER_TOKEN"
    max_request_bytes: int = 5_000_000
    # The masters the server answers for, by file name, relative to kehoach.toml; empty = `master`.
    # A request names its workbook; the server only ever uses the path configured here.
    masters: list[str] = field(default_factory=list)
    max_header_bytes: int = 16_384  # request line + headers; more → 431/400 and the connection closes
    header_timeout: float = 10.0  # seconds a connection may take to send its request line and headers
    body_timeout: float = 60.0  # seconds to receive the whole body (5 MB at ~100 kB/s)
    max_connections: int = 16  # open connections at once; more are answered 503 and closed at once

    @property
    def token(self) -> str:
        return os.environ.get(self.token_env, "")


@dataclass
class LimitsConfig:
    max_file_mb: float = 20.0
    max_uncompressed_mb: float = 200.0
    max_ratio: float = 200.0
    max_cell_chars: int = 32_767
    max_rows: int = 100_000
    # Counted by streaming each sheet's XML before any workbook object is built (dimension tags are
    # not trusted): a small file can declare tens of millions of empty cells.
    max_cells: int = 500_000  # in the whole workbook; openpyxl needs about 0,4 KB per cell
    max_columns: int = 2_000
    max_shared_strings: int = 1_000_000
    file_timeout_seconds: float = 120.0  # one inbox file; past it the file is refused and the merge goes on
    # A file modified this recently is left for the next run (it may still be being copied in).
    # None: 60 seconds, or the environment variable KEHOACH_INBOX_SETTLE_SECONDS.
    inbox_settle_seconds: float | None = None
    # Units whose unsigned copies of the master are accepted; any other unit must use its issued workbook.
    unsigned_master_copies_from: list[str] = field(default_factory=lambda: ["Văn phòng Sở"])


@dataclass
class ArchiveConfig:
    """What stays in the master's log and history sheets (the rest moves to the archive workbook)."""

    log_keep_months: int = 3  # log rows of the last N months stay in "Nhật ký"
    history_keep_periods: int = 12  # history rows of the last N reporting periods stay in "Lịch sử"
    nightly_day: int = 1  # the nightly archives on this day of the month (0: never; run "archive" by hand)


@dataclass
class Config:
    master: str = ""  # master workbook for the nightly job, relative to this file
    due_soon_days: int = 7
    due_soon_unit: str = "calendar"  # "calendar" | "working"
    inbox: str = "hop_thu_den"
    reports: str = "bao_cao"
    templates: str = "templates"  # folder whose templates override the package's ("" = package only)
    backups_keep: int = 1  # the newest N backups are kept whatever their age (at least one)
    backups_keep_all_days: float = 7.0  # every backup of the last 7 days is kept …
    backups_keep_daily_days: float = 92.0  # … then the newest of each day, up to about 3 months
    lock_timeout: float = 30.0
    lock_stale_minutes: float = 30.0
    owner_file_stale_hours: float = 12.0
    nightly_time: str = "22:00"
    nightly_retries: int = 3
    nightly_retry_wait: float = 60.0
    signing_key_env: str = "KEHOACH_SIGNING_KEY"
    signing_key: str = ""
    place: str = ""
    mail: MailConfig = field(default_factory=MailConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    archive: ArchiveConfig = field(default_factory=ArchiveConfig)
    base_dir: Path = field(default_factory=Path.cwd)
    source: Path | None = None  # the toml file read, if any

    def resolve(self, rel: str) -> Path:
        p = Path(rel)
        return p if p.is_absolute() else self.base_dir / p

    def served_masters(self) -> dict[str, Path]:
        """Masters the button server answers for: file name (case-folded) → configured path."""
        names = self.server.masters or ([self.master] if self.master else [])
        return {Path(n).name.casefold(): self.resolve(n) for n in names}

    @property
    def inbox_dir(self) -> Path:
        return self.resolve(self.inbox)

    @property
    def reports_dir(self) -> Path:
        return self.resolve(self.reports)

    @property
    def secret(self) -> bytes:
        """The department's key for signing unit workbooks. There is no built-in key: a key in the
        public source would let anyone sign a workbook as any unit."""
        key = os.environ.get(self.signing_key_env) or self.signing_key
        where = self.source or self.base_dir / CONFIG_NAME
        if not key:
            raise SetupError(
                f"Chưa có khóa ký tệp đơn vị: không có signing_key trong {where} và biến môi trường "
                f"{self.signing_key_env} chưa đặt. Lệnh “kehoach-xl init” tạo khóa ngẫu nhiên trong "
                f"kehoach.toml; hoặc bộ phận kỹ thuật đặt biến môi trường {self.signing_key_env} "
                f"(ít nhất {MIN_KEY_CHARS} ký tự ngẫu nhiên). Không giao hay tổng hợp tệp đơn vị khi chưa có khóa.")
        if len(key) < MIN_KEY_CHARS or key in _PUBLIC_KEYS:
            raise SetupError(
                f"Khóa ký tệp đơn vị (signing_key trong {where} hoặc biến môi trường {self.signing_key_env}) "
                f"quá ngắn hoặc là khóa công khai trong mã nguồn; hãy thay bằng khóa ngẫu nhiên ít nhất "
                f"{MIN_KEY_CHARS} ký tự, ví dụ: {new_signing_key()}")
        return key.encode()


MIN_KEY_CHARS = 16
# The constant earlier versions fell back to: published, so never a valid key.
_PUBLIC_KEYS = frozenset({"kehoach-xl-mac-dinh-hay-doi-khoa-nay"})


def new_signing_key() -> str:
    """A random key for signing unit workbooks (256 bits, URL-safe text)."""
    return secrets.token_urlsafe(32)


_SECTIONS = {"mail": MailConfig, "server": ServerConfig, "limits": LimitsConfig, "archive": ArchiveConfig}
# Top-level keys earlier versions wrote that no longer mean anything: accepted and ignored, so an
# existing kehoach.toml still loads (``outbox``: issue always takes --out).
_RETIRED = frozenset({"outbox"})


def _apply(obj: Any, data: dict[str, Any], where: str) -> None:
    fields = {f.name: f for f in dataclasses.fields(obj)}
    for key, value in data.items():
        name = key.replace("-", "_")
        if isinstance(obj, Config) and name in _RETIRED:
            continue
        if name not in fields or name in ("base_dir", "source"):
            raise SetupError(f"Cấu hình {where}: khóa '{key}' không được hỗ trợ.")
        if name in _SECTIONS:
            if not isinstance(value, dict):
                raise SetupError(f"Cấu hình {where}: '[{key}]' phải là một mục.")
            _apply(getattr(obj, name), value, f"{where} [{key}]")
            continue
        current = getattr(obj, name)
        if isinstance(current, bool) and not isinstance(value, bool):
            raise SetupError(f"Cấu hình {where}: '{key}' phải là true/false, nhận được {value!r}.")
        if isinstance(current, (int, float)) and not isinstance(current, bool):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise SetupError(f"Cấu hình {where}: '{key}' phải là số, nhận được {value!r}.")
            value = type(current)(value) if isinstance(current, float) else value
        if isinstance(current, list) and not isinstance(value, list):
            value = [value]
        if isinstance(current, str) and not isinstance(value, str):
            raise SetupError(f"Cấu hình {where}: '{key}' phải là chuỗi, nhận được {value!r}.")
        setattr(obj, name, value)


def check_config(cfg: Config) -> list[str]:
    """Problems with values (not types), in Vietnamese; empty when fine."""
    problems = []
    if cfg.due_soon_days < 0 or cfg.due_soon_days > 366:
        problems.append(f"due_soon_days = {cfg.due_soon_days} phải trong khoảng 0–366.")
    if cfg.due_soon_unit not in ("calendar", "working"):
        problems.append(f"due_soon_unit = '{cfg.due_soon_unit}' phải là 'calendar' hoặc 'working'.")
    if cfg.backups_keep < 1:
        problems.append("backups_keep phải ít nhất là 1 để luôn giữ một bản sao lưu.")
    if cfg.backups_keep_all_days < 0 or cfg.backups_keep_daily_days < 0:
        problems.append("backups_keep_all_days và backups_keep_daily_days không được âm.")
    hh, _, mm = cfg.nightly_time.partition(":")
    if not (hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60):
        problems.append(f"nightly_time = '{cfg.nightly_time}' phải có dạng HH:MM.")
    if not (0 < cfg.server.port < 65536):
        problems.append(f"[server] port = {cfg.server.port} không hợp lệ.")
    m = cfg.mail
    if m.imap_tls not in ("ssl", "starttls"):
        problems.append(f"[mail] imap_tls = '{m.imap_tls}' phải là 'ssl' hoặc 'starttls' (không nhận thư qua kết nối "
                        "không mã hóa).")
    if not (0 < m.imap_port < 65536) or not (0 < m.port < 65536):
        problems.append("[mail] port/imap_port không hợp lệ.")
    if not (1 <= m.report_day <= 31):
        problems.append(f"[mail] report_day = {m.report_day} phải trong khoảng 1–31.")
    if any(not isinstance(d, int) or d < 0 or d > 31 for d in m.reminder_days_before):
        problems.append("[mail] reminder_days_before phải là danh sách số ngày từ 0 đến 31, ví dụ [5, 1].")
    if m.max_messages < 1 or m.max_attachments < 1 or m.max_message_mb <= 0:
        problems.append("[mail] max_messages, max_attachments và max_message_mb phải lớn hơn 0.")
    for key in ("max_request_bytes", "max_header_bytes", "header_timeout", "body_timeout", "max_connections"):
        if getattr(cfg.server, key) <= 0:
            problems.append(f"[server] {key} phải lớn hơn 0.")
    a = cfg.archive
    if a.log_keep_months < 1 or a.history_keep_periods < 1 or not (0 <= a.nightly_day <= 28):
        problems.append("[archive] log_keep_months và history_keep_periods phải ít nhất là 1; "
                        "nightly_day trong khoảng 0–28 (0: không tự lưu trữ hằng đêm).")
    return problems


def load_config(near: Path | str | None = None) -> Config:
    """Read ``kehoach.toml`` beside ``near`` (a master file or a folder).

    ``near`` may also be the toml file itself. Absent file → defaults.
    """
    cfg = Config()
    if near is None:
        near = Path.cwd()
    near = Path(near)
    if near.suffix == ".toml":
        toml_path = near
    else:
        folder = near if near.is_dir() else near.parent
        toml_path = folder / CONFIG_NAME
    cfg.base_dir = toml_path.parent.resolve()
    if not toml_path.exists():
        if near.suffix == ".toml":
            raise SetupError(f"Không tìm thấy tệp cấu hình {toml_path}.")
        return cfg
    try:
        data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SetupError(f"Tệp cấu hình {toml_path} sai cú pháp: {exc}") from exc
    _apply(cfg, data, str(toml_path.name))
    cfg.source = toml_path
    bad = check_config(cfg)
    if bad:
        raise SetupError(f"Tệp cấu hình {toml_path.name} có giá trị không hợp lệ: " + " ".join(bad))
    return cfg


DEFAULT_TOML = """\
# Cấu hình kehoach_xl — đặt tệp này cạnh sổ theo dõi (master).
# Mọi khóa đều có giá trị mặc định; xóa dòng nào thì dùng mặc định dòng đó.

master = "so_theo_doi.xlsx"      # sổ theo dõi mà lệnh nightly xử lý
due_soon_days = 7                # còn bao nhiêu ngày thì coi là "Sắp đến hạn"
due_soon_unit = "calendar"       # "calendar" (ngày lịch) hoặc "working" (ngày làm việc)
inbox = "hop_thu_den"            # thư mục nhận báo cáo của đơn vị
reports = "bao_cao"              # thư mục báo cáo giao ban
backups_keep_all_days = 7        # giữ mọi bản sao lưu trong 7 ngày gần nhất
backups_keep_daily_days = 92     # sau đó giữ mỗi ngày một bản (bản mới nhất của ngày), đến khoảng 3 tháng
backups_keep = 1                 # luôn giữ ít nhất chừng này bản mới nhất, dù cũ đến đâu
nightly_time = "22:00"           # giờ chạy hằng đêm
signing_key_env = "KEHOACH_SIGNING_KEY"   # biến môi trường chứa khóa ký tệp đơn vị (nếu đặt thì dùng thay signing_key)

[mail]
host = "127.0.0.1"
port = 25
starttls = false
user = ""
password_env = "KEHOACH_SMTP_PASSWORD"
sender = "vanphong@stnmt.example.gov.vn"
to = []
# Nhận thư trả lời của đơn vị (xem docs/mail.md); để trống imap_host nếu không dùng.
imap_host = ""
imap_port = 993
imap_tls = "ssl"                 # "ssl" (cổng 993) hoặc "starttls" (cổng 143)
report_day = 20                  # đơn vị gửi báo cáo trước ngày này của tháng
contact = ""                     # người đơn vị gọi khi cần hỏi, ví dụ "Chị Lan, Văn phòng Sở, 0258 3822 xxx"

[server]
host = "127.0.0.1"
port = 8765
token_env = "KEHOACH_SERVER_TOKEN"
"""


_KEY_LINE = re.compile(r"^\s*signing[_-]key\s*=", re.MULTILINE)


def _key_line(key: str) -> str:
    return (f'signing_key = "{key}"   # khóa ký tệp đơn vị, tạo ngẫu nhiên khi init: giữ bí mật, '
            "không gửi cho đơn vị\n")


def default_toml(master_name: str = "so_theo_doi.xlsx", signing_key: str | None = None) -> str:
    """kehoach.toml for a new master, with a fresh random signing key."""
    text = DEFAULT_TOML.replace('"so_theo_doi.xlsx"', f'"{master_name}"')
    anchor = "signing_key_env = "
    i = text.index(anchor)
    j = text.index("\n", i) + 1
    return text[:j] + _key_line(signing_key or new_signing_key()) + text[j:]


def ensure_signing_key(toml_path: Path) -> bool:
    """Add a random ``signing_key`` to an existing kehoach.toml that has none; True when added.

    The line goes before the first ``[section]`` (a key after it would belong to that section);
    the file is replaced atomically.
    """
    text = toml_path.read_text(encoding="utf-8")
    if _KEY_LINE.search(text):
        return False
    m = re.search(r"^\s*\[", text, re.MULTILINE)
    at = m.start() if m else len(text)
    if at and not text[:at].endswith("\n"):
        text = text[:at] + "\n" + text[at:]
        at += 1
    new = text[:at] + _key_line(new_signing_key()) + text[at:]
    tomllib.loads(new)  # never write a file that no longer parses
    tmp = toml_path.with_name(f".{toml_path.name}.tmp-{os.getpid()}")
    tmp.write_text(new, encoding="utf-8")
    os.replace(tmp, toml_path)
    return True
