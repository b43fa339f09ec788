"""Tables of a Word document as plain rows, merged cells undone.

python-docx's ``row.cells`` repeats a merged cell's text in every grid column
it spans (and in every row of a vertical merge), which would make a group
title look like a full row and a merged STT look like a new item. So the XML
is read directly: a horizontally merged cell gives its text to its first grid
column and empty strings to the rest; a vertically merged continuation cell
is empty (the structure pass then treats the row as a continuation).
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.oxml.ns import qn

from kehoach_xl.errors import DataError
from kehoach_xl.importer.model import RawCell, RawTable
from kehoach_xl.text import normalize_text

_W_P, _W_R, _W_T, _W_BR, _W_TAB, _W_CR = (qn("w:p"), qn("w:r"), qn("w:t"), qn("w:br"), qn("w:tab"), qn("w:cr"))


def _on(el) -> bool:
    if el is None:
        return False
    val = el.get(qn("w:val"))
    return val is None or val.lower() not in ("0", "false", "off", "none")


def _cell(tc) -> tuple[RawCell, bool]:
    """The cell's text (paragraphs and line breaks as newlines) and whether it broke a page."""
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
                    if ch.get(qn("w:type")) == "page":
                        page_break = True
                    else:
                        text.append("\n")
            t = "".join(text)
            if t.strip():
                rpr = r.find(qn("w:rPr"))
                runs_b.append(rpr is not None and _on(rpr.find(qn("w:b"))))
                runs_i.append(rpr is not None and _on(rpr.find(qn("w:i"))))
            parts.append(t)
        paras.append("".join(parts))
    text = normalize_text("\n".join(paras), keep_newlines=True)
    return RawCell(text, bool(runs_b) and all(runs_b), bool(runs_i) and all(runs_i)), page_break


def _row_breaks_page(tr) -> bool:
    # a page break in the paragraph before a row, or lastRenderedPageBreak Word leaves behind
    return any(True for _ in tr.iter(qn("w:lastRenderedPageBreak")))


def read_docx(path: Path | str) -> tuple[list[RawTable], str]:
    """Every top-level table of the document, and the text of its head.

    The head is every paragraph and every table's text before the first table that has a
    task-table header: the Quốc hiệu block (number, place and date) is usually a table.
    """
    from kehoach_xl.importer.structure import find_header

    try:
        doc = Document(str(path))
    except Exception as exc:  # noqa: BLE001 - PackageNotFoundError, BadZipFile, KeyError, XML errors …
        raise DataError(f"Không mở được tệp Word '{Path(path).name}': tệp hỏng hoặc không phải .docx ({exc}).") from exc
    body = doc.element.body
    tables: list[RawTable] = []
    preamble: list[str] = []
    head_open = True  # until the task table
    page_pending = False
    for child in body.iterchildren():
        if child.tag == _W_P:
            txt = "".join(t.text or "" for t in child.iter(_W_T))
            if any(br.get(qn("w:type")) == "page" for br in child.iter(_W_BR)) or child.find(
                    f"{qn('w:pPr')}/{qn('w:pageBreakBefore')}") is not None:
                page_pending = True
            if head_open and txt.strip():
                preamble.append(txt)
            continue
        if child.tag != qn("w:tbl"):
            continue
        rows: list[list[RawCell]] = []
        page_starts: set[int] = set()
        if page_pending and tables:
            page_starts.add(0)
        page_pending = False
        for tr in child.iterchildren(qn("w:tr")):
            cells: list[RawCell] = []
            broke = _row_breaks_page(tr)
            for tc in tr.iterchildren(qn("w:tc")):
                tcpr = tc.find(qn("w:tcPr"))
                span = 1
                vmerge_continue = False
                if tcpr is not None:
                    gs = tcpr.find(qn("w:gridSpan"))
                    if gs is not None:
                        span = int(gs.get(qn("w:val")) or 1)
                    vm = tcpr.find(qn("w:vMerge"))
                    vmerge_continue = vm is not None and (vm.get(qn("w:val")) or "continue") == "continue"
                cell, pb = _cell(tc)
                broke = broke or pb
                cells.append(RawCell(merged_above=True) if vmerge_continue else cell)
                cells.extend(RawCell() for _ in range(span - 1))
            if broke:
                page_starts.add(len(rows))
            rows.append(cells)
        n = len(tables) + 1
        tables.append(RawTable(n, f"Bảng {n}", rows, list(range(1, len(rows) + 1)), page_starts))
        if head_open:
            if find_header(rows) is not None:
                head_open = False
            else:  # a head table: its cells column by column, as the eye reads the Quốc hiệu block
                ncol = max((len(r) for r in rows), default=0)
                preamble += [r[j].text for j in range(ncol) for r in rows if j < len(r) and r[j].text]
    return tables, "\n".join(preamble)
