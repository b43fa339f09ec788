"""``kehoach-xl issue``: one signed workbook per unit for a period."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from pathlib import Path

from kehoach_xl.errors import SetupError
from kehoach_xl.io.master_read import read_master
from kehoach_xl.model import schema
from kehoach_xl.model.config import Config, load_config
from kehoach_xl.model.unitbook import unitbook_name
from kehoach_xl.reports.unitbook import build_unitbook
from kehoach_xl.rules.assignments import assignments
from kehoach_xl.rules.parts import parts_of
from kehoach_xl.text import normalize_text
from kehoach_xl.vn import parse_period

log = logging.getLogger(__name__)


def issue(master: Path | str, *, period: str, out: Path | str, config: Config | None = None,
          units: Sequence[str] | None = None, issued_at: dt.datetime | None = None) -> list[Path]:
    """Write one workbook per unit that leads or coordinates a task; returns the paths written."""
    period = parse_period(period)  # "2024-5" is signed as "2024-05", the form merge and history compare
    master = Path(master)
    cfg = config or load_config(master)
    md = read_master(master)
    if md.tasks.missing:
        raise SetupError(f"Sheet '{schema.TASKS.name}' thiếu cột: {', '.join(md.tasks.missing)}.")
    if not md.settings.get("master_id"):
        log.warning("master %s has no master_id in settings; unit workbooks will carry an empty one", master.name)
    plan = assignments(md)
    parts = parts_of(md)  # each unit's row values: its own last report of each part
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    wanted = {normalize_text(u) for u in units} if units else None
    written: list[Path] = []
    for unit in sorted(plan):
        if wanted is not None and unit not in wanted:
            continue
        wb = build_unitbook(md, unit, period, plan[unit], secret=cfg.secret, issued_at=issued_at,
                            parts=parts)
        path = out / unitbook_name(unit, period)
        wb.save(path)
        written.append(path)
    return written
