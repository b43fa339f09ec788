"""Which log and history rows leave the master for its archive workbook (pure).

The log sheet ("Nhật ký") gains one row per changed cell and the history sheet ("Lịch sử") one row
per reported part and period; left alone, the log reaches Excel's 1,048,576-row limit within a
year at 50,000 tasks and every command that reads these sheets slows down. ``compute_archive``
decides, row by row, what stays:

Log: a row stays when its time ("Thời gian") falls within the last ``log_keep_months`` months
before ``as_of`` (default 3). A row whose time cannot be read (empty, typed text) stays: a row
nobody can date is never guessed old.

History: a row stays when its period ("Kỳ báo cáo") is one of the last ``history_keep_periods``
periods up to ``as_of``'s month (default 12, a year of monthly reports), or a later one. Older rows
stay too when a rule that reads the sheet still needs them, so every such rule answers the same
before and after archiving (``tests/archive/test_rule.py`` checks it):

* for each (task, unit), the last row of the latest period before the window — the part's state
  when the window opens: ``rules/parts._latest_periods``, ``rules/merge._recorded_reports`` and the
  summary's comparison with the previous period (``reports/figures.compare_with_history``) read it;
* for each (task, unit, status), its latest row — ``rules/parts._owner_statuses`` asks whether a
  unit's report ever carried the status now in the task's cell;
* for each (task, unit), its last three rows in sheet order — ``rules/merge`` compares the master's
  value with the owners' last three reports to tell a merged value from an office edit.

A row whose period cannot be read stays. Rows are identified by their position in the sheet
(``SheetData.row_numbers``); the keys, the file layout and the write are ``io/archive_book``'s.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kehoach_xl import vn
from kehoach_xl.model.changes import MasterChanges
from kehoach_xl.model.config import Config
from kehoach_xl.model.master import SheetData
from kehoach_xl.model.outcome import Outcome
from kehoach_xl.text import normalize_text
from kehoach_xl.vn import period_ym, try_parse_period

__all__ = ["ArchiveData", "ArchivePlan", "SheetPlan", "compute_archive", "history_first_period", "log_cutoff",
           "log_time"]

LAST_REPORTS_KEPT = 3  # rules/merge._Merge.from_merge reads the owners' last three reports


@dataclass(frozen=True)
class ArchiveData:
    """The two sheets the rule looks at, read by header (``model.master.read_sheet_rows``)."""

    log: SheetData
    history: SheetData


@dataclass
class SheetPlan:
    """One sheet's verdict: indexes into ``SheetData.rows`` that leave and that stay."""

    leave: list[int] = field(default_factory=list)
    keep: list[int] = field(default_factory=list)
    undated: int = 0  # rows kept because nobody can date them
    needed: int = 0  # old rows kept because a rule still reads them (history only)


@dataclass
class ArchivePlan:
    as_of: dt.date
    log_cutoff: dt.datetime  # log rows before this leave
    history_first_period: str  # history rows of earlier periods leave (unless still needed)
    log: SheetPlan
    history: SheetPlan

    @property
    def leaving(self) -> int:
        return len(self.log.leave) + len(self.history.leave)


def _months_back(year: int, month: int, n: int) -> tuple[int, int]:
    k = year * 12 + (month - 1) - n
    return k // 12, k % 12 + 1


def log_cutoff(as_of: dt.date, months: int) -> dt.datetime:
    """The first moment a log row must be at to stay: ``as_of`` ``months`` months earlier (day clamped)."""
    y, m = _months_back(as_of.year, as_of.month, months)
    last_day = (dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.datetime(y, m, min(as_of.day, last_day))


def history_first_period(as_of: dt.date, periods: int) -> str:
    """The oldest period kept whole: ``periods`` periods up to and including ``as_of``'s month."""
    y, m = _months_back(as_of.year, as_of.month, max(periods, 1) - 1)
    return f"{y:04d}-{m:02d}"


_TIME_TAIL = re.compile(r"^(\S+)(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def log_time(value: Any) -> dt.datetime | None:
    """The moment a log cell holds, or None when it cannot be read (such a row is never archived)."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        try:
            d = vn.parse_date(value)
        except (ValueError, OverflowError):
            return None
        return dt.datetime.combine(d, dt.time()) + dt.timedelta(days=float(value) % 1) if d else None
    m = _TIME_TAIL.match(normalize_text(value))
    if not m:
        return None
    try:
        d = vn.parse_date(m[1])
    except (ValueError, OverflowError):
        return None
    if d is None:
        return None
    t = dt.time(int(m[2]), int(m[3]), int(m[4] or 0)) if m[2] and int(m[2]) < 24 and int(m[3]) < 60 else dt.time()
    return dt.datetime.combine(d, t)


def _plan_log(log: SheetData, cutoff: dt.datetime) -> SheetPlan:
    plan = SheetPlan()
    if not log.present or "time" not in log.columns:
        plan.keep = list(range(len(log.rows)))
        return plan
    for i, row in enumerate(log.rows):
        t = log_time(row.get("time"))
        if t is None:
            plan.undated += 1
            plan.keep.append(i)
        elif t < cutoff:
            plan.leave.append(i)
        else:
            plan.keep.append(i)
    return plan


def _plan_history(history: SheetData, first: str) -> SheetPlan:
    plan = SheetPlan()
    if not history.present or "period" not in history.columns:
        plan.keep = list(range(len(history.rows)))
        return plan
    rows = history.rows
    periods = [try_parse_period(r.get("period")) for r in rows]
    first_ym = period_ym(first)
    keys = [(normalize_text(r.get("task_id")), normalize_text(r.get("unit"))) for r in rows]
    needed: set[int] = set()
    baseline: dict[tuple[str, str], tuple[tuple[int, int], int]] = {}
    by_status: dict[tuple[str, str, str], tuple[tuple[int, int], int]] = {}
    by_key: dict[tuple[str, str], list[int]] = {}
    for i, p in enumerate(periods):
        by_key.setdefault(keys[i], []).append(i)
        if p is None:
            continue
        ym = period_ym(p)
        # Later periods win; within one period the later row (">="), as the readers of the sheet do.
        sk = (*keys[i], normalize_text(rows[i].get("status")))
        if sk not in by_status or ym >= by_status[sk][0]:
            by_status[sk] = (ym, i)
        if ym < first_ym and (keys[i] not in baseline or ym >= baseline[keys[i]][0]):
            baseline[keys[i]] = (ym, i)
    needed.update(i for _ym, i in baseline.values())
    needed.update(i for _ym, i in by_status.values())
    for idx in by_key.values():
        needed.update(idx[-LAST_REPORTS_KEPT:])
    for i, p in enumerate(periods):
        if p is None:
            plan.undated += 1
            plan.keep.append(i)
        elif period_ym(p) >= first_ym:
            plan.keep.append(i)
        elif i in needed:
            plan.needed += 1
            plan.keep.append(i)
        else:
            plan.leave.append(i)
    return plan


def compute_archive(data: ArchiveData, *, as_of: dt.date, config: Config,
                    keep_months: int | None = None) -> Outcome:
    """Which rows of the log and history sheets leave the master (``result``: :class:`ArchivePlan`).

    ``changes`` is empty: the rows leave by a rewrite of the two sheets (``io/archive_book``), which a
    change set of cells cannot express. ``keep_months`` overrides ``[archive] log_keep_months``.
    """
    months = config.archive.log_keep_months if keep_months is None else keep_months
    cutoff = log_cutoff(as_of, months)
    first = history_first_period(as_of, config.archive.history_keep_periods)
    plan = ArchivePlan(as_of=as_of, log_cutoff=cutoff, history_first_period=first,
                       log=_plan_log(data.log, cutoff), history=_plan_history(data.history, first))
    figures = {
        "log_leave": len(plan.log.leave), "log_keep": len(plan.log.keep), "log_undated": plan.log.undated,
        "history_leave": len(plan.history.leave), "history_keep": len(plan.history.keep),
        "history_undated": plan.history.undated, "history_needed": plan.history.needed,
    }
    return Outcome(as_of=as_of, changes=MasterChanges(), problems=[], figures=figures, result=plan)


def kept_rows(sheet: SheetData, indexes: Sequence[int]) -> list[int]:
    """Excel row numbers of ``indexes`` (for the sheet rewrite)."""
    return [sheet.row_numbers[i] for i in indexes]
