"""The hardened reader for untrusted submissions: limits, no DTDs, no macros, no formulas."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kehoach_xl import vn
from kehoach_xl.errors import KehoachError
from kehoach_xl.io import xlsx_stream
from kehoach_xl.io.xlsx_limits import PartCounter
from kehoach_xl.model import schema
from kehoach_xl.model.address import col_letters
from kehoach_xl.model.config import Config, LimitsConfig
from kehoach_xl.model.master import MasterData, find_sheet_name, match_headers, read_sheet_rows
from kehoach_xl.model.problem import Problem
from kehoach_xl.model.registry import Registry
from kehoach_xl.model.submission import Fingerprints, Submission, SubmissionRejected, file_problem
from kehoach_xl.model.unitbook import (
    INPUT_FIELDS,
    LINE_ROLES,
    META_MARK,
    META_SHEET,
    REPORT_SHEET,
    UNIT_SHEET,
    editable_fields,
)
from kehoach_xl.rules.assignments import assignments
from kehoach_xl.rules.signing import value_hash, verify
from kehoach_xl.rules.values import _blank, parse_field
from kehoach_xl.text import normalize_text, slugify
from kehoach_xl.vn import parse_period, period_label

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


ZIP_MAGIC = b"PK\x03\x04"


MAX_MEMBERS = 5000


RATIO_MIN_BYTES = 1 << 20  # small parts may compress very well legitimately


MAX_COLUMNS = 200


@dataclass
class SafeBook:
    sheets: dict[str, list[list[Any]]]
    formulas: set[tuple[str, int, int]]
    merged: dict[str, list[str]]
    external_links: int = 0
    # (sheet, row, col) → number format, for numeric cells with a non-General format: "100%" typed
    # in Excel is stored as 1 with format "0%", so the value alone does not say what was typed.
    formats: dict[tuple[str, int, int], str] = field(default_factory=dict)

    def number_format(self, sheet: str, row: int, col: int) -> str:
        return self.formats.get((sheet, row, col), "")


def _checked_period(path: Path, period: str, today: dt.date) -> str:
    """The submission's period as "YYYY-MM"; refused when unreadable or in the future."""
    try:
        period = parse_period(period)
    except KehoachError:
        raise _reject(path, f"Kỳ báo cáo “{period}” trong tệp không hợp lệ; không tổng hợp.") from None
    if period > f"{today:%Y-%m}":
        raise _reject(path, f"Kỳ báo cáo {period_label(period)} ở tương lai (hôm nay {vn.date(today)}); "
                            "không tổng hợp.")
    return period


def _reject(path: Path, message: str, slug: str = "file_refused", **kw: str) -> SubmissionRejected:
    return SubmissionRejected(file_problem(slug, path.name, message, **kw))


def _sniff_ole(path: Path, data: bytes) -> SubmissionRejected:
    # CFB directory entries are UTF-16LE names; an encrypted OOXML package has these streams.
    if "EncryptionInfo".encode("utf-16-le") in data or "EncryptedPackage".encode("utf-16-le") in data:
        return _reject(path, "Tệp được đặt mật khẩu nên không đọc được. Hãy mở tệp, bỏ mật khẩu "
                             "(Tệp → Thông tin → Bảo vệ sổ làm việc) rồi lưu lại dạng .xlsx và gửi lại.")
    return _reject(path, "Tệp là định dạng Excel cũ (.xls, Excel 97–2003). Hãy mở tệp và chọn "
                         "Lưu thành → Sổ làm việc Excel (.xlsx) rồi gửi lại.")


def _looks_text(data: bytes) -> bool:
    if b"\x00" in data[:4096]:
        return False
    try:
        sample = data[:4096].decode("utf-8")
    except UnicodeDecodeError:
        sample = data[:4096].decode("cp1258", errors="replace")
    return any(sep in sample for sep in (",", ";", "\t"))


_XML_BAD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.I)


def _xml_is_safe(data: bytes) -> bool:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:200]:
        try:
            data = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            return False
    return _XML_BAD.search(data) is None


def safe_open(path: Path, limits: LimitsConfig, data: bytes | None = None, source: Path | None = None) -> SafeBook:
    """Open an untrusted workbook under ``limits``; raises SubmissionRejected with a Vietnamese reason.

    The bytes come from ``data`` (read once by the inbox), else from ``source``, else from ``path``;
    ``path`` names the file in messages.
    """
    path = Path(path)
    source = Path(source) if source is not None else path
    size = len(data) if data is not None else source.stat().st_size
    if size > limits.max_file_mb * 1024 * 1024:
        raise _reject(path, f"Tệp nặng {vn.number(size / 1048576, 1)} MB, vượt giới hạn {vn.number(limits.max_file_mb)} MB. "
                            "Hãy xóa ảnh, sheet thừa hoặc ô quá dài rồi gửi lại.")
    with (io.BytesIO(data) if data is not None else source.open("rb")) as fh:
        head = fh.read(8)
        if head == OLE_MAGIC:
            raise _sniff_ole(path, head + fh.read(min(size, 4 << 20)))
        if head[:4] != ZIP_MAGIC:
            fh.seek(0)
            sample = fh.read(4096)
            if sample and _looks_text(sample):
                raise _reject(path, "Tệp là văn bản/CSV được đổi đuôi thành Excel, không phải sổ làm việc Excel. "
                                    "Hãy điền vào tệp .xlsx do Văn phòng Sở gửi rồi gửi lại.")
            raise _reject(path, "Tệp không phải sổ làm việc Excel (.xlsx) hoặc đã hỏng. Hãy gửi lại tệp gốc.")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data) if data is not None else source)
    except (zipfile.BadZipFile, OSError, EOFError):
        raise _reject(path, "Tệp bị hỏng hoặc bị cắt cụt (gửi/tải về chưa hết). Hãy lưu lại và gửi lại tệp.") from None
    with zf:
        return _open_zip(path, zf, limits)


def _open_zip(path: Path, zf: zipfile.ZipFile, limits: LimitsConfig) -> SafeBook:
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise _reject(path, f"Tệp chứa {len(infos)} thành phần, quá nhiều cho một sổ làm việc; không xử lý.")
    budget = int(limits.max_uncompressed_mb * 1024 * 1024)
    declared = sum(i.file_size for i in infos)
    bomb = ("Tệp giải nén ra quá lớn ({what}), có dấu hiệu “bom nén” (zip bomb); không xử lý. "
            "Nếu đây là tệp thật, hãy xóa dữ liệu thừa rồi gửi lại.")
    if declared > budget:
        raise _reject(path, bomb.format(what=f"{vn.integer(declared / 1048576)} MB > {vn.number(limits.max_uncompressed_mb)} MB"))
    if _has_macros(zf, infos):
        raise _reject(path, "Tệp chứa macro (VBA). Vì an toàn, Văn phòng Sở không nhận tệp có macro. "
                            "Hãy lưu lại dạng “Sổ làm việc Excel (.xlsx)” (không macro) rồi gửi lại.")
    members: dict[str, bytes] = {}
    used = 0
    strings = cells = 0  # over the parts already read: the limits hold for the whole workbook
    for info in infos:
        if info.filename.endswith("/"):
            continue
        low = info.filename.lower()
        counter = (PartCounter(sheet=True) if low.startswith("xl/worksheets/") and low.endswith(".xml") else
                   PartCounter(sheet=False) if low.endswith("sharedstrings.xml") else None)
        if info.file_size > RATIO_MIN_BYTES and info.file_size > max(info.compress_size, 1) * limits.max_ratio:
            raise _reject(path, bomb.format(what=f"tỉ lệ nén {info.file_size // max(info.compress_size, 1)}:1"))
        chunks = []
        got = 0
        try:
            with zf.open(info) as member:
                while True:
                    chunk = member.read(1 << 16)
                    if not chunk:
                        break
                    got += len(chunk)
                    used += len(chunk)
                    if used > budget:
                        raise _reject(path, bomb.format(what=f"hơn {vn.number(limits.max_uncompressed_mb)} MB"))
                    if got > RATIO_MIN_BYTES and got > max(info.compress_size, 1) * limits.max_ratio:
                        raise _reject(path, bomb.format(what=f"tỉ lệ nén vượt {vn.number(limits.max_ratio)}:1"))
                    chunks.append(chunk)
                    if counter is not None:
                        counter.feed(chunk)
                        _check_counts(path, counter, strings, cells, limits, info.filename, members)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, NotImplementedError, RuntimeError):
            raise _reject(path, "Tệp bị hỏng hoặc bị cắt cụt (một phần của tệp không giải nén được). "
                                "Hãy lưu lại và gửi lại tệp.") from None
        data = b"".join(chunks)
        if counter is not None:
            strings += counter.strings
            cells += counter.cells
        if (low.endswith((".xml", ".rels", ".vml")) or low == "[content_types].xml") and not _xml_is_safe(data):
            raise _reject(path, f"Phần “{info.filename}” của tệp khai báo DOCTYPE/ENTITY (có thể là “bom XML”); "
                                "vì an toàn không xử lý. Hãy chép dữ liệu sang tệp mẫu do Văn phòng Sở gửi.")
        members[info.filename] = data
    _check_long_shared_strings(path, members, limits)
    ext_links = sum(1 for n in members if n.lower().startswith("xl/externallinks/") and n.lower().endswith(".xml"))
    return _parse_book(path, members, limits, ext_links)


_VBA_CONTENT = re.compile(rb"vbaProject|macroEnabled|ms-excel\.(?:intl)?macrosheet", re.I)


def _has_macros(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> bool:
    """A VBA project under any name (content type or relationship says so), or Excel 4 macro sheets."""
    for info in infos:
        low = info.filename.lower()
        if low.endswith("vbaproject.bin") or low.startswith("xl/macrosheets/"):
            return True
        if (low == "[content_types].xml" or low.endswith(".rels")) and info.file_size < (4 << 20):
            try:
                if _VBA_CONTENT.search(zf.read(info)):
                    return True
            except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError):
                return False  # unreadable parts are refused as corrupt below
        if low.endswith(".bin"):
            try:
                with zf.open(info) as fh:
                    # An OLE compound file holding a "VBA" storage, whatever the part is called.
                    head = fh.read(1 << 16)
                if head[:8] == OLE_MAGIC and ("VBA".encode("utf-16-le") in head or b"_VBA_PROJECT" in head.upper()):
                    return True
            except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError):
                return False
    return False


def _check_counts(path: Path, c: PartCounter, strings: int, cells: int, limits: LimitsConfig, part: str,
                  members: dict[str, bytes]) -> None:
    """Refuse as soon as a streamed count passes its limit (before the part is even fully read)."""
    tail = " Hãy xóa các dòng, cột hoặc ô thừa (kể cả ô trống đã định dạng) rồi gửi lại."
    if not c.sheet:
        if strings + c.strings > limits.max_shared_strings:
            raise _reject(path, f"Tệp chứa hơn {vn.integer(limits.max_shared_strings)} chuỗi văn bản, vượt giới hạn; "
                                "không xử lý." + tail)
        return
    if cells + c.cells <= limits.max_cells and c.row_count <= limits.max_rows and c.max_col <= limits.max_columns:
        return  # (checked after every chunk: the sheet's title is looked up only to name it in a refusal)
    sheet = _sheet_title(members, part) if "xl/workbook.xml" in members else part
    if cells + c.cells > limits.max_cells:
        raise _reject(path, f"Tệp có hơn {vn.integer(limits.max_cells)} ô (kể cả ô trống), vượt giới hạn; "
                            "có dấu hiệu tệp tạo ra để làm treo chương trình; không xử lý." + tail, sheet=sheet)
    if c.row_count > limits.max_rows:
        raise _reject(path, f"Sheet có {vn.integer(c.row_count)} dòng, vượt giới hạn {vn.integer(limits.max_rows)} dòng; "
                            "không xử lý." + tail, sheet=sheet)
    if c.max_col > limits.max_columns:
        raise _reject(path, f"Sheet dùng tới cột thứ {vn.integer(c.max_col)}, vượt giới hạn "
                            f"{vn.integer(limits.max_columns)} cột; không xử lý." + tail, sheet=sheet)


_SI = re.compile(rb"<si>(.*?)</si>", re.S)


_T = re.compile(rb"<t[^>]*>([^<]*)</t>")


_INLINE = re.compile(rb'<c r="([A-Z]+\d+)"[^>]*t="inlineStr"[^>]*>\s*<is>(.*?)</is>', re.S)


def _longer_than(tag: bytes, data: bytes, n: int) -> re.Match[bytes] | None:
    """The first ``<tag>`` whose content up to ``</tag>`` is longer than ``n`` bytes, if any."""
    return re.search(b"<" + tag + b">(?:[^<]|<(?!/" + tag + b">)){" + str(n + 1).encode() + b"}", data)


def _check_long_shared_strings(path: Path, members: dict[str, bytes], limits: LimitsConfig) -> None:
    """openpyxl silently cuts strings at 32 767 characters, so overlong cells are found in the raw XML.

    Inline strings (``<is>``) are measured by the streamed reader as it reads them, or, when openpyxl
    reads the file, by :func:`_check_long_inline_strings` first.
    """
    sst = members.get("xl/sharedStrings.xml", b"")
    # A string has no more characters than bytes, so the exact count below (a Python step per string)
    # only runs when some <si> holds more bytes than the limit allows characters: one regex search
    # settles the usual case.
    if _longer_than(b"si", sst, limits.max_cell_chars) is None:
        sst = b""
    for idx, m in enumerate(_SI.finditer(sst)):
        n = sum(len(t.decode("utf-8", "replace")) for t in _T.findall(m.group(1)))
        if n > limits.max_cell_chars:
            cell = re.compile(rb'<c r="([A-Z]+\d+)"[^>]*t="s"[^>]*>\s*<v>' + str(idx).encode() + rb"</v>")
            where = {"sheet": "", "cell": ""}
            for name, data in members.items():
                if name.startswith("xl/worksheets/") and (hit := cell.search(data)):
                    where = {"sheet": _sheet_title(members, name), "cell": hit.group(1).decode()}
                    break
            raise _reject(path, f"Ô có {vn.integer(n)} ký tự, vượt giới hạn {vn.integer(limits.max_cell_chars)} ký tự. "
                                "Hãy rút gọn nội dung (đính kèm văn bản riêng nếu cần).", **where)


def _check_long_inline_strings(path: Path, members: dict[str, bytes], limits: LimitsConfig) -> None:
    for name, data in members.items():
        if not name.startswith("xl/worksheets/") or b"inlineStr" not in data:
            continue
        if _longer_than(b"is", data, limits.max_cell_chars) is None:
            continue
        for m in _INLINE.finditer(data):
            n = sum(len(t.decode("utf-8", "replace")) for t in _T.findall(m.group(2)))
            if n > limits.max_cell_chars:
                raise _reject(path, f"Ô có {vn.integer(n)} ký tự, vượt giới hạn {vn.integer(limits.max_cell_chars)} ký tự. "
                                    "Hãy rút gọn nội dung (đính kèm văn bản riêng nếu cần).",
                              sheet=_sheet_title(members, name), cell=m.group(1).decode())


def _sheet_title(members: dict[str, bytes], part: str) -> str:
    rels = members.get("xl/_rels/workbook.xml.rels", b"").decode("utf-8", "replace")
    target = part.removeprefix("xl/")
    rid = re.search(r'Id="([^"]+)"[^>]*Target="/?(?:xl/)?' + re.escape(target) + '"', rels) or re.search(
        r'Target="/?(?:xl/)?' + re.escape(target) + r'"[^>]*Id="([^"]+)"', rels)
    wbx = members.get("xl/workbook.xml", b"").decode("utf-8", "replace")
    if rid:
        m = re.search(r'<sheet [^>]*name="([^"]+)"[^>]*r:id="' + re.escape(rid.group(1)) + '"', wbx)
        if m:
            return m.group(1)
    return part


def _unreadable(path: Path, exc: BaseException) -> SubmissionRejected:
    kind = exc.like if isinstance(exc, xlsx_stream.StreamError) else type(exc).__name__
    return _reject(path, f"Không đọc được nội dung tệp (tệp hỏng hoặc không đúng định dạng .xlsx: "
                         f"{kind}). Hãy lưu lại bằng Excel rồi gửi lại.")


def _too_many_rows(path: Path, sheet: str, rows: int, limits: LimitsConfig) -> SubmissionRejected:
    return _reject(path, f"Sheet có {rows} dòng, vượt giới hạn {limits.max_rows}.", sheet=sheet)


def _too_long(path: Path, sheet: str, n: int, cell: str, limits: LimitsConfig) -> SubmissionRejected:
    return _reject(path, f"Ô có {vn.integer(n)} ký tự, vượt giới hạn {vn.integer(limits.max_cell_chars)} ký tự. "
                         "Hãy rút gọn nội dung (đính kèm văn bản riêng nếu cần).", sheet=sheet, cell=cell)


def _parse_book(path: Path, members: dict[str, bytes], limits: LimitsConfig, ext_links: int) -> SafeBook:
    """The checked parts as a SafeBook, streamed (xlsx_stream); openpyxl only for what it does not mirror."""
    try:
        return _parse_book_stream(path, members, limits, ext_links)
    except SubmissionRejected:
        raise
    except Exception:  # noqa: BLE001 - StreamUnsupported, or a malformed part: openpyxl has the last word
        # Only files the streamed reader does not mirror get here (whole-column merges, strict
        # OOXML, odd children of <row>, parts it cannot parse): openpyxl reads them as before, or
        # refuses them with the message it always gave.
        return _parse_book_openpyxl(path, members, limits, ext_links)


def _parse_book_stream(path: Path, members: dict[str, bytes], limits: LimitsConfig, ext_links: int) -> SafeBook:
    book = SafeBook(sheets={}, formulas=set(), merged={}, external_links=ext_links)
    try:
        wb = xlsx_stream.open_book(members)
        # Every sheet is parsed before any is checked, as openpyxl loads the whole book first.
        sheets = [xlsx_stream.read_sheet(wb, title, part, max_columns=MAX_COLUMNS, max_chars=limits.max_cell_chars)
                  for title, part in wb]
    except xlsx_stream.TextTooLong as exc:
        raise _too_long(path, exc.sheet, exc.chars, exc.cell, limits) from None
    except xlsx_stream.StreamError as exc:  # what openpyxl refuses too (checked in tests/submissions_stream)
        raise _unreadable(path, exc) from None
    for sheet in sheets:
        if sheet.max_row > limits.max_rows:
            raise _too_many_rows(path, sheet.title, sheet.max_row, limits)
        title = sheet.title
        rows = sheet.grid(min(sheet.max_col, MAX_COLUMNS))
        if sheet.longest_unmeasured <= limits.max_cell_chars:
            grid = list(rows)  # inline strings were measured as read, and no other text is that long
        else:
            grid = []
            for r, vals in enumerate(rows, start=1):
                for c, v in enumerate(vals, start=1):
                    if isinstance(v, str) and len(v) > limits.max_cell_chars:
                        raise _too_long(path, title, len(v), f"{col_letters(c)}{r}", limits)
                grid.append(vals)
        book.sheets[title] = grid
        book.merged[title] = sheet.merged
        book.formulas.update((title, r, c) for r, c in sheet.formulas)
        book.formats.update(((title, r, c), fmt) for (r, c), fmt in sheet.formats.items())
    return book


def _stored_zip(members: dict[str, bytes]) -> io.BytesIO:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as out:
        for name, data in members.items():
            out.writestr(name, data)
    buf.seek(0)
    return buf


def _parse_book_openpyxl(path: Path, members: dict[str, bytes], limits: LimitsConfig, ext_links: int) -> SafeBook:
    """openpyxl's full load: the fallback, and the reference ``tests/submissions_stream`` compares with."""
    from openpyxl import load_workbook

    _check_long_inline_strings(path, members, limits)
    try:
        wb = load_workbook(_stored_zip(members), read_only=False, data_only=False, keep_links=False, keep_vba=False)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types on malformed parts
        raise _unreadable(path, exc) from None
    book = SafeBook(sheets={}, formulas=set(), merged={}, external_links=ext_links)
    try:
        for ws in wb.worksheets:
            if ws.max_row > limits.max_rows:
                raise _reject(path, f"Sheet có {ws.max_row} dòng, vượt giới hạn {limits.max_rows}.", sheet=ws.title)
            grid: list[list[Any]] = []
            ncol = min(ws.max_column, MAX_COLUMNS)
            for r, row in enumerate(ws.iter_rows(min_row=1, max_row=ws.max_row, max_col=ncol), start=1):
                vals = []
                for c, cell in enumerate(row, start=1):
                    v = cell.value
                    if cell.data_type == "f" or (hasattr(v, "text") and not isinstance(v, str)):
                        book.formulas.add((ws.title, r, c))
                        v = str(getattr(v, "text", v))
                    if isinstance(v, str) and len(v) > limits.max_cell_chars:
                        raise _reject(path, f"Ô có {vn.integer(len(v))} ký tự, vượt giới hạn {vn.integer(limits.max_cell_chars)} ký tự. "
                                            "Hãy rút gọn nội dung (đính kèm văn bản riêng nếu cần).",
                                      sheet=ws.title, cell=f"{col_letters(c)}{r}")
                    if isinstance(v, (int, float)) and not isinstance(v, bool) and cell.number_format != "General":
                        book.formats[(ws.title, r, c)] = str(cell.number_format)
                    vals.append(v)
                grid.append(vals)
            book.sheets[ws.title] = grid
            book.merged[ws.title] = [str(m) for m in ws.merged_cells.ranges]
    finally:
        wb.close()
    return book


def _read_meta(path: Path, book: SafeBook) -> tuple[dict[str, Any], str] | None:
    name = find_sheet_name(book.sheets, META_SHEET)
    if name is None:
        return None
    grid = book.sheets[name]
    kv: dict[str, Any] = {}
    tasks = []
    try:
        for row in grid:
            if not row or row[0] is None:
                continue
            k, v = str(row[0]), (row[1] if len(row) > 1 else None)
            if k == "task":
                tasks.append(json.loads(str(v)))
            else:
                kv[k] = v
        if kv.get("marker") != META_MARK:
            return None
        payload = json.loads(str(kv.get("header")))
        payload["tasks"] = tasks
    except (ValueError, TypeError, RecursionError, MemoryError):
        raise _reject(path, "Phần dữ liệu ẩn của tệp bị sửa hoặc hỏng; không xác định được đơn vị và kỳ báo cáo. "
                            "Hãy điền lại vào tệp gốc do Văn phòng Sở gửi.", sheet=META_SHEET) from None
    return payload, str(kv.get("signature") or "")


def _find_report_sheet(book: SafeBook, file: str, problems: list[Problem]) -> tuple[str, int, dict[str, int]] | None:
    names = [n for n in book.sheets if n != META_SHEET]
    exact = find_sheet_name(names, REPORT_SHEET)
    ordered = ([exact] if exact else []) + [n for n in names if n != exact]
    for n in ordered:
        for i, row in enumerate(book.sheets[n][:12]):
            found, _ = match_headers(UNIT_SHEET, row)
            if "id" in found and len(found) >= 3:
                if n != exact:
                    problems.append(file_problem("sheet_renamed", file, f"Sheet “{REPORT_SHEET}” đã bị đổi tên thành “{n}”; vẫn đọc "
                                                  "được nhưng lần sau xin giữ nguyên tên sheet.", sheet=n,
                                            severity="warning"))
                return n, i + 1, found
    return None


def read_unitbook(path: Path, book: SafeBook, md: MasterData, *, config: Config, today: dt.date) -> Submission:
    sub = Submission(file=path)
    meta = _read_meta(path, book)
    if meta is None:
        raise _reject(path, "Tệp không có phần chữ ký ẩn của Văn phòng Sở (có thể đã chép dữ liệu sang tệp khác "
                            "hoặc xóa sheet ẩn). Hãy điền vào đúng tệp được giao rồi gửi lại.")
    payload, signature = meta
    if not verify(payload, signature, config.secret):
        raise _reject(path, "Chữ ký của tệp không khớp: phần ẩn đã bị sửa hoặc tệp không do Văn phòng Sở phát hành "
                            "cho đơn vị này. Hãy dùng đúng tệp được giao cho đơn vị.", sheet=META_SHEET)
    sub.unit, sub.period, sub.issued_at = payload["unit"], payload["period"], payload.get("issued_at", "")
    master_id = str(md.settings.get("master_id") or "")
    if payload.get("master_id") and master_id and payload["master_id"] != master_id:
        raise _reject(path, "Tệp được giao từ một sổ theo dõi khác (mã định danh không khớp); không tổng hợp vào sổ này.")
    sub.period = _checked_period(path, sub.period, today)
    if slugify(sub.unit, max_len=60).casefold() not in slugify(path.stem, max_len=200).casefold():
        sub.problems.append(file_problem("filename_unit_mismatch", path.name, f"Tên tệp không khớp đơn vị trong chữ ký; tệp được tính cho "
                                               f"“{sub.unit}”.", severity="warning"))
    roles = {t["id"]: t["role"] for t in payload["tasks"]}
    # The fingerprints as issued, packed 8 bytes each (model/submission.Fingerprints).
    sub.base = {t["id"]: Fingerprints.pack(t.get("h", {})) for t in payload["tasks"]}
    version = payload.get("v") if isinstance(payload.get("v"), int) else 1
    if book.external_links:
        sub.problems.append(file_problem("external_links_ignored", path.name, f"Tệp có {book.external_links} liên kết tới tệp khác; liên kết bị bỏ qua, "
                                               "chỉ lấy giá trị đã nhập.", severity="warning"))
    found = _find_report_sheet(book, path.name, sub.problems)
    if found is None:
        raise _reject(path, f"Không tìm thấy sheet “{REPORT_SHEET}” có cột “Mã nhiệm vụ” (sheet hoặc cột đã bị đổi "
                            "tên hay xóa). Hãy điền lại vào tệp gốc.")
    sheet, header_row, cols = found
    for key in INPUT_FIELDS:
        if key not in cols:
            sub.problems.append(file_problem("column_missing", path.name, f"Không tìm thấy cột “{UNIT_SHEET.col(key).header}” (cột đã bị đổi tên "
                                                   "hoặc xóa); nội dung cột này không được tổng hợp.", sheet=sheet,
                                        cell=f"dòng {header_row}"))
    _merged_warnings(sub, book, sheet, header_row, cols)
    known = md.task_index()
    seen: set[str] = set()
    grid = book.sheets[sheet]
    formulas = book.formulas
    # Every row is read through the same few columns: their 0-based indexes are worked out once, and
    # once per role which input columns it fills (``fill``) and which it may not (``blocked``), each in
    # the order its problems are reported.
    id_j = cols["id"] - 1
    inputs = [(k, cols[k] - 1) for k in INPUT_FIELDS if k in cols]
    plans: dict[str, tuple[list[tuple[str, int]], list[tuple[str, int]]]] = {}
    for r in range(header_row, len(grid)):
        row = grid[r]
        n = len(row)
        excel_row = r + 1

        def addr(key: str, excel_row: int = excel_row) -> str:
            return f"{col_letters(cols[key])}{excel_row}"

        tid = normalize_text(row[id_j] if id_j < n else None)
        if not tid:
            if any(_filled(row[j] if j < n else None) for _, j in inputs):
                sub.problems.append(file_problem("row_without_task_id", path.name, "Dòng có nội dung báo cáo nhưng không có mã nhiệm vụ; bỏ qua.",
                                            sheet=sheet, cell=addr("id")))
            continue
        if tid not in roles:
            msg = (f"Mã nhiệm vụ “{tid}” không có trong sổ theo dõi; bỏ qua dòng này." if tid not in known else
                   f"Nhiệm vụ “{tid}” không giao cho {sub.unit} trong tệp này; bỏ qua dòng này.")
            sub.problems.append(file_problem("task_not_yours", path.name, msg, sheet=sheet, cell=addr("id")))
            continue
        if tid in seen:
            sub.problems.append(file_problem("task_repeated", path.name, f"Nhiệm vụ “{tid}” xuất hiện hai lần; chỉ lấy dòng đầu.",
                                        sheet=sheet, cell=addr("id")))
            continue
        seen.add(tid)
        role = roles[tid]
        plan = plans.get(role) if role.__class__ is str else None
        if plan is None:
            allowed = editable_fields(role)
            plan = ([(k, j) for k, j in inputs if k not in allowed], [(k, cols[k] - 1) for k in allowed if k in cols])
            if role.__class__ is str:
                plans[role] = plan
        blocked, fill = plan
        for key, j in blocked:
            if _filled(row[j] if j < n else None):
                sub.problems.append(file_problem("coordinating_field_ignored", path.name, f"Đơn vị là “phối hợp” nên cột “{UNIT_SHEET.col(key).header}” "
                                                       "không được tổng hợp; ghi vào cột Nội dung phối hợp.",
                                            sheet=sheet, cell=addr(key), severity="warning"))
        issued = sub.base.get(tid, {})
        as_issued = _as_issued(role, version, issued)
        if role in LINE_ROLES and version >= 2:
            # The row is one attributed line: unchanged, it is no report; changed in any cell, the
            # whole row is the unit's report (its unchanged cells included), as it would have typed it.
            if all(value_hash(row[j] if j < n else None) == issued.get(k) for k, j in fill):
                continue
            as_issued = False
        for key, j in fill:
            raw = row[j] if j < n else None
            if not _filled(raw):
                continue  # empty = nothing reported; a submission never clears the master
            if as_issued and issued.get(key) == value_hash(raw):
                continue  # left as issued: not a report, and not the unit's slip to answer for
            col = j + 1
            if (sheet, excel_row, col) in formulas:
                sub.problems.append(file_problem("formula_ignored", path.name, "Ô chứa công thức; chương trình không tính công thức. "
                                                       "Hãy nhập giá trị.", sheet=sheet, cell=addr(key)))
                continue
            try:
                value = parse_field(key, raw, period=sub.period, today=today,
                                    number_format=book.number_format(sheet, excel_row, col))
            except ValueError as exc:
                if not (_as_issued(role, version, issued) and issued.get(key) == value_hash(raw)):
                    # (a prefilled value the unit left as it was is not the unit's slip to answer for)
                    sub.problems.append(file_problem("value_invalid", path.name, str(exc), sheet=sheet,
                                                     cell=addr(key)))
                continue
            if value is not None:
                sub.add(tid, role, key, value)
    # The merge asks for the fingerprints of the tasks a file reports, nothing else: the others go now
    # (a unit that reports a few of its tasks this month keeps a few). Keyed by the reports' own task ids.
    base = sub.base
    sub.base = {tid: base[tid] for tid in sub.reports if tid in base}
    return sub


def _filled(v: Any) -> bool:
    """``not _blank(v)``, settled at once for a text that starts with a letter or digit (normalising
    never removes one), so long texts are not normalised just to learn that they are not empty."""
    if v.__class__ is str and v[:1].isalnum():
        return True
    return not _blank(v)


def _as_issued(role: str, version: int, issued: dict[str, str]) -> bool:
    """Whether a cell equal to ``issued`` was left as issued (and so is no report).

    Format 1 prefilled only the lead's and synthesiser's rows; its members' and coordinators' rows
    were issued blank, and their ``h`` fingerprints the task's own columns, not what the unit saw:
    a member typing the lead's status there is reporting it.
    """
    return bool(issued) and (version >= 2 or role not in LINE_ROLES)


def _range_bounds(rng: str) -> tuple[int, int, int, int]:
    """(min_col, min_row, max_col, max_row) of a merged range ("A1:B2"), as openpyxl's ``range_boundaries``
    gives them; openpyxl (with numpy and PIL, 33 MiB) is loaded only for a form the stream reader does not know."""
    try:
        return xlsx_stream.range_bounds(rng)
    except (xlsx_stream.StreamUnsupported, xlsx_stream.StreamError):
        from openpyxl.utils import range_boundaries

        return range_boundaries(rng)  # type: ignore[return-value]


def _merged_warnings(sub: Submission, book: SafeBook, sheet: str, header_row: int, cols: dict[str, int]) -> None:
    inputs = {cols[k] for k in INPUT_FIELDS if k in cols} | ({cols["id"]} if "id" in cols else set())
    for rng in book.merged.get(sheet, []):
        c1, r1, c2, r2 = _range_bounds(rng)
        if r2 <= header_row or not any(c1 <= c <= c2 for c in inputs):
            continue
        sub.problems.append(file_problem("merged_cells", sub.name, f"Ô gộp {rng}: chỉ lấy giá trị cho dòng {r1}, các dòng còn lại "
                                              "của vùng gộp coi như để trống. Xin đừng gộp ô trong bảng báo cáo.",
                                    sheet=sheet, cell=rng, severity="warning"))


def unit_from_filename(name: str, registry: Registry) -> str | None:
    """The unit whose name or alias (ASCII-folded) appears in the file name; the longest match wins."""
    stem = "_" + slugify(Path(name).stem, max_len=300).casefold() + "_"
    best: tuple[int, str] | None = None
    for u in registry.units:
        canon = normalize_text(u.get("name"))
        if not canon or registry.is_group(canon):
            continue
        aliases = u.get("aliases")
        from kehoach_xl.text import split_list
        for n in [canon, *(aliases if isinstance(aliases, list) else split_list(aliases))]:
            s = "_" + slugify(n, max_len=300).casefold() + "_"
            if len(s) > 4 and s in stem and (best is None or len(s) > best[0]):
                best = (len(s), canon)
    return best[1] if best else None


def period_from_filename(name: str) -> str | None:
    m = re.search(r"(20\d\d)[-_.](0[1-9]|1[0-2])(?!\d)", name) or re.search(r"(?<!\d)(0[1-9]|1[0-2])[-_.](20\d\d)", name)
    if not m:
        return None
    a, b = m.group(1), m.group(2)
    return f"{a}-{b}" if len(a) == 4 else f"{b}-{a}"


def read_master_copy(path: Path, book: SafeBook, md: MasterData, *, period: str | None, today: dt.date,
                     unit_by_file: dict[str, str] | None = None, config: Config | None = None) -> Submission:
    registry = Registry.from_master(md)
    sub = Submission(file=path, kind="master_copy")
    unit = (unit_by_file or {}).get(path.name) or unit_from_filename(path.name, registry)
    if unit is None:
        raise _reject(path, "Tệp là bản sao sổ theo dõi nhưng tên tệp không cho biết đơn vị gửi. Hãy đặt tên tệp "
                            "có tên đơn vị, ví dụ “2024-05_Thanh_tra_So.xlsx”, hoặc dùng tệp báo cáo được giao.")
    sub.unit = registry.match_unit(unit).canonical or unit
    allowed = (config or Config()).limits.unsigned_master_copies_from
    if not any((registry.match_unit(a).canonical or normalize_text(a)) == sub.unit for a in allowed):
        raise _reject(path, f"Tệp là bản sao sổ theo dõi (không có chữ ký) gửi từ “{sub.unit}”. Đơn vị này không được "
                            "báo cáo bằng bản sao sổ theo dõi: hãy điền vào tệp báo cáo Văn phòng Sở đã giao cho đơn vị "
                            "(tệp có chữ ký) rồi gửi lại.", slug="master_copy_not_allowed")
    sub.period = period or period_from_filename(path.name) or f"{today:%Y-%m}"
    sub.period = _checked_period(path, sub.period, today)
    sheet = find_sheet_name(book.sheets, schema.TASKS.name)
    data = read_sheet_rows(schema.TASKS, book.sheets[sheet])
    if "id" not in data.columns:
        raise _reject(path, "Bản sao sổ theo dõi không còn cột “Mã nhiệm vụ”; không biết dòng nào là nhiệm vụ nào.",
                      sheet=sheet)
    mine = {a.task_id: a.role for a in assignments(md, registry).get(sub.unit, []) if a.role in ("lead", "synth")}
    current = {normalize_text(r.get("id")): r for r in md.tasks.rows if r.get("id")}
    ignored = 0
    sub.problems.append(file_problem("master_copy_unsigned", path.name, f"Bản sao sổ theo dõi (không có chữ ký): đơn vị “{sub.unit}” xác định theo "
                                           f"tên tệp; chỉ lấy các cột báo cáo của nhiệm vụ do đơn vị chủ trì.",
                                severity="warning"))
    for i, row in enumerate(data.rows):
        tid = normalize_text(row.get("id"))
        if tid not in current:
            continue
        for key in schema.UNIT_FIELDS:
            if key not in data.columns or _blank(row.get(key)):
                continue
            fmt = book.number_format(sheet, data.row_numbers[i], data.columns[key])
            if tid not in mine:
                try:
                    same = parse_field(key, row.get(key), period=sub.period, today=today,
                                       number_format=fmt) == current[tid].get(key)
                except ValueError:
                    same = False
                ignored += 0 if same else 1
                continue
            r, c = data.row_numbers[i], data.columns[key]
            if (sheet, r, c) in book.formulas:
                sub.problems.append(file_problem("formula_ignored", path.name, "Ô chứa công thức; không lấy.", sheet=sheet,
                                            cell=data.cell(i, key).split("!")[1]))
                continue
            try:
                value = parse_field(key, row.get(key), period=sub.period, today=today, number_format=fmt)
            except ValueError as exc:
                sub.problems.append(file_problem("value_invalid", path.name, str(exc), sheet=sheet,
                                                 cell=data.cell(i, key).split("!")[1]))
                continue
            if value is not None:
                sub.add(tid, mine[tid], key, value)
    if ignored:
        sub.problems.append(file_problem("cells_outside_part", path.name, f"{ignored} ô khác sổ theo dõi nhưng không thuộc phần của {sub.unit} "
                                               "(nhiệm vụ đơn vị khác hoặc cột kế hoạch) đã bị bỏ qua.",
                                    severity="warning"))
    return sub


def read_submission(path: Path | str, md: MasterData, *, config: Config, today: dt.date | None = None,
                    period: str | None = None, unit_by_file: dict[str, str] | None = None,
                    data: bytes | None = None, name: str | None = None) -> Submission:
    """Read one file of the inbox; a refused file comes back with ``rejected=True`` and its reason.

    ``data``: the file's bytes already read (the inbox reads each file once and hashes it); ``name``:
    the name to show and file under when the real one is not fit to show (not UTF-8, control characters).
    """
    real = Path(path)
    path = real.with_name(name) if name else real
    today = today or dt.date.today()
    try:
        book = safe_open(path, config.limits, data=data, source=real)
        if find_sheet_name(book.sheets, META_SHEET) is None and find_sheet_name(book.sheets, schema.TASKS.name):
            sub = read_master_copy(path, book, md, period=period, today=today, unit_by_file=unit_by_file, config=config)
        else:
            sub = read_unitbook(path, book, md, config=config, today=today)
    except SubmissionRejected as exc:
        sub = Submission(file=path, problems=[exc.problem], rejected=True)
    try:
        sub.mtime = os.stat(real).st_mtime
    except OSError:
        pass
    return sub
