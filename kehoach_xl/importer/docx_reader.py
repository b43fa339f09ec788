"""Tables of a Word document as plain rows, merged cells undone.

python-docx's ``row.cells`` repeats a merged cell's text in every grid column
it spans (and in every row of a vertical merge), which would make a group
title look like a full row and a merged STT look like a new item. So the XML
is read directly: a horizontally merged cell gives its text to its first grid
column and empty strings to the rest; a vertically merged continuation cell
is empty (the structure pass then treats the row as a continuation).
"""

from __future__ import annotations

import posixpath
import zipfile
import zlib
from pathlib import Path
from typing import Any

from docx.oxml.ns import qn
from lxml import etree

from kehoach_xl.errors import DataError
from kehoach_xl.importer.model import RawCell, RawTable
from kehoach_xl.text import normalize_text

_W_P, _W_R, _W_T, _W_BR, _W_TAB, _W_CR = (qn("w:p"), qn("w:r"), qn("w:t"), qn("w:br"), qn("w:tab"), qn("w:cr"))
# Tags and attributes looked up once: qn() parses its argument on every call, and the reader asks
# for them in every cell of tables of tens of thousands of rows.
_W_VAL, _W_TYPE, _W_RPR, _W_B, _W_I = qn("w:val"), qn("w:type"), qn("w:rPr"), qn("w:b"), qn("w:i")
_W_TBL, _W_TR, _W_TC, _W_TCPR, _W_GRIDSPAN, _W_VMERGE = (qn("w:tbl"), qn("w:tr"), qn("w:tc"), qn("w:tcPr"),
                                                        qn("w:gridSpan"), qn("w:vMerge"))
_W_RENDERED_BREAK, _W_PPR_BREAK = qn("w:lastRenderedPageBreak"), f"{qn('w:pPr')}/{qn('w:pageBreakBefore')}"


def _on(el) -> bool:
    if el is None:
        return False
    val = el.get(_W_VAL)
    return val is None or val.lower() not in ("0", "false", "off", "none")


def _cell(tc, texts: dict[str, str] | None = None) -> tuple[RawCell, bool]:
    """The cell's text (paragraphs and line breaks as newlines) and whether it broke a page.

    ``texts``: raw text -> cleaned text, shared by the cells of a document (its texts repeat).
    """
    paras: list[str] = []
    runs_b: list[bool] = []
    runs_i: list[bool] = []
    page_break = False
    for p in tc.iter(_W_P):
        parts: list[str] = []
        for r in p.iter(_W_R):
            text = []
            for ch in r:
                if ch.tag == _W_T:
                    text.append(ch.text or "")
                elif ch.tag == _W_TAB:
                    text.append(" ")
                elif ch.tag in (_W_BR, _W_CR):
                    if ch.get(_W_TYPE) == "page":
                        page_break = True
                    else:
                        text.append("\n")
            t = "".join(text)
            if t.strip():
                rpr = r.find(_W_RPR)
                runs_b.append(rpr is not None and _on(rpr.find(_W_B)))
                runs_i.append(rpr is not None and _on(rpr.find(_W_I)))
            parts.append(t)
        paras.append("".join(parts))
    raw = "\n".join(paras)
    if texts is None:
        text = normalize_text(raw, keep_newlines=True)
    elif (text := texts.get(raw)) is None:
        text = texts[raw] = normalize_text(raw, keep_newlines=True)
    return RawCell(text, bool(runs_b) and all(runs_b), bool(runs_i) and all(runs_i)), page_break


def _row_breaks_page(tr) -> bool:
    # a page break in the paragraph before a row, or lastRenderedPageBreak Word leaves behind
    return any(True for _ in tr.iter(_W_RENDERED_BREAK))


_W_BODY = qn("w:body")
_REL_OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
_CT_WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"


def _main_part(z: zipfile.ZipFile) -> str:
    """The name of the document's main part, checked to be a Word document (as python-docx checks it)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    rels = etree.fromstring(z.read("_rels/.rels"), parser)
    target = next((r.get("Target") for r in rels if r.get("Type") == _REL_OFFICE_DOCUMENT), None)
    if not target:
        raise KeyError("officeDocument")
    name = posixpath.normpath(target.lstrip("/"))
    types = etree.fromstring(z.read("[Content_Types].xml"), parser)
    ctype = next((t.get("ContentType") for t in types.iter(f"{_CT}Override")
                  if (t.get("PartName") or "").lstrip("/").lower() == name.lower()), None)
    if ctype is None:
        ext = name.rsplit(".", 1)[-1].lower()
        ctype = next((t.get("ContentType") for t in types.iter(f"{_CT}Default")
                      if (t.get("Extension") or "").lower() == ext), None)
    if ctype != _CT_WORD_MAIN:
        raise ValueError(f"không phải văn bản Word, loại nội dung '{ctype}'")
    return name


def read_docx(path: Path | str) -> tuple[list[RawTable], str]:
    """Every top-level table of the document, and the text of its head.

    The head is every paragraph and every table's text before the first table that has a
    task-table header: the Quốc hiệu block (number, place and date) is usually a table.

    The document is read as it is parsed (lxml's iterparse, with python-docx's parser options:
    blank text dropped, no entities), one body paragraph or table row at a time, each dropped
    once read: a plan of tens of thousands of rows never stands whole in memory as a tree.
    """
    try:
        with zipfile.ZipFile(path) as z, z.open(_main_part(z)) as fh:
            return _read_body(fh)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError, NotImplementedError, zlib.error,
            etree.LxmlError) as exc:  # not a zip, no Word document in it, broken XML or compression …
        raise DataError(f"Không mở được tệp Word '{Path(path).name}': tệp hỏng hoặc không phải .docx ({exc}).") from exc


def _read_body(fh: Any) -> tuple[list[RawTable], str]:
    from kehoach_xl.importer.structure import find_header

    tables: list[RawTable] = []
    preamble: list[str] = []
    head_open = True  # until the task table
    page_pending = False
    texts: dict[str, str] = {}
    rows: list[list[RawCell]] = []
    page_starts: set[int] = set()
    table = None  # the body-level table being read
    # only paragraphs, tables and rows raise events (a cell's runs are read from its finished row)
    for event, el in etree.iterparse(fh, events=("start", "end"), tag=(_W_P, _W_TBL, _W_TR),
                                     remove_blank_text=True, resolve_entities=False, no_network=True):
        parent = el.getparent()
        if event == "start":
            if el.tag == _W_TBL and parent is not None and parent.tag == _W_BODY:
                table = el
                rows, page_starts = [], set()
                if page_pending and tables:
                    page_starts.add(0)
                page_pending = False
            continue
        if el.tag == _W_TR:
            if table is None or parent is not table:
                continue  # a row of a table inside a cell: read with its cell
            cells: list[RawCell] = []
            broke = _row_breaks_page(el)
            for tc in el.iterchildren(_W_TC):
                tcpr = tc.find(_W_TCPR)
                span = 1
                vmerge_continue = False
                if tcpr is not None:
                    gs = tcpr.find(_W_GRIDSPAN)
                    if gs is not None:
                        span = int(gs.get(_W_VAL) or 1)
                    vm = tcpr.find(_W_VMERGE)
                    vmerge_continue = vm is not None and (vm.get(_W_VAL) or "continue") == "continue"
                cell, pb = _cell(tc, texts)
                broke = broke or pb
                cells.append(RawCell(merged_above=True) if vmerge_continue else cell)
                cells.extend(RawCell() for _ in range(span - 1))
            if broke:
                page_starts.add(len(rows))
            rows.append(cells)
        elif parent is None or parent.tag != _W_BODY:
            continue  # a paragraph of a cell, a table inside a cell
        elif el.tag == _W_P:
            txt = "".join(t.text or "" for t in el.iter(_W_T))
            if any(br.get(_W_TYPE) == "page" for br in el.iter(_W_BR)) or el.find(_W_PPR_BREAK) is not None:
                page_pending = True
            if head_open and txt.strip():
                preamble.append(txt)
        elif el is table:
            n = len(tables) + 1
            tables.append(RawTable(n, f"Bảng {n}", rows, list(range(1, len(rows) + 1)), page_starts))
            table = None
            if head_open:
                if find_header(rows) is not None:
                    head_open = False
                else:  # a head table: its cells column by column, as the eye reads the Quốc hiệu block
                    ncol = max((len(r) for r in rows), default=0)
                    preamble += [r[j].text for j in range(ncol) for r in rows if j < len(r) and r[j].text]
        # read: drop it (a row's cells are in ``rows``), so the document never stands whole in memory
        el.clear()
        parent.remove(el)
    return tables, "\n".join(preamble)
