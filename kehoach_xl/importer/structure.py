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
* A header may span two rows (merged "Cơ quan" over "Chủ trì | Phối hợp"): the
  rows are read as one header and the sub-header row is never a task. A row of
  column numbers ("(1) (2) (3)") is skipped.
* A group row keeps its shape when a fragment sits in another column: a group
  code, a bold or capitalised title and no unit make it a group; the fragment
  is named in a warning.
* Columns the importer has no field for are kept per task with their header
  (``ParsedTask.extras``) and named in one warning.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from kehoach_xl.errors import DataError
from kehoach_xl.importer.headers import (
    EXTRA_FIELDS,
    combine_two_rows,
    expected_headers,
    field_of,
    fold,
    match_header_row,
)
from kehoach_xl.importer.model import ImportWarning, ParsedTask, RawCell, RawTable

_CODE_LETTER = re.compile(r"^[A-ZĐ]$")
_CODE_ROMAN = re.compile(r"^[IVXLC]+$")
_CODE_NUM = re.compile(r"^\d+$")
_CODE_PREFIX = re.compile(r"^([A-ZĐ]|[IVXLC]+|\d+)[.)]?\s+(\S.*)$", re.S)
_SENTENCE_END = re.compile(r"[.;:!?)”\"]$")
_CODE_SUBLETTER = re.compile(r"^[a-zđ][.)]?$")  # "a", "b)" below an Arabic item: I / 1 / a
_COLUMN_NUMBER = re.compile(r"^\(?\d{1,2}\)?$")
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


def _extra_text(row: Sequence[RawCell], cols: dict[str, int], labels: Sequence[str] = ()) -> str:
    """Text of the columns without a field and without a header (kept in the notes as before)."""
    used = set(cols.values())
    return " ".join(c.text for j, c in enumerate(row)
                    if j not in used and c.text and not (j < len(labels) and labels[j]))


def _extras(row: Sequence[RawCell], cols: dict[str, int], labels: Sequence[str]) -> list[tuple[str, str, str]]:
    """(field or "", header, text) of the columns that have a header but no place in a task."""
    out: list[tuple[str, str, str]] = []
    extra_cols = {j: k for k, j in cols.items() if k in EXTRA_FIELDS}
    used = {j for k, j in cols.items() if k not in EXTRA_FIELDS}
    for j, c in enumerate(row):
        if j in used or not c.text or j >= len(labels) or not labels[j]:
            continue
        k = extra_cols.get(j, "")
        out.append((k if k in ("status", "result") else "", labels[j], c.text))
    return out


def find_header(rows: Sequence[Sequence[RawCell]]) -> tuple[int, int, dict[str, int], list[str]] | None:
    """(first header row, rows it takes, field -> column, header text per column) of a table."""
    for i, row in enumerate(rows[:15]):
        top = [c.text.replace("\n", " ") for c in row]
        m = match_header_row(top)
        # the upper row of a two-row header already names some columns (a title line above does not)
        if i + 1 < len(rows) and sum(1 for x in top if x and len(x) <= 90 and field_of(x)) >= 2:
            comb = combine_two_rows(top, [c.text.replace("\n", " ") for c in rows[i + 1]])
            m2 = match_header_row(comb) if comb else None
            if comb and m2 and len(m2) >= len(m or {}):
                return i, 2, m2, comb
        if m:
            return i, 1, m, top
    return None


def _signature(row: Sequence[RawCell]) -> tuple[str, ...]:
    return tuple(fold(c.text) for c in row)


def _is_column_numbers(texts: Sequence[str]) -> bool:
    """ "(1) | (2) | (3) …" under a header (the columns numbered for reference)."""
    vals = [t for t in texts if t]
    return len(vals) >= 3 and all(_COLUMN_NUMBER.match(v) for v in vals) and len(set(vals)) == len(vals)


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
        self.header_sigs: set[tuple[str, ...]] = set()  # header rows as folded texts, repeated after page breaks
        # id(row) -> (row, match_header_row of its texts); the row is kept so that its id stays its own
        self.header_rows: dict[int, tuple[Sequence[RawCell], dict[str, int] | None]] = {}

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


def _is_caps(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    return len(letters) >= 4 and all(ch.isupper() for ch in letters)


def _group_of(f: dict[str, RawCell], next_stt: str | None, b: _Builder, cols: dict[str, int] | None = None
              ) -> tuple[int, str, str, list[tuple[str, str]]] | None:
    """(level, code, title, fragments) of a group row, else None."""
    stt = f.get("stt", RawCell()).text
    others = [(k, c) for k, c in f.items() if k != "stt" and c.text]
    if stt and not others:
        m = _CODE_PREFIX.match(stt)
        if m:
            stt, others = m.group(1), [("task", RawCell(m.group(2).strip()))]
    code = stt.rstrip(".)")
    fragments: list[tuple[str, str]] = []
    if len(others) > 1 and code and cols and not any(
            f.get(k, RawCell()).text for k in ("lead_units", "coordinating_units")):
        # a group's shape: a code, a bold or capitalised title and no unit; the rest is a stray fragment
        titles = sorted((cols[k], k, c) for k, c in others if k in ("task", "criterion", "output"))
        if titles and (titles[0][2].bold or _is_caps(titles[0][2].text)):
            _, tk, tc = titles[0]
            fragments = [(k, c.text) for k, c in others if k != tk]
            others = [(tk, tc)]
    if len(others) != 1 or others[0][0] not in ("task", "criterion", "output"):
        return None
    title = others[0][1].text.replace("\n", " ")
    if _CODE_ROMAN.match(code) and not _letter_successor(code, b):
        return 1, code, title, fragments
    if _CODE_LETTER.match(code):
        return 0, code, title, fragments
    if _CODE_NUM.match(code) and next_stt is not None and (
            not next_stt or next_stt.startswith(code + ".") or _CODE_SUBLETTER.match(next_stt)):
        return 2, code, title, fragments
    if not code and others[0][1].bold and others[0][0] != "output":
        b.codeless += 1
        return 1, f"({b.codeless})", title, fragments
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
    labels: list[str] = []
    for t in tables:
        start = None
        found = find_header(t.rows)
        if found:
            i, n, m, labels = found
            cols, start, ncols = m, i + n, len(t.rows[i])
            b.header_sigs |= {_signature(r) for r in t.rows[i:i + n]}
            layout = {k: labels[j] for k, j in m.items()}
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
        _parse_rows(t, start, cols, b, labels)
    if not used:
        found = "\n".join(f"  - {h}" for h in seen_headers if h) or "  (không có bảng nào)"
        exp = "\n".join(f"  - {h}" for h in expected_headers())
        raise DataError(
            f"Không nhận ra bảng nhiệm vụ trong tệp {source or '(không tên)'}: không có dòng tiêu đề nào có ít nhất 3 cột quen thuộc "
            f"(trong đó có cột nhiệm vụ hoặc chỉ số).\nTiêu đề tìm thấy:\n{found}\nTiêu đề cần có (ít nhất 3):\n{exp}"
        )
    return b.tasks, b.groups, used, skipped, b.warnings, layout


def _is_header_again(row: Sequence[RawCell], cols: dict[str, int], b: _Builder) -> bool:
    return _is_header_row(row, b) or _header_of(row, b) == cols


def _header_of(row: Sequence[RawCell], b: _Builder | None) -> dict[str, int] | None:
    """``match_header_row`` of the row's texts, once per row (each row is also looked ahead at)."""
    if b is None:
        return match_header_row([c.text for c in row])
    hit = b.header_rows.get(id(row))
    if hit is None or hit[0] is not row:
        hit = (row, match_header_row([c.text for c in row]))
        b.header_rows[id(row)] = hit
    return hit[1]


def _is_header_row(row: Sequence[RawCell], b: _Builder) -> bool:
    """``_signature(row) in b.header_sigs``, folding only until a cell differs (a data row's first)."""
    return any(len(sig) == len(row) and all(fold(c.text) == s for c, s in zip(row, sig, strict=True))
               for sig in b.header_sigs)


def _next_stt(t: RawTable, i: int, cols: dict[str, int], b: _Builder | None = None) -> str | None:
    for row in t.rows[i + 1:]:
        if (b is not None and _is_header_again(row, cols, b)) or _header_of(row, b) == cols:
            continue
        if _is_column_numbers([c.text for c in row]):
            continue
        f = _row_fields(row, cols)
        if not any(c.text for c in f.values()):
            continue
        return f["stt"].text if "stt" in f else ""
    return None


def _parse_rows(t: RawTable, start: int, cols: dict[str, int], b: _Builder, labels: Sequence[str] = ()) -> None:
    after_break = bool(b.tasks)  # a later table is the next page of the same plan table
    for i in range(start, len(t.rows)):
        row = t.rows[i]
        src = t.row_numbers[i]
        if i in t.page_starts:
            after_break = True
        if _is_header_again(row, cols, b):
            after_break = True  # the header Word/the PDF repeats on every page
            continue
        f = _row_fields(row, cols)
        texts = {k: c.text for k, c in f.items()}
        if not any(texts.values()) or _is_column_numbers([c.text for c in row]):
            continue
        nonempty = [v for v in texts.values() if v]
        if len(nonempty) == 1 and re.fullmatch(r"\d{1,3}", nonempty[0]) and not texts.get("stt"):
            continue  # a page number caught in the table
        if after_break and b.last is not None and _is_piece(f, b.last_fields):
            _join_piece(b.last, texts, src)
            for k, header, text in _extras(row, cols, labels):
                prev = next((n for n, e in enumerate(b.last.extras) if e[1] == header), None)
                if prev is None:
                    b.last.extras.append((k, header, text))
                else:
                    b.last.extras[prev] = (k, header, _join(b.last.extras[prev][2], text))
            b.last_fields = {k: _join(b.last_fields.get(k, ""), v) for k, v in texts.items()}
            b.warnings.append(ImportWarning(
                f"Dòng này là phần còn lại của một hàng bị ngắt trang; đã nối vào nhiệm vụ ở dòng {b.last.row}.",
                t.name, src, "joined_split_row"))
            after_break = False
            continue
        after_break = False
        g = _group_of(f, _next_stt(t, i, cols, b), b, cols)
        if g:
            level, code, title, fragments = g
            b.set_group(level, code, title)
            named = [(labels[cols[k]] if cols[k] < len(labels) else k, text) for k, text in fragments]
            named += [(header, text) for _, header, text in _extras(row, cols, labels) if (header, text) not in named]
            if _extra_text(row, cols, labels):
                named.append(("(không có tiêu đề)", _extra_text(row, cols, labels)))
            for header, text in named:
                b.warnings.append(ImportWarning(
                    f"Dòng nhóm '{code} {title}' có thêm nội dung ở cột '{header}': '{text}'. Đã coi là dòng nhóm "
                    "(có số thứ tự nhóm, tên in đậm/in hoa, không có đơn vị); nội dung này không được nhập.",
                    t.name, src, "group_fragment"))
            continue
        stt = texts.get("stt", "")
        if stt and 2 in b.levels and not stt.startswith(b.levels[2][0] + ".") and not _CODE_SUBLETTER.match(stt):
            b.levels.pop(2)  # a plain item after a numbered sub-group ends that sub-group
        group, group_title = b.path()
        task = ParsedTask(group=group, group_title=group_title, stt=stt, table=t.name, row=src, rows=[src])
        for k in TEXT_FIELDS:
            setattr(task, k, texts.get(k, ""))
        for k, attr in PARTY_FIELDS.items():
            setattr(task, attr, texts.get(k, ""))
        extra = _extra_text(row, cols, labels)
        if extra and "notes" not in cols:
            task.notes = extra
        task.extras = _extras(row, cols, labels)
        if not stt and b.last is not None:
            # a cell merged down from the row above (a task with several results) is that row's text
            for k in (*TEXT_FIELDS, *PARTY_FIELDS):
                if k in f and f[k].merged_above and not f[k].text and k != "notes":
                    attr = PARTY_FIELDS.get(k, k)
                    setattr(task, attr, getattr(b.last, attr))
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
