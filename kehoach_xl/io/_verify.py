"""Re-read a freshly written workbook before it may replace the master.

Checks, cheapest first: the zip is whole (CRC of every member this write deflated), the workbook and
every changed XML part parse, openpyxl can open the package, and every cell the
changes set, every appended row and every cleared range reads back as intended
(through python-calamine, an independent reader from the one that wrote it).

python-calamine parses a sheet without holding the GIL, so the zip and XML checks run on a worker thread
while calamine reads the sheets back: every check still runs, and a failure is reported in the order of
the checks (structure, openpyxl, values), whichever finished first. A sheet the write only appended
many rows to (a merge's log and history) is not read back whole: calamine reads it from the first
appended row on, a slice of rows at a time (io/xlsx_appended), and each row is compared as it comes;
a big sheet whose cells only were set is read in slices too, each changed cell compared as its slice
comes (io/xlsx_slices). calamine opens the written file whole only for a sheet read whole.
Comparisons take whole rows first (a row read back equal to the one written is equal as stored) and go cell by cell, through
:func:`same_value`, only where they differ.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import warnings
import zipfile
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from lxml import etree

from kehoach_xl.io.write_errors import VerifyFailedError
from kehoach_xl.io.xlsx_appended import AppendedRows
from kehoach_xl.io.xlsx_package import HARDENED_PARSER, Parts, rels, workbook_part, zip_sheet_map
from kehoach_xl.io.xlsx_slices import SliceUnreadable, sheet_rows
from kehoach_xl.io.xlsx_tail import TailKeeper, last_used_rows
from kehoach_xl.model.changes import Link, MasterChanges

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


_XML_PARTS = (".xml", ".rels", ".vml")


def _fail(master_name: str, what: str) -> VerifyFailedError:
    return VerifyFailedError(
        f"Tệp vừa ghi không đạt bước kiểm tra ({what}). Sổ theo dõi '{master_name}' vẫn giữ nguyên; "
        f"hãy báo lỗi này cho bộ phận kỹ thuật kèm tệp nhật ký."
    )


class _NotWellFormed(Exception):
    pass


def _check_well_formed(zf: zipfile.ZipFile, part: str, keeper: TailKeeper | None = None) -> None:
    """Strict XML well-formedness of a part, streamed: no tree, so a 100 MB sheet costs no memory.

    expat is strict (every tag closed, attributes quoted, legal characters); a
    DOCTYPE is refused outright so no entity can ever be declared or expanded.
    """
    import xml.parsers.expat

    parser = xml.parsers.expat.ParserCreate()

    def no_doctype(*_args: object) -> None:
        raise _NotWellFormed("DOCTYPE")

    parser.StartDoctypeDeclHandler = no_doctype
    try:
        with zf.open(part) as fh:
            while chunk := fh.read(1 << 20):
                parser.Parse(chunk, False)
                if keeper is not None:
                    keeper.feed(chunk)
        parser.Parse(b"", True)
    except xml.parsers.expat.ExpatError as exc:
        raise _NotWellFormed(f"{part}: {exc}") from exc


def _serials(v: Any) -> list[float]:
    """Excel serial numbers a date/time read back may stand for (1900 and 1904 date systems).

    A reader shows a number as a date when the cell's format is a date format, so a
    number written into a date-formatted cell reads back as a date; the stored value
    is still the number.
    """
    if isinstance(v, dt.timedelta):
        return [v.total_seconds() / 86400]
    if isinstance(v, dt.time):
        return [(v.hour * 3600 + v.minute * 60 + v.second + v.microsecond / 1e6) / 86400]
    if isinstance(v, dt.date):
        d = v if isinstance(v, dt.datetime) else dt.datetime.combine(v, dt.time())
        # Excel's 1900 system counts the non-existent 29/02/1900, so readers map serials
        # below 61 one way or the other; accept either there.
        epochs = [dt.datetime(1899, 12, 30), dt.datetime(1904, 1, 1)]
        if d < dt.datetime(1900, 3, 1):
            epochs.append(dt.datetime(1899, 12, 31))
        return [(d - e).total_seconds() / 86400 for e in epochs]
    return []


def same_value(expected: Any, got: Any) -> bool:
    """Equal as stored: 5 == 5.0, a date == that date at midnight, None == ''."""
    te = type(expected)
    if te is type(got) and (te is str or te is int) and expected == got and expected != "":
        return True  # most cells of a write: the very value, as text or a whole number
    if isinstance(expected, Link):
        expected = expected.text  # readers see a link's cached text
    if expected is None or expected == "":
        return got is None or got == ""
    if isinstance(expected, bool) or isinstance(got, bool):
        return isinstance(got, (bool, int, float)) and bool(got) == bool(expected) and float(got) == float(expected)
    if isinstance(expected, (int, float)):
        if isinstance(got, (dt.date, dt.time, dt.timedelta)):
            return any(math.isclose(float(expected), s, abs_tol=1e-6) for s in _serials(got))
        return isinstance(got, (int, float)) and math.isclose(float(expected), float(got), rel_tol=1e-12, abs_tol=1e-12)
    if isinstance(expected, dt.date):
        def as_dt(v: Any) -> dt.datetime | None:
            if isinstance(v, dt.datetime):
                return v
            if isinstance(v, dt.date):
                return dt.datetime.combine(v, dt.time())
            return None

        if isinstance(got, (int, float)):  # the cell kept a number format: compare the stored serial
            return any(math.isclose(float(got), s, abs_tol=1e-6) for s in _serials(expected))
        a, b = as_dt(expected), as_dt(got)
        return b is not None and a is not None and abs((a - b).total_seconds()) < 0.001
    if isinstance(expected, str):
        if not isinstance(got, str):
            return False
        # Excel cannot store C0 control characters; a writer may drop them.
        return got == expected or got == _ILLEGAL.sub("", expected) or got.replace("\r\n", "\n") == expected
    return got == expected


class _LazyBook:
    """The written workbook as calamine opens it, opened only when a sheet is read whole.

    Opened by its path, so calamine reads from the file the parts a check asks for. Given a file
    object it takes the whole file in memory: at 50,000 tasks a night's check of its three small
    sheets (settings, problems, summary) cost ~110 MiB at once and ~50 MiB held, the night's peak.
    The temporary file's name has no suffix calamine knows; a version that will not guess the
    format from the content is given the file object instead."""

    def __init__(self, path: Path) -> None:
        self._path, self._book = path, None

    def _get(self) -> Any:
        if self._book is None:
            from python_calamine import CalamineWorkbook

            try:
                self._book = CalamineWorkbook.from_path(str(self._path))
            except Exception:  # noqa: BLE001 - calamine raises several error types; the file object decides
                with open(self._path, "rb") as fh:
                    self._book = CalamineWorkbook.from_filelike(fh)
        return self._book

    @property
    def sheet_names(self) -> list[str]:
        return self._get().sheet_names

    def get_sheet_by_name(self, name: str) -> Any:
        return self._get().get_sheet_by_name(name)

    def close(self) -> None:
        if self._book is not None:
            self._book.close()


def _grid(wb: Any, name: str) -> list[list[Any]]:
    return wb.get_sheet_by_name(name).to_python(skip_empty_area=False)


def _empty(v: Any) -> bool:
    return v is None or v == ""


def _used(row: list[Any]) -> bool:
    """Some cell of the row holds a value (``_empty`` of every cell, counted in C)."""
    return len(row) > row.count("") + row.count(None)


def _stream_rows(path: Path, part: str, stream: AppendedRows) -> None:
    """Feed a sheet part's bytes to the check of its appended rows (expat checks the same part on the worker)."""
    try:
        with zipfile.ZipFile(path) as zf, zf.open(part) as fh:
            while chunk := fh.read(1 << 20):
                stream.feed(chunk)
    except (zipfile.BadZipFile, KeyError, OSError):
        stream.usable = False  # the structure check says what is wrong with the file
        return
    stream.close()


_SLICED_FROM = 8 << 20  # a sheet part larger than this whose cells only were set is read a slice at a time


def _cells_only(changes: MasterChanges, sheet: str) -> bool:
    return sheet not in changes.appends and sheet not in changes.clear_from and sheet not in changes.new_sheets


def _sliced_check(path: Path, part: str, name: str, changes: MasterChanges, styles: bytes | None,
                  date1904: bool, master_name: str) -> bool:
    """Every changed cell of a sheet of set cells compared as calamine reads the part a slice at a
    time (io/xlsx_slices); False when it cannot be read that way (the whole read decides then).

    Nothing read is kept: each row is compared as it comes and let go. A merge at 50,000 tasks sets
    a million cells in the task sheet and the sheet "Phần việc" (~100 MB of XML); holding the rows
    of the changed cells until a later comparison was ~100 MiB, the peak of the whole write."""
    cells = changes.cells.get(name, {})
    if not cells:
        return True
    width = max(c for _r, c in cells)
    seen = bytearray(max(r for r, _c in cells) + 1)  # rows read back (a row read as empty never comes)
    checked = 0
    try:
        with zipfile.ZipFile(path) as zf, zf.open(part) as fh:
            for r, values in sheet_rows(iter(lambda: fh.read(1 << 20), b""), styles, date1904):
                if r >= len(seen):
                    continue
                seen[r] = 1
                n = len(values)
                for c in range(1, width + 1):
                    want = cells.get((r, c), _ABSENT)
                    if want is not _ABSENT:
                        _check_cell(name, r, c, want, values[c - 1] if c <= n else None, master_name)
                        checked += 1
    except (SliceUnreadable, zipfile.BadZipFile, KeyError, OSError):
        return False  # the whole read (and the structure check says what is wrong with the file)
    if checked < len(cells):  # cells of rows that read back empty: they were to be emptied
        for (r, c), want in cells.items():
            if not seen[r]:
                _check_cell(name, r, c, want, None, master_name)
    return True


_ABSENT = object()


def _check_cell(sheet: str, r: int, c: int, want: Any, got: Any, master_name: str) -> None:
    # The very value read back, of its type (or a whole number read as a float, as readers give numbers),
    # is equal as stored; anything else is judged by same_value.
    if got == want and (type(got) is type(want) or (type(got) is float and type(want) is int)):
        return
    if not same_value(want, got):
        raise _fail(master_name, f"ô {sheet}!R{r}C{c} đọc lại là {got!r}, cần {want!r}")


def _check_structure(path: Path, parts: dict[str, str], sheets: set[str], changed_parts: list[str],
                     tails: dict[str, TailKeeper], master_name: str) -> None:
    """The zip is whole and every changed XML part is well-formed (feeding the tails of append-only sheets)."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            # CRC of what this write deflated: the members it did not touch were copied as the
            # master's own compressed bytes, so inflating them again would only re-check the master.
            # (The XML parts are read whole just below, and reading a member to its end checks its CRC.)
            for part in sorted(p for p in set(changed_parts) & names if not p.endswith(_XML_PARTS)):
                with zf.open(part) as fh:
                    while fh.read(1 << 20):
                        pass
            for part in {*(parts[s] for s in sheets), *changed_parts}:
                if part in names and part.endswith(_XML_PARTS):
                    _check_well_formed(zf, part, tails.get(part))
    except (zipfile.BadZipFile, etree.XMLSyntaxError, _NotWellFormed, KeyError, StopIteration) as exc:
        raise _fail(master_name, f"cấu trúc tệp: {exc}") from exc


def verify_workbook(path: Path, changes: MasterChanges, changed_parts: list[str], *, master_name: str,
                    appended_at: Mapping[str, int] | None = None) -> None:
    """Raise ``VerifyFailedError`` unless ``path`` is a sound workbook holding ``changes``.

    ``appended_at``: sheet → the first row the writer appended there. Many rows appended to a sheet
    the write only appended to are then compared as the part streams past (io/xlsx_appended), from
    that row on, instead of reading the sheet back whole.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            _, parts = zip_sheet_map(zf)
            # Sheets of set cells big enough to be read back a slice at a time (not the whole read).
            sliced = {s for s in changes.cells if _cells_only(changes, s) and s in parts
                      and parts[s] in zf.NameToInfo and zf.getinfo(parts[s]).file_size > _SLICED_FROM}
            # What a slice's workbook needs of the written one; only read when a sheet is read in slices.
            styles, date1904 = _styles_and_dates(zf) if appended_at or sliced else (None, False)
    except (zipfile.BadZipFile, etree.XMLSyntaxError, KeyError, StopIteration) as exc:
        raise _fail(master_name, f"cấu trúc tệp: {exc}") from exc
    sheets = set(changes.cells) | set(changes.appends) | set(changes.clear_from)
    missing = [s for s in sheets | set(changes.footers) if s not in parts]
    if missing:
        raise _fail(master_name, f"thiếu trang {', '.join(missing)}")
    # A sheet the write only appended to (the log, the history) is checked from its end; so is a footer.
    tails = {parts[s]: TailKeeper() for s in sheets if _appends_only(changes, s)}
    tails.update({parts[s]: tails.get(parts[s]) or TailKeeper() for s in changes.footers})
    streams = {s: AppendedRows(s, first, [row for row in changes.appends[s] if _used(row)],
                               lambda r, got, want, s=s: _appended_row_problem(s, r, got, want),
                               styles=styles, date1904=date1904)
               for s, first in (appended_at or {}).items() if s in sheets and _many_appends_only(changes, s)}

    # The zip and XML checks run on a worker thread while calamine reads the sheets back here (it
    # parses without holding the GIL, and in this thread its memory is the memory the write just freed).
    # Whatever finishes first, failures are reported in the order of the checks: structure, openpyxl, values.
    values_failed: Exception | None = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kehoach-verify") as pool:
        structure = pool.submit(_check_structure, path, parts, sheets, changed_parts, tails, master_name)
        try:
            wb = _LazyBook(path)
            try:
                _check_all(wb, changes, master_name,
                           {s: tails[parts[s]] for s in sheets if _appends_only(changes, s)},
                           ready=structure.result, streams=streams,
                           streamed=lambda sheet: _stream_rows(path, parts[sheet], streams[sheet]),
                           sliced=lambda sheet: sheet in sliced and _sliced_check(
                               path, parts[sheet], sheet, changes, styles, date1904, master_name))
            finally:
                wb.close()
        except Exception as exc:  # noqa: BLE001 - reported after the checks that come first
            values_failed = exc
        structure.result()
    _check_footers(path, changes, parts, tails, master_name)

    import openpyxl

    try:
        # openpyxl warns about what it does not model (e.g. a whole-column print area saved by
        # LibreOffice); that is not a fault of the file, and staff should not see it on every write.
        with open(path, "rb") as fh, warnings.catch_warnings():  # a file object: openpyxl refuses the temp suffix
            warnings.simplefilter("ignore", UserWarning)
            openpyxl.load_workbook(fh, read_only=True).close()
    except Exception as exc:  # noqa: BLE001 - any failure to open means the file must not be used
        raise _fail(master_name, f"openpyxl không mở được: {exc}") from exc
    if values_failed is not None:
        raise values_failed


def _styles_and_dates(zf: zipfile.ZipFile) -> tuple[bytes | None, bool]:
    """The written workbook's styles part and whether it counts dates from 1904 (for reading rows alone)."""
    names = set(zf.namelist())
    package = Parts(names.__contains__, lambda name: etree.fromstring(zf.read(name), HARDENED_PARSER))
    main = workbook_part(package)
    if main is None:
        return None, False
    styles = next((r.target for r in rels(package, main) if r.type.endswith("/styles") and r.target in names), None)
    pr = next((el for el in package.parse(main).iter() if isinstance(el.tag, str) and el.tag.endswith("workbookPr")),
              None)
    date1904 = pr is not None and pr.get("date1904", "").strip().lower() in ("1", "true")
    return (zf.read(styles) if styles else None), date1904


def _check_footers(path: Path, changes: MasterChanges, parts: dict[str, str], tails: dict[str, TailKeeper],
                   master_name: str) -> None:
    """Each footer the changes set reads back with its new right part, unless that part is not the
    program's (staff's own text, which the writer leaves as it is)."""
    from kehoach_xl.io.xlsx_footer import footer_text, read_footer, tail_start
    from kehoach_xl.model.footer import right_is_ours, split_sections

    for sheet, wanted in changes.footers.items():
        keeper = tails[parts[sheet]]
        for name, right in wanted.items():
            data = keeper.tail
            # The kept end of the stream (written streamed through expat above) holds it, unless the
            # part ends in more than the kept bytes after its rows: then it is read again.
            text = footer_text(data, name) if tail_start(data) else read_footer(path, parts[sheet], name)
            got = split_sections(text).get("R") if text is not None else None
            if got is not None and got != right and right_is_ours(got):
                raise _fail(master_name, f"chân trang bản in của trang {sheet} không đúng: {text!r}")


_TAIL_ROWS_MAX = 5000  # more appended rows than this: the sheet is read whole anyway


def _only_appended(changes: MasterChanges, sheet: str) -> bool:
    return sheet not in changes.cells and sheet not in changes.clear_from and sheet not in changes.new_sheets


def _appends_only(changes: MasterChanges, sheet: str) -> bool:
    return _only_appended(changes, sheet) and 0 < len(changes.appends.get(sheet, ())) <= _TAIL_ROWS_MAX


def _many_appends_only(changes: MasterChanges, sheet: str) -> bool:
    return _only_appended(changes, sheet) and len(changes.appends.get(sheet, ())) > _TAIL_ROWS_MAX


def _check_all(wb: Any, changes: MasterChanges, master_name: str,
               tails: dict[str, TailKeeper] | None = None, ready: Callable[[], Any] = lambda: None,
               streams: Mapping[str, AppendedRows] | None = None,
               streamed: Callable[[str], Any] = lambda sheet: None,
               sliced: Callable[[str], bool] = lambda sheet: False) -> None:
    """Every changed cell, appended row and cleared range as calamine reads it; ``ready`` returns once
    the tails of the append-only sheets are fed and their streamed appended rows compared."""
    from kehoach_xl.model.new_sheets import split_new_sheets

    added = set(changes.new_sheets) - set(wb.sheet_names) if changes.new_sheets else set()
    if added:
        raise _fail(master_name, f"thiếu trang mới {', '.join(sorted(added))}")
    changes, grafts = split_new_sheets(changes, [])
    for sheet, rows in grafts.items():
        # A sheet added whole reads back row by row (cells and appends addressed to it are in it too).
        grid = _grid(wb, sheet)
        want = MasterChanges()
        for r, row in enumerate(rows, start=1):
            for c, v in enumerate(row, start=1):
                want.set(sheet, r, c, v)
        _check_sheet(grid, sheet, want, master_name)
    tails, streams = tails or {}, streams or {}
    for sheet in sorted(set(changes.cells) | set(changes.appends) | set(changes.clear_from)):
        stream = streams.get(sheet)
        if stream is not None:
            streamed(sheet)  # read here, in slices, while the worker checks the structure
            ready()
            if stream.failure is not None:
                raise _fail(master_name, stream.failure)
            if stream.usable:
                continue  # every appended row compared as the part streamed past
        if sliced(sheet):
            continue  # every changed cell compared as the slices were read
        end = None
        if sheet in tails:
            ready()
            end = last_used_rows(tails[sheet], _count_used(changes.appends.get(sheet, [])))
        grid = _Sparse(*end) if end is not None else _rows_needed(wb, sheet, changes, master_name)
        _check_sheet(grid, sheet, changes, master_name)


class _Sparse:
    """The rows of a sheet a check looks at, by Excel row; every other row reads as empty.

    Whoever builds one keeps every used row from the first of the last used rows the check needs
    to the end, so those are found among the rows it holds.
    """

    def __init__(self, height: int, rows: dict[int, list[Any]], tail: list[int] | None = None,
                 appended_checked: bool = False) -> None:
        self.height, self.rows = height, rows
        self.tail = tail  # the last used rows, when whoever built it knows them
        self.appended_checked = appended_checked  # the appended rows were compared as they were read

    def __len__(self) -> int:
        return self.height

    def __getitem__(self, i: int) -> list[Any]:
        return self.rows.get(i + 1, [])

    def last_used(self, k: int) -> list[int]:
        if k <= 0:
            return []
        if self.tail is not None and len(self.tail) >= k:
            return self.tail[-k:]
        return sorted(r for r, row in self.rows.items() if r <= self.height and _used(row))[-k:]

    def rows_from(self, start: int, stop: int) -> list[int]:
        return sorted(r for r in self.rows if start <= r < stop)


def _rows_needed(wb: Any, name: str, changes: MasterChanges, master_name: str = "") -> Any:
    """The sheet as :func:`_check_sheet` reads it, keeping only the rows it looks at.

    Streamed row by row: the rows holding changed cells and, below a cleared start, the rows with a
    value the change set did not put there. The appended rows (the last used rows, as many as were
    appended) are compared here as they stream past, in a second pass over the rows, and not kept:
    a merge at 50,000 tasks appends a quarter of a million log rows, ~200 MiB as Python lists.
    The whole grid of a 50,000-row sheet as Python values is what the check used to cost.
    """
    sheet = wb.get_sheet_by_name(name)
    start = sheet.start
    if start is None:
        return []
    cells = changes.cells.get(name, {})
    rows_of_cells = {r for r, _c in cells}
    want_rows = [row for row in changes.appends.get(name, []) if _used(row)]
    k = len(want_rows)
    clear = changes.clear_from.get(name)
    cols_of_row: dict[int, set[int]] = {}
    if clear is not None:
        for r, c in cells:
            if r >= clear:
                cols_of_row.setdefault(r, set()).add(c)
    first_col = start[1]  # calamine gives rows from the first row, columns from the first used one
    kept: dict[int, list[Any]] = {}  # for a changed cell or a value below the clear
    last: deque[int] = deque(maxlen=max(k, 1))  # the last k used rows, by number
    r = 0
    for r, values in enumerate(sheet.iter_rows(), start=1):
        if r in rows_of_cells:
            # Above a cleared range only the changed cells are looked at: the row's other values (a
            # task's long texts) are let go at once, not held for every changed row of the sheet.
            kept[r] = values if clear is not None and r >= clear else [
                v if (r, c) in cells else None for c, v in enumerate(values, start=1 + first_col)]
        elif clear is not None and r >= clear and len(values) > values.count("") + values.count(None):
            if _offends(values, cols_of_row.get(r, ()), first_col):
                kept[r] = values
        if k and _used(values):
            last.append(r)
    if r != start[0] + sheet.height:  # not the layout this code knows: read the grid whole, as before
        return sheet.to_python(skip_empty_area=False)
    pad = [None] * first_col
    if first_col:
        kept = {t: pad + values for t, values in kept.items()}
    if not k:
        return _Sparse(r, kept)
    tail = list(last)
    if len(tail) == k:  # fewer: _check_sheet says rows are missing
        at = dict(zip(tail, want_rows, strict=True))
        for t, values in enumerate(sheet.iter_rows(), start=1):
            want = at.get(t)
            if want is not None:
                _check_appended_row(name, t, pad + values if first_col else values, want, master_name)
    return _Sparse(r, kept, tail, appended_checked=True)


def _check_appended_row(sheet: str, r: int, got_row: list[Any], want: list[Any], master_name: str) -> None:
    problem = _appended_row_problem(sheet, r, got_row, want)
    if problem is not None:
        raise _fail(master_name, problem)


def _appended_row_problem(sheet: str, r: int, got_row: list[Any], want: list[Any]) -> str | None:
    n = len(want)
    if got_row[:n] == want or (None in want and got_row[:n] == [("" if v is None else v) for v in want]):
        return None  # the very values read back (equal in Python is equal as stored; empty reads as "")
    for c, v in enumerate(want, start=1):
        got = got_row[c - 1] if c <= len(got_row) else None
        if not same_value(v, got):
            return f"dòng thêm {sheet}!{r} cột {c} đọc lại là {got!r}, cần {v!r}"
    return None


def _count_used(rows: list[list[Any]]) -> int:
    return sum(1 for row in rows if len(row) > row.count("") + row.count(None))


def _offends(row: list[Any], mine: Any, first_col: int = 0) -> bool:
    return any(not _empty(v) and c not in mine for c, v in enumerate(row, start=1 + first_col))


def _last_used(grid: Any, k: int) -> list[int]:
    """The row numbers of the last ``k`` used rows of ``grid``, in order (fewer when it has fewer)."""
    if isinstance(grid, _Sparse):
        return grid.last_used(k)
    tail = []
    r = len(grid)
    while r >= 1 and len(tail) < k:
        if _used(grid[r - 1]):
            tail.append(r)
        r -= 1
    tail.reverse()
    return tail


def _check_sheet(grid: Any, sheet: str, changes: MasterChanges, master_name: str) -> None:
    cells = changes.cells.get(sheet, {})
    height = len(grid)
    row: list[Any] = []
    at = 0
    for (r, c), want in cells.items():
        if r != at:  # a change set holds a row's cells together: look the row up once
            at, row = r, (grid[r - 1] if r <= height else [])
        _check_cell(sheet, r, c, want, row[c - 1] if c <= len(row) else None, master_name)
    appended = changes.appends.get(sheet, [])
    first_appended = None
    if appended:
        # Appended rows are the last used rows of the sheet, in order (all-empty ones cannot be seen).
        # Found from the end: the log and history sheets only grow, a write must not read them all.
        want_rows = [row for row in appended if _used(row)]
        tail = _last_used(grid, len(want_rows))
        if len(tail) < len(want_rows):
            raise _fail(master_name, f"trang {sheet} thiếu dòng được thêm")
        if not (isinstance(grid, _Sparse) and grid.appended_checked):  # _rows_needed compared them as they streamed
            for r, want in zip(tail, want_rows, strict=True):
                _check_appended_row(sheet, r, grid[r - 1], want, master_name)
        first_appended = tail[0] if tail else None
    start = changes.clear_from.get(sheet)
    if start is not None:
        stop = len(grid) + 1 if first_appended is None else min(first_appended, len(grid) + 1)
        rows = grid.rows_from(max(start, 1), stop) if isinstance(grid, _Sparse) else range(max(start, 1), stop)
        for r in rows:
            values = grid[r - 1]
            if not _used(values):
                continue
            for c, v in enumerate(values, start=1):
                if not _empty(v) and (r, c) not in cells:
                    raise _fail(master_name, f"ô {sheet}!R{r}C{c} lẽ ra đã được xóa")
