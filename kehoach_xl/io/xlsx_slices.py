"""A big sheet part read back by calamine a slice of rows at a time, never whole.

The check after a write (io/_verify) reads what was written with calamine, a reader independent
of the writer. Loaded whole, the sheet "Phần việc" of a 50,000-task master (~100 MB of XML) costs
~100 MiB of calamine's cells: the peak of a merge's check. Here the part's rows are cut, at a
row's end tag, into slices of a few megabytes; each slice is read as the one sheet of a small
stored workbook made around it (the written workbook's styles, so a date reads as a date, and its
date system), its rows handed on, and the slice let go.

What a slice cannot say the way the whole read would raises :class:`SliceUnreadable`, and the
caller reads the sheet whole as before: a prefixed ``<x:row>``, a row without its ``r`` number
(calamine would count it from the slice's start), calamine's own refusal.

A cell holding a shared string (``t="s"``: every text cell of a sheet Excel saved) would need the
workbook's string table, which a slice's workbook has not got. Such a cell is read as
:data:`SHARED_MARK`, a text no written value is: the writer writes every string inline, so a
changed cell that reads back as the mark was not written, and the check says so.
"""

from __future__ import annotations

import io
import itertools
import re
import struct
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

from kehoach_xl.io.xlsx_tail import root_namespaces

SLICE = 4 << 20  # bytes of rows calamine reads at a time
SHARED_MARK = "\ue000chuỗi dùng chung\ue000"  # a private-use character: never a value the program writes

_SHEET_DATA = re.compile(rb"<sheetData\b[^>]*?(/?)>")
_SHEET_DATA_END = b"</sheetData>"
_ROW_END = b"</row>"
# A cell with a shared string and its value: its attributes but t="s" kept, the value made the mark.
_SHARED_CELL = re.compile(rb'<c((?:\s[^\s>=]+="[^"]*")*?)\st="s"((?:\s[^\s>=]+="[^"]*")*)\s*>.*?</c>', re.S)
_MARK_CELL = rb'<c\1\2 t="inlineStr"><is><t>' + SHARED_MARK.encode("utf-8") + rb"</t></is></c>"

_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    b'<Override PartName="/xl/worksheets/sheet1.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    b'<Override PartName="/xl/styles.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>')
_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    b'Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    b'Target="worksheets/sheet1.xml"/>'
    b'<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
    b'Target="styles.xml"/></Relationships>')
_WORKBOOK = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    b'<workbookPr%s/><sheets><sheet name="s" sheetId="1" r:id="rId1"/></sheets></workbook>')
_EMPTY_STYLES = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                 b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>')


class SliceUnreadable(Exception):
    """The part cannot be read a slice at a time as the whole read would read it."""


def worksheet_open(head: bytes) -> bytes | None:
    """The start of a slice's worksheet, with the namespaces the part's root declares (``head``: the
    part's first bytes), or None when they cannot be found."""
    found = root_namespaces(head)
    if found is None:
        return None
    return b'<?xml version="1.0" encoding="UTF-8"?><worksheet' + found[1] + b"><sheetData>"


_END_TAGS = b"</sheetData></worksheet>"


def _stored(name: bytes, crc: int, size: int, offset: int) -> tuple[bytes, bytes]:
    """The local header and the central record of a stored zip member (no time, no extra fields)."""
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 0, 0, 0x21, crc, size, size, len(name), 0) + name
    central = struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 0, 0, 0x21, crc, size, size, len(name),
                          0, 0, 0, 0, 0, offset) + name
    return local, central


def _package(open_tag: bytes, rows: bytes, styles: bytes | None, date1904: bool) -> bytes:
    """The slice's workbook as the bytes of a stored zip, made in one join: through ``zipfile`` each
    4 MB slice was copied three times more (joined, written, grown), the check's system time."""
    fixed = ((b"[Content_Types].xml", _CONTENT_TYPES), (b"_rels/.rels", _RELS),
             (b"xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
             (b"xl/workbook.xml", _WORKBOOK % (b' date1904="1"' if date1904 else b"")),
             (b"xl/styles.xml", styles or _EMPTY_STYLES))
    pieces: list[bytes] = []
    centrals: list[bytes] = []
    pos = 0
    for name, data in fixed:
        local, central = _stored(name, zlib.crc32(data), len(data), pos)
        pieces += (local, data)
        centrals.append(central)
        pos += len(local) + len(data)
    size = len(open_tag) + len(rows) + len(_END_TAGS)
    crc = zlib.crc32(_END_TAGS, zlib.crc32(rows, zlib.crc32(open_tag)))
    local, central = _stored(b"xl/worksheets/sheet1.xml", crc, size, pos)
    pieces += (local, open_tag, rows, _END_TAGS)
    centrals.append(central)
    pos += len(local) + size
    directory = b"".join(centrals)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(centrals), len(centrals), len(directory), pos, 0)
    return b"".join((*pieces, directory, end))


def read_slice(open_tag: bytes, rows: bytes, styles: bytes | None, date1904: bool) -> tuple[int, int, list[list[Any]]]:
    """(first row, first column — both 0-based — and the rows from there) of ``rows``, whole ``<row>``
    elements, as calamine reads them; calamine's own errors are raised."""
    from python_calamine import CalamineWorkbook

    buf = io.BytesIO(_package(open_tag, rows, styles, date1904))  # (a BytesIO of bytes shares them)
    del rows
    wb = CalamineWorkbook.from_filelike(buf)
    try:
        sheet = wb.get_sheet_by_index(0)
        start = sheet.start
        if start is None:
            return 0, 0, []
        # From the slice's first used row and column (iter_rows would start at row 1: the empty rows
        # above a slice deep in the sheet, every time).
        return start[0], start[1], sheet.to_python(skip_empty_area=True)
    finally:
        wb.close()


def row_windows(chunks: Iterator[bytes], size: int, *, end: bytes = _SHEET_DATA_END,
                row_end: bytes = _ROW_END) -> Iterator[tuple[bytes, Iterator[bytes] | None]]:
    """The rows of a sheet part (``chunks`` from just after ``<sheetData>``) in windows of about ``size``
    bytes, each cut just after a row's end tag, as ``(window, None)``; the last window, up to ``end``
    (``</sheetData>``), comes as ``(window, rest)``, ``rest`` the part from ``end`` on. Nothing comes
    after windows without a last one when the part has no ``end``.

    The chunks are gathered and joined once per window (not added to one buffer), and ``end`` is found
    even when split between two chunks. Shared by the streamed patch and the sliced read-back.
    """
    n = len(end)
    pending: list[bytes] = []
    held = 0
    edge = b""  # the last bytes of the chunks before
    for chunk in chunks:
        pending.append(chunk)
        held += len(chunk)
        ends = end in chunk or end in edge + chunk[:n]
        edge = (edge + chunk[-n:])[-n:]
        if not ends and held < size:
            continue
        joined = pending[0] if len(pending) == 1 else b"".join(pending)
        pending, held = [], 0
        stop = joined.find(end)
        if stop >= 0:
            yield joined[:stop], itertools.chain((joined[stop:],), chunks)
            return
        cut = joined.rfind(row_end)
        if cut < 0:  # one row longer than a window: wait for its end
            pending, held = [joined], len(joined)
            continue
        cut += len(row_end)
        if cut < len(joined):
            pending, held = [joined[cut:]], len(joined) - cut
        yield joined[:cut], None
        del joined


def sheet_rows(chunks: Iterable[bytes], styles: bytes | None = None, date1904: bool = False,
               size: int = SLICE) -> Iterator[tuple[int, list[Any]]]:
    """(row number, values from column A) of each used row of the sheet part that ``chunks`` holds,
    read by calamine a slice of about ``size`` bytes at a time; :class:`SliceUnreadable` when the
    part cannot be read that way."""
    it = iter(chunks)
    head = b""
    for chunk in it:
        head += chunk
        m = _SHEET_DATA.search(head)
        if m is not None:
            break
        if len(head) > 64 << 20:
            raise SliceUnreadable("no <sheetData> at the start of the part")
    else:
        raise SliceUnreadable("no <sheetData> (a prefixed sheet, or not a sheet)")
    if m.group(1):
        return  # <sheetData/>: no rows
    open_tag = worksheet_open(head[: m.start()])
    if open_tag is None:
        raise SliceUnreadable("no worksheet start tag")
    for window, rest in row_windows(itertools.chain((head[m.end():],), it), size):
        yield from _slice_rows(open_tag, window, styles, date1904)
        if rest is not None:
            return
    raise SliceUnreadable("no </sheetData> (the part ends early)")


def _slice_rows(open_tag: bytes, rows: bytes, styles: bytes | None,
                date1904: bool) -> Iterator[tuple[int, list[Any]]]:
    if b"<row" not in rows:
        return  # no row (the blanks between the last row and </sheetData>)
    if rows.count(b"<row") != rows.count(b'<row r="'):
        raise SliceUnreadable("a row without its number first")  # calamine would count from the slice
    if b' t="s"' in rows:
        rows = _SHARED_CELL.sub(_MARK_CELL, rows)
    try:
        top, left, got = read_slice(open_tag, rows, styles, date1904)
    except Exception as exc:  # noqa: BLE001 - calamine's own errors: the whole read decides (and says why)
        raise SliceUnreadable(str(exc)) from exc
    del rows
    pad = [""] * left
    for i, values in enumerate(got):
        if len(values) > values.count("") + values.count(None):
            yield top + 1 + i, pad + values if left else values
