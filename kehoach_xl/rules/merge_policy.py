"""Who may write what in a merge, and what wins: the merge's decisions as two small tables (pure).

``OWNERSHIP`` says, for a unit's role on a task and a field it reported, where the report goes:
into the task's own column (the lead and the synthesiser own status … proposals), into the unit's
attributed line in "Báo cáo của đơn vị phối hợp" (members of a collective lead, coordinating
units), or nowhere. ``RULES`` then says, for that kind of report, which decision a
:class:`Situation` leads to: the first rule whose condition holds decides. :func:`decide` reads
both tables and returns one :class:`Verdict` — a :class:`Decision` and the :class:`Reason` (a
stable slug with its Vietnamese message template) — per file and field.

``rules/merge.compute_merge`` builds each situation from the master and the submissions and turns
verdicts into cells, log rows, problems and conflicts; nothing here reads a workbook.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, StrEnum

from kehoach_xl.model.problem import ERROR, WARNING
from kehoach_xl.model.roles import FileStatus, Role

__all__ = ["Decision", "Field", "FileStatus", "Ownership", "Period", "Reason", "Rivals", "Role", "Situation",
           "Verdict", "decide", "decide_for", "decide_part", "owns_columns", "ownership", "reports_as_line"]


class Field(StrEnum):
    """What a unit reports on a task (the workbook's yellow cells)."""

    STATUS = "status"
    PROGRESS = "progress"
    COMPLETED_ON = "completed_on"
    RESULT = "result"
    DIFFICULTIES = "difficulties"
    PROPOSALS = "proposals"
    CONTRIBUTION = "contribution"  # a coordinating unit's "Nội dung phối hợp"


class Ownership(Enum):
    COLUMN = "column"  # the unit owns the task's own column for this field
    LINE = "line"  # the report becomes the unit's attributed line "[Đơn vị – kỳ MM/YYYY] …"
    NONE = "none"  # not the unit's to write (kept in the history sheet only)


_OWNER_FIELDS = (Field.STATUS, Field.PROGRESS, Field.COMPLETED_ON, Field.RESULT, Field.DIFFICULTIES,
                 Field.PROPOSALS)

OWNERSHIP: dict[tuple[Role, Field], Ownership] = {
    **{(r, f): Ownership.COLUMN for r in (Role.LEAD, Role.SYNTH) for f in _OWNER_FIELDS},
    **{(r, Field.CONTRIBUTION): Ownership.NONE for r in (Role.LEAD, Role.SYNTH)},
    **{(r, f): Ownership.LINE for r in (Role.MEMBER, Role.COORD) for f in Field},
}


def ownership(role: str, field: str) -> Ownership:
    """Where ``role``'s report of ``field`` goes; a role or field the table does not know goes nowhere."""
    return OWNERSHIP.get((role, field), Ownership.NONE)  # type: ignore[call-overload]


def owns_columns(role: str) -> bool:
    """The role writes the task's own columns (the lead, the synthesiser)."""
    return any(ownership(role, f) is Ownership.COLUMN for f in Field)


def reports_as_line(role: str) -> bool:
    """Everything this role reports on a task becomes one attributed line."""
    return all(ownership(role, f) is Ownership.LINE for f in Field)


class Period(Enum):
    """The submission's period against the other reports of the same task and field."""

    LATEST = "latest"  # the latest period reported, in this merge and in the master's history
    OLDER_THAN_BATCH = "older_than_batch"  # another file in this merge reports a later period
    OLDER_THAN_MASTER = "older_than_master"  # the master already holds a later period's report


class Rivals(Enum):
    """Other files of the same (latest) period reporting the same field."""

    NONE = "none"  # none, or all agree and this file carries the value (the last of them)
    SAME_VALUE = "same_value"  # another file reports the same value and carries it
    LEAD_DIFFERS = "lead_differs"  # files differ; the lead units agree and win over this file
    DISAGREE = "disagree"  # files differ and no lead settles it


@dataclass(frozen=True)
class Situation:
    period: Period = Period.LATEST
    rivals: Rivals = Rivals.NONE
    target_missing: bool = False  # the master has no such task, or no column for the field
    as_issued: bool = False  # the value is the one the workbook was issued with: not a report
    empty: bool = False  # an attributed line with nothing to say
    same_as_master: bool = False  # the master already holds this value (this line)
    office_edited: bool = False  # the master's value changed since the workbook was issued (base hash), not by a merge


class Decision(StrEnum):
    APPLY = "apply"  # write the value into the task's column
    APPEND_ATTRIBUTED_LINE = "append_attributed_line"  # write (or replace) the unit's line
    CONFLICT = "conflict"  # write nothing; report both values; the office decides
    IGNORE_OLDER_PERIOD = "ignore_older_period"
    IGNORE_NOT_OWNER = "ignore_not_owner"
    IGNORE_AS_ISSUED = "ignore_as_issued"
    IGNORE_DUPLICATE = "ignore_duplicate"  # the same value comes from another file
    IGNORE_LEAD_WINS = "ignore_lead_wins"
    IGNORE_UNCHANGED = "ignore_unchanged"  # the master already holds it
    IGNORE_EMPTY = "ignore_empty"
    IGNORE_NO_TARGET = "ignore_no_target"

    @property
    def writes(self) -> bool:
        return self in (Decision.APPLY, Decision.APPEND_ATTRIBUTED_LINE)


@dataclass(frozen=True)
class Reason:
    """Why: a stable slug and, when the unit is told, the Vietnamese message template and its severity."""

    slug: str
    template: str = ""  # str.format fields: task_id, label, latest (MM/YYYY), period (MM/YYYY)
    severity: str = ""  # "" when the reason is not reported to the unit as a problem

    def message(self, **values: str) -> str:
        return self.template.format(**values)


class Reasons:
    OWNER = Reason("owner")
    NOT_OWNER = Reason("not_owner")
    TASK_OR_COLUMN_MISSING = Reason(
        "task_or_column_missing", "Sổ theo dõi không có nhiệm vụ {task_id} hoặc cột “{label}”; không ghi được.", ERROR)
    COLUMN_MISSING = Reason(
        "column_missing", "Sổ theo dõi thiếu cột “{label}”; báo cáo phối hợp nhiệm vụ {task_id} chỉ ghi vào Lịch sử.",
        WARNING)
    NEWER_REPORT_EXISTS = Reason(
        "newer_report_exists", "Nhiệm vụ {task_id}: sổ đã có báo cáo kỳ mới hơn ({latest}); “{label}” của kỳ {period} "
        "chỉ được ghi vào Lịch sử.", WARNING)
    LATER_FILE = Reason("later_period_in_merge")
    LATER_LINE = Reason("later_line_in_master")
    AS_ISSUED = Reason("left_as_issued")
    SAME_PERIOD_DISAGREE = Reason("same_period_disagree", "Nhiều tệp cùng kỳ báo cáo giá trị khác nhau")
    SAME_UNIT_DISAGREE = Reason("same_unit_disagree", "Cùng đơn vị gửi nhiều tệp cùng kỳ khác nhau")
    OFFICE_EDITED = Reason("office_edited", "Văn phòng đã sửa ô này sau khi giao tệp")
    LEAD_WINS = Reason("lead_wins")
    DUPLICATE = Reason("same_value_other_file")
    UNCHANGED = Reason("unchanged")
    EMPTY = Reason("empty_line")


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    reason: Reason


@dataclass(frozen=True)
class Rule:
    when: Callable[[Situation], bool]
    decision: Decision
    reason: Reason


def _always(_: Situation) -> bool:
    return True


# The first rule that holds decides. The order is the policy: read it top to bottom.
RULES: dict[Ownership, tuple[Rule, ...]] = {
    Ownership.COLUMN: (
        Rule(lambda s: s.target_missing, Decision.IGNORE_NO_TARGET, Reasons.TASK_OR_COLUMN_MISSING),
        Rule(lambda s: s.as_issued, Decision.IGNORE_AS_ISSUED, Reasons.AS_ISSUED),
        Rule(lambda s: s.period is Period.OLDER_THAN_MASTER, Decision.IGNORE_OLDER_PERIOD, Reasons.NEWER_REPORT_EXISTS),
        Rule(lambda s: s.period is Period.OLDER_THAN_BATCH, Decision.IGNORE_OLDER_PERIOD, Reasons.LATER_FILE),
        Rule(lambda s: s.rivals is Rivals.DISAGREE, Decision.CONFLICT, Reasons.SAME_PERIOD_DISAGREE),
        Rule(lambda s: s.rivals is Rivals.LEAD_DIFFERS, Decision.IGNORE_LEAD_WINS, Reasons.LEAD_WINS),
        Rule(lambda s: s.rivals is Rivals.SAME_VALUE, Decision.IGNORE_DUPLICATE, Reasons.DUPLICATE),
        Rule(lambda s: s.same_as_master, Decision.IGNORE_UNCHANGED, Reasons.UNCHANGED),
        Rule(lambda s: s.office_edited, Decision.CONFLICT, Reasons.OFFICE_EDITED),
        Rule(_always, Decision.APPLY, Reasons.OWNER),
    ),
    Ownership.LINE: (
        Rule(lambda s: s.period is Period.OLDER_THAN_BATCH, Decision.IGNORE_OLDER_PERIOD, Reasons.LATER_FILE),
        Rule(lambda s: s.rivals is Rivals.DISAGREE, Decision.CONFLICT, Reasons.SAME_UNIT_DISAGREE),
        Rule(lambda s: s.rivals is not Rivals.NONE, Decision.IGNORE_DUPLICATE, Reasons.DUPLICATE),
        Rule(lambda s: s.empty, Decision.IGNORE_EMPTY, Reasons.EMPTY),
        Rule(lambda s: s.target_missing, Decision.IGNORE_NO_TARGET, Reasons.COLUMN_MISSING),
        Rule(lambda s: s.period is Period.OLDER_THAN_MASTER, Decision.IGNORE_OLDER_PERIOD, Reasons.LATER_LINE),
        Rule(lambda s: s.same_as_master, Decision.IGNORE_UNCHANGED, Reasons.UNCHANGED),
        Rule(_always, Decision.APPEND_ATTRIBUTED_LINE, Reasons.OWNER),
    ),
    Ownership.NONE: (
        Rule(_always, Decision.IGNORE_NOT_OWNER, Reasons.NOT_OWNER),
    ),
}


@functools.lru_cache(maxsize=1024)  # a few hundred situations: each decided once, not per cell of a merge
def decide_for(kind: Ownership, situation: Situation) -> Verdict:
    rule = next(r for r in RULES[kind] if r.when(situation))
    return Verdict(rule.decision, rule.reason)


def decide(role: str, field: str, situation: Situation = Situation()) -> Verdict:
    """The one decision for ``role``'s report of ``field`` in ``situation``."""
    return decide_for(ownership(role, field), situation)


# A unit's report of its own part (its row in the sheet "Phần việc"), field by field. The row is
# the store of the part's values; staff may type in it, and what they typed is an office edit.
PART_RULES: tuple[Rule, ...] = (
    Rule(lambda s: s.target_missing, Decision.IGNORE_NO_TARGET, Reason("part_missing")),
    Rule(lambda s: s.period is Period.OLDER_THAN_MASTER, Decision.IGNORE_OLDER_PERIOD, Reason("newer_part_report")),
    Rule(lambda s: s.rivals is Rivals.DISAGREE, Decision.IGNORE_DUPLICATE, Reason("same_unit_disagree_part")),
    Rule(lambda s: s.same_as_master, Decision.IGNORE_UNCHANGED, Reasons.UNCHANGED),
    Rule(lambda s: s.office_edited, Decision.CONFLICT, Reason(
        "part_office_edited", "Văn phòng đã sửa phần việc này trong sheet “Phần việc”; giữ giá trị văn phòng nhập")),
    Rule(_always, Decision.APPLY, Reasons.OWNER),
)


@functools.lru_cache(maxsize=1024)
def decide_part(situation: Situation) -> Verdict:
    """The decision for one field of a unit's report of its own part (:data:`PART_RULES`).

    Files of the same unit and period that disagree are already a conflict on the task (its
    column or the unit's attributed line), so the part keeps its value without a second problem.
    """
    rule = next(r for r in PART_RULES if r.when(situation))
    return Verdict(rule.decision, rule.reason)
