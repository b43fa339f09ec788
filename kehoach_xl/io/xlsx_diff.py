"""Compare two packages part by part: which members changed, which rows changed.

Used by the tests and the fidelity corpus to prove that a patch touched only
what it should; cheap enough to run after every write as a verification step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from kehoach_xl.io.xlsx_zip import ZipPackage

_ROW = re.compile(rb"<(?:\w+:)?row\b[^>]*?(?:/>|>.*?</(?:\w+:)?row>)", re.S)
_ROW_NUM = re.compile(rb'\sr="(\d+)"')
_DIMENSION = re.compile(rb'(<(?:\w+:)?dimension\b[^>]*\bref=")[^"]*"')


@dataclass
class PackageDiff:
    changed: list[str]  # members whose content differs
    raw_identical: list[str]  # members whose local entry (header + compressed bytes) is identical
    added: list[str]
    removed: list[str]
    same_order: bool


def diff_packages(src: Path, dst: Path) -> PackageDiff:
    a, b = ZipPackage.open(src), ZipPackage.open(dst)
    names_a, names_b = a.names(), b.names()
    common = [n for n in names_a if n in b.by_name]
    changed = [n for n in common if a.read(n) != b.read(n)]
    raw = []
    for n in common:
        ma, mb = a.by_name[n], b.by_name[n]
        if a.data[ma.offset : ma.end] == b.data[mb.offset : mb.end]:
            raw.append(n)
    return PackageDiff(
        changed=changed,
        raw_identical=raw,
        added=[n for n in names_b if n not in a.by_name],
        removed=[n for n in names_a if n not in b.by_name],
        same_order=[n for n in names_a if n in b.by_name] == [n for n in names_b if n in a.by_name],
    )


def _split_rows(xml: bytes) -> tuple[bytes, dict[int, bytes]]:
    rows: dict[int, bytes] = {}
    skeleton: list[bytes] = []
    pos = 0
    prev = 0
    for m in _ROW.finditer(xml):
        head = m.group(0).split(b">", 1)[0]
        r = _ROW_NUM.search(head)
        num = int(r.group(1)) if r else prev + 1
        prev = num
        skeleton.append(xml[pos : m.start()])
        rows[num] = m.group(0)
        pos = m.end()
    skeleton.append(xml[pos:])
    return b"".join(skeleton), rows


def changed_rows(old_xml: bytes, new_xml: bytes) -> set[int]:
    """Row numbers whose ``<row>`` element differs (added rows included).

    Raises ``AssertionError`` if anything outside ``<row>`` elements differs,
    other than the ``<dimension>`` ref and an empty ``<sheetData/>`` opened up.
    """
    old_skel, old_rows = _split_rows(old_xml)
    new_skel, new_rows = _split_rows(new_xml)
    norm = [_DIMENSION.sub(rb'\1"', s) for s in (old_skel, new_skel)]
    norm[0] = re.sub(rb"<((?:\w+:)?sheetData)(\b[^>]*?)/>", rb"<\1\2></\1>", norm[0])
    if norm[0] != norm[1]:
        raise AssertionError("sheet XML differs outside <row> elements")
    return {n for n in set(old_rows) | set(new_rows) if old_rows.get(n) != new_rows.get(n)}
