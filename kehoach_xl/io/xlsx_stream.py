"""Read the cells of an untrusted workbook by streaming its XML, without openpyxl's object model.

The submission reader used to call ``openpyxl.load_workbook`` on every file a unit sent back: about
50 ms per file and memory that grows with the file (a Python object per cell, plus styles, charts,
pivots and names nobody reads). This module reads only what a submission needs — cell values,
which cells hold formulas, number formats of numeric cells, merged ranges — with lxml's
``iterparse`` over the parts the caller has already size-checked and DTD-checked.

It mirrors what ``load_workbook(read_only=False, data_only=False)`` gives for those things, down to
the quirks the callers rely on: a formula cell reads as its formula text ("=SUM(A1:A3)", shared
formulas translated to their own cell), a number with a date format becomes a datetime/date/time/
timedelta (1900 and 1904 systems), a date serial out of range reads as "#VALUE!", cells inside a
merged range other than its top-left read as empty, and the sheet's extent counts empty styled
cells, merged ranges, hyperlinks and comments the way openpyxl's ``max_row``/``max_column`` do.
``tests/submissions_stream`` holds the proof (both readers on every submission the tests build).

What it does not mirror raises :class:`StreamUnsupported` (the caller then falls back to openpyxl);
what openpyxl would also fail on raises :class:`StreamError`.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

from lxml import etree

from kehoach_xl.model.address import col_letters, col_number

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
COMMENTS_REL = REL + "/comments"
_SPREADSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.%s.main+xml"
_WORKBOOK_TYPES = ("application/vnd.ms-excel.template.macroEnabled.main+xml",  # openpyxl's order
                   _SPREADSHEET % "template", "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                   _SPREADSHEET % "sheet")
_SHARED_STRINGS = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"

_C, _V, _F, _IS = f"{{{MAIN}}}c", f"{{{MAIN}}}v", f"{{{MAIN}}}f", f"{{{MAIN}}}is"
_ROW, _T, _R = f"{{{MAIN}}}row", f"{{{MAIN}}}t", f"{{{MAIN}}}r"
_MERGE, _LINK = f"{{{MAIN}}}mergeCell", f"{{{MAIN}}}hyperlink"
_R_ID = f"{{{REL}}}id"

_RANGE = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)(?::\$?([A-Za-z]{1,3})\$?(\d+))?$")
_INVALID_TITLE = re.compile(r"[\\*?:/\[\]]")
_MAX_COLUMN = 18278  # "ZZZ", the most openpyxl accepts
BUILTIN_MAX = 164
_MAX_LINK_CELLS = 1_000_000  # a hyperlink over a larger range is refused rather than filled cell by cell


class StreamError(ValueError):
    """The workbook is malformed in a way openpyxl's full load would also refuse.

    ``like`` names the exception openpyxl raises there; the refusal message shows that name, as before.
    """

    def __init__(self, message: str, like: str = "ValueError") -> None:
        super().__init__(message)
        self.like = like


class TextTooLong(Exception):
    """An inline string longer than the caller's limit (counted in characters, as read)."""

    def __init__(self, sheet: str, cell: str, chars: int) -> None:
        super().__init__(f"{sheet}!{cell}: {chars} characters")
        self.sheet, self.cell, self.chars = sheet, cell, chars


class StreamUnsupported(Exception):
    """A construct this reader does not mirror exactly; read the file with openpyxl instead."""


def _parser() -> etree.XMLParser:
    # No DTD, no entity expansion, no network, lxml's default size/depth limits (huge_tree off).
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                           remove_comments=True, remove_pis=True)


def _tree(data: bytes) -> etree._Element:
    return etree.fromstring(data, _parser())


def _iter(data: bytes, tags: tuple[str, ...]) -> Iterator[etree._Element]:
    yield from (el for _, el in etree.iterparse(BytesIO(data), events=("end",), tag=tags, resolve_entities=False,
                                                  no_network=True, load_dtd=False, huge_tree=False))


def column_number(letters: str) -> int:
    n = col_number(letters.upper())
    if n > _MAX_COLUMN:
        raise StreamError(f"column {letters} out of range")
    return n


def column_letters(col: int) -> str:
    """Letters of column ``col``; "" for no column (a cell the reader could not place)."""
    return col_letters(col) if col >= 1 else ""


def coordinate(ref: str) -> tuple[int, int]:
    """(row, column) of a cell's ``r`` as openpyxl's ``coordinate_to_tuple`` reads it: no "$", A..ZZZ."""
    i = 0
    while i < len(ref) - 1 and ref[i] not in "0123456789":
        i += 1
    letters = ref[:i]
    if not 0 < len(letters) <= 3 or not letters.isascii() or not letters.isalpha():
        raise StreamError(f"bad cell reference {ref!r}")
    try:
        row = int(ref[i:])
    except ValueError:
        raise StreamError(f"bad cell reference {ref!r}") from None
    return row, column_number(letters)


def _cell_at(ref: str, col_cache: dict[str, int]) -> tuple[int, int]:
    """:func:`coordinate`, with the column of letters already seen taken from ``col_cache``."""
    letters = ref.rstrip("0123456789")
    col = col_cache.get(letters)
    if col is None or letters == ref:
        r, col = coordinate(ref)
        if letters.isalpha():
            col_cache[letters] = col  # a valid column, whatever digits follow it
        return r, col
    return int(ref[len(letters):]), col


def range_bounds(ref: str) -> tuple[int, int, int, int]:
    """(min_col, min_row, max_col, max_row) of "A1:B2" or "A1"; other forms are not mirrored."""
    m = _RANGE.match(ref.strip())
    if not m:
        raise StreamUnsupported(f"range {ref!r}")
    c1, r1 = column_number(m.group(1)), int(m.group(2))
    c2, r2 = (column_number(m.group(3)), int(m.group(4))) if m.group(3) else (c1, r1)
    if c1 > c2 or r1 > r2:
        raise StreamError(f"reversed range {ref!r}")
    return c1, r1, c2, r2


def range_text(c1: int, r1: int, c2: int, r2: int) -> str:
    first = f"{column_letters(c1)}{r1}"
    return first if (c1, r1) == (c2, r2) else f"{first}:{column_letters(c2)}{r2}"


def text_content(node: etree._Element) -> str:
    """Plain text of an ``<si>``/``<is>``: its ``<t>`` then every run's ``<t>``; phonetic runs left out."""
    if len(node) == 1 and node[0].tag == _T:  # the usual <t>text</t> alone
        return node[0].text or ""
    plain = ""
    runs = []
    for child in node:
        if child.tag == _T:
            plain = child.text or ""
        elif child.tag == _R:
            for t in child:
                if t.tag == _T:
                    runs.append(t.text or "")
    return plain + "".join(runs)


def merges_at(merges: list[tuple[int, int, int, int]], r: int, c: int) -> list[tuple[int, int, int, int]]:
    return [m for m in merges if m[0] <= c <= m[2] and m[1] <= r <= m[3]]


def _bound_text(text: str) -> str:
    """What openpyxl's Cell.value setter keeps of a string: illegal characters refuse the file, 32 767 max."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if ILLEGAL_CHARACTERS_RE.search(text):
        raise StreamError("illegal character in a hyperlink", "IllegalCharacterError")
    return text[:32767]


def _cast_number(value: str) -> int | float:
    # openpyxl's rule: a dot or an exponent makes a float, anything else must be an int.
    if "." in value or "E" in value or "e" in value:
        return float(value)
    return int(value)


class _Bounds:
    """Hashes and compares as openpyxl's CellRange does: by (min_row, min_col, max_row, max_col)."""

    __slots__ = ("bounds",)

    def __init__(self, bounds: tuple[int, int, int, int]) -> None:
        self.bounds = bounds  # (min_col, min_row, max_col, max_row)

    def _key(self) -> tuple[int, int, int, int]:
        c1, r1, c2, r2 = self.bounds
        return (r1, c1, r2, c2)

    def __hash__(self) -> int:
        return hash(self._key())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Bounds) and self._key() == other._key()


@dataclass
class Styles:
    """Per cell style index: the number format openpyxl would report, and whether it is a date/duration."""

    formats: list[str]
    dates: set[int] = field(default_factory=set)
    durations: set[int] = field(default_factory=set)

    @classmethod
    def read(cls, data: bytes | None) -> Styles:
        from openpyxl.styles.numbers import (
            BUILTIN_FORMATS,
            BUILTIN_FORMATS_REVERSE,
            is_date_format,
            is_timedelta_format,
        )

        default = cls(formats=["General"])
        if data is None:
            return default
        root = _tree(data)
        custom: dict[int, str] = {}
        xf_ids: list[int] = []
        for part in root:
            if part.tag == f"{{{MAIN}}}numFmts":
                for nf in part:
                    if nf.tag == f"{{{MAIN}}}numFmt":
                        custom[int(nf.get("numFmtId"))] = nf.get("formatCode")
            elif part.tag == f"{{{MAIN}}}cellXfs":
                xf_ids = [int(xf.get("numFmtId", 0)) for xf in part if xf.tag == f"{{{MAIN}}}xf"]
        if not xf_ids:
            return default  # openpyxl keeps its own single default style
        # openpyxl rebases custom format ids to 164 + their order of first use, builtins to their id.
        added: list[str] = []
        ids = []
        codes: list[str | None] = []
        for fid in xf_ids:
            if fid in custom:
                code = custom[fid]
                if code in BUILTIN_FORMATS_REVERSE:
                    fid = BUILTIN_FORMATS_REVERSE[code]
                else:
                    if code not in added:
                        added.append(code)
                    fid = added.index(code) + BUILTIN_MAX
            else:
                code = BUILTIN_FORMATS.get(fid)
            ids.append(fid)
            codes.append(code)
        out = cls(formats=[])
        for i, (fid, code) in enumerate(zip(ids, codes, strict=True)):
            if fid < BUILTIN_MAX:
                out.formats.append(BUILTIN_FORMATS.get(fid, "General"))
            elif fid - BUILTIN_MAX < len(added):
                out.formats.append(added[fid - BUILTIN_MAX])
            else:
                raise StreamError(f"number format {fid} missing", "IndexError")
            if is_date_format(code):
                out.dates.add(i)
            if is_timedelta_format(code):
                out.durations.add(i)
        return out


@dataclass
class Sheet:
    """One worksheet as openpyxl's full load would see it, within the first ``max_columns`` columns."""

    title: str
    max_row: int = 1
    max_col: int = 1
    rows: dict[int, dict[int, Any]] = field(default_factory=dict)
    formulas: set[tuple[int, int]] = field(default_factory=set)
    formats: dict[tuple[int, int], str] = field(default_factory=dict)
    merged: list[str] = field(default_factory=list)
    # The length of the longest text kept that was not measured against ``max_chars`` as it was read
    # (shared strings, formulas, error codes, hyperlink targets): the caller measures every cell
    # only when this says some cell may be too long.
    longest_unmeasured: int = 0

    def grid(self, ncol: int) -> Iterator[list[Any]]:
        """Rows 1..max_row, columns 1..ncol, None where no cell; each row dict is dropped once built."""
        rows = self.rows
        cols = range(1, ncol + 1)
        for r in range(1, self.max_row + 1):
            row = rows.pop(r, None)
            yield list(map(row.get, cols)) if row else [None] * ncol


@dataclass
class Book:
    sheets: list[str]
    epoch_1904: bool
    shared: list[str]
    styles: Styles
    _parts: list[tuple[str, str]]  # (title, part name)
    _members: dict[str, bytes]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._parts)


def _rels(members: dict[str, bytes], part: str) -> dict[str, tuple[str, str, str]]:
    """Relationships of ``part``: id → (type, target resolved in the package, target mode)."""
    folder, name = posixpath.split(part)
    data = members.get(posixpath.join(folder, "_rels", name + ".rels"))
    if data is None:
        return {}
    out = {}
    for rel in _tree(data):
        if rel.tag != f"{{{PKG_REL}}}Relationship":
            continue
        target, mode = rel.get("Target") or "", rel.get("TargetMode") or ""
        if mode != "External":
            target = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        out[rel.get("Id")] = (rel.get("Type") or "", target, mode)
    return out


def _unique_title(taken: list[str], value: str) -> str:
    """openpyxl's ``avoid_duplicate_name``: a second "Sheet" becomes "Sheet1", case-insensitively."""
    if not value:
        raise StreamError("empty sheet title")
    if _INVALID_TITLE.search(value):
        raise StreamError("invalid character in sheet title")
    if any(n.lower() == value.lower() for n in taken):
        pattern = re.compile(f"(?P<title>{re.escape(value)})(?P<count>\\d*),?", re.I)
        counts = [int(i) for _, i in pattern.findall(",".join(taken)) if i.isdigit()]
        value = f"{value}{max(counts, default=0) + 1}"
    return value


def open_book(members: dict[str, bytes]) -> Book:
    """The workbook-level parts: sheet list, date system, shared strings, styles."""
    ct = members.get("[Content_Types].xml")
    if ct is None:
        raise StreamError("no [Content_Types].xml", "KeyError")
    overrides: dict[str, str] = {}
    defaults: set[str] = set()
    for el in _tree(ct):
        if el.tag == f"{{{CONTENT_TYPES}}}Override":
            overrides.setdefault(el.get("ContentType") or "", (el.get("PartName") or "")[1:])
        elif el.tag == f"{{{CONTENT_TYPES}}}Default":
            defaults.add(el.get("ContentType") or "")
    wb_part = next((overrides[t] for t in _WORKBOOK_TYPES if t in overrides), None)
    if wb_part is None:
        if not defaults & set(_WORKBOOK_TYPES):
            raise StreamError("no workbook part", "OSError")
        wb_part = "xl/workbook.xml"
    if wb_part not in members:
        raise StreamError("workbook part missing", "KeyError")
    root = _tree(members[wb_part])
    if root.tag.startswith(f"{{{STRICT}}}"):
        raise StreamUnsupported("strict OOXML")
    epoch_1904 = False
    listed: list[tuple[str, str | None]] = []
    for part in root:
        if part.tag == f"{{{MAIN}}}workbookPr":
            flag = part.get("date1904")
            epoch_1904 = bool(flag) and flag not in ("false", "f", "0")
        elif part.tag == f"{{{MAIN}}}sheets":
            listed = [(s.get("name") or "", s.get(_R_ID)) for s in part if s.tag == f"{{{MAIN}}}sheet"]
    rels = _rels(members, wb_part) if any(rid for _, rid in listed) else {}
    titles: list[str] = []
    parts: list[tuple[str, str]] = []
    for name, rid in listed:
        if not rid:
            continue  # openpyxl drops sheet entries without a relationship id
        if rid not in rels:
            raise StreamError(f"sheet relationship {rid} missing", "KeyError")
        kind, target, _ = rels[rid]
        if target not in members:
            continue
        if "chartsheet" in kind:
            titles.append(_unique_title(titles, name))  # a chart sheet takes its name but holds no cells
            continue
        title = _unique_title(titles, name)
        titles.append(title)
        parts.append((title, target))
    shared: list[str] = []
    sst = overrides.get(_SHARED_STRINGS)
    if sst is not None:
        if sst not in members:
            raise StreamError("shared strings part missing", "KeyError")
        for si in _iter(members[sst], (f"{{{MAIN}}}si",)):
            shared.append(text_content(si).replace("x005F_", ""))
            si.clear()
    styles = Styles.read(members.get("xl/styles.xml"))
    return Book(sheets=[t for t, _ in parts], epoch_1904=epoch_1904, shared=shared, styles=styles,
                _parts=parts, _members=members)


def read_sheet(book: Book, title: str, part: str, *, max_columns: int, max_chars: int | None = None) -> Sheet:
    """Stream one worksheet part; cells right of ``max_columns`` count for the extent only.

    An inline string (any cell, kept or not) longer than ``max_chars`` raises :class:`TextTooLong`.
    """
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, WINDOWS_EPOCH, from_excel, from_ISO8601

    epoch = CALENDAR_MAC_1904 if book.epoch_1904 else WINDOWS_EPOCH
    styles, shared = book.styles, book.shared
    nstyles = len(styles.formats)
    dates, durations = styles.dates, styles.durations
    sheet = Sheet(title=title)
    rows, formulas, formats = sheet.rows, sheet.formulas, sheet.formats
    translators: dict[str | None, Any] = {}
    col_cache: dict[str, int] = {}
    max_row = max_col = 0
    any_cell = False
    row_counter = 0
    merges: list[tuple[int, int, int, int]] = []
    links: list[tuple[str, str | None, str | None]] = []
    longest = 0  # see Sheet.longest_unmeasured
    style_cache: dict[str, int] = {}  # the "s" attribute as written → its checked style index
    for el in _iter(book._members[part], (_ROW, _MERGE, _LINK)):
        tag = el.tag
        if tag == _MERGE:
            merges.append(range_bounds(el.get("ref") or ""))
            continue
        if tag == _LINK:
            links.append((el.get("ref") or "", el.get(_R_ID), el.get("location")))
            continue
        r_attr = el.get("r")
        if r_attr is not None:
            try:
                row_counter = int(r_attr)
            except ValueError:
                f = float(r_attr)
                if not f.is_integer():
                    raise StreamError(f"row number {r_attr!r}") from None
                row_counter = int(f)
        else:
            row_counter += 1
        col_counter = 0
        # A cell's reference is nearly always its column's letters then the row's own "r": those
        # digits are then this row's number, and the letters a column already seen.
        suffix = r_attr if r_attr is not None and r_attr.isascii() and r_attr.isdigit() else None
        cut = -len(suffix) if suffix else 0
        # Per cell, the fewest lxml calls that say the same: attributes read once each, the
        # children looked at once (a value cell has one or two), the usual <is><t>…</t></is> read directly.
        for c in el:
            if c.tag != _C:
                # openpyxl parses every child of <row> as a cell; only <c> exists in valid files.
                raise StreamUnsupported(f"row child {c.tag}")
            ref = c.get("r")
            s = c.get("s")
            if s:
                style = style_cache.get(s)
                if style is None:
                    style = int(s)
                    if style >= nstyles or style < -nstyles:
                        raise StreamError(f"style {style} missing", "IndexError")
                    if style < 0:
                        style += nstyles  # openpyxl indexes its style list with it, negative or not
                    style_cache[s] = style
            else:
                style = 0
            if ref:
                if suffix and ref.endswith(suffix) and (col := col_cache.get(ref[:cut])) is not None:
                    r = row_counter  # (int(suffix): the reference's digits are exactly the row's)
                    col_counter = col
                else:
                    r, col = _cell_at(ref, col_cache)
                    col_counter = col
            else:
                col_counter += 1
                r, col = row_counter, col_counter
            any_cell = True
            if r > max_row:
                max_row = r
            if col > max_col:
                max_col = col
            n_children = len(c)
            if not n_children:  # no value: an empty (often styled) cell counts for the extent only
                if col <= max_columns and (cells := rows.get(r)) is not None and col in cells:
                    cells[col] = None  # ... unless it repeats a cell, and the last one wins
                    formulas.discard((r, col))
                    formats.pop((r, col), None)
                continue
            t = c.get("t", "n")
            if n_children == 1:
                child = c[0]
                ctag = child.tag
                if ctag == _IS and t == "inlineStr":
                    # The usual text cell, <is><t>…</t></is>, read straight through (text_content's first case).
                    value = (first.text or "") if len(child) == 1 and (first := child[0]).tag == _T else text_content(child)
                    if max_chars is None:
                        longest = max(longest, len(value))
                    elif len(value) > max_chars:
                        raise TextTooLong(title, ref or f"{column_letters(col)}{r}", len(value))
                    # The cell is stored as at the end of the loop, repeated here rather than called:
                    # this is the path of most cells, and a call per cell was a tenth of the read.
                    if col <= max_columns:
                        cells = rows.get(r)
                        if cells is None:
                            cells = rows[r] = {}
                        elif col in cells:  # the same cell twice: the last one wins, as in openpyxl
                            formulas.discard((r, col))
                            formats.pop((r, col), None)
                        cells[col] = value
                    continue
                f = child if ctag == _F else None
                v_node = child if ctag == _V else None
                is_node = child if ctag == _IS else None
            else:
                f = v_node = is_node = None
                for child in c:
                    ctag = child.tag
                    if ctag == _V:
                        if v_node is None:
                            v_node = child
                    elif ctag == _F:
                        if f is None:
                            f = child
                    elif ctag == _IS and is_node is None:
                        is_node = child
            is_formula = False
            if f is not None:
                is_formula = True
                value: Any = "=" + (f.text or "")
                kind = f.get("t")
                if kind == "shared":
                    si = f.get("si")
                    if si in translators:
                        value = translators[si].translate_formula(ref)
                    elif value != "=":
                        from openpyxl.formula.translate import Translator

                        translators[si] = Translator(value, ref)
                elif kind == "dataTable":
                    value = "="  # openpyxl returns an object without text; no formula text to keep
                longest = max(longest, len(value))
            elif t == "inlineStr":
                if is_node is None:
                    value = None
                elif len(is_node) == 1 and (first := is_node[0]).tag == _T:  # text_content's usual case
                    value = first.text or ""
                else:
                    value = text_content(is_node)
                if value is not None:
                    if max_chars is None:
                        longest = max(longest, len(value))
                    elif len(value) > max_chars:
                        raise TextTooLong(title, ref or f"{column_letters(col)}{r}", len(value))
            else:
                value = (v_node.text if v_node is not None else None) or None
                if value is not None:
                    if t == "n":
                        value = _cast_number(value)
                        if style in dates:
                            try:
                                value = from_excel(value, epoch, timedelta=style in durations)
                            except (OverflowError, ValueError):
                                value = "#VALUE!"
                    elif t == "s":
                        value = shared[int(value)]
                    elif t == "b":
                        value = bool(int(value))
                    elif t == "d":
                        value = from_ISO8601(value)
                    if isinstance(value, str):
                        longest = max(longest, len(value))
            if col > max_columns:
                continue
            cells = rows.get(r)
            if cells is None:
                cells = rows[r] = {}
            elif col in cells:  # the same cell twice: the last one wins, as in openpyxl
                formulas.discard((r, col))
                formats.pop((r, col), None)
            cells[col] = value
            if is_formula:
                formulas.add((r, col))
            elif value.__class__ in (int, float):
                fmt = styles.formats[style]
                if fmt != "General":
                    formats[(r, col)] = fmt
        el.clear()
    if links:
        rels = _rels(book._members, part)
    # openpyxl keeps merged ranges in a set of CellRange hashed by their bounds; the same set, built in
    # the same order, lists them in the same order (problems are reported in that order).
    sheet.merged = [range_text(*k.bounds) for k in set(_Bounds(b) for b in merges)]
    for c1, r1, c2, r2 in merges:
        max_row, max_col = max(max_row, r2), max(max_col, c2)
        any_cell = True
        # Every cell of the range but its top-left is empty in openpyxl (a MergedCell).
        for r in range(r1, r2 + 1) if r2 - r1 < len(rows) else sorted(k for k in rows if r1 <= k <= r2):
            cells = rows.get(r)
            if not cells:
                continue
            for col in [k for k in cells if c1 <= k <= c2 and (r, k) != (r1, c1)]:
                cells[col] = None
                formulas.discard((r, col))
                formats.pop((r, col), None)
    for ref, rid, location in links:
        if rid and rid not in rels:
            raise StreamError(f"hyperlink relationship {rid} missing", "KeyError")
        c1, r1, c2, r2 = range_bounds(ref)
        max_row, max_col, any_cell = max(max_row, r2), max(max_col, c2), True
        # openpyxl gives an empty linked cell the link's target (or location) as its value.
        text = (rels[rid][1] if rid else None) or location
        if not text:
            continue
        if ":" not in ref:
            top = next(((a, b) for a, b, _, _ in merges_at(merges, r1, c1)), None)
            targets = [top or (c1, r1)]
        else:
            if (min(c2, max_columns) - c1 + 1) * (r2 - r1 + 1) > _MAX_LINK_CELLS:
                raise StreamError(f"hyperlink range {ref!r} too large")
            targets = [(c, r) for r in range(r1, r2 + 1) for c in range(c1, min(c2, max_columns) + 1)
                       if not any((c, r) != (a, b) for a, b, _, _ in merges_at(merges, r, c))]
        for c, r in targets:
            if c > max_columns:
                continue
            cells = rows.setdefault(r, {})
            if cells.get(c) is None:
                cells[c] = _bound_text(text)
                longest = max(longest, len(cells[c]))
                if len(text) > 1 and text.startswith("="):
                    formulas.add((r, c))
    for kind, target, mode in (_rels(book._members, part).values() if part else ()):
        if kind != COMMENTS_REL or mode == "External":
            continue
        if target not in book._members:
            raise StreamError(f"comments part {target} missing", "KeyError")
        for com in _iter(book._members[target], (f"{{{MAIN}}}comment",)):
            _, _, col, r = range_bounds(com.get("ref") or "")
            max_row, max_col, any_cell = max(max_row, r), max(max_col, col), True
            com.clear()
    if any_cell:
        sheet.max_row, sheet.max_col = max(max_row, 1), max(max_col, 1)
    sheet.longest_unmeasured = longest
    return sheet
