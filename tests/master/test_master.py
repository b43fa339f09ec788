"""The master format: built by create_master, read back by independent readers and LibreOffice."""

from __future__ import annotations

import datetime as dt
import json
import zipfile

import openpyxl
import pytest
from click.testing import CliRunner

from kehoach_xl.cli.main import cli
from kehoach_xl.io.master_read import read_master
from kehoach_xl.model import schema
from kehoach_xl.model.master import task_records
from tests.helpers import make_sample_master, sample_tasks


@pytest.fixture()
def master(tmp_path):
    return make_sample_master(tmp_path / "so_theo_doi.xlsx")


def test_every_sheet_with_vietnamese_headers(master):
    wb = openpyxl.load_workbook(master)
    for sheet in schema.ALL_SHEETS:
        ws = wb[sheet.name]
        assert [c.value for c in ws[1][: len(sheet.columns)]] == [c.header for c in sheet.columns]
    assert schema.SUMMARY_SHEET_NAME in wb.sheetnames
    assert schema.PROBLEMS_SHEET_NAME in wb.sheetnames


def test_excel_conventions_in_tasks_sheet(master):
    wb = openpyxl.load_workbook(master)
    ws = wb[schema.TASKS.name]
    # A real Excel Table (ListObject) spanning header + tasks.
    assert list(ws.tables) == ["NhiemVu"]
    assert ws.tables["NhiemVu"].ref == f"A1:AC{1 + len(sample_tasks())}"
    assert ws.freeze_panes == "B2"
    assert ws.print_title_rows == "$1:$1"
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    # Two pages wide at a fixed scale, identity columns repeated, a break after column L.
    assert not ws.sheet_properties.pageSetUpPr.fitToPage and int(ws.page_setup.scale) == 77
    assert ws.print_title_cols == "$A:$D" and [b.id for b in ws.col_breaks.brk] == [12]
    assert "Trang &P/&N" in ws.oddFooter.center.text and "62/KH-STNMT" not in (ws.oddFooter.center.text or "")
    # Dropdowns for status (fed from the settings sheet), units and leaders (fed from their sheets).
    formulas = {dv.formula1 for dv in ws.data_validations.dataValidation}
    assert "'Cấu hình'!$C$2:$C$4" in formulas  # formula text is stored without '='
    assert "'Đơn vị'!$A$2:$A$500" in formulas
    assert "'Lãnh đạo'!$A$2:$A$100" in formulas
    # One colour rule per deadline state, bound to the state column.
    rules = [r for cf in ws.conditional_formatting for r in cf.rules]
    texts = {r.formula[0] for r in rules}
    for code in schema.STATE_COLOURS:
        assert f'$O2="{schema.DEADLINE_STATES[code]}"' in texts
    due = ws.cell(row=2, column=schema.TASKS.keys.index("due_date") + 1)
    assert due.number_format == "dd/mm/yyyy" and due.value == dt.datetime(2024, 6, 20)
    assert ws.cell(row=2, column=6).font.name == "Times New Roman"
    assert ws.cell(row=2, column=6).alignment.wrap_text


def test_read_master_round_trip(master):
    md = read_master(master)
    assert md.tasks.missing == []
    assert md.settings["plan_code"] == "DDCI2024"
    assert md.plan_year == 2024
    recs = task_records(md)
    assert [r["id"] for r in recs] == [t["id"] for t in sample_tasks()]
    first = recs[0]
    assert first["due_date"] == "2024-06-20" and first["completed_on"] == "2024-06-18"
    assert first["lead_units"] == ["Các phòng, đơn vị"]
    assert md.tasks.cell(2, "status") == "Nhiệm vụ!J4"


def test_columns_found_by_header_in_any_order(tmp_path, master):
    wb = openpyxl.load_workbook(master)
    ws = wb[schema.TASKS.name]
    ws.move_range("A1:A20", cols=40)  # staff moved the ID column to the far right
    ws.insert_cols(1)
    ws.cell(row=1, column=1, value="Cột của tôi")
    wb.save(tmp_path / "moved.xlsx")
    md = read_master(tmp_path / "moved.xlsx")
    assert md.tasks.missing == []
    assert [r["id"] for r in md.tasks.rows] == [t["id"] for t in sample_tasks()]


def test_cli_tasks_json_and_csv(master):
    runner = CliRunner()
    res = runner.invoke(cli, ["tasks", str(master), "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    required = {"id", "group", "criterion", "task", "output", "lead_units", "coordinating_units", "leaders",
                "deadline_text", "due_date", "deadline_kind", "status", "progress", "completed_on", "result",
                "difficulties", "proposals", "days_remaining", "working_days_remaining", "deadline_state"}
    assert required <= set(rows[0])
    assert rows[1]["progress"] == 60
    res = runner.invoke(cli, ["tasks", str(master), "--csv"])
    assert res.exit_code == 0
    assert res.output.splitlines()[0].startswith("id,group,stt,task")
    assert "DDCI2024-006" in res.output


def test_cli_exit_codes(tmp_path):
    runner = CliRunner()
    assert runner.invoke(cli, ["tasks", str(tmp_path / "khong_co.xlsx")]).exit_code == 2
    assert runner.invoke(cli, ["no-such-command"]).exit_code == 2
    (tmp_path / "hong.xlsx").write_bytes(b"PK\x03\x04 this is not a workbook")
    res = runner.invoke(cli, ["tasks", str(tmp_path / "hong.xlsx")])
    assert res.exit_code == 1 and "hong.xlsx" in res.output


def test_init_writes_config_and_refuses_overwrite(tmp_path):
    runner = CliRunner()
    target = tmp_path / "so.xlsx"
    assert runner.invoke(cli, ["init", str(target), "--sample", "langson_ddci_2024"]).exit_code == 0
    assert (tmp_path / "kehoach.toml").exists()
    from kehoach_xl.model.config import load_config

    assert load_config(target).master == "so.xlsx"
    res = runner.invoke(cli, ["init", str(target)])
    assert res.exit_code == 2 and "đã tồn tại" in res.output
    assert len(read_master(target).units.rows) == 9


def test_config_from_earlier_versions_with_outbox_still_loads(tmp_path):
    from kehoach_xl.model.config import load_config

    (tmp_path / "kehoach.toml").write_text('outbox = "gui_don_vi"\ninbox = "den"\n', encoding="utf-8")
    cfg = load_config(tmp_path)
    assert cfg.inbox == "den" and not hasattr(cfg, "outbox")


def test_package_is_a_valid_zip_with_table_part(master):
    with zipfile.ZipFile(master) as z:
        assert z.testzip() is None
        assert any(n.startswith("xl/tables/") for n in z.namelist())


def test_libreoffice_opens_master_and_shows_values(master, soffice_sheets):
    sheets = soffice_sheets(master)
    tasks = sheets[schema.TASKS.name]
    assert tasks[0][:3] == ["Mã nhiệm vụ", "Nhóm", "STT"]
    ids = [r[0] for r in tasks[1:] if r and r[0]]
    assert ids == [t["id"] for t in sample_tasks()]
    due_col = schema.TASKS.keys.index("due_date")
    assert tasks[1][due_col] == "20/06/2024"  # dd/mm/yyyy as LibreOffice shows it
    units = sheets[schema.UNITS.name]
    assert units[1][0] == "Văn phòng Sở"
    scores = sheets[schema.SCORES.name]
    assert ["DDCI", "Chỉ số 2: Chi phí thời gian", "2023", "6,39"] in [r[:4] for r in scores]  # decimal comma
    settings = sheets[schema.SETTINGS.name]
    assert ["Mã kế hoạch", "DDCI2024", "Hoàn thành"] == settings[2][:3] or settings[1][:2] == ["Mã kế hoạch", "DDCI2024"]


def test_master_prints_as_pdf(master, soffice_convert, artifacts_dir):
    import shutil
    import subprocess

    pdf = soffice_convert(master, "pdf", artifacts_dir)
    head = pdf.read_bytes()[:2048]
    assert head.startswith(b"%PDF")
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf),
                        str(artifacts_dir / "master_page")], check=True)
        assert list(artifacts_dir.glob("master_page*.png"))


def test_init_xlsm_builds_macro_enabled_master_with_buttons(tmp_path):
    import kehoach_xl

    path = kehoach_xl.init(tmp_path / "so_theo_doi.xlsm", sample="langson_ddci_2024")
    assert path.suffix == ".xlsm" and path.exists()
    assert "from kehoach_xl.excel.buttons import main" in (tmp_path / "so_theo_doi.py").read_text(encoding="utf-8")
    assert not list(tmp_path.glob(".*.xlsx"))  # the intermediate .xlsx is gone
    with zipfile.ZipFile(path) as z:
        assert "xl/vbaProject.bin" in z.namelist()
        assert b"macroEnabled" in z.read("[Content_Types].xml")
    md = read_master(path)
    assert len(md.units.rows) == 9 and md.tasks.missing == []
    from kehoach_xl.model.config import load_config

    assert load_config(path).master == "so_theo_doi.xlsm"


def test_rows_below_the_task_table_are_staff_notes_not_tasks(tmp_path, master):
    wb = openpyxl.load_workbook(master)
    ws = wb[schema.TASKS.name]
    ws.cell(row=20, column=1, value="Ghi chú: số liệu tổng hợp đến hết tháng")  # below the Table
    wb.save(tmp_path / "ghi_chu.xlsx")
    md = read_master(tmp_path / "ghi_chu.xlsx")
    assert [r["id"] for r in md.tasks.rows] == [t["id"] for t in sample_tasks()]
