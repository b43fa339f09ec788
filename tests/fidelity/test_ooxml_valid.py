"""Files Excel opens without a word: every workbook the program writes passes an OOXML validator
(openxml-audit, from PyPI, pure Python: schema, package and semantic checks against ECMA-376 /
Office 2019) and the no-leading-'=' formula rule.

Checked: a new master (init), the master after each command of the demo (its backups are the master
as each command left it: import, merge, refresh, summary …, and the final one), the master after
``validate --write`` (the problems sheet with its HYPERLINK formulas), unit workbooks, the summary
export and the macro-enabled .xlsm.

Allow-listed, each a known false positive and why:
* ``styles.xml`` ``<font>`` children “unexpected”: openpyxl writes a font's children in its own order
  (``name, charset, family, b, i, …, sz``) while the schema's sequence is different; Excel, LibreOffice
  and the Open XML SDK's own readers accept it (openpyxl's output is opened silently by Excel every day),
  and the validator's README names it as a known openpyxl artefact.
* “inline-string cells but no sharedStrings.xml” (a warning): cells written as inline strings are valid
  ECMA-376; Excel converts them to its shared-strings table when *it* saves — no prompt, no repair.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from kehoach_xl.cli.main import cli

openxml_audit = pytest.importorskip("openxml_audit")

MASTER_NAME = "so_theo_doi_DDCI_2024.xlsx"
FONT_ORDER = re.compile(r"^/styleSheet\[1\]/fonts\[1\]/font\[\d+\]$")
LEADING_EQUALS = re.compile(rb"<(?:\w+:)?(formula1|formula2|formula|f|definedName)\b[^>]*>\s*=")


def _allowed(e: object) -> bool:
    part, path, text = e.part_uri, e.path or "", e.description  # type: ignore[attr-defined]
    if part == "/xl/styles.xml" and FONT_ORDER.match(path) and text.startswith("Unexpected element"):
        return True  # openpyxl's font child order (see the module docstring)
    return "inline-string cell" in text  # valid OOXML; Excel moves them to shared strings on its own save


def findings(path: Path) -> list[str]:
    """What the validator reports that is not a known false positive, plus formulas starting with '='."""
    result = openxml_audit.OpenXmlValidator(max_errors=0).validate(path)
    out = [f"{e.severity.value} {e.part_uri} {e.path}: {e.description[:200]}" for e in result.errors if not _allowed(e)]
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.endswith(".xml"):
                out += [f"leading '=' in {name}: {m.group(0)[:80]!r}" for m in LEADING_EQUALS.finditer(z.read(name))]
    return out


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every kind of workbook the program writes, made by the commands themselves."""
    tmp = tmp_path_factory.mktemp("ooxml")
    demo = tmp / "demo"
    res = CliRunner().invoke(cli, ["demo", str(demo)])
    assert res.exit_code == 0, res.output
    books: dict[str, Path] = {}
    fresh = tmp / "moi.xlsx"
    assert CliRunner().invoke(cli, ["init", str(fresh), "--sample", "langson_ddci_2024"]).exit_code == 0
    books["init"] = fresh
    for i, b in enumerate(sorted((demo / ".kehoach_backups").glob("*.xlsx"))):
        books[f"master after command {i + 1}"] = b
    books["master at the end of the demo"] = demo / MASTER_NAME
    checked = Path(shutil.copy(demo / MASTER_NAME, tmp / "kiem_tra.xlsx"))
    shutil.copy(demo / "kehoach.toml", tmp / "kehoach.toml")
    CliRunner().invoke(cli, ["validate", str(checked), "--write"])  # exit 1 when problems: the sheet is written
    books["master after validate --write"] = checked
    units = sorted((demo / "gui_don_vi").glob("*.xlsx"))
    books["unit workbook"] = units[0]
    books["unit workbook (other)"] = units[-1]
    books["summary export"] = demo / "bao_cao" / "tong_hop_2024_05.xlsx"
    from kehoach_xl.reports.xlsm import build_xlsm

    books[".xlsm"] = build_xlsm(fresh, tmp / "moi.xlsm")
    return books


KINDS = ["init", "master at the end of the demo", "master after validate --write", "unit workbook",
         "unit workbook (other)", "summary export", ".xlsm"]


@pytest.mark.parametrize("kind", KINDS)
def test_workbook_passes_the_ooxml_validator(written: dict[str, Path], kind: str) -> None:
    assert findings(written[kind]) == [], kind


def test_master_after_each_command_passes_the_ooxml_validator(written: dict[str, Path]) -> None:
    after = {k: v for k, v in written.items() if k.startswith("master after command")}
    assert len(after) >= 4  # import, merge, refresh, summary … each left a backup of what it replaced
    bad = {k: f for k, p in after.items() if (f := findings(p))}
    assert not bad, bad


def test_the_validator_catches_what_excel_repairs(written: dict[str, Path], tmp_path: Path) -> None:
    """The check can fail: a validation list with a leading '=' and a sheet part whose elements are
    out of schema order (what Excel reports as unreadable content) are both found."""
    src = written["init"]
    bad = tmp_path / "hong.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<formula1>", b"<formula1>=", 1)
                # <sheetFormatPr> must come before <cols>; put it after <sheetData> instead.
                m = re.search(rb"<sheetFormatPr[^>]*/>", data)
                assert m and b"<formula1>=" in data
                data = data.replace(m.group(0), b"", 1).replace(b"</sheetData>", b"</sheetData>" + m.group(0), 1)
            zout.writestr(item, data)
    found = findings(bad)
    assert any("leading '='" in f for f in found), found
    assert any("sheet1.xml" in f and "leading" not in f for f in found), found
