"""The button server over real HTTP on loopback (uvicorn in a thread)."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

import uvicorn  # noqa: E402
import xlwings as xw  # noqa: E402

from kehoach_xl.errors import SetupError  # noqa: E402
from kehoach_xl.excel.server import create_app  # noqa: E402
from kehoach_xl.io.livebook import remote_payload  # noqa: E402
from kehoach_xl.model.config import Config  # noqa: E402
from tests.helpers import make_sample_master  # noqa: E402

TOKEN = "thu-nghiem-0123456789abcdef"
ENV = "KEHOACH_TEST_SERVER_TOKEN"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    os.environ[ENV] = TOKEN
    folder = tmp_path_factory.mktemp("srv")
    cfg = Config(base_dir=folder, master="so_theo_doi.xlsx")
    cfg.server.token_env = ENV
    cfg.server.max_request_bytes = 400_000
    app = create_app(cfg)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    deadline = time.time() + 10
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started
    master = make_sample_master(folder / "so_theo_doi.xlsx")
    yield f"http://127.0.0.1:{port}/kehoach", master
    srv.should_exit = True
    th.join(5)


def _post(url: str, body: Any, token: str | None = TOKEN, **kw: Any) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}".strip()
    content = body if isinstance(body, (bytes, str)) or kw.get("stream") else json.dumps(body, ensure_ascii=False)
    kw.pop("stream", None)
    return httpx.post(url, content=content, headers=headers, timeout=30, **kw)


def test_health(server: tuple[str, Path]) -> None:
    url, _ = server
    r = httpx.get(f"{url}/health", timeout=10)
    assert r.status_code == 200 and r.text == "ok"  # a bare health check: no versions, no buttons
    v = httpx.get(f"{url}/version", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert v.status_code == 200 and "cap_nhat" in v.json()["buttons"]


def test_good_call_returns_actions(server: tuple[str, Path]) -> None:
    url, master = server
    r = _post(f"{url}/cap_nhat", remote_payload(master))
    assert r.status_code == 200, r.text
    actions = r.json()["actions"]
    funcs = [a["func"] for a in actions]
    # The message goes through the Unicode helper (MessageBoxW), not xlwings' MsgBox-based "alert".
    assert "setValues" in funcs and funcs[-1] == "runMacro" and "alert" not in funcs
    macro, message, _title, _mode = actions[-1]["args"]
    assert macro == "'so_theo_doi.xlsx'!KeHoachThongBao" and "Đã cập nhật 6 nhiệm vụ" in message
    assert f"{dt.date.today():%d/%m/%Y}" in message


def test_raw_token_without_bearer_is_accepted(server: tuple[str, Path]) -> None:
    url, master = server
    r = httpx.post(f"{url}/kiem_tra", json=remote_payload(master), headers={"Authorization": TOKEN}, timeout=30)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("token", [None, "sai-ma", TOKEN + "x", ""])
def test_bad_token_is_refused(server: tuple[str, Path], token: str | None) -> None:
    url, master = server
    r = _post(f"{url}/cap_nhat", remote_payload(master), token=token)
    assert r.status_code == 401
    assert "mã bí mật" in r.text


def test_oversized_request_is_refused(server: tuple[str, Path]) -> None:
    url, _ = server
    r = _post(f"{url}/cap_nhat", b"x" * 500_000)
    assert r.status_code == 413 and "quá lớn" in r.text


def test_oversized_chunked_request_is_refused_while_streaming(server: tuple[str, Path]) -> None:
    url, _ = server
    sent = []

    def chunks() -> Iterator[bytes]:
        for _ in range(200):  # 200 x 10 kB, no Content-Length
            sent.append(1)
            yield b"y" * 10_000

    try:
        r = httpx.post(f"{url}/cap_nhat", content=chunks(), timeout=30,
                       headers={"Authorization": f"Bearer {TOKEN}"})
    except httpx.HTTPError:
        return  # the server may close the connection mid-upload: refused either way
    assert r.status_code == 413


def test_malformed_json(server: tuple[str, Path]) -> None:
    url, _ = server
    r = _post(f"{url}/cap_nhat", b"{not json")
    assert r.status_code == 400 and "JSON" in r.text


@pytest.mark.parametrize("body, words", [
    ([1, 2], "đối tượng JSON"),
    ({"book": {}, "sheets": []}, "book.name"),
    ({"version": xw.__version__, "client": "VBA", "book": {"name": "a.xlsx"}, "sheets": [{"name": "A", "values": 3}]},
     "hai chiều"),
    ({"version": "0.1.0", "client": "VBA", "book": {"name": "a.xlsx"}, "sheets": [{"name": "A", "values": [[]]}]},
     "Phiên bản xlwings"),
])
def test_wrong_payload_shape(server: tuple[str, Path], body: Any, words: str) -> None:
    url, _ = server
    r = _post(f"{url}/cap_nhat", body)
    assert r.status_code == 422 and words in r.text


def test_unknown_button(server: tuple[str, Path]) -> None:
    url, master = server
    r = _post(f"{url}/xoa_het", {})
    assert r.status_code == 404
    assert _post(f"{url}/xoa_het", {}, token=None).status_code == 401  # no enumeration without the token


def test_server_refuses_to_start_without_token() -> None:
    cfg = Config()
    cfg.server.token_env = "KEHOACH_TOKEN_THAT_IS_NOT_SET"
    with pytest.raises(SetupError, match="mã bí mật"):
        create_app(cfg)
