"""Benchmark the commands staff run, end to end, at growing sizes: does any grow faster than the data?

    .venv/bin/python bench/bench_commands.py                    # 1,000 and 10,000 tasks
    .venv/bin/python bench/bench_commands.py 1000 10000 50000   # adds 50,000 (several minutes)
    .venv/bin/python bench/bench_commands.py --before HEAD~3    # also the code of another commit, side by side
    .venv/bin/python bench/bench_commands.py --reuse 1000 10000 50000   # the masters an earlier run built
    .venv/bin/python bench/bench_commands.py --only refresh,nightly --out results_x.md 10000   # some commands

For each size it builds a master (``create_master``; the tasks of ``bench_write.task_rows``
spread over 40 units with e-mail addresses, so the briefing has its 40 reminders) under
``bench/out/commands_<n>/``, then runs each command through the command line's own entry point
(``kehoach_xl.cli.main.main``, output to /dev/null) in its own subprocess, on a fresh copy of
the master: validate, refresh, summary --export, briefing, report and tasks --json. Beside
them, also in subprocesses: the zip floor of the master (inflate and deflate every member) and
a naive openpyxl ``load_workbook`` + ``save``.

Time is the fastest of ``--repeat`` runs (default 3; 2 from 10,000 tasks; 1 from 50,000):
the machine is shared and noise only ever adds time. A command's peak comes from one more run of
it alone, as staff run it (``python -m kehoach_xl …`` in its own process: interpreter and the
imports the command makes included, as ``/usr/bin/time`` reports); the timed runs import
openpyxl, matplotlib and Jinja2 before the clock starts, so their VmHWM carried 100+ MiB of
modules most commands never load. A baseline's peak is its child's VmHWM, reset before the call. slope = log(t2/t1) / log(n2/n1) between consecutive sizes:
1 is linear, 2 quadratic. ``--before REF`` extracts ``kehoach_xl/`` and ``templates/`` of REF
(``git archive``) and times that code too, interleaved run by run with the current code.
The table is printed and written to ``bench/results_commands.md``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

if os.environ.get("KEHOACH_BENCH_CODE"):  # --before: the child imports another commit's package
    sys.path.insert(0, os.environ["KEHOACH_BENCH_CODE"])

from _master import PERIOD, build_master  # noqa: E402  (also sets the bench's signing key)
from _peak import peak_kib as _peak_kib  # noqa: E402
from _peak import reset_peak as _reset_peak  # noqa: E402

# The inbox waits for files still being copied in by people; the bench's files are complete.
os.environ.setdefault("KEHOACH_INBOX_SETTLE_SECONDS", "0")

OUT = Path(os.environ.get("KEHOACH_BENCH_OUT", HERE / "out"))  # another folder: build beside the current masters
AS_OF = "2025-05-05"
COMMANDS = ("validate", "refresh", "summary --export", "briefing", "report", "tasks --json",
            "merge (40 submissions)", "nightly (40 submissions)", "import (Word table)")
BASELINES = ("zip floor", "calamine read, every sheet", "openpyxl load+save")


def _shape(i: int, r: dict) -> None:
    """A fifth of the tasks done, the rest half way; some with difficulties (the reports list them)."""
    r["progress"] = 50  # percent, as staff type it (0.5 would be flagged as a fraction)
    if i % 5 == 4:
        r["status"], r["progress"], r["completed_on"] = "Hoàn thành", 100, dt.date(2025, 3, 1 + i % 28)
    if i % 11 == 0:
        r["difficulties"] = "Thiếu kinh phí và nhân lực để triển khai"


def build(n: int) -> Path:
    """``_master.build_master`` (units with e-mail addresses, one leader) and the plan as a Word table."""
    work = OUT / f"commands_{n}"
    master, rows = build_master(work, n, shape=_shape, leaders=[{"name": "Nguyễn Văn A", "email": "lanhdao@example.vn"}])
    plan_docx(work / "plan.docx", rows)
    return master


def plan_docx(path: Path, rows: list[dict]) -> None:
    """A plan appendix as a Word table of ``len(rows)`` tasks (one group row per 100 tasks).

    python-docx's ``add_row`` re-walks the table each time; rows are copied as XML instead so
    building 50,000 rows stays a matter of seconds (the bench measures import, not the build).
    """
    import copy

    from docx import Document

    doc = Document()
    doc.add_paragraph("Phụ lục: Nhiệm vụ thực hiện Kế hoạch thử tải")
    heads = ("STT", "Nhiệm vụ", "Đơn vị chủ trì", "Đơn vị phối hợp", "Thời gian hoàn thành", "Sản phẩm")
    table = doc.add_table(rows=2, cols=len(heads))
    for c, h in zip(table.rows[0].cells, heads, strict=True):
        c.text = h
    tbl, template = table._tbl, table.rows[1]._tr
    tbl.remove(template)

    def add(values: tuple[str, ...]) -> None:
        tr = copy.deepcopy(template)
        for tc, v in zip(tr.iterchildren("{*}tc"), values, strict=True):
            p = tc.find("{*}p")
            r = p.makeelement(p.tag.replace("}p", "}r"), {})
            t = r.makeelement(p.tag.replace("}p", "}t"), {})
            t.text = v
            r.append(t)
            p.append(r)
        tbl.append(tr)

    for i, r in enumerate(rows):
        if i % 100 == 0:
            add((_roman(i // 100 + 1), f"Nhóm nhiệm vụ {i // 100 + 1}", "", "", "", ""))
        add((str(i % 100 + 1), str(r["task"]), str(r["lead_units"]), str(r["coordinating_units"]),
             f"Tháng {i % 12 + 1}/2025", "Báo cáo"))
    doc.save(path)


def _roman(n: int) -> str:
    out = ""
    for v, s in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"),
                 (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= v:
            out, n = out + s, n - v
    return out


def _argv(cmd: str, m: Path, run: Path) -> list[str]:
    return {
        "validate": ["validate", str(m)],
        "refresh": ["refresh", str(m), "--as-of", AS_OF],
        "summary --export": ["summary", str(m), "--as-of", AS_OF, "--export", str(run / "tong_hop.xlsx")],
        "briefing": ["briefing", str(m), "--period", PERIOD, "--as-of", AS_OF, "--out", str(run / "giao_ban")],
        "report": ["report", str(m), "--period", PERIOD, "--as-of", AS_OF, "--out", str(run / "bao_cao.docx")],
        "tasks --json": ["tasks", str(m), "--json"],
        "merge (40 submissions)": ["merge", str(m), str(run / "inbox"), "--as-of", AS_OF],
        "nightly (40 submissions)": ["nightly", str(run / "kehoach.toml")],
        "import (Word table)": ["import", str(run / "plan.docx"), "--into", str(run / "new.xlsx"),
                                "--plan-code", "TT", "--plan-year", "2025", "--add-unknown"],
    }[cmd]


def _prepare(what: str, master: Path, run: Path) -> list[str]:
    """A fresh copy of the master (and inbox, plan) under ``run``; the command's arguments."""
    m = run / master.name
    shutil.copyfile(master, m)
    if what.startswith(("merge", "nightly")):
        shutil.copytree(master.parent / "inbox", run / "inbox")
        (run / "kehoach.toml").write_text(f'master = "{m.name}"\ninbox = "inbox"\n', encoding="utf-8")
    if what.startswith("import"):
        shutil.copyfile(master.parent / "plan.docx", run / "plan.docx")
    return _argv(what, m, run)


def measure_alone(what: str, master: Path) -> dict:
    """Peak memory of the command run as staff run it: ``python -m kehoach_xl …`` in its own process.

    The timed runs import openpyxl, matplotlib, Jinja2 … beforehand so that imports stay out of the
    time; their VmHWM therefore carries modules a command may never load. This peak is the whole
    process's (imports included, only the ones the command makes), as ``/usr/bin/time`` reports it.
    """
    import resource

    run = master.parent / "run"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir()
    argv = _prepare(what, master, run)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (os.environ.get("KEHOACH_BENCH_CODE", str(ROOT)),
                                                    env.get("PYTHONPATH")) if p)
    # cwd=run: ``-m`` puts the working directory first on sys.path, ahead of PYTHONPATH; started from a
    # checkout it imported that checkout's package, so a ``--before`` row measured the current code.
    rc = subprocess.run([sys.executable, "-m", "kehoach_xl", *argv], env=env, stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL, cwd=run).returncode
    if rc not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} exited {rc}")
    return {"alone_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def measure(what: str, master: Path) -> dict:
    """Run inside the child: one timed call; seconds, peak RSS and exit code."""
    run = master.parent / "run"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir()
    rc = 0
    if what == "zip floor":
        import zipfile

        dst = run / "floor.xlsx"
        _reset_peak()
        t0 = time.perf_counter()
        with zipfile.ZipFile(master) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                zout.writestr(info, zin.read(info), compress_type=info.compress_type)
        secs = time.perf_counter() - t0
    elif what == "calamine read, every sheet":
        from python_calamine import CalamineWorkbook

        _reset_peak()
        t0 = time.perf_counter()
        wb = CalamineWorkbook.from_path(str(master))
        for name in wb.sheet_names:
            wb.get_sheet_by_name(name).to_python()
        secs = time.perf_counter() - t0
    elif what == "openpyxl load+save":
        import openpyxl

        _reset_peak()
        t0 = time.perf_counter()
        openpyxl.load_workbook(master).save(run / "openpyxl.xlsx")
        secs = time.perf_counter() - t0
    else:
        import contextlib

        import docxtpl  # noqa: F401  - heavy imports happen before the clock starts, in every command
        import jinja2  # noqa: F401
        import matplotlib.pyplot  # noqa: F401
        import openpyxl  # noqa: F401
        import python_calamine  # noqa: F401

        import kehoach_xl
        from kehoach_xl.cli.main import main

        assert Path(kehoach_xl.__file__).parent.parent == Path(os.environ.get("KEHOACH_BENCH_CODE", ROOT))

        argv = _prepare(what, master, run)
        with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
            _reset_peak()
            c0 = time.process_time()
            t0 = time.perf_counter()
            rc = main(argv)
            secs = time.perf_counter() - t0
            cpu = time.process_time() - c0
        if rc not in (0, 1):  # 1: validate found problems, still a full run
            raise SystemExit(f"{' '.join(argv)} exited {rc}")
    return {"seconds": secs, "peak_mib": _peak_kib() / 1024, "rc": rc, "cpu": locals().get("cpu")}


def child(args: list[str], code: Path | None = None) -> dict:
    env = dict(os.environ)
    if code is not None:
        env["KEHOACH_BENCH_CODE"] = str(code)
    else:
        env.pop("KEHOACH_BENCH_CODE", None)
    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def extract(ref: str) -> Path:
    """``kehoach_xl/`` and ``templates/`` of commit ``ref`` under bench/out/code_<sha>/."""
    sha = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", ref], check=True,
                         capture_output=True, text=True).stdout.strip()
    dest = OUT / f"code_{sha}"
    if not (dest / "kehoach_xl").exists():
        data = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "kehoach_xl", "templates"],
                              check=True, capture_output=True).stdout
        dest.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall(dest, filter="tar")
    return dest


def _k(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else f"{n:,}"


def _fmt(r: dict | None) -> str:
    if r is None:
        return "—"
    if "alone_mib" in r:
        return f"{r['seconds']:.2f} s, {r['alone_mib']:.0f} MiB"
    return f"{r['seconds']:.2f} s, {r['peak_mib']:.0f} MiB"


def main(sizes: list[int], before: str | None, repeat: int | None, reuse: bool = False,
         only: list[str] | None = None, out: str = "results_commands.md") -> str:
    variants: list[tuple[str, Path | None]] = [("", None)]
    if before:
        variants.insert(0, (f" @{before}", extract(before)))
    commands = [c for c in COMMANDS if not only or any(c.startswith(o) for o in only)]
    rows = [(w + lab, w, code) for w in commands for lab, code in variants]
    rows += [(b, b, None) for b in BASELINES]
    best: dict[tuple[str, int], dict] = {}
    sizes_mb = {}
    for n in sizes:
        master = OUT / f"commands_{n}" / "master.xlsx"
        if not (reuse and (master.parent / "plan.docx").exists()):
            child(["--build", str(n)])
        sizes_mb[n] = master.stat().st_size / 1e6
        reps = repeat or (3 if n < 10_000 else 2 if n < 50_000 else 1)
        for _ in range(reps):  # interleaved: a burst of load on the machine hits every row alike
            for label, what, code in rows:
                r = child(["--measure", what, str(master)], code)
                key = (label, n)
                if key not in best or r["seconds"] < best[key]["seconds"]:
                    best[key] = r
        for label, what, code in rows:
            if what not in BASELINES:
                best[(label, n)].update(child(["--alone", what, str(master)], code))
            print(f"{n:>7,} {label:<34} {_fmt(best[(label, n)])}", flush=True)
    head = "| command | " + " | ".join(f"{n:,} tasks ({sizes_mb[n]:.1f} MB)" for n in sizes)
    slopes = list(zip(sizes, sizes[1:], strict=False))
    head += "".join(f" | slope {_k(a)}→{_k(b)}" for a, b in slopes) + " |"
    lines = [head, "|---" + "|---:" * (len(sizes) + len(slopes)) + "|"]
    for label, *_ in rows:
        cells = [_fmt(best.get((label, n))) for n in sizes]
        for a, b in slopes:
            ta, tb = best[(label, a)]["seconds"], best[(label, b)]["seconds"]
            cells.append(f"{math.log(tb / ta) / math.log(b / a):.2f}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    note = (f"Measured {dt.datetime.now():%d/%m/%Y %H:%M} ({os.cpu_count()} cores shared, load average "
            f"{load:.1f} at the end; Python {sys.version.split()[0]}). Each cell: fastest of the runs, peak "
            "VmHWM of the measuring subprocess for the baselines; for a command, the peak of the command run "
            "alone (`python -m kehoach_xl …` in its own process, imports included). slope: log-log between sizes (1 = linear).\n\n")
    (HERE / out).write_text("# Command benchmark\n\n" + note + table + "\n", encoding="utf-8")
    return table


if __name__ == "__main__":
    if sys.argv[1:2] == ["--build"]:
        build(int(sys.argv[2]))
        print("{}")
    elif sys.argv[1:2] == ["--alone"]:
        print(json.dumps(measure_alone(sys.argv[2], Path(sys.argv[3]))))
    elif sys.argv[1:2] == ["--measure"]:
        print(json.dumps(measure(sys.argv[2], Path(sys.argv[3]))))
    else:
        args = sys.argv[1:]
        reuse = "--reuse" in args  # the masters built by an earlier run (the 50,000-task build takes minutes)
        if reuse:
            args.remove("--reuse")
        opts: dict[str, str] = {}
        for flag in ("--before", "--repeat", "--only", "--out"):
            if flag in args:
                i = args.index(flag)
                opts[flag] = args[i + 1]
                del args[i:i + 2]
        print(main([int(a) for a in args] or [1000, 10000], opts.get("--before"),
                   int(opts["--repeat"]) if "--repeat" in opts else None, reuse,
                   only=opts["--only"].split(",") if "--only" in opts else None,
                   out=opts.get("--out", "results_commands.md")))
