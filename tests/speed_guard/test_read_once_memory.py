"""What one read of the master costs in memory: rows on a shared key table. (Operation counts and
object sizes, not timings: bench/ measures the peaks.) The value-keyed caches that once handed parts
from one step of the nightly to the next are gone: at 50,000 tasks they cost 58–85 MiB of the night's
peak and saved no time (bench/results_round11_memory.md).

At 50,000 tasks these two brought summary, report and briefing from 429–473 MiB to 304–325 MiB
(bench/results_round5.md).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from kehoach_xl.io.master_read import read_master
from kehoach_xl.model.rows import row_maker
from tests.bad_inputs.make import setup_month


@pytest.fixture
def master(tmp_path: Path) -> Path:
    return setup_month(tmp_path)[0]


def test_rows_share_one_key_table_and_stay_plain_dicts(master: Path) -> None:
    md = read_master(master)
    row = md.tasks.rows[0]
    assert type(row) is dict and len(row) == len(md.tasks.columns) > 20
    # A dict on the shared key table holds only its values: well under half a dict of its own.
    assert sys.getsizeof(row) * 2 < sys.getsizeof(dict(row))
    assert row == dict(row) and json.loads(json.dumps(row, default=str)).keys() == row.keys()
    assert all(sys.getsizeof(r) == sys.getsizeof(row) for r in md.tasks.rows)


def test_a_row_maker_past_the_shared_limit_gives_plain_dicts() -> None:
    keys = [f"k{i}" for i in range(31)]
    row = row_maker(keys)(range(31))
    assert row == dict(zip(keys, range(31), strict=True))
    few = row_maker(keys[:5])
    a, b = few(range(5)), few(range(5, 10))
    assert a == {"k0": 0, "k1": 1, "k2": 2, "k3": 3, "k4": 4} and b["k4"] == 9
    b["extra"] = 1  # a key added later: that row alone, the others unchanged
    assert "extra" not in a and b["extra"] == 1


# What is loaded when the write starts (the verification opens the written file with openpyxl at the
# very end, as a check that it opens, when the read and the rules' data are gone).
_PROBE = """
import sys
from kehoach_xl.io import master_write
real = master_write.write_master
def probe(*a, **k):
    print("at write:", sorted(m for m in ("openpyxl", "numpy", "PIL") if m in sys.modules))
    return real(*a, **k)
master_write.write_master = probe
from kehoach_xl.cli.main import main
code = main(sys.argv[1:])
print("at end:", sorted(m for m in ("openpyxl", "numpy", "PIL") if m in sys.modules))
sys.exit(code)
"""


@pytest.mark.parametrize("argv", [["refresh", "{m}", "--as-of", "2024-06-05"], ["validate", "{m}"]])
def test_refresh_and_validate_do_not_load_openpyxl_to_compute(master: Path, argv: list[str]) -> None:
    """openpyxl brings numpy and PIL with it: 33 MiB under every phase of a 50,000-task refresh, for a
    column letter (and a graft module that builds sheets only an old master lacks)."""
    import subprocess

    out = subprocess.run([sys.executable, "-c", _PROBE, *[a.format(m=master) for a in argv]],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode in (0, 1), out.stderr
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith(("at write:", "at end:"))]
    if argv[0] == "refresh":
        assert lines[0] == "at write: []", out.stdout[-500:]
    else:  # validate writes nothing unless asked
        assert lines == ["at end: []"], out.stdout[-500:]


def test_the_merge_and_the_nightlys_summary_step_do_not_load_openpyxl_to_compute() -> None:
    """The submission reader (a column letter, a merged range) and the summary sheet's rules (styles and a
    chart for the export only) loaded openpyxl, numpy and PIL into every merge and nightly: 0.8 s and
    58 MiB to import the two modules, against 0.45 s and 35 MiB without (03/12/2026). openpyxl now comes
    only with a workbook built with it (the export, a submission the stream reader does not mirror)."""
    import subprocess

    code = ("import sys, kehoach_xl.io.submission, kehoach_xl.reports.summary, kehoach_xl.commands.merge, "
            "kehoach_xl.commands.nightly; print(sorted(m for m in ('openpyxl', 'numpy', 'PIL') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", out.stdout
