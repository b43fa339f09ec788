"""Check every sheet of the master cell by cell; rules derive from the schema and the rule table."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kehoach_xl import vn
from kehoach_xl.errors import DataError
from kehoach_xl.model import schema
from kehoach_xl.model.address import sheet_cell
from kehoach_xl.model.changes import Link, LogEntry, MasterChanges
from kehoach_xl.model.config import Config, check_config
from kehoach_xl.model.master import MASTER_SHEETS, MasterData, SheetData, find_sheet_name, settings_cell
from kehoach_xl.model.outcome import Outcome
from kehoach_xl.model.problem import Problem
from kehoach_xl.model.registry import Registry, parse_leaders, split_parties
from kehoach_xl.rules import validation_rules as rules
from kehoach_xl.rules.deadline import parse_deadline
from kehoach_xl.rules.derive import is_done
from kehoach_xl.rules.values import parse_status
from kehoach_xl.text import name_key, normalize_text, split_list, suggest

__all__ = ["Problem", "ValidationReport", "compute_validation", "compute_problems_sheet", "problem_rows"]


CONFIG_SOURCE = "kehoach.toml"


_EMAIL = re.compile(r"^[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+$")


# Problems are listed sheet by sheet in this order (the sheets master.read_master reads); others go last.
_SHEET_ORDER = MASTER_SHEETS


@dataclass
class ValidationReport:
    problems: list[Problem] = field(default_factory=list)
    checked_on: dt.date | None = None
    path: Path | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == rules.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == rules.WARNING]

    @property
    def valid(self) -> bool:
        return not self.errors

    def slugs(self) -> list[str]:
        return [p.slug for p in self.problems]

    def to_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, "errors": [p.to_dict() for p in self.errors],
                "warnings": [p.to_dict() for p in self.warnings]}


def _shown(value: Any) -> str:
    """A value as a message shows it (dd/mm/yyyy, decimal comma)."""
    if value is None or value == "":
        return "(trống)"
    if isinstance(value, (dt.date, dt.datetime)):
        return vn.date(value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return vn.number(value)
    return normalize_text(value)


def read_number(value: Any) -> tuple[float | None, bool]:
    """(number, was_text). ``None`` number with ``value`` present means unreadable.

    Text such as "80%", "80", "6,39" or "1.234,5" is understood (was_text=True) so the caller
    can warn instead of failing: staff type these all the time. The reading is
    :func:`kehoach_xl.vn.parse_number`'s.
    """
    if value is None or isinstance(value, bool):
        return None, False
    if isinstance(value, (int, float)):
        return vn.parse_number(value), False
    try:
        return vn.parse_number(value), True
    except ValueError:
        return None, True


def _plain(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x


class _Checker:
    def __init__(self, md: MasterData, config: Config | None, today: dt.date) -> None:
        self.md = md
        self.config = config
        self.today = today
        self.registry = Registry.from_master(md)
        self.out: list[tuple[tuple[int, int, int], Problem]] = []
        # The same unit/leader cell text repeats across thousands of rows: match each text once.
        self._units: dict[Any, list[tuple[str, Any]]] = {}
        self._leaders: dict[Any, list[tuple[str, Any]]] = {}

    def unit_matches(self, cell: Any) -> list[tuple[str, Any]]:
        if cell not in self._units:
            self._units[cell] = [(p.name, self.registry.match_unit(p.name)) for p in split_parties(cell)]
        return self._units[cell]

    def leader_matches(self, cell: Any) -> list[tuple[str, Any]]:
        if cell not in self._leaders:
            self._leaders[cell] = [(r.name, self.registry.match_leader(r.name)) for r in parse_leaders(cell) if r.name]
        return self._leaders[cell]

    # a problem at a cell (or a sheet/column when row/col are None)
    def add(self, slug: str, sheet: str, *, row: int | None = None, col: int | None = None,
            header: str | None = None, value: Any = None, **fields: Any) -> None:
        kind = rules.PROBLEMS[slug]
        params = {"value": _shown(value), "header": header or "", "sheet": sheet, "detail": "",
                  "suggestions": "", "other": "", "meaning": ""}
        params.update({k: ("" if v is None else v) for k, v in fields.items()})
        message = kind.template.format_map(params)
        cell = sheet_cell(sheet, row, col) if row and col else None
        rank = _SHEET_ORDER.index(sheet) if sheet in _SHEET_ORDER else len(_SHEET_ORDER)
        problem = Problem(slug, message, kind.severity, sheet=sheet, cell=cell, row=row, column=header, value=value)
        self.out.append(((rank, row or 0, col or 0), problem))

    def at(self, slug: str, sd: SheetData, i: int, key: str, value: Any = None, **fields: Any) -> None:
        """A problem at row ``i`` of a sheet, column ``key`` (falls back to the row when the column is absent)."""
        col = sd.columns.get(key)
        header = sd.headers.get(col) if col else sd.sheet.col(key).header
        self.add(slug, self.sheet_name(sd.sheet), row=sd.row_numbers[i], col=col, header=header,
                 value=value, **fields)

    def sheet_name(self, sheet: schema.Sheet) -> str:
        return find_sheet_name(self.md.sheet_names, sheet.name) or sheet.name

    def problems(self) -> list[Problem]:
        return [p for _, p in sorted(self.out, key=lambda t: t[0])]

    # --- structure and column rules -------------------------------------------------

    def check_structure(self, sr: rules.SheetRules, sd: SheetData) -> bool:
        name = self.sheet_name(sr.sheet)
        if not sd.present:
            self.add("sheet_missing" if sr.required_sheet else "sheet_missing_optional", name)
            return False
        unmatched = {h: j for j, h in sd.headers.items() if j not in sd.columns.values()}
        for key in sd.missing:
            header = sr.sheet.col(key).header
            near = suggest(header, unmatched, n=1, cutoff=0.5)
            detail = f" (có phải cột “{near[0]}”?)" if near else ""
            # Point at the look-alike header when there is one, so the user lands on what to rename.
            self.add("column_missing", name, row=sd.header_row, col=unmatched[near[0]] if near else None,
                     header=header, detail=detail)
        return True

    def check_columns(self, sr: rules.SheetRules, sd: SheetData) -> None:
        for rule in sr.columns:
            if rule.key not in sd.columns:
                continue
            seen: dict[str, int] = {}
            for i, row in enumerate(sd.rows):
                value = row.get(rule.key)
                empty = value is None or normalize_text(value) == ""
                if empty:
                    if rule.required:
                        self.at(rule.required_slug, sd, i, rule.key, value)
                    continue
                if rule.unique:
                    k = normalize_text(value).casefold()
                    if k in seen:
                        self.at(rule.unique_slug, sd, i, rule.key, value, other=seen[k])
                    else:
                        seen[k] = sd.row_numbers[i]
                self.check_value(rule, sd, i, value)

    def check_value(self, rule: rules.ColumnRule, sd: SheetData, i: int, value: Any) -> None:
        if rule.allowed:
            ok = {a.casefold() for a in rule.allowed}
            if normalize_text(value).casefold() not in ok:
                self.at("value_not_allowed", sd, i, rule.key, value, detail=", ".join(rule.allowed))
        if rule.type in ("int", "float", "percent"):
            self.check_number(rule, sd, i, value)
        elif rule.type in ("date", "datetime"):
            text = value
            if rule.type == "datetime" and isinstance(value, str):
                text = normalize_text(value).split(" ")[0]
            try:
                vn.parse_date(text)
            except (ValueError, TypeError, OverflowError) as exc:
                self.at("date_invalid", sd, i, rule.key, value, detail=str(exc))
        elif rule.type == "email":
            for addr in re.split(r"[;,\s]+", normalize_text(value)):
                if addr and not _EMAIL.match(addr):
                    self.at("email_invalid", sd, i, rule.key, addr)

    def check_number(self, rule: rules.ColumnRule, sd: SheetData, i: int, value: Any) -> None:
        number, as_text = read_number(value)
        if number is None or (rule.type == "int" and not number.is_integer()):
            self.at("number_invalid", sd, i, rule.key, value)
            return
        if as_text:
            self.at("number_as_text", sd, i, rule.key, value, meaning=_shown(_plain(number)))
        lo, hi = rule.min, rule.max
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            rng = f"từ {_shown(_plain(lo)) if lo is not None else '…'} đến {_shown(_plain(hi)) if hi is not None else '…'}"
            self.at("number_out_of_range", sd, i, rule.key, _plain(number), detail=rng)
        elif rule.type == "percent" and 0 < number < 1 and not as_text:
            self.at("percent_as_fraction", sd, i, rule.key, _plain(number), meaning=_shown(_plain(number * 100)))

    # --- named checks ----------------------------------------------------------------

    def check_task_parties(self) -> None:
        sd = self.md.tasks
        for key in ("lead_units", "coordinating_units"):
            if key not in sd.columns:
                continue
            for i, row in enumerate(sd.rows):
                for name, m in self.unit_matches(row.get(key)):
                    if not m.known:
                        self.at("unit_unknown", sd, i, key, name, suggestions=_did_you_mean(m.suggestions))
        if "leaders" in sd.columns:
            for i, row in enumerate(sd.rows):
                for name, m in self.leader_matches(row.get("leaders")):
                    if not m.known:
                        self.at("leader_unknown", sd, i, "leaders", name, suggestions=_did_you_mean(m.suggestions))

    def check_deadlines(self) -> None:
        sd = self.md.tasks
        if "deadline_text" not in sd.columns:
            return
        for i, row in enumerate(sd.rows):
            value = row.get("deadline_text")
            if value is None or normalize_text(value) == "":
                self.at("deadline_missing", sd, i, "deadline_text", value)
                continue
            dl = parse_deadline(value, plan_year=self.md.plan_year)
            if dl.kind != "unknown":
                continue
            slug = "deadline_invalid_date" if "invalid_date" in dl.flags else "deadline_unreadable"
            self.at(slug, sd, i, "deadline_text", value, detail=dl.note)

    def check_status_consistency(self) -> None:
        """Rows whose status, progress and completion date contradict each other (schema.TASK_ROW_RULES)."""
        sd = self.md.tasks
        has = sd.columns.__contains__
        for i, row in enumerate(sd.rows):
            status = row.get("status")
            raw_progress = row.get("progress")
            done = has("status") and is_done(status)
            completed = _date_or_none(row.get("completed_on")) if has("completed_on") else None
            progress, _ = read_number(raw_progress) if has("progress") else (None, False)
            facts = {
                ("status", "done"): done,
                ("status", "not_done"): not done,
                ("status", "not_started"): has("status") and _is_not_started(status),
                # an empty progress cell is not 100; an unreadable one is reported by the column rule
                ("progress", "not_full"): progress != 100 and not (progress is None and raw_progress),
                ("progress", "full"): progress == 100,
                ("progress", "above_zero"): progress is not None and progress > 0,
                ("completed", "empty"): row.get("completed_on") in (None, ""),
                ("completed", "set"): completed is not None,
                ("completed", "future"): completed is not None and completed > self.today,
            }
            shown = {"status": status, "progress": raw_progress, "completed": completed, "none": None}
            for rule in schema.TASK_ROW_RULES:
                if not all(has(k) for k in rule.needs):
                    continue
                conds = (("status", rule.status), ("progress", rule.progress), ("completed", rule.completed))
                if not all(c == "any" or facts[(what, c)] for what, c in conds):
                    continue
                cell = next((k for k in rule.cell if has(k)), rule.cell[-1])
                extra = {"detail": vn.date(self.today)} if rule.completed == "future" else {}
                self.at(rule.slug, sd, i, cell, shown[rule.value], **extra)

    def check_duplicate_tasks(self) -> None:
        sd = self.md.tasks
        if "task" not in sd.columns:
            return
        seen: dict[tuple[str, tuple[str, ...]], int] = {}
        for i, row in enumerate(sd.rows):
            text = name_key(row.get("task"))
            if not text:
                continue
            leads = tuple(sorted(m.canonical or name_key(n) for n, m in self.unit_matches(row.get("lead_units"))))
            k = (text, leads)
            if k in seen:
                self.at("task_duplicate", sd, i, "task", row.get("task"), other=seen[k])
            else:
                seen[k] = sd.row_numbers[i]

    def check_registry_names(self, sd: SheetData, what: str) -> None:
        if not sd.present or "name" not in sd.columns:
            return
        names: dict[str, int] = {}
        owner_of: dict[str, str] = {}  # alias/name key -> canonical name that claims it
        for i, row in enumerate(sd.rows):
            name = normalize_text(row.get("name"))
            if not name:
                continue
            k = name_key(name)
            if k in names:
                self.at("name_duplicate", sd, i, "name", row.get("name"), other=names[k])
                continue
            names[k] = sd.row_numbers[i]
            owner_of.setdefault(k, name)
        for i, row in enumerate(sd.rows):
            name = normalize_text(row.get("name"))
            if not name or "aliases" not in sd.columns:
                continue
            aliases = row.get("aliases")
            for alias in aliases if isinstance(aliases, list) else split_list(aliases):
                owner = owner_of.setdefault(name_key(alias), name)
                if name_key(owner) != name_key(name):
                    self.at("alias_conflict", sd, i, "aliases", alias, other=owner, detail=what)

    def check_scores(self) -> None:
        sd = self.md.scores
        for i, row in enumerate(sd.rows):
            for key, limit_key, slug in (("score", "max_score", "score_above_max"), ("rank", "out_of", "rank_above_total")):
                if key not in sd.columns or limit_key not in sd.columns:
                    continue
                (v, _), (limit, _) = read_number(row.get(key)), read_number(row.get(limit_key))
                if v is not None and limit is not None and v > limit:
                    self.at(slug, sd, i, key, _plain(v), other=_shown(_plain(limit)))

    def check_settings(self) -> None:
        name = find_sheet_name(self.md.sheet_names, schema.SETTINGS.name)
        if name is None:
            self.add("sheet_missing", schema.SETTINGS.name)
            return
        for key, rule in rules.SETTINGS_RULES.items():
            value = self.md.settings.get(key)
            if value is None or normalize_text(value) == "":
                continue
            detail = ""
            if rule.type == "int":
                number, _ = read_number(value)
                if number is None or not number.is_integer() or not rule.min <= number <= rule.max:
                    detail = f"Cần một năm từ {int(rule.min)} đến {int(rule.max)}, ví dụ 2024."
            elif rule.type == "date":
                try:
                    vn.parse_date(value)
                except (ValueError, TypeError, OverflowError) as exc:
                    detail = str(exc)
            if detail:
                # Values come only from found labels, so the cell is normally known; no guessed cell otherwise.
                row, col = settings_cell(self.md, key) or (None, None)
                self.add("setting_invalid", name, row=row, col=col, header=schema.SETTINGS_ROWS[key],
                         value=value, detail=detail)

    def check_config(self) -> None:
        if self.config is None:
            return
        for text in check_config(self.config):
            self.add("config_invalid", CONFIG_SOURCE, detail=text)

    # --- all of it ---------------------------------------------------------------------

    def run(self) -> list[Problem]:
        sheets = {schema.TASKS.key: self.md.tasks, schema.UNITS.key: self.md.units,
                  schema.LEADERS.key: self.md.leaders, schema.SCORES.key: self.md.scores}
        for sr in rules.SHEET_RULES:
            sd = sheets[sr.sheet.key]
            if self.check_structure(sr, sd):
                self.check_columns(sr, sd)
        for name in rules.NAMED_CHECKS:
            if name == "check_registry_names":
                self.check_registry_names(self.md.units, "đơn vị")
                self.check_registry_names(self.md.leaders, "lãnh đạo")
            else:
                getattr(self, name)()
        return self.problems()


def _did_you_mean(suggestions: Iterable[str]) -> str:
    s = list(suggestions)
    return " Có phải: " + ", ".join(f"“{x}”" for x in s) + "?" if s else ""


def _is_not_started(status: object) -> bool:
    try:
        return parse_status(status) == schema.STATUS_NOT_STARTED
    except ValueError:
        return False


def _date_or_none(value: Any) -> dt.date | None:
    try:
        return vn.parse_date(value)
    except (ValueError, TypeError, OverflowError):
        return None


def compute_validation(md: MasterData, *, as_of: dt.date | None = None, config: Config | None = None) -> Outcome:
    """Every problem of ``md`` (pure: no file, no clock unless ``as_of`` is None).

    ``outcome.result`` is the :class:`ValidationReport`; ``outcome.changes`` is empty (the problems
    sheet is written only on request, see :func:`compute_problems_sheet`).
    """
    as_of = as_of or dt.date.today()
    problems = _Checker(md, config, as_of).run()
    report = ValidationReport(problems=problems, checked_on=as_of, path=md.path)
    return Outcome(as_of=as_of, problems=report.problems, result=report,
                   figures={"errors": len(report.errors), "warnings": len(report.warnings)})


PROBLEMS_TITLE = "KẾT QUẢ KIỂM TRA DỮ LIỆU"


PROBLEMS_HEADER_ROW = 4


def problem_rows(problems: Iterable[Problem], sheet_names: Iterable[str] = ()) -> list[list[Any]]:
    """The problems sheet's rows, one per problem, in the order of ``PROBLEM_SHEET_HEADERS``.

    The cell column is a link to the cell when its sheet is one of ``sheet_names``. This is the
    sheet's one renderer; it lives here because rules may not import reports, and
    :mod:`kehoach_xl.reports.problems` offers it beside the other outputs.
    """
    names = list(sheet_names)
    out = []
    for n, p in enumerate(problems, start=1):
        value = p.value if isinstance(p.value, (int, float, dt.date)) and not isinstance(p.value, bool) else (
            None if p.value is None else normalize_text(p.value))
        out.append([n, rules.SEVERITY_LABELS[p.severity], p.sheet, _cell_link(p.cell, names), p.row, p.column,
                    _shown(value) if value is not None else None, rules.PROBLEM_LABELS.get(p.slug, p.slug),
                    p.message, p.slug])
    return out


def compute_problems_sheet(md: MasterData, report: ValidationReport, *, now: dt.datetime | None = None) -> MasterChanges:
    """The problems sheet's content as changes: title, time, one row per problem.

    Each cell address is a link ("Nhiệm vụ!H17") that jumps to the cell to fix.
    """
    name = find_sheet_name(md.sheet_names, schema.PROBLEMS_SHEET_NAME)
    if name is None:
        raise DataError(f"Sổ theo dõi không có sheet “{schema.PROBLEMS_SHEET_NAME}” để ghi kết quả kiểm tra. "
                        f"Hãy thêm một sheet trống tên “{schema.PROBLEMS_SHEET_NAME}” rồi chạy lại.")
    now = (now or dt.datetime.now()).replace(microsecond=0)
    ch = MasterChanges()
    ch.set(name, 1, 1, PROBLEMS_TITLE)
    n_err, n_warn = len(report.errors), len(report.warnings)
    summary = (f"Kiểm tra lúc {now:%H:%M} ngày {vn.date(now)}: {n_err} lỗi, {n_warn} cảnh báo."
               if report.problems else f"Kiểm tra lúc {now:%H:%M} ngày {vn.date(now)}: không có lỗi.")
    ch.set(name, 2, 1, summary)
    ch.set(name, 3, 1, "Bấm vào địa chỉ ở cột “Ô” để đến ngay ô cần sửa.")
    ch.clear_from[name] = 2
    for j, h in enumerate(rules.PROBLEM_SHEET_HEADERS, start=1):
        ch.set(name, PROBLEMS_HEADER_ROW, j, h)
    for r, row in enumerate(problem_rows(report.problems, md.sheet_names), start=PROBLEMS_HEADER_ROW + 1):
        for j, v in enumerate(row, start=1):
            ch.set(name, r, j, v)
    ch.log.append(LogEntry(action="validate", new=f"{n_err} lỗi, {n_warn} cảnh báo", time=now))
    return ch


def _cell_link(cell: str | None, sheet_names: list[str]) -> Link | str | None:
    """A clickable link for "Sheet!A1" when that sheet exists, else the text as it is."""
    if not cell or "!" not in cell:
        return cell
    sheet, _, addr = cell.rpartition("!")
    if sheet not in sheet_names:
        return cell
    return Link(target="'" + sheet.replace("'", "''") + "'!" + addr, text=cell)
