"""The README documents every command and every sheet, and CI runs its test command."""

from __future__ import annotations

from pathlib import Path

from kehoach_xl.cli.main import cli
from kehoach_xl.model import schema

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_command_is_in_the_readme():
    missing = [c for c in cli.commands if f"kehoach-xl {c}" not in README]
    assert missing == []


def test_every_sheet_and_column_header_is_in_the_readme():
    for sheet in schema.ALL_SHEETS:
        assert sheet.name in README
        for col in sheet.columns:
            assert col.header in README, (sheet.name, col.header)


def test_ci_runs_the_quickstart_test_command():
    quick = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = [ln.split("#")[0].strip() for ln in quick.splitlines() if ln.startswith("bash ")]
    assert len(commands) == 2
    assert commands[1] in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
