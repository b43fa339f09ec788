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

import html
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import Element

from defusedxml.ElementTree import fromstring

from kehoach_xl.io.xlsx_cells import col_letters, col_number
from kehoach_xl.io.xlsx_sheet import SheetEdit, SheetPatchError, grow_range, patch_sheet
from kehoach_xl.io.xlsx_styles import Styles
from kehoach_xl.io.xlsx_zip import Content, ZipFormatError, ZipPackage
from kehoach_xl.model.changes import MasterChanges

_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_OFFICE_DOC = "/officeDocument"
_TABLE_REL = "/table"
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


def _rels(pkg: ZipPackage, part: str) -> list[tuple[str, str, str]]:
    """(Id, Type, resolved target) of the relationships of ``part``."""
    folder, base = posixpath.split(part)
    rels_name = posixpath.join(folder, "_rels", base + ".rels")
    if rels_name not in pkg.by_name:
        return []
    out = []
    for rel in _parse(pkg, rels_name):
        if rel.get("TargetMode") == "External":
            continue
        target = rel.get("Target", "")
        resolved = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        out.append((rel.get("Id", ""), rel.get("Type", ""), resolved))
    return out


class _Workbook:
    def __init__(self, pkg: ZipPackage) -> None:
        self.pkg = pkg
        main = next((t for _i, ty, t in _rels(pkg, "") if ty.endswith(_OFFICE_DOC)), None)
        if main is None or main not in pkg.by_name:
            raise PatchError("tệp không phải sổ tính Excel (thiếu phần workbook)")
        self.part = main
        root = _parse(pkg, main)
        rels = {i: (ty, t) for i, ty, t in _rels(pkg, main)}
        self.sheets: dict[str, tuple[str, str]] = {}  # name -> (part, sheetId)
        for el in root.iter():
            if _local(el.tag) == "sheet":
                rid = el.get(f"{{{_R_NS}}}id", "")
                if rid in rels:
                    self.sheets[el.get("name", "")] = (rels[rid][1], el.get("sheetId", ""))
            elif _local(el.tag) == "workbookPr":
                self.date1904 = el.get("date1904", "false").lower() in ("1", "true")
        if not hasattr(self, "date1904"):
            self.date1904 = False
        self.styles_part = next((t for ty, t in rels.values() if ty.endswith(_STYLES_REL)), None)
        self.calc_part = next((t for ty, t in rels.values() if ty.endswith(_CALC_REL)), None)

    def sheet_part(self, name: str) -> tuple[str, str]:
        if name not in self.sheets:
            raise PatchError(f"không tìm thấy trang tính “{name}” trong tệp")
        return self.sheets[name]

    def tables(self, sheet_part: str) -> list[_Table]:
        out = []
        for _i, ty, target in _rels(self.pkg, sheet_part):
            if not ty.endswith(_TABLE_REL) or target not in self.pkg.by_name:
                continue
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
    old_end = f"{col_letters(table.last_col)}{table.last_row}".encode()
    new_end = f"{col_letters(table.last_col)}{last_row}".encode()
    start = f"{col_letters(table.first_col)}{table.header_row}".encode()

    def fix(m: re.Match[bytes]) -> bytes:
        return m.group(0).replace(b'"' + start + b":" + old_end + b'"', b'"' + start + b":" + new_end + b'"')

    # Only the table's own start tag and its autoFilter carry the full range.
    xml = re.sub(rb"<(?:\w+:)?(?:table|autoFilter)\b[^>]*>", fix, table.xml, count=2)
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


_DEFINED_NAME = re.compile(r"(<(?:\w+:)?definedName\b[^>]*>)([^<]*)(</(?:\w+:)?definedName>)")
_SHEET_REF = re.compile(r"((?:'(?:[^']|'')+'|[^\s'!:(),=&;<>]+)!)(\$?[A-Z]{1,3}\$?\d+:\$?[A-Z]{1,3}\$?\d+)")


def _grow_defined_names(xml: bytes, sheet: str, last_data: int, new_last: int, header: int) -> bytes:
    """workbook.xml with every defined name's range on ``sheet`` that ended at the last data row
    grown to ``new_last`` (a name staff made for the list, the autofilter's hidden
    ``_xlnm._FilterDatabase``, a print area); names on other sheets and other ranges unchanged."""
    text = xml.decode("utf-8")

    def ref(m: re.Match[str]) -> str:
        qualifier = html.unescape(m.group(1)[:-1])
        name = qualifier[1:-1].replace("''", "'") if qualifier.startswith("'") else qualifier
        if name != sheet:
            return m.group(0)
        return m.group(1) + grow_range(m.group(2), last_data, new_last, header)

    def name(m: re.Match[str]) -> str:
        return m.group(1) + _SHEET_REF.sub(ref, m.group(2)) + m.group(3)

    new = _DEFINED_NAME.sub(name, text)
    return new.encode("utf-8") if new != text else xml


def patch_xlsx(src: Path, dst: Path, changes: MasterChanges, *, compresslevel: int = COMPRESS_LEVEL) -> PatchResult:
    """Write ``src`` with ``changes`` applied to ``dst`` (which may not be ``src``)."""
    src, dst = Path(src), Path(dst)
    if src.resolve() == dst.resolve():
        raise PatchError("tệp đích phải khác tệp nguồn")
    try:
        pkg = ZipPackage.open(src)
    except ZipFormatError as exc:
        raise PatchError(f"{src.name}: {exc}") from exc
    wb = _Workbook(pkg)
    # Sheets the master lacks (the parts sheet of an old master) are added after the patch.
    from kehoach_xl.io.xlsx_graft import graft_sheets, split_new_sheets

    changes, grafts = split_new_sheets(changes, list(wb.sheets))
    styles = Styles(pkg.read(wb.styles_part) if wb.styles_part else None)
    result = PatchResult()
    replace: dict[str, Content] = {}
    calc_xml = pkg.read(wb.calc_part) if wb.calc_part and wb.calc_part in pkg.by_name else None

    sheet_names = set(changes.cells) | set(changes.appends) | set(changes.clear_from)
    for name in sorted(sheet_names):
        cells = changes.cells.get(name, {})
        appends = changes.appends.get(name, [])
        clear_from = changes.clear_from.get(name)
        if not cells and not appends and clear_from is None:
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
            row_heights=changes.row_heights.get(name, {}),
        )
        old_xml = pkg.read(part)
        try:
            res = patch_sheet(old_xml, edit, styles, wb.date1904)
        except SheetPatchError as exc:
            raise PatchError(f"trang tính “{name}”: {exc}") from exc
        if res.cells_written or clear_from is not None:
            # Deflated now: the sheet's old and new XML (100 MB each at 50,000 tasks) are let go
            # before the next sheet is read, instead of all of them living until the package is written.
            replace[part] = pkg.deflate(part, res.chunks, compresslevel)
        res.chunks = []
        del old_xml
        result.cells_written += res.cells_written
        if appends:
            result.rows_appended[name] = res.rows_appended
        if table and res.append_rows:
            last_col = table.first_col + max(len(r) for r in appends) - 1
            grown = _grow_table(table, res.append_rows[1], last_col)
            if grown is not None:
                replace[table.part] = grown
        if res.append_rows:  # defined names over the data grow with it, like the sheet's own ranges
            wb_xml = replace.get(wb.part, pkg.read(wb.part))
            named = _grow_defined_names(bytes(wb_xml), name, res.append_rows[0] - 1, res.append_rows[1],
                                        table.header_row if table else 1)
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
        added = graft_sheets(dst, grafts, compresslevel=compresslevel)
        result.changed_parts += [p for p in added if p not in result.changed_parts]
        result.cells_written += sum(len(r) for rows in grafts.values() for r in rows)
    return result
