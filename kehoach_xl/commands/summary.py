"""``kehoach-xl summary``: the summary sheet in the master, and optionally its own workbook."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from kehoach_xl.commands._guard import checked_master
from kehoach_xl.errors import DataError, SetupError
from kehoach_xl.io.master_read import read_master_and
from kehoach_xl.model import schema
from kehoach_xl.model.config import Config, load_config
from kehoach_xl.model.master import find_sheet_name, summary_sheet_is_ours
from kehoach_xl.reports.summary import SHEET, Summary, export_summary, summary_changes, summary_of


def _check_export_target(master: Path, export: Path) -> None:
    """Refuse an export that would replace the master or another tracking workbook (data loss)."""
    if export.resolve() == master.resolve():
        raise SetupError(f"Tệp xuất “{export}” chính là sổ theo dõi; ghi vào đó sẽ mất toàn bộ dữ liệu. "
                         "Hãy chọn tên tệp khác cho --export.")
    if export.exists() and export.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            from python_calamine import CalamineWorkbook

            wb = CalamineWorkbook.from_path(str(export))
            holds_tasks = schema.TASKS.name in wb.sheet_names
            wb.close()
        except Exception:  # noqa: BLE001 - an unreadable file is not a master; the export may replace it
            holds_tasks = False
        if holds_tasks:
            raise SetupError(f"Tệp “{export}” đã có và chứa sheet “{schema.TASKS.name}” (có thể là một sổ theo dõi); "
                             "không ghi đè. Hãy chọn tên tệp khác cho --export.")


def summary(master: Path | str, *, as_of: dt.date | None = None, export: Path | None = None,
            period: str | None = None, config: Config | None = None) -> Summary:
    """Compute the summary, write it into the master's summary sheet (safe writer) and optionally export it.

    ``period`` (YYYY-MM) is the month reported on, default the month of ``as_of``.
    ``config`` defaults to the kehoach.toml found for ``master``.
    """
    from kehoach_xl.io.master_write import write_master

    master = checked_master(master)
    if export is not None:
        _check_export_target(master, Path(export))  # before the master is touched
    md, grids = read_master_and(master, [SHEET])
    if md.tasks.missing:
        raise DataError(f"Sheet “{schema.TASKS.name}” thiếu cột: {', '.join(md.tasks.missing)}.")
    config = config or load_config(master)
    name = find_sheet_name(grids, SHEET)
    grid = grids[name] if name else None
    ours = grid is not None and summary_sheet_is_ours(grid)
    # The rows live on in ``md``; the raw grids would only add to the peak (50,000 tasks: ~60 MiB).
    del grids, grid
    s = summary_of(md, as_of, config=config, period=period)
    stamp = md.stamp
    del md  # the summary is made: the master's rows are not needed to write it or to export it
    if name is None:
        s.warnings.append(f"Sổ theo dõi chưa có sheet “{SHEET}”; chỉ xuất tệp tổng hợp riêng.")
    elif not ours:
        s.warnings.append(f"Sheet “{SHEET}” không do chương trình tạo (ô A1 không phải “{schema.SUMMARY_TITLE}”) "
                          "nên không ghi đè; đổi tên sheet đó nếu muốn chương trình lập bảng tổng hợp.")
    else:
        write_master(master, summary_changes(s), action="summary", config=config, expect=stamp)
        s.written = True
    if export is not None:
        s.export_path = export_summary(s, Path(export))
    return s
