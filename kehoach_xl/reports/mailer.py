"""Build .eml messages (text + HTML + inline chart + attachments) and send them over SMTP."""

from __future__ import annotations

import email.policy
import mimetypes
import smtplib
import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from kehoach_xl.errors import SetupError
from kehoach_xl.model.config import MailConfig


@dataclass
class Outgoing:
    """One message ready to write or send."""

    subject: str
    to: list[str]
    text: str
    html: str | None = None
    cc: list[str] = field(default_factory=list)
    inline_png: bytes | None = None  # referenced from the HTML as cid:<inline_cid>
    inline_cid: str = ""
    attachments: list[Path] = field(default_factory=list)
    # A reply in the sender's thread: the Message-ID answered, and that message's References.
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)


def chart_cid(domain: str = "kehoach.local") -> str:
    """A Content-ID for the chart; the HTML refers to it as ``cid:<id>``."""
    return make_msgid("bieudo", domain=domain)[1:-1]


def _dedupe(addresses: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for a in addresses:
        a = (a or "").strip()
        if a and "@" in a and a.casefold() not in seen:
            seen[a.casefold()] = a
    return list(seen.values())


def _set_subject(msg: EmailMessage, subject: str) -> None:
    """Set a Vietnamese subject that survives folding.

    The stdlib folder drops the space between two encoded words when it wraps a long
    non-ASCII subject ("nhiệm vụ quá hạn" arrives as "nhiệm vụquá hạn"); Header.encode
    keeps spaces inside the encoded words, and set_raw stops the policy from refolding.
    """
    if subject.isascii():
        msg["Subject"] = subject
        return
    msg.set_raw("Subject", Header(subject, "utf-8", header_name="Subject").encode(linesep="\r\n"))


def build_message(out: Outgoing, mail: MailConfig) -> EmailMessage:
    msg = EmailMessage(policy=email.policy.SMTP)
    _set_subject(msg, out.subject)
    msg["From"] = Address(mail.sender_name, addr_spec=mail.sender) if mail.sender_name else mail.sender
    to = _dedupe(out.to)
    cc = [a for a in _dedupe(out.cc) if a.casefold() not in {t.casefold() for t in to}]
    if to:
        msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid("kehoach", domain=mail.sender.partition("@")[2] or "kehoach.local")
    if out.in_reply_to:
        msg["In-Reply-To"] = out.in_reply_to
        refs = [r for r in out.references if r and r != out.in_reply_to]
        msg["References"] = " ".join([*refs[-10:], out.in_reply_to])  # the last few keep the thread
    # Outlook opens an .eml with this header as a draft ready to send.
    msg["X-Unsent"] = "1"
    msg.set_content(out.text, subtype="plain", charset="utf-8")
    if out.html is not None:
        msg.add_alternative(out.html, subtype="html", charset="utf-8")
        if out.inline_png is not None:
            html_part = msg.get_payload()[1]
            html_part.add_related(out.inline_png, maintype="image", subtype="png", cid=f"<{out.inline_cid}>",
                                  filename="bieu_do.png", disposition="inline")
    for path in out.attachments:
        ctype, _ = mimetypes.guess_type(path.name)
        maintype, _, subtype = (ctype or "application/octet-stream").partition("/")
        msg.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    return msg


def write_eml(msg: EmailMessage, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(msg.as_bytes(policy=email.policy.SMTP))
    return path


def recipients(msg: EmailMessage) -> list[str]:
    out = []
    for h in ("To", "Cc"):
        if msg[h]:
            out += [a.addr_spec for a in msg[h].addresses]
    return out


def tls_context(mail: MailConfig) -> ssl.SSLContext:
    """Certificate-checking TLS: the system's CAs, plus ``[mail] cafile`` for a server with its own CA."""
    context = ssl.create_default_context()
    if mail.cafile:
        try:
            context.load_verify_locations(cafile=mail.cafile)
        except (OSError, ssl.SSLError) as exc:
            raise SetupError(f"Không đọc được tệp chứng chỉ [mail] cafile = {mail.cafile}: {exc}") from exc
    return context


def send_messages(messages: list[EmailMessage], mail: MailConfig) -> list[str]:
    """Send through one SMTP session; returns the subjects sent. Messages without recipients are skipped."""
    if mail.user and not mail.password:
        raise SetupError(f"Chưa đặt mật khẩu thư điện tử: hãy đặt biến môi trường {mail.password_env}"
                         + (f" hoặc lưu mật khẩu vào kho khóa của máy (dịch vụ “{mail.keyring_service}”)."
                            if mail.keyring_service else "."))
    sendable = [m for m in messages if recipients(m)]
    if not sendable:
        return []
    context = tls_context(mail)
    try:
        if mail.ssl:
            server: smtplib.SMTP = smtplib.SMTP_SSL(mail.host, mail.port, timeout=mail.timeout, context=context)
        else:
            server = smtplib.SMTP(mail.host, mail.port, timeout=mail.timeout)
        with server:
            server.ehlo()
            if mail.starttls and not mail.ssl:
                server.starttls(context=context)
                server.ehlo()
            if mail.user:
                server.login(mail.user, mail.password)
            sent = []
            for m in sendable:
                del m["X-Unsent"]
                server.send_message(m, from_addr=mail.sender, to_addrs=recipients(m))
                sent.append(str(m["Subject"]))
            return sent
    except smtplib.SMTPAuthenticationError as exc:
        raise SetupError(f"Máy chủ thư {mail.host} từ chối đăng nhập của tài khoản {mail.user} (mã "
                         f"{exc.smtp_code}): kiểm tra tên đăng nhập và mật khẩu (biến môi trường "
                         f"{mail.password_env}); với Gmail/Microsoft 365 cần mật khẩu ứng dụng. Chưa gửi thư nào; "
                         "các tệp .eml vẫn được lưu.") from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise SetupError(f"Không gửi được thư qua máy chủ {mail.host}:{mail.port}: {exc}") from exc
