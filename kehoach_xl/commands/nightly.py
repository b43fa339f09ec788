"""The nightly job (merge → validate → refresh → summary) and its daily scheduler.

A merge that refused a file or found a conflict is "partial": the later steps still run, but
the run is not ok, so ``kehoach-xl nightly`` exits 1 (data problems). If the master is open in Excel,
the job waits and retries ``config.nightly_retries`` times, then gives up for tonight:
the submissions stay in the inbox and the report says so. It never writes over the open file.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kehoach_xl import vn
from kehoach_xl.errors import KehoachError, SetupError
from kehoach_xl.model.config import Config, load_config

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
    merge: dict[str, Any] | None = None
    log_file: str = ""

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
    """Run the whole nightly chain once for the configured master and write a log file."""
    from kehoach_xl.commands.merge import merge
    from kehoach_xl.commands.refresh import refresh
    from kehoach_xl.commands.summary import summary
    from kehoach_xl.commands.validate import validate
    from kehoach_xl.io.write_errors import MasterLockedError, MasterOpenInExcelError

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
        log.info("nightly start: master=%s inbox=%s", master, cfg.inbox_dir)
        blocked = False
        for attempt in range(retries + 1):
            try:
                m = merge(master, cfg.inbox_dir, config=cfg, as_of=as_of, progress=progress)
                rep.merge = m.to_dict()
                n_rej = sum(1 for f in m.files if f.status == "rejected")
                n_part = sum(1 for f in m.files if f.status == "partial")
                # Same rule as `kehoach-xl merge`: a refused or partly merged file, or a conflict, needs a person.
                status = "partial" if (n_rej or n_part or m.conflicts) else "ok"
                rep.steps.append(StepResult("merge", status, f"{m.applied} ô cập nhật từ {len(m.files)} tệp, "
                                                             f"{n_rej} tệp bị trả lại, {n_part} tệp tổng hợp một phần, "
                                                             f"{len(m.conflicts)} xung đột"))
                break
            except (MasterOpenInExcelError, MasterLockedError) as exc:
                log.warning("master busy (attempt %d/%d): %s", attempt + 1, retries + 1, exc)
                if attempt < retries:
                    sleep(wait)
                    continue
                blocked = True
                rep.steps.append(StepResult("merge", "blocked",
                                            f"{exc} Đã thử {retries + 1} lần; các tệp đơn vị vẫn nằm trong hộp thư đến "
                                            "và sẽ được tổng hợp lần chạy sau."))
            except KehoachError as exc:
                log.error("merge failed: %s", exc)
                rep.steps.append(StepResult("merge", "failed", str(exc)))
                break
        if not blocked:
            def _validate() -> str:
                v = validate(master, write=True, config=cfg, as_of=as_of)
                return f"{len(v.errors)} lỗi, {len(v.warnings)} cảnh báo (sheet Kiểm tra)"

            def _refresh() -> str:
                r = refresh(master, as_of=as_of, config=cfg)
                overdue = r.states.get("overdue", 0)
                return f"số liệu đến {vn.date(r.as_of)}: {r.tasks} nhiệm vụ, {overdue} quá hạn, {r.cells_changed} ô thay đổi"

            def _summary() -> str:
                t = summary(master, as_of=as_of, config=cfg).total
                return f"hoàn thành {t.done}/{t.total}, quá hạn {t.overdue}, sắp đến hạn {t.due_soon}"

            steps: tuple[tuple[str, Callable[[], str]], ...] = (
                ("validate", _validate), ("refresh", _refresh), ("summary", _summary),
            )
            for step, run in steps:
                try:
                    rep.steps.append(StepResult(step, "ok", run()))
                except Exception as exc:  # noqa: BLE001 - one failing step must not stop the others
                    log.exception("step %s failed", step)
                    rep.steps.append(StepResult(step, "failed", str(exc)))
        rep.finished = dt.datetime.now().replace(microsecond=0)
        for s in rep.steps:
            log.info("step %-8s %-7s %s", s.step, s.status, s.message)
        log.info("nightly end: ok=%s", rep.ok)
    finally:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(old_level)
    return rep


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
        log.info("scheduled run %d starting", runs)
        try:
            res = job() if job else nightly(config)
            log.info("scheduled run %d finished: %s", runs, getattr(res, "ok", res))
        except Exception:  # noqa: BLE001 - survive a failing run, tomorrow is another night
            log.exception("scheduled run %d failed", runs)

    sched = schedule_lib.Scheduler()
    if interval_seconds:
        sched.every(interval_seconds).seconds.do(run)
        poll_seconds = min(poll_seconds, max(interval_seconds / 10, 0.01))
    else:
        sched.every().day.at(at).do(run)
    log.info("scheduler started: %s", f"every {interval_seconds}s" if interval_seconds else f"daily at {at}")
    try:
        while max_runs is None or runs < max_runs:
            sched.run_pending()
            time.sleep(poll_seconds)
    except KeyboardInterrupt:
        log.info("scheduler stopped by Ctrl-C after %d runs", runs)
    finally:
        sched.clear()
    return runs


def default_log_dir(cfg: Config) -> Path:
    return cfg.resolve(LOG_DIR)
