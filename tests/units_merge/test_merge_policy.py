"""The merge policy as a table: role × field × situation → decision (rules/merge_policy.py)."""

from __future__ import annotations

import itertools
import json

import pytest

from kehoach_xl.model import schema
from kehoach_xl.model.roles import FileStatus, Role
from kehoach_xl.rules.merge import FileReport
from kehoach_xl.rules.merge_policy import (
    OWNERSHIP,
    RULES,
    Decision,
    Field,
    Ownership,
    Period,
    Reasons,
    Rivals,
    Situation,
    decide,
    decide_for,
    ownership,
    owns_columns,
    reports_as_line,
)

S = Situation
OWNER_FIELDS = [f for f in Field if f is not Field.CONTRIBUTION]
LATER_MASTER, LATER_FILE = Period.OLDER_THAN_MASTER, Period.OLDER_THAN_BATCH

# (role, field, situation, decision, reason slug) — read a row as a sentence:
# "the lead reporting progress, when the master holds a later period, is ignored (newer_report_exists)".
TABLE = [
    # the owners (lead, synthesiser) write the task's own columns
    (Role.LEAD, Field.STATUS, S(), Decision.APPLY, "owner"),
    (Role.SYNTH, Field.PROGRESS, S(), Decision.APPLY, "owner"),
    (Role.LEAD, Field.RESULT, S(target_missing=True), Decision.IGNORE_NO_TARGET, "task_or_column_missing"),
    (Role.LEAD, Field.RESULT, S(target_missing=True, as_issued=True), Decision.IGNORE_NO_TARGET,
     "task_or_column_missing"),
    (Role.LEAD, Field.PROGRESS, S(as_issued=True, office_edited=True), Decision.IGNORE_AS_ISSUED, "left_as_issued"),
    (Role.LEAD, Field.PROGRESS, S(period=LATER_MASTER), Decision.IGNORE_OLDER_PERIOD, "newer_report_exists"),
    (Role.SYNTH, Field.COMPLETED_ON, S(period=LATER_MASTER, rivals=Rivals.DISAGREE), Decision.IGNORE_OLDER_PERIOD,
     "newer_report_exists"),
    (Role.LEAD, Field.DIFFICULTIES, S(period=LATER_FILE), Decision.IGNORE_OLDER_PERIOD, "later_period_in_merge"),
    (Role.LEAD, Field.DIFFICULTIES, S(period=LATER_FILE, rivals=Rivals.DISAGREE), Decision.IGNORE_OLDER_PERIOD,
     "later_period_in_merge"),
    (Role.LEAD, Field.STATUS, S(rivals=Rivals.DISAGREE), Decision.CONFLICT, "same_period_disagree"),
    (Role.SYNTH, Field.STATUS, S(rivals=Rivals.LEAD_DIFFERS), Decision.IGNORE_LEAD_WINS, "lead_wins"),
    (Role.LEAD, Field.PROPOSALS, S(rivals=Rivals.SAME_VALUE), Decision.IGNORE_DUPLICATE, "same_value_other_file"),
    (Role.LEAD, Field.RESULT, S(same_as_master=True, office_edited=True), Decision.IGNORE_UNCHANGED, "unchanged"),
    (Role.LEAD, Field.RESULT, S(office_edited=True), Decision.CONFLICT, "office_edited"),
    (Role.SYNTH, Field.RESULT, S(office_edited=True), Decision.CONFLICT, "office_edited"),
    # a contribution is not an owner's field: the history sheet keeps it, no cell does
    (Role.LEAD, Field.CONTRIBUTION, S(), Decision.IGNORE_NOT_OWNER, "not_owner"),
    (Role.SYNTH, Field.CONTRIBUTION, S(office_edited=True), Decision.IGNORE_NOT_OWNER, "not_owner"),
    # members of a collective lead and coordinating units: one attributed line each
    (Role.MEMBER, Field.STATUS, S(), Decision.APPEND_ATTRIBUTED_LINE, "owner"),
    (Role.MEMBER, Field.RESULT, S(office_edited=True), Decision.APPEND_ATTRIBUTED_LINE, "owner"),
    (Role.COORD, Field.CONTRIBUTION, S(), Decision.APPEND_ATTRIBUTED_LINE, "owner"),
    (Role.COORD, Field.CONTRIBUTION, S(as_issued=True), Decision.APPEND_ATTRIBUTED_LINE, "owner"),
    (Role.COORD, Field.CONTRIBUTION, S(period=LATER_FILE, rivals=Rivals.DISAGREE), Decision.IGNORE_OLDER_PERIOD,
     "later_period_in_merge"),
    (Role.COORD, Field.CONTRIBUTION, S(rivals=Rivals.DISAGREE, target_missing=True), Decision.CONFLICT,
     "same_unit_disagree"),
    (Role.MEMBER, Field.PROGRESS, S(rivals=Rivals.SAME_VALUE), Decision.IGNORE_DUPLICATE, "same_value_other_file"),
    (Role.MEMBER, Field.PROGRESS, S(empty=True, target_missing=True), Decision.IGNORE_EMPTY, "empty_line"),
    (Role.COORD, Field.CONTRIBUTION, S(target_missing=True), Decision.IGNORE_NO_TARGET, "column_missing"),
    (Role.COORD, Field.CONTRIBUTION, S(target_missing=True, period=LATER_MASTER), Decision.IGNORE_NO_TARGET,
     "column_missing"),
    (Role.MEMBER, Field.STATUS, S(period=LATER_MASTER), Decision.IGNORE_OLDER_PERIOD, "later_line_in_master"),
    (Role.MEMBER, Field.STATUS, S(period=LATER_MASTER, same_as_master=True), Decision.IGNORE_OLDER_PERIOD,
     "later_line_in_master"),
    (Role.COORD, Field.CONTRIBUTION, S(same_as_master=True), Decision.IGNORE_UNCHANGED, "unchanged"),
    # a role the table does not know writes nothing
    ("weird", Field.STATUS, S(), Decision.IGNORE_NOT_OWNER, "not_owner"),
    (Role.LEAD, "deadline_text", S(), Decision.IGNORE_NOT_OWNER, "not_owner"),
]


@pytest.mark.parametrize(("role", "field", "situation", "decision", "slug"), TABLE,
                         ids=[f"{r}-{f}-{d}-{n}" for n, (r, f, _s, d, _slug) in enumerate(TABLE)])
def test_decision_table(role, field, situation, decision, slug):
    verdict = decide(role, field, situation)
    assert (verdict.decision, verdict.reason.slug) == (decision, slug)


def _all_situations():
    flags = itertools.product([False, True], repeat=5)
    for period, rivals, (missing, issued, empty, same, edited) in itertools.product(Period, Rivals, flags):
        yield Situation(period, rivals, missing, issued, empty, same, edited)


def test_every_role_and_field_has_a_decision_in_every_situation():
    assert set(OWNERSHIP) == set(itertools.product(Role, Field))  # no gaps in the ownership table
    situations = list(_all_situations())
    for role, fld in itertools.product(Role, Field):
        for situation in situations:
            assert isinstance(decide(role, fld, situation).decision, Decision)


def test_every_rule_is_reached_by_a_row_of_the_table():
    used = {(ownership(r, f), decide(r, f, s).reason) for r, f, s, _d, _slug in TABLE}
    for kind, rules in RULES.items():
        for rule in rules:
            assert (kind, rule.reason) in used, (kind, rule.reason.slug)


def test_ownership_by_role():
    assert {r for r in Role if owns_columns(r)} == {Role.LEAD, Role.SYNTH}
    assert {r for r in Role if reports_as_line(r)} == {Role.MEMBER, Role.COORD}
    # the owners' fields are exactly the fields units report on the task's row
    assert tuple(f for f in Field if ownership(Role.LEAD, f) is Ownership.COLUMN) == schema.UNIT_FIELDS
    assert decide_for(Ownership.NONE, Situation()).decision is Decision.IGNORE_NOT_OWNER


def test_only_apply_and_append_write():
    assert {d for d in Decision if d.writes} == {Decision.APPLY, Decision.APPEND_ATTRIBUTED_LINE}


def test_reasons_told_to_units_keep_their_wording():
    assert Reasons.NEWER_REPORT_EXISTS.message(task_id="T1", label="Tiến độ (%)", latest="06/2024",
                                               period="05/2024") == (
        "Nhiệm vụ T1: sổ đã có báo cáo kỳ mới hơn (06/2024); “Tiến độ (%)” của kỳ 05/2024 chỉ được ghi vào Lịch sử.")
    assert Reasons.TASK_OR_COLUMN_MISSING.severity == "error"
    assert Reasons.COLUMN_MISSING.severity == Reasons.NEWER_REPORT_EXISTS.severity == "warning"
    assert Reasons.OFFICE_EDITED.template == "Văn phòng đã sửa ô này sau khi giao tệp"


def test_roles_and_file_statuses_stay_the_strings_of_the_json():
    assert [str(r) for r in Role] == ["lead", "synth", "member", "coord"]
    assert Role.COORD == "coord" and {"lead": 1}[Role.LEAD] == 1
    report = FileReport(file="a.xlsx", status=FileStatus.PARTIAL)
    assert json.dumps(report.to_dict()["status"]) == '"partial"'
    assert FileReport(file="b.xlsx").status == "processed"
    assert {str(s) for s in FileStatus} == {"processed", "partial", "rejected", "left"}


def test_merge_functions_stay_small():
    """compute_merge is an orchestration of small functions: none over 40 lines (it was one of 171)."""
    import ast
    from pathlib import Path

    import kehoach_xl.rules.merge as merge_module
    import kehoach_xl.rules.merge_policy as policy_module

    for module in (merge_module, policy_module):
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                assert node.end_lineno - node.lineno + 1 <= 40, f"{module.__name__}.{node.name}"


# --- the table at work in compute_merge (in memory: submissions as read, no workbook) ------------------

def _merge_in_memory(tmp_path, reports, *, lines=None):
    """``reports``: (file, unit, period, role, {field: value}) on task T1; ``lines``: T1's line cell."""
    import datetime as dt
    from pathlib import Path

    from kehoach_xl.io.master_read import read_master
    from kehoach_xl.model.submission import Submission
    from kehoach_xl.rules.merge import compute_merge
    from tests.helpers import make_sample_master

    md = read_master(make_sample_master(tmp_path / "so.xlsx"))
    tid = md.tasks.rows[0]["id"]
    if lines is not None:
        md.tasks.rows[0]["coordination_reports"] = lines
    subs = []
    for name, unit, period, role, values in reports:
        sub = Submission(file=Path(name), unit=unit, period=period)
        for k, v in values.items():
            sub.add(tid, role, k, v)
        subs.append(sub)
    return tid, compute_merge(md, subs, as_of=dt.datetime(2024, 5, 31, 20)).result


def test_within_a_period_the_lead_wins_over_the_synthesiser(tmp_path):
    tid, report = _merge_in_memory(tmp_path, [
        ("a.xlsx", "Thanh tra Sở", "2024-05", "lead", {"result": "Của đơn vị chủ trì"}),
        ("b.xlsx", "Văn phòng Sở", "2024-05", "synth", {"result": "Của đơn vị tổng hợp"})])
    assert not report.conflicts
    assert [(f.file, [c.to_dict()["new"] for c in f.changes]) for f in report.files] == [
        ("a.xlsx", ["Của đơn vị chủ trì"]), ("b.xlsx", [])]


def test_the_same_value_from_two_files_is_written_once(tmp_path):
    tid, report = _merge_in_memory(tmp_path, [
        ("a.xlsx", "Thanh tra Sở", "2024-05", "lead", {"result": "Giống nhau"}),
        ("b.xlsx", "Văn phòng Sở", "2024-05", "lead", {"result": "Giống nhau"})])
    assert report.applied == 1 and not report.conflicts


def test_a_line_never_replaces_a_later_periods_line(tmp_path):
    later = "[Thanh tra Sở – kỳ 06/2024] Đã xong"
    tid, report = _merge_in_memory(tmp_path, [
        ("a.xlsx", "Thanh tra Sở", "2024-05", "coord", {"contribution": "Cử người"}),
        ("b.xlsx", "Văn phòng Sở", "2024-05", "coord", {"contribution": "Góp ý dự thảo"})], lines=later)
    (changed,) = [c.to_dict() for f in report.files for c in f.changes]
    assert (changed["old"], changed["new"]) == ("", "[Văn phòng Sở – kỳ 05/2024] Góp ý dự thảo")


def test_a_submission_takes_reports_through_add_and_lists_them_cell_by_cell() -> None:
    from pathlib import Path

    import pytest

    from kehoach_xl.model.submission import Entry, Submission

    sub = Submission(file=Path("a.xlsx"))
    sub.add("T1", "lead", "status", "Hoàn thành")
    sub.add("T2", "coord", "contribution", "Cử người")
    sub.add("T1", "coord", "progress", 100)  # a task keeps the role it was first read with
    assert sub.reports == {"T1": {"status": "Hoàn thành", "progress": 100}, "T2": {"contribution": "Cử người"}}
    assert sub.entries == (Entry("T1", "lead", "status", "Hoàn thành"), Entry("T1", "lead", "progress", 100),
                           Entry("T2", "coord", "contribution", "Cử người"))
    with pytest.raises(AttributeError):
        sub.entries.append(Entry("T3", "lead", "status", "x"))  # type: ignore[attr-defined]
