"""Count what a sheet part holds by streaming its XML, before any workbook object is built.

Dimension tags (``<dimension ref="A1:B2"/>``) are written by the sender and are not trusted: a
634 KB file can hold 30 million empty ``<c/>`` elements, which openpyxl would turn into 30 million
objects. The counter sees the decompressed bytes chunk by chunk and says "too many" as soon as a
limit is passed, so memory stays bounded by the chunk size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CELL = re.compile(rb"<(?:\w+:)?c[\s/>]")
_ROW = re.compile(rb"<(?:\w+:)?row[\s/>]")
_ROW_REF = re.compile(rb"<(?:\w+:)?row\s[^>]{0,200}?\br=\"(\d{1,9})\"")
_CELL_REF = re.compile(rb"<(?:\w+:)?c\s[^>]{0,200}?\br=\"\$?([A-Za-z]{1,4})\$?(\d{1,9})\"")
_SI = re.compile(rb"<(?:\w+:)?si[\s/>]")
# The same patterns without the optional prefix: they begin with a literal, which the regex engine
# finds by a fast scan instead of trying every "<". Where no ":c" or ":row" tag name follows a colon
# in the buffer, the prefix can only match empty, so they find exactly the same matches.
_PREFIXED = re.compile(rb":(?:c|row)[\s/>]")
_CELL_BARE = re.compile(rb"<c[\s/>]")
_ROW_BARE = re.compile(rb"<row[\s/>]")
_ROW_REF_BARE = re.compile(rb"<row\s[^>]{0,200}?\br=\"(\d{1,9})\"")
_CELL_REF_BARE = re.compile(rb"<c\s[^>]{0,200}?\br=\"\$?([A-Za-z]{1,4})\$?(\d{1,9})\"")
_TAIL = 256  # longer than any match above


def column_index(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ch - 64)
    return n


@dataclass
class PartCounter:
    """Streaming counts for one part: cells, rows (elements and highest number), columns, shared strings."""

    sheet: bool = True
    cells: int = 0
    rows: int = 0
    max_row: int = 0
    max_col: int = 0
    strings: int = 0
    _tail: bytes = b""

    def feed(self, chunk: bytes) -> None:
        buf = self._tail + chunk
        # A match counted last time lies wholly inside the tail (the patterns cannot overlap
        # themselves), so matches in the tail alone are taken off again.
        if self.sheet:
            # (the tail is the end of buf: when buf holds no prefixed tag name, neither does the tail)
            bare = _PREFIXED.search(buf) is None
            cell, row, row_ref, cell_ref = ((_CELL_BARE, _ROW_BARE, _ROW_REF_BARE, _CELL_REF_BARE) if bare else
                                            (_CELL, _ROW, _ROW_REF, _CELL_REF))
            self.cells += len(cell.findall(buf)) - len(cell.findall(self._tail))
            self.rows += len(row.findall(buf)) - len(row.findall(self._tail))
            # Highest row and column over every reference: C-level passes over the matches (a sheet
            # uses a handful of distinct column letters), not a Python step per cell.
            if rows := row_ref.findall(buf):
                self.max_row = max(self.max_row, max(map(int, rows)))
            if refs := cell_ref.findall(buf):
                letters, numbers = zip(*refs, strict=True)
                self.max_col = max(self.max_col, max(map(column_index, set(letters))))
                self.max_row = max(self.max_row, max(map(int, numbers)))
        else:
            self.strings += len(_SI.findall(buf)) - len(_SI.findall(self._tail))
        self._tail = buf[-_TAIL:]

    @property
    def row_count(self) -> int:
        return max(self.rows, self.max_row)
