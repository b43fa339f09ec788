"""Benchmark writes to the master: surgical patch vs. the zip floor vs. openpyxl.

    .venv/bin/python bench/bench_write.py               # 1,000 and 10,000 tasks
    .venv/bin/python bench/bench_write.py 1000 10000 50000

Each measurement runs in its own subprocess; its peak RSS (VmHWM, reset just
before the timed call) includes the interpreter and imports, ~30 MiB. Masters are built afresh per size under bench/out/ (ignored by git).

* patch refresh: 5 derived columns written in every task row;
* patch merge:   6 unit-reported columns written in 10% of the rows;
* patch append:  a night's appended rows: 5 log rows per task (9 columns) and 2 history
                 rows per task (11 columns), as ``nightly`` writes them;
* floor:         inflate every member and deflate it again (what any writer of
                 the package must at least do if it recompresses everything);
* openpyxl:      load_workbook + save, with no change at all.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import subprocess
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kehoach_xl.model import schema  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _peak import peak_kib as _peak_kib  # noqa: E402
from _peak import reset_peak as _reset_peak  # noqa: E402

OUT = ROOT / "bench" / "out"

_WORDS = (
    "Triển khai thực hiện nâng cao chỉ số năng lực cạnh tranh cấp tỉnh đẩy mạnh cải cách hành chính "
    "chuyển đổi số tăng cường công khai minh bạch thông tin hỗ trợ doanh nghiệp tiếp cận đất đai "
    "rà soát thủ tục giảm chi phí không chính thức đối thoại định kỳ với cộng đồng doanh nghiệp"
).split()
_UNITS = ["Sở Kế hoạch và Đầu tư", "Sở Tài chính", "Sở Tư pháp", "Sở Nội vụ", "UBND thành phố",
          "Sở Tài nguyên và Môi trường", "Sở Công Thương", "Ban Quản lý Khu kinh tế"]
_DEADLINES = ["Quý I/2025", "Tháng 6/2025", "Thường xuyên", "Năm 2025", "Trước 30/9/2025", "Hằng quý"]


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(n)).capitalize()


def task_rows(n: int, seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        rows.append({
            "id": f"NV{i + 1:05d}", "group": f"G{i % 10 + 1}", "group_title": _text(rng, 5),
            "stt": str(i % 40 + 1), "criterion": _text(rng, 6), "task": _text(rng, 18),
            "output": _text(rng, 8), "lead_units": rng.choice(_UNITS),
            "coordinating_units": "; ".join(rng.sample(_UNITS, 2)), "leaders": "Đ/c Nguyễn Văn A",
            "deadline_text": rng.choice(_DEADLINES), "status": "Đang thực hiện", "progress": 0.5,
            "result": _text(rng, 12), "plan_code": "KH-125", "notes": "",
        })
    return rows


def build_master(n: int) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"master_{n}.xlsx"
    from kehoach_xl.commands.init import create_master

    create_master(path, tasks=task_rows(n), meta={"plan_title": "Kế hoạch thử tải"}, overwrite=True)
    return path


def _columns(src: Path) -> dict[str, int]:
    """Column of each key, found by header text as the real commands do."""
    from python_calamine import CalamineWorkbook

    header = CalamineWorkbook.from_path(str(src)).get_sheet_by_name(schema.TASKS.name).to_python(nrows=1)[0]
    where = {str(h).strip(): i + 1 for i, h in enumerate(header)}
    return {c.key: where[c.header] for c in schema.TASKS.columns if c.header in where}


def changes_for(kind: str, n: int, src: Path):
    from kehoach_xl.model.changes import MasterChanges

    cols = _columns(src)

    def _col(key: str) -> int:
        return cols[key]

    ch = MasterChanges()
    name = schema.TASKS.name
    today = dt.date(2025, 5, 1)
    rng = random.Random(7)
    if kind == "refresh":
        for i in range(n):
            r = i + 2
            ch.set(name, r, _col("due_date"), today + dt.timedelta(days=i % 300))
            ch.set(name, r, _col("days_remaining"), i % 300 - 20)
            ch.set(name, r, _col("working_days_remaining"), (i % 300 - 20) * 5 // 7)
            ch.set(name, r, _col("deadline_state"), rng.choice(list(schema.DEADLINE_STATES.values())))
            ch.set(name, r, _col("next_due"), today + dt.timedelta(days=i % 90))
    elif kind == "append":
        # What a night appends at n tasks (nightly at 10,000: 50,177 log rows, 20,000 history rows).
        when = dt.datetime(2025, 5, 1, 2, 0)
        for i in range(5 * n):
            ch.append(schema.LOG.name, [when, "merge", f"2025-04_Phong_{i % 40:02d}.xlsx", rng.choice(_UNITS),
                                        f"NV{i % n + 1:05d}", "Kết quả thực hiện", _text(rng, 8),
                                        _text(rng, 12), "kehoach-xl"])
        for i in range(2 * n):
            ch.append(schema.HISTORY.name, ["2025-04", f"NV{i % n + 1:05d}", rng.choice(_UNITS), schema.STATUS_DONE,
                                            rng.choice([0.5, 1.0, None]), rng.choice([today, None]), "Trong hạn",
                                            _text(rng, 15), None, rng.choice([None, _text(rng, 5)]), when])
    else:
        for i in range(0, n, 10):
            r = i + 2
            ch.set(name, r, _col("status"), schema.STATUS_DONE)
            ch.set(name, r, _col("progress"), 1.0)
            ch.set(name, r, _col("completed_on"), today)
            ch.set(name, r, _col("result"), _text(rng, 20))
            ch.set(name, r, _col("updated_at"), dt.datetime(2025, 5, 1, 9, 30))
            ch.set(name, r, _col("updated_by"), "Sở Tài chính")
    return ch


def measure(kind: str, src: Path, n: int) -> dict:
    """Run inside the child process; returns seconds and peak RSS."""
    dst = src.with_name(f"{src.stem}_{kind}.xlsx")
    if kind in ("refresh", "merge", "append"):
        from kehoach_xl.io.xlsx_patch import patch_xlsx

        ch = changes_for(kind, n, src)
        _reset_peak()
        t0 = time.perf_counter()
        patch_xlsx(src, dst, ch)
        secs = time.perf_counter() - t0
    elif kind == "command":
        # The whole `kehoach-xl refresh`: read with calamine, derive every task, lock,
        # back up, patch, re-read and verify, atomic replace, log row.
        import shutil

        from kehoach_xl.commands.refresh import refresh

        work = src.with_name(f"{src.stem}_command.xlsx")
        shutil.copyfile(src, work)
        _reset_peak()
        t0 = time.perf_counter()
        refresh(work, as_of=dt.date(2025, 5, 1))
        secs = time.perf_counter() - t0
    elif kind == "floor":
        _reset_peak()
        t0 = time.perf_counter()
        with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                zout.writestr(info, zin.read(info), compress_type=info.compress_type)
        secs = time.perf_counter() - t0
    elif kind == "openpyxl":
        import openpyxl

        _reset_peak()
        t0 = time.perf_counter()
        wb = openpyxl.load_workbook(src)
        wb.save(dst)
        secs = time.perf_counter() - t0
    else:
        raise SystemExit(f"unknown kind {kind}")
    return {"kind": kind, "seconds": secs, "peak_mib": _peak_kib() / 1024}


def run_child(kind: str, src: Path, n: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(src), str(n)],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(sizes: list[int]) -> str:
    lines = [
        "| tasks | master size | floor | patch refresh (5 cols × all rows) | patch merge (6 cols × 10%) "
        "| patch append (5 log + 2 history rows per task) "
        "| `kehoach-xl refresh` end to end | openpyxl load+save | refresh / floor | openpyxl / refresh |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in sizes:
        src = OUT / f"master_{n}.xlsx"
        # Built afresh (the layout follows schema.py) in a child, so this process stays small.
        subprocess.run([sys.executable, __file__, "--build", str(n)], check=True)
        # The fastest of several runs: the machine is shared and noise only adds time.
        res = {}
        for k in ("floor", "refresh", "merge", "append", "command", "openpyxl"):
            runs = [run_child(k, src, n) for _ in range(2 if k == "openpyxl" else 3)]
            res[k] = min(runs, key=lambda r: r["seconds"])

        def cell(k: str, res: dict = res) -> str:
            return f"{res[k]['seconds']:.2f} s, {res[k]['peak_mib']:.0f} MiB"

        lines.append(
            f"| {n:,} | {src.stat().st_size / 1e6:.1f} MB | {cell('floor')} | {cell('refresh')} | {cell('merge')} | {cell('append')} "
            f"| {cell('command')} | {cell('openpyxl')} | {res['refresh']['seconds'] / res['floor']['seconds']:.2f}× "
            f"| {res['openpyxl']['seconds'] / res['refresh']['seconds']:.1f}× |"
        )
        print(lines[-1], flush=True)
    table = "\n".join(lines)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    note = (
        f"Measured {dt.datetime.now():%d/%m/%Y %H:%M} on this machine ({os.cpu_count()} cores, "
        f"load average {load:.1f} at the end; Python {sys.version.split()[0]}). Times are the fastest of "
        "3 runs (openpyxl: 2); peak = VmHWM of the measuring subprocess, reset just before the timed call.\n\n"
    )
    (ROOT / "bench" / "results.md").write_text("# Write benchmark\n\n" + note + table + "\n", encoding="utf-8")
    return table


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(measure(sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]))))
    elif len(sys.argv) > 1 and sys.argv[1] == "--build":
        build_master(int(sys.argv[2]))
    else:
        sizes = [int(a) for a in sys.argv[1:]] or [1000, 10000]
        print(main(sizes))
