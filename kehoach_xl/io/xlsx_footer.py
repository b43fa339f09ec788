"""A sheet's print footer read and rewritten in its XML bytes, found from the end of the part.

``<headerFooter>`` is one of the last elements of a worksheet, after ``</sheetData>``: the patcher
and the verifier look only at the bytes after the last ``</sheetData>`` (a few kilobytes), so a
100 MB task sheet is never parsed for it. Only the text of the named element (``oddFooter``) is
replaced; the element's attributes, ``<headerFooter>``'s own (``scaleWithDoc`` …) and every other
byte stay. What is written where is decided in :mod:`kehoach_xl.model.footer`.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from xml.sax.saxutils import escape

from defusedxml.ElementTree import fromstring

from kehoach_xl.io.xlsx_package import zip_sheet_map
from kehoach_xl.model.footer import with_right
from kehoach_xl.model.master import find_sheet_name

_SHEET_DATA_END = re.compile(rb"</(?:\w+:)?sheetData>")
_HEADER_FOOTER = re.compile(rb"<((?:\w+:)?)headerFooter\b[^>]*?(/?)>")


def tail_start(xml: bytes) -> int:
    """Where the part's last ``</sheetData>`` starts, found from the end (0 when ``xml`` has none:
    a tail that does not reach back to it, or ``<sheetData/>``). The footer is after it."""
    i = xml.rfind(b"sheetData>")
    while i >= 0:
        lt = xml.rfind(b"<", 0, i)
        if lt >= 0 and _SHEET_DATA_END.fullmatch(xml, lt, i + 10):
            return lt
        i = xml.rfind(b"sheetData>", 0, i)
    return 0


def _element(xml: bytes, start: int, name: str) -> tuple[int, int] | None:
    """(start, end) of the text of <headerFooter>'s child ``name``, searched from ``start``; None without one."""
    hf = _HEADER_FOOTER.search(xml, start)
    if hf is None or hf.group(2):
        return None
    prefix = hf.group(1)
    close = xml.find(b"</" + prefix + b"headerFooter>", hf.end())
    if close < 0:
        return None
    m = re.compile(rb"<" + re.escape(prefix + name.encode()) + rb"\b[^>]*?(/?)>").search(xml, hf.end(), close)
    if m is None or m.group(1):
        return None
    end = xml.find(b"</" + prefix + name.encode() + b">", m.end(), close)
    return (m.end(), end) if end >= 0 else None


def _text(raw: bytes) -> str | None:
    """The element text as XML reads it (entities and character references resolved); None if unreadable."""
    try:
        return fromstring(b"<t>" + raw + b"</t>").text or ""
    except Exception:  # noqa: BLE001 - defusedxml refuses entities; anything odd is left alone
        return None


def footer_text(xml: bytes, name: str = "oddFooter") -> str | None:
    """The text of the sheet part's header/footer element ``name``; None when there is none.

    ``xml``: the part, or its last bytes as long as they reach back past ``</sheetData>``.
    """
    found = _element(xml, tail_start(xml), name)
    return None if found is None else _text(xml[found[0] : found[1]])


def set_footers(tail: bytes, footers: Mapping[str, str]) -> tuple[bytes, list[str]]:
    """``tail`` (a sheet part from before its ``</sheetData>`` on) with the right part of each
    element ``name`` of ``footers`` set to its value where the program wrote it (model/footer);
    the names of the elements rewritten. Anything else — no footer, staff's text — stays."""
    start = tail_start(tail)
    written: list[str] = []
    for name, right in footers.items():
        found = _element(tail, start, name)
        if found is None:
            continue
        old = _text(tail[found[0] : found[1]])
        new = with_right(old, right) if old is not None else None
        if new is None:
            continue
        # '&' of the codes becomes &amp;; a carriage return written as itself would read back as "\n".
        raw = escape(new, {"\r": "&#13;"}).encode("utf-8")
        tail = tail[: found[0]] + raw + tail[found[1] :]
        written.append(name)
    return tail, written


def read_footer(path: Path | str, part: str, name: str = "oddFooter") -> str | None:
    """``name`` of the sheet part ``part`` of the workbook at ``path``, streamed: only the end is kept."""
    with zipfile.ZipFile(path) as zf:
        return _footer_of(zf, part, name)


def sheet_footer(path: Path | str, sheet: str, name: str = "oddFooter") -> str | None:
    """``name`` of the sheet called ``sheet`` (as staff may have spelled it), one opening of the file;
    None when there is no such sheet or footer."""
    with zipfile.ZipFile(path) as zf:
        _, parts = zip_sheet_map(zf)
        found = find_sheet_name(list(parts), sheet)
        return _footer_of(zf, parts[found], name) if found else None


def _footer_of(zf: zipfile.ZipFile, part: str, name: str) -> str | None:
    keep = 1 << 20
    data = b""
    with zf.open(part) as fh:
        while chunk := fh.read(keep):
            data = data[-keep:] + chunk
    if not tail_start(data):  # the part ends in more than a megabyte of other things: rare, read it whole
        data = zf.read(part)
    return footer_text(data, name)
