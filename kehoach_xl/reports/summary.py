"""The summary sheet ("Tổng hợp"): figures, cell layout, chart scaffold and export.

``compute_summary`` is pure (MasterData in, :class:`Summary` out);
``summary_changes`` turns a Summary into the cells of the summary sheet for the
safe writer; ``summary`` is the file wrapper. The chart is created once, when
the master is created (:func:`build_summary_scaffold`), bound to a fixed range
of the by-unit block: the safe writer only writes cell values, so the chart
follows the new figures without being rewritten."""

from __future__ import annotations

import datetime as dt
from copy import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl.chart import BarChart, Reference, Series
from openpyxl.chart.data_source import StrRef
from openpyxl.chart.series import SeriesLabel
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter, quote_sheetname

from kehoach_xl import vn
from kehoach_xl.model import schema
from kehoach_xl.model.changes import LogEntry, MasterChanges
from kehoach_xl.model.config import Config
from kehoach_xl.model.master import MasterData
from kehoach_xl.model.outcome import Outcome
from kehoach_xl.reports.figures import (
    UPCOMING_DAYS,
    Comparison,
    ScoreLine,
    Tally,
    TaskFact,
    compare_with_history,
    period_of,
    score_lines,
    tally,
    tally_by,
    task_facts,
)
from kehoach_xl.reports.master_book import FONT_NAME, new_workbook
from kehoach_xl.rules.refresh import SUMMARY_AS_OF_CELL, as_of_line
from kehoach_xl.rules.safe_cells import put_text
from kehoach_xl.text import normalize_text
from kehoach_xl.vn import parse_period, period_bounds, try_parse_period

SHEET = schema.SUMMARY_SHEET_NAME


# Fixed layout of the by-unit block: the chart is bound to these rows.
UNIT_HEADER_ROW = 6


UNIT_TOTAL_ROW = 7


UNIT_FIRST_ROW = 8


UNIT_ROWS = 40  # capacity the chart covers


CHART_COLS = (12, 13, 14)  # L, M, N: done / overdue / in progress, the chart's series


TALLY_HEADERS = (
    "Tổng số nhiệm vụ", "Hoàn thành đúng hạn", "Hoàn thành trễ hạn", "Đang thực hiện trong hạn",
    "Quá hạn", "Sắp đến hạn", "Chưa thực hiện", "Thường xuyên, định kỳ", "Tỷ lệ hoàn thành (%)",
)


CHART_HEADERS = ("Đã hoàn thành", "Quá hạn", "Đang thực hiện")


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
    derived_source: str = "sheet"
    export_path: Path | None = None
    warnings: list[str] = field(default_factory=list)

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
               period: str | None = None) -> Summary:
    """Every figure of the summary for ``as_of`` (default: the master's as-of date, else today).

    ``period`` (YYYY-MM) is the month reported on; it defaults to the month of ``as_of``. A May
    report is usually made early in June: tasks finished and problems raised are those of the
    period, and the comparison is with the period before it.
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
    return Summary(
        as_of=as_of,
        period=period,
        meta={k: md.settings.get(k) for k in schema.SETTINGS_ROWS},
        facts=facts,
        total=tally(facts),
        by_group=tally_by(facts, "group"),
        by_unit=tally_by(facts, "lead_units", unit_order),
        by_leader=tally_by(facts, "leaders", leader_order),
        overdue=sorted((f for f in facts if f.state == "overdue"), key=lambda f: (-f.days_overdue, f.row)),
        upcoming=sorted(
            (f for f in facts if f.status != "done" and f.state not in ("overdue", "continuous")
             and f.due_date is not None and as_of <= f.due_date <= horizon),
            key=lambda f: (f.due_date, f.row),
        ),
        issues=[f for f in facts if (f.difficulties or f.proposals)
                and _in_period(f, first, max(last, as_of), reported)],
        finished=[f for f in facts if f.status == "done" and f.completed_on and first <= f.completed_on <= last],
        scores=score_lines(md),
        comparison=compare_with_history(md, facts, period),
        derived_source=source,
    )


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


def summary_cells(s: Summary, unit_rows: int = UNIT_ROWS) -> dict[tuple[int, int], Any]:
    """(row, col) → value for the whole summary sheet below its title.

    ``unit_rows`` is the room kept for the by-unit block: the master keeps UNIT_ROWS so the
    chart's fixed range and the blocks below never move; an export packs it tight.
    """
    cells: dict[tuple[int, int], Any] = {}

    def put(r: int, values: list[Any], c0: int = 1) -> None:
        for j, v in enumerate(values):
            if v is not None and v != "":
                cells[(r, c0 + j)] = v

    title = s.meta.get("plan_title") or ""
    number = s.meta.get("plan_number") or ""
    put(2, [f"Kế hoạch số {number}: {title}" if number else title])
    put(SUMMARY_AS_OF_CELL[0], [as_of_line(s.as_of)])  # the same line, in the same cell, as refresh writes
    put(5, ["1. TỔNG HỢP THEO ĐƠN VỊ CHỦ TRÌ"])
    put(UNIT_HEADER_ROW, ["Đơn vị chủ trì", *TALLY_HEADERS])
    put(UNIT_HEADER_ROW, list(CHART_HEADERS), CHART_COLS[0])
    put(UNIT_TOTAL_ROW, ["Tổng cộng (mỗi nhiệm vụ tính một lần)", *_tally_row(s.total)])
    for i, (name, t) in enumerate(s.by_unit):
        r = UNIT_FIRST_ROW + i
        put(r, [name, *_tally_row(t)])
        put(r, [t.done, t.overdue, t.in_progress], CHART_COLS[0])
    row = UNIT_FIRST_ROW + max(unit_rows, len(s.by_unit)) + 1

    section = 1

    def block(heading: str, header: list[str], rows: list[list[Any]]) -> None:
        nonlocal row, section
        if not rows:
            return  # no empty sections, and no gap in the numbering
        section += 1
        put(row, [f"{section}. {heading}"])
        put(row + 1, header)
        for k, values in enumerate(rows):
            put(row + 2 + k, values)
        row += len(rows) + 3

    block("TỔNG HỢP THEO CHỈ SỐ, NHÓM NHIỆM VỤ", ["Chỉ số/nhóm nhiệm vụ", *TALLY_HEADERS],
          [[k, *_tally_row(t)] for k, t in s.by_group])
    block("TỔNG HỢP THEO LÃNH ĐẠO GIÁM SÁT", ["Lãnh đạo giám sát", *TALLY_HEADERS],
          [[k, *_tally_row(t)] for k, t in s.by_leader])
    # Task lists: the task (with its code) in the wide first column, short facts after it.
    block("NHIỆM VỤ QUÁ HẠN", ["Nhiệm vụ", "Đơn vị chủ trì", "Hạn hoàn thành", "Số ngày quá hạn",
                               "Tiến độ (%)", "Thời hạn (nguyên văn)"],
          [[_task_cell(f), f.units_text, vn.date(f.due_date), f.days_overdue, f.progress, f.deadline_text]
           for f in s.overdue])
    block(f"NHIỆM VỤ ĐẾN HẠN TRONG {UPCOMING_DAYS} NGÀY TỚI",
          ["Nhiệm vụ", "Đơn vị chủ trì", "Hạn hoàn thành", "Số ngày còn lại", "Tiến độ (%)", "Trạng thái"],
          [[_task_cell(f), f.units_text, vn.date(f.due_date), f.days_remaining, f.progress, _status_label(f)]
           for f in s.upcoming])
    block("KHÓ KHĂN, VƯỚNG MẮC VÀ ĐỀ XUẤT TRONG KỲ",
          ["Nhiệm vụ", "Đơn vị chủ trì", "Khó khăn, vướng mắc", "Đề xuất, kiến nghị"],
          [[_task_cell(f), f.units_text, f.difficulties, f.proposals] for f in s.issues])
    block("ĐIỂM CHỈ SỐ", ["Chỉ số thành phần", "Năm", "Điểm", "Năm trước", "Điểm năm trước",
                          "Thay đổi", "Xếp hạng", "Nhận xét"],
          [[sc.component, sc.year, sc.score, sc.prev_year, sc.prev_score, change_phrase(sc.delta),
            f"{sc.rank}/{sc.out_of}" if sc.rank and sc.out_of else sc.rank, score_sentence(sc)]
           for sc in s.scores])
    cmp = s.comparison
    block("SO SÁNH VỚI KỲ TRƯỚC" if cmp else f"KẾT QUẢ TRONG {month_label(s.period).upper()}",
          ["Nội dung", (f"Kỳ trước ({month_label(cmp.previous_period)})" if cmp else ""),
           f"Kỳ này ({month_label(s.period)})", "Ghi chú"], _comparison_rows(s))
    return cells


def _task_cell(f: TaskFact) -> str:
    return f"{f.id}: {f.task}" if f.id else f.task


def _status_label(f: TaskFact) -> str:
    return {"not_started": schema.STATUS_NOT_STARTED, "in_progress": schema.STATUS_IN_PROGRESS,
            "done": schema.STATUS_DONE}[f.status]


def month_label(period: str) -> str:
    y, m = period.split("-")
    return f"tháng {int(m)}/{y}"


def _comparison_rows(s: Summary) -> list[list[Any]]:
    rows: list[list[Any]] = [["Nhiệm vụ hoàn thành trong " + month_label(s.period), None, len(s.finished),
                              ", ".join(f.id for f in s.finished)]] if s.finished else []
    c = s.comparison
    if c is None:
        return rows
    rows += [
        ["Số nhiệm vụ đã hoàn thành (lũy kế)", c.previous_done, s.total.done, ""],
        ["Số nhiệm vụ quá hạn", c.previous_overdue, s.total.overdue, ""],
    ]
    if c.newly_overdue:
        rows.append(["Nhiệm vụ mới quá hạn trong kỳ", None, len(c.newly_overdue),
                     ", ".join(f.id for f in c.newly_overdue)])
    if c.no_longer_overdue:
        rows.append(["Nhiệm vụ hết quá hạn so với kỳ trước", None, len(c.no_longer_overdue),
                     ", ".join(f.id for f in c.no_longer_overdue)])
    return rows


def summary_changes(s: Summary) -> MasterChanges:
    """Cells of the summary sheet: everything below the title is cleared, then rewritten."""
    ch = MasterChanges()
    ch.clear_from[SHEET] = 2
    for (r, c), v in summary_cells(s).items():
        ch.set(SHEET, r, c, v)
    ch.log.append(LogEntry(action="summary", field=SHEET,
                           new=f"Tổng hợp số liệu đến ngày {vn.date(s.as_of)}: {s.total.total} nhiệm vụ"))
    return ch


_THIN = Side(style="thin", color="808080")


_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")


def _scaffold_sheet(ws: Any, chart_rows: int, *, styled_rows: int = UNIT_ROWS, chart_anchor: str = "P5") -> None:
    ws["A1"] = schema.SUMMARY_TITLE
    ws["A1"].font = Font(name=FONT_NAME, sz=14, bold=True)
    ws["A5"].font = Font(name=FONT_NAME, sz=12, bold=True)
    ws.column_dimensions["A"].width = 44
    for j in range(2, 11):
        ws.column_dimensions[get_column_letter(j)].width = 12
    ws.column_dimensions["K"].width = 3
    for j in CHART_COLS:
        ws.column_dimensions[get_column_letter(j)].width = 12
    last_unit_row = UNIT_FIRST_ROW + styled_rows - 1
    for r in range(UNIT_HEADER_ROW, last_unit_row + 1):
        for c in [*range(1, 11), *CHART_COLS]:
            cell = ws.cell(row=r, column=c)
            cell.border = _BORDER
            cell.alignment = Alignment(wrap_text=True, vertical="center",
                                       horizontal="left" if c == 1 else "center")
            if r == UNIT_HEADER_ROW:
                cell.font = Font(name=FONT_NAME, sz=11, bold=True)
                cell.fill = _HEAD_FILL
            elif r == UNIT_TOTAL_ROW:
                cell.font = Font(name=FONT_NAME, sz=11, bold=True)
            if c == 10 and r > UNIT_HEADER_ROW:
                cell.number_format = vn.PERCENT_FORMAT
    ws.row_dimensions[UNIT_HEADER_ROW].height = 45
    chart = BarChart()
    chart.type = "bar"  # horizontal: long unit names read well on the axis
    chart.grouping = "stacked"
    chart.overlap = 100
    chart.title = "Tình hình thực hiện theo đơn vị chủ trì"
    chart.y_axis.title = "Số nhiệm vụ"
    chart.height = max(8.0, 0.6 * chart_rows + 3)
    chart.width = 18
    first, last = UNIT_FIRST_ROW, UNIT_FIRST_ROW + chart_rows - 1
    # Series are built one by one: their titles sit in the header row but their values start
    # below the total row, so a single block reference with titles_from_data would misalign them.
    sheet_ref = quote_sheetname(ws.title)
    for col in CHART_COLS:
        series = Series(Reference(ws, min_col=col, min_row=first, max_row=last))
        series.tx = SeriesLabel(strRef=StrRef(f"{sheet_ref}!${get_column_letter(col)}${UNIT_HEADER_ROW}"))
        chart.series.append(series)
    chart.set_categories(Reference(ws, min_col=1, min_row=first, max_row=last))
    chart.x_axis.scaling.orientation = "maxMin"  # first unit on top
    for series, colour in zip(chart.series, ("70AD47", "E06666", "F4B183"), strict=True):
        series.graphicalProperties.solidFill = colour
        series.graphicalProperties.line.solidFill = colour
    ws.add_chart(chart, chart_anchor)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4


def _chart_rows_for(wb: Any) -> int:
    """Rows the chart covers: the registered units plus room for a few unregistered names."""
    n = 0
    if schema.UNITS.name in wb.sheetnames:
        n = sum(1 for r in wb[schema.UNITS.name].iter_rows(min_row=2, max_col=1, values_only=True) if r[0])
    return max(8, min(UNIT_ROWS, n + 4))


def build_summary_scaffold(wb: Any) -> None:
    """Lay out the fixed blocks of the summary sheet and add the native bar chart (called by create_master)."""
    ws = wb[SHEET] if SHEET in wb.sheetnames else wb.create_sheet(SHEET)
    _scaffold_sheet(ws, _chart_rows_for(wb))


_EXPORT_WIDTHS = {"A": 58, "B": 22, "C": 16, "D": 16, "E": 13, "F": 13, "G": 13, "H": 13, "I": 13, "J": 13}


def _style_blocks(ws: Any, first_row: int, last_row: int) -> int:
    """Headings bold; each block's header and rows bordered and wrapped, rows as tall as their text.

    Styles rows ``first_row`` to ``last_row`` (the caller knows where its values end: asking
    openpyxl's ``ws.max_row`` scans every cell, and asking it once per row made the export
    quadratic in the number of rows). Returns the last row used. openpyxl writes no row heights
    of its own and Excel does not grow rows for wrapped text on opening, so heights are
    estimated from the text length.
    """
    heading = Font(name=FONT_NAME, sz=12, bold=True)
    head_font = Font(name=FONT_NAME, sz=11, bold=True)
    body_font = Font(name=FONT_NAME, sz=11)
    styles: dict[tuple[Any, ...], Any] = {}
    r, last = first_row, first_row
    in_block = False
    while r <= last_row:
        values = [ws.cell(row=r, column=c).value for c in range(1, 11)]
        width = max((c for c, v in enumerate(values, start=1) if v not in (None, "")), default=0)
        a = values[0]
        if width == 1 and isinstance(a, str) and a[:1].isdigit() and a.isupper():
            ws.cell(row=r, column=1).font = heading
            in_block, header = True, r + 1
            ncols = max((c for c in range(1, 11) if ws.cell(row=header, column=c).value not in (None, "")), default=1)
        elif width and in_block:
            lines = 1
            for c in range(1, ncols + 1):
                cell = ws.cell(row=r, column=c)
                text = "" if cell.value is None else str(cell.value)
                numeric = isinstance(cell.value, (int, float))
                percent = numeric and ws.cell(row=header, column=c).value == TALLY_HEADERS[-1]
                # A handful of distinct styles over thousands of cells: each is built once, then
                # copied (setting font, border, … on a cell hashes the style into the workbook's
                # tables every time, which dominated the export).
                key = (r == header, numeric, percent, cell._style and tuple(cell._style))
                style = styles.get(key)
                if style is not None:
                    cell._style = copy(style)
                else:
                    cell.border = _BORDER
                    cell.font = head_font if r == header else body_font
                    if r == header:
                        cell.fill = _HEAD_FILL
                    cell.alignment = Alignment(wrap_text=True, vertical="center" if r == header else "top",
                                               horizontal="center" if r == header or numeric else "left")
                    if percent:
                        cell.number_format = vn.PERCENT_FORMAT
                    styles[key] = copy(cell._style)
                col_w = _EXPORT_WIDTHS.get(get_column_letter(c), 13)
                # Times New Roman 11 pt fits about 1.2 characters per unit of column width.
                lines = max(lines, -(-len(text) * 10 // (col_w * 12)) if text else 1)
            ws.row_dimensions[r].height = max(15.0, 15.0 * lines + 2)
            last = r
        elif not width:
            in_block = False
        r += 1
    return last


def export_summary(s: Summary, path: Path) -> Path:
    """The summary as its own new workbook (full writer), with its chart: compact, bordered, printable."""
    wb = new_workbook()
    ws = wb.active
    ws.title = SHEET
    n_units = max(1, min(UNIT_ROWS, len(s.by_unit)))
    cells = summary_cells(s, unit_rows=n_units)
    last_value_row = max((r for r, _ in cells), default=UNIT_FIRST_ROW)
    _scaffold_sheet(ws, n_units, styled_rows=n_units, chart_anchor=f"A{last_value_row + 3}")
    for (r, c), v in cells.items():
        put_text(ws.cell(row=r, column=c), v)  # a unit's "=WEBSERVICE(…)" stays text for the leadership
    for col, w in _EXPORT_WIDTHS.items():
        ws.column_dimensions[col].width = w
    _style_blocks(ws, UNIT_FIRST_ROW + n_units + 1, last_value_row)
    # The chart's helper columns stay in the file but not on paper; the chart still plots them.
    for col in CHART_COLS:
        ws.column_dimensions[get_column_letter(col)].hidden = True
    ws.column_dimensions["K"].hidden = True
    for chart in ws._charts:
        chart.visible_cells_only = False
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
