"""The real commands — refresh, then merge — on masters made by other writers.

Staff masters carry charts, pictures, text boxes, comments, x14 validation, data
bars, sparklines, form buttons and VBA. After ``refresh`` and after ``merge`` every
package part except the tasks sheet is byte-identical, the tasks sheet differs only
in the rows whose owned cells changed, and LibreOffice shows the new values.
"""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from pathlib import Path

import pytest

from kehoach_xl.commands.issue import issue
from kehoach_xl.commands.merge import merge
from kehoach_xl.commands.refresh import refresh
from kehoach_xl.io.master_read import read_master
from kehoach_xl.io.xlsx_diff import changed_rows, diff_packages
from tests.bad_inputs.make import fill
from tests.fidelity.builders import TASKS, build_libreoffice, build_xlsm_with_button, build_xlsxwriter_rich

SHEET_PART = "xl/worksheets/sheet1.xml"
AS_OF = dt.date(2025, 3, 1)


def _build(kind: str, folder: Path) -> Path:
    folder.mkdir(parents=True)
    if kind == "xlsxwriter":
        return build_xlsxwriter_rich(folder / "rich.xlsx")
    if kind == "xlsm":
        return build_xlsm_with_button(folder / "nut_bam.xlsm")
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        pytest.skip("LibreOffice (soffice) not installed")
    return build_libreoffice(folder / "libreoffice.xlsx", soffice)


# A master without the parts sheet gains it on its first refresh (io/xlsx_graft): the sheet, its Table
# and rels are added, and the package's directory parts name them. Nothing else of the file changes.
GRAFT_PARTS = {"[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml"}


def _only_tasks_sheet_changed(before: Path, after: Path, *, grafted: bool = False, parts_sheet: str = "") -> set[int]:
    d = diff_packages(before, after)
    if grafted:
        assert SHEET_PART in d.changed and set(d.changed) <= {SHEET_PART, *GRAFT_PARTS}, d.changed
        assert d.added and all(a.startswith(("xl/worksheets/", "xl/tables/")) for a in d.added), d.added
    else:
        assert set(d.changed) <= {SHEET_PART, parts_sheet} and SHEET_PART in d.changed, d.changed
        assert not d.added
    assert d.same_order and not d.removed
    with zipfile.ZipFile(before) as a, zipfile.ZipFile(after) as b:
        assert b.testzip() is None
        return changed_rows(a.read(SHEET_PART), b.read(SHEET_PART))


@pytest.mark.parametrize("kind", ["xlsxwriter", "xlsm", "libreoffice"])
def test_refresh_then_merge_keep_everything_else(kind, tmp_path, soffice_sheets):
    master = _build(kind, tmp_path / "m")
    original = tmp_path / ("original" + master.suffix)
    shutil.copy(master, original)

    res = refresh(master, as_of=AS_OF)
    assert res.cells_changed > 0
    rows = _only_tasks_sheet_changed(original, master, grafted=True)
    parts_sheet = next(a for a in diff_packages(original, master).added if a.startswith("xl/worksheets/sheet"))
    n_tasks = len(read_master(master).tasks.rows)
    assert rows and rows <= set(range(2, n_tasks + 2))  # only task rows, never a staff row below the table

    after_refresh = tmp_path / ("after_refresh" + master.suffix)
    shutil.copy(master, after_refresh)
    if kind == "libreoffice":
        # The LibreOffice-built corpus file has no units sheet: issue refuses to issue to nobody.
        from kehoach_xl.errors import DataError

        with pytest.raises(DataError, match="--add-unknown"):
            issue(master, period="2025-02", out=tmp_path / "gui")
        return
    files = issue(master, period="2025-02", out=tmp_path / "gui")
    one = files[0]
    md = read_master(master)
    tid = next(r["id"] for r in md.tasks.rows if r.get("lead_units") and
               one.stem.split("_", 1)[1].replace("_", " ") in __import__("kehoach_xl.text", fromlist=["x"]).strip_accents(
                   str(r["lead_units"])))
    inbox = tmp_path / "hop_thu_den"
    fill(one, inbox / one.name, {tid: {"status": "Hoàn thành", "progress": 100, "completed_on": "20/2/2025",
                                       "result": "=Đã hoàn thành, không phải công thức"}})
    rep = merge(master, inbox, as_of=AS_OF)
    assert rep.applied >= 2, rep.to_dict()  # status and progress: the columns this master has
    row_of = {r["id"]: n for r, n in zip(md.tasks.rows, md.tasks.row_numbers, strict=True)}
    assert _only_tasks_sheet_changed(after_refresh, master, parts_sheet=parts_sheet) == {row_of[tid]}

    got = read_master(master).tasks.rows[list(row_of).index(tid)]
    assert got["status"] == "Hoàn thành" and got["progress"] == 100
    shown = soffice_sheets(master)[TASKS]
    line = next(r for r in shown if r and r[0] == tid)
    assert "Hoàn thành" in line and "Hoàn thành đúng hạn" in line
