"""The button server: Excel's buttons on PCs that have no Python.

``RunRemotePython`` (xlwings' VBA client, see ``macros/kehoach_remote.bas``)
posts the workbook's content as JSON to ``POST /kehoach/<button>``; the server
builds an xlwings remote book from it (``xw.Book(json=payload)``), runs the same
button function as ``RunPython`` would, and answers ``{"actions": [...]}``,
which the VBA client replays in Excel (write these values, show this message).

Safety (see docs/security.md): bound to 127.0.0.1 unless configured; every
endpoint but a bare ``/health`` needs the shared secret (``Authorization: Bearer
<token>``, from the environment variable named by ``[server] token_env``, compared
in constant time); the server never takes a path from a request — ``book.name``
only selects one of the masters named in kehoach.toml, and templates come from the
package and the configured folder, rendered in Jinja2's sandbox; request line and
headers are limited in size and time, the body in size and time, open connections
in number; button calls run one at a time. Error answers are plain Vietnamese text
(no versions), which the VBA client shows in a message box.

Licence: xlwings' remote engine is part of xlwings PRO, dual-licensed; the
PolyForm Noncommercial License 1.0.0 covers use by government institutions,
which is why ``XLWINGS_LICENSE_KEY=noncommercial`` is set when nothing else is.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
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
    # Digests of equal length, compared in constant time: neither content nor length leaks.
    return hmac.compare_digest(hashlib.sha256(given.encode()).digest(), hashlib.sha256(token.encode()).digest())


MIN_TOKEN_CHARS = 16
_SCALARS = (str, int, float, bool, type(None))


def check_cells(payload: dict[str, Any]) -> None:
    """Every cell value is a scalar: nested lists or objects inside ``values`` are not a workbook."""
    for s in payload["sheets"]:
        for row in s["values"]:
            if not all(isinstance(v, _SCALARS) for v in row):
                raise PayloadError(f"Giá trị của trang “{s['name']}” có ô không phải giá trị đơn (lồng nhau).")


def served_master(config: Config, book_name: str) -> Path | None:
    """The configured master a request's ``book.name`` stands for; None when it names no served master.

    Only a bare file name is accepted: a path (``/``, ``\\``, ``..``) never is, and the path used is
    always the configured one.
    """
    name = book_name.strip()
    if not name or any(ch in name for ch in "/\\:\x00") or name in (".", ".."):
        return None
    return config.served_masters().get(name.casefold())


class _Runner:
    """Runs one button on one remote book at a time, and forgets the book afterwards."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.xw = _xlwings()

    def __call__(self, button: str, payload: dict[str, Any], master: Path) -> dict[str, Any]:
        from kehoach_xl.excel import buttons

        # The VBA client asked the user before a merge (macros/kehoach_remote.bas) and says so with
        # ``xac_nhan=1``; the route refuses a merge without it (see ``press``).
        extra = {"ask": False} if button in buttons.ALWAYS_ASK else {}
        with self.lock:
            book = self.xw.Book(json=payload)
            try:
                buttons.BUTTONS[button](book, config=self.config, master=master, **extra)
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


def message_action(message: str, title: str, *, critical: bool = False) -> dict[str, Any]:
    """A message for the VBA client to show through the Unicode helper (as ``book.macro`` would)."""
    from kehoach_xl.excel.buttons import MESSAGE_MACRO

    return {"func": "runMacro", "args": [MESSAGE_MACRO, message, title, "critical" if critical else "info"],
            "values": None, "sheet_position": None, "start_row": None, "start_column": None, "row_count": None,
            "column_count": None}


def check_server_config(config: Config) -> str:
    """The token, after checking the server can start safely; SetupError (Vietnamese) otherwise."""
    token = config.server.token
    if not token:
        raise SetupError(f"Chưa đặt mã bí mật cho máy chủ nút bấm: hãy đặt biến môi trường "
                         f"{config.server.token_env} (một chuỗi ngẫu nhiên dài) rồi chạy lại.")
    if len(token) < MIN_TOKEN_CHARS:
        raise SetupError(f"Mã bí mật trong biến môi trường {config.server.token_env} quá ngắn "
                         f"({len(token)} ký tự); cần ít nhất {MIN_TOKEN_CHARS} ký tự ngẫu nhiên.")
    if not config.served_masters():
        raise SetupError("Chưa cấu hình sổ theo dõi cho máy chủ nút bấm: hãy ghi master = \"tên_sổ.xlsm\" "
                         "(hoặc [server] masters = [...]) trong kehoach.toml. Máy chủ chỉ phục vụ các sổ "
                         "được cấu hình, không bao giờ dùng đường dẫn gửi đến trong yêu cầu.")
    return token


def create_app(config: Config | None = None) -> Any:
    """The FastAPI app: ``POST /kehoach/<button>`` for each button, ``GET /kehoach/health`` (bare),
    ``GET /kehoach/version`` (with the token)."""
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse, PlainTextResponse
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from kehoach_xl import __version__
    from kehoach_xl.excel import buttons

    config = config or load_config()
    token = check_server_config(config)
    limit = int(config.server.max_request_bytes)
    body_timeout = float(config.server.body_timeout)
    runner = _Runner(config)
    app = FastAPI(title="kehoach-xl", docs_url=None, redoc_url=None, openapi_url=None)

    def text(message: str, status: int, *, close: bool = False) -> PlainTextResponse:
        headers = {"Connection": "close"} if close else None
        return PlainTextResponse(message, status_code=status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> PlainTextResponse:
        # 404/405 and the like: plain Vietnamese, no framework or version in the answer.
        if exc.status_code == 404:
            return text("Không có địa chỉ này trên máy chủ nút bấm.", 404)
        if exc.status_code == 405:
            return text("Phương thức không được hỗ trợ ở địa chỉ này.", 405)
        return text("Yêu cầu không hợp lệ.", exc.status_code)

    def authorised(request: Request) -> bool:
        return _token_ok(request.headers.get("authorization"), token)

    denied = "Sai hoặc thiếu mã bí mật (token) của máy chủ nút bấm."

    @app.get(f"{ROUTE_PREFIX}/health")
    async def health() -> PlainTextResponse:
        return text("ok", 200)  # nothing else: no versions, no buttons, no paths

    @app.get(f"{ROUTE_PREFIX}/version")
    async def version(request: Request) -> Any:
        if not authorised(request):
            return text(denied, 401)
        return {"ok": True, "kehoach_xl": __version__, "xlwings": runner.xw.__version__,
                "buttons": sorted(buttons.BUTTONS), "masters": sorted(config.served_masters())}

    @app.post(ROUTE_PREFIX + "/{button}")
    async def press(button: str, request: Request) -> Any:
        if not authorised(request):
            return text(denied, 401, close=True)
        if button not in buttons.BUTTONS:
            return text("Không có nút bấm này trên máy chủ.", 404)
        if button in buttons.ALWAYS_ASK and request.query_params.get("xac_nhan") != "1":
            # Nothing is read: a merge runs only after the user said yes in Excel.
            caption = buttons.ACTION_CAPTIONS[button]
            return JSONResponse({"actions": [message_action(
                f"Chưa chạy “{caption}”: việc này phải được hỏi và đồng ý trong Excel trước. Hãy cập nhật mô-đun "
                "KeHoachMayChu (macros/kehoach_remote.bas) rồi bấm lại nút.", caption, critical=True)]})
        too_big = text(f"Sổ gửi lên quá lớn (giới hạn {vn.integer(limit)} byte). Hãy báo bộ phận kỹ thuật tăng "
                       "[server] max_request_bytes.", 413, close=True)
        declared = request.headers.get("content-length")
        if declared is not None:
            try:
                if int(declared) > limit:
                    return too_big
            except ValueError:
                return text("Độ dài nội dung (Content-Length) không hợp lệ.", 400, close=True)
        body = bytearray()
        try:
            async with asyncio.timeout(body_timeout):
                async for chunk in request.stream():
                    body.extend(chunk)
                    if len(body) > limit:
                        return too_big
        except TimeoutError:
            return text(f"Nội dung gửi lên quá chậm (quá {vn.number(body_timeout, decimals=None)} giây); hãy thử lại.", 408, close=True)
        try:
            payload = json.loads(bytes(body).decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            # ValueError: bad JSON or a number too long; RecursionError: JSON nested thousands deep.
            return text("Nội dung gửi lên không phải JSON hợp lệ (cần dữ liệu từ RunRemotePython của xlwings).", 400)
        try:
            check_payload(payload, runner.xw.__version__)
            check_cells(payload)
        except PayloadError as exc:
            return text(str(exc), 422)
        except RecursionError:
            return text("Nội dung gửi lên lồng nhau quá sâu.", 400)
        master = served_master(config, payload["book"]["name"])
        if master is None:
            served = ", ".join(p.name for p in config.served_masters().values())
            return text(f"Máy chủ không phục vụ sổ “{payload['book']['name'][:120]}”; chỉ phục vụ: {served}. "
                        "Hãy mở đúng sổ theo dõi rồi bấm lại.", 403)
        try:
            actions = await run_in_threadpool(runner, button, payload, master)
        except Exception:  # noqa: BLE001 - answer the user, keep serving
            log.exception("button %s failed", button)
            return text(f"Máy chủ gặp lỗi khi chạy nút “{button}”; hãy báo bộ phận kỹ thuật xem nhật ký máy chủ.", 500)
        return JSONResponse(actions)

    return app


class _Guard:
    """Per-connection limits uvicorn does not have: a bound on open connections and a deadline
    for the request line and headers (slow-header clients are dropped)."""

    def __init__(self, max_connections: int, header_timeout: float, max_header_bytes: int) -> None:
        self.max_connections = max_connections
        self.header_timeout = header_timeout
        self.max_header_bytes = max_header_bytes
        self.refused = 0  # connections turned away because max_connections were open (measured)
        self.dropped = 0  # connections closed because their headers were too slow (measured)
        self.too_long = 0  # requests refused because the request line and headers were too long

    def protocol(self) -> type:
        from uvicorn.protocols.http.h11_impl import H11Protocol

        guard = self
        busy = ("Máy chủ nút bấm đang bận (quá nhiều kết nối); hãy thử lại sau ít phút.").encode()
        refusal = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
                   b"Connection: close\r\nContent-Length: " + str(len(busy)).encode() + b"\r\n\r\n" + busy)
        long_msg = "Phần đầu yêu cầu (header) quá dài.".encode()
        too_long = (b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\n"
                    b"Connection: close\r\nContent-Length: " + str(len(long_msg)).encode() + b"\r\n\r\n" + long_msg)

        class GuardedH11Protocol(H11Protocol):
            _refused = False
            _header_timer: asyncio.TimerHandle | None = None
            _head: bytearray | None = None

            def data_received(self, data: bytes) -> None:
                import h11

                if self.conn.their_state is h11.IDLE:
                    # Count the request line and headers ourselves: h11's limit only applies to what
                    # stays buffered, so a long header block sent in one piece would pass.
                    head = self._head if self._head is not None else bytearray()
                    head += data[: guard.max_header_bytes + 4]
                    end = head.find(b"\r\n\r\n")
                    if (end == -1 and len(head) > guard.max_header_bytes) or end > guard.max_header_bytes:
                        guard.too_long += 1
                        self.transport.write(too_long)
                        self.transport.close()
                        return
                    self._head = None if end != -1 else head
                super().data_received(data)

            def connection_made(self, transport: Any) -> None:  # type: ignore[override]
                if len(self.connections) >= guard.max_connections:
                    self._refused = True
                    guard.refused += 1
                    transport.write(refusal)
                    transport.close()
                    return
                super().connection_made(transport)
                self._arm()

            def _arm(self) -> None:
                self._head = None
                if self._header_timer is not None:
                    self._header_timer.cancel()
                self._header_timer = self.loop.call_later(guard.header_timeout, self._headers_due)

            def _headers_due(self) -> None:
                import h11

                self._header_timer = None
                # IDLE: the request line and headers of the current request are not complete yet.
                if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                    guard.dropped += 1
                    self.transport.close()

            def on_response_complete(self) -> None:
                super().on_response_complete()
                if not self.transport.is_closing():
                    self._arm()  # the next request on a kept-alive connection gets its own deadline

            def connection_lost(self, exc: Exception | None) -> None:
                if self._refused:
                    return
                if self._header_timer is not None:
                    self._header_timer.cancel()
                super().connection_lost(exc)

        return GuardedH11Protocol


def build_server(config: Config | None = None, *, host: str | None = None, port: int | None = None) -> Any:
    """The uvicorn server, ready to ``run()``: checks the configuration first (SetupError before anything
    is announced), then applies every limit of ``[server]``."""
    import uvicorn

    config = config or load_config()
    host = host or config.server.host
    port = port or config.server.port
    app = create_app(config)
    sc = config.server
    guard = _Guard(int(sc.max_connections), float(sc.header_timeout), int(sc.max_header_bytes))
    ucfg = uvicorn.Config(
        app, host=host, port=port, log_level="info", http=guard.protocol(), ws="none", lifespan="off",
        server_header=False, date_header=False, limit_concurrency=int(sc.max_connections),
        h11_max_incomplete_event_size=int(sc.max_header_bytes), timeout_keep_alive=5,
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(ucfg)
    server.guard = guard  # type: ignore[attr-defined]
    if host not in LOOPBACK:
        log.warning("button server listens on %s: reachable from the network, protected by the token only", host)
    log.info("xlwings remote engine licence: %s", os.environ.get("XLWINGS_LICENSE_KEY"))
    return server


def serve(config: Config | None = None, *, host: str | None = None, port: int | None = None,
          announce: Callable[[str], None] | None = None) -> None:
    """Run the button server with uvicorn until Ctrl+C (127.0.0.1:8765 unless configured).

    Refuses to start (SetupError) without a token or a configured master; ``announce`` is called
    with a Vietnamese line only once the server is set up.
    """
    server = build_server(config, host=host, port=port)
    if announce is not None:
        cfg = server.config
        announce(f"Máy chủ nút bấm đang chạy tại http://{cfg.host}:{cfg.port}{ROUTE_PREFIX}; nhấn Ctrl+C để dừng.")
    server.run()
