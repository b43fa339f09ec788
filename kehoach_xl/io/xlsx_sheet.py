"""Splice cell changes into a worksheet part's XML without parsing it whole.

The sheet XML is handled as bytes: ``<row>`` elements inside ``<sheetData>`` are
located with a regex, and only the rows that change are rebuilt; inside such a
row only the changed ``<c>`` elements are replaced. Every other byte of the part
(other rows, conditional formats, data validations, extLst, …) is kept as is,
apart from ``<dimension>`` when the used range grows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from kehoach_xl.io.xlsx_cells import CellText, cell_bytes, cell_xml, is_date_value
from kehoach_xl.io.xlsx_footer import set_footers, tail_start
from kehoach_xl.io.xlsx_ranges import grow_rule, map_ranges
from kehoach_xl.io.xlsx_styles import Styles
from kehoach_xl.model.address import col_letters, col_number
from kehoach_xl.model.changes import CellValue
from kehoach_xl.model.changes import by_row as cells_by_row

_REF = re.compile(rb"([A-Z]{1,3})(\d+)")
_ATTR_R = re.compile(rb'\sr="([^"]*)"')
_ATTR_S = re.compile(rb'\ss="(\d+)"')
_ATTR_SPANS = re.compile(rb'\sspans="(\d+):(\d+)"')
_ATTR_KEEP = re.compile(rb'\s(?:s|ph)="[^"]*"')
_ROW_TEMPLATE_ATTRS = re.compile(rb'\s(?:ht|customHeight|s|customFormat|outlineLevel)="[^"]*"')


class SheetPatchError(ValueError):
    """The sheet part cannot be patched safely (message in Vietnamese)."""


@dataclass
class SheetEdit:
    """What to do to one worksheet part."""

    cells: dict[tuple[int, int], CellValue] = field(default_factory=dict)
    appends: list[list[CellValue]] = field(default_factory=list)
    clear_from: int | None = None
    # (first_col, header_row, last_row) of an Excel Table on the sheet, if any.
    table: tuple[int, int, int] | None = None
    append_heights: list[float | None] = field(default_factory=list)
    row_heights: dict[int, float] = field(default_factory=dict)  # rows the edit writes, given a custom height
    # <headerFooter> element → its new right part, where the program wrote the old one (io/xlsx_footer).
    footers: dict[str, str] = field(default_factory=dict)


@dataclass
class SheetResult:
    # The new part is their concatenation. Made as they are read (and again on each reading), so a
    # 100 MB sheet is deflated piece by piece; ``removed_formulas`` is known once they have been read.
    chunks: Iterable[bytes | memoryview]
    cells_written: int = 0
    rows_appended: int = 0
    append_rows: tuple[int, int] | None = None  # first and last appended row
    last_col: int = 0  # right-most column written
    removed_formulas: list[str] = field(default_factory=list)
    footers_written: list[str] = field(default_factory=list)  # header/footer elements rewritten

    @property
    def xml(self) -> bytes:
        return b"".join(self.chunks)


@dataclass(slots=True)  # one per row of a sheet edited in place: 150,000 for the parts sheet at 50,000 tasks
class Row:
    """Where one ``<row>`` of a part's XML lies: its number and byte offsets."""

    num: int
    start: int
    end: int
    tag_end: int  # offset just past the start tag


class Tags:
    """Byte patterns for one namespace prefix (usually none, sometimes "x:")."""

    def __init__(self, prefix: bytes) -> None:
        p = re.escape(prefix)
        self.prefix = prefix
        self.row_open = re.compile(rb"<" + p + rb"row\b[^>]*>")
        self.row_close = b"</" + prefix + b"row>"
        self.cell = re.compile(rb"<" + p + rb"c\b[^>]*?(?:/>|>.*?</" + p + rb"c>)", re.S)
        self.cell_open = b"<" + prefix + b"c "
        self.cell_close = b"</" + prefix + b"c>"
        self.value_marks = (b"<" + prefix + b"v>", b"<" + prefix + b"is>", b"<" + prefix + b"f")
        self.formula = b"<" + prefix + b"f"
        self.shared_master = re.compile(rb"<" + p + rb'f\b[^>]*\bt="shared"[^>]*\bref="[^"]*"[^>]*>')
        self.si = re.compile(rb'\bsi="(\d+)"')


def check_prolog(xml: bytes) -> None:
    """Refuse a part declaring a DOCTYPE or an entity, or not in UTF-8, before anything is patched."""
    root = re.search(rb"<(?![?!])", xml)
    head = xml[: root.start() if root else len(xml)]
    if b"<!DOCTYPE" in head.upper() or b"<!ENTITY" in xml[:4096].upper():
        raise SheetPatchError("phần bảng tính có khai báo DOCTYPE/ENTITY: từ chối xử lý")
    decl = re.match(rb'<\?xml[^>]*encoding="([^"]+)"', xml)
    if decl and decl.group(1).lower() not in (b"utf-8", b"utf8"):
        raise SheetPatchError("phần bảng tính không mã hóa UTF-8: không hỗ trợ")


class RowEditor:
    """Sets cells inside one row's XML (values only, the cell's style kept) and notes the formulas it removes."""

    def __init__(self, tags: Tags, styles: Styles, date1904: bool) -> None:
        self.t = tags
        self.styles = styles
        self.date1904 = date1904
        self.removed_formulas: list[str] = []
        self.removed_shared: set[bytes] = set()
        self._needles: dict[int, bytes] = {}
        self._date_styles: dict[tuple[bytes | None, bool], bytes | None] = {}
        self.text = CellText(self.date_style, date1904)

    def fast_row(
        self, xml: bytes, row: Row, num: int, changes: dict[int, CellValue]
    ) -> list[tuple[int, int, bytes]] | None:
        """Replacements (start, end, new bytes) when every target cell exists as a
        plain value cell whose start tag begins with its r attribute; else None."""
        t = self.t
        tail = b'%d"' % num
        found: list[tuple[int, int, bytes]] = []
        needles = self._needles
        close = t.cell_close
        formula = t.formula
        start, stop = row.tag_end, row.end
        text = None if t.prefix else self.text
        n = str(num)
        # Cells sit in column order: the next column is searched for after the last one found.
        last_col, last_end = 0, start
        for col, value in changes.items():
            needle = needles.get(col)
            if needle is None:
                needle = needles[col] = t.cell_open + b'r="' + col_letters(col).encode()
            i = xml.find(needle + tail, last_end if col > last_col else start, stop)
            if i < 0 and col > last_col:
                i = xml.find(needle + tail, start, stop)  # a row whose cells are out of order
            if i < 0:
                return None
            j = xml.index(b">", i)
            if xml[j - 1] == 0x2F:
                end = j + 1
            else:
                end = xml.index(close, j) + len(close)
                if xml.find(formula, j, end) >= 0:
                    return None  # formulas go the careful way (shared masters, calc chain)
            if xml.find(b" ph=", i, j) >= 0:
                return None
            k = xml.find(b' s="', i, j)
            style = xml[k + 4 : xml.index(b'"', k + 4, j)] if k >= 0 else None
            last_col, last_end = col, end
            if text is not None and (style is None or style.isdigit()):  # (a style index is digits)
                found.append((i, end, text.cell(col, style, n, value).encode()))
                continue
            if is_date_value(value):
                style = self._style_for(value, style)
            ref = needle[len(t.cell_open) + 3 :] + tail[:-1]
            found.append((i, end, cell_bytes(ref, value, style, t.prefix, self.date1904)))
        found.sort()
        return found or None

    def _style_for(self, value: CellValue, style: bytes | None) -> bytes | None:
        if is_date_value(value):
            return self.date_style(style, isinstance(value, dt.datetime))
        return style

    def date_style(self, style: bytes | None, with_time: bool) -> bytes | None:
        """The s attribute for a date (``with_time``: a datetime) written over style ``style``."""
        key = (style, with_time)
        if key not in self._date_styles:
            cur = int(style) if style is not None else None
            s = self.styles.date_style(cur, with_time)
            self._date_styles[key] = str(s).encode() if s is not None else style
        return self._date_styles[key]

    def _replace(self, old: bytes, ref: str, value: CellValue, col: int = 0, n: str = "") -> bytes:
        """``old`` (a whole <c>) holding ``value``; ``col`` and ``n`` (its column and row, when the
        caller knows them) let a plain cell go through the tuned writer."""
        head = old.split(b">", 1)[0]
        m = _ATTR_S.search(head)
        style = m.group(1) if m else None
        # only ph="…" is carried over from the old cell's attributes
        keep = b"".join(a for a in _ATTR_KEEP.findall(head) if not a.lstrip().startswith(b"s=")) if b"ph=" in head \
            else b""
        formula = self.t.formula in old
        if col and not keep and not formula and not self.t.prefix:
            return self.text.cell(col, style, n, value).encode()
        if formula:
            self.removed_formulas.append(ref)
            master = self.t.shared_master.search(old)
            if master:
                si = self.t.si.search(master.group(0))
                if si:
                    self.removed_shared.add(si.group(1))
        return cell_xml(ref, value, self._style_for(value, style), self.t.prefix, self.date1904, keep)

    def _new(self, ref: str, value: CellValue, style: int | None) -> bytes:
        s = str(style).encode() if style is not None else None
        s = self._style_for(value, s)
        if not self.t.prefix:  # appended rows are most of a night's cells: the tuned writer
            return cell_bytes(ref.encode("ascii"), value, s, b"", self.date1904)
        return cell_xml(ref, value, s, self.t.prefix, self.date1904)

    def clear(self, body: bytes, row: int) -> bytes:
        v, inline, f = self.t.value_marks

        def strip(m: re.Match[bytes]) -> bytes:
            cell = m.group(0)
            if v not in cell and inline not in cell and f not in cell:
                return cell
            ref = _ATTR_R.search(cell.split(b">", 1)[0])
            return self._replace(cell, ref.group(1).decode() if ref else "", None) if ref else cell

        return self.t.cell.sub(strip, body)

    def edit(
        self, row_xml: bytes, num: int, changes: dict[int, CellValue], clear: bool,
        new_style: Callable[[int], int | None],
    ) -> bytes:
        t = self.t
        if row_xml.endswith(b"/>"):
            start_tag, body, end_tag = row_xml[:-2] + b">", b"", t.row_close
        else:
            tag_end = row_xml.index(b">") + 1
            start_tag, body, end_tag = row_xml[:tag_end], row_xml[tag_end : -len(t.row_close)], t.row_close
        if clear:
            body = self.clear(body, num)
        if changes and not body and not t.prefix:
            # A new row (appended log, history and part rows are most of a night's cells): its
            # cells in column order, through the tuned writer, no search of an empty body.
            return start_tag + self._new_cells(num, changes, new_style) + end_tag
        if changes:
            body = self._edit_body(body, num, changes, new_style)
            start_tag = self._fix_spans(start_tag, changes)
        return start_tag + body + end_tag

    def _new_cells(self, num: int, changes: dict[int, CellValue], new_style: Callable[[int], int | None]) -> bytes:
        n = str(num)
        cell = self.text.cell
        out = []
        for col in sorted(changes):
            st = new_style(col)
            out.append(cell(col, str(st).encode() if st is not None else None, n, changes[col]))
        return "".join(out).encode()

    def _fix_spans(self, start_tag: bytes, changes: dict[int, CellValue]) -> bytes:
        m = _ATTR_SPANS.search(start_tag)
        if not m:
            return start_tag
        lo, hi = int(m.group(1)), int(m.group(2))
        nlo, nhi = min(lo, *changes), max(hi, *changes)
        if (nlo, nhi) == (lo, hi):
            return start_tag
        return start_tag[: m.start()] + b' spans="%d:%d"' % (nlo, nhi) + start_tag[m.end() :]

    def _edit_body(
        self, body: bytes, num: int, changes: dict[int, CellValue], new_style: Callable[[int], int | None]
    ) -> bytes:
        # Fast path: every target cell exists and starts with its r attribute.
        t = self.t
        spans: list[tuple[int, int, int, CellValue]] = []
        tail = b'%d"' % num
        needles = self._needles
        for col, value in changes.items():
            needle = needles.get(col)
            if needle is None:
                needle = needles[col] = t.cell_open + b'r="' + col_letters(col).encode()
            i = body.find(needle + tail)
            if i < 0:
                return self._edit_body_slow(body, num, changes, new_style)
            j = body.index(b">", i)
            end = j + 1 if body[j - 1] == 0x2F else body.index(t.cell_close, j) + len(t.cell_close)
            spans.append((i, end, col, value))
        spans.sort()
        out: list[bytes] = []
        pos = 0
        n = str(num)
        for i, end, col, value in spans:
            out.append(body[pos:i])
            out.append(self._replace(body[i:end], f"{col_letters(col)}{num}", value, col, n))
            pos = end
        out.append(body[pos:])
        return b"".join(out)

    def _edit_body_slow(
        self, body: bytes, num: int, changes: dict[int, CellValue], new_style: Callable[[int], int | None]
    ) -> bytes:
        pending = sorted(changes.items())
        out: list[bytes] = []
        pos = 0
        col = 0
        k = 0
        for m in self.t.cell.finditer(body):
            head = m.group(0).split(b">", 1)[0]
            r = _ATTR_R.search(head)
            rm = _REF.fullmatch(r.group(1)) if r else None
            col = col_number(rm.group(1).decode()) if rm else col + 1
            while k < len(pending) and pending[k][0] < col:
                c, v = pending[k]
                out.append(body[pos : m.start()])
                pos = m.start()
                out.append(self._new(f"{col_letters(c)}{num}", v, new_style(c)))
                k += 1
            if k < len(pending) and pending[k][0] == col:
                out.append(body[pos : m.start()])
                ref = f"{col_letters(col)}{num}"
                out.append(self._replace(m.group(0), ref, pending[k][1]))
                pos = m.end()
                k += 1
        out.append(body[pos:])
        for c, v in pending[k:]:
            out.append(self._new(f"{col_letters(c)}{num}", v, new_style(c)))
        return b"".join(out)


def index_rows(xml: bytes, start: int, end: int, t: Tags, prev: int = 0) -> list[Row]:
    """The ``<row>`` elements between ``start`` and ``end``, numbers rising from ``prev`` (a row
    without ``r`` is the one after the row before it); a part patched in windows passes the last
    row of the windows before."""
    rows: list[Row] = []
    for m in t.row_open.finditer(xml, start, end):
        tag = m.group(0)
        r = _ATTR_R.search(tag)
        num = int(r.group(1)) if r else prev + 1
        if num <= prev:
            raise SheetPatchError("các dòng trong bảng tính không theo thứ tự tăng dần")
        if tag.endswith(b"/>"):
            row_end = m.end()
        else:
            row_end = xml.index(t.row_close, m.end()) + len(t.row_close)
        rows.append(Row(num, m.start(), row_end, m.end()))
        prev = num
    return rows


def _tail_rows(
    xml: bytes, start: int, end: int, t: Tags, table: tuple[int, int, int] | None
) -> list[Row] | None:
    """The last rows of sheetData, enough to place appended rows: back to the last row holding
    values (with a Table: the last one inside it holding values, or its header), found from the end
    instead of indexing every row of a 50,000-row log. None when a row there has no ``r`` (its
    number depends on the rows before it): then the whole sheet is indexed."""
    opener = b"<" + t.prefix + b"row"
    found: list[Row] = []
    pos = end
    while True:
        i = xml.rfind(opener, start, pos)
        if i < 0:
            break
        pos = i
        m = t.row_open.match(xml, i)
        if m is None:  # "<rowBreaks" and the like: not a row
            continue
        tag = m.group(0)
        r = _ATTR_R.search(tag)
        if r is None:
            return None
        num = int(r.group(1))
        if table is not None and num <= table[1]:
            break
        row_end = m.end() if tag.endswith(b"/>") else xml.index(t.row_close, m.end()) + len(t.row_close)
        row = Row(num, i, row_end, m.end())
        found.append(row)
        if (table is None or num <= table[2]) and _has_values(xml, row, t):
            break
    found.reverse()
    for a, b in zip(found, found[1:], strict=False):
        if b.num <= a.num:
            raise SheetPatchError("các dòng trong bảng tính không theo thứ tự tăng dần")
    return found


def _template(xml: bytes, row: Row | None, t: Tags) -> tuple[dict[int, int], bytes]:
    """Per-column styles and height/format attributes of the row new rows copy."""
    if row is None:
        return {}, b""
    styles: dict[int, int] = {}
    col = 0
    for m in t.cell.finditer(xml, row.tag_end, row.end):
        head = m.group(0).split(b">", 1)[0]
        r = _ATTR_R.search(head)
        rm = _REF.fullmatch(r.group(1)) if r else None
        col = col_number(rm.group(1).decode()) if rm else col + 1
        s = _ATTR_S.search(head)
        if s:
            styles[col] = int(s.group(1))
    attrs = b"".join(_ROW_TEMPLATE_ATTRS.findall(xml[row.start : row.tag_end]))
    return styles, attrs


def check_addresses(by_row: Mapping[int, Mapping[int, CellValue]]) -> None:
    """Refuse a row or column number below 1 before a byte is written."""
    for r, cells in by_row.items():
        c = min(cells, default=1)
        if r < 1 or c < 1:
            raise SheetPatchError(f"địa chỉ ô không hợp lệ: dòng {r}, cột {c}")


def update_dimension(xml: bytes, max_row: int, max_col: int, prefix: bytes) -> bytes:
    """``<dimension ref>`` grown to cover ``max_row`` × ``max_col`` (it sits before the rows)."""
    m = re.search(rb"<" + re.escape(prefix) + rb'dimension\b[^>]*\bref="([^"]*)"', xml)
    if not m or max_row == 0:
        return xml
    ref = m.group(1)
    parts = ref.split(b":")
    first = _REF.fullmatch(parts[0])
    last = _REF.fullmatch(parts[-1])
    if not first or not last:
        return xml
    r0, c0 = int(first.group(2)), col_number(first.group(1).decode())
    r1, c1 = int(last.group(2)), col_number(last.group(1).decode())
    nr1, nc1 = max(r1, max_row), max(c1, max_col)
    if (nr1, nc1) == (r1, c1):
        return xml
    new = f"{col_letters(c0)}{r0}:{col_letters(nc1)}{nr1}".encode()
    return xml[: m.start(1)] + new + xml[m.end(1) :]


def patch_sheet(xml: bytes, edit: SheetEdit, styles: Styles, date1904: bool = False) -> SheetResult:
    check_prolog(xml)
    if edit.footers and not (edit.cells or edit.appends or edit.clear_from is not None or edit.row_heights):
        # Only the footer (a refresh on a day that changes no cell): the rows are not even looked at.
        cut = tail_start(xml)
        tail, written = set_footers(xml[cut:], edit.footers)
        return SheetResult([memoryview(xml)[:cut], tail], footers_written=written)
    sd = re.search(rb"<(\w+:)?sheetData\b[^>]*?(/?)>", xml)
    if sd is None:
        raise SheetPatchError("không tìm thấy <sheetData> trong phần bảng tính")
    tags = Tags(sd.group(1) or b"")
    if sd.group(2):  # <sheetData/>: open it so rows can be added
        open_tag = sd.group(0)[:-2] + b">"
        xml = xml[: sd.start()] + open_tag + b"</" + tags.prefix + b"sheetData>" + xml[sd.end() :]
        body_start = sd.start() + len(open_tag)
    else:
        body_start = sd.end()
    body_end = xml.index(b"</" + tags.prefix + b"sheetData>", body_start)
    append_only = bool(edit.appends) and not edit.cells and edit.clear_from is None
    # Only appends (the log, the history): the rows that matter are at the end, found from there.
    rows = (_tail_rows(xml, body_start, body_end, tags, edit.table) if append_only else None)
    if rows is None:
        rows = index_rows(xml, body_start, body_end, tags)
    by_num = {r.num: r for r in rows} if edit.appends else {}  # only appending looks rows up by number

    edited = cells_by_row(edit.cells)
    # A copy, row by row: the appended rows' cells join it below, and the change set stays as given.
    by_row: dict[int, dict[int, CellValue]] = {r: dict(cs) for r, cs in edited.items()}
    result = SheetResult([xml])
    template_styles: dict[int, int] = {}
    template_attrs = b""
    append_rows: set[int] = set()
    heights: dict[int, float] = {}
    first_row = first_col = 0
    bulk_from = bulk_to = 0  # appended rows [bulk_from, bulk_to) written straight from their values
    if edit.appends:
        first_row = _first_append_row(xml, rows, tags, edit.table, len(edit.appends))
        first_col = edit.table[0] if edit.table else 1
        template_row = by_num.get(first_row - 1)
        if edit.table and first_row - 1 == edit.table[1]:
            # Never copy the header's look; an empty styled row inside the Table (a new
            # master's placeholder row) shows how data rows should look.
            template_row = by_num.get(first_row)
        template_styles, template_attrs = _template(xml, template_row, tags)
        heights = {first_row + i: h for i, h in enumerate(edit.append_heights) if h}
        if first_row in by_num and first_row in heights:
            xml, rows, by_num, body_end = _set_row_height(xml, by_num[first_row], heights[first_row], tags,
                                                          rows[0].start)
        bulk_to = first_row + len(edit.appends)
        # Rows past the last existing row and past every other edited cell need no search of the
        # sheet: they go, in order, just before </sheetData>. Rows before (the Table's placeholder
        # rows, rows that also get single cells) take the general way below.
        bulk_from = bulk_to if tags.prefix else max(first_row, rows[-1].num + 1 if rows else 0,
                                                    max(edited, default=0) + 1)
        for i, values in enumerate(edit.appends):
            rnum = first_row + i
            if rnum >= bulk_from:
                break
            append_rows.add(rnum)
            row_cells = by_row.setdefault(rnum, {})
            for j, v in enumerate(values):
                row_cells.setdefault(first_col + j, v)
        result.rows_appended = len(edit.appends)
        result.append_rows = (first_row, first_row + len(edit.appends) - 1)

    check_addresses(by_row)
    clear_from = edit.clear_from
    touched = set(by_row)
    if clear_from is not None:
        touched.update(r.num for r in rows if r.num >= clear_from)

    # What the write will hold is known before a byte is made: the cells written, the extent for
    # <dimension> (which sits before <sheetData>) and the end after </sheetData> (ranges, footer).
    max_row = max_col = written = 0
    for num, changes in by_row.items():
        written += len(changes)
        if changes:
            max_row = max(max_row, num)
            max_col = max(max_col, max(changes))
    if bulk_from < bulk_to:
        b_written, last_row, last_col = _bulk_extent(edit, first_row, first_col, bulk_from)
        written += b_written
        max_row, max_col = max(max_row, last_row), max(max_col, last_col)
    result.cells_written = written
    tail: bytes | None = None
    sd_end = body_end
    if result.append_rows or edit.footers:
        # Ranges staff laid over the data (sheet-level autofilter, conditional formats, validations)
        # and the print footer all sit after </sheetData>: only those last bytes are edited.
        sd_end = xml.rindex(b"</" + tags.prefix + b"sheetData>", body_start)
        tail = xml[sd_end:]
        if result.append_rows:  # grow the ranges that ended at the last data row
            header = edit.table[1] if edit.table else 1
            tail = map_ranges(tail, grow_rule(result.append_rows[0] - 1, result.append_rows[1], header))
        if edit.footers:
            tail, result.footers_written = set_footers(tail, edit.footers)
    head = update_dimension(xml[:body_start], max_row, max_col, tags.prefix)
    result.last_col = max_col

    def emit(editor: RowEditor) -> Iterator[bytes | memoryview]:
        """The new part, piece by piece, as the caller deflates it: an edited 100 MB sheet was a list
        of a million slices and cells (~150 MiB at 50,000 tasks) before the first byte was compressed."""
        view = memoryview(xml)  # unchanged stretches are slices: no copy of a 100 MB part
        yield head
        pos = body_start
        ri = 0
        row_heights = edit.row_heights
        n_rows = len(rows)
        fast_row = editor.fast_row

        def style_for(num: int) -> Callable[[int], int | None]:
            """The style of a new cell in row ``num``: the template row's when the row is appended."""
            def new_style(col: int) -> int | None:
                return template_styles.get(col) if num in append_rows else None
            return new_style

        for num in sorted(touched):
            while ri < n_rows and rows[ri].num < num:
                ri += 1
            changes = by_row.get(num, {})
            clear = clear_from is not None and num >= clear_from
            if ri < n_rows and rows[ri].num == num:
                row = rows[ri]
                fast = None if clear or num in row_heights else fast_row(xml, row, num, changes)
                if fast is not None:
                    p = pos
                    for i, end, new_cell in fast:
                        yield view[p:i]
                        yield new_cell
                        p = end
                    pos = p
                else:
                    yield view[pos : row.start]
                    edited = editor.edit(xml[row.start : row.end], num, changes, clear, style_for(num))
                    if num in row_heights:
                        edited = _with_height(edited, row_heights[num])
                    yield edited
                    pos = row.end
            else:
                insert_at = rows[ri].start if ri < n_rows else body_end
                yield view[pos:insert_at]
                pos = insert_at
                attrs = template_attrs if num in append_rows else b""
                if num in heights:
                    attrs = _ROW_HEIGHT_ATTRS.sub(b"", attrs) + b' ht="%s" customHeight="1"' % _fmt_height(heights[num])
                elif num in row_heights:
                    attrs = _HIDDEN_ATTR.sub(b"", _ROW_HEIGHT_ATTRS.sub(b"", attrs)) + _height_attrs(row_heights[num])
                row_xml = b"<" + tags.prefix + b'row r="%d"' % num + attrs + b">" + tags.row_close
                yield editor.edit(row_xml, num, changes, False, style_for(num))
        if bulk_from < bulk_to:
            yield view[pos:body_end]
            pos = body_end
            yield from _bulk_rows(edit, first_row, first_col, bulk_from, template_styles, template_attrs, heights,
                                  editor)
        if tail is not None:
            yield view[pos:sd_end]
            yield tail
        else:
            yield view[pos:]
        result.removed_formulas = editor.removed_formulas

    def pieces() -> Iterator[bytes | memoryview]:
        editor = RowEditor(tags, styles, date1904)
        yield from emit(editor)
        if editor.removed_shared:
            # A shared formula's anchor was overwritten: no other cell may still point at it. Rare
            # (staff's formula in a column the program writes), so the part is made again, whole, to look.
            check_shared_formulas(b"".join(emit(RowEditor(tags, styles, date1904))), editor.removed_shared, tags)

    result.chunks = Pieces(pieces)
    return result


class Pieces:
    """The pieces of a patched part, made as they are read; each reading makes them again."""

    def __init__(self, make: Callable[[], Iterator[bytes | memoryview]]) -> None:
        self._make = make

    def __iter__(self) -> Iterator[bytes | memoryview]:
        return self._make()


def _bulk_extent(edit: SheetEdit, first_row: int, first_col: int, start: int) -> tuple[int, int, int]:
    """What :func:`_bulk_rows` writes from row ``start``: the cells, the last row, the last column."""
    written = last_row = last_col = 0
    for i in range(start - first_row, len(edit.appends)):
        values = edit.appends[i]
        if values:
            written += len(values)
            last_row = first_row + i
            last_col = max(last_col, first_col + len(values) - 1)
    return written, last_row, last_col


def _bulk_rows(
    edit: SheetEdit, first_row: int, first_col: int, start: int, template_styles: dict[int, int],
    template_attrs: bytes, heights: dict[int, float], editor: RowEditor,
) -> Iterator[bytes]:
    """New rows ``start``… of the appended block, none of which exists yet, as runs of bytes (what
    the general way writes); :func:`_bulk_extent` counts them."""
    cells = editor.text
    fmts: list[tuple[str, str, str, str, str, int, bytes | None]] = []
    plain = '<row r="%d"' + template_attrs.decode("utf-8").replace("%", "%%") + ">"
    opens: dict[float | None, str] = {None: plain}  # a row's start tag by its height
    row_heights = edit.row_heights
    out: list[str] = []
    for i in range(start - first_row, len(edit.appends)):
        values = edit.appends[i]
        if not values:  # nothing to write: no row, as before
            continue
        num = first_row + i
        h = heights.get(num)
        if h is not None:
            tag = opens.get(h)
            if tag is None:
                attrs = _ROW_HEIGHT_ATTRS.sub(b"", template_attrs) + b' ht="%s" customHeight="1"' % _fmt_height(h)
                tag = opens[h] = '<row r="%d"' + attrs.decode("utf-8").replace("%", "%%") + ">"
        elif num in row_heights:
            attrs = _HIDDEN_ATTR.sub(b"", _ROW_HEIGHT_ATTRS.sub(b"", template_attrs)) + _height_attrs(row_heights[num])
            tag = '<row r="%d"' + attrs.decode("utf-8").replace("%", "%%") + ">"
        else:
            tag = plain
        while len(fmts) < len(values):
            col = first_col + len(fmts)
            fmts.append(cells.formats(col, str(template_styles[col]).encode() if col in template_styles else None))
        out.append(tag % num)
        out.append(cells.row(fmts, num, values))
        out.append("</row>")
        if len(out) >= _BULK_BLOCK:  # encoded as it goes: the text of 50,000 rows is never held at once
            yield "".join(out).encode("utf-8")
            out = []
    yield "".join(out).encode("utf-8")


_BULK_BLOCK = 3 * 2048  # pieces (three per row) encoded together


def _has_values(xml: bytes, row: Row, t: Tags) -> bool:
    span = xml[row.tag_end : row.end]
    return any(mark in span for mark in t.value_marks)


_ROW_HEIGHT_ATTRS = re.compile(rb'\s(?:ht|customHeight)="[^"]*"')


def _fmt_height(h: float) -> bytes:
    return (b"%d" % h) if float(h).is_integer() else (b"%.2f" % h)


_HIDDEN_ATTR = re.compile(rb'\shidden="[^"]*"')


def _height_attrs(height: float) -> bytes:
    """A custom height; 0 hides the row (Excel's and LibreOffice's reading of a zero-height row)."""
    return b' ht="%s" customHeight="1"' % _fmt_height(height) + (b' hidden="1"' if height == 0 else b"")


def _with_height(row_xml: bytes, height: float) -> bytes:
    """``row_xml`` (a whole <row>…</row>) with a custom height (0: hidden), shown again otherwise."""
    k = row_xml.index(b">")
    tag = _HIDDEN_ATTR.sub(b"", _ROW_HEIGHT_ATTRS.sub(b"", row_xml[: k + 1]))
    end = b"/>" if tag.endswith(b"/>") else b">"
    return tag[: -len(end)] + _height_attrs(height) + end + row_xml[k + 1 :]


def _set_row_height(xml: bytes, row: Row, height: float, t: Tags, body_start: int):
    """Give an existing row a custom height; returns the re-indexed document."""
    tag = xml[row.start: row.tag_end]
    new_tag = _ROW_HEIGHT_ATTRS.sub(b"", tag)
    end = b"/>" if new_tag.endswith(b"/>") else b">"
    new_tag = new_tag[: -len(end)] + b' ht="%s" customHeight="1"' % _fmt_height(height) + end
    xml = xml[: row.start] + new_tag + xml[row.tag_end:]
    body_end = xml.index(b"</" + t.prefix + b"sheetData>", body_start)
    rows = index_rows(xml, body_start, body_end, t)
    return xml, rows, {r.num: r for r in rows}, body_end


def _first_append_row(
    xml: bytes, rows: list[Row], t: Tags, table: tuple[int, int, int] | None, count: int
) -> int:
    """First row of the appended block: after the last used row (of the Table, if any).

    With a Table, rows go after its last used row, inside the Table if it has
    empty rows left, then just below it; rows below a Table that already hold
    values are never overwritten.
    """
    if table is None:
        return next((r.num for r in reversed(rows) if _has_values(xml, r, t)), 0) + 1
    _first_col, header, last = table
    inside = [r for r in rows if header < r.num <= last]
    first = next((r.num for r in reversed(inside) if _has_values(xml, r, t)), header) + 1
    end = first + count - 1
    blocked = [r.num for r in rows if last < r.num <= end and _has_values(xml, r, t)]
    if blocked:
        raise SheetPatchError(
            f"không thể thêm {count} dòng vào cuối bảng: dòng {blocked[0]} ngay dưới bảng đã có dữ liệu"
        )
    return first


def check_shared_formulas(xml: bytes, removed: set[bytes], t: Tags) -> None:
    """Refuse a patch that removed the master cell of a shared formula other cells still use."""
    pat = re.compile(rb"<" + re.escape(t.prefix) + rb'f\b[^>]*\bt="shared"[^>]*>')
    for m in pat.finditer(xml):
        si = t.si.search(m.group(0))
        if si and si.group(1) in removed:
            raise SheetPatchError(
                "ô cần ghi là ô gốc của một công thức dùng chung (shared formula) mà các ô khác "
                "vẫn tham chiếu; hãy chuyển cột đó thành giá trị hoặc nhập lại công thức trong Excel"
            )
