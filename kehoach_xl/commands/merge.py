"""``kehoach-xl merge``: read the inbox's submissions, merge them into the master, file each away."""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kehoach_xl import vn
from kehoach_xl.commands._guard import checked_master
from kehoach_xl.errors import SetupError
from kehoach_xl.io import inbox as inbox_io
from kehoach_xl.io.master_read import read_master
from kehoach_xl.io.submission import read_submission
from kehoach_xl.model.config import Config, load_config
from kehoach_xl.model.master import MasterData
from kehoach_xl.model.outcome import Outcome
from kehoach_xl.model.roles import FileStatus, file_status_words
from kehoach_xl.model.submission import Submission, file_problem
from kehoach_xl.reports.problems import unit_error_report
from kehoach_xl.rules.merge import FileReport, MergeReport, compute_merge
from kehoach_xl.vn import parse_period

log = logging.getLogger(__name__)

PROCESSED_DIR = "processed"


REJECTED_DIR = "rejected"


def inbox_files(inbox: Path) -> list[Path]:
    """Every file waiting in the inbox (Excel owner files and hidden files are not submissions; symlinks
    are never followed)."""
    if not inbox.is_dir():
        return []
    return [e.path for e in inbox_io.scan(inbox) if not e.symlink]


def _progress(items: list[Path], enabled: bool | None) -> Any:
    import click

    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return _Null(items)
    return click.progressbar(items, label="Đọc tệp đơn vị", file=sys.stderr, show_pos=True)


class _Null:
    def __init__(self, items: list[Path]) -> None:
        self.items = items

    def __enter__(self) -> list[Path]:
        return self.items

    def __exit__(self, *a: object) -> None:
        return None


def merge(master: Path | str, inbox: Path | str | None = None, *, period: str | None = None, dry_run: bool = False,
          config: Config | None = None, as_of: dt.date | None = None, wait_seconds: float = 0,
          now: dt.datetime | None = None, progress: bool | None = None,
          unit_by_file: dict[str, str] | None = None) -> MergeReport:
    """Merge every submission in ``inbox`` (default: the configured inbox) into ``master``.

    ``period`` applies to copies of the master sent back (unit workbooks carry their own).
    Files move to processed/ or rejected/ only after the master was written successfully;
    if writing fails (e.g. the master is open in Excel) they stay in the inbox.
    """
    from kehoach_xl.io.master_write import write_master

    master = Path(master)
    cfg = config or load_config(master)
    inbox = Path(inbox) if inbox else cfg.inbox_dir
    checked_master(master, inbox=cfg.inbox_dir)  # before the inbox is looked at or a file moved
    if period is not None:
        period = parse_period(period)  # SetupError (exit 2) before any file is read
    _check_inbox(inbox)
    md = read_master(master)
    out = compute_inbox(md, inbox, config=cfg, as_of=as_of, now=now, period=period, progress=progress,
                        unit_by_file=unit_by_file)
    changes, report = out.changes, out.result
    report.dry_run = dry_run
    if dry_run:
        return report
    stamp = md.stamp
    del md, out  # the master's rows are not needed to write: the writer's peak is its own
    if not changes.is_empty():
        # expect: if someone saved the master while the inbox was read, refuse rather than overwrite.
        write_master(master, changes, action="merge", config=cfg, wait_seconds=wait_seconds, expect=stamp,
                     consume=True)
        report.written = True
    file_away(inbox, report)
    return report


def _check_inbox(inbox: Path) -> None:
    if not inbox.is_dir():
        # An empty merge would look like "nothing came in" when the folder is wrong (same as the button).
        raise SetupError(f"Không thấy thư mục nhận báo cáo: {inbox}. Kiểm tra đường dẫn hoặc khóa "
                         "'inbox' trong kehoach.toml.")


LEFT = FileStatus.LEFT
_STATE_ATTR = "inbox_state"


@dataclass
class InboxState:
    """What compute_inbox learnt about the inbox, for file_away: real paths, hashes, the ledger."""

    entries: dict[str, inbox_io.InboxEntry] = field(default_factory=dict)  # by display name
    ledger: Path | None = None


def inbox_state(report: MergeReport) -> InboxState | None:
    return getattr(report, _STATE_ATTR, None)


def _guarded_read(entry: inbox_io.InboxEntry, md: MasterData, *, config: Config, today: dt.date,
                  period: str | None, unit_by_file: dict[str, str] | None,
                  ledger: inbox_io.Ledger) -> tuple[str, Submission | FileReport]:
    """Read one file inside its own guard: whatever happens, the answer is about this file only.

    Returns ("read", Submission), ("left", FileReport) or ("duplicate", FileReport).
    """
    name = entry.display
    limits = config.limits
    try:
        with inbox_io.time_limit(limits.file_timeout_seconds):
            data = inbox_io.read_snapshot(entry, int(limits.max_file_mb * 1024 * 1024))
            try:
                st = os.lstat(entry.path)
            except OSError:
                st = None
            if st is None or st.st_size != entry.size or st.st_mtime != entry.mtime:
                return LEFT, _left(name, "file_still_growing", "Tệp đang thay đổi trong lúc đọc (có thể đang được chép "
                                   "vào); để lại trong hộp thư đến, sẽ tổng hợp ở lần chạy sau.")
            seen = ledger.get(entry.sha256)
            if seen is not None:
                when = seen.get("at", "")
                try:
                    when_text = vn.datetime(dt.datetime.fromisoformat(when))
                except (TypeError, ValueError):
                    when_text = "trước đây"
                msg = (f"Tệp có nội dung giống hệt tệp “{seen.get('file', '')}” đã tổng hợp lúc {when_text}; "
                       "không thay đổi gì trong sổ theo dõi.")
                return "duplicate", FileReport(file=name, unit=str(seen.get("unit", "")), period=str(seen.get("period", "")),
                                               kind="duplicate", status="processed",
                                               problems=[file_problem("duplicate_content", name, msg, severity="warning")])
            sub = read_submission(entry.path, md, config=config, today=today, period=period, unit_by_file=unit_by_file,
                                  data=data, name=name)
    except (KeyboardInterrupt, SystemExit):
        raise
    except inbox_io.FileTimeout:
        log.warning("tệp %s: từ chối, đọc quá %s giây", entry.original_for_log(),
                    limits.file_timeout_seconds)
        sub = _refused(entry, "file_timeout", f"Đọc tệp mất quá {vn.number(limits.file_timeout_seconds, 0)} giây nên "
                       "đã dừng; tệp có thể quá lớn hoặc được tạo ra để làm treo chương trình. Hãy lưu lại bằng Excel, "
                       "xóa dữ liệu thừa rồi gửi lại.")
    except FileNotFoundError:
        return LEFT, _left(name, "file_gone", "Tệp đã bị xóa hoặc chuyển đi trong lúc tổng hợp; không xử lý.")
    except BaseException as exc:  # noqa: BLE001 - one hostile file must never stop the others
        log.error("tệp %s: từ chối sau lỗi %s: %s", entry.original_for_log(), type(exc).__name__,
                  str(exc)[:200], exc_info=not isinstance(exc, (RecursionError, MemoryError)))
        sub = _refused(entry, "file_unreadable", "Không đọc được tệp (tệp hỏng hoặc có cấu trúc bất thường: "
                       f"{type(exc).__name__}). Hãy mở tệp bằng Excel, lưu lại dạng .xlsx rồi gửi lại.")
    return "read", sub


def _refused(entry: inbox_io.InboxEntry, slug: str, message: str) -> Submission:
    return Submission(file=entry.path.with_name(entry.display), rejected=True,
                      problems=[file_problem(slug, entry.display, message)])


def _left(name: str, slug: str, message: str) -> FileReport:
    return FileReport(file=name, status=LEFT, problems=[file_problem(slug, name, message, severity="warning")])


def compute_inbox(md: MasterData, inbox: Path, *, config: Config, as_of: dt.date | None = None,
                  now: dt.datetime | None = None, period: str | None = None, progress: bool | None = None,
                  unit_by_file: dict[str, str] | None = None) -> Outcome:
    """Read every submission waiting in ``inbox`` against ``md`` and compute the merge (nothing is written).

    Each file is read inside its own guard (any exception or a time-out refuses that file only).
    Files modified in the last ``inbox_settle_seconds``, still growing, or symlinks are left in the
    inbox and reported; a file whose content was already applied is reported as a duplicate.
    """
    _check_inbox(inbox)
    today = as_of or dt.date.today()
    state = InboxState(ledger=inbox_io.ledger_path(md.path if str(md.path) not in ("", ".") else None, inbox))
    ledger = inbox_io.Ledger(state.ledger)
    settle = inbox_io.settle_seconds(config.limits.inbox_settle_seconds)
    entries = inbox_io.scan(inbox)
    subs: list[Submission] = []
    extra: list[FileReport] = []
    ready: list[inbox_io.InboxEntry] = []
    for e in entries:
        state.entries[e.display] = e
        if e.symlink:
            extra.append(_left(e.display, "symlink_not_followed", "Đây là lối tắt (liên kết tượng trưng) tới tệp khác, "
                               "không phải tệp báo cáo; chương trình không mở tệp qua lối tắt. Để nguyên trong hộp thư "
                               "đến; hãy gửi chính tệp báo cáo."))
        elif abs(time.time() - e.mtime) < settle:
            extra.append(_left(e.display, "file_too_recent", f"Tệp vừa được sửa hoặc chép vào (chưa đủ "
                               f"{vn.integer(settle)} giây), có thể chưa chép xong; để lại, sẽ tổng hợp ở lần chạy sau."))
        else:
            ready.append(e)
    with _progress(ready, progress) as bar:
        for e in bar:
            kind, res = _guarded_read(e, md, config=config, today=today, period=period, unit_by_file=unit_by_file,
                                      ledger=ledger)
            if isinstance(res, Submission):
                subs.append(res)
            else:
                extra.append(res)
    out = compute_merge(md, subs, as_of=now, config=config)
    report: MergeReport = out.result
    report.files = sorted([*report.files, *extra], key=lambda f: f.file)
    setattr(report, _STATE_ATTR, state)
    for f in report.files:
        log.info("tệp %s: %s", state.entries[f.file].original_for_log() if f.file in state.entries else f.file,
                 file_status_words(f.status))
    return out


def file_away(inbox: Path, report: MergeReport) -> None:
    """Move each merged file to processed/ or rejected/, with a Vietnamese report beside the ones with problems.

    Called only after the master (file or live book) holds the changes, so a failed
    write leaves the submissions in the inbox to be merged again. Files are filed under a safe,
    short, unique name; the original name stays in the report and the log. A file whose content
    changed since it was read (a re-send arriving during the merge) is left for the next run;
    the content hashes of files filed as applied are recorded so a re-send of the same bytes
    is a duplicate.
    """
    state = inbox_state(report)
    ledger = inbox_io.Ledger(state.ledger) if state and state.ledger else None
    stamp = dt.datetime.now().replace(microsecond=0).isoformat()
    for f in report.files:
        if f.status == LEFT:
            continue
        entry = state.entries.get(f.file) if state else None
        try:
            _file_one(inbox, report, f, entry, ledger, stamp)
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:  # noqa: BLE001 - one file that cannot be filed does not stop the others
            log.error("tệp %s: không chuyển vào thư mục lưu được: %s", entry.original_for_log() if entry else f.file, exc)
            f.problems.append(file_problem("file_not_filed", f.file, "Không chuyển được tệp sang thư mục lưu "
                                           f"({type(exc).__name__}); tệp vẫn nằm trong hộp thư đến.", severity="warning"))
    if ledger is not None:
        try:
            ledger.save()
        except OSError as exc:
            log.error("không ghi được danh sách tệp đã tổng hợp vào %s: %s", ledger.path, exc)


def _file_one(inbox: Path, report: MergeReport, f: FileReport, entry: inbox_io.InboxEntry | None,
              ledger: inbox_io.Ledger | None, stamp: str) -> None:
    src = entry.path if entry else inbox / f.file
    if not os.path.lexists(src):
        return
    if entry is not None and entry.sha256:
        now_sha = inbox_io.file_sha256(src)
        if now_sha != entry.sha256:
            log.warning("tệp %s: bị thay trong lúc tổng hợp; để lại cho lượt sau", entry.original_for_log())
            f.problems.append(file_problem("file_replaced", f.file, "Tệp đã được thay bằng bản khác trong lúc tổng hợp: "
                                           "bản vừa đọc đã được xử lý, bản mới để lại trong hộp thư đến và sẽ tổng hợp "
                                           "ở lần chạy sau.", severity="warning"))
            f.moved_to = ""
            return
    folder = inbox / (REJECTED_DIR if f.status == "rejected" else PROCESSED_DIR)
    folder.mkdir(exist_ok=True)
    dest = inbox_io.unique_path(folder / inbox_io.filing_name(f.file))
    shutil.move(os.fspath(src), dest)
    f.moved_to = str(dest)
    log.info("tệp %s: %s → %s", entry.original_for_log() if entry else f.file, file_status_words(f.status), dest)
    if ledger is not None and entry is not None and entry.sha256 and f.status != "rejected" and f.kind != "duplicate":
        ledger.add(entry.sha256, file=f.file, unit=f.unit, period=f.period, at=stamp)
    mine = any(c for c in report.conflicts if any(v["file"] == f.file for v in c.values))
    if f.status != "processed" or mine or f.kind == "duplicate":
        text = unit_error_report(f.problems, file=f.file, unit=f.unit, period=f.period, status=f.status,
                                 conflicts=report.conflicts)
        if entry is not None and (not entry.name_is_clean or dest.name != f.file):
            text += (f"\nTên tệp gốc: {entry.original if entry.name_is_clean else entry.original_for_log()}\n"
                     f"Lưu trong thư mục “{folder.name}” với tên: {dest.name}\n")
        dest.with_name(dest.name + ".bao_cao_loi.txt").write_text(text, encoding="utf-8")
