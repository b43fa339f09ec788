"""Import a plan's task table into the master: parse, resolve names and deadlines, match, write.

Stable task IDs are ``<PLAN_CODE>-<NNN>``, given once in document order and
never reused. Re-import matches each parsed task to an existing task of the
same plan code (see :func:`match_tasks`), updates only the definition fields
(``schema.DEFINITION_FIELDS``, plus the deadline columns derived from a changed
deadline text), appends new tasks with new IDs, and reports tasks that are no
longer in the plan without deleting them. Unit-reported fields are never
touched."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from kehoach_xl import vn
from kehoach_xl.errors import DataError, SetupError
from kehoach_xl.importer.model import ImportWarning, ParsedPlan, ParsedTask, RawTable
from kehoach_xl.importer.plan_meta import read_plan_meta
from kehoach_xl.importer.structure import find_header, parse_tables
from kehoach_xl.model import schema, unit_vocab
from kehoach_xl.model.changes import LogEntry, MasterChanges
from kehoach_xl.model.outcome import Outcome
from kehoach_xl.model.problem import Problem
from kehoach_xl.model.registry import (
    GROUP_KIND,
    LeaderRef,
    NameMatch,
    Party,
    PartyVocab,
    Registry,
    parse_leaders,
    split_parties,
    split_units,
)
from kehoach_xl.rules.deadline import Deadline, parse_deadline
from kehoach_xl.rules.layout import row_height
from kehoach_xl.text import join_list, name_key, normalize_text, slugify, split_list, strip_accents

TEXT_SUFFIXES = (".csv", ".tsv", ".txt")


_BARE_MARKERS = {"chủ trì", "phối hợp"}


def _plan_year_from(preamble: str) -> int | None:
    m = re.search(r"ngày[\s\d.]*/\s*\d{1,2}\s*/\s*(20\d\d)", preamble)
    if m:
        return int(m.group(1))
    years = [int(y) for y in re.findall(r"\b(20\d\d)\b", preamble)]
    return max(years) if years else None


def _made_by_program(path: Path) -> bool:
    """The Word report template stamps its author; a plan document never carries it."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            core = z.read("docProps/core.xml").decode("utf-8", "replace")
    except (KeyError, OSError, zipfile.BadZipFile):
        return False
    return bool(re.search(r"<dc:creator>\s*kehoach_xl\s*</dc:creator>", core))


def _has_program_ids(tables: list[RawTable]) -> bool:
    """A "Mã nhiệm vụ" column holding IDs this program gives (a plan may number its tasks otherwise)."""
    header = name_key(schema.TASKS.col("id").header)
    for t in tables:
        for i, row in enumerate(t.rows[:15]):
            for j, c in enumerate(row):
                if name_key(c.text) == header and any(
                        j < len(r) and re.fullmatch(r"[A-Z0-9_]+-\d{3,}", r[j].text) for r in t.rows[i + 1:i + 6]):
                    return True
    return False


def _refuse_program_files(path: Path, tables: list[RawTable]) -> None:
    """Files this program makes are not plans: say what the file is instead of importing its IDs as tasks."""
    names = {name_key(t.name) for t in tables}
    what = ""
    # every master has "Cấu hình"; a plan workbook may well have a sheet "Nhiệm vụ" and one "Đơn vị"
    if {name_key(schema.TASKS.name), name_key(schema.SETTINGS.name)} <= names or {
            name_key(schema.TASKS.name), name_key(schema.UNITS.name), name_key(schema.LEADERS.name)} <= names:
        what = (f"một sổ theo dõi (có các sheet “{schema.TASKS.name}”, “{schema.UNITS.name}”, "
                f"“{schema.SETTINGS.name}”)")
    elif name_key("Báo cáo") in names and name_key("Hướng dẫn") in names:
        what = "tệp báo cáo tháng của một đơn vị (sheet “Báo cáo” và “Hướng dẫn”); hãy dùng lệnh merge để tổng hợp"
    elif any(normalize_text(c.text) == schema.SUMMARY_TITLE for t in tables for r in t.rows[:5] for c in r):
        what = f"bảng tổng hợp do chương trình xuất (“{schema.SUMMARY_TITLE}”)"
    elif _has_program_ids(tables):
        what = f"một tệp do chương trình tạo ra (có cột “{schema.TASKS.col('id').header}” với mã như DDCI2024-001)"
    if not what and path.suffix.lower() == ".docx" and _made_by_program(path):
        what = "một báo cáo tình hình thực hiện do chương trình tạo ra (lệnh report)"
    if what:
        raise DataError(f"Tệp '{path.name}' là {what}, không phải văn bản kế hoạch. Lệnh import chỉ nhận phụ lục "
                        "kế hoạch (Word, Excel hoặc văn bản có bảng nhiệm vụ).")


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
    _refuse_program_files(path, tables)
    tasks, groups, used, skipped, warnings, layout = parse_tables(tables, source=f"'{path.name}'")
    head = preamble
    first = next((t for t in tables if t.name == used[0]), None) if used else None
    if first is not None:  # rows above the header of a sheet or text table (title, "Kèm theo …")
        found = find_header(first.rows)
        if found and found[0]:
            head = "\n".join([head, *(" ".join(c.text for c in r if c.text) for r in first.rows[:found[0]])])
    meta, remarks = read_plan_meta(head)
    warnings += [ImportWarning(r, "", None, "plan_meta") for r in remarks]
    year = plan_year or meta.get("plan_year")
    meta["year_source"] = "given" if plan_year else ("document" if year else "guess")
    return ParsedPlan(path.name, tasks, list(dict.fromkeys(groups)), used, skipped, warnings, layout,
                      year or _plan_year_from(head), meta)


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
    # what the import found to look at, as the one problem record (slug = the warning's code)
    problems: list[Problem] = field(default_factory=list)
    backup: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)  # the plan's metadata found in the document
    meta_stored: list[str] = field(default_factory=list)  # settings written by this import
    progress_set: dict[str, list[str]] = field(default_factory=dict)  # id -> progress fields filled (--with-progress)

    @property
    def warnings(self) -> list[ImportWarning]:
        """The problems in the import's own words (``code``, ``table``, ``place``): the JSON ``warnings``."""
        return [ImportWarning.of(p) for p in self.problems]

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
            "plan_meta": self.meta, "meta_stored": self.meta_stored, "progress_set": self.progress_set,
            "next_step": " ".join(self.add_unknown_hint()),
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
        m = self.meta
        if m.get("plan_number") or m.get("plan_date") or m.get("agency"):
            out.append("Văn bản: " + ", ".join(x for x in (
                f"số {m['plan_number']}" if m.get("plan_number") else "",
                f"ngày {m['plan_date']}" if m.get("plan_date") else "", m.get("agency") or "") if x)
                + (f"; năm kế hoạch {self.plan_year}" if self.plan_year else "") + ".")
        if self.meta_stored:
            out.append("Đã ghi vào trang Cấu hình: " + ", ".join(schema.SETTINGS_ROWS[k] for k in self.meta_stored)
                       + ".")
        if self.progress_set:
            out.append(f"Theo báo cáo tiến độ (--with-progress): đã điền Trạng thái/Kết quả cho "
                       f"{len(self.progress_set)} nhiệm vụ chưa có đơn vị báo cáo ({', '.join(self.progress_set)}).")
        out += self.add_unknown_hint()
        return out  # the problems are printed by reports.problems.problems_console

    def add_unknown_hint(self) -> list[str]:
        """How to add the units and leaders the master's lists lack (Vietnamese), empty when none are missing."""
        units = [u["name"] for u in self.unknown_units if u["name"] not in self.units_added]
        leaders = [x["name"] for x in self.unknown_leaders if x["name"] not in self.leaders_added]
        if not units and not leaders:
            return []
        what = []
        if units:
            shown = ", ".join(units[:8]) + (f" và {len(units) - 8} đơn vị khác" if len(units) > 8 else "")
            what.append(f"{len(units)} đơn vị chưa có trong trang “{schema.UNITS.name}” ({shown})")
        if leaders:
            what.append(f"{len(leaders)} lãnh đạo chưa có trong trang “{schema.LEADERS.name}” "
                        f"({', '.join(leaders[:8])})")
        done = "sẽ được nhập" if self.dry_run else "đã được nhập"
        return [
            f"Sổ theo dõi thiếu {' và '.join(what)}. Nhiệm vụ {done} với tên như văn bản ghi, nhưng đơn vị chưa có "
            "trong danh mục thì chưa có tệp báo cáo, chưa được nhắc việc và bị báo lỗi khi kiểm tra sổ.",
            "Cách thêm: chạy lại lệnh với tùy chọn --add-unknown để thêm các tên này vào danh mục, ví dụ: "
            f"kehoach-xl import \"{self.source}\" --into \"{Path(self.master).name}\" --add-unknown "
            "(nhập lại cùng văn bản không tạo nhiệm vụ trùng); hoặc tự thêm vào trang Đơn vị/Lãnh đạo, nếu là "
            "tên khác của đơn vị đã có thì ghi vào cột “Tên viết tắt/tên khác” của đơn vị đó rồi nhập lại.",
        ]


@dataclass
class _Resolver:
    registry: Registry
    strict: bool  # False for a new master: every name found becomes the registry
    report: ImportReport
    unit_titles: dict[str, str] = field(default_factory=dict)
    leader_titles: dict[str, str] = field(default_factory=dict)
    _unknown_u: dict[str, dict[str, Any]] = field(default_factory=dict)
    _unknown_l: dict[str, dict[str, Any]] = field(default_factory=dict)

    with_progress: bool = False
    unit_kinds: dict[str, str] = field(default_factory=dict)  # unit met -> kind given by the splitter
    _known: list[str] | None = None
    _vocab: PartyVocab | None = None
    # Per distinct text: a plan repeats the same party and deadline cells on many rows, and the
    # registry and vocabulary do not change while an import resolves, so each reading is done once
    # (matching an unknown name runs difflib over every known name; splitting runs many regexes).
    _memo: dict[tuple[str, object], Any] = field(default_factory=dict)

    def _once(self, kind: str, key: object, compute: Any) -> Any:
        k = (kind, key)
        if k not in self._memo:
            self._memo[k] = compute()
        return self._memo[k]

    def match_unit(self, name: str) -> NameMatch:
        return self._once("unit", name, lambda: self.registry.match_unit(name))

    def match_leader(self, name: str) -> NameMatch:
        return self._once("leader", name, lambda: self.registry.match_leader(name))

    def run_together(self, cell: str) -> tuple[str, list[tuple[str, str]]]:
        return self._once("joined", cell, lambda: separate_run_together(cell, self.known_unit_names()))

    def split(self, raw: str) -> tuple[list[Party], list[str]]:
        parties, doubts = self._once("split", raw, lambda: split_units(raw, known=self.known_unit_names(),
                                                                       vocab=self.vocab()))
        return list(parties), list(doubts)

    def plain_parties(self, raw: str) -> list[Party]:
        return list(self._once("plain", raw, lambda: split_parties(raw)))

    def leader_refs(self, raw: str) -> list[LeaderRef]:
        return list(self._once("leaders", raw, lambda: parse_leaders(raw)))

    def deadline(self, text: str, plan_year: int | None, issued_on: dt.date | None) -> Deadline:
        return self._once("deadline", (text, plan_year, issued_on),
                          lambda: parse_deadline(text, plan_year=plan_year, issued_on=issued_on))

    def is_group(self, name: str) -> bool:
        # unit_kinds grows while resolving, so it is asked each time; the registry and vocabulary are fixed
        return self.unit_kinds.get(name) == GROUP_KIND or self._once(
            "group", name, lambda: self.registry.is_group(name) or self.vocab().is_collective(name))

    def known_unit_names(self) -> list[str]:
        if self._known is None:
            names = list(self.registry.unit_names)
            for u in self.registry.units:
                names += split_list(u.get("aliases")) if not isinstance(u.get("aliases"), list) else u["aliases"]
            self._known = names
        return self._known

    def vocab(self) -> PartyVocab:
        """The body-name vocabulary extended by the master's "Đơn vị" sheet (names, aliases, kinds)."""
        if self._vocab is None:
            units = self.registry.units
            self._vocab = PartyVocab.build(
                self.known_unit_names(),
                group_names=[u.get("name") for u in units if normalize_text(u.get("kind")) == GROUP_KIND],
                kinds=[u.get("kind") for u in units if normalize_text(u.get("kind")) not in ("", GROUP_KIND)
                       and name_key(u.get("name")).startswith(name_key(u.get("kind")) + " ")])
        return self._vocab

    def unit(self, name: str, place: str, kind: str = "") -> str:
        m = self.match_unit(name)
        if m.known:
            return m.canonical or name
        key = name_key(name)
        if not self.strict:
            self.unit_titles.setdefault(key, name)
            self.unit_kinds.setdefault(self.unit_titles[key], kind)
            return self.unit_titles[key]
        rec = self._unknown_u.setdefault(key, {"name": name, "suggestions": list(m.suggestions), "places": []})
        rec["places"].append(place)
        self.unit_kinds.setdefault(rec["name"], kind)
        return rec["name"]

    def leader(self, name: str, title: str, place: str) -> str:
        m = self.match_leader(name)
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


def _readings(written: dict[str, list[tuple[str, str]]], res: _Resolver) -> dict[str, list[str]]:
    lead_keys = {k for _, k in written["lead"]}
    return {
        "lead_units": list(dict((k, n) for n, k in written["lead"]).values()),
        "coordinating_units": list(dict((k, n) for n, k in written["coord"]
                                        if k not in lead_keys or _is_group(n, res)).values()),
    }


def _is_group(name: str, res: _Resolver) -> bool:
    return res.is_group(name)


def _progress_state(text: str) -> str | None:
    """The master's status for a reported state ("Đã hoàn thành" → "Hoàn thành"), None when unclear."""
    f = strip_accents(normalize_text(text).lower())
    for pat, state in unit_vocab.PROGRESS_STATES:
        if re.search(pat, f):
            return {"done": schema.STATUS_DONE, "in_progress": schema.STATUS_IN_PROGRESS,
                    "not_started": schema.STATUS_NOT_STARTED}[state]
    return None


# "Sở Khoa học và Công nghệ Sở Công Thương": two peer bodies written with no separator. Only a department
# or ministry (which no other body of the same word contains) followed by another one is cut, and only
# after a name known in full, so "Văn phòng Sở Tài chính" or "Phòng Tổng hợp Sở Nội vụ" stay whole.
_PEER_WORDS = ("Sở", "Bộ")


@lru_cache(maxsize=8)
def _peer_names(known: tuple[str, ...]) -> tuple[list[str], list[re.Pattern[str]]]:
    """The department/ministry names, longest first, and the pattern of each followed by a peer."""
    names = sorted({normalize_text(n) for n in (*known, *unit_vocab.USUAL_BODIES)
                    if normalize_text(n).split(" ", 1)[0] in _PEER_WORDS and " " in normalize_text(n)},
                   key=len, reverse=True)
    peer = "|".join(_PEER_WORDS)
    return names, [re.compile(r"(?<!\w)(" + re.escape(name) + r")[ \t]+((?:" + peer + r")[ \t]+\w(?:(?![ \t](?:"
                              + peer + r")[ \t])[^,;\n])*)") for name in names]


def separate_run_together(text: str, known: Iterable[str]) -> tuple[str, list[tuple[str, str]]]:
    """``text`` with "; " put between two peer bodies written one after the other, and the pairs cut."""
    if not text:
        return text, []
    names, patterns = _peer_names(tuple(known))
    cuts: list[tuple[str, str]] = []
    out = text
    for name, pat in zip(names, patterns, strict=True):
        if name not in out:
            continue  # the pattern starts with the name itself
        pos = 0
        while m := pat.search(out, pos):
            second = m.group(2).strip()
            pos = m.end(1) + 1
            if not second.split()[1][:1].isupper() or any(
                    len(n) > len(name) and normalize_text(f"{name} {second}").startswith(n) for n in names):
                continue  # "Sở xây dựng …" is a phrase; a longer known name is one body
            cuts.append((name, second))
            out = out[:m.end(1)] + ";" + out[m.end(1):]
    return out, cuts


def _resolve_task(t: ParsedTask, res: _Resolver, plan_code: str, plan_year: int | None,
                  warnings: list[ImportWarning], issued_on: dt.date | None = None) -> dict[str, Any]:
    place = f"{t.table}, dòng {t.row}"
    lead: list[str] = []
    coord: list[str] = []
    written: dict[str, list[tuple[str, str]]] = {"lead": [], "coord": []}  # (name, key of the text as written)
    notes: list[str] = [t.notes] if t.notes else []
    for cell, default_role in ((t.raw_lead, "lead"), (t.raw_coord, "coord")):
        raw, run_together = res.run_together(cell)
        for first, second in run_together:
            warnings.append(ImportWarning(
                f"Hai cơ quan viết liền không có dấu phân cách: '{first} {second}'; đã tách thành '{first}' và "
                f"'{second}'. Nếu đây là một cơ quan, hãy sửa ô này trong văn bản.", t.table, t.row, "joined_bodies"))
        parties, doubts = res.split(raw)
        for d in doubts:
            warnings.append(ImportWarning(
                f"Không chắc cách tách '{d}' thành từng cơ quan; giữ nguyên là một đơn vị. Nếu cần tách, hãy "
                "sửa ô này trong văn bản (mỗi cơ quan một tên đầy đủ, cách nhau bằng dấu chấm phẩy) hoặc thêm "
                "tên vào trang Đơn vị.",
                t.table, t.row, "unit_split_doubt"))
        for p in parties:
            name = res.unit(p.name, place, p.kind)
            role = p.role or default_role
            (lead if role == "lead" else coord).append(name)
            written["lead" if role == "lead" else "coord"].append((name, name_key(p.name)))
            if p.note and normalize_text(p.note).lower() not in _BARE_MARKERS:
                notes.append(f"{name}: {p.note}")
    refs = res.leader_refs(t.raw_leaders)
    leaders = [res.leader(r.name, r.title, place) for r in refs]
    if len(refs) > 1:
        notes += [f"{n}: {r.role}" for n, r in zip(leaders, refs, strict=True) if r.role]
    if not lead:
        warnings.append(ImportWarning("Nhiệm vụ không có đơn vị chủ trì.", t.table, t.row, "no_lead"))
    rec: dict[str, Any] = {
        "group": t.group, "group_title": t.group_title, "stt": t.stt, "criterion": t.criterion, "task": t.task,
        "output": t.output, "lead_units": list(dict.fromkeys(lead)),
        # a body named in both roles leads; a collective in both ("các bộ, ngành, địa phương") does both
        "coordinating_units": list(dict.fromkeys(c for c in coord if c not in lead or _is_group(c, res))),
        "leaders": list(dict.fromkeys(leaders)), "deadline_text": t.deadline_text, "plan_code": plan_code,
        "notes": "; ".join(dict.fromkeys(notes)),
    }
    for key, header, text in t.extras:
        if res.with_progress and key == "status":
            state = _progress_state(text)
            if state:
                rec["status"] = state
                continue
            warnings.append(ImportWarning(
                f"Cột '{header}': chưa hiểu tình trạng '{text}' (cần dạng “Đã hoàn thành”, “Đang triển khai”, "
                "“Chưa thực hiện”); giữ trong Ghi chú, không đặt trạng thái.", t.table, t.row, "progress_unknown"))
        elif res.with_progress and key == "result":
            rec["result"] = text
            continue
        notes.append(f"{header}: {text}")
    rec["notes"] = "; ".join(dict.fromkeys(notes))
    deadline = res.deadline(t.deadline_text, plan_year, issued_on)
    rec.update(_deadline_cells(t.deadline_text, plan_year, issued_on, deadline))
    # Readings of the same cells for re-import to compare with, so that what the "Đơn vị" sheet
    # has gained since the first import cannot make an unchanged plan look changed: deduplicated
    # by the text as written (an alias added later must not drop a unit), and split with the
    # data module's vocabulary alone (a name added later must not glue or cut a list).
    plain: dict[str, list[tuple[str, str]]] = {"lead": [], "coord": []}
    for raw, default_role in ((t.raw_lead, "lead"), (t.raw_coord, "coord")):
        for p in res.plain_parties(raw):
            plain["lead" if (p.role or default_role) == "lead" else "coord"].append((p.name, name_key(p.name)))
    rec["_as_written"] = [_readings(w, res) for w in (written, plain)]
    if t.deadline_text and rec["deadline_kind"] == schema.DEADLINE_KINDS["unknown"]:
        warnings.append(ImportWarning(f"Chưa đọc được thời hạn '{t.deadline_text}'; giữ nguyên văn.",
                                      t.table, t.row, "deadline_unknown"))
    elif t.deadline_text:
        d = deadline
        if set(d.flags) & _DEADLINE_TO_CHECK and d.note:
            # a year taken from the plan, a condition, a clause with no date: the date is the program's
            # reading, so staff are told what was assumed (the text itself is kept verbatim)
            warnings.append(ImportWarning(f"Thời hạn '{normalize_text(t.deadline_text)}': {d.note}", t.table, t.row,
                                          "deadline_assumed"))
    return rec


# Deadline flags whose reading staff should check (rules.deadline); their notes become warnings.
_DEADLINE_TO_CHECK = frozenset({"year_assumed", "year_rolled", "conditional", "undated_part", "ambiguous",
                                "recurrence_unlisted"})


def _deadline_cells(text: str, plan_year: int | None, issued_on: dt.date | None = None,
                    parsed: Deadline | None = None) -> dict[str, Any]:
    d = parsed if parsed is not None else parse_deadline(text, plan_year=plan_year, issued_on=issued_on)
    return {
        "due_date": d.due,
        "deadline_kind": schema.DEADLINE_KINDS.get(d.kind, d.kind),
        "recurrence": schema.RECURRENCES.get(d.recurrence, d.recurrence) if d.recurrence else None,
    }


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
    # An unchanged task (same group, STT, text, criterion and position, its text unique on both
    # sides) has the highest score any pair can have, so the greedy pass would take it first:
    # pairing these up front gives the same result and spares the quadratic scoring on a
    # re-import of an unchanged plan.
    out: dict[int, int] = {}
    taken: set[int] = set()
    cn, co = Counter(f[:3] for f in fn), Counter(f[:3] for f in fo)
    where = {f: j for j, f in enumerate(fo) if co[f[:3]] == 1}
    for i, f in enumerate(fn):
        j = where.get(f)
        if j is not None and cn[f[:3]] == 1 and pn[i] == po[j]:
            out[i] = j
            taken.add(j)
    pairs: list[tuple[float, int, int]] = []
    for i, (g, s, t, c) in enumerate(fn):
        if i in out:
            continue
        for j, (g2, s2, t2, c2) in enumerate(fo):
            if j in taken:
                continue
            same_g, same_s = g == g2, s == s2
            need = 0.5 if same_g and same_s else 0.75 if same_g else 0.9
            if 2 * min(len(t), len(t2)) < need * (len(t) + len(t2)):
                continue  # the length bound of the ratio is already too low: skip the costly ratio
            sim = _ratio(t, t2)
            ok = sim >= 0.9 or (same_g and same_s and sim >= 0.5) or (same_g and sim >= 0.75)
            if not ok:
                continue
            score = sim + 0.3 * same_g + 0.2 * same_s + 0.1 * _ratio(c, c2) + 0.05 * (pn[i] == po[j])
            pairs.append((score, i, j))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
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


def _ids(plan_code: str, existing: Iterable[str]) -> Iterable[str]:
    pat = re.compile(rf"^{re.escape(plan_code)}-(\d+)$")
    top = max((int(m.group(1)) for e in existing if (m := pat.match(str(e or "")))), default=0)
    n = top
    while True:
        n += 1
        yield f"{plan_code}-{n:03d}"


def _resolve_all(parsed: ParsedPlan, res: _Resolver, plan_code: str, report: ImportReport,
                 stored_date: dt.date | None = None) -> list[dict[str, Any]]:
    """Every task resolved; ``stored_date`` is the master's plan date, used when the document gives none."""
    warnings = list(parsed.warnings)
    issued_on = stored_date
    if parsed.meta.get("plan_date"):
        issued_on = vn.parse_date(parsed.meta["plan_date"])
    recs = [_resolve_task(t, res, plan_code, parsed.plan_year, warnings, issued_on) for t in parsed.tasks]
    warnings += _column_warnings(parsed, recs, res.with_progress)
    warnings += _duplicate_warnings(res, recs)
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
    report.problems = [w.problem(parsed.source) for w in warnings]
    report.unknown_units = list(res._unknown_u.values()) if res.strict else []
    report.unknown_leaders = list(res._unknown_l.values()) if res.strict else []
    report.units = list(dict.fromkeys(u for r in recs for u in r["lead_units"] + r["coordinating_units"]))
    report.leaders = list(dict.fromkeys(x for r in recs for x in r["leaders"]))
    return recs


def _column_warnings(parsed: ParsedPlan, recs: list[dict[str, Any]], with_progress: bool) -> list[ImportWarning]:
    """One warning naming the columns kept in the notes, one per progress column mapped."""
    kept: dict[str, str] = {}
    for t in parsed.tasks:
        for key, header, _ in t.extras:
            kept.setdefault(header, key)
    out: list[ImportWarning] = []
    in_notes = [h for h, k in kept.items() if not (with_progress and k in ("status", "result"))]
    if in_notes:
        hint = ""
        if not with_progress and any(k in ("status", "result") for k in kept.values()):
            hint = " Cột tình trạng/kết quả của báo cáo tiến độ chỉ được nhập vào Trạng thái/Kết quả khi dùng --with-progress."
        out.append(ImportWarning(
            f"Các cột chưa có chỗ riêng trong sổ theo dõi: {', '.join(repr(h) for h in in_notes)}; nội dung được "
            f"giữ trong cột Ghi chú kèm tên cột (ví dụ “{in_notes[0]}: …”).{hint}", "", None, "extra_columns"))
    if with_progress:
        for h, k in kept.items():
            if k == "status":
                n = sum(1 for r in recs if r.get("status"))
                done = sum(1 for r in recs if r.get("status") == schema.STATUS_DONE)
                # the appendix gives no completion date: left empty (validation points at it), not guessed
                tail = (f"; {done} nhiệm vụ đã hoàn thành để trống Ngày hoàn thành vì văn bản không ghi"
                        if done else "")
                out.append(ImportWarning(f"Cột '{h}' được nhập vào cột Trạng thái ({n} nhiệm vụ){tail}.", "", None,
                                         "progress_mapped"))
            elif k == "result":
                n = sum(1 for r in recs if r.get("result"))
                out.append(ImportWarning(f"Cột '{h}' được nhập vào cột Kết quả thực hiện ({n} nhiệm vụ).", "", None,
                                         "progress_mapped"))
    return out


def _dup_key(name: str) -> str:
    """A name reduced to what tells bodies apart: no case, accents, punctuation, short forms, word order."""
    f = strip_accents(normalize_text(name).lower())
    f = re.sub(r"\btt\.\s*", "tt ", f)
    for abbr, full in sorted(unit_vocab.NAME_ABBREVIATIONS.items(), key=lambda kv: -len(kv[0])):
        f = re.sub(r"(?<![a-z0-9&])" + re.escape(abbr) + r"(?![a-z0-9&])", full, f)
    words = [w for w in re.split(r"[^a-z0-9]+", f) if w and w not in unit_vocab.NAME_FILLER_WORDS]
    return " ".join(sorted(words))


def _duplicate_warnings(res: _Resolver, recs: list[dict[str, Any]]) -> list[ImportWarning]:
    """Unit names of this import that are likely one body (never merged: staff decide, with an alias)."""
    used = list(dict.fromkeys(u for r in recs for u in r["lead_units"] + r["coordinating_units"]))
    known = res.registry.unit_names
    by_key: dict[str, list[str]] = {}
    for n in dict.fromkeys([*used, *known]):
        by_key.setdefault(_dup_key(n), []).append(n)
    out: list[ImportWarning] = []
    for names in by_key.values():
        if len(names) < 2 or not any(n in used for n in names):
            continue
        canon = [n for n in names if n in known]
        keep = canon[0] if canon else max(names, key=len)
        others = [n for n in names if n != keep]
        out.append(ImportWarning(
            f"Có thể cùng một đơn vị: {', '.join(repr(n) for n in names)}. Gợi ý: giữ '{keep}' trong trang "
            f"Đơn vị và ghi {', '.join(repr(n) for n in others)} vào cột “Tên viết tắt/tên khác” của nó; "
            "chương trình không tự gộp.", "", None, "duplicate_unit"))
    return out


def _new_report(parsed: ParsedPlan, master: str, plan_code: str) -> ImportReport:
    return ImportReport(source=parsed.source, master=master, plan_code=plan_code, plan_year=parsed.plan_year,
                        tables_used=parsed.tables_used, tables_skipped=parsed.tables_skipped,
                        layout=parsed.layout, groups=parsed.groups,
                        meta={k: v for k, v in parsed.meta.items() if k != "year_source"})


def _row_values(columns: dict[str, int], rec: dict[str, Any]) -> list[Any]:
    width = max(columns.values())
    row: list[Any] = [None] * width
    for key, col in columns.items():
        if key in rec:
            row[col - 1] = _cell(key, rec[key])
    return row


def compute_import(md: Any, parsed: ParsedPlan, *, as_of: dt.datetime | None = None, config: Any = None,
                   plan_code: str | None = None, add_unknown: bool = False, with_progress: bool = False) -> Outcome:
    """What importing ``parsed`` into the master ``md`` changes (pure: nothing is written).

    ``as_of`` is the moment of the import, stamped on the log rows (default: now). The
    :class:`Outcome` carries the changes, the warnings as :class:`Problem` records (``file`` the
    plan document, or the master for what concerns its sheets), ``figures`` (the task counts) and
    ``result``, the :class:`ImportReport`. ``config`` is accepted for the common contract.
    """
    code = normalize_text(plan_code or md.settings.get("plan_code"))
    if not code:
        raise SetupError("Chưa có mã kế hoạch: dùng --plan-code hoặc điền 'Mã kế hoạch' ở trang Cấu hình.")
    if parsed.meta.get("year_source") not in ("given", "document") and getattr(md, "plan_year", None):
        # the year the master stored at the first import beats a year guessed from the head's text
        parsed.plan_year = md.plan_year
    report = _new_report(parsed, str(getattr(md, "path", "")), code)
    registry = Registry.from_master(md)
    res = _Resolver(registry, strict=True, report=report, with_progress=with_progress)
    recs = _resolve_all(parsed, res, code, report, stored_issue_date(md))
    tasks_sheet = schema.TASKS.name
    cols = md.tasks.columns
    changes = MasterChanges()
    now = as_of or dt.datetime.now().replace(microsecond=0)
    master_file = Path(md.path).name if getattr(md, "path", None) else ""
    old_idx = [i for i, r in enumerate(md.tasks.rows)
               if normalize_text(r.get("plan_code")) == code or str(r.get("id") or "").startswith(code + "-")]
    old = [md.tasks.rows[i] for i in old_idx]
    matched = match_tasks(recs, old)
    new_ids = _ids(code, (r.get("id") for r in md.tasks.rows))
    missing_cols = sorted({k for k in schema.DEFINITION_FIELDS if k not in cols})
    if missing_cols:
        report.problems.append(ImportWarning(
            f"Trang Nhiệm vụ thiếu cột: {', '.join(schema.TASKS.col(k).header for k in missing_cols)}; "
            "các giá trị này không được ghi.", tasks_sheet, None, "missing_column").problem(master_file))
    for i, rec in enumerate(recs):
        if i in matched:
            j = old_idx[matched[i]]
            row = md.tasks.rows[j]
            rec["id"] = row.get("id")
            changed = []
            for k in schema.DEFINITION_FIELDS:
                if k not in cols:
                    continue
                if k in _NAME_FIELDS:
                    readings = [r[k] for r in rec["_as_written"] if k in r] + [rec.get(k) or []]
                    for names_read in readings:
                        same, names = _names_as_stored(k, names_read, row.get(k), registry, res)
                        if same:
                            break
                    if not same:  # the plan changed: the registry's reading, stored spellings kept
                        same, names = _names_as_stored(k, rec.get(k) or [], row.get(k), registry, res)
                    rec[k] = names
                else:
                    same = _cmp_value(k, rec.get(k)) == _cmp_value(k, row.get(k))
                if not same:
                    changed.append(k)
            for k in ("status", "result") if with_progress else ():
                # a progress appendix fills only what no unit has reported yet (the status a new
                # task starts with, never updated by a merge, is no report)
                blank = row.get(k) in (None, "") or (
                    k == "status" and normalize_text(row.get(k)) == schema.STATUS_NOT_STARTED
                    and not row.get("updated_at"))
                if rec.get(k) and k in cols and blank and normalize_text(row.get(k)) != rec[k]:
                    changes.set(tasks_sheet, md.tasks.row_numbers[j], cols[k], rec[k])
                    report.progress_set.setdefault(str(rec["id"]), []).append(k)
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
            rec.setdefault("status", schema.STATUS_NOT_STARTED)
            report.added_ids.append(rec["id"])
            changes.append(tasks_sheet, _row_values(cols, rec), height=row_height(rec, schema.TASKS.columns))
            changes.log.append(LogEntry("import", file=parsed.source, task_id=rec["id"], field="(nhiệm vụ mới)",
                                        new=rec["task"][:200], time=now))
    for rec in recs:
        rec.pop("_as_written", None)
    taken = set(matched.values())
    report.removed_ids = [str(old[k].get("id")) for k in range(len(old)) if k not in taken]
    for rid in report.removed_ids:
        report.problems.append(ImportWarning(
            f"Nhiệm vụ {rid} có trong sổ theo dõi nhưng không còn trong kế hoạch; giữ nguyên, không xóa.",
            tasks_sheet, None, "removed").problem(master_file))
    report.tasks = recs
    if add_unknown:
        _add_registry_rows(md, res, changes, report, parsed.source, now)
    _store_meta(md, parsed, code, changes, report, now, master_file)
    return Outcome(as_of=now, changes=changes, problems=report.problems, result=report, figures={
        "tasks": len(report.tasks), "tasks_added": len(report.added_ids), "tasks_updated": len(report.updated),
        "tasks_unchanged": len(report.unchanged_ids), "tasks_removed": len(report.removed_ids),
        "warnings": len(report.problems)})


_NAME_FIELDS = ("lead_units", "coordinating_units", "leaders")


_META_KEYS = ("plan_number", "plan_title", "plan_year", "agency", "parent_agency", "place", "plan_date")


def meta_values(meta: dict[str, Any]) -> dict[str, Any]:
    """The settings values of the metadata a document gives (the plan date as a real date)."""
    out = {k: meta[k] for k in _META_KEYS if meta.get(k)}
    if "plan_date" in out:
        try:
            out["plan_date"] = vn.parse_date(out["plan_date"])
        except ValueError:
            out.pop("plan_date")
    return out


def _same_setting(key: str, old: object, new: object) -> bool:
    if key == "plan_date":
        try:
            return vn.parse_date(old) == vn.parse_date(new)
        except ValueError:
            return False
    return normalize_text(old) == normalize_text(new)


def stored_issue_date(md: Any) -> dt.date | None:
    """The plan date the settings sheet holds (stored by the first import), None when empty or unreadable."""
    try:
        return vn.parse_date(md.settings.get("plan_date"))
    except ValueError:
        return None


def _names_as_stored(key: str, new: list[str], stored: object, registry: Registry,
                     res: _Resolver | None = None) -> tuple[bool, list[str]]:
    """(unchanged?, names to keep) comparing names through the registry as it is now.

    The master keeps a name as it was first written; the "Đơn vị" sheet may since have got that
    unit under another name or alias. A name the plan still has keeps its stored spelling, so a
    re-import never rewrites a name the plan text did not change.
    """
    # through the resolver's memo when there is one: a name not in the registry costs a difflib
    # search for suggestions, and a re-import compares the same names on every row
    src = res if res is not None else registry
    match = src.match_leader if key == "leaders" else src.match_unit

    def canon(x: str) -> str:
        m = match(x)
        return name_key(m.canonical or m.text)

    old = [normalize_text(x) for x in (stored if isinstance(stored, (list, tuple)) else split_list(stored))]
    new_c, old_c = [canon(x) for x in new], [canon(x) for x in old]
    if new_c == old_c:
        return True, old
    spelled = dict(zip(old_c, old, strict=True))
    return False, [spelled.get(c, n) for c, n in zip(new_c, new, strict=True)]


def _shown(v: object) -> str:
    return vn.date(v) if isinstance(v, dt.date) else normalize_text(v)


def _store_meta(md: Any, parsed: ParsedPlan, code: str, changes: MasterChanges, report: ImportReport,
                now: dt.datetime, master_file: str = "") -> None:
    """The plan code and the plan's metadata into the settings sheet, where it is still empty.

    Only on the master of this plan (no code yet, or the same code): a master that tracks
    another plan keeps its own. A value that differs from the stored one is reported, never
    overwritten.
    """
    from kehoach_xl.model.master import find_sheet_name, settings_cell

    name = find_sheet_name(getattr(md, "sheet_names", []), schema.SETTINGS.name)
    stored_code = normalize_text(md.settings.get("plan_code"))
    if not name or (stored_code and stored_code != code):
        return
    values: dict[str, Any] = {"plan_code": code}
    values.update(meta_values(parsed.meta))
    if parsed.meta.get("year_source") == "given" and parsed.plan_year:
        values["plan_year"] = parsed.plan_year
    for key, value in values.items():
        old = md.settings.get(key)
        if old not in (None, ""):
            if not _same_setting(key, old, value) and key != "plan_year":
                report.problems.append(ImportWarning(
                    f"{schema.SETTINGS_ROWS[key]} trong văn bản là '{_shown(value)}', trong sổ theo dõi là "
                    f"'{_shown(old)}'; "
                    "giữ giá trị của sổ theo dõi.", schema.SETTINGS.name, None, "meta_differs").problem(master_file))
            continue
        cell = settings_cell(md, key)
        if cell is not None:
            changes.set(name, *cell, value)
        else:  # label row missing: add it back rather than guess a cell
            changes.append(name, [schema.SETTINGS_ROWS[key], value])
        report.meta_stored.append(key)
        changes.log.append(LogEntry("import", file=parsed.source, field=schema.SETTINGS_ROWS[key], new=value,
                                    time=now))


def _add_registry_rows(md: Any, res: _Resolver, changes: MasterChanges, report: ImportReport, source: str,
                       now: dt.datetime) -> None:
    if res._unknown_u and md.units.columns:
        for u in res._unknown_u.values():
            kind = res.unit_kinds.get(u["name"]) or ""
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
