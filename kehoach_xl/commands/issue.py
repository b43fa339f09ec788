"""``kehoach-xl issue``: one signed workbook per unit for a period."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from pathlib import Path

from kehoach_xl.commands._guard import checked_master
from kehoach_xl.errors import DataError, SetupError
from kehoach_xl.io.master_read import read_master
from kehoach_xl.model import schema
from kehoach_xl.model.config import Config, load_config
from kehoach_xl.model.master import MasterData
from kehoach_xl.model.registry import Registry, split_parties
from kehoach_xl.model.unitbook import unitbook_name
from kehoach_xl.reports.unitbook import build_unitbook
from kehoach_xl.rules.assignments import assignments
from kehoach_xl.text import normalize_text
from kehoach_xl.vn import parse_period

log = logging.getLogger(__name__)


def issue(master: Path | str, *, period: str, out: Path | str, config: Config | None = None,
          units: Sequence[str] | None = None, issued_at: dt.datetime | None = None) -> list[Path]:
    """Write one workbook per unit that leads or coordinates a task; returns the paths written."""
    period = parse_period(period)  # "2024-5" is signed as "2024-05", the form merge and history compare
    master = checked_master(master)
    cfg = config or load_config(master)
    md = read_master(master)
    if md.tasks.missing:
        raise SetupError(f"Sheet '{schema.TASKS.name}' thiếu cột: {', '.join(md.tasks.missing)}.")
    _refuse_unknown_units(md)
    if not md.settings.get("master_id"):
        log.warning("master %s has no master_id in settings; unit workbooks will carry an empty one", master.name)
    plan = assignments(md)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    wanted = {normalize_text(u) for u in units} if units else None
    written: list[Path] = []
    for unit in sorted(plan):
        if wanted is not None and unit not in wanted:
            continue
        wb = build_unitbook(md, unit, period, plan[unit], secret=cfg.secret, issued_at=issued_at)
        path = out / unitbook_name(unit, period)
        wb.save(path)
        written.append(path)
    return written


def unknown_units(md: MasterData) -> dict[str, list[str]]:
    """Lead or coordinating units named in tasks but absent from the units sheet: name → task IDs."""
    registry = Registry.from_master(md)
    found: dict[str, list[str]] = {}
    for row in md.tasks.rows:
        tid = normalize_text(row.get("id"))
        if not tid:
            continue
        for key in ("lead_units", "coordinating_units"):
            for p in split_parties(row.get(key)):
                if registry.match_unit(p.name).canonical is None:
                    ids = found.setdefault(p.name, [])
                    if tid not in ids:
                        ids.append(tid)
    return found


def _refuse_unknown_units(md: MasterData) -> None:
    """DataError (exit 1) before any workbook is written when a task names a unit nobody can be issued.

    Issuing anyway would leave those tasks with no workbook and nobody reporting on them, silently.
    """
    unknown = unknown_units(md)
    if not unknown:
        return
    n_tasks = len({t for ids in unknown.values() for t in ids})
    listed = "; ".join(f"“{name}” (nhiệm vụ {', '.join(ids[:5])}{' …' if len(ids) > 5 else ''})"
                       for name, ids in list(unknown.items())[:10])
    more = f"; và {len(unknown) - 10} đơn vị khác" if len(unknown) > 10 else ""
    raise DataError(
        f"Không giao tệp báo cáo: {n_tasks} nhiệm vụ có đơn vị chủ trì hoặc phối hợp chưa có trong sheet "
        f"“{schema.UNITS.name}”: {listed}{more}. Chưa ghi tệp nào. Cách sửa: thêm các đơn vị này vào sheet "
        f"“{schema.UNITS.name}” của sổ theo dõi (tên hoặc tên viết tắt), hoặc nhập lại kế hoạch với "
        f"“kehoach-xl import <văn bản> --into <sổ theo dõi> --add-unknown”; rồi chạy lại lệnh issue.")
