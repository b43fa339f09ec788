"""Read one row near the top of a sheet without reading the sheet.

The writer needs the log sheet's header row to know where each log column sits; the log grows
by one row per changed cell, so reading the whole sheet (as a workbook reader does) to look at
its first row costs more with every month of use. Here the sheet part is streamed only up to
the wanted row, and the shared strings only up to the highest index that row uses.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

from lxml import etree

from kehoach_xl.io.xlsx_package import Parts, sheet_map, table_parts
from kehoach_xl.model.address import col_number

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _text(el: Any) -> str:
    """The text of an <si> or <is> element: plain <t>, or the runs' <t> joined (phonetic runs left out)."""
    parts = [t.text or "" for t in el.iter(_MAIN + "t") if t.getparent().tag != _MAIN + "rPh"]
    return "".join(parts)


def _iter(fh: Any, tag: str) -> Any:
    # No DTD, no entities, no network: the master is ours, but staff save it with other tools.
    return etree.iterparse(fh, events=("end",), tag=tag, resolve_entities=False, no_network=True,
                           load_dtd=False, huge_tree=True)


def _ref_column(ref: str) -> int:
    return col_number("".join(ch for ch in ref if ch.isalpha()))


def read_row(path: Path | str, sheet: str, row: int) -> list[Any]:
    """Values of Excel row ``row`` of sheet ``sheet`` (text as text, numbers as float), left to right.

    An empty list when the sheet has no such row; KeyError when there is no such sheet.
    """
    with zipfile.ZipFile(path) as zf:
        _, parts = sheet_map(_parts(zf))
        cells: dict[int, tuple[str, str]] = {}  # column → (type, raw)
        with zf.open(parts[sheet]) as fh:
            for _, el in _iter(fh, _MAIN + "row"):
                num = int(el.get("r") or 0)
                if num == row:
                    col = 0
                    for c in el.iter(_MAIN + "c"):
                        ref = c.get("r")
                        col = _ref_column(ref) if ref else col + 1
                        kind = c.get("t") or "n"
                        if kind == "inlineStr":
                            is_ = c.find(_MAIN + "is")
                            cells[col] = ("str", _text(is_) if is_ is not None else "")
                        else:
                            v = c.find(_MAIN + "v")
                            if v is not None and v.text is not None:
                                cells[col] = (kind, v.text)
                if num >= row:
                    break
                el.clear()
        wanted = {int(raw) for kind, raw in cells.values() if kind == "s"}
        strings = _shared_strings(zf, wanted)
    out: list[Any] = [None] * (max(cells) if cells else 0)
    for col, (kind, raw) in cells.items():
        if kind == "s":
            out[col - 1] = strings.get(int(raw))
        elif kind in ("str", "inlineStr", "e"):
            out[col - 1] = raw
        elif kind == "b":
            out[col - 1] = raw == "1"
        else:
            try:
                out[col - 1] = float(raw)
            except ValueError:
                out[col - 1] = raw
    return out


def _shared_strings(zf: zipfile.ZipFile, wanted: set[int]) -> dict[int, str]:
    """The shared strings at the indexes ``wanted``, reading the table no further than the last one."""
    if not wanted or "xl/sharedStrings.xml" not in zf.namelist():
        return {}
    last = max(wanted)
    out: dict[int, str] = {}
    with zf.open("xl/sharedStrings.xml") as fh:
        for i, (_, el) in enumerate(_iter(fh, _MAIN + "si")):
            if i in wanted:
                out[i] = _text(el)
            el.clear()
            if i >= last:
                break
    return out


def _parts(zf: zipfile.ZipFile) -> Parts:
    names = set(zf.namelist())
    return Parts(names.__contains__, lambda name: etree.fromstring(zf.read(name), _SAFE))


def tables(path: Path | str) -> list[tuple[str, str, int, int]]:
    """(table name, sheet name, first row, last row) of every Excel Table, 1-based rows.

    Read from the small table parts alone: a workbook reader asked for a table loads its cells too.
    """
    out = []
    with zipfile.ZipFile(path) as zf:
        nav = _parts(zf)
        _, parts = sheet_map(nav)
        for sheet, part in parts.items():
            for tpart in table_parts(nav, part):
                t = nav.parse(tpart)
                m = _RANGE.fullmatch(t.get("ref", ""))
                if m:
                    out.append((t.get("displayName") or t.get("name", ""), sheet, int(m.group(1)), int(m.group(2) or m.group(1))))
    return out


_SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
_RANGE = re.compile(r"\$?[A-Z]{1,3}\$?(\d+)(?::\$?[A-Z]{1,3}\$?(\d+))?")
