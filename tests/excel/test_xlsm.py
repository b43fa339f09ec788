"""The macro-enabled master (kehoach-xl xlsm): package, VBA project, buttons, values, dispatch.

There is no Excel here. What is checked: the package is well formed and keeps every part
of the .xlsx; the VBA project is xlwings' shipped one, byte for byte; LibreOffice (an
independent reader of OOXML and VBA) opens it, shows the values, loads the VBA modules and
binds every button to ``Module1.SampleCall``; ``buttons.main`` dispatches through xlwings'
remote engine; the safe writer leaves the VBA project and the buttons untouched.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import re
import sys
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from click.testing import CliRunner
from lxml import etree

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

import xlwings as xw  # noqa: E402

from kehoach_xl.cli.main import cli  # noqa: E402
from kehoach_xl.errors import SetupError  # noqa: E402
from kehoach_xl.excel import buttons
from kehoach_xl.io.master_read import read_master  # noqa: E402
from kehoach_xl.model import (
    controls,
    schema,  # noqa: E402
)
from kehoach_xl.model.config import Config  # noqa: E402
from kehoach_xl.reports.xlsm import XLWINGS_STANDALONE, build_xlsm, module_name, set_code_name  # noqa: E402
from tests.helpers import make_sample_master  # noqa: E402

M = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
# Parts the graft is allowed to change; every other part of the .xlsx must come through identical.
BOOKKEEPING = {"[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("xlsm")
    master = make_sample_master(d / "so_theo_doi.xlsx")
    return master, build_xlsm(master)


def _shipped_vba() -> bytes:
    with zipfile.ZipFile(Path(xw.__file__).with_name(XLWINGS_STANDALONE)) as zf:
        return zf.read("xl/vbaProject.bin")


def _join(part: str, target: str) -> str:
    if target.startswith("/"):
        return target[1:]
    out: list[str] = []
    for seg in f"{PurePosixPath(part).parent}/{target}".split("/"):
        if seg == "..":
            out.pop()
        elif seg not in ("", "."):
            out.append(seg)
    return "/".join(out)


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> part, in tab order."""
    wb = etree.fromstring(zf.read("xl/workbook.xml"))
    rels = {r.get("Id"): r.get("Target") for r in etree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))}
    return {s.get("name"): _join("xl/workbook.xml", rels[s.get(R_ID)]) for s in wb.iter(f"{M}sheet")}


def _vml(zf: zipfile.ZipFile) -> tuple[str, bytes]:
    part = _sheet_parts(zf)[controls.CONTROL_SHEET]
    rels_part = f"{PurePosixPath(part).parent}/_rels/{PurePosixPath(part).name}.rels"
    target = next(r.get("Target") for r in etree.fromstring(zf.read(rels_part)) if r.get("Type").endswith("/vmlDrawing"))
    name = _join(part, target)
    return name, zf.read(name)


# --- the package ------------------------------------------------------------------------------


def test_package_is_valid_and_macro_enabled(built: tuple[Path, Path]) -> None:
    _, xlsm = built
    with zipfile.ZipFile(xlsm) as zf:
        assert zf.testzip() is None
        names = set(zf.namelist())
        ct = etree.fromstring(zf.read("[Content_Types].xml"))
        overrides = {o.get("PartName"): o.get("ContentType") for o in ct if o.tag.endswith("Override")}
        assert overrides["/xl/workbook.xml"] == "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
        assert overrides["/xl/vbaProject.bin"] == "application/vnd.ms-office.vbaProject"
        assert any(d.get("Extension") == "vml" for d in ct if d.tag.endswith("Default"))
        assert all(p[1:] in names for p in overrides)  # no content type for a missing part
        # Every internal relationship points at a part that exists.
        for rels_part in (n for n in names if n.endswith(".rels")):
            owner = rels_part.replace("_rels/", "").removesuffix(".rels")
            for r in etree.fromstring(zf.read(rels_part)):
                if r.get("TargetMode") != "External":
                    assert _join(owner, r.get("Target")) in names, (rels_part, r.get("Target"))
        rel_types = {r.get("Type") for r in etree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))}
        assert "http://schemas.microsoft.com/office/2006/relationships/vbaProject" in rel_types


def test_vba_project_is_xlwings_shipped_one_byte_for_byte(built: tuple[Path, Path]) -> None:
    with zipfile.ZipFile(built[1]) as zf:
        assert zf.read("xl/vbaProject.bin") == _shipped_vba()


def test_every_part_of_the_master_is_kept(built: tuple[Path, Path]) -> None:
    """Measured: only the package bookkeeping, styles (appended) and each sheet's sheetPr change."""
    master, xlsm = built
    with zipfile.ZipFile(master) as a, zipfile.ZipFile(xlsm) as b:
        assert set(a.namelist()) <= set(b.namelist())
        sheets = set(_sheet_parts(a).values())
        for name in a.namelist():
            old, new = a.read(name), b.read(name)
            if name in sheets:
                # Same bytes once the added code name is taken out again.
                back = re.sub(rb' codeName="Sheet\d+"', b"", new, count=1)
                if b"<sheetPr" not in old:
                    back = back.replace(b"<sheetPr/>", b"", 1)
                assert back == old, name
            elif name not in BOOKKEEPING:
                assert old == new, name
        # Styles: the master's cell formats first, unchanged, the control sheet's appended.
        old_xfs = etree.fromstring(a.read("xl/styles.xml")).find(f"{M}cellXfs")
        new_xfs = etree.fromstring(b.read("xl/styles.xml")).find(f"{M}cellXfs")
        assert [etree.tostring(x) for x in new_xfs[: len(old_xfs)]] == [etree.tostring(x) for x in old_xfs]
        # Sheet-scoped names (print titles) still point at their own sheets after the control sheet went first.
        order = list(_sheet_parts(b))
        for dn in etree.fromstring(b.read("xl/workbook.xml")).iter(f"{M}definedName"):
            if dn.get("localSheetId") is not None:
                assert dn.text.startswith(f"'{order[int(dn.get('localSheetId'))]}'!"), dn.text


def test_buttons_call_samplecall_with_vietnamese_captions(built: tuple[Path, Path]) -> None:
    with zipfile.ZipFile(built[1]) as zf:
        _, vml = _vml(zf)
    root = etree.fromstring(vml)
    ns = {"v": "urn:schemas-microsoft-com:vml", "x": "urn:schemas-microsoft-com:office:excel"}
    shapes = root.findall("v:shape", ns)
    assert [s.find("x:ClientData", ns).get("ObjectType") for s in shapes] == ["Button"] * len(controls.CONTROL_BUTTONS)
    assert {s.findtext("x:ClientData/x:FmlaMacro", namespaces=ns) for s in shapes} == {"[0]!SampleCall"}
    captions = ["".join(s.find("v:textbox", ns).itertext()).strip() for s in shapes]
    assert captions == [b.caption for b in controls.CONTROL_BUTTONS]
    assert captions[:4] == ["Kiểm tra", "Cập nhật", "Tổng hợp báo cáo đơn vị", "Lập báo cáo giao ban"]


def test_code_names_follow_the_vba_project(built: tuple[Path, Path]) -> None:
    with zipfile.ZipFile(built[1]) as zf:
        wb = etree.fromstring(zf.read("xl/workbook.xml"))
        assert wb.find(f"{M}workbookPr").get("codeName") == "ThisWorkbook"
        names = []
        for sheet, part in _sheet_parts(zf).items():
            pr = etree.fromstring(zf.read(part)).find(f"{M}sheetPr")
            names.append((sheet, pr.get("codeName")))
    assert names[0] == (controls.CONTROL_SHEET, "Sheet1")
    assert [c for _, c in names] == [f"Sheet{i}" for i in range(1, len(names) + 1)]
    assert names[1][0] == schema.TASKS.name
    # The project's document modules (read independently when oletools is installed).
    olevba = pytest.importorskip("oletools.olevba")
    parser = olevba.VBA_Parser("x.xlsm", data=_shipped_vba())
    modules = {Path(fname).stem for (_f, _s, fname, _c) in parser.extract_macros()}
    parser.close()
    assert {"ThisWorkbook", "Sheet1", "Sheet2", "Module1", "xlwings"} <= modules
    assert {"ThisWorkbook"} | {c for _, c in names} >= {"ThisWorkbook", "Sheet1", "Sheet2"}


def test_set_code_name_touches_only_sheetpr() -> None:
    head = b'<?xml version="1.0"?>\n<worksheet xmlns="m">'
    assert set_code_name(head + b"<dimension/></worksheet>", "Sheet3") == \
        head + b'<sheetPr codeName="Sheet3"/><dimension/></worksheet>'
    assert set_code_name(head + b'<sheetPr codeName="Old" filterMode="0"><tabColor/></sheetPr></worksheet>', "Sheet2") \
        == head + b'<sheetPr codeName="Sheet2" filterMode="0"><tabColor/></sheetPr></worksheet>'
    x = b'<x:worksheet xmlns:x="m">\n  <x:sheetData/></x:worksheet>'
    assert set_code_name(x, "Sheet4") == b'<x:worksheet xmlns:x="m"><x:sheetPr codeName="Sheet4"/>\n  <x:sheetData/></x:worksheet>'


# --- values: every reader sees the same tasks ---------------------------------------------------


def test_openpyxl_and_calamine_read_the_same_values(built: tuple[Path, Path]) -> None:
    from openpyxl import load_workbook

    master, xlsm = built
    a, b = read_master(master), read_master(xlsm)  # python-calamine
    assert a.tasks.rows == b.tasks.rows and len(b.tasks.rows) == 6
    assert a.settings == b.settings and a.units.rows == b.units.rows
    wa, wb = load_workbook(master), load_workbook(xlsm)
    assert wb.sheetnames == [controls.CONTROL_SHEET, *wa.sheetnames]
    for name in wa.sheetnames:
        assert [[c.value for c in r] for r in wa[name].iter_rows()] == [[c.value for c in r] for r in wb[name].iter_rows()]
        assert wa[name].freeze_panes == wb[name].freeze_panes
    assert wb[schema.TASKS.name].tables.keys() == wa[schema.TASKS.name].tables.keys()
    ctl = wb[controls.CONTROL_SHEET]
    assert ctl.cell(*controls.CHOICE_CELL).value == "Kiểm tra"
    dv = ctl.data_validations.dataValidation[0]
    assert str(dv.sqref) == "B3" and "Lập báo cáo giao ban" in dv.formula1
    assert ctl.cell(1, 1).font.b and ctl.cell(1, 1).font.name == "Times New Roman"
    # The master still opens on the sheet it opened on before (the control sheet is not selected too).
    assert wb.active.title == wa.active.title
    assert not ctl.sheet_view.tabSelected


def test_libreoffice_opens_it_shows_values_and_loads_the_vba(built: tuple[Path, Path], soffice_sheets: Any,
                                                           soffice_convert: Any) -> None:
    master, xlsm = built
    old, new = soffice_sheets(master), soffice_sheets(xlsm)
    assert new[schema.TASKS.name] == old[schema.TASKS.name]
    assert any("Nguyễn Ngọc Thiều" in " ".join(r) for r in new[schema.TASKS.name])
    assert new[controls.CONTROL_SHEET][2][:2] == [controls.CHOICE_LABEL, "Kiểm tra"]
    # Converted to .ods, LibreOffice keeps the VBA modules as Basic and each button bound to SampleCall.
    ods = soffice_convert(xlsm, "ods")
    with zipfile.ZipFile(ods) as zf:
        names = set(zf.namelist())
        assert {"Basic/VBAProject/Module1.xml", "Basic/VBAProject/xlwings.xml"} <= names
        assert b"Sub SampleCall()" in zf.read("Basic/VBAProject/Module1.xml")
        content = zf.read("content.xml").decode()
    labels = re.findall(r'form:button form:name="([^"]+)"[^>]*form:label="([^"]+)"', content)
    assert labels == [(b.name, b.caption) for b in controls.CONTROL_BUTTONS]
    assert content.count("vnd.sun.star.script:VBAProject.Module1.SampleCall") == len(controls.CONTROL_BUTTONS)


# --- the Python module the macro imports ---------------------------------------------------------


def test_module_stub_hands_over_to_buttons_main(built: tuple[Path, Path]) -> None:
    _, xlsm = built
    stub = xlsm.with_name("so_theo_doi.py")
    assert "from kehoach_xl.excel.buttons import main" in stub.read_text(encoding="utf-8")
    sys.path.insert(0, str(stub.parent))
    try:
        mod = importlib.import_module("so_theo_doi")
        assert mod.main is buttons.main
    finally:
        sys.path.remove(str(stub.parent))
        sys.modules.pop("so_theo_doi", None)


@pytest.mark.parametrize("name", ["Sổ 2024.xlsm", "2024.xlsm", "json.xlsm", "kehoach_xl.reports.xlsm", "so-theo-doi.xlsm"])
def test_workbook_names_python_cannot_import_are_refused(name: str) -> None:
    with pytest.raises(SetupError, match="không dùng được"):
        module_name(name)


def test_refuses_overwrite_and_macro_masters(built: tuple[Path, Path], tmp_path: Path) -> None:
    master, xlsm = built
    with pytest.raises(SetupError, match="đã tồn tại"):
        build_xlsm(master)
    with pytest.raises(SetupError, match=".xlsx"):
        build_xlsm(xlsm, tmp_path / "khac.xlsm")


def test_cli_xlsm(tmp_path: Path) -> None:
    master = make_sample_master(tmp_path / "so_kh.xlsx")
    res = CliRunner().invoke(cli, ["xlsm", str(master), "--out", str(tmp_path / "ra" / "so_kh_nut.xlsm")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "ra" / "so_kh_nut.xlsm").exists() and (tmp_path / "ra" / "so_kh_nut.py").exists()
    again = CliRunner().invoke(cli, ["xlsm", str(master), "--out", str(tmp_path / "ra" / "so_kh_nut.xlsm")])
    assert again.exit_code == 2 and "--overwrite" in again.output


# --- the safe writer keeps the macros ------------------------------------------------------------


def test_safe_writer_keeps_vba_and_buttons(built: tuple[Path, Path], tmp_path: Path) -> None:
    from kehoach_xl.commands.refresh import refresh

    _, src = built
    xlsm = tmp_path / "so_theo_doi.xlsm"
    xlsm.write_bytes(src.read_bytes())
    with zipfile.ZipFile(xlsm) as zf:
        before = {n: zf.read(n) for n in zf.namelist()}
        vml_name, _ = _vml(zf)
    result = refresh(xlsm, as_of=dt.date(2024, 6, 5), config=Config(base_dir=tmp_path))
    assert result.cells_changed > 0
    with zipfile.ZipFile(xlsm) as zf:
        after = {n: zf.read(n) for n in zf.namelist()}
    for part in ("xl/vbaProject.bin", vml_name, "[Content_Types].xml", "xl/workbook.xml"):
        assert after[part] == before[part], part
    states = {r["id"]: r["deadline_state"] for r in read_master(xlsm).tasks.rows}
    assert states["DDCI2024-006"] == schema.DEADLINE_STATES["overdue"]


# --- dispatch: which button was pressed ------------------------------------------------------------

needs_remote = pytest.mark.skipif("remote" not in [e.name for e in xw.engines],
                                  reason="xlwings remote engine (PRO, noncommercial key) not available")


class _Api:
    """Stands in for Excel's COM Application (Windows only): Caller and a sheet's Buttons()."""

    def __init__(self, caller: Any, captions: dict[str, str] | None = None) -> None:
        self.Caller = caller
        self._captions = captions or {}

    @property
    def ActiveSheet(self) -> Any:  # noqa: N802 - COM's spelling
        api = self

        class _Sheet:
            def Buttons(self, name: str) -> Any:  # noqa: N802
                return type("B", (), {"Caption": api._captions[name]})()

        return _Sheet()


class _App:
    """Excel's application on Windows: Application.Caller, and message boxes that return the answer."""

    def __init__(self, app: Any, api: _Api, answer: str | None = None) -> None:
        self._app, self.api, self.answer = app, api, answer
        self.asked: list[str] = []

    def alert(self, prompt: str, title: str | None = None, buttons: str | None = "ok", mode: str | None = None,
              callback: str | None = None) -> str | None:
        if buttons == "yes_no":
            self.asked.append(prompt)
            return self.answer
        return self._app.alert(prompt, title=title, buttons=buttons, mode=mode, callback=callback)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._app, name)


class _Book:
    """A remote-engine book whose app answers Application.Caller like Excel on Windows."""

    def __init__(self, book: Any, api: _Api, answer: str | None = None) -> None:
        self._book, self.app = book, _App(book.app, api, answer)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._book, name)


def _payload(xlsm: Path, choice: Any = "Kiểm tra") -> dict[str, Any]:
    from kehoach_xl.io.livebook import remote_payload

    payload = remote_payload(xlsm)
    ctl = next(s for s in payload["sheets"] if s["name"] == controls.CONTROL_SHEET)
    r, c = controls.CHOICE_CELL
    ctl["values"][r - 1][c - 1] = choice
    return payload


@needs_remote
def test_main_without_caller_asks_and_an_engine_that_cannot_answer_runs_nothing(built: tuple[Path, Path]) -> None:
    # No Application.Caller (Mac, the remote engine): B3 says "Cập nhật", but that is a guess, so the user
    # is asked; the remote engine cannot return an answer, which counts as No: nothing is written.
    book = xw.Book(json=_payload(built[1], "Cập nhật"))
    result = buttons.main(book, config=Config())
    assert not result.ok and "Cập nhật" in result.message
    actions = book.json()["actions"]
    assert [a["func"] for a in actions] == ["alert"]
    assert actions[0]["args"][2] == "yes_no" and "Cập nhật" in actions[0]["args"][0]


@needs_remote
@pytest.mark.parametrize(("caller", "captions", "answer", "expected", "asked"), [
    ("Button 2", {}, None, "cap_nhat", None),  # a known button: runs at once, nothing asked
    ("Button 1", {}, None, "kiem_tra", None),
    ("Nút của tôi", {"Nút của tôi": "Cập nhật"}, "yes", "cap_nhat", "Cập nhật"),  # renamed: caption, asked
    ("Nút của tôi", {"Nút của tôi": "Cập nhật"}, "no", None, "Cập nhật"),
    ("Button 5", {}, "yes", "kiem_tra", "Kiểm tra"),  # "run the choice" button: B3, asked
    ("Button 5", {}, "no", None, "Kiểm tra"),
    (-2146826265, {}, "yes", "kiem_tra", "Kiểm tra"),  # Caller an error value: B3, asked
    (-2146826265, {}, "no", None, "Kiểm tra"),
    ("Button 3", {}, "no", None, "Tổng hợp báo cáo đơn vị"),  # a merge asks even from its own button
])
def test_main_runs_only_a_known_button_else_asks_naming_the_action(
        built: tuple[Path, Path], caller: Any, captions: dict[str, str], answer: str | None,
        expected: str | None, asked: str | None) -> None:
    real = xw.Book(json=_payload(built[1], "Kiểm tra"))
    book = _Book(real, _Api(caller, captions), answer)
    result = buttons.main(book, config=Config())
    if asked is None:
        assert book.app.asked == []
    else:
        assert len(book.app.asked) == 1 and f"“{asked}”" in book.app.asked[0], book.app.asked
    if expected is None:  # said No: nothing read, nothing written
        assert not result.ok and "Đã thôi" in result.message
        assert not [a for a in real.json()["actions"] if a["func"] != "alert"]
    else:
        assert result.ok and result.button == expected, result.message
        assert any(a["func"] == "setValues" for a in real.json()["actions"])


@needs_remote
def test_main_without_a_choice_tells_the_user(built: tuple[Path, Path]) -> None:
    book = xw.Book(json=_payload(built[1], None))
    result = buttons.main(book, config=Config())
    assert not result.ok and "B3" in result.message
    alert = book.json()["actions"][-1]
    assert alert["func"] == "alert" and "B3" in alert["args"][0]
    # An .xlsx master has no control sheet: main says so instead of guessing.
    from kehoach_xl.io.livebook import remote_payload

    plain = xw.Book(json=remote_payload(built[0]))
    result = buttons.main(plain, config=Config())
    assert not result.ok and controls.CONTROL_SHEET in result.message
