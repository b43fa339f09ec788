"""The benchmarks' master: n tasks spread over 40 units, and the month's 40 filled unit workbooks.

``bench_commands``, ``bench_nightly`` and ``bench_submissions`` time different things on the same
kind of folder; they build it here so their figures stay comparable. What differs between them is
a parameter: how each task row is shaped (``shape``), whether units have e-mail addresses, and the
leaders.

Folder layout under ``work``: ``master.xlsx``, ``issued/`` (the unit workbooks as issued) and
``inbox/`` (the same, filled in by ``simulate_unit_submissions`` without mistakes).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

# Unit workbooks are signed (one key per department): every bench signs and checks with this one.
os.environ.setdefault("KEHOACH_SIGNING_KEY", "bench-signing-key-not-secret-0123456789")

PERIOD = "2025-04"
UNITS = [f"Phòng Chuyên môn số {i + 1:02d}" for i in range(40)]


def build_master(
    work: Path,
    n: int,
    *,
    shape: Callable[[int, dict], None] | None = None,
    emails: bool = True,
    leaders: Sequence[Mapping[str, str]] = (),
) -> tuple[Path, list[dict]]:
    """Build ``work`` afresh and return (master, the task rows it was created from).

    Rows are ``bench_write.task_rows(n)`` (10 groups, one title each) with unit ``i % 40`` leading task ``i`` and unit
    ``(i + 7) % 40`` coordinating it; ``shape(i, row)`` then adjusts each row in place. Units get
    ``donviNN@example.vn`` addresses when ``emails`` (the briefing writes one reminder each), else
    none. The ``PERIOD`` workbooks are then issued and every unit's filled copy put in ``work/inbox``.
    """
    from bench_write import task_rows

    import kehoach_xl as kx
    from kehoach_xl.commands.simulate import simulate_unit_submissions

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    rows = task_rows(n)
    titles: dict[str, str] = {}
    for i, r in enumerate(rows):
        # As in a real plan, every task of a group carries the group's own title: a title per task
        # made "Tổng hợp" list ~11,000 groups at 10,000 tasks (results before 03/12/2026).
        r["group_title"] = titles.setdefault(r["group"], r["group_title"])
        r["lead_units"] = UNITS[i % len(UNITS)]
        r["coordinating_units"] = UNITS[(i + 7) % len(UNITS)]
        if shape is not None:
            shape(i, r)
    units = [{"name": u, "email": f"donvi{i + 1:02d}@example.vn" if emails else ""} for i, u in enumerate(UNITS)]
    master = work / "master.xlsx"
    kx.create_master(master, tasks=rows, units=units, leaders=leaders,
                     meta={"plan_title": "Kế hoạch thử tải", "master_id": f"bench-{n}"}, overwrite=True)
    # Issuing reads the master and leaves it as it is: every command is timed on the same file.
    issued = kx.issue(master, period=PERIOD, out=work / "issued")
    simulate_unit_submissions(work / "inbox", issued, seed=3, mistakes=False)
    return master, rows
