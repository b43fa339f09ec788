"""The demo deletes only folders it made."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from kehoach_xl.cli.main import cli


def test_demo_force_deletes_only_demo_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    demo_mod = importlib.import_module("kehoach_xl.commands.demo")  # the package exports the function as `demo`

    real = tmp_path / "that"
    real.mkdir()
    (real / "so_theo_doi.xlsx").write_bytes(b"real work")
    res = CliRunner().invoke(cli, ["demo", str(real), "--force"])
    assert res.exit_code == 2 and "không xóa" in res.output
    assert (real / "so_theo_doi.xlsx").read_bytes() == b"real work"

    # A folder the demo made (marker present) is rebuilt; stop the run right after the reset.
    made = tmp_path / "demo"
    made.mkdir()
    (made / demo_mod.DEMO_MARKER).write_text("x", encoding="utf-8")
    (made / "cu.txt").write_text("cũ", encoding="utf-8")

    def stop(name: str):
        raise RuntimeError("stop")

    monkeypatch.setattr("kehoach_xl.model.sample.sample_registry", stop)
    with pytest.raises(RuntimeError):
        demo_mod.demo(made, force=True)
    assert not (made / "cu.txt").exists() and (made / demo_mod.DEMO_MARKER).is_file()


def test_demo_marks_new_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    demo_mod = importlib.import_module("kehoach_xl.commands.demo")  # the package exports the function as `demo`

    monkeypatch.setattr("kehoach_xl.model.sample.sample_registry", lambda name: (_ for _ in ()).throw(RuntimeError()))
    with pytest.raises(RuntimeError):
        demo_mod.demo(tmp_path / "new")
    assert (tmp_path / "new" / demo_mod.DEMO_MARKER).is_file()
