"""Merge rules: ownership, conflicts, periods, idempotence, order independence, history, the whole month."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kehoach_xl.cli.main import cli
from kehoach_xl.commands.issue import issue
from kehoach_xl.commands.merge import merge
from kehoach_xl.io.master_read import read_grids, read_master
from kehoach_xl.io.master_write import write_master
from kehoach_xl.io.submission import read_submission
from kehoach_xl.model.changes import MasterChanges
from kehoach_xl.model.config import load_config
from kehoach_xl.rules.merge import compute_merge
from tests.bad_inputs.make import AS_OF, fill, setup_month

NOW = dt.datetime(2024, 5, 31, 20)
T1, T2, T3, T4 = "DDCI2024-001", "DDCI2024-002", "DDCI2024-003", "DDCI2024-004"


def _row(master: Path, tid: str) -> dict:
    md = read_master(master)
    return md.tasks.rows[md.task_index()[tid]]


def _log_rows(master: Path) -> list[list]:
    grid = read_grids(master, ["Nhật ký"])["Nhật ký"]
    return [r for r in grid[1:] if r and r[1] == "merge"]


def test_whole_month(tmp_path):
    master, files, inbox = setup_month(tmp_path)
    fill(files["Thanh_tra_So"], inbox / files["Thanh_tra_So"].name, {
        T3: {"status": "hoan thanh", "progress": "100%", "completed_on": "ngày 27 tháng 5 năm 2024",
             "result": "Đã rà soát 14 cuộc kiểm tra, không phát hiện chi phí không chính thức."},
        T1: {"status": "Đang thực hiện", "progress": "0,6", "result": "Đã rà soát 5 quy trình"},
        T4: {"contribution": "Cử 01 thanh tra viên tham gia đoàn"},
    })
    fill(files["Van_phong_Dang_ky_dat_dai"], inbox / files["Van_phong_Dang_ky_dat_dai"].name, {
        T2: {"progress": "tám mươi", "difficulties": "Đường truyền chậm", "proposals": "=> Đề nghị nâng cấp máy chủ"},
        "DDCI2024-999": {"progress": 10},  # not in this unit's file: ignored (row does not exist)
    })
    fill(files["Van_phong_So"], inbox / files["Van_phong_So"].name, {
        T1: {"status": "Hoàn thành", "progress": 100, "completed_on": "5/5/2024", "result": "Đã tổng hợp báo cáo chung"},
        T4: {"progress": "31/02/2024"},  # a mistake: refused with its cell named, the rest taken
    })
    (inbox / "ghi_chu.docx").write_bytes(b"not excel")
    rep = merge(master, inbox, as_of=AS_OF, now=NOW)
    d = rep.to_dict()
    by_file = {f["file"]: f for f in d["files"]}
    assert by_file["ghi_chu.docx"]["status"] == "rejected"
    assert by_file["2024-05_Van_phong_So.xlsx"]["status"] == "partial"
    assert by_file["2024-05_Thanh_tra_So.xlsx"]["status"] == "processed"

    r3 = _row(master, T3)
    assert (r3["status"], r3["progress"], r3["completed_on"]) == ("Hoàn thành", 100, dt.date(2024, 5, 27))
    assert r3["result"].startswith("Đã rà soát 14 cuộc")
    r2 = _row(master, T2)
    assert (r2["progress"], r2["difficulties"], r2["proposals"]) == (80, "Đường truyền chậm", "=> Đề nghị nâng cấp máy chủ")
    r1 = _row(master, T1)  # collective task: the synthesiser (Văn phòng Sở) owns its status
    assert (r1["status"], r1["progress"], r1["completed_on"]) == ("Hoàn thành", 100, dt.date(2024, 5, 5))
    assert r1["coordination_reports"] == ("[Thanh tra Sở – kỳ 05/2024] Đang thực hiện; 60%. Đã rà soát 5 quy trình")
    r4 = _row(master, T4)
    assert r4["progress"] == 0  # unchanged
    assert r4["coordination_reports"] == "[Thanh tra Sở – kỳ 05/2024] Cử 01 thanh tra viên tham gia đoàn"
    assert r3["updated_by"] == "Thanh tra Sở (2024-05_Thanh_tra_So.xlsx)"

    logs = _log_rows(master)
    assert len(logs) == d["applied"] == 8  # one log row per changed cell
    prog = next(r for r in logs if r[4] == T2 and r[5] == "Tiến độ (%)")
    assert (prog[2], prog[3], prog[6], prog[7]) == (
        "2024-05_Van_phong_Dang_ky_dat_dai.xlsx", "Văn phòng Đăng ký đất đai", "60", "80")
    done = next(r for r in logs if r[4] == T1 and r[5] == "Ngày hoàn thành")
    assert (done[6], done[7]) == ("18/06/2024", "05/05/2024")
    hist = read_master(master).history.rows
    assert {(h["period"], h["task_id"], h["unit"]) for h in hist if h.get("task_id")} == {
        ("05/2024", T3, "Thanh tra Sở"), ("05/2024", T1, "Thanh tra Sở"), ("05/2024", T4, "Thanh tra Sở"),
        ("05/2024", T2, "Văn phòng Đăng ký đất đai"), ("05/2024", T1, "Văn phòng Sở")}
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == [
        "2024-05_Thanh_tra_So.xlsx", "2024-05_Van_phong_Dang_ky_dat_dai.xlsx", "2024-05_Van_phong_So.xlsx",
        "2024-05_Van_phong_So.xlsx.bao_cao_loi.txt"]
    report = (inbox / "rejected" / "ghi_chu.docx.bao_cao_loi.txt").read_text(encoding="utf-8")
    assert "không phải sổ làm việc Excel" in report


def test_idempotent_second_merge_changes_nothing(tmp_path):
    master, files, inbox = setup_month(tmp_path)
    f = fill(files["Thanh_tra_So"], inbox / files["Thanh_tra_So"].name, {T3: {"progress": 90, "result": "X"}})
    keep = tmp_path / "again.xlsx"
    shutil.copyfile(f, keep)
    assert merge(master, inbox, as_of=AS_OF, now=NOW).applied == 2
    before = master.read_bytes()
    shutil.copyfile(keep, inbox / f.name)
    rep = merge(master, inbox, as_of=AS_OF, now=NOW)
    assert rep.applied == 0 and rep.history_rows == 0 and not rep.written
    assert master.read_bytes() == before


def test_office_edit_after_issue_is_a_conflict(tmp_path):
    master, files, inbox = setup_month(tmp_path)
    md = read_master(master)
    i = md.task_index()[T3]
    ch = MasterChanges()
    ch.set("Nhiệm vụ", md.tasks.row_numbers[i], md.tasks.columns["result"], "Văn phòng sửa tay")
    write_master(master, ch, action="edit")
    fill(files["Thanh_tra_So"], inbox / files["Thanh_tra_So"].name, {T3: {"result": "Đơn vị báo cáo", "progress": 95}})
    d = merge(master, inbox, as_of=AS_OF, now=NOW).to_dict()
    (c,) = d["conflicts"]
    assert (c["task_id"], c["field"], c["master_value"], c["values"][0]["value"]) == (
        T3, "result", "Văn phòng sửa tay", "Đơn vị báo cáo")
    row = _row(master, T3)
    assert row["result"] == "Văn phòng sửa tay" and row["progress"] == 95
    assert "Xung đột" in (inbox / "processed" / (files["Thanh_tra_So"].name + ".bao_cao_loi.txt")).read_text("utf-8")


def test_unchanged_prefilled_value_never_overwrites_office_edit(tmp_path):
    master, files, inbox = setup_month(tmp_path)
    md = read_master(master)
    i = md.task_index()[T3]
    ch = MasterChanges()
    ch.set("Nhiệm vụ", md.tasks.row_numbers[i], md.tasks.columns["progress"], 77)
    write_master(master, ch, action="edit")
    fill(files["Thanh_tra_So"], inbox / files["Thanh_tra_So"].name, {T3: {"result": "Mới"}})  # progress left as issued
    d = merge(master, inbox, as_of=AS_OF, now=NOW).to_dict()
    assert d["conflicts"] == [] and _row(master, T3)["progress"] == 77


def test_two_files_same_period_differ_is_conflict(tmp_path):
    master, files, inbox = setup_month(tmp_path)
    fill(files["Van_phong_Dang_ky_dat_dai"], inbox / files["Van_phong_Dang_ky_dat_dai"].name, {T2: {"progress": 70}})
    fill(files["Van_phong_Dang_ky_dat_dai"], inbox / "2024-05_Van_phong_Dang_ky_dat_dai_ban_sua.xlsx",
         {T2: {"progress": 75}})
    d = merge(master, inbox, as_of=AS_OF, now=NOW).to_dict()
    (c,) = d["conflicts"]
    assert sorted(v["value"] for v in c["values"]) == ["70", "75"] and c["master_value"] == "60"
    assert _row(master, T2)["progress"] == 60


def test_later_period_wins(tmp_path):
    master, files, inbox = setup_month(tmp_path)
    april = issue(master, period="2024-04", out=tmp_path / "t4", units=["Thanh tra Sở"])[0]
    fill(april, inbox / april.name, {T3: {"result": "Kết quả tháng 4"}})
    fill(files["Thanh_tra_So"], inbox / files["Thanh_tra_So"].name, {T3: {"result": "Kết quả tháng 5"}})
    merge(master, inbox, as_of=AS_OF, now=NOW)
    assert _row(master, T3)["result"] == "Kết quả tháng 5"
    # April's file arriving after May's merge only goes to history
    fill(april, inbox / ("2" + april.name), {T3: {"result": "Kết quả tháng 4 (gửi muộn)"}})
    d = merge(master, inbox, as_of=AS_OF, now=NOW).to_dict()
    assert _row(master, T3)["result"] == "Kết quả tháng 5"
    assert any("kỳ mới hơn" in p["message"] for p in d["files"][0]["problems"])
    hist = [h for h in read_master(master).history.rows if h.get("task_id") == T3]
    assert [h["period"] for h in hist] == ["04/2024", "05/2024", "04/2024"]


def test_master_copy_sent_back_only_own_fields(tmp_path):
    master, files, inbox = setup_month(tmp_path)
    from openpyxl import load_workbook

    wb = load_workbook(master)
    ws = wb["Nhiệm vụ"]
    hdr = [c.value for c in ws[1]]
    ws.cell(3, hdr.index("Tiến độ (%)") + 1).value = 85  # T2, own task of VPĐKĐĐ
    ws.cell(4, hdr.index("Tiến độ (%)") + 1).value = 5  # T3, Thanh tra's task: ignored
    ws.cell(3, hdr.index("Nhiệm vụ/Hoạt động") + 1).value = "Sửa nội dung kế hoạch"  # definition: ignored
    wb.save(inbox / "So_theo_doi_VP_DKDD_2024-05.xlsx")
    cfg = load_config(master)
    cfg.limits.unsigned_master_copies_from = ["Văn phòng Đăng ký đất đai"]  # only configured units may
    d = merge(master, inbox, as_of=AS_OF, now=NOW, config=cfg).to_dict()
    f = d["files"][0]
    assert (f["kind"], f["unit"], f["period"]) == ("master_copy", "Văn phòng Đăng ký đất đai", "2024-05")
    assert _row(master, T2)["progress"] == 85 and _row(master, T3)["progress"] == 100
    assert _row(master, T2)["task"] != "Sửa nội dung kế hoạch"
    assert any("bỏ qua" in p["message"] for p in f["problems"])


def test_json_cli(tmp_path):
    master, files, inbox = setup_month(tmp_path)
    fill(files["Thanh_tra_So"], inbox / files["Thanh_tra_So"].name, {T3: {"progress": 90}})
    res = CliRunner().invoke(cli, ["merge", str(master), str(inbox), "--json", "--as-of", "2024-05-31"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["applied"] == 1 and d["files"][0].keys() >= {"file", "unit", "status", "changes", "problems"}
    assert "conflicts" in d


# --- properties ------------------------------------------------------------------------------------

_STATE: dict = {}


def _prepared(tmp_path_factory) -> tuple:
    if not _STATE:
        tmp = tmp_path_factory.mktemp("prop")
        master, files, inbox = setup_month(tmp)
        md = read_master(master)
        cfg = load_config(master)
        subs = [
            read_submission(fill(files["Thanh_tra_So"], tmp / "a" / "a.xlsx", {T3: {"progress": 91, "result": "A"}}),
                            md, config=cfg, today=AS_OF),
            read_submission(fill(files["Van_phong_Dang_ky_dat_dai"], tmp / "b" / "b.xlsx", {T2: {"progress": 92}}),
                            md, config=cfg, today=AS_OF),
            read_submission(fill(files["Van_phong_So"], tmp / "c" / "c.xlsx",
                                 {T4: {"progress": 93}, T3: {"contribution": "Góp ý"}}), md, config=cfg, today=AS_OF),
        ]
        _STATE.update(md=md, subs=subs, cfg=cfg)
    return _STATE["md"], _STATE["subs"], _STATE["cfg"]


def _norm(ch: MasterChanges) -> tuple:
    return (sorted((s, k, str(v)) for s, cells in ch.cells.items() for k, v in cells.items()),
            sorted(str(r) for rows in ch.appends.values() for r in rows),
            sorted((e.file, e.task_id, e.field, str(e.new)) for e in ch.log))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations([0, 1, 2]), dup=st.sampled_from([0, 1, 2]))
def test_order_independent_and_duplicate_safe(tmp_path_factory, order, dup):
    md, subs, cfg = _prepared(tmp_path_factory)
    base = compute_merge(md, subs, config=cfg, as_of=NOW).changes
    shuffled = [subs[i] for i in order]
    out = compute_merge(md, shuffled, config=cfg, as_of=NOW)
    ch = out.changes
    assert _norm(ch) == _norm(base)
    # the same file present twice (sent twice) changes nothing more
    out2 = compute_merge(md, [*shuffled, subs[dup]], config=cfg, as_of=NOW)
    ch2, rep2 = out2.changes, out2.result
    assert _norm(ch2)[0] == _norm(base)[0] and rep2.conflicts == []


# --- review fixes -----------------------------------------------------------------------------------


def test_hand_typed_unpadded_history_period_still_blocks_an_older_report(tmp_path):
    """A history row "2024-5" is May: an April file arriving later must not overwrite May's report."""
    from kehoach_xl.model import schema

    master, _, inbox = setup_month(tmp_path)
    md = read_master(master)
    cols = md.history.columns
    row: list = [None] * max(cols.values())
    for k, v in {"period": "2024-5", "task_id": T3, "unit": "Thanh tra Sở", "result": "Kết quả tháng 5"}.items():
        row[cols[k] - 1] = v
    ch = MasterChanges()
    ch.append(schema.HISTORY.name, row)
    write_master(master, ch, action="test")
    before = _row(master, T3)["result"]
    april = issue(master, period="2024-04", out=tmp_path / "t4", units=["Thanh tra Sở"])[0]
    fill(april, inbox / april.name, {T3: {"result": "Kết quả tháng 4 (gửi muộn)"}})
    d = merge(master, inbox, as_of=AS_OF, now=NOW).to_dict()
    assert _row(master, T3)["result"] == before != "Kết quả tháng 4 (gửi muộn)"
    assert any("kỳ mới hơn (05/2024)" in p["message"] for p in d["files"][0]["problems"])


def test_missing_inbox_is_a_setup_error_naming_the_folder(tmp_path):
    import pytest

    from kehoach_xl.errors import SetupError

    master, _, _ = setup_month(tmp_path)
    missing = tmp_path / "khong_co"
    with pytest.raises(SetupError, match="khong_co"):
        merge(master, missing, as_of=AS_OF)
    res = CliRunner().invoke(cli, ["merge", str(master), str(missing)])
    assert res.exit_code == 2 and "khong_co" in res.output


def test_bad_period_is_a_setup_error(tmp_path):
    master, _, inbox = setup_month(tmp_path)
    res = CliRunner().invoke(cli, ["merge", str(master), str(inbox), "--period", "2024-13"])
    assert res.exit_code == 2 and "2024-13" in res.output


def test_applied_is_counted_from_the_files(tmp_path):
    from kehoach_xl.rules.merge import AppliedChange, FileReport, MergeReport

    def one(row: int) -> AppliedChange:
        return AppliedChange("T1", "status", None, "Hoàn thành", row, 10, "a.xlsx", "")

    rep = MergeReport(files=[FileReport("a", changes=[one(2), one(3)]), FileReport("b", changes=[one(4)])])
    assert rep.applied == 3 and rep.to_dict()["applied"] == 3
    rep.files[1].changes.append(one(5))
    assert rep.applied == 4  # a property: it cannot go stale
    # shown as a dict with the address and each value's text, made when shown
    assert rep.to_dict()["files"][1]["changes"][1] == {"task_id": "T1", "field": "status", "old": "",
                                                        "new": "Hoàn thành", "cell": "Nhiệm vụ!J5"}


def test_deadline_state_follows_the_merge_without_a_refresh(tmp_path):
    """Colours come from the state column: a task reported done turns green at once."""
    from kehoach_xl.commands.refresh import refresh
    from kehoach_xl.model import schema

    master, files, inbox = setup_month(tmp_path)
    refresh(master, as_of=dt.date(2024, 6, 5))
    assert _row(master, T2)["deadline_state"] == schema.DEADLINE_STATES["due_soon"]  # due 10/6, 5 days left
    fill(files["Van_phong_Dang_ky_dat_dai"], inbox / files["Van_phong_Dang_ky_dat_dai"].name, {
        T2: {"status": "Hoàn thành", "progress": 100, "completed_on": "29/5/2024", "result": "Đã cập nhật xong."},
    })
    merge(master, inbox, as_of=AS_OF, now=NOW)
    row = _row(master, T2)
    assert row["status"] == schema.STATUS_DONE
    assert row["deadline_state"] == schema.DEADLINE_STATES["done_on_time"]
    assert row["days_remaining"] is None


def test_one_record_per_applied_change_is_its_log_row(tmp_path_factory):
    """The log holds the files' applied changes themselves: each row names the file, its unit and the
    column's header, in the order the cells were set; nothing is counted twice."""
    from kehoach_xl.model.changes import log_rows
    from kehoach_xl.model.schema import LOG, TASKS

    md, subs, cfg = _prepared(tmp_path_factory)
    out = compute_merge(md, subs, config=cfg, as_of=NOW)
    merged = [e for e in out.changes.log if e.action == "merge"]
    applied = [c for f in out.result.files for c in f.changes]
    assert merged and sorted(map(id, merged)) == sorted(map(id, applied))
    cols = {c.key: j for j, c in enumerate(LOG.columns, start=1)}
    rows = log_rows(merged, cols, "tester")
    by_file = {f.file: f.unit for f in out.result.files}
    headers = {c.header for c in TASKS.columns}
    for e, row in zip(merged, rows, strict=True):
        got = {k: row[j - 1] for k, j in cols.items()}
        assert got["action"] == "merge" and got["file"] == e.file and got["unit"] == by_file[e.file]
        assert got["field"] in headers and got["task_id"] == e.task_id and got["user"] == "tester"
        assert got["time"] == NOW
    assert {r[cols["field"] - 1] for r in rows} >= {"Tiến độ (%)"}
