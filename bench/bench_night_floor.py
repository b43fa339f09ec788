"""The least a night can cost, whatever the code: read everything with the fastest reader, write the master.

    .venv/bin/python bench/bench_night_floor.py 10000 50000     # masters bench_commands built (--reuse)

Issue 18 set the nightly (merge of 40 submissions + validate + refresh + summary, one write) at
≤ 3× the master's zip floor. A night cannot do less than read the master, read every submission and
write the master once. This times, each in its own subprocess on the masters and inboxes
``bench_commands.py`` built under ``$KEHOACH_BENCH_OUT`` (default ``bench/out``):

* **zip floor**: inflate and deflate every member of the master once (the least any write costs);
* **calamine, master**: python-calamine (Rust) reading every sheet of the master into Python values;
* **calamine, 40 submissions**: the same for every workbook in the inbox;
* **inflate only, 40 submissions**: just unzipping them (no XML parsed);

* **calamine, task and parts sheets**: the two sheets a refresh reads, writes and reads back;

and prints their sum, the least a night costs with the fastest reader there is and no work at all
done on the data, as a multiple of the zip floor; and the least a refresh costs: the zip floor plus
the two big sheets read twice (once to compute, once to check what was written). The fastest of 3
runs. Results: ``bench/results_night_floor.md``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = Path(os.environ.get("KEHOACH_BENCH_OUT", HERE / "out"))
ROWS = ("zip floor", "calamine, master", "calamine, 40 submissions", "inflate only, 40 submissions",
        "calamine, task and parts sheets")
BIG_SHEETS = ("Nhiệm vụ", "Phần việc")  # what refresh reads, writes and reads back


def measure(what: str, folder: Path) -> float:
    master = folder / "master.xlsx"
    subs = sorted((folder / "inbox").glob("*.xlsx"))
    t0 = time.perf_counter()
    if what == "zip floor":
        dst = folder / "run" / "floor.xlsx"
        dst.parent.mkdir(exist_ok=True)
        with zipfile.ZipFile(master) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                zout.writestr(info, zin.read(info), compress_type=info.compress_type)
    elif what.startswith("calamine"):
        from python_calamine import CalamineWorkbook

        only = BIG_SHEETS if what.endswith("parts sheets") else None  # else every sheet
        for path in (subs if what.endswith("submissions") else [master]):
            wb = CalamineWorkbook.from_path(str(path))
            for name in wb.sheet_names:
                if only is None or name in only:
                    wb.get_sheet_by_name(name).to_python()
            wb.close()
    else:
        for path in subs:
            with zipfile.ZipFile(path) as z:
                for info in z.infolist():
                    z.read(info)
    return time.perf_counter() - t0


def main(sizes: list[int]) -> str:
    lines = ["# The least a night costs (bench/bench_night_floor.py)", "",
             "Fastest of 3 runs, each in its own process; 2-core machine. `sum` = zip floor + calamine's read of the",
             "master + calamine's read of the 40 submissions: a night that computed nothing at all. `refresh least`",
             "= zip floor + 2 × calamine's read of the task and parts sheets (read, then read back after the write).",
             "",
             "| tasks | " + " | ".join(ROWS) + " | sum | sum ÷ zip floor | goal (3× floor) | refresh least "
             "| ÷ zip floor |",
             "|---:|" + "---:|" * (len(ROWS) + 5)]
    for n in sizes:
        folder = OUT / f"commands_{n}"
        if not (folder / "master.xlsx").exists():
            raise SystemExit(f"{folder}/master.xlsx is missing: build it with bench/bench_commands.py {n}")
        best = {}
        for what in ROWS:
            runs = []
            for _ in range(3):
                out = subprocess.run([sys.executable, __file__, "--measure", what, str(folder)], check=True,
                                     capture_output=True, text=True).stdout
                runs.append(float(out))
            best[what] = min(runs)
        total = best["zip floor"] + best["calamine, master"] + best["calamine, 40 submissions"]
        least = best["zip floor"] + 2 * best["calamine, task and parts sheets"]
        lines.append(f"| {n:,} | " + " | ".join(f"{best[w]:.2f} s" for w in ROWS)
                     + f" | {total:.2f} s | {total / best['zip floor']:.2f}× | {3 * best['zip floor']:.2f} s"
                     + f" | {least:.2f} s | {least / best['zip floor']:.2f}× |")
        print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    (HERE / "results_night_floor.md").write_text(text, encoding="utf-8")
    return text


if __name__ == "__main__":
    if sys.argv[1:2] == ["--measure"]:
        print(measure(sys.argv[2], Path(sys.argv[3])))
    else:
        print(main([int(a) for a in sys.argv[1:]] or [10_000]))
