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

from kehoach_xl.model.changes import CellValue, Link

# Characters XML 1.0 forbids (C0 controls except tab/LF/CR, lone surrogates,
# U+FFFE/U+FFFF). They cannot be stored, so they are dropped.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Excel decodes "_xHHHH_" inside <t> as an escaped character; a literal one is
# written with its underscore escaped so it reads back unchanged.
_X_ESCAPE = re.compile("_(x[0-9A-Fa-f]{4}_)")

_EPOCH_1900 = dt.datetime(1899, 12, 30)
_EPOCH_1904 = dt.datetime(1904, 1, 1)


def col_letters(col: int) -> str:
    if col < 1:
        raise ValueError(f"column must be >= 1, got {col}")
    out = ""
    while col:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


def col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n


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


class RowText:
    """Whole new rows of cells (no namespace prefix) as text, the same characters :func:`cell_bytes` writes.

    Appended rows (the log, the history) are most of a night's cells. Here each column's reference
    letters and style attribute are decided once, as one format string per kind of value, so a cell
    costs one type test and one ``%``; a date's serial is worked out once per distinct date. A column's
    date style is only looked up when a date lands in it: looking it up can add a style to styles.xml.
    """

    def __init__(self, first_col: int, style_of: Callable[[int], bytes | None],
                 date_style: Callable[[bytes | None, bool], bytes | None], date1904: bool) -> None:
        self.first_col = first_col
        self.style_of = style_of
        self.date_style = date_style
        self.date1904 = date1904
        # per column: formats for None, text, text keeping spaces, int, other number; its index from first_col
        self._cols: list[tuple[str, str, str, str, str, int]] = []
        self._dates: list[dict[bool, str]] = []
        self._serials: dict[dt.date, str] = {}
        self._escaped: dict[str, tuple[int, str]] = {}

    def _grow(self, width: int) -> None:
        while len(self._cols) < width:
            col = self.first_col + len(self._cols)
            style = self.style_of(col)
            head = '<c r="' + col_letters(col) + '%s"' + (' s="' + style.decode("ascii") + '"' if style is not None else "")
            self._cols.append((
                head + "/>",
                head + ' t="inlineStr"><is><t>%s</t></is></c>',
                head + ' t="inlineStr"><is><t xml:space="preserve">%s</t></is></c>',
                head + "><v>%d</v></c>",
                head + "><v>%s</v></c>",
                len(self._cols),
            ))
            self._dates.append({})

    def _date_format(self, j: int, with_time: bool) -> str:
        fmts = self._dates[j]
        if with_time not in fmts:
            col = self.first_col + j
            style = self.date_style(self.style_of(col), with_time)
            fmts[with_time] = ('<c r="' + col_letters(col) + '%s"' + (' s="' + style.decode("ascii") + '"'
                               if style is not None else "") + "><v>%s</v></c>")
        return fmts[with_time]

    def cells(self, num: int, values: list[CellValue]) -> str:
        """The ``<c>`` elements of row ``num`` holding ``values`` from ``first_col`` on."""
        if len(values) > len(self._cols):
            self._grow(len(values))
        n = str(num)
        out = []
        append = out.append
        cols = self._cols
        needs_escape = _NEEDS_ESCAPE.search
        escaped = self._escaped
        dates = self._dates
        for fmts, v in zip(cols, values, strict=False):  # cols may be wider than this row
            cls = type(v)
            if cls is str:
                if needs_escape(v) is None and "\n" not in v and v == v.strip():
                    append(fmts[1] % (n, v))
                else:  # escaped, or spaces kept: worked out once per distinct text (file names repeat)
                    got = escaped.get(v)
                    if got is None:
                        text = escape_text(v) if needs_escape(v) else v
                        got = escaped[v] = (2 if text != text.strip() or "\n" in text or "\r" in v else 1, text)
                    append(fmts[got[0]] % (n, got[1]))
            elif v is None:
                append(fmts[0] % n)
            elif cls is int:
                append(fmts[3] % (n, v))
            elif (cls is dt.datetime and v.tzinfo is None) or cls is dt.date:
                serial = self._serials.get(v)
                if serial is None:
                    serial = self._serials[v] = format_number(excel_serial(v, self.date1904))
                fmt = dates[fmts[5]].get(cls is dt.datetime) or self._date_format(fmts[5], cls is dt.datetime)
                append(fmt % (n, serial))
            elif cls is float:
                append(fmts[4] % (n, format_number(v)))
            else:  # booleans, links, aware datetimes, numpy scalars …: the general writer
                col = self.first_col + fmts[5]
                style = self.style_of(col)
                if is_date_value(v):
                    style = self.date_style(style, isinstance(v, dt.datetime))
                append(cell_xml(col_letters(col) + n, v, style, b"", self.date1904).decode("utf-8"))
        return "".join(out)
