"""The demo folder the guard-rail tests copy their files from (built once per test module)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kehoach_xl.cli.main import cli

MASTER_NAME = "so_theo_doi_DDCI_2024.xlsx"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("guard") / "demo"
    res = CliRunner().invoke(cli, ["demo", str(folder)])
    assert res.exit_code == 0, res.output
    return folder
