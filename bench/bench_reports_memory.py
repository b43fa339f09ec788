"""Time and peak memory of the report commands, phase by phase (issue 18): what they add to the read.

    .venv/bin/python bench/bench_reports_memory.py MASTER [--repeat 3] [--commands summary,briefing,report]
    .venv/bin/python bench/bench_reports_memory.py MASTER --trace summary   # what is alive near the peak

Each command runs through the command line's entry point (``kehoach_xl.cli.main.main``, argv as
``bench_commands._argv``) in its own subprocess, on a fresh copy of MASTER (never written). The
functions the command calls are wrapped to mark the end of each phase — read (the master's rows),
compute (the figures, and for the briefing its rendered texts), write (sheet, export, files) —
and at each mark the process's VmHWM since the last mark is taken (peak of the phase), then reset.
CPU is ``time.process_time`` (the machine is shared: wall time is noisy); the fastest of the runs.

``--trace`` runs once under tracemalloc and prints, per phase, the traced peak and the largest
allocation sites of a snapshot taken near that peak (a watcher thread snapshots whenever the
traced memory passes its previous high by 16 MiB): a memray-style view without memray.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _peak import peak_kib, reset_peak  # noqa: E402

os.environ.setdefault("KEHOACH_SIGNING_KEY", "bench-signing-key-not-secret-0123456789")
PERIOD, AS_OF = "2025-04", "2025-05-05"


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Phases:
    """Marks the end of each phase: peak RSS since the previous mark, RSS left, CPU spent."""

    def __init__(self, trace: bool) -> None:
        self.rows: list[dict[str, Any]] = []
        self.trace = trace
        self.best: tracemalloc.Snapshot | None = None
        self.best_size = 0
        self._stop = threading.Event()
        self.start()

    def start(self) -> None:
        reset_peak()
        if self.trace:
            tracemalloc.reset_peak()
            self.best, self.best_size = None, 0
        self.c0 = time.process_time()
        self.t0 = time.perf_counter()

    def mark(self, name: str) -> None:
        row = {"phase": name, "cpu": time.process_time() - self.c0, "wall": time.perf_counter() - self.t0,
               "peak_mib": peak_kib() / 1024, "rss_after_mib": _rss_kib() / 1024}
        if self.trace:
            row["traced_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
            row["traced_now_mib"] = tracemalloc.get_traced_memory()[0] / 2**20
            if self.best is not None:
                row["near_peak_mib"] = self.best_size / 2**20
                row["top"] = _top(self.best)
        self.rows.append(row)
        self.start()

    def watch(self) -> None:
        def loop() -> None:
            while not self._stop.wait(0.05):
                now = tracemalloc.get_traced_memory()[0]
                if now > self.best_size + (16 << 20) or (self.best is None and now > (16 << 20)):
                    self.best_size = now
                    self.best = tracemalloc.take_snapshot().filter_traces(
                        [tracemalloc.Filter(False, tracemalloc.__file__)])
        threading.Thread(target=loop, daemon=True).start()

    def stop(self) -> None:
        self._stop.set()


def _where(frame: tracemalloc.Frame) -> str:
    name = frame.filename.split("site-packages/")[-1]
    return f"{name[name.find('kehoach_xl/'):] if 'kehoach_xl/' in name else name}:{frame.lineno}"


def _top(snap: tracemalloc.Snapshot, n: int = 16) -> list[str]:
    """Sizes grouped by (the innermost frame in reports/ or commands/, the allocating line)."""
    sizes: dict[tuple[str, str], list[int]] = {}
    for tr in snap.traces:
        frames = list(tr.traceback)[::-1]  # most recent call first (tracemalloc lists the oldest first)
        ours = next((f for f in frames if "kehoach_xl/reports/" in f.filename or "kehoach_xl/commands/" in f.filename),
                    None)
        key = (_where(ours) if ours else "-", _where(frames[0]))
        acc = sizes.setdefault(key, [0, 0])
        acc[0] += tr.size
        acc[1] += 1
    top = sorted(sizes.items(), key=lambda kv: -kv[1][0])[:n]
    return [f"{v[0] / 2**20:7.1f} MiB {v[1]:>8} blocks  {k[0]:<42} <- {k[1]}" for k, v in top]


def _after(ph: Phases, name: str, owner: Any, attr: str) -> None:
    fn = getattr(owner, attr)

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        out = fn(*args, **kwargs)
        ph.mark(name)
        return out

    setattr(owner, attr, call)


def measure(command: str, master: Path, trace: bool) -> dict[str, Any]:
    import docxtpl  # noqa: F401  - heavy imports before the clock, as bench_commands does
    import jinja2  # noqa: F401
    import matplotlib.pyplot  # noqa: F401
    import openpyxl  # noqa: F401
    import python_calamine  # noqa: F401

    from kehoach_xl.cli.main import main
    from kehoach_xl.commands import briefing as c_briefing
    from kehoach_xl.commands import report as c_report
    from kehoach_xl.commands import summary as c_summary
    from kehoach_xl.reports import briefing as r_briefing

    with tempfile.TemporaryDirectory(prefix="h5bench_") as tmp:
        run = Path(tmp)
        m = run / "master.xlsx"
        shutil.copyfile(master, m)
        os.chmod(m, 0o644)
        argv = {
            "summary": ["summary", str(m), "--as-of", AS_OF, "--export", str(run / "tong_hop.xlsx")],
            "briefing": ["briefing", str(m), "--period", PERIOD, "--as-of", AS_OF, "--out", str(run / "giao_ban")],
            "report": ["report", str(m), "--period", PERIOD, "--as-of", AS_OF, "--out", str(run / "bao_cao.docx")],
        }[command]
        if trace:
            tracemalloc.start(8)
        ph = Phases(trace)
        if command == "summary":
            _after(ph, "read", c_summary, "read_master_and")
            _after(ph, "compute", c_summary, "summary_of")
            from kehoach_xl.io import master_write
            _after(ph, "write master", master_write, "write_master")
        elif command == "briefing":
            _after(ph, "read", c_briefing, "read_master")
            _after(ph, "compute+render", r_briefing, "_briefing")
        else:
            _after(ph, "read", c_report, "read_master")
            _after(ph, "compute", c_report, "compute_report")
        if trace:
            ph.watch()
        with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
            ph.start()
            rc = main(argv)
            ph.mark("write" if command != "summary" else "export")
        ph.stop()
        if rc != 0:
            raise SystemExit(f"{argv} exited {rc}")
    return {"command": command, "phases": ph.rows, "peak_mib": max(r["peak_mib"] for r in ph.rows),
            "cpu": sum(r["cpu"] for r in ph.rows), "wall": sum(r["wall"] for r in ph.rows)}


def child(command: str, master: Path, trace: bool = False) -> dict[str, Any]:
    args = [sys.executable, __file__, "--child", command, str(master)] + (["--trace"] if trace else [])
    out = subprocess.run(args, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        print(json.dumps(measure(argv[1], Path(argv[2]), "--trace" in argv)))
        return
    master = Path(argv[0])
    opts = dict(zip(argv[1::2], argv[2::2], strict=False))
    if "--trace" in opts:
        r = child(opts["--trace"], master, trace=True)
        for p in r["phases"]:
            print(f"== {r['command']} {p['phase']}: traced peak {p['traced_peak_mib']:.0f} MiB, now "
                  f"{p['traced_now_mib']:.0f} MiB (RSS peak {p['peak_mib']:.0f} MiB); snapshot at "
                  f"{p.get('near_peak_mib', 0):.0f} MiB:")
            for line in p.get("top", []):
                print("   ", line)
        return
    commands = opts.get("--commands", "summary,briefing,report").split(",")
    best: dict[str, dict[str, Any]] = {}
    for _ in range(int(opts.get("--repeat", "3"))):
        for c in commands:
            r = child(c, master)
            if c not in best or r["cpu"] < best[c]["cpu"]:
                best[c] = r
    for c, r in best.items():
        cells = "; ".join(f"{p['phase']} {p['cpu']:.2f} s cpu, peak {p['peak_mib']:.0f} MiB "
                          f"(rss after {p['rss_after_mib']:.0f})" for p in r["phases"])
        print(f"{c:<9} cpu {r['cpu']:6.2f} s  wall {r['wall']:6.2f} s  peak {r['peak_mib']:4.0f} MiB | {cells}")
    print(f"load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
