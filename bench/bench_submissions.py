"""Benchmark reading unit submissions: openpyxl's full load vs the streamed reader vs the unzip floor.

    .venv/bin/python bench/bench_submissions.py            # 10,000 tasks, 40 submissions, 3 repeats
    .venv/bin/python bench/bench_submissions.py 1000 --repeat 2
    .venv/bin/python bench/bench_submissions.py 10000 --against /work/main [--rounds 5] [--dir bench/out/commands_10000]

Builds (once, under ``bench/out/submissions_<n>/``) a master of n tasks over 40 units and the
month's 40 filled unit workbooks (``_master.build_master``, shared with ``bench_commands`` and
``bench_nightly``). Then, each in its own subprocess, interleaved run by run:

- floor: unzip every member of the 40 files (the least any reader must do);
- checks: ``safe_open``'s zip checks only (limits, bombs, macros, XML safety, counts), no parsing;
- old: ``safe_open`` with the openpyxl full load (``_parse_book_openpyxl``, the code before);
- new: ``safe_open`` as it is (streamed, ``xlsx_stream``).

``--against DIR`` instead times the whole ``read_submission`` (checks, parse, signature, rows) with
DIR's code (another checkout) and with this tree's, interleaved in two long-lived processes, checks
that every result is the same, and appends a dated section to ``bench/results_submissions.md``.

A hostile but legal file is also read by old and new: a unit workbook whose report sheet holds
~50 MB of XML (450,000 cells of text, inside every limit). Time is the fastest run; peak is the
child's VmHWM reset just before the timed call (interpreter and imports included). The table is
printed and written to ``bench/results_submissions.md``.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

OUT = HERE / "out"
MODES = ("floor", "checks", "old", "new")

from _master import build_master  # noqa: E402  (also sets the bench's signing key)
from _peak import peak_kib as _peak_kib  # noqa: E402
from _peak import reset_peak as _reset_peak  # noqa: E402


def build(n: int) -> Path:
    """The 40 filled unit workbooks of an n-task master (kept between runs)."""
    work = OUT / f"submissions_{n}"
    inbox = work / "inbox"
    if inbox.is_dir() and len(list(inbox.glob("*.xlsx"))) == 40:
        if not (work / "hostile.xlsx").exists():
            hostile(sorted(inbox.glob("*.xlsx"))[0], work / "hostile.xlsx")
        return work
    build_master(work, n)
    hostile(sorted(inbox.glob("*.xlsx"))[0], work / "hostile.xlsx")
    return work


WORDS = ("báo cáo tiến độ thực hiện nhiệm vụ kế hoạch đơn vị phối hợp chủ trì kết quả khó khăn vướng mắc "
         "đề xuất kiến nghị hoàn thành đang triển khai chưa bắt đầu quý tháng năm Sở Ban ngành").split()


def hostile(src: Path, dest: Path, rows: int = 9000, cols: int = 50) -> None:
    """``src`` with its report sheet replaced by ~50 MB of text cells, under every default limit."""
    from kehoach_xl.io.xlsx_stream import column_letters

    rng = random.Random(7)
    with zipfile.ZipFile(src) as z:
        names = z.namelist()
        sheet = next(n for n in names if n.startswith("xl/worksheets/sheet"))
        xml = z.read(sheet)
        head, rest = xml.split(b"<sheetData>", 1) if b"<sheetData>" in xml else xml.split(b"<sheetData/>", 1)
        tail = rest.split(b"</sheetData>", 1)[1] if b"</sheetData>" in rest else rest
        letters = [column_letters(c) for c in range(1, cols + 1)]
        parts = [head, b"<sheetData>"]
        for r in range(1, rows + 1):
            cells = "".join(f'<c r="{letters[c]}{r}" t="inlineStr"><is><t>{" ".join(rng.choices(WORDS, k=11))}</t></is></c>'
                            for c in range(cols))
            parts.append(f'<row r="{r}">{cells}</row>'.encode())
        parts += [b"</sheetData>", tail]
        big = b"".join(parts)
        with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as out:
            for name in names:
                out.writestr(name, big if name == sheet else z.read(name))
    print(f"hostile file: sheet XML {len(big) / 1048576:.1f} MB, file {dest.stat().st_size / 1048576:.1f} MB",
          file=sys.stderr)


def measure(mode: str, files: list[Path]) -> dict:
    """Inside the child: read ``files`` once the ``mode`` way; seconds and peak."""
    from unittest import mock

    import openpyxl  # noqa: F401 - imports before the clock, for every mode
    from lxml import etree  # noqa: F401

    from kehoach_xl.io import submission
    from kehoach_xl.model.config import LimitsConfig

    limits = LimitsConfig()
    datas = [f.read_bytes() for f in files]  # the inbox reads each file once too
    cells = 0
    _reset_peak()
    t0 = time.perf_counter()
    if mode == "floor":
        import io

        for d in datas:
            with zipfile.ZipFile(io.BytesIO(d)) as z:
                for info in z.infolist():
                    z.read(info)
    else:
        patch = {"checks": lambda *a: None,
                 "old": submission._parse_book_openpyxl,
                 "new": submission._parse_book}[mode]
        with mock.patch.object(submission, "_parse_book", patch):
            for f, d in zip(files, datas, strict=True):
                book = submission.safe_open(f, limits, data=d)
                if book is not None:
                    cells += sum(len(r) for g in book.sheets.values() for r in g)
                del book
    secs = time.perf_counter() - t0
    return {"secs": secs, "peak_mib": _peak_kib() / 1024, "cells": cells}


def serve(work: Path, extra: list[Path]) -> None:
    """Inside a ``--serve`` child: read ``work``'s master once, then, for each line on stdin, pass every
    inbox file (and ``extra``) through ``read_submission`` and print the seconds and a digest of the
    results (their ``repr``, modification times left out)."""
    import datetime as dt
    import hashlib

    from kehoach_xl.io.master_read import read_master_and
    from kehoach_xl.io.submission import read_submission
    from kehoach_xl.model.config import Config

    md, _ = read_master_and(work / "master.xlsx", [])
    cfg = Config()
    files = sorted((work / "inbox").glob("*.xlsx"))
    datas = [f.read_bytes() for f in files]
    extras = [f.read_bytes() for f in extra]
    today = dt.date(2025, 5, 5)
    print("ready", flush=True)
    for _ in sys.stdin:
        out = {}
        for key, fs, ds in (("inbox", files, datas), ("extra", extra, extras)):
            t0 = time.perf_counter()
            subs = [read_submission(f, md, config=cfg, today=today, data=d) for f, d in zip(fs, ds, strict=True)]
            secs = time.perf_counter() - t0
            for sub in subs:
                sub.mtime = None
            text = "\n".join(map(repr, subs))
            out[key] = {"secs": secs, "sha": hashlib.sha256(text.encode()).hexdigest()[:16],
                        "refused": sum(s.rejected for s in subs), "entries": sum(len(s.entries) for s in subs)}
        print(json.dumps(out), flush=True)


def against(n: int, other: Path, rounds: int, work: Path | None) -> None:
    """``read_submission`` with ``other``'s code and with this tree's, interleaved, and whether the results match."""
    work = work or build(n)
    extra = [work / "hostile.xlsx"] if (work / "hostile.xlsx").exists() else []
    files = sorted((work / "inbox").glob("*.xlsx"))
    kids = {}
    for label, root in (("before", other), ("after", ROOT)):
        env = dict(os.environ, PYTHONPATH=str(root))
        kid = subprocess.Popen([sys.executable, __file__, "--serve", str(work), *map(str, extra)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True, env=env)
        assert kid.stdout is not None and kid.stdout.readline().strip() == "ready"
        kids[label] = kid
    best: dict[str, dict] = {}
    digests: dict[str, set[str]] = {}
    for _ in range(rounds):
        for label, kid in kids.items():
            assert kid.stdin is not None and kid.stdout is not None
            kid.stdin.write("go\n")
            kid.stdin.flush()
            res = json.loads(kid.stdout.readline())
            for key, r in res.items():
                b = best.setdefault(f"{label} {key}", r)
                b["secs"] = min(b["secs"], r["secs"])
                digests.setdefault(key, set()).add(r["sha"])
    for kid in kids.values():
        assert kid.stdin is not None
        kid.stdin.close()
        kid.wait()
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    same = all(len(d) == 1 for d in digests.values())
    b, a = best["before inbox"], best["after inbox"]
    lines = [
        "", f"## {time.strftime('%Y-%m-%d %H:%M')}: `read_submission`, {other} vs this tree", "",
        f"The {len(files)} filled unit workbooks of a {n:,}-task master ({work.name}), each passed whole through "
        "`read_submission` (zip checks, parse, signature, rows) by two long-lived processes, one per checkout, "
        f"interleaved, fastest of {rounds} rounds; {os.cpu_count()} cores shared, load average {load} at the end. "
        f"Results (every Submission's repr): **{'identical' if same else 'DIFFERENT'}** "
        f"({b['refused']} refused, {b['entries']:,} values read).", "",
        "| read_submission | all files | per file |", "|---|---:|---:|",
        f"| before ({other}) | {b['secs']:.2f} s | {1000 * b['secs'] / len(files):.1f} ms |",
        f"| **after (this tree)** | {a['secs']:.2f} s | {1000 * a['secs'] / len(files):.1f} ms |",
    ]
    if extra:
        hb, ha = best["before extra"], best["after extra"]
        lines.append(f"| hostile file (~50 MB sheet XML), before → after | {hb['secs']:.2f} s → {ha['secs']:.2f} s | |")
    lines += ["", f"After / before: {a['secs'] / b['secs']:.2f}."]
    text = "\n".join(lines) + "\n"
    print(text)
    with (HERE / "results_submissions.md").open("a", encoding="utf-8") as fh:
        fh.write(text)


def _child(mode: str, files: list[Path]) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, __file__, "--child", mode, *map(str, files)], capture_output=True,
                         text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        print(json.dumps(measure(argv[1], [Path(p) for p in argv[2:]])))
        return
    if argv[:1] == ["--serve"]:
        serve(Path(argv[1]), [Path(p) for p in argv[2:]])
        return
    if "--against" in argv:
        i = argv.index("--against")
        other, argv = Path(argv[i + 1]), argv[:i] + argv[i + 2:]
        rounds, work = 5, None
        if "--rounds" in argv:
            i = argv.index("--rounds")
            rounds, argv = int(argv[i + 1]), argv[:i] + argv[i + 2:]
        if "--dir" in argv:
            i = argv.index("--dir")
            work, argv = Path(argv[i + 1]), argv[:i] + argv[i + 2:]
        against(int(argv[0]) if argv else 10_000, other, rounds, work)
        return
    repeat = 3
    if "--repeat" in argv:
        i = argv.index("--repeat")
        repeat = int(argv[i + 1])
        argv = argv[:i] + argv[i + 2:]
    n = int(argv[0]) if argv else 10_000
    work = build(n)
    files = sorted((work / "inbox").glob("*.xlsx"))
    size = sum(f.stat().st_size for f in files)
    best: dict[str, dict] = {}
    cases = [(m, files) for m in MODES] + [(f"hostile {m}", [work / "hostile.xlsx"]) for m in ("floor", "old", "new")]
    for _ in range(repeat):
        for name, fs in cases:
            res = _child(name.split()[-1], fs)
            prev = best.get(name)
            best[name] = {"secs": min(res["secs"], prev["secs"]) if prev else res["secs"],
                          "peak_mib": max(res["peak_mib"], prev["peak_mib"]) if prev else res["peak_mib"],
                          "cells": res["cells"]}
    floor = best["floor"]["secs"]
    t0 = time.perf_counter()
    sum(i for i in range(3_000_000))  # how busy the shared machine was: the same loop, every run
    loop = time.perf_counter() - t0
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    hfloor = best["hostile floor"]["secs"]
    lines = [
        "# Reading unit submissions: openpyxl full load vs streamed reader",
        "",
        f"{len(files)} filled unit workbooks of a {n:,}-task master ({size / 1048576:.1f} MB zipped), read by",
        "`safe_open` (all the zip checks, then the parse) in one subprocess per mode, interleaved, fastest of "
        f"{repeat}. Peak = VmHWM of that subprocess (interpreter, openpyxl and lxml imported before the reset). "
        f"Produced by `bench/bench_submissions.py` on {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores (shared; "
        f"load average {load} at the end, a 3-million-step Python loop took {loop:.2f} s). Compare the rows "
        "with each other: the machine's load scales them all.",
        "",
        "| 40 submissions | time | per file | vs floor | peak | cells read |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    labels = {"floor": "floor: unzip every member", "checks": "zip checks only (no parse)",
              "old": "old: checks + openpyxl full load", "new": "**new: checks + streamed reader**"}
    for m in MODES:
        b = best[m]
        lines.append(f"| {labels[m]} | {b['secs']:.2f} s | {1000 * b['secs'] / len(files):.0f} ms | "
                     f"{b['secs'] / floor:.1f}× | {b['peak_mib']:.0f} MiB | {b['cells']:,} |")
    speed = best["old"]["secs"] / best["new"]["secs"]
    parse_old = best["old"]["secs"] - best["checks"]["secs"]
    parse_new = best["new"]["secs"] - best["checks"]["secs"]
    lines += ["", f"New is {speed:.1f}× faster than old over the whole read; the parse alone (time above the checks) "
                  f"went from {parse_old:.2f} s to {parse_new:.2f} s ({parse_old / max(parse_new, 1e-9):.1f}×).", "",
              "| hostile: one workbook, ~50 MB sheet XML, 450,000 text cells (within limits) | time | vs floor | peak |",
              "|---|---:|---:|---:|"]
    for m in ("floor", "old", "new"):
        b = best[f"hostile {m}"]
        lines.append(f"| {labels[m]} | {b['secs']:.2f} s | {b['secs'] / hfloor:.1f}× | {b['peak_mib']:.0f} MiB |")
    text = "\n".join(lines) + "\n"
    print(text)
    (HERE / "results_submissions.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
