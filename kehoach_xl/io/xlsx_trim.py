"""Rewrite list sheets of a workbook keeping only some of their data rows, packed under the header.

The surgical patcher (``io/xlsx_patch``) sets cells and appends rows; it never removes rows, so a
sheet it clears keeps every ``<row>`` (and its Excel Table keeps its length). The archive
(``io/archive_book``) needs the log and history sheets to shrink: this module copies the package
with those sheet parts rebuilt — the kept ``<row>`` elements byte for byte, renumbered in order
under the header, the others dropped — and every range that followed the list's end shrunk with it:
``<dimension>``, the Table's ``ref`` and its ``autoFilter``, a sheet-level ``autoFilter``,
conditional-format and validation ranges, and defined names (``_xlnm._FilterDatabase``, a print
area). Every other member of the package is copied through unchanged.

Refused (``TrimError``, Vietnamese): a data row holding a formula (renumbered, its references
would point elsewhere), merged cells, hyperlinks or comments on the sheet (anchored to rows).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from defusedxml.ElementTree import fromstring

from kehoach_xl.io.xlsx_package import Parts, sheet_map, table_parts
from kehoach_xl.io.xlsx_ranges import exact_rule, map_defined_names, map_ranges, shrink_rule
from kehoach_xl.io.xlsx_zip import Content, ZipFormatError, ZipPackage

__all__ = ["TrimError", "TrimResult", "trim_sheets"]

_ROW_R = re.compile(rb'(\sr=")(\d+)(")')
_CELL_TAG = re.compile(rb"<(?:\w+:)?c\b[^>]*>")
_CELL_R = re.compile(rb'(\sr="[A-Z]{1,3})(\d+)(")')
_RANGE = re.compile(r"^(\$?)([A-Z]{1,3})(\$?)(\d+):(\$?)([A-Z]{1,3})(\$?)(\d+)$")
_FORBIDDEN = (b"mergeCell", b"hyperlink", b"legacyDrawing")


class TrimError(ValueError):
    """The sheet cannot be packed safely; the message is in Vietnamese."""


@dataclass
class TrimResult:
    rows_removed: dict[str, int]
    last_row: dict[str, int]  # the sheet's new last list row
    changed_parts: list[str]


def _parts(pkg: ZipPackage) -> Parts:
    return Parts(pkg.by_name.__contains__, lambda name: fromstring(pkg.read(name)))


def _renumber(row_xml: bytes, num: int) -> bytes:
    k = row_xml.index(b">")
    head = row_xml[: k + 1]
    if _ROW_R.search(head):
        head = _ROW_R.sub(lambda m: m.group(1) + b"%d" % num + m.group(3), head, count=1)
    else:
        head = head[:4] + b' r="%d"' % num + head[4:] if head[1:4] == b"row" else head
    body = _CELL_TAG.sub(lambda m: _CELL_R.sub(lambda c: c.group(1) + b"%d" % num + c.group(3), m.group(0), count=1),
                         row_xml[k + 1:])
    return head + body


def _strip_values(row_xml: bytes) -> bytes:
    """A row's cells without their values (their styles stay): the Table's one empty data row."""
    # (/)? not (/?): an empty group always "matched", so the conditional never consumed a cell's body.
    cells = re.sub(rb"(<(?:\w+:)?c\b[^>]*?)(/)?>(?(2)|.*?</(?:\w+:)?c>)",
                   lambda m: re.sub(rb'\st="[^"]*"', b"", m.group(1)) + b"/>", row_xml, flags=re.S)
    return cells


def _trim_part(xml: bytes, keep: set[int], header: int, name: str) -> tuple[list[bytes], int, int, int]:
    """(new part chunks, rows removed, old last row, new last row)."""
    if re.search(rb"<!DOCTYPE|<!ENTITY", xml[:4096], re.I):
        raise TrimError(f"trang “{name}” có khai báo DOCTYPE/ENTITY: từ chối xử lý")
    sd = re.search(rb"<(\w+:)?sheetData\b[^>]*?(/?)>", xml)
    if sd is None or sd.group(2):
        return [xml], 0, header, header
    prefix = sd.group(1) or b""
    close = b"</" + prefix + b"sheetData>"
    body_start = sd.end()
    body_end = xml.index(close, body_start)
    tail = xml[body_end:]
    for word in _FORBIDDEN:
        if re.search(rb"<(?:\w+:)?" + word + rb"\b", tail):
            raise TrimError(f"trang “{name}” có ô gộp, siêu liên kết hoặc ghi chú gắn vào dòng: không dời dòng "
                            f"tự động được; hãy bỏ chúng trong Excel rồi chạy lại")
    row_open = re.compile(rb"<" + re.escape(prefix) + rb"row\b[^>]*?(/?)>")
    row_close = b"</" + prefix + b"row>"
    kept_head: list[bytes] = []
    kept_data: list[bytes] = []
    template: bytes | None = None
    removed = 0
    old_last = header
    prev = 0
    pos = body_start
    for m in row_open.finditer(xml, body_start, body_end):
        if m.start() < pos:
            continue  # inside a row already taken (cannot happen in well-formed XML)
        r = _ROW_R.search(m.group(0))
        num = int(r.group(2)) if r else prev + 1
        prev = num
        end = m.end() if m.group(1) else xml.index(row_close, m.end()) + len(row_close)
        row_xml = xml[m.start():end]
        pos = end
        if num <= header:
            kept_head.append(row_xml)
            continue
        old_last = max(old_last, num)
        if num in keep:
            if re.search(rb"<" + re.escape(prefix) + rb"f\b", row_xml):
                raise TrimError(f"dòng {num} của trang “{name}” có công thức: không dời dòng tự động được")
            kept_data.append(row_xml)
        else:
            if template is None:
                template = row_xml
            removed += 1
    if removed == 0:
        return [xml], 0, old_last, old_last
    rows = [_renumber(x, header + 1 + i) for i, x in enumerate(kept_data)]
    if not rows and template is not None:  # a Table needs one data row: an empty one, styled like the others
        rows = [_renumber(_strip_values(template), header + 1)]
    new_last = header + max(len(rows), 1)
    head = xml[:body_start]
    head = re.sub(rb'(<(?:\w+:)?dimension\b[^>]*\bref="[A-Z]{1,3}\d+:[A-Z]{1,3})(\d+)(")',
                  lambda mm: mm.group(1) + b"%d" % new_last + mm.group(3), head, count=1)
    chunks = [head, *kept_head, *rows, map_ranges(tail, shrink_rule(old_last, new_last, header))]
    return chunks, removed, old_last, new_last


def _shrink_table(xml: bytes, root: Any, new_last: int) -> bytes:
    """The Table (and its autoFilter) ending on the packed list's last row: every row under the
    header is packed into it, whatever it covered before."""
    m = _RANGE.match(root.get("ref", ""))
    if not m:
        return xml
    header = int(m.group(4))
    first, last_col = m.group(2), m.group(6)
    old = f"{first}{header}:{last_col}{m.group(8)}"
    return map_ranges(xml, exact_rule(old, f"{first}{header}:{last_col}{max(new_last, header + 1)}"))


def trim_sheets(src: Path, dst: Path, keep: Mapping[str, Sequence[int]], *, header_rows: Mapping[str, int],
                compresslevel: int = 3) -> TrimResult:
    """Copy ``src`` to ``dst`` with each sheet of ``keep`` holding only the listed Excel rows below its header.

    ``keep[sheet]``: the Excel row numbers of the data rows that stay (in sheet order they are packed
    under the header row ``header_rows[sheet]``); rows above the header are left as they are.
    """
    try:
        pkg = ZipPackage.open(Path(src))
    except ZipFormatError as exc:
        raise TrimError(f"{Path(src).name}: {exc}") from exc
    nav = _parts(pkg)
    wb_part, parts = sheet_map(nav)
    if wb_part is None:
        raise TrimError("tệp không phải sổ tính Excel (thiếu phần workbook)")
    replace: dict[str, Content] = {}
    result = TrimResult(rows_removed={}, last_row={}, changed_parts=[])
    wb_xml = pkg.read(wb_part)
    for name, rows in keep.items():
        if name not in parts:
            raise TrimError(f"không tìm thấy trang tính “{name}” trong tệp")
        part = parts[name]
        header = header_rows.get(name, 1)
        chunks, removed, old_last, new_last = _trim_part(pkg.read(part), set(rows), header, name)
        result.rows_removed[name] = removed
        result.last_row[name] = new_last
        if not removed:
            continue
        replace[part] = chunks
        for target in table_parts(nav, part):
            table_xml = pkg.read(target)
            root = fromstring(table_xml)
            if int(root.get("totalsRowCount", "0") or 0):
                raise TrimError(f"bảng {root.get('name')} trên trang “{name}” có dòng tổng: không thu gọn được")
            shrunk = _shrink_table(table_xml, root, new_last)
            if shrunk != table_xml:
                replace[target] = shrunk
        wb_xml = map_defined_names(wb_xml, name, shrink_rule(old_last, new_last, header))
    if wb_xml != pkg.read(wb_part):
        replace[wb_part] = wb_xml
    pkg.write(Path(dst), replace, compresslevel)
    order = {n: i for i, n in enumerate(pkg.names())}
    result.changed_parts = sorted(replace, key=order.__getitem__)
    return result

