"""The report commands' outputs stay exactly what they were while their memory is cut (issue 18).

``summary --export``, ``briefing`` and ``report`` run through their command functions on a master
of 300 tasks built like ``test_report_commands_counts`` (40 units with e-mail addresses, a
collective lead, every deadline state, difficulties and proposals). What they produce is reduced
to text — the master's summary sheet and the exported workbook's values (calamine), the briefing's
.txt and .html and every reminder's text and HTML, the report's ``word/document.xml`` — and
compared with ``golden/report_outputs_300.json``, written by the code before the cuts.

The same reduction ran on the benchmark's 1,000- and 10,000-task masters before and after:

    PYTHONPATH=<checkout> python tests/speed_guard/test_report_outputs_golden.py MASTER OUT.json

(dump the outputs of the code on PYTHONPATH; compare two dumps with ``cmp``). A deliberate change
of wording or layout regenerates the golden file: ``KEHOACH_REGOLD=1 pytest <this file>``.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import gzip
import hashlib
import json
import os
import re
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

GOLDEN = Path(__file__).parent / "golden" / "report_outputs_300.json.gz"  # gzip: 2 MB of text, 65 kB
PERIOD = "2025-04"
AS_OF = dt.date(2025, 5, 5)
N = 300


def _sheet(path: Path, name: str) -> list[list[Any]]:
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    try:
        rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
    finally:
        wb.close()
    out = [[v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v for v in r] for r in rows]
    while out and not any(v not in ("", None) for v in out[-1]):
        out.pop()
    return out


def _mail_parts(path: Path) -> dict[str, str]:
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.SMTP)
    parts = {"subject": str(msg["Subject"]), "to": str(msg["To"] or ""), "cc": str(msg["Cc"] or "")}
    for part in msg.walk():
        if part.get_content_type() in ("text/plain", "text/html"):
            parts[part.get_content_type()] = re.sub(r"cid:[^\"' >]+", "cid:CHART", part.get_content())
    return parts


def outputs(master: Path, work: Path) -> dict[str, Any]:
    """Everything the three commands produce from ``master`` (copied into ``work``), as text and values."""
    from kehoach_xl.commands.briefing import briefing
    from kehoach_xl.commands.report import report
    from kehoach_xl.commands.summary import summary
    from kehoach_xl.reports.summary import SHEET

    work.mkdir(parents=True, exist_ok=True)
    copy = work / "master.xlsx"
    shutil.copyfile(master, copy)
    os.chmod(copy, 0o644)
    out: dict[str, Any] = {}
    summary(copy, as_of=AS_OF, export=work / "tong_hop.xlsx")
    out["summary sheet"] = _sheet(copy, SHEET)
    out["summary export"] = _sheet(work / "tong_hop.xlsx", SHEET)
    res = briefing(copy, period=PERIOD, out=work / "giao_ban", as_of=AS_OF)
    out["briefing txt"] = res.text_path.read_text(encoding="utf-8")
    out["briefing html"] = res.html_path.read_text(encoding="utf-8")
    out["briefing mail"] = _mail_parts(res.eml_path)
    out["briefing export"] = _sheet(res.summary_path, SHEET)
    out["reminders"] = {r.unit: {"text": r.text, "html": r.html, **_mail_parts(r.eml_path)} for r in res.reminders}
    docx = report(copy, period=PERIOD, out=work / "bao_cao.docx", as_of=AS_OF)
    with zipfile.ZipFile(docx) as z:
        out["report document.xml"] = z.read("word/document.xml").decode("utf-8")
    return out


def digest(outs: dict[str, Any]) -> dict[str, str]:
    """A short fingerprint of each output (the full dump of a 10,000-task master is ~60 MB)."""
    return {k: hashlib.sha256(json.dumps(v, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
            for k, v in outs.items()}


def _dump(outs: dict[str, Any]) -> bytes:
    return (json.dumps(outs, ensure_ascii=False, indent=0, sort_keys=True) + "\n").encode("utf-8")


def _golden() -> dict[str, Any]:
    return json.loads(gzip.decompress(GOLDEN.read_bytes()))


@pytest.fixture(scope="module")
def master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.speed_guard.test_report_commands_counts import build_master

    return build_master(tmp_path_factory.mktemp("golden_master") / "master.xlsx", N)


def test_report_outputs_are_the_golden_ones(master: Path, tmp_path: Path) -> None:
    got = outputs(master, tmp_path / "run")
    # Every list of the reports has something in it: a change anywhere shows.
    assert len(got["summary export"]) > 100 and len(got["reminders"]) >= 30
    assert got["report document.xml"].count("<w:tr") > N
    if os.environ.get("KEHOACH_REGOLD"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_bytes(gzip.compress(_dump(got), mtime=0))
    want = _golden()
    (tmp_path / "got.json").write_bytes(_dump(got))  # to diff against the golden file when this fails
    assert sorted(got) == sorted(want)
    for key in sorted(want):
        if key == "reminders":
            assert sorted(got[key]) == sorted(want[key])
            for unit in want[key]:
                assert got[key][unit] == want[key][unit], (key, unit)
        else:
            assert got[key] == want[key], key


def test_the_comparison_sees_a_changed_figure(master: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A single overdue count off by one in the tallies changes the golden outputs (no test that cannot fail)."""
    from kehoach_xl.reports import figures

    want = digest(_golden())
    real_tally = figures.tally

    def off_by_one(facts: Any) -> figures.Tally:
        t = real_tally(facts)
        t.overdue += 1
        return t

    for mod in list(sys.modules.values()):
        if getattr(mod, "tally", None) is real_tally and mod.__name__.startswith("kehoach_xl"):
            monkeypatch.setattr(mod, "tally", off_by_one)
    got = digest(outputs(master, tmp_path / "run"))
    changed = {k for k in want if got.get(k) != want[k]}
    assert {"summary sheet", "summary export", "briefing html"} <= changed


if __name__ == "__main__":
    dumped = outputs(Path(sys.argv[1]), Path(sys.argv[2]).with_suffix(".work"))
    Path(sys.argv[2]).write_bytes(_dump(dumped))
    print(json.dumps(digest(dumped), indent=1))
