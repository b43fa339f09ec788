"""Derived deadline columns of the task sheet, computed from a task's own cells.

Pure: the caller supplies ``as_of`` (the report date); nothing here reads the
clock or a file. ``derive_all`` is the batch form used by refresh; parsing is
cached by deadline text, so it stays fast on a 50,000-row master.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from kehoach_xl import vn
from kehoach_xl.model import schema
from kehoach_xl.rules.deadline import Deadline, parse_deadline
from kehoach_xl.rules.workdays import working_days_between
from kehoach_xl.text import normalize_text

__all__ = ["Derived", "derive", "derive_all", "is_done", "period_end"]

DueSoonUnit = Literal["calendar", "working"]

# Status wordings that mean done, compared after normalise + casefold.
_DONE = {normalize_text(schema.STATUS_DONE).casefold(), "đã hoàn thành"}
# Kinds whose tasks never become overdue: they have no single due date.
_ONGOING = {"continuous", "recurring"}


@dataclass(frozen=True, slots=True)
class Derived:
    due_date: dt.date | None
    deadline_kind: str  # code of schema.DEADLINE_KINDS
    recurrence: str | None  # code of schema.RECURRENCES
    days_remaining: int | None  # calendar days as_of → due; negative when overdue
    working_days_remaining: int | None
    deadline_state: str  # code of schema.DEADLINE_STATES
    next_due: dt.date | None
    flags: tuple[str, ...] = ()  # from the parser, plus "due_from_cell"
    note: str = ""  # Vietnamese, from the parser

    def cells(self) -> dict[str, Any]:
        """Values for the derived columns (schema.DERIVED_FIELDS) as the workbook shows them."""
        return {
            "due_date": self.due_date,
            "deadline_kind": schema.DEADLINE_KINDS[self.deadline_kind],
            "recurrence": schema.RECURRENCES[self.recurrence] if self.recurrence else None,
            "days_remaining": self.days_remaining,
            "working_days_remaining": self.working_days_remaining,
            "deadline_state": schema.DEADLINE_STATES[self.deadline_state],
            "next_due": self.next_due,
        }


def is_done(status: object) -> bool:
    if type(status) is str:
        hit = _DONE_SEEN.get(status)
        if hit is None:
            hit = normalize_text(status).casefold() in _DONE
            if len(_DONE_SEEN) < 4096:
                _DONE_SEEN[status] = hit
        return hit
    return normalize_text(status).casefold() in _DONE


_DONE_SEEN: dict[str, bool] = {}  # a status cell holds one of a few spellings


def period_end(as_of: dt.date, recurrence: str | None) -> dt.date | None:
    """End of the current month / quarter / year that contains ``as_of``."""
    if recurrence in ("monthly", "monthly_quarterly"):
        month = as_of.month
    elif recurrence == "quarterly":
        month = (as_of.month - 1) // 3 * 3 + 3
    elif recurrence == "half_yearly":
        month = 6 if as_of.month <= 6 else 12
    elif recurrence == "yearly":
        month = 12
    elif recurrence == "weekly":
        return as_of + dt.timedelta(days=6 - as_of.weekday())  # Sunday of this week
    else:
        return None
    first_next = dt.date(as_of.year + month // 12, month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


def _date_or_none(value: object) -> dt.date | None:
    try:
        return vn.parse_date(value)
    except (ValueError, TypeError, OverflowError):
        return None


def derive(
    task: Mapping[str, Any],
    as_of: dt.date,
    *,
    due_soon_days: int = 7,
    due_soon_unit: DueSoonUnit = "calendar",
    plan_year: int | None = None,
    issued_on: dt.date | None = None,
) -> Derived:
    """Derived columns of one task as of ``as_of``.

    The due date comes from the deadline text. Only when the text yields no date
    (empty, unreadable, event-based, someone else's schedule) is a date already
    in the "Hạn hoàn thành" cell honoured, so staff can set one by hand.
    """
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    values = (task.get("deadline_text"), task.get("due_date"), task.get("status"), task.get("completed_on"))
    try:
        return _derive_cached(*values, as_of, due_soon_days, due_soon_unit, plan_year, issued_on)
    except TypeError:  # a value that cannot be a key (not a cell value): worked out directly
        return _derive(*values, as_of, due_soon_days, due_soon_unit, plan_year, issued_on)


# The result depends on these four cells and the options only. Many parts share a task's cells, and
# merge, refresh and the summary ask again for the same tasks in one night. ``typed``: 1, 1.0 and
# True are different cells.
@functools.lru_cache(maxsize=1 << 16, typed=True)
def _derive_cached(deadline_text: Any, due_date: Any, status: Any, completed_on: Any, as_of: dt.date,
                   due_soon_days: int, due_soon_unit: DueSoonUnit, plan_year: int | None,
                   issued_on: dt.date | None) -> Derived:
    return _derive(deadline_text, due_date, status, completed_on, as_of, due_soon_days, due_soon_unit, plan_year,
                   issued_on)


def _derive(deadline_text: Any, due_date: Any, status: Any, completed_on: Any, as_of: dt.date,
            due_soon_days: int, due_soon_unit: DueSoonUnit, plan_year: int | None,
            issued_on: dt.date | None) -> Derived:
    dl: Deadline = parse_deadline(deadline_text, plan_year=plan_year, issued_on=issued_on)
    kind, due, flags = dl.kind, dl.due, dl.flags
    if due is None and kind not in _ONGOING:
        cell_due = _date_or_none(due_date)
        if cell_due is not None:
            due, flags = cell_due, (*flags, "due_from_cell")

    next_due = None
    if kind == "recurring":
        next_due = period_end(as_of, dl.recurrence)
    elif kind == "milestones":
        next_due = next((d for d, _ in dl.milestones if d >= as_of), None)

    done = is_done(status)
    days = wdays = None
    if done:
        completed = _date_or_none(completed_on)
        # Done without a completion date gets the benefit of the doubt.
        late = due is not None and completed is not None and completed > due and kind not in _ONGOING
        state = "done_late" if late else "done_on_time"
    elif kind in _ONGOING:
        state = "continuous"
    elif due is None:
        state = "no_deadline"
    else:
        days = (due - as_of).days
        wdays = working_days_between(as_of, due)
        remaining = wdays if due_soon_unit == "working" else days
        if days < 0:
            state = "overdue"
        elif remaining <= due_soon_days:
            state = "due_soon"
        else:
            state = "on_track"

    return Derived(
        due_date=due,
        deadline_kind=kind,
        recurrence=dl.recurrence,
        days_remaining=days,
        working_days_remaining=wdays,
        deadline_state=state,
        next_due=next_due,
        flags=flags,
        note=dl.note,
    )


def derive_all(
    tasks: Iterable[Mapping[str, Any]],
    as_of: dt.date,
    **kw: Any,
) -> list[Derived]:
    """``derive`` over many tasks (same keyword options)."""
    return [derive(t, as_of, **kw) for t in tasks]
