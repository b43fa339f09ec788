"""The remote route with the request xlwings' VBA client really sends (``exclude:=`` the log and the
history), through the button server on real HTTP loopback: a year-old master stays under the
request limit, the excluded sheets are read from the served master, the rows added to them go back
to the VBA helper, every message goes through the Unicode helper, and a merge runs only once the
user said yes in Excel."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
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

from kehoach_xl.excel.buttons import APPEND_MACRO, MESSAGE_MACRO, REMOTE_EXCLUDED  # noqa: E402
from kehoach_xl.excel.server import create_app  # noqa: E402
from kehoach_xl.model import schema  # noqa: E402
from kehoach_xl.model.config import Config  # noqa: E402
from tests.excel.test_buttons import _tasks  # noqa: E402
from tests.excel.test_server import _free_port  # noqa: E402
from tests.excel.year_of_use import add_year_of_use, vba_client_payload  # noqa: E402
from tests.helpers import make_sample_master  # noqa: E402

pytestmark = pytest.mark.skipif("remote" not in [e.name for e in xw.engines],
                                reason="xlwings remote engine (PRO, noncommercial key) not available")

TOKEN = "thu-nghiem-nam-0123456789abcdef"
ENV = "KEHOACH_TEST_YEAR_TOKEN"
LIMIT = 200_000
NAME = "so_theo_doi.xlsx"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    os.environ[ENV] = TOKEN
    folder = tmp_path_factory.mktemp("nam")
    master = make_sample_master(folder / NAME, _tasks(60))
    add_year_of_use(master)  # 1,440 log rows, 720 history rows
    cfg = Config(base_dir=folder, master=NAME)
    cfg.server.token_env = ENV
    cfg.server.max_request_bytes = LIMIT
    srv = uvicorn.Server(uvicorn.Config(create_app(cfg), host="127.0.0.1", port=_free_port(), log_level="warning"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    deadline = time.time() + 10
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started
    yield f"http://127.0.0.1:{srv.config.port}/kehoach", master
    srv.should_exit = True
    th.join(5)


def _post(url: str, payload: dict[str, Any]) -> httpx.Response:
    body = json.dumps(payload, ensure_ascii=False, default=str).encode()
    return httpx.post(url, content=body, timeout=60,
                      headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})


def _size(payload: dict[str, Any]) -> int:
    return len(json.dumps(payload, ensure_ascii=False, default=str).encode())


def _macro_calls(actions: list[dict[str, Any]], macro: str) -> list[list[Any]]:
    return [a["args"][1:] for a in actions if a["func"] == "runMacro" and a["args"][0].endswith("!" + macro)]


def test_year_old_master_fits_only_without_log_and_history(served: tuple[str, Path]) -> None:
    url, master = served
    full, lean = vba_client_payload(master), vba_client_payload(master, REMOTE_EXCLUDED)
    assert _size(full) > LIMIT > _size(lean)
    assert _post(f"{url}/cap_nhat", full).status_code == 413
    r = _post(f"{url}/cap_nhat", lean)
    assert r.status_code == 200, r.text
    actions = r.json()["actions"]
    names = [s["name"] for s in lean["sheets"]]
    log_pos = names.index(schema.LOG.name)
    # Nothing is written into the sheets Excel did not send (their rows are unknown here) ...
    assert not [a for a in actions if a["func"] == "setValues" and a["sheet_position"] == log_pos]
    # ... the log row goes to the VBA helper, which appends it under the log's Table.
    (sheet, rows), = _macro_calls(actions, APPEND_MACRO)
    assert sheet == schema.LOG.name and len(rows) == 1 and rows[0][1] == "refresh"
    assert isinstance(rows[0][0], float)  # the time as an Excel serial number
    # The message: the Unicode helper, never xlwings' MsgBox-based alert.
    assert "alert" not in [a["func"] for a in actions]
    (msg, _title, _mode), = _macro_calls(actions, MESSAGE_MACRO)
    assert "Đã cập nhật 60 nhiệm vụ" in msg


def test_kiem_tra_reads_history_from_the_served_master(served: tuple[str, Path]) -> None:
    url, master = served
    r = _post(f"{url}/kiem_tra", vba_client_payload(master, REMOTE_EXCLUDED))
    assert r.status_code == 200, r.text
    (msg, _title, _mode), = _macro_calls(r.json()["actions"], MESSAGE_MACRO)
    # An empty history sheet would be reported as missing its columns: it was read from disk instead.
    assert schema.HISTORY.name not in msg, msg


def _submission(master: Path, inbox: Path) -> Path:
    from openpyxl import load_workbook

    from kehoach_xl.commands.issue import issue

    issued = issue(master, period="2025-01", out=master.parent / "phat_hanh")  # after the year of history
    src = next(p for p in issued if "Van_phong_Dang_ky" in p.name)
    wb = load_workbook(src)
    ws = wb["Báo cáo"]
    header = [c.value for c in ws[4]]
    row = next(r for r in range(5, ws.max_row + 1) if ws.cell(r, 1).value == "DDCI2024-00002")
    for title, value in (("Trạng thái", "Hoàn thành"), ("Tiến độ (%)", 100),
                         ("Ngày hoàn thành", dt.datetime(2024, 5, 30)), ("Kết quả thực hiện", "Xong trên web")):
        ws.cell(row, header.index(title) + 1, value)
    inbox.mkdir(exist_ok=True)
    wb.save(inbox / src.name)
    return inbox / src.name


def test_merge_runs_only_after_yes_in_excel(served: tuple[str, Path], tmp_path: Path) -> None:
    url, master = served
    inbox = master.parent / "hop_thu_den"
    sub = _submission(master, inbox)
    lean = vba_client_payload(master, REMOTE_EXCLUDED)
    # Not asked (an old module, a hand-made request): nothing read, only a message saying why.
    r = _post(f"{url}/tong_hop_bao_cao_don_vi", lean)
    assert r.status_code == 200, r.text
    actions = r.json()["actions"]
    assert [a["func"] for a in actions] == ["runMacro"] and actions[0]["args"][0] == MESSAGE_MACRO
    assert "“Tổng hợp báo cáo đơn vị”" in actions[0]["args"][1]
    # Asked and confirmed in Excel (xac_nhan=1): merged into the open book; history rows to the helper.
    r = _post(f"{url}/tong_hop_bao_cao_don_vi?xac_nhan=1", lean)
    assert r.status_code == 200, r.text
    actions = r.json()["actions"]
    appended = dict(_macro_calls(actions, APPEND_MACRO))
    assert schema.HISTORY.name in appended and schema.LOG.name in appended
    assert any(row[1] == "DDCI2024-00002" for row in appended[schema.HISTORY.name])
    assert any(a["func"] == "setValues" for a in actions), _debug(actions)
    (msg, _t, _m), = _macro_calls(actions, MESSAGE_MACRO)
    assert "Đã tổng hợp 1 tệp" in msg
    assert sub.exists()  # the files stay in the inbox: the values are only in the open book

    # Once the nightly merge has put the report into the master on disk (history included), the
    # history read from the served master means a second press adds no history row again.
    from kehoach_xl.commands.merge import merge

    merge(master, inbox)
    shutil.copy(inbox / "processed" / sub.name, sub)
    r = _post(f"{url}/tong_hop_bao_cao_don_vi?xac_nhan=1", vba_client_payload(master, REMOTE_EXCLUDED))
    appended = dict(_macro_calls(r.json()["actions"], APPEND_MACRO))
    assert schema.HISTORY.name not in appended


def _debug(actions):  # pragma: no cover
    return [(a["func"], a["args"][:2] if a["func"] == "runMacro" else a.get("sheet_position")) for a in actions]
