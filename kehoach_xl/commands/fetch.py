"""``kehoach-xl fetch``: units' replies from the IMAP mailbox into the inbox; after a merge, the answers.

The order that makes a crash harmless: an attachment is written to the inbox (a hidden temporary
file, fsync, linked under its final name, the folder fsynced), then what it came from is recorded
beside the master (fsync), and only then is the message moved out of the mailbox folder. A crash
in between leaves the message where it was; the next run downloads it again and finds each
attachment's content hash already recorded, so the second copy is not saved.

Who sent a message decides only two things: whether its files go to the inbox at all (an address
in the "Đơn vị" sheet) and whom the answer goes to (that unit's address in the sheet, never an
address taken from the message). What a file may change in the master is decided by the merge,
from the signed workbook, as for a file copied into the inbox by hand.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import hashlib
import json
import logging
import os
import re
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from kehoach_xl import vn
from kehoach_xl.errors import SetupError
from kehoach_xl.io import inbox as inbox_io
from kehoach_xl.io import mailbox as mailbox_io
from kehoach_xl.io.master_read import read_master
from kehoach_xl.model.config import Config, load_config
from kehoach_xl.model.master import MasterData
from kehoach_xl.model.problem import Problem
from kehoach_xl.model.roles import FileStatus
from kehoach_xl.model.submission import file_problem
from kehoach_xl.reports.mailer import Outgoing, build_message, send_messages, tls_context, write_eml
from kehoach_xl.reports.problems import unit_error_report
from kehoach_xl.reports.render import render
from kehoach_xl.rules.merge import FileReport, MergeReport
from kehoach_xl.text import normalize_text, slugify

log = logging.getLogger(__name__)

NEEDS_LOOK_DIR = "thu_can_xem"  # inside the inbox (folders there are never merged): for the office to look at
ANSWERS_DIR = "thu_tra_loi"  # inside the reports folder: a copy of every answer sent
SEEN_DAYS = 120  # how long a content hash is remembered as already fetched


@dataclass
class FetchedMessage:
    uid: str
    sender: str
    unit: str  # "" for an unknown sender
    subject: str
    saved: list[str] = field(default_factory=list)  # names written into the inbox
    skipped: list[str] = field(default_factory=list)  # attachments already fetched before (same content)
    problems: list[Problem] = field(default_factory=list)
    moved_to: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"uid": self.uid, "sender": self.sender, "unit": self.unit, "subject": self.subject,
                "saved": self.saved, "skipped": self.skipped, "problems": [p.to_dict() for p in self.problems],
                "moved_to": self.moved_to}


@dataclass
class FetchResult:
    messages: list[FetchedMessage] = field(default_factory=list)
    waiting: int = 0  # messages left on the server for the next run (over max_messages)
    interrupted: str = ""  # why the run stopped early (the connection dropped), in Vietnamese

    @property
    def saved(self) -> list[str]:
        return [n for m in self.messages for n in m.saved]

    @property
    def unknown(self) -> list[FetchedMessage]:
        return [m for m in self.messages if not m.unit]

    def to_dict(self) -> dict[str, Any]:
        return {"messages": [m.to_dict() for m in self.messages], "saved": self.saved,
                "unknown": [m.sender for m in self.unknown], "waiting": self.waiting, "interrupted": self.interrupted}


# --- what was fetched and is not yet answered: a JSON file beside the master ---------------------------

def pending_path(master: Path) -> Path:
    """Beside the master, like the ledger: units may write into the inbox, and this file names
    the addresses answers go to."""
    return master.with_name(f".{master.name}.thu_den.json")


class Pending:
    def __init__(self, path: Path) -> None:
        self.path = path
        # messages: fetched, not yet answered; seen: content hashes fetched; done: Message-IDs answered
        self.data: dict[str, dict[str, Any]] = {"messages": {}, "seen": {}, "done": {}}
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(raw, dict):
                for k in self.data:
                    if isinstance(raw.get(k), dict):
                        self.data[k] = raw[k]
        except (OSError, ValueError):
            pass

    @property
    def messages(self) -> dict[str, dict[str, Any]]:
        return self.data["messages"]

    @property
    def seen(self) -> dict[str, dict[str, Any]]:
        return self.data["seen"]

    @property
    def done(self) -> dict[str, Any]:
        return self.data["done"]

    def save(self) -> None:
        cutoff = (dt.datetime.now() - dt.timedelta(days=SEEN_DAYS)).isoformat()
        self.data["seen"] = {k: v for k, v in self.seen.items() if str(v.get("at", "")) >= cutoff}
        self.data["done"] = {k: v for k, v in self.done.items() if str(v) >= cutoff}
        _write_durably(self.path, json.dumps(self.data, ensure_ascii=False, indent=1, sort_keys=True).encode())


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_durably(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _save_attachment(inbox: Path, att: mailbox_io.Attachment, sha: str, mtime: float) -> Path:
    """Write under a new safe name (the sender's name only as a readable stem, never as a path);
    on disk and fsynced before the name appears, never over an existing file."""
    stem = Path(inbox_io.filing_name(inbox_io.display_name(att.name), max_bytes=80)).stem or "bao_cao"
    dest = inbox_io.unique_path(inbox / f"{stem}.thu-{sha[:10]}{att.ext}")
    tmp = inbox / f".tmp-thu-{sha[:16]}-{os.getpid()}"
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o640)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(att.data)
            fh.flush()
            # The file is complete when its name appears: dated back past the inbox's settle time,
            # which exists for files people copy in by hand.
            os.utime(fh.fileno(), (mtime, mtime))
            os.fsync(fh.fileno())
        try:
            os.link(tmp, dest)  # fails rather than replaces if the name was taken meanwhile
        except OSError as exc:
            if exc.errno == errno.EEXIST:
                raise
            # Shares without hard links (some SMB/FAT folders): the name was checked free just above.
            os.replace(tmp, dest)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)
    _fsync_dir(inbox)
    return dest


def unit_addresses(md: MasterData) -> dict[str, tuple[str, str]]:
    """Each address in the "Đơn vị" sheet (case-folded) → (the unit's name, the address as the sheet writes it)."""
    out: dict[str, tuple[str, str]] = {}
    for row in md.units.rows:
        name = normalize_text(row.get("name"))
        for addr in re.split(r"[;,\s]+", str(row.get("email") or "")):
            if name and "@" in addr:
                out.setdefault(addr.strip().casefold(), (name, addr.strip()))
    return out


def fetch(master: Path | str, *, config: Config | None = None, now: dt.datetime | None = None) -> FetchResult:
    """Take the workbook attachments of the new messages in the configured IMAP folder into the inbox.

    Messages from units (addresses in the "Đơn vị" sheet) move to ``[mail] done_folder`` once their
    files are saved; messages from anyone else, and messages too big to download, move to
    ``unknown_folder`` and are kept as .eml in ``<inbox>/thu_can_xem`` for the office. A dropped
    connection ends the run with what was saved so far (``interrupted``); nothing is lost.
    """
    master = Path(master)
    cfg = config or load_config(master)
    mail = cfg.mail
    if not mail.imap_host:
        raise SetupError("Chưa cấu hình máy chủ nhận thư: đặt imap_host trong mục [mail] của kehoach.toml "
                         "(xem docs/mail.md).")
    md = read_master(master)
    units = unit_addresses(md)
    inbox = cfg.inbox_dir
    inbox.mkdir(parents=True, exist_ok=True)
    ledger = inbox_io.Ledger(inbox_io.ledger_path(master, inbox))
    pending = Pending(pending_path(master))
    settle = inbox_io.settle_seconds(cfg.limits.inbox_settle_seconds)
    now = now or dt.datetime.now()
    result = FetchResult()
    context = tls_context(mail)
    with mailbox_io.open_mailbox(mail, context) as box:
        try:
            uids = box.uids()
            result.waiting = max(0, len(uids) - mail.max_messages)
            for uid in uids[:mail.max_messages]:
                result.messages.append(_one_message(box, uid, cfg=cfg, units=units, inbox=inbox, ledger=ledger,
                                                    pending=pending, mtime=time.time() - settle - 1, now=now))
        except mailbox_io.DROPPED as exc:
            log.warning("mất kết nối hộp thư sau %d thư: %s", len(result.messages), exc)
            result.interrupted = (f"Mất kết nối tới máy chủ thư sau {len(result.messages)} thư ({exc}); các tệp "
                                  "đã lưu vẫn được tổng hợp, thư còn lại nằm nguyên trên máy chủ và sẽ được nhận "
                                  "lần sau.")
    return result


def _one_message(box: mailbox_io.Mailbox, uid: str, *, cfg: Config, units: dict[str, tuple[str, str]], inbox: Path,
                 ledger: inbox_io.Ledger, pending: Pending, mtime: float, now: dt.datetime) -> FetchedMessage:
    mail = cfg.mail
    size, head = box.head(uid)
    if size > mail.max_message_mb * 1024 * 1024:
        inc = mailbox_io.too_big_message(uid, head, size, mail)
    else:
        inc = mailbox_io.parse_message(uid, box.body(uid), mail=mail, limits=cfg.limits)
    unit, unit_address = units.get(inc.sender, ("", ""))
    got = FetchedMessage(uid=uid, sender=inc.sender, unit=unit, subject=inc.subject, problems=list(inc.problems))
    stamp = now.replace(microsecond=0).isoformat()
    if not unit or not inc.raw:
        # Not from a unit, or not downloaded: a person looks at it; nothing of it is merged.
        look = inbox / NEEDS_LOOK_DIR
        look.mkdir(exist_ok=True)
        if inc.raw:
            _write_durably(inbox_io.unique_path(look / f"{now:%Y%m%d-%H%M%S}_thu_{slugify(inc.sender or 'khong_ro')[:40]}"
                                                           f"_{uid}.eml"), inc.raw)
        log.warning("thư %s của %s: %s; chuyển vào %s để văn phòng xem", uid, inc.sender or "(không rõ một người gửi)",
                    "unknown sender" if not unit else "too big", mail.unknown_folder)
    if unit and inc.message_id and inc.message_id in pending.done:
        # Answered already (the move after it was lost): only the move is left to do.
        got.skipped = [a.name for a in inc.attachments]
        got.problems = []
    elif unit:
        key = inc.message_id or f"uid-{uid}-{hashlib.sha256(inc.raw or head).hexdigest()[:16]}"
        # The answer goes to the address the sheet gives, not to one taken from the message.
        rec = pending.messages.get(key) or {"sender": unit_address, "unit": unit, "subject": inc.subject,
                                            "message_id": inc.message_id, "references": inc.references,
                                            "files": {}, "problems": [], "at": stamp}
        for att in inc.attachments:
            sha = hashlib.sha256(att.data).hexdigest()
            seen = pending.seen.get(sha) or ledger.get(sha)
            if seen is not None:
                got.skipped.append(att.name)
                if seen.get("message_id") != inc.message_id or not inc.message_id:
                    when = _when(seen.get("at"))
                    rec_problem = file_problem(
                        "mail_duplicate_content", att.name, f"Tệp “{att.name}” có nội dung giống hệt tệp đã nhận "
                        f"{when}; không lấy lại (sổ theo dõi không thay đổi).", severity="warning")
                    got.problems.append(rec_problem)
                continue
            try:
                # Saved by a run that stopped before recording it: the same bytes are already there.
                dest = next((q for q in inbox.glob(f"*.thu-{sha[:10]}*") if inbox_io.file_sha256(q) == sha), None) \
                    or _save_attachment(inbox, att, sha, mtime)
            except OSError as exc:  # the disk, not the network: stop before the message is moved
                raise SetupError(f"Không ghi được tệp đính kèm vào thư mục nhận báo cáo {inbox} ({exc}); thư vẫn "
                                 "nằm nguyên trên máy chủ và sẽ được nhận lần sau.") from exc
            got.saved.append(dest.name)
            rec["files"][dest.name] = att.name
            pending.seen[sha] = {"at": stamp, "message_id": inc.message_id, "file": dest.name}
            log.info("thư %s của %s (%s): đã lưu tệp đính kèm thành %s", uid, inc.sender, unit, dest.name)
        if key in pending.messages or got.saved or got.problems:
            rec["problems"] = [*rec["problems"], *[d for d in (p.to_dict() for p in got.problems)
                                                   if d not in rec["problems"]]]
            pending.messages[key] = rec
        try:
            pending.save()  # durably recorded before the message leaves the folder
        except OSError as exc:
            raise SetupError(f"Không ghi được {pending.path} ({exc}); thư vẫn nằm nguyên trên máy chủ.") from exc
    folder = mail.done_folder if unit and inc.raw else mail.unknown_folder
    box.move(uid, folder)
    got.moved_to = folder
    return got


def _when(at: Any) -> str:
    try:
        return "lúc " + vn.datetime(dt.datetime.fromisoformat(str(at)))
    except (TypeError, ValueError):
        return "trước đây"


# --- the answers, after the merge -----------------------------------------------------------------------

_STATUS_TEXT = {"processed": "đã tổng hợp vào sổ theo dõi", "partial": "đã tổng hợp một phần",
                "rejected": "không tổng hợp (trả lại)"}
_PROBLEM_FIELDS = {f.name for f in dataclasses.fields(Problem)}


def _problem(d: dict[str, Any]) -> Problem:
    return Problem(**{k: v for k, v in d.items() if k in _PROBLEM_FIELDS})


@dataclass
class AnswerResult:
    sent: list[str] = field(default_factory=list)  # units answered
    waiting: list[str] = field(default_factory=list)  # units whose files are not merged yet
    eml_paths: list[Path] = field(default_factory=list)
    error: str = ""  # the mail server's refusal (the answers stay pending for the next run)


def answer(master: Path | str, report: MergeReport | None, *, config: Config | None = None,
           send: bool = True) -> AnswerResult:
    """Answer each fetched message whose files the merge has now filed, in the sender's thread.

    Each file's part of the answer is the unit error report filed beside it in ``rejected/`` or
    ``processed/`` (the same :class:`Problem` records, through ``reports.problems``). A message
    with a file still in the inbox waits. An answer that could not be sent stays pending.
    """
    master = Path(master)
    cfg = config or load_config(master)
    pending = Pending(pending_path(master))
    by_name: dict[str, FileReport] = {f.file: f for f in (report.files if report else [])}
    conflicts = report.conflicts if report else []
    res = AnswerResult()
    ready: list[tuple[str, EmailMessage]] = []
    out_dir = cfg.reports_dir / ANSWERS_DIR
    for key, rec in sorted(pending.messages.items(), key=lambda kv: str(kv[1].get("at", ""))):
        files: list[dict[str, Any]] = []
        wait = False
        for saved, original in rec.get("files", {}).items():
            f = by_name.get(saved)
            if (f is not None and f.status == FileStatus.LEFT) or (f is None and (cfg.inbox_dir / saved).exists()):
                wait = True
                break
            files.append(_file_part(saved, original, f, conflicts))
        if wait:
            res.waiting.append(rec.get("unit", ""))
            continue
        ctx = {"unit": rec.get("unit", ""), "subject": rec.get("subject", ""), "files": files,
               "notes": [_problem(p).message for p in rec.get("problems", [])],
               "sender_name": cfg.mail.sender_name, "contact": cfg.mail.contact}
        subject = render("letter_reply_subject.txt.j2", ctx, cfg).strip()
        text = render("letter_reply.txt.j2", ctx, cfg)
        msg = build_message(Outgoing(subject=subject, to=[rec.get("sender", "")], text=text,
                                     in_reply_to=rec.get("message_id", ""), references=rec.get("references", [])),
                            cfg.mail)
        name = f"{dt.datetime.now():%Y%m%d-%H%M%S}_{slugify(rec.get('unit', ''))[:50]}.eml"
        res.eml_paths.append(write_eml(msg, inbox_io.unique_path(out_dir / name)))
        ready.append((key, msg))
    if ready and send:
        try:
            send_messages([m for _, m in ready], cfg.mail)
        except SetupError as exc:
            res.error = str(exc)
            log.error("chưa gửi được thư trả lời (giữ lại cho lượt sau): %s", exc)
            return res
    stamp = dt.datetime.now().replace(microsecond=0).isoformat()
    for key, _ in ready:
        rec = pending.messages.pop(key)
        res.sent.append(rec.get("unit", ""))
        if rec.get("message_id"):
            pending.done[rec["message_id"]] = stamp
    if ready:
        pending.save()
    return res


def _file_part(saved: str, original: str, f: FileReport | None, conflicts: list[Any]) -> dict[str, Any]:
    if f is None:
        return {"name": original, "status": "", "status_text": "đã được xử lý (ngoài lần tổng hợp tự động)",
                "changes": 0, "report": ""}
    mine = any(any(v["file"] == f.file for v in c.values) for c in conflicts)
    report = ""
    if f.problems or mine or f.status != "processed":
        # The unit knows its file by the name it attached, not by the name it was saved under.
        report = unit_error_report(f.problems, file=f.file, unit=f.unit, period=f.period, status=f.status,
                                   conflicts=conflicts).replace(f.file, original)
    status = "duplicate" if f.kind == "duplicate" else str(f.status)
    return {"name": original, "status": status,
            "status_text": "trùng với tệp đã tổng hợp, không thay đổi gì" if status == "duplicate"
            else _STATUS_TEXT.get(str(f.status), str(f.status)),
            "changes": len(f.changes), "report": report.strip()}
