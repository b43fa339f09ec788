"""Find one's way around an .xlsx package: a part's relationships, the workbook, its sheets, their Tables.

The writer (``io/xlsx_patch``), the archive's trim (``io/xlsx_trim``) and the header reader
(``io/xlsx_head``) reach the package differently (their own zip reader, ``zipfile``) and parse XML
with their own hardened parser (defusedxml, lxml without entities or network), so a ``Parts``
carries both: which part names exist and how to parse one. The parser's errors reach the caller as
they are, so each keeps its own message. Only relationships inside the package are followed.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from lxml import etree

__all__ = ["HARDENED_PARSER", "Parts", "Rel", "Sheet", "rels", "rels_name", "resolve", "sheet_map", "sheets", "table_parts",
           "workbook_part", "zip_sheet_map"]

# lxml without entity expansion or network access; huge_tree because a 50,000-row sheet part is
# over libxml2's default limits. The verifier and the tail reader share it (each thread of lxml keeps its
# own parser context, so sharing one parser object is safe).
HARDENED_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)

R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_R_ID = f"{{{R_NS}}}id"
OFFICE_DOCUMENT = "/officeDocument"
TABLE = "/table"


@dataclass(frozen=True)
class Parts:
    """A package as one caller reaches it."""

    has: Callable[[str], bool]  # is there a part of this name
    parse: Callable[[str], Any]  # the part's root element, parsed with the caller's hardened parser


class Rel(NamedTuple):  # a tuple: the writer reads a few of these on every write
    id: str
    type: str  # the full relationship type URI; compare its end ("/table")
    target: str  # the part it points to, as a name in the package ("xl/tables/table1.xml")


class Sheet(NamedTuple):
    name: str
    sheet_id: str
    part: str


def _local(tag: Any) -> str:
    # lxml gives comments and processing instructions a non-string tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def rels_name(part: str) -> str:
    """The relationships part of ``part`` ("" is the package itself: ``_rels/.rels``)."""
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def resolve(part: str, target: str) -> str:
    """A relationship's ``Target`` as a part name: ``/xl/x.xml`` from the package root, otherwise
    relative to the folder of ``part`` (``../tables/table1.xml`` from ``xl/worksheets/sheet1.xml``)."""
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(part), target))


def rels(parts: Parts, part: str) -> list[Rel]:
    """The relationships of ``part`` that stay inside the package, in document order; [] without a rels part."""
    name = rels_name(part)
    if not parts.has(name):
        return []
    out = []
    for rel in parts.parse(name):
        if _local(rel.tag) != "Relationship" or rel.get("TargetMode") == "External":
            continue
        out.append(Rel(rel.get("Id", ""), rel.get("Type", ""), resolve(part, rel.get("Target", ""))))
    return out


def workbook_part(parts: Parts) -> str | None:
    """The workbook part (``xl/workbook.xml`` as a rule), or None when the package has none."""
    main = next((r.target for r in rels(parts, "") if r.type.endswith(OFFICE_DOCUMENT)), None)
    return main if main is not None and parts.has(main) else None


def sheets(workbook: Any, workbook_rels: list[Rel]) -> list[Sheet]:
    """The sheets a parsed workbook lists, in its order, each with its part (those whose
    relationship is missing are left out)."""
    targets = {r.id: r.target for r in workbook_rels}
    out = []
    for el in workbook.iter():
        if _local(el.tag) == "sheet":
            rid = el.get(_R_ID, "")
            if rid in targets:
                out.append(Sheet(el.get("name", ""), el.get("sheetId", ""), targets[rid]))
    return out


def sheet_map(parts: Parts) -> tuple[str | None, dict[str, str]]:
    """The workbook part and ``{sheet name: worksheet part}``; ``(None, {})`` for a package without a workbook."""
    main = workbook_part(parts)
    if main is None:
        return None, {}
    return main, {s.name: s.part for s in sheets(parts.parse(main), rels(parts, main))}


def zip_sheet_map(zf: Any) -> tuple[str | None, dict[str, str]]:
    """:func:`sheet_map` of an open ``zipfile.ZipFile``, its parts parsed with :data:`HARDENED_PARSER`."""
    names = set(zf.namelist())
    return sheet_map(Parts(names.__contains__, lambda name: etree.fromstring(zf.read(name), HARDENED_PARSER)))


def table_parts(parts: Parts, sheet_part: str) -> list[str]:
    """The Table parts of a worksheet that are in the package, in relationship order."""
    return [r.target for r in rels(parts, sheet_part) if r.type.endswith(TABLE) and parts.has(r.target)]
