"""Formula injection: text a unit typed stays text in every workbook and CSV the program writes.

Each output is opened in LibreOffice (headless) and read back as the text LibreOffice shows: a
formula would show its result (``=2+3`` → ``5``, ``-2+3`` → ``1``, ``=cmd|…`` → an error), text
shows itself.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from kehoach_xl.cli.main import cli
from kehoach_xl.commands.init import create_master
from kehoach_xl.io.master_read import read_master
from kehoach_xl.io.master_write import write_master
from kehoach_xl.model import schema
from kehoach_xl.model.changes import MasterChanges
from kehoach_xl.rules.safe_cells import csv_text, formula_like
from kehoach_xl.text import normalize_text
from tests.helpers import make_sample_master, sample_tasks

# What units type, as the master keeps it (text); leading blanks are trimmed on the way out.
PAYLOADS = [
    "=2+3",
    " =2+3",
    "\r\n=2+3",
    "\t=2+3",
    "+2+3",
    "-2+3",
    "@SUM(2;3)",
    "=cmd|' /C calc'!A0",
    '=WEBSERVICE("http://127.0.0.1:9/x")&"a"',
    "\u00a0=2*3",
]
SHOWN = [normalize_text(p, keep_newlines=True) for p in PAYLOADS]  # what each output carries


def test_rule_covers_every_form() -> None:
    for p in [*PAYLOADS, "cmd|' /C calc'!A0", "＝2+3", "\n=1"]:
        assert formula_like(p), p
        assert csv_text(p) == "'" + p
    for ok in ("Đã ban hành văn bản", "2024", "", None, 5, "a=b", "Email: x@y.vn"):
        assert not formula_like(ok)
        assert csv_text(ok) == ok


def _poisoned_master(folder: Path) -> Path:
    """A master whose unit fields hold the payloads, written as the merge writes them (inline text)."""
    master = make_sample_master(folder / "so_theo_doi.xlsx")
    md = read_master(master)
    ch = MasterChanges()
    cols = md.tasks.columns
    slots = [(i, k) for i in range(len(md.tasks.rows)) for k in ("difficulties", "proposals")]
    for (i, key), p in zip(slots, PAYLOADS, strict=False):
        ch.set(schema.TASKS.name, md.tasks.row_numbers[i], cols[key], p)
    write_master(master, ch, action="test")
    got = [read_master(master).tasks.rows[i][k] for i, k in slots[:len(PAYLOADS)]]
    assert got == PAYLOADS  # the master keeps the text exactly
    return master


def _cells(sheets: dict[str, list[list[str]]]) -> list[str]:
    return [c for rows in sheets.values() for r in rows for c in r]


def _assert_texts(sheets: dict[str, list[list[str]]], expected: list[str], what: str) -> None:
    cells = _cells(sheets)
    missing = [e for e in expected if e not in cells]
    assert not missing, f"{what}: LibreOffice does not show these as text (formula?): {missing!r}"
    errors = [c for c in cells if c.startswith(("Err:", "#VALUE", "#NAME", "#REF"))]
    assert not errors, f"{what}: formula errors shown: {errors!r}"


@pytest.fixture(scope="module")
def poisoned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _poisoned_master(tmp_path_factory.mktemp("poison"))


def test_summary_export_keeps_text(poisoned: Path, tmp_path: Path, soffice_sheets) -> None:
    out = tmp_path / "tong_hop.xlsx"
    res = CliRunner().invoke(cli, ["summary", str(poisoned), "--export", str(out), "--as-of", "2024-06-05"])
    assert res.exit_code == 0, res.output
    _assert_texts(soffice_sheets(out), SHOWN, "summary --export")


def test_briefing_attachment_keeps_text(poisoned: Path, tmp_path: Path, soffice_sheets) -> None:
    from kehoach_xl.commands.briefing import briefing

    res = briefing(poisoned, period="2024-06", out=tmp_path / "bao_cao", as_of=dt.date(2024, 6, 5))
    _assert_texts(soffice_sheets(res.summary_path), SHOWN, "briefing attachment")
    # The very bytes attached to the e-mail are that workbook.
    import email

    msg = email.message_from_bytes(res.eml_path.read_bytes())
    attached = [p.get_payload(decode=True) for p in msg.walk() if p.get_filename() == res.summary_path.name]
    assert attached == [res.summary_path.read_bytes()]


def test_unit_workbooks_keep_text(poisoned: Path, tmp_path: Path, soffice_sheets,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from kehoach_xl.commands.issue import issue

    monkeypatch.setenv("KEHOACH_SIGNING_KEY", "khoa-thu-nghiem-0123456789abcdef")
    files = issue(poisoned, period="2024-05", out=tmp_path / "gui")
    shown = []
    for f in files:
        shown.extend(_cells(soffice_sheets(f)))
    lead_payloads = [s for s in SHOWN if s in shown]
    assert lead_payloads, "no payload reached a unit workbook"
    assert not [c for c in shown if c.startswith(("Err:", "#VALUE", "#NAME", "#REF"))]


def test_tasks_csv_escapes_every_form(poisoned: Path, tmp_path: Path, soffice_sheets) -> None:
    master = tmp_path / "so.xlsx"
    master.write_bytes(poisoned.read_bytes())
    md = read_master(master)
    ch = MasterChanges()
    ch.set(schema.TASKS.name, md.tasks.row_numbers[0], md.tasks.columns["result"], "cmd|' /C calc'!A0")
    write_master(master, ch, action="test")
    res = CliRunner().invoke(cli, ["tasks", str(master), "--csv"])
    assert res.exit_code == 0, res.output
    path = tmp_path / "nhiem_vu.csv"
    path.write_text(res.output, encoding="utf-8")
    cells = _cells(soffice_sheets(path))
    for s in SHOWN:
        assert "'" + s in cells, f"{s!r} not kept as text in the CSV"
    # DDE without '=' is escaped too (OWASP), and nothing evaluated.
    assert "'cmd|' /C calc'!A0" in cells
    assert not [c for c in cells if c.startswith(("Err:", "#VALUE", "#NAME", "#REF"))]


def test_problems_sheet_keeps_text(tmp_path: Path, soffice_sheets) -> None:
    master = make_sample_master(tmp_path / "so.xlsx")
    md = read_master(master)
    ch = MasterChanges()
    for i, p in enumerate(PAYLOADS[:6]):
        ch.set(schema.TASKS.name, md.tasks.row_numbers[i], md.tasks.columns["status"], p)
    write_master(master, ch, action="test")
    res = CliRunner().invoke(cli, ["validate", str(master), "--write"])
    assert res.exit_code in (0, 1), res.output
    problems = soffice_sheets(master)[schema.PROBLEMS_SHEET_NAME]
    cells = [c for r in problems for c in r]
    for s in SHOWN[:6]:
        assert s in cells, f"{s!r} missing from the problems sheet"


def test_new_master_from_a_plan_keeps_text(tmp_path: Path, soffice_sheets) -> None:
    rows = sample_tasks()
    for r, p in zip(rows, PAYLOADS, strict=False):
        r["task"] = p
        r["result"] = p
    master = create_master(tmp_path / "moi.xlsx", tasks=rows)
    cells = _cells({"t": soffice_sheets(master)[schema.TASKS.name]})
    for s in SHOWN[:len(rows)]:
        assert s in cells, f"{s!r} became a formula in a new master"


@pytest.mark.skipif(os.name == "nt", reason="POSIX paths")
def test_livebook_text_prefix_uses_the_rule() -> None:
    from kehoach_xl.io.livebook import excel_text

    for p in [*PAYLOADS, "cmd|' /C calc'!A0"]:
        assert excel_text(p) == "'" + p
    assert excel_text("Đã xong") == "Đã xong"
