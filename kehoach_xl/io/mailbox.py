"""The IMAP mailbox units reply to: TLS only, limits before parsing, attachments only.

Every message is untrusted. Its size is asked of the server before it is downloaded; only the
top-level parts that are attachments named ``.xlsx``/``.xlsm`` are taken (never the body, never a
link in it, never a part inside a forwarded message); their count and decoded size are limited.
What was not taken is said in :class:`~kehoach_xl.model.problem.Problem` records, for the reply.
"""

from __future__ import annotations

import email
import email.policy
import imaplib
import logging
import re
import socket
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.utils import getaddresses
from pathlib import PurePosixPath
from types import TracebackType

from kehoach_xl import vn
from kehoach_xl.errors import SetupError
from kehoach_xl.model.config import LimitsConfig, MailConfig
from kehoach_xl.model.problem import ERROR, WARNING, Problem
from kehoach_xl.model.submission import file_problem

log = logging.getLogger(__name__)

WORKBOOK_EXTS = (".xlsx", ".xlsm")
HEADER_PEEK_BYTES = 65_536  # the headers read before deciding to download a message
_MSGID = re.compile(r"<[^<>\s]{1,250}>")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


@dataclass
class Attachment:
    name: str  # the sender's file name, last path component only, for people to read; never a path
    ext: str  # ".xlsx" | ".xlsm"
    data: bytes


@dataclass
class Incoming:
    uid: str
    sender: str  # the From address, case-folded ("" when missing or more than one)
    message_id: str
    references: list[str]
    subject: str
    size: int
    attachments: list[Attachment] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    raw: bytes = b""  # the whole message (empty when it was too big to download)


def _quote(name: str) -> str:
    if not name.isascii():
        raise SetupError(f"Tên thư mục thư “{name}” phải viết không dấu (chữ cái Latinh, số, “/”, “_”).")
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ok(typ: str, data: list, what: str) -> list:
    if typ != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")[:200]
        raise SetupError(f"Máy chủ thư từ chối lệnh {what}: {detail}")
    return data


def message_ids(value: str | None) -> list[str]:
    """The ``<id@host>`` tokens of a Message-ID/References header (anything else is dropped)."""
    return _MSGID.findall(str(value or ""))[:20]


def sender_of(msg: Message) -> str:
    """The one From address, case-folded; "" when there is none or several (never guessed)."""
    try:
        pairs = [a for _, a in getaddresses([str(v) for v in msg.get_all("From", [])]) if a]
    except Exception:  # noqa: BLE001 - a malformed header is an unknown sender, not a crash
        return ""
    if len(pairs) != 1 or "@" not in pairs[0] or any(c in pairs[0] for c in "\r\n<>,; "):
        return ""
    return pairs[0].strip().casefold()


def _header(msg: Message, name: str) -> str:
    try:
        return " ".join(str(msg.get(name, "") or "").split())[:300]
    except Exception:  # noqa: BLE001 - undecodable header text
        return ""


def _safe_name(filename: str) -> str:
    """The last path component of an attachment's name, for display only (``..\\a/b.xlsx`` → ``b.xlsx``)."""
    base = PurePosixPath(filename.replace("\\", "/")).name
    return "".join(ch for ch in base if ch.isprintable())[:150] or "tep_dinh_kem"


def _top_parts(msg: Message) -> list[Message]:
    """Leaf parts of the message itself; a forwarded message (message/*) is one opaque part."""
    out: list[Message] = []
    stack = [msg]
    while stack and len(out) < 500:
        part = stack.pop(0)
        if part.get_content_maintype() == "multipart":
            payload = part.get_payload()
            if isinstance(payload, list):
                stack = [*payload, *stack]
            continue
        out.append(part)
    return out


def parse_message(uid: str, raw: bytes, *, mail: MailConfig, limits: LimitsConfig) -> Incoming:
    """The attachments and problems of one downloaded message (``raw`` within the size limit)."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    inc = Incoming(uid=uid, sender=sender_of(msg), message_id=(message_ids(_header(msg, "Message-ID")) or [""])[0],
                   references=message_ids(_header(msg, "References")) + message_ids(_header(msg, "In-Reply-To")),
                   subject=_header(msg, "Subject"), size=len(raw), raw=raw)
    max_bytes = int(limits.max_file_mb * 1024 * 1024)
    books: list[tuple[str, str, Message]] = []
    others: list[str] = []
    for part in _top_parts(msg):
        try:
            filename = part.get_filename()
        except Exception:  # noqa: BLE001 - a malformed Content-Disposition: not an attachment we take
            filename = None
        if not filename:
            continue  # the body text and HTML: read by nobody, links in them never followed
        name = _safe_name(filename)
        ext = PurePosixPath(name.casefold()).suffix
        if ext in WORKBOOK_EXTS and part.get_content_maintype() != "message":
            books.append((name, ext, part))
        else:
            others.append(name)
    if others:
        inc.problems.append(file_problem(
            "mail_attachment_not_workbook", ", ".join(others[:10]),
            f"Tệp đính kèm {vn.vn_list([f'“{o}”' for o in others[:10]])} không phải tệp Excel .xlsx/.xlsm nên không "
            "được lấy. Chỉ gửi tệp báo cáo Văn phòng Sở đã giao (đính kèm trực tiếp, không nén, không gửi đường "
            "dẫn).", severity=WARNING))
    if len(books) > mail.max_attachments:
        inc.problems.append(file_problem(
            "mail_too_many_attachments", "", f"Thư có {len(books)} tệp Excel đính kèm, quá giới hạn "
            f"{mail.max_attachments} tệp một thư, nên không tệp nào được lấy. Hãy gửi lại, mỗi thư tối đa "
            f"{mail.max_attachments} tệp (thường chỉ cần một tệp báo cáo của đơn vị).", severity=ERROR))
        return inc
    for name, ext, part in books:
        encoded = part.get_payload()
        # base64 grows data by 4/3: the encoded length says the size before anything is decoded
        if isinstance(encoded, str) and len(encoded) * 3 // 4 > max_bytes + 4:
            inc.problems.append(_too_big(name, limits))
            continue
        try:
            data = part.get_payload(decode=True) or b""
        except Exception:  # noqa: BLE001 - undecodable transfer encoding
            data = b""
        if len(data) > max_bytes:
            inc.problems.append(_too_big(name, limits))
        elif not data:
            inc.problems.append(file_problem("mail_attachment_empty", name, f"Tệp đính kèm “{name}” rỗng hoặc "
                                             "không giải mã được; không lấy. Hãy đính kèm lại tệp rồi gửi."))
        else:
            inc.attachments.append(Attachment(name=name, ext=ext, data=data))
    if not books and not others:
        inc.problems.append(file_problem("mail_no_attachment", "", "Thư không có tệp báo cáo đính kèm. Hãy đính kèm "
                                         "tệp .xlsx Văn phòng Sở đã giao (đã điền) rồi trả lời lại thư này.",
                                         severity=WARNING))
    return inc


def _too_big(name: str, limits: LimitsConfig) -> Problem:
    return file_problem("mail_attachment_too_big", name, f"Tệp đính kèm “{name}” lớn hơn "
                        f"{vn.number(limits.max_file_mb, None)} MB nên không được lấy. Hãy xóa dữ liệu thừa, lưu lại "
                        "bằng Excel rồi gửi lại.")


def too_big_message(uid: str, head: bytes, size: int, mail: MailConfig) -> Incoming:
    """A message over ``max_message_mb``: only its (bounded) headers are read, to know whom to tell."""
    msg = email.message_from_bytes(head, policy=email.policy.default)
    inc = Incoming(uid=uid, sender=sender_of(msg), message_id=(message_ids(_header(msg, "Message-ID")) or [""])[0],
                   references=message_ids(_header(msg, "References")), subject=_header(msg, "Subject"), size=size)
    inc.problems.append(file_problem("mail_too_big", "", f"Thư lớn {vn.number(size / 1048576, 1)} MB, quá giới "
                                     f"hạn {vn.number(mail.max_message_mb, None)} MB nên không được tải về. Hãy gửi "
                                     "riêng tệp báo cáo của đơn vị (không kèm tệp khác)."))
    return inc


class Mailbox:
    """One IMAP session over TLS: list, download, move. Use as a context manager."""

    def __init__(self, mail: MailConfig, context: ssl.SSLContext) -> None:
        self.mail = mail
        self.context = context
        self.imap: imaplib.IMAP4 | None = None
        self._created: set[str] = set()

    def __enter__(self) -> Mailbox:
        m = self.mail
        where = f"{m.imap_host}:{m.imap_port}"
        password = m.imap_password
        if not password:
            env = m.imap_password_env or m.password_env
            raise SetupError(f"Chưa có mật khẩu hộp thư {m.imap_login or '(chưa đặt user)'}: hãy đặt biến môi "
                             f"trường {env}" + (f" hoặc kho khóa của máy (dịch vụ “{m.keyring_service}”)"
                                               if m.keyring_service else "") + ". Chưa nhận thư nào.")
        try:
            if m.imap_tls == "ssl":
                self.imap = imaplib.IMAP4_SSL(m.imap_host, m.imap_port, ssl_context=self.context, timeout=m.timeout)
            else:
                self.imap = imaplib.IMAP4(m.imap_host, m.imap_port, timeout=m.timeout)
                self.imap.starttls(ssl_context=self.context)
        except ssl.SSLCertVerificationError as exc:
            raise SetupError(f"Chứng chỉ của máy chủ thư {where} không hợp lệ ({exc.verify_message}); không kết nối. "
                             "Nếu máy chủ dùng chứng chỉ riêng của tỉnh, đặt [mail] cafile.") from exc
        except (OSError, imaplib.IMAP4.error) as exc:
            raise SetupError(f"Không kết nối được máy chủ nhận thư {where} ({exc}). Chưa nhận thư nào; "
                             "thư vẫn nằm trên máy chủ và sẽ được nhận lần sau.") from exc
        try:
            self.imap.login(m.imap_login, password)
        except imaplib.IMAP4.error as exc:
            self.close()
            raise SetupError(f"Máy chủ thư {where} từ chối đăng nhập của tài khoản {m.imap_login}: sai tên đăng "
                             "nhập hoặc mật khẩu (với Gmail, Microsoft 365 cần mật khẩu ứng dụng, xem docs/mail.md). "
                             "Chưa nhận thư nào; thư vẫn nằm trên máy chủ.") from exc
        try:
            # The capabilities after login (MOVE, UIDPLUS) are not those announced before it.
            typ, dat = self.imap.capability()
            if typ == "OK" and dat and dat[0]:
                self.imap.capabilities = tuple(dat[0].decode("ascii", "replace").upper().split())
            _ok(*self.imap.select(_quote(m.imap_folder)), f"SELECT {m.imap_folder}")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self.imap is None:
            return
        try:
            self.imap.logout()
        except (OSError, imaplib.IMAP4.error, EOFError):
            pass
        self.imap = None

    def _conn(self) -> imaplib.IMAP4:
        if self.imap is None:
            raise SetupError("Mất kết nối tới máy chủ thư.")
        return self.imap

    def uids(self) -> list[str]:
        data = _ok(*self._conn().uid("SEARCH", None, "ALL"), "SEARCH")
        return [u.decode() for u in (data[0] or b"").split()]

    def head(self, uid: str) -> tuple[int, bytes]:
        """The message's size as the server counts it, and its first header bytes."""
        data = _ok(*self._conn().uid("FETCH", uid, f"(RFC822.SIZE BODY.PEEK[HEADER]<0.{HEADER_PEEK_BYTES}>)"),
                   "FETCH")
        size, head = -1, b""
        for item in data:
            if isinstance(item, tuple):
                m = _SIZE.search(item[0])
                if m:
                    size = int(m.group(1))
                head = item[1] or b""
        if size < 0:
            raise SetupError(f"Máy chủ thư không cho biết kích thước thư {uid}.")
        return size, head

    def body(self, uid: str) -> bytes:
        data = _ok(*self._conn().uid("FETCH", uid, "(BODY.PEEK[])"), "FETCH")
        for item in data:
            if isinstance(item, tuple):
                return item[1] or b""
        raise SetupError(f"Máy chủ thư không trả nội dung thư {uid}.")

    def ensure_folder(self, folder: str) -> None:
        if folder in self._created:
            return
        typ, _ = self._conn().create(_quote(folder))  # "already exists" is a NO: fine
        if typ == "OK":
            self._conn().subscribe(_quote(folder))
        self._created.add(folder)

    def move(self, uid: str, folder: str) -> None:
        """Move one message (MOVE when the server has it; else COPY, flag deleted, expunge)."""
        self.ensure_folder(folder)
        conn = self._conn()
        caps = {c.upper() for c in conn.capabilities}
        if "MOVE" in caps:
            _ok(*conn.uid("MOVE", uid, _quote(folder)), "MOVE")
            return
        _ok(*conn.uid("COPY", uid, _quote(folder)), "COPY")
        _ok(*conn.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)"), "STORE")
        if "UIDPLUS" in caps:
            _ok(*conn.uid("EXPUNGE", uid), "EXPUNGE")
        else:
            conn.expunge()


def open_mailbox(mail: MailConfig, context: ssl.SSLContext) -> Mailbox:
    return Mailbox(mail, context)


DROPPED = (OSError, EOFError, imaplib.IMAP4.abort, socket.timeout)


def as_email(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]
