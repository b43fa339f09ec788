"""Encode Python values as SpreadsheetML ``<c>`` elements (bytes).

Strings are written as inline strings (``t="inlineStr"``) so that writing a
cell never forces xl/sharedStrings.xml to be rewritten. A string is always text,
even when it starts with ``=``: an inline string cannot be a formula.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
from collections.abc import Callable

from kehoach_xl.model.address import col_letters
from kehoach_xl.model.changes import CellValue, Link

# Characters XML 1.0 forbids (C0 controls except tab/LF/CR, lone surrogates,
# U+FFFE/U+FFFF). They cannot be stored, so they are dropped.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Excel decodes "_xHHHH_" inside <t> as an escaped character; a literal one is
# written with its underscore escaped so it reads back unchanged.
_X_ESCAPE = re.compile("_(x[0-9A-Fa-f]{4}_)")

_EPOCH_1900 = dt.datetime(1899, 12, 30)
_EPOCH_1904 = dt.datetime(1904, 1, 1)


def clean_text(text: str) -> str:
    return _ILLEGAL_XML.sub("", text)


def escape_text(text: str) -> str:
    text = clean_text(text)
    text = _X_ESCAPE.sub(r"_x005F_\1", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # A raw CR would be read back as LF (XML end-of-line handling); a reference survives.
    return text.replace("\r", "&#13;")


def excel_serial(value: dt.date | dt.datetime, date1904: bool = False) -> float | int:
    """Excel serial number of a date or datetime (time zone dropped)."""
    if isinstance(value, dt.datetime):
        moment = value.replace(tzinfo=None)
    else:
        moment = dt.datetime(value.year, value.month, value.day)
    delta = moment - (_EPOCH_1904 if date1904 else _EPOCH_1900)
    serial = delta.days + delta.seconds / 86400 + delta.microseconds / 86400e6
    if not date1904 and serial < 61:
        # Excel counts a 29/02/1900 that never existed; before it, serials are one lower.
        serial -= 1
    return int(serial) if serial == int(serial) else serial


def format_number(value: int | float) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"không ghi được số không hữu hạn: {value!r}")
        if value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def is_date_value(value: CellValue) -> bool:
    return isinstance(value, dt.date)


def cell_xml(
    ref: str,
    value: CellValue,
    style: bytes | None,
    prefix: bytes = b"",
    date1904: bool = False,
    extra_attrs: bytes = b"",
) -> bytes:
    """One ``<c>`` element for ``value`` at ``ref``, keeping ``style`` (the s attribute value)."""
    if isinstance(value, Link):
        # Cached value included so readers that do not calculate (calamine, openpyxl) see the text.
        f = escape_text(value.formula).encode("utf-8")
        t = escape_text(value.text).encode("utf-8")
        s_attr = b' s="' + style + b'"' if style is not None else b""
        return (b"<" + prefix + b'c r="' + ref.encode("ascii") + b'"' + s_attr + extra_attrs + b' t="str"><'
                + prefix + b"f>" + f + b"</" + prefix + b"f><" + prefix + b"v>" + t + b"</" + prefix + b"v></"
                + prefix + b"c>")
    if not isinstance(value, (str, bool, int, float, dt.date)) and value is not None:
        # numpy/pandas scalars and the like: store as the plain number they stand for
        if isinstance(value, numbers.Integral):
            value = int(value)
        elif isinstance(value, numbers.Real):
            value = float(value)
    s = b' s="' + style + b'"' if style is not None else b""
    head = b"<" + prefix + b'c r="' + ref.encode("ascii") + b'"' + s + extra_attrs
    if value is None:
        return head + b"/>"
    if isinstance(value, bool):
        return head + b' t="b"><' + prefix + b"v>" + (b"1" if value else b"0") + b"</" + prefix + b"v></" + prefix + b"c>"
    if isinstance(value, (int, float)):
        v = format_number(value).encode("ascii")
        return head + b"><" + prefix + b"v>" + v + b"</" + prefix + b"v></" + prefix + b"c>"
    if isinstance(value, dt.date):
        v = format_number(excel_serial(value, date1904)).encode("ascii")
        return head + b"><" + prefix + b"v>" + v + b"</" + prefix + b"v></" + prefix + b"c>"
    if isinstance(value, str):
        text = escape_text(value)
        space = b' xml:space="preserve"' if text != text.strip() or "\n" in text or "\r" in value else b""
        return (
            head + b' t="inlineStr"><' + prefix + b"is><" + prefix + b"t" + space + b">"
            + text.encode("utf-8") + b"</" + prefix + b"t></" + prefix + b"is></" + prefix + b"c>"
        )
    raise TypeError(f"unsupported cell value type: {type(value).__name__}")


_NEEDS_ESCAPE = re.compile("[&<>_\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def cell_bytes(ref: bytes, value: CellValue, style: bytes | None, prefix: bytes = b"", date1904: bool = False) -> bytes:
    """Same as :func:`cell_xml` for the common cases, tuned for the hot loop."""
    if prefix:
        return cell_xml(ref.decode("ascii"), value, style, prefix, date1904)
    head = b'<c r="%s" s="%s"' % (ref, style) if style is not None else b'<c r="%s"' % ref
    if value is None:
        return head + b"/>"
    cls = type(value)
    if cls is str:
        text = escape_text(value) if _NEEDS_ESCAPE.search(value) else value
        if text != text.strip() or "\n" in text or "\r" in value:
            return head + b' t="inlineStr"><is><t xml:space="preserve">%s</t></is></c>' % text.encode()
        return head + b' t="inlineStr"><is><t>%s</t></is></c>' % text.encode()
    if cls is int:
        return head + b"><v>%d</v></c>" % value
    if cls is float or cls is dt.date or cls is dt.datetime:
        if cls is not float:
            value = excel_serial(value, date1904)
        return head + b"><v>%s</v></c>" % format_number(value).encode()
    return cell_xml(ref.decode("ascii"), value, style, prefix, date1904)


class CellText:
    """Cells (no namespace prefix) as text, the same characters :func:`cell_bytes` writes, for the hot loops.

    Each (column, style) gets its format strings once, one per kind of value, so a cell costs one
    type test and one ``%``; a date's serial is worked out once per distinct date, a text that needs
    escaping once per distinct text. A date style is only looked up when a date is written (through
    ``date_style``, in the order cells are written): looking it up can add a style to styles.xml.
    """

    def __init__(self, date_style: Callable[[bytes | None, bool], bytes | None], date1904: bool) -> None:
        self.date_style = date_style
        self.date1904 = date1904
        # (column, style) -> formats for None, text, text keeping spaces, int, other number; then column, style
        self._formats: dict[tuple[int, bytes | None], tuple[str, str, str, str, str, int, bytes | None]] = {}
        self._dates: dict[tuple[int, bytes | None, bool], str] = {}
        self._serials: dict[dt.date, str] = {}
        self._escaped: dict[str, tuple[int, str]] = {}

    def formats(self, col: int, style: bytes | None) -> tuple[str, str, str, str, str, int, bytes | None]:
        key = (col, style)
        got = self._formats.get(key)
        if got is None:
            head = '<c r="' + col_letters(col) + '%s"' + (' s="' + style.decode("ascii") + '"' if style is not None
                                                          else "")
            got = self._formats[key] = (
                head + "/>",
                head + ' t="inlineStr"><is><t>%s</t></is></c>',
                head + ' t="inlineStr"><is><t xml:space="preserve">%s</t></is></c>',
                head + "><v>%d</v></c>",
                head + "><v>%s</v></c>",
                col,
                style,
            )
        return got

    def _date(self, fmts: tuple[str, str, str, str, str, int, bytes | None], n: str, v: dt.date) -> str:
        """A naive date or datetime: its serial under the date style for the cell's style."""
        serial = self._serials.get(v)
        if serial is None:
            serial = self._serials[v] = format_number(excel_serial(v, self.date1904))
        key = (fmts[5], fmts[6], type(v) is dt.datetime)
        fmt = self._dates.get(key)
        if fmt is None:
            style = self.date_style(fmts[6], key[2])
            fmt = self._dates[key] = self.formats(fmts[5], style)[4]
        return fmt % (n, serial)

    def _other(self, fmts: tuple[str, str, str, str, str, int, bytes | None], n: str, v: CellValue) -> str:
        """Booleans, links, aware datetimes, numpy scalars …: the general writer."""
        style = fmts[6]
        if is_date_value(v):
            style = self.date_style(style, isinstance(v, dt.datetime))
        return cell_xml(col_letters(fmts[5]) + n, v, style, b"", self.date1904).decode("utf-8")

    def _text(self, fmts: tuple[str, str, str, str, str, int, bytes | None], n: str, v: str) -> str:
        """A text that needs escaping or keeps its spaces (file names with "_" repeat: once per text)."""
        got = self._escaped.get(v)
        if got is None:
            text = escape_text(v) if _NEEDS_ESCAPE.search(v) else v
            got = self._escaped[v] = (2 if text != text.strip() or "\n" in text or "\r" in v else 1, text)
        return fmts[got[0]] % (n, got[1])

    def cell(self, col: int, style: bytes | None, n: str, v: CellValue) -> str:
        """One ``<c>`` at column ``col`` of row ``n`` (digits) over style ``style``."""
        fmts = self._formats.get((col, style)) or self.formats(col, style)
        cls = type(v)
        if cls is str:
            if _NEEDS_ESCAPE.search(v) is None and "\n" not in v and v == v.strip():
                return fmts[1] % (n, v)
            return self._text(fmts, n, v)
        if v is None:
            return fmts[0] % n
        if cls is int:
            return fmts[3] % (n, v)
        if (cls is dt.datetime and v.tzinfo is None) or cls is dt.date:
            return self._date(fmts, n, v)
        if cls is float:
            return fmts[4] % (n, format_number(v))
        return self._other(fmts, n, v)

    def row(self, fmts: list[tuple[str, str, str, str, str, int, bytes | None]], num: int,
            values: list[CellValue]) -> str:
        """The cells of row ``num`` holding ``values``, one per entry of ``fmts`` (at least as many)."""
        n = str(num)
        out = []
        append = out.append
        needs_escape = _NEEDS_ESCAPE.search
        for f, v in zip(fmts, values, strict=False):
            cls = type(v)
            if cls is str:
                if needs_escape(v) is None and "\n" not in v and v == v.strip():
                    append(f[1] % (n, v))
                else:
                    append(self._text(f, n, v))
            elif v is None:
                append(f[0] % n)
            elif cls is int:
                append(f[3] % (n, v))
            elif (cls is dt.datetime and v.tzinfo is None) or cls is dt.date:
                append(self._date(f, n, v))
            elif cls is float:
                append(f[4] % (n, format_number(v)))
            else:
                append(self._other(f, n, v))
        return "".join(out)
