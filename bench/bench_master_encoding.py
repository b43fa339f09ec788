"""The same master with its sheets in UTF-8 and in ASCII (Vietnamese as character references).

Masters created before 03/12/2026 had the task and parts sheets written by lxml's ``xmlfile`` in
its default ASCII encoding, every Vietnamese letter as ``&#7879;``. This bench makes the ASCII twin
of a master (the same cells: only the sheet XML's encoding differs) and times, interleaved, each in
its own process: calamine reading every sheet, ``validate``, ``refresh`` and ``tasks --json``.

    .venv/bin/python bench/bench_master_encoding.py [TASKS]     # default 10000

The master is ``bench/out/commands_<TASKS>/master.xlsx`` (``KEHOACH_BENCH_OUT`` for another folder;
built by ``bench_commands.py --build TASKS``). Results: ``bench/results_master_encoding.md``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = Path(os.environ.get("KEHOACH_BENCH_OUT", HERE / "out"))
AS_OF = "2025-06-15"
READ_ALL = ("from python_calamine import CalamineWorkbook\nimport sys\n"
            "wb = CalamineWorkbook.from_path(sys.argv[1])\n"
            "for n in wb.sheet_names:\n    wb.get_sheet_by_name(n).to_python()\n")


def ascii_twin(src: Path, dst: Path) -> None:
    """``src`` with every non-ASCII character of its sheets written as a character reference."""
    non_ascii = re.compile("[^\x00-\x7f]")
    with zipfile.ZipFile(src) as zi, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zo:
        for info in zi.infolist():
            data = zi.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                text = non_ascii.sub(lambda m: f"&#{ord(m.group())};", data.decode("utf-8"))
                data = text.encode("ascii")
            zo.writestr(info, data)


def sheet_xml_mb(path: Path) -> float:
    with zipfile.ZipFile(path) as zf:
        return sum(i.file_size for i in zf.infolist() if i.filename.startswith("xl/worksheets/")) / 1e6


def timed(args: list[str], cwd: Path) -> tuple[float, float]:
    """(seconds, peak MiB) of one process."""
    t = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, *args], cwd=cwd, check=False,
                         capture_output=True, text=True)
    seconds = time.perf_counter() - t
    if out.returncode not in (0, 1):
        raise SystemExit(f"{args} exited {out.returncode}: {out.stderr[-500:]}")
    return seconds, int(out.stderr.strip().splitlines()[-1]) / 1024


def main(n: int) -> str:
    master = OUT / f"commands_{n}" / "master.xlsx"
    if not master.exists():
        raise SystemExit(f"no master at {master}: run bench/bench_commands.py --build {n} first")
    work = OUT / f"encoding_{n}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    books = {"UTF-8": work / "utf8.xlsx", "ASCII (&#…;)": work / "ascii.xlsx"}
    shutil.copyfile(master, books["UTF-8"])
    ascii_twin(master, books["ASCII (&#…;)"])
    what = {
        "calamine, every sheet": lambda p: ["-c", READ_ALL, str(p)],
        "validate": lambda p: ["-m", "kehoach_xl", "validate", str(p)],
        "refresh": lambda p: ["-m", "kehoach_xl", "refresh", str(p), "--as-of", AS_OF],
        "tasks --json": lambda p: ["-m", "kehoach_xl", "tasks", str(p), "--json"],
    }
    best: dict[tuple[str, str], tuple[float, float]] = {}
    for _ in range(3):  # interleaved: a burst of load hits both encodings alike
        for w, argv in what.items():
            for enc, book in books.items():
                run = work / "run.xlsx"
                shutil.copyfile(book, run)  # refresh writes: every run starts from the same bytes
                r = timed(argv(run), cwd=work)
                if (w, enc) not in best or r[0] < best[(w, enc)][0]:
                    best[(w, enc)] = r
    lines = [
        "# The master's sheet encoding: UTF-8 against ASCII character references",
        "",
        f"Measured {time.strftime('%d/%m/%Y %H:%M')} by `bench/bench_master_encoding.py {n}` (2 shared cores, "
        f"Python {sys.version.split()[0]}); fastest of 3 interleaved runs, each in its own process "
        "(`python -m kehoach_xl …`, imports included); peak RSS from `/usr/bin/time`.",
        "",
        f"Sheet XML: UTF-8 {sheet_xml_mb(books['UTF-8']):.1f} MB, ASCII {sheet_xml_mb(books['ASCII (&#…;)']):.1f} MB; "
        f"file {books['UTF-8'].stat().st_size / 1e6:.2f} MB and {books['ASCII (&#…;)'].stat().st_size / 1e6:.2f} MB.",
        "",
        f"| {n:,} tasks | UTF-8 | ASCII (&#…;) | ASCII ÷ UTF-8 |",
        "|---|---:|---:|---:|",
    ]
    for w in what:
        u, a = best[(w, "UTF-8")], best[(w, "ASCII (&#…;)")]
        lines.append(f"| {w} | {u[0]:.2f} s, {u[1]:.0f} MiB | {a[0]:.2f} s, {a[1]:.0f} MiB | {a[0] / u[0]:.2f}× |")
    text = "\n".join(lines) + "\n"
    (HERE / "results_master_encoding.md").write_text(text, encoding="utf-8")
    return text


if __name__ == "__main__":
    print(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000))
