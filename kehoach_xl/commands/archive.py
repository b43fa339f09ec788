"""``kehoach-xl archive``: move old log and history rows out of the master into its archive workbooks.

Read the two sheets → decide with ``rules/archive.compute_archive`` → append the leaving rows to the
archive files (``io/archive_book``, written first) → rewrite the master without them through the
one writer. Idempotent: a second run finds nothing to move; a run killed after the archive write
finds the rows' keys already archived and only removes them from the master.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from kehoach_xl import vn
from kehoach_xl.commands._guard import checked_master
from kehoach_xl.io import archive_book as book
from kehoach_xl.io.master_read import read_stamped_grids
from kehoach_xl.model import schema
from kehoach_xl.model.config import Config, load_config
from kehoach_xl.model.master import SheetData, find_sheet_name, read_sheet_rows
from kehoach_xl.rules.archive import ArchiveData, ArchivePlan, compute_archive, log_time
from kehoach_xl.vn import period_ym, try_parse_period

__all__ = ["ArchiveResult", "archive", "nightly_archive"]


@dataclass
class ArchiveResult:
    path: Path
    as_of: dt.date
    dry_run: bool
    log_archived: int = 0  # rows removed from the master's log sheet
    history_archived: int = 0
    log_kept: int = 0
    history_kept: int = 0
    rows_written: int = 0  # rows appended to archive files (fewer when a killed run had written some)
    already_archived: int = 0
    files: list[Path] = field(default_factory=list)
    backup: Path | None = None
    log_cutoff: dt.datetime | None = None
    history_first_period: str = ""

    def to_dict(self) -> dict:
        return {"path": str(self.path), "as_of": self.as_of.isoformat(), "dry_run": self.dry_run,
                "log_archived": self.log_archived, "history_archived": self.history_archived,
                "log_kept": self.log_kept, "history_kept": self.history_kept, "rows_written": self.rows_written,
                "already_archived": self.already_archived, "files": [str(f) for f in self.files],
                "backup": str(self.backup) if self.backup else None,
                "log_cutoff": self.log_cutoff.isoformat() if self.log_cutoff else None,
                "history_first_period": self.history_first_period}

    def message(self) -> str:
        """What happened, in Vietnamese, for the console and the nightly report."""
        cut = f"nhật ký trước {vn.date(self.log_cutoff)}" if self.log_cutoff else "nhật ký cũ"
        period = vn.period_label(self.history_first_period) if self.history_first_period else ""
        if not (self.log_archived or self.history_archived):
            return (f"Không có dòng nào cần lưu trữ ({cut}, lịch sử trước kỳ {period}). "
                    f"Sổ theo dõi giữ nguyên.")
        verb = "Sẽ chuyển" if self.dry_run else "Đã chuyển"
        files = ", ".join(f.name for f in self.files)
        text = (f"{verb} {vn.integer(self.log_archived)} dòng nhật ký ({cut}) và "
                f"{vn.integer(self.history_archived)} dòng lịch sử (trước kỳ {period}) sang tệp lưu trữ"
                + (f" {files}" if files else "") + ". "
                f"Còn lại trong sổ: {vn.integer(self.log_kept)} dòng nhật ký, {vn.integer(self.history_kept)} "
                f"dòng lịch sử.")
        if self.already_archived:
            text += f" {vn.integer(self.already_archived)} dòng đã có sẵn trong tệp lưu trữ (lần chạy trước bị ngắt)."
        if self.backup:
            text += f" Bản sao lưu sổ trước khi lưu trữ: {self.backup.name}."
        return text


def _sheet(grids: dict, sheet: schema.Sheet) -> tuple[str | None, SheetData, list]:
    name = find_sheet_name(grids, sheet.name)
    if name is None:
        return None, SheetData(sheet=sheet, present=False), []
    grid = grids[name]  # calamine's own rows, not copied: the log of a year is hundreds of thousands of rows
    return name, read_sheet_rows(sheet, grid), grid


def _years(sheet: SheetData, indexes: list[int], *, log: bool) -> list[int]:
    if log:
        return [log_time(sheet.rows[i].get("time")).year for i in indexes]  # type: ignore[union-attr]
    return [period_ym(try_parse_period(sheet.rows[i].get("period")))[0] for i in indexes]


def archive(master: Path | str, *, keep_months: int | None = None, dry_run: bool = False,
            config: Config | None = None, as_of: dt.date | None = None) -> ArchiveResult:
    """Move the log rows older than ``keep_months`` months (config ``[archive] log_keep_months``, 3) and
    the history rows older than ``[archive] history_keep_periods`` periods (12) — except those the rules
    still read — into ``<master>_luu_tru_<yyyy>.xlsx`` beside the master. ``dry_run``: count only."""
    master = checked_master(master)
    config = config or load_config(master)
    as_of = as_of or dt.date.today()
    if keep_months is not None and keep_months < 1:
        from kehoach_xl.errors import SetupError

        raise SetupError(f"Số tháng giữ nhật ký phải ít nhất là 1 (nhận được {keep_months}).")
    lock = book.archive_lock(master, stale_after=config.lock_stale_minutes * 60)
    lock.acquire(timeout=config.lock_timeout)
    try:
        book.clean_leftovers(master)
        return _archive(master, keep_months=keep_months, dry_run=dry_run, config=config, as_of=as_of)
    finally:
        lock.release()


def _archive(master: Path, *, keep_months: int | None, dry_run: bool, config: Config,
             as_of: dt.date) -> ArchiveResult:
    grids, stamp = read_stamped_grids(master, [schema.LOG.name, schema.HISTORY.name])
    log_name, log, log_grid = _sheet(grids, schema.LOG)
    hist_name, hist, hist_grid = _sheet(grids, schema.HISTORY)
    out = compute_archive(ArchiveData(log=log, history=hist), as_of=as_of, config=config, keep_months=keep_months)
    plan: ArchivePlan = out.result
    res = ArchiveResult(path=master, as_of=as_of, dry_run=dry_run, log_archived=len(plan.log.leave),
                        history_archived=len(plan.history.leave), log_kept=len(plan.log.keep),
                        history_kept=len(plan.history.keep), log_cutoff=plan.log_cutoff,
                        history_first_period=plan.history_first_period)
    if not plan.leaving:
        return res
    rows = [*book.archive_rows(schema.LOG, log, log_grid, plan.log.leave, _years(log, plan.log.leave, log=True)),
            *book.archive_rows(schema.HISTORY, hist, hist_grid, plan.history.leave,
                               _years(hist, plan.history.leave, log=False))]
    years = sorted({r.year for r in rows})
    res.files = [book.archive_path(master, y) for y in years]
    if dry_run:
        return res
    # Refuse before anything is written: the master or an archive file open in Excel.
    book.check_not_open(master, stale_hours=config.owner_file_stale_hours, what="Sổ theo dõi")
    existing = book.existing_archive(master, years=years)
    keep: dict[str, list[int]] = {}
    headers: dict[str, int] = {}
    expected: dict[str, list[list]] = {}
    for name, data, grid, sp in ((log_name, log, log_grid, plan.log), (hist_name, hist, hist_grid, plan.history)):
        if name is None or not sp.leave:
            continue
        # Every other row with anything in it stays, those with values only in a column staff added included.
        leaving = {data.row_numbers[i] for i in sp.leave}
        keep[name] = [r for r in range(data.header_row + 1, len(grid) + 1)
                      if r not in leaving and any(v not in (None, "") for v in grid[r - 1])]
        headers[name] = data.header_row
        expected[name] = [grid[r - 1] for r in keep[name]]
    copy = book.trimmed_copy(master, keep, headers, expected)
    # The sheets read are no longer needed: free them before the archive and the master are written.
    del grids, log, hist, log_grid, hist_grid, expected, keep, out, plan
    try:
        book.fault("master_copy_built")
        written = book.write_archive(master, rows, existing=existing, stale_hours=config.owner_file_stale_hours,
                                     today=as_of)
        res.rows_written = sum(written.values())
        res.already_archived = len(rows) - res.rows_written
        del rows, existing
        res.files = sorted({*res.files, *written})
        book.fault("archive_replaced")
        note = (f"Chuyển {vn.integer(res.log_archived)} dòng nhật ký, {vn.integer(res.history_archived)} dòng lịch sử "
                f"sang {', '.join(f.name for f in res.files)}")
        wr = book.replace_master(master, copy, note=note, config=config, expect=stamp)
        res.backup = wr.backup
    finally:
        copy.unlink(missing_ok=True)
    return res


def nightly_archive(master: Path | str, *, as_of: dt.date, config: Config) -> ArchiveResult | None:
    """What the nightly job calls after its own write: archive on ``[archive] nightly_day`` of the month
    (default the 1st; 0 never). None when not due. Its own write, separate from the night's: the rows
    leave by a rewrite of two sheets, which the night's change set cannot express."""
    day = config.archive.nightly_day
    if not day or as_of.day != day:
        return None
    return archive(master, config=config, as_of=as_of)
