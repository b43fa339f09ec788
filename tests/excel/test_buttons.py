"""The Excel buttons, run through xlwings' remote engine (no Excel on Linux).

Each test builds a payload shaped like what xlwings' VBA client (RunRemotePython)
sends, from a demo-like master, opens it with ``xw.Book(json=payload)``, presses
the button function and inspects the actions xlwings would replay in Excel.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

import xlwings as xw  # noqa: E402

from kehoach_xl.excel import buttons
from kehoach_xl.io.livebook import remote_payload  # noqa: E402
from kehoach_xl.model import schema  # noqa: E402
from kehoach_xl.model.config import Config  # noqa: E402
from kehoach_xl.model.master import master_from_grids  # noqa: E402
from tests.excel.vba_client import apply_actions  # noqa: E402
from tests.helpers import make_sample_master, sample_tasks  # noqa: E402

AS_OF = dt.date(2024, 6, 5)

pytestmark = pytest.mark.skipif("remote" not in [e.name for e in xw.engines],
                                reason="xlwings remote engine (PRO, noncommercial key) not available")


def _tasks(n: int) -> list[dict[str, Any]]:
    base = sample_tasks()
    out = []
    for i in range(n):
        t = dict(base[i % len(base)])
        t["id"] = f"DDCI2024-{i + 1:05d}"
        t["due_date"] = None  # the button fills it
        out.append(t)
    return out


def _book(tmp_path: Path, n: int = 6, name: str = "so_theo_doi.xlsx") -> tuple[Any, dict[str, Any]]:
    master = make_sample_master(tmp_path / name, _tasks(n))
    payload = remote_payload(master, active_sheet=0, selection="B2")
    return xw.Book(json=payload), payload


def _sheet_index(payload: dict[str, Any], name: str) -> int:
    return [s["name"] for s in payload["sheets"]].index(name)




def test_payload_has_the_vba_client_shape(tmp_path: Path) -> None:
    _, payload = _book(tmp_path)
    assert payload["client"] == "VBA" and payload["version"] == xw.__version__
    assert set(payload["book"]) == {"name", "active_sheet_index", "selection"}
    first = payload["sheets"][0]
    assert set(first) == {"name", "pictures", "tables", "values"}
    assert first["name"] == schema.TASKS.name
    assert first["tables"][0]["name"] == schema.TASKS.table_name
    # Dates travel as VBA-JSON writes them.
    flat = [v for r in first["values"] for v in r if isinstance(v, str) and v.endswith(".000Z")]
    assert flat and all(v[10] == "T" for v in flat)


def test_cap_nhat_writes_derived_columns_in_bulk(tmp_path: Path) -> None:
    book, payload = _book(tmp_path)
    result = buttons.cap_nhat(book, config=Config(), as_of=AS_OF)
    assert result.ok, result.message
    actions = book.json()["actions"]
    assert actions[-1]["func"] == "alert"
    assert "05/06/2024" in actions[-1]["args"][0] and "Quá hạn" in actions[-1]["args"][0]
    grids = apply_actions(payload, actions)
    md = master_from_grids({k: v for k, v in grids.items()}, "x.xlsx")
    states = {r["id"]: r["deadline_state"] for r in md.tasks.rows}
    # Task 6 of the sample: due 20/05/2024, in progress -> overdue on 05/06/2024.
    assert states["DDCI2024-00006"] == schema.DEADLINE_STATES["overdue"]
    assert states["DDCI2024-00001"] == schema.DEADLINE_STATES["done_on_time"]
    assert states["DDCI2024-00005"] == schema.DEADLINE_STATES["continuous"]
    due = {r["id"]: r["due_date"] for r in md.tasks.rows}
    assert due["DDCI2024-00002"] in ("2024-06-10T00:00:00", "2024-06-10", dt.date(2024, 6, 10)) or \
        str(due["DDCI2024-00002"]).startswith("2024-06-10")
    # The workbook is never saved from Python.
    assert not [a for a in actions if a["func"] == "save"]


def test_refresh_action_count_does_not_grow_with_tasks(tmp_path: Path) -> None:
    counts = {}
    for n in (10, 5000):
        book, _ = _book(tmp_path / str(n), n)
        result = buttons.cap_nhat(book, config=Config(), as_of=AS_OF)
        assert result.ok, result.message
        actions = book.json()["actions"]
        counts[n] = (len(actions), result.calls, [a["func"] for a in actions])
        big = max(a["row_count"] or 0 for a in actions if a.get("sheet_position") == 0)
        assert big == n  # one 2-D block spans every task row (the parts sheet has its own blocks)
    assert counts[10] == counts[5000], counts


def test_kiem_tra_writes_problems_sheet_and_selects_first(tmp_path: Path) -> None:
    tasks = _tasks(6)
    tasks[1]["lead_units"] = "Phòng Không Có Thật"
    tasks[2]["progress"] = 150
    master = make_sample_master(tmp_path / "m.xlsx", tasks)
    payload = remote_payload(master)
    book = xw.Book(json=payload)
    result = buttons.kiem_tra(book, config=Config())
    assert result.ok, result.message
    actions = book.json()["actions"]
    funcs = [a["func"] for a in actions]
    assert "activateSheet" in funcs and "rangeSelect" in funcs and funcs[-1] == "alert"
    problems_pos = _sheet_index(payload, schema.PROBLEMS_SHEET_NAME)
    select = actions[funcs.index("rangeSelect")]
    assert select["sheet_position"] == problems_pos and select["start_row"] == 4  # row 5: first problem
    grids = apply_actions(payload, actions)
    sheet = grids[schema.PROBLEMS_SHEET_NAME]
    text = " ".join(str(v) for r in sheet for v in r if v)
    assert "Phòng Không Có Thật" in text
    assert "lỗi" in actions[-1]["args"][0]


def test_lap_bao_cao_giao_ban_writes_summary_sheet(tmp_path: Path) -> None:
    book, payload = _book(tmp_path)
    result = buttons.lap_bao_cao_giao_ban(book, config=Config(base_dir=tmp_path), as_of=AS_OF, out=tmp_path / "bc")
    assert result.ok, result.message
    actions = book.json()["actions"]
    pos = _sheet_index(payload, schema.SUMMARY_SHEET_NAME)
    writes = [a for a in actions if a["func"] == "setValues" and a["sheet_position"] == pos]
    assert writes
    grids = apply_actions(payload, actions)
    assert any(v for r in grids[schema.SUMMARY_SHEET_NAME][1:] for v in r)
    assert "Tổng hợp" in actions[-1]["args"][0]
    # The briefing files, written beside the configuration (never into the open workbook).
    names = sorted(p.suffix for p in result.outputs)
    assert names == [".eml", ".html", ".png", ".txt", ".xlsx"]
    assert all(p.exists() and p.stat().st_size > 0 for p in result.outputs)


def test_error_becomes_a_vietnamese_message(tmp_path: Path) -> None:
    payload = {"client": "VBA", "version": xw.__version__,
               "book": {"name": "khac.xlsx", "active_sheet_index": 0, "selection": "A1"}, "names": [],
               "sheets": [{"name": "Sheet1", "pictures": [], "tables": [], "values": [["a"]]}]}
    book = xw.Book(json=payload)
    result = buttons.cap_nhat(book, config=Config(), as_of=AS_OF)
    assert not result.ok
    alert = book.json()["actions"][-1]
    assert alert["func"] == "alert" and alert["args"][3] == "critical"
    assert "Nhiệm vụ" in alert["args"][0]


def test_tong_hop_merges_inbox_into_the_open_book(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from kehoach_xl.commands.issue import issue

    master = make_sample_master(tmp_path / "so_theo_doi.xlsx", _tasks(6))
    issued = issue(master, period="2024-05", out=tmp_path / "phat_hanh")
    inbox = tmp_path / "hop_thu_den"
    inbox.mkdir()
    src = next(p for p in issued if "Van_phong_Dang_ky" in p.name)
    wb = load_workbook(src)
    ws = wb["Báo cáo"]
    header = [c.value for c in ws[4]]
    row = next(r for r in range(5, ws.max_row + 1) if ws.cell(r, 1).value == "DDCI2024-00002")
    for title, value in (("Trạng thái", "Hoàn thành"), ("Tiến độ (%)", 100),
                         ("Ngày hoàn thành", dt.datetime(2024, 5, 30)), ("Kết quả thực hiện", "Đã cập nhật lên web")):
        ws.cell(row, header.index(title) + 1, value)
    wb.save(inbox / src.name)

    payload = remote_payload(master)
    book = xw.Book(json=payload)
    # Asked first; the remote engine cannot answer, which is a No: nothing read, nothing written.
    asked = buttons.tong_hop_bao_cao_don_vi(book, config=Config(base_dir=tmp_path), inbox=inbox)
    assert not asked.ok and "Đã thôi" in asked.message
    only = book.json()["actions"]
    assert [a["func"] for a in only] == ["alert"] and only[0]["args"][2] == "yes_no"
    assert "“Tổng hợp báo cáo đơn vị”" in only[0]["args"][0]
    book = xw.Book(json=payload)
    result = buttons.tong_hop_bao_cao_don_vi(book, config=Config(base_dir=tmp_path), inbox=inbox, ask=False)
    assert result.ok, result.message
    actions = book.json()["actions"]
    assert actions[-1]["func"] == "alert" and "Đã tổng hợp 1 tệp" in actions[-1]["args"][0]
    grids = apply_actions(payload, actions)
    md = master_from_grids(grids, "x.xlsx")
    task = next(r for r in md.tasks.rows if r["id"] == "DDCI2024-00002")
    assert task["status"] == "Hoàn thành" and task["progress"] == 100
    assert task["result"] == "Đã cập nhật lên web"
    # Other tasks untouched. The submission stays in the inbox: the values are only in the open book,
    # which staff may close without saving; the merge of the file on disk (nightly) files it away.
    assert next(r for r in md.tasks.rows if r["id"] == "DDCI2024-00004")["status"] == "Chưa thực hiện"
    assert (inbox / src.name).exists() and not (inbox / "processed").exists()
    assert "vẫn để trong thư mục nhận" in actions[-1]["args"][0]
    # Closed without saving: nothing is lost, the command-line merge (under the lock) applies it now.
    from kehoach_xl.commands.merge import merge
    from kehoach_xl.io.master_read import read_master

    rep = merge(master, inbox).to_dict()
    assert rep["applied"] and not rep["conflicts"]
    assert next(r for r in read_master(master).tasks.rows if r["id"] == "DDCI2024-00002")["status"] == "Hoàn thành"
    assert not (inbox / src.name).exists() and (inbox / "processed" / src.name).exists()


def test_cap_nhat_leaves_notes_below_the_task_table_alone(tmp_path: Path) -> None:
    master = make_sample_master(tmp_path / "so.xlsx", _tasks(6))
    payload = remote_payload(master, active_sheet=0, selection="B2")
    # Excel sends the whole used range: a note staff typed in A12, below the Table (rows 1-7).
    values = payload["sheets"][_sheet_index(payload, schema.TASKS.name)]["values"]
    width = len(values[0])
    values.extend([[""] * width for _ in range(12 - len(values))])
    values[11][0] = "Ghi chú của Văn phòng: số liệu đến hết tháng 5"
    book = xw.Book(json=payload)
    result = buttons.cap_nhat(book, config=Config(), as_of=AS_OF)
    assert result.ok, result.message
    tasks_pos = _sheet_index(payload, schema.TASKS.name)
    for a in book.json()["actions"]:
        if a["func"] in ("setValues", "rangeClearContents") and a["sheet_position"] == tasks_pos:
            assert a["start_row"] + a["row_count"] - 1 <= 6, a  # 0-based rows 1..6 are the six tasks


def test_cap_nhat_does_not_write_into_a_staff_made_tong_hop_sheet(tmp_path: Path) -> None:
    book_unused, payload = _book(tmp_path)
    pos = _sheet_index(payload, schema.SUMMARY_SHEET_NAME)
    payload["sheets"][pos]["values"] = [["Bảng theo dõi riêng của phòng", ""], ["Ghi chú quan trọng", ""]]
    book = xw.Book(json=payload)
    result = buttons.cap_nhat(book, config=Config(), as_of=AS_OF)
    assert result.ok, result.message
    assert not [a for a in book.json()["actions"]
                if a["func"] in ("setValues", "rangeClearContents") and a["sheet_position"] == pos]
