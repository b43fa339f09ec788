"""Work grows with the data, not faster: lines of kehoach_xl executed, counted at two sizes.

Not a timed test: the count of executed lines of the package's own code is the same on any
machine. A loop over the submissions inside a loop over the reports (the merge had two) or a
lookup that scans a sheet per row makes the count grow with the square of the size; these
tests fail then. Library code (openpyxl, calamine, lxml) is not counted: it is linear in the
bytes it is given, which the benchmarks measure.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import kehoach_xl as kx

PKG = str(Path(kx.__file__).parent)
RULES = str(Path(kx.__file__).parent / "rules")
PERIOD = "2025-04"
AS_OF = dt.date(2025, 5, 5)


def _lines(fn: Callable[[], object], where: str = PKG) -> int:
    """Lines executed by ``fn()`` in the files under ``where`` (other code is not traced at all)."""
    count = 0

    def local(frame, event, arg):  # noqa: ANN001, ANN202 - sys.settrace's signature
        nonlocal count
        if event == "line":
            count += 1
        return local

    def glob(frame, event, arg):  # noqa: ANN001, ANN202
        return local if frame.f_code.co_filename.startswith(where) else None

    sys.settrace(glob)
    try:
        fn()
    finally:
        sys.settrace(None)
    return count


def _units(n: int) -> list[str]:
    return [f"Phòng Chuyên môn số {i + 1:02d}" for i in range(n)]


def _master(folder: Path, tasks: int, units: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    names = _units(units)
    rows = []
    for i in range(tasks):
        rows.append({
            "id": f"NV{i + 1:05d}", "group": f"G{i % 10 + 1}", "stt": str(i % 40 + 1),
            "task": f"Nhiệm vụ thử số {i + 1} về cải cách hành chính", "output": "Báo cáo",
            "lead_units": names[i % units], "coordinating_units": names[(i + 1) % units],
            "leaders": "Nguyễn Văn A", "deadline_text": f"Tháng {i % 12 + 1}/2025",
            "status": "Hoàn thành" if i % 5 == 4 else "Đang thực hiện",
            "progress": 100 if i % 5 == 4 else 50,
            "completed_on": dt.date(2025, 3, 1 + i % 28) if i % 5 == 4 else None,
        })
    master = folder / "master.xlsx"
    kx.create_master(master, tasks=rows, units=[{"name": u} for u in names],
                     leaders=[{"name": "Nguyễn Văn A"}], meta={"plan_title": "Thử", "master_id": folder.name},
                     overwrite=True)
    return master


def _inbox(master: Path) -> Path:
    from kehoach_xl.commands.simulate import simulate_unit_submissions

    issued = kx.issue(master, period=PERIOD, out=master.parent / "issued")
    simulate_unit_submissions(master.parent / "inbox", issued, seed=3, mistakes=False)
    return master.parent / "inbox"


@pytest.fixture(scope="module")
def sizes(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    base = tmp_path_factory.mktemp("speed_guard")
    return {n: _master(base / f"t{n}", n, 8) for n in (120, 240)}


def _fresh(master: Path, tmp: Path, name: str) -> Path:
    dst = tmp / name / master.name
    dst.parent.mkdir(parents=True)
    shutil.copyfile(master, dst)
    return dst


@pytest.mark.parametrize("command", ["refresh", "validate", "summary", "tasks"])
def test_twice_the_tasks_is_about_twice_the_work(command: str, sizes: dict[int, Path], tmp_path: Path) -> None:
    counts = {}
    for n, master in sizes.items():
        m = _fresh(master, tmp_path, f"{command}{n}")
        run = {"refresh": lambda m=m: kx.refresh(m, as_of=AS_OF),
               "validate": lambda m=m: kx.validate(m),
               "summary": lambda m=m: kx.summary(m, as_of=AS_OF),
               "tasks": lambda m=m: kx.tasks(m)}[command]
        run()  # first call: imports and caches warm, not counted
        shutil.copyfile(master, m)
        counts[n] = _lines(run)
    ratio = counts[240] / counts[120]
    # Linear work plus a fixed part gives a ratio below 2; a quadratic step drives it towards 4.
    assert ratio < 2.3, f"{command}: {counts} lines, ratio {ratio:.2f}"


def test_merge_is_linear_in_tasks_and_in_files(tmp_path: Path) -> None:
    counts = {}
    for tasks, units in ((120, 4), (240, 4), (240, 16)):
        master = _master(tmp_path / f"m{tasks}_{units}", tasks, units)
        inbox = _inbox(master)
        keep = tmp_path / f"keep{tasks}_{units}"
        shutil.copyfile(master, keep)
        kx.merge(master, inbox, as_of=AS_OF, dry_run=True)  # warm
        shutil.copyfile(keep, master)
        # The rules only: reading each file is linear in its bytes and would hide a loop over the files.
        counts[(tasks, units)] = _lines(lambda master=master, inbox=inbox: kx.merge(master, inbox, as_of=AS_OF,
                                                                                     dry_run=True), RULES)
    by_tasks = counts[(240, 4)] / counts[(120, 4)]
    by_files = counts[(240, 16)] / counts[(240, 4)]
    assert by_tasks < 2.3, f"tasks doubled: {counts}, ratio {by_tasks:.2f}"
    # The same reports in four times as many files (each unit owns a quarter of the tasks): the same
    # work. Counts are exact, so the bound is tight: the merge that looped over every report once per
    # file (fixed after 0.1.0) gave 1.09 here, the fixed one 1.00.
    assert by_files < 1.04, f"files doubled: {counts}, ratio {by_files:.2f}"
