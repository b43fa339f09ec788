"""Hand-written workbooks with the constructs a streamed reader can get wrong (built at test time)."""

from __future__ import annotations

import io
import zipfile

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"

STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="{MAIN}">
<numFmts count="4"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/><numFmt numFmtId="165" formatCode="0.0%"/>
<numFmt numFmtId="166" formatCode="[h]:mm:ss"/><numFmt numFmtId="14" formatCode="mm-dd-yy"/>
<numFmt numFmtId="167" formatCode="#,##0.00 &quot;đ&quot;"/></numFmts>
<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="1"><fill><patternFill patternType="none"/></fill></fills>
<borders count="1"><border/></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="10">
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="9" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="20" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="22" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="167" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
</cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""


def _sheet(rows: str, tail: str = "", *, head: str = "") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN}" xmlns:r="{REL}">'
            f"{head}<sheetData>{rows}</sheetData>{tail}</worksheet>")


def book(sheets: list[tuple[str, str]], *, shared: list[str] | None = None, date1904: bool = False,
         styles: str | None = STYLES, sheet_rels: dict[int, list[tuple[str, str, str]]] | None = None,
         extra: dict[str, str] | None = None, chart_sheet: bool = False) -> bytes:
    """An .xlsx from ``sheets`` [(name, sheet XML)]; ``shared`` are raw ``<si>`` bodies."""
    parts: dict[str, str] = {}
    over = [f'<Override PartName="/xl/workbook.xml" ContentType="{CT}.sheet.main+xml"/>']
    wb_rels, entries = [], []
    for i, (name, xml) in enumerate(sheets, start=1):
        parts[f"xl/worksheets/sheet{i}.xml"] = xml
        over.append(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{CT}.worksheet+xml"/>')
        wb_rels.append(f'<Relationship Id="rId{i}" Type="{REL}/worksheet" Target="worksheets/sheet{i}.xml"/>')
        entries.append(f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"/>')
        rels = (sheet_rels or {}).get(i)
        if rels:
            parts[f"xl/worksheets/_rels/sheet{i}.xml.rels"] = (
                f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
                + "".join(f'<Relationship Id="{a}" Type="{b}" Target="{c}"'
                          + (' TargetMode="External"' if c.startswith("http") else "") + "/>" for a, b, c in rels)
                + "</Relationships>")
    if chart_sheet:
        n = len(sheets) + 1
        parts[f"xl/chartsheets/sheet{n}.xml"] = (f'<chartsheet xmlns="{MAIN}" xmlns:r="{REL}"><sheetPr/>'
                                                 '<sheetViews><sheetView workbookViewId="0"/></sheetViews></chartsheet>')
        parts[f"xl/chartsheets/_rels/sheet{n}.xml.rels"] = f'<?xml version="1.0"?><Relationships xmlns="{PKG}"/>'
        over.append(f'<Override PartName="/xl/chartsheets/sheet{n}.xml" ContentType="{CT}.chartsheet+xml"/>')
        wb_rels.append(f'<Relationship Id="rId{n}" Type="{REL}/chartsheet" Target="chartsheets/sheet{n}.xml"/>')
        entries.append(f'<sheet name="Biểu đồ" sheetId="{n}" r:id="rId{n}"/>')
    if shared is not None:
        parts["xl/sharedStrings.xml"] = (f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" count="{len(shared)}">'
                                         + "".join(f"<si>{s}</si>" for s in shared) + "</sst>")
        over.append(f'<Override PartName="/xl/sharedStrings.xml" ContentType="{CT}.sharedStrings+xml"/>')
        wb_rels.append(f'<Relationship Id="rIdS" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>')
    if styles is not None:
        parts["xl/styles.xml"] = styles
        over.append(f'<Override PartName="/xl/styles.xml" ContentType="{CT}.styles+xml"/>')
        wb_rels.append(f'<Relationship Id="rIdT" Type="{REL}/styles" Target="styles.xml"/>')
    pr = '<workbookPr date1904="1"/>' if date1904 else "<workbookPr/>"
    parts["xl/workbook.xml"] = (f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}">'
                                f"{pr}<sheets>{''.join(entries)}</sheets></workbook>")
    parts["xl/_rels/workbook.xml.rels"] = (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
                                           + "".join(wb_rels) + "</Relationships>")
    parts["_rels/.rels"] = (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
                            f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
                            "</Relationships>")
    parts.update(extra or {})
    for name in extra or {}:
        if name.endswith(".xml") and "comments" in name:
            over.append(f'<Override PartName="/{name}" ContentType="{CT}.comments+xml"/>')
    parts["[Content_Types].xml"] = (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>' + "".join(over) + "</Types>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, text.encode("utf-8"))
    return buf.getvalue()


def c(ref: str, body: str = "", **attrs: str) -> str:
    a = "".join(f' {k}="{v}"' for k, v in attrs.items())
    return f'<c r="{ref}"{a}>{body}</c>' if body else f'<c r="{ref}"{a}/>'


def row(r: int | None, *cells: str, **attrs: str) -> str:
    a = (f' r="{r}"' if r is not None else "") + "".join(f' {k}="{v}"' for k, v in attrs.items())
    return f"<row{a}>{''.join(cells)}</row>"


def sheet(*rows: str, tail: str = "", head: str = "") -> str:
    return _sheet("".join(rows), tail, head=head)
