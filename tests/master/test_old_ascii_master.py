"""A master made before 03/12/2026 (its sheets in ASCII, Vietnamese as ``&#NNNN;``) comes out of its
next write in UTF-8, holding the same values as the same master made in UTF-8.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile

import pytest

from kehoach_xl.commands.init import create_master
from kehoach_xl.commands.refresh import refresh
from kehoach_xl.io.master_read import read_grids
from kehoach_xl.io.xlsx_package import zip_sheet_map
from kehoach_xl.io.xlsx_patch import utf8_chunks
from kehoach_xl.model import schema

_NON_ASCII = re.compile("[^\x00-\x7f]")
_WIDE_REF = re.compile(rb"&#(\d+);")
UNIT = "Sở Kế hoạch và Đầu tư"


def _ascii_twin(src, dst):
    """``src`` with its sheets re-encoded the way openpyxl's lxml writer did: ASCII, references."""
    with zipfile.ZipFile(src) as zi, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zo:
        for info in zi.infolist():
            data = zi.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                data = _NON_ASCII.sub(lambda m: f"&#{ord(m.group())};", data.decode("utf-8")).encode("ascii")
            zo.writestr(info, data)


def _wide_refs(path, sheet):
    with zipfile.ZipFile(path) as zf:
        _, parts = zip_sheet_map(zf)
        xml = zf.read(parts[sheet])
    return [int(n) for n in _WIDE_REF.findall(xml) if int(n) >= 0x80]


def test_refresh_of_an_ascii_master_writes_utf8_and_the_same_values(tmp_path):
    tasks = [{"id": f"NV{i:03d}", "task": f"Cải cách thủ tục hành chính “một cửa” số {i} & <liên thông>",
              "lead_units": UNIT, "deadline_text": f"Tháng {i % 12 + 1}/2024"} for i in range(1, 41)]
    utf8 = create_master(tmp_path / "moi.xlsx", tasks=tasks, units=[{"name": UNIT}])
    old = tmp_path / "cu.xlsx"
    _ascii_twin(utf8, old)
    assert len(_wide_refs(old, schema.TASKS.name)) > 1000  # the old form, as masters had it

    as_of = dt.date(2024, 6, 15)
    refresh(utf8, as_of=as_of)
    refresh(old, as_of=as_of)

    assert _wide_refs(old, schema.TASKS.name) == []  # the rewritten sheet is UTF-8 now
    for sheet in (schema.TASKS.name, schema.PARTS.name):
        assert read_grids(old, [sheet])[sheet] == read_grids(utf8, [sheet])[sheet]


@pytest.mark.parametrize(("chunks", "expected"), [
    ([b"<t>Nhi&#7879;m v&#x1EE5;</t>"], "<t>Nhiệm vụ</t>".encode()),
    ([b"a&#13;b&#65;c&#127;"], b"a&#13;b&#65;c&#127;"),  # ASCII references stay: CR must stay escaped
    ([b"&#xFFFE;&#55296;&#1114112;"], b"&#xFFFE;&#55296;&#1114112;"),  # not characters XML may hold
    ([b"&amp;#7879;"], b"&amp;#7879;"),  # an escaped ampersand is text, not a reference
    ([b"x&#78", b"79;y"], b"x&#7879;y"),  # cut between chunks: left as a reference, still right
    ([memoryview(b"&#224;")], "à".encode()),
])
def test_utf8_chunks(chunks, expected):
    assert b"".join(utf8_chunks(chunks)) == expected
