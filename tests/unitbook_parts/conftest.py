"""A May merged into the sample master, then the June workbooks issued from it (each unit's parts prefilled)."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from kehoach_xl.commands.issue import issue
from kehoach_xl.commands.merge import merge
from tests.bad_inputs.make import AS_OF, fill, setup_month

T1, T3, T4, T5 = "DDCI2024-001", "DDCI2024-003", "DDCI2024-004", "DDCI2024-005"
JUNE = "2024-06"
JUNE_END = dt.date(2024, 6, 28)


@dataclass
class Month:
    master: Path
    june: dict[str, Path]  # unit slug → the June workbook
    inbox: Path


def _may(tmp: Path) -> tuple[Path, Path]:
    master, files, inbox = setup_month(tmp)
    fill(files["Thanh_tra_So"], inbox / files["Thanh_tra_So"].name, {
        T3: {"progress": 100, "result": "Đã rà soát 14 cuộc kiểm tra."},
        T1: {"status": "Đang thực hiện", "progress": 60, "result": "Đã rà soát 5 quy trình",
             "difficulties": "Thiếu cán bộ", "proposals": "Đề nghị gia hạn"},
        T5: {"status": "Hoàn thành", "progress": 100, "completed_on": "12/5/2024", "result": "Đã đánh giá xong."},
        T4: {"contribution": "Cử 01 thanh tra viên tham gia đoàn"},
    })
    rep = merge(master, inbox, as_of=AS_OF, now=dt.datetime(2024, 5, 31, 20))
    assert rep.written and not rep.conflicts
    return master, inbox


@pytest.fixture(scope="session")
def _month_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("month")
    master, _ = _may(root)
    issue(master, period=JUNE, out=root / "gui_06", issued_at=dt.datetime(2024, 6, 1, 8))
    return root


@pytest.fixture
def month(_month_template: Path, tmp_path: Path) -> Month:
    """A private copy per test: merging writes the master."""
    root = tmp_path / "m"
    shutil.copytree(_month_template, root)
    inbox = root / "hop_thu_den_06"
    inbox.mkdir()
    june = {p.name[8:-5]: p for p in sorted((root / "gui_06").glob("*.xlsx"))}
    return Month(root / "so_theo_doi.xlsx", june, inbox)
