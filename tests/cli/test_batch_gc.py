"""A batch command runs with a less eager cycle collector, and gives the process its settings back."""

from __future__ import annotations

import gc

from kehoach_xl.cli import main as cli_main
from kehoach_xl.commands.init import create_master


def test_collector_thresholds_raised_during_a_command_and_restored(tmp_path, monkeypatch, capsys):
    task = {"id": "NV001", "task": "Rà soát thủ tục", "lead_units": "Sở Tư pháp"}
    path = create_master(tmp_path / "so.xlsx", tasks=[task], units=[{"name": "Sở Tư pháp"}])
    seen: list[tuple[int, ...]] = []
    before = gc.get_threshold()
    monkeypatch.setattr(gc, "set_threshold", _spy(gc.set_threshold, seen))
    assert cli_main.main(["tasks", str(path), "--json"]) == 0
    assert "NV001" in capsys.readouterr().out
    assert seen[0][0] > before[0]  # raised for the command ...
    assert seen[-1] == before  # ... and put back
    assert gc.get_threshold() == before


def test_servers_keep_the_collectors_settings():
    assert {"serve", "schedule"} <= cli_main._LONG_RUNNING


def _spy(fn, seen):
    def set_threshold(*args):
        seen.append(args)
        fn(*args)
    return set_threshold
