"""Find (or, as a last resort, add) a date cell style in xl/styles.xml.

A date written into a cell must show as a date. The cell's own style is kept
when its number format already is a date format; otherwise we look for an
existing ``cellXfs`` entry that looks the same (font, fill, border, alignment)
but has a date format, and only when none exists is one cloned and added, which
is the only case where styles.xml is rewritten.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kehoach_xl.vn import DATE_FORMAT as DATE_CODE
from kehoach_xl.vn import DATETIME_FORMAT as DATETIME_CODE

# Built-in number formats that are dates or times (ECMA-376 §18.8.30).
_BUILTIN_DATE_IDS = {14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47, *range(27, 37), *range(50, 59)}
_BUILTIN_TIME_IDS = {18, 19, 20, 21, 22, 45, 46, 47}

_CELLXFS = re.compile(rb"<(\w+:)?cellXfs\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?cellXfs>)", re.S)
_XF = re.compile(rb"<(?:\w+:)?xf\b[^>]*?(?:/>|>.*?</(?:\w+:)?xf>)", re.S)
_NUMFMTS = re.compile(rb"<(\w+:)?numFmts\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?numFmts>)", re.S)
_NUMFMT = re.compile(rb"<(?:\w+:)?numFmt\b[^>]*/>", re.S)
_ATTR = re.compile(rb'\b([\w:]+)="([^"]*)"')


def _attrs(tag: bytes) -> dict[bytes, bytes]:
    head = tag.split(b">", 1)[0]
    return dict(_ATTR.findall(head))


def _unescape(value: bytes) -> str:
    text = value.decode("utf-8")
    for a, b in (("&quot;", '"'), ("&apos;", "'"), ("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&")):
        text = text.replace(a, b)
    return text


def is_date_code(code: str) -> bool:
    stripped = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.', "", code).lower()
    if stripped in ("general", "@", ""):
        return False
    return bool(re.search(r"[dmyhs]", stripped)) and not re.search(r"[0#?]", stripped)


@dataclass
class _Xf:
    raw: bytes
    numfmt: int
    look: bytes  # the xf with numFmtId/applyNumberFormat removed, to compare looks


class Styles:
    def __init__(self, xml: bytes | None) -> None:
        self.xml = xml
        self.changed = False
        self.codes: dict[int, str] = {}
        self.xfs: list[_Xf] = []
        self._cache: dict[tuple[int | None, bool], int | None] = {}
        if xml is None:
            return
        m = _NUMFMTS.search(xml)
        if m and m.group(2):
            for tag in _NUMFMT.findall(m.group(2)):
                a = _attrs(tag)
                self.codes[int(a[b"numFmtId"])] = _unescape(a.get(b"formatCode", b""))
        m = _CELLXFS.search(xml)
        if m and m.group(2):
            for raw in _XF.findall(m.group(2)):
                a = _attrs(raw)
                look = re.sub(rb'\s(?:numFmtId|applyNumberFormat)="[^"]*"', b"", raw)
                self.xfs.append(_Xf(raw, int(a.get(b"numFmtId", b"0")), look))

    def _is_date(self, fmt: int, with_time: bool) -> bool:
        if fmt in _BUILTIN_DATE_IDS:
            return not with_time or fmt in _BUILTIN_TIME_IDS
        code = self.codes.get(fmt)
        if code is None or not is_date_code(code):
            return False
        return not with_time or "h" in code.lower()

    def date_style(self, current: int | None, with_time: bool) -> int | None:
        """The xf index to use for a date (or datetime) written over style ``current``."""
        key = (current, with_time)
        if key not in self._cache:
            self._cache[key] = self._find_or_add(current, with_time)
        return self._cache[key]

    def _find_or_add(self, current: int | None, with_time: bool) -> int | None:
        if not self.xfs:
            return current
        base = self.xfs[current] if current is not None and current < len(self.xfs) else self.xfs[0]
        if current is not None and current < len(self.xfs) and self._is_date(base.numfmt, with_time):
            return current
        matches = [i for i, xf in enumerate(self.xfs) if xf.look == base.look and self._is_date(xf.numfmt, with_time)]
        if matches:
            return matches[0]
        return self._add_xf(base, with_time)

    def _add_xf(self, base: _Xf, with_time: bool) -> int:
        assert self.xml is not None
        code = DATETIME_CODE if with_time else DATE_CODE
        fmt_id = next((i for i, c in self.codes.items() if c == code), None)
        xml = self.xml
        if fmt_id is None:
            fmt_id = max([163, *self.codes]) + 1
            self.codes[fmt_id] = code
            tag = b'<numFmt numFmtId="%d" formatCode="%s"/>' % (fmt_id, code.encode())
            m = _NUMFMTS.search(xml)
            if m is None:
                # numFmts must come first inside styleSheet.
                root = re.search(rb"<(\w+:)?styleSheet\b[^>]*>", xml)
                assert root is not None
                p = root.group(1) or b""
                tag = tag.replace(b"<numFmt", b"<" + p + b"numFmt")
                block = b"<" + p + b'numFmts count="1">' + tag + b"</" + p + b"numFmts>"
                xml = xml[: root.end()] + block + xml[root.end() :]
            else:
                p = m.group(1) or b""
                tag = tag.replace(b"<numFmt", b"<" + p + b"numFmt")
                inner = m.group(2) or b""
                count = len(_NUMFMT.findall(inner)) + 1
                block = b"<" + p + b'numFmts count="%d">' % count + inner + tag + b"</" + p + b"numFmts>"
                xml = xml[: m.start()] + block + xml[m.end() :]
        new_raw = re.sub(rb'\snumFmtId="[^"]*"', b"", base.raw)
        new_raw = re.sub(rb'\sapplyNumberFormat="[^"]*"', b"", new_raw)
        new_raw = re.sub(rb"^(<(?:\w+:)?xf)\b", rb'\1 numFmtId="%d" applyNumberFormat="1"' % fmt_id, new_raw)
        m = _CELLXFS.search(xml)
        assert m is not None and m.group(2) is not None
        p = m.group(1) or b""
        inner = m.group(2) + new_raw
        head = re.sub(rb'\scount="\d+"', b"", xml[m.start() : m.start(2)].rstrip(b">"))
        block = head + b' count="%d">' % (len(self.xfs) + 1) + inner + b"</" + p + b"cellXfs>"
        self.xml = xml[: m.start()] + block + xml[m.end() :]
        self.xfs.append(_Xf(new_raw, fmt_id, base.look))
        self.changed = True
        return len(self.xfs) - 1
