"""Guard rails: every command knows what file it was given, speaks Vietnamese when misused,
reads dates and periods one way everywhere, init makes the working folders, and every
workbook the program writes opens in Excel without a repair prompt."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from kehoach_xl.cli.main import cli
from kehoach_xl.errors import DataError, SetupError
from kehoach_xl.io.file_kind import OLE_MAGIC, FileKind, detect_kind, require_master
from tests.cli.conftest import MASTER_NAME


def _copy_master(demo: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(demo / "kehoach.toml", folder / "kehoach.toml")
    return Path(shutil.copy(demo / MASTER_NAME, folder / MASTER_NAME))


# --- 4. no leading "=" in any formula the program writes ----------------------------------------

LEADING_EQUALS = re.compile(rb"<(?:\w+:)?(formula1|formula2|formula|f|definedName)\b[^>]*>\s*=")


def _formulas_with_equals(path: Path) -> list[str]:
    bad = []
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.endswith((".xml", ".rels")):
                bad += [f"{name}: {m.group(0)[:80]!r}" for m in LEADING_EQUALS.finditer(z.read(name))]
    return bad


def test_no_formula_written_with_a_leading_equals_sign(demo: Path, tmp_path: Path) -> None:
    fresh = tmp_path / "moi.xlsx"
    assert CliRunner().invoke(cli, ["init", str(fresh), "--sample", "langson_ddci_2024"]).exit_code == 0
    from kehoach_xl.reports.xlsm import build_xlsm

    xlsm = build_xlsm(fresh, tmp_path / "moi.xlsm")
    books = [fresh, xlsm] + [p for p in demo.rglob("*.xls*") if zipfile.is_zipfile(p)]
    kinds = {detect_kind(p) for p in books}
    # a new master, the master after merge/refresh/summary, unit workbooks, the summary export, backups
    assert {FileKind.MASTER, FileKind.UNIT_WORKBOOK, FileKind.SUMMARY_EXPORT, FileKind.BACKUP} <= kinds
    for p in books:
        assert _formulas_with_equals(p) == [], p.name
    # the dropdowns still point at their lists
    dvs = {dv.formula1 for dv in openpyxl.load_workbook(fresh)["Nhiệm vụ"].data_validations.dataValidation}
    assert "'Cấu hình'!$C$2:$C$4" in dvs


# --- 1. what file is this? -----------------------------------------------------------------------


def test_detect_kind_names_every_kind(demo: Path, tmp_path: Path) -> None:
    assert detect_kind(demo / MASTER_NAME) is FileKind.MASTER
    assert detect_kind(next((demo / "gui_don_vi").glob("*.xlsx"))) is FileKind.UNIT_WORKBOOK
    assert detect_kind(demo / "bao_cao" / "tong_hop_2024_05.xlsx") is FileKind.SUMMARY_EXPORT
    assert detect_kind(next((demo / ".kehoach_backups").glob("*.xlsx"))) is FileKind.BACKUP
    assert detect_kind(demo / "bao_cao" / "bao_cao_2024_05.docx") is FileKind.PLAN_DOCX
    inbox = tmp_path / "hop_thu_den"
    inbox.mkdir()
    copy = Path(shutil.copy(demo / MASTER_NAME, inbox / "2024-05_Thanh_tra_So.xlsx"))
    assert detect_kind(copy) is FileKind.MASTER_COPY
    other = tmp_path / "den"
    other.mkdir()
    copy2 = Path(shutil.copy(demo / MASTER_NAME, other / "ban_sao.xlsx"))
    assert detect_kind(copy2, inbox=other) is FileKind.MASTER_COPY and detect_kind(copy2) is FileKind.MASTER
    (tmp_path / "cu.xls").write_bytes(OLE_MAGIC + bytes(504))
    assert detect_kind(tmp_path / "cu.xls") is FileKind.OLD_XLS
    (tmp_path / "mat_khau.xlsx").write_bytes(OLE_MAGIC + bytes(504))
    assert detect_kind(tmp_path / "mat_khau.xlsx") is FileKind.ENCRYPTED
    (tmp_path / "hong.xlsx").write_bytes(b"PK\x03\x04 not a zip")
    assert detect_kind(tmp_path / "hong.xlsx") is FileKind.DAMAGED
    (tmp_path / "dang_chep.xlsx").write_bytes(bytes(4096))
    assert detect_kind(tmp_path / "dang_chep.xlsx") is FileKind.DAMAGED
    (tmp_path / "ghi_chu.txt").write_text("STT\tNhiệm vụ\n", encoding="utf-8")
    assert detect_kind(tmp_path / "ghi_chu.txt") is FileKind.NOT_EXCEL
    openpyxl.Workbook().save(tmp_path / "bang.xlsx")
    assert detect_kind(tmp_path / "bang.xlsx") is FileKind.OTHER_EXCEL
    assert detect_kind(tmp_path) is FileKind.FOLDER
    assert detect_kind(tmp_path / "khong_co.xlsx") is FileKind.MISSING
    assert require_master(demo / MASTER_NAME) == demo / MASTER_NAME
    with pytest.raises(SetupError, match="tệp Excel đời cũ"):
        require_master(tmp_path / "cu.xls")
    with pytest.raises(DataError, match="hỏng"):
        require_master(tmp_path / "hong.xlsx")


def _wrong_files(demo: Path) -> dict[str, Path]:
    return {
        "unit": next((demo / "gui_don_vi").glob("*.xlsx")),
        "summary": demo / "bao_cao" / "tong_hop_2024_05.xlsx",
        "docx": demo / "bao_cao" / "bao_cao_2024_05.docx",
        "backup": next((demo / ".kehoach_backups").glob("*.xlsx")),
    }


def _master_commands(f: Path, tmp: Path, inbox: Path, plan: Path) -> list[list[str]]:
    return [
        ["validate", str(f), "--write"], ["refresh", str(f)], ["tasks", str(f)],
        ["issue", str(f), "--period", "05/2024", "--out", str(tmp / "ra")],
        ["merge", str(f), str(inbox)], ["summary", str(f), "--export", str(tmp / "th.xlsx")],
        ["briefing", str(f), "--period", "05/2024", "--out", str(tmp / "gb")],
        ["report", str(f), "--period", "05/2024", "--out", str(tmp / "bc")],
        ["restore", str(f)], ["nightly", str(f)], ["xlsm", str(f)],
        ["import", str(plan), "--into", str(f)],
    ]


@pytest.mark.parametrize("kind", ["unit", "summary", "docx", "backup"])
def test_master_commands_refuse_the_wrong_file_and_touch_nothing(demo: Path, tmp_path: Path, kind: str) -> None:
    src = _wrong_files(demo)[kind]
    folder = tmp_path / "lam_viec"
    folder.mkdir()
    shutil.copy(demo / "kehoach.toml", folder / "kehoach.toml")
    # a backup stays a backup by its name; the others keep theirs
    f = Path(shutil.copy(src, folder / src.name))
    inbox = tmp_path / "hop_thu_den"
    inbox.mkdir()
    sub = Path(shutil.copy(next((demo / "hop_thu_den" / "processed").glob("*.xlsx")), inbox))
    before = f.read_bytes()
    listing = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    for args in _master_commands(f, tmp_path, inbox, demo / "bao_cao" / "bao_cao_2024_05.docx"):
        res = CliRunner().invoke(cli, args)
        assert res.exit_code == 2, (args, res.output)
        assert "không phải sổ theo dõi" in res.output and f.name in res.output, (args, res.output)
        assert "Traceback" not in res.output
        assert f.read_bytes() == before and sub.exists()
        assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == listing, args


def test_merge_leaves_a_folder_of_unfilled_issued_workbooks(demo: Path, tmp_path: Path) -> None:
    master = _copy_master(demo, tmp_path)
    inbox = tmp_path / "hop_thu_den"
    inbox.mkdir()
    for p in (demo / "gui_don_vi").glob("*.xlsx"):
        shutil.copy(p, inbox)
    before, names = master.read_bytes(), sorted(p.name for p in inbox.iterdir())
    res = CliRunner().invoke(cli, ["merge", str(master), str(inbox)])
    assert res.exit_code == 0, res.output
    assert "chưa đơn vị nào điền" in res.output and "để nguyên" in res.output
    assert sorted(p.name for p in inbox.iterdir()) == names and master.read_bytes() == before
    assert not (tmp_path / ".kehoach_backups").exists()
    # one filled-in workbook among them: merged as usual
    filled = next((demo / "hop_thu_den" / "processed").glob("2024-05_*.xlsx"))
    shutil.copy(filled, inbox / filled.name)
    res = CliRunner().invoke(cli, ["merge", str(master), str(inbox), "--dry-run", "--json"])
    assert "chưa đơn vị nào điền" not in res.output
    assert json.loads(res.output)["files"]


# --- 2. Vietnamese for every message a user sees -------------------------------------------------

ENGLISH = {
    "usage", "error", "missing", "option", "options", "argument", "arguments", "try", "help", "show", "this",
    "message", "exit", "invalid", "value", "such", "command", "commands", "file", "does", "not", "exist",
    "the", "for", "was", "were", "given", "got", "unexpected", "extra", "requires", "choose", "from", "range",
    "valid", "integer", "float", "text", "path", "default", "required", "did", "you", "mean", "date",
    "period", "aborted", "master", "inbox", "folder", "config", "must", "be", "one", "of", "is", "and",
}
ALLOWED = ("kehoach-xl", "YYYY-MM-DD", "YYYY-MM", "xlsx", "json")


def _english_words(text: str) -> set[str]:
    text = re.sub(r"kehoach-xl(?: [a-z]+)?", " ", text)  # the program and command names
    text = re.sub(r"(?<![\w-])--?[A-Za-z][\w-]*", " ", text)  # option names
    text = re.sub(r"\S*[/\\]\S*", " ", text)  # paths
    for word in ALLOWED:
        text = text.replace(word, " ")
    return {w for w in re.findall(r"[A-Za-z]+", text) if w.lower() in ENGLISH}


def _bad_invocations() -> list[list[str]]:
    calls = [["khong-co-lenh"], ["--khong-co"]]
    for name, cmd in sorted(cli.commands.items()):
        calls.append([name, "--khong-co-tuy-chon"])
        if any(p.required for p in cmd.params):
            calls.append([name])
        names = {p.name for p in cmd.params}
        if names & {"as_of", "period"}:
            args = [name] + ["x.xlsx" for p in cmd.params if p.param_type_name == "argument"]
            if "as_of" in names:
                args += ["--as-of", "32/13/2024"]
            if "period" in names:
                args += ["--period", "13/2024"]
            calls.append(args)
    calls.append(["issue", "x.xlsx", "--period"])
    calls.append(["nightly", "--wait-seconds", "mot-phut"])
    calls.append(["init", "x.xlsx", "--sample", "ha_noi"])
    return calls


@pytest.mark.parametrize("args", _bad_invocations(), ids=" ".join)
def test_bad_arguments_are_answered_in_vietnamese(args: list[str], tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 2, res.output
    assert "Lỗi:" in res.output and "Traceback" not in res.output
    assert not _english_words(res.output), res.output


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_help_headings_are_vietnamese(name: str) -> None:
    res = CliRunner().invoke(cli, [name, "--help"])
    assert "Cách dùng:" in res.output and "Tùy chọn:" in res.output and "Ví dụ:" in res.output
    assert "Usage:" not in res.output and "Show this message" not in res.output and "[OPTIONS]" not in res.output


def test_one_date_and_period_style_everywhere(demo: Path, tmp_path: Path) -> None:
    master = _copy_master(demo, tmp_path)
    runner = CliRunner()
    iso = runner.invoke(cli, ["summary", str(master), "--as-of", "2024-06-05", "--period", "2024-05", "--json"])
    vn = runner.invoke(cli, ["summary", str(master), "--as-of", "05/06/2024", "--period", "05/2024", "--json"])
    assert iso.exit_code == 0 and vn.exit_code == 0, vn.output
    assert json.loads(iso.output) == json.loads(vn.output)
    res = runner.invoke(cli, ["issue", str(master), "--period", "5/2024", "--out", str(tmp_path / "ra")])
    assert res.exit_code == 0, res.output
    assert {p.name[:8] for p in (tmp_path / "ra").glob("*.xlsx")} == {"2024-05_"}


# --- 3. the first steps work as documented --------------------------------------------------------


def test_init_makes_the_working_folders(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["init", str(tmp_path / "so_theo_doi.xlsx")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "hop_thu_den").is_dir() and (tmp_path / "bao_cao").is_dir()
    other = tmp_path / "khac"
    other.mkdir()
    (other / "kehoach.toml").write_text('inbox = "den"\nreports = "bc"\n', encoding="utf-8")
    assert CliRunner().invoke(cli, ["init", str(other / "so.xlsx")]).exit_code == 0
    assert (other / "den").is_dir() and (other / "bc").is_dir()
