"""Size of the button server's request for a year-old master: 5,000 tasks, twelve months of log
and history rows (tests/excel/year_of_use.py), with and without the log and history sheets.

    PYTHONPATH=. .venv/bin/python bench/bench_remote_payload.py [n_tasks]

Prints the figures quoted in docs/excel-buttons.md.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from bench_write import task_rows  # noqa: E402

from kehoach_xl.commands.init import create_master  # noqa: E402
from kehoach_xl.excel.buttons import REMOTE_EXCLUDED  # noqa: E402
from kehoach_xl.model.sample import sample_registry  # noqa: E402
from tests.excel.year_of_use import add_year_of_use, vba_client_payload  # noqa: E402

OUT = HERE / "out"


def main(n: int) -> None:
    OUT.mkdir(exist_ok=True)
    master = OUT / f"year_old_{n}.xlsx"
    reg = sample_registry("langson_ddci_2024")
    rows = task_rows(n)
    names = [u["name"] for u in reg["units"]]
    for i, r in enumerate(rows):
        r["lead_units"] = names[i % len(names)]
        r["coordinating_units"] = ""
    create_master(master, tasks=rows, units=reg["units"], leaders=reg["leaders"], meta=reg["meta"], overwrite=True)
    t = time.perf_counter()
    counts = add_year_of_use(master)
    built = time.perf_counter() - t
    sizes = {}
    for label, exclude in (("every sheet", ()), ("without log and history", REMOTE_EXCLUDED)):
        payload = vba_client_payload(master, exclude)
        sizes[label] = len(json.dumps(payload, ensure_ascii=False, default=str).encode())
        rows_by_sheet = {s["name"]: len(s["values"]) for s in payload["sheets"]}
        print(label, sizes[label], rows_by_sheet)
    print(f"tasks {n}, {counts}, master {master.stat().st_size} bytes, built in {built:.1f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
