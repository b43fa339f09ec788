"""How long the program takes to start: ``import kehoach_xl`` and the command line's help.

    .venv/bin/python bench/bench_startup.py

Staff click buttons and the nightly starts a process per run, so start-up is paid every time.
Each line is the median of 15 fresh interpreters (``subprocess``), wall clock, beside the floor
(an interpreter that imports nothing) and the naive way (importing openpyxl, pandas and Jinja2
up front, as 0.1.0 did). Written to ``bench/results_startup.md``.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNS = 15

CASES: tuple[tuple[str, list[str]], ...] = (
    ("floor: python -c pass", ["-c", "pass"]),
    ("import kehoach_xl", ["-c", "import kehoach_xl"]),
    ("import kehoach_xl; kehoach_xl.validate (first use loads the reader)",
     ["-c", "import kehoach_xl; kehoach_xl.validate"]),
    ("kehoach-xl --help", ["-m", "kehoach_xl", "--help"]),
    ("kehoach-xl validate --help", ["-m", "kehoach_xl", "validate", "--help"]),
    ("naive: import openpyxl, pandas, jinja2", ["-c", "import openpyxl, pandas, jinja2"]),
)


def time_case(args: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, *args], check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> str:
    rows = [(label, time_case(args)) for label, args in CASES]
    lines = ["| what | median of 15 |", "|---|---:|"] + [f"| {label} | {s * 1000:.0f} ms |" for label, s in rows]
    load = os.getloadavg()[0]
    note = (f"Measured {dt.datetime.now():%d/%m/%Y %H:%M} ({os.cpu_count()} cores shared, load average {load:.1f}; "
            f"Python {sys.version.split()[0]}). Wall clock of a fresh interpreter, median of {RUNS}.\n\n")
    table = "\n".join(lines)
    (HERE / "results_startup.md").write_text("# Start-up benchmark\n\n" + note + table + "\n", encoding="utf-8")
    return table


if __name__ == "__main__":
    print(main())
