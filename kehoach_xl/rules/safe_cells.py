"""The one rule for text that a spreadsheet would run as a formula (CSV/formula injection).

Units type free text, and plans arrive as Word documents: a cell may hold
``=WEBSERVICE("http://…")``, ``=cmd|' /C calc'!A0`` (DDE) or ``@SUM(…)``. The master keeps
such text as text; every workbook and CSV file the program writes must keep it as text too,
also after :func:`kehoach_xl.text.normalize_text` has trimmed a leading space, tab or line
break that hid it. So every writer asks :func:`formula_like` and then:

* xlsx (openpyxl): :func:`put_text` stores the string as a string cell (``data_type 's'``),
  unchanged — nothing is added to what staff read;
* CSV: :func:`csv_text` puts an apostrophe in front (OWASP's advice), which Excel and
  LibreOffice show as text;
* a live workbook through xlwings (``Range.value``): Excel's own text prefix, the same
  apostrophe (see :func:`kehoach_xl.io.livebook.excel_text`).

The surgical patcher (:mod:`kehoach_xl.io.xlsx_cells`) writes every string as an inline
string, which can never be a formula, so it needs no rule.
"""

from __future__ import annotations

import re
from typing import Any

# Characters a spreadsheet treats as the start of a formula: = + - @ and their full-width
# forms (Excel converts ＝ typed with a Vietnamese/CJK input method), tab, CR and LF.
_STARTERS = "=+-@\uff1d\uff0b\uff0d\uff20"
_LEADING_SPACE = re.compile(r"^[\s\u00a0\u200b\ufeff]+")
# DDE without a leading '=' still reads as a link in some importers: app|'topic'!item.
_DDE = re.compile(r"^[A-Za-z0-9_.]+\s*\|.*!", re.DOTALL)


def formula_like(value: Any) -> bool:
    """True when ``value`` is text a spreadsheet could evaluate (also after leading blanks are trimmed)."""
    if not isinstance(value, str) or not value:
        return False
    if value[0] in "\t\r\n":
        return True
    body = _LEADING_SPACE.sub("", value)
    if not body:
        return False
    return body[0] in _STARTERS or bool(_DDE.match(body))


def csv_text(value: Any) -> Any:
    """A CSV field that opens as the same text: formula-like text gets a leading apostrophe."""
    if formula_like(value):
        return "'" + value
    return value


def put_text(cell: Any, value: Any) -> Any:
    """Set an openpyxl cell's value; formula-like text is stored as a string, never a formula."""
    cell.value = value
    if formula_like(value):
        cell.data_type = "s"
    return cell
