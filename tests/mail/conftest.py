"""Real mail servers on 127.0.0.1: Dovecot (IMAP, its own configuration, certificate and users in a
temporary folder, started by the test) and aiosmtpd (SMTP with STARTTLS and AUTH) that delivers each
message it accepts into the recipient's Dovecot mailbox by IMAP APPEND."""

from __future__ import annotations

import email
import email.policy
import email.utils
import grp
import imaplib
import os
import pwd
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.header import Header
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from kehoach_xl.commands.init import create_master
from kehoach_xl.model.sample import sample_registry
from kehoach_xl.rules.derive import derive
from tests.reports_sample import AS_OF, _add_history, sample_history, sample_tasks

PASSWORD = "mat-khau-thu-nghiem"
DOMAIN = "stnmt.langson.example.vn"
OFFICE = f"baocao@{DOMAIN}"  # the office's own mailbox: letters go out from it, replies come into it
NO_EMAIL_UNIT = "Thanh tra Sở"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def self_signed(d: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not installed: cannot make the test certificate")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key),
                    "-out", str(cert)], check=True, capture_output=True)
    os.chmod(key, 0o644)  # dovecot's config process may run as another user
    return cert, key


def user_of(address: str) -> str:
    return re.sub(r"[^a-z0-9]", "_", address.partition("@")[0].casefold())


@dataclass
class Dovecot:
    root: Path
    imaps_port: int
    imap_port: int
    cafile: Path
    uid: int
    gid: int
    proc: subprocess.Popen | None = None
    users: set[str] = field(default_factory=set)

    def add_user(self, user: str) -> None:
        if user in self.users:
            return
        self.users.add(user)
        home = self.root / "mail" / user
        home.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            os.chown(home, self.uid, self.gid)
        lines = [f"{u}:{{PLAIN}}{PASSWORD}:{self.uid}:{self.gid}::{self.root / 'mail' / u}::" for u in sorted(self.users)]
        tmp = self.root / "passwd.tmp"
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        os.chmod(tmp, 0o644)
        os.replace(tmp, self.root / "passwd")  # dovecot re-reads the file when it changes

    def connect(self, user: str) -> imaplib.IMAP4_SSL:
        self.add_user(user)
        ctx = ssl.create_default_context(cafile=str(self.cafile))
        m = imaplib.IMAP4_SSL("127.0.0.1", self.imaps_port, ssl_context=ctx, timeout=10)
        m.login(user, PASSWORD)
        return m

    def append(self, user: str, raw: bytes, folder: str = "INBOX") -> None:
        m = self.connect(user)
        try:
            typ, dat = m.append(folder, None, imaplib.Time2Internaldate(time.time()), raw)
            assert typ == "OK", dat
        finally:
            m.logout()

    def messages(self, user: str, folder: str = "INBOX") -> list[EmailMessage]:
        m = self.connect(user)
        try:
            typ, _ = m.select(f'"{folder}"', readonly=True)
            if typ != "OK":
                return []
            _, dat = m.uid("SEARCH", None, "ALL")
            out = []
            for uid in (dat[0] or b"").split():
                _, got = m.uid("FETCH", uid, "(BODY.PEEK[])")
                raw = next(x[1] for x in got if isinstance(x, tuple))
                out.append(email.message_from_bytes(raw, policy=email.policy.default))
            return out
        finally:
            m.logout()

    def log(self) -> str:
        p = self.root / "dovecot.log"
        return p.read_text(errors="replace") if p.exists() else ""


def _wait_port(port: int, proc: subprocess.Popen, timeout: float = 15.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


@pytest.fixture()
def dovecot() -> Iterator[Dovecot]:
    binary = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)
    if binary is None:
        pytest.skip("Dovecot is not installed (Debian package dovecot-imapd; scripts/test.sh installs it)")
    # Outside pytest's tmp folder: that one is private (0700) and, run as root, the mail processes
    # run as the 'dovecot' user (Dovecot refuses UID 0 for mail and root for its login processes).
    root = Path(tempfile.mkdtemp(prefix="kh-dovecot-"))
    os.chmod(root, 0o755)
    if os.geteuid() == 0:
        try:
            mail_pw, login_user = pwd.getpwnam("dovecot"), pwd.getpwnam("dovenull").pw_name
        except KeyError:
            pytest.skip("run as root, but the 'dovecot'/'dovenull' users of the Debian package are missing")
        uid, gid, internal = mail_pw.pw_uid, mail_pw.pw_gid, mail_pw.pw_name
        group = grp.getgrgid(gid).gr_name
    else:
        uid, gid = os.getuid(), os.getgid()
        internal = login_user = pwd.getpwuid(uid).pw_name
        group = grp.getgrgid(gid).gr_name
    cert, key = self_signed(root)
    (root / "mail").mkdir()
    if os.geteuid() == 0:
        os.chown(root / "mail", uid, gid)
    imaps, imap = free_port(), free_port()
    conf = root / "dovecot.conf"
    conf.write_text(f"""
base_dir = {root}/run
state_dir = {root}/state
instance_name = kehoach-test-{imaps}
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = yes
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal}
default_internal_group = {group}
first_valid_uid = {min(uid, 500)}
mail_location = maildir:{root}/mail/%n
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%n {root}/passwd
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
""", encoding="utf-8")
    dv = Dovecot(root=root, imaps_port=imaps, imap_port=imap, cafile=cert, uid=uid, gid=gid)
    # Every mailbox the tests use exists before the server starts (the passwd file is read once per second
    # at most: a user added a moment later may not be seen yet).
    for addr in [OFFICE, f"nguoi.la@{DOMAIN}", *(u["email"] for u in sample_registry("langson_ddci_2024")["units"]
                                                 if u.get("email"))]:
        dv.add_user(user_of(addr))
    proc = subprocess.Popen([binary, "-F", "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    dv.proc = proc
    try:
        if not _wait_port(imaps, proc) or not _wait_port(imap, proc):
            out = proc.stdout.read().decode(errors="replace") if proc.poll() is not None and proc.stdout else ""
            pytest.skip(f"Dovecot did not start in this sandbox: {out.strip()[:300]} {dv.log()[-500:]}")
        yield dv
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(root, ignore_errors=True)


class Deliver:
    """aiosmtpd handler: every accepted message is appended to each recipient's Dovecot INBOX."""

    def __init__(self, dv: Dovecot) -> None:
        self.dv = dv
        self.accepted: list[tuple[str, list[str], bytes]] = []
        self.logins: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd hook
        raw = envelope.original_content or envelope.content
        self.accepted.append((envelope.mail_from, list(envelope.rcpt_tos), raw))
        for rcpt in envelope.rcpt_tos:
            self.dv.append(user_of(rcpt), raw)
        return "250 OK"


@dataclass
class Smtp:
    port: int
    handler: Deliver


@pytest.fixture()
def smtp(dovecot: Dovecot) -> Iterator[Smtp]:
    pytest.importorskip("aiosmtpd")
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(dovecot.cafile, dovecot.root / "key.pem")
    handler = Deliver(dovecot)

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data.password.decode() == PASSWORD
        if ok:
            handler.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)

    port = free_port()
    ctl = Controller(handler, hostname="127.0.0.1", port=port, tls_context=ctx, require_starttls=True,
                     authenticator=authenticator, auth_required=True, auth_require_tls=True)
    ctl.start()
    try:
        yield Smtp(port=port, handler=handler)
    finally:
        ctl.stop()


def mail_master(path: Path) -> Path:
    """The report tests' sample master, with one unit (Thanh tra Sở) left without an e-mail address."""
    reg = sample_registry("langson_ddci_2024")
    units = [dict(u, email=None) if u.get("name") == NO_EMAIL_UNIT else u for u in reg["units"]]
    tasks = sample_tasks()
    for t in tasks:
        t.update(derive(t, AS_OF, plan_year=2024).cells())
    meta = dict(reg["meta"], as_of=AS_OF)
    path = create_master(path, tasks=tasks, units=units, leaders=reg["leaders"], scores=reg["scores"], meta=meta)
    _add_history(path, sample_history())
    return path


def write_config(folder: Path, dv: Dovecot, smtp_port: int, *, tls: str = "ssl", **extra: Any) -> Path:
    lines = [f'{k} = {v!r}' if isinstance(v, str) else f"{k} = {str(v).lower() if isinstance(v, bool) else v}"
             for k, v in extra.items()]
    text = f"""master = "so_theo_doi.xlsx"
[mail]
host = "127.0.0.1"
port = {smtp_port}
starttls = true
user = "{user_of(OFFICE)}"
password_env = "KEHOACH_TEST_MAIL_PASSWORD"
sender = "{OFFICE}"
sender_name = "Văn phòng Sở"
cafile = "{dv.cafile}"
timeout = 10
imap_host = "127.0.0.1"
imap_port = {dv.imaps_port if tls == "ssl" else dv.imap_port}
imap_tls = "{tls}"
contact = "Chị Hoàng Thị Lan, Văn phòng Sở, điện thoại 0205 3812 345"
report_day = 20
""" + "\n".join(lines).replace("'", '"') + "\n"
    p = folder / "kehoach.toml"
    p.write_text(text, encoding="utf-8")
    return p


def reply_with(original: EmailMessage, sender: str, attachments: list[tuple[str, bytes]], *,
               text: str = "Đơn vị gửi lại báo cáo đã điền.") -> bytes:
    """A unit's reply to ``original`` (the issue letter), in its thread, with the files attached."""
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = sender
    msg["To"] = OFFICE
    # encoded as mail clients do (the stdlib folder would drop a space between encoded words)
    msg.set_raw("Subject", Header("Re: " + str(original["Subject"]), "utf-8").encode(linesep="\r\n"))
    msg["Message-ID"] = email.utils.make_msgid("donvi", domain=DOMAIN)
    msg["In-Reply-To"] = str(original["Message-ID"])
    msg["References"] = str(original["Message-ID"])
    msg["Date"] = email.utils.formatdate(localtime=True)
    msg.set_content(text + "\nXem thêm tại http://example.invalid/khong-duoc-mo.xlsx")
    for name, data in attachments:
        msg.add_attachment(data, maintype="application",
                           subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet", filename=name)
    return msg.as_bytes()
