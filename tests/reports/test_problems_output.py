"""One problem record, one renderer per output (reports/problems.py), and the Outcome of every compute_*."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from click.testing import CliRunner

from kehoach_xl import vn
from kehoach_xl.cli.main import cli
from kehoach_xl.commands.init import create_master
from kehoach_xl.errors import KehoachError
from kehoach_xl.importer import build_sample_plan_docx, compute_import, parse_plan
from kehoach_xl.io.master_read import read_master
from kehoach_xl.model.changes import Link
from kehoach_xl.model.config import Config
from kehoach_xl.model.outcome import Outcome
from kehoach_xl.model.problem import ERROR, WARNING, Problem
from kehoach_xl.model.sample import sample_registry
from kehoach_xl.reports.briefing import BriefingResult, compute_briefing
from kehoach_xl.reports.docx_report import compute_report
from kehoach_xl.reports.problems import problem_rows, problems_console, problems_json, unit_error_report
from kehoach_xl.reports.summary import Summary
from kehoach_xl.rules import validation_rules as rules
from kehoach_xl.rules.merge import FIELD_LABELS, Conflict, FileReport
from kehoach_xl.rules.validate import compute_validation
from kehoach_xl.vn import period_label
from tests.reports_sample import AS_OF, PERIOD, make_master
from tests.validate_refresh.test_validate import TODAY, build_broken_master

P_ERR = Problem("unit_unknown", "Đơn vị 'X' chưa có.", ERROR, sheet="Nhiệm vụ", cell="Nhiệm vụ!E7", row=7,
                column="Đơn vị chủ trì", value="X")
P_WARN = Problem("joined_split_row", "Dòng bị tách trang: đã nối.", WARNING, file="kh.docx", sheet="Bảng 2", row=19)
P_CFG = Problem("config_invalid", "Cấu hình sai.", ERROR, sheet="kehoach.toml")


def test_console_table() -> None:
    assert problems_console([]) == "Không phát hiện lỗi nào."
    assert problems_console([], empty="") == ""
    width = len("Bảng 2, dòng 19")
    assert problems_console([P_ERR, P_WARN, P_CFG]).splitlines() == [
        f"{'Mức độ':<9} {'Ô':<{width}}  Nội dung",
        f"{'Lỗi':<9} {'Nhiệm vụ!E7':<{width}}  Đơn vị 'X' chưa có.  [unit_unknown]",
        f"{'Cảnh báo':<9} {'Bảng 2, dòng 19':<{width}}  Dòng bị tách trang: đã nối.  [joined_split_row]",
        f"{'Lỗi':<9} {'kehoach.toml':<{width}}  Cấu hình sai.  [config_invalid]",
        "Tổng cộng: 2 lỗi, 1 cảnh báo.",
    ]


def test_json_is_to_dict() -> None:
    assert problems_json([P_ERR, P_WARN]) == [P_ERR.to_dict(), P_WARN.to_dict()]
    assert problems_json([P_WARN])[0]["file"] == "kh.docx"


def test_sheet_rows_are_the_problems_sheet(tmp_path: Path) -> None:
    md = read_master(build_broken_master(tmp_path / "hong.xlsx"))
    report = compute_validation(md, as_of=TODAY).result
    rows = problem_rows(report.problems, md.sheet_names)
    assert len(rows) == len(report.problems) and rows[0][0] == 1
    assert any(isinstance(r[3], Link) for r in rows)
    assert [r[9] for r in rows] == [p.slug for p in report.problems]
    assert all(r[7] == rules.PROBLEM_LABELS[r[9]] for r in rows)


def test_unit_error_report_matches_the_merge_text() -> None:
    conflict = Conflict("DDCI2024-003", "progress", "hai đơn vị báo khác nhau", master_value=0.5,
                        values=[{"file": "a.xlsx", "unit": "Thanh tra Sở", "period": "2024-06", "value": 0.8},
                                {"file": "b.xlsx", "unit": "Văn phòng Sở", "period": "2024-06", "value": 0.6}])
    other = Conflict("DDCI2024-004", "result", "khác", values=[{"file": "c.xlsx", "unit": "U", "value": "x"}])
    for status, problems, period in (("partial", [P_ERR, Problem("bad", "Tệp lạ.", WARNING)], "2024-06"),
                                     ("rejected", [Problem("file_kind", "Không phải tệp báo cáo.")], ""),
                                     ("processed", [], "not-a-period")):
        f = FileReport(file="a.xlsx", unit="Thanh tra Sở", period=period, status=status, problems=problems)
        assert unit_error_report(f.problems, file=f.file, unit=f.unit, period=f.period, status=f.status,
                                 conflicts=[conflict, other]) == problem_report_text_0_1(f, [conflict, other])


def test_import_outcome(tmp_path: Path) -> None:
    reg = sample_registry("langson_ddci_2024")
    master = create_master(tmp_path / "so.xlsx", units=reg["units"], leaders=reg["leaders"], meta=reg["meta"])
    parsed = parse_plan(build_sample_plan_docx(tmp_path / "kh62.docx"))
    moment = dt.datetime(2024, 3, 1, 9, 30)
    out = compute_import(read_master(master), parsed, as_of=moment, config=Config(), plan_code="DDCI2024")
    assert isinstance(out, Outcome) and out.as_of == moment and out.ok
    report = out.result
    assert out.problems is report.problems and out.figures["tasks_added"] == 14
    assert all(e.time == moment for e in out.changes.log)
    split = [p for p in out.problems if p.slug == "joined_split_row"]
    assert split and all(p.file == "kh62.docx" and p.sheet.startswith("Bảng") and p.row and p.severity == WARNING
                         for p in split)
    # the JSON keeps its shape, built from the problems
    assert [w["code"] for w in report.to_dict()["warnings"]] == [p.slug for p in out.problems]
    assert set(report.to_dict()["warnings"][0]) == {"message", "table", "row", "code", "place"}
    # the command line prints them through the console renderer
    res = CliRunner().invoke(cli, ["import", str(tmp_path / "kh62.docx"), "--into", str(master),
                                   "--plan-code", "DDCI2024", "--dry-run"])
    assert res.exit_code == 0, res.output
    assert "[joined_split_row]" in res.output and "Tổng cộng: 0 lỗi," in res.output


def test_briefing_and_report_outcomes(tmp_path: Path) -> None:
    md = read_master(make_master(tmp_path / "so.xlsx", with_derived=True))
    out = compute_briefing(md, period=PERIOD, as_of=AS_OF)
    assert isinstance(out, Outcome) and isinstance(out.result, BriefingResult) and out.as_of == AS_OF
    assert isinstance(out.result.summary, Summary) and out.figures["tasks"] == out.result.summary.total.total
    assert [p.message for p in out.problems] == out.result.warnings
    assert "summary" not in out.result.to_dict()
    rep = compute_report(md, period=PERIOD, as_of=AS_OF)
    assert isinstance(rep, Outcome) and rep.result["period"] == PERIOD and rep.figures["period"] == PERIOD


# The unit's report as the merge wrote it before it read Problem records (kept as the reference).
def _period_text(period: str) -> str:
    """"2024-05" → "tháng 05/2024", as the unit workbook shows it."""
    if not period:
        return "(không xác định)"
    try:
        return f"tháng {period_label(period)}"
    except (ValueError, TypeError, KehoachError):
        return period


def problem_report_text_0_1(f: FileReport, conflicts: Sequence[Conflict]) -> str:
    lines = [f"BÁO CÁO KIỂM TRA TỆP: {f.file}",
             f"Đơn vị: {f.unit or '(không xác định)'}    Kỳ báo cáo: {_period_text(f.period)}",
             "Kết quả: " + {"rejected": "KHÔNG TỔNG HỢP — tệp bị trả lại.",
                            "partial": "Đã tổng hợp một phần; các ô dưới đây chưa được ghi.",
                            "processed": "Đã tổng hợp."}[f.status], ""]
    for n, p in enumerate(f.problems, start=1):
        sev = "Lỗi" if p.severity == "error" else "Lưu ý"
        where = ", ".join(x for x in (f"sheet “{p.sheet}”" if p.sheet else "", f"ô {p.cell}" if p.cell else "") if x)
        lines.append(f"{n}. [{sev}] {where + ': ' if where else ''}{p.message}")
    for c in conflicts:
        if any(v["file"] == f.file for v in c.values):
            vals = "; ".join(f"{v['unit']} ({v['file']}): “{vn.value(v['value'])}”" for v in c.values)
            lines.append(f"- [Xung đột] Nhiệm vụ {c.task_id}, cột “{FIELD_LABELS.get(c.field, c.field)}”: {c.reason}. "
                         f"Sổ theo dõi: “{vn.value(c.master_value)}”; báo cáo: {vals}. Văn phòng Sở sẽ quyết định.")
    if any(p.cell for p in f.problems):
        hint = ("Cách khắc phục: sửa các ô nêu trên trong tệp được giao (không đổi tên sheet, cột, không đổi mã "
                "nhiệm vụ), lưu dạng .xlsx rồi gửi lại cho Văn phòng Sở.")
    else:
        hint = ("Cách khắc phục: mở đúng tệp .xlsx Văn phòng Sở đã giao cho đơn vị, điền báo cáo vào đó, "
                "lưu lại (Excel Workbook .xlsx) rồi gửi lại cho Văn phòng Sở.")
    lines += ["", hint]
    return "\n".join(lines) + "\n"
