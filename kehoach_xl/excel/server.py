"""The button server: Excel's buttons on PCs that have no Python.

``RunRemotePython`` (xlwings' VBA client, see ``macros/kehoach_remote.bas``)
posts the workbook's content as JSON to ``POST /kehoach/<button>``; the server
builds an xlwings remote book from it (``xw.Book(json=payload)``), runs the same
button function as ``RunPython`` would, and answers ``{"actions": [...]}``,
which the VBA client replays in Excel (write these values, show this message).

Safety: bound to 127.0.0.1 unless configured; every call needs the shared
secret (``Authorization: Bearer <token>``, token from the environment variable
named by ``[server] token_env``); a request larger than ``max_request_bytes`` is
refused before its body is read; button calls run one at a time. Error answers
are plain Vietnamese text, which the VBA client shows in a message box.

Licence: xlwings' remote engine is part of xlwings PRO, dual-licensed; the
PolyForm Noncommercial License 1.0.0 covers use by government institutions,
which is why ``XLWINGS_LICENSE_KEY=noncommercial`` is set when nothing else is.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import threading
from typing import Any

from fastapi import Request  # module level: FastAPI resolves the endpoint's annotations here

from kehoach_xl import vn
from kehoach_xl.errors import SetupError
from kehoach_xl.model.config import Config, load_config

log = logging.getLogger(__name__)

ROUTE_PREFIX = "/kehoach"
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _xlwings() -> Any:
    """xlwings with its remote engine; the licence key must be in the environment before import."""
    os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
    import xlwings as xw

    if "remote" not in [e.name for e in xw.engines]:
        raise SetupError("xlwings không bật được bộ máy “remote” (xlwings PRO): kiểm tra biến môi trường "
                         "XLWINGS_LICENSE_KEY (dùng 'noncommercial' cho cơ quan nhà nước) trước khi chạy máy chủ.")
    return xw


class PayloadError(ValueError):
    """The request body is not what xlwings' VBA client sends (message in Vietnamese)."""


def check_payload(payload: Any, xlwings_version: str) -> None:
    if not isinstance(payload, dict):
        raise PayloadError("Nội dung gửi lên không phải một đối tượng JSON.")
    book = payload.get("book")
    if not isinstance(book, dict) or not isinstance(book.get("name"), str):
        raise PayloadError("Thiếu thông tin sổ (book.name) trong nội dung gửi lên.")
    sheets = payload.get("sheets")
    if not isinstance(sheets, list) or not sheets:
        raise PayloadError("Thiếu danh sách trang tính (sheets) trong nội dung gửi lên.")
    for s in sheets:
        if not isinstance(s, dict) or not isinstance(s.get("name"), str):
            raise PayloadError("Một trang tính gửi lên không có tên.")
        values = s.get("values")
        if not isinstance(values, list) or not all(isinstance(r, list) for r in values):
            raise PayloadError(f"Giá trị của trang “{s['name']}” không phải bảng hai chiều.")
        s.setdefault("pictures", [])
        s.setdefault("tables", [])
    payload.setdefault("names", [])
    book.setdefault("active_sheet_index", 0)
    book.setdefault("selection", None)
    version = payload.get("version")
    if payload.get("client") != "Office.js" and version != xlwings_version:
        raise PayloadError(f"Phiên bản xlwings trong Excel ({version}) khác phiên bản trên máy chủ "
                           f"({xlwings_version}). Hãy cài add-in/mô-đun xlwings {xlwings_version} trên máy này.")


def _token_ok(header: str | None, token: str) -> bool:
    if not header:
        return False
    given = header.strip()
    if given.lower().startswith("bearer "):
        given = given[7:].strip()
    return hmac.compare_digest(given.encode(), token.encode())


class _Runner:
    """Runs one button on one remote book at a time, and forgets the book afterwards."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.xw = _xlwings()

    def __call__(self, button: str, payload: dict[str, Any]) -> dict[str, Any]:
        from kehoach_xl.excel import buttons

        with self.lock:
            book = self.xw.Book(json=payload)
            try:
                buttons.BUTTONS[button](book, config=self.config)
                return book.json()
            finally:
                self._forget(book)

    @staticmethod
    def _forget(book: Any) -> None:
        # The remote engine keeps every book it opened and caches range values: drop both,
        # or a long-running server grows with every click.
        impl = book.impl
        books = getattr(impl, "books", None)
        if books is not None and impl in getattr(books, "books", []):
            books.books.remove(impl)
        try:
            from xlwings.pro._xlremote import get_range_api

            get_range_api.cache_clear()
        except (ImportError, AttributeError):
            pass


def create_app(config: Config | None = None) -> Any:
    """The FastAPI app: ``POST /kehoach/<button>`` for each button, ``GET /kehoach/health``."""
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse, PlainTextResponse
    from starlette.concurrency import run_in_threadpool

    from kehoach_xl import __version__
    from kehoach_xl.excel import buttons

    config = config or load_config()
    token = config.server.token
    if not token:
        raise SetupError(f"Chưa đặt mã bí mật cho máy chủ nút bấm: hãy đặt biến môi trường "
                         f"{config.server.token_env} (một chuỗi ngẫu nhiên dài) rồi chạy lại.")
    limit = int(config.server.max_request_bytes)
    runner = _Runner(config)
    app = FastAPI(title="kehoach-xl button server", docs_url=None, redoc_url=None, openapi_url=None)

    def text(message: str, status: int) -> PlainTextResponse:
        return PlainTextResponse(message, status_code=status)

    @app.get(f"{ROUTE_PREFIX}/health")
    async def health() -> dict[str, Any]:
        return {"ok": True, "kehoach_xl": __version__, "xlwings": runner.xw.__version__,
                "buttons": sorted(buttons.BUTTONS)}

    @app.post(ROUTE_PREFIX + "/{button}")
    async def press(button: str, request: Request) -> Any:
        if button not in buttons.BUTTONS:
            return text(f"Không có nút bấm “{button}” trên máy chủ.", 404)
        if not _token_ok(request.headers.get("authorization"), token):
            return text("Sai hoặc thiếu mã bí mật (token) của máy chủ nút bấm.", 401)
        too_big = text(f"Sổ gửi lên quá lớn (giới hạn {vn.integer(limit)} byte). Hãy báo bộ phận kỹ thuật tăng "
                       "[server] max_request_bytes.", 413)
        declared = request.headers.get("content-length")
        if declared is not None:
            try:
                if int(declared) > limit:
                    return too_big
            except ValueError:
                return text("Độ dài nội dung (Content-Length) không hợp lệ.", 400)
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > limit:
                return too_big
        try:
            payload = json.loads(bytes(body).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return text("Nội dung gửi lên không phải JSON hợp lệ (cần dữ liệu từ RunRemotePython của xlwings).", 400)
        try:
            check_payload(payload, runner.xw.__version__)
        except PayloadError as exc:
            return text(str(exc), 422)
        try:
            actions = await run_in_threadpool(runner, button, payload)
        except Exception as exc:  # noqa: BLE001 - answer the user, keep serving
            log.exception("button %s failed", button)
            return text(f"Máy chủ gặp lỗi khi chạy nút “{button}”: {exc}", 500)
        return JSONResponse(actions)

    return app


def serve(config: Config | None = None, *, host: str | None = None, port: int | None = None) -> None:
    """Run the button server with uvicorn until Ctrl+C (127.0.0.1:8765 unless configured)."""
    import uvicorn

    config = config or load_config()
    host = host or config.server.host
    port = port or config.server.port
    app = create_app(config)
    if host not in LOOPBACK:
        log.warning("button server listens on %s: reachable from the network, protected by the token only", host)
    log.info("xlwings remote engine licence: %s", os.environ.get("XLWINGS_LICENSE_KEY"))
    uvicorn.run(app, host=host, port=port, log_level="info")
