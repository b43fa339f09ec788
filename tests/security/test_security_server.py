"""Attacks on the button server, over real HTTP on loopback (127.0.0.1, a free port).

The server is the one ``kehoach-xl serve`` runs (``build_server``: the app, the guarded protocol,
uvicorn's limits), in a thread; requests are shaped like xlwings' VBA client (RunRemotePython).
Slow clients are bounded loops, in count and in time.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

from kehoach_xl.excel.server import build_server  # noqa: E402
from kehoach_xl.io.livebook import remote_payload  # noqa: E402
from kehoach_xl.model.config import Config  # noqa: E402
from tests.helpers import make_sample_master  # noqa: E402

TOKEN = "thu-nghiem-bao-mat-0123456789abcdef"
ENV = "KEHOACH_TEST_SECURITY_TOKEN"
HEADER_TIMEOUT = 1.0
BODY_TIMEOUT = 1.5
MAX_CONNECTIONS = 4
MARKER = "DA_CHAY_LENH"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def evil_template(marker: Path) -> str:
    """A template that runs a shell command when rendered without a sandbox."""
    return ("{{ cycler.__init__.__globals__.os.system('touch " + str(marker) + "') }}"
            "{{ ''.__class__.__mro__[1].__subclasses__() }}\n")


class Srv:
    def __init__(self, folder: Path, port: int, server: Any) -> None:
        self.folder, self.port, self.server = folder, port, server
        self.url = f"http://127.0.0.1:{port}/kehoach"
        self.master = folder / "so_theo_doi.xlsx"


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Srv]:
    os.environ[ENV] = TOKEN
    folder = tmp_path_factory.mktemp("srv_sec")
    cfg = Config(base_dir=folder, master="so_theo_doi.xlsx", reports="bao_cao", templates="mau_bao_cao")
    cfg.server.token_env = ENV
    cfg.server.max_request_bytes = 400_000
    cfg.server.header_timeout = HEADER_TIMEOUT
    cfg.server.body_timeout = BODY_TIMEOUT
    cfg.server.max_connections = MAX_CONNECTIONS
    port = _free_port()
    server = build_server(cfg, host="127.0.0.1", port=port)
    server.config.log_level = "warning"
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    deadline = time.time() + 10
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started
    make_sample_master(folder / "so_theo_doi.xlsx")
    yield Srv(folder, port, server)
    server.should_exit = True
    th.join(10)


def _post(url: str, body: Any, token: str | None = TOKEN) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    content = body if isinstance(body, (bytes, str)) else json.dumps(body, ensure_ascii=False, default=str)
    return httpx.post(url, content=content, headers=headers, timeout=60)


def _wait_free(srv: Srv, timeout: float = 10) -> None:
    """Wait until the slow connections of an earlier test are gone (bounded)."""
    deadline = time.time() + timeout
    while time.time() < deadline and len(srv.server.server_state.connections) > 0:
        time.sleep(0.05)


# --- 1. a path or a templates folder from the request ------------------------------------------


@pytest.mark.parametrize("how", ["absolute", "relative"])
def test_template_attack_through_book_name_is_refused(srv: Srv, tmp_path: Path, how: str) -> None:
    marker = tmp_path / MARKER
    evil = tmp_path / "chia_se" / "ke_hoach_khac"
    (evil / "templates").mkdir(parents=True)
    for name in ("briefing_subject.txt.j2", "briefing.txt.j2", "briefing.html.j2", "reminder_subject.txt.j2"):
        (evil / "templates" / name).write_text(evil_template(marker), encoding="utf-8")
    payload = remote_payload(srv.master)
    target = evil / "so_theo_doi.xlsx"
    payload["book"]["name"] = str(target) if how == "absolute" else os.path.relpath(target, srv.folder)
    r = _post(f"{srv.url}/lap_bao_cao_giao_ban", payload)
    assert not marker.exists(), "a template from the request's folder ran a command"
    assert r.status_code == 403, r.text
    assert "không phục vụ sổ" in r.text


def test_configured_templates_are_sandboxed(srv: Srv, tmp_path: Path) -> None:
    """Even the office's own template folder cannot reach Python: an edited template is sandboxed."""
    _wait_free(srv)
    marker = tmp_path / MARKER
    folder = srv.folder / "mau_bao_cao"
    folder.mkdir(exist_ok=True)
    (folder / "briefing_subject.txt.j2").write_text(evil_template(marker), encoding="utf-8")
    try:
        r = _post(f"{srv.url}/lap_bao_cao_giao_ban", remote_payload(srv.master))
    finally:
        (folder / "briefing_subject.txt.j2").unlink()
    assert not marker.exists(), "an edited template ran a command"
    assert r.status_code == 200, r.text
    alert = r.json()["actions"][-1]
    # The message goes through the Unicode helper (KeHoachThongBao), mode in the same place as alert's.
    assert alert["func"] == "runMacro" and alert["args"][0].endswith("KeHoachThongBao") and alert["args"][3] == "critical"


def test_briefing_html_is_autoescaped(srv: Srv) -> None:
    from kehoach_xl.reports.render import render

    cfg = Config(base_dir=srv.folder, templates="")
    html = render("reminder.html.j2", _reminder_ctx("<script>alert(1)</script>"), cfg)
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html


def _reminder_ctx(unit: str) -> dict[str, Any]:
    import datetime as dt
    import tempfile

    from kehoach_xl.io.master_read import read_master
    from kehoach_xl.reports.context import summary_context
    from kehoach_xl.reports.summary import compute_summary
    from tests.helpers import make_sample_master as mk

    with tempfile.TemporaryDirectory() as d:
        md = read_master(mk(Path(d) / "so.xlsx"))
    s = compute_summary(md, as_of=dt.date(2024, 6, 5)).result
    ctx = summary_context(s, config=Config(), period="2024-06")
    return {**ctx, "unit": unit, "overdue": [], "due_soon": [], "role_groups": [], "subject": "x"}


def test_docx_report_templates_are_sandboxed(tmp_path: Path) -> None:
    """The Word report: its body template and the .docx itself render in the same sandbox."""
    import docx
    from jinja2.exceptions import SecurityError

    from kehoach_xl.commands.report import report

    master = make_sample_master(tmp_path / "so.xlsx")
    marker = tmp_path / MARKER
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "report_body.txt.j2").write_text(evil_template(marker), encoding="utf-8")
    with pytest.raises(SecurityError):
        report(master, period="2024-05", out=tmp_path / "out")
    assert not marker.exists()
    (tmp_path / "templates" / "report_body.txt.j2").unlink()
    d = docx.Document()
    d.add_paragraph(evil_template(marker).strip())
    d.save(str(tmp_path / "templates" / "bao_cao.docx"))
    with pytest.raises(SecurityError):
        report(master, period="2024-05", out=tmp_path / "out")
    assert not marker.exists()


# --- 2. what the server tells strangers ----------------------------------------------------------


def test_health_and_404_reveal_nothing(srv: Srv) -> None:
    from kehoach_xl import __version__

    h = httpx.get(f"{srv.url}/health", timeout=10)
    assert h.status_code == 200 and h.text == "ok"
    assert "server" not in {k.lower() for k in h.headers}
    for path, method in (("/kehoach/khong_co", "GET"), ("/khac", "GET"), ("/kehoach/xoa_het", "POST"),
                         ("/kehoach/version", "GET")):
        r = httpx.request(method, f"http://127.0.0.1:{srv.port}{path}", timeout=10)
        assert r.status_code in (401, 404, 405), (path, r.status_code)
        for leak in (__version__, "xlwings", "uvicorn", "starlette", "fastapi", "cap_nhat"):
            assert leak not in r.text and leak not in str(r.headers).lower(), (path, leak)
    # Everything but the bare health check needs the token: unknown buttons too (no enumeration).
    assert httpx.post(f"{srv.url}/xoa_het", content=b"{}", timeout=10).status_code == 401
    v = httpx.get(f"{srv.url}/version", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert v.status_code == 200 and v.json()["kehoach_xl"] == __version__


@pytest.mark.parametrize("body", [b"[" * 200_000 + b"]" * 200_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
                                  b"1" * 5000])
def test_nested_or_huge_json_is_400(srv: Srv, body: bytes) -> None:
    r = _post(f"{srv.url}/cap_nhat", body)
    assert r.status_code == 400, r.text[:200]
    assert "JSON" in r.text


def test_nested_cells_are_422(srv: Srv) -> None:
    payload = remote_payload(srv.master)
    payload["sheets"][0]["values"][1][0] = [[[["lồng"]]]]
    r = _post(f"{srv.url}/cap_nhat", payload)
    assert r.status_code == 422 and "lồng nhau" in r.text


# --- 3. slow and many connections -----------------------------------------------------------------


def _closed_within(sock: socket.socket, send: list[bytes], pause: float, limit: float) -> float | None:
    """Send ``send`` one piece every ``pause`` s until the server closes; seconds it took, or None."""
    t0 = time.monotonic()
    sock.settimeout(pause)
    for piece in send:
        if time.monotonic() - t0 > limit:
            return None
        try:
            sock.sendall(piece)
            data = sock.recv(65536)
            if data == b"" or data.startswith(b"HTTP/1.1 4"):
                return time.monotonic() - t0
        except TimeoutError:
            continue
        except OSError:
            return time.monotonic() - t0
    return None


def test_slow_headers_are_dropped(srv: Srv) -> None:
    _wait_free(srv)
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
        pieces = [b"POST /kehoach/cap_nhat HTTP/1.1\r\nHost: x\r\n"] + [b"X-a: b\r\n"] * 40  # never ends
        took = _closed_within(s, pieces, pause=0.2, limit=HEADER_TIMEOUT + 4)
    assert took is not None, "a client trickling headers kept its connection"
    assert took < HEADER_TIMEOUT + 1.5
    print(f"slow-header client dropped after {took:.2f} s (header_timeout {HEADER_TIMEOUT} s)")


def test_trickled_body_is_dropped(srv: Srv) -> None:
    _wait_free(srv)
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
        head = (f"POST /kehoach/cap_nhat HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n").encode()
        s.sendall(head)
        took = _closed_within(s, [b"{"] + [b" "] * 60, pause=0.2, limit=BODY_TIMEOUT + 4)
    assert took is not None, "a client trickling its body kept the connection"
    assert took < BODY_TIMEOUT + 1.5
    print(f"trickling client dropped after {took:.2f} s (body_timeout {BODY_TIMEOUT} s)")


def test_oversized_headers_are_refused(srv: Srv) -> None:
    _wait_free(srv)
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
        s.sendall(b"GET /kehoach/health HTTP/1.1\r\nHost: x\r\nX-big: " + b"a" * 40_000 + b"\r\n\r\n")
        s.settimeout(5)
        data = s.recv(65536)
    assert data.startswith(b"HTTP/1.1 4") or data == b""


def test_connections_are_bounded(srv: Srv) -> None:
    _wait_free(srv)
    extra = 6
    t0 = time.monotonic()
    socks = [socket.create_connection(("127.0.0.1", srv.port), timeout=5) for _ in range(MAX_CONNECTIONS + extra)]
    try:
        time.sleep(0.3)
        assert len(srv.server.server_state.connections) <= MAX_CONNECTIONS
        busy = 0
        for s in socks:
            s.settimeout(0.2)
            try:
                data = s.recv(4096)
            except TimeoutError:
                continue
            if data.startswith(b"HTTP/1.1 503"):
                busy += 1
                assert "đang bận".encode() in data
        assert busy == extra, busy
        # The idle ones are dropped by the header deadline, then the server answers again.
        _wait_free(srv, timeout=HEADER_TIMEOUT + 5)
        freed = time.monotonic() - t0
        assert len(srv.server.server_state.connections) == 0
        print(f"{MAX_CONNECTIONS} idle connections held, {extra} refused with 503; all freed {freed:.2f} s after opening")
    finally:
        for s in socks:
            s.close()
    assert httpx.get(f"{srv.url}/health", timeout=10).text == "ok"


# --- 4. starting the server ----------------------------------------------------------------------


def test_serve_refuses_without_token_before_announcing(tmp_path: Path) -> None:
    (tmp_path / "kehoach.toml").write_text('master = "so.xlsx"\n[server]\ntoken_env = "KEHOACH_KHONG_CO"\n'
                                           'port = 1\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "KEHOACH_KHONG_CO"}
    proc = subprocess.run([sys.executable, "-m", "kehoach_xl.cli", "serve", "--config", str(tmp_path / "kehoach.toml")],
                          capture_output=True, text=True, timeout=120, env=env, cwd=str(Path(__file__).parents[2]))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "đang chạy" not in proc.stdout + proc.stderr
    assert "mã bí mật" in proc.stderr


def test_serve_refuses_short_token_and_missing_master(monkeypatch: pytest.MonkeyPatch) -> None:
    from kehoach_xl.errors import SetupError
    from kehoach_xl.excel.server import create_app

    monkeypatch.setenv(ENV, "ngan")
    cfg = Config(master="so.xlsx")
    cfg.server.token_env = ENV
    with pytest.raises(SetupError, match="quá ngắn"):
        create_app(cfg)
    monkeypatch.setenv(ENV, TOKEN)
    cfg.master = ""
    with pytest.raises(SetupError, match="Chưa cấu hình sổ theo dõi"):
        create_app(cfg)
