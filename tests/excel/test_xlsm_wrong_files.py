"""`xlsm` refuses files that are not masters."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from kehoach_xl.cli.main import cli


def test_xlsm_on_renamed_docx_and_on_non_master(tmp_path: Path) -> None:
    from kehoach_xl.importer.plan_docs import build_sample_plan_docx

    docx = build_sample_plan_docx(tmp_path / "kh.docx", name="langson_ddci_2024")
    renamed = tmp_path / "doi_ten.xlsx"
    shutil.copy(docx, renamed)
    res = CliRunner().invoke(cli, ["xlsm", str(renamed)])
    assert res.exit_code in (1, 2) and "doi_ten.xlsx" in res.output and "Traceback" not in res.output
    other = tmp_path / "bang_khac.xlsx"
    openpyxl.Workbook().save(other)
    res = CliRunner().invoke(cli, ["xlsm", str(other)])
    assert res.exit_code == 2 and "bang_khac.xlsx" in res.output and "không phải sổ theo dõi" in res.output
    assert not (tmp_path / "bang_khac.xlsm").exists() and not (tmp_path / "doi_ten.xlsm").exists()
