"""Import a plan's task table into the master: parse, resolve names and deadlines, match, write.

Stable task IDs are ``<PLAN_CODE>-<NNN>``, given once in document order and
never reused. Re-import matches each parsed task to an existing task of the
same plan code (see :func:`match_tasks`), updates only the definition fields
(``schema.DEFINITION_FIELDS``, plus the deadline columns derived from a changed
deadline text), appends new tasks with new IDs, and reports tasks that are no
longer in the plan without deleting them. Unit-reported fields are never
touched.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kehoach_xl.errors import DataError, SetupError
from kehoach_xl.importer.model import ImportWarning, ParsedPlan, ParsedTask
from kehoach_xl.importer.structure import parse_tables
from kehoach_xl.model import schema
from kehoach_xl.model.changes import LogEntry, MasterChanges
from kehoach_xl.model.registry import GROUP_KIND, Registry, parse_leaders, split_parties
from kehoach_xl.rules.deadline import parse_deadline
from kehoach_xl.rules.layout import row_height
from kehoach_xl.text import join_list, name_key, normalize_text, slugify, split_list, strip_accents

TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
_BARE_MARKERS = {"chủ trì", "phối hợp"}


# --- parsing ----------------------------------------------------------------------


def _plan_year_from(preamble: str) -> int | None:
    m = re.search(r"ngày[\s\d.]*/\s*\d{1,2}\s*/\s*(20\d\d)", preamble)
    if m:
        return int(m.group(1))
    years = [int(y) for y in re.findall(r"\b(20\d\d)\b", preamble)]
    return max(years) if years else None


def parse_plan(plan_file: Path | str, *, plan_year: int | None = None) -> ParsedPlan:
    """Read the plan document and return its tasks as the plan states them."""
    path = Path(plan_file)
    if not path.is_file():
        raise SetupError(f"Không tìm thấy tệp kế hoạch: {path}")
    suffix = path.suffix.lower()
    if suffix == ".docx":
        from kehoach_xl.importer.docx_reader import read_docx

        tables, preamble = read_docx(path)
    elif suffix in (".xlsx", ".xlsm"):
        from kehoach_xl.importer.table_reader import read_xlsx_tables

        tables, preamble = read_xlsx_tables(path)
    elif suffix in TEXT_SUFFIXES:
        from kehoach_xl.importer.table_reader import read_text_table

        tables, preamble = read_text_table(path)
    elif suffix in (".doc", ".xls", ".pdf"):
        raise DataError(f"Chưa đọc được tệp {suffix}: hãy lưu '{path.name}' thành .docx hoặc .xlsx rồi nhập lại.")
    else:
        raise DataError(f"Không nhận dạng được loại tệp '{path.name}' (cần .docx, .xlsx, .csv, .tsv hoặc .txt).")
    tasks, groups, used, skipped, warnings, layout = parse_tables(tables, source=f"'{path.name}'")
    return ParsedPlan(path.name, tasks, list(dict.fromkeys(groups)), used, skipped, warnings, layout,
                      plan_year or _plan_year_from(preamble))


# --- report -------------------------------------------------------------------------


@dataclass
class ImportReport:
    source: str
    master: str
    plan_code: str
    plan_year: int | None = None
    created_master: bool = False
    dry_run: bool = False
    tables_used: list[str] = field(default_factory=list)
    tables_skipped: list[str] = field(default_factory=list)
    layout: dict[str, str] = field(default_factory=dict)
    groups: list[tuple[str, str]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)  # resolved records, with IDs
    added_ids: list[str] = field(default_factory=list)
    updated: dict[str, list[str]] = field(default_factory=dict)  # id -> fields changed
    unchanged_ids: list[str] = field(default_factory=list)
    removed_ids: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    leaders: list[str] = field(default_factory=list)
    unknown_units: list[dict[str, Any]] = field(default_factory=list)
    unknown_leaders: list[dict[str, Any]] = field(default_factory=list)
    units_added: list[str] = field(default_factory=list)
    leaders_added: list[str] = field(default_factory=list)
    warnings: list[ImportWarning] = field(default_factory=list)
    backup: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "master": self.master, "plan_code": self.plan_code,
            "plan_year": self.plan_year, "created_master": self.created_master, "dry_run": self.dry_run,
            "tables_used": self.tables_used, "tables_skipped": self.tables_skipped, "layout": self.layout,
            "tasks": len(self.tasks), "groups": len(self.groups),
            "units": len(self.units), "leaders": len(self.leaders),
            "tasks_added": len(self.added_ids), "tasks_updated": len(self.updated),
            "tasks_unchanged": len(self.unchanged_ids), "tasks_removed": len(self.removed_ids),
            "added_ids": self.added_ids, "updated": self.updated, "removed_ids": self.removed_ids,
            "group_list": [{"group": g, "title": t} for g, t in self.groups],
            "unit_list": self.units, "leader_list": self.leaders,
            "unknown_units": self.unknown_units, "unknown_leaders": self.unknown_leaders,
            "units_added": self.units_added, "leaders_added": self.leaders_added,
            "warnings": [w.to_dict() for w in self.warnings], "backup": self.backup,
        }

    def summary_lines(self) -> list[str]:
        out = [
            f"Tệp: {self.source} → {self.master} (mã kế hoạch {self.plan_code})",
            f"Bảng đã dùng: {', '.join(self.tables_used)}"
            + (f"; bỏ qua: {', '.join(self.tables_skipped)}" if self.tables_skipped else ""),
            f"{len(self.tasks)} nhiệm vụ, {len(self.groups)} nhóm, {len(self.units)} đơn vị, "
            f"{len(self.leaders)} lãnh đạo.",
            f"Thêm mới {len(self.added_ids)}, cập nhật {len(self.updated)}, giữ nguyên {len(self.unchanged_ids)}, "
            f"không còn trong kế hoạch {len(self.removed_ids)}"
            + (f" ({', '.join(self.removed_ids)}; không xóa)" if self.removed_ids else "") + ".",
        ]
        out += [f"Cảnh báo ({w.place}): {w.message}" for w in self.warnings]
        return out


# --- resolving names and deadlines -------------------------------------------------------


@dataclass
class _Resolver:
    registry: Registry
    strict: bool  # False for a new master: every name found becomes the registry
    report: ImportReport
    unit_titles: dict[str, str] = field(default_factory=dict)
    leader_titles: dict[str, str] = field(default_factory=dict)
    _unknown_u: dict[str, dict[str, Any]] = field(default_factory=dict)
    _unknown_l: dict[str, dict[str, Any]] = field(default_factory=dict)

    def known_unit_names(self) -> list[str]:
        names = list(self.registry.unit_names)
        for u in self.registry.units:
            names += split_list(u.get("aliases")) if not isinstance(u.get("aliases"), list) else u["aliases"]
        return names

    def unit(self, name: str, place: str) -> str:
        m = self.registry.match_unit(name)
        if m.known:
            return m.canonical or name
        key = name_key(name)
        if not self.strict:
            self.unit_titles.setdefault(key, name)
            return self.unit_titles[key]
        rec = self._unknown_u.setdefault(key, {"name": name, "suggestions": list(m.suggestions), "places": []})
        rec["places"].append(place)
        return rec["name"]

    def leader(self, name: str, title: str, place: str) -> str:
        m = self.registry.match_leader(name)
        if m.known:
            return m.canonical or name
        key = name_key(m.text)
        if not self.strict:
            self.leader_titles.setdefault(key, m.text)
            self._unknown_l.setdefault(key, {"name": m.text, "title": title, "suggestions": [], "places": []})
            return self.leader_titles[key]
        rec = self._unknown_l.setdefault(
            key, {"name": m.text, "title": title, "suggestions": list(m.suggestions), "places": []})
        rec["places"].append(place)
        return rec["name"]


def _resolve_task(t: ParsedTask, res: _Resolver, plan_code: str, plan_year: int | None,
                  warnings: list[ImportWarning]) -> dict[str, Any]:
    place = f"{t.table}, dòng {t.row}"
    known = res.known_unit_names()
    lead: list[str] = []
    coord: list[str] = []
    notes: list[str] = [t.notes] if t.notes else []
    for raw, default_role in ((t.raw_lead, "lead"), (t.raw_coord, "coord")):
        for p in split_parties(raw, known=known):
            name = res.unit(p.name, place)
            role = p.role or default_role
            (lead if role == "lead" else coord).append(name)
            if p.note and normalize_text(p.note).lower() not in _BARE_MARKERS:
                notes.append(f"{name}: {p.note}")
    refs = parse_leaders(t.raw_leaders)
    leaders = [res.leader(r.name, r.title, place) for r in refs]
    if len(refs) > 1:
        notes += [f"{n}: {r.role}" for n, r in zip(leaders, refs, strict=True) if r.role]
    if not lead:
        warnings.append(ImportWarning("Nhiệm vụ không có đơn vị chủ trì.", t.table, t.row, "no_lead"))
    rec: dict[str, Any] = {
        "group": t.group, "group_title": t.group_title, "stt": t.stt, "criterion": t.criterion, "task": t.task,
        "output": t.output, "lead_units": list(dict.fromkeys(lead)),
        "coordinating_units": list(dict.fromkeys(c for c in coord if c not in lead)),
        "leaders": list(dict.fromkeys(leaders)), "deadline_text": t.deadline_text, "plan_code": plan_code,
        "notes": "; ".join(dict.fromkeys(notes)),
    }
    rec.update(_deadline_cells(t.deadline_text, plan_year))
    if t.deadline_text and rec["deadline_kind"] == schema.DEADLINE_KINDS["unknown"]:
        warnings.append(ImportWarning(f"Chưa đọc được thời hạn '{t.deadline_text}'; giữ nguyên văn.",
                                      t.table, t.row, "deadline_unknown"))
    return rec


def _deadline_cells(text: str, plan_year: int | None) -> dict[str, Any]:
    d = parse_deadline(text, plan_year=plan_year)
    return {
        "due_date": d.due,
        "deadline_kind": schema.DEADLINE_KINDS.get(d.kind, d.kind),
        "recurrence": schema.RECURRENCES.get(d.recurrence, d.recurrence) if d.recurrence else None,
    }


# --- matching -------------------------------------------------------------------------


def _fold(v: object) -> str:
    return strip_accents(normalize_text(v).lower())


def _ratio(a: str, b: str) -> float:
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def match_tasks(new: list[dict[str, Any]], old: list[dict[str, Any]]) -> dict[int, int]:
    """Index in ``new`` → index in ``old`` of the same task.

    The key is (group path, STT, task text) with tolerance for edits:
    every pair gets a score — task-text similarity (accent-folded, difflib
    ratio) plus 0.3 for the same group, 0.2 for the same STT, 0.1 × criterion
    similarity and 0.05 for the same position among the rows sharing that
    group and STT. A pair is acceptable when the texts are nearly the same
    (≥ 0.9), or when group and STT agree and the texts are still alike
    (≥ 0.5), or when only the group agrees and the texts are close (≥ 0.75).
    Pairs are taken best score first, one-to-one, so an edited task keeps its
    ID and a renumbered one is found again, while two tasks never share one.
    """

    def pos(rows: list[dict[str, Any]]) -> list[int]:
        seen: dict[tuple[str, str], int] = {}
        out = []
        for r in rows:
            k = (_fold(r.get("group")), _fold(r.get("stt")))
            out.append(seen.get(k, 0))
            seen[k] = seen.get(k, 0) + 1
        return out

    pn, po = pos(new), pos(old)
    fn = [(_fold(r.get("group")), _fold(r.get("stt")), _fold(r.get("task")), _fold(r.get("criterion"))) for r in new]
    fo = [(_fold(r.get("group")), _fold(r.get("stt")), _fold(r.get("task")), _fold(r.get("criterion"))) for r in old]
    pairs: list[tuple[float, int, int]] = []
    for i, (g, s, t, c) in enumerate(fn):
        for j, (g2, s2, t2, c2) in enumerate(fo):
            same_g, same_s = g == g2, s == s2
            if not same_g and abs(len(t) - len(t2)) > 0.2 * max(len(t), len(t2), 1):
                continue  # cannot reach 0.9 similarity: skip the costly ratio
            sim = _ratio(t, t2)
            ok = sim >= 0.9 or (same_g and same_s and sim >= 0.5) or (same_g and sim >= 0.75)
            if not ok:
                continue
            score = sim + 0.3 * same_g + 0.2 * same_s + 0.1 * _ratio(c, c2) + 0.05 * (pn[i] == po[j])
            pairs.append((score, i, j))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    out: dict[int, int] = {}
    taken: set[int] = set()
    for _, i, j in pairs:
        if i in out or j in taken:
            continue
        out[i] = j
        taken.add(j)
    return out


def _cmp_value(key: str, v: object) -> object:
    col = schema.TASKS.col(key)
    if col.type == "list":
        items = v if isinstance(v, (list, tuple)) else split_list(v)
        return tuple(name_key(x) for x in items)
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return normalize_text(v, keep_newlines=True)


def _cell(key: str, v: object) -> object:
    if isinstance(v, (list, tuple)):
        return join_list(v)
    if v == "" or v is None:
        return None
    return v


# --- the pure import ------------------------------------------------------------------------


def _ids(plan_code: str, existing: Iterable[str]) -> Iterable[str]:
    pat = re.compile(rf"^{re.escape(plan_code)}-(\d+)$")
    top = max((int(m.group(1)) for e in existing if (m := pat.match(str(e or "")))), default=0)
    n = top
    while True:
        n += 1
        yield f"{plan_code}-{n:03d}"


def _resolve_all(parsed: ParsedPlan, res: _Resolver, plan_code: str, report: ImportReport) -> list[dict[str, Any]]:
    warnings = list(parsed.warnings)
    recs = [_resolve_task(t, res, plan_code, parsed.plan_year, warnings) for t in parsed.tasks]
    for u in res._unknown_u.values() if res.strict else ():
        sugg = f"; gần nhất: {', '.join(u['suggestions'])}" if u["suggestions"] else ""
        warnings.append(ImportWarning(
            f"Đơn vị '{u['name']}' chưa có trong danh mục đơn vị{sugg} (gặp {len(u['places'])} lần: "
            f"{'; '.join(u['places'][:3])}{' …' if len(u['places']) > 3 else ''}).", "", None, "unknown_unit"))
    for x in res._unknown_l.values() if res.strict else ():
        sugg = f"; có phải: {', '.join(x['suggestions'])}?" if x["suggestions"] else ""
        warnings.append(ImportWarning(
            f"Lãnh đạo '{x['name']}' chưa có trong danh mục lãnh đạo{sugg} (gặp {len(x['places'])} lần: "
            f"{'; '.join(x['places'][:3])}{' …' if len(x['places']) > 3 else ''}).", "", None, "unknown_leader"))
    report.warnings = warnings
    report.unknown_units = list(res._unknown_u.values()) if res.strict else []
    report.unknown_leaders = list(res._unknown_l.values()) if res.strict else []
    report.units = list(dict.fromkeys(u for r in recs for u in r["lead_units"] + r["coordinating_units"]))
    report.leaders = list(dict.fromkeys(x for r in recs for x in r["leaders"]))
    return recs


def _new_report(parsed: ParsedPlan, master: str, plan_code: str) -> ImportReport:
    return ImportReport(source=parsed.source, master=master, plan_code=plan_code, plan_year=parsed.plan_year,
                        tables_used=parsed.tables_used, tables_skipped=parsed.tables_skipped,
                        layout=parsed.layout, groups=parsed.groups)


def _row_values(columns: dict[str, int], rec: dict[str, Any]) -> list[Any]:
    width = max(columns.values())
    row: list[Any] = [None] * width
    for key, col in columns.items():
        if key in rec:
            row[col - 1] = _cell(key, rec[key])
    return row


def compute_import(md: Any, parsed: ParsedPlan, *, plan_code: str | None = None, add_unknown: bool = False,
                   now: dt.datetime | None = None) -> tuple[MasterChanges, ImportReport]:
    """What importing ``parsed`` into the master ``md`` changes (pure: nothing is written)."""
    code = normalize_text(plan_code or md.settings.get("plan_code"))
    if not code:
        raise SetupError("Chưa có mã kế hoạch: dùng --plan-code hoặc điền 'Mã kế hoạch' ở trang Cấu hình.")
    if parsed.plan_year is None and getattr(md, "plan_year", None):
        parsed.plan_year = md.plan_year
    report = _new_report(parsed, str(getattr(md, "path", "")), code)
    res = _Resolver(Registry.from_master(md), strict=True, report=report)
    recs = _resolve_all(parsed, res, code, report)
    tasks_sheet = schema.TASKS.name
    cols = md.tasks.columns
    changes = MasterChanges()
    now = now or dt.datetime.now().replace(microsecond=0)
    old_idx = [i for i, r in enumerate(md.tasks.rows)
               if normalize_text(r.get("plan_code")) == code or str(r.get("id") or "").startswith(code + "-")]
    old = [md.tasks.rows[i] for i in old_idx]
    matched = match_tasks(recs, old)
    new_ids = _ids(code, (r.get("id") for r in md.tasks.rows))
    missing_cols = sorted({k for k in schema.DEFINITION_FIELDS if k not in cols})
    if missing_cols:
        report.warnings.append(ImportWarning(
            f"Trang Nhiệm vụ thiếu cột: {', '.join(schema.TASKS.col(k).header for k in missing_cols)}; "
            "các giá trị này không được ghi.", tasks_sheet, None, "missing_column"))
    for i, rec in enumerate(recs):
        if i in matched:
            j = old_idx[matched[i]]
            row = md.tasks.rows[j]
            rec["id"] = row.get("id")
            changed = [k for k in schema.DEFINITION_FIELDS
                       if k in cols and _cmp_value(k, rec.get(k)) != _cmp_value(k, row.get(k))]
            if changed:
                report.updated[str(rec["id"])] = changed
                xl_row = md.tasks.row_numbers[j]
                touch = list(changed) + (["due_date", "deadline_kind", "recurrence"] if "deadline_text" in changed
                                         else [])
                for k in touch:
                    if k in cols:
                        changes.set(tasks_sheet, xl_row, cols[k], _cell(k, rec.get(k)))
                for k in changed:
                    changes.log.append(LogEntry("import", file=parsed.source, task_id=str(rec["id"]), field=k,
                                                old=_cell(k, row.get(k)), new=_cell(k, rec.get(k)), time=now))
            else:
                report.unchanged_ids.append(str(rec["id"]))
        else:
            rec["id"] = next(new_ids)
            rec["status"] = schema.STATUS_NOT_STARTED
            report.added_ids.append(rec["id"])
            changes.append(tasks_sheet, _row_values(cols, rec), height=row_height(rec, schema.TASKS.columns))
            changes.log.append(LogEntry("import", file=parsed.source, task_id=rec["id"], field="(nhiệm vụ mới)",
                                        new=rec["task"][:200], time=now))
    taken = set(matched.values())
    report.removed_ids = [str(old[k].get("id")) for k in range(len(old)) if k not in taken]
    for rid in report.removed_ids:
        report.warnings.append(ImportWarning(
            f"Nhiệm vụ {rid} có trong sổ theo dõi nhưng không còn trong kế hoạch; giữ nguyên, không xóa.",
            tasks_sheet, None, "removed"))
    report.tasks = recs
    if add_unknown:
        _add_registry_rows(md, res, changes, report, parsed.source, now)
    return changes, report


def _add_registry_rows(md: Any, res: _Resolver, changes: MasterChanges, report: ImportReport, source: str,
                       now: dt.datetime) -> None:
    if res._unknown_u and md.units.columns:
        for u in res._unknown_u.values():
            kind = GROUP_KIND if u["name"].lower().startswith("các ") else ""
            changes.append(schema.UNITS.name, _row_values(md.units.columns, {"name": u["name"], "kind": kind}))
            report.units_added.append(u["name"])
            changes.log.append(LogEntry("import", file=source, field="Đơn vị mới", new=u["name"], time=now))
    if res._unknown_l and md.leaders.columns:
        for x in res._unknown_l.values():
            changes.append(schema.LEADERS.name,
                           _row_values(md.leaders.columns, {"name": x["name"], "title": x["title"]}))
            report.leaders_added.append(x["name"])
            changes.log.append(LogEntry("import", file=source, field="Lãnh đạo mới", new=x["name"], time=now))


def _default_code(parsed: ParsedPlan) -> str:
    return slugify(Path(parsed.source).stem, max_len=16).upper()


def import_plan(plan_file: Path | str, into: Path | str, *, plan_code: str | None = None, add_unknown: bool = False,
                plan_year: int | None = None, dry_run: bool = False, config: Any = None) -> ImportReport:
    """Import the task table of ``plan_file`` into the master ``into`` (created when it does not exist)."""
    into = Path(into)
    parsed = parse_plan(plan_file, plan_year=plan_year)
    if not into.exists():
        return _create(parsed, into, plan_code=plan_code, dry_run=dry_run)
    from kehoach_xl.io.master_read import read_master
    from kehoach_xl.io.master_write import write_master

    md = read_master(into)
    changes, report = compute_import(md, parsed, plan_code=plan_code, add_unknown=add_unknown)
    report.master = str(into)
    report.dry_run = dry_run
    if not dry_run and not changes.is_empty():
        res = write_master(into, changes, action="import", config=config, expect=md.stamp)
        report.backup = str(res.backup) if res.backup else None
    return report


def _create(parsed: ParsedPlan, into: Path, *, plan_code: str | None, dry_run: bool) -> ImportReport:
    """A new master whose registry is the units and leaders the plan names."""
    from kehoach_xl.commands.init import create_master

    code = normalize_text(plan_code) or _default_code(parsed)
    report = _new_report(parsed, str(into), code)
    report.created_master = True
    report.dry_run = dry_run
    res = _Resolver(Registry(), strict=False, report=report)
    recs = _resolve_all(parsed, res, code, report)
    ids = _ids(code, ())
    for rec in recs:
        rec["id"] = next(ids)
        rec["status"] = schema.STATUS_NOT_STARTED
        report.added_ids.append(rec["id"])
    report.tasks = recs
    if not plan_code:
        report.warnings.append(ImportWarning(f"Chưa có mã kế hoạch; dùng '{code}' lấy từ tên tệp.", "", None,
                                             "plan_code_default"))
    units = [{"name": n, "kind": GROUP_KIND if n.lower().startswith("các ") else ""} for n in report.units]
    leaders = [{"name": x["name"], "title": x["title"]} for x in res._unknown_l.values()]
    report.units_added = [u["name"] for u in units]
    report.leaders_added = [x["name"] for x in leaders]
    if not dry_run:
        create_master(into, tasks=recs, units=units, leaders=leaders,
                      meta={"plan_code": code, "plan_year": parsed.plan_year})
    return report
