"""Importing Word plans shaped like real ones: a Quốc hiệu table, a two-row merged header, group rows with a
stray fragment, I / 1 / a levels, lists of bodies, extra columns, a progress appendix; and files that are not
plans."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from docx import Document
from docx.enum.text import WD_BREAK
from openpyxl import load_workbook

from kehoach_xl.cli.main import cli
from kehoach_xl.commands.import_plan import import_plan
from kehoach_xl.commands.init import create_master
from kehoach_xl.errors import DataError
from kehoach_xl.importer import parse_plan
from kehoach_xl.io.master_read import read_master
from kehoach_xl.model import schema
from kehoach_xl.model.master import task_records
from kehoach_xl.model.registry import GROUP_KIND
from kehoach_xl.model.sample import sample_registry

QUOC_HIEU = (["UBND TỈNH LẠNG SƠN", "SỞ TÀI CHÍNH", "Số: 15/KH-STC"],
             ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "Lạng Sơn, ngày 20 tháng 3 năm 2025"])
HEADER_TOP = ["STT", "Nội dung nhiệm vụ", "Cơ quan", "", "Thời gian", "", "Nguồn kinh phí", "Mức độ ưu tiên"]
HEADER_SUB = ["", "", "Chủ trì", "Phối hợp", "Bắt đầu", "Hoàn thành", "", ""]
B = "**"  # a cell written in bold
ROWS = [
    [B + "I", B + "RÀ SOÁT THỂ CHẾ", "", "", "", "", "Ngân sách tỉnh", ""],  # stray fragment in a group row
    ["1", "Rà soát văn bản quy phạm pháp luật", "Sở Tư pháp", "Bộ Công an, Bộ Nội vụ, Bộ Tài chính", "01/3",
     "trước ngày 28/5", "Ngân sách tỉnh", "Cao"],
    ["2", "Tuyên truyền trên báo chí", "Sở Thông tin và Truyền thông", "VTV, VOV, TTXVN", "", "Quý II/2025", "", ""],
    [B + "II", B + "TỔ CHỨC THỰC HIỆN", "", "", "", "Năm 2025", "", ""],
    [B + "1", B + "Cải cách thủ tục hành chính", "", "", "", "", "", ""],
    ["a", "Xây dựng quy trình nội bộ", "Sở Xây dựng", "Sở Tài chính, Sở Nội vụ và UBND các huyện", "", "30/6/2025",
     "", ""],
    ["b", "Kiểm tra việc thực hiện", "Trung tâm Công nghệ thông tin", "các bộ, ngành, địa phương", "", "30/9/2025",
     "", ""],
    ["2", "Báo cáo sơ kết", "TT. Công nghệ thông tin", "Trung tâm CNTT", "", "15/12/2025", "", ""],
    None,  # page break: the two header rows again
    ["3", "Tổng kết năm", "Sở Tài chính", "Sở Thông tin và Truyền thông và các địa phương", "", "31/12/2025", "", ""],
]


def _set(cell, text: str) -> None:
    bold = text.startswith(B)
    text = text.removeprefix(B)
    p = cell.paragraphs[0]
    for k, line in enumerate(text.split("\n")):
        if k:
            p = cell.add_paragraph()
        run = p.add_run(line)
        run.bold = bold or None


def _header(table, at: int, page_break: bool = False) -> None:
    for j, (top, sub) in enumerate(zip(HEADER_TOP, HEADER_SUB, strict=True)):
        _set(table.cell(at, j), top)
        _set(table.cell(at + 1, j), sub)
    if page_break:
        table.cell(at, 0).paragraphs[0].runs[0].add_break(WD_BREAK.PAGE)
    for j in (0, 1, 6, 7):  # merged down over the sub-header row
        table.cell(at, j).merge(table.cell(at + 1, j))
    table.cell(at, 2).merge(table.cell(at, 3))
    table.cell(at, 4).merge(table.cell(at, 5))


def build_plan_docx(path: Path, *, rows: list | None = None, kem_theo: str | None = None,
                    header: tuple[list[str], list[str]] | None = None) -> Path:
    """A plan as provinces issue it: Quốc hiệu as a borderless two-column table, then the appendix table."""
    rows = ROWS if rows is None else rows
    doc = Document()
    qh = doc.add_table(rows=1, cols=2)
    for j, lines in enumerate(QUOC_HIEU):
        _set(qh.cell(0, j), "\n".join(lines))
    doc.add_paragraph("KẾ HOẠCH")
    doc.add_paragraph("Triển khai nhiệm vụ chuyển đổi số năm 2025")
    doc.add_paragraph("Căn cứ Kế hoạch số 12/KH-UBND ngày 10/01/2024 của UBND tỉnh.")
    doc.add_paragraph("PHỤ LỤC")
    if kem_theo:
        doc.add_paragraph(kem_theo)
    if header is None:
        n_rows = 2 + sum(2 if r is None else 1 for r in rows)
        t = doc.add_table(rows=n_rows, cols=len(HEADER_TOP))
        _header(t, 0)
        at = 2
        for r in rows:
            if r is None:
                _header(t, at, page_break=True)
                at += 2
                continue
            for j, text in enumerate(r):
                _set(t.cell(at, j), text)
            at += 1
    else:
        top, _ = header
        t = doc.add_table(rows=1 + len(rows), cols=len(top))
        for j, text in enumerate(top):
            _set(t.cell(0, j), text)
        for i, r in enumerate(rows, start=1):
            for j, text in enumerate(r):
                _set(t.cell(i, j), text)
    doc.save(str(path))
    return path


def _by_task(plan, start: str):
    return next(t for t in plan if t["task"].startswith(start))


def test_two_row_header_groups_levels_and_lists(tmp_path):
    docx = build_plan_docx(tmp_path / "kh15.docx")
    rep = import_plan(docx, tmp_path / "so.xlsx", plan_code="CDS2025")
    recs = task_records(read_master(tmp_path / "so.xlsx"))
    # the sub-header row ("Chủ trì | Phối hợp | Bắt đầu | Hoàn thành") and the repeated header are no tasks
    assert [(r["group"], str(r["stt"]), r["task"][:12]) for r in recs] == [
        ("I", "1", "Rà soát văn "), ("I", "2", "Tuyên truyền"), ("II › 1", "a", "Xây dựng quy"),
        ("II › 1", "b", "Kiểm tra việ"), ("II", "2", "Báo cáo sơ k"), ("II", "3", "Tổng kết năm")]
    assert recs[2]["group_title"] == "TỔ CHỨC THỰC HIỆN › Cải cách thủ tục hành chính"
    r = _by_task(recs, "Rà soát")
    assert r["lead_units"] == ["Sở Tư pháp"] and r["coordinating_units"] == ["Bộ Công an", "Bộ Nội vụ", "Bộ Tài chính"]
    # the Quốc hiệu table gives the year: "trước ngày 28/5" has a date
    assert r["deadline_text"] == "trước ngày 28/5" and r["due_date"] == "2025-05-28"
    # unknown columns are kept with their header names
    assert "Nguồn kinh phí: Ngân sách tỉnh" in r["notes"] and "Mức độ ưu tiên: Cao" in r["notes"]
    assert "Thời gian bắt đầu: 01/3" in r["notes"]
    assert _by_task(recs, "Tuyên truyền")["coordinating_units"] == ["VTV", "VOV", "TTXVN"]
    r = _by_task(recs, "Xây dựng quy trình")
    assert r["lead_units"] == ["Sở Xây dựng"] and not r["notes"]
    assert r["coordinating_units"] == ["Sở Tài chính", "Sở Nội vụ", "UBND các huyện"]
    assert _by_task(recs, "Tổng kết")["coordinating_units"] == ["Sở Thông tin và Truyền thông", "Các địa phương"]
    codes = [w.code for w in rep.warnings]
    fragments = [w for w in rep.warnings if w.code == "group_fragment"]
    assert len(fragments) == 2
    assert "'Nguồn kinh phí': 'Ngân sách tỉnh'" in fragments[0].message and fragments[0].row == 3
    assert "'Thời gian hoàn thành': 'Năm 2025'" in fragments[1].message
    assert codes.count("extra_columns") == 1
    extra = next(w.message for w in rep.warnings if w.code == "extra_columns")
    assert all(h in extra for h in ("'Thời gian bắt đầu'", "'Nguồn kinh phí'", "'Mức độ ưu tiên'"))
    dup = [w.message for w in rep.warnings if w.code == "duplicate_unit"]
    assert len(dup) == 1 and all(n in dup[0] for n in ("Trung tâm Công nghệ thông tin", "TT. Công nghệ thông tin",
                                                        "Trung tâm CNTT"))
    # the plan's metadata, from the Quốc hiệu table, is stored with the plan code
    md = read_master(tmp_path / "so.xlsx")
    assert {k: md.settings.get(k) for k in ("plan_code", "plan_number", "plan_year", "agency", "parent_agency",
                                             "place")} == {
        "plan_code": "CDS2025", "plan_number": "15/KH-STC", "plan_year": 2025, "agency": "SỞ TÀI CHÍNH",
        "parent_agency": "UBND TỈNH LẠNG SƠN", "place": "Lạng Sơn"}
    assert md.settings["plan_title"] == "Kế hoạch triển khai nhiệm vụ chuyển đổi số năm 2025"
    assert rep.meta["plan_date"] == "20/03/2025"
    kinds = {u["name"]: u.get("kind") for u in md.units.rows}
    assert kinds["UBND các huyện"] == GROUP_KIND and kinds["Các bộ, ngành, địa phương"] == GROUP_KIND
    assert not kinds.get("Sở Xây dựng") and "Sở" not in kinds


def test_kem_theo_line_wins_over_the_head(tmp_path):
    docx = build_plan_docx(tmp_path / "pl.docx",
                           kem_theo="(Kèm theo Kế hoạch số 27/KH-UBND ngày 05/02/2026 của UBND tỉnh Lạng Sơn)")
    p = parse_plan(docx)
    assert p.meta["plan_number"] == "27/KH-UBND" and p.meta["plan_date"] == "05/02/2026" and p.plan_year == 2026
    assert p.meta["agency"] == "UBND tỉnh Lạng Sơn"


def test_existing_master_stores_code_and_year_then_reimport_needs_no_code(tmp_path):
    reg = sample_registry("langson_ddci_2024")
    master = create_master(tmp_path / "so.xlsx", units=reg["units"], leaders=reg["leaders"], meta={})
    docx = build_plan_docx(tmp_path / "kh15.docx")
    first = import_plan(docx, master, plan_code="CDS2025", add_unknown=True)
    assert len(first.added_ids) == 6 and {"plan_code", "plan_year", "plan_number"} <= set(first.meta_stored)
    md = read_master(master)
    assert (md.settings["plan_code"], md.plan_year, md.settings["plan_number"]) == ("CDS2025", 2025, "15/KH-STC")
    again = import_plan(docx, master).to_dict()  # no --plan-code: the master has it now
    assert (again["tasks_added"], again["tasks_updated"], again["tasks_removed"]) == (0, 0, 0)
    assert again["meta_stored"] == []
    # an appendix without any year (text copied from a PDF) takes the master's year
    tsv = tmp_path / "them.tsv"
    tsv.write_text("STT\tNội dung nhiệm vụ\tCơ quan chủ trì\tThời gian hoàn thành\n"
                   "9\tRà soát bổ sung\tSở Tư pháp\ttrước ngày 15/10\n", encoding="utf-8")
    rep = import_plan(tsv, master)
    assert rep.plan_year == 2025 and rep.tasks[0]["due_date"] == dt.date(2025, 10, 15)


def test_reimport_never_rewrites_names_whatever_the_units_sheet_holds(tmp_path):
    docx = build_plan_docx(tmp_path / "kh15.docx")
    master = tmp_path / "so.xlsx"
    import_plan(docx, master, plan_code="CDS2025")
    before = {r["id"]: r for r in task_records(read_master(master))}
    # staff tidy the "Đơn vị" sheet: the centre's other spellings become aliases of one name, and a
    # unit whose name starts another unit's cell is added
    wb = load_workbook(master)
    ws = wb[schema.UNITS.name]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == "Trung tâm Công nghệ thông tin":
            row[1].value = "TT. Công nghệ thông tin; Trung tâm CNTT"
        elif row[0].value == "TT. Công nghệ thông tin":
            row[0].value = "Sở Thông tin"
        elif row[0].value == "Trung tâm CNTT":
            row[0].value = "Sở Tài chính và"
        elif row[0].value == "Bộ Công an":  # a name with a separator inside now covers a list of the plan
            row[0].value = "Bộ Công an, Bộ Nội vụ"
            row[1].value = "VTV, VOV"
    wb.save(master)
    again = import_plan(docx, master).to_dict()
    assert (again["tasks_added"], again["tasks_updated"], again["tasks_removed"]) == (0, 0, 0)
    after = {r["id"]: r for r in task_records(read_master(master))}
    for tid, r in before.items():
        for k in ("lead_units", "coordinating_units", "leaders"):
            assert after[tid][k] == r[k], (tid, k)
    assert _by_task(after.values(), "Báo cáo sơ kết")["lead_units"] == ["TT. Công nghệ thông tin"]


PROGRESS_TOP = ["TT", "Nhiệm vụ", "Đơn vị chủ trì", "Thời hạn", "Tiến độ", "Kết quả hiện nay"]
PROGRESS_ROWS = [
    ["1", "Ban hành kế hoạch", "Sở Nội vụ", "30/4/2025", "Đã hoàn thành", "Đã ban hành Kế hoạch số 20/KH-SNV"],
    ["2", "Tập huấn cán bộ", "Sở Nội vụ", "30/9/2025", "Đang triển khai", "Đã tổ chức 2/4 lớp"],
    ["3", "Sơ kết", "Sở Nội vụ", "15/12/2025", "Chưa hoàn thành", ""],
]


def test_progress_appendix_maps_state_and_result_on_request(tmp_path):
    docx = build_plan_docx(tmp_path / "bc.docx", rows=PROGRESS_ROWS, header=(PROGRESS_TOP, []))
    plain = import_plan(docx, tmp_path / "a.xlsx", plan_code="BC")
    assert [t["deadline_text"] for t in plain.tasks] == ["30/4/2025", "30/9/2025", "15/12/2025"]
    assert plain.tasks[0]["notes"] == "Tiến độ: Đã hoàn thành; Kết quả hiện nay: Đã ban hành Kế hoạch số 20/KH-SNV"
    assert [t["status"] for t in plain.tasks] == [schema.STATUS_NOT_STARTED] * 3
    msg = next(w.message for w in plain.warnings if w.code == "extra_columns")
    assert "'Tiến độ'" in msg and "'Kết quả hiện nay'" in msg and "--with-progress" in msg
    rep = import_plan(docx, tmp_path / "b.xlsx", plan_code="BC", with_progress=True)
    recs = task_records(read_master(tmp_path / "b.xlsx"))
    assert [r["status"] for r in recs] == [schema.STATUS_DONE, schema.STATUS_IN_PROGRESS, schema.STATUS_NOT_STARTED]
    assert [r["result"] for r in recs][:2] == ["Đã ban hành Kế hoạch số 20/KH-SNV", "Đã tổ chức 2/4 lớp"]
    assert recs[2]["notes"] == "Tiến độ: Chưa hoàn thành"  # unclear state kept, not guessed
    mapped = [w.message for w in rep.warnings if w.code == "progress_mapped"]
    assert mapped == ["Cột 'Tiến độ' được nhập vào cột Trạng thái (2 nhiệm vụ); 1 nhiệm vụ đã hoàn thành để trống "
                      "Ngày hoàn thành vì văn bản không ghi.",
                      "Cột 'Kết quả hiện nay' được nhập vào cột Kết quả thực hiện (2 nhiệm vụ)."]
    assert [w.row for w in rep.warnings if w.code == "progress_unknown"] == [4]
    # the same appendix again on request: the tasks nobody has reported on get its states
    res = CliRunner().invoke(cli, ["import", str(docx), "--into", str(tmp_path / "a.xlsx"), "--with-progress",
                                   "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["progress_set"] == {"BC-001": ["status", "result"], "BC-002": ["status", "result"]}
    assert [r["status"] for r in task_records(read_master(tmp_path / "a.xlsx"))] == [
        schema.STATUS_DONE, schema.STATUS_IN_PROGRESS, schema.STATUS_NOT_STARTED]


def test_refuses_files_that_are_not_plans(tmp_path):
    from kehoach_xl.commands.issue import issue
    from kehoach_xl.commands.report import report
    from kehoach_xl.reports.summary import compute_summary, export_summary

    docx = build_plan_docx(tmp_path / "kh15.docx")
    master = tmp_path / "so.xlsx"
    import_plan(docx, master, plan_code="CDS2025")
    (unitbook, *_rest) = issue(master, period="2025-05", out=tmp_path / "gui")
    summary = export_summary(compute_summary(read_master(master), as_of=dt.date(2025, 5, 31)).result,
                             tmp_path / "tonghop.xlsx")
    word_report = report(master, period="2025-05", out=tmp_path / "bao_cao", as_of=dt.date(2025, 5, 31))
    for path, what in ((master, "sổ theo dõi"), (unitbook, "tệp báo cáo tháng của một đơn vị"),
                       (summary, "bảng tổng hợp do chương trình xuất"), (word_report, "báo cáo tình hình thực hiện")):
        with pytest.raises(DataError) as ei:
            import_plan(path, tmp_path / "moi.xlsx", plan_code="X")
        assert what in str(ei.value) and "không phải văn bản kế hoạch" in str(ei.value), path
    assert not (tmp_path / "moi.xlsx").exists()
    res = CliRunner().invoke(cli, ["import", str(unitbook), "--into", str(master)])
    assert res.exit_code != 0 and "không phải văn bản kế hoạch" in res.output
    assert len(task_records(read_master(master))) == 6


def test_stored_metadata_is_never_overwritten(tmp_path):
    reg = sample_registry("langson_ddci_2024")
    master = create_master(tmp_path / "so.xlsx", units=reg["units"], leaders=reg["leaders"], meta=reg["meta"])
    rep = import_plan(build_plan_docx(tmp_path / "kh15.docx"), master, dry_run=True)
    differs = [w.message for w in rep.warnings if w.code == "meta_differs"]
    assert any("'15/KH-STC'" in m and "'62/KH-STNMT'" in m for m in differs)
    assert "plan_number" not in rep.meta_stored
    # a master that tracks another plan keeps all of its settings
    rep = import_plan(build_plan_docx(tmp_path / "kh15.docx"), master, plan_code="KHAC", dry_run=True)
    assert rep.meta_stored == [] and not [w for w in rep.warnings if w.code == "meta_differs"]


def test_result_column_is_a_report_only_beside_a_state_column():
    from kehoach_xl.importer.headers import match_header_row

    plan = match_header_row(["STT", "Nhiệm vụ", "Đơn vị chủ trì", "Thời hạn", "Kết quả thực hiện"])
    assert plan is not None and plan["output"] == 4 and "result" not in plan
    report = match_header_row(["TT", "Nhiệm vụ", "Đơn vị chủ trì", "Thời hạn", "Tiến độ", "Kết quả hiện nay"])
    assert report is not None and (report["deadline_text"], report["status"], report["result"]) == (3, 4, 5)
    # "Tiến độ (thực hiện)" alone is the plan's timeline; beside "Thời hạn" it is the reported state
    assert match_header_row(["STT", "Nhiệm vụ", "Đơn vị chủ trì", "Tiến độ thực hiện"])["deadline_text"] == 3
    both = match_header_row(["STT", "Nhiệm vụ", "Đơn vị chủ trì", "Tiến độ thực hiện", "Thời hạn hoàn thành"])
    assert both is not None and (both["status"], both["deadline_text"]) == (3, 4)
    seed = match_header_row(["Số TT", "Nhiệm vụ cụ thể", "Tiến độ", "Cơ quan chủ trì", "Kết quả/sản phẩm"])
    assert seed is not None and seed["deadline_text"] == 2 and seed["output"] == 4


def test_task_list_exported_by_the_program_is_refused_but_a_plan_with_its_own_codes_is_not(tmp_path):
    export = tmp_path / "nhiem_vu.csv"
    export.write_text("Mã nhiệm vụ,Nhiệm vụ/Hoạt động,Đơn vị chủ trì,Thời hạn (nguyên văn)\n"
                      "CDS2025-001,Rà soát văn bản,Sở Tư pháp,30/6/2025\n", encoding="utf-8")
    with pytest.raises(DataError, match="do chương trình tạo ra"):
        parse_plan(export)
    plan = tmp_path / "ke_hoach.csv"
    plan.write_text("Mã nhiệm vụ,Nhiệm vụ,Đơn vị chủ trì,Thời hạn\nNV.01,Rà soát văn bản,Sở Tư pháp,30/6/2025\n",
                    encoding="utf-8")
    assert [t.task for t in parse_plan(plan).tasks] == ["Rà soát văn bản"]


def test_excel_plan_with_merged_two_row_header(tmp_path):
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.append(["PHỤ LỤC"])
    ws.append(["(Kèm theo Kế hoạch số 15/KH-STC ngày 20/3/2025 của Sở Tài chính)"])
    ws.append(HEADER_TOP)
    ws.append(HEADER_SUB)
    for col in "ABGH":
        ws.merge_cells(f"{col}3:{col}4")
    ws.merge_cells("C3:D3")
    ws.merge_cells("E3:F3")
    for r in ROWS:
        if r is None:
            continue
        ws.append([x.removeprefix(B) for x in r])
        if r[0].startswith(B):
            for c in ws[ws.max_row]:
                c.font = Font(bold=True)
    wb.save(tmp_path / "kh.xlsx")
    p = parse_plan(tmp_path / "kh.xlsx")
    assert [(t.group, t.stt) for t in p.tasks] == [("I", "1"), ("I", "2"), ("II › 1", "a"), ("II › 1", "b"),
                                                   ("II", "2"), ("II", "3")]
    assert p.tasks[0].raw_coord == "Bộ Công an, Bộ Nội vụ, Bộ Tài chính"
    assert p.meta["plan_number"] == "15/KH-STC" and p.plan_year == 2025
    assert p.layout["lead_units"] == "Cơ quan chủ trì" and p.layout["deadline_text"] == "Thời gian hoàn thành"


def test_plan_metadata_variants():
    from kehoach_xl.importer.plan_meta import read_plan_meta

    meta, notes = read_plan_meta("CHÍNH PHỦ\nSố: 97/NQ-CP\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n"
                                 "Hà Nội, ngày 06 tháng 4 năm 2026\nNGHỊ QUYẾT\nSửa đổi, bổ sung nhiệm vụ")
    assert meta == {"plan_number": "97/NQ-CP", "place": "Hà Nội", "plan_date": "06/04/2026", "plan_year": 2026,
                    "agency": "CHÍNH PHỦ", "plan_title": "Nghị quyết sửa đổi, bổ sung nhiệm vụ"} and not notes
    meta, _ = read_plan_meta("(Kèm theo Chương trình hành động tại Nghị quyết số 100/NQ-CP ngày 06 tháng 4 năm 2026 "
                             "của Chính phủ)")
    assert (meta["plan_number"], meta["plan_date"], meta["agency"]) == ("100/NQ-CP", "06/04/2026", "Chính phủ")
    # seed 004: a draft's blank number is reported, its year still read
    meta, notes = read_plan_meta("(Kèm theo Kế hoạch số               /KH-STNMT-VP ngày          /9/2022 của Sở Tài "
                                 "nguyên và Môi trường tỉnh Khánh Hòa)")
    assert "plan_number" not in meta and meta["plan_year"] == 2022 and "còn để trống" in notes[0]
    # a "Căn cứ" line in the body does not give the plan's number or date
    meta, _ = read_plan_meta("KẾ HOẠCH\nCăn cứ Kế hoạch số 12/KH-UBND ngày 10/01/2024 của UBND tỉnh")
    assert "plan_number" not in meta and "plan_date" not in meta
