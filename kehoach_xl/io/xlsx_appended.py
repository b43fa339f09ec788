"""Rows a write appended to a sheet, read back by calamine a slice at a time as the written part streams past.

A merge at 50,000 tasks appends ~190,000 rows to the log and ~200,000 to the history. Reading such
a sheet back whole through calamine held all of it at once (~140 MiB for the log: the write's
peak). The verifier already streams every changed part through expat for well-formedness;
:class:`AppendedRows` is fed the same chunks. From the row the writer says it appended first, it
cuts the rows into slices of a few megabytes at row ends and has calamine read each slice as the one
sheet of a small workbook made around it (the written workbook's styles, so a date reads as a date,
and its date system). Each used row read back is compared with the next row the change set appended,
and the slice is let go. The reader stays calamine, independent of the writer; what is held is one
slice and what calamine makes of it.

The writer's claim is checked, not trusted: from that row to the end of the sheet the used rows must
be exactly the appended ones, in order, so they are the sheet's last used rows, which is what the
whole read checked.

A slice calamine cannot read as the rows it holds (a shared string: the slice's workbook has no
string table), a prefixed ``<x:row>``, no ``<row>`` numbered as claimed: :attr:`AppendedRows.usable`
becomes false and the caller reads the sheet whole as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from kehoach_xl.io.xlsx_slices import read_slice, worksheet_open

_CARRY = 512  # longer than any row's start tag: a start split between two chunks is still found
_END = b"</sheetData>"
_SLICE = 4 << 20  # bytes of rows calamine reads at a time
_SHARED = b' t="s"'  # how a cell says it holds a shared string (our writer writes none in appended rows)

class AppendedRows:
    """Fed every chunk of a sheet part in order; compares the used rows from ``first_row`` on with ``want``.

    ``styles``: the written workbook's styles part; ``date1904``: its date system.
    ``compare(row_number, got, want)`` returns a message when the row read back is not the row
    written. After :meth:`close`, :attr:`failure` holds the first such message (or that rows are
    missing or extra), and :attr:`usable` says whether the stream could be read this way at all.
    """

    def __init__(self, sheet: str, first_row: int, want: list[list[Any]],
                 compare: Callable[[int, list[Any], list[Any]], str | None], *,
                 styles: bytes | None = None, date1904: bool = False) -> None:
        self.sheet, self.want, self.compare = sheet, want, compare
        self._start = re.compile(rb'<row\s(?:[^>]*\s)?r="%d"[\s/>]' % first_row)
        self._styles = styles
        self._date1904 = date1904
        self.usable = True
        self.failure: str | None = None
        self.checked = 0  # used rows compared
        self._head = b""
        self._carry = b""
        self._open: bytes | None = None  # the slice's worksheet start, once the first row is found
        self._pending: list[bytes] = []
        self._size = 0
        self._done = False

    def feed(self, chunk: bytes) -> None:
        if self._done or not self.usable or self.failure is not None:
            return
        if len(self._head) < 8192:
            self._head += chunk[: 8192 - len(self._head)]
        data = self._carry + chunk
        self._carry = b""
        if self._open is None:
            m = self._start.search(data)
            if m is None:
                self._carry = data[-_CARRY:]
                return
            self._open = worksheet_open(self._head)
            if self._open is None:
                self.usable = False
                return
            data = data[m.start():]
        end = data.find(_END)
        if end >= 0:
            self._add(data[:end])
            self._read(b"".join(self._pending))
            self._pending, self._done = [], True
            return
        keep = len(_END) - 1  # a closing tag split between two chunks
        self._carry = data[-keep:]
        self._add(data[:-keep])

    def close(self) -> None:
        """After the last chunk: what was not found or not compared is a failure (or not usable)."""
        if not self.usable or self.failure is not None:
            return
        if not self._done:
            self.usable = False  # no row numbered as claimed, or no end to the rows
        elif self.checked < len(self.want):
            self.failure = f"trang {self.sheet} thiếu {len(self.want) - self.checked} dòng được thêm"

    def _add(self, data: bytes) -> None:
        self._pending.append(data)
        self._size += len(data)
        if self._size < _SLICE:
            return
        joined = b"".join(self._pending)
        cut = joined.rfind(b"</row>") + len(b"</row>")
        if cut < len(b"</row>"):
            self._pending, self._size = [joined], len(joined)  # one row longer than a slice: wait for its end
            return
        rest = joined[cut:]
        self._pending, self._size = [rest], len(rest)
        self._read(joined[:cut])

    def _read(self, rows: bytes) -> None:
        """calamine reads one slice of rows as a sheet of its own; each used row is compared."""
        if not rows or not self.usable or self.failure is not None:
            return
        if _SHARED in rows:
            self.usable = False  # a shared string: the slice's workbook has no table to find it in
            return
        try:
            top, left, got_rows = read_slice(self._open or b"", rows, self._styles, self._date1904)
            del rows
            pad = [""] * left
            for i, values in enumerate(got_rows):
                if len(values) == values.count("") + values.count(None):
                    continue  # an empty row: not one of the appended ones
                num = top + 1 + i
                if self.checked >= len(self.want):
                    self.failure = f"trang {self.sheet} có giá trị ở dòng {num}, sau các dòng được thêm"
                    return
                message = self.compare(num, pad + values if left else values, self.want[self.checked])
                self.checked += 1
                if message is not None:
                    self.failure = message
                    return
        except Exception:  # noqa: BLE001 - calamine's own errors: the whole read decides (and says why)
            self.usable = False
