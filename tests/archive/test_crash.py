"""A run killed anywhere loses no row and, once run again, leaves each row exactly once (master or archive)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kehoach_xl.commands.archive import archive
from kehoach_xl.io.archive_book import ARCHIVE_FAULT_POINTS, archive_path
from kehoach_xl.io.master_read import read_grids
from kehoach_xl.model import schema
from tests.archive.build import AS_OF, used_master

ROOT = Path(__file__).resolve().parents[2]
LOG, HIST = schema.LOG.name, schema.HISTORY.name
# The archive's own points, and the one writer's around its replace of the master.
POINTS = [*ARCHIVE_FAULT_POINTS, "backup_done", "patched", "verified", "replaced"]


def _rows(path: Path, sheet: str, width: int) -> list[tuple]:
    if not path.exists():
        return []
    grid = read_grids(path, [sheet])[sheet]
    return [tuple(r[:width]) for r in grid[1:] if any(v not in (None, "") for v in r)]


def _everything(master: Path) -> dict[str, list[tuple]]:
    book = archive_path(master, 2024)
    return {s: sorted(map(repr, _rows(master, s, w) + _rows(book, s, w)))
            for s, w in ((LOG, len(schema.LOG.columns)), (HIST, len(schema.HISTORY.columns)))}


def _killed_run(master: Path, point: str) -> subprocess.CompletedProcess:
    code = ("import datetime as dt, sys; from kehoach_xl.commands.archive import archive; "
            f"archive(sys.argv[1], as_of=dt.date({AS_OF.year}, {AS_OF.month}, {AS_OF.day}))")
    env = {**os.environ, "KEHOACH_FAULT_POINT": point, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code, str(master)], env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.parametrize("point", POINTS)
def test_killed_at_fault_point_then_run_again(tmp_path: Path, point: str) -> None:
    master = used_master(tmp_path)
    before = _everything(master)
    proc = _killed_run(master, point)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    # Killed: nothing lost. Between the archive write and the master's replace, rows are in both files.
    after_kill = _everything(master)
    for sheet, rows in before.items():
        assert set(rows) <= set(after_kill[sheet])

    res = archive(master, as_of=AS_OF)  # the next run finishes the job
    book = archive_path(master, 2024)
    keys = [r[-1] for r in _rows(book, LOG, 11)] + [r[-1] for r in _rows(book, HIST, 13)]
    assert len(keys) == len(set(keys)) == 174  # every moved row once: none twice, none missing
    final = _everything(master)
    for sheet, rows in before.items():
        # Each row of the master before, exactly once across master and archive (+ the archive's log rows).
        extra = [r for r in final[sheet] if r not in rows]
        assert sorted(r for r in final[sheet] if r in rows) == rows
        assert all("archive" in r for r in extra)
    if point in ("archive_replaced", "patched", "verified", "backup_done"):
        assert res.already_archived == 174 and res.rows_written == 0
    # No temporary file stays; the archive's lock is released (a killed writer's stale master lock is the
    # writer's to break on its next write).
    leftovers = [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name or "_luu_tru.kehoach.lock" in p.name]
    assert leftovers == []
