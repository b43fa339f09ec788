"""The page layout staff print every program-made sheet with: A4, one page wide, as many pages tall as needed."""

from __future__ import annotations

from typing import Any

__all__ = ["a4_one_page_wide"]


def a4_one_page_wide(ws: Any, *, landscape: bool = True, side: float = 0.4, top: float = 0.5,
                     title_rows: str | None = "1:1") -> None:
    """Set an openpyxl worksheet to print on A4, fitted to one page wide (never shrunk to one page tall).

    ``side``/``top``: margins in inches; ``title_rows``: rows repeated at the top of every page.
    """
    if title_rows:
        ws.print_title_rows = title_rows
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = side
    ws.page_margins.top = ws.page_margins.bottom = top
