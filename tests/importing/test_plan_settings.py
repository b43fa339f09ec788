"""Plan metadata in the master's "Cấu hình" sheet: stored by the first import, used by later ones.

And the import into a master that lacks the plan's units says, in Vietnamese, how to add them.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kehoach_xl import import_plan
from kehoach_xl.cli.main import cli
from kehoach_xl.commands.init import create_master
from kehoach_xl.io.master_read import read_master
from kehoach_xl.model import schema
from kehoach_xl.model.master import task_records

ROOT = Path(__file__).resolve().parents[1] / "fixtures" / "real_plans"
_spec = importlib.util.spec_from_file_location("real_plans_build_docx_meta", ROOT / "build_docx.py")
build_docx = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_docx)  # type: ignore[union-attr]
PLANS = [p.name for p in build_docx.plan_dirs()]


def _plan(plan: str) -> dict:
    return json.loads((ROOT / plan / "expected.json").read_text(encoding="utf-8"))["plan"]


@pytest.mark.parametrize("plan", PLANS)
@pytest.mark.parametrize("into", ["new", "empty"])
def test_first_import_stores_the_plan_metadata(plan, into, tmp_path):
    """Number, date, year and issuing body land in "Cấu hình", for a new master and an empty existing one."""
    docx = build_docx.build(ROOT / plan, tmp_path / "kh.docx")
    master = tmp_path / "m.xlsx"
    if into == "empty":
        create_master(master)
    rep = import_plan(docx, master, plan_code="KH")
    s = read_master(master).settings
    want = _plan(plan)
    assert s["plan_code"] == "KH" and s["plan_number"] == want["number"] and int(s["plan_year"]) == want["year"]
    assert s["plan_date"] == dt.date.fromisoformat(want["date"]) and s["agency"]
    assert {"plan_code", "plan_number", "plan_year", "plan_date", "agency"} <= set(rep.meta_stored)
    assert schema.SETTINGS_ROWS["plan_date"] in " ".join(rep.summary_lines())


def test_provincial_head_gives_the_whole_body(tmp_path):
    """ "ỦY BAN NHÂN DÂN" over "TỈNH ĐỒNG THÁP" is one body; the "(Kèm theo … của Ủy ban nhân dân tỉnh)" line
    names the same body shorter and does not replace it."""
    docx = build_docx.build(ROOT / "dongthap_kh617_2025_cds_doanhnghiep", tmp_path / "kh.docx")
    import_plan(docx, tmp_path / "m.xlsx", plan_code="CDS")
    s = read_master(tmp_path / "m.xlsx").settings
    assert s["agency"] == "ỦY BAN NHÂN DÂN TỈNH ĐỒNG THÁP" and not s["parent_agency"] and s["place"] == "Đồng Tháp"


def test_stored_metadata_used_by_later_imports(tmp_path):
    """A later appendix with no head (a table copied from the PDF) takes the plan code, the year and the issue
    date from "Cấu hình": "Trước 28/5" is dated from the stored year, rolled past the stored issue date, and said."""
    docx = build_docx.build(ROOT / "dongnai_kh179_2025_kinhteso", tmp_path / "kh.docx")
    master = tmp_path / "m.xlsx"
    import_plan(docx, master, plan_code="KTS", add_unknown=True)  # 18/11/2025, year 2025
    later = tmp_path / "bo_sung.tsv"
    later.write_text("STT\tNhiệm vụ, giải pháp\tĐơn vị thực hiện\tĐơn vị phối hợp\tThời gian thực hiện\n"
                     "1\tBáo cáo sơ kết kết quả phát triển kinh tế số\tSở Khoa học và Công nghệ\tCông an tỉnh\t"
                     "Trước 28/5\n"
                     "2\tTổng kết, đánh giá kết quả thực hiện Kế hoạch\tSở Khoa học và Công nghệ\tSở Tư pháp\t"
                     "Tháng 6/2026 (sơ kết); tháng 12/2030 (tổng kết)\n"
                     "3\tCập nhật số liệu kinh tế số của tỉnh\tSở Khoa học và Công nghệ\tCông an tỉnh\t"
                     "Quý II và các năm tiếp theo\n", encoding="utf-8")
    rep = import_plan(later, master)  # no --plan-code, no --plan-year
    assert rep.plan_code == "KTS" and rep.plan_year == 2025 and len(rep.added_ids) == 3
    recs = {r["id"]: r for r in task_records(read_master(master))}
    first, second, third = (recs[i] for i in rep.added_ids)
    assert str(first["due_date"])[:10] == "2026-05-28"  # 28/5/2025 was before the plan was issued
    assert str(second["due_date"])[:10] == "2030-12-31" and second["deadline_kind"] in ("milestones", schema.DEADLINE_KINDS[
        "milestones"])
    assert str(third["due_date"])[:10] == "2026-06-30" and third["recurrence"] in ("yearly", schema.RECURRENCES["yearly"])
    assumed = [w for w in rep.warnings if w.code == "deadline_assumed"]
    assert len(assumed) == 2 and "Trước 28/5" in assumed[0].message and "2026" in assumed[0].message
    assert all(w.place for w in assumed)
    assert read_master(master).settings["plan_number"] == "179/KH-UBND"  # a head-less table changes nothing


def test_missing_units_message_says_how_to_add_them(tmp_path):
    docx = build_docx.build(ROOT / "dongthap_kh617_2025_cds_doanhnghiep", tmp_path / "kh.docx")
    master = tmp_path / "m.xlsx"
    create_master(master, meta={"plan_code": "CDS"})
    res = CliRunner().invoke(cli, ["import", str(docx), "--into", str(master)])
    assert res.exit_code == 0, res.output
    assert "chưa có trong trang “Đơn vị”" in res.output and "Sở KH&CN" in res.output
    assert "--add-unknown" in res.output and f'--into "{master.name}"' in res.output
    res = CliRunner().invoke(cli, ["import", str(docx), "--into", str(master), "--add-unknown", "--json"])
    d = json.loads(res.output)
    assert d["tasks_added"] == 0 and d["units_added"] and d["next_step"] == ""
    res = CliRunner().invoke(cli, ["import", str(docx), "--into", str(master), "--json"])
    d = json.loads(res.output)
    assert (d["tasks_added"], d["tasks_updated"], d["tasks_removed"]) == (0, 0, 0) and d["next_step"] == ""
    assert not [w for w in d["warnings"] if w["code"] == "unknown_unit"]
