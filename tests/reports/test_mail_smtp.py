"""--send delivers through a real SMTP server on 127.0.0.1 (aiosmtpd) with STARTTLS and AUTH."""

from __future__ import annotations

import email
import email.policy
import shutil
import socket
import ssl
import subprocess
from pathlib import Path

import pytest

from kehoach_xl.commands.briefing import briefing
from kehoach_xl.errors import SetupError
from tests.reports_sample import AS_OF, PERIOD, make_master

aiosmtpd = pytest.importorskip("aiosmtpd")
from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: E402

USER, PASSWORD = "vanphong", "mat-khau-thu-nghiem"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _self_signed(d: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not installed")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key),
                    "-out", str(cert)], check=True, capture_output=True)
    return cert, key


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.logins: list[str] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        self.messages.append((list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 OK"


@pytest.fixture()
def smtp_server(tmp_path: Path):
    cert, key = _self_signed(tmp_path)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    inbox = Inbox()

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == USER \
            and auth_data.password.decode() == PASSWORD
        if ok:
            inbox.logins.append(USER)
        return AuthResult(success=ok)

    port = _free_port()
    ctl = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=ctx, require_starttls=True,
                     authenticator=authenticator, auth_required=True, auth_require_tls=True)
    ctl.start()
    try:
        yield port, cert, inbox
    finally:
        ctl.stop()


def _config(folder: Path, port: int) -> None:
    (folder / "kehoach.toml").write_text(f"""
[mail]
host = "127.0.0.1"
port = {port}
starttls = true
user = "{USER}"
password_env = "KEHOACH_TEST_SMTP_PASSWORD"
sender = "vanphong@stnmt.langson.example.vn"
sender_name = "Văn phòng Sở"
cc = ["luu.tru@stnmt.langson.example.vn"]
timeout = 10
""", encoding="utf-8")


def test_send_round_trip(tmp_path: Path, smtp_server, monkeypatch: pytest.MonkeyPatch) -> None:
    port, cert, inbox = smtp_server
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client verifies the server's certificate
    monkeypatch.setenv("KEHOACH_TEST_SMTP_PASSWORD", PASSWORD)
    master = make_master(tmp_path / "so_theo_doi.xlsx", with_derived=True)
    _config(tmp_path, port)
    res = briefing(master, period=PERIOD, out=tmp_path / "out", send=True, as_of=AS_OF)

    assert inbox.logins == [USER]
    assert len(res.sent) == 1 + len(res.reminders) == len(inbox.messages) == 4
    rcpts, raw = inbox.messages[0]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Subject"] == res.subject
    assert "thieu.nn@stnmt.langson.example.vn" in rcpts and "luu.tru@stnmt.langson.example.vn" in rcpts
    assert "X-Unsent" not in msg
    assert "Có 3 nhiệm vụ quá hạn" in msg.get_body(("plain",)).get_content()
    assert "Kế hoạch có 12 nhiệm vụ." in msg.get_body(("html",)).get_content()
    names = [p.get_filename() for p in msg.iter_attachments()]
    assert "tong_hop_2024_07.xlsx" in names
    reminder_rcpts = sorted(r[0][0] for r in inbox.messages[1:])
    assert reminder_rcpts == sorted(r.to[0] for r in res.reminders)


def test_missing_password_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KEHOACH_TEST_SMTP_PASSWORD", raising=False)
    master = make_master(tmp_path / "so_theo_doi.xlsx", with_derived=True)
    _config(tmp_path, _free_port())
    with pytest.raises(SetupError, match="KEHOACH_TEST_SMTP_PASSWORD"):
        briefing(master, period=PERIOD, out=tmp_path / "out", send=True, as_of=AS_OF)
