"""Splice changed cells into a worksheet part as it is inflated, a window of rows at a time.

:func:`kehoach_xl.io.xlsx_sheet.patch_sheet` takes the part whole: at 50,000 tasks the sheet
"Phần việc" is ~100 MB of XML, inflated, indexed (a record per row) and held while the patched
part is deflated — the write's peak in a merge. An edit that only sets cells (what a merge and a
refresh do to the task and part sheets) needs none of that: each changed row is found and rebuilt
where it is, exactly as the whole-part patch rebuilds it, and every other byte passes through.

How a part goes through :func:`patch_sheet_stream`:

1. The part's start, up to ``<sheetData>``, is read first (a few kilobytes). The same checks as the
   whole patch run on it (no DOCTYPE or entity, UTF-8); its ``<dimension>`` is grown to the cells
   written, which are known from the edit before a byte is made. ``<sheetData/>`` (nothing to find
   rows in) returns None: the caller patches the part whole.
2. The rows follow in windows cut after a row's end tag (``</row>``), each a few megabytes. A window
   is indexed like the whole part (row numbers must rise, across windows too; a row without ``r``
   is the one after the row before it). Each changed row in it is rebuilt by the same
   :class:`~kehoach_xl.io.xlsx_sheet.RowEditor`; a changed row the sheet lacks is made just before
   the next row the sheet has, or before ``</sheetData>``.
3. What follows ``</sheetData>`` passes through unchanged (the edit grows no range), but for the
   print footer's right part, set there as the whole patch sets it (the refresh's "as of" date).

The output is byte for byte what :func:`~kehoach_xl.io.xlsx_sheet.patch_sheet` makes of the same
part and edit (``tests/write/test_sheet_stream.py`` compares them over the patcher's scenarios, cut
into pieces as small as seven bytes). What is held is one window and the pieces made from it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from kehoach_xl.io.xlsx_footer import set_footers
from kehoach_xl.io.xlsx_sheet import (
    Pieces,
    RowEditor,
    SheetEdit,
    SheetPatchError,
    SheetResult,
    Tags,
    check_addresses,
    check_prolog,
    check_shared_formulas,
    index_rows,
    update_dimension,
)
from kehoach_xl.io.xlsx_slices import row_windows
from kehoach_xl.io.xlsx_styles import Styles
from kehoach_xl.model.changes import CellValue
from kehoach_xl.model.changes import by_row as cells_by_row

_SHEET_DATA = re.compile(rb"<(\w+:)?sheetData\b[^>]*?(/?)>")
_HEAD_MAX = 64 << 20  # a part whose rows have not begun by then is not one to stream
WINDOW = 4 << 20  # bytes of rows edited at a time


def streamable(edit: SheetEdit) -> bool:
    """Cells are set (and perhaps the print footer): no appended rows, no cleared range, no heights."""
    return bool(edit.cells) and not edit.appends and edit.clear_from is None and not edit.row_heights


def patch_sheet_stream(read: Callable[[], Iterator[bytes]], edit: SheetEdit, styles: Styles,
                       date1904: bool = False) -> SheetResult | None:
    """The part that ``read()`` yields (in pieces, from its start; called again for each reading of
    the result) with ``edit``'s cells set; None when the part must be patched whole."""
    if not streamable(edit):
        return None
    start, body_start = _head(read())
    if start is None:
        return None
    check_prolog(start)
    head = start[:body_start]
    sd = _SHEET_DATA.search(head)
    assert sd is not None  # _head found it
    if sd.group(2):
        return None  # <sheetData/>: rows would be added into an empty element
    tags = Tags(sd.group(1) or b"")
    by_row = cells_by_row(edit.cells)  # read only: a change set's own rows when it holds them so
    check_addresses(by_row)
    max_row = max(by_row)
    max_col = max(max(changes) for changes in by_row.values())
    result = SheetResult([], cells_written=len(edit.cells), last_col=max_col)
    new_head = update_dimension(head, max_row, max_col, tags.prefix)
    touched = sorted(by_row)

    def emit(editor: RowEditor) -> Iterator[bytes | memoryview]:
        yield new_head
        yield from _body(read(), body_start, tags, touched, by_row, editor, edit.footers, result)
        result.removed_formulas = editor.removed_formulas

    def pieces() -> Iterator[bytes | memoryview]:
        editor = RowEditor(tags, styles, date1904)
        yield from emit(editor)
        if editor.removed_shared:  # rare (see patch_sheet): the part is made again, whole, to look
            check_shared_formulas(b"".join(emit(RowEditor(tags, styles, date1904))), editor.removed_shared, tags)

    result.chunks = Pieces(pieces)
    return result


def _head(chunks: Iterator[bytes]) -> tuple[bytes | None, int]:
    """The part's first bytes, through the ``<sheetData>`` start tag and at least the 4,096 the prolog
    check looks at, and the offset just past that tag."""
    buf = b""
    found = 0
    for chunk in chunks:
        buf += chunk
        if not found:
            m = _SHEET_DATA.search(buf)
            found = m.end() if m is not None else 0
            if not found and len(buf) > _HEAD_MAX:
                break
        if found and len(buf) >= 4096:
            break
    return (buf, found) if found else (None, 0)


def _body(chunks: Iterator[bytes], skip: int, t: Tags, touched: list[int], by_row: dict[int, dict[int, CellValue]],
          editor: RowEditor, footers: dict[str, str], result: SheetResult) -> Iterator[bytes | memoryview]:
    """The part after its first ``skip`` bytes, the rows in ``touched`` rebuilt and the right part of
    each print footer in ``footers`` set (io/xlsx_footer; ``result.footers_written`` names them)."""
    close = b"</" + t.prefix + b"sheetData>"
    fast_row = editor.fast_row
    no_style: Callable[[int], int | None] = lambda _col: None  # noqa: E731 - no row is appended here
    ti, n_touched = 0, len(touched)
    prev = 0
    for window, rest in row_windows(_after(chunks, skip), WINDOW, end=close, row_end=t.row_close):
        done = rest is not None
        rows = index_rows(window, 0, len(window), t, prev)
        prev = rows[-1].num if rows else prev
        view = memoryview(window)
        pos = 0
        ri, n_rows = 0, len(rows)
        # Past the window's last row, touched rows wait for the next window (the last takes them all).
        limit = None if done else rows[-1].num if rows else 0
        while ti < n_touched and (limit is None or touched[ti] <= limit):
            num = touched[ti]
            ti += 1
            while ri < n_rows and rows[ri].num < num:
                ri += 1
            changes = by_row[num]
            if ri < n_rows and rows[ri].num == num:
                row = rows[ri]
                fast = fast_row(window, row, num, changes)
                if fast is not None:
                    for i, e, new_cell in fast:
                        yield view[pos:i]
                        yield new_cell
                        pos = e
                else:
                    yield view[pos: row.start]
                    yield editor.edit(window[row.start: row.end], num, changes, False, no_style)
                    pos = row.end
            else:  # not in the sheet: made before the next row it has (or before </sheetData>)
                insert_at = rows[ri].start if ri < n_rows else len(window)
                yield view[pos:insert_at]
                pos = insert_at
                row_xml = b"<" + t.prefix + b'row r="%d"' % num + b">" + t.row_close
                yield editor.edit(row_xml, num, changes, False, no_style)
        yield view[pos:]
        del view, window
        if rest is not None:
            if footers:  # what follows the rows (ranges, margins, the footer): a few kilobytes
                tail, result.footers_written = set_footers(b"".join(rest), footers)
                yield tail
            else:
                yield from rest
            return
    raise SheetPatchError("không tìm thấy </sheetData> trong phần bảng tính")


def _after(chunks: Iterator[bytes], skip: int) -> Iterator[bytes]:
    """``chunks`` without their first ``skip`` bytes."""
    for chunk in chunks:
        if skip >= len(chunk):
            skip -= len(chunk)
            continue
        yield chunk[skip:] if skip else chunk
        skip = 0
