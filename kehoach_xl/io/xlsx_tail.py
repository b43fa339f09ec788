"""The last rows of a worksheet, read from the end of its XML (for checking rows a write appended).

The log and the history only grow: a write that appends one log row to a 60,000-row log must not
read those 60,000 rows back to check the one it added. The verifier already streams every changed
part through expat for well-formedness; :class:`TailKeeper` keeps the worksheet's start tag (its
namespace declarations) and the last megabyte or two of that stream, and :func:`last_used_rows`
parses only the rows at the end, one ``<row>`` element at a time, with the hardened lxml parser.

This reads cells the simple way a sheet written by our writer (and by Excel for its own rows)
stores them: inline strings, numbers, booleans and formula text results. Anything else — a shared
string, an error or ISO-date cell, a row or cell without its reference, a prefixed ``<x:row>``, rows
the kept bytes do not reach — gives ``None``, and the caller reads the sheet whole as before.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from kehoach_xl.io.xlsx_package import HARDENED_PARSER
from kehoach_xl.model.address import col_number

_ROOT_TAG = re.compile(rb"<(?:\w+:)?worksheet\b[^>]*>")
_XMLNS = re.compile(rb"""\sxmlns(?::\w+)?=(?:"[^"]*"|'[^']*')""")
_KEEP = 2 << 20  # two read chunks: enough for a few thousand ordinary rows


class TailKeeper:
    """Fed every chunk of a part's XML in order; keeps its start and its last ``_KEEP`` bytes."""

    def __init__(self) -> None:
        self.head = b""
        self._chunks: list[bytes] = []
        self._size = 0

    def feed(self, chunk: bytes) -> None:
        if len(self.head) < 8192:
            self.head += chunk[: 8192 - len(self.head)]
        self._chunks.append(chunk)
        self._size += len(chunk)
        while len(self._chunks) > 1 and self._size - len(self._chunks[0]) >= _KEEP:
            self._size -= len(self._chunks.pop(0))

    @property
    def tail(self) -> bytes:
        return b"".join(self._chunks)


def _local(tag: Any) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""  # (a comment's tag is a function)


_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _unescape(text: str) -> str:
    """Excel's ``_xHHHH_`` escapes as the characters they stand for (as Excel and calamine read them)."""
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def _cell_value(c: Any) -> tuple[bool, Any]:
    """(understood, value) of a ``<c>`` element."""
    t = c.get("t", "n")
    if t == "inlineStr":
        if (len(c) == 1 and len(c[0]) == 1 and not len(c[0][0]) and _local(c[0].tag) == "is"
                and _local(c[0][0].tag) == "t"):
            return True, _unescape(c[0][0].text or "") or None  # <is><t>…</t></is>, as our writer writes it
        parts = [el.text or "" for el in c.iter() if _local(el.tag) == "t"
                 and _local(el.getparent().tag) != "rPh"]  # phonetic runs are not the cell's text
        return True, _unescape("".join(parts)) or None
    v = next((el.text for el in c if _local(el.tag) == "v"), None)
    if t == "str":
        return True, _unescape(v) if v else None
    if t == "b":
        return True, None if v is None else v.strip() == "1"
    if t == "n":
        if v is None or not v.strip():
            return True, None
        try:
            f = float(v)
        except ValueError:
            return False, None
        return True, int(f) if f.is_integer() else f
    return False, None  # "s" (needs the shared strings), "e", "d": read the sheet whole


def row_values(row: Any) -> list[Any] | None:
    """The values of a ``<row>`` element from column A (``None`` where no cell is), or ``None`` when a
    cell has no reference or is not one :func:`_cell_value` understands."""
    values: dict[int, Any] = {}
    for c in row:
        if _local(c.tag) != "c":
            continue
        ref = c.get("r")
        if ref is None:
            return None
        col = col_number(ref.rstrip("0123456789"))
        ok, value = _cell_value(c)
        if not ok:
            return None
        values[col] = value
    line = [None] * max(values, default=0)
    for j, value in values.items():
        line[j - 1] = value
    return line


def root_namespaces(head: bytes) -> tuple[str, bytes] | None:
    """(default namespace, the namespace declarations) of the worksheet start tag in ``head``."""
    root = _ROOT_TAG.search(head)
    if root is None:
        return None
    declarations = _XMLNS.findall(root.group(0))
    default = next((d.split(b"=", 1)[1][1:-1].decode() for d in declarations if d.strip().startswith(b"xmlns=")), "")
    return default, b"".join(declarations)


def last_used_rows(keeper: TailKeeper, k: int) -> tuple[int, dict[int, list[Any]]] | None:
    """(last row number of the sheet, {row number: values from column A}) holding the last ``k``
    rows that have a value, and every row after them; ``None`` when the tail cannot say."""
    data = keeper.tail
    namespaces = root_namespaces(keeper.head)
    end = data.rfind(b"</sheetData>")
    if namespaces is None or end < 0:
        return None
    wrap_open = b"<sheetData" + namespaces[1] + b">"
    rows: dict[int, list[Any]] = {}
    height: int | None = None
    found, pos = 0, end
    while found < k:
        i = data.rfind(b"<row", 0, pos)
        if i < 0 or data[i + 4 : i + 5] not in (b" ", b">", b"/", b"\t", b"\n", b"\r"):
            return None  # the kept bytes start inside the rows asked for, or an unusual layout
        try:
            el = etree.fromstring(wrap_open + data[i:pos] + b"</sheetData>", HARDENED_PARSER)
        except etree.XMLSyntaxError:
            return None
        if len(el) != 1 or _local(el[0].tag) != "row" or el[0].get("r") is None:
            return None
        row = el[0]
        num = int(row.get("r"))
        line = row_values(row)
        if line is None:
            return None
        if height is None:
            height = num
        rows[num] = line
        if any(v is not None and v != "" for v in line):
            found += 1
        pos = i
    return (height or 0), rows
