"""Template context built from a :class:`Summary`: plain dicts, dates already dd/mm/yyyy.

Templates receive data, never objects with behaviour, so the office can edit
them knowing only the names documented in docs/reports.md.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..config import Config
from ..rules.deadline import format_vn_date
from ..text import vn_number
from .figures import UPCOMING_DAYS, Tally, TaskFact, period_bounds
from .summary import Summary, month_label, score_sentence


def _task(f: TaskFact) -> dict[str, Any]:
    return {
        "id": f.id, "task": f.task.rstrip("."), "units": f.units_text, "due": format_vn_date(f.due_date),
        "deadline_text": f.deadline_text, "days_overdue": f.days_overdue, "days_left": f.days_remaining,
        "result": f.result, "difficulties": f.difficulties.rstrip("."), "proposals": f.proposals.rstrip("."),
        "progress": vn_number(f.progress, 0) if f.progress is not None else "",
        "completed": format_vn_date(f.completed_on),
    }


def _tally(t: Tally) -> dict[str, Any]:
    d = t.as_dict()
    d["percent"] = vn_number(t.percent_done, 1)
    return d


def _count_by_unit(facts: list[TaskFact]) -> list[dict[str, Any]]:
    c: Counter[str] = Counter()
    for f in facts:
        for u in f.lead_units:
            c[u] += 1
    return [{"unit": u, "count": n} for u, n in c.most_common()]


def plan_reference(meta: dict[str, Any]) -> str:
    number = meta.get("plan_number")
    return f"Kế hoạch số {number}" if number else (meta.get("plan_title") or "kế hoạch")


def summary_context(s: Summary, *, config: Config, period: str | None = None) -> dict[str, Any]:
    period = period or s.period
    first, last = period_bounds(period)
    cmp = s.comparison
    return {
        "plan": {k: ("" if v is None else v) for k, v in s.meta.items()},
        "plan_ref": plan_reference(s.meta),
        "period": period,
        "period_label": month_label(period),
        "period_first": format_vn_date(first),
        "period_last": format_vn_date(last),
        "as_of": format_vn_date(s.as_of),
        "t": _tally(s.total),
        "groups": [{"name": k, **_tally(t)} for k, t in s.by_group],
        "units": [{"name": k, **_tally(t)} for k, t in s.by_unit],
        "leaders": [{"name": k, **_tally(t)} for k, t in s.by_leader],
        "overdue": [_task(f) for f in s.overdue],
        "overdue_by_unit": _count_by_unit(s.overdue),
        "upcoming": [_task(f) for f in s.upcoming],
        "upcoming_days": UPCOMING_DAYS,
        "issues": [_task(f) for f in s.issues],
        "difficulties": [_task(f) for f in s.issues if f.difficulties],
        "proposals": [_task(f) for f in s.issues if f.proposals],
        "finished": [_task(f) for f in s.finished],
        "scores": [score_sentence(x) for x in s.scores],
        "score_year": max((x.year for x in s.scores), default=None),
        "comparison": None if cmp is None else {
            "previous_label": month_label(cmp.previous_period),
            "previous_done": cmp.previous_done, "previous_overdue": cmp.previous_overdue,
            "newly_overdue": [_task(f) for f in cmp.newly_overdue],
            "no_longer_overdue": [_task(f) for f in cmp.no_longer_overdue],
            "newly_done": [_task(f) for f in cmp.newly_done],
        },
        "sender_name": config.mail.sender_name,
        "due_soon_days": config.due_soon_days,
    }
