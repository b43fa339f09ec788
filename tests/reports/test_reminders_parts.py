"""Reminders and figures by unit from each unit's parts, on a simulated month (the demo).

The expectations are computed here from ``parts_of`` and the task's deadline, independently of
``reminders_for`` and ``unit_parts_table``."""

from __future__ import annotations

import datetime as dt

import pytest

from kehoach_xl.commands.demo import DEMO_AS_OF, DEMO_PERIOD, demo
from kehoach_xl.io.master_read import read_master
from kehoach_xl.model import schema
from kehoach_xl.model.config import Config
from kehoach_xl.model.master import MasterData
from kehoach_xl.model.part import SOURCE_LINE, SOURCE_SHEET
from kehoach_xl.model.roles import ROLE_STRENGTH, Role
from kehoach_xl.reports.briefing import compute_briefing, reminders_for
from kehoach_xl.reports.figures import unit_parts_table
from kehoach_xl.reports.summary import summary_of
from kehoach_xl.rules.derive import derive
from kehoach_xl.rules.parts import parts_of, task_statuses

OFFICE = "Văn phòng Sở"


@pytest.fixture(scope="module")
def md(tmp_path_factory: pytest.TempPathFactory) -> MasterData:
    res = demo(tmp_path_factory.mktemp("demo") / "demo")
    assert res.ok, [s for s in res.steps if not s.ok]
    return read_master(res.master)


def _expected(md: MasterData, as_of: dt.date, period: str = DEMO_PERIOD,
              ) -> dict[str, dict[tuple[str, str], tuple[str, float | None, int]]]:
    """unit → (task, state) → (role, the unit's own progress, days past or left), by hand."""
    index = md.task_index()
    done_tasks = {t for t, s in task_statuses(md, parts_of(md)).items() if s.status == schema.STATUS_DONE}
    out: dict[str, dict] = {}
    for p in parts_of(md):
        row = md.tasks.rows[index[p.task_id]]
        d = derive({**row, "status": None}, as_of, plan_year=md.plan_year)  # the task's deadline only
        if p.status == schema.STATUS_DONE or p.task_id in done_tasks or d.days_remaining is None:
            continue
        if p.role == Role.COORD and p.period and p.period >= period:  # contributed this period
            continue
        state = "overdue" if d.days_remaining < 0 else "due_soon" if d.days_remaining <= 7 else None
        if state and p.unit != OFFICE:
            out.setdefault(p.unit, {})[(p.task_id, state)] = (p.role, p.progress, d.days_remaining)
    return out


def test_each_unit_is_reminded_of_exactly_its_own_parts(md: MasterData) -> None:
    s = summary_of(md, DEMO_AS_OF, period=DEMO_PERIOD)
    expected = _expected(md, DEMO_AS_OF)
    got = {r.unit: r for r in reminders_for(s, md)}
    assert OFFICE not in got  # the office that sends reminders is never reminded of itself
    assert set(got) == set(expected) and expected  # a unit with nothing outstanding gets none
    for unit, r in got.items():
        items = {(f.id, f.state): (r.roles[f.id], f.progress, f.days_remaining) for f in r.overdue + r.due_soon}
        assert items == expected[unit], unit
        assert all(f.state == "overdue" for f in r.overdue) and all(f.state == "due_soon" for f in r.due_soon)
        # grouped by role, chủ trì first
        strengths = [ROLE_STRENGTH.index(role) for role, _, _ in r.groups()]
        assert strengths == sorted(strengths)
    # somebody is reminded of a member's part of a collective task, with the member's own figure
    assert any(role == Role.MEMBER for r in got.values() for role in r.roles.values())


def test_reminder_text_shows_the_units_own_figures(md: MasterData) -> None:
    res = compute_briefing(md, period=DEMO_PERIOD, as_of=DEMO_AS_OF).result
    assert res.reminders and OFFICE not in {r.unit for r in res.reminders}
    for r in res.reminders:
        assert r.text.startswith(f"Kính gửi: {r.unit}.")
        for f in r.overdue:
            assert f"{f.number} [{f.id}]: " in r.text and f"quá hạn {f.days_overdue} ngày" in r.text
        if any(role == Role.MEMBER for role in r.roles.values()):
            assert "Phần việc của đơn vị trong nhiệm vụ giao chung" in r.text


def test_office_setting_moves_with_the_sender(md: MasterData) -> None:
    s = summary_of(md, DEMO_AS_OF, period=DEMO_PERIOD)
    cfg = Config()
    cfg.mail.sender_name = "Thanh tra Sở"
    units = {r.unit for r in reminders_for(s, md, cfg)}
    assert "Thanh tra Sở" not in units
    assert units - {OFFICE} <= {r.unit for r in reminders_for(s, md)}


def test_figures_by_unit_from_parts(md: MasterData) -> None:
    as_of = DEMO_AS_OF
    index = md.task_index()
    parts = parts_of(md)
    done_tasks = {t for t, s in task_statuses(md, parts).items() if s.status == schema.STATUS_DONE}
    want: dict[str, dict[str, int]] = {}
    for p in parts:
        w = want.setdefault(p.unit, {"led": 0, "owed": 0, "done": 0, "overdue": 0})
        w["led"] += p.role == Role.LEAD
        w["owed"] += 1
        done = p.status == schema.STATUS_DONE or p.task_id in done_tasks
        w["done"] += done
        d = derive({**md.tasks.rows[index[p.task_id]], "status": None}, as_of, plan_year=md.plan_year)
        w["overdue"] += not done and d.deadline_state == "overdue"
    table = unit_parts_table(md, as_of)
    assert {u.unit: {k: v for k, v in u.as_dict().items() if k != "unit"} for u in table} == want
    assert [u.unit for u in table][:3] == [OFFICE, "Thanh tra Sở", "Văn phòng Đăng ký đất đai"]
    # the existing task counts are unchanged: a collective's task still counts once under its name
    s = summary_of(md, as_of, period=DEMO_PERIOD)
    assert sum(t.total for _, t in s.by_unit) >= len(md.tasks.rows)


def test_difficulties_and_proposals_are_credited_to_the_units_that_wrote_them(md: MasterData) -> None:
    """The briefing names, for each difficulty and proposal of the month, exactly the units whose own
    reports of the month raised it (their rows of the sheet "Phần việc", or attributed lines in a
    master without that sheet), never "các phòng, đơn vị" in their place; an extension ("gia hạn")
    asked on a part or task that is done is not repeated."""
    from kehoach_xl.reports.context import summary_context

    res = compute_briefing(md, period=DEMO_PERIOD, as_of=DEMO_AS_OF).result
    ctx = summary_context(res.summary, config=Config(), period=DEMO_PERIOD)
    facts = {f.id: f for f in res.summary.facts}
    lines = [p for p in parts_of(md) if p.source in (SOURCE_LINE, SOURCE_SHEET) and p.period == DEMO_PERIOD]
    assert {p.source for p in lines} == {SOURCE_SHEET}  # the demo's master has the parts sheet
    assert any(p.difficulties for p in lines) and any(p.proposals for p in lines)
    for key, groups in (("difficulties", ctx["difficulty_groups"]), ("proposals", ctx["proposal_groups"])):
        assert groups, key
        for g in groups:
            wrote = {p.unit for p in lines if getattr(p, key).rstrip(".").casefold() == g["text"].casefold()
                     and not ("gia hạn" in g["text"] and (p.status == schema.STATUS_DONE
                                                         or facts[p.task_id].status == "done"))}
            credited = {u["unit"] for u in g["by_unit"]}
            assert wrote <= credited, (g["text"], wrote - credited)
            assert "các phòng, đơn vị" not in g["units"].casefold() or wrote == set(), g
            if "gia hạn" in g["text"]:
                done = [i for i in g["ids"].split(", ") if facts[i.split("[")[-1].rstrip("]")].status == "done"]
                assert not done, f"gia hạn vẫn nêu cho nhiệm vụ đã hoàn thành: {done}"
    # Done tasks with an extension asked in their lines exist in the demo: the rule is exercised.
    assert any("gia hạn" in p.proposals and (p.status == schema.STATUS_DONE or facts[p.task_id].status == "done")
               for p in lines)
    for text in (res.text, res.html):
        assert "[DDCI2024-" in text  # tasks cited by the plan's numbering with the ID beside it


def test_a_part_is_credited_only_in_the_period_it_reports_on(md: MasterData) -> None:
    """A row of the sheet "Phần việc" says which month it reports on: its difficulty counts in that
    month's summary, not in another one, even when the task was reported on this month."""
    import copy

    md = copy.deepcopy(md)
    rows = [r for r in md.parts.rows if r.get("role") == schema.PART_ROLE_LABELS["member"]]
    old, new = rows[0], next(r for r in rows[1:] if r.get("task_id") == rows[0].get("task_id"))
    old.update(difficulties="Khó khăn của tháng trước", period="04/2024")
    new.update(difficulties="Khó khăn của tháng này", period="05/2024")
    s = summary_of(md, DEMO_AS_OF, period=DEMO_PERIOD)
    said = {(unit, d) for st in s.statements.values() for unit, d, _p in st}
    assert (new["unit"], "Khó khăn của tháng này") in said
    assert not any(d == "Khó khăn của tháng trước" for _u, d in said)
    assert old["task_id"] in {f.id for f in s.issues}  # the task itself is reported on this month
    april = summary_of(md, DEMO_AS_OF, period="2024-04")
    assert (old["unit"], "Khó khăn của tháng trước") in {(u, d) for st in april.statements.values() for u, d, _p in st}
