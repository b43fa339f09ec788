"""``kehoach-xl merge``: read the inbox's submissions, merge them into the master, file each away."""

from __future__ import annotations

import datetime as dt
import shutil
import sys
from pathlib import Path
from typing import Any

from kehoach_xl.errors import SetupError
from kehoach_xl.io.master_read import read_master
from kehoach_xl.io.submission import read_submission
from kehoach_xl.model.config import Config, load_config
from kehoach_xl.model.master import MasterData
from kehoach_xl.model.outcome import Outcome
from kehoach_xl.rules.merge import MergeReport, compute_merge, problem_report_text
from kehoach_xl.vn import parse_period

PROCESSED_DIR = "processed"


REJECTED_DIR = "rejected"


def inbox_files(inbox: Path) -> list[Path]:
    """Every file waiting in the inbox (Excel owner files and hidden files are not submissions)."""
    if not inbox.is_dir():
        return []
    return sorted(p for p in inbox.iterdir() if p.is_file() and not p.name.startswith(("~$", ".", ".~lock"))
                  and not p.name.endswith(".txt"))


def _unique(dest: Path) -> Path:
    if not dest.exists():
        return dest
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    n = 1
    while True:
        cand = dest.with_name(f"{dest.stem}.{stamp}-{n}{dest.suffix}")
        if not cand.exists():
            return cand
        n += 1


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
    if not changes.is_empty():
        # expect: if someone saved the master while the inbox was read, refuse rather than overwrite.
        write_master(master, changes, action="merge", config=cfg, wait_seconds=wait_seconds, expect=md.stamp)
        report.written = True
    file_away(inbox, report)
    return report


def _check_inbox(inbox: Path) -> None:
    if not inbox.is_dir():
        # An empty merge would look like "nothing came in" when the folder is wrong (same as the button).
        raise SetupError(f"Không thấy thư mục nhận báo cáo: {inbox}. Kiểm tra đường dẫn hoặc khóa "
                         "'inbox' trong kehoach.toml.")


def compute_inbox(md: MasterData, inbox: Path, *, config: Config, as_of: dt.date | None = None,
                  now: dt.datetime | None = None, period: str | None = None, progress: bool | None = None,
                  unit_by_file: dict[str, str] | None = None) -> Outcome:
    """Read every submission waiting in ``inbox`` against ``md`` and compute the merge (nothing is written)."""
    _check_inbox(inbox)
    today = as_of or dt.date.today()
    paths = inbox_files(inbox)
    subs = []
    with _progress(paths, progress) as bar:
        for p in bar:
            subs.append(read_submission(p, md, config=config, today=today, period=period, unit_by_file=unit_by_file))
    return compute_merge(md, subs, as_of=now, config=config)


def file_away(inbox: Path, report: MergeReport) -> None:
    """Move each merged file to processed/ or rejected/, with a Vietnamese report beside the ones with problems.

    Called only after the master (file or live book) holds the changes, so a failed
    write leaves the submissions in the inbox to be merged again.
    """
    for f in report.files:
        src = inbox / f.file
        if not src.exists():
            continue
        folder = inbox / (REJECTED_DIR if f.status == "rejected" else PROCESSED_DIR)
        folder.mkdir(exist_ok=True)
        dest = _unique(folder / f.file)
        shutil.move(str(src), dest)
        f.moved_to = str(dest)
        if f.status != "processed" or any(c for c in report.conflicts if any(v["file"] == f.file for v in c.values)):
            dest.with_name(dest.name + ".bao_cao_loi.txt").write_text(
                problem_report_text(f, report.conflicts), encoding="utf-8")
