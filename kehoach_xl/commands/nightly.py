"""The nightly job (merge → validate → refresh → summary) and its daily scheduler.

A merge that refused a file or found a conflict is "partial": the later steps still run, but
the run is not ok, so ``kehoach-xl nightly`` exits 1 (data problems). If the master is open in Excel,
the job waits and retries ``config.nightly_retries`` times, then gives up for tonight:
the submissions stay in the inbox and the report says so. It never writes over the open file.

The four steps share one read and one write (one backup a night, none on a night with nothing
new); a step that raises leaves the master and the inbox as they were.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kehoach_xl import vn
from kehoach_xl.errors import DataError, KehoachError, SetupError
from kehoach_xl.io.write_errors import MasterLockedError, MasterOpenInExcelError
from kehoach_xl.model.config import Config, load_config
from kehoach_xl.model.roles import FileStatus, file_status_words

log = logging.getLogger(__name__)

LOG_DIR = "nhat_ky_chay_dem"


@dataclass
class StepResult:
    step: str
    status: str  # ok | partial (data problems) | failed | blocked
    message: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"step": self.step, "status": self.status, "message": self.message}


@dataclass
class NightlyReport:
    master: str
    started: dt.datetime
    finished: dt.datetime | None = None
    steps: list[StepResult] = field(default_factory=list)
    # The merge's own report (rules.merge.MergeReport), shown as a dict only when asked: at 50,000
    # tasks its quarter of a million changes as dicts were ~67 MiB, held through the later steps and the write.
    merge_result: Any = None
    log_file: str = ""

    @property
    def merge(self) -> dict[str, Any] | None:
        """The merge step's report as plain data (files, what each changed, conflicts), or None."""
        return None if self.merge_result is None else self.merge_result.to_dict()

    @property
    def ok(self) -> bool:
        return all(s.status == "ok" for s in self.steps)

    def to_dict(self) -> dict[str, Any]:
        return {"master": self.master, "started": self.started.isoformat(),
                "finished": self.finished.isoformat() if self.finished else None, "ok": self.ok,
                "steps": [s.to_dict() for s in self.steps], "merge": self.merge, "log_file": self.log_file}


def _resolve(config_path_or_master: Path | str | None) -> tuple[Path, Config]:
    p = Path(config_path_or_master) if config_path_or_master else Path.cwd()
    if p.suffix.lower() in (".xlsx", ".xlsm"):
        return p, load_config(p)
    cfg = load_config(p)
    if not cfg.master:
        raise SetupError("Cấu hình chưa có khóa 'master' (tên sổ theo dõi cho lệnh nightly).")
    return cfg.resolve(cfg.master), cfg


def nightly(config_path_or_master: Path | str | None = None, *, wait_seconds: float | None = None,
            as_of: dt.date | None = None, retries: int | None = None, progress: bool | None = None,
            sleep: Callable[[float], None] = time.sleep) -> NightlyReport:
    """Run the whole nightly chain once for the configured master and write a log file.

    One read, one write: merge, validation (with its problems sheet), refresh and summary are
    computed in memory, each on the data as the step before leaves it, and written together
    by one ``write_master`` (one lock, one backup, one verification, log rows for every step).
    A night with nothing new writes nothing. The inbox is filed away only after the write.
    """

    master, cfg = _resolve(config_path_or_master)
    if not master.is_file():
        raise SetupError(f"Không tìm thấy sổ theo dõi {master} (khóa 'master' trong cấu hình).")
    retries = cfg.nightly_retries if retries is None else retries
    wait = cfg.nightly_retry_wait if wait_seconds is None else wait_seconds
    rep = NightlyReport(master=str(master), started=dt.datetime.now().replace(microsecond=0))
    logdir = cfg.resolve(LOG_DIR)
    logdir.mkdir(parents=True, exist_ok=True)
    log_file = logdir / f"nightly-{rep.started:%Y%m%d-%H%M%S}.log"
    rep.log_file = str(log_file)
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("kehoach_xl")
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    try:
        log.info("bắt đầu lượt chạy hằng đêm: sổ theo dõi %s, thư mục nhận %s", master, cfg.inbox_dir)
        for attempt in range(retries + 1):
            rep.steps, rep.merge_result = [], None
            try:
                _one_night(master, cfg, rep, as_of=as_of, progress=progress)
                break
            except (MasterOpenInExcelError, MasterLockedError) as exc:
                log.warning("sổ theo dõi đang bận (lần thử %d/%d): %s", attempt + 1, retries + 1, exc)
                if attempt < retries:
                    sleep(wait)
                    continue
                rep.steps = [StepResult("merge", "blocked",
                                        f"{exc} Đã thử {retries + 1} lần; các tệp đơn vị vẫn nằm trong hộp thư đến "
                                        "và sẽ được tổng hợp lần chạy sau.")]
        rep.finished = dt.datetime.now().replace(microsecond=0)
        for s in rep.steps:
            log.info("bước %-8s %-7s %s", s.step, s.status, s.message)
        log.info("kết thúc lượt chạy hằng đêm: %s", "tốt" if rep.ok else "có lỗi")
    finally:
        _log_files(rep, cfg)
        root.removeHandler(handler)
        handler.close()
        root.setLevel(old_level)
    return rep


def _log_files(rep: NightlyReport, cfg: Config) -> None:
    """One line per inbox file saying what became of it, whatever step failed (or if none ran)."""
    try:
        merged = rep.merge
        if merged is not None:
            for f in merged.get("files", []):
                where = f"chuyển tới {f['moved_to']}" if f.get("moved_to") else "để lại trong thư mục nhận"
                first = next((p["message"] for p in f.get("problems", [])), "")
                log.info("tệp %s: đã đọc, kết quả %s; %s%s", ascii(f["file"]) if not f["file"].isprintable() else f["file"],
                         file_status_words(f["status"]), where, f" ({first})" if first else "")
            return
        from kehoach_xl.commands.merge import inbox_files

        for p in inbox_files(cfg.inbox_dir):
            log.info("tệp %s: chưa đọc (bước tổng hợp không chạy), để lại trong thư mục nhận", ascii(p.name))
    except Exception:  # noqa: BLE001 - the log must never be what breaks the night
        log.exception("không liệt kê được các tệp trong thư mục nhận")


def _one_night(master: Path, cfg: Config, rep: NightlyReport, *, as_of: dt.date | None,
               progress: bool | None) -> None:
    """Read once, compute every step in memory, write once, then file the inbox away.

    A step that raises is reported "failed" and the night writes nothing (the master and the
    inbox stay as they were). The master busy in Excel raises, for :func:`nightly` to retry.
    """
    try:
        _night(master, cfg, rep, as_of=as_of, progress=progress)
    finally:
        gc.unfreeze()  # what the night froze is collectable again (a scheduler runs night after night)


def _night(master: Path, cfg: Config, rep: NightlyReport, *, as_of: dt.date | None,
           progress: bool | None) -> None:
    from kehoach_xl.commands.merge import compute_inbox, file_away
    from kehoach_xl.commands.validate import validation_report
    from kehoach_xl.io.master_read import read_master_and
    from kehoach_xl.io.master_write import write_master
    from kehoach_xl.model import schema
    from kehoach_xl.model.apply import apply_changes, changes_anything, combine, follow_changes, held_in_rows
    from kehoach_xl.model.changes import MasterChanges
    from kehoach_xl.model.master import MasterData, find_sheet_name, master_from_grids, summary_sheet_is_ours
    from kehoach_xl.reports.summary import SHEET, summary_changes, summary_of
    from kehoach_xl.rules.refresh import compute_refresh
    from kehoach_xl.rules.validate import compute_problems_sheet

    if cfg.mail.imap_host:
        _fetch_step(master, cfg, rep)  # replies by mail join the inbox before it is read
    below: dict[str, Any] = {}
    extra = [schema.PROBLEMS_SHEET_NAME, SHEET]
    md, grids = read_master_and(master, extra, below=below)
    # The steps follow the sheets read into rows on those rows: their grids go (see follow_changes).
    last_used, grids = held_in_rows(md, grids)
    # The read master is a few hundred thousand objects that live all night: the cycle collector's
    # full passes would scan them again and again for nothing (their memory is still freed by
    # reference counting; ``nightly`` unfreezes them at the end).
    gc.freeze()
    stamp = md.stamp
    day = as_of or dt.date.today()
    parts: dict[str, MasterChanges] = {}
    merge_report = None
    failed: list[str] = []

    def advance(step: str, changes: MasterChanges) -> None:
        """Keep ``changes`` and move the data on to what they leave."""
        nonlocal md, grids
        if changes.is_empty():
            return
        parts[step] = changes
        grids = apply_changes(grids, changes)  # the sheets kept as grids (summary, problems list)
        md = follow_changes(md, changes, last_used) or read_again()
        gc.freeze()  # the step's data lives on as the next step's input

    def read_again() -> MasterData:
        """The data as the night's changes so far leave it, from the sheets read again: for a change
        only the grids can follow (a sheet added to an older master, say). Rare; the file is unchanged
        until the write, which refuses it if it was saved meanwhile."""
        nonlocal last_used
        again = read_master_and(master, extra, below={})[1]
        for step, ch in parts.items():  # in the order the steps ran; validation changes no data
            if step != "validate":
                again = apply_changes(again, ch)
        data = master_from_grids(again, master, stamp)
        last_used = held_in_rows(data, again)[0]
        return data

    def run(step: str, compute: Callable[[], str]) -> None:
        try:
            rep.steps.append(StepResult(step, "ok", compute()))
        except Exception as exc:  # noqa: BLE001 - reported; the night then writes nothing
            log.exception("bước %s lỗi", step)
            failed.append(step)
            rep.steps.append(StepResult(step, "failed", str(exc)))

    # merge
    try:
        out = compute_inbox(md, cfg.inbox_dir, config=cfg, as_of=as_of, progress=progress)
        merge_report = rep.merge_result = out.result
        files = merge_report.files
        n_rej = sum(1 for f in files if f.status == "rejected")
        n_part = sum(1 for f in files if f.status == "partial")
        # Same rule as `kehoach-xl merge`: a refused or partly merged file, or a conflict, needs a person.
        status = "partial" if (n_rej or n_part or merge_report.conflicts) else "ok"
        n_left = sum(1 for f in files if f.status == FileStatus.LEFT)
        rep.steps.append(StepResult("merge", status, f"{merge_report.applied} ô cập nhật từ {len(files) - n_left} tệp, "
                                                     f"{n_rej} tệp bị trả lại, {n_part} tệp tổng hợp một phần, "
                                                     f"{len(merge_report.conflicts)} xung đột"
                                                     + (f", {n_left} tệp để lại cho lần chạy sau" if n_left else "")))
        advance("merge", out.changes)
    except KehoachError as exc:
        log.error("bước tổng hợp lỗi: %s", exc)
        rep.steps.append(StepResult("merge", "failed", str(exc)))

    problems_cell: list[tuple[str, int, int]] = []

    def _validate() -> str:
        v = validation_report(md, below, as_of=as_of, config=cfg)
        ch = compute_problems_sheet(md, v)
        problems_cell.append((find_sheet_name(md.sheet_names, schema.PROBLEMS_SHEET_NAME) or "", 2, 1))
        parts["validate"] = ch  # the data the later steps read does not change
        return f"{len(v.errors)} lỗi, {len(v.warnings)} cảnh báo (sheet Kiểm tra)"

    summary_name = find_sheet_name(grids, SHEET)
    summary_ours = summary_name is not None and summary_sheet_is_ours(grids[summary_name])

    def _refresh() -> str:
        if not md.tasks.present:
            raise DataError(f"Sổ theo dõi “{master.name}” không có sheet “{schema.TASKS.name}”: "
                            "không có gì để cập nhật.")
        # The summary step writes the whole summary sheet (its as-of line too): one writer per cell.
        out = compute_refresh(md, as_of=day, config=cfg,
                              summary_grid=None if summary_ours else (grids[summary_name] if summary_name else None))
        advance("refresh", out.changes)
        f = out.figures
        overdue = f["states"].get("overdue", 0)
        return f"số liệu đến {vn.date(day)}: {f['tasks']} nhiệm vụ, {overdue} quá hạn, {f['cells_changed']} ô thay đổi"

    def _summary() -> str:
        if md.tasks.missing:
            raise DataError(f"Sheet “{schema.TASKS.name}” thiếu cột: {', '.join(md.tasks.missing)}.")
        s = summary_of(md, as_of, config=cfg)
        if summary_ours:
            ch = summary_changes(s)
            if changes_anything(grids, ch):
                advance("summary", ch)
        t = s.total
        return f"hoàn thành {t.done}/{t.total}, quá hạn {t.overdue}, sắp đến hạn {t.due_soon}"

    grids_after_merge = grids  # the summary and problems sheets only: the rows' grids went after the read
    for step, compute in (("validate", _validate), ("refresh", _refresh), ("summary", _summary)):
        run(step, compute)

    if failed:
        log.error("đêm nay không ghi gì: bước %s lỗi; sổ theo dõi và thư mục nhận giữ nguyên",
                  ", ".join(failed))
        for s in rep.steps:
            if s.step == "merge" and s.status != "failed" and merge_report is not None and merge_report.files:
                s.status = "failed"
                s.message += (f"; chưa ghi vào sổ theo dõi vì bước {', '.join(failed)} lỗi, "
                              "các tệp đơn vị vẫn nằm trong hộp thư đến")
        return
    # The problems sheet's "checked at" time alone is no reason to write; with anything else it is fresh.
    validate_ch = parts.pop("validate", None)
    if validate_ch is not None and (parts or changes_anything(grids_after_merge, validate_ch, ignore=problems_cell)):
        parts = {"merge": parts.get("merge"), "validate": validate_ch, **parts}
    changes = combine((ch for ch in parts.values() if ch is not None), consume=True)
    # The steps' data is not needed to write (at 50,000 tasks, hundreds of MiB): the writer's peak is
    # its own. ``combine`` took the steps' cells and rows over, so of ``parts`` only which steps wrote is kept.
    md = grids = grids_after_merge = out = validate_ch = None  # noqa: F841
    below.clear()
    wrote = {k: ch is not None for k, ch in parts.items()}
    parts.clear()  # else the steps' log lists would outlive the write's use of them (consume)
    if not changes.is_empty() or changes.log:
        try:
            res = write_master(master, changes, action="nightly", config=cfg, expect=stamp, consume=True)
        except (MasterOpenInExcelError, MasterLockedError):
            raise  # nightly() waits and tries again
        except KehoachError as exc:
            log.error("ghi sổ theo dõi không thành: %s", exc)
            for s in rep.steps:
                if s.step in wrote and s.status != "failed":
                    s.status = "failed"
                    s.message += f"; không ghi được: {exc}"
            return
        log.info("đã ghi %d ô, %d dòng nhật ký (bản sao lưu %s)", res.cells_written, res.log_rows, res.backup)
        if merge_report is not None and wrote.get("merge"):
            merge_report.written = True
    else:
        log.info("đêm nay không có gì mới: sổ theo dõi giữ nguyên")
    if merge_report is not None:
        file_away(cfg.inbox_dir, merge_report)
    _archive_step(master, cfg, rep, day)
    if cfg.mail.imap_host and cfg.mail.replies:
        _reply_step(master, cfg, rep, merge_report)
    if cfg.mail.reminder_days_before:
        _reminder_step(master, cfg, rep, day)


def _archive_step(master: Path, cfg: Config, rep: NightlyReport, day: dt.date) -> None:
    """On ``[archive] nightly_day`` of the month, old log and history rows move to the yearly archive
    workbook (docs/archive.md): its own write, after the night's, so the night's work is never at stake."""
    from kehoach_xl.commands.archive import nightly_archive

    try:
        archived = nightly_archive(master, as_of=day, config=cfg)
    except KehoachError as exc:  # the night's work is written; the archive waits for the next run
        log.warning("chưa lưu trữ được nhật ký và lịch sử cũ: %s", exc)
        rep.steps.append(StepResult("archive", "failed", str(exc)))
        return
    if archived is not None:
        log.info("%s", archived.message())
        rep.steps.append(StepResult("archive", "ok", archived.message()))


def _fetch_step(master: Path, cfg: Config, rep: NightlyReport) -> None:
    from kehoach_xl.commands.fetch import fetch

    try:
        res = fetch(master, config=cfg)
    except Exception as exc:  # noqa: BLE001 - no mail tonight is no reason to skip the merge of what is here
        log.error("nhận thư không thành: %s", exc, exc_info=not isinstance(exc, KehoachError))
        rep.steps.append(StepResult("fetch", "failed", str(exc)))
        return
    unknown = len(res.unknown)
    msg = (f"{len(res.messages)} thư, {len(res.saved)} tệp mới"
           + (f", {unknown} thư của người gửi không có trong sheet Đơn vị (để riêng, không tổng hợp)" if unknown else "")
           + (f"; {res.interrupted}" if res.interrupted else ""))
    rep.steps.append(StepResult("fetch", "partial" if unknown or res.interrupted else "ok", msg))


def _reply_step(master: Path, cfg: Config, rep: NightlyReport, merge_report: Any) -> None:
    from kehoach_xl.commands.fetch import answer

    try:
        res = answer(master, merge_report, config=cfg)
    except Exception as exc:  # noqa: BLE001 - the master is written; the answers wait for the next night
        log.error("gửi thư trả lời không thành: %s", exc)
        rep.steps.append(StepResult("reply", "failed", str(exc)))
        return
    if res.sent or res.error or res.waiting:
        rep.steps.append(StepResult("reply", "failed" if res.error else "ok",
                                    res.error or f"đã trả lời {len(res.sent)} thư"
                                    + (f", {len(res.waiting)} thư chờ lần tổng hợp sau" if res.waiting else "")))


def _reminder_step(master: Path, cfg: Config, rep: NightlyReport, day: dt.date) -> None:
    """On the configured days before the reporting day, each unit with something outstanding gets its reminder (once a day)."""
    from kehoach_xl.commands.briefing import briefing, reminders_due

    period = reminders_due(day, cfg)
    if period is None:
        return
    out = cfg.reports_dir / period
    marker = out / f".nhac_viec_da_gui_{day:%Y%m%d}"
    if marker.exists():
        return
    try:
        res = briefing(master, period=period, out=out, as_of=day, send_reminders=True)
    except KehoachError as exc:
        log.error("gửi thư nhắc không thành: %s", exc)
        rep.steps.append(StepResult("reminders", "failed", str(exc)))
        return
    marker.write_text(", ".join(r.unit for r in res.reminders if r.to), encoding="utf-8")
    rep.steps.append(StepResult("reminders", "ok", f"đã gửi {len(res.sent)} thư nhắc việc"))


def schedule(config: Path | str | None = None, *, at: str | None = None, interval_seconds: float | None = None,
             max_runs: int | None = None, poll_seconds: float = 30.0,
             job: Callable[[], Any] | None = None) -> int:
    """Run ``nightly`` every day at ``at`` (default: config nightly_time) until Ctrl-C.

    ``interval_seconds``/``max_runs``/``job`` exist for tests and trial runs. A failing run is
    logged and the loop goes on. Returns the number of runs started.
    """
    import schedule as schedule_lib

    _, cfg = _resolve(config)
    at = at or cfg.nightly_time
    runs = 0

    def run() -> None:
        nonlocal runs
        runs += 1
        log.info("lượt chạy theo lịch thứ %d bắt đầu", runs)
        try:
            res = job() if job else nightly(config)
            log.info("lượt chạy theo lịch thứ %d xong: %s", runs, getattr(res, "ok", res))
        except Exception:  # noqa: BLE001 - survive a failing run, tomorrow is another night
            log.exception("lượt chạy theo lịch thứ %d lỗi", runs)

    sched = schedule_lib.Scheduler()
    if interval_seconds:
        sched.every(interval_seconds).seconds.do(run)
        poll_seconds = min(poll_seconds, max(interval_seconds / 10, 0.01))
    else:
        sched.every().day.at(at).do(run)
    log.info("đã bật lịch chạy: %s", f"mỗi {vn.number(interval_seconds, None)} giây" if interval_seconds else f"hằng ngày lúc {at}")
    try:
        while max_runs is None or runs < max_runs:
            sched.run_pending()
            time.sleep(poll_seconds)
    except KeyboardInterrupt:
        log.info("đã dừng lịch chạy (Ctrl-C) sau %d lượt", runs)
    finally:
        sched.clear()
    return runs
