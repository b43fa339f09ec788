"""Sheets a change set adds whole (``MasterChanges.new_sheets``), apart from the cells it patches."""

from __future__ import annotations

from collections.abc import Sequence

from kehoach_xl.model.changes import CellValue, MasterChanges
from kehoach_xl.model.master import find_sheet_name


def split_new_sheets(changes: MasterChanges, existing: Sequence[str]
                     ) -> tuple[MasterChanges, dict[str, list[list[CellValue]]]]:
    """The change set without the sheets to add, and those sheets' rows with their cells and appends folded in.

    A sheet the file already has is not added again: its cells stay ordinary cells.
    """
    grafts: dict[str, list[list[CellValue]]] = {}
    rest = MasterChanges(cells=dict(changes.cells), appends=dict(changes.appends),
                         clear_from=dict(changes.clear_from), log=list(changes.log),
                         append_heights=dict(changes.append_heights),
                         row_heights=dict(changes.row_heights),  # the summary's heights (hidden rows) too
                         footers=dict(changes.footers))
    for name, rows in changes.new_sheets.items():
        if find_sheet_name(existing, name) is not None:
            continue
        grid = [list(r) for r in rows]
        for (r, c), v in sorted(rest.cells.pop(name, {}).items()):
            while len(grid) < r:
                grid.append([])
            if len(grid[r - 1]) < c:
                grid[r - 1].extend([None] * (c - len(grid[r - 1])))
            grid[r - 1][c - 1] = v
        grid.extend(list(r) for r in rest.appends.pop(name, []))
        rest.append_heights.pop(name, None)
        rest.row_heights.pop(name, None)
        grafts[name] = grid
    return rest, grafts
