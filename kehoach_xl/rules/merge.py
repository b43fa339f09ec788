"""Merge units' submissions into the master's data: ownership, conflicts, history rows (pure)."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kehoach_xl import vn
from kehoach_xl.errors import KehoachError
from kehoach_xl.model import schema
from kehoach_xl.model.changes import LogEntry, MasterChanges
from kehoach_xl.model.config import Config
from kehoach_xl.model.master import MasterData
from kehoach_xl.model.outcome import Outcome
from kehoach_xl.model.problem import WARNING, Problem
from kehoach_xl.model.submission import Submission, file_problem
from kehoach_xl.rules.assignments import assignments
from kehoach_xl.rules.signing import canon_value, value_hash
from kehoach_xl.text import normalize_text
from kehoach_xl.vn import period_label, period_ym, try_parse_period

log = logging.getLogger(__name__)


_LINE = re.compile(r"^\[(?P<unit>[^\]–]+?)\s+–\s+kỳ\s+(?P<m>\d{2})/(?P<y>\d{4})\]\s*(?P<text>.*)$")


FIELD_LABELS = {k: schema.TASKS.col(k).header for k in schema.TASKS.keys}


@dataclass
class Conflict:
    task_id: str
    field: str
    reason: str
    master_value: Any = None
    values: list[dict[str, Any]] = field(default_factory=list)  # [{"file","unit","period","value"}]

    def problem(self) -> Problem:
        """The conflict as the one problem record every output reads."""
        files = ", ".join(f"{v['file']} ({v['unit']}: {canon_value(v['value'])})" for v in self.values)
        label = FIELD_LABELS.get(self.field, self.field)
        return Problem("merge_conflict", f"Nhiệm vụ {self.task_id}, cột “{label}”: {self.reason}"
                       + (f" Các tệp: {files}." if files else ""), WARNING, file=", ".join(v["file"] for v in self.values),
                       sheet=schema.TASKS.name, column=label, value=canon_value(self.master_value), task_id=self.task_id)

    def to_dict(self) -> dict[str, Any]:
        return {"task_id": self.task_id, "field": self.field, "reason": self.reason,
                "master_value": canon_value(self.master_value),
                "values": [{**v, "value": canon_value(v["value"])} for v in self.values]}


@dataclass
class FileReport:
    file: str
    unit: str = ""
    period: str = ""
    kind: str = ""
    status: str = "processed"  # processed | partial | rejected
    changes: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    moved_to: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "unit": self.unit, "period": self.period, "kind": self.kind,
                "status": self.status, "changes": self.changes,
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
        m = _LINE.match(line)
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


def compute_merge(md: MasterData, submissions: Sequence[Submission], *, as_of: dt.datetime | None = None,
                  config: Config | None = None) -> Outcome:
    """Pure merge: what to write and what to tell people. Deterministic for a given input set.

    ``as_of`` is the moment of the merge (the time stamped on changed rows and log entries).
    ``outcome.result`` is the :class:`MergeReport`; ``outcome.problems`` holds every file's
    problems and every conflict, as :class:`~kehoach_xl.model.problem.Problem` records.
    """
    now = (as_of or dt.datetime.now()).replace(microsecond=0)
    changes = MasterChanges()
    report = MergeReport()
    files: dict[str, FileReport] = {}
    subs = sorted(submissions, key=lambda s: (s.rejected, s.period or "", s.kind, s.name))
    for s in subs:
        files[s.name] = FileReport(file=s.name, unit=s.unit, period=s.period, kind=s.kind,
                                   status="rejected" if s.rejected else "processed", problems=list(s.problems))
    live = [s for s in subs if not s.rejected]
    plan = assignments(md)
    owners: dict[str, set[str]] = {}
    for unit, items in plan.items():
        for a in items:
            if a.role in ("lead", "synth"):
                owners.setdefault(a.task_id, set()).add(unit)
    index = md.task_index()
    hist_key, hist_task = _history_index(md)

    def latest_owner_period(tid: str) -> tuple[int, int] | None:
        # Every form a history cell may hold ("2024-5" typed by hand, "05/2024") counts: an unread
        # row would let an older report overwrite a newer one.
        ps = [period_ym(p) for r in hist_task.get(tid, [])
              if normalize_text(r.get("unit")) in owners.get(tid, set()) and (p := try_parse_period(r.get("period")))]
        return max(ps) if ps else None

    def from_merge(tid: str, key: str, cur: Any) -> bool:
        rows = [r for r in hist_task.get(tid, []) if normalize_text(r.get("unit")) in owners.get(tid, set())]
        return any(canon_value(r.get(key)) == canon_value(cur) for r in rows[-3:]) if cur not in (None, "") else False

    # --- the owner's fields --------------------------------------------------------------------
    cand: dict[tuple[str, str], list[tuple[Submission, Any]]] = {}
    contrib: dict[tuple[str, str], list[tuple[Submission, dict[str, Any]]]] = {}
    per_sub_values: dict[tuple[str, str], dict[str, Any]] = {}
    for s in live:
        grouped: dict[str, dict[str, Any]] = {}
        for e in s.entries:
            grouped.setdefault(e.task_id, {"_role": e.role})[e.field] = e.value
            if e.role in ("lead", "synth") and e.field in schema.UNIT_FIELDS:
                cand.setdefault((e.task_id, e.field), []).append((s, e.value))
        for tid, vals in grouped.items():
            per_sub_values[(s.name, tid)] = vals
            if vals["_role"] in ("member", "coord"):
                contrib.setdefault((tid, s.unit), []).append((s, {k: v for k, v in vals.items() if k != "_role"}))

    touched_tasks: dict[str, Submission] = {}
    for (tid, key), cands in sorted(cand.items()):
        i = index.get(tid)
        if i is None or key not in md.tasks.columns:
            for s, _ in cands:
                files[s.name].problems.append(file_problem("task_or_column_missing", s.name, f"Sổ theo dõi không có nhiệm vụ {tid} hoặc cột "
                                                              f"“{FIELD_LABELS[key]}”; không ghi được.", severity="error"))
            continue
        cur = md.tasks.rows[i].get(key)
        # Values the unit left as issued are not reports: the office's later edit must survive them.
        cands = [(s, v) for s, v in cands if not (s.base.get(tid, {}).get(key) == value_hash(v))]
        if not cands:
            continue
        top = max(period_ym(s.period) for s, _ in cands)
        hist_top = latest_owner_period(tid)
        if hist_top and top < hist_top:
            for s, _ in cands:
                files[s.name].problems.append(file_problem("newer_report_exists", s.name, f"Nhiệm vụ {tid}: sổ đã có báo cáo kỳ mới hơn "
                    f"({hist_top[1]:02d}/{hist_top[0]}); “{FIELD_LABELS[key]}” của kỳ {period_label(s.period)} "
                    "chỉ được ghi vào Lịch sử.", severity="warning"))
            continue
        late = [(s, v) for s, v in cands if period_ym(s.period) == top]
        if len({canon_value(v) for _, v in late}) > 1:
            leads = [(s, v) for s, v in late if (per_sub_values[(s.name, tid)]["_role"] == "lead")]
            if leads and len({canon_value(v) for _, v in leads}) == 1:
                late = leads
            else:
                report.conflicts.append(Conflict(tid, key, "Nhiều tệp cùng kỳ báo cáo giá trị khác nhau", cur,
                                                 [{"file": s.name, "unit": s.unit, "period": s.period, "value": v}
                                                  for s, v in late]))
                for s, _ in late:
                    files[s.name].status = "partial"
                continue
        s, new = late[-1]
        if canon_value(new) == canon_value(cur):
            continue
        base = s.base.get(tid, {}).get(key)
        if base is not None and value_hash(cur) != base and not from_merge(tid, key, cur):
            report.conflicts.append(Conflict(tid, key, "Văn phòng đã sửa ô này sau khi giao tệp", cur,
                                             [{"file": s.name, "unit": s.unit, "period": s.period, "value": new}]))
            files[s.name].status = "partial"
            continue
        row, col = md.tasks.row_numbers[i], md.tasks.columns[key]
        changes.set(schema.TASKS.name, row, col, new)
        changes.log.append(LogEntry("merge", file=s.name, unit=s.unit, task_id=tid, field=FIELD_LABELS[key],
                                    old=cur, new=new, time=now))
        files[s.name].changes.append({"task_id": tid, "field": key, "old": canon_value(cur), "new": canon_value(new),
                                      "cell": md.tasks.cell(i, key)})
        touched_tasks[tid] = s

    # --- attributed lines of members and coordinators ------------------------------------------------
    lines_by_task: dict[str, dict[str, tuple[tuple[int, int], str, Submission]]] = {}
    for (tid, unit), items in sorted(contrib.items()):
        top = max(period_ym(s.period) for s, _ in items)
        late = [(s, v) for s, v in items if period_ym(s.period) == top]
        texts = {_member_text(v) for _, v in late}
        if len(texts) > 1:
            report.conflicts.append(Conflict(tid, "coordination_reports", "Cùng đơn vị gửi nhiều tệp cùng kỳ khác nhau",
                                             None, [{"file": s.name, "unit": unit, "period": s.period,
                                                     "value": _member_text(v)} for s, v in late]))
            for s, _ in late:
                files[s.name].status = "partial"
            continue
        s, vals = late[-1]
        text = texts.pop()
        if text:
            line = f"[{unit} – kỳ {top[1]:02d}/{top[0]}] {text}"
            lines_by_task.setdefault(tid, {})[unit] = (top, line, s)
    for tid, new_lines in sorted(lines_by_task.items()):
        i = index.get(tid)
        key = "coordination_reports"
        if i is None or key not in md.tasks.columns:
            for _, _, s in new_lines.values():
                files[s.name].problems.append(file_problem("column_missing", s.name, f"Sổ theo dõi thiếu cột “{FIELD_LABELS[key]}”; "
                                                              f"báo cáo phối hợp nhiệm vụ {tid} chỉ ghi vào Lịch sử.",
                                                      severity="warning"))
            continue
        cur = md.tasks.rows[i].get(key)
        existing, manual = _parse_lines(cur)
        merged = {u: (p, line) for u, (p, line) in existing.items()}
        for unit, (p, line, _s) in new_lines.items():
            if unit in merged and merged[unit][0] > p:
                continue  # a later period is already there
            merged[unit] = (p, line)
        text = "\n".join(manual + [merged[u][1] for u in sorted(merged)])
        if canon_value(text) == canon_value(cur):
            continue
        changes.set(schema.TASKS.name, md.tasks.row_numbers[i], md.tasks.columns[key], text)
        for unit, (_p, line, s) in sorted(new_lines.items()):
            if existing.get(unit, (None, None))[1] != line and merged[unit][1] == line:
                changes.log.append(LogEntry("merge", file=s.name, unit=unit, task_id=tid, field=FIELD_LABELS[key],
                                            old=existing.get(unit, (None, ""))[1], new=line, time=now))
                files[s.name].changes.append({"task_id": tid, "field": key, "old": existing.get(unit, (None, ""))[1],
                                              "new": line, "cell": md.tasks.cell(i, key)})
                touched_tasks.setdefault(tid, s)

    for tid, s in sorted(touched_tasks.items()):
        i = index[tid]
        for key, value in (("updated_at", now), ("updated_by", f"{s.unit} ({s.name})")):
            if key in md.tasks.columns:
                changes.set(schema.TASKS.name, md.tasks.row_numbers[i], md.tasks.columns[key], value)

    # Deadline state and colours follow the new statuses at once, as of the master's as-of date.
    from kehoach_xl.rules.refresh import derived_cells_for

    as_of = _as_date(md.settings.get("as_of")) or now.date()
    derived_cells_for(md, changes, sorted(index[tid] for tid in touched_tasks), as_of, config=config)

    # --- history: each period's reported state -------------------------------------------------------
    report.history_rows = _history(md, live, per_sub_values, hist_key, changes, now)
    for f in files.values():
        if f.status == "processed" and any(p.severity == "error" for p in f.problems):
            f.status = "partial"
    report.files = [files[s.name] for s in sorted(submissions, key=lambda s: s.name)]
    problems = [p for f in report.files for p in f.problems] + [c.problem() for c in report.conflicts]
    return Outcome(as_of=now.date(), changes=changes, problems=problems, result=report,
                   figures={"applied": report.applied, "files": len(report.files),
                            "rejected": sum(f.status == "rejected" for f in report.files),
                            "conflicts": len(report.conflicts), "history_rows": report.history_rows})


def _history(md: MasterData, live: Iterable[Submission], per_sub_values: dict[tuple[str, str], dict[str, Any]],
             hist_key: dict[tuple[str, str, str], list[dict[str, Any]]], changes: MasterChanges,
             now: dt.datetime) -> int:
    cols = md.history.columns if md.history.present else {}
    if not cols or "task_id" not in cols:
        return 0
    width = max(cols.values())
    index = md.task_index()
    seen: set[tuple[str, str, str]] = set()
    added = 0
    for s in sorted(live, key=lambda s: (s.period, s.unit, s.name)):
        for (name, tid), vals in sorted(per_sub_values.items()):
            if name != s.name:
                continue
            rec = {k: vals.get(k) for k in _HIST_FIELDS}
            if "contribution" in vals:
                rec["result"] = vals["contribution"]
            sig = tuple(canon_value(rec[k]) for k in _HIST_FIELDS)
            key = (s.period, tid, s.unit)
            prev = hist_key.get(key, [])
            if (prev and tuple(canon_value(prev[-1].get(k)) for k in _HIST_FIELDS) == sig) or (key, sig) in seen:
                continue
            seen.add((key, sig))  # type: ignore[arg-type]
            i = index.get(tid)
            state = md.tasks.rows[i].get("deadline_state") if i is not None else None
            full = {**rec, "period": s.period, "task_id": tid, "unit": s.unit, "deadline_state": state,
                    "recorded_at": now}
            row: list[Any] = [None] * width
            for k, j in cols.items():
                row[j - 1] = full.get(k)
            changes.append(schema.HISTORY.name, row)
            added += 1
    return added


def _period_text(period: str) -> str:
    """"2024-05" → "tháng 05/2024", as the unit workbook shows it."""
    if not period:
        return "(không xác định)"
    try:
        return f"tháng {period_label(period)}"
    except (ValueError, TypeError, KehoachError):
        return period


def problem_report_text(f: FileReport, conflicts: Sequence[Conflict]) -> str:
    lines = [f"BÁO CÁO KIỂM TRA TỆP: {f.file}",
             f"Đơn vị: {f.unit or '(không xác định)'}    Kỳ báo cáo: {_period_text(f.period)}",
             "Kết quả: " + {"rejected": "KHÔNG TỔNG HỢP — tệp bị trả lại.",
                            "partial": "Đã tổng hợp một phần; các ô dưới đây chưa được ghi.",
                            "processed": "Đã tổng hợp."}[f.status], ""]
    for n, p in enumerate(f.problems, start=1):
        sev = "Lỗi" if p.severity == "error" else "Lưu ý"
        where = ", ".join(x for x in (f"sheet “{p.sheet}”" if p.sheet else "", f"ô {p.cell}" if p.cell else "") if x)
        lines.append(f"{n}. [{sev}] {where + ': ' if where else ''}{p.message}")
    for c in conflicts:
        if any(v["file"] == f.file for v in c.values):
            vals = "; ".join(f"{v['unit']} ({v['file']}): “{vn.value(v['value'])}”" for v in c.values)
            lines.append(f"- [Xung đột] Nhiệm vụ {c.task_id}, cột “{FIELD_LABELS.get(c.field, c.field)}”: {c.reason}. "
                         f"Sổ theo dõi: “{vn.value(c.master_value)}”; báo cáo: {vals}. Văn phòng Sở sẽ quyết định.")
    if any(p.cell for p in f.problems):
        hint = ("Cách khắc phục: sửa các ô nêu trên trong tệp được giao (không đổi tên sheet, cột, không đổi mã "
                "nhiệm vụ), lưu dạng .xlsx rồi gửi lại cho Văn phòng Sở.")
    else:
        hint = ("Cách khắc phục: mở đúng tệp .xlsx Văn phòng Sở đã giao cho đơn vị, điền báo cáo vào đó, "
                "lưu lại (Excel Workbook .xlsx) rồi gửi lại cho Văn phòng Sở.")
    lines += ["", hint]
    return "\n".join(lines) + "\n"
