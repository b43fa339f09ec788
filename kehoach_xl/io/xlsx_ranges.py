"""Move the ranges laid over a list when the list's end moves: rows appended, rows archived away.

Both writers that change a list's length — the surgical patcher (``io/xlsx_sheet``, rows appended)
and the archive's trim (``io/xlsx_trim``, rows removed and packed) — must carry the ranges staff
laid over the list with it, as Excel does: a sheet-level ``autoFilter``, conditional-format and
data-validation ``sqref`` (plain and the x14 ones in ``extLst``), a Table's ``ref`` and its own
``autoFilter``, and defined names over the sheet (``_xlnm._FilterDatabase``, a print area, a name
staff made). The places are found here once (``map_ranges``, ``map_defined_names``); what happens
to each range is the caller's rule (``grow_range``, ``shrink_range`` or an exact one), one range
reference in, its new text out.

Never touched here: ``<dimension>`` (the used range, which follows every written cell, columns too,
so each writer keeps its own) and ``<mergeCell>`` (a merge does not grow with a list; the trim
refuses sheets that have any).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

__all__ = ["RangeRule", "exact_rule", "grow_range", "grow_rule", "map_defined_names", "map_ranges", "shrink_range",
           "shrink_rule"]

RangeRule = Callable[[str], str]
"""One range reference (``A2:K20``, ``$A$2:$K$20``, ``B2``) → its text after the list moved."""

_RANGE_REF = re.compile(r"^(\$?)([A-Z]{1,3})(\$?)(\d+):(\$?)([A-Z]{1,3})(\$?)(\d+)$")
_CELL_REF = re.compile(r"^(\$?)([A-Z]{1,3})(\$?)(\d+)$")
_LIST_RANGES = re.compile(
    # One "<" and namespace prefix shared by every alternative: tried at every "<", it costs about
    # a tenth of alternatives that each start with their own "<" (measured on a master's sheet tail).
    rb"(<(?:\w+:)?)(?:"
    # a Table part's own ref (<tableColumns> has no word break after "table"), an autoFilter's ref,
    # each conditional format's and validation's sqref;
    rb"((?:table|autoFilter)\b[^>]*?\bref=\"|(?:conditionalFormatting|dataValidation)\b[^>]*?\bsqref=\")"
    rb"([^\"]*)(\")"
    # x14 conditional formats and validations (extLst): their sqref is the element's last child;
    # a sparkline's sqref (its location cell) is not a range over the list and stays as it is.
    rb"|(sqref>)([^<]*)(</(?:\w+:)?sqref>)(?=\s*</(?:\w+:)?(?:conditionalFormatting|dataValidation)>))"
)
_GROUPS = (2, 5)
_DEFINED_NAME = re.compile(r"(<(?:\w+:)?definedName\b[^>]*>)([^<]*)(</(?:\w+:)?definedName>)")
_SHEET_REF = re.compile(r"((?:'(?:[^']|'')+'|[^\s'!:(),=&;<>]+)!)(\$?[A-Z]{1,3}\$?\d+:\$?[A-Z]{1,3}\$?\d+)")


def _with_bottom(m: re.Match[str], top: int, bottom: int) -> str:
    return f"{m.group(1)}{m.group(2)}{m.group(3)}{top}:{m.group(5)}{m.group(6)}{m.group(7)}{bottom}"


def grow_range(ref: str, last_data: int, new_last: int, header: int) -> str:
    """``ref`` (``A2:K20``, absolute or not) reaching ``new_last`` when it covered the list down to its
    end: it ends on the last data row before the append (``last_data``) or on an empty row the append
    has now filled. Any other range — a single cell, a block ending above the data, the header
    alone, one already reaching further — is returned unchanged."""
    m = _RANGE_REF.match(ref)
    if not m:
        one = _CELL_REF.match(ref)  # a one-cell "range" is the whole column of a one-row list only
        if one and int(one.group(4)) == header + 1 and last_data <= header + 1 < new_last:
            return f"{ref}:{one.group(1)}{one.group(2)}{one.group(3)}{new_last}"
        return ref
    top, bottom = int(m.group(4)), int(m.group(8))
    if not last_data <= bottom < new_last or bottom <= header or top > bottom:
        return ref
    return _with_bottom(m, top, new_last)


def shrink_range(ref: str, old_last: int, new_last: int, header: int) -> str:
    """``ref`` ending on the list's old last row (or below it) now ending on ``new_last``, when it starts
    at the header or the first data row; any other range (a single cell among them) unchanged."""
    m = _RANGE_REF.match(ref)
    if not m:
        return ref
    top, bottom = int(m.group(4)), int(m.group(8))
    if top > header + 1 or bottom < old_last or bottom <= new_last:
        return ref
    return _with_bottom(m, top, new_last)


def grow_rule(last_data: int, new_last: int, header: int) -> RangeRule:
    """``grow_range`` for rows ``last_data + 1 .. new_last`` appended under the header row ``header``."""
    return lambda ref: grow_range(ref, last_data, new_last, header)


def shrink_rule(old_last: int, new_last: int, header: int) -> RangeRule:
    """``shrink_range`` for a list that ended on ``old_last`` and now ends on ``new_last``."""
    return lambda ref: shrink_range(ref, old_last, new_last, header)


def exact_rule(old: str, new: str) -> RangeRule:
    """The range ``old``, exactly, becomes ``new``: a Table's own ``ref`` (and its ``autoFilter``, which
    repeats it), whose end the caller has computed from the Table itself."""
    return lambda ref: new if ref == old else ref


def _map_list(refs: str, rule: RangeRule) -> str:
    # An sqref is a space-separated list of ranges; each is moved on its own.
    return " ".join(rule(r) for r in refs.split(" "))


def map_ranges(xml: bytes, rule: RangeRule) -> bytes:
    """``xml`` — a sheet's part after ``</sheetData>``, or a Table part — with ``rule`` applied to every
    range of a list it holds: the Table's ``ref``, an ``autoFilter`` ``ref``, each range of a
    ``conditionalFormatting`` or ``dataValidation`` ``sqref`` (plain, and x14 in ``extLst``). Every
    other byte, and every range the rule returns unchanged, is kept byte for byte."""

    def fix(m: re.Match[bytes]) -> bytes:
        i = next(k for k in _GROUPS if m.group(k) is not None)
        refs = m.group(i + 1).decode("ascii", "replace")
        new = _map_list(refs, rule)
        return m.group(1) + m.group(i) + new.encode("ascii") + m.group(i + 2) if new != refs else m.group(0)

    return _LIST_RANGES.sub(fix, xml)


def map_defined_names(xml: bytes, sheet: str, rule: RangeRule) -> bytes:
    """workbook.xml with ``rule`` applied to every range on ``sheet`` that a defined name refers to
    (``'Nhật ký'!$A$1:$I$900``, inside a formula too); names over other sheets stay as they are.
    ``xml`` itself is returned when nothing changed."""
    text = xml.decode("utf-8")

    def ref(m: re.Match[str]) -> str:
        qualifier = html.unescape(m.group(1)[:-1])
        name = qualifier[1:-1].replace("''", "'") if qualifier.startswith("'") else qualifier
        return m.group(0) if name != sheet else m.group(1) + rule(m.group(2))

    new = _DEFINED_NAME.sub(lambda m: m.group(1) + _SHEET_REF.sub(ref, m.group(2)) + m.group(3), text)
    return new.encode("utf-8") if new != text else xml
