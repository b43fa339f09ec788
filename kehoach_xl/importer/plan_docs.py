"""Word documents made from a plan's text form, with the quirks real appendices have.

Used by the demo (so it imports a real .docx) and by the tests. The text form
is tab-separated: ``<b>``/``<i>`` markup, ``<br>`` for a line break inside a
cell, a blank line where a page ended (the next line is the repeated header).
The document reproduces: the header row repeated after each page break, a row
split across two pages (its rest in the first row of the next page), group
rows as one bold cell merged across the row, an item's STT and criterion
merged vertically over its continuation rows, italic/bold runs, and line breaks
inside cells.
"""

from __future__ import annotations

import re
from pathlib import Path

from docx import Document
from docx.enum.text import WD_BREAK
from docx.oxml import OxmlElement
from docx.shared import Pt

_RUN = re.compile(r"<(b|i)>(.*?)</\1>", re.S)


def _add_text(cell, raw: str) -> None:
    p = cell.paragraphs[0]
    for m_part in re.split(r"(<[bi]>.*?</[bi]>)", raw, flags=re.S):
        if not m_part:
            continue
        m = _RUN.fullmatch(m_part)
        text, bold, italic = (m.group(2), m.group(1) == "b", m.group(1) == "i") if m else (m_part, False, False)
        # " - " bullets inside a cell were line breaks in the Word original
        pieces = re.split(r"<br\s*/?>|(?<=[.;])\s+(?=- )", text)
        for k, piece in enumerate(pieces):
            if k:
                p.add_run().add_break()
            run = p.add_run(piece)
            run.bold, run.italic = bold or None, italic or None


def _repeat_header(row) -> None:
    trpr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    trpr.append(el)


def _page_break(doc) -> None:
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def _read(text_path: Path) -> tuple[list[str], list[list[list[str]]]]:
    """Preamble lines and pages of rows (each page starts with its header row)."""
    preamble: list[str] = []
    pages: list[list[list[str]]] = []
    for line in text_path.read_text(encoding="utf-8").splitlines():
        if "\t" not in line:
            if line.strip() and not pages:
                preamble.append(re.sub(r"[#*]", "", line).strip())
            elif not line.strip() and pages and pages[-1]:
                pages.append([])
            continue
        if not pages:
            pages.append([])
        pages[-1].append(line.split("\t"))
    return preamble, [p for p in pages if p]


def _split_row(row: list[str], ncols: int, task_col: int) -> tuple[list[str], list[str]] | None:
    """Cut a long row in two at a word boundary mid-sentence, as a page break does."""
    words = row[task_col].split(" ")
    if len(words) < 8:
        return None
    for cut in range(len(words) // 2, len(words) - 2):
        left, right = " ".join(words[:cut]), " ".join(words[cut:])
        if not re.search(r"[.;:,]$", left) and right[:1].islower():
            first = list(row)
            first[task_col] = left
            rest = [""] * ncols
            rest[task_col] = right
            return first, rest
    return None


def paginate(rows: list[list[str]], header: list[str], *, page_rows: int, task_col: int) -> list[list[list[str]]]:
    """Pages of ``page_rows`` rows each starting with the header; the row at each page end is split."""
    pages: list[list[list[str]]] = [[header]]
    for row in rows:
        if len(pages[-1]) > page_rows:
            is_task = bool(row[0].strip()) is False or row[0].strip()[:1].isdigit()
            cut = _split_row(row, len(header), task_col) if is_task and row[2:3] != [""] else None
            if cut:
                pages[-1].append(cut[0])
                pages.append([header, cut[1]])
                continue
            pages.append([header])
        pages[-1].append(row)
    return pages


def build_plan_docx(text_path: Path | str, out: Path | str, *, page_rows: int | None = None,
                    table_per_page: bool = False) -> Path:
    """Write ``out`` (.docx) from a plan's text form. ``page_rows`` paginates a clean text."""
    text_path, out = Path(text_path), Path(out)
    preamble, pages = _read(text_path)
    header = pages[0][0]
    ncols = len(header)
    if page_rows:
        body = [r for p in pages for r in p[1:]]
        task_col = next((j for j, h in enumerate(header) if "nhiệm vụ" in h.lower()), 1)
        pages = paginate(body, header, page_rows=page_rows, task_col=task_col)
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(12)
    for i, line in enumerate(preamble):
        p = doc.add_paragraph()
        p.add_run(line).bold = i < 2
    table = None
    for n, page in enumerate(pages):
        if table is None or table_per_page:
            if table is not None:
                _page_break(doc)
            table = doc.add_table(rows=0, cols=ncols)
            table.style = "Table Grid"
        prev_cells = None
        for k, raw in enumerate(page):
            raw = (raw + [""] * ncols)[:ncols]
            row = table.add_row()
            cells = row.cells
            is_header = k == 0
            if is_header:
                if n == 0:
                    _repeat_header(row)
                for j, h in enumerate(raw):
                    cells[j].paragraphs[0].add_run(h).bold = True
                prev_cells = None
                continue
            if re.fullmatch(r"<b>.*</b>", raw[0].strip()) and not any(x.strip() for x in raw[2:]):
                _add_text(cells[0], raw[0])
                merged = cells[1].merge(cells[ncols - 1])
                _add_text(merged, raw[1])
                prev_cells = None
                continue
            first_after_break = k == 1 and n > 0
            continuation = not raw[0].strip() and not raw[1].strip() and prev_cells is not None
            for j, v in enumerate(raw):
                if continuation and j < 2:
                    continue
                _add_text(cells[j], v)
            if continuation and not first_after_break:
                for j in (0, 1):
                    prev_cells[j].merge(cells[j])
            else:
                prev_cells = cells
    out.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(out))
    return out


def build_sample_plan_docx(path: Path | str, name: str = "langson_ddci_2024", *, table_per_page: bool = False) -> Path:
    """The appendix of a bundled sample plan as the Word document it was issued in."""
    from kehoach_xl.model.sample import sample_dir

    d = sample_dir(name)
    if (d / "phu_luc_2.txt").exists():
        return build_plan_docx(d / "phu_luc_2.txt", path, table_per_page=table_per_page)
    return build_plan_docx(d / "phu_luc.tsv", path, page_rows=7, table_per_page=table_per_page)
