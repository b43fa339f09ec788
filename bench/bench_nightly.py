"""Benchmark the nightly job: merge of unit submissions + validate + refresh + summary.

    .venv/bin/python bench/bench_nightly.py               # 1,000 and 10,000 tasks, 40 units
    .venv/bin/python bench/bench_nightly.py 1000 10000 50000

For each size it builds a master whose tasks are spread over 40 units (``_master.build_master``,
as ``bench_commands`` and ``bench_submissions`` do): one workbook per unit issued for the period and
filled as its unit would (``simulate_unit_submissions``) in the inbox. Then it times one ``nightly`` run in
its own subprocess: seconds, peak RSS (VmHWM, reset just before the call), and the number of
backups and writes the night made. Beside it, the zip floor of the master (inflate and
deflate every member once). Results are appended to ``bench/results_nightly.md`` with the
label given by ``--label`` (e.g. ``before``/``after`` a change), so two code versions can be
compared side by side: run this file from each checkout with the same sizes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _master import build_master  # noqa: E402  (also sets the bench's signing key)
from _peak import peak_kib as _peak_kib  # noqa: E402
from _peak import reset_peak as _reset_peak  # noqa: E402

OUT = HERE / "out"
AS_OF = dt.date(2025, 5, 5)


def _shape(i: int, r: dict) -> None:
    # Every task under way at 0.3 (a fraction, which validate warns about): the rows the nightly
    # figures in results_nightly.md were measured on, kept so new rows compare with the old.
    r["status"] = "Đang thực hiện"
    r["progress"] = 0.3


def build(n: int) -> Path:
    """Master + inbox with one filled submission per unit, under bench/out/nightly_<n>/ (units without e-mail)."""
    master, _ = build_master(OUT / f"nightly_{n}", n, shape=_shape, emails=False)
    return master


def measure(master: Path) -> dict:
    import kehoach_xl as kx
    from kehoach_xl.model.config import load_config  # noqa: F401  (same import cost in both versions)

    work = master.parent
    run = work / "run"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir()
    m = run / master.name
    shutil.copyfile(master, m)
    shutil.copytree(work / "inbox", run / "hop_thu_den")
    (run / "kehoach.toml").write_text('master = "master.xlsx"\ninbox = "hop_thu_den"\n', encoding="utf-8")
    before = {p for p in run.rglob("*") if p.is_file()}
    _reset_peak()
    t0 = time.perf_counter()
    rep = kx.nightly(run / "kehoach.toml", as_of=AS_OF, progress=False)
    secs = time.perf_counter() - t0
    peak = _peak_kib() / 1024
    new = [p for p in run.rglob("*") if p.is_file() and p not in before]
    # Whole copies of the master only: the backup folder also holds its manifest (.json).
    backups = [p for p in new if ("backup" in p.parent.name or "sao_luu" in str(p))
               and p.suffix.lower() in (".xlsx", ".xlsm")]
    d = rep.to_dict()
    return {"seconds": secs, "peak_mib": peak, "backups": len(backups), "ok": d.get("ok"),
            "steps": [s["step"] + ":" + s["status"] for s in d.get("steps", [])]}


def floor(master: Path) -> float:
    dst = master.with_name("floor.xlsx")
    t0 = time.perf_counter()
    with zipfile.ZipFile(master) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info), compress_type=info.compress_type)
    return time.perf_counter() - t0


def child(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(sizes: list[int], label: str) -> str:
    lines = []
    for n in sizes:
        child("--build", str(n))
        master = OUT / f"nightly_{n}" / "master.xlsx"
        fl = min(floor(master) for _ in range(3))
        r = child("--measure", str(master))
        lines.append(
            f"| {label} | {n:,} | 40 | {master.stat().st_size / 1e6:.1f} MB | {fl:.2f} s | {r['seconds']:.1f} s "
            f"| {r['peak_mib']:.0f} MiB | {r['backups']} | {r['seconds'] / fl:.0f}× | {', '.join(r['steps'])} |"
        )
        print(lines[-1], flush=True)
    stamp = f"{dt.datetime.now():%d/%m/%Y %H:%M}, {os.cpu_count()} cores, Python {sys.version.split()[0]}"
    res = HERE / "results_nightly.md"
    if not res.exists():
        res.write_text(
            "# Nightly benchmark\n\nOne `nightly` (merge of 40 unit submissions, validate, refresh, summary) per row; "
            "peak = VmHWM of the measuring subprocess; backups = backup files the night made.\n\n"
            "| code | tasks | submissions | master | zip floor | nightly | peak | backups | nightly / floor | steps |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n", encoding="utf-8")
    with res.open("a", encoding="utf-8") as f:
        f.write("\n".join(lines).replace("| " + label, f"| {label} ({stamp})", 1) + "\n"
                if len(lines) == 1 else "\n".join(f"{ln}" for ln in lines) + f"\n<!-- {label}: {stamp} -->\n")
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--build"]:
        build(int(sys.argv[2]))
        print("{}")
    elif sys.argv[1:2] == ["--measure"]:
        print(json.dumps(measure(Path(sys.argv[2]))))
    else:
        args = sys.argv[1:]
        label = "current"
        if "--label" in args:
            i = args.index("--label")
            label = args[i + 1]
            del args[i:i + 2]
        print(main([int(a) for a in args] or [1000, 10000], label))
