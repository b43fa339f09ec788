"""A part is inflated into one buffer of its recorded size: zlib's growing buffer held its blocks and
their joined copy at once (twice a 92 MB sheet at 50,000 tasks, the peak of a refresh)."""

from __future__ import annotations

import struct
import tracemalloc
import zipfile
from pathlib import Path

from kehoach_xl.io.xlsx_zip import ZipPackage

SIZE = 24 << 20


def _zip(path: Path, body: bytes) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", body)
    return path


def _body() -> bytes:
    row = b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>Nhi\xe1\xbb\x87m v\xe1\xbb\xa5 %d</t></is></c></row>'
    out, n = [], 0
    while sum(map(len, out)) < SIZE:
        out.append(b"".join(row % (i, i, i) for i in range(n, n + 10_000)))
        n += 10_000
    return b"".join(out)


def test_a_big_part_is_inflated_without_a_second_copy(tmp_path: Path) -> None:
    body = _body()
    pkg = ZipPackage.open(_zip(tmp_path / "a.xlsx", body))
    tracemalloc.start()
    try:
        got = pkg.read("xl/worksheets/sheet1.xml")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert got == body
    assert peak < 1.2 * len(body), f"inflating held {peak / len(body):.2f}× the part"  # was ~2×


def _lie_about_size(path: Path, usize: int) -> None:
    data = bytearray(path.read_bytes())
    cen = data.rindex(b"PK\x01\x02")
    struct.pack_into("<I", data, cen + 24, usize)  # the central record's uncompressed size
    loc = data.index(b"PK\x03\x04")
    struct.pack_into("<I", data, loc + 22, usize)
    path.write_bytes(bytes(data))


def test_a_recorded_size_that_lies_only_costs_time(tmp_path: Path) -> None:
    body = b"<x>" + b"a" * 100_000 + b"</x>"
    for usize in (10, 0xFFFFFFFE):  # too small: the buffer grows; absurdly large: not trusted
        path = _zip(tmp_path / f"lie{usize}.xlsx", body)
        _lie_about_size(path, usize)
        pkg = ZipPackage.open(path)
        tracemalloc.start()
        try:
            assert pkg.read("xl/worksheets/sheet1.xml") == body
            assert tracemalloc.get_traced_memory()[1] < 10 * len(body)
        finally:
            tracemalloc.stop()
