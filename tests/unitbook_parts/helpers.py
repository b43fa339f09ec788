"""Reading an issued unit workbook back as a person sees it (rows by task ID)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from kehoach_xl.model.master import match_headers
from kehoach_xl.model.unitbook import HEADER_ROW, REPORT_SHEET, UNIT_SHEET


def report_rows(path: Path) -> tuple[list[dict[str, Any]], Any]:
    """Each data row as {key: value, "_row": excel row, "_cells": {key: cell}}, and the sheet."""
    wb = load_workbook(path)
    ws = wb[REPORT_SHEET]
    cols, _ = match_headers(UNIT_SHEET, [c.value for c in ws[HEADER_ROW]])
    rows = []
    for r in range(HEADER_ROW + 1, ws.max_row + 1):
        cells = {k: ws.cell(r, j) for k, j in cols.items()}
        rows.append({**{k: c.value for k, c in cells.items()}, "_row": r, "_cells": cells})
    return rows, ws
