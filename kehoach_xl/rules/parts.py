"""Each unit's part of each task, and the task's status derived from its parts (pure).

A task's parts (``docs/units-merge-nightly.md``, "Phần việc của từng đơn vị"):

* a named lead (chủ trì) owns the task's own columns — its part is read from them;
* a collective lead ("Các phòng, đơn vị"): every member unit owns a part, read from its attributed
  line "[Đơn vị – kỳ MM/YYYY] …" in "Báo cáo của đơn vị phối hợp"; the synthesiser (tổng hợp chung)
  owns the task's own columns;
* a coordinating unit (phối hợp) owns a part read from its attributed line.

:func:`parts_of` builds them from the master as it stands, so it is also the migration of a master
written by 0.1.0 (one status per task, members' and coordinators' reports as text lines): every
attributed line becomes a part carrying the line itself, a line from a unit no longer named on the
task becomes a coordinating part, and a task whose lead is not in the sheet "Đơn vị" still gets a
lead part under the name as written. Nothing typed is lost; the master is not changed.

The rule that derives a task's status from its parts (:func:`derive_task_status`):

1. The parts that decide are those of the named leads, the members of a collective lead and the
   synthesiser. The synthesiser counts as a member: ``rules/assignments`` folds its own member part
   into its stronger role, so "every member" includes it. Coordinating parts never decide: a
   coordinator's silence never makes a task late or keeps it open.
2. The task is done ("Hoàn thành") when every deciding part is done; not started when none has
   started (no status, "Chưa thực hiện", no progress); otherwise in progress. A named lead alone
   therefore decides by itself.
3. Its progress is the MINIMUM of the deciding parts' progress (a done part without a figure counts
   100, a part with no figure 0 when another part has one). A task is only as far as its slowest
   part: with the mean, nine members at 100% and one that has not started read 90% — a figure
   that says "nearly done" about a task the plan cannot close, and hides the one unit the briefing
   must name. The minimum can never exceed what any owner reported.
4. The office's hand wins, and is shown. The sheet "Phần việc" records, on every row of a task, the
   (status, progress) the program last derived for it (column "Trạng thái nhiệm vụ (tính từ phần
   việc)"). A task whose status/progress cells differ both from that record and from what the
   parts derive now was set by the office since the program wrote it: :func:`task_status` keeps
   it (``hand_set``), nothing is written back, and the column "Ghi chú" of the task's part rows
   says "Văn phòng đặt trạng thái nhiệm vụ: …". Clearing the cell, or typing what the parts
   derive, hands the task back to the derivation. An empty progress cell claims nothing.
   A task without a record yet (a master migrated from 0.1.0, a task just added) falls back to
   the history: when the cells differ from the derivation and no unit report wrote the status
   (no report in "Lịch sử" by the task's lead or synthesiser carries it), the office set it by
   hand; when a report did — a synthesiser declaring done while a member is still open — the
   parts win. With no history at all, the hand-set status wins.
5. Refresh, merge, nightly and the Excel buttons all derive through :func:`task_statuses` and
   write through :func:`derived_status_cells` (``rules/refresh.parts_step``): the derived status
   and progress go into the task's cells unless hand-set; an empty status cell is not filled with
   "Chưa thực hiện", and a progress the parts cannot give is never cleared.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from kehoach_xl import vn
from kehoach_xl.model import schema
from kehoach_xl.model.apply import same_value
from kehoach_xl.model.changes import CellValue, LogEntry, MasterChanges
from kehoach_xl.model.master import MasterData, find_sheet_name
from kehoach_xl.model.part import ATTRIBUTED_LINE, SOURCE_COLUMNS, SOURCE_LINE, SOURCE_NONE, SOURCE_SHEET, Part
from kehoach_xl.model.registry import Registry
from kehoach_xl.model.roles import ROLE_STRENGTH, Role
from kehoach_xl.rules.assignments import assignments
from kehoach_xl.rules.derive import Derived, derive, is_done
from kehoach_xl.rules.values import parse_percent, parse_status
from kehoach_xl.text import normalize_text
from kehoach_xl.vn import try_parse_period

__all__ = ["DECIDING_ROLES", "TaskStatus", "derive_task_status", "derived_status_cells", "parse_line_text",
           "part_state", "part_states", "parts_by_task", "parts_of", "parts_sheet_changes", "task_status",
           "task_statuses"]

# Roles whose parts decide the task's status (rule 1).
DECIDING_ROLES: tuple[Role, ...] = (Role.LEAD, Role.SYNTH, Role.MEMBER)

_STATUS_ALT = "|".join(re.escape(s) for s in schema.STATUSES)
# "Hoàn thành; 100%; hoàn thành ngày 01/05/2024. Kết quả. Khó khăn: …. Đề xuất: …" (rules/merge._member_text)
_HEAD = re.compile(
    rf"^(?:(?P<status>{_STATUS_ALT})(?:;\s*|\.\s*|$))?"
    r"(?:(?P<pct>\d{1,3}(?:,\d+)?)%(?:;\s*|\.\s*|$))?"
    r"(?:hoàn thành ngày (?P<date>\d{1,2}/\d{1,2}/\d{4})(?:\.\s*|$))?",
    re.IGNORECASE,
)
_DIFF, _PROP = "Khó khăn: ", "Đề xuất: "


def parse_line_text(text: str) -> dict[str, Any]:
    """The fields inside the text of an attributed line (the inverse of ``rules/merge._member_text``).

    A coordinator's contribution ("Đã góp ý dự thảo …") has no status: it all goes to ``result``.
    """
    text = normalize_text(text)
    out: dict[str, Any] = {"status": None, "progress": None, "completed_on": None,
                           "result": "", "difficulties": "", "proposals": ""}
    m = _HEAD.match(text)
    if m and m.end() > 0:
        if m["status"]:
            out["status"] = parse_status(m["status"])
        if m["pct"]:
            out["progress"] = float(parse_percent(m["pct"] + "%"))
        if m["date"]:
            out["completed_on"] = vn.parse_date(m["date"])
        text = text[m.end():]
    for key, label in (("proposals", _PROP), ("difficulties", _DIFF)):
        k = text.rfind(label)
        if k >= 0 and (k == 0 or text[k - 2:k] == ". "):
            out[key] = text[k + len(label):].strip()
            text = text[:k].rstrip(" ")
    out["result"] = text.strip()
    return out


def _status(value: Any) -> str | None:
    if normalize_text(value) == "":
        return None
    try:
        return parse_status(value)
    except ValueError:
        return normalize_text(value)  # kept as typed: validation reports it


def _progress(value: Any) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(parse_percent(value))
    except (ValueError, TypeError):
        return None


def _date(value: Any) -> dt.date | None:
    try:
        return vn.parse_date(value)
    except (ValueError, TypeError, OverflowError):
        return None


def _latest_periods(md: MasterData) -> dict[tuple[str, str], str]:
    """(task, unit) → the latest period that unit reported on the task (sheet "Lịch sử")."""
    out: dict[tuple[str, str], str] = {}
    for r in md.history.rows if md.history.present else ():
        p = try_parse_period(r.get("period"))
        key = (normalize_text(r.get("task_id")), normalize_text(r.get("unit")))
        if p and p > out.get(key, ""):
            out[key] = p
    return out


def _column_part(tid: str, unit: str, role: Role, row: Mapping[str, Any], line: str = "",
                 period: str | None = None) -> Part:
    return Part(tid, unit, role, status=_status(row.get("status")), progress=_progress(row.get("progress")),
                completed_on=_date(row.get("completed_on")),
                result=normalize_text(row.get("result"), keep_newlines=True),
                difficulties=normalize_text(row.get("difficulties"), keep_newlines=True),
                proposals=normalize_text(row.get("proposals"), keep_newlines=True),
                period=period, source=SOURCE_COLUMNS, line=line)


def _line_part(tid: str, unit: str, role: Role, line: str) -> Part:
    m = ATTRIBUTED_LINE.match(line)
    assert m is not None
    f = parse_line_text(m["text"])
    return Part(tid, unit, role, status=f["status"], progress=f["progress"], completed_on=f["completed_on"],
                result=f["result"], difficulties=f["difficulties"], proposals=f["proposals"],
                period=f"{m['y']}-{m['m']}", source=SOURCE_LINE, line=line)


def _lines(cell: Any) -> list[tuple[str, str]]:
    """(unit as written, line) of each attributed line, in the cell's order."""
    out = []
    for line in normalize_text(cell, keep_newlines=True).split("\n"):
        m = ATTRIBUTED_LINE.match(line)
        if m:
            out.append((m["unit"].strip(), line))
    return out


def sheet_parts(md: MasterData) -> dict[tuple[str, str], Part]:
    """(task, unit) → the part as its row in the sheet "Phần việc" holds it (empty when the master has none).

    The sheet is the store of each part's values once the master has it; staff may type in it.
    Worked out once per read; a row whose cells an earlier step of the night read already gets
    the same Part again (the caller must not change the dict it gets).
    """
    return _sheet_rows(md)[0]


def _sheet_rows(md: MasterData) -> tuple[dict[tuple[str, str], Part], list[tuple[str, str]]]:
    """:func:`sheet_parts`, and the (task, unit) of each row of the sheet (``_row_key``), once per read."""
    return md.memo("sheet_parts", lambda: _sheet_parts(md))


def _sheet_parts(md: MasterData) -> tuple[dict[tuple[str, str], Part], list[tuple[str, str]]]:
    out: dict[tuple[str, str], Part] = {}
    keys: list[tuple[str, str]] = []
    if not md.parts.present:
        return out, keys
    for row in md.parts.rows:
        part = _sheet_part(row)
        if part is not None:
            key = (part.task_id, part.unit)  # one tuple for the dict and the list: 100,000 rows at 50,000 tasks
            out[key] = part
            keys.append(key)
        else:
            keys.append(_row_key(row))
    return out, keys


def _sheet_part(row: Mapping[str, Any]) -> Part | None:
    tid, unit = normalize_text(row.get("task_id")), normalize_text(row.get("unit"))
    if not (tid and unit):
        return None
    code = schema.PART_ROLE_CODES.get(normalize_text(row.get("role")), Role.COORD)
    return Part(tid, unit, Role(code), status=_status(row.get("status")),
                progress=_progress(row.get("progress")), completed_on=_date(row.get("completed_on")),
                result=normalize_text(row.get("result"), keep_newlines=True),
                difficulties=normalize_text(row.get("difficulties"), keep_newlines=True),
                proposals=normalize_text(row.get("proposals"), keep_newlines=True),
                period=try_parse_period(row.get("period")), source=SOURCE_SHEET)


def _as(p: Part, role: Role, line: str) -> Part:
    """``replace(p, role=role, line=line)``, without the copy when nothing changes (most parts)."""
    if p.role is role and p.line == line:
        return p
    return Part(p.task_id, p.unit, role, p.status, p.progress, p.completed_on, p.result, p.difficulties,
                p.proposals, p.period, p.source, line)


def parts_of(md: MasterData, registry: Registry | None = None, *, from_sheet: bool = True) -> list[Part]:
    """Every part of every task, in task order, strongest role first within a task.

    With the sheet "Phần việc" (``from_sheet``), each part's values are read from its row there;
    its role still comes from the task's units as they stand, and a row whose unit is no longer
    named on the task is kept under the role it had (nothing typed is lost). Without the sheet
    (a master written by 0.1.0), the values come from the task's columns and attributed lines.
    """
    if registry is None or registry.is_of(md):
        # Merge, refresh, validation and the summary of one night all ask for the same parts.
        return list(md.memo(("parts_of", from_sheet),
                            lambda: _parts_of(md, registry or Registry.from_master(md), from_sheet)))
    return _parts_of(md, registry, from_sheet)


def _parts_of(md: MasterData, registry: Registry, from_sheet: bool) -> list[Part]:
    stored = sheet_parts(md) if from_sheet else {}
    stored_by_task: dict[str, list[Part]] = {}
    for p in stored.values():
        stored_by_task.setdefault(p.task_id, []).append(p)
    roles: dict[str, dict[str, Role]] = {}
    for unit, items in assignments(md, registry).items():
        for a in items:
            roles.setdefault(a.task_id, {})[unit] = a.role
    periods: dict[tuple[str, str], str] | None = None  # from the history, only for a part the sheet lacks
    canonical: dict[str, str] = {}
    order = {u: i for i, u in enumerate(registry.unit_names)}
    out: list[Part] = []
    for row in md.tasks.rows:
        tid = normalize_text(row.get("id"))
        if not tid:
            continue
        owed = dict(roles.get(tid, {}))
        own_rows = tuple(stored_by_task.get(tid, ()))
        lines: dict[str, str] = {}
        for written, line in _lines(row.get("coordination_reports")):
            if written not in canonical:  # the same few names on every task: match each once
                canonical[written] = registry.match_unit(written).canonical or written
            unit = canonical[written]
            lines[unit] = line
            owed.setdefault(unit, Role.COORD)  # a unit no longer named on the task: its report stays
        if not any(r in DECIDING_ROLES for r in owed.values()) and normalize_text(row.get("lead_units")):
            # The lead cell names no unit of the sheet "Đơn vị": the lead part under the name as written.
            owed = {normalize_text(row.get("lead_units")): Role.LEAD, **owed}
        parts = []
        for unit, role in owed.items():
            line = lines.get(unit, "")
            s = stored.get((tid, unit)) if stored else None
            if s is not None:  # the sheet holds its values: the row's own columns are not read
                parts.append(_as(s, role, line))
            elif role in (Role.LEAD, Role.SYNTH):
                if periods is None:
                    periods = _latest_periods(md)
                parts.append(_column_part(tid, unit, role, row, line, periods.get((tid, unit))))
            elif line:
                parts.append(_line_part(tid, unit, role, line))
            else:
                parts.append(Part(tid, unit, role, source=SOURCE_NONE))
        if stored:
            parts = _with_stored(parts, stored, own_rows)
        parts.sort(key=lambda p: (ROLE_STRENGTH.index(p.role), order.get(p.unit, len(order)), p.unit))
        out.extend(parts)
    return out


def _with_stored(parts: list[Part], stored: Mapping[tuple[str, str], Part], rows: Iterable[Part]) -> list[Part]:
    """The task's parts with the values of their rows in the sheet; rows of units no longer named kept."""
    out = []
    for p in parts:
        s = stored.get((p.task_id, p.unit)) if p.source != SOURCE_SHEET else None
        out.append(p if s is None else _as(s, p.role, p.line))
    named = {p.unit for p in parts}
    # A unit no longer named on the task keeps its row and values, but no longer decides the task.
    out.extend(_as(r, Role.COORD, r.line) for r in rows if r.unit not in named)
    return out


def parts_by_task(parts: Iterable[Part]) -> dict[str, list[Part]]:
    out: dict[str, list[Part]] = {}
    for p in parts:
        out.setdefault(p.task_id, []).append(p)
    return out


def _started(p: Part) -> bool:
    return bool(p.status and p.status != schema.STATUS_NOT_STARTED) or bool(p.progress)


def derive_task_status(parts: Sequence[Part]) -> tuple[str, float | None]:
    """(status, progress) of a task from its parts, by the rule in this module's docstring."""
    deciding = [p for p in parts if p.role in DECIDING_ROLES]
    if not deciding:
        return schema.STATUS_NOT_STARTED, None
    if all(is_done(p.status) for p in deciding):
        status = schema.STATUS_DONE
    elif any(_started(p) for p in deciding):
        status = schema.STATUS_IN_PROGRESS
    else:
        status = schema.STATUS_NOT_STARTED
    figures = [100.0 if is_done(p.status) and p.progress is None else p.progress for p in deciding]
    known = [x for x in figures if x is not None]
    if not known:
        return status, None
    return status, min(x if x is not None else 0.0 for x in figures)


@dataclass(frozen=True, slots=True)
class TaskStatus:
    task_id: str
    status: str  # what the task's status is: the derived one, or the office's when hand_set
    progress: float | None
    derived_status: str
    derived_progress: float | None
    cell_status: str | None  # the task's status cell as the master holds it
    hand_set: bool  # the office set the cell by hand and it differs from the derived status
    # When the derived status is done: the day the last deciding part was done (None when one has no date).
    derived_completed_on: dt.date | None = None


def _owner_statuses(md: MasterData) -> dict[tuple[str, str], set[str | None]]:
    """(task, unit) → the statuses that unit's reports put in the sheet "Lịch sử"."""
    out: dict[tuple[str, str], set[str | None]] = {}
    for r in md.history.rows if md.history.present else ():
        key = (normalize_text(r.get("task_id")), normalize_text(r.get("unit")))
        out.setdefault(key, set()).add(_status(r.get("status")))
    return out


def recorded_statuses(md: MasterData) -> dict[str, tuple[str | None, float | None]]:
    """task → the (status, progress) the program last derived and wrote, from the sheet "Phần việc"
    (:func:`_recorded_statuses`, once per read: merge, refresh and validation all ask)."""
    return md.memo("recorded_statuses", lambda: _recorded_statuses(md))


def _recorded_statuses(md: MasterData) -> dict[str, tuple[str | None, float | None]]:
    """task → the (status, progress) the program last derived and wrote, from the sheet "Phần việc".

    Its column "Trạng thái nhiệm vụ (tính từ phần việc)" holds it ("Đang thực hiện; 40%"), on
    every row of the task.
    """
    out: dict[str, tuple[str | None, float | None]] = {}
    if not md.parts.present:
        return out
    parsed: dict[str, tuple[str | None, float | None]] = {}  # the same few texts on every row
    for row, (tid, _unit) in zip(md.parts.rows, _sheet_rows(md)[1], strict=True):
        if not tid or tid in out:
            continue
        text = normalize_text(row.get("task_status"))
        if text:
            if text not in parsed:
                f = parse_line_text(text)
                parsed[text] = (f["status"], f["progress"])
            out[tid] = parsed[text]
    return out


def status_record(status: str, progress: float | None) -> str:
    """The derived status as the parts sheet records it (read back by :func:`recorded_statuses`)."""
    if progress is None:
        return status
    try:
        return _status_record(status, progress)
    except TypeError:  # not a key
        return f"{status}; {vn.percent(progress)}"


@functools.lru_cache(maxsize=4096, typed=True)  # a few statuses and figures on every part row
def _status_record(status: str, progress: float) -> str:
    return f"{status}; {vn.percent(progress)}"


def task_status(md: MasterData, tid: str, parts: Sequence[Part], *,
                _index: Mapping[str, int] | None = None,
                _history: Mapping[tuple[str, str], set[str | None]] | _OwnerStatuses | None = None,
                _recorded: Mapping[str, tuple[str | None, float | None]] | None = None) -> TaskStatus:
    """The task's status: derived from its parts unless the office set the cell by hand (rule 4)."""
    ts = _task_status(md, tid, parts, _index=_index, _history=_history, _recorded=_recorded)
    if ts.derived_status != schema.STATUS_DONE:
        return ts
    dates = [p.completed_on for p in parts if p.role in DECIDING_ROLES]
    return replace(ts, derived_completed_on=max(dates) if dates and None not in dates else None)  # type: ignore[type-var]


def _task_status(md: MasterData, tid: str, parts: Sequence[Part], *,
                 _index: Mapping[str, int] | None = None,
                 _history: Mapping[tuple[str, str], set[str | None]] | _OwnerStatuses | None = None,
                 _recorded: Mapping[str, tuple[str | None, float | None]] | None = None) -> TaskStatus:
    status, progress = derive_task_status(parts)
    i = (md.task_index() if _index is None else _index).get(tid)
    row = md.tasks.rows[i] if i is not None else {}
    cell = _status(row.get("status"))
    cell_progress = _progress(row.get("progress"))
    recorded = (recorded_statuses(md) if _recorded is None else _recorded).get(tid)
    if recorded is not None:
        # The program recorded what it last derived: a cell that differs from that record, and from
        # what the parts derive now, was set by the office since.
        if cell is None or _agrees(cell, cell_progress, *recorded) or _agrees(cell, cell_progress, status, progress):
            return TaskStatus(tid, status, progress, status, progress, cell, False)
        return TaskStatus(tid, cell, cell_progress, status, progress, cell, True)
    if cell is None or _agrees(cell, cell_progress, status, progress):
        return TaskStatus(tid, status, progress, status, progress, cell, False)
    history = _owner_statuses(md) if _history is None else _history
    owners = {p.unit for p in parts if p.role in (Role.LEAD, Role.SYNTH)}
    if any(cell in history.get((tid, u), ()) for u in owners):  # a unit report wrote it: the parts win
        return TaskStatus(tid, status, progress, status, progress, cell, False)
    return TaskStatus(tid, cell, _progress(row.get("progress")), status, progress, cell, True)


def _agrees(cell: str | None, cell_progress: float | None, status: str | None, progress: float | None) -> bool:
    """The task's cells say what (status, progress) says; an empty progress cell claims nothing."""
    return cell == status and (cell_progress is None or progress is None or _same_pct(cell_progress, progress))


def _same_pct(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-9)


class _OwnerStatuses:
    """:func:`_owner_statuses`, worked out on the first question: only a task without a recorded
    status whose cells disagree with its parts asks, and the history is the master's largest sheet."""

    def __init__(self, md: MasterData) -> None:
        self._md: MasterData | None = md
        self._map: dict[tuple[str, str], set[str | None]] = {}

    def get(self, key: tuple[str, str], default: Any = ()) -> Any:
        if self._md is not None:
            self._map, self._md = _owner_statuses(self._md), None
        return self._map.get(key, default)


def task_statuses(md: MasterData, parts: Iterable[Part]) -> dict[str, TaskStatus]:
    index, history, recorded = md.task_index(), _OwnerStatuses(md), recorded_statuses(md)
    return {tid: task_status(md, tid, ps, _index=index, _history=history, _recorded=recorded)
            for tid, ps in parts_by_task(parts).items()}


def part_state(row: Mapping[str, Any], part: Part, as_of: dt.date, *, task_done: bool = False,
               plan_year: int | None = None, due_soon_days: int = 7, due_soon_unit: str = "calendar") -> Derived:
    """The part's deadline state: the task's deadline, the part's own status, progress and date.

    Every part is closed once the task is done (``task_done``, from :func:`task_status`): a
    coordinator has nothing left to contribute to, and a task the office closed by hand is closed
    for its members too. A task done only in a synthesiser's report is not done (rule 4), so its
    open members stay open.
    """
    status = part.status
    if task_done and not is_done(status):
        status = schema.STATUS_DONE
    # ``derive`` reads these cells only: a copy of the whole row per part was most of the cost.
    own = {"deadline_text": row.get("deadline_text"), "due_date": row.get("due_date"), "status": status,
           "completed_on": part.completed_on}
    return derive(own, as_of, plan_year=plan_year, due_soon_days=due_soon_days,
                  due_soon_unit=due_soon_unit)  # type: ignore[arg-type]


def part_states(md: MasterData, parts: Sequence[Part], as_of: dt.date, *, due_soon_days: int = 7,
                due_soon_unit: str = "calendar") -> list[Derived]:
    """:func:`part_state` of each part (same order), the task's status taken from :func:`task_status`."""
    index = md.task_index()
    statuses = task_statuses(md, parts)
    return [part_state(md.tasks.rows[index[p.task_id]], p, as_of, task_done=is_done(statuses[p.task_id].status),
                       plan_year=md.plan_year, due_soon_days=due_soon_days, due_soon_unit=due_soon_unit)
            for p in parts]


# --- the sheet "Phần việc" and the derived status written back -------------------------------------

HAND_SET_NOTE = "Văn phòng đặt trạng thái nhiệm vụ: {status}"  # the parts sheet's "Ghi chú" when hand_set
_TASK_TEXT_MAX = 160  # the task text in the parts sheet is a reminder of which task, not the task itself


def _short(text: Any) -> str | None:
    t = normalize_text(text).replace("\n", " ")
    return (t[: _TASK_TEXT_MAX - 1].rstrip() + "…") if len(t) > _TASK_TEXT_MAX else (t or None)


def _plan_number(row: Mapping[str, Any]) -> CellValue:
    """The task's number in the plan: "I.3" (group and STT), or the STT alone."""
    group, stt = normalize_text(row.get("group")), row.get("stt")
    if stt in (None, ""):
        return group or None
    return f"{group}.{normalize_text(stt)}" if group else stt


def part_row(part: Part, task: Mapping[str, Any], state: Derived, ts: TaskStatus,
             ident: tuple[CellValue, CellValue] | None = None) -> dict[str, CellValue]:
    """The part's row of the sheet "Phần việc", by column key (``ident``: the task's number and short
    text, when the caller has them already)."""
    progress = part.progress
    if progress is not None and float(progress).is_integer():
        progress = int(progress)
    number, text = ident if ident is not None else (_plan_number(task), _short(task.get("task")))
    return {
        "task_id": part.task_id, "stt": number, "task": text,
        "unit": part.unit, "role": schema.PART_ROLE_LABELS.get(part.role, str(part.role)),
        "status": part.status, "progress": progress, "completed_on": part.completed_on,
        "result": part.result or None, "difficulties": part.difficulties or None, "proposals": part.proposals or None,
        "period": _period_label(part.period) if part.period else None,
        "due_date": state.due_date, "deadline_state": schema.DEADLINE_STATES[state.deadline_state],
        "task_status": status_record(ts.derived_status, ts.derived_progress),
        "note": HAND_SET_NOTE.format(status=ts.cell_status) if ts.hand_set else None,
    }


_period_label = functools.lru_cache(maxsize=4096)(vn.period_label)  # "2025-04" → "04/2025" on every part row


def _row_key(row: Mapping[str, Any]) -> tuple[str, str]:
    return normalize_text(row.get("task_id")), normalize_text(row.get("unit"))


def parts_sheet_changes(md: MasterData, parts: Sequence[Part], as_of: dt.date, *,
                        statuses: Mapping[str, TaskStatus] | None = None, due_soon_days: int = 7,
                        due_soon_unit: str = "calendar", tasks: Sequence[Mapping[str, Any]] | None = None
                        ) -> MasterChanges:
    """The cells of the sheet "Phần việc" that differ from ``parts``, or the whole sheet when the master has none.

    ``tasks``: the task rows as they will be (a merge's pending cells applied); default the master's.
    A part already in the sheet is updated in place (its row found by task and unit, so staff may
    sort or filter the Table); a new part is appended; a row is never deleted. A master without
    the sheet gets it whole (``MasterChanges.new_sheets``), which the writer grafts into the file.
    """
    ch = MasterChanges()
    if not md.tasks.present:
        return ch
    keys = schema.PARTS.keys
    rows = _part_rows(md, parts, as_of, statuses, due_soon_days, due_soon_unit, tasks)
    if not md.parts.present:
        ch.new_sheets[schema.PARTS.name] = [[c.header for c in schema.PARTS.columns],
                                            *([r[k] for k in keys] for r in rows)]
        return ch
    sd = md.parts
    name = find_sheet_name(md.sheet_names, schema.PARTS.name) or schema.PARTS.name
    at = {k: i for i, k in enumerate(_sheet_rows(md)[1])}
    width = max(sd.columns.values(), default=0)
    # Each part's row is compared as it is made, not gathered first: at 50,000 tasks the parts
    # sheet has ~150,000 rows, and holding them all as dicts cost ~150 MiB of a merge's peak.
    for r in rows:
        i = at.get(_row_key(r))
        if i is None:
            if width:
                line: list[CellValue] = [None] * width
                for k, j in sd.columns.items():
                    line[j - 1] = r[k]
                ch.append(name, line)
            continue
        old = sd.rows[i]
        for k, j in sd.columns.items():
            o = old.get(k)
            if o != r[k] and not same_value(o, r[k]):  # the cheap test first: most cells are unchanged
                ch.set(name, sd.row_numbers[i], j, r[k])
    return ch


def _part_rows(md: MasterData, parts: Sequence[Part], as_of: dt.date, statuses: Mapping[str, TaskStatus] | None,
               due_soon_days: int, due_soon_unit: str, tasks: Sequence[Mapping[str, Any]] | None
               ) -> Iterator[dict[str, CellValue]]:
    """Each part's row of "Phần việc" as it should be, one at a time."""
    rows_in = md.tasks.rows if tasks is None else tasks
    index = md.task_index()
    statuses = statuses if statuses is not None else task_statuses(md, parts)
    idents: dict[int, tuple[CellValue, CellValue]] = {}  # a task's number and text, once per task
    for p in parts:
        i = index.get(p.task_id)
        if i is None:
            continue
        task = rows_in[i]
        ts = statuses[p.task_id]
        state = part_state(task, p, as_of, task_done=is_done(ts.status), plan_year=md.plan_year,
                           due_soon_days=due_soon_days, due_soon_unit=due_soon_unit)
        if i not in idents:
            idents[i] = (_plan_number(task), _short(task.get("task")))
        yield part_row(p, task, state, ts, idents[i])


def reported_over_hand(md: MasterData, statuses: Mapping[str, TaskStatus],
                       written: Iterable[tuple[int, str]]) -> dict[str, TaskStatus]:
    """``statuses`` with the hand-set ones whose status or progress cell a unit's report writes in the
    same change set handed back to the derivation: a cell a report wrote is not the office's hand."""
    rows = {i for i, key in written if key in ("status", "progress")}
    if not rows:
        return dict(statuses)
    index = md.task_index()
    return {tid: replace(ts, status=ts.derived_status, progress=ts.derived_progress, hand_set=False)
            if ts.hand_set and index.get(tid) in rows else ts for tid, ts in statuses.items()}


def derived_status_cells(md: MasterData, statuses: Mapping[str, TaskStatus],
                         written: Iterable[tuple[int, str]] = (), *,
                         tasks: Sequence[Mapping[str, Any]] | None = None) -> dict[int, dict[str, CellValue]]:
    """Task row index → the status/progress/completion-date cells to write: what the parts derive, unless hand-set.

    ``written``: (row index, key) cells a unit's report already sets in this change set (a merge);
    a cell a report wrote is not the office's hand. ``tasks``: the rows as they will be (compared
    with what the parts derive; default the master's). An empty status cell is left empty while the
    task is not started, and a progress the parts cannot give (no figure) is never cleared.
    """
    out: dict[int, dict[str, CellValue]] = {}
    index = md.task_index()
    for tid, ts in reported_over_hand(md, statuses, written).items():
        i = index.get(tid)
        if i is None or ts.hand_set:
            continue
        row = (md.tasks.rows if tasks is None else tasks)[i]
        cells: dict[str, CellValue] = {}
        cell = _status(row.get("status"))
        if ts.derived_status != cell and not (cell is None and ts.derived_status == schema.STATUS_NOT_STARTED):
            cells["status"] = ts.derived_status
        p = ts.derived_progress
        if p is not None and not _same_pct(_progress(row.get("progress")), p):
            cells["progress"] = int(p) if float(p).is_integer() else p
        # The completion date follows: the last deciding part's when done, none while a part is open
        # (each unit's own date stays in its row of "Phần việc").
        done_on = _date(row.get("completed_on"))
        if ts.derived_status == schema.STATUS_DONE:
            if ts.derived_completed_on is not None and done_on != ts.derived_completed_on:
                cells["completed_on"] = ts.derived_completed_on
        elif done_on is not None or normalize_text(row.get("completed_on")):
            cells["completed_on"] = None
        if cells:
            out[i] = cells
    return out


def write_derived_status(md: MasterData, ch: MasterChanges, cells: Mapping[int, Mapping[str, CellValue]],
                         *, time: dt.datetime | None = None) -> None:
    """Put :func:`derived_status_cells` into ``ch`` (with a log row each), where the master has the columns."""
    name = find_sheet_name(md.sheet_names, schema.TASKS.name)
    sd = md.tasks
    if not name:
        return
    for i, values in sorted(cells.items()):
        for key, v in values.items():
            if key not in sd.columns:
                continue
            ch.set(name, sd.row_numbers[i], sd.columns[key], v)
            ch.log.append(LogEntry("derive", task_id=normalize_text(sd.rows[i].get("id")),
                                   field=schema.TASKS.col(key).header, old=sd.rows[i].get(key), new=v, time=time))
