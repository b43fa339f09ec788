"""Re-import and revised plans on every real-plan fixture (tests/fixtures/real_plans).

For each plan, built as a Word document shaped as issued:

- importing the identical document again changes nothing (0 added / 0 updated / 0 removed), whatever the
  master's "Đơn vị" sheet holds: as the first import left it, with every unit given an alias and a kind,
  with new unrelated units, or emptied;
- a revised copy (one task text changed, one deadline changed, one task added, one removed) gives exactly
  those changes, keeps what staff typed (status, progress, result) on every task, keeps the removed task,
  and needs no ``--plan-code``: the code comes from the master's "Cấu hình" sheet.
"""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from kehoach_xl import import_plan
from kehoach_xl.io.master_read import read_master
from kehoach_xl.io.master_write import write_master
from kehoach_xl.model import schema
from kehoach_xl.model.changes import MasterChanges
from kehoach_xl.model.master import task_records
from kehoach_xl.model.registry import GROUP_KIND

ROOT = Path(__file__).resolve().parents[1] / "fixtures" / "real_plans"
_spec = importlib.util.spec_from_file_location("real_plans_build_docx_re", ROOT / "build_docx.py")
build_docx = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_docx)  # type: ignore[union-attr]
PLANS = [p.name for p in build_docx.plan_dirs()]
NEW_DEADLINE = "Quý IV/2027"
NEW_TASK = "Tổ chức sơ kết, đánh giá kết quả thực hiện Kế hoạch và đề xuất điều chỉnh nhiệm vụ (nhiệm vụ bổ sung)"
TYPED = {"status": "Đang thực hiện", "result": "Đã triển khai một phần (cán bộ nhập)"}


def _counts(rep: Any) -> tuple[int, int, int]:
    return len(rep.added_ids), len(rep.updated), len(rep.removed_ids)


def _task_rows(table: dict[str, Any]) -> list[int]:
    """Rows of table.json that are tasks standing alone: no cell merged with the row above or below."""
    rows = table["rows"]
    out = []
    for i, r in enumerate(rows):
        below = rows[i + 1]["cells"] if i + 1 < len(rows) else []
        if not r.get("group") and None not in r["cells"] and None not in below and (r["cells"][1] or "").strip():
            out.append(i)
    return out


def _columns(table: dict[str, Any]) -> dict[str, int]:
    """Column of the task text and of the deadline in table.json, from the header as issued."""
    from kehoach_xl.importer.headers import match_header_row

    texts: list[str] = []
    for spec in table["header_rows"][0]:
        texts += [spec["text"]] * int(spec.get("colspan", 1))
    cols = match_header_row(texts)
    assert cols and "task" in cols and "deadline_text" in cols, texts
    return cols


def revised_plan(plan: str, out_dir: Path) -> tuple[Path, dict[str, str]]:
    """A copy of the plan with one text changed, one deadline changed, one task added, one removed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    table = json.loads((ROOT / plan / "table.json").read_text(encoding="utf-8"))
    cols = _columns(table)
    alone = _task_rows(table)
    assert len(alone) >= 4, plan
    text_row, deadline_row, removed_row = alone[0], alone[1], alone[-2]
    rows = copy.deepcopy(table["rows"])
    what = {
        "text_old": rows[text_row]["cells"][cols["task"]],
        "deadline_old": rows[deadline_row]["cells"][cols["deadline_text"]],
        "removed": rows[removed_row]["cells"][cols["task"]],
    }
    rows[text_row]["cells"][cols["task"]] += " và báo cáo kết quả về Ủy ban nhân dân tỉnh"
    rows[deadline_row]["cells"][cols["deadline_text"]] = NEW_DEADLINE
    added = copy.deepcopy(rows[alone[-1]])
    added["cells"][cols["task"]] = NEW_TASK
    added["cells"][0] = "99"
    rows.insert(alone[-1] + 1, added)
    del rows[removed_row]
    table["rows"] = rows
    (out_dir / "table.json").write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8")
    for name in ("head.json", "expected.json"):
        (out_dir / name).write_text((ROOT / plan / name).read_text(encoding="utf-8"), encoding="utf-8")
    return build_docx.build(out_dir, out_dir / f"{plan}-revised.docx"), what


def _edit_units(master: Path, how: str) -> None:
    """Change the "Đơn vị" sheet the way staff might between two imports."""
    md = read_master(master)
    cols = md.units.columns
    ch = MasterChanges()
    sheet = schema.UNITS.name
    if how == "aliases":  # every unit gets an alias and a kind; the first one is renamed
        for i, (row, n) in enumerate(zip(md.units.rows, md.units.row_numbers, strict=True)):
            ch.set(sheet, n, cols["aliases"], f"ĐV{i + 1}")
            if not row.get("kind"):
                ch.set(sheet, n, cols["kind"], "Cơ quan")
        first = md.units.rows[0]["name"]
        ch.set(sheet, md.units.row_numbers[0], cols["name"], f"{first} (tên mới)")
        ch.set(sheet, md.units.row_numbers[0], cols["aliases"], first)
    elif how == "new_units":  # bodies the plan does not name, one of them a collective
        for name, kind in (("Sở Du lịch", "Sở"), ("Các phòng chuyên môn", GROUP_KIND),
                           ("Văn phòng Đoàn ĐBQH và HĐND tỉnh", "Cơ quan")):
            row = [None] * max(cols.values())
            row[cols["name"] - 1], row[cols["kind"] - 1] = name, kind
            ch.append(sheet, row)
    elif how == "emptied":
        for n in md.units.row_numbers:
            for c in cols.values():
                ch.set(sheet, n, c, None)
    write_master(master, ch, action="test", expect=md.stamp)


@pytest.fixture(scope="module")
def first_imports(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    work = tmp_path_factory.mktemp("reimport")
    out = {}
    for plan in PLANS:
        docx = build_docx.build(ROOT / plan, work / f"{plan}.docx")
        master = work / f"{plan}.xlsx"
        rep = import_plan(docx, master, plan_code="KH")
        assert rep.created_master and len(rep.added_ids) == len(json.loads(
            (ROOT / plan / "expected.json").read_text(encoding="utf-8"))["tasks"])
        out[plan] = (docx, master)
    return out


@pytest.mark.parametrize("plan", PLANS)
@pytest.mark.parametrize("units", ["as_imported", "aliases", "new_units", "emptied"])
def test_identical_document_changes_nothing(plan, units, first_imports, tmp_path):
    docx, first = first_imports[plan]
    master = tmp_path / "m.xlsx"
    master.write_bytes(first.read_bytes())
    if units != "as_imported":
        _edit_units(master, units)
    before = [dict(r) for r in task_records(read_master(master))]
    rep = import_plan(docx, master)  # no --plan-code: it is in the settings sheet
    assert rep.plan_code == "KH"
    assert _counts(rep) == (0, 0, 0), (rep.updated, rep.added_ids, rep.removed_ids)
    assert len(rep.unchanged_ids) == len(before)
    assert [dict(r) for r in task_records(read_master(master))] == before


@pytest.mark.parametrize("plan", PLANS)
def test_revised_plan_gives_exactly_its_changes_and_keeps_progress(plan, first_imports, tmp_path):
    docx, first = first_imports[plan]
    master = tmp_path / "m.xlsx"
    master.write_bytes(first.read_bytes())
    # staff report progress on every task
    md = read_master(master)
    ch = MasterChanges()
    for n in md.tasks.row_numbers:
        for key, value in TYPED.items():
            ch.set(schema.TASKS.name, n, md.tasks.columns[key], value)
        ch.set(schema.TASKS.name, n, md.tasks.columns["progress"], 0.5)
    write_master(master, ch, action="test", expect=md.stamp)
    old = {r["id"]: r for r in task_records(read_master(master))}

    revised, what = revised_plan(plan, tmp_path / "revised")
    rep = import_plan(revised, master)
    assert _counts(rep) == (1, 2, 1), (rep.updated, rep.added_ids, rep.removed_ids)
    by_text = {r["task"]: r["id"] for r in old.values()}
    changed_text = next(i for i, r in old.items() if r["task"] == " ".join(what["text_old"].split()))
    changed_deadline = [i for i, f in rep.updated.items() if f == ["deadline_text"]]
    assert rep.updated[changed_text] == ["task"], rep.updated
    assert len(changed_deadline) == 1
    assert " ".join(str(old[changed_deadline[0]]["deadline_text"]).split()) == " ".join(what["deadline_old"].split())
    assert rep.removed_ids == [by_text[" ".join(what["removed"].split())]]

    now = {r["id"]: r for r in task_records(read_master(master))}
    assert set(now) == set(old) | set(rep.added_ids)  # the removed task is kept
    new = now[rep.added_ids[0]]
    assert new["task"] == NEW_TASK and new["status"] == schema.STATUS_NOT_STARTED
    assert rep.added_ids[0] == f"KH-{len(old) + 1:03d}"  # a new ID, none reused
    for tid in old:  # what staff typed is kept on every task, changed or not
        assert (now[tid]["status"], now[tid]["result"]) == (TYPED["status"], TYPED["result"]), tid
        assert now[tid]["progress"] in (0.5, 50), (tid, now[tid]["progress"])
    assert now[changed_deadline[0]]["deadline_text"] == NEW_DEADLINE
    assert str(now[changed_deadline[0]]["due_date"])[:10] == "2027-12-31"
    assert now[changed_text]["task"].endswith("báo cáo kết quả về Ủy ban nhân dân tỉnh")

    # and the revised document imported again: nothing more
    again = import_plan(revised, master)
    assert _counts(again) == (0, 0, 1) and again.removed_ids == rep.removed_ids
