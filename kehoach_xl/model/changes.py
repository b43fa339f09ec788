"""What a command wants changed in the master, as plain data.

Commands (refresh, merge, summary, import, validate --write) build a
``MasterChanges`` and hand it to :func:`kehoach_xl.io.master_write.write_master`,
which is the only code that touches the master file on disk.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import ItemsView, Iterable, Iterator, Mapping, MutableMapping, ValuesView
from dataclasses import dataclass, field
from typing import Any, Protocol

from kehoach_xl import vn
from kehoach_xl.model.schema import LIST_SEP, LOG


@dataclass(frozen=True)
class Link:
    """A link to a cell of the same workbook, shown as ``text``.

    Written as ``=HYPERLINK("#target","text")`` with ``text`` as its cached value:
    the one formula the program itself writes, and only into sheets it owns (the
    problems list). Text coming from users is never turned into a formula.
    """

    target: str  # e.g. "'Nhiệm vụ'!H17"
    text: str

    @property
    def formula(self) -> str:
        def q(s: str) -> str:
            return '"' + s.replace('"', '""') + '"'

        return f"HYPERLINK({q('#' + self.target)},{q(self.text)})"


CellValue = str | int | float | bool | dt.date | dt.datetime | Link | None

EXCEL_TEXT_MAX = 32_767  # characters a cell holds; Excel "repairs" (cuts) a longer one when it opens the file


class Cells(MutableMapping[tuple[int, int], "CellValue"]):
    """A sheet's cells to set, ``(row, col) → value`` as a mapping, held row by row (``rows``).

    A merge at 50,000 tasks sets a million cells: keyed by a ``(row, col)`` tuple each they were
    ~74 MiB, held through the later steps and the write; here a row's cells share one small dict
    under their row number (~30 MiB), and the writers, which go row by row, read ``rows`` as it is.
    Iteration gives a row's cells together, rows in the order they were first set.
    """

    __slots__ = ("rows", "_n")

    def __init__(self, items: Mapping[tuple[int, int], CellValue] | Iterable[tuple[tuple[int, int], CellValue]] = ()
                 ) -> None:
        self.rows: dict[int, dict[int, CellValue]] = {}
        self._n = 0
        if items:
            self.update(items)

    def put(self, row: int, col: int, value: CellValue) -> None:
        """``self[row, col] = value`` without the key tuple (the merge's million calls)."""
        cells = self.rows.get(row)
        if cells is None:
            cells = self.rows[row] = {}
        if col not in cells:
            self._n += 1
        cells[col] = value

    def __setitem__(self, key: tuple[int, int], value: CellValue) -> None:
        self.put(key[0], key[1], value)

    def __getitem__(self, key: tuple[int, int]) -> CellValue:
        return self.rows[key[0]][key[1]]

    def __delitem__(self, key: tuple[int, int]) -> None:
        cells = self.rows[key[0]]
        del cells[key[1]]
        self._n -= 1
        if not cells:
            del self.rows[key[0]]

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, tuple) or len(key) != 2:
            return False
        cells = self.rows.get(key[0])
        return cells is not None and key[1] in cells

    def get(self, key: tuple[int, int], default: Any = None) -> Any:
        cells = self.rows.get(key[0])
        return default if cells is None else cells.get(key[1], default)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        for r, cells in self.rows.items():
            for c in cells:
                yield r, c

    def __len__(self) -> int:
        return self._n

    def items(self) -> ItemsView[tuple[int, int], CellValue]:
        return _CellItems(self)

    def values(self) -> ValuesView[CellValue]:
        return _CellValues(self)

    def update(self, other: Any = (), /, **kw: Any) -> None:  # type: ignore[override]
        if isinstance(other, Cells):
            for r, cells in other.rows.items():
                for c, v in cells.items():
                    self.put(r, c, v)
            return
        pairs = other.items() if isinstance(other, Mapping) else other
        for (r, c), v in pairs:
            self.put(r, c, v)

    def __repr__(self) -> str:
        return f"Cells({dict(self.items())!r})"


class _CellItems(ItemsView[tuple[int, int], CellValue]):
    _mapping: Cells

    def __iter__(self) -> Iterator[tuple[tuple[int, int], CellValue]]:
        for r, cells in self._mapping.rows.items():
            for c, v in cells.items():
                yield (r, c), v


class _CellValues(ValuesView[CellValue]):
    _mapping: Cells

    def __iter__(self) -> Iterator[CellValue]:
        for cells in self._mapping.rows.values():
            yield from cells.values()


def by_row(cells: Mapping[tuple[int, int], CellValue]) -> dict[int, dict[int, CellValue]]:
    """Row → {column → value}: the very dicts of :class:`Cells` (read them, never change them), else made."""
    if isinstance(cells, Cells):
        return cells.rows
    out: dict[int, dict[int, CellValue]] = {}
    for (r, c), v in cells.items():
        out.setdefault(r, {})[c] = v
    return out


@dataclass(slots=True)  # a merge at 50,000 tasks makes a quarter of a million: no __dict__ each
class LogEntry:
    action: str  # "refresh", "merge", "import", "summary", "restore" …
    file: str = ""
    unit: str = ""
    task_id: str = ""
    field: str = ""
    old: Any = None
    new: Any = None
    time: dt.datetime | None = None
    user: str = ""


class LogRecord(Protocol):
    """What a row of the log sheet is made from: a :class:`LogEntry`, or a record of a command's own
    that carries the same attributes (the merge's ``AppliedChange``, one record per cell it set)."""

    action: str
    file: str
    unit: str
    task_id: str
    field: str
    old: Any
    new: Any
    time: dt.datetime | None
    user: str


def log_rows(entries: Iterable[LogRecord], cols: Mapping[str, int], user: str) -> list[list[CellValue]]:
    """Rows for the log sheet ("Nhật ký"), each value in the column its header was found in.

    Old and new values as the log shows them (dd/mm/yyyy, decimal comma); an entry without a time
    or a user takes now and ``user``. Entries of one command share one time: it is converted once.
    """
    def text(value: Any) -> str:
        if isinstance(value, (list, tuple, set)):
            return LIST_SEP.join(text(v) for v in value)
        return vn.value(value)

    now = dt.datetime.now().replace(microsecond=0)
    width = max(cols.values(), default=len(LOG.columns))
    last_time: dt.datetime | None = None
    shown = now
    out: list[list[CellValue]] = []
    for e in entries:
        t = e.time or now
        if t is not last_time:
            last_time, shown = t, t.replace(microsecond=0)
        values = {"time": shown, "action": e.action, "file": e.file, "unit": e.unit, "task_id": e.task_id,
                  "field": e.field, "old": text(e.old), "new": text(e.new), "user": e.user or user}
        row: list[CellValue] = [None] * width
        for key, j in cols.items():
            row[j - 1] = values.get(key)
        out.append(row)
    return out


@dataclass
class MasterChanges:
    """Cells to set, rows to append, and log rows, addressed by sheet name.

    ``cells[sheet][(row, col)] = value`` with 1-based row/col as Excel shows them (a :class:`Cells`
    when made by :meth:`set`; any mapping of that shape is taken).
    ``appends[sheet]`` are whole rows added after the sheet's last used row; they
    take the style of the row above, and an Excel Table on that sheet grows to
    include them.
    ``clear_from[sheet] = row`` empties every value at or below ``row`` (used for
    program-owned sheets such as the summary and the problems list before they
    are rewritten).
    Strings are always written as text, even when they start with "=".
    """

    cells: dict[str, MutableMapping[tuple[int, int], CellValue]] = field(default_factory=dict)
    appends: dict[str, list[list[CellValue]]] = field(default_factory=dict)
    clear_from: dict[str, int] = field(default_factory=dict)
    log: list[LogRecord] = field(default_factory=list)  # LogEntry, or a command's record of the same shape
    # Row height (points) of each appended row, parallel to ``appends``; None keeps the copied one.
    append_heights: dict[str, list[float | None]] = field(default_factory=dict)
    # Custom heights (points) of rows the change set writes, for sheets the program owns (the summary).
    row_heights: dict[str, dict[int, float]] = field(default_factory=dict)
    # Whole sheets the master lacks, to be added: name → rows (the header first). Only program-owned
    # sheets declared in model/schema (the parts sheet of a master made before it existed); the
    # writer builds each with its Table and layout and grafts it into the file (io/xlsx_graft).
    # Cells and appended rows addressed to such a sheet land in these rows.
    new_sheets: dict[str, list[list[CellValue]]] = field(default_factory=dict)
    # Print footers: sheet → {element of <headerFooter> ("oddFooter") → its new right part, codes
    # included (model/footer.as_of_part)}. The writer replaces only a right part the program wrote
    # (model/footer.right_is_ours); staff's own text and the left and centre parts stay.
    footers: dict[str, dict[str, str]] = field(default_factory=dict)

    def set(self, sheet: str, row: int, col: int, value: CellValue) -> None:
        cells = self.cells.get(sheet)
        if cells is None:
            cells = self.cells[sheet] = Cells()
        if type(cells) is Cells:
            cells.put(row, col, value)
        else:
            cells[(row, col)] = value

    def append(self, sheet: str, values: list[CellValue], *, height: float | None = None) -> None:
        rows = self.appends.setdefault(sheet, [])
        heights = self.append_heights.setdefault(sheet, [])
        # Rows added straight to ``appends`` have no height: keep the lists aligned.
        heights.extend([None] * (len(rows) - len(heights)))
        rows.append(list(values))
        heights.append(height)

    def is_empty(self) -> bool:
        return not (any(self.cells.values()) or any(self.appends.values()) or self.clear_from or self.new_sheets
                    or any(self.footers.values()))

    def cell_count(self) -> int:
        return sum(len(v) for v in self.cells.values()) + sum(
            len(r) for rows in (*self.appends.values(), *self.new_sheets.values()) for r in rows
        )
