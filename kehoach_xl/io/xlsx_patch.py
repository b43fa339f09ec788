"""Surgical writes to an existing .xlsx/.xlsm package.

Loading a workbook with openpyxl and saving it again drops what openpyxl does
not model (text boxes, shapes, sparklines, x14 validations and conditional
formats, slicers, form controls, VBA, …). ``patch_xlsx`` instead rewrites only
the worksheet parts that ``changes`` touches, splicing the changed cells into
their XML, and copies every other zip member through byte for byte (even its
compressed bytes). Other parts are rewritten only when strictly needed:

* ``xl/tables/tableN.xml`` when appended rows must grow a Table's ``ref``;
* ``xl/calcChain.xml`` when a formula cell is replaced by a value (Excel
  reports a damaged file when the calc chain names a cell without a formula);
* ``xl/styles.xml`` when a date must be written and no date cell style that
  looks like the cell's own exists yet.

Strings are written as inline strings, so xl/sharedStrings.xml is never touched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import Element

from defusedxml.ElementTree import fromstring

from kehoach_xl.io.xlsx_package import Parts, rels, sheets, table_parts, workbook_part
from kehoach_xl.io.xlsx_ranges import exact_rule, grow_rule, map_defined_names, map_ranges
from kehoach_xl.io.xlsx_sheet import SheetEdit, SheetPatchError, patch_sheet
from kehoach_xl.io.xlsx_sheet_stream import patch_sheet_stream
from kehoach_xl.io.xlsx_styles import Styles
from kehoach_xl.io.xlsx_zip import Content, ZipFormatError, ZipPackage
from kehoach_xl.model.address import col_letters, col_number
from kehoach_xl.model.changes import MasterChanges

_STYLES_REL = "/styles"
_CALC_REL = "/calcChain"
_RANGE = re.compile(r"\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?")

# Deflate level for rewritten parts. Level 3 (zlib's fastest-but-one family)
# deflates a 20 MB sheet part in ~0.10 s against ~0.24 s at level 6, for a part
# ~15% larger; the rewrite is dominated by this, so speed wins (see bench/).
COMPRESS_LEVEL = 3


class PatchError(ValueError):
    """The master cannot be patched safely; the message is in Vietnamese."""


@dataclass
class PatchResult:
    changed_parts: list[str] = field(default_factory=list)
    cells_written: int = 0
    rows_appended: dict[str, int] = field(default_factory=dict)
    append_rows: dict[str, tuple[int, int]] = field(default_factory=dict)  # sheet → first and last appended row


@dataclass
class _Table:
    part: str
    xml: bytes
    first_col: int
    header_row: int
    last_col: int
    last_row: int
    name: str = ""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _parse(pkg: ZipPackage, name: str) -> Element:
    try:
        return fromstring(pkg.read(name))
    except Exception as exc:  # defusedxml raises on DTDs/entities, ET on bad XML
        raise PatchError(f"không đọc được phần {name} của tệp: {exc}") from exc


class _Workbook:
    def __init__(self, pkg: ZipPackage) -> None:
        self.pkg = pkg
        self.nav = Parts(pkg.by_name.__contains__, lambda name: _parse(pkg, name))
        main = workbook_part(self.nav)
        if main is None:
            raise PatchError("tệp không phải sổ tính Excel (thiếu phần workbook)")
        self.part = main
        root = _parse(pkg, main)
        wb_rels = rels(self.nav, main)
        # name -> (part, sheetId)
        self.sheets: dict[str, tuple[str, str]] = {s.name: (s.part, s.sheet_id) for s in sheets(root, wb_rels)}
        pr = next((el for el in root if _local(el.tag) == "workbookPr"), None)  # a child of <workbook>
        self.date1904 = pr is not None and pr.get("date1904", "false").lower() in ("1", "true")
        self.styles_part = next((r.target for r in wb_rels if r.type.endswith(_STYLES_REL)), None)
        self.calc_part = next((r.target for r in wb_rels if r.type.endswith(_CALC_REL)), None)

    def sheet_part(self, name: str) -> tuple[str, str]:
        if name not in self.sheets:
            raise PatchError(f"không tìm thấy trang tính “{name}” trong tệp")
        return self.sheets[name]

    def tables(self, sheet_part: str) -> list[_Table]:
        out = []
        for target in table_parts(self.nav, sheet_part):
            xml = self.pkg.read(target)
            root = _parse(self.pkg, target)
            m = _RANGE.fullmatch(root.get("ref", ""))
            if not m or not m.group(3):
                continue
            if int(root.get("totalsRowCount", "0") or 0):
                raise PatchError(f"bảng {root.get('name')} có dòng tổng: không thể thêm dòng tự động")
            out.append(_Table(target, xml, col_number(m.group(1)), int(m.group(2)),
                              col_number(m.group(3)), int(m.group(4)), root.get("displayName") or root.get("name", "")))
        return out


def _grow_table(table: _Table, last_row: int, last_col: int) -> bytes | None:
    """The table XML with its ref (and autoFilter ref) reaching ``last_row``, or None."""
    if last_row <= table.last_row:
        return None
    if last_col > table.last_col:
        raise PatchError("dòng thêm mới rộng hơn bảng Excel của trang tính")
    start = f"{col_letters(table.first_col)}{table.header_row}"
    old = f"{start}:{col_letters(table.last_col)}{table.last_row}"
    # The Table's own ref and its autoFilter's carry the full range; appended rows only ever extend it.
    xml = map_ranges(table.xml, exact_rule(old, f"{start}:{col_letters(table.last_col)}{last_row}"))
    return xml if xml != table.xml else None


def _prune_calc_chain(xml: bytes, sheet_id: str, refs: set[str]) -> bytes:
    """Drop calc-chain entries for ``refs`` on sheet ``sheet_id``; i is sticky, so carry it."""
    out: list[bytes] = []
    current = ""
    carry = False  # the next kept entry must state its i explicitly
    pos = 0
    for m in re.finditer(rb"<(?:\w+:)?c\b[^>]*/>", xml):
        tag = m.group(0)
        i = re.search(rb'\si="(\d+)"', tag)
        if i:
            current = i.group(1).decode()
        r = re.search(rb'\sr="([^"]+)"', tag)
        out.append(xml[pos : m.start()])
        pos = m.end()
        if current == sheet_id and r and r.group(1).decode() in refs:
            carry = carry or bool(i)
            continue
        if carry and not i:
            tag = tag[:-2].rstrip() + b' i="%s"/>' % current.encode()
        carry = False
        out.append(tag)
    out.append(xml[pos:])
    return b"".join(out)


# A character reference to a character outside ASCII that XML allows written as itself: what an
# ASCII-encoded part holds for every Vietnamese letter ("&#7879;" for "ệ").
_WIDE_REF = re.compile(rb"&#(?:x([0-9A-Fa-f]{2,6})|(1[2-9]\d|[2-9]\d\d|\d{4,7}));")


def _wide_char(m: re.Match[bytes]) -> bytes:
    hex_, dec = m.group(1), m.group(2)
    n = int(hex_, 16) if hex_ else int(dec)
    if 0x80 <= n <= 0xD7FF or 0xE000 <= n <= 0xFFFD or 0x10000 <= n <= 0x10FFFF:
        return chr(n).encode("utf-8")
    return m.group(0)  # not a character XML may hold as itself (or below 0x80): left as written


def utf8_chunks(chunks: Iterable[bytes | memoryview]) -> Iterator[bytes | memoryview]:
    """``chunks`` of a UTF-8 part with its non-ASCII character references written as the characters
    themselves; a chunk holding none is passed on as it is (a search: ~40 ms over a 50,000-task sheet).

    Masters made before 03/12/2026 held their big sheets in ASCII, every Vietnamese letter a
    reference: about 15 % more XML and a quarter more time in every later read. A rewritten sheet
    comes out in UTF-8; the text is the same text (a reference and its character are one to XML).
    A reference cut between two chunks stays a reference, which is still right.
    """
    search = _WIDE_REF.search
    for chunk in chunks:
        yield _WIDE_REF.sub(_wide_char, chunk) if search(chunk) else chunk


def patch_xlsx(src: Path, dst: Path, changes: MasterChanges, *, compresslevel: int = COMPRESS_LEVEL,
               utf8: bool = False) -> PatchResult:
    """Write ``src`` with ``changes`` applied to ``dst`` (which may not be ``src``).

    ``utf8``: each sheet rewritten comes out with its non-ASCII character references written as
    the characters (:func:`utf8_chunks`).
    """
    src, dst = Path(src), Path(dst)
    if src.resolve() == dst.resolve():
        raise PatchError("tệp đích phải khác tệp nguồn")
    try:
        pkg = ZipPackage.open(src)
    except ZipFormatError as exc:
        raise PatchError(f"{src.name}: {exc}") from exc
    wb = _Workbook(pkg)
    # Sheets the master lacks (the parts sheet of an old master) are added after the patch.
    # (io/xlsx_graft, which builds the sheets with openpyxl, is imported only when there is one)
    from kehoach_xl.model.new_sheets import split_new_sheets

    changes, grafts = split_new_sheets(changes, list(wb.sheets))
    styles = Styles(pkg.read(wb.styles_part) if wb.styles_part else None)
    result = PatchResult()
    replace: dict[str, Content] = {}
    calc_xml = pkg.read(wb.calc_part) if wb.calc_part and wb.calc_part in pkg.by_name else None

    sheet_names = set(changes.cells) | set(changes.appends) | set(changes.clear_from) | set(changes.footers)
    for name in sorted(sheet_names):
        cells = changes.cells.get(name, {})
        appends = changes.appends.get(name, [])
        clear_from = changes.clear_from.get(name)
        footers = changes.footers.get(name, {})
        if not cells and not appends and clear_from is None and not footers:
            continue
        part, sheet_id = wb.sheet_part(name)
        tables = wb.tables(part) if appends else []
        # Rows are appended to the sheet's task list: the Table the program named, else the longest.
        from kehoach_xl.model.master import task_table  # here: master imports the writer's modules

        table = task_table(tables, name=lambda t: t.name, rows=lambda t: t.last_row - t.header_row) if tables else None
        edit = SheetEdit(
            cells=cells, appends=appends, clear_from=clear_from,
            table=(table.first_col, table.header_row, table.last_row) if table else None,
            append_heights=changes.append_heights.get(name, []),
            row_heights=changes.row_heights.get(name, {}), footers=dict(footers),
        )
        old_xml = b""
        try:
            # Only cells set (a merge's and a refresh's task and part sheets): patched as the part is
            # inflated, a window of rows at a time; anything else, the part whole.
            res = patch_sheet_stream(lambda part=part: pkg.stream(part), edit, styles, wb.date1904)
            if res is None:
                old_xml = pkg.read(part)
                res = patch_sheet(old_xml, edit, styles, wb.date1904)
            if res.cells_written or clear_from is not None or res.footers_written:
                # Deflated now, as the patch makes it: the sheet's new XML is never held whole, and
                # the old (100 MB at 50,000 tasks) is let go before the next sheet is read.
                # (patch_sheet refuses a part in another encoding than UTF-8, so every part here is UTF-8)
                replace[part] = pkg.deflate(part, utf8_chunks(res.chunks) if utf8 else res.chunks, compresslevel)
        except SheetPatchError as exc:  # the patch's own checks run as its pieces are made
            raise PatchError(f"trang tính “{name}”: {exc}") from exc
        res.chunks = []
        del old_xml
        result.cells_written += res.cells_written
        if appends:
            result.rows_appended[name] = res.rows_appended
        if res.append_rows:
            result.append_rows[name] = res.append_rows
        if table and res.append_rows:
            last_col = table.first_col + max(len(r) for r in appends) - 1
            grown = _grow_table(table, res.append_rows[1], last_col)
            if grown is not None:
                replace[table.part] = grown
        if res.append_rows:  # defined names over the data grow with it, like the sheet's own ranges
            wb_xml = replace.get(wb.part, pkg.read(wb.part))
            # (a name staff made for the list, the autofilter's hidden _xlnm._FilterDatabase, a print area)
            named = map_defined_names(bytes(wb_xml), name, grow_rule(res.append_rows[0] - 1, res.append_rows[1],
                                                                     table.header_row if table else 1))
            if named != wb_xml:
                replace[wb.part] = named
        if res.removed_formulas and calc_xml is not None and wb.calc_part:
            pruned = _prune_calc_chain(calc_xml, sheet_id, set(res.removed_formulas))
            if pruned != calc_xml:
                calc_xml = pruned
                replace[wb.calc_part] = pruned
    if styles.changed and wb.styles_part and styles.xml is not None:
        replace[wb.styles_part] = styles.xml
    pkg.write(dst, replace, compresslevel)
    order = {n: i for i, n in enumerate(pkg.names())}
    result.changed_parts = sorted(replace, key=order.__getitem__)
    if grafts:
        from kehoach_xl.io.xlsx_graft import graft_sheets

        added = graft_sheets(dst, grafts, compresslevel=compresslevel)
        result.changed_parts += [p for p in added if p not in result.changed_parts]
        result.cells_written += sum(len(r) for rows in grafts.values() for r in rows)
    return result
