"""The archive workbooks beside the master: where old log and history rows go.

One file per year of the rows' own dates, ``<master stem>_luu_tru_<yyyy>.xlsx`` (log rows by their
time, history rows by their period), holding the sheets "Nhật ký" and "Lịch sử" with the master's
headers plus three columns: "Cột khác" (cells of columns staff added to the master, as
"header: value"), "Mã dòng lưu trữ" (the row's key) and "Ngày chuyển lưu trữ". Why per year (not one
growing file): a year at 50,000 tasks is over a million log rows, so one file would soon pass
Excel's row limit itself and take minutes to open; a year's file stays openable and is appended
to by the same surgical patcher as the master (``io/xlsx_patch``), without loading it. Should one
year's sheet still fill up, its rows continue in ``<stem>_luu_tru_<yyyy>_2.xlsx``.

Order of a run (``commands/archive``): the archive is written FIRST (temporary file, fsync, atomic
replace), THEN the master is rewritten through the one writer. A crash in between leaves the rows
in both; the next run finds their keys already in the archive, writes nothing more, and removes
them from the master. The key is a hash of the sheet and every value of the row, so an exact copy
of an archived row (every cell equal, its time to the second) counts as that row.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import os
import re
import signal
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kehoach_xl import vn
from kehoach_xl.errors import DataError
from kehoach_xl.io.backup import fsync_dir, fsync_file
from kehoach_xl.io.lock import FileLock, find_owner_file
from kehoach_xl.io.master_read import sheet_grid
from kehoach_xl.io.write_errors import MasterOpenInExcelError, write_failed
from kehoach_xl.model import schema
from kehoach_xl.model.changes import CellValue, MasterChanges
from kehoach_xl.model.master import SheetData
from kehoach_xl.model.schema import Column, Sheet

__all__ = ["ARCHIVE_FAULT_POINTS", "ArchiveRow", "KEY_HEADER", "archive_lock", "archive_path", "archive_rows",
           "check_not_open", "existing_archive", "write_archive"]

EXTRA_HEADER = "Cột khác"
KEY_HEADER = "Mã dòng lưu trữ"
MOVED_HEADER = "Ngày chuyển lưu trữ"
SHEET_ROW_LIMIT = 1_048_576  # Excel's rows per sheet, the header included
TABLE_NAMES = {schema.LOG.key: "LuuTruNhatKy", schema.HISTORY.key: "LuuTruLichSu"}

# KEHOACH_FAULT_POINT=<name> kills the process there (tests prove a crash is harmless), as in
# io/master_write.FAULT_POINTS.
ARCHIVE_FAULT_POINTS: tuple[str, ...] = ("archive_tmp_written", "archive_replaced", "master_copy_built")


def fault(point: str) -> None:
    if os.environ.get("KEHOACH_FAULT_POINT") != point:
        return
    os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
    time.sleep(10)


def archive_path(master: Path, year: int, part: int = 1) -> Path:
    suffix = "" if part == 1 else f"_{part}"
    return master.with_name(f"{master.stem}_luu_tru_{year:04d}{suffix}.xlsx")


def _archive_files(master: Path) -> list[tuple[int, int, Path]]:
    pat = re.compile(re.escape(master.stem) + r"_luu_tru_(\d{4})(?:_(\d+))?\.xlsx", re.IGNORECASE)
    out = []
    for p in master.parent.iterdir() if master.parent.is_dir() else ():
        m = pat.fullmatch(p.name)
        if m and p.is_file():
            out.append((int(m[1]), int(m[2] or 1), p))
    return sorted(out)


def archive_lock(master: Path, *, stale_after: float) -> FileLock:
    """One archive run at a time per master (two would both append the same rows)."""
    return FileLock(master.with_name(f".{master.stem}_luu_tru.kehoach.lock"), stale_after=stale_after,
                    label=f"{master.stem}_luu_tru")


def clean_leftovers(master: Path) -> None:
    """Temporary files of a killed archive run (safe only while holding :func:`archive_lock`)."""
    names = (re.compile(re.escape(f".{master.name}.tmp-") + r"\d+-archive"),
             re.compile(re.escape(f".{master.stem}_luu_tru_") + r"\d{4}(?:_\d+)?\.xlsx\.tmp-\d+(?:-new)?",
                        re.IGNORECASE))
    with contextlib.suppress(OSError):
        for e in os.scandir(master.parent):
            if any(p.fullmatch(e.name) for p in names):
                with contextlib.suppress(OSError):
                    os.unlink(e.path)


# --- rows -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArchiveRow:
    sheet: str  # the master's sheet name (schema), also the archive's
    year: int
    key: str
    values: list[CellValue]  # the schema's columns in order, then "Cột khác"


def _canon(v: Any) -> Any:
    t = type(v)  # once per archived cell (hundreds of thousands a year): the common types by identity
    if t is str:
        return v if v.strip() else None
    if t is float:
        return int(v) if v.is_integer() else v
    if v is None or t is int:
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, str):
        return v if v.strip() else None
    return v


def _cell(v: Any) -> CellValue:
    t = type(v)
    if t is str:
        return v if v.strip() else None
    if t is float:
        return int(v) if v.is_integer() else v
    if v is None or t is int or t is dt.datetime or t is dt.date:
        return v
    if isinstance(v, str):
        return v if v.strip() else None
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, (str, int, float, bool, dt.date, dt.datetime)):
        return v
    return str(v)  # a time or duration calamine read: kept as text, nothing lost


def archive_rows(sheet: Sheet, data: SheetData, grid: Sequence[Sequence[Any]], indexes: Iterable[int],
                 years: Sequence[int]) -> list[ArchiveRow]:
    """The rows ``indexes`` of ``data`` (read from ``grid``) as archive rows, each with its key.

    ``years[k]`` is the year of the k-th index (the file it goes to). The key is a hash of the row's
    canonical JSON: archives written by earlier versions hold these keys, so its text must never change.
    """
    own = set(data.columns.values())
    extra_cols = [j for j in sorted(data.headers) if j not in own]
    extra_heads = [(j - 1, data.headers[j]) for j in extra_cols]
    cols = [data.columns[c.key] - 1 if c.key in data.columns else -1 for c in sheet.columns]
    dumps, sha, sheet_key, name = json.dumps, hashlib.sha256, sheet.key, sheet.name
    out = []
    for k, i in enumerate(indexes):
        raw = grid[data.row_numbers[i] - 1]
        n = len(raw)
        values: list[CellValue] = [_cell(raw[j]) if 0 <= j < n else None for j in cols]
        extras = [f"{head}: {vn.value(raw[j] if j < n else None)}" for j, head in extra_heads
                  if j < n and _canon(raw[j]) not in (None, "")]
        values.append("; ".join(extras) or None)
        blob = dumps([sheet_key, [_canon(v) for v in values]], ensure_ascii=False, default=str)
        out.append(ArchiveRow(name, years[k], sha(blob.encode("utf-8")).hexdigest()[:20], values))
    return out


# --- what is archived already --------------------------------------------------------------------------


@dataclass
class ExistingArchive:
    keys: set[str] = field(default_factory=set)
    rows: dict[tuple[Path, str], int] = field(default_factory=dict)  # (file, sheet) → data rows
    files: list[tuple[int, int, Path]] = field(default_factory=list)


def existing_archive(master: Path, years: Iterable[int] | None = None) -> ExistingArchive:
    """Keys and row counts of the archive files of ``master`` (of ``years`` only: a row only ever goes to
    its own year's files), read with calamine, values only."""
    from python_calamine import CalamineWorkbook

    wanted = None if years is None else set(years)
    out = ExistingArchive(files=[f for f in _archive_files(master) if wanted is None or f[0] in wanted])
    for _year, _part, path in out.files:
        try:
            wb = CalamineWorkbook.from_path(str(path))
        except Exception as exc:  # noqa: BLE001 - calamine raises several error types
            raise DataError(f"Không đọc được tệp lưu trữ '{path.name}' ({exc}): tệp hỏng? Hãy kiểm tra hoặc đổi tên "
                            f"tệp đó rồi chạy lại. Sổ theo dõi vẫn giữ nguyên.") from exc
        try:
            for name in wb.sheet_names:
                grid = sheet_grid(wb.get_sheet_by_name(name))
                if not grid:
                    continue
                header = [str(v).strip() if v is not None else "" for v in grid[0]]
                if KEY_HEADER not in header:
                    continue
                j = header.index(KEY_HEADER)
                keys = [str(r[j]) for r in grid[1:] if j < len(r) and r[j] not in (None, "")]
                out.keys.update(keys)
                out.rows[(path, name)] = len(keys)
        finally:
            with contextlib.suppress(Exception):
                wb.close()
    return out


# --- writing ----------------------------------------------------------------------------------------------


def _archive_sheet(sheet: Sheet) -> Sheet:
    extra = (Column("extra", EXTRA_HEADER, width=30), Column("archive_key", KEY_HEADER, width=24),
             Column("archived_on", MOVED_HEADER, type="date", width=14))
    return dataclasses.replace(sheet, columns=(*sheet.columns, *extra), table_name=TABLE_NAMES[sheet.key])


def _new_archive(path: Path) -> None:
    """An empty archive workbook: both sheets with headers and an Excel Table each."""
    from openpyxl import Workbook

    from kehoach_xl.io.xlsx_graft import style_owned_sheet

    wb = Workbook()
    wb.remove(wb.active)
    for sheet in (schema.LOG, schema.HISTORY):
        ws = wb.create_sheet(sheet.name)
        s = _archive_sheet(sheet)
        style_owned_sheet(ws, s, [[c.header for c in s.columns]])
        for j, c in enumerate(s.columns, start=1):
            if c.type == "datetime":  # the log's moments show their time, as in the master
                ws.cell(row=2, column=j).number_format = vn.DATETIME_FORMAT
    wb.properties.title = "Lưu trữ nhật ký và lịch sử của sổ theo dõi"
    wb.save(path)


def check_not_open(path: Path, *, stale_hours: float, what: str = "Tệp lưu trữ") -> None:
    """Refuse (nothing changed) when Excel or LibreOffice has ``path`` open."""
    owner = find_owner_file(path, stale_hours=stale_hours)
    if owner is None:
        return
    who = f"người dùng '{owner.user}'" if owner.user else "một người dùng"
    raise MasterOpenInExcelError(
        f"{what} '{path.name}' đang được mở trong {owner.app} bởi {who}. Hãy lưu và đóng tệp rồi chạy lại lệnh "
        f"lưu trữ. Chưa có gì thay đổi: sổ theo dõi và tệp lưu trữ vẫn giữ nguyên. Nếu chắc chắn không ai "
        f"đang mở, hãy xóa tệp '{owner.path.name}' cạnh tệp đó."
    )




def _placement(rows: Sequence[ArchiveRow], existing: ExistingArchive, master: Path
               ) -> dict[Path, dict[str, list[ArchiveRow]]]:
    """Which file and sheet each row goes to: its year's file, the next part when a sheet is full."""
    out: dict[Path, dict[str, list[ArchiveRow]]] = {}
    filled: dict[tuple[Path, str], int] = dict(existing.rows)
    paths: dict[tuple[int, int], Path] = {}
    current: dict[tuple[int, str], tuple[Path, list[ArchiveRow]]] = {}  # (year, sheet) → its file now, its rows
    for r in rows:
        at = current.get((r.year, r.sheet))
        if at is None or filled[(at[0], r.sheet)] >= SHEET_ROW_LIMIT - 1:
            part = 1
            while True:
                path = paths.get((r.year, part)) or paths.setdefault((r.year, part), archive_path(master, r.year, part))
                if filled.get((path, r.sheet), 0) < SHEET_ROW_LIMIT - 1:
                    break
                part += 1
            at = current[(r.year, r.sheet)] = (path, out.setdefault(path, {}).setdefault(r.sheet, []))
        filled[(at[0], r.sheet)] = filled.get((at[0], r.sheet), 0) + 1
        at[1].append(r)
    return out


def write_archive(master: Path, rows: Sequence[ArchiveRow], *, existing: ExistingArchive, stale_hours: float,
                  today: dt.date | None = None) -> dict[Path, int]:
    """Append ``rows`` whose keys the archive lacks; {file: rows written}. Each file is replaced atomically."""
    from kehoach_xl.io.xlsx_patch import patch_xlsx

    today = today or dt.date.today()
    seen = set(existing.keys)
    fresh = []
    for r in rows:
        if r.key not in seen:
            seen.add(r.key)
            fresh.append(r)
    plan = _placement(fresh, existing, master)
    for path in plan:
        check_not_open(path, stale_hours=stale_hours)
    written: dict[Path, int] = {}
    for path, by_sheet in sorted(plan.items()):
        tmp_new = path.with_name(f".{path.name}.tmp-{os.getpid()}-new")
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        step = "tạo tệp lưu trữ"
        try:
            src = path
            if not path.exists():
                _new_archive(tmp_new)
                src = tmp_new
            step = "ghi tệp lưu trữ tạm"
            changes = MasterChanges()
            for sheet, items in by_sheet.items():
                for r in items:
                    changes.append(sheet, [*r.values, r.key, today])
            try:
                patch_xlsx(src, tmp, changes, utf8=True)
            except ValueError as exc:
                raise DataError(f"Không ghi được vào tệp lưu trữ '{path.name}': {exc}. Sổ theo dõi vẫn giữ nguyên.") \
                    from exc
            _check_written(tmp, path, by_sheet, existing)
            fsync_file(tmp)
            fault("archive_tmp_written")
            step = "thay tệp lưu trữ bằng bản mới"
            os.replace(tmp, path)
            fsync_dir(path.parent)
        except PermissionError as exc:
            if getattr(exc, "winerror", None) in (32, 33):
                raise MasterOpenInExcelError(
                    f"Tệp lưu trữ '{path.name}' đang được một chương trình khác (thường là Excel) mở. Hãy đóng tệp "
                    f"rồi chạy lại. Sổ theo dõi vẫn giữ nguyên.") from exc
            raise write_failed(exc, path, step) from exc
        except OSError as exc:
            raise write_failed(exc, path, step) from exc
        finally:
            for t in (tmp, tmp_new):
                with contextlib.suppress(OSError):
                    t.unlink()
        written[path] = sum(len(v) for v in by_sheet.values())
    return written


def _check_written(tmp: Path, final: Path, by_sheet: Mapping[str, list[ArchiveRow]], existing: ExistingArchive) -> None:
    """The new archive file holds every old key and every new one, in its sheets (read back by calamine)."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(tmp))
    try:
        for sheet, items in by_sheet.items():
            grid = sheet_grid(wb.get_sheet_by_name(sheet))
            header = [str(v).strip() if v is not None else "" for v in grid[0]]
            j = header.index(KEY_HEADER)
            keys = [str(r[j]) for r in grid[1:] if j < len(r) and r[j] not in (None, "")]
            want = existing.rows.get((final, sheet), 0) + len(items)
            if len(keys) != want or keys[-len(items):] != [r.key for r in items]:
                raise DataError(f"Tệp lưu trữ tạm của '{final.name}' đọc lại không đúng (trang {sheet}: {len(keys)} "
                                f"dòng, cần {want}). Sổ theo dõi và tệp lưu trữ vẫn giữ nguyên.")
    finally:
        with contextlib.suppress(Exception):
            wb.close()


# --- the master, without the archived rows ---------------------------------------------------------------


def trimmed_copy(master: Path, keep: Mapping[str, Sequence[int]], header_rows: Mapping[str, int],
                 expected: Mapping[str, Sequence[Sequence[Any]]]) -> Path:
    """A private copy of ``master`` whose sheets in ``keep`` hold only those Excel rows, checked.

    ``expected[sheet]``: the kept rows' values as the master held them (raw grid rows); the copy
    must read them back, in order, right under the header, and nothing below them.
    """
    from kehoach_xl.io.xlsx_trim import TrimError, trim_sheets

    copy = master.with_name(f".{master.name}.tmp-{os.getpid()}-archive")
    copy.unlink(missing_ok=True)
    try:
        try:
            trim_sheets(master, copy, keep, header_rows=header_rows)
        except TrimError as exc:
            raise DataError(f"Không thu gọn được sổ theo dõi '{master.name}': {exc}. Chưa có gì thay đổi.") from exc
        except OSError as exc:
            raise write_failed(exc, master, "tạo bản thu gọn") from exc
        _check_trimmed(copy, master.name, header_rows, expected)
    except BaseException:
        copy.unlink(missing_ok=True)
        raise
    return copy


def _same(a: Any, b: Any) -> bool:
    return _canon(a) == _canon(b)


def _check_trimmed(copy: Path, name: str, header_rows: Mapping[str, int],
                   expected: Mapping[str, Sequence[Sequence[Any]]]) -> None:
    import warnings

    import openpyxl
    from python_calamine import CalamineWorkbook

    def fail(what: str) -> DataError:
        return DataError(f"Bản thu gọn của sổ theo dõi '{name}' không đạt bước kiểm tra ({what}). Chưa có gì thay "
                         f"đổi; hãy báo lỗi này cho bộ phận kỹ thuật.")

    try:
        with open(copy, "rb") as fh, warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            openpyxl.load_workbook(fh, read_only=True).close()
    except Exception as exc:  # noqa: BLE001 - any failure to open means the copy must not be used
        raise fail(f"openpyxl không mở được: {exc}") from exc
    wb = CalamineWorkbook.from_path(str(copy))
    try:
        for sheet, rows in expected.items():
            grid = sheet_grid(wb.get_sheet_by_name(sheet))
            body = grid[header_rows.get(sheet, 1):]
            while body and all(v in (None, "") for v in body[-1]):
                body.pop()
            if len(body) != len(rows):
                raise fail(f"trang {sheet} có {len(body)} dòng, cần {len(rows)}")
            for k, (got, want) in enumerate(zip(body, rows, strict=True)):
                width = max(len(got), len(want))
                g = list(got) + [None] * (width - len(got))
                w = list(want) + [None] * (width - len(want))
                if not all(_same(x, y) for x, y in zip(w, g, strict=True)):
                    raise fail(f"dòng {k + header_rows.get(sheet, 1) + 1} của trang {sheet} đọc lại khác")
    finally:
        with contextlib.suppress(Exception):
            wb.close()


def replace_master(master: Path, copy: Path, *, note: str, config: Any, expect: tuple[int, int]) -> Any:
    """Put the trimmed copy in place through the one writer: lock, refuse if the master changed since it
    was read (``expect``), backup, one "archive" log row, verify, fsync, atomic replace.

    The writer's restore path does the same with a backup as its source (``master_write._write``).
    """
    from kehoach_xl.io.master_write import _write
    from kehoach_xl.model.changes import LogEntry

    entry = LogEntry(action="archive", file=master.name, new=note)
    return _write(master, MasterChanges(log=[entry]), action="archive", config=config, user=None,
                  wait_seconds=0, source=copy, expect=expect)
