"""Builders of unit submissions, good and bad, generated at test time (nothing big is committed)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from kehoach_xl.commands.issue import issue
from kehoach_xl.model.master import match_headers
from kehoach_xl.model.unitbook import HEADER_ROW, META_SHEET, REPORT_SHEET, UNIT_SHEET
from tests.helpers import make_sample_master

PERIOD = "2024-05"
AS_OF = dt.date(2024, 5, 31)


def setup_month(tmp: Path) -> tuple[Path, dict[str, Path], Path]:
    """A sample master, its unit workbooks for PERIOD (by unit slug) and an empty inbox."""
    master = make_sample_master(tmp / "so_theo_doi.xlsx")
    files = issue(master, period=PERIOD, out=tmp / "gui_don_vi", issued_at=dt.datetime(2024, 5, 1, 8))
    inbox = tmp / "hop_thu_den"
    inbox.mkdir()
    return master, {f.name[8:-5]: f for f in files}, inbox


def fill(src: Path, dest: Path, rows: dict[str, dict[str, Any]], *, edit: Callable[[Any, dict[str, int]], None] | None = None,
         as_text: bool = True) -> Path:
    """Copy an issued workbook filling ``rows`` {task_id: {field: value}}; strings are stored as text."""
    wb = load_workbook(src)
    ws = wb[REPORT_SHEET]
    cols, _ = match_headers(UNIT_SHEET, [c.value for c in ws[HEADER_ROW]])
    for r in range(HEADER_ROW + 1, ws.max_row + 1):
        tid = ws.cell(r, cols["id"]).value
        for key, value in rows.get(tid, {}).items():
            c = ws.cell(r, cols[key])
            c.value = value
            if as_text and isinstance(value, str):
                c.data_type = "s"
    if edit:
        edit(wb, cols)
    dest.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dest)
    return dest


def rezip(src: Path, dest: Path, *, add: dict[str, bytes] | None = None, replace: dict[str, bytes] | None = None,
          compression: int = zipfile.ZIP_DEFLATED) -> Path:
    add, replace = add or {}, replace or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", compression) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, replace.get(info.filename, zin.read(info.filename)))
        for name, data in add.items():
            zout.writestr(name, data)
    return dest


def forge_meta(src: Path, dest: Path, **changes: Any) -> Path:
    """Change the signed header (e.g. unit=…) without re-signing: what a forger can do."""
    wb = load_workbook(src)
    ws = wb[META_SHEET]
    head = json.loads(ws["B2"].value)
    head.update(changes)
    ws["B2"] = json.dumps(head, ensure_ascii=False, sort_keys=True)
    wb.save(dest)
    return dest


def copy(src: Path, dest: Path) -> Path:
    shutil.copyfile(src, dest)
    return dest
