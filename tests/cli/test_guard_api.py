"""The Python API refuses the wrong file like the command line does, and ``issue`` refuses to
issue when tasks name units it cannot issue to (nothing written, a Vietnamese way out)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import kehoach_xl as kx
from kehoach_xl.cli.main import cli
from kehoach_xl.errors import DataError, SetupError
from tests.helpers import make_sample_master, sample_tasks


def _api_calls(f: Path, tmp: Path, inbox: Path, plan: Path) -> dict[str, object]:
    return {
        "validate": lambda: kx.validate(f, write=True),
        "refresh": lambda: kx.refresh(f),
        "tasks": lambda: kx.tasks(f),
        "tasks_frame": lambda: kx.tasks_frame(f),
        "issue": lambda: kx.issue(f, period="2024-05", out=tmp / "ra"),
        "merge": lambda: kx.merge(f, inbox),
        "summary": lambda: kx.summary(f, export=tmp / "th.xlsx"),
        "briefing": lambda: kx.briefing(f, period="2024-05", out=tmp / "gb"),
        "report": lambda: kx.report(f, period="2024-05", out=tmp / "bc"),
        "import_plan": lambda: kx.import_plan(plan, f),
    }


@pytest.mark.parametrize("kind", ["unit", "summary", "docx"])
def test_python_api_refuses_the_wrong_file_like_the_cli(demo: Path, tmp_path: Path, kind: str) -> None:
    src = {
        "unit": next((demo / "gui_don_vi").glob("*.xlsx")),
        "summary": demo / "bao_cao" / "tong_hop_2024_05.xlsx",
        "docx": demo / "bao_cao" / "bao_cao_2024_05.docx",
    }[kind]
    folder = tmp_path / "lam_viec"
    folder.mkdir()
    shutil.copy(demo / "kehoach.toml", folder / "kehoach.toml")
    f = Path(shutil.copy(src, folder / src.name))
    inbox = tmp_path / "hop_thu_den"
    inbox.mkdir()
    sub = Path(shutil.copy(next((demo / "hop_thu_den" / "processed").glob("*.xlsx")), inbox))
    before = f.read_bytes()
    listing = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    for name, call in _api_calls(f, tmp_path, inbox, demo / "bao_cao" / "bao_cao_2024_05.docx").items():
        with pytest.raises(SetupError) as err:
            call()  # type: ignore[operator]
        assert "không phải sổ theo dõi" in str(err.value) and f.name in str(err.value), name
        assert f.read_bytes() == before and sub.exists(), name
        assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == listing, name


def test_python_api_says_a_damaged_master_is_a_data_problem(tmp_path: Path) -> None:
    f = tmp_path / "hong.xlsx"
    f.write_bytes(b"PK\x03\x04 cut off while copying")
    with pytest.raises(DataError, match="restore"):
        kx.refresh(f)
    with pytest.raises(DataError, match="restore"):
        kx.tasks(f)


def _master_with_unknown_units(tmp_path: Path) -> Path:
    tasks = sample_tasks()
    tasks[1]["lead_units"] = "Phòng Không Có Thật"
    tasks[3]["coordinating_units"] = "Sở Ngoài Danh Mục"
    return make_sample_master(tmp_path / "so.xlsx", tasks)


def test_issue_refuses_tasks_with_units_it_cannot_issue_to(tmp_path: Path) -> None:
    master = _master_with_unknown_units(tmp_path)
    out = tmp_path / "gui_don_vi"
    res = CliRunner().invoke(cli, ["issue", str(master), "--period", "05/2024", "--out", str(out)])
    assert res.exit_code == 1, res.output
    text = res.output
    assert "Phòng Không Có Thật" in text and "DDCI2024-002" in text
    assert "Sở Ngoài Danh Mục" in text and "DDCI2024-004" in text
    assert "--add-unknown" in text and "Đơn vị" in text and "Chưa ghi tệp nào" in text
    assert "Traceback" not in text
    assert not out.exists() or not any(out.iterdir())


def test_issue_writes_when_every_unit_is_known(tmp_path: Path) -> None:
    master = make_sample_master(tmp_path / "so.xlsx")
    written = kx.issue(master, period="2024-05", out=tmp_path / "ra")
    assert written and all(p.exists() for p in written)
