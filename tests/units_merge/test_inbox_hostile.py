"""A hostile inbox: real files in a real inbox, good ones merged alongside the bad ones in one merge call.

Nothing in an inbox can stop the others: every bad file is refused (or left) on its own, with a
Vietnamese reason, while the good file beside it is merged and filed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from kehoach_xl.commands import merge as merge_cmd
from kehoach_xl.commands.merge import merge
from kehoach_xl.io.master_read import read_master
from kehoach_xl.model.config import Config, load_config
from kehoach_xl.model.unitbook import META_SHEET
from tests.bad_inputs.make import AS_OF, fill, rezip, setup_month

T2 = "DDCI2024-002"  # led by Văn phòng Đăng ký đất đai
T3 = "DDCI2024-003"  # led by Thanh tra Sở
T4 = "DDCI2024-004"  # led by Văn phòng Sở
NOW = dt.datetime(2024, 5, 31, 20)
ROOT = Path(__file__).resolve().parents[2]
OLD = time.time() - 3600


@pytest.fixture()
def month(tmp_path: Path):
    return setup_month(tmp_path)


def _row(master: Path, tid: str) -> dict:
    return next(r for r in read_master(master).tasks.rows if r["id"] == tid)


def _good(files: dict[str, Path], inbox: Path, progress: int = 70) -> Path:
    """A good report of Thanh tra Sở (task T3), merged alongside the bad files."""
    return fill(files["Thanh_tra_So"], inbox / "2024-05_Thanh_tra_So.xlsx", {T3: {"progress": progress}})


def _files(rep) -> dict[str, dict]:
    return {f["file"]: f for f in rep.to_dict()["files"]}


def _messages(f: dict) -> str:
    return " ".join(p["message"] for p in f["problems"])


def _good_merged(master: Path, inbox: Path, rep, progress: int = 70) -> None:
    f = _files(rep)["2024-05_Thanh_tra_So.xlsx"]
    assert f["status"] == "processed", f
    assert _row(master, T3)["progress"] == progress
    assert (inbox / "processed" / "2024-05_Thanh_tra_So.xlsx").exists()


def test_deep_json_in_signature_sheet_refuses_that_file_only(month, tmp_path):
    master, files, inbox = month
    _good(files, inbox)
    wb = load_workbook(files["Van_phong_Dang_ky_dat_dai"])
    ws = wb[META_SHEET]
    for row in ws.iter_rows(min_row=1, max_row=ws.max_row):
        if row[0].value == "header":
            row[1].value = "[" * 20_000  # RecursionError in json.loads
    name = "2024-05_Van_phong_Dang_ky_dat_dai.xlsx"
    wb.save(inbox / name)
    rep = merge(master, inbox, as_of=AS_OF, now=NOW)
    f = _files(rep)[name]
    assert f["status"] == "rejected"
    assert "dữ liệu ẩn" in _messages(f)
    assert (inbox / "rejected" / name).exists()
    assert "KHÔNG TỔNG HỢP" in (inbox / "rejected" / (name + ".bao_cao_loi.txt")).read_text(encoding="utf-8")
    _good_merged(master, inbox, rep)


def test_any_exception_or_timeout_refuses_one_file_and_the_merge_goes_on(month, monkeypatch):
    master, files, inbox = month
    _good(files, inbox)
    fill(files["Van_phong_Dang_ky_dat_dai"], inbox / "2024-05_Van_phong_Dang_ky_dat_dai.xlsx", {T2: {"progress": 40}})
    (inbox / "2024-05_cham.xlsx").write_bytes(b"PK\x03\x04 slow")
    for p in inbox.iterdir():
        os.utime(p, (OLD, OLD))
    real = merge_cmd.read_submission

    def hostile(path, *a, **kw):
        if "Dang_ky" in str(kw.get("name") or path):
            raise OSError(5, "Input/output error")
        if "cham" in str(kw.get("name") or path):
            time.sleep(30)  # interrupted by the per-file time limit
        return real(path, *a, **kw)

    monkeypatch.setattr(merge_cmd, "read_submission", hostile)
    cfg = load_config(master)
    cfg.limits.file_timeout_seconds = 0.5
    t0 = time.monotonic()
    rep = merge(master, inbox, as_of=AS_OF, now=NOW, config=cfg)
    assert time.monotonic() - t0 < 20
    got = _files(rep)
    assert got["2024-05_Van_phong_Dang_ky_dat_dai.xlsx"]["status"] == "rejected"
    assert "Không đọc được tệp" in _messages(got["2024-05_Van_phong_Dang_ky_dat_dai.xlsx"])
    assert got["2024-05_cham.xlsx"]["status"] == "rejected"
    assert "giây" in _messages(got["2024-05_cham.xlsx"])
    assert (inbox / "rejected" / "2024-05_cham.xlsx.bao_cao_loi.txt").exists()
    _good_merged(master, inbox, rep)


def test_names_not_utf8_or_250_characters_are_filed_safely(month, tmp_path):
    master, files, inbox = month
    _good(files, inbox)
    # A good report under a name that is not valid UTF-8: merged, its name written in the master's log.
    bad = os.fsencode(inbox) + b"/2024-05_Van_phong_Dang_ky_dat_dai_\xff\xfe\x01.xlsx"
    filled = fill(files["Van_phong_Dang_ky_dat_dai"], tmp_path / "vpdk.xlsx", {T2: {"progress": 40}})
    with open(bad, "wb") as fh:
        fh.write(filled.read_bytes())
    # A refused file under a 250-character name: its report (name + ".bao_cao_loi.txt") must still fit.
    long_name = "2024-05_Phong_Ke_hoach_Tai_chinh_" + "bao_cao_thang_nam" * 12 + ".xlsx"
    long_name = long_name[:-5] + "x" * (250 - len(long_name)) + ".xlsx"
    assert len(long_name) == 250
    (inbox / long_name).write_bytes(b"PK\x03\x04 not a workbook")
    # A good report under a 250-character name: merged, the name in the master's log, filed short.
    long_good = "2024-05_Van_phong_So_" + "bao_cao_tien_do_" * 14
    long_good += "y" * (245 - len(long_good)) + ".xlsx"
    assert len(long_good) == 250
    fill(files["Van_phong_So"], inbox / long_good, {T4: {"progress": 55}})
    rep = merge(master, inbox, as_of=AS_OF, now=NOW)
    assert rep.written
    got = _files(rep)
    shown = next(n for n in got if n.startswith("2024-05_Van_phong_Dang_ky_dat_dai_"))
    assert shown.encode("utf-8")  # what people see is valid text
    assert got[shown]["status"] == "processed"
    assert _row(master, T2)["progress"] == 40  # the master write (with its verification) went through
    assert got[long_name]["status"] == "rejected"
    assert got[long_good]["status"] == "processed" and _row(master, T4)["progress"] == 55
    _good_merged(master, inbox, rep)
    filed = [p for d in ("processed", "rejected") for p in os.listdir(os.fsencode(inbox / d))]
    assert all(len(p) <= 120 + len(b".bao_cao_loi.txt") for p in filed), filed
    assert all(p.decode("utf-8") for p in filed)  # filed names are valid UTF-8
    assert sorted(os.listdir(os.fsencode(inbox))) == [b"processed", b"rejected"]  # everything filed
    report = next((inbox / "rejected").glob("*.bao_cao_loi.txt")).read_text(encoding="utf-8")
    assert long_name in report  # the original name is kept in the report
    wb = load_workbook(master, read_only=True)
    logged = " ".join(str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v)
    assert shown in logged and long_good in logged  # … and in the master's log


def _cell_bomb(dest: Path, src: Path, cells: int = 30_000_000, per_row: int = 1000) -> Path:
    """A valid workbook whose report sheet holds ``cells`` empty ``<c/>``: about 120 MB of XML,
    deflated to a few hundred KB (a little noise per row keeps the ratio under the zip-bomb limit)."""
    rnd = random.Random(7)
    row_cells = b"<c/>" * per_row
    parts = [b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.'
             b'openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:B2"/><sheetData>']
    for r in range(1, cells // per_row + 1):
        noise = rnd.getrandbits(128).to_bytes(16, "big").hex().encode()
        parts.append(b'<row r="%d"><!--%s-->' % (r, noise) + row_cells + b"</row>")
    parts.append(b"</sheetData></worksheet>")
    return rezip(src, dest, replace={"xl/worksheets/sheet1.xml": b"".join(parts)})


_BOMB_RUN = textwrap.dedent("""
    import datetime as dt, json, resource, sys, time
    from pathlib import Path
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))  # the old reader dies here, not the machine
    from kehoach_xl.commands.merge import merge
    master, inbox = Path(sys.argv[1]), Path(sys.argv[2])
    t0 = time.monotonic()
    rep = merge(master, inbox, as_of=dt.date(2024, 5, 31), now=dt.datetime(2024, 5, 31, 20))
    took = time.monotonic() - t0
    peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    print(json.dumps({"seconds": took, "peak_kb": peak, "files": rep.to_dict()["files"]}))
""")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="peak memory read from /proc")
def test_cell_bomb_is_refused_quickly_with_bounded_memory(month, tmp_path):
    master, files, inbox = month
    _good(files, inbox)
    bomb = _cell_bomb(inbox / "2024-05_Van_phong_Dang_ky_dat_dai.xlsx", files["Van_phong_Dang_ky_dat_dai"])
    size = bomb.stat().st_size
    with zipfile.ZipFile(bomb) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
    assert size < 1 << 20 and info.file_size > 100 << 20  # under 1 MB on disk, 120 MB of XML
    assert info.file_size / info.compress_size < Config().limits.max_ratio  # passes the ratio check
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", _BOMB_RUN, str(master), str(inbox)], capture_output=True,
                          text=True, timeout=300, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"cell bomb: {size} bytes, {out['seconds']:.2f} s, peak RSS {out['peak_kb'] // 1024} MB")
    got = {f["file"]: f for f in out["files"]}
    f = got["2024-05_Van_phong_Dang_ky_dat_dai.xlsx"]
    assert f["status"] == "rejected" and "ô" in _messages(f), f
    assert out["peak_kb"] < 300 * 1024
    assert out["seconds"] < 30
    _good_merged(master, inbox, _Rep(out))


class _Rep:
    def __init__(self, out: dict) -> None:
        self.out = out

    def to_dict(self) -> dict:
        return {"files": self.out["files"]}


def test_file_being_written_is_left_for_the_next_run(month):
    master, files, inbox = month
    _good(files, inbox)
    os.utime(inbox / "2024-05_Thanh_tra_So.xlsx", (OLD, OLD))
    fresh = fill(files["Van_phong_Dang_ky_dat_dai"], inbox / "2024-05_Van_phong_Dang_ky_dat_dai.xlsx",
                 {T2: {"progress": 40}})
    cfg = load_config(master)
    cfg.limits.inbox_settle_seconds = 60
    rep = merge(master, inbox, as_of=AS_OF, now=NOW, config=cfg)
    f = _files(rep)[fresh.name]
    assert f["status"] == "left" and "lần chạy sau" in _messages(f)
    assert fresh.exists() and _row(master, T2)["progress"] != 40
    _good_merged(master, inbox, rep)
    os.utime(fresh, (OLD, OLD))  # settled: the next run takes it
    rep = merge(master, inbox, as_of=AS_OF, now=NOW, config=cfg)
    assert _files(rep)[fresh.name]["status"] == "processed" and _row(master, T2)["progress"] == 40


def test_symlink_is_not_followed_and_left_in_place(month, tmp_path):
    master, files, inbox = month
    _good(files, inbox)
    target = fill(files["Van_phong_Dang_ky_dat_dai"], tmp_path / "ngoai" / "vpdk.xlsx", {T2: {"progress": 40}})
    link = inbox / "2024-05_Van_phong_Dang_ky_dat_dai.xlsx"
    link.symlink_to(target)
    rep = merge(master, inbox, as_of=AS_OF, now=NOW)
    f = _files(rep)[link.name]
    assert f["status"] == "left" and "lối tắt" in _messages(f)
    assert link.is_symlink() and target.exists()
    assert _row(master, T2)["progress"] != 40
    _good_merged(master, inbox, rep)


def test_resend_during_merge_is_not_lost_and_a_repeat_is_a_duplicate(month, tmp_path, monkeypatch):
    master, files, inbox = month
    good = _good(files, inbox)
    newer = fill(files["Thanh_tra_So"], tmp_path / "newer.xlsx", {T3: {"progress": 95}}).read_bytes()
    real = merge_cmd.read_submission

    def read_then_resend(path, *a, **kw):
        sub = real(path, *a, **kw)
        Path(path).write_bytes(newer)  # the unit sends again while the merge runs
        return sub

    monkeypatch.setattr(merge_cmd, "read_submission", read_then_resend)
    rep = merge(master, inbox, as_of=AS_OF, now=NOW)
    f = _files(rep)[good.name]
    assert _row(master, T3)["progress"] == 70  # what was read was merged
    assert good.read_bytes() == newer and not (inbox / "processed" / good.name).exists()  # the re-send stays
    assert "lần chạy sau" in _messages(f)
    monkeypatch.setattr(merge_cmd, "read_submission", real)
    rep = merge(master, inbox, as_of=AS_OF, now=NOW)
    assert _files(rep)[good.name]["status"] == "processed" and _row(master, T3)["progress"] == 95
    # The same bytes sent again: filed as a duplicate, nothing changes.
    history = len(read_master(master).history.rows)
    before = master.read_bytes()
    (inbox / "gui_lai.xlsx").write_bytes(newer)
    rep = merge(master, inbox, as_of=AS_OF, now=NOW)
    f = _files(rep)["gui_lai.xlsx"]
    assert f["kind"] == "duplicate" and f["status"] == "processed" and not f["changes"]
    assert "giống hệt" in _messages(f) and "2024-05_Thanh_tra_So.xlsx" in _messages(f)
    assert master.read_bytes() == before and len(read_master(master).history.rows) == history
    assert not rep.written and (inbox / "processed" / "gui_lai.xlsx").exists()


def test_unsigned_master_copy_only_from_configured_units(month):
    master, files, inbox = month
    _good(files, inbox)
    wb = load_workbook(master)
    ws = wb["Nhiệm vụ"]
    hdr = [c.value for c in ws[1]]
    ws.cell(3, hdr.index("Tiến độ (%)") + 1).value = 85  # T2, own task of VPĐKĐĐ
    name = "So_theo_doi_VP_DKDD_2024-05.xlsx"
    wb.save(inbox / name)
    rep = merge(master, inbox, as_of=AS_OF, now=NOW)
    f = _files(rep)[name]
    assert f["status"] == "rejected" and f["problems"][0]["slug"] == "master_copy_not_allowed"
    assert "tệp báo cáo Văn phòng Sở đã giao" in _messages(f)
    assert _row(master, T2)["progress"] != 85
    _good_merged(master, inbox, rep)


def test_macro_part_under_another_name_is_refused(month):
    master, files, inbox = month
    _good(files, inbox)
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100 + "VBA".encode("utf-16-le") + b"\x00" * 400
    with zipfile.ZipFile(files["Van_phong_Dang_ky_dat_dai"]) as z:
        ct = z.read("[Content_Types].xml")
    ct = ct.replace(b"</Types>", b'<Override PartName="/xl/ma.bin" ContentType="application/vnd.ms-office.'
                                 b'vbaProject"/></Types>')
    name = "2024-05_Van_phong_Dang_ky_dat_dai.xlsx"
    rezip(files["Van_phong_Dang_ky_dat_dai"], inbox / name, add={"xl/ma.bin": ole},
          replace={"[Content_Types].xml": ct})
    rep = merge(master, inbox, as_of=AS_OF, now=NOW)
    f = _files(rep)[name]
    assert f["status"] == "rejected" and "macro" in _messages(f)
    _good_merged(master, inbox, rep)


def test_nightly_log_says_what_happened_to_every_file_when_a_step_fails(month, tmp_path, monkeypatch):
    from kehoach_xl.commands.nightly import nightly
    from kehoach_xl.rules import refresh

    master, files, inbox = month
    (tmp_path / "kehoach.toml").write_text('master = "so_theo_doi.xlsx"\n', encoding="utf-8")
    _good(files, inbox)
    wb = load_workbook(files["Van_phong_Dang_ky_dat_dai"])
    for row in wb[META_SHEET].iter_rows():
        if row[0].value == "header":
            row[1].value = "[" * 20_000
    wb.save(inbox / "2024-05_Van_phong_Dang_ky_dat_dai.xlsx")
    with open(os.fsencode(inbox) + b"/bao_cao_\xff.xlsx", "wb") as fh:
        fh.write(b"PK\x03\x04 garbage")

    def broken(*a, **kw):
        raise RuntimeError("bước cập nhật hỏng")

    monkeypatch.setattr(refresh, "compute_refresh", broken)
    rep = nightly(tmp_path / "kehoach.toml", as_of=AS_OF, progress=False)
    assert not rep.ok and {s.step: s.status for s in rep.steps}["refresh"] == "failed"
    text = open(rep.log_file, encoding="utf-8").read()
    for name in ("2024-05_Thanh_tra_So.xlsx", "2024-05_Van_phong_Dang_ky_dat_dai.xlsx", "bao_cao_\ufffd.xlsx"):
        line = next((ln for ln in text.splitlines() if "nightly: tệp " in ln and name in ln), None)
        assert line is not None and "để lại trong thư mục nhận" in line, (name, text)
    assert "\\xff" in text  # the original (not UTF-8) name, exactly, in the log
    assert (inbox / "2024-05_Thanh_tra_So.xlsx").exists()  # nothing written, nothing filed


def test_file_still_growing_while_read_is_left(month, monkeypatch):
    from kehoach_xl.io import inbox as inbox_io

    master, files, inbox = month
    _good(files, inbox)
    growing = fill(files["Van_phong_Dang_ky_dat_dai"], inbox / "2024-05_Van_phong_Dang_ky_dat_dai.xlsx",
                   {T2: {"progress": 40}})
    real = inbox_io.read_snapshot

    def read_while_copying(entry, max_bytes):
        data = real(entry, max_bytes)
        if entry.path == growing:
            with open(growing, "ab") as fh:
                fh.write(b"\x00" * 1000)  # the copy goes on
        return data

    monkeypatch.setattr(inbox_io, "read_snapshot", read_while_copying)
    rep = merge(master, inbox, as_of=AS_OF, now=NOW)
    f = _files(rep)[growing.name]
    assert f["status"] == "left" and "đang thay đổi" in _messages(f)
    assert growing.exists() and _row(master, T2)["progress"] != 40
    _good_merged(master, inbox, rep)
