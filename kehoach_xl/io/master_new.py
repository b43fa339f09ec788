"""Save a newly built workbook atomically, over an existing master only under the lock and after a backup."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zipfile import ZIP_DEFLATED, ZipFile

from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.cell._writer import write_cell
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.worksheet.dimensions import RowDimension, SheetDimension
from openpyxl.writer.excel import ExcelWriter

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

    def write_rows(self) -> None:
        xf = self.xf.send(True)
        with xf.element("sheetData"):
            for row_idx, row in self.rows():
                self.write_row(xf, row, row_idx)
            s = self._streamed
            for k in range(s.count):
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
