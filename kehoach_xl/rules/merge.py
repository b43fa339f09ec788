"""Merge units' submissions into the master's data: ownership, conflicts, history rows (pure)."""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from dataclasses import replace as dataclass_replace
from typing import Any, ClassVar

from kehoach_xl import vn
from kehoach_xl.model import schema
from kehoach_xl.model.address import sheet_cell
from kehoach_xl.model.changes import MasterChanges
from kehoach_xl.model.config import Config
from kehoach_xl.model.master import MasterData
from kehoach_xl.model.outcome import Outcome
from kehoach_xl.model.part import ATTRIBUTED_LINE, Part
from kehoach_xl.model.problem import ERROR, WARNING, Problem
from kehoach_xl.model.roles import FileStatus, Role
from kehoach_xl.model.submission import Submission, file_problem
from kehoach_xl.rules.assignments import assignments
from kehoach_xl.rules.derive import is_done
from kehoach_xl.rules.merge_policy import (
    Decision,
    Ownership,
    Period,
    Reason,
    Reasons,
    Rivals,
    Situation,
    Verdict,
    decide,
    decide_for,
    decide_part,
    ownership,
    owns_columns,
    reports_as_line,
)
from kehoach_xl.rules.parts import part_state, parts_of
from kehoach_xl.rules.refresh import derived_cells_for, parts_step
from kehoach_xl.rules.signing import canon_value, value_hash
from kehoach_xl.text import normalize_text
from kehoach_xl.vn import period_label, period_ym, try_parse_period

log = logging.getLogger(__name__)


# A merge compares the same few values again and again (each period, status and figure of 40 files
# against the master): their text forms and fingerprints are worked out once. ``typed``: 1 and True differ.
# Small on purpose: the values met again are few, a unit's own text is met once, and 65,536 of them
# held ~16 MiB through a merge at 50,000 tasks for no gain in time.
@functools.lru_cache(maxsize=1 << 12, typed=True)
def _canon_cached(value: Any) -> str:
    return canon_value(value)


@functools.lru_cache(maxsize=1 << 12, typed=True)
def _hash_cached(value: Any) -> str:
    return value_hash(value)


def _canon(value: Any) -> str:
    """``canon_value``, from the cache when the value can be a key."""
    try:
        return _canon_cached(value)
    except TypeError:
        return canon_value(value)


def _hash(value: Any) -> str:
    """``value_hash``, from the cache when the value can be a key."""
    try:
        return _hash_cached(value)
    except TypeError:
        return value_hash(value)


_ym = functools.lru_cache(maxsize=1 << 12)(period_ym)  # "2025-04" → (2025, 4): a file's period, asked per entry
_label = functools.lru_cache(maxsize=1 << 12)(period_label)  # "2025-04" → "04/2025", per history row


@functools.lru_cache(maxsize=1 << 12)  # per part reported: one text per period, not 100,000 (~5 MiB)
def _period_key(ym: tuple[int, int]) -> str:
    """(2025, 4) → "2025-04", as a part holds its period."""
    return f"{ym[0]:04d}-{ym[1]:02d}"


FIELD_LABELS = {k: schema.TASKS.col(k).header for k in schema.TASKS.keys}
PART_LABELS = {k: schema.PARTS.col(k).header for k in schema.PARTS.keys}


@dataclass
class Conflict:
    task_id: str
    field: str
    reason: str
    master_value: Any = None
    values: list[dict[str, Any]] = field(default_factory=list)  # [{"file","unit","period","value"}]
    unit: str = ""  # a conflict on a unit's part (sheet "Phần việc"): whose part
    sheet: str = schema.TASKS.name

    def problem(self) -> Problem:
        """The conflict as the one problem record every output reads."""
        files = ", ".join(f"{v['file']} ({v['unit']}: {canon_value(v['value'])})" for v in self.values)
        if self.sheet == schema.PARTS.name:
            label = PART_LABELS.get(self.field, self.field)
            where = f"Phần việc của {self.unit} trong nhiệm vụ {self.task_id}, cột “{label}”"
        else:
            label = FIELD_LABELS.get(self.field, self.field)
            where = f"Nhiệm vụ {self.task_id}, cột “{label}”"
        return Problem("merge_conflict", f"{where}: {self.reason}"
                       + (f" Các tệp: {files}." if files else ""), WARNING, file=", ".join(v["file"] for v in self.values),
                       sheet=self.sheet, column=label, value=canon_value(self.master_value), task_id=self.task_id)

    def to_dict(self) -> dict[str, Any]:
        out = {"task_id": self.task_id, "field": self.field, "reason": self.reason,
               "master_value": canon_value(self.master_value),
               "values": [{**v, "value": canon_value(v["value"])} for v in self.values]}
        if self.sheet != schema.TASKS.name:
            out |= {"sheet": self.sheet, "unit": self.unit}
        return out


@dataclass(slots=True)  # one per cell a merge sets: ~240,000 at 50,000 tasks
class AppliedChange:
    """A cell of the task list a file's report set: shown on output, and the change's row of the log.

    One record serves both: it has every attribute the log's rows are made from (``action``,
    ``file``, ``unit``, ``task_id``, ``field`` as its header, ``old``, ``new``, ``time``, ``user``:
    :class:`~kehoach_xl.model.changes.LogRecord`), so the change set's log holds these very objects.
    A log entry beside each was ~26 MiB of a merge at 50,000 tasks. The values are the objects the
    change set holds, and the address is made when shown: as a dict with its address and both
    values' text it was ~50 MiB more, kept through the write for the report.
    """

    task_id: str
    key: str  # the task column's key ("status"), or the attributed lines' (shown as they are)
    old: Any
    new: Any
    row: int
    col: int
    file: str  # the file whose report set it (its report lists this change), and its unit
    unit: str
    time: dt.datetime | None = None

    action: ClassVar[str] = "merge"
    user: ClassVar[str] = ""
    sheet: ClassVar[str] = schema.TASKS.name  # a merge sets cells of the task list only

    @property
    def field(self) -> str:
        """The column's header, as the log shows it."""
        return FIELD_LABELS.get(self.key, self.key)

    @property
    def shown(self) -> bool:
        """``old`` and ``new`` are already the text to show (attributed lines)."""
        return self.key == _LINES

    @property
    def cell(self) -> str:
        """Address as the user sees it, e.g. ``Nhiệm vụ!H17``."""
        return sheet_cell(self.sheet, self.row, self.col)

    def to_dict(self) -> dict[str, Any]:
        old, new = (self.old, self.new) if self.shown else (_canon(self.old), _canon(self.new))
        return {"task_id": self.task_id, "field": self.key, "old": old, "new": new, "cell": self.cell}


@dataclass
class FileReport:
    file: str
    unit: str = ""
    period: str = ""
    kind: str = ""
    status: FileStatus = FileStatus.PROCESSED  # a StrEnum: "processed" | "partial" | "rejected"
    changes: list[AppliedChange] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    moved_to: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "unit": self.unit, "period": self.period, "kind": self.kind,
                "status": str(self.status), "changes": [c.to_dict() for c in self.changes],
                "problems": [p.to_dict() for p in self.problems], "moved_to": self.moved_to}


@dataclass
class MergeReport:
    files: list[FileReport] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    history_rows: int = 0
    dry_run: bool = False
    written: bool = False

    @property
    def applied(self) -> int:
        """Cells changed, counted from the files so the two can never disagree."""
        return sum(len(f.changes) for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        return {"applied": self.applied, "files": [f.to_dict() for f in self.files],
                "conflicts": [c.to_dict() for c in self.conflicts], "history_rows": self.history_rows,
                "dry_run": self.dry_run, "written": self.written}


def _member_text(values: dict[str, Any]) -> str:
    if "contribution" in values:
        return normalize_text(values["contribution"], keep_newlines=True).replace("\n", " ")
    parts = []
    if values.get("status"):
        parts.append(str(values["status"]))
    if values.get("progress") is not None:
        parts.append(vn.percent(values["progress"]))
    if values.get("completed_on"):
        parts.append(f"hoàn thành ngày {vn.date(values['completed_on'])}")
    text = "; ".join(parts)
    for key, label in (("result", ""), ("difficulties", "Khó khăn: "), ("proposals", "Đề xuất: ")):
        if values.get(key):
            text = text.rstrip(".")  # "…đơn vị.. Đề xuất" otherwise
            text += (". " if text else "") + label + normalize_text(values[key], keep_newlines=True).replace("\n", " ")
    return text


def _parse_lines(cell: Any) -> tuple[dict[str, tuple[tuple[int, int], str]], list[str]]:
    """Attributed lines by unit, plus lines staff typed by hand (kept as they are, first)."""
    by_unit: dict[str, tuple[tuple[int, int], str]] = {}
    other: list[str] = []
    for line in normalize_text(cell, keep_newlines=True).split("\n"):
        if not line:
            continue
        m = ATTRIBUTED_LINE.match(line)
        if m:
            by_unit[m["unit"].strip()] = ((int(m["y"]), int(m["m"])), line)
        else:
            other.append(line)
    return by_unit, other


def _history_index(md: MasterData) -> tuple[dict[tuple[str, str, str], list[dict[str, Any]]], dict[str, list[dict]]]:
    by_key: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    by_task: dict[str, list[dict[str, Any]]] = {}
    if not md.history.present:
        return by_key, by_task
    for row in md.history.rows:
        t, u = (normalize_text(row.get(k)) for k in ("task_id", "unit"))
        # The raw cell: a hand-typed "2024-5", or a date Excel made of "05/2024", is the same period.
        p = try_parse_period(row.get("period")) or normalize_text(row.get("period"))
        if not (p and t):
            continue
        by_key.setdefault((p, t, u), []).append(row)
        by_task.setdefault(t, []).append(row)
    return by_key, by_task


_HIST_FIELDS = ("status", "progress", "completed_on", "result", "difficulties", "proposals")


def _as_date(value: object) -> dt.date | None:
    try:
        return vn.parse_date(value)
    except (ValueError, TypeError):
        return None


@dataclass(frozen=True, slots=True)  # one per reported cell: a quarter of a million at 50,000 tasks
class _Report:
    """One file's report of one task column: the file, its role on the task, the value."""

    sub: Submission
    role: str
    value: Any


@dataclass
class _Merge:
    """One merge's inputs, looked up once, and what it has produced so far."""

    md: MasterData
    now: dt.datetime
    files: dict[str, FileReport]
    live: list[Submission]
    owners: dict[str, frozenset[str]]  # task → the units that own its columns (lead, synthesiser)
    hist_key: dict[tuple[str, str, str], list[dict[str, Any]]]
    hist_task: dict[str, list[dict[str, Any]]]
    index: dict[str, int]
    changes: MasterChanges = field(default_factory=MasterChanges)
    report: MergeReport = field(default_factory=MergeReport)
    touched: dict[str, Submission] = field(default_factory=dict)  # task → the file stamped as its updater
    lines: dict[str, dict[str, tuple[tuple[int, int], str, Submission]]] = field(default_factory=dict)
    _owner_rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # task → owner_rows(task)

    @classmethod
    def start(cls, md: MasterData, submissions: Sequence[Submission], now: dt.datetime) -> _Merge:
        subs = sorted(submissions, key=lambda s: (s.rejected, s.period or "", s.kind, s.name))
        files = {s.name: FileReport(file=s.name, unit=s.unit, period=s.period, kind=s.kind,
                                    status=FileStatus.REJECTED if s.rejected else FileStatus.PROCESSED,
                                    problems=list(s.problems)) for s in subs}
        hist_key, hist_task = _history_index(md)
        return cls(md, now, files, [s for s in subs if not s.rejected], _owners(md), hist_key, hist_task,
                   md.task_index())

    def row_of(self, tid: str, key: str) -> int | None:
        """The task's position in the master's rows, when the master has both the task and the column."""
        i = self.index.get(tid)
        return i if i is not None and key in self.md.tasks.columns else None

    def task_role(self, s: Submission, tid: str) -> str:
        return s.roles[tid]

    def owner_rows(self, tid: str) -> list[dict[str, Any]]:
        """The task's rows in "Lịch sử" by the units that own its columns (the history does not change in a merge)."""
        rows = self._owner_rows.get(tid)
        if rows is None:
            owners = self.owners.get(tid, frozenset())
            rows = self._owner_rows[tid] = [r for r in self.hist_task.get(tid, [])
                                            if normalize_text(r.get("unit")) in owners]
        return rows

    def latest_owner_period(self, tid: str) -> tuple[int, int] | None:
        # Every form a history cell may hold ("2024-5" typed by hand, "05/2024") counts: an unread
        # row would let an older report overwrite a newer one.
        ps = [_ym(p) for r in self.owner_rows(tid) if (p := try_parse_period(r.get("period")))]
        return max(ps) if ps else None

    def from_merge(self, tid: str, key: str, cur: Any) -> bool:
        """The master's value came from one of the owners' last reports (not from the office)."""
        rows = self.owner_rows(tid)
        return any(_canon(r.get(key)) == _canon(cur) for r in rows[-3:]) if cur not in (None, "") else False

    def tell(self, s: Submission, reason: Reason, **values: str) -> None:
        self.files[s.name].problems.append(file_problem(reason.slug, s.name, reason.message(**values),
                                                        severity=reason.severity))

    def conflict(self, c: Conflict, subs: Iterable[Submission]) -> None:
        self.report.conflicts.append(c)
        for s in subs:
            self.files[s.name].status = FileStatus.PARTIAL


def _owners(md: MasterData) -> dict[str, frozenset[str]]:
    """Task → the units that own its columns. The same few sets of units recur on every task: each is
    held once (a set per task was ~12 MiB at 50,000 tasks, through the whole merge)."""
    owners: dict[str, set[str]] = {}
    for unit, items in assignments(md).items():
        for a in items:
            if owns_columns(a.role):
                owners.setdefault(a.task_id, set()).add(unit)
    shared: dict[frozenset[str], frozenset[str]] = {}
    out: dict[str, frozenset[str]] = {}
    for tid, units in owners.items():
        key = frozenset(units)
        out[tid] = shared.setdefault(key, key)
    return out


_Contributions = dict[tuple[str, str], list[tuple[Submission, dict[str, Any]]]]


def _gather(m: _Merge) -> tuple[dict[tuple[str, str], list[_Report]], _Contributions]:
    """The column reports by (task, field); the reports that become attributed lines by (task, unit).

    Each file's reports stay where the file holds them (``Submission.reports``): a second table of
    them by (file, task) was ~10 MiB at 50,000 tasks and 40 files."""
    columns: dict[tuple[str, str], list[_Report]] = {}
    contrib: _Contributions = {}
    for s in m.live:
        roles = s.roles
        for tid, vals in s.reports.items():  # the file's own dicts, never copied (read-only here)
            role = roles[tid]
            for key, value in vals.items():
                if ownership(role, key) is Ownership.COLUMN:
                    columns.setdefault((tid, key), []).append(_Report(s, role, value))
            if reports_as_line(role):
                contrib.setdefault((tid, s.unit), []).append((s, vals))
    return columns, contrib


# --- the owner's columns -----------------------------------------------------------------------------

def _column_rivals(m: _Merge, tid: str, late: list[_Report]) -> list[Rivals]:
    """Each latest-period report against the others: the one that carries the value, those that yield, or a conflict."""
    carriers = list(range(len(late)))
    if len({_canon(r.value) for r in late}) > 1:
        carriers = [k for k, r in enumerate(late) if m.task_role(r.sub, tid) == Role.LEAD]
        if not carriers or len({_canon(late[k].value) for k in carriers}) > 1:
            return [Rivals.DISAGREE] * len(late)
    return [Rivals.NONE if k == carriers[-1] else Rivals.SAME_VALUE if k in carriers else Rivals.LEAD_DIFFERS
            for k in range(len(late))]


def _office_edited(m: _Merge, tid: str, key: str, s: Submission, cur: Any) -> bool:
    """The master's value is not the one the workbook was issued with, and no merge put it there."""
    base = s.base.get(tid, {}).get(key)
    return base is not None and _hash(cur) != base and not m.from_merge(tid, key, cur)


def _column_situations(m: _Merge, tid: str, key: str, i: int | None, cands: list[_Report]) -> list[Situation]:
    if i is None:
        return [Situation(target_missing=True) for _ in cands]
    cur = m.md.tasks.rows[i].get(key)
    # Values the unit left as issued are not reports: the office's later edit must survive them.
    reports = [r for r in cands if r.sub.base.get(tid, {}).get(key) != _hash(r.value)]
    if not reports:
        return [Situation(as_issued=True) for _ in cands]
    top = max(_ym(r.sub.period) for r in reports)
    hist_top = m.latest_owner_period(tid)
    older_than_master = bool(hist_top and top < hist_top)
    late = [r for r in reports if _ym(r.sub.period) == top]
    rivals = dict(zip((id(r) for r in late), _column_rivals(m, tid, late), strict=True))
    reported = {id(r) for r in reports}
    return [Situation(period=Period.OLDER_THAN_MASTER if older_than_master
                      else Period.LATEST if id(r) in rivals else Period.OLDER_THAN_BATCH,
                      rivals=rivals.get(id(r), Rivals.NONE), as_issued=id(r) not in reported,
                      same_as_master=_canon(r.value) == _canon(cur),
                      office_edited=_office_edited(m, tid, key, r.sub, cur)) for r in cands]


def _apply(m: _Merge, tid: str, key: str, i: int, r: _Report) -> None:
    cur = m.md.tasks.rows[i].get(key)
    m.changes.set(schema.TASKS.name, m.md.tasks.row_numbers[i], m.md.tasks.columns[key], r.value)
    _applied(m, AppliedChange(tid, key, cur, r.value, m.md.tasks.row_numbers[i], m.md.tasks.columns[key],
                              r.sub.name, r.sub.unit, m.now))
    m.touched[tid] = r.sub


def _applied(m: _Merge, change: AppliedChange) -> None:
    """One record, in the file's report and in the log, in the order the merge set the cells."""
    m.files[change.file].changes.append(change)
    m.changes.log.append(change)


def _tell_column(m: _Merge, tid: str, key: str, s: Submission, reason: Reason) -> None:
    values = {"task_id": tid, "label": FIELD_LABELS[key]}
    if reason is Reasons.NEWER_REPORT_EXISTS:
        y, mo = m.latest_owner_period(tid) or (0, 0)
        values.update(latest=f"{mo:02d}/{y}", period=period_label(s.period))
    m.tell(s, reason, **values)


def _merge_column(m: _Merge, tid: str, key: str, cands: list[_Report]) -> None:
    """One task column: each file that reported it gets its verdict; at most one file writes it."""
    i = m.row_of(tid, key)
    conflicts: dict[Reason, list[_Report]] = {}
    for r, situation in zip(cands, _column_situations(m, tid, key, i, cands), strict=True):
        verdict = decide(r.role, key, situation)
        if verdict.decision is Decision.CONFLICT:
            conflicts.setdefault(verdict.reason, []).append(r)
        elif verdict.decision is Decision.APPLY and i is not None:
            _apply(m, tid, key, i, r)
        elif verdict.reason.severity:
            _tell_column(m, tid, key, r.sub, verdict.reason)
    cur = m.md.tasks.rows[i].get(key) if i is not None else None
    for reason, rs in conflicts.items():
        m.conflict(Conflict(tid, key, reason.template, cur, [{"file": r.sub.name, "unit": r.sub.unit,
                                                               "period": r.sub.period, "value": r.value} for r in rs]),
                   (r.sub for r in rs))


# --- attributed lines of members and coordinators ----------------------------------------------------

_LINES = "coordination_reports"


def _attributed_line(unit: str, period: tuple[int, int], text: str) -> str:
    """``[Thanh tra Sở – kỳ 05/2024] Đang thực hiện; 60%. …``"""
    return f"[{unit} – kỳ {period[1]:02d}/{period[0]}] {text}"


def _line_situations(m: _Merge, tid: str, unit: str, top: tuple[int, int],
                     items: list[tuple[Submission, str]]) -> list[Situation]:
    """``items``: the unit's files and their line texts (empty for a period older than ``top``)."""
    late = [k for k, (s, _) in enumerate(items) if _ym(s.period) == top]
    disagree = len({items[k][1] for k in late}) > 1
    i = m.row_of(tid, _LINES)
    existing = _parse_lines(m.md.tasks.rows[i].get(_LINES))[0] if i is not None else {}
    out = []
    for k, (_s, text) in enumerate(items):
        line = _attributed_line(unit, top, text)
        period = (Period.OLDER_THAN_BATCH if k not in late else
                  Period.OLDER_THAN_MASTER if unit in existing and existing[unit][0] > top else Period.LATEST)
        rivals = Rivals.DISAGREE if disagree else Rivals.NONE if k == late[-1] else Rivals.SAME_VALUE
        out.append(Situation(period=period, rivals=rivals, empty=not text, target_missing=i is None,
                             same_as_master=existing.get(unit, (None, None))[1] == line))
    return out


def _merge_unit_line(m: _Merge, tid: str, unit: str, items: list[tuple[Submission, dict[str, Any]]]) -> None:
    """One unit's line on one task: its files' verdicts; the line kept for writing, or the conflict."""
    top = max(_ym(s.period) for s, _ in items)
    texts = [(s, _member_text(v) if _ym(s.period) == top else "") for s, v in items]
    conflicting: list[tuple[Submission, str]] = []
    for (s, text), situation in zip(texts, _line_situations(m, tid, unit, top, texts), strict=True):
        verdict = decide_for(Ownership.LINE, situation)
        if verdict.decision is Decision.CONFLICT:
            conflicting.append((s, text))
        elif verdict.reason.severity:
            m.tell(s, verdict.reason, task_id=tid, label=FIELD_LABELS[_LINES])
        elif verdict.decision is Decision.APPEND_ATTRIBUTED_LINE:
            m.lines.setdefault(tid, {})[unit] = (top, _attributed_line(unit, top, text), s)
        elif verdict.reason in (Reasons.UNCHANGED, Reasons.LATER_LINE):
            # Nothing new from this unit, but the cell is still tidied (hand-typed lines first, one
            # line per unit sorted by unit) when it reads otherwise: the merge always did so.
            m.lines.setdefault(tid, {})
    if conflicting:
        reason = Reasons.SAME_UNIT_DISAGREE.template
        m.conflict(Conflict(tid, _LINES, reason, None, [{"file": s.name, "unit": unit, "period": s.period, "value": t}
                                                        for s, t in conflicting]), (s for s, _ in conflicting))


def _write_lines(m: _Merge, tid: str, new_lines: dict[str, tuple[tuple[int, int], str, Submission]]) -> None:
    """The task's line cell: lines typed by hand first, then one line per unit sorted by unit."""
    i = m.index[tid]
    cur = m.md.tasks.rows[i].get(_LINES)
    existing, manual = _parse_lines(cur)
    merged = {u: line for u, (_p, line) in existing.items()} | {u: line for u, (_p, line, _s) in new_lines.items()}
    text = "\n".join(manual + [merged[u] for u in sorted(merged)])
    if _canon(text) == _canon(cur):
        return
    m.changes.set(schema.TASKS.name, m.md.tasks.row_numbers[i], m.md.tasks.columns[_LINES], text)
    for unit, (_p, line, s) in sorted(new_lines.items()):
        old = existing.get(unit, (None, ""))[1]
        _applied(m, AppliedChange(tid, _LINES, old, line, m.md.tasks.row_numbers[i], m.md.tasks.columns[_LINES],
                                  s.name, unit, m.now))
        m.touched.setdefault(tid, s)


# --- the whole merge ---------------------------------------------------------------------------------

# --- each unit's part (the sheet "Phần việc") and the task's derived status ------------------------------

_PART_FIELDS = ("status", "progress", "completed_on", "result", "difficulties", "proposals")


def _part_reports(m: _Merge) -> dict[tuple[str, str], list[tuple[Submission, dict[str, Any]]]]:
    """(task, unit) → each live file's report of that task (read through :func:`_part_field`)."""
    out: dict[tuple[str, str], list[tuple[Submission, dict[str, Any]]]] = {}
    for s in m.live:
        for tid, vals in s.reports.items():
            # The file's own entries, not a copy (read through _part_field): at 50,000 tasks a copy
            # per file and task was ~40 MiB at the merge's peak.
            out.setdefault((tid, s.unit), []).append((s, vals))
    return out


def _part_field(vals: dict[str, Any], key: str) -> tuple[bool, Any]:
    """(reported, value) of a part's field in a file's report: a coordinator's contribution is its result."""
    if key == "result" and "contribution" in vals:
        return True, vals["contribution"]
    return key in vals, vals.get(key)


def _recorded_reports(m: _Merge) -> dict[tuple[str, str], dict[str, Any]]:
    """(task, unit) → the values of that unit's latest report in "Lịch sử" (latest period, then last row).

    What the program last put in the part; a part row that differs from it was edited by hand.
    """
    out: dict[tuple[str, str], tuple[tuple[int, int], dict[str, Any]]] = {}
    for (p, t, u), rows in m.hist_key.items():
        ym = _ym(p) if try_parse_period(p) else (0, 0)
        if (t, u) not in out or ym >= out[(t, u)][0]:
            out[(t, u)] = (ym, rows[-1])
    return {k: v for k, (_ym, v) in out.items()}


def _same(a: Any, b: Any) -> bool:
    return _canon(a if a != "" else None) == _canon(b if b != "" else None)


def _value(key: str, value: Any) -> Any:
    """A reported value as the part holds it."""
    if key == "progress":
        from kehoach_xl.rules.values import parse_percent

        try:
            return None if value in (None, "") else float(parse_percent(value))
        except (ValueError, TypeError):
            return None
    if key == "completed_on":
        return _as_date(value)
    if key == "status":
        return normalize_text(value) or None
    return normalize_text(value, keep_newlines=True)


@functools.lru_cache(maxsize=64)  # sixteen situations, each decided once
def _part_verdict(older: bool, disagree: bool, same_as_master: bool, office_edited: bool) -> Verdict:
    return decide_part(Situation(period=Period.OLDER_THAN_MASTER if older else Period.LATEST,
                                 rivals=Rivals.DISAGREE if disagree else Rivals.NONE,
                                 same_as_master=same_as_master, office_edited=office_edited))


def _merge_part(m: _Merge, part: Part, items: list[tuple[Submission, dict[str, Any]]], stored: bool,
                recorded: dict[str, Any] | None) -> Part:
    """One unit's reports of its part: the part as it will be; an office edit it contradicts is a conflict."""
    top = max(_ym(s.period) for s, _ in items)
    late = [(s, v) for s, v in items if _ym(s.period) == top]
    older = bool(part.period and _ym(part.period) > top)
    disagree = len(late) > 1 and len({tuple(_canon(_part_field(v, k)[1]) for k in _PART_FIELDS)
                                      for _s, v in late}) > 1
    s, vals = late[-1]
    changes: dict[str, Any] = {}
    conflicts: list[tuple[str, Any]] = []
    for key in _PART_FIELDS:
        reported, raw = _part_field(vals, key)
        if not reported:
            continue
        new, cur = _value(key, raw), getattr(part, key)
        # What the program last wrote into the part: the unit's last report in "Lịch sử". A part no
        # report reached yet holds what the program put there when it made the row (from the task's
        # columns or the unit's attributed line), so it counts as the program's own.
        before = _value(key, recorded.get(key)) if recorded is not None else cur
        verdict = _part_verdict(older, disagree, _same(new, cur), stored and not _same(cur, before))
        if verdict.decision is Decision.APPLY:
            changes[key] = new if new != "" else ("" if key in ("result", "difficulties", "proposals") else None)
        elif verdict.decision is Decision.CONFLICT:
            conflicts.append((key, cur))
            m.conflict(Conflict(part.task_id, key, verdict.reason.template, cur,
                                [{"file": s.name, "unit": s.unit, "period": s.period, "value": raw}],
                                unit=part.unit, sheet=schema.PARTS.name), [s])
    if older or disagree:
        return part
    period = _period_key(top)
    if not conflicts and (part.period is None or _ym(part.period) < top):
        changes["period"] = period
    return dataclass_replace(part, **changes) if changes else part


def _updated_parts(m: _Merge) -> tuple[list[Part], set[str]]:
    """Every part, each reporting unit's updated from its reports (a unit the task does not name that
    reports on it gets a coordinating part: its report is kept), and the tasks reported on."""
    after = parts_of(m.md)  # a list of its own (the parts stay the master's until replaced)
    # A part the sheet "Phần việc" is read for is one the master had before the merge: the key's
    # position is below ``had`` (a set of them beside this index was ~11 MiB at 50,000 tasks).
    by_key = {(p.task_id, p.unit): k for k, p in enumerate(after)}
    had = len(after) if m.md.parts.present else 0
    recorded = _recorded_reports(m)
    reports = _part_reports(m)
    reported = {tid for tid, _unit in reports}
    # Each group goes once merged: at 50,000 tasks the groups were ~24 MiB, held through the parts step.
    for tid, unit in sorted(reports):
        items = reports.pop((tid, unit))
        if tid not in m.index:
            continue
        k = by_key.get((tid, unit))
        if k is None:
            after.append(Part(tid, unit, Role.COORD))
            k = by_key[(tid, unit)] = len(after) - 1
        after[k] = _merge_part(m, after[k], items, k < had, recorded.get((tid, unit)))
    return after, reported


_DERIVED_KEYS = frozenset(("status", "progress"))


def _rows_after(m: _Merge) -> tuple[list[dict[str, Any]], list[tuple[int, str]]]:
    """The task rows as the merge leaves them, and the status and progress cells (row, key) a unit's
    report wrote: the only ones the derivation asks about (rules/parts.reported_over_hand). All the
    cells written were a quarter of a million tuples at 50,000 tasks, held through the parts step."""
    sd = m.md.tasks
    by_col = {j: key for key, j in sd.columns.items()}
    pos = {r: i for i, r in enumerate(sd.row_numbers)}
    rows = list(sd.rows)
    written: list[tuple[int, str]] = []
    copied: set[int] = set()
    for (r, c), v in m.changes.cells.get(schema.TASKS.name, {}).items():
        i, key = pos.get(r), by_col.get(c)
        if i is not None and key is not None:
            if i not in copied:  # one copy per row changed: the master's rows are never changed
                rows[i] = rows[i].copy()  # keeps the read's shared key table (model/rows)
                copied.add(i)
            rows[i][key] = v
            if key in _DERIVED_KEYS:
                written.append((i, key))
    return rows, written


def _merge_parts(m: _Merge, config: Config | None) -> tuple[dict[tuple[str, str], str], list[int]]:
    """Each reporting unit's part updated from its report, the sheet "Phần việc" brought up to date (or
    added), the task's status derived from its parts written back unless hand-set.

    Returns the deadline state of each part (for its history row) and the task rows whose status or
    progress the derivation wrote.
    """
    md, cfg = m.md, config or Config()
    after, reported = _updated_parts(m)
    rows, written = _rows_after(m)
    as_of = _as_date(md.settings.get("as_of")) or m.now.date()
    before = [(r.get("status"), r.get("progress")) for r in rows]
    reported |= set(m.touched)
    rows, statuses = parts_step(md, m.changes, as_of, cfg, written=written, time=m.now, tasks=rows, parts=after,
                                only=reported)
    derived_rows = [i for i, r in enumerate(rows) if (r.get("status"), r.get("progress")) != before[i]]
    states: dict[tuple[str, str], str] = {}
    for p in after:
        i = m.index.get(p.task_id)
        if i is None or p.task_id not in statuses:
            continue
        d = part_state(rows[i], p, as_of, task_done=is_done(statuses[p.task_id].status), plan_year=md.plan_year,
                       due_soon_days=cfg.due_soon_days, due_soon_unit=cfg.due_soon_unit)
        states[(p.task_id, p.unit)] = schema.DEADLINE_STATES[d.deadline_state]
    return states, derived_rows


def _stamp_touched(m: _Merge, config: Config | None, derived_rows: Sequence[int] = ()) -> None:
    """Who updated each changed task and when; its deadline state and colours follow at once."""
    by: dict[int, str] = {}  # one text per file: 50,000 tasks updated by 40 files were 50,000 copies (~9 MiB)
    for tid, s in sorted(m.touched.items()):
        i = m.index[tid]
        who = by.get(id(s))
        if who is None:
            who = by[id(s)] = f"{s.unit} ({s.name})"
        for key, value in (("updated_at", m.now), ("updated_by", who)):
            if key in m.md.tasks.columns:
                m.changes.set(schema.TASKS.name, m.md.tasks.row_numbers[i], m.md.tasks.columns[key], value)
    as_of = _as_date(m.md.settings.get("as_of")) or m.now.date()
    rows = {m.index[tid] for tid in m.touched} | set(derived_rows)
    derived_cells_for(m.md, m.changes, sorted(rows), as_of, config=config)


def _outcome(m: _Merge, submissions: Sequence[Submission]) -> Outcome:
    report = m.report
    for f in m.files.values():
        if f.status == FileStatus.PROCESSED and any(p.severity == ERROR for p in f.problems):
            f.status = FileStatus.PARTIAL
    report.files = [m.files[s.name] for s in sorted(submissions, key=lambda s: s.name)]
    problems = [p for f in report.files for p in f.problems] + [c.problem() for c in report.conflicts]
    return Outcome(as_of=m.now.date(), changes=m.changes, problems=problems, result=report,
                   figures={"applied": report.applied, "files": len(report.files),
                            "rejected": sum(f.status == FileStatus.REJECTED for f in report.files),
                            "conflicts": len(report.conflicts), "history_rows": report.history_rows})


def compute_merge(md: MasterData, submissions: Sequence[Submission], *, as_of: dt.datetime | None = None,
                  config: Config | None = None) -> Outcome:
    """Pure merge: what to write and what to tell people. Deterministic for a given input set.

    ``as_of`` is the moment of the merge (the time stamped on changed rows and log entries).
    ``outcome.result`` is the :class:`MergeReport`; ``outcome.problems`` holds every file's
    problems and every conflict, as :class:`~kehoach_xl.model.problem.Problem` records.
    Who may write what, and what wins, is decided in :mod:`kehoach_xl.rules.merge_policy`.
    """
    m = _Merge.start(md, submissions, (as_of or dt.datetime.now()).replace(microsecond=0))
    columns, contributions = _gather(m)
    # Each group goes as soon as it is decided: at 50,000 tasks the column reports alone were ~47 MiB,
    # held through the parts and history steps that come after (the merge's peak).
    for tid, key in sorted(columns):
        _merge_column(m, tid, key, columns.pop((tid, key)))
    for tid, unit in sorted(contributions):
        _merge_unit_line(m, tid, unit, contributions.pop((tid, unit)))
    del columns, contributions
    m._owner_rows.clear()  # asked for by the column steps only
    for tid in sorted(m.lines):
        _write_lines(m, tid, m.lines.pop(tid))  # each task's lines go once written (~8 MiB at 50,000 tasks)
    states, derived_rows = _merge_parts(m, config)
    _stamp_touched(m, config, derived_rows)
    m.report.history_rows = _history(md, m.live, m.hist_key, m.changes, m.now, states)
    return _outcome(m, submissions)


def _history(md: MasterData, live: Iterable[Submission], hist_key: dict[tuple[str, str, str], list[dict[str, Any]]],
             changes: MasterChanges,
             now: dt.datetime, states: dict[tuple[str, str], str] | None = None) -> int:
    """One row per unit's report of a task (its part), with that part's own deadline state and the
    period as staff read it ("05/2024")."""
    cols = md.history.columns if md.history.present else {}
    if not cols or "task_id" not in cols:
        return 0
    width = max(cols.values())
    index = md.task_index()
    seen: set[tuple[str, str, str]] = set()
    added = 0
    for s in sorted(live, key=lambda s: (s.period, s.unit, s.name)):
        for tid, vals in sorted(s.reports.items()):  # task IDs are unique: the dicts are never compared
            rec = {k: _part_field(vals, k)[1] for k in _HIST_FIELDS}
            sig = tuple(_canon(rec[k]) for k in _HIST_FIELDS)
            key = (s.period, tid, s.unit)
            prev = hist_key.get(key, [])
            if (prev and tuple(_canon(prev[-1].get(k)) for k in _HIST_FIELDS) == sig) or (key, sig) in seen:
                continue
            seen.add((key, sig))  # type: ignore[arg-type]
            i = index.get(tid)
            state = (states or {}).get((tid, s.unit))
            if state is None:
                state = md.tasks.rows[i].get("deadline_state") if i is not None else None
            full = {**rec, "period": _label(s.period), "task_id": tid, "unit": s.unit, "deadline_state": state,
                    "recorded_at": now}
            row: list[Any] = [None] * width
            for k, j in cols.items():
                row[j - 1] = full.get(k)
            changes.append(schema.HISTORY.name, row)
            added += 1
    return added
