"""Reading a returned workbook: rows left as issued are no report (no change, no history, no log);
a changed value is reported as before; the context column is never read; the first layout still reads."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from kehoach_xl.commands.merge import merge
from kehoach_xl.io.master_read import read_grids, read_master
from kehoach_xl.io.submission import read_submission
from kehoach_xl.model.config import Config
from kehoach_xl.model.unitbook import REPORT_SHEET
from kehoach_xl.rules.merge import compute_merge
from kehoach_xl.rules.parts import parts_of
from tests.bad_inputs.make import fill
from tests.unitbook_parts.conftest import JUNE_END, T1, T3, T4, T5, Month
from tests.unitbook_parts.helpers import report_rows

NOW = dt.datetime(2024, 6, 28, 17)
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "unitbook_v1"


def _read(path: Path, master: Path):  # noqa: ANN202
    return read_submission(path, read_master(master), config=Config(), today=JUNE_END)


def _history_and_log(master: Path) -> tuple[int, int]:
    grids = read_grids(master, ["Lịch sử", "Nhật ký"])
    return (sum(1 for r in grids["Lịch sử"][1:] if r and any(v not in (None, "") for v in r)),
            sum(1 for r in grids["Nhật ký"][1:] if r and r[1] == "merge"))


def test_every_workbook_returned_unchanged_is_no_report(month: Month) -> None:
    """All units send their June workbook back untouched: nothing to merge, nothing written."""
    before = month.master.read_bytes()
    hist, log = _history_and_log(month.master)
    md = read_master(month.master)
    subs = [read_submission(p, md, config=Config(), today=JUNE_END) for p in month.june.values()]
    assert all(not s.rejected for s in subs)
    assert [e for s in subs for e in s.entries] == []
    assert [p for s in subs for p in s.problems] == []
    out = compute_merge(md, subs, as_of=NOW)
    assert out.changes.is_empty() and out.result.history_rows == 0 and not out.changes.log
    for p in month.june.values():
        shutil.copyfile(p, month.inbox / p.name)
    rep = merge(month.master, month.inbox, now=NOW)
    assert not rep.written and rep.applied == 0 and rep.history_rows == 0
    assert {f.status for f in rep.files} == {"processed"}
    assert month.master.read_bytes() == before
    assert _history_and_log(month.master) == (hist, log)


def test_a_member_changing_one_cell_reports_its_whole_row(month: Month) -> None:
    src = month.june["Thanh_tra_So"]
    sent = fill(src, month.inbox / src.name, {T1: {"progress": 80}})
    sub = _read(sent, month.master)
    got = {(e.task_id, e.field): e.value for e in sub.entries}
    # the member's row is its attributed line: the unchanged cells go with the changed one, exactly as
    # the unit typed them in May (the parts sheet keeps them whole; no separator from the line sticks)
    assert got == {(T1, "status"): "Đang thực hiện", (T1, "progress"): 80, (T1, "result"): "Đã rà soát 5 quy trình",
                   (T1, "difficulties"): "Thiếu cán bộ", (T1, "proposals"): "Đề nghị gia hạn"}
    # held grouped by task as the merge reads them; the issued fingerprints kept only for what is reported
    assert list(sub.reports) == [T1] and sub.roles[T1] == sub.entries[0].role
    assert sub.reports[T1] == {k: v for (_t, k), v in got.items()}
    assert set(sub.base) == {T1} and sub.base[T1]
    rep = merge(month.master, month.inbox, now=NOW)
    assert rep.applied == 1 and rep.history_rows == 1
    md = read_master(month.master)
    line = md.tasks.rows[md.task_index()[T1]]["coordination_reports"]
    assert line == ("[Thanh tra Sở – kỳ 06/2024] Đang thực hiện; 80%. Đã rà soát 5 quy trình. "
                    "Khó khăn: Thiếu cán bộ. Đề xuất: Đề nghị gia hạn")
    part = next(p for p in parts_of(md) if p.task_id == T1 and p.unit == "Thanh tra Sở")
    assert (part.status, part.progress, part.period) == ("Đang thực hiện", 80.0, "2024-06")
    # the other rows of the same file, left as issued, changed nothing
    other = {T3: "completed_on", T5: "coordination_reports", T4: "coordination_reports"}
    before = read_master(month.june["Thanh_tra_So"].parents[1] / "so_theo_doi.xlsx")
    assert all(md.tasks.rows[md.task_index()[t]].get(k) == before.tasks.rows[before.task_index()[t]].get(k)
               for t, k in other.items())


def test_a_lead_changing_one_cell_reports_that_cell_only(month: Month) -> None:
    src = month.june["Thanh_tra_So"]
    sent = fill(src, month.inbox / src.name, {T3: {"result": "Đã rà soát 15 cuộc kiểm tra."}})
    sub = _read(sent, month.master)
    assert [(e.task_id, e.field, e.value) for e in sub.entries] == [(T3, "result", "Đã rà soát 15 cuộc kiểm tra.")]
    rep = merge(month.master, month.inbox, now=NOW)
    assert rep.applied == 1
    assert [c.key for f in rep.files for c in f.changes] == ["result"]


def test_a_coordinator_changing_its_contribution(month: Month) -> None:
    src = month.june["Thanh_tra_So"]
    sent = fill(src, month.inbox / src.name, {T4: {"contribution": "Cử 02 thanh tra viên tham gia đoàn"}})
    assert [(e.task_id, e.field) for e in _read(sent, month.master).entries] == [(T4, "contribution")]


def test_the_context_column_is_never_read(month: Month) -> None:
    src = month.june["Thanh_tra_So"]
    sent = fill(src, month.inbox / src.name, {T1: {"overall": "Hoàn thành, 100%"}, T3: {"overall": "xyz"}})
    sub = _read(sent, month.master)
    assert sub.entries == () and sub.problems == []


def test_clearing_a_members_cell_is_a_change_of_its_line(month: Month) -> None:
    src = month.june["Thanh_tra_So"]
    sent = fill(src, month.inbox / src.name, {T1: {"difficulties": None, "proposals": None}})
    got = {e.field for e in _read(sent, month.master).entries if e.task_id == T1}
    assert got == {"status", "progress", "result"}  # the line no longer carries the difficulty


def test_a_part_done_reported_again_unchanged_is_no_report(month: Month) -> None:
    src = month.june["Thanh_tra_So"]
    rows, _ = report_rows(src)
    assert next(r for r in rows if r["id"] == T5)["status"] == "Hoàn thành"
    sent = fill(src, month.inbox / src.name, {T5: {"status": "Hoàn thành", "progress": 100}})
    assert _read(sent, month.master).entries == ()


# --- the first layout (format 1), saved by the previous version --------------------------------------

@pytest.fixture
def v1(tmp_path: Path) -> tuple[Path, Path, Path]:
    master = shutil.copyfile(FIXTURE / "master.xlsx", tmp_path / "so_theo_doi.xlsx")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    return master, FIXTURE / "2024-05_Thanh_tra_So.xlsx", FIXTURE / "filled" / "2024-05_Thanh_tra_So.xlsx"


def test_first_layout_as_issued_is_no_report(v1: tuple[Path, Path, Path]) -> None:
    master, issued, _ = v1
    sub = read_submission(issued, read_master(master), config=Config(), today=dt.date(2024, 5, 31))
    assert not sub.rejected and sub.entries == () and sub.problems == []


def test_first_layout_filled_reads_as_before(v1: tuple[Path, Path, Path]) -> None:
    master, _, filled = v1
    wb = load_workbook(filled)
    assert "Tình hình chung của nhiệm vụ (để tham khảo)" not in [c.value for c in wb[REPORT_SHEET][4]]
    sub = read_submission(filled, read_master(master), config=Config(), today=dt.date(2024, 5, 31))
    assert not sub.rejected and sub.problems == []
    got = {(e.task_id, e.field): (e.role, e.value) for e in sub.entries}
    assert got == {
        (T1, "status"): ("member", "Đang thực hiện"), (T1, "progress"): ("member", 60),
        (T1, "result"): ("member", "Đã rà soát 12 thủ tục."),
        (T3, "progress"): ("lead", 90),  # the lead's prefilled status and date were left: not reported
        (T4, "contribution"): ("coord", "Đã cử cán bộ tham gia tổ rà soát."),
    }
    inbox = master.parent / "inbox"
    shutil.copyfile(filled, inbox / filled.name)
    rep = merge(master, inbox, now=dt.datetime(2024, 5, 31, 18))
    assert rep.written and not rep.conflicts and rep.history_rows == 3
    md = read_master(master)
    row = md.tasks.rows[md.task_index()[T1]]
    assert row["coordination_reports"] == "[Thanh tra Sở – kỳ 05/2024] Đang thực hiện; 60%. Đã rà soát 12 thủ tục."
    assert md.tasks.rows[md.task_index()[T3]]["progress"] == 90


def test_first_layout_member_typing_the_synthesisers_values_is_a_report(v1: tuple[Path, Path, Path],
                                                                       tmp_path: Path) -> None:
    """Format 1 issued members' rows blank but fingerprinted the task's own columns: a member typing
    what the synthesiser had reported (Hoàn thành, 100) was dropped as "left as issued"."""
    master, issued, _ = v1
    md = read_master(master)
    row = md.tasks.rows[md.task_index()[T1]]
    assert (row["status"], row["progress"]) == ("Hoàn thành", 100)
    sent = fill(issued, tmp_path / issued.name, {T1: {"status": "Hoàn thành", "progress": 100}})
    sub = read_submission(sent, md, config=Config(), today=dt.date(2024, 5, 31))
    assert {(e.task_id, e.field, e.value) for e in sub.entries} == {(T1, "status", "Hoàn thành"), (T1, "progress", 100)}
