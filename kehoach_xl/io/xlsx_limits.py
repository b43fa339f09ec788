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
            self.cells += len(_CELL.findall(buf)) - len(_CELL.findall(self._tail))
            self.rows += len(_ROW.findall(buf)) - len(_ROW.findall(self._tail))
            for m in _ROW_REF.finditer(buf):
                self.max_row = max(self.max_row, int(m.group(1)))
            for m in _CELL_REF.finditer(buf):
                self.max_col = max(self.max_col, column_index(m.group(1)))
                self.max_row = max(self.max_row, int(m.group(2)))
        else:
            self.strings += len(_SI.findall(buf)) - len(_SI.findall(self._tail))
        self._tail = buf[-_TAIL:]

    @property
    def row_count(self) -> int:
        return max(self.rows, self.max_row)
