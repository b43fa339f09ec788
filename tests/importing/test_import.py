"""Importing the seed appendices (as text and as Word documents) into a master."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kehoach_xl.cli.main import cli
from kehoach_xl.commands.import_plan import import_plan
from kehoach_xl.commands.init import create_master
from kehoach_xl.errors import DataError
from kehoach_xl.importer import build_sample_plan_docx, parse_plan
from kehoach_xl.io.master_read import read_master
from kehoach_xl.io.master_write import write_master
from kehoach_xl.model import schema
from kehoach_xl.model.changes import MasterChanges
from kehoach_xl.model.master import task_records
from kehoach_xl.model.sample import sample_dir, sample_registry

SEED_000 = sample_dir("langson_ddci_2024") / "phu_luc_2.txt"
TSV_004 = sample_dir("khanhhoa_parindex_2022") / "phu_luc.tsv"
CP, VP = "Các phòng, đơn vị", "Văn phòng Sở"
THIEU = "Nguyễn Ngọc Thiều"
TRUC, THACH, MINH = "Nguyễn Hữu Trục", "Chu Văn Thạch", "Triệu Đức Minh"

# Every task of seed 000: group, stt, criterion ends with, task starts with, lead, coord, deadline, leaders
EXPECTED_000 = [
    ("I", "1", "năm 2023 thứ 22.", "Đánh giá hiện trạng", [CP], [VP], "20/6/2024", [THIEU]),
    ("I", "1", "năm 2023 thứ 22.", "- Đơn giản hóa các bước", [CP], [VP], "30/5/2024", [THIEU]),
    ("I", "1", "năm 2023 thứ 22.", "- Cập nhật thông tin.", ["Văn phòng Đăng ký đất đai"], [], "10/6/2024", [THIEU]),
    ("I", "1", "năm 2023 thứ 22.", "Đánh giá thực tế các doanh nghiệp", [CP], [VP], "30/6/2024", [THIEU]),
    ("I", "3", "qua bưu điện dễ dàng: xếp hạng DDCI năm 2023 thứ 24.", "Đánh giá, rà soát thực tế", [CP], [VP],
     "30/6/2024", [THIEU]),
    ("I", "4", "năm 2023 thứ 20.", "Đánh giá, rà soát sự phục vụ", [CP], [VP], "20/5/2024", [THIEU]),
    ("II", "2", "năm 2023 thứ 22.", "Rà soát, thu thập thông tin lập danh sách", [CP], [VP], "15/6/2024", [THIEU]),
    ("II", "4", "cho cán bộ của Sở, ban, ngành xếp hạng DDCI năm 2023 thứ 22.", "Rà soát, thu thập thông tin từ",
     [CP], [VP], "15/6/2024", [THIEU]),
    ("II", "9", "năm 2023 thứ 19.", "Rà soát, thu thập thông tin việc phát sinh", ["Thanh tra Sở"], [VP],
     "20/5/2024", [THIEU, MINH]),
    ("III", "2", "năm 2023 thứ 23.", "Đánh giá, rà soát thực trạng", [CP], [VP], "20/5/2024", [TRUC]),
    ("III", "7", "năm 2023 thứ 16.", "Đánh giá hiệu quả việc tham gia", [VP], [CP], "20/5/2024", [TRUC]),
    ("III", "9", "tranh chấp: xếp hạng DDCI năm 2023 thứ 17.", "Đánh giá hiệu quả hỗ trợ", ["Thanh tra Sở"], [CP],
     "20/5/2024", [TRUC]),
    ("IV", "4", "năm 2023 thứ 15.", "Đánh giá việc thực hiện thủ tục", [CP], [VP], "20/5/2024", [THACH]),
    ("IV", "5", "năm 2023 thứ 24.", "Đánh giá sự phục vụ giải quyết", [CP], [VP], "20/5/2024", [THACH]),
]


def _master(tmp_path: Path, name: str = "so.xlsx") -> Path:
    reg = sample_registry("langson_ddci_2024")
    return create_master(tmp_path / name, units=reg["units"], leaders=reg["leaders"], meta=reg["meta"])


def _flat(s: str) -> str:
    return " ".join(str(s or "").split())


@pytest.fixture(params=["text", "docx", "docx_table_per_page"])
def plan_000(request, tmp_path) -> Path:
    if request.param == "text":
        return SEED_000
    return build_sample_plan_docx(tmp_path / "kh62.docx", table_per_page=request.param.endswith("page"))


def test_seed_000_every_task(plan_000, tmp_path):
    master = _master(tmp_path)
    rep = import_plan(plan_000, master)
    assert rep.to_dict()["tasks_added"] == 14 and len(rep.groups) == 4
    assert [w.row for w in rep.warnings if w.code == "joined_split_row"] == (
        [19, 26, 34] if plan_000.suffix == ".txt" else [w.row for w in rep.warnings if w.code == "joined_split_row"])
    assert sum(w.code == "joined_split_row" for w in rep.warnings) == 3
    assert not [w for w in rep.warnings if w.code in ("unknown_unit", "unknown_leader", "deadline_unknown")]
    recs = task_records(read_master(master))
    assert [r["id"] for r in recs] == [f"DDCI2024-{i:03d}" for i in range(1, 15)]
    for r, (group, stt, crit_end, task_start, lead, coord, deadline, leaders) in zip(recs, EXPECTED_000, strict=True):
        assert (r["group"], str(r["stt"])) == (group, stt)
        assert _flat(r["criterion"]).endswith(crit_end), r["criterion"]
        assert r["task"].startswith(task_start)
        assert (r["lead_units"], r["coordinating_units"], r["leaders"]) == (lead, coord, leaders)
        assert r["deadline_text"] == deadline
        d, m, y = map(int, deadline.split("/"))
        assert r["due_date"] == dt.date(y, m, d).isoformat()
        assert r["deadline_kind"] == "date"
        assert r["plan_code"] == "DDCI2024" and r["status"] == schema.STATUS_NOT_STARTED
    assert recs[0]["group_title"] == "Chỉ số 2: Chi phí thời gian"
    # the split row's pieces are joined, in every column that had one
    assert recs[4]["notes"] == "Văn phòng Sở: phối hợp và tổng hợp chung"
    assert _flat(recs[7]["task"]).endswith("đồng thời xử lý nghiêm theo quy định.")
    assert "Triệu Đức Minh: phối hợp" in recs[8]["notes"]


def test_seed_004_text_and_word_agree(tmp_path):
    text = parse_plan(TSV_004)
    assert len(text.tasks) == 55 and len(text.groups) == 20 and text.plan_year == 2022
    for tpp in (False, True):
        doc = parse_plan(build_sample_plan_docx(tmp_path / f"kh{tpp}.docx", "khanhhoa_parindex_2022",
                                                table_per_page=tpp))
        assert sum(w.code == "joined_split_row" for w in doc.warnings) >= 3
        assert len(doc.tasks) == 55
        for a, b in zip(text.tasks, doc.tasks, strict=True):
            for k in ("group", "group_title", "stt", "criterion", "task", "output", "deadline_text", "raw_lead",
                      "raw_coord"):
                assert _flat(getattr(a, k)) == _flat(getattr(b, k)), (k, a.row)


def test_seed_004_fields(tmp_path):
    rep = import_plan(TSV_004, tmp_path / "kh.xlsx", plan_code="PAR2022")
    assert rep.created_master and len(rep.tasks) == 55
    recs = task_records(read_master(tmp_path / "kh.xlsx"))

    def by_text(start):
        return next(x for x in recs if x["task"].startswith(start))

    groups = {r["group"] for r in recs}
    assert {"A › I", "A › III › 1", "A › IV › 5", "B › 1", "B › 5"} <= groups
    r = by_text("Báo cáo kết quả thực hiện công tác CCHC")
    assert (str(r["stt"]), r["lead_units"], r["coordinating_units"]) == ("2", [VP], ["Các phòng, đơn vị liên quan"])
    assert "Văn phòng Sở: chủ trì xây dựng báo cáo" in r["notes"]
    assert r["deadline_kind"] == "external" and r["due_date"] is None
    r = by_text("Thực hiện nhiệm vụ được UBND tỉnh giao")
    assert r["coordinating_units"] == [VP] and "Văn phòng Sở: đôn đốc, tổng hợp" in r["notes"]
    r = next(x for x in recs if x["task"].startswith("- Điều chỉnh các quy trình"))
    assert r["group"] == "A › IV › 5" and r["group_title"].endswith("Kết quả giải quyết hồ sơ TTHC")
    assert r["lead_units"] == ["Chi cục QLĐĐ", "Văn phòng Đăng ký đất đai Khánh Hòa", "Thanh tra Sở"]
    assert r["due_date"] == "2022-09-30" and r["deadline_kind"] == "month"
    r = next(x for x in recs if str(x["stt"]) == "1.1")
    assert r["group"] == "B › 1" and r["group_title"].endswith("Chỉ số hài lòng về “Tiếp cận dịch vụ”")
    r = next(x for x in recs if x["task"].startswith("Đăng tải nội dung"))
    assert r["deadline_kind"] == "continuous"
    # names written with different case become one registry entry (the first spelling met)
    assert [u.lower() for u in by_text("Đánh giá việc giải quyết TTHC")["lead_units"]] == [
        CP.lower(), "bộ phận một cửa"]


def test_reimport_is_idempotent_and_revision_counts(tmp_path):
    master = _master(tmp_path)
    first = import_plan(SEED_000, master).to_dict()
    assert first["tasks_added"] == 14
    again = import_plan(SEED_000, master).to_dict()
    assert (again["tasks_added"], again["tasks_updated"], again["tasks_unchanged"], again["tasks_removed"]) == (
        0, 0, 14, 0)
    # a unit reports progress on two tasks
    md = read_master(master)
    cols = md.tasks.columns
    ch = MasterChanges()
    for i in (1, 5):
        ch.set(schema.TASKS.name, md.tasks.row_numbers[i], cols["progress"], 40)
        ch.set(schema.TASKS.name, md.tasks.row_numbers[i], cols["status"], schema.STATUS_IN_PROGRESS)
    write_master(master, ch, action="merge")
    # revised plan: task 2 gets a new deadline, task 6 (STT 4 of group I) is removed, a task is added under II
    lines = SEED_000.read_text(encoding="utf-8").splitlines()
    lines = [ln.replace("30/5/2024", "15/7/2024") for ln in lines]
    lines = [ln for ln in lines if not ln.startswith("4\t<i>Phần lớn")]
    new = "\t".join(["10", "<i>Chỉ tiêu mới</i>", "Báo cáo mới", "Rà soát bổ sung quy trình tiếp nhận hồ sơ qua mạng",
                     "Văn phòng Sở (chủ trì)", "30/9/2024", "Ông Nguyễn Ngọc Thiều, Giám đốc Sở phụ trách"])
    at = next(i for i, ln in enumerate(lines) if ln.startswith("9\t<i>Chi phí không chính thức"))
    lines.insert(at + 1, new)
    revised = tmp_path / "phu_luc_2_sua.txt"
    revised.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rep = import_plan(revised, master).to_dict()
    assert (rep["tasks_added"], rep["tasks_updated"], rep["tasks_unchanged"], rep["tasks_removed"]) == (1, 1, 12, 1)
    assert rep["updated"] == {"DDCI2024-002": ["deadline_text"]}
    assert rep["removed_ids"] == ["DDCI2024-006"] and rep["added_ids"] == ["DDCI2024-015"]
    recs = {r["id"]: r for r in task_records(read_master(master))}
    assert len(recs) == 15  # removed task kept, nothing duplicated
    assert recs["DDCI2024-002"]["due_date"] == "2024-07-15" and recs["DDCI2024-002"]["progress"] == 40
    assert recs["DDCI2024-002"]["status"] == schema.STATUS_IN_PROGRESS
    assert recs["DDCI2024-006"]["progress"] == 40  # reported progress of the removed task untouched
    assert recs["DDCI2024-015"]["group"] == "II" and recs["DDCI2024-015"]["lead_units"] == [VP]
    final = import_plan(revised, master).to_dict()
    assert (final["tasks_added"], final["tasks_updated"]) == (0, 0)


def test_unknown_leader_suggested_then_added(tmp_path):
    master = _master(tmp_path)
    typo = tmp_path / "typo.txt"
    typo.write_text(SEED_000.read_text(encoding="utf-8").replace("Ngọc Thiều", "Ngọc Thiệu"), encoding="utf-8")
    rep = import_plan(typo, master, dry_run=True)
    unk = rep.unknown_leaders
    assert [u["name"] for u in unk] == ["Nguyễn Ngọc Thiệu"] and unk[0]["suggestions"] == [THIEU]
    msg = next(w.message for w in rep.warnings if w.code == "unknown_leader")
    assert "Nguyễn Ngọc Thiều" in msg and len(unk[0]["places"]) == 9
    assert task_records(read_master(master)) == []  # dry run wrote nothing
    import_plan(typo, master, add_unknown=True)
    names = [r["name"] for r in read_master(master).leaders.rows]
    assert "Nguyễn Ngọc Thiệu" in names and THIEU in names


def test_unknown_header_is_refused(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("Cột 1,Cột 2,Cột 3\na,b,c\n", encoding="utf-8")
    with pytest.raises(DataError) as ei:
        parse_plan(bad)
    assert "Cột 1 | Cột 2 | Cột 3" in str(ei.value) and "Thời gian hoàn thành" in str(ei.value)


def test_xlsx_and_csv_with_other_header_words(tmp_path):
    import csv

    from openpyxl import Workbook

    rows = [["Ghi chú đầu trang"], ["TT", "Tên nhiệm vụ", "Đơn vị thực hiện", "Thời hạn", "Sản phẩm", "Ghi chú"],
            ["I", "Nhóm một", None, None, None, None],
            [1, "Lập báo cáo quý", "Văn phòng Sở (chủ trì); Thanh tra Sở (phối hợp)", "Quý III/2024", "Báo cáo",
             "gấp"],
            [2, "Rà soát quy trình", "Thanh tra Sở", dt.datetime(2024, 8, 15), "Quy trình", None]]
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    wb.save(tmp_path / "kh.xlsx")
    with (tmp_path / "kh.csv").open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([[("" if v is None else (v.strftime("%d/%m/%Y") if hasattr(v, "year") else v))
                                   for v in r] for r in rows])
    for src in (tmp_path / "kh.xlsx", tmp_path / "kh.csv"):
        p = parse_plan(src, plan_year=2024)
        assert [t.task for t in p.tasks] == ["Lập báo cáo quý", "Rà soát quy trình"]
        assert p.tasks[0].group == "I" and p.tasks[0].notes == "gấp"
        assert p.tasks[1].deadline_text == "15/08/2024"


def test_cli_import_json(tmp_path):
    master = _master(tmp_path)
    docx = build_sample_plan_docx(tmp_path / "kh62.docx")
    res = CliRunner().invoke(cli, ["import", str(docx), "--into", str(master), "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert (d["tasks_added"], d["tasks_updated"], d["tasks_unchanged"]) == (14, 0, 0)
    assert d["tables_used"] == ["Bảng 1"] and all("place" in w for w in d["warnings"])
    res = CliRunner().invoke(cli, ["import", str(tmp_path / "kh62.docx"), "--into", str(master)])
    assert "Thêm mới 0, cập nhật 0, giữ nguyên 14" in res.output
    shutil.rmtree(tmp_path / ".kehoach_backups", ignore_errors=True)
