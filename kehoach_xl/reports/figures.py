"""Every figure the summary, the briefing and the report show, computed once.

Pure: works on :class:`MasterData` (file or live book) and an ``as_of`` date.
Deadline states are always recomputed here with
:func:`kehoach_xl.rules.derive.derive_all` (0.3 s for 50,000 tasks) from the
status, progress and dates as they stand: the stored derived columns may be
stale (a merge after the last refresh changes statuses), and a summary must
never depend on whether refresh ran first.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kehoach_xl import vn
from kehoach_xl.model import schema
from kehoach_xl.model.master import MasterData
from kehoach_xl.model.part import Part
from kehoach_xl.model.registry import Registry, parse_leaders
from kehoach_xl.rules.derive import Derived, derive_all, is_done
from kehoach_xl.text import normalize_text, split_list
from kehoach_xl.vn import period_bounds, period_ym, try_parse_period

if TYPE_CHECKING:
    import pandas as pd

NO_GROUP = "Chưa phân nhóm"
NO_UNIT = "Chưa ghi đơn vị chủ trì"
NO_LEADER = "Chưa ghi lãnh đạo giám sát"
UPCOMING_DAYS = 30


def _date(value: Any) -> dt.date | None:
    if isinstance(value, str) and "T" in value:
        value = value.split("T", 1)[0]
    try:
        return vn.parse_date(value)
    except (ValueError, TypeError, OverflowError):
        return None


def _datetime(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    if isinstance(value, str) and value.strip():
        try:
            return dt.datetime.fromisoformat(value.strip())
        except ValueError:
            d = _date(value)
            return dt.datetime.combine(d, dt.time()) if d else None
    return None


def period_of(d: dt.date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def previous_period(period: str) -> str:
    y, m = period_ym(period)
    return f"{y - 1:04d}-12" if m == 1 else f"{y:04d}-{m - 1:02d}"


_BULLET = re.compile(r"^\s*(?:[-+*•–—]|\d{1,2}[.)]|[a-zđ]\))\s+")
_BULLET_INLINE = re.compile(r"(?:(?<=[.;:])|^)\s+[-+•–]\s+")
# Words that start proper names: keep their capital when an item moves mid-sentence.
_PROPER_START = ("Sở", "UBND", "Ủy ban", "Uỷ ban", "Văn phòng", "Phòng", "Chi cục", "Trung tâm", "Thanh tra", "Bộ",
                 "Tỉnh", "Nhà nước", "Đảng", "Hội đồng", "Cổng", "Chính phủ", "Thủ tướng", "Ban Chỉ đạo", "Kế hoạch số")


def _lower_item(s: str) -> str:
    if len(s) > 1 and s[1].isupper() or any(s == w or s.startswith(w + " ") for w in _PROPER_START):
        return s
    return s[:1].lower() + s[1:]


def inline_text(value: Any) -> str:
    """A cell written as a bullet list, as one sentence for running text.

    "- Cập nhật thông tin.\n- Cập nhật và nâng cấp chức năng." → "Cập nhật thông tin; cập nhật và
    nâng cấp chức năng" (list markers dropped, items joined with semicolons, no final full stop).
    """
    return _inline(normalize_text(value, keep_newlines=True))


def _inline(text: str) -> str:
    """:func:`inline_text` of a text normalised already (keeping its lines)."""
    items: list[str] = []
    for line in text.split("\n"):
        for part in _BULLET_INLINE.split(line) if _BULLET.match(line) else [line]:
            part = _BULLET.sub("", part).strip().rstrip(".;, ")
            if part:
                items.append(part)
    if not items:
        return ""
    return "; ".join([items[0], *(_lower_item(x) for x in items[1:])])


# --- per-task facts ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)  # slots: one per task, 0.6 kB less each
class TaskFact:
    """One task with exactly what the reports need, states as codes."""

    row: int  # position in md.tasks.rows
    id: str
    task: str
    group: str
    lead_units: tuple[str, ...]
    leaders: tuple[str, ...]
    status: str  # "not_started" | "in_progress" | "done"
    state: str  # code of schema.DEADLINE_STATES
    deadline_text: str
    due_date: dt.date | None
    days_remaining: int | None
    completed_on: dt.date | None
    progress: float | None
    result: str
    difficulties: str
    proposals: str
    updated_at: dt.datetime | None
    number: str = ""  # the plan's own numbering, group and STT ("I.1"); either alone when the other is empty

    @property
    def days_overdue(self) -> int:
        return -self.days_remaining if self.days_remaining is not None and self.days_remaining < 0 else 0

    @property
    def units_text(self) -> str:
        # Semicolons: a collective name ("Các phòng, đơn vị") has a comma of its own.
        return "; ".join(self.lead_units)


def status_code(status: Any, progress: Any = None) -> str:
    if is_done(status):
        return "done"
    s = normalize_text(status).casefold()
    if s == schema.STATUS_NOT_STARTED.casefold() or not s:
        try:
            return "in_progress" if not s and progress not in (None, "") and float(progress) > 0 else "not_started"
        except (TypeError, ValueError):
            return "not_started"
    return "in_progress"


def _canonical_units(reg: Registry, items: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for it in items:
        m = reg.match_unit(it)
        name = m.canonical or normalize_text(it)
        if name and name not in out:
            out.append(name)
    return tuple(out) or (NO_UNIT,)


def _canonical_leaders(reg: Registry, items: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for it in items:
        refs = parse_leaders(it) or []
        for ref in refs:
            m = reg.match_leader(ref.name)
            name = m.canonical or ref.name
            if name and name not in out:
                out.append(name)
    return tuple(out) or (NO_LEADER,)


def _memo(fn: Callable[[Registry, Iterable[str]], tuple[str, ...]],
          reg: Registry) -> Callable[[list[str]], tuple[str, ...]]:
    """``fn`` once per distinct cell: a plan names a few units and leaders over and over, and an
    unknown name costs a fuzzy search of the registry (most of the summary's time at 10,000 tasks)."""
    seen: dict[tuple[str, ...], tuple[str, ...]] = {}

    def canonical(items: list[str]) -> tuple[str, ...]:
        key = tuple(items)
        if key not in seen:
            seen[key] = fn(reg, key)
        return seen[key]

    return canonical


def task_facts(md: MasterData, as_of: dt.date, *, due_soon_days: int = 7,
               due_soon_unit: str = "calendar") -> tuple[list[TaskFact], str]:
    """Facts of every task, and "computed" (states are always derived afresh)."""
    rows = md.tasks.rows
    reg = Registry.from_master(md)
    derived = derive_all(
        rows, as_of, due_soon_days=due_soon_days, due_soon_unit=due_soon_unit,  # type: ignore[arg-type]
        plan_year=md.plan_year,
    )
    units_of, leaders_of = _memo(_canonical_units, reg), _memo(_canonical_leaders, reg)
    # A text cell of names → its canonical names, once per distinct cell (a plan repeats a few):
    # the cell is split and normalised once, not on every row it is on. Only text (and empty)
    # cells: 0.0 and -0.0, 1 and True are one dict key but different texts.
    names: dict[tuple[str, str | None], tuple[str, ...]] = {}

    def names_of(key: str, canonical: Callable[[list[str]], tuple[str, ...]], cell: Any) -> tuple[str, ...]:
        if cell is not None and type(cell) is not str:
            return canonical(split_list(cell) or [])
        got = names.get((key, cell))
        if got is None:
            got = names[(key, cell)] = canonical(split_list(cell) or [])
        return got

    # Each row is read key by key as ``model.master.task_records`` gives it (lists split, text
    # normalised), without a copy of every row first (28 MiB at 10,000 tasks). Dates stay dates;
    # ``_date`` and ``_datetime`` read them as they read the ISO text ``task_records`` makes of them.
    def text(v: Any) -> Any:  # a text cell as task_records gives it
        return normalize_text(v, keep_newlines=True) if isinstance(v, str) else v

    def lines(v: Any) -> str:
        """``normalize_text(text(v), keep_newlines=True)``: a text ``text`` left as it was is clean
        (normalising it again gives it back), so it is not normalised a second time."""
        once = text(v)
        return once if once is v and isinstance(v, str) else normalize_text(once, keep_newlines=True)

    facts = []
    for i, row in enumerate(rows):
        d = derived[i]
        get = row.get
        state, due, days = d.deadline_state, d.due_date, d.days_remaining
        progress = text(get("progress"))
        group = normalize_text(text(get("group")))
        facts.append(TaskFact(
            row=i,
            id=normalize_text(text(get("id"))),
            task=_inline(lines(get("task"))),
            group=normalize_text(text(get("group_title"))) or group or NO_GROUP,
            lead_units=names_of("lead_units", units_of, get("lead_units")),
            leaders=names_of("leaders", leaders_of, get("leaders")),
            status=status_code(text(get("status")), progress),
            state=state,
            deadline_text=normalize_text(text(get("deadline_text"))),
            due_date=due,
            days_remaining=days,
            completed_on=_date(text(get("completed_on"))),
            progress=float(progress) if isinstance(progress, (int, float)) else None,
            result=lines(get("result")),
            difficulties=lines(get("difficulties")),
            proposals=lines(get("proposals")),
            updated_at=_datetime(text(get("updated_at"))),
            number=".".join(x for x in (group, normalize_text(text(get("stt")))) if x),
        ))
    return facts, "computed"


# --- tallies ----------------------------------------------------------------------


@dataclass
class Tally:
    """Counts over a set of tasks. The six state counts partition ``total``;
    ``not_started`` cuts across them (a not-started task is also overdue or on track)."""

    total: int = 0
    done_on_time: int = 0
    done_late: int = 0
    on_track: int = 0  # not done, deadline not reached yet (including tasks without a specific deadline)
    overdue: int = 0
    due_soon: int = 0
    continuous: int = 0
    not_started: int = 0

    def add(self, f: TaskFact) -> None:
        self.total += 1
        bucket = {"no_deadline": "on_track"}.get(f.state, f.state)
        setattr(self, bucket, getattr(self, bucket) + 1)
        if f.status == "not_started":
            self.not_started += 1

    @property
    def done(self) -> int:
        return self.done_on_time + self.done_late

    @property
    def in_progress(self) -> int:
        """Not done and not overdue (what the chart calls "đang thực hiện")."""
        return self.on_track + self.due_soon + self.continuous

    @property
    def percent_done(self) -> float:
        return round(100.0 * self.done / self.total, 1) if self.total else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total, "done_on_time": self.done_on_time, "done_late": self.done_late,
            "on_track": self.on_track, "overdue": self.overdue, "due_soon": self.due_soon,
            "not_started": self.not_started, "continuous": self.continuous, "done": self.done,
            "in_progress": self.in_progress, "percent_done": self.percent_done,
        }


# The six states that partition a tally ("no_deadline" counts as on track), then the cross-cutting count;
# in the order of Tally's fields.
STATE_BUCKETS: tuple[str, ...] = ("done_on_time", "done_late", "on_track", "overdue", "due_soon", "continuous")
TALLY_COLUMNS: tuple[str, ...] = ("total", *STATE_BUCKETS, "not_started")


def _state_counts(facts: Sequence[TaskFact]) -> pd.DataFrame:
    """One row per task, columns :data:`TALLY_COLUMNS`: 1 in "total", 1 in its state's column, 1 if not started."""
    import numpy as np
    import pandas as pd

    bucket = pd.Categorical(["on_track" if f.state == "no_deadline" else f.state for f in facts],
                            categories=STATE_BUCKETS)
    counts = pd.get_dummies(bucket, dtype="int64")  # a column per category, present or not
    counts.insert(0, "total", 1)
    counts["not_started"] = np.array([f.status == "not_started" for f in facts], dtype="int64")
    return counts


def tally_table(facts: Sequence[TaskFact], key: str, order: Iterable[str] = ()) -> pd.DataFrame:
    """Counts per value of a fact attribute: index the values, columns :data:`TALLY_COLUMNS`.

    A tuple attribute (lead units, leaders) counts the task toward each member. Rows come in
    ``order`` first, then in the order values first occur; values with no task are left out.
    """
    import pandas as pd

    rows, keys = [], []  # one (task, value) pair per member: a faster explode
    for i, f in enumerate(facts):
        values = getattr(f, key)
        for v in values if isinstance(values, tuple) else (values,):
            rows.append(i)
            keys.append(v)
    by = pd.Index(keys, dtype=object, name=key)
    table = _state_counts(facts).take(rows).groupby(by, sort=False, dropna=False).sum()
    first = [k for k in dict.fromkeys(order) if k in table.index]
    placed = set(first)
    return table.reindex(pd.Index([*first, *(k for k in table.index if k not in placed)], dtype=object, name=key))


# A fact's state → its column in TALLY_COLUMNS; a state outside them counts in "total" only, as a
# category outside the categorical's counts in no column of ``_state_counts``.
_STATE_COLUMN = {state: i for i, state in enumerate(TALLY_COLUMNS) if state in STATE_BUCKETS}
_STATE_COLUMN["no_deadline"] = _STATE_COLUMN["on_track"]
_NOT_STARTED = TALLY_COLUMNS.index("not_started")


def _add(counts: list[int], column: int | None, not_started: bool) -> None:
    counts[0] += 1
    if column is not None:
        counts[column] += 1
    if not_started:
        counts[_NOT_STARTED] += 1


def tally(facts: Iterable[TaskFact]) -> Tally:
    """Counts over ``facts``, the figures of :func:`tally_table`'s columns. Counted in a plain loop:
    importing pandas for it took ten times as long as counting (0.3 s at every size)."""
    counts = [0] * len(TALLY_COLUMNS)
    column = _STATE_COLUMN.get
    for f in facts:
        _add(counts, column(f.state), f.status == "not_started")
    return Tally(*counts)


def tally_by(facts: list[TaskFact], key: str, order: Iterable[str] = ()) -> list[tuple[str, Tally]]:
    """Tallies per value of a fact attribute (tuples count toward each member), in ``order`` first,
    then as first met: the rows of :func:`tally_table`, counted without pandas (see :func:`tally`)."""
    table: dict[Any, list[int]] = {}
    column = _STATE_COLUMN.get
    width = len(TALLY_COLUMNS)
    for f in facts:
        values = getattr(f, key)
        state, not_started = column(f.state), f.status == "not_started"
        for v in values if isinstance(values, tuple) else (values,):
            counts = table.get(v)
            if counts is None:
                counts = table[v] = [0] * width
            _add(counts, state, not_started)
    first = [k for k in dict.fromkeys(order) if k in table]
    placed = set(first)
    return [(k, Tally(*table[k])) for k in (*first, *(k for k in table if k not in placed))]


# --- index scores -------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreLine:
    index_set: str
    component: str
    year: int
    score: float | None
    rank: int | None
    out_of: int | None
    prev_year: int | None = None
    prev_score: float | None = None
    prev_rank: int | None = None

    @property
    def delta(self) -> float | None:
        if self.score is None or self.prev_score is None:
            return None
        return round(self.score - self.prev_score, 2)

    @property
    def rank_change(self) -> int | None:
        """Places gained (positive) or lost; rank 1 is best."""
        if self.rank is None or self.prev_rank is None:
            return None
        return self.prev_rank - self.rank


def _num(v: Any) -> float | None:
    """A score, rank or year as typed (6.39, "6,39", "1.234,5"); None when empty or unreadable."""
    try:
        return vn.parse_number(v)
    except ValueError:
        return None


def score_lines(md: MasterData) -> list[ScoreLine]:
    """Latest year of each component against the year before it."""
    by_comp: dict[tuple[str, str], dict[int, dict[str, Any]]] = {}
    for r in md.scores.rows:
        comp = normalize_text(r.get("component"))
        year = _num(r.get("year"))
        if not comp or year is None:
            continue
        by_comp.setdefault((normalize_text(r.get("index_set")), comp), {})[int(year)] = r
    out = []
    for (iset, comp), years in by_comp.items():
        ys = sorted(years)
        cur = years[ys[-1]]
        prev = years[ys[-2]] if len(ys) > 1 else None

        def _int(v: Any) -> int | None:
            n = _num(v)
            return int(n) if n is not None else None

        out.append(ScoreLine(
            index_set=iset, component=comp, year=ys[-1], score=_num(cur.get("score")),
            rank=_int(cur.get("rank")), out_of=_int(cur.get("out_of")),
            prev_year=ys[-2] if prev else None,
            prev_score=_num(prev.get("score")) if prev else None,
            prev_rank=_int(prev.get("rank")) if prev else None,
        ))
    return out


# --- history: this period against the previous one ----------------------------------------


@dataclass
class Comparison:
    previous_period: str
    previous_done: int
    previous_overdue: int
    newly_done: list[TaskFact] = field(default_factory=list)
    newly_overdue: list[TaskFact] = field(default_factory=list)
    no_longer_overdue: list[TaskFact] = field(default_factory=list)


def _iso_period(value: Any) -> str | None:
    return try_parse_period(value)


def history_periods(md: MasterData) -> list[str]:
    """Reporting periods present in the history sheet, oldest first."""
    return sorted({p for r in md.history.rows if (p := _iso_period(r.get("period")))})


def compare_with_history(md: MasterData, facts: list[TaskFact], period: str) -> Comparison | None:
    """This period against the latest earlier period in the history sheet; None when there is none.

    History rows are one per unit and submission (merge writes the submission's period), so
    members of a collective and coordinating units add rows for tasks they do not own: only
    the owner's row (a lead unit, the collective itself, or a row without a unit) stands for
    the task. A task without such a row up to that period counts as done then when its
    completion date falls within it.
    """
    current = _iso_period(period)
    earlier = [p for p in history_periods(md) if current is None or p < current]
    if not earlier:
        return None
    prev = earlier[-1]
    _, prev_end = period_bounds(prev)
    reg = Registry.from_master(md)
    owners = {f.id: set(f.lead_units) for f in facts}
    snap: dict[str, tuple[str, int, dict[str, Any]]] = {}
    for n, r in enumerate(md.history.rows):
        p = _iso_period(r.get("period"))
        tid = normalize_text(r.get("task_id"))
        if p is None or p > prev or not tid:
            continue
        unit = normalize_text(r.get("unit"))
        if unit and tid in owners:
            name = reg.match_unit(unit).canonical or unit
            if name not in owners[tid]:
                continue
        key = (p, n)  # later periods, then later rows, are later snapshots
        if tid not in snap or key > snap[tid][:2]:
            snap[tid] = (p, n, r)

    def prev_state(r: dict[str, Any]) -> str:
        label = normalize_text(r.get("deadline_state"))
        return schema.DEADLINE_STATE_CODES.get(label, label)

    def was_done(f: TaskFact) -> bool:
        if f.id in snap:
            return is_done(snap[f.id][2].get("status"))
        return f.status == "done" and f.completed_on is not None and f.completed_on <= prev_end

    def was_overdue(f: TaskFact) -> bool:
        return f.id in snap and not was_done(f) and prev_state(snap[f.id][2]) == "overdue"

    cmp = Comparison(
        previous_period=prev,
        previous_done=sum(1 for f in facts if was_done(f)),
        previous_overdue=sum(1 for f in facts if was_overdue(f)),
    )
    for f in facts:
        before = was_overdue(f)
        if f.state == "overdue" and not before:
            cmp.newly_overdue.append(f)
        if before and f.state != "overdue":
            cmp.no_longer_overdue.append(f)
        if f.status == "done" and not was_done(f):
            cmp.newly_done.append(f)
    return cmp


# --- what each unit owes: its parts ---------------------------------------------------


@dataclass(frozen=True)
class UnitParts:
    """One unit's parts (``rules/parts``): next to the task counts of ``tally_by(facts, "lead_units")``,
    which count a collective's task once under the collective's name, this counts what the unit owes."""

    unit: str
    led: int  # tasks it leads by name (chủ trì)
    owed: int  # parts it owes, every role: chủ trì, tổng hợp chung, phần việc giao chung, phối hợp
    done: int  # of those, done (its own report says so, or the task is done)
    overdue: int  # of those, past the task's deadline and not done

    def as_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "led": self.led, "owed": self.owed, "done": self.done, "overdue": self.overdue}


UNIT_PARTS_HEADERS: dict[str, str] = {
    "unit": "Đơn vị", "led": "Nhiệm vụ chủ trì", "owed": "Phần việc phải thực hiện",
    "done": "Phần việc đã hoàn thành", "overdue": "Phần việc quá hạn",
}


@dataclass(frozen=True)
class PartFigures:
    """Every part of every task (``rules/parts.parts_of``) with its deadline state (``part_states``),
    for one as-of date and due-soon rule. Computed once per summary: the statements of the period,
    the by-unit parts table and the reminders all read the same parts (building them three times
    was most of a briefing's time)."""

    parts: list[Part]
    states: list[Derived]
    as_of: dt.date
    due_soon_days: int
    due_soon_unit: str
    outstanding_only: bool = False  # only the overdue and due-soon parts (what the reminders need)

    def fits(self, as_of: dt.date, due_soon_days: int, due_soon_unit: str) -> bool:
        return (self.as_of, self.due_soon_days, self.due_soon_unit) == (as_of, due_soon_days, due_soon_unit)

    def outstanding(self) -> PartFigures:
        """Only the overdue and due-soon parts: what a Summary keeps for the reminders. Every part
        of 50,000 tasks (three or more each, with their states) is too much to carry to the end."""
        keep = [(p, d) for p, d in zip(self.parts, self.states, strict=True)
                if d.deadline_state in ("overdue", "due_soon")]
        return PartFigures([p for p, _ in keep], [d for _, d in keep], self.as_of, self.due_soon_days,
                           self.due_soon_unit, outstanding_only=True)


def part_figures(md: MasterData, as_of: dt.date, *, due_soon_days: int = 7, due_soon_unit: str = "calendar",
                 parts: Sequence[Part] | None = None, registry: Registry | None = None) -> PartFigures:
    """:class:`PartFigures` of ``md``; ``parts`` when the caller has built them already (the nightly)."""
    from kehoach_xl.rules.parts import part_states, parts_of

    parts = list(parts) if parts is not None else parts_of(md, registry or Registry.from_master(md))
    states = part_states(md, parts, as_of, due_soon_days=due_soon_days, due_soon_unit=due_soon_unit)
    return PartFigures(parts, states, as_of, due_soon_days, due_soon_unit)


def unit_parts_table(md: MasterData, as_of: dt.date, *, due_soon_days: int = 7,
                     due_soon_unit: str = "calendar", figures: PartFigures | None = None) -> list[UnitParts]:
    """Per unit: tasks led, parts owed, parts done, overdue parts; units in the sheet "Đơn vị" order.

    ``figures``: the parts and their states, when the caller has them for this as-of date and rule."""
    from kehoach_xl.model.roles import Role

    reg = Registry.from_master(md)
    if figures is None or figures.outstanding_only or not figures.fits(as_of, due_soon_days, due_soon_unit):
        figures = part_figures(md, as_of, due_soon_days=due_soon_days, due_soon_unit=due_soon_unit, registry=reg)
    counts: dict[str, list[int]] = {}
    for p, d in zip(figures.parts, figures.states, strict=True):
        c = counts.setdefault(p.unit, [0, 0, 0, 0])
        c[0] += p.role == Role.LEAD
        c[1] += 1
        c[2] += d.deadline_state in ("done_on_time", "done_late")
        c[3] += d.deadline_state == "overdue"
    order = {n: i for i, n in enumerate(reg.unit_names)}
    return [UnitParts(u, *c) for u, c in sorted(counts.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))]
