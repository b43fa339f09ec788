"""Plan tables from .xlsx workbooks and from .csv/.tsv/.txt text.

The text form is what copying a table out of a PDF or Word gives (and the form
of the bundled seed appendix): one row per line, cells separated by tabs,
``<b>``/``<i>`` around bold or italic cell text, and a blank line followed by
the repeated header where a page ended.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from kehoach_xl import vn
from kehoach_xl.errors import DataError
from kehoach_xl.importer.model import RawCell, RawTable
from kehoach_xl.text import normalize_text

_TAG = re.compile(r"</?(b|i|strong|em)>", re.I)
_BR = re.compile(r"<br\s*/?>", re.I)


def _markup_cell(raw: str) -> RawCell:
    s = _BR.sub("\n", raw)
    stripped = s.strip()
    bold = bool(re.fullmatch(r"(?is)<(b|strong)>.*</(b|strong)>", stripped))
    italic = bool(re.fullmatch(r"(?is)<(i|em)>.*</(i|em)>", stripped))
    return RawCell(normalize_text(_TAG.sub("", s), keep_newlines=True), bold, italic)


def _decode(data: bytes, name: str = "") -> str:
    # UTF-16 only with its BOM: without one, any even-length Windows-1258 file "decodes" as UTF-16 garbage.
    encs = ("utf-16",) if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-8-sig", "cp1258")
    for enc in encs:
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise DataError(f"Không đọc được tệp văn bản '{name}': mã hóa ký tự không phải UTF-8, UTF-16 hay Windows-1258.")


def read_text_table(path: Path | str) -> tuple[list[RawTable], str]:
    """One table from delimited text; lines before the first delimited line are the preamble."""
    path = Path(path)
    text = _decode(path.read_bytes(), path.name)
    lines = text.splitlines()
    delim = "\t" if sum("\t" in ln for ln in lines) >= max(1, len(lines) // 4) or path.suffix.lower() in (
        ".tsv", ".txt") else None
    if delim is None:
        sample = "\n".join(lines[:50])
        try:
            delim = csv.Sniffer().sniff(sample, delimiters=",;").delimiter
        except csv.Error:
            delim = ","
    # Tab text from PDFs has bare quotes inside cells; only real CSV uses quoting.
    quoting = csv.QUOTE_NONE if delim == "\t" and not text.lstrip().startswith('"') and '\t"' not in text else (
        csv.QUOTE_MINIMAL)
    reader = csv.reader(io.StringIO(text), delimiter=delim, quoting=quoting)
    rows: list[list[RawCell]] = []
    numbers: list[int] = []
    page_starts: set[int] = set()
    preamble: list[str] = []
    blank_before = False
    last_line = 0
    for rec in reader:
        line = last_line + 1
        last_line = reader.line_num
        if not any(c.strip() for c in rec):
            blank_before = True
            continue
        if len(rec) == 1 and not rows:
            preamble.append(_TAG.sub("", rec[0]).strip("#* "))
            blank_before = False
            continue
        if blank_before and rows:
            page_starts.add(len(rows))
        blank_before = False
        rows.append([_markup_cell(c) for c in rec])
        numbers.append(line)
    return [RawTable(1, path.name, rows, numbers, page_starts)], "\n".join(preamble)


def read_xlsx_tables(path: Path | str) -> tuple[list[RawTable], str]:
    """Every visible sheet as a table (merged ranges give their value to the top-left cell only)."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(str(path), data_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure to open is a data problem for the user
        raise DataError(f"Không mở được tệp Excel '{Path(path).name}': {exc}") from exc
    tables: list[RawTable] = []
    for ws in wb.worksheets:
        if ws.sheet_state != "visible":
            continue
        rows: list[list[RawCell]] = []
        numbers: list[int] = []
        for r in ws.iter_rows():
            cells = []
            for c in r:
                v = c.value
                if v is None:
                    cells.append(RawCell())
                    continue
                if hasattr(v, "strftime"):
                    v = vn.date(v)
                elif isinstance(v, float) and v.is_integer():
                    v = int(v)
                font = c.font
                cells.append(RawCell(normalize_text(v, keep_newlines=True), bool(font and font.b),
                                     bool(font and font.i)))
            if any(c.text for c in cells):
                rows.append(cells)
                numbers.append(r[0].row)
        tables.append(RawTable(len(tables) + 1, ws.title, rows, numbers))
    return tables, ""
