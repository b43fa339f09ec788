"""The printed task list's footer says the data's as-of date, dd/mm/yyyy, and refresh keeps it so.

"In ngày &D" printed the PC's short date (12/3/2026 for 3 December on a US setup); the program now
writes "Số liệu đến ngày dd/mm/yyyy" itself, through the change set and the one writer, and leaves a
right part staff wrote alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from kehoach_xl.commands.init import create_master
from kehoach_xl.commands.refresh import refresh
from kehoach_xl.io.backup import list_backups
from kehoach_xl.io.master_read import read_master
from kehoach_xl.io.master_write import write_master
from kehoach_xl.io.xlsx_diff import diff_packages
from kehoach_xl.io.xlsx_footer import footer_text
from kehoach_xl.model import schema
from kehoach_xl.model.changes import MasterChanges
from kehoach_xl.model.footer import as_of_part, hf, right_is_ours, split_sections, with_right
from kehoach_xl.reports import master_book
from kehoach_xl.rules.refresh import compute_refresh
from tests.helpers import make_sample_master

D = dt.date
TASKS_PART = "xl/worksheets/sheet1.xml"
OLD_RIGHT = hf("In ngày ") + "&D"  # what masters made before this change print


def _xml(path: Path) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read(TASKS_PART)


def _footer(path: Path) -> dict[str, str]:
    text = footer_text(_xml(path))
    assert text is not None
    return split_sections(text)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _made_with_right(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, right: str, **meta: Any) -> Path:
    """A master whose footer's right part is ``right`` (an old master, or one staff edited)."""
    with monkeypatch.context() as m:
        m.setattr(master_book, "as_of_part", lambda _d: right)
        return create_master(tmp_path / "so.xlsx", tasks=[{"id": "A1", "task": "Việc", "deadline_text": "31/12/2025",
                                                          "status": "Hoàn thành", "progress": 100,
                                                          "completed_on": D(2025, 1, 2)}],
                             meta={"agency": "Sở Tài nguyên & Môi trường", **meta})


def test_sections_and_what_is_ours() -> None:
    text = '&L&"Times New Roman,Regular"&11Sở A &&B&C&"Times New Roman,Regular"&11Trang &P/&N&R' + OLD_RIGHT
    parts = split_sections(text)
    assert parts["L"].endswith("Sở A &&B") and parts["C"].endswith("Trang &P/&N") and parts["R"] == OLD_RIGHT
    assert right_is_ours(OLD_RIGHT) and right_is_ours(as_of_part(D(2025, 5, 5)))
    assert right_is_ours("Số liệu đến ngày 01/02/2024")  # staff changed its font: still the program's line
    for staff in ("In ngày &D (bản gửi Giám đốc)", "Số liệu đến ngày 05/05/2025 - bản nháp", "Người lập: Lan", ""):
        assert not right_is_ours(hf(staff))
    new = with_right(text, as_of_part(D(2025, 5, 5)))
    assert new is not None and split_sections(new) == {**parts, "R": as_of_part(D(2025, 5, 5))}
    assert with_right(new, as_of_part(D(2025, 5, 5))) is None  # already so: nothing to write
    assert with_right("&CTrang &P", as_of_part(D(2025, 5, 5))) is None  # no right part: not added


def test_new_master_footer_is_the_as_of_date_in_vietnamese_format(tmp_path: Path) -> None:
    path = create_master(tmp_path / "so.xlsx", meta={"agency": "Sở TN&MT", "as_of": D(2025, 5, 5)})
    parts = _footer(path)
    assert parts["R"] == '&"Times New Roman,Regular"&11Số liệu đến ngày 05/05/2025'
    assert parts["L"] == '&"Times New Roman,Regular"&11Sở TN&&MT' and parts["C"].endswith("Trang &P/&N")
    assert "&D" not in footer_text(_xml(path))
    ws = openpyxl.load_workbook(path)[schema.TASKS.name]
    assert ws.oddFooter.right.text == "Số liệu đến ngày 05/05/2025" and ws.oddFooter.right.size == 11
    assert ws.oddFooter.right.font == "Times New Roman,Regular" and ws.HeaderFooter.scaleWithDoc is False
    # No as-of known at creation: the day it was made.
    other = create_master(tmp_path / "moi.xlsx")
    assert _footer(other)["R"].endswith(f"Số liệu đến ngày {dt.date.today():%d/%m/%Y}")


def test_refresh_writes_its_as_of_into_the_footer_and_nothing_twice(tmp_path: Path) -> None:
    path = make_sample_master(tmp_path / "so.xlsx")
    before = _footer(path)
    refresh(path, as_of=D(2025, 5, 5))
    after = _footer(path)
    assert after == {**before, "R": as_of_part(D(2025, 5, 5))}
    assert b'<headerFooter scaleWithDoc="0">' in _xml(path)  # the element's attributes stay
    ws = openpyxl.load_workbook(path)[schema.TASKS.name]
    assert ws.oddFooter.right.text == "Số liệu đến ngày 05/05/2025"
    assert ws.oddFooter.center.text == "Trang &P/&N"
    # The same day again: nothing to write, not even a backup.
    sha, n_backups = _sha(path), len(list_backups(path))
    res = refresh(path, as_of=D(2025, 5, 5))
    assert res.cells_changed == 0 and res.backup is None
    assert _sha(path) == sha and len(list_backups(path)) == n_backups


def test_a_new_day_that_changes_no_task_cell_rewrites_only_the_footer(tmp_path: Path) -> None:
    # One finished task: its derived cells are the same every day.
    path = make_sample_master(tmp_path / "so.xlsx", tasks=[
        {"id": "X", "task": "Việc xong", "lead_units": "Văn phòng Sở", "deadline_text": "20/5/2024",
         "status": "Hoàn thành", "progress": 100, "completed_on": D(2024, 5, 17)}])
    refresh(path, as_of=D(2025, 5, 5))
    old_xml = _xml(path)
    res = refresh(path, as_of=D(2025, 5, 6))
    assert res.backup is not None
    changed = diff_packages(res.backup, path).changed
    # The task sheet's footer, the summary's and the settings' as-of date, the log row (and its Table).
    sheets = {"Nhiệm vụ": 1, "Tổng hợp": 6, "Cấu hình": 8, "Nhật ký": 9}
    assert set(changed) == {f"xl/worksheets/sheet{n}.xml" for n in sheets.values()} | {"xl/tables/table6.xml"}
    # The task sheet: only the footer's right part differs, byte for byte.
    new_xml = _xml(path)
    day5, day6 = ("Số liệu đến ngày 05/05/2025".encode(), "Số liệu đến ngày 06/05/2025".encode())
    assert old_xml.count(day5) == 1 and new_xml == old_xml.replace(day5, day6)
    md = read_master(path)
    assert md.settings["as_of"] in (D(2025, 5, 6), dt.datetime(2025, 5, 6))


def test_old_master_with_print_date_is_converted_on_its_next_refresh(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = _made_with_right(monkeypatch, tmp_path, OLD_RIGHT, as_of=D(2025, 5, 5))
    left, centre = _footer(path)["L"], _footer(path)["C"]
    # Even on the day its settings already say: the footer is read, not guessed from the settings.
    refresh(path, as_of=D(2025, 5, 5))
    assert _footer(path) == {"L": left, "C": centre, "R": as_of_part(D(2025, 5, 5))}
    ws = openpyxl.load_workbook(path)[schema.TASKS.name]
    assert ws.oddFooter.left.text == "Sở Tài nguyên && Môi trường"
    assert ws.oddFooter.right.text == "Số liệu đến ngày 05/05/2025"


@pytest.mark.parametrize("staff", ["Người lập: Nguyễn Thị Lan", "In ngày &D (bản gửi Giám đốc)"])
def test_a_right_part_staff_wrote_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, staff: str) -> None:
    right = hf(staff)
    path = _made_with_right(monkeypatch, tmp_path, right)
    before = footer_text(_xml(path))
    res = refresh(path, as_of=D(2025, 5, 5))
    assert footer_text(_xml(path)) == before
    # The settings' as-of changed, so the refresh wrote; the footer was not in it.
    assert res.backup is not None
    md = read_master(path)
    assert compute_refresh(md, as_of=D(2025, 5, 5), task_footer=before).changes.is_empty()


def test_without_the_footer_read_it_follows_the_settings_date_and_the_writer_guards(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The nightly does not read the footer: it is written whenever the as-of date changes.
    path = _made_with_right(monkeypatch, tmp_path, hf("Người lập: Lan"))
    md = read_master(path)
    ch = compute_refresh(md, as_of=D(2025, 5, 5)).changes
    assert ch.footers == {schema.TASKS.name: {"oddFooter": as_of_part(D(2025, 5, 5))}}
    before = footer_text(_xml(path))
    write_master(path, ch, action="refresh")  # the writer keeps staff's right part; verification agrees
    assert footer_text(_xml(path)) == before
    md = read_master(path)
    assert not compute_refresh(md, as_of=D(2025, 5, 5)).changes.footers  # same day: nothing


def test_the_writer_rewrites_a_footer_alone(tmp_path: Path) -> None:
    path = make_sample_master(tmp_path / "so.xlsx")
    ch = MasterChanges(footers={schema.TASKS.name: {"oddFooter": as_of_part(D(2024, 7, 31))}})
    res = write_master(path, ch, action="refresh")
    # The task sheet and the log row the writer adds: no cell of the task sheet.
    assert res.changed_parts == [TASKS_PART, "xl/worksheets/sheet9.xml"] and res.rows_appended == 1
    assert _footer(path)["R"] == as_of_part(D(2024, 7, 31))
    assert re.search(rb"<oddFooter>[^<]*31/07/2024</oddFooter>", _xml(path))


def test_footer_bytes_prefixed_escaped_and_absent() -> None:
    from kehoach_xl.io.xlsx_footer import set_footers

    right = as_of_part(D(2025, 5, 5))
    # An ASCII-encoded part with a namespace prefix, as other writers save it.
    tail = (b"</x:sheetData><x:pageMargins left=\"0.25\"/><x:headerFooter scaleWithDoc=\"0\" alignWithMargins=\"0\">"
            b"<x:oddFooter>&amp;LS&#7903; A&amp;RIn ng&#224;y &amp;D</x:oddFooter></x:headerFooter></x:worksheet>")
    new, written = set_footers(tail, {"oddFooter": right})
    assert written == ["oddFooter"]
    assert new.startswith('</x:sheetData><x:pageMargins left="0.25"/><x:headerFooter scaleWithDoc="0" '
                          'alignWithMargins="0"><x:oddFooter>&amp;LSở A&amp;R&amp;"Times New Roman,Regular"'.encode())
    assert footer_text(new) == "&LSở A&R" + right
    assert new.endswith("ngày 05/05/2025</x:oddFooter></x:headerFooter></x:worksheet>".encode())
    for no_footer in (b"</sheetData></worksheet>", b"</sheetData><headerFooter/></worksheet>",
                      b"</sheetData><headerFooter><oddHeader>&amp;CX</oddHeader></headerFooter></worksheet>"):
        assert set_footers(no_footer, {"oddFooter": right}) == (no_footer, [])


def test_verification_fails_when_the_footer_does_not_read_back(tmp_path: Path) -> None:
    from kehoach_xl.io._verify import verify_workbook
    from kehoach_xl.io.write_errors import VerifyFailedError

    path = create_master(tmp_path / "so.xlsx", meta={"as_of": D(2025, 5, 5)})
    ch = MasterChanges(footers={schema.TASKS.name: {"oddFooter": as_of_part(D(2025, 5, 6))}})
    with pytest.raises(VerifyFailedError):
        verify_workbook(path, ch, [], master_name=path.name)
    ok = MasterChanges(footers={schema.TASKS.name: {"oddFooter": as_of_part(D(2025, 5, 5))}})
    verify_workbook(path, ok, [], master_name=path.name)


def test_the_nightly_converts_an_old_master(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kehoach_xl.commands.init import init
    from kehoach_xl.commands.nightly import nightly

    with monkeypatch.context() as m:
        m.setattr(master_book, "as_of_part", lambda _d: OLD_RIGHT)
        path = init(tmp_path / "so.xlsx", sample="langson_ddci_2024")
    assert _footer(path)["R"] == OLD_RIGHT
    rep = nightly(path, as_of=D(2025, 5, 5))
    assert all(s.status == "ok" for s in rep.steps)
    assert _footer(path)["R"] == as_of_part(D(2025, 5, 5)) and _footer(path)["C"].endswith("Trang &P/&N")


def test_a_caller_that_cannot_write_the_footer_neither_writes_nor_mentions_it(tmp_path: Path) -> None:
    # The refresh button works on the open book through xlwings, which has no page setup to write:
    # it passes task_footer=None, and its log line must not claim a footer it did not write.
    path = make_sample_master(tmp_path / "so.xlsx")
    md = read_master(path)
    out = compute_refresh(md, as_of=D(2031, 1, 2), task_footer=None)
    assert not out.changes.footers
    assert out.changes.log and all("chân trang" not in str(e.new) for e in out.changes.log)
    known = compute_refresh(md, as_of=D(2031, 1, 2))  # the same day, footer unknown: written, and said
    assert known.changes.footers and any("chân trang" in str(e.new) for e in known.changes.log)
