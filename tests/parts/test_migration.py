"""A master written by 0.1.0 gains the parts sheet on its next refresh or merge, and loses nothing."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pytest

import kehoach_xl as kx
from kehoach_xl import vn
from kehoach_xl.commands.merge import merge
from kehoach_xl.io.master_read import read_master
from kehoach_xl.model import schema
from kehoach_xl.model.part import ATTRIBUTED_LINE
from kehoach_xl.rules.parts import parse_line_text
from kehoach_xl.text import normalize_text

FIXTURE = Path(__file__).parents[1] / "fixtures" / "v0_1_0" / "demo_master.xlsx"
AS_OF = dt.date(2024, 6, 5)


def _copy(tmp_path: Path) -> Path:
    dst = tmp_path / "so_theo_doi_DDCI_2024.xlsx"
    shutil.copyfile(FIXTURE, dst)
    (tmp_path / "kehoach.toml").write_text('master = "so_theo_doi_DDCI_2024.xlsx"\n', encoding="utf-8")
    return dst


def _lines(path: Path) -> dict[str, list[str]]:
    """Task → its attributed lines, as the task sheet holds them."""
    md = read_master(path)
    return {normalize_text(r["id"]): [ln for ln in normalize_text(r.get("coordination_reports"), keep_newlines=True)
                                      .split("\n") if ATTRIBUTED_LINE.match(ln)] for r in md.tasks.rows}


def _parts_rows(path: Path) -> list[dict[str, object]]:
    wb = openpyxl.load_workbook(path)
    ws = wb[schema.PARTS.name]
    rows = list(ws.iter_rows(values_only=True))
    head = [str(h) for h in rows[0]]
    keys = {c.header: c.key for c in schema.PARTS.columns}
    return [{keys[h]: v for h, v in zip(head, r, strict=False) if h in keys} for r in rows[1:] if r[0]]


def _assert_every_line_kept(before: dict[str, list[str]], master: Path) -> None:
    after = _lines(master)
    rows = _parts_rows(master)
    by = {(r["task_id"], r["unit"]): r for r in rows}
    n = 0
    for tid, lines in before.items():
        assert after[tid] == lines  # the trail in the task sheet is untouched
        for line in lines:
            m = ATTRIBUTED_LINE.match(line)
            unit = m["unit"].strip()
            row = next(r for (t, u), r in by.items() if t == tid and (u == unit or unit in u or u in unit))
            f = parse_line_text(m["text"])
            for key in ("result", "difficulties", "proposals"):
                assert normalize_text(row[key]) == f[key], (tid, unit, key)
            if f["status"]:
                assert row["status"] == f["status"]
            if f["progress"] is not None:
                assert float(row["progress"]) == f["progress"]
            assert row["period"] == vn.period_label(f"{m['y']}-{m['m']}")
            n += 1
    assert n >= 20  # the demo month has many members' and coordinators' reports


def test_refresh_adds_the_parts_sheet_keeping_every_attributed_line(tmp_path: Path) -> None:
    master = _copy(tmp_path)
    before = _lines(master)
    assert schema.PARTS.name not in openpyxl.load_workbook(master, read_only=True).sheetnames
    res = kx.refresh(master, as_of=AS_OF)
    assert res.backup is not None
    wb = openpyxl.load_workbook(master)
    assert wb.sheetnames[:2] == [schema.TASKS.name, schema.PARTS.name]  # right after the task list
    ws = wb[schema.PARTS.name]
    assert [c.value for c in ws[1]] == [c.header for c in schema.PARTS.columns]
    assert list(ws.tables) == [schema.PARTS.table_name]
    assert ws.tables[schema.PARTS.table_name].ref == f"A1:P{ws.max_row}"
    assert ws.freeze_panes == "A2" and ws.page_setup.orientation == "landscape"
    assert ws.conditional_formatting  # coloured by deadline state, as the task sheet
    _assert_every_line_kept(before, master)
    md = read_master(master)
    assert md.parts.present and {r["role"] for r in md.parts.rows} == set(schema.PART_ROLE_LABELS.values())
    # The other sheets' Tables and names survive the graft.
    assert {t for s in wb.worksheets for t in s.tables} >= {"NhiemVu", "DonVi", "LichSu", "PhanViec"}
    data = master.read_bytes()
    assert kx.refresh(master, as_of=AS_OF).cells_changed == 0
    assert master.read_bytes() == data


def test_merge_with_nothing_new_adds_the_sheet_too(tmp_path: Path) -> None:
    master = _copy(tmp_path)
    before = _lines(master)
    inbox = tmp_path / "hop_thu_den"
    inbox.mkdir()
    rep = merge(master, inbox, as_of=AS_OF, now=dt.datetime(2024, 6, 5, 20))
    assert rep.written
    _assert_every_line_kept(before, master)
    again = merge(master, inbox, as_of=AS_OF, now=dt.datetime(2024, 6, 5, 21))
    assert not again.written


def test_the_grafted_sheet_opens_in_libreoffice_with_the_same_values(tmp_path: Path, soffice_sheets) -> None:
    master = _copy(tmp_path)
    kx.refresh(master, as_of=AS_OF)
    lo = soffice_sheets(master)
    sheet = lo[schema.PARTS.name] if schema.PARTS.name in lo else next(v for k, v in lo.items() if "Ph" in k)
    rows = _parts_rows(master)
    assert sheet[0] == [c.header for c in schema.PARTS.columns]
    body = [r for r in sheet[1:] if any(r)]
    assert len(body) == len(rows)
    for got, want in zip(body, rows, strict=True):
        for j, col in enumerate(schema.PARTS.columns):
            v = want[col.key]
            if v is None:
                assert got[j] == ""
            elif isinstance(v, dt.date):
                assert got[j] == vn.date(v)
            elif isinstance(v, (int, float)):
                assert float(got[j].replace(",", ".")) == pytest.approx(float(v))
            else:
                assert got[j] == str(v)
    # The task list and the history read by LibreOffice still hold what they held.
    assert len([r for r in lo[schema.TASKS.name][1:] if r and r[0]]) == 14


def test_nightly_adds_the_sheet_once_then_writes_nothing(tmp_path: Path) -> None:
    from kehoach_xl.commands.nightly import nightly

    master = _copy(tmp_path)
    (tmp_path / "hop_thu_den").mkdir()
    (tmp_path / "kehoach.toml").write_text('master = "so_theo_doi_DDCI_2024.xlsx"\ninbox = "hop_thu_den"\n',
                                           encoding="utf-8")
    before = _lines(master)
    rep = nightly(tmp_path / "kehoach.toml", as_of=AS_OF, retries=0)
    assert rep.ok or all(s.status in ("ok", "partial") for s in rep.steps), rep.to_dict()
    _assert_every_line_kept(before, master)
    data = master.read_bytes()
    nightly(tmp_path / "kehoach.toml", as_of=AS_OF, retries=0)
    assert master.read_bytes() == data


def test_a_master_last_saved_by_libreoffice_gains_the_sheet_too(tmp_path: Path, soffice_convert, soffice_sheets) -> None:
    """LibreOffice writes its own package layout (names, styles, defined names): the graft still fits."""
    src = _copy(tmp_path)
    out = soffice_convert(src, "xlsx", outdir=tmp_path / "lo")
    master = tmp_path / "so_lo.xlsx"
    shutil.move(out, master)
    before = _lines(master)
    kx.refresh(master, as_of=AS_OF)
    wb = openpyxl.load_workbook(master)
    assert wb.sheetnames[1] == schema.PARTS.name
    _assert_every_line_kept(before, master)
    lo = soffice_sheets(master)
    assert schema.PARTS.name in lo and lo[schema.PARTS.name][0][0] == schema.PARTS.columns[0].header
    assert kx.refresh(master, as_of=AS_OF).cells_changed == 0
