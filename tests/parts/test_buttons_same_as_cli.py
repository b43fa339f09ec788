"""The Excel buttons (xlwings' remote engine, as in tests/excel) and the command line give the same
parts sheet on the same inputs: the same pure step (rules/refresh.parts_step) behind both."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

import xlwings as xw  # noqa: E402

from kehoach_xl.commands.merge import merge  # noqa: E402
from kehoach_xl.commands.refresh import refresh  # noqa: E402
from kehoach_xl.excel import buttons  # noqa: E402
from kehoach_xl.io.livebook import remote_payload  # noqa: E402
from kehoach_xl.io.master_read import read_grids  # noqa: E402
from kehoach_xl.model import schema  # noqa: E402
from kehoach_xl.model.apply import same_value  # noqa: E402
from kehoach_xl.model.config import load_config  # noqa: E402
from tests.bad_inputs.make import fill, setup_month  # noqa: E402
from tests.excel.vba_client import apply_actions  # noqa: E402

pytestmark = pytest.mark.skipif("remote" not in [e.name for e in xw.engines],
                                reason="xlwings remote engine (PRO, noncommercial key) not available")

T1, T3, T4 = "DDCI2024-001", "DDCI2024-003", "DDCI2024-004"
AS_OF = dt.date(2024, 6, 5)




def _as_values(v: Any) -> Any:
    """What the VBA payload carries for a date ("2024-05-10T00:00:00.000Z") as a date."""
    if isinstance(v, str) and len(v) >= 19 and v[10] == "T" and v.endswith("Z"):
        return dt.date.fromisoformat(v[:10])
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _same_sheet(live: list[list[Any]], disk: list[list[Any]]) -> None:
    width = len(schema.PARTS.columns)
    live_rows = [[_as_values(v) for v in (r + [None] * width)[:width]] for r in live if any(x not in (None, "") for x in r)]
    disk_rows = [[(v.date() if isinstance(v, dt.datetime) else v) for v in (list(r) + [None] * width)[:width]]
                 for r in disk if any(x not in (None, "") for x in r)]
    assert len(live_rows) == len(disk_rows) > 20
    for a, b in zip(live_rows, disk_rows, strict=True):
        assert all(same_value(x, y) for x, y in zip(a, b, strict=True)), (a, b)


def _month(tmp: Path) -> tuple[Path, Path, Path]:
    master, files, inbox = setup_month(tmp)
    fill(files["Thanh_tra_So"], inbox / files["Thanh_tra_So"].name, {
        T1: {"status": "Đang thực hiện", "progress": 60, "result": "Đã rà soát 5 quy trình"},
        T3: {"status": "Hoàn thành", "progress": 100, "completed_on": "27/05/2024", "result": "Xong"},
        T4: {"contribution": "Cử 01 thanh tra viên tham gia đoàn"}})
    fill(files["Van_phong_So"], inbox / files["Van_phong_So"].name, {
        T1: {"progress": 70, "difficulties": "Thiếu số liệu của hai đơn vị"}})
    twin = tmp / "twin"
    twin.mkdir()
    shutil.copy(master, twin / master.name)
    shutil.copytree(inbox, twin / inbox.name)
    return master, twin / master.name, twin / inbox.name


def test_merge_button_and_cli_merge_write_the_same_parts(tmp_path: Path) -> None:
    master, twin, twin_inbox = _month(tmp_path)
    now = dt.datetime.combine(dt.date.today(), dt.time(20))
    merge(master, tmp_path / "hop_thu_den", now=now)
    payload = remote_payload(twin)
    book = xw.Book(json=payload)
    # The remote route: the VBA client asked the user first and the server passes ask=False, as here
    # (the remote engine cannot answer a question itself; tests/excel covers the asking).
    result = buttons.tong_hop_bao_cao_don_vi(book, config=load_config(twin), inbox=twin_inbox, ask=False)
    assert result.ok, result.message
    live = apply_actions(payload, book.json()["actions"])
    disk = read_grids(master, [schema.PARTS.name])[schema.PARTS.name]
    _same_sheet(live[schema.PARTS.name], disk)
    # The merge changed parts: the member's own figures are in its row on both sides.
    row = next(r for r in disk if r[0] == T1 and r[3] == "Thanh tra Sở")
    assert (row[5], row[6], row[11]) == ("Đang thực hiện", 60, "05/2024")


def test_refresh_button_and_cli_refresh_write_the_same_parts(tmp_path: Path) -> None:
    master, twin, _ = _month(tmp_path)
    refresh(master, as_of=AS_OF)
    payload = remote_payload(twin)
    book = xw.Book(json=payload)
    result = buttons.cap_nhat(book, config=load_config(twin), as_of=AS_OF)
    assert result.ok, result.message
    live = apply_actions(payload, book.json()["actions"])
    disk = read_grids(master, [schema.PARTS.name])[schema.PARTS.name]
    _same_sheet(live[schema.PARTS.name], disk)
    states = {r[13] for r in disk[1:] if r[0]}
    assert "Quá hạn" in states or "Hoàn thành đúng hạn" in states  # the day's states were written
