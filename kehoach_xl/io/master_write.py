"""The one writer every command uses to change the master workbook.

Every write, in this order (see docs/safe-writes.md for the reasoning):

1. take the master's lock file (other runs of this program, any machine);
2. refuse if Excel/LibreOffice has the file open (fresh ``~$name`` owner file);
3. copy the current master into ``.kehoach_backups/`` (old backups are pruned
   only after the write succeeded, so failing writes never push them out);
4. turn ``changes.log`` into rows appended to the log sheet (or one summary row);
5. patch into a temporary file in the master's own folder (a sheet it rewrites comes out in UTF-8,
   also when an older writer left it in ASCII with character references);
6. verify the temporary file (zip, XML, workbook opens, every changed cell reads back);
7. fsync it, ``os.replace`` it onto the master, fsync the folder;
8. release the lock; on any failure remove the temporary file.

A crash at any point leaves either the old master or the new one, never a mix:
the only step that touches the master's name is the atomic ``os.replace``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from kehoach_xl import vn
from kehoach_xl.errors import DataError, SetupError
from kehoach_xl.io import backup as _backup
from kehoach_xl.io._verify import verify_workbook
from kehoach_xl.io.backup import BackupInfo
from kehoach_xl.io.lock import MasterLock, current_user, wait_for_owner_file
from kehoach_xl.io.write_errors import (
    MasterLockedError,
    MasterOpenInExcelError,
    VerifyFailedError,
    WriteFailedError,
    write_failed,
)
from kehoach_xl.model import schema
from kehoach_xl.model.address import col_letters
from kehoach_xl.model.changes import EXCEL_TEXT_MAX, CellValue, LogEntry, MasterChanges, log_rows
from kehoach_xl.model.config import Config, load_config

__all__ = [
    "BackupInfo", "MasterLockedError", "MasterOpenInExcelError", "VerifyFailedError", "WriteFailedError",
    "WriteResult", "list_backups", "restore", "write_master", "FAULT_POINTS",
]

log = logging.getLogger(__name__)

# Named points where KEHOACH_FAULT_POINT=<name> kills (or, with KEHOACH_FAULT_MODE=pause,
# parks) the writing process, so tests can prove a crash there is harmless.
FAULT_POINTS: tuple[str, ...] = (
    "locked", "owner_checked", "backup_copying", "backup_done", "patched",
    "verified", "tmp_synced", "replaced", "dir_synced", "pruned",
)


def _fault(point: str) -> None:
    if os.environ.get("KEHOACH_FAULT_POINT") != point:
        return
    if os.environ.get("KEHOACH_FAULT_MODE") == "pause":
        os.write(2, f"KEHOACH_FAULT {point}\n".encode())  # fd 2 itself: sys.stderr may be redirected
        time.sleep(3600)
    os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
    time.sleep(10)  # the signal is delivered asynchronously; never run past the fault point


@dataclass
class WriteResult:
    path: Path
    backup: Path | None
    cells_written: int
    log_rows: int
    duration: float  # seconds
    rows_appended: int = 0
    changed_parts: list[str] = field(default_factory=list)


# --- log rows -----------------------------------------------------------------------


def _log_columns(src: Path) -> tuple[str, dict[str, int]] | None:
    """The log sheet's actual name and where each log column sits (staff may move columns).

    Only the header row is read (``xlsx_head``): the log grows with every write.
    """
    import zipfile

    from kehoach_xl.io.xlsx_head import read_row
    from kehoach_xl.io.xlsx_package import zip_sheet_map
    from kehoach_xl.model.master import find_sheet_name, match_headers

    with zipfile.ZipFile(src) as zf:
        names = list(zip_sheet_map(zf)[1])
    name = find_sheet_name(names, schema.LOG.name)
    if name is None:
        return None
    header = read_row(src, name, schema.LOG.header_row)
    found, _ = match_headers(schema.LOG, header)
    if not found:  # no header at all: use the layout create_master writes
        found = {c.key: j for j, c in enumerate(schema.LOG.columns, start=1)}
    return name, found


def _with_log(src: Path, changes: MasterChanges, action: str, user: str,
              consume: bool = False) -> tuple[MasterChanges, int]:
    """A copy of ``changes`` whose appends include the log rows (in place of its log entries); the
    caller's object is untouched, unless ``consume``: then its log entries are let go once they are rows."""
    entries = list(changes.log)
    if not entries:
        n_cells = sum(len(v) for v in changes.cells.values())
        n_rows = sum(len(v) for v in changes.appends.values())
        entries = [LogEntry(action=action, new=f"Ghi {n_cells} ô, thêm {n_rows} dòng")]
    full = MasterChanges(
        cells=dict(changes.cells), appends={k: list(v) for k, v in changes.appends.items()},
        clear_from=dict(changes.clear_from),
        append_heights={k: list(v) for k, v in changes.append_heights.items()},
        row_heights={k: dict(v) for k, v in changes.row_heights.items()},
        new_sheets=dict(changes.new_sheets), footers={k: dict(v) for k, v in changes.footers.items()},
    )
    found = _log_columns(src)
    if found is None:
        log.warning("sổ %s không có sheet nhật ký '%s': không ghi dòng nhật ký", src.name, schema.LOG.name)
        return full, 0
    sheet, cols = found
    rows = log_rows(entries, cols, user)
    if consume:
        changes.log.clear()
    full.appends.setdefault(sheet, []).extend(rows)
    return full, len(rows)


# --- durable file operations --------------------------------------------------------




def _tmp_path(master: Path) -> Path:
    return master.with_name(f".{master.name}.tmp-{os.getpid()}")


def _clean_leftovers(master: Path) -> None:
    """Temp files and partial backups of killed runs. Safe only while we hold the lock."""
    prefix = f".{master.name}.tmp-"
    with contextlib.suppress(OSError):
        for e in os.scandir(master.parent):
            if e.name.startswith(prefix) and e.name[len(prefix):].isdigit():
                with contextlib.suppress(OSError):
                    os.unlink(e.path)
    _backup.clean_partials(master)


def _is_sharing_violation(exc: OSError) -> bool:
    return getattr(exc, "winerror", None) in (32, 33)  # Windows: file open in another program


# --- the write --------------------------------------------------------------------------


def _check_unchanged(path: Path, expect: tuple[int, int] | None) -> None:
    """Refuse when the master was saved after the command read it: the patch would land on shifted rows."""
    if expect is None:
        return
    st = os.stat(path)
    if (st.st_mtime_ns, st.st_size) != tuple(expect):
        raise DataError(
            f"Sổ theo dõi '{path.name}' vừa được thay đổi trong lúc chương trình đang xử lý; hãy chạy lại lệnh. "
            f"Sổ theo dõi vẫn giữ nguyên."
        )


def _fit_text(changes: MasterChanges, master_name: str) -> int:
    """Cut every text longer than a cell holds, in place, so the check compares what is written; the
    run log names each cut (the full text of a report stays in the unit's file and its history row)."""
    cut = 0

    def fit(value: CellValue, where: str) -> CellValue:
        nonlocal cut
        if type(value) is str and len(value) > EXCEL_TEXT_MAX:
            cut += 1
            log.warning("Sổ %s, %s: nội dung dài %s ký tự, quá giới hạn %s ký tự của một ô Excel; "
                        "chỉ ghi %s ký tự đầu.", master_name, where, vn.number(len(value)),
                        vn.number(EXCEL_TEXT_MAX), vn.number(EXCEL_TEXT_MAX))
            return value[:EXCEL_TEXT_MAX]
        return value

    for sheet, cells in changes.cells.items():
        for (r, c), v in cells.items():
            if type(v) is str and len(v) > EXCEL_TEXT_MAX:
                cells[(r, c)] = fit(v, f"ô {sheet}!{col_letters(c)}{r}")
    for sheet, rows in (*changes.appends.items(), *changes.new_sheets.items()):
        for i, row in enumerate(rows):
            if any(type(v) is str and len(v) > EXCEL_TEXT_MAX for v in row):
                rows[i] = [fit(v, f"dòng thêm vào trang {sheet}, cột {col_letters(j + 1)}") for j, v in enumerate(row)]
    return cut


def _write(path: Path, changes: MasterChanges, *, action: str, config: Config | None, user: str | None,
           wait_seconds: float, consume: bool = False, source: Path | None = None, expect: tuple[int, int] | None = None,
           protect: Path | None = None) -> WriteResult:
    t0 = time.perf_counter()
    path = Path(path)
    if not path.is_file():
        raise SetupError(f"Không tìm thấy sổ theo dõi: {path}")
    cfg = config or load_config(path)
    if source is None and changes.is_empty() and not changes.log:
        return WriteResult(path=path, backup=None, cells_written=0, log_rows=0,
                           duration=time.perf_counter() - t0)
    src = source or path
    lock = MasterLock(path, stale_after=cfg.lock_stale_minutes * 60)
    lock.acquire(timeout=max(wait_seconds, cfg.lock_timeout))
    tmp = _tmp_path(path)
    step = "kiểm tra tệp đang mở"
    bak: Path | None = None
    replaced = False
    try:
        _fault("locked")
        wait_for_owner_file(path, stale_hours=cfg.owner_file_stale_hours, wait_seconds=wait_seconds)
        _fault("owner_checked")
        step = "kiểm tra sổ theo dõi có bị sửa"
        _check_unchanged(path, expect)
        step = "dọn tệp tạm còn sót"
        _clean_leftovers(path)
        step = "tạo bản sao lưu"
        bak = _backup.make_backup(path, on_chunk=lambda: _fault("backup_copying"), operation=action)
        _fault("backup_done")
        full, n_log = _with_log(src, changes, action, user or current_user(), consume)
        _fit_text(full, path.name)
        step = "ghi tệp tạm"
        from kehoach_xl.io.xlsx_patch import patch_xlsx  # late: reading commands never pay for the patcher

        try:
            result = patch_xlsx(src, tmp, full, utf8=True)  # an old ASCII sheet comes out in UTF-8
        except ValueError as exc:  # xlsx_patch.PatchError: the changes do not fit this workbook
            raise DataError(f"Không ghi được vào sổ theo dõi '{path.name}': {exc}. Sổ theo dõi vẫn giữ nguyên.") from exc
        _fault("patched")
        step = "kiểm tra tệp tạm"
        verify_workbook(tmp, full, result.changed_parts, master_name=path.name,
                        appended_at={sheet: rows[0] for sheet, rows in result.append_rows.items()})
        _fault("verified")
        step = "lưu tệp tạm xuống đĩa"
        _backup.fsync_file(tmp)
        _fault("tmp_synced")
        step = "thay sổ theo dõi bằng bản mới"
        os.replace(tmp, path)
        replaced = True
        _fault("replaced")
        _backup.fsync_dir(path.parent)
        _fault("dir_synced")
        # Pruned only after success, so failing writes can never push good old backups out.
        with contextlib.suppress(OSError):
            _backup.prune_backups(path, cfg.backups_keep, protect=protect or source,
                                  keep_all_days=cfg.backups_keep_all_days,
                                  keep_daily_days=cfg.backups_keep_daily_days)
        _fault("pruned")
    except OSError as exc:
        if _is_sharing_violation(exc):
            raise MasterOpenInExcelError(
                f"Sổ theo dõi '{path.name}' đang được một chương trình khác (thường là Excel) mở. "
                f"Hãy đóng tệp rồi chạy lại. Sổ theo dõi vẫn giữ nguyên."
            ) from exc
        raise write_failed(exc, path, step) from exc
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if bak is not None and not replaced:
            # The master did not change, so this copy of it is redundant (and frees space on a full disk).
            with contextlib.suppress(OSError):
                _backup.discard_backup(path, bak)
        lock.release()
    return WriteResult(
        path=path, backup=bak, cells_written=result.cells_written, log_rows=n_log,
        duration=time.perf_counter() - t0, rows_appended=sum(result.rows_appended.values()),
        changed_parts=list(result.changed_parts),
    )


def write_master(path: Path, changes: MasterChanges, *, action: str, config: Config | None = None,
                 user: str | None = None, wait_seconds: float = 0,
                 expect: tuple[int, int] | None = None, consume: bool = False) -> WriteResult:
    """Apply ``changes`` to the master at ``path`` safely (lock, backup, verify, atomic replace).

    ``action`` names the command for the log sheet ("refresh", "merge" …); ``user`` defaults to
    ``login@host``. ``wait_seconds`` is how long to wait for Excel to close the file (and, at
    least ``config.lock_timeout``, for another run's lock). Nothing to change → nothing is written.
    ``expect`` is ``MasterData.stamp`` of the read the changes were computed from: when the file
    was saved since (staff inserted a row …), the cell addresses may be stale, so nothing is
    written and :class:`DataError` asks to run the command again.
    ``consume``: the caller does not use ``changes`` again, so its log entries are let go as soon as
    they are the log sheet's rows (a merge at 50,000 tasks: a quarter of a million entries, ~37 MiB,
    held through the patch and the check). They stay while the lock is awaited and Excel is asked
    to close the file, so a caller may still try again after those.
    """
    return _write(Path(path), changes, action=action, config=config, user=user, wait_seconds=wait_seconds,
                  expect=expect, consume=consume)


def list_backups(path: Path) -> list[BackupInfo]:
    """Whole backups of the master, newest first."""
    return _backup.list_backups(Path(path))


def _resolve_backup(path: Path, backup: Path | str | None) -> BackupInfo:
    """The manifest's record of the backup to restore; anything the manifest does not list is refused."""
    backups = _backup.list_backups(path)
    if backup is None:
        if not backups:
            raise SetupError(f"Chưa có bản sao lưu nào của '{path.name}' trong thư mục {_backup.BACKUP_DIR}.")
        return backups[0]
    folder = _backup.backup_dir(path)
    chosen = Path(backup)
    if not chosen.is_absolute() and not chosen.exists():
        chosen = folder / chosen
    if not chosen.is_file():
        names = ", ".join(b.path.name for b in backups[:5]) or "không có"
        raise SetupError(f"Không tìm thấy bản sao lưu '{backup}'. Các bản gần nhất: {names}.")
    if chosen.resolve() == path.resolve():
        raise SetupError("Bản sao lưu cần khôi phục không thể là chính sổ theo dõi.")
    # Only the master's own backups: any other workbook (an empty master, a unit's file) would
    # silently replace months of work.
    if chosen.resolve().parent != folder.resolve():
        raise SetupError(
            f"Tệp '{chosen.name}' không nằm trong thư mục sao lưu {folder} của '{path.name}'; "
            f"chỉ khôi phục được từ các bản sao lưu của sổ theo dõi (xem: restore --list)."
        )
    info = next((b for b in backups if b.path.name == chosen.name), None)
    if info is None:
        raise DataError(
            f"Tệp '{chosen.name}' không có trong danh mục sao lưu của '{path.name}' (chương trình không tạo ra "
            f"nó: có thể là tệp ai đó đặt vào thư mục {_backup.BACKUP_DIR}, hoặc sổ của kế hoạch khác đổi tên). "
            f"Không khôi phục; sổ theo dõi vẫn giữ nguyên. Xem các bản hợp lệ: restore --list."
        )
    return info


def _check_is_master(chosen: Path, name: str | None = None) -> None:
    """The backup must read as a master; a corrupt file is a DataError naming it, not a traceback."""
    from kehoach_xl.io.master_read import read_master

    name = name or chosen.name
    try:
        md = read_master(chosen)
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - calamine raises several error types on damaged files
        raise DataError(f"Không đọc được bản sao lưu '{name}': tệp hỏng ({exc}). Sổ theo dõi vẫn giữ nguyên.") \
            from exc
    if not md.tasks.present:
        raise DataError(
            f"Bản sao lưu '{name}' không phải sổ theo dõi (không có sheet “{schema.TASKS.name}”). "
            f"Sổ theo dõi vẫn giữ nguyên."
        )


def restore(path: Path, backup: Path | str | None = None, *, config: Config | None = None,
            user: str | None = None, wait_seconds: float = 0) -> WriteResult:
    """Put a backup back as the master (newest when ``backup`` is None).

    It goes through the same safe path as any write: the current master is backed up
    first (so a restore can be undone), and one "restore" row is added to the log sheet
    of the restored workbook; every other byte of the backup's content is kept.
    """
    path = Path(path)
    info = _resolve_backup(path, backup)
    chosen = info.path
    # Restore from a private copy whose SHA-256 matches the manifest: the file in the shared folder
    # could be swapped between the check and the read.
    copy = path.with_name(f".{path.name}.tmp-{os.getpid()}-restore")
    copy.unlink(missing_ok=True)
    try:
        try:
            sha = _backup.copy_durable(chosen, copy)
        except OSError as exc:
            raise write_failed(exc, path, "đọc bản sao lưu") from exc
        if sha != info.sha256:
            raise DataError(
                f"Bản sao lưu '{chosen.name}' đã bị thay đổi sau khi được tạo (mã SHA-256 không khớp danh mục "
                f"sao lưu). Không khôi phục; sổ theo dõi vẫn giữ nguyên."
            )
        _check_is_master(copy, chosen.name)
        entry = LogEntry(action="restore", file=chosen.name, new=f"Khôi phục từ bản sao lưu {chosen.name}")
        return _write(path, MasterChanges(log=[entry]), action="restore", config=config, user=user,
                      wait_seconds=wait_seconds, source=copy, protect=chosen)
    finally:
        copy.unlink(missing_ok=True)
