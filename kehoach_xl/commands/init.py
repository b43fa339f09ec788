"""Create a new master (``init``, ``create_master``): build it whole, save it atomically."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kehoach_xl.errors import SetupError
from kehoach_xl.io.master_new import _save_atomic, replacing_master
from kehoach_xl.model import schema
from kehoach_xl.reports.master_book import (
    _add_task_rules,
    _plain_sheet,
    _problems_sheet,
    _settings_sheet,
    _write_table_sheet,
    add_parts_sheet,
    new_workbook,
    set_task_print_header,
)


def create_master(
    path: Path | str,
    *,
    tasks: Sequence[Mapping[str, Any]] = (),
    units: Sequence[Mapping[str, Any]] = (),
    leaders: Sequence[Mapping[str, Any]] = (),
    scores: Sequence[Mapping[str, Any]] = (),
    meta: Mapping[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a new master workbook with every sheet, rule and print setting.

    ``tasks`` etc. are mappings keyed by the column keys in :mod:`schema`.
    """
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise SetupError(f"create_master viết tệp .xlsx (dùng init hoặc build_xlsm cho .xlsm): {path.name}")
    if path.exists() and not overwrite:
        raise SetupError(f"Tệp {path} đã tồn tại; không ghi đè sổ theo dõi đang có.")
    meta = dict(meta or {})
    meta.setdefault("master_id", uuid.uuid4().hex)
    wb = new_workbook()
    ws = _write_table_sheet(wb, schema.TASKS, tasks, first=True)
    _add_task_rules(wb, ws, len(tasks))
    set_task_print_header(ws, meta)
    ws.sheet_view.zoomScale = 90
    _write_table_sheet(wb, schema.UNITS, units)
    _write_table_sheet(wb, schema.LEADERS, leaders)
    _write_table_sheet(wb, schema.SCORES, scores)
    _plain_sheet(wb, schema.SUMMARY_SHEET_NAME, schema.SUMMARY_TITLE)
    _problems_sheet(wb)
    _settings_sheet(wb, meta)
    _write_table_sheet(wb, schema.LOG, [])
    _write_table_sheet(wb, schema.HISTORY, [])
    from kehoach_xl.reports.summary import build_summary_scaffold  # late: reports imports this module

    build_summary_scaffold(wb)
    add_parts_sheet(wb)
    wb.properties.creator = "kehoach_xl"
    wb.properties.title = str(meta.get("plan_title") or "Sổ theo dõi thực hiện kế hoạch")
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing_master(path):
        _save_atomic(wb, path)
    return path


def init(master: Path | str, *, sample: str | None = None, overwrite: bool = False) -> Path:
    """Create an empty master (optionally with a sample plan's registry), a default kehoach.toml and the
    working folders the configuration names (the inbox and the reports folder)."""
    from kehoach_xl.model.config import CONFIG_NAME, default_toml, ensure_signing_key, load_config
    from kehoach_xl.model.sample import sample_registry

    master = Path(master)
    reg: dict[str, Any] = sample_registry(sample) if sample else {}
    macro = master.suffix.lower() == ".xlsm"
    if macro and master.exists() and not overwrite:
        raise SetupError(f"Tệp {master} đã tồn tại; không ghi đè sổ theo dõi đang có.")
    # An .xlsm is the .xlsx master plus xlwings' VBA project and the buttons (see xlsm.py).
    plain = master.with_name(f".{master.stem}.tao-moi.xlsx") if macro else master
    if macro:
        plain.unlink(missing_ok=True)  # left by a killed run; a scratch file, not a master to back up
    path = create_master(
        plain,
        units=reg.get("units", ()),
        leaders=reg.get("leaders", ()),
        scores=reg.get("scores", ()),
        meta=reg.get("meta"),
        overwrite=overwrite and not macro,
    )
    if macro:
        from kehoach_xl.reports.xlsm import build_xlsm

        try:
            with replacing_master(master):  # an existing .xlsm is backed up like any master
                path = build_xlsm(plain, master, overwrite=overwrite)
        finally:
            plain.unlink(missing_ok=True)
    toml = path.parent / CONFIG_NAME
    if not toml.exists():
        # The department's own random key for signing unit workbooks (there is no built-in one).
        toml.write_text(default_toml(path.name), encoding="utf-8")
    else:
        ensure_signing_key(toml)  # an older kehoach.toml without a key gets one; an existing key is kept
    cfg = load_config(path)
    for folder in (cfg.inbox_dir, cfg.reports_dir):
        folder.mkdir(parents=True, exist_ok=True)
    return path
