"""A master made by the released 0.1.0 keeps working with this version, and nothing in it is lost."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl

import kehoach_xl as kx
from kehoach_xl.model import schema

FIXTURE = Path(__file__).parents[1] / "fixtures" / "v0_1_0" / "demo_master.xlsx"
AS_OF = dt.date(2024, 6, 5)


def _copy(tmp_path: Path) -> Path:
    dst = tmp_path / "so_theo_doi_DDCI_2024.xlsx"
    shutil.copyfile(FIXTURE, dst)
    (tmp_path / "kehoach.toml").write_text('master = "so_theo_doi_DDCI_2024.xlsx"\n', encoding="utf-8")
    return dst


def _typed_cells(path: Path) -> dict[tuple[str, str], object]:
    """Every value of the task sheet's input columns (what staff and units typed)."""
    wb = openpyxl.load_workbook(path, read_only=True)
    ws = wb[schema.TASKS.name]
    rows = list(ws.iter_rows(values_only=True))
    head = [str(h) for h in rows[0]]
    keep = {c.header for c in schema.TASKS.columns if c.key not in schema.DERIVED_FIELDS}
    out = {}
    for r in rows[1:]:
        if not r[0]:
            continue
        for h, v in zip(head, r, strict=False):
            if h in keep:
                out[(str(r[0]), h)] = v
    return out


def test_old_master_reads_validates_and_refreshes(tmp_path: Path) -> None:
    master = _copy(tmp_path)
    before = _typed_cells(master)
    assert len({k[0] for k in before}) == 14
    report = kx.validate(master, as_of=AS_OF)
    assert report.valid, [p.message for p in report.errors]
    res = kx.refresh(master, as_of=AS_OF)
    assert res.tasks == 14
    after = _typed_cells(master)
    # Nothing typed by staff or units changed, but the task's status and progress, which are now
    # derived from the parts (a synthesiser's "Hoàn thành" does not close a task a member still has
    # open): what was there is kept as the synthesiser's or lead's own part in the sheet "Phần việc".
    derived = {schema.TASKS.col(k).header for k in ("status", "progress", "completed_on")}
    assert {k: v for k, v in after.items() if k[1] not in derived} == \
        {k: v for k, v in before.items() if k[1] not in derived}
    rewritten = {k[0] for k in before if k[1] in derived and before[k] != after[k]}
    assert rewritten  # the demo has synthesisers reporting done over open members
    wb = openpyxl.load_workbook(master, read_only=True)
    rows = list(wb[schema.PARTS.name].iter_rows(values_only=True))
    head = list(rows[0])
    keys = ("status", "progress", "completed_on")
    ti, ri = (head.index(schema.PARTS.col(k).header) for k in ("task_id", "role"))
    at = [head.index(schema.PARTS.col(k).header) for k in keys]
    owners = {r[ti]: tuple(r[j] for j in at) for r in rows[1:] if r[ri] in ("Chủ trì", "Tổng hợp chung")}
    for tid in rewritten:
        assert owners[tid] == tuple(before[(tid, schema.TASKS.col(k).header)] for k in keys)


def test_old_master_takes_a_summary_and_an_unchanged_second_refresh_writes_nothing(tmp_path: Path) -> None:
    master = _copy(tmp_path)
    kx.summary(master, as_of=AS_OF)
    kx.refresh(master, as_of=AS_OF)
    data = master.read_bytes()
    again = kx.refresh(master, as_of=AS_OF)
    assert again.cells_changed == 0
    assert master.read_bytes() == data
