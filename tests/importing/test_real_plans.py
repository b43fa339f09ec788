"""Real plan appendices (tests/fixtures/real_plans/*) built as Word documents and imported.

Each plan folder holds the source note, the document head, the table as printed and the tasks expected,
written by hand from the source. The Word document is built as issued (build_docx.py), imported with the
public API, and every task is compared field by field with expected.json.

A comparison the importer cannot pass yet is marked in ``XFAIL`` (plan → field → reason); the xfail is not
strict, so a fix makes it XPASS and the entry can be removed. ``summary()`` prints per plan what the importer
got right (used for the table in docs/import.md): ``python tests/importing/test_real_plans.py``.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1] / "fixtures" / "real_plans"
_spec = importlib.util.spec_from_file_location("real_plans_build_docx", ROOT / "build_docx.py")
build_docx = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_docx)  # type: ignore[union-attr]

PLANS = [p.name for p in build_docx.plan_dirs()]
FIELDS = ("count", "stt", "task", "group_path", "lead_units", "coordinating_units", "deadline_text",
          "deadline_date")

# plan -> field -> why the current importer fails it (remove an entry once it passes)
XFAIL: dict[str, dict[str, str]] = {}


def _flat(s: object) -> str:
    return " ".join(unicodedata.normalize("NFC", str(s or "")).split())


def _code(path_entry: dict[str, str] | str) -> str:
    return _flat(path_entry["code"] if isinstance(path_entry, dict) else path_entry).rstrip(".")


def expected(plan: str) -> dict[str, Any]:
    return json.loads((ROOT / plan / "expected.json").read_text(encoding="utf-8"))


# plans whose table.json also gives the table under a two-row header (a layout variant, see build_docx.py)
TWO_ROW = [p for p in PLANS if "header_two_rows" in json.loads((ROOT / p / "table.json").read_text(encoding="utf-8"))]


@cache
def _imported(plan: str, workdir: str, header: str = "issued") -> tuple[dict[str, Any], tuple[dict[str, Any], ...]]:
    from kehoach_xl import import_plan
    from kehoach_xl.io.master_read import read_master
    from kehoach_xl.model.master import task_records

    work = Path(workdir)
    docx = build_docx.build(ROOT / plan, work / f"{plan}-{header}.docx", header=header)
    master = work / f"{plan}-{header}.xlsx"
    rep = import_plan(docx, master, plan_code="KH", add_unknown=True)
    return rep.to_dict(), tuple(task_records(read_master(master)))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("real_plans"))


def actual_values(rec: dict[str, Any], field: str) -> Any:
    if field == "stt":
        return _flat(rec.get("stt")).rstrip(".")
    if field == "task":
        return _flat(rec.get("task"))
    if field == "group_path":
        return [_code(c) for c in str(rec.get("group") or "").split("›") if c.strip()]
    if field in ("lead_units", "coordinating_units"):
        return [_flat(u).casefold() for u in rec.get(field) or []]
    if field == "deadline_text":
        return _flat(rec.get("deadline_text"))
    if field == "deadline_date":
        return rec.get("due_date") or None
    raise KeyError(field)


def expected_values(task: dict[str, Any], field: str) -> Any:
    if field == "stt":
        return _flat(task["stt"]).rstrip(".")
    if field == "task":
        return _flat(task["task"])
    if field == "group_path":
        return [_code(g) for g in task["group_path"]]
    if field in ("lead_units", "coordinating_units"):
        return [_flat(u).casefold() for u in task[field]]
    if field == "deadline_text":
        return _flat(task["deadline_text"])
    if field == "deadline_date":
        return task["deadline_date"]
    raise KeyError(field)


def _cases():
    for plan in PLANS:
        for field in FIELDS:
            reason = XFAIL.get(plan, {}).get(field)
            marks = [pytest.mark.xfail(strict=False, reason=reason)] if reason else []
            yield pytest.param(plan, field, marks=marks, id=f"{plan}-{field}")


def test_fixtures_are_complete():
    assert len(PLANS) >= 6, PLANS
    assert TWO_ROW, "no real plan is built under a two-row header"
    for plan in PLANS:
        d = ROOT / plan
        assert (d / "source.md").exists(), plan
        exp, table = expected(plan), json.loads((d / "table.json").read_text(encoding="utf-8"))
        assert exp["tasks"] and exp["plan"]["number"] and exp["plan"]["year"], plan
        for row in table["rows"]:
            assert len(row["cells"]) == table["columns"], (plan, row["cells"][:2])
        for t in exp["tasks"]:
            assert set(t) >= {"stt", "group_path", "task", "lead_units", "coordinating_units", "deadline_text",
                              "deadline_date"}, (plan, t.get("stt"))


@pytest.mark.parametrize("plan", PLANS)
def test_docx_is_built_as_issued(plan, tmp_path):
    from docx import Document

    out = build_docx.build(ROOT / plan, tmp_path / "kh.docx")
    doc = Document(str(out))
    head = json.loads((ROOT / plan / "head.json").read_text(encoding="utf-8"))
    qh = doc.tables[0]
    assert head["quoc_hieu"][0] in qh.cell(0, 1).text and head["issuing_body"][0] in qh.cell(0, 0).text
    table = json.loads((ROOT / plan / "table.json").read_text(encoding="utf-8"))
    tasks = doc.tables[1]
    assert len(tasks.rows) == len(table["header_rows"]) + len(table["rows"])
    trpr = tasks.rows[0]._tr.trPr
    assert trpr is not None and trpr.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
                                          "tblHeader") is not None
    if head.get("kem_theo"):
        assert any(p.text == head["kem_theo"] for p in doc.paragraphs)


@pytest.mark.parametrize(("plan", "field"), list(_cases()))
def test_real_plan_field(plan, field, workdir):
    exp = expected(plan)["tasks"]
    _, recs = _imported(plan, workdir)
    if field == "count":
        assert len(recs) == len(exp), [(_flat(r.get("stt")), _flat(r.get("task"))[:40]) for r in recs]
        return
    got = [actual_values(r, field) for r in recs]
    want = [expected_values(t, field) for t in exp]
    diffs = [(i + 1, exp[i]["stt"], w, g) for i, (w, g) in enumerate(zip(want, got, strict=False)) if w != g]
    assert not diffs and len(got) == len(want), (
        f"{len(diffs)} of {len(want)} tasks differ (task no., STT, expected, got): {diffs[:5]}")


@pytest.mark.parametrize("plan", TWO_ROW)
def test_real_plan_two_row_header(plan, workdir):
    """The same table under a two-row header ("Cơ quan" over "Chủ trì | Phối hợp"): every task, field by field,
    as under the header as issued; the sub-header row is no task."""
    from docx import Document

    docx = build_docx.build(ROOT / plan, Path(workdir) / f"{plan}-check.docx", header="two_row")
    rows = Document(str(docx)).tables[1].rows
    assert len(rows[0].cells) == len(rows[1].cells) and rows[0].cells[2]._tc is rows[0].cells[3]._tc  # merged
    rep, recs = _imported(plan, workdir, "two_row")
    exp = expected(plan)["tasks"]
    assert len(recs) == len(exp), [(_flat(r.get("stt")), _flat(r.get("task"))[:40]) for r in recs]
    for field in FIELDS[1:]:
        if XFAIL.get(plan, {}).get(field):
            continue
        got = [actual_values(r, field) for r in recs]
        want = [expected_values(t, field) for t in exp]
        assert got == want, (field, [(w, g) for w, g in zip(want, got, strict=True) if w != g][:3])
    assert rep["layout"] == _imported(plan, workdir)[0]["layout"] or rep["layout"]


def summary(workdir: str | Path | None = None) -> list[dict[str, Any]]:
    """Per plan: tasks expected/imported and how many tasks have each field right."""
    import tempfile

    workdir = str(workdir or tempfile.mkdtemp(prefix="real_plans_"))
    rows = []
    for plan in PLANS:
        exp = expected(plan)["tasks"]
        try:
            _, recs = _imported(plan, workdir)
        except Exception as e:  # the summary reports, it does not stop
            rows.append({"plan": plan, "tasks": len(exp), "imported": f"error: {e}"})
            continue

        def right(field: str, recs_: list = recs, exp_: list = exp) -> int:
            return sum(actual_values(r, field) == expected_values(t, field) for r, t in zip(recs_, exp_, strict=False))

        n_units = sum(len(t["lead_units"]) + len(t["coordinating_units"]) for t in exp)
        units_right = sum(
            len(set(actual_values(r, f)) & set(expected_values(t, f)))
            for r, t in zip(recs, exp, strict=False) for f in ("lead_units", "coordinating_units"))
        groups = {tuple(_code(g) for g in t["group_path"]) for t in exp if t["group_path"]}
        dated = [t for t in exp if t["deadline_date"]]
        rows.append({
            "plan": plan, "tasks": len(exp), "imported": len(recs),
            "text": right("task"), "stt": right("stt"), "groups": f"{right('group_path')} ({len(groups)} groups)",
            "units split": f"{units_right}/{n_units}",
            "deadline text": right("deadline_text"),
            "deadlines parsed": f"{sum(actual_values(r, 'deadline_date') == t['deadline_date'] for r, t in zip(recs, exp, strict=False) if t['deadline_date'])}/{len(dated)}",
        })
    return rows


def print_summary(rows: list[dict[str, Any]] | None = None) -> None:
    rows = rows if rows is not None else summary()
    keys = ["plan", "tasks", "imported", "text", "stt", "groups", "units split", "deadline text",
            "deadlines parsed"]
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for r in rows:
        print("| " + " | ".join(str(r.get(k, "")) for k in keys) + " |")


def test_summary_runs(workdir, capsys):
    rows = summary(workdir)
    print_summary(rows)
    assert [r["plan"] for r in rows] == PLANS
    assert "| plan |" in capsys.readouterr().out


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    print_summary()
