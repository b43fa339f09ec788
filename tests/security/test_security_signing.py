"""No built-in signing key: a unit workbook signed with a key from the public source is refused."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from kehoach_xl.cli.main import cli
from kehoach_xl.errors import SetupError
from kehoach_xl.model.config import Config, ensure_signing_key, load_config

PUBLIC_KEY = b"kehoach-xl-mac-dinh-hay-doi-khoa-nay"  # the constant earlier versions fell back to


@pytest.fixture()
def no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KEHOACH_SIGNING_KEY", raising=False)


def test_no_builtin_key(no_env_key: None, tmp_path: Path) -> None:
    with pytest.raises(SetupError, match="Chưa có khóa ký tệp đơn vị"):
        _ = Config(base_dir=tmp_path).secret
    with pytest.raises(SetupError, match="khóa công khai"):
        _ = Config(signing_key=PUBLIC_KEY.decode()).secret
    with pytest.raises(SetupError, match="quá ngắn"):
        _ = Config(signing_key="ngan").secret


def test_init_generates_a_random_key_per_department(no_env_key: None, tmp_path: Path) -> None:
    keys = []
    for name in ("so_a", "so_b"):
        folder = tmp_path / name
        folder.mkdir()
        res = CliRunner().invoke(cli, ["init", str(folder / "so_theo_doi.xlsx"), "--sample", "langson_ddci_2024"])
        assert res.exit_code == 0, res.output
        assert "Khóa ký tệp đơn vị" in res.output
        data = tomllib.loads((folder / "kehoach.toml").read_text(encoding="utf-8"))
        keys.append(data["signing_key"])
        assert len(load_config(folder / "so_theo_doi.xlsx").secret) >= 32
    assert keys[0] != keys[1]


def test_existing_config_without_key_gets_one_before_its_sections(tmp_path: Path) -> None:
    toml = tmp_path / "kehoach.toml"
    toml.write_text('master = "so.xlsx"\n[server]\nport = 9000\n', encoding="utf-8")
    assert ensure_signing_key(toml)
    data = tomllib.loads(toml.read_text(encoding="utf-8"))
    assert len(data["signing_key"]) >= 32 and data["server"] == {"port": 9000}
    assert not ensure_signing_key(toml)  # kept, never replaced


def test_issue_and_merge_say_clearly_when_no_key(no_env_key: None, tmp_path: Path) -> None:
    from tests.helpers import make_sample_master

    master = make_sample_master(tmp_path / "so.xlsx")
    (tmp_path / "hop_thu_den").mkdir(exist_ok=True)
    for args in (["issue", str(master), "--period", "2024-05", "--out", str(tmp_path / "gui")],
                 ["merge", str(master), str(tmp_path / "hop_thu_den")]):
        res = CliRunner().invoke(cli, args)
        assert res.exit_code == 2, res.output
        assert "Chưa có khóa ký tệp đơn vị" in res.output


def test_workbook_signed_with_the_public_key_is_refused(no_env_key: None, tmp_path: Path) -> None:
    """The forgery: anyone can read the old default key in the source and sign a file as another unit."""
    from kehoach_xl.commands.init import init
    from kehoach_xl.commands.merge import merge
    from kehoach_xl.io.master_read import read_master
    from kehoach_xl.model.unitbook import unitbook_name
    from kehoach_xl.reports.unitbook import build_unitbook
    from kehoach_xl.rules.assignments import assignments
    from tests.helpers import sample_tasks

    master = init(tmp_path / "so_theo_doi.xlsx", sample="langson_ddci_2024")
    from kehoach_xl.commands.init import create_master
    from kehoach_xl.model.sample import sample_registry

    reg = sample_registry("langson_ddci_2024")
    create_master(master, tasks=sample_tasks(), units=reg["units"], leaders=reg["leaders"], scores=reg["scores"],
                  meta=reg["meta"], overwrite=True)
    md = read_master(master)
    plan = assignments(md)
    unit = "Thanh tra Sở"
    wb = build_unitbook(md, unit, "2024-05", plan[unit], secret=PUBLIC_KEY)
    ws = wb["Báo cáo"]
    header = [c.value for c in ws[4]]
    ws.cell(5, header.index("Kết quả thực hiện") + 1, "Giả mạo báo cáo của đơn vị khác")
    inbox = tmp_path / "hop_thu_den"
    inbox.mkdir(exist_ok=True)  # init makes the inbox already
    wb.save(inbox / unitbook_name(unit, "2024-05"))
    rep = merge(master, inbox, as_of=None).to_dict()
    assert rep["applied"] == 0
    assert [f["status"] for f in rep["files"]] == ["rejected"]
    assert all("Giả mạo" not in str(r.get("result")) for r in read_master(master).tasks.rows)
