"""Build templates/bao_cao.docx, the docxtpl template of the formal report.

Run ``python templates/build_report_template.py`` after changing this script. The
office may instead edit bao_cao.docx in Word directly (keep the {{ }} and {%p %}
tags); a bao_cao.docx in a ``templates/`` folder next to the master wins.

Layout follows Nghị định 30/2020/NĐ-CP, Phụ lục I: A4, margins top/bottom 20 mm,
left 30 mm, right 15 mm; Times New Roman; national motto block at the top right,
issuing body at the top left, "Số: …/BC-…", place and date in italics, title,
body 14 pt, "Nơi nhận:" (12 pt bold italic, list 11 pt) and the signature block.
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, Twips

FONT = "Times New Roman"
OUT = Path(__file__).resolve().with_name("bao_cao.docx")


def _font(run, size: float, *, bold: bool = False, italic: bool = False) -> None:
    run.font.name = FONT
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.italic = italic
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)


def para(container, text: str = "", size: float = 14, *, bold: bool = False, italic: bool = False,
         align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent: float | None = None, before: float = 0, after: float = 6):
    p = container.add_paragraph()
    p.alignment = align
    pf = p.paragraph_format
    pf.space_before, pf.space_after = Pt(before), Pt(after)
    pf.line_spacing = 1.1
    if indent is not None:
        pf.first_line_indent = Cm(indent)
    if text:
        _font(p.add_run(text), size, bold=bold, italic=italic)
    return p


def short_rule(container, width_cm: float, cell_width_cm: float):
    """A centred short horizontal line (the rule under the motto and the agency name)."""
    p = para(container, "", 6, align=WD_ALIGN_PARAGRAPH.CENTER, after=4)
    side = max(0.0, (cell_width_cm - width_cm) / 2)
    p.paragraph_format.left_indent = Cm(side)
    p.paragraph_format.right_indent = Cm(side)
    pbdr = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(k), v)
    pbdr.append(bottom)
    p._p.get_or_add_pPr().append(pbdr)
    return p


def _no_borders(table) -> None:
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tbl_pr.append(borders)


def _fixed_widths(table, widths_cm: tuple[float, ...]) -> None:
    """Column widths every reader honours: LibreOffice lays a table out from w:tblGrid, Word
    from the cell widths; python-docx leaves the grid equal, so set both and fix the layout."""
    tbl = table._tbl
    grid = tbl.tblGrid
    for col, w in zip(grid.findall(qn("w:gridCol")), widths_cm, strict=True):
        col.set(qn("w:w"), str(int(Cm(w).twips)))
    tbl_pr = tbl.tblPr
    tbl_w = tbl_pr.find(qn("w:tblW"))
    if tbl_w is None:
        tbl_w = OxmlElement("w:tblW")
        tbl_pr.append(tbl_w)
    tbl_w.set(qn("w:w"), str(int(Cm(sum(widths_cm)).twips)))
    tbl_w.set(qn("w:type"), "dxa")
    table.autofit = False  # writes <w:tblLayout w:type="fixed"/>
    _order_tbl_pr(tbl_pr)
    for row in table.rows:
        for cell, w in zip(row.cells, widths_cm, strict=True):
            cell.width = Cm(w)


_TBL_PR_ORDER = ("tblStyle", "tblpPr", "tblOverlap", "bidiVisual", "tblStyleRowBandSize", "tblStyleColBandSize",
                 "tblW", "jc", "tblCellSpacing", "tblInd", "tblBorders", "shd", "tblLayout", "tblCellMar", "tblLook")


def _order_tbl_pr(tbl_pr) -> None:
    """Children of w:tblPr in the order the schema requires (Word rejects some files otherwise)."""
    rank = {qn(f"w:{n}"): i for i, n in enumerate(_TBL_PR_ORDER)}
    children = sorted(tbl_pr, key=lambda el: rank.get(el.tag, len(rank)))
    for el in children:
        tbl_pr.remove(el)
        tbl_pr.append(el)


def _cell(table, r: int, c: int, width_cm: float):
    cell = table.cell(r, c)
    cell.width = Cm(width_cm)
    cell.paragraphs[0]._element.getparent().remove(cell.paragraphs[0]._element)
    return cell


def build(out: Path = OUT) -> Path:
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(14)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    # Word stores margins in whole twips; round up so 20/30/15 mm never come back as 19.99 mm.
    sec.top_margin, sec.bottom_margin = Twips(1134), Twips(1134)
    sec.left_margin, sec.right_margin = Twips(1701), Twips(851)
    _page_numbers(sec)

    # Header: issuing body (left) and national motto (right), no borders.
    head = doc.add_table(rows=1, cols=2)
    head.alignment = WD_TABLE_ALIGNMENT.CENTER
    head.autofit = False
    _no_borders(head)
    # Rendered widths (LibreOffice, 12 pt bold): "SỞ TÀI NGUYÊN VÀ MÔI TRƯỜNG" needs a 7.6 cm cell,
    # "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" 9.3 cm. Together 0.5 cm wider than the text block, so
    # the centred table reaches a quarter centimetre into each margin, as printed forms do.
    left, right = _cell(head, 0, 0, 7.6), _cell(head, 0, 1, 9.4)
    _fixed_widths(head, (7.6, 9.4))
    para(left, "{{ parent_agency_upper }}", 12, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    para(left, "{{ agency_upper }}", 12, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    short_rule(left, 2.5, 7.6)
    para(left, "Số:       /BC-{{ agency_code }}", 13, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    para(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 12, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    para(right, "Độc lập - Tự do - Hạnh phúc", 14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    short_rule(right, 5.5, 9.4)
    para(right, "{{ place }}, ngày {{ day }} tháng {{ month }} năm {{ year }}", 14, italic=True,
         align=WD_ALIGN_PARAGRAPH.CENTER, after=0)

    para(doc, "BÁO CÁO", 14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, before=18, after=0)
    para(doc, "{{ title }}", 14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    short_rule(doc, 4, 16.5)

    # Body: blocks rendered from report_body.txt.j2 (h1 / h2 / bullet / text).
    para(doc, "{%p for b in body %}", 14)
    para(doc, "{%p if b.kind == 'h1' %}", 14)
    # Headings keep with the paragraph after them: never a heading alone at the foot of a page.
    para(doc, "{{ b.text }}", 14, bold=True, indent=1.0, before=6).paragraph_format.keep_with_next = True
    para(doc, "{%p elif b.kind == 'h2' %}", 14)
    para(doc, "{{ b.text }}", 14, bold=True, italic=False, indent=1.0).paragraph_format.keep_with_next = True
    para(doc, "{%p elif b.kind == 'bullet' %}", 14)
    para(doc, "- {{ b.text }}", 14, indent=1.0)
    para(doc, "{%p else %}", 14)
    para(doc, "{{ b.text }}", 14, indent=1.0)
    para(doc, "{%p endif %}", 14)
    para(doc, "{%p endfor %}", 14)

    # Distribution list (left) and signature (right).
    sign = doc.add_table(rows=1, cols=2)
    _no_borders(sign)
    recv, signer = _cell(sign, 0, 0, 8.0), _cell(sign, 0, 1, 8.5)
    _fixed_widths(sign, (8.0, 8.5))
    para(recv, "Nơi nhận:", 12, bold=True, italic=True, align=WD_ALIGN_PARAGRAPH.LEFT, before=6, after=0)
    para(recv, "{%p for r in recipients %}", 11, align=WD_ALIGN_PARAGRAPH.LEFT, after=0)
    para(recv, "- {{ r }}", 11, align=WD_ALIGN_PARAGRAPH.LEFT, after=0)
    para(recv, "{%p endfor %}", 11, align=WD_ALIGN_PARAGRAPH.LEFT, after=0)
    para(signer, "{{ sign_authority }}", 14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, before=6, after=0)
    para(signer, "{{ sign_title }}", 14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    for _ in range(3):
        para(signer, "", 14, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    para(signer, "{{ signer }}", 14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)

    # Appendix: the task table on a new page.
    brk = para(doc, "", 14)
    brk.add_run().add_break(WD_BREAK.PAGE)
    para(doc, "Phụ lục", 14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    para(doc, "DANH MỤC NHIỆM VỤ VÀ TÌNH HÌNH THỰC HIỆN", 14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    para(doc, "(Kèm theo Báo cáo số       /BC-{{ agency_code }} ngày {{ date_text }} của {{ agency }})", 13,
         italic=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=8)
    # Widths from the rendered 12 pt bold headers: no header word is broken ("Thời hạn", "thực hiện").
    # STT holds the plan's own numbering ("I.1"); the task cell ends with the task's ID in brackets.
    headers = ("STT", "Nhiệm vụ", "Đơn vị chủ trì", "Thời hạn", "Tình hình thực hiện", "Kết quả")
    widths = (1.3, 4.8, 2.6, 2.2, 2.4, 3.2)
    table = doc.add_table(rows=4, cols=len(headers))
    table.style = "Table Grid"
    for j, (h, w) in enumerate(zip(headers, widths, strict=True)):
        c = _cell(table, 0, j, w)
        para(c, h, 12, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=0)
    _fixed_widths(table, widths)
    _repeat_header(table.rows[0])
    for row in table.rows:
        _cant_split(row)
    fields = ("{{ x.stt }}", "{{ x.task }}", "{{ x.units }}", "{{ x.deadline }}", "{{ x.state }}", "{{ x.result }}")
    for j, w in enumerate(widths):
        para(_cell(table, 1, j, w), "{%tr for x in appendix %}" if j == 0 else "", 12, after=0)
        para(_cell(table, 2, j, w), fields[j], 12,
             align=WD_ALIGN_PARAGRAPH.CENTER if j in (0, 3) else WD_ALIGN_PARAGRAPH.LEFT, after=0)
        para(_cell(table, 3, j, w), "{%tr endfor %}" if j == 0 else "", 12, after=0)
    doc.core_properties.author = "kehoach_xl"
    doc.core_properties.title = "Mẫu báo cáo tình hình thực hiện kế hoạch"
    doc.save(out)
    return out


def _page_numbers(sec) -> None:
    """NĐ 30/2020: Arabic page number, 13–14 pt upright, centred in the top margin, none on page 1."""
    sec.different_first_page_header_footer = True
    sec.header_distance = Mm(10)
    p = sec.header.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "2"), ("end", None)):
        run = p.add_run()
        _font(run, 14)
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
            run._r.append(el)
        elif text == " PAGE ":
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
            run._r.append(el)
        else:
            run.text = text
    sec.first_page_header.paragraphs[0].text = ""


def _cant_split(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:cantSplit")
    el.set(qn("w:val"), "true")
    tr_pr.insert(0, el)


def _repeat_header(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
