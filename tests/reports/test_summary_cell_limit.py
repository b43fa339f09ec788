"""A summary line never holds more than its row shows (Excel's tallest row, 409 points) nor more than a
cell holds (32,767 characters).

Past the cell, the writer cut the text, so the sheet never equalled the summary made from it: every
night, even one with nothing new, wrote the whole summary again (with a backup). Seen at 10,000 tasks,
where 5,169 tasks newly overdue made an 86,761-character line. Past the row, the text was cut on screen
and on paper, and LibreOffice printed it over the page's footer (the 10,000-task export's last page).
"""

from __future__ import annotations

import dataclasses

from kehoach_xl.model.changes import EXCEL_TEXT_MAX as CELL_TEXT_MAX
from kehoach_xl.reports.figures import TaskFact
from kehoach_xl.reports.summary import ROW_MAX_PT, cite, cited_line, clipped, row_heights


def _height(text: str) -> float:
    """The height the summary gives the row of ``text`` (first column, a comparison line's row)."""
    from kehoach_xl.reports.summary import MARK_COL

    return row_heights({(30, 1): text, (30, MARK_COL): "c"})[30]

HEAD = "Nhiệm vụ mới quá hạn trong kỳ: "


def _facts(n: int) -> list[TaskFact]:
    base = TaskFact(row=0, id="", task="Rà soát thủ tục", group="I", lead_units=(), leaders=(), status="in_progress",
                    state="overdue", deadline_text="", due_date=None, days_remaining=None, completed_on=None,
                    progress=None, result="", difficulties="", proposals="", updated_at=None)
    return [dataclasses.replace(base, row=i, id=f"NV{i:05d}", number=f"G{i % 97}.{i}") for i in range(n)]


def test_a_list_that_fits_is_every_task_cited() -> None:
    fs = _facts(40)
    assert cited_line(HEAD, fs) == HEAD + "; ".join(cite(f) for f in fs)


def test_a_list_longer_than_its_row_cites_whole_tasks_and_counts_the_rest() -> None:
    fs = _facts(5_169)
    text = cited_line(HEAD, fs)
    assert len(text) <= CELL_TEXT_MAX and _height(text) <= ROW_MAX_PT
    listed, _, tail = text[len(HEAD):].rpartition("; … và ")
    cited = listed.split("; ")
    assert cited == [cite(f) for f in fs[: len(cited)]]  # whole cites, in order, none cut
    assert tail == f"{5_169 - len(cited):,} nhiệm vụ khác".replace(",", ".")
    # as full as the row allows: one task more would not show
    one_more = HEAD + "; ".join(cite(f) for f in fs[: len(cited) + 1]) + f"; … và {5_169 - len(cited) - 1:,} nhiệm vụ khác"
    assert _height(one_more.replace(",", ".")) > ROW_MAX_PT
    assert len(cited) > 50 and cited_line(HEAD, fs) == text  # the same every time


def test_a_list_that_fits_the_cell_but_not_the_row_is_counted_too() -> None:
    fs = _facts(300)  # ~6,000 characters: a cell holds it, a 409-point row shows a third of it
    text = cited_line(HEAD, fs)
    assert _height(HEAD + "; ".join(cite(f) for f in fs)) > ROW_MAX_PT
    assert _height(text) <= ROW_MAX_PT and text.endswith("nhiệm vụ khác")


def test_a_long_line_is_cut_after_its_last_whole_item_and_says_so() -> None:
    text = "Đơn vị nêu: " + "; ".join(f"Phòng {u} (nhiệm vụ {', '.join(f'NV{i:05d}' for i in range(400))})"
                                      for u in range(20)) + "."
    assert len(text) > CELL_TEXT_MAX
    out = clipped(text)
    assert len(out) <= CELL_TEXT_MAX and _height(out) <= ROW_MAX_PT
    assert out.endswith(" … (danh sách còn tiếp; xem đủ ở sheet “Nhiệm vụ”).")
    kept = out[: out.rindex(" … (")]
    assert text.startswith(kept) and text[len(kept):len(kept) + 2] in (", ", "; ")  # cut after a whole item
    following = text.index(", ", len(kept) + 2)
    assert _height(text[:following] + out[len(kept):]) > ROW_MAX_PT  # as much as the row shows
    assert clipped(text) == out and clipped("ngắn") == "ngắn"  # the same every time; a short line as it is


def test_a_text_longer_than_a_cell_equals_what_the_writer_kept_of_it() -> None:
    """The mechanism under every program-written sheet: a change is judged against the sheet as the
    writer leaves it, so a longer text already written (cut) is no reason to write again."""
    from kehoach_xl.model.apply import changes_anything, same_value
    from kehoach_xl.model.changes import MasterChanges

    long = "NV00001; " * 5_000
    assert same_value(long[:CELL_TEXT_MAX], long) and not same_value(long[: CELL_TEXT_MAX - 1], long)
    ch = MasterChanges()
    ch.set("Tổng hợp", 2, 1, long)
    assert not changes_anything({"Tổng hợp": [["Tiêu đề"], [long[:CELL_TEXT_MAX]]]}, ch)
    assert changes_anything({"Tổng hợp": [["Tiêu đề"], [long[:100]]]}, ch)


def test_capitals_and_digits_wrap_sooner_than_prose() -> None:
    """Rows are sized by the lines their text wraps to; capitals and digits are wider than small
    letters. Seen on the 10,000-task export: "Phòng Chuyên môn số 28" in the unit column showed two
    of its three lines, and a list of task codes lost its last line, on paper."""
    from kehoach_xl.reports.summary import _lines

    assert _lines("Phòng Chuyên môn số 01", 11, False) == 3  # LibreOffice: Phòng / Chuyên môn / số 01
    codes = ", ".join(f"NV{i:05d}" for i in range(150))
    prose = ("đã rà soát và tổng hợp ý kiến các phòng " * 40)[: len(codes)]
    assert _lines(codes, 60, False) > _lines(prose, 60, False)
    assert _lines(codes, 60, False) >= len(codes) // 64  # ~63 characters a line, as printed
