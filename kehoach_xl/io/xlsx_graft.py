"""Add a whole program-owned sheet (with its Excel Table) to an existing workbook file.

The surgical writer (:mod:`kehoach_xl.io.xlsx_patch`) only patches sheets a master already has.
A master made before a sheet existed (the parts sheet "Phần việc" of a 0.1.0 master) gains it
here: the sheet is built with openpyxl in a small workbook of its own (styles, Table, colours by
deadline state, print setup), and its parts are grafted into the master's package —

* the sheet XML, its strings made inline (the master's shared strings are never touched) and its
  style indexes moved past the master's own (fonts, fills, borders, number formats, cell formats
  and conditional-format styles appended to the master's ``styles.xml``);
* the Table part, renamed to a free ``tableN.xml`` with a free id, and the sheet's rels;
* a ``<sheet>`` entry in ``workbook.xml`` (right after the task sheet), its relationship and its
  ``[Content_Types].xml`` overrides, and the print titles; sheet-local defined names and the
  active tab after it shift by one.

Every other member of the package keeps its content. It runs once per master and sheet, so the
package is simply rewritten with ``zipfile``.
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import zipfile
from collections.abc import Mapping, Sequence
from copy import copy
from pathlib import Path
from typing import Any

from lxml import etree
from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.table import Table, TableStyleInfo

from kehoach_xl.io.xlsx_print import a4_one_page_wide
from kehoach_xl.model import schema
from kehoach_xl.model.changes import CellValue
from kehoach_xl.model.schema import Sheet
from kehoach_xl.rules.layout import row_height
from kehoach_xl.rules.safe_cells import put_text
from kehoach_xl.vn import DATE_FORMAT

__all__ = ["GraftError", "graft_sheets", "style_owned_sheet", "sheet_workbook"]

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
_WS_TYPE = _R + "/worksheet"
_WS_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_TABLE_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)

# The layout of a program-owned Table sheet (same look as the master's other sheets).
FONT = "Times New Roman"
_HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
_HEADER_FONT = Font(name=FONT, sz=12, bold=True, color="FFFFFF")
_BODY_FONT = Font(name=FONT, sz=12)
_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")
_CENTER = Alignment(horizontal="center", vertical="top", wrap_text=True)
_CF_MIN_ROWS = 2000  # rows coloured by deadline state, so rows appended later are coloured too


class GraftError(ValueError):
    """The sheet cannot be added to this file; the message is in Vietnamese."""


def _sheet_of(name: str) -> Sheet:
    for s in schema.ALL_SHEETS:
        if s.name == name:
            return s
    raise GraftError(f"không có mô tả trang tính “{name}” để thêm vào sổ")


def style_owned_sheet(ws: Any, sheet: Sheet, rows: Sequence[Sequence[CellValue]]) -> None:
    """Write ``rows`` (header first) into ``ws`` laid out as a program-owned Table sheet.

    Wrapped bold headers, declared widths, borders on the data only, Vietnamese number and date
    formats, rows as high as their text, colours by deadline state (as the task sheet), frozen
    header, A4 landscape one page wide. Used for new masters and for the graft alike.
    """
    cols = sheet.columns
    header = list(rows[0]) if rows else [c.header for c in cols]
    data = [list(r) for r in rows[1:]] or [[None] * len(cols)]  # a Table needs one data row
    for j, (col, text) in enumerate(zip(cols, header, strict=False), start=1):
        c = ws.cell(row=1, column=j, value=text)
        c.font, c.fill, c.alignment, c.border = _HEADER_FONT, _HEADER_FILL, _CENTER, _BORDER
        ws.column_dimensions[get_column_letter(j)].width = col.width
    ws.row_dimensions[1].height = 48
    centred = {"int", "percent", "date", "datetime"}
    # One styled cell per column, its style array copied to the others: setting fonts and borders
    # cell by cell costs openpyxl a hash lookup each (minutes on a sheet of 30,000 parts).
    templates = []
    for j, col in enumerate(cols, start=1):
        c = ws.cell(row=2, column=j)
        c.font, c.border = _BODY_FONT, _BORDER
        c.alignment = _CENTER if col.type in centred or col.key in ("stt", "task_id", "period") else _WRAP
        if col.type in ("date", "datetime"):
            c.number_format = DATE_FORMAT
        elif col.type in ("percent", "int"):
            c.number_format = "0"
        templates.append(copy(c._style))
    for i, values in enumerate(data, start=2):
        for j in range(1, len(cols) + 1):
            v = values[j - 1] if j - 1 < len(values) else None
            c = put_text(ws.cell(row=i, column=j), v)
            c._style = copy(templates[j - 1])
        ws.row_dimensions[i].height = row_height(dict(zip(sheet.keys, values, strict=False)), cols)
    last_col = get_column_letter(len(cols))
    if sheet.table_name:
        table = Table(displayName=sheet.table_name, ref=f"A1:{last_col}{len(data) + 1}")
        table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
        ws.add_table(table)
    if "deadline_state" in sheet.keys:
        state = get_column_letter(sheet.keys.index("deadline_state") + 1)
        rng = f"A2:{last_col}{max(len(data) + 1, _CF_MIN_ROWS)}"
        for code, colour in schema.STATE_COLOURS.items():
            ws.conditional_formatting.add(rng, FormulaRule(
                formula=[f'${state}2="{schema.DEADLINE_STATES[code]}"'],
                fill=PatternFill("solid", bgColor=colour), stopIfTrue=True))
    ws.freeze_panes = "A2"
    a4_one_page_wide(ws, side=0.3)
    ws.oddFooter.center.text = f'&"{FONT},Regular"&10{sheet.name} – Trang &P/&N'


def sheet_workbook(name: str, rows: Sequence[Sequence[CellValue]]) -> bytes:
    """A small workbook holding only the sheet ``name`` laid out by :func:`style_owned_sheet`."""
    wb = Workbook()
    ws = wb.active
    ws.title = name
    style_owned_sheet(ws, _sheet_of(name), rows)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --- change sets --------------------------------------------------------------------------------------

# --- the package ----------------------------------------------------------------------------------------

def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _xml(data: bytes) -> etree._Element:
    return etree.fromstring(data, _PARSER)


def _dump(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _rels_name(part: str) -> str:
    d, f = posixpath.split(part)
    return posixpath.join(d, "_rels", f + ".rels")


def _resolve(base: str, target: str) -> str:
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))


_STYLE_ORDER = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs",
                "tableStyles", "colors", "extLst")


def _child(root: etree._Element, tag: str) -> etree._Element:
    """``root``'s ``tag`` list element, created at its schema position when missing."""
    el = root.find(_q(_MAIN, tag))
    if el is not None:
        return el
    el = etree.Element(_q(_MAIN, tag), count="0")
    rank = _STYLE_ORDER.index(tag)
    for k, existing in enumerate(root):
        local = etree.QName(existing).localname
        if local in _STYLE_ORDER and _STYLE_ORDER.index(local) > rank:
            root.insert(k, el)
            return el
    root.append(el)
    return el


def _merge_styles(master: etree._Element, small: etree._Element) -> tuple[int, int]:
    """Append the small workbook's styles to the master's; (cellXfs offset, dxfs offset)."""
    numfmt: dict[str, str] = {}
    s_fmts = small.find(_q(_MAIN, "numFmts"))
    if s_fmts is not None and len(s_fmts):
        m_fmts = _child(master, "numFmts")
        by_code = {f.get("formatCode"): f.get("numFmtId") for f in m_fmts}
        next_id = max([int(f.get("numFmtId", "0")) for f in m_fmts] + [163]) + 1
        for f in s_fmts:
            code = f.get("formatCode")
            if code not in by_code:
                by_code[code] = str(next_id)
                m_fmts.append(etree.Element(_q(_MAIN, "numFmt"), numFmtId=str(next_id), formatCode=code or ""))
                next_id += 1
            numfmt[f.get("numFmtId", "")] = by_code[code]
        m_fmts.set("count", str(len(m_fmts)))
    offsets: dict[str, int] = {}
    for tag in ("fonts", "fills", "borders", "cellXfs", "dxfs"):
        src = small.find(_q(_MAIN, tag))
        dst = _child(master, tag)
        offsets[tag] = len(dst)
        for el in src if src is not None else ():
            el = etree.fromstring(etree.tostring(el), _PARSER)
            if tag == "cellXfs":
                for attr, key in (("fontId", "fonts"), ("fillId", "fills"), ("borderId", "borders")):
                    if el.get(attr) is not None:
                        el.set(attr, str(int(el.get(attr)) + offsets[key]))
                if el.get("numFmtId") in numfmt:
                    el.set("numFmtId", numfmt[el.get("numFmtId")])
                el.set("xfId", "0")
            dst.append(el)
        dst.set("count", str(len(dst)))
    return offsets["cellXfs"], offsets["dxfs"]


def _inline_sheet(sheet: etree._Element, shared: list[str], xf_off: int, dxf_off: int) -> None:
    """Shared strings made inline; style and conditional-format indexes moved past the master's."""
    for c in sheet.iter(_q(_MAIN, "c")):
        if c.get("s") is not None:
            c.set("s", str(int(c.get("s")) + xf_off))
        if c.get("t") == "s":
            v = c.find(_q(_MAIN, "v"))
            text = shared[int(v.text)] if v is not None and v.text else ""
            if v is not None:
                c.remove(v)
            c.set("t", "inlineStr")
            is_ = etree.SubElement(c, _q(_MAIN, "is"))
            t = etree.SubElement(is_, _q(_MAIN, "t"))
            t.text = text
            t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    for row in sheet.iter(_q(_MAIN, "row")):
        if row.get("s") is not None:
            row.set("s", str(int(row.get("s")) + xf_off))
    for col in sheet.iter(_q(_MAIN, "col")):
        if col.get("style") is not None:
            col.set("style", str(int(col.get("style")) + xf_off))
    for rule in sheet.iter(_q(_MAIN, "cfRule")):
        if rule.get("dxfId") is not None:
            rule.set("dxfId", str(int(rule.get("dxfId")) + dxf_off))


def _shared_strings(z: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in z.namelist():
        return []
    out = []
    for si in _xml(z.read("xl/sharedStrings.xml")).iter(_q(_MAIN, "si")):
        out.append("".join(t.text or "" for t in si.iter(_q(_MAIN, "t"))))
    return out


def _free(names: Sequence[str], pattern: str) -> int:
    nums = [int(m.group(1)) for n in names if (m := re.fullmatch(pattern, n))]
    return max(nums, default=0) + 1


def graft_sheets(path: Path | str, sheets: Mapping[str, Sequence[Sequence[CellValue]]], *,
                 after: str = schema.TASKS.name, compresslevel: int = 6) -> list[str]:
    """Add each sheet of ``sheets`` (name → rows, header first) to the workbook file at ``path``, in place.

    Returns the package parts written or added. ``after``: the sheet the new ones follow (else last).
    """
    path = Path(path)
    with zipfile.ZipFile(path) as zin:
        infos = zin.infolist()
        members = {i.filename: zin.read(i.filename) for i in infos}
    names = list(members)
    root_rels = _xml(members["_rels/.rels"])
    wb_part = next(_resolve("", r.get("Target", "")) for r in root_rels.iter(_q(_PKG, "Relationship"))
                   if r.get("Type", "").endswith("/officeDocument"))
    wb_dir = posixpath.dirname(wb_part)
    wb = _xml(members[wb_part])
    wb_rels_name = _rels_name(wb_part)
    wb_rels = _xml(members[wb_rels_name])
    rel_targets = {r.get("Id"): (r.get("Type", ""), _resolve(wb_dir, r.get("Target", "")))
                   for r in wb_rels.iter(_q(_PKG, "Relationship"))}
    styles_part = next((t for ty, t in rel_targets.values() if ty.endswith("/styles")), None)
    if styles_part is None or styles_part not in members:
        raise GraftError("tệp không có phần định dạng (styles)")
    styles = _xml(members[styles_part])
    ctypes = _xml(members["[Content_Types].xml"])
    sheets_el = wb.find(_q(_MAIN, "sheets"))
    if sheets_el is None:
        raise GraftError("tệp không có danh sách trang tính")
    written: list[str] = []
    for name, rows in sheets.items():
        if any(s.get("name") == name for s in sheets_el):
            continue
        with zipfile.ZipFile(io.BytesIO(sheet_workbook(name, rows))) as small:
            s_names = small.namelist()
            s_sheet = _xml(small.read("xl/worksheets/sheet1.xml"))
            s_styles = _xml(small.read("xl/styles.xml"))
            shared = _shared_strings(small)
            table_src = next((n for n in s_names if n.startswith("xl/tables/")), None)
            table = _xml(small.read(table_src)) if table_src else None
        xf_off, dxf_off = _merge_styles(styles, s_styles)
        _inline_sheet(s_sheet, shared, xf_off, dxf_off)
        n_sheet = _free(names, r"xl/worksheets/sheet(\d+)\.xml")
        sheet_part = f"xl/worksheets/sheet{n_sheet}.xml"
        # The table part: a free name and id; the sheet's tableParts point at it through new rels.
        table_parts = s_sheet.find(_q(_MAIN, "tableParts"))
        if table is not None and table_parts is not None:
            n_table = _free(names, r"xl/tables/table(\d+)\.xml")
            table_part = f"xl/tables/table{n_table}.xml"
            ids = [int(_xml(members[n]).get("id", "0")) for n in names if re.fullmatch(r"xl/tables/table\d+\.xml", n)]
            table.set("id", str(max(ids, default=0) + 1))
            for tp in table_parts:
                tp.set(_q(_R, "id"), "rId1")
            rels = etree.Element(_q(_PKG, "Relationships"), nsmap={None: _PKG})
            etree.SubElement(rels, _q(_PKG, "Relationship"), Id="rId1", Type=_R + "/table",
                             Target=f"../tables/table{n_table}.xml")
            members[table_part] = _dump(table)
            members[_rels_name(sheet_part)] = _dump(rels)
            names += [table_part, _rels_name(sheet_part)]
            etree.SubElement(ctypes, _q(_CT, "Override"), PartName="/" + table_part, ContentType=_TABLE_CT)
            written += [table_part, _rels_name(sheet_part)]
        members[sheet_part] = _dump(s_sheet)
        names.append(sheet_part)
        etree.SubElement(ctypes, _q(_CT, "Override"), PartName="/" + sheet_part, ContentType=_WS_CT)
        # workbook.xml: the sheet entry after ``after``, its relationship, print titles, shifted local names.
        rid = "rIdKx" + str(_free(list(rel_targets), r"rIdKx(\d+)"))
        rel_targets[rid] = (_WS_TYPE, sheet_part)
        etree.SubElement(wb_rels, _q(_PKG, "Relationship"), Id=rid, Type=_WS_TYPE,
                         Target=posixpath.relpath(sheet_part, wb_dir or "."))
        sheet_id = max((int(s.get("sheetId", "0")) for s in sheets_el), default=0) + 1
        pos = next((k + 1 for k, s in enumerate(sheets_el) if s.get("name") == after), len(sheets_el))
        entry = etree.Element(_q(_MAIN, "sheet"), name=name, sheetId=str(sheet_id))
        entry.set(_q(_R, "id"), rid)
        sheets_el.insert(pos, entry)
        dn_el = wb.find(_q(_MAIN, "definedNames"))
        for dn in dn_el if dn_el is not None else ():
            local = dn.get("localSheetId")
            if local is not None and int(local) >= pos:
                dn.set("localSheetId", str(int(local) + 1))
        for view in wb.iter(_q(_MAIN, "workbookView")):
            for attr in ("activeTab", "firstSheet"):
                if view.get(attr) is not None and int(view.get(attr)) >= pos:
                    view.set(attr, str(int(view.get(attr)) + 1))
        if dn_el is None:
            dn_el = etree.Element(_q(_MAIN, "definedNames"))
            sheets_el.addnext(dn_el)
        titles = etree.SubElement(dn_el, _q(_MAIN, "definedName"), name="_xlnm.Print_Titles", localSheetId=str(pos))
        titles.text = f"{quote_sheetname(name)}!$1:$1"
        written.append(sheet_part)
    if not written:
        return []
    for part, root in ((wb_part, wb), (wb_rels_name, wb_rels), (styles_part, styles),
                       ("[Content_Types].xml", ctypes)):
        members[part] = _dump(root)
        written.append(part)
    tmp = path.with_name(path.name + ".graft")
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as zout:
            # The package in its own order, the added parts last: readers do not care, and a diff of
            # the package shows only what changed.
            for n in names:
                zout.writestr(n, members[n])
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return written
