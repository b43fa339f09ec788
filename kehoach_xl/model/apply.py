"""Changes applied in memory: the grids (and so the MasterData) as a write of them would leave the master.

The nightly job computes merge, validation, refresh and summary one after the other on the
same read, each on the data as the step before leaves it, and writes them all at once. These
pure helpers make that possible: :func:`apply_changes` to raw sheet grids, :func:`combine`
to fold several change sets into one, :func:`changes_anything` to tell a change set that
would leave every cell as it is from one that would not.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from kehoach_xl.model import schema
from kehoach_xl.model.changes import EXCEL_TEXT_MAX, Cells, Link, MasterChanges
from kehoach_xl.model.master import SHEET_ATTRS, MasterData, SheetData, find_sheet_name, read_row, read_value
from kehoach_xl.model.rows import row_maker
from kehoach_xl.text import name_key, normalize_text

Grids = dict[str, list[list[Any]]]


def _cell(v: Any) -> Any:
    """A value as it reads back from the file (a link shows its text)."""
    return v.text if isinstance(v, Link) else v


def _used(row: list[Any]) -> bool:
    return any(v not in (None, "") for v in row)


def apply_changes(grids: Mapping[str, list[list[Any]]], changes: MasterChanges) -> Grids:
    """New grids with ``changes`` applied (clear, then cells, then appended rows, as the writer does).

    Sheets of ``changes`` are found by name as the writer finds them; sheets not in ``grids`` are
    skipped. Only the sheets and rows touched are copied, so the input is never modified.
    """
    out: Grids = dict(grids)
    for name, rows in changes.new_sheets.items():  # a sheet the writer adds, then its cells below
        if find_sheet_name(out, name) is None:
            out[name] = [list(r) for r in rows]
    names = set(changes.cells) | set(changes.appends) | set(changes.clear_from)
    for wanted in names:
        actual = find_sheet_name(out, wanted)
        if actual is None:
            continue
        grid = list(out[actual])  # rows are copied when changed: a 10,000-row sheet is not duplicated
        fresh: set[int] = set()
        start = changes.clear_from.get(wanted)
        if start is not None:
            for r in range(start - 1, len(grid)):
                grid[r] = [None] * len(grid[r])
                fresh.add(r)
        for (r, c), v in changes.cells.get(wanted, {}).items():
            while len(grid) < r:
                fresh.add(len(grid))
                grid.append([])
            if r - 1 not in fresh:
                grid[r - 1] = list(grid[r - 1])
                fresh.add(r - 1)
            row = grid[r - 1]
            if len(row) < c:
                row.extend([None] * (c - len(row)))
            row[c - 1] = _cell(v)
        rows = changes.appends.get(wanted) or []
        if rows:
            last = len(grid)
            while last and not _used(grid[last - 1]):
                last -= 1
            del grid[last:]
            grid.extend([_cell(v) for v in r] for r in rows)
        out[actual] = grid
    return out


def last_used_row(grid: list[list[Any]]) -> int:
    """The Excel row of a grid's last row holding anything (0 for none): where appended rows go after."""
    n = len(grid)
    while n and not _used(grid[n - 1]):
        n -= 1
    return n


def held_in_rows(md: MasterData, grids: Mapping[str, list[list[Any]]]) -> tuple[dict[str, int], Grids]:
    """The sheets ``md`` holds as rows (and the settings): each one's last used row, and the other grids.

    What :func:`follow_changes` needs in place of those sheets' grids, which can then go: at 50,000
    tasks the nightly kept ~110 MiB of grids (and the copies of every row a step changed) beside the rows.
    """
    wanted = [getattr(md, attr).sheet.name for attr in SHEET_ATTRS.values()] + [schema.SETTINGS.name]
    held = {n for w in wanted if (n := find_sheet_name(grids, w)) is not None}
    return {n: last_used_row(grids[n]) for n in held}, {n: g for n, g in grids.items() if n not in held}


def follow_changes(md: MasterData, changes: MasterChanges, last_used: dict[str, int]) -> MasterData | None:
    """``md`` as a write of ``changes`` would leave it, worked out on its rows, without the sheets' grids.

    The same data as ``master_from_grids(apply_changes(grids, changes))`` for the changes the
    night's steps make: cells set in rows the data holds, rows appended below the last used row.
    ``last_used``: each read sheet's last used row (:func:`last_used_row` of its grid when read);
    it is moved on past the appended rows. Rows a change leaves alone keep their dicts, sheets it
    leaves alone their ``SheetData``.

    None, and ``md`` and ``last_used`` untouched, for a change only the grids can follow: a new
    sheet, a sheet cleared, a settings label or a settings row no setting is read from, a cell
    outside the rows held (the header, an empty row), a row left with no value, an appended row
    with nothing in it, a sheet found under two names.
    """
    if changes.new_sheets:
        return None
    touched: dict[str, list[str]] = {}  # sheet key → the names the changes give it (two: refused below)
    for wanted in dict.fromkeys((*changes.cells, *changes.appends, *changes.clear_from)):
        if changes.cells.get(wanted) or changes.appends.get(wanted) or wanted in changes.clear_from:
            touched.setdefault(name_key(wanted), []).append(wanted)  # an empty entry changes nothing
    new: dict[str, Any] = {}
    names = touched.pop(name_key(schema.SETTINGS.name), None)
    if names:
        if len(names) > 1 or names[0] in changes.clear_from or changes.appends.get(names[0]):
            return None
        new["settings"] = _follow_settings(md, changes.cells.get(names[0]) or {})
        if new["settings"] is None:
            return None
    moved: dict[str, int] = {}
    for attr in SHEET_ATTRS.values():
        data = getattr(md, attr)
        sheet = data.sheet
        names = touched.pop(name_key(sheet.name), None)
        if not names:
            continue
        actual = find_sheet_name(md.sheet_names, sheet.name)
        if (len(names) > 1 or names[0] in changes.clear_from or type(data) is not SheetData or not data.present
                or actual is None or actual not in last_used or len(data.columns) < 2):
            return None
        followed = _follow_sheet(data, changes.cells.get(names[0]) or {}, changes.appends.get(names[0]) or [],
                                 last_used[actual])
        if followed is None:
            return None
        new[attr], moved[actual] = followed
    if not new:
        return md  # nothing the rows hold changed: what was worked out from them still holds
    last_used.update(moved)
    return dataclasses.replace(md, **new)  # a new MasterData: its memo starts empty, the data differs


def _follow_settings(md: MasterData, cells: Mapping[tuple[int, int], Any]) -> dict[str, Any] | None:
    """The settings as the cells leave them: only values (column B) of the rows a read takes them from."""
    key_at = {r: k for k, r in md.settings_rows.items()}
    out = dict(md.settings)
    for (r, c), v in cells.items():
        if c != 2 or r not in key_at:
            return None  # a label, or a row no setting is read from: a read by label may find another
        out[key_at[r]] = read_value(_cell(v))
    return out


def _follow_sheet(data: SheetData, cells: Mapping[tuple[int, int], Any], appends: list[list[Any]],
                  last: int) -> tuple[SheetData, int] | None:
    keys = list(data.columns)
    key_at = {c: k for k, c in data.columns.items()}
    make = row_maker(keys)  # changed rows on one new key table, as a read makes them
    rows = list(data.rows)
    numbers = data.row_numbers
    if cells:
        index = {r: i for i, r in enumerate(numbers)}
        changed: dict[int, dict[str, Any]] = {}
        for (r, c), v in cells.items():
            i = index.get(r)
            if i is None:
                return None
            key = key_at.get(c)
            if key is None:
                continue  # a column the rows do not hold (staff's own): nothing to follow
            row = changed.get(i)
            if row is None:
                row = changed[i] = make(map(rows[i].get, keys))
            row[key] = read_value(_cell(v))
        for i, row in changed.items():
            if all(v is None for v in row.values()):
                return None  # a read would drop the row: only the grid knows what else it holds
            rows[i] = row
    if appends:
        numbers = list(numbers)
        places = [j - 1 for j in data.columns.values()]
        for values in appends:
            cells_of = [_cell(v) for v in values]
            if not _used(cells_of):
                return None
            last += 1
            got = read_row(cells_of, places)  # as a read of the sheet would take the row
            if any(v is not None for v in got):
                rows.append(make(got))
                numbers.append(last)
    out = SheetData(sheet=data.sheet, present=True, columns=data.columns, headers=data.headers, rows=rows,
                    row_numbers=numbers, missing=data.missing, header_row=data.header_row)
    return out, last


def combine(parts: Iterable[MasterChanges], *, consume: bool = False) -> MasterChanges:
    """One change set doing what ``parts`` do in order: a later cell wins, a later clear drops the
    earlier cells it covers, appended rows and log entries are concatenated, a later footer wins.

    ``consume``: the parts are not used again, so their dicts and lists are taken over rather than
    copied (the nightly at 50,000 tasks: the merge's million cells and hundred thousand history rows
    were copied while the parts were still held, the night's peak).
    """
    out = MasterChanges()
    for ch in parts:
        for sheet, start in ch.clear_from.items():
            cells = out.cells.get(sheet)
            if cells:
                out.cells[sheet] = Cells((k, v) for k, v in cells.items() if k[0] < start)
            out.clear_from[sheet] = min(start, out.clear_from.get(sheet, start))
        for sheet, cells in ch.cells.items():
            if consume and sheet not in out.cells:
                out.cells[sheet] = cells
            else:
                out.cells.setdefault(sheet, Cells()).update(cells)
        for sheet, rows in ch.appends.items():
            heights = list(ch.append_heights.get(sheet, [])[: len(rows)])
            heights.extend([None] * (len(rows) - len(heights)))
            if consume and sheet not in out.appends:
                out.appends[sheet], out.append_heights[sheet] = rows, heights
                continue
            got = out.appends.setdefault(sheet, [])
            got_heights = out.append_heights.setdefault(sheet, [])
            got_heights.extend([None] * (len(got) - len(got_heights)))  # rows added with no height
            got.extend(rows if consume else [list(values) for values in rows])
            got_heights.extend(heights)
        for sheet, hs in ch.row_heights.items():
            out.row_heights.setdefault(sheet, {}).update(hs)
        out.log.extend(ch.log)
        out.new_sheets.update(ch.new_sheets)
        for sheet, parts in ch.footers.items():
            out.footers.setdefault(sheet, {}).update(parts)
    return out


def same_value(a: Any, b: Any) -> bool:
    """Equal as the workbook holds them: '' is empty, 5.0 is 5, a midnight datetime is its date, a
    text longer than a cell is what the writer keeps of it (else the sheet never equals it)."""
    a, b = _cell(a), _cell(b)
    if isinstance(a, str):
        a = normalize_text(a[:EXCEL_TEXT_MAX], keep_newlines=True) or None
    if isinstance(b, str):
        b = normalize_text(b[:EXCEL_TEXT_MAX], keep_newlines=True) or None
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, dt.datetime) and a.time() == dt.time(0):
        a = a.date()
    if isinstance(b, dt.datetime) and b.time() == dt.time(0):
        b = b.date()
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) \
            and not isinstance(b, bool):
        return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)))
    return type(a) is type(b) and a == b


def _value(grid: list[list[Any]], r: int, c: int) -> Any:
    return grid[r - 1][c - 1] if r <= len(grid) and c <= len(grid[r - 1]) else None


def changes_anything(grids: Mapping[str, list[list[Any]]], changes: MasterChanges,
                     ignore: Iterable[tuple[str, int, int]] = ()) -> bool:
    """Whether writing ``changes`` would change a value of ``grids`` (log entries aside).

    ``ignore`` lists (sheet, row, col) cells whose change alone is no reason to write (a
    "checked at" time). A sheet missing from ``grids`` counts as changed.
    """
    skip = {(find_sheet_name(grids, s) or s, r, c) for s, r, c in ignore}
    if any(changes.appends.values()) or any(find_sheet_name(grids, s) is None for s in changes.new_sheets):
        return True
    after = apply_changes(grids, changes)
    for wanted in set(changes.cells) | set(changes.clear_from):
        actual = find_sheet_name(grids, wanted)
        if actual is None:
            return True
        old, new = grids[actual], after[actual]
        if wanted not in changes.clear_from:  # only the cells set can differ
            if any((actual, r, c) not in skip and not same_value(_value(old, r, c), v)
                   for (r, c), v in changes.cells.get(wanted, {}).items()):
                return True
            continue
        rows = max(len(old), len(new))
        for r in range(1, rows + 1):
            cols = max(len(old[r - 1]) if r <= len(old) else 0, len(new[r - 1]) if r <= len(new) else 0)
            for c in range(1, cols + 1):
                if (actual, r, c) not in skip and not same_value(_value(old, r, c), _value(new, r, c)):
                    return True
    return False
