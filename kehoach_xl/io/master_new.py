"""Save a newly built workbook atomically, over an existing master only under the lock and after a backup."""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
from collections.abc import Callable, Iterator, Sequence
from copy import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape
from zipfile import ZIP_DEFLATED, ZipFile

from lxml import etree
from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.cell._writer import write_cell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.compat import safe_string
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.worksheet.dimensions import RowDimension, SheetDimension
from openpyxl.writer.excel import ExcelWriter
from openpyxl.xml.constants import SHEET_MAIN_NS
from openpyxl.xml.functions import xmlfile

from kehoach_xl.errors import SetupError


@contextlib.contextmanager
def replacing_master(path: Path) -> Iterator[Path | None]:
    """Guard for replacing a whole workbook at ``path``: yields the backup of the old one (None if new).

    Holds the master's lock, refuses when Excel/LibreOffice has the file open and copies it into
    the writer's backup folder first, so ``init --overwrite`` can be undone with ``restore``.
    """
    if not path.exists():
        yield None
        return
    from kehoach_xl.io import backup as _backup
    from kehoach_xl.io.lock import MasterLock, wait_for_owner_file
    from kehoach_xl.model.config import Config, load_config

    try:
        cfg = load_config(path)
    except SetupError:  # a broken kehoach.toml must not stop a re-init
        cfg = Config()
    lock = MasterLock(path, stale_after=cfg.lock_stale_minutes * 60)
    lock.acquire(timeout=cfg.lock_timeout)
    try:
        wait_for_owner_file(path, stale_hours=cfg.owner_file_stale_hours, wait_seconds=0)
        yield _backup.make_backup(path, operation="init")
    finally:
        lock.release()


# --- the data rows of big sheets, streamed while the workbook is saved ------------------------------
# openpyxl keeps every cell of a sheet as an object until the file is saved: a 50,000-task master
# is millions of them (gigabytes, and most of the time of an import). A sheet builder may instead
# write its header and first data row as usual and leave the rest as a StreamedRows: the rows are
# made one at a time while the sheet is written, by openpyxl's own row and cell writers, and
# dropped at once. Only _save_atomic writes them: a plain ``wb.save`` would leave them out.

STREAMED_ROWS = "_kehoach_streamed_rows"


@dataclass
class StreamedRows:
    """Rows ``first`` … ``first + count - 1`` of a sheet, made when the sheet is written."""

    first: int
    count: int
    # k (0 … count-1) -> the row's cells (detached openpyxl cells, styled, values bound) and its height
    row: Callable[[int], tuple[list[Cell], float | None]]
    # k -> the row's values as its cells hold them, without making the cells (None: from ``row``)
    values: Callable[[int], list[Any]] | None = None
    # The fast path, taken when all three are given: per column the style array every cell of the
    # column ends with, and whether a date keeps it (openpyxl gives a date in a cell without a date
    # format its own format); per row the height. A row with a value the fast path does not write
    # exactly as openpyxl does falls back to ``row``.
    styles: Sequence[StyleArray] | None = None
    dates_keep_style: Sequence[bool] | None = None
    height: Callable[[int], float | None] | None = None

    def row_values(self, k: int) -> list[Any]:
        return self.values(k) if self.values is not None else [c.value for c in self.row(k)[0]]


def stream_rows(ws: Any, rows: StreamedRows) -> None:
    """Leave ``rows`` to be written when the workbook is saved (the sheet holds none of them)."""
    above = max((r for r, _ in ws._cells), default=0)
    if above >= rows.first or any(r >= rows.first for r in ws.row_dimensions):
        raise ValueError(f"sheet {ws.title!r} already has rows from {rows.first}")
    setattr(ws, STREAMED_ROWS, rows)


class _StreamingSheetWriter(WorksheetWriter):
    def __init__(self, ws: Any, rows: StreamedRows) -> None:
        super().__init__(ws)
        self._streamed = rows
        self._row_attrs: dict[float | None, str] = {}

    def get_stream(self) -> Any:
        """openpyxl's ``WorksheetWriter.get_stream``, writing UTF-8 instead of lxml's default ASCII.

        In ASCII every Vietnamese letter becomes a character reference (``&#7879;`` for "ệ"): the
        big sheets came out a fifth larger and every later read (calamine, the writer's row scans)
        spent about a quarter of its time decoding them. Without an XML declaration a part is UTF-8.
        """
        with xmlfile(self.out, encoding="utf-8") as xf, xf.element("worksheet", xmlns=SHEET_MAIN_NS):
            try:
                while True:
                    el = yield
                    if el is True:
                        yield xf
                    elif el is None:  # et_xmlfile chokes
                        continue
                    else:
                        xf.write(el)
            except GeneratorExit:
                pass

    def write_dimensions(self) -> None:
        ref = self.ws.calculate_dimension()
        if self._streamed.count:
            first, _, last = ref.partition(":")
            col = "".join(ch for ch in (last or first) if ch.isalpha())
            ref = f"{first}:{col}{self._streamed.first + self._streamed.count - 1}"
        self.xf.send(SheetDimension(ref).to_tree())

    def write_tables(self) -> None:
        for table in self.ws.tables.values():
            # openpyxl names the columns from ws[table.ref], which would make a cell for every
            # coordinate of the table; the header row is all it reads
            if not table.tableColumns and table.ref.startswith("A1:"):
                table._initialise_columns()
                if table.headerRowCount:
                    for j, col in enumerate(table.tableColumns, start=1):
                        col.name = str(self.ws.cell(row=1, column=j).value)
        super().write_tables()

    def _fast_row(self, k: int, sids: list[str], letters: list[str]) -> Any:
        """Row ``k`` as the <row> element openpyxl's writer makes of its cells, None when it cannot be sure.

        One XML text per row parsed by lxml (its serialiser then escapes exactly as for openpyxl's
        elements) instead of an openpyxl Cell, a style lookup and five writer calls per cell.
        """
        s = self._streamed
        i = s.first + k
        values = s.values(k)  # type: ignore[misc]
        if len(values) > len(sids):
            return None
        out: list[str] = []
        wb = self.ws.parent
        for j, v in enumerate(values):
            head = f'<c r="{letters[j]}{i}" s="{sids[j]}"'
            t = type(v)
            if v is None:
                out.append(head + ' t="n"/>')
            elif t is str:
                if v in ERROR_CODES or "\r" in v or ILLEGAL_CHARACTERS_RE.search(v):
                    return None  # an error value; a CR the XML parser would turn into LF; an error to raise
                if not v:
                    out.append(head + ' t="inlineStr"/>')
                    continue
                space = ' xml:space="preserve"' if v != v.strip() else ""
                out.append(f'{head} t="inlineStr"><is><t{space}>{xml_escape(v)}</t></is></c>')
            elif t is int or t is float:
                if t is float and (math.isnan(v) or math.isinf(v)):
                    return None
                out.append(f'{head} t="n"><v>{safe_string(v)}</v></c>')
            elif (t is dt.date or t is dt.datetime) and s.dates_keep_style[j] and not wb.iso_dates and (  # type: ignore[index]
                    t is dt.date or v.tzinfo is None):
                out.append(f'{head} t="n"><v>{safe_string(to_excel(v, wb.epoch))}</v></c>')
            else:
                return None
        height = s.height(k)  # type: ignore[misc]
        dims = self._row_attrs.get(height)
        if dims is None:  # what openpyxl's RowDimension gives of a height (ht, customHeight), once per height
            dims = "".join(f' {a}="{xml_escape(str(b))}"' for a, b in RowDimension(self.ws, index=i, ht=height)
                           if a != "r") if height is not None else ""
            self._row_attrs[height] = dims
        head = f'<row r="{i}"{dims}>'
        try:
            return etree.fromstring(head + "".join(out) + "</row>")
        except etree.XMLSyntaxError:  # a character XML cannot hold: openpyxl's path raises its own error
            return None

    def write_rows(self) -> None:
        xf = self.xf.send(True)
        s = self._streamed
        fast = s.values is not None and s.styles is not None and s.dates_keep_style is not None and (
            s.height is not None)
        with xf.element("sheetData"):
            for row_idx, row in self.rows():
                self.write_row(xf, row, row_idx)
            # the style ids openpyxl gives these style arrays when it writes a cell: registered the
            # same way and at the same point (after the rows above), so every id comes out the same
            sids = [f"{self.ws.parent._cell_styles.add(copy(st))}" for st in s.styles] if fast else []  # type: ignore[union-attr]
            letters = [get_column_letter(j) for j in range(1, len(sids) + 1)]
            for k in range(s.count):
                el = self._fast_row(k, sids, letters) if fast else None
                if el is not None:
                    xf.write(el)
                    continue
                cells, height = s.row(k)
                i = s.first + k
                attrs = {"r": f"{i}"}
                if height is not None:
                    attrs.update(RowDimension(self.ws, index=i, ht=height))
                with xf.element("row", attrs):
                    for cell in cells:
                        if cell._value is None and not cell.has_style:
                            continue
                        write_cell(xf, self.ws, cell, cell.has_style)
        self.xf.send(None)


class _ExcelWriter(ExcelWriter):
    def write_worksheet(self, ws: Any) -> None:
        rows = getattr(ws, STREAMED_ROWS, None)
        if rows is None or self.workbook.write_only:
            super().write_worksheet(ws)
            return
        # ExcelWriter.write_worksheet with the streaming writer
        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        writer = _StreamingSheetWriter(ws, rows)
        writer.write()
        ws._rels = writer._rels
        self._archive.write(writer.out, ws.path[1:])
        self.manifest.append(ws)
        writer.cleanup()


def _save(wb: Workbook, path: Path) -> None:
    """``wb.save(path)`` (openpyxl's save_workbook), writing the streamed rows of its sheets."""
    archive = ZipFile(path, "w", ZIP_DEFLATED, allowZip64=True)
    wb.properties.modified = dt.datetime.now(tz=dt.UTC).replace(tzinfo=None)
    _ExcelWriter(wb, archive).save()


def _save_atomic(wb: Workbook, path: Path) -> None:
    """Save beside ``path`` and rename over it, so a crash never leaves half a workbook."""
    from kehoach_xl.io.backup import fsync_dir

    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")  # the name the writer cleans up after crashes
    try:
        _save(wb, tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)
