"""The summary sheet ("Tổng hợp"): figures, cell layout, chart scaffold and export.

``compute_summary`` is pure (MasterData in, :class:`Summary` out);
``summary_changes`` turns a Summary into the cells of the summary sheet for the
safe writer; ``summary`` is the file wrapper. The chart is created once, when
the master is created (:func:`build_summary_scaffold`), bound to a fixed range
of the by-unit block: the safe writer only writes cell values, so the chart
follows the new figures without being rewritten."""

from __future__ import annotations

import datetime as dt
import math
import re
import textwrap
from collections.abc import Callable, Sequence
from copy import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kehoach_xl import vn
from kehoach_xl.model import schema
from kehoach_xl.model.address import col_letters
from kehoach_xl.model.changes import EXCEL_TEXT_MAX, LogEntry, MasterChanges
from kehoach_xl.model.config import Config
from kehoach_xl.model.master import MasterData
from kehoach_xl.model.outcome import Outcome
from kehoach_xl.model.part import SOURCE_LINE, SOURCE_SHEET, Part
from kehoach_xl.reports.figures import (
    UPCOMING_DAYS,
    Comparison,
    PartFigures,
    ScoreLine,
    Tally,
    TaskFact,
    UnitParts,
    compare_with_history,
    part_figures,
    period_of,
    score_lines,
    tally,
    tally_by,
    task_facts,
    unit_parts_table,
)
from kehoach_xl.rules.refresh import SUMMARY_AS_OF_CELL, as_of_line
from kehoach_xl.rules.safe_cells import put_text
from kehoach_xl.text import normalize_text
from kehoach_xl.vn import parse_period, period_bounds, try_parse_period

SHEET = schema.SUMMARY_SHEET_NAME


# Layout. A1 holds the title (how the program knows the sheet is its own). The by-unit block has
# room for UNIT_ROWS units at fixed rows, the rows it does not use are hidden (written with no
# height), and the chart — drawn once when the master is created, bound to that whole range —
# plots visible rows only: its categories are exactly the units listed, however many there are
# later. Hidden rows take no room, so the chart, anchored below the range, sits right under the
# last unit, and the other sections start below the chart.
UNIT_HEADER_ROW = 6


UNIT_TOTAL_ROW = 7


UNIT_FIRST_ROW = 8


UNIT_ROWS = 40  # units the block and the chart have room for


CHART_ROW = UNIT_FIRST_ROW + UNIT_ROWS + 1  # 49


CHART_HEIGHT_ROWS = 24


FIRST_SECTION_ROW = CHART_ROW + CHART_HEIGHT_ROWS + 1


MARK_COL = 11  # K, hidden: each row's role, read by the sheet's conditional formats


# L–O: parts done, overdue, in progress, then the total owed. The chart's series are L, M, N: a
# master made before this layout has its chart bound to L:N with titles from L6:N6 (done / overdue /
# in progress) — the safe writer never redraws a chart, so these columns keep that meaning and an
# old master's chart shows the right figures under the right titles.
PARTS_COLS = (12, 13, 14, 15)


CHART_COLS = PARTS_COLS[:3]  # the chart's series: parts done / overdue / in progress


LAST_COL = PARTS_COLS[-1]


STYLED_ROWS = 1500  # rows laid out in advance in the master (the safe writer keeps a cell's style)


TALLY_HEADERS = (
    "Tổng số nhiệm vụ", "Hoàn thành đúng hạn", "Hoàn thành trễ hạn", "Đang thực hiện trong hạn",
    "Quá hạn", "Sắp đến hạn", "Chưa thực hiện", "Thường xuyên, định kỳ", "Tỷ lệ hoàn thành (%)",
)


UNIT_TALLY_HEADERS = ("Số nhiệm vụ chủ trì", *TALLY_HEADERS[1:])


PARTS_HEADERS = ("Phần việc đã hoàn thành", "Phần việc quá hạn", "Phần việc đang thực hiện",
                 "Tổng số phần việc")


@dataclass
class Summary:
    as_of: dt.date
    period: str  # YYYY-MM reported on (default: the month of as_of)
    meta: dict[str, Any]
    facts: list[TaskFact]
    total: Tally
    by_group: list[tuple[str, Tally]]
    by_unit: list[tuple[str, Tally]]
    by_leader: list[tuple[str, Tally]]
    overdue: list[TaskFact]
    upcoming: list[TaskFact]  # due within UPCOMING_DAYS days
    issues: list[TaskFact]  # difficulties or proposals reported this period
    finished: list[TaskFact]  # completed within the period
    scores: list[ScoreLine]
    comparison: Comparison | None
    unit_parts: list[UnitParts] = field(default_factory=list)  # what each unit owes (rules/parts)
    registered_units: list[str] = field(default_factory=list)  # the sheet "Đơn vị", in its order
    # task id → (unit, difficulty, proposal) as each unit wrote them (rules/parts), for the issues
    statements: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    derived_source: str = "sheet"
    export_path: Path | None = None
    warnings: list[str] = field(default_factory=list)
    written: bool = False  # the master's summary sheet was written (not in ``to_dict``)
    # the overdue and due-soon parts with their states, as the figures above were computed (not in
    # ``to_dict``): the briefing's reminders read them instead of building every part again
    part_figures: PartFigures | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        def facts(fs: list[TaskFact]) -> list[dict[str, Any]]:
            return [{"id": f.id, "task": f.task, "lead_units": list(f.lead_units), "state": f.state,
                     "due_date": f.due_date, "days_overdue": f.days_overdue} for f in fs]

        return {
            "as_of": self.as_of, "period": self.period, "total": self.total.as_dict(),
            "by_group": {k: t.as_dict() for k, t in self.by_group},
            "by_unit": {k: t.as_dict() for k, t in self.by_unit},
            "by_leader": {k: t.as_dict() for k, t in self.by_leader},
            "overdue": facts(self.overdue), "upcoming": facts(self.upcoming),
            "issues": facts(self.issues), "finished": facts(self.finished),
            "scores": [score_sentence(s) for s in self.scores],
            "unit_parts": [p.as_dict() for p in self.unit_parts],
            "derived_source": self.derived_source,
            "export_path": self.export_path,
        }


def _reported_in(md: MasterData, period: str) -> set[str]:
    """Tasks whose difficulties or proposals came in with a submission of ``period`` (history sheet)."""
    out = set()
    for r in md.history.rows:
        if not (r.get("difficulties") or r.get("proposals")):
            continue
        if try_parse_period(r.get("period")) == period:
            out.add(normalize_text(r.get("task_id")))
    return out


def _in_period(f: TaskFact, first: dt.date, last: dt.date, reported: set[str]) -> bool:
    # A report without a timestamp is the latest one the office has: keep it. Reports of a month
    # are merged in the days after it ends, so "last" is the later of the month's end and as_of.
    return f.id in reported or f.updated_at is None or first <= f.updated_at.date() <= last


def compute_summary(md: MasterData, *, as_of: dt.date | None = None, config: Config | None = None,
                    period: str | None = None) -> Outcome:
    """The summary as an outcome: ``result`` is the :class:`Summary`, ``changes`` the summary sheet's
    cells (written only where the program owns that sheet: the caller checks), ``figures`` the totals."""
    s = summary_of(md, as_of, config=config, period=period)
    t = s.total
    return Outcome(as_of=s.as_of, changes=summary_changes(s), result=s,
                   figures={"tasks": t.total, "done": t.done_on_time + t.done_late, "overdue": t.overdue, "period": s.period})


def summary_of(md: MasterData, as_of: dt.date | None = None, *, config: Config | None = None,
               period: str | None = None, parts: Sequence[Part] | None = None) -> Summary:
    """Every figure of the summary for ``as_of`` (default: the master's as-of date, else today).

    ``period`` (YYYY-MM) is the month reported on; it defaults to the month of ``as_of``. A May
    report is usually made early in June: tasks finished and problems raised are those of the
    period, and the comparison is with the period before it.

    ``parts``: ``rules/parts.parts_of(md)`` when the caller has built them already (the nightly);
    otherwise they are built here, once, and kept in ``Summary.part_figures``.
    """
    config = config or Config()
    stored = md.settings.get("as_of")
    if as_of is None:
        as_of = stored.date() if isinstance(stored, dt.datetime) else stored if isinstance(stored, dt.date) else None
    as_of = as_of or dt.date.today()
    facts, source = task_facts(md, as_of, due_soon_days=config.due_soon_days, due_soon_unit=config.due_soon_unit)
    period = period_of(as_of) if period is None else parse_period(period)
    first, last = period_bounds(period)
    unit_order = [str(u.get("name")) for u in md.units.rows if u.get("name")]
    leader_order = [str(x.get("name")) for x in md.leaders.rows if x.get("name")]
    horizon = as_of + dt.timedelta(days=UPCOMING_DAYS)
    reported = _reported_in(md, period)
    current = {f.id for f in facts if _in_period(f, first, max(last, as_of), reported)}
    pf = part_figures(md, as_of, due_soon_days=config.due_soon_days, due_soon_unit=config.due_soon_unit, parts=parts)
    statements = _statements(md, facts, period, current, parts=pf.parts)
    return Summary(
        as_of=as_of,
        period=period,
        meta={k: md.settings.get(k) for k in schema.SETTINGS_ROWS},
        facts=facts,
        total=tally(facts),
        by_group=_index_named(tally_by(facts, "group"), md),
        by_unit=tally_by(facts, "lead_units", unit_order),
        by_leader=tally_by(facts, "leaders", leader_order),
        overdue=sorted((f for f in facts if f.state == "overdue"), key=lambda f: (-f.days_overdue, f.row)),
        upcoming=sorted(
            (f for f in facts if f.status != "done" and f.state not in ("overdue", "continuous")
             and f.due_date is not None and as_of <= f.due_date <= horizon),
            key=lambda f: (f.due_date, f.row),
        ),
        issues=[f for f in facts if f.id in statements or (f.difficulties or f.proposals) and f.id in current],
        finished=[f for f in facts if f.status == "done" and f.completed_on and first <= f.completed_on <= last],
        scores=score_lines(md),
        comparison=compare_with_history(md, facts, period),
        unit_parts=unit_parts_table(md, as_of, due_soon_days=config.due_soon_days, due_soon_unit=config.due_soon_unit,
                                    figures=pf),
        registered_units=unit_order,
        statements=statements,
        derived_source=source,
        part_figures=pf.outstanding(),
    )


_INDEX_NO = re.compile(r"^\s*chỉ\s+số\s+(\d+)\b", re.I)


def _index_named(groups: list[tuple[str, Tally]], md: MasterData) -> list[tuple[str, Tally]]:
    """Groups named as the index sheet ("Điểm chỉ số") names them: one name per index, whatever
    the plan's appendix called it ("Chỉ số 5: Hỗ trợ Doanh nghiệp" → "Chỉ số 5: Dịch vụ hỗ trợ …")."""
    names: dict[str, str] = {}
    for r in md.scores.rows:
        comp = normalize_text(r.get("component"))
        m = _INDEX_NO.match(comp)
        if m:
            names.setdefault(m[1], comp)
    out: dict[str, Tally] = {}
    for name, t in groups:
        m = _INDEX_NO.match(name)
        key = names.get(m[1], name) if m else name
        if key in out:  # two spellings of one index in the plan: one row
            for k, v in vars(t).items():
                setattr(out[key], k, getattr(out[key], k) + v)
        else:
            out[key] = t
    return list(out.items())


_EXTENSION = re.compile(r"gia\s+hạn", re.I)


def _statements(md: MasterData, facts: list[TaskFact], period: str, current: set[str], *,
                parts: Sequence[Part] | None = None) -> dict[str, list[tuple[str, str, str]]]:
    """Difficulties and proposals of ``period`` credited to the unit that wrote them (its part of
    the task). A part that says which period it reports on (its row in the sheet "Phần việc", an
    attributed line) counts when that is ``period``; a part read from the task's own cells (a
    master without the parts sheet) or a row without a period counts when the task was reported on
    in the period: ``current``.

    An extension asked for a part or a task that is done is moved on from: it asks nothing any more.
    """
    from kehoach_xl.model.registry import Registry
    from kehoach_xl.rules.parts import parts_of

    done = {f.id for f in facts if f.status == "done"}
    out: dict[str, list[tuple[str, str, str]]] = {}
    for p in parts if parts is not None else parts_of(md, Registry.from_master(md)):
        dated = p.period is not None and p.source in (SOURCE_LINE, SOURCE_SHEET)
        if (p.period != period) if dated else (p.task_id not in current):
            continue  # a report of another period; a task's own cells not updated in this one
        proposal = normalize_text(p.proposals).rstrip(".")
        if proposal and _EXTENSION.search(proposal) and (p.task_id in done or p.status == schema.STATUS_DONE):
            proposal = ""
        difficulty = normalize_text(p.difficulties).rstrip(".")
        if difficulty or proposal:
            out.setdefault(p.task_id, []).append((p.unit, difficulty, proposal))
    return out


def change_phrase(delta: float | None, unit: str = "điểm") -> str:
    if delta is None:
        return ""
    if delta == 0:
        return "không đổi"
    return f"{'tăng' if delta > 0 else 'giảm'} {vn.number(abs(delta))} {unit}"


def score_sentence(s: ScoreLine) -> str:
    """"Chỉ số 2: Chi phí thời gian: năm 2023 đạt 6,39 điểm, giảm 0,42 điểm so với năm 2022; xếp hạng 23/25 …"."""
    parts = []
    if s.score is not None:
        p = f"năm {s.year} đạt {vn.number(s.score)} điểm"
        if s.delta is not None:
            p += f", {change_phrase(s.delta)} so với năm {s.prev_year}"
        parts.append(p)
    if s.rank is not None:
        r = f"xếp hạng {s.rank}/{s.out_of}" if s.out_of else f"xếp hạng thứ {s.rank}"
        if s.score is None:
            r = f"năm {s.year} {r}"
        rc = s.rank_change
        if rc is not None:
            r += (f", tăng {rc} bậc" if rc > 0 else f", giảm {-rc} bậc" if rc < 0 else ", giữ nguyên thứ hạng")
            if s.score is None:
                r += f" so với năm {s.prev_year}"
        parts.append(r)
    return f"{s.component}: " + "; ".join(parts) if parts else s.component


def _tally_row(t: Tally) -> list[Any]:
    return [t.total, t.done_on_time, t.done_late, t.on_track, t.overdue, t.due_soon, t.not_started,
            t.continuous, t.percent_done]


def _unit_rows(s: Summary) -> list[tuple[str, Tally, UnitParts | None]]:
    """Every registered unit (the chart's categories, zeros included), then other lead names."""
    tallies = dict(s.by_unit)
    parts = {p.unit: p for p in s.unit_parts}
    names = list(dict.fromkeys([*s.registered_units, *tallies, *parts]))
    rows = [(n, tallies.get(n, Tally()), parts.get(n)) for n in names]
    if len(rows) <= UNIT_ROWS:
        return rows
    # More units than the block has room for: the last row adds up the rest.
    rest = rows[UNIT_ROWS - 1 :]
    t, owed = Tally(), UnitParts(f"Các đơn vị khác ({len(rest)} đơn vị)", 0, 0, 0, 0)
    for _n, tt, pp in rest:
        for k, v in vars(tt).items():
            setattr(t, k, getattr(t, k) + v)
        if pp:
            owed = UnitParts(owed.unit, owed.led + pp.led, owed.owed + pp.owed, owed.done + pp.done,
                             owed.overdue + pp.overdue)
    return [*rows[: UNIT_ROWS - 1], (owed.unit, t, owed)]


def _parts_row(owed: int, done: int, overdue: int) -> list[int]:
    """A unit's parts in the order of PARTS_COLS: done, overdue, in progress (the chart's series), owed."""
    return [done, overdue, owed - done - overdue, owed]


def summary_cells(s: Summary, *, compact: bool = False) -> dict[tuple[int, int], Any]:
    """(row, col) → value for the whole summary sheet below its title, each row's role in column K.

    The master keeps the by-unit block and the chart at fixed rows (see UNIT_ROWS); ``compact``
    (the export, written whole) packs the block and puts the chart right after it. Roles (column K): "h" heading, "c<n>" column headers, "t<n>" total,
    "d<n>" data, "g<n>" a sub-heading, "b<n>" a bold line, "p<n>" index scores; <n> is how many columns from
    A the row spans. The sheet's conditional formats border, bold and colour rows by these roles,
    so the safe writer (which writes values only) gives every block its look.
    """
    cells: dict[tuple[int, int], Any] = {}

    def put(r: int, values: list[Any], c0: int = 1) -> None:
        for j, v in enumerate(values):
            if v is not None and v != "":
                cells[(r, c0 + j)] = v

    def mark(r: int, role: str, width: int) -> None:
        cells[(r, MARK_COL)] = role if role == "h" else f"{role}{width}"

    title = s.meta.get("plan_title") or ""
    number = s.meta.get("plan_number") or ""
    put(2, [f"Kế hoạch số {number}: {title}" if number else title])
    put(SUMMARY_AS_OF_CELL[0], [as_of_line(s.as_of)])  # the same line, in the same cell, as refresh writes
    put(4, [f"Kỳ báo cáo: {month_label(s.period)}. Tỷ lệ hoàn thành tính trên tổng số nhiệm vụ; "
            "phần việc gồm phần chủ trì, tổng hợp và phối hợp của từng đơn vị."])
    put(5, ["1. TỔNG HỢP THEO ĐƠN VỊ"])
    mark(5, "h", 1)
    put(UNIT_HEADER_ROW, ["Đơn vị", *UNIT_TALLY_HEADERS])
    put(UNIT_HEADER_ROW, list(PARTS_HEADERS), PARTS_COLS[0])
    mark(UNIT_HEADER_ROW, "c", LAST_COL)
    owed = sum(p.owed for p in s.unit_parts)
    done = sum(p.done for p in s.unit_parts)
    late = sum(p.overdue for p in s.unit_parts)
    put(UNIT_TOTAL_ROW, ["Tổng cộng (mỗi nhiệm vụ tính một lần)", *_tally_row(s.total)])
    put(UNIT_TOTAL_ROW, _parts_row(owed, done, late), PARTS_COLS[0])
    mark(UNIT_TOTAL_ROW, "t", LAST_COL)
    rows = _unit_rows(s)
    for i, (name, t, p) in enumerate(rows):
        r = UNIT_FIRST_ROW + i
        put(r, [name, *_tally_row(t)])
        pv = _parts_row(p.owed, p.done, p.overdue) if p else [0, 0, 0, 0]
        cells.update({(r, PARTS_COLS[0] + j): v for j, v in enumerate(pv)})
        mark(r, "d", LAST_COL)
    end = UNIT_FIRST_ROW + len(rows) + 1
    row = end + CHART_HEIGHT_ROWS + 1 if compact else FIRST_SECTION_ROW

    section = 1

    def block(heading: str, header: list[str], lines: list[list[Any]], role: str = "d",
              roles: list[str] | None = None) -> None:
        nonlocal row, section
        if not lines:
            return  # no empty sections, and no gap in the numbering
        section += 1
        width = len(header)
        put(row, [f"{section}. {heading}"])
        mark(row, "h", 1)
        put(row + 1, header)
        mark(row + 1, "c", width)
        for k, values in enumerate(lines):
            put(row + 2 + k, values)
            mark(row + 2 + k, roles[k] if roles else role, width)
        row += len(lines) + 3

    block("TỔNG HỢP THEO CHỈ SỐ, NHÓM NHIỆM VỤ", ["Chỉ số/nhóm nhiệm vụ", *TALLY_HEADERS],
          [[k, *_tally_row(t)] for k, t in s.by_group])
    block("TỔNG HỢP THEO LÃNH ĐẠO GIÁM SÁT", ["Lãnh đạo giám sát", *TALLY_HEADERS],
          [[k, *_tally_row(t)] for k, t in s.by_leader])
    # Task lists: the task (plan numbering, code, text) in the wide first column, short facts after it.
    block("NHIỆM VỤ QUÁ HẠN", ["Nhiệm vụ", "Đơn vị chủ trì", "Hạn hoàn thành", "Số ngày quá hạn",
                               "Tiến độ (%)", "Thời hạn (nguyên văn)"],
          [[_task_cell(f), f.units_text, vn.date(f.due_date), f.days_overdue, f.progress, f.deadline_text]
           for f in s.overdue])
    block(f"NHIỆM VỤ ĐẾN HẠN TRONG {UPCOMING_DAYS} NGÀY TỚI",
          ["Nhiệm vụ", "Đơn vị chủ trì", "Hạn hoàn thành", "Số ngày còn lại", "Tiến độ (%)", "Trạng thái"],
          [[_task_cell(f), f.units_text, vn.date(f.due_date), f.days_remaining, f.progress, _status_label(f)]
           for f in s.upcoming])
    issue_lines, issue_roles = _issue_lines(s)
    block("KHÓ KHĂN, VƯỚNG MẮC VÀ ĐỀ XUẤT TRONG KỲ",
          ["Nội dung; đơn vị nêu và nhiệm vụ"], issue_lines, roles=issue_roles)
    block("ĐIỂM CHỈ SỐ", ["Chỉ số thành phần", "Năm", "Điểm", "Năm trước", "Điểm năm trước",
                          "Thay đổi điểm", "Xếp hạng", "Thay đổi thứ hạng"],
          [[sc.component, sc.year, sc.score, sc.prev_year, sc.prev_score, change_phrase(sc.delta),
            f"{sc.rank}/{sc.out_of}" if sc.rank and sc.out_of else sc.rank, _rank_change(sc)]
           for sc in s.scores], role="p")
    cmp = s.comparison
    header = (["Nội dung", f"Kỳ trước ({month_label(cmp.previous_period)})", f"Kỳ này ({month_label(s.period)})"]
              if cmp else ["Nội dung", f"Số nhiệm vụ ({month_label(s.period)})"])
    block("SO SÁNH VỚI KỲ TRƯỚC" if cmp else f"KẾT QUẢ TRONG {month_label(s.period).upper()}",
          header, _comparison_rows(s))
    return cells


def _rank_change(sc: ScoreLine) -> str:
    rc = sc.rank_change
    if rc is None:
        return ""
    return f"tăng {rc} bậc" if rc > 0 else f"giảm {-rc} bậc" if rc < 0 else "giữ nguyên"


def cite(f: TaskFact) -> str:
    """A task as the plan numbers it, its code in brackets: "I.1 [DDCI2024-002]" (square brackets:
    a cite often stands inside round ones already)."""
    if f.number and f.id:
        return f"{f.number} [{f.id}]"
    return f.id or f.number


def _task_cell(f: TaskFact) -> str:
    head = cite(f)
    return f"{head}: {f.task}" if head else f.task


def raised(s: Summary, which: int) -> list[tuple[str, list[tuple[str, list[TaskFact]]]]]:
    """Each distinct difficulty (``which`` 1) or proposal (2) of the period, once, with the units
    that raised it and, per unit, the tasks it raised it on; in the order first raised."""
    groups: dict[str, tuple[str, dict[str, list[TaskFact]]]] = {}
    for f, statements in issue_statements(s):
        for st in statements:
            text = st[which]
            if text:
                tasks = groups.setdefault(text.casefold(), (text, {}))[1].setdefault(st[0], [])
                if f not in tasks:
                    tasks.append(f)
    return [(text, list(units.items())) for text, units in groups.values()]


def _issue_lines(s: Summary) -> tuple[list[list[Any]], list[str]]:
    """Difficulties, then proposals: each text once (bold, in a cell of its own, exactly as the unit
    wrote it), with who raised it on which tasks below it."""
    lines: list[list[Any]] = []
    roles: list[str] = []
    for label, which in (("Khó khăn, vướng mắc", 1), ("Đề xuất, kiến nghị", 2)):
        items = raised(s, which)
        if items:
            lines.append([label])
            roles.append("g")
        for text, units in items:
            lines.append([text])
            roles.append("b")
            lines.append([clipped("Đơn vị nêu: " + "; ".join(
                f"{unit} (nhiệm vụ {', '.join(f.id for f in fs)})" for unit, fs in units) + ".")])
            roles.append("d")
    return lines, roles


def issue_statements(s: Summary) -> list[tuple[TaskFact, list[tuple[str, str, str]]]]:
    """Each task with difficulties or proposals this period and who wrote what (the lead's cells
    when no part carries them: a task led by a collective name without a unit named)."""
    out = []
    for f in s.issues:
        statements = s.statements.get(f.id, [])
        if not statements:
            proposal = "" if f.status == "done" and _EXTENSION.search(f.proposals) else f.proposals.rstrip(".")
            if f.difficulties or proposal:
                statements = [(f.units_text or "Đơn vị chủ trì", f.difficulties.rstrip("."), proposal)]
        if statements:
            out.append((f, statements))
    return out


def _status_label(f: TaskFact) -> str:
    return {"not_started": schema.STATUS_NOT_STARTED, "in_progress": schema.STATUS_IN_PROGRESS,
            "done": schema.STATUS_DONE}[f.status]


def month_label(period: str) -> str:
    y, m = period.split("-")
    return f"tháng {int(m)}/{y}"


# Excel shows and prints no row taller than 409 points: a first-column line wrapping past what that
# height holds is cut on screen and on paper, and LibreOffice prints it over the page's footer. A
# line the program writes stops at what the row shows (the lines it wraps to, at 13.2 points a line,
# as ``row_heights`` sizes the row) and counts or points to the rest.
ROW_MAX_PT = 409.0
_LINES_MAX = int((ROW_MAX_PT - 4) / 13.2)


def _fits(text: str) -> bool:
    """``text`` whole in one first-column cell of the summary, as it is shown and printed."""
    return len(text) <= EXCEL_TEXT_MAX and _lines(text, _WIDTHS[1], True) <= _LINES_MAX


def _longest(n: int, fits: Callable[[int], bool]) -> int:
    """The largest ``k`` in 0..n with ``fits(k)`` (``fits`` true up to some k, false after it)."""
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def cited_line(head: str, fs: list[TaskFact]) -> str:
    """``head`` and the tasks cited, "; " between them; as many as the row shows, the rest counted
    ("…; … và 1.234 nhiệm vụ khác"): the count of them all stands in the next column."""
    # A row shows ~2,200 characters (30 lines), and a cite with its "; " is 3 or more: more never fit.
    cites = [cite(f) for f in fs[:1000]]
    text = head + "; ".join(cites)
    if len(cites) == len(fs) and _fits(text):
        return text

    def line(n: int) -> str:
        return head + "; ".join(cites[:n]) + f"{'; ' if n else ''}… và {vn.integer(len(fs) - n)} nhiệm vụ khác"

    return line(_longest(len(cites), lambda n: _fits(line(n))))


_CLIPPED = " … (danh sách còn tiếp; xem đủ ở sheet “Nhiệm vụ”)."


def clipped(text: str) -> str:
    """``text`` as the row shows it: a longer one cut after its last whole item (", " or "; ") and
    said so, the same way every time (so a night with nothing new finds the sheet as it would make it)."""
    if _fits(text):
        return text
    cuts = [m.start() for m in re.finditer(r"[,;] ", text[:EXCEL_TEXT_MAX])]
    k = _longest(len(cuts), lambda k: k == 0 or _fits(text[: cuts[k - 1]] + _CLIPPED))
    return (text[: cuts[k - 1]] if k else "") + _CLIPPED


def _comparison_rows(s: Summary) -> list[list[Any]]:
    c = s.comparison
    finished = (cited_line(f"Nhiệm vụ hoàn thành trong {month_label(s.period)}: ", s.finished)
                if s.finished else "")
    if c is None:
        return [[finished, len(s.finished)]] if s.finished else []
    rows: list[list[Any]] = [[finished, None, len(s.finished)]] if s.finished else []
    rows += [
        ["Số nhiệm vụ đã hoàn thành (lũy kế)", c.previous_done, s.total.done],
        ["Số nhiệm vụ quá hạn", c.previous_overdue, s.total.overdue],
    ]
    if c.newly_overdue:
        rows.append([cited_line("Nhiệm vụ mới quá hạn trong kỳ: ", c.newly_overdue), None, len(c.newly_overdue)])
    if c.no_longer_overdue:
        rows.append([cited_line("Nhiệm vụ hết quá hạn so với kỳ trước: ", c.no_longer_overdue), None,
                     len(c.no_longer_overdue)])
    return rows


def summary_changes(s: Summary) -> MasterChanges:
    """Cells of the summary sheet: everything below the title is cleared, then rewritten."""
    ch = MasterChanges()
    ch.clear_from[SHEET] = 2
    cells = summary_cells(s)
    ch.cells[SHEET] = cells  # the cells as made (a copy cell by cell was 14 MiB more at 10,000 tasks)
    heights = row_heights(cells, STYLED_ROWS)
    # The by-unit block's unused rows are hidden (no height): they take no room on screen or paper,
    # and the chart, which plots visible rows only, has exactly the units listed as categories.
    for r in range(UNIT_FIRST_ROW + len(_unit_rows(s)), UNIT_FIRST_ROW + UNIT_ROWS):
        heights[r] = 0.0
    ch.row_heights[SHEET] = heights
    ch.log.append(LogEntry(action="summary", field=SHEET,
                           new=f"Tổng hợp số liệu đến ngày {vn.date(s.as_of)}: {s.total.total} nhiệm vụ"))
    return ch


BODY_PT = 11


# Widths (characters): the first column holds names and task texts, the others short figures.
_WIDTHS = {1: 60, **{c: 11 for c in range(2, 11)}, MARK_COL: 4, **{c: 11 for c in PARTS_COLS}}


def _role_formats(ws: Any, last_row: int) -> None:
    """Conditional formats keyed on column K: the look of each block wherever its rows fall."""
    from openpyxl.formatting.rule import Rule
    from openpyxl.styles import Border, Font, PatternFill, Side
    from openpyxl.styles.differential import DifferentialStyle
    from openpyxl.styles.numbers import NumberFormat

    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    head_fill = PatternFill("solid", fgColor="DDEBF7", bgColor="DDEBF7")
    group_fill = PatternFill("solid", fgColor="F2F2F2", bgColor="F2F2F2")

    rng = f"A2:{col_letters(LAST_COL)}{last_row}"
    k = "$K2"
    inside = f"COLUMN(A2)<=VALUE(MID({k},2,3))"

    def rule(formula: str, **style: Any) -> Rule:
        return Rule(type="expression", formula=[formula], dxf=DifferentialStyle(**style))

    bold = Font(b=True)
    rules = [
        rule(f'AND(LEFT({k},1)="c",{inside})', font=bold, fill=head_fill, border=border),
        rule(f'AND(OR(LEFT({k},1)="t",LEFT({k},1)="g"),{inside})', font=bold, fill=group_fill, border=border),
        rule(f'AND(LEFT({k},1)="p",{inside},OR(COLUMN(A2)=3,COLUMN(A2)=5))', border=border,
             numFmt=NumberFormat(numFmtId=170, formatCode=vn.SCORE_FORMAT)),
        rule(f'AND(LEFT({k},1)="b",{inside})', font=bold, border=border),
        rule(f'AND(OR(LEFT({k},1)="d",LEFT({k},1)="p"),{inside})', border=border),
        rule(f'{k}="h"', font=bold),
    ]
    for r in rules:
        ws.conditional_formatting.add(rng, r)


def _scaffold_sheet(ws: Any, n_chart: int, *, styled_rows: int, chart_row: int) -> None:
    """Widths, pre-styled cells (font, wrap, number formats), role formats, print setup and the chart.

    Every cell of ``styled_rows`` rows gets its font, wrapping and number format now: the safe
    writer keeps a cell's style when it writes a value, so values written later look right
    without the writer knowing about styles. Nothing shows until a value is written.
    """
    _title_cell(ws)
    _columns(ws)
    _style_cells(ws, styled_rows)
    _sheet_furniture(ws, n_chart, styled_rows=styled_rows, chart_row=chart_row)


def _title_cell(ws: Any) -> None:
    from openpyxl.styles import Font

    from kehoach_xl.reports.master_book import FONT_NAME

    ws["A1"] = schema.SUMMARY_TITLE
    ws["A1"].font = Font(name=FONT_NAME, sz=14, bold=True)


def _columns(ws: Any) -> None:
    for c, w in _WIDTHS.items():
        ws.column_dimensions[col_letters(c)].width = w
    # The role column and the chart's helper columns stay in the file, not on screen or paper.
    ws.column_dimensions[col_letters(MARK_COL)].hidden = True


def _style_cells(ws: Any, styled_rows: int) -> None:
    """Font, wrapping and number format of every cell A2 to O``styled_rows`` (and of the header row)."""
    from openpyxl.styles import Alignment, Font

    from kehoach_xl.reports.master_book import FONT_NAME

    body = Font(name=FONT_NAME, sz=BODY_PT)
    wrap = Alignment(wrap_text=True, vertical="top")
    styles: dict[int, Any] = {}
    for r in range(2, styled_rows + 1):
        for c in range(1, LAST_COL + 1):
            cell = ws.cell(row=r, column=c)
            style = styles.get(c)
            if style is not None:
                cell._style = copy(style)
                continue
            cell.font = body
            cell.alignment = wrap if c != MARK_COL else Alignment()
            if c == 10:
                cell.number_format = vn.RATE_FORMAT
            elif c > 1:
                cell.number_format = vn.NUMBER_FORMAT
            styles[c] = copy(cell._style)
    for r in (2, 3, 4):
        for c in range(1, LAST_COL + 1):
            ws.cell(row=r, column=c).alignment = Alignment(vertical="top")  # one line, running on to the right
    ws["A2"].font = Font(name=FONT_NAME, sz=BODY_PT, bold=True)
    ws["A3"].font = ws["A4"].font = Font(name=FONT_NAME, sz=BODY_PT, italic=True)
    for c in range(1, LAST_COL + 1):
        ws.cell(row=UNIT_HEADER_ROW, column=c).alignment = Alignment(wrap_text=True, vertical="center",
                                                                     horizontal="center")


def _sheet_furniture(ws: Any, n_chart: int, *, styled_rows: int, chart_row: int) -> None:
    """Role formats, the chart and the print setup (a worksheet's or a write-only worksheet's)."""
    from openpyxl.chart import BarChart, Reference, Series
    from openpyxl.chart.data_source import StrRef
    from openpyxl.chart.series import SeriesLabel
    from openpyxl.utils import quote_sheetname
    from openpyxl.worksheet.worksheet import Worksheet

    _role_formats(ws, styled_rows)

    chart = BarChart()
    chart.type = "bar"  # horizontal: long unit names read well on the axis
    chart.grouping = "stacked"
    chart.overlap = 100
    chart.title = "Phần việc của từng đơn vị"
    chart.y_axis.title = "Số phần việc"
    chart.height = CHART_HEIGHT_ROWS * 0.5
    chart.width = 24
    first, last = UNIT_FIRST_ROW, UNIT_FIRST_ROW + n_chart - 1
    # Series are built one by one: their titles sit in the header row but their values start
    # below the total row, so a single block reference with titles_from_data would misalign them.
    sheet_ref = quote_sheetname(ws.title)
    for col in CHART_COLS:
        series = Series(Reference(ws, min_col=col, min_row=first, max_row=last))
        series.tx = SeriesLabel(strRef=StrRef(f"{sheet_ref}!${col_letters(col)}${UNIT_HEADER_ROW}"))
        chart.series.append(series)
    chart.set_categories(Reference(ws, min_col=1, min_row=first, max_row=last))
    chart.x_axis.scaling.orientation = "maxMin"  # first unit on top
    chart.visible_cells_only = True  # the block's unused rows are hidden: they are no categories
    for series, colour in zip(chart.series, ("70AD47", "E06666", "F4B183"), strict=True):
        series.graphicalProperties.solidFill = colour
        series.graphicalProperties.line.solidFill = colour
    ws.add_chart(chart, f"A{chart_row}")

    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.oddFooter.center.text = "Trang &P/&N"
    ws.print_options.horizontalCentered = True


def build_summary_scaffold(wb: Any) -> None:
    """Lay out the summary sheet and add the native bar chart (called by create_master)."""
    ws = wb[SHEET] if SHEET in wb.sheetnames else wb.create_sheet(SHEET)
    _scaffold_sheet(ws, UNIT_ROWS, styled_rows=STYLED_ROWS, chart_row=CHART_ROW)


def _lines(text: str, width: float, bold: bool) -> int:
    """Lines ``text`` wraps to in a column ``width`` characters wide (Times New Roman 11 pt)."""
    per_line = max(4, int(width * (1.05 if bold else 1.25)) - 1)
    if len(text) <= per_line and "\n" not in text and "\t" not in text:
        return 1  # what textwrap says of a text that fits (most cells are short figures), without asking it
    # Capitals and digits are wider than the small letters the factor above is measured on: a list of
    # task codes ("NV00485, NV00925, …") wraps at ~63 characters where Vietnamese prose does at ~74,
    # and its row, sized for prose, was cut by a line on paper.
    wide = sum(map(str.isupper, text)) + sum(map(str.isdigit, text))
    per_line = max(4, int(per_line / (1 + 0.25 * wide / len(text))))
    return sum(len(textwrap.wrap(part, per_line, break_long_words=True)) or 1 for part in text.split("\n"))


def row_heights(cells: dict[tuple[int, int], Any], last_row: int | None = None) -> dict[int, float]:
    """Height (points) of every row from 5 on, as tall as its wrapped text: neither Excel nor
    LibreOffice grows a row for wrapped text when it opens a file, so the writer sets them.
    Up to ``last_row`` rows without text get the default height back (a cleared tall row)."""
    roles = {r: str(v) for (r, c), v in cells.items() if c == MARK_COL}
    lines: dict[int, int] = {}
    figures: dict[tuple[type, Any, int, bool], int] = {}  # the same few figures fill most cells: wrapped once each
    for (r, c), v in cells.items():
        if c == MARK_COL or r < 5 or v is None:
            continue
        if r != UNIT_HEADER_ROW and roles.get(r, "h")[0] not in "cdtgpb":
            continue  # headings and notes run on in one line
        bold = roles.get(r, "")[:1] in ("c", "t", "g", "b") or r == UNIT_HEADER_ROW
        width = _WIDTHS.get(c, 11)
        if isinstance(v, str):
            n = _lines(v, width, bold)
        else:
            key = (type(v), v, width, bold)
            n = figures.get(key) or figures.setdefault(key, _lines(vn.value(v), width, bold))
        lines[r] = max(lines.get(r, 1), n)
    out = {r: 15.0 for r in range(5, (last_row or 0) + 1)}
    out.update({r: 15.0 if n == 1 else round(13.2 * n + 4, 1) for r, n in lines.items()})
    return out


def export_summary(s: Summary, path: Path) -> Path:
    """The summary as its own new workbook (full writer), laid out exactly as the master's sheet.

    Written row by row (openpyxl's write-only mode): the cells go to the file as they are made,
    instead of a cell object for each of the 15 styled cells of every row (50 MiB at 10,000 tasks).
    Each cell gets the look ``_style_cells`` gives the master's sheet, read off a scaffold of the
    sheet's first rows: rows below those look like any body row.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils.indexed_list import IndexedList

    from kehoach_xl.reports.master_book import new_workbook

    cells = summary_cells(s, compact=True)
    n_units = max(1, len(_unit_rows(s)))
    last_value_row = max((r for r, _ in cells), default=UNIT_FIRST_ROW)
    heights = row_heights(cells)

    proto_wb = new_workbook()  # the look of the first rows, made by the master's own scaffold code
    proto = proto_wb.active
    _title_cell(proto)
    _style_cells(proto, UNIT_TOTAL_ROW)
    wb = Workbook(write_only=True)
    wb._fonts = IndexedList([proto_wb._fonts[0]])  # new_workbook's default font
    ws = wb.create_sheet(SHEET)
    looks: dict[tuple[int, int], Any] = {}  # (first row or 0 for any later row, column) → a styled cell
    for (r, c), pc in proto._cells.items():
        if r <= UNIT_TOTAL_ROW and pc.has_style:
            look = WriteOnlyCell(ws)
            look.font, look.alignment = copy(pc.font), copy(pc.alignment)
            look.number_format = pc.number_format
            looks[(r if r < UNIT_TOTAL_ROW else 0, c)] = look
    del proto_wb, proto

    # Everything but the rows first: write-only mode writes the sheet's head (properties, columns)
    # with the first row, and the rest (formats, chart, print setup) when it is saved.
    _columns(ws)
    _sheet_furniture(ws, n_units, styled_rows=last_value_row, chart_row=UNIT_FIRST_ROW + n_units + 1)
    title = WriteOnlyCell(ws, schema.SUMMARY_TITLE)
    title._style = copy(looks[(1, 1)]._style)
    ws.append([title])
    # The other rows are written as the XML openpyxl writes for them, without a cell object and an
    # lxml element for each of the 15 styled cells of every row (most of the export's time): the
    # sheet is closed now, with its head, title row and tail, and the rows go in before its end.
    ws.close()
    _splice_rows(ws._writer.out, _sheet_rows(ws, cells, looks, heights, last_value_row))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


_SHEET_DATA_END = b"</sheetData>"


_XML_NUMBER = ".16g"  # a number as openpyxl stores it in the sheet's XML (its safe_string): no display format


def _splice_rows(sheet_xml: str, rows: Any) -> None:
    """Put ``rows`` (chunks of bytes) at the end of the sheetData of the closed sheet part ``sheet_xml``."""
    data = Path(sheet_xml).read_bytes()  # head, title row and tail: a few kB
    at = data.index(_SHEET_DATA_END)
    with open(sheet_xml, "wb") as f:
        f.write(data[:at])
        for chunk in rows:
            f.write(chunk)
        f.write(data[at:])


def _sheet_rows(ws: Any, cells: dict[tuple[int, int], Any], looks: dict[tuple[int, int], Any],
                heights: dict[int, float], last_row: int, chunk_rows: int = 500) -> Any:
    """Rows 2 to ``last_row`` of the export as openpyxl's write-only writer writes them (lxml, ASCII
    with character references), ``chunk_rows`` rows per chunk of bytes; ``heights`` the rows' heights
    (a row dimension each, written as openpyxl writes one, without making one per row).

    Every cell of a row gets the look of its column (``looks``, as ``_style_cells`` styles the
    master's sheet); style ids are taken in the order openpyxl takes them (first use), so the
    styles part is the same too. A value the fast path does not cover (not plain text, a whole or
    finite number; text openpyxl cuts, refuses or reads as a formula or an error) is written by
    openpyxl's own cell writer."""
    from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
    from openpyxl.worksheet.dimensions import RowDimension

    styles = ws.parent._cell_styles
    # (row kind, column) → the cell's reference letters, its style attribute, its look and whether
    # it is styled; made where the cell is first met, so style ids are taken in openpyxl's order.
    plans: dict[int, dict[int, tuple[str, str, Any, bool]]] = {}
    row_attrs: dict[float, str] = {}  # height → the row's attributes
    illegal = ILLEGAL_CHARACTERS_RE.search
    by_row: dict[int, list[tuple[int, Any]]] = {}
    for (r, c), v in cells.items():
        by_row.setdefault(r, []).append((c, v))
    look_cols = sorted({c for _k, c in looks})
    look_set = set(look_cols)
    out: list[str] = []
    for r in range(2, last_row + 1):
        kind = r if r < UNIT_TOTAL_ROW else 0
        plan = plans.get(kind)
        if plan is None:
            plan = plans[kind] = {}
        values = dict(by_row.get(r, ()))
        h = heights.get(r)
        if h is None:
            out.append(f'<row r="{r}">')
        else:
            attrs = row_attrs.get(h)
            if attrs is None:
                dim = RowDimension(ws, index=r)
                dim.height = h
                attrs = row_attrs[h] = "".join(f' {k}="{v}"' for k, v in dim)
            out.append(f'<row r="{r}"{attrs}>')
        for c in sorted({*values, *look_cols}) if values.keys() - look_set else look_cols:
            v = values.get(c)
            cp = plan.get(c)
            if cp is None:
                look = looks.get((kind, c))
                sid = styles.add(look._style) if look is not None and look.has_style else None
                cp = plan[c] = (col_letters(c), "" if sid is None else f' s="{sid}"', look, sid is not None)
            ref, s, look, styled = cp
            if v is None:
                if styled:
                    out.append(f'<c r="{ref}{r}"{s} t="n"></c>')
                continue  # an unstyled empty cell: openpyxl skips it
            t = type(v)
            if t is str and len(v) <= 32767 and not (len(v) > 1 and v[0] == "=") and v not in ERROR_CODES \
                    and not illegal(v):
                text = v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
                space = ' xml:space="preserve"' if v != v.strip() else ""
                out.append(f'<c r="{ref}{r}"{s} t="inlineStr"><is><t{space}>{text}</t></is></c>')
            elif t is int or (t is float and math.isfinite(v)):
                out.append(f'<c r="{ref}{r}"{s} t="n"><v>{format(v, _XML_NUMBER)}</v></c>')
            else:
                out.append(_openpyxl_cell_xml(ws, r, c, v, look))
        out.append("</row>")
        if (r - 1) % chunk_rows == 0:
            yield "".join(out).encode("ascii", "xmlcharrefreplace")
            out.clear()
    if out:
        yield "".join(out).encode("ascii", "xmlcharrefreplace")


def _openpyxl_cell_xml(ws: Any, r: int, c: int, value: Any, look: Any) -> str:
    """One cell as openpyxl's own writer writes it (the values the fast path leaves to it)."""
    from io import BytesIO

    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell._writer import write_cell
    from openpyxl.xml.functions import xmlfile

    cell = put_text(WriteOnlyCell(ws), value)
    if look is not None:
        cell._style = copy(look._style)
    cell.row, cell.column = r, c
    buf = BytesIO()
    with xmlfile(buf) as xf:
        write_cell(xf, ws, cell, cell.has_style)
    return buf.getvalue().decode("ascii")
