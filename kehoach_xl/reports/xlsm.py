"""Build the macro-enabled master (.xlsm) with its buttons already placed.

Nothing here writes the VBA binary format. The VBA project is xlwings' own
``vbaProject.bin`` from ``xlwings/quickstart_standalone.xlsm`` (BSD-3, Zoomer
Analytics), copied byte for byte: its standalone ``xlwings`` module provides
``RunPython`` without the add-in and its ``Module1.SampleCall`` runs
``import <workbook stem>; <workbook stem>.main()``. XlsxWriter (a documented
feature: ``add_vba_project`` + ``insert_button``) builds a small template
holding that project and the control sheet “Điều khiển” with the form buttons,
all calling ``SampleCall``. That sheet, its VML drawing and the VBA project are
then grafted into a copy of the master: every part of the master is copied
unchanged except the package's bookkeeping (content types, workbook, its rels),
the appended cell styles and each sheet's ``sheetPr`` code name. An openpyxl
load-and-save (the other way measured) was rejected for the same reason the
safe writer rejects it: it drops shapes, x14 rules and chart details.

A ``<stem>.py`` beside the .xlsm is what ``SampleCall`` imports; it hands the
call to :func:`kehoach_xl.excel.buttons.main`, which works out which button was pressed.
"""

from __future__ import annotations

import copy
import io
import keyword
import re
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lxml import etree

from kehoach_xl.errors import DataError, SetupError
from kehoach_xl.io.master_read import read_master
from kehoach_xl.model import schema
from kehoach_xl.model.controls import ACTION_CAPTIONS, CHOICE_CELL, CHOICE_LABEL, CONTROL_BUTTONS, CONTROL_SHEET
from kehoach_xl.model.master import find_sheet_name
from kehoach_xl.reports.master_book import FONT_NAME
from kehoach_xl.text import slugify

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_OFFICE_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
REL_WORKSHEET = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
REL_VBA = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
REL_VML = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/vmlDrawing"
CT_XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
CT_XLSM_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
CT_VBA = "application/vnd.ms-office.vbaProject"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"

XLWINGS_STANDALONE = "quickstart_standalone.xlsm"
# Document modules of xlwings' VBA project: the workbook's and the sheets' code names follow them
# (XlsxWriter's convention: ThisWorkbook, then Sheet1, Sheet2, … by position).
WORKBOOK_CODE_NAME = "ThisWorkbook"
BUTTON_MACRO = "SampleCall"
# Modules a workbook stem must not shadow: SampleCall would import them instead of the stub.
_RESERVED_MODULES = {"kehoach_xl", "xlwings", "openpyxl", "pandas", "numpy", "lxml", "main"}


@dataclass(frozen=True)
class XlsmParts:
    """What the template contributes, as bytes."""

    sheet_xml: bytes
    sheet_rels: bytes
    vml: bytes
    vba: bytes
    styles: bytes
    shared_strings: bytes | None


def xlwings_vba_project() -> bytes:
    """``xl/vbaProject.bin`` of the xlwings version installed here, unmodified."""
    import xlwings

    src = Path(xlwings.__file__).with_name(XLWINGS_STANDALONE)
    if not src.exists():
        raise SetupError(f"Không tìm thấy {XLWINGS_STANDALONE} trong gói xlwings ({src.parent}); hãy cài lại xlwings.")
    with zipfile.ZipFile(src) as zf:
        return zf.read("xl/vbaProject.bin")


def module_name(xlsm: Path | str) -> str:
    """The Python module ``SampleCall`` imports for this workbook (its stem), checked."""
    stem = Path(xlsm).stem
    ok = stem.isascii() and stem.isidentifier() and not keyword.iskeyword(stem)
    if ok and stem not in _RESERVED_MODULES and stem not in sys.stdlib_module_names:
        return stem
    hint = re.sub(r"\W", "_", slugify(stem).replace("-", "_")).strip("_") or "so_theo_doi"
    if hint[0].isdigit() or hint in _RESERVED_MODULES or hint in sys.stdlib_module_names:
        hint = "so_" + hint
    raise SetupError(
        f"Tên sổ “{stem}” không dùng được cho nút bấm: nút của xlwings nạp mô-đun Python cùng tên với sổ, "
        f"nên tên chỉ gồm chữ không dấu, số và dấu gạch dưới, không bắt đầu bằng số. "
        f"Hãy đặt tên ví dụ “{hint}.xlsm”.")


def control_template() -> bytes:
    """A small .xlsm made by XlsxWriter: xlwings' VBA project and the control sheet with buttons."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wb.add_vba_project(io.BytesIO(xlwings_vba_project()), is_stream=True)
    wb.set_vba_name(WORKBOOK_CODE_NAME)
    ws = wb.add_worksheet(CONTROL_SHEET)
    ws.set_vba_name("Sheet1")
    # A second sheet is made active so the control sheet carries no tabSelected flag: grafted into
    # the master it must not be selected together with the sheet the master opens on.
    other = wb.add_worksheet("_")
    other.activate()

    title = wb.add_format({"bold": True, "font_size": 14, "font_name": FONT_NAME})
    # Not wrapped: each note runs on across the empty cells to its right (wrapped in a 26-wide column
    # with default row heights, the lines overlapped).
    text = wb.add_format({"font_size": 12, "font_name": FONT_NAME, "valign": "top"})
    label = wb.add_format({"bold": True, "font_size": 12, "font_name": FONT_NAME, "valign": "vcenter"})
    choice = wb.add_format({"bold": True, "font_size": 12, "font_name": FONT_NAME, "bg_color": "#FFF2CC",
                            "border": 1, "valign": "vcenter"})
    ws.set_column(0, 0, 26)
    ws.set_column(1, 1, 34)
    ws.set_column(2, 5, 16)
    ws.set_row(2, 24)
    ws.write(0, 0, "ĐIỀU KHIỂN SỔ THEO DÕI", title)
    ws.write(1, 0, "Bấm một nút để chạy; kết quả hiện trong hộp thông báo. Chương trình không tự lưu sổ: "
                   "xem lại rồi lưu (Ctrl+S).", text)
    r, c = CHOICE_CELL[0] - 1, CHOICE_CELL[1] - 1
    ws.write(r, c - 1, CHOICE_LABEL, label)
    first = next(iter(ACTION_CAPTIONS.values()))
    ws.write(r, c, first, choice)
    ws.data_validation(r, c, r, c, {
        "validate": "list", "source": list(ACTION_CAPTIONS.values()),
        "input_title": CHOICE_LABEL, "input_message": "Dùng khi nút bấm không tự nhận ra (ví dụ trên máy Mac).",
        "error_title": "Việc không có trong danh sách", "error_message": "Chọn một việc từ danh sách.",
    })
    # Buttons in one row under the choice, in the order of CONTROL_BUTTONS (Excel names them by order).
    for i, b in enumerate(CONTROL_BUTTONS):
        ws.insert_button(4, 0, {"macro": BUTTON_MACRO, "caption": b.caption, "width": 200, "height": 36,
                                    "x_offset": 8 + (i % 3) * 212, "y_offset": 4 + (i // 3) * 46,
                                    "description": b.caption})
    notes = [
        *(f"{cap}: {_ACTION_NOTES[key]}" for key, cap in ACTION_CAPTIONS.items()),
        f"Máy không nhận ra nút được bấm (ví dụ máy Mac): chọn việc ở ô B3 rồi bấm "
        f"“{CONTROL_BUTTONS[-1].caption}”; chương trình hỏi lại tên việc trước khi chạy.",
        f"“{ACTION_CAPTIONS['tong_hop_bao_cao_don_vi']}” luôn hỏi trước khi chạy.",
        "Cần Python có gói kehoach-xl (cùng phiên bản xlwings) trên máy và tệp .py cùng tên đặt cạnh sổ.",
    ]
    for k, note in enumerate(notes):
        ws.write(9 + k, 0, note, text)
    wb.close()
    return buf.getvalue()


_ACTION_NOTES = {
    "kiem_tra": "kiểm tra dữ liệu mọi trang, liệt kê lỗi ở trang “Kiểm tra”.",
    "cap_nhat": "tính lại các cột thời hạn theo ngày hôm nay.",
    "tong_hop_bao_cao_don_vi": "nhập báo cáo của các đơn vị từ thư mục nhận báo cáo vào sổ đang mở.",
    "lap_bao_cao_giao_ban": "lập bảng “Tổng hợp” và các tệp báo cáo giao ban.",
}


def _template_parts(data: bytes) -> XlsmParts:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = set(zf.namelist())
        wb_rels = _rels(zf.read("xl/_rels/workbook.xml.rels"))
        sheet_part = next(_join("xl/workbook.xml", t) for t, ty in wb_rels.values() if ty == REL_WORKSHEET
                          and _join("xl/workbook.xml", t).endswith("sheet1.xml"))
        sheet_rels_part = _rels_part(sheet_part)
        sheet_rels = zf.read(sheet_rels_part)
        vml_target = next(t for t, ty in _rels(sheet_rels).values() if ty == REL_VML)
        return XlsmParts(
            sheet_xml=zf.read(sheet_part),
            sheet_rels=sheet_rels,
            vml=zf.read(_join(sheet_part, vml_target)),
            vba=zf.read("xl/vbaProject.bin"),
            styles=zf.read("xl/styles.xml"),
            shared_strings=zf.read("xl/sharedStrings.xml") if "xl/sharedStrings.xml" in names else None,
        )


# --- package helpers ---------------------------------------------------------------------


def _join(part: str, target: str) -> str:
    if target.startswith("/"):
        return target[1:]
    parts: list[str] = []
    for seg in (str(PurePosixPath(part).parent) + "/" + target).split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            parts.pop()
        else:
            parts.append(seg)
    return "/".join(parts)


def _rels_part(part: str) -> str:
    p = PurePosixPath(part)
    return str(p.parent / "_rels" / (p.name + ".rels"))


def _rels(xml: bytes) -> dict[str, tuple[str, str]]:
    root = etree.fromstring(xml)
    return {r.get("Id"): (r.get("Target"), r.get("Type")) for r in root}


def _unused(names: set[str], pattern: str) -> str:
    i = 1
    while pattern.format(i) in names:
        i += 1
    return pattern.format(i)


def _new_rid(rels: etree._Element) -> str:
    used = {r.get("Id") for r in rels}
    i = len(used) + 1
    while f"rId{i}" in used:
        i += 1
    return f"rId{i}"


def _xml(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


# --- styles: append the template's cell formats to the master's ------------------------------


class _StyleGraft:
    """Copies cell formats (xf + font/fill/border/numFmt) from the template's styles into the master's."""

    def __init__(self, master_styles: bytes, template_styles: bytes) -> None:
        self.root = etree.fromstring(master_styles)
        self.src = etree.fromstring(template_styles)
        self.memo: dict[int, int] = {}

    def _list(self, root: etree._Element, tag: str) -> etree._Element:
        node = root.find(f"{{{NS_MAIN}}}{tag}")
        if node is None:
            raise SetupError(f"Sổ theo dõi thiếu phần định dạng “{tag}” trong styles.xml.")
        return node

    def _append(self, tag: str, element: etree._Element) -> int:
        target = self._list(self.root, tag)
        target.append(copy.deepcopy(element))
        target.set("count", str(len(target)))
        return len(target) - 1

    def xf(self, index: int) -> int:
        if index in self.memo:
            return self.memo[index]
        if index == 0:
            self.memo[0] = 0  # the master's default format (Times New Roman 12)
            return 0
        xf = copy.deepcopy(self._list(self.src, "cellXfs")[index])
        # Below these indices are the defaults every styles part has (default font, the two
        # reserved fills, no border): they stay the master's own.
        for attr, tag, first_own in (("fontId", "fonts", 1), ("fillId", "fills", 2), ("borderId", "borders", 1)):
            i = int(xf.get(attr, "0"))
            if i >= first_own:
                xf.set(attr, str(self._append(tag, self._list(self.src, tag)[i])))
        num = int(xf.get("numFmtId", "0"))
        if num >= 164:  # a custom number format: copy it under a free id
            fmt = next(f for f in self._list(self.src, "numFmts") if f.get("numFmtId") == str(num))
            fmts = self.root.find(f"{{{NS_MAIN}}}numFmts")
            if fmts is None:
                fmts = etree.Element(f"{{{NS_MAIN}}}numFmts")
                self.root.insert(0, fmts)
            new_id = max([163, *(int(f.get("numFmtId")) for f in fmts)]) + 1
            fmt = copy.deepcopy(fmt)
            fmt.set("numFmtId", str(new_id))
            fmts.append(fmt)
            fmts.set("count", str(len(fmts)))
            xf.set("numFmtId", str(new_id))
        xf.set("xfId", "0")
        self.memo[index] = self._append("cellXfs", xf)
        return self.memo[index]

    def bytes(self) -> bytes:
        return _xml(self.root)


def _control_sheet_xml(parts: XlsmParts, styles: _StyleGraft) -> bytes:
    """The template's control sheet with inline strings and the master's style indices."""
    root = etree.fromstring(parts.sheet_xml)
    strings: list[str] = []
    if parts.shared_strings:
        sst = etree.fromstring(parts.shared_strings)
        strings = ["".join(si.itertext()) for si in sst]
    m = f"{{{NS_MAIN}}}"
    for c in root.iter(f"{m}c"):
        if c.get("s"):
            c.set("s", str(styles.xf(int(c.get("s")))))
        if c.get("t") == "s":
            v = c.find(f"{m}v")
            text = strings[int(v.text)]
            c.remove(v)
            c.set("t", "inlineStr")
            t = etree.SubElement(etree.SubElement(c, f"{m}is"), f"{m}t")
            t.text = text
            t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    for el in (*root.iter(f"{m}row"), *root.iter(f"{m}col")):
        attr = "s" if el.tag == f"{m}row" else "style"
        if el.get(attr):
            el.set(attr, str(styles.xf(int(el.get(attr)))))
    for view in root.iter(f"{m}sheetView"):
        view.attrib.pop("tabSelected", None)
    return _xml(root)


# --- sheet code names, patched in the raw bytes so the rest of each sheet stays identical -----

_ROOT_TAG = re.compile(rb"<(?:(\w+):)?worksheet\b[^>]*>")
_SHEETPR = re.compile(rb"<(?:\w+:)?sheetPr\b[^>]*?(/?)>")
_CODENAME = re.compile(rb'\scodeName="[^"]*"')


def set_code_name(sheet_xml: bytes, code_name: str) -> bytes:
    """``sheet_xml`` with ``<sheetPr codeName=...>``, touching nothing else."""
    root = _ROOT_TAG.search(sheet_xml)
    if root is None:
        raise SetupError("Trang tính trong sổ không đúng định dạng (không thấy thẻ worksheet).")
    value = b' codeName="' + code_name.encode() + b'"'
    head_end = root.end()
    first = head_end
    while sheet_xml[first:first + 1].isspace():
        first += 1
    pr = _SHEETPR.match(sheet_xml, first)  # sheetPr, when present, is the first child
    if pr is not None:
        tag = _CODENAME.sub(b"", pr.group(0))
        name_end = re.match(rb"<(?:\w+:)?sheetPr", tag).end()
        tag = tag[:name_end] + value + tag[name_end:]
        return sheet_xml[: pr.start()] + tag + sheet_xml[pr.end():]
    prefix = root.group(1) + b":" if root.group(1) else b""
    return sheet_xml[:head_end] + b"<" + prefix + b"sheetPr" + value + b"/>" + sheet_xml[head_end:]


# --- the graft ---------------------------------------------------------------------------------


def _main_part(zf: zipfile.ZipFile, name: str) -> str:
    for target, rel_type in _rels(zf.read("_rels/.rels")).values():
        if rel_type == REL_OFFICE_DOC:
            return target.lstrip("/")
    raise DataError(f"Tệp '{name}' không phải sổ Excel (thiếu phần workbook).")


def _graft(zf: zipfile.ZipFile, parts: XlsmParts, name: str) -> dict[str, bytes]:
    """Every member of the new package whose content differs from (or is absent in) the master."""
    names = set(zf.namelist())
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise SetupError(f"Sổ '{name}' đã có macro (vbaProject.bin); không ghép thêm.")
    wb_part = _main_part(zf, name)
    wb_rels_part = _rels_part(wb_part)
    out: dict[str, bytes] = {}

    # Workbook: code name, the control sheet first, sheet-scoped names and the active tab shifted by one.
    wb = etree.fromstring(zf.read(wb_part))
    m = f"{{{NS_MAIN}}}"
    sheets = wb.find(f"{m}sheets")
    if sheets is None:
        raise DataError(f"Tệp '{name}' không phải sổ Excel (phần workbook không có danh sách trang tính).")
    if find_sheet_name([s.get("name") for s in sheets], CONTROL_SHEET):
        raise SetupError(f"Sổ '{name}' đã có trang “{CONTROL_SHEET}”.")
    pr = wb.find(f"{m}workbookPr")
    if pr is None:
        pr = etree.Element(f"{m}workbookPr")
        anchor = [c for c in wb if c.tag in (f"{m}fileVersion", f"{m}fileSharing")]
        wb.insert(wb.index(anchor[-1]) + 1 if anchor else 0, pr)
    pr.set("codeName", WORKBOOK_CODE_NAME)
    rels = etree.fromstring(zf.read(wb_rels_part))
    sheet_part = _unused(names, "xl/worksheets/sheet{}.xml")
    sheet_rid = _new_rid(rels)
    etree.SubElement(rels, f"{{{NS_PKG_REL}}}Relationship", Id=sheet_rid, Type=REL_WORKSHEET,
                     Target="/" + sheet_part)
    etree.SubElement(rels, f"{{{NS_PKG_REL}}}Relationship", Id=_new_rid(rels), Type=REL_VBA,
                     Target="/xl/vbaProject.bin")
    sheet_ids = [int(s.get("sheetId")) for s in sheets]
    new_sheet = etree.Element(f"{m}sheet", name=CONTROL_SHEET, sheetId=str(max(sheet_ids, default=0) + 1))
    new_sheet.set(f"{{{NS_R}}}id", sheet_rid)
    sheets.insert(0, new_sheet)
    for dn in wb.iter(f"{m}definedName"):
        if dn.get("localSheetId") is not None:
            dn.set("localSheetId", str(int(dn.get("localSheetId")) + 1))
    for view in wb.iter(f"{m}workbookView"):
        view.set("activeTab", str(int(view.get("activeTab", "0")) + 1))
        if int(view.get("firstSheet", "0")) > 0:
            view.set("firstSheet", str(int(view.get("firstSheet")) + 1))
    out[wb_part] = _xml(wb)
    out[wb_rels_part] = _xml(rels)

    # Sheet code names: Sheet1 is the control sheet, the master's sheets follow in tab order.
    targets = {rid: _join(wb_part, t) for rid, (t, _ty) in _rels(zf.read(wb_rels_part)).items()}
    for pos, s in enumerate(list(sheets)[1:], start=2):
        part = targets.get(s.get(f"{{{NS_R}}}id"))
        if part and part in names:
            out[part] = set_code_name(zf.read(part), f"Sheet{pos}")

    # Styles, the control sheet, its drawing and the VBA project.
    styles_part = next(_join(wb_part, t) for t, ty in _rels(zf.read(wb_rels_part)).values()
                       if ty.endswith("/styles"))
    graft = _StyleGraft(zf.read(styles_part), parts.styles)
    out[sheet_part] = _control_sheet_xml(parts, graft)
    out[styles_part] = graft.bytes()
    vml_part = _unused(names, "xl/drawings/vmlDrawing{}.vml")
    sheet_rels = etree.fromstring(parts.sheet_rels)
    for r in sheet_rels:
        if r.get("Type") == REL_VML:
            r.set("Target", "/" + vml_part)
    out[_rels_part(sheet_part)] = _xml(sheet_rels)
    out[vml_part] = parts.vml
    out["xl/vbaProject.bin"] = parts.vba

    # Content types: macro-enabled workbook, the VBA project, VML, the new sheet.
    ct = etree.fromstring(zf.read("[Content_Types].xml"))
    c = f"{{{NS_CT}}}"
    for o in ct.findall(f"{c}Override"):
        if o.get("PartName") == "/" + wb_part:
            o.set("ContentType", CT_XLSM_MAIN)
    if not any(d.get("Extension", "").lower() == "vml" for d in ct.findall(f"{c}Default")):
        ct.insert(0, etree.Element(f"{c}Default", Extension="vml", ContentType=CT_VML))
    etree.SubElement(ct, f"{c}Override", PartName="/xl/vbaProject.bin", ContentType=CT_VBA)
    etree.SubElement(ct, f"{c}Override", PartName="/" + sheet_part, ContentType=CT_WORKSHEET)
    out["[Content_Types].xml"] = _xml(ct)
    return out


def module_stub(module: str, xlsm_name: str) -> str:
    return (
        f"# Created by `kehoach-xl xlsm` for {xlsm_name}. Keep this file beside the workbook.\n"
        f"#\n"
        f"# The buttons of {xlsm_name} all run xlwings' macro SampleCall, which does\n"
        f"#     RunPython \"import {module};{module}.main()\"\n"
        f"# i.e. it imports a Python module named after the workbook from the workbook's folder.\n"
        f"# This file is that module: it hands the call to kehoach_xl, which reads which button was\n"
        f"# pressed (or the choice in cell B3 of “{CONTROL_SHEET}”) and runs it on the open workbook.\n"
        f"# Renaming the workbook? Rename this file the same way.\n"
        f"from kehoach_xl.excel.buttons import main\n"
        f"\n"
        f"__all__ = [\"main\"]\n"
    )


def build_xlsm(master: Path | str, out: Path | str | None = None, *, overwrite: bool = False) -> Path:
    """Create ``<stem>.xlsm`` (or ``out``): the master's sheets plus “Điều khiển” with the buttons and
    xlwings' VBA project, and ``<stem>.py`` beside it for the buttons' macro to import."""
    master = Path(master)
    if not master.exists():
        raise SetupError(f"Không tìm thấy tệp: {master}")
    if master.suffix.lower() != ".xlsx":
        raise SetupError(f"Cần sổ theo dõi dạng .xlsx để tạo bản có nút bấm: {master.name}")
    dest = Path(out) if out is not None else master.with_suffix(".xlsm")
    if dest.suffix.lower() != ".xlsm":
        raise SetupError(f"Tệp kết quả phải có đuôi .xlsm: {dest.name}")
    module = module_name(dest)
    stub = dest.with_name(module + ".py")
    for p in (dest, stub):
        if p.exists() and not overwrite:
            raise SetupError(f"Tệp {p} đã tồn tại; thêm --overwrite để ghi đè.")
    # Read as a master first: any other workbook (or a renamed .docx) is refused with its name.
    if not read_master(master).tasks.present:
        raise DataError(f"Tệp '{master.name}' không phải sổ theo dõi: không có sheet “{schema.TASKS.name}”.")
    parts = _template_parts(control_template())
    try:
        src = zipfile.ZipFile(master)
    except zipfile.BadZipFile as exc:
        raise DataError(f"Không mở được '{master.name}': không phải tệp Excel .xlsx.") from exc
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    with src:
        try:
            new = _graft(src, parts, master.name)
        except (KeyError, etree.XMLSyntaxError) as exc:  # a part missing or broken inside the zip
            raise DataError(f"Không đọc được cấu trúc của '{master.name}': tệp hỏng ({exc}).") from exc
        try:  # written aside and moved into place, so a failure never leaves half a workbook
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
                zout.writestr("[Content_Types].xml", new.pop("[Content_Types].xml"))
                for info in src.infolist():
                    if info.filename == "[Content_Types].xml":
                        continue
                    data = new.pop(info.filename, None)
                    zout.writestr(info.filename, data if data is not None else src.read(info.filename))
                for name in sorted(new):
                    zout.writestr(name, new[name])
            tmp.replace(dest)
        finally:
            tmp.unlink(missing_ok=True)
    stub.write_text(module_stub(module, dest.name), encoding="utf-8")
    return dest
