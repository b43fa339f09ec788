"""Does the master stay fast after a year of use? refresh on a fresh master, after twelve months of merges, and
after ``archive``, side by side.

    .venv/bin/python bench/bench_archive.py            # 10,000 tasks (~3 min)
    .venv/bin/python bench/bench_archive.py 50000      # the coordinator's size (much longer)

For each size it builds a master (``create_master`` with ``bench_write.task_rows``, 40 units) under
``bench/out/archive_<n>/`` and three copies of it:

* fresh — as created;
* a year — twelve months of merges as ``tests/excel/year_of_use.add_year_of_use`` leaves them (two log
  rows per task and month, one history row per task and month: 24 log rows and 12 history rows a task);
* archived — the year copy after ``kehoach-xl archive`` on 15/01/2025 (defaults: log of the last 3
  months, history of the last 12 periods and the old rows the rules still read).

Each is timed in its own subprocess under ``/usr/bin/time -v`` through the command line (``python -m
kehoach_xl``): ``refresh`` as of 15/01/2025 on a fresh copy (the derived columns of every row change;
the write reads the log sheet's header), then again (nothing changes: read and compute only). Time
is the fastest of ``--repeat`` runs (default 2), peak the child's maximum resident set. The archive
run itself is timed once. The table is printed and written to ``bench/results_archive.md``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))
OUT = HERE / "out"
AS_OF = "15/01/2025"
UNITS = [f"Phòng Chuyên môn số {i + 1:02d}" for i in range(40)]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def timed(args: list[str]) -> tuple[float, float]:
    """(seconds, peak MiB) of ``python -m kehoach_xl ARGS`` under /usr/bin/time -v."""
    proc = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-m", "kehoach_xl", *args], env=_env(),
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{args}: {proc.stderr[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", proc.stderr)
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    assert wall and peak, proc.stderr
    secs = int(wall[1] or 0) * 3600 + int(wall[2]) * 60 + float(wall[3])
    return secs, int(peak[1]) / 1024


# The archived copies: (folder, kehoach.toml text). The defaults, and a shorter history window.
ARCHIVED = {"archived": "", "archived, 3 periods": "[archive]\nhistory_keep_periods = 3\n"}


def build(n: int, reuse: bool = False) -> dict[str, Path]:
    work = OUT / f"archive_{n}"
    fresh, year = work / "fresh" / "master.xlsx", work / "year" / "master.xlsx"
    if not (reuse and fresh.exists() and year.exists()):
        _build(n, work)
    out = {"fresh": fresh, "year": year}
    for name, toml in ARCHIVED.items():
        folder = work / name.replace(", ", "_").replace(" ", "_")
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        if toml:
            (folder / "kehoach.toml").write_text(toml, encoding="utf-8")
        shutil.copy2(year, folder / "master.xlsx")
        out[name] = folder / "master.xlsx"
    return out


def _build(n: int, work: Path) -> None:
    from bench_write import task_rows

    import kehoach_xl as kx
    from tests.excel.year_of_use import add_year_of_use

    shutil.rmtree(work, ignore_errors=True)
    for name in ("fresh", "year"):
        (work / name).mkdir(parents=True)
    rows = task_rows(n)
    for i, r in enumerate(rows):
        r["lead_units"] = UNITS[i % len(UNITS)]
    fresh = work / "fresh" / "master.xlsx"
    kx.create_master(fresh, tasks=rows, units=[{"name": u} for u in UNITS],
                     meta={"plan_title": "Kế hoạch thử tải", "master_id": f"bench-archive-{n}"}, overwrite=True)
    year = work / "year" / "master.xlsx"
    shutil.copy2(fresh, year)
    counts = add_year_of_use(year, months=12, year=2024)
    print(f"{n} tasks: a year of use added {counts['log_rows']:,} log rows, {counts['history_rows']:,} history rows",
          flush=True)


def measure(n: int, repeat: int, reuse: bool = False) -> list[dict]:
    masters = build(n, reuse)
    out = []
    for name in ARCHIVED:
        archive_t, archive_peak = timed(["archive", str(masters[name]), "--as-of", AS_OF])
        print(f"archive ({name}): {archive_t:.1f} s, {archive_peak:.0f} MiB", flush=True)
        out.append({"n": n, "archive": (archive_t, archive_peak), "variant": name})
    for name, master in masters.items():
        runs_change, runs_same = [], []
        for _ in range(repeat):
            copy = master.with_name("timed.xlsx")
            shutil.copy2(master, copy)
            runs_change.append(timed(["refresh", str(copy), "--as-of", AS_OF]))
            runs_same.append(timed(["refresh", str(copy), "--as-of", AS_OF]))
            shutil.rmtree(copy.parent / ".kehoach_backups", ignore_errors=True)
            copy.unlink()
        from kehoach_xl.io.master_read import read_grids
        from kehoach_xl.model import schema

        grids = read_grids(master, [schema.LOG.name, schema.HISTORY.name])
        out.append({"n": n, "master": name, "mb": master.stat().st_size / 1e6,
                    "log": max(len(grids.get(schema.LOG.name, [])) - 1, 0),
                    "history": max(len(grids.get(schema.HISTORY.name, [])) - 1, 0),
                    "change": min(runs_change), "same": min(runs_same)})
        print(out[-1], flush=True)
    return out


def table(results: list[dict]) -> str:
    lines = ["| tasks | master | size | log rows | history rows | refresh, rows change | refresh, nothing changes "
             "| vs fresh (change / same) |", "|---:|---|---:|---:|---:|---:|---:|---:|"]
    fresh: dict[int, dict] = {}
    notes = []
    for r in results:
        if "archive" in r:
            t, peak = r["archive"]
            notes.append(f"- {r['n']:,} tasks, {r['variant']}: `archive` itself took {t:.1f} s, peak {peak:.0f} MiB.")
            continue
        if r["master"] == "fresh":
            fresh[r["n"]] = r
        f = fresh[r["n"]]
        lines.append(
            f"| {r['n']:,} | {r['master']} | {r['mb']:.1f} MB | {r['log']:,} | {r['history']:,} "
            f"| {r['change'][0]:.2f} s, {r['change'][1]:.0f} MiB | {r['same'][0]:.2f} s, {r['same'][1]:.0f} MiB "
            f"| {r['change'][0] / f['change'][0]:.2f}× / {r['same'][0] / f['same'][0]:.2f}× |")
    return "\n".join(lines + [""] + notes)


def main(argv: list[str]) -> None:
    repeat = 2
    reuse = "--reuse" in argv  # keep bench/out/archive_<n>/{fresh,year} from an earlier run
    if reuse:
        argv.remove("--reuse")
    if "--repeat" in argv:
        k = argv.index("--repeat")
        repeat = int(argv[k + 1])
        del argv[k:k + 2]
    sizes = [int(a) for a in argv] or [10_000]
    results = [r for n in sizes for r in measure(n, repeat, reuse)]
    text = table(results)
    print(text)
    header = (f"# After a year of use: refresh before and after `archive`\n\nMeasured {dt.date.today():%d/%m/%Y} by "
              "`bench/bench_archive.py` (2 shared cores; fastest of the runs; `/usr/bin/time -v`). Goal (issue 18): "
              "refresh on a master with twelve months of merges within 1.2× of a fresh one.\n\n")
    (HERE / "results_archive.md").write_text(header + text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
