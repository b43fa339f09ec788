"""From table rows to tasks: header, groups, continuation rows and rows split by a page break.

Rules (each one is needed by a seed plan):

* The header is the first row whose cells read as a task-table header
  (:mod:`headers`); a later row that reads as the same header is the header
  Word or the PDF repeated after a page break, and is skipped.
* A **group row** has a group code in the STT column (A, B …; I, II …; or an
  Arabic number whose following rows are its children "1.1" or have no STT)
  and nothing but a title beside it; or no code and a single bold title.
  Group paths are "A › I › 1"; titles go to ``group_title``.
* A **split piece** is the first row after a page break when it has no STT and
  no deadline and its text visibly continues the row above (starts in lower
  case or a digit, or the cell above does not end a sentence). Its cells are
  appended to that row: the PDF/Word broke one row across two pages.
* A **continuation row** (no STT, not a piece) is a task of its own that
  belongs to the item above: it inherits that item's STT and criterion.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from kehoach_xl.errors import DataError
from kehoach_xl.importer.headers import expected_headers, match_header_row
from kehoach_xl.importer.model import ImportWarning, ParsedTask, RawCell, RawTable

_CODE_LETTER = re.compile(r"^[A-ZĐ]$")
_CODE_ROMAN = re.compile(r"^[IVXLC]+$")
_CODE_NUM = re.compile(r"^\d+$")
_CODE_PREFIX = re.compile(r"^([A-ZĐ]|[IVXLC]+|\d+)[.)]?\s+(\S.*)$", re.S)
_SENTENCE_END = re.compile(r"[.;:!?)”\"]$")
TEXT_FIELDS = ("criterion", "task", "output", "deadline_text", "notes")
PARTY_FIELDS = {"lead_units": "raw_lead", "coordinating_units": "raw_coord", "leaders": "raw_leaders"}
SEP = " › "


def _join(a: str, b: str) -> str:
    if not a:
        return b
    if not b:
        return a
    return a + ("\n" if b[:1] in "-+•–" else " ") + b


def _row_fields(row: Sequence[RawCell], cols: dict[str, int]) -> dict[str, RawCell]:
    return {k: (row[j] if j < len(row) else RawCell()) for k, j in cols.items()}


def _extra_text(row: Sequence[RawCell], cols: dict[str, int]) -> str:
    used = set(cols.values())
    return " ".join(c.text for j, c in enumerate(row) if j not in used and c.text)


class _Builder:
    def __init__(self) -> None:
        self.tasks: list[ParsedTask] = []
        self.groups: list[tuple[str, str]] = []
        self.warnings: list[ImportWarning] = []
        self.levels: dict[int, tuple[str, str]] = {}
        self.codeless = 0
        self.item: ParsedTask | None = None  # last task that had its own STT
        self.last: ParsedTask | None = None  # task made from the last data row
        self.last_fields: dict[str, str] = {}

    def set_group(self, level: int, code: str, title: str) -> None:
        self.levels = {k: v for k, v in self.levels.items() if k < level}
        self.levels[level] = (code, title)
        self.groups.append(self.path())
        self.item = None
        self.last = None

    def path(self) -> tuple[str, str]:
        lv = [self.levels[k] for k in sorted(self.levels)]
        return SEP.join(c for c, _ in lv), SEP.join(t for _, t in lv)


def _is_piece(f: dict[str, RawCell], last: dict[str, str]) -> bool:
    if f.get("stt", RawCell()).text or f.get("deadline_text", RawCell()).text:
        return False
    for key, cell in f.items():
        if not cell.text:
            continue
        first = cell.text[:1]
        above = last.get(key, "")
        if first.islower() or first.isdigit() or (above and not _SENTENCE_END.search(above)):
            return True
        return False
    return False


def _letter_successor(code: str, b: _Builder) -> bool:
    """"I" after a group "H" is a letter; otherwise a single I, V, X … is a Roman numeral."""
    top = b.levels.get(0)
    return bool(top) and len(code) == 1 and len(top[0]) == 1 and ord(code) == ord(top[0]) + 1


def _group_of(f: dict[str, RawCell], next_stt: str | None, b: _Builder) -> tuple[int, str, str] | None:
    stt = f.get("stt", RawCell()).text
    others = [(k, c) for k, c in f.items() if k != "stt" and c.text]
    if stt and not others:
        m = _CODE_PREFIX.match(stt)
        if m:
            stt, others = m.group(1), [("task", RawCell(m.group(2).strip()))]
    code = stt.rstrip(".)")
    if len(others) != 1 or others[0][0] not in ("task", "criterion", "output"):
        return None
    title = others[0][1].text.replace("\n", " ")
    if _CODE_ROMAN.match(code) and not _letter_successor(code, b):
        return 1, code, title
    if _CODE_LETTER.match(code):
        return 0, code, title
    if _CODE_NUM.match(code) and next_stt is not None and (not next_stt or next_stt.startswith(code + ".")):
        return 2, code, title
    if not code and others[0][1].bold and others[0][0] != "output":
        b.codeless += 1
        return 1, f"({b.codeless})", title
    return None


def parse_tables(tables: list[RawTable], *, source: str = "") -> tuple[list[ParsedTask], list[tuple[str, str]], list[str], list[str],
                                                  list[ImportWarning], dict[str, str]]:
    b = _Builder()
    used: list[str] = []
    skipped: list[str] = []
    layout: dict[str, str] = {}
    cols: dict[str, int] | None = None
    ncols = 0
    seen_headers: list[str] = []
    for t in tables:
        start = None
        for i, row in enumerate(t.rows[:15]):
            m = match_header_row([c.text for c in row])
            if m:
                cols, start, ncols = m, i + 1, len(row)
                layout = {k: row[j].text.replace("\n", " ") for k, j in m.items()}
                break
        if start is None:
            # Word often splits a long table into one table per page without repeating the header.
            if cols is not None and used and t.rows and len(t.rows[0]) == ncols:
                start = 0
            else:
                skipped.append(t.name)
                if t.rows:
                    seen_headers.append(" | ".join(c.text.replace("\n", " ") for c in t.rows[0] if c.text))
                continue
        used.append(t.name)
        _parse_rows(t, start, cols, b)
    if not used:
        found = "\n".join(f"  - {h}" for h in seen_headers if h) or "  (không có bảng nào)"
        exp = "\n".join(f"  - {h}" for h in expected_headers())
        raise DataError(
            f"Không nhận ra bảng nhiệm vụ trong tệp {source or '(không tên)'}: không có dòng tiêu đề nào có ít nhất 3 cột quen thuộc "
            f"(trong đó có cột nhiệm vụ hoặc chỉ số).\nTiêu đề tìm thấy:\n{found}\nTiêu đề cần có (ít nhất 3):\n{exp}"
        )
    return b.tasks, b.groups, used, skipped, b.warnings, layout


def _next_stt(t: RawTable, i: int, cols: dict[str, int]) -> str | None:
    for row in t.rows[i + 1:]:
        if match_header_row([c.text for c in row]) == cols:
            continue
        f = _row_fields(row, cols)
        if not any(c.text for c in f.values()):
            continue
        return f["stt"].text if "stt" in f else ""
    return None


def _parse_rows(t: RawTable, start: int, cols: dict[str, int], b: _Builder) -> None:
    after_break = bool(b.tasks)  # a later table is the next page of the same plan table
    for i in range(start, len(t.rows)):
        row = t.rows[i]
        src = t.row_numbers[i]
        if i in t.page_starts:
            after_break = True
        if match_header_row([c.text for c in row]) == cols:
            after_break = True  # the header Word/the PDF repeats on every page
            continue
        f = _row_fields(row, cols)
        texts = {k: c.text for k, c in f.items()}
        if not any(texts.values()):
            continue
        nonempty = [v for v in texts.values() if v]
        if len(nonempty) == 1 and re.fullmatch(r"\d{1,3}", nonempty[0]) and not texts.get("stt"):
            continue  # a page number caught in the table
        if after_break and b.last is not None and _is_piece(f, b.last_fields):
            _join_piece(b.last, texts, src)
            b.last_fields = {k: _join(b.last_fields.get(k, ""), v) for k, v in texts.items()}
            b.warnings.append(ImportWarning(
                f"Dòng này là phần còn lại của một hàng bị ngắt trang; đã nối vào nhiệm vụ ở dòng {b.last.row}.",
                t.name, src, "joined_split_row"))
            after_break = False
            continue
        after_break = False
        g = _group_of(f, _next_stt(t, i, cols), b)
        if g:
            b.set_group(*g)
            continue
        stt = texts.get("stt", "")
        if stt and 2 in b.levels and not stt.startswith(b.levels[2][0] + "."):
            b.levels.pop(2)  # a plain item after a numbered sub-group ends that sub-group
        group, group_title = b.path()
        task = ParsedTask(group=group, group_title=group_title, stt=stt, table=t.name, row=src, rows=[src])
        for k in TEXT_FIELDS:
            setattr(task, k, texts.get(k, ""))
        for k, attr in PARTY_FIELDS.items():
            setattr(task, attr, texts.get(k, ""))
        extra = _extra_text(row, cols)
        if extra and "notes" not in cols:
            task.notes = extra
        if not stt and b.item is not None:
            task.continuation = True
            task.stt = b.item.stt
            if not task.criterion:
                task.criterion = b.item.criterion
        elif stt:
            b.item = task
        if not task.task:
            if task.criterion and not task.continuation and "criterion" in cols and not any(
                    texts.get(k) for k in ("output", "deadline_text", "lead_units")):
                b.warnings.append(ImportWarning("Dòng chỉ có chỉ số, không có nhiệm vụ: bỏ qua.", t.name, src,
                                                "no_task"))
                continue
            b.warnings.append(ImportWarning("Nhiệm vụ không có nội dung (cột nhiệm vụ/hoạt động trống).",
                                            t.name, src, "empty_task"))
        b.tasks.append(task)
        b.last = task
        b.last_fields = texts


def _join_piece(task: ParsedTask, texts: dict[str, str], src: int) -> None:
    for k in TEXT_FIELDS:
        if texts.get(k):
            setattr(task, k, _join(getattr(task, k), texts[k]))
    for k, attr in PARTY_FIELDS.items():
        if texts.get(k):
            setattr(task, attr, _join(getattr(task, attr), texts[k]))
    task.rows.append(src)
