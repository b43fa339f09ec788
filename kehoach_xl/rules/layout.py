"""Layout rules shared by every workbook the program writes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kehoach_xl.model import schema
from kehoach_xl.text import join_list


def row_height(row: Mapping[str, Any], cols: Sequence[schema.Column]) -> float:
    """Height that shows wrapped text in full.

    Neither Excel nor LibreOffice re-fits row heights of a file on opening, so
    without this a printed page shows long task texts cut or overlapping.
    """
    lines = 1
    for col in cols:
        v = row.get(col.key)
        if v is None or col.type not in ("text", "list", "email"):
            continue
        text = join_list(v) if isinstance(v, (list, tuple)) else str(v)
        per_line = max(col.width * 1.15, 4)
        n = sum(max(1, -(-len(part) // int(per_line))) for part in text.split("\n"))
        lines = max(lines, n)
    return min(15.0 * lines + 3, 409.0)
