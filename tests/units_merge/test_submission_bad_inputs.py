"""Every bad input the issue lists: a clear Vietnamese message with file/sheet/cell, and the master left correct."""

from __future__ import annotations

import datetime as dt
import unicodedata
import zipfile
from pathlib import Path

import pytest

from kehoach_xl.commands.merge import merge
from kehoach_xl.io.master_read import read_master
from kehoach_xl.model.config import Config
from kehoach_xl.rules.values import parse_any_date, parse_percent, parse_status
from tests.bad_inputs.make import AS_OF, copy, fill, forge_meta, rezip, setup_month

T2 = "DDCI2024-002"  # led by Văn phòng Đăng ký đất đai
T3 = "DDCI2024-003"  # led by Thanh tra Sở


@pytest.fixture()
def month(tmp_path: Path):
    return setup_month(tmp_path)


def _tasks(master: Path) -> list[dict]:
    return read_master(master).tasks.rows


def _run(master: Path, inbox: Path, config: Config | None = None):
    before = _tasks(master)
    rep = merge(master, inbox, as_of=AS_OF, config=config, now=dt.datetime(2024, 5, 31, 20))
    return before, rep


def _rejected(master: Path, inbox: Path, name: str, *words: str, config: Config | None = None) -> str:
    before, rep = _run(master, inbox, config)
    f = next(x for x in rep.to_dict()["files"] if x["file"] == name)
    assert f["status"] == "rejected", f
    msg = " ".join(p["message"] for p in f["problems"])
    for w in words:
        assert w.casefold() in msg.casefold(), msg
    assert _tasks(master) == before  # master left exactly as it was
    assert (inbox / "rejected" / name).exists()
    report = (inbox / "rejected" / (name + ".bao_cao_loi.txt")).read_text(encoding="utf-8")
    assert "KHÔNG TỔNG HỢP" in report and "Cách khắc phục" in report
    return msg


def test_corrupt_file(month):
    master, files, inbox = month
    (inbox / "2024-05_Thanh_tra_So.xlsx").write_bytes(b"PK\x03\x04" + b"\x00garbage" * 50)
    _rejected(master, inbox, "2024-05_Thanh_tra_So.xlsx", "hỏng")


def test_truncated_file(month):
    master, files, inbox = month
    data = files["Thanh_tra_So"].read_bytes()
    (inbox / "2024-05_Thanh_tra_So.xlsx").write_bytes(data[: len(data) // 2])
    _rejected(master, inbox, "2024-05_Thanh_tra_So.xlsx", "cắt cụt")


def test_password_protected(month):
    master, files, inbox = month
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500 + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 500
    (inbox / "2024-05_Thanh_tra_So.xlsx").write_bytes(ole)
    _rejected(master, inbox, "2024-05_Thanh_tra_So.xlsx", "mật khẩu")


def test_old_xls(month):
    master, files, inbox = month
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500 + "Workbook".encode("utf-16-le") + b"\x00" * 500
    (inbox / "bao_cao_thanh_tra.xls").write_bytes(ole)
    _rejected(master, inbox, "bao_cao_thanh_tra.xls", ".xls", "Excel 97")


def test_csv_renamed(month):
    master, files, inbox = month
    (inbox / "2024-05_Thanh_tra_So.xlsx").write_text("Mã nhiệm vụ,Tiến độ (%)\nDDCI2024-003,80\n", encoding="utf-8")
    _rejected(master, inbox, "2024-05_Thanh_tra_So.xlsx", "CSV")


def test_xlsm_with_macros(month):
    master, files, inbox = month
    rezip(files["Thanh_tra_So"], inbox / "2024-05_Thanh_tra_So.xlsm", add={"xl/vbaProject.bin": b"\x00VBA" * 100})
    _rejected(master, inbox, "2024-05_Thanh_tra_So.xlsm", "macro")


def test_external_links_reported_not_followed(month, tmp_path):
    master, files, inbox = month
    filled = fill(files["Thanh_tra_So"], tmp_path / "f.xlsx", {T3: {"progress": 70}})
    link = (b'<?xml version="1.0" encoding="UTF-8"?><externalLink xmlns="http://schemas.openxmlformats.org/'
            b'spreadsheetml/2006/main"><externalBook/></externalLink>')
    rezip(filled, inbox / "2024-05_Thanh_tra_So.xlsx", add={"xl/externalLinks/externalLink1.xml": link})
    _, rep = _run(master, inbox)
    f = rep.to_dict()["files"][0]
    assert f["status"] == "processed"
    assert any("liên kết" in p["message"] for p in f["problems"])
    assert _tasks(master)[2]["progress"] == 70


def test_zip_bomb_ratio(month):
    master, files, inbox = month
    rezip(files["Thanh_tra_So"], inbox / "2024-05_Thanh_tra_So.xlsx", add={"xl/media/image1.png": b"\x00" * (8 << 20)})
    _rejected(master, inbox, "2024-05_Thanh_tra_So.xlsx", "bom nén")


def test_zip_bomb_total_size(month):
    master, files, inbox = month
    cfg = Config()
    cfg.limits.max_uncompressed_mb = 1
    rezip(files["Thanh_tra_So"], inbox / "2024-05_Thanh_tra_So.xlsx",
          add={"xl/media/image1.png": bytes(range(256)) * 8000}, compression=zipfile.ZIP_STORED)
    _rejected(master, inbox, "2024-05_Thanh_tra_So.xlsx", "bom nén", config=cfg)


def test_xml_bomb_entities_never_expanded(month):
    master, files, inbox = month
    with zipfile.ZipFile(files["Thanh_tra_So"]) as z:
        sheet = z.read("xl/worksheets/sheet1.xml")
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
            + (sheet.split(b"?>", 1)[1] if b"?>" in sheet else sheet))
    rezip(files["Thanh_tra_So"], inbox / "2024-05_Thanh_tra_So.xlsx", replace={"xl/worksheets/sheet1.xml": bomb})
    _rejected(master, inbox, "2024-05_Thanh_tra_So.xlsx", "DOCTYPE")


def test_40mb_cell(month, tmp_path):
    """A 40 MB shared string that is not a zip bomb (low ratio) must reach the overlong-cell check."""
    import os
    import re

    master, files, inbox = month
    filled = fill(files["Thanh_tra_So"], tmp_path / "f.xlsx", {T3: {"result": "LONGMARKER"}})
    with zipfile.ZipFile(filled) as z:
        sheet = z.read("xl/worksheets/sheet1.xml")
    m = re.search(rb'<c r="([A-Z]+\d+)"[^>]*t="inlineStr"[^>]*><is><t>LONGMARKER</t></is></c>', sheet)
    assert m is not None
    ref = m.group(1).decode()
    # The cell now points at shared string 0, which is 40 MB of random text over a 4-letter alphabet:
    # ~4:1 compression, far under the 200:1 bomb limit, so only the overlong-cell check can refuse it.
    text = os.urandom(40 << 20).translate(bytes(b"ACGT"[i % 4] for i in range(256)))
    sst = (b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
           b'2006/main" count="1" uniqueCount="1"><si><t>' + text + b"</t></si></sst>")
    rezip(filled, inbox / "2024-05_Thanh_tra_So.xlsx",
          replace={"xl/worksheets/sheet1.xml": sheet.replace(m.group(0), f'<c r="{ref}" t="s"><v>0</v></c>'.encode())},
          add={"xl/sharedStrings.xml": sst})
    msg = _rejected(master, inbox, "2024-05_Thanh_tra_So.xlsx", "41.943.040 ký tự", "vượt giới hạn 32.767")
    assert "bom nén" not in msg
    # The note beside the refused file names the sheet and the cell.
    note = (inbox / "rejected" / "2024-05_Thanh_tra_So.xlsx.bao_cao_loi.txt").read_text(encoding="utf-8")
    assert f"sheet “Báo cáo”, ô {ref}:" in note and ref.startswith("K")


def test_overlong_cell_names_the_cell(month, tmp_path):
    master, files, inbox = month
    filled = fill(files["Thanh_tra_So"], tmp_path / "f.xlsx", {T3: {"result": "LONGMARKER"}})
    with zipfile.ZipFile(filled) as z:
        sheet = z.read("xl/worksheets/sheet1.xml")
    assert b"LONGMARKER" in sheet  # openpyxl writes strings inline; it would cut 40 000 characters itself
    rezip(filled, inbox / "2024-05_Thanh_tra_So.xlsx",
          replace={"xl/worksheets/sheet1.xml": sheet.replace(b"LONGMARKER", "Ừ".encode() * 40_000)})
    _, rep = _run(master, inbox)
    p = rep.to_dict()["files"][0]["problems"][0]
    assert "40.000 ký tự" in p["message"] and p["sheet"] == "Báo cáo" and p["cell"].startswith("K")


def test_formula_looking_text_stored_as_text(month):
    master, files, inbox = month
    fill(files["Thanh_tra_So"], inbox / "2024-05_Thanh_tra_So.xlsx",
         {T3: {"result": "=SUM(A1:A9) là số hồ sơ", "difficulties": "+84 912 345 678", "proposals": "@Văn phòng: -gấp"}})
    _, rep = _run(master, inbox)
    row = _tasks(master)[2]
    assert row["result"] == "=SUM(A1:A9) là số hồ sơ"
    assert row["difficulties"] == "+84 912 345 678"
    assert row["proposals"] == "@Văn phòng: -gấp"
    import openpyxl

    ws = openpyxl.load_workbook(master)["Nhiệm vụ"]
    col = [c.value for c in ws[1]].index("Kết quả thực hiện") + 1
    assert ws.cell(4, col).data_type == "s"  # text, not a formula


def test_real_formula_is_refused_not_evaluated(month):
    master, files, inbox = month
    fill(files["Thanh_tra_So"], inbox / "2024-05_Thanh_tra_So.xlsx", {T3: {"progress": "=40+40"}}, as_text=False)
    _, rep = _run(master, inbox)
    f = rep.to_dict()["files"][0]
    assert f["status"] == "partial"
    assert any("công thức" in p["message"] and p["cell"].startswith("I") for p in f["problems"])
    assert _tasks(master)[2]["progress"] == 100  # unchanged


def test_renamed_sheet_still_read_with_warning(month):
    master, files, inbox = month

    def rename(wb, cols):
        wb["Báo cáo"].title = "BC thang 5"

    fill(files["Thanh_tra_So"], inbox / "2024-05_Thanh_tra_So.xlsx", {T3: {"progress": 95}}, edit=rename)
    _, rep = _run(master, inbox)
    f = rep.to_dict()["files"][0]
    assert any("đổi tên" in p["message"] for p in f["problems"])
    assert _tasks(master)[2]["progress"] == 95


def test_renamed_column_reported_others_taken(month):
    master, files, inbox = month

    def rename(wb, cols):
        wb["Báo cáo"].cell(4, cols["progress"]).value = "Phần trăm"

    fill(files["Thanh_tra_So"], inbox / "2024-05_Thanh_tra_So.xlsx", {T3: {"progress": 95, "result": "Đã xong"}},
         edit=rename)
    _, rep = _run(master, inbox)
    f = rep.to_dict()["files"][0]
    assert any("Tiến độ (%)" in p["message"] for p in f["problems"])
    row = _tasks(master)[2]
    assert row["progress"] == 100 and row["result"] == "Đã xong"


def test_missing_id_column_rejected(month):
    master, files, inbox = month

    def rename(wb, cols):
        wb["Báo cáo"].cell(4, cols["id"]).value = "Số hiệu"

    fill(files["Thanh_tra_So"], inbox / "2024-05_Thanh_tra_So.xlsx", {T3: {"progress": 95}}, edit=rename)
    _rejected(master, inbox, "2024-05_Thanh_tra_So.xlsx", "Mã nhiệm vụ")


def test_reordered_columns(month):
    master, files, inbox = month

    def swap(wb, cols):
        ws = wb["Báo cáo"]
        a, b = cols["progress"], cols["result"]
        for r in range(4, ws.max_row + 1):
            x, y = ws.cell(r, a), ws.cell(r, b)
            x.value, y.value = y.value, x.value

    fill(files["Thanh_tra_So"], inbox / "2024-05_Thanh_tra_So.xlsx", {T3: {"progress": 65, "result": "Kết quả mới"}},
         edit=swap)
    _run(master, inbox)
    row = _tasks(master)[2]
    assert row["progress"] == 65 and row["result"] == "Kết quả mới"


def test_merged_cells_warned(month):
    master, files, inbox = month

    def merge_cells(wb, cols):
        from openpyxl.utils import get_column_letter

        L = get_column_letter(cols["result"])
        wb["Báo cáo"].merge_cells(f"{L}5:{L}6")

    fill(files["Thanh_tra_So"], inbox / "2024-05_Thanh_tra_So.xlsx", {"DDCI2024-001": {"result": "Phần chung"}},
         edit=merge_cells)
    _, rep = _run(master, inbox)
    f = rep.to_dict()["files"][0]
    assert any("Ô gộp" in p["message"] for p in f["problems"])


def test_unknown_and_foreign_task_ids(month):
    master, files, inbox = month

    def extra(wb, cols):
        ws = wb["Báo cáo"]
        r = ws.max_row + 1
        ws.cell(r, cols["id"]).value = "DDCI2024-999"
        ws.cell(r, cols["progress"]).value = 10
        ws.cell(r + 1, cols["id"]).value = T2  # another unit's task
        ws.cell(r + 1, cols["progress"]).value = 10

    fill(files["Thanh_tra_So"], inbox / "2024-05_Thanh_tra_So.xlsx", {T3: {"progress": 90}}, edit=extra)
    _, rep = _run(master, inbox)
    f = rep.to_dict()["files"][0]
    msgs = [p["message"] for p in f["problems"]]
    assert any("DDCI2024-999" in m and "không có" in m for m in msgs)
    assert any(T2 in m and "không giao" in m for m in msgs)
    rows = _tasks(master)
    assert rows[1]["progress"] == 60 and rows[2]["progress"] == 90


def test_forged_signature(month, tmp_path):
    master, files, inbox = month
    filled = fill(files["Thanh_tra_So"], tmp_path / "f.xlsx", {T3: {"progress": 5}})
    forge_meta(filled, inbox / "2024-05_Van_phong_Dang_ky_dat_dai.xlsx", unit="Văn phòng Đăng ký đất đai")
    _rejected(master, inbox, "2024-05_Van_phong_Dang_ky_dat_dai.xlsx", "Chữ ký")


def test_missing_signature(month, tmp_path):
    master, files, inbox = month

    def drop(wb, cols):
        del wb["_kehoach_meta"]

    fill(files["Thanh_tra_So"], inbox / "2024-05_Thanh_tra_So.xlsx", {T3: {"progress": 5}}, edit=drop)
    _rejected(master, inbox, "2024-05_Thanh_tra_So.xlsx", "chữ ký")


def test_period_in_future(month):
    master, files, inbox = month
    copy(files["Thanh_tra_So"], inbox / "2024-05_Thanh_tra_So.xlsx")
    before = _tasks(master)
    rep = merge(master, inbox, as_of=dt.date(2024, 4, 30))
    f = rep.to_dict()["files"][0]
    assert f["status"] == "rejected" and "tương lai" in f["problems"][0]["message"]
    assert _tasks(master) == before


@pytest.mark.parametrize("raw,want", [("80%", 80), ("80 %", 80), ("0,8", 80), ("0.8", 80), ("tám mươi", 80),
                                      ("Tám mươi lăm phần trăm", 85), ("mười", 10), ("một trăm", 100), (100, 100),
                                      ("62,5", 62.5), ("đạt 90%", 90)])
def test_percent_forms(raw, want):
    assert parse_percent(raw) == want


@pytest.mark.parametrize("raw,fmt,want", [(1, "0%", 100), (0.8, "0%", 80), (0.625, "0.0%", 62.5),
                                          (1, "0", 1), (1, "", 1), (0.8, "General", 0.8), (80, "0", 80)])
def test_percent_number_format(raw, fmt, want):
    """A typed "100%" is stored as 1 with a "0%" format; a plain number is taken as typed, never guessed."""
    assert parse_percent(raw, fmt) == want


def test_hundred_percent_typed_in_excel_is_read_as_100(month):
    master, files, inbox = month

    def as_percent(wb, cols):
        ws = wb["Báo cáo"]
        for r in range(5, ws.max_row + 1):
            if ws.cell(r, cols["id"]).value == T3:
                ws.cell(r, cols["progress"]).value = 1
                ws.cell(r, cols["progress"]).number_format = "0%"  # what Excel does when "100%" is typed

    fill(files["Thanh_tra_So"], inbox / "2024-05_Thanh_tra_So.xlsx", {}, edit=as_percent)
    _run(master, inbox)
    assert _tasks(master)[2]["progress"] == 100


@pytest.mark.parametrize("raw", ["tám", "120", "-5", "xong", "80 phần"])
def test_percent_refused(raw):
    if raw == "tám":
        assert parse_percent(raw) == 8
        return
    with pytest.raises(ValueError):
        parse_percent(raw)


@pytest.mark.parametrize("raw", ["5/6/2024", "05/06/2024", "5-6-2024", "5.6.2024", "2024-06-05", "5/6/24", "5/6",
                                 "ngày 5 tháng 6 năm 2024", "5 tháng 6", "Ngày 05/06/2024", dt.datetime(2024, 6, 5),
                                 dt.date(2024, 6, 5), 45448, "05 / 06 / 2024"])
def test_date_forms(raw):
    assert parse_any_date(raw, default_year=2024) == dt.date(2024, 6, 5)


@pytest.mark.parametrize("raw", ["31/02/2024", "32/1/2024", "hôm qua", "13/13/2024"])
def test_date_refused(raw):
    with pytest.raises(ValueError):
        parse_any_date(raw, default_year=2024)


@pytest.mark.parametrize("raw,want", [("hoan thanh", "Hoàn thành"), ("ĐANG THỰC HIỆN", "Đang thực hiện"),
                                      ("Chưa  thực hiện ", "Chưa thực hiện"), ("xong", "Hoàn thành")])
def test_status_forms(raw, want):
    assert parse_status(raw) == want


def test_bad_values_named_by_cell(month):
    master, files, inbox = month
    fill(files["Thanh_tra_So"], inbox / "2024-05_Thanh_tra_So.xlsx",
         {T3: {"progress": "gần xong", "completed_on": "31/02/2024", "status": "tạm dừng"}})
    _, rep = _run(master, inbox)
    f = rep.to_dict()["files"][0]
    cells = {p["cell"][:1] for p in f["problems"] if p["severity"] == "error"}
    assert cells == {"H", "I", "J"}  # status, progress, completion date columns of the unit sheet
    assert all(p["sheet"] == "Báo cáo" for p in f["problems"])
    assert (inbox / "processed" / "2024-05_Thanh_tra_So.xlsx.bao_cao_loi.txt").exists()


def test_nfd_and_zero_width_text(month):
    master, files, inbox = month
    nfd = unicodedata.normalize("NFD", "Đã  hoàn\u200b thiện quy chế")
    fill(files["Thanh_tra_So"], inbox / "2024-05_Thanh_tra_So.xlsx", {T3: {"result": nfd, "status": unicodedata.normalize("NFD", "Hoàn thành")}})
    _run(master, inbox)
    row = _tasks(master)[2]
    assert row["result"] == "Đã hoàn thiện quy chế"
    assert unicodedata.is_normalized("NFC", row["result"])
