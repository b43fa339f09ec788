"""Package navigation shared by the writer, the archive's trim and the header reader.

A hand-made package whose relationships use every form a target can take — relative, ``../``,
absolute ``/xl/…``, external, missing — read with both parsers the callers use (defusedxml's and
lxml's, hardened), then through the three callers themselves.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from defusedxml import DTDForbidden, EntitiesForbidden
from defusedxml.ElementTree import fromstring
from lxml import etree

from kehoach_xl.io import xlsx_head
from kehoach_xl.io.xlsx_package import Parts, rels, rels_name, resolve, sheet_map, table_parts, workbook_part
from kehoach_xl.io.xlsx_patch import PatchError, patch_xlsx
from kehoach_xl.io.xlsx_trim import TrimError, trim_sheets
from kehoach_xl.model.changes import MasterChanges

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
TABLE_T = R + "/table"


def _rels(*items: tuple[str, str, str, str | None]) -> str:
    body = "".join(f'<Relationship Id="{i}" Type="{t}" Target="{target}"'
                   + (f' TargetMode="{mode}"' if mode else "") + "/>" for i, t, target, mode in items)
    return f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">{body}</Relationships>'


def _sheet(rows: int) -> str:
    data = "".join(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>{"Mã" if r == 1 else f"k{r}"}</t></is></c>'
                   f'<c r="B{r}"><v>{r}</v></c></row>' for r in range(1, rows + 1))
    return (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}" xmlns:r="{R}">'
            f'<dimension ref="A1:B{rows}"/><sheetData>{data}</sheetData>'
            f'<tableParts count="2"><tablePart r:id="rId1"/><tablePart r:id="rId2"/></tableParts></worksheet>')


def _table(tid: int, name: str, ref: str) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?><table xmlns="{MAIN}" id="{tid}" name="{name}" '
            f'displayName="{name}" ref="{ref}"><autoFilter ref="{ref}"/><tableColumns count="2">'
            f'<tableColumn id="1" name="Mã"/><tableColumn id="2" name="Số"/></tableColumns></table>')


def package(**override: str | None) -> dict[str, str]:
    """Members of a two-sheet workbook; ``override`` replaces (or, with None, drops) members."""
    members: dict[str, str | None] = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/sheets/other.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/tables/table1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"/>'
            '<Override PartName="/xl/tables/table2.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"/>'
            "</Types>"),
        "_rels/.rels": _rels(("rId1", R + "/officeDocument", "/xl/workbook.xml", None)),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{R}"><sheets>'
            '<sheet name="Nhật ký" sheetId="1" r:id="rId1"/><sheet name="Khác" sheetId="7" r:id="rId2"/>'
            '<sheet name="Mồ côi" sheetId="8" r:id="rId9"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": _rels(
            ("rId1", R + "/worksheet", "worksheets/sheet1.xml", None),
            ("rId2", R + "/worksheet", "/xl/sheets/other.xml", None),  # absolute, another folder
        ),
        "xl/worksheets/sheet1.xml": _sheet(6),
        "xl/worksheets/_rels/sheet1.xml.rels": _rels(
            ("rId1", TABLE_T, "../tables/table1.xml", None),
            ("rId2", TABLE_T, "/xl/tables/table2.xml", None),
            ("rId3", TABLE_T, "../tables/missing.xml", None),  # a dangling one: skipped
            ("rId4", R + "/hyperlink", "https://example.org/tables/table1.xml", "External"),
        ),
        "xl/sheets/other.xml": _sheet(2).replace('<tableParts count="2"><tablePart r:id="rId1"/>'
                                                 '<tablePart r:id="rId2"/></tableParts>', ""),
        "xl/tables/table1.xml": _table(1, "NhatKy", "A1:B6"),
        "xl/tables/table2.xml": _table(2, "Phu", "D1:E3"),
    }
    members.update(override)
    return {k: v for k, v in members.items() if v is not None}


def write(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in members.items():
            z.writestr(name, text.encode("utf-8"))
    return path


_LXML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
PARSERS: dict[str, Callable[[bytes], Any]] = {
    "defusedxml": fromstring,  # the writer's and the trim's parser
    "lxml": lambda xml: etree.fromstring(xml, _LXML),  # the header reader's
}


@pytest.fixture(params=sorted(PARSERS))
def parts(request: pytest.FixtureRequest) -> Parts:
    members = {k: v.encode() for k, v in package().items()}
    parse = PARSERS[request.param]
    return Parts(members.__contains__, lambda name: parse(members[name]))


def test_rels_name_and_target_resolution() -> None:
    assert rels_name("xl/worksheets/sheet1.xml") == "xl/worksheets/_rels/sheet1.xml.rels"
    assert rels_name("xl/workbook.xml") == "xl/_rels/workbook.xml.rels"
    assert rels_name("") == "_rels/.rels"
    assert resolve("xl/worksheets/sheet1.xml", "../tables/table1.xml") == "xl/tables/table1.xml"
    assert resolve("xl/worksheets/sheet1.xml", "/xl/tables/table2.xml") == "xl/tables/table2.xml"
    assert resolve("xl/workbook.xml", "worksheets/sheet1.xml") == "xl/worksheets/sheet1.xml"
    assert resolve("xl/workbook.xml", "./worksheets/../worksheets/sheet1.xml") == "xl/worksheets/sheet1.xml"
    assert resolve("", "xl/workbook.xml") == "xl/workbook.xml"


def test_rels_of_a_part_resolved_external_left_out(parts: Parts) -> None:
    found = rels(parts, "xl/worksheets/sheet1.xml")
    assert [(r.id, r.target) for r in found] == [
        ("rId1", "xl/tables/table1.xml"), ("rId2", "xl/tables/table2.xml"), ("rId3", "xl/tables/missing.xml")]
    assert found[0].type == TABLE_T
    assert rels(parts, "xl/tables/table1.xml") == []  # no rels part at all


def test_workbook_sheets_and_tables(parts: Parts) -> None:
    assert workbook_part(parts) == "xl/workbook.xml"
    main, sheets = sheet_map(parts)
    assert main == "xl/workbook.xml"
    # in workbook order; a sheet whose relationship is missing is left out
    assert list(sheets.items()) == [("Nhật ký", "xl/worksheets/sheet1.xml"), ("Khác", "xl/sheets/other.xml")]
    assert table_parts(parts, "xl/worksheets/sheet1.xml") == ["xl/tables/table1.xml", "xl/tables/table2.xml"]
    assert table_parts(parts, "xl/sheets/other.xml") == []


@pytest.mark.parametrize("members", [
    {"_rels/.rels": None},
    {"_rels/.rels": _rels(("rId1", R + "/officeDocument", "xl/nowhere.xml", None))},
    {"_rels/.rels": _rels(("rId1", R + "/extended-properties", "docProps/app.xml", None))},
])
def test_no_workbook(members: dict[str, str | None]) -> None:
    m = {k: v.encode() for k, v in package(**members).items()}
    parts = Parts(m.__contains__, lambda name: fromstring(m[name]))
    assert workbook_part(parts) is None
    assert sheet_map(parts) == (None, {})


# --- the three callers on the same package -----------------------------------------------------------------


def test_header_reader_finds_both_tables_through_relative_and_absolute_targets(tmp_path: Path) -> None:
    path = write(tmp_path / "so.xlsx", package())
    assert xlsx_head.tables(path) == [("NhatKy", "Nhật ký", 1, 6), ("Phu", "Nhật ký", 1, 3)]
    assert xlsx_head.read_row(path, "Khác", 2) == ["k2", 2.0]
    with pytest.raises(KeyError):
        xlsx_head.read_row(path, "Mồ côi", 1)


def test_writer_and_trim_reach_the_table_through_a_dotdot_target(tmp_path: Path) -> None:
    src = write(tmp_path / "so.xlsx", package())
    ch = MasterChanges()
    ch.append("Nhật ký", ["k7", 7])
    res = patch_xlsx(src, tmp_path / "grown.xlsx", ch)
    assert res.changed_parts == ["xl/worksheets/sheet1.xml", "xl/tables/table1.xml"]
    with zipfile.ZipFile(tmp_path / "grown.xlsx") as z:
        assert b'ref="A1:B7"><autoFilter ref="A1:B7"/>' in z.read("xl/tables/table1.xml")
        assert z.read("xl/tables/table2.xml") == package()["xl/tables/table2.xml"].encode()  # not the list's

    trimmed = trim_sheets(tmp_path / "grown.xlsx", tmp_path / "trimmed.xlsx", {"Nhật ký": [6, 7]},
                          header_rows={"Nhật ký": 1})
    assert trimmed.last_row == {"Nhật ký": 3}
    assert "xl/tables/table1.xml" in trimmed.changed_parts
    with zipfile.ZipFile(tmp_path / "trimmed.xlsx") as z:
        assert b'ref="A1:B3"><autoFilter ref="A1:B3"/>' in z.read("xl/tables/table1.xml")


def test_callers_keep_their_own_words_for_a_package_without_workbook(tmp_path: Path) -> None:
    src = write(tmp_path / "so.xlsx", package(**{"_rels/.rels": _rels(("r", R + "/officeDocument", "xl/x.xml", None))}))
    with pytest.raises(PatchError, match="thiếu phần workbook"):
        patch_xlsx(src, tmp_path / "out.xlsx", MasterChanges())
    with pytest.raises(TrimError, match="thiếu phần workbook"):
        trim_sheets(src, tmp_path / "out.xlsx", {"Nhật ký": [2]}, header_rows={"Nhật ký": 1})
    assert xlsx_head.tables(src) == []


BOMB = ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "xl/tables/table1.xml">]>'
        f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{TABLE_T}" Target="&a;"/></Relationships>')


def test_hardened_parsers_stay_hardened(tmp_path: Path) -> None:
    src = write(tmp_path / "so.xlsx", package(**{"xl/worksheets/_rels/sheet1.xml.rels": BOMB}))
    ch = MasterChanges()
    ch.append("Nhật ký", ["k7", 7])
    with pytest.raises(PatchError, match="không đọc được phần xl/worksheets/_rels/sheet1.xml.rels"):
        patch_xlsx(src, tmp_path / "out.xlsx", ch)  # the writer's message names the part
    with pytest.raises((EntitiesForbidden, DTDForbidden)):
        trim_sheets(src, tmp_path / "out.xlsx", {"Nhật ký": [2]}, header_rows={"Nhật ký": 1})
    # lxml without entity resolution: the entity is never expanded into a part name
    assert xlsx_head.tables(src) == []

