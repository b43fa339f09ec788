"""Template context built from a :class:`Summary`: plain dicts, dates already dd/mm/yyyy.

Templates receive data, never objects with behaviour, so the office can edit
them knowing only the names documented in docs/reports.md.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from kehoach_xl import vn
from kehoach_xl.model.config import Config
from kehoach_xl.reports.figures import UPCOMING_DAYS, Tally, TaskFact, period_bounds
from kehoach_xl.reports.summary import Summary, cite, month_label, raised, score_sentence
from kehoach_xl.text import normalize_text


def _units_mid(units: tuple[str, ...]) -> str:
    """Lead units inside a sentence: "Văn phòng Sở và các phòng, đơn vị"."""
    # A collective name has a comma of its own ("các phòng, đơn vị"): list it last, after "và",
    # so the enumeration's commas never split it.
    ordered = sorted(units, key=lambda u: "," in u)
    return vn.vn_list([vn.mid_sentence(u) for u in ordered])


def task_dict(f: TaskFact) -> dict[str, Any]:
    return {
        "id": f.id, "number": f.number, "cite": cite(f), "task": f.task.rstrip("."), "units": _units_mid(f.lead_units), "due": vn.date(f.due_date),
        "deadline_text": f.deadline_text, "days_overdue": f.days_overdue, "days_left": f.days_remaining,
        "result": f.result.rstrip("."), "difficulties": f.difficulties.rstrip("."), "proposals": f.proposals.rstrip("."),
        "progress": vn.percent(f.progress, sign=False),  # the template writes the "%"
        "completed": vn.date(f.completed_on),
    }


def task_dicts() -> Callable[[TaskFact], dict[str, Any]]:
    """:func:`task_dict`, made once per task however many lists of one context it is in (an issue
    is in three): templates only read them."""
    made: dict[int, tuple[TaskFact, dict[str, Any]]] = {}

    def task(f: TaskFact) -> dict[str, Any]:
        got = made.get(id(f))
        if got is None:
            got = made[id(f)] = (f, task_dict(f))  # the fact kept with it: its id is not reused meanwhile
        return got[1]

    return task


def _tally(t: Tally) -> dict[str, Any]:
    d = t.as_dict()
    d["percent"] = vn.rate(t.percent_done, sign=False)
    return d


def _count_by_unit(facts: list[TaskFact]) -> list[dict[str, Any]]:
    c: Counter[str] = Counter()
    for f in facts:
        for u in f.lead_units:
            c[u] += 1
    return [{"unit": vn.mid_sentence(u), "count": n} for u, n in c.most_common()]


# A proposal addressed above the department (the province, a ministry, the government): the
# department carries it to them; any other proposal asks the department itself.
_ABOVE = re.compile(r"\b(UBND\s+tỉnh|Ủy\s+ban\s+nhân\s+dân\s+tỉnh|Uỷ\s+ban\s+nhân\s+dân\s+tỉnh|Tỉnh\s+ủy|"
                    r"HĐND\s+tỉnh|Chủ\s+tịch\s+tỉnh|Bộ\s+[A-ZĐ]|Chính\s+phủ|Thủ\s+tướng|Trung\s+ương)")


def addressed_above(text: str) -> bool:
    """Whether a proposal asks the province or a ministry rather than the department."""
    return bool(_ABOVE.search(text))


def _grouped(s: Summary, which: int) -> list[dict[str, Any]]:
    """Each difficulty (``which`` 1) or proposal (2) of the period once, credited to the units that
    raised it (their own parts), with the tasks it was raised on, cited by the plan's numbering."""
    out = []
    for text, units in raised(s, which):
        tasks = sorted(dict.fromkeys(f for _u, fs in units for f in fs), key=lambda f: f.row)  # plan order
        out.append({"text": text, "units": _units_mid(tuple(u for u, _fs in units)),
                    "ids": ", ".join(cite(f) for f in tasks), "count": len(tasks),
                    "by_unit": [{"unit": vn.mid_sentence(u), "ids": ", ".join(cite(f) for f in sorted(fs, key=lambda f: f.row))}
                                for u, fs in units],
                    "above": addressed_above(text)})
    return out


def plan_reference(meta: dict[str, Any]) -> str:
    number = meta.get("plan_number")
    return f"Kế hoạch số {number}" if number else (meta.get("plan_title") or "kế hoạch")


def plan_citation(meta: dict[str, Any]) -> str:
    """The plan as a report cites it the first time: "Kế hoạch số 62/KH-STNMT ngày 15/03/2024".

    The date is the issuing date import stored in "Cấu hình" ("Ngày ban hành văn bản"); without it,
    or without a number, the plain reference."""
    ref = plan_reference(meta)
    day = vn.parse_date(meta.get("plan_date")) if meta.get("plan_number") else None
    return f"{ref} ngày {vn.date(day)}" if day else ref


def plan_topic(meta: dict[str, Any]) -> str:
    """What the plan is about, to follow "Kế hoạch số 62/KH-STNMT về …" without repeating "kế hoạch"."""
    title = normalize_text(meta.get("plan_title"))
    title = re.sub(r"^(kế hoạch|chương trình|đề án)\s+(về\s+|thực hiện\s+)?", "", title, flags=re.I)
    return vn.lower_first(title) if title else ""


def sender_line(meta: dict[str, Any], config: Config) -> str:
    """Who sends: "Văn phòng Sở – Sở Tài nguyên và Môi trường; thư điện tử: vanphong@…" (settings, config)."""
    agency = normalize_text(meta.get("agency"))
    who = config.mail.sender_name + (f" – {agency}" if agency and agency not in config.mail.sender_name else "")
    return who + (f"; thư điện tử: {config.mail.sender}" if config.mail.sender else "")


def summary_context(s: Summary, *, config: Config, period: str | None = None) -> dict[str, Any]:
    period = period or s.period
    first, last = period_bounds(period)
    proposals = _grouped(s, 2)
    cmp = s.comparison
    _task = task_dicts()
    return {
        "plan": {k: ("" if v is None else v) for k, v in s.meta.items()},
        "plan_ref": plan_reference(s.meta),
        "plan_cite": plan_citation(s.meta),
        "plan_topic": plan_topic(s.meta),
        "period": period,
        "period_label": month_label(period),
        "period_first": vn.date(first),
        "period_last": vn.date(last),
        "as_of": vn.date(s.as_of),
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
        "difficulty_groups": _grouped(s, 1),
        "proposal_groups": proposals,
        # Section IV of the report: what the department asks above it, apart from what units asked of it.
        "proposals_above": [g for g in proposals if g["above"]],
        "proposals_to_department": [g for g in proposals if not g["above"]],
        "unit_parts": [{**p.as_dict(), "unit": p.unit, "unit_mid": vn.mid_sentence(p.unit)}
                       for p in s.unit_parts if p.owed],
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
        "sender_line": sender_line(s.meta, config),
        "due_soon_days": config.due_soon_days,
        "due_soon_unit": "ngày làm việc" if config.due_soon_unit == "working" else "ngày",
        "upcoming_until": vn.date(s.as_of + dt.timedelta(days=UPCOMING_DAYS)),
    }
