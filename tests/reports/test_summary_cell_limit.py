"""A summary line never holds more than one Excel cell does (32,767 characters).

The writer cuts a longer text, so the sheet would never equal the summary made from it: every night,
even one with nothing new, wrote the whole summary again (with a backup). Seen at 10,000 tasks, where
5,169 tasks newly overdue made an 86,761-character line.
"""

from __future__ import annotations

import dataclasses

from kehoach_xl.model.changes import EXCEL_TEXT_MAX as CELL_TEXT_MAX
from kehoach_xl.reports.figures import TaskFact
from kehoach_xl.reports.summary import cite, cited_line, clipped

HEAD = "Nhiệm vụ mới quá hạn trong kỳ: "


def _facts(n: int) -> list[TaskFact]:
    base = TaskFact(row=0, id="", task="Rà soát thủ tục", group="I", lead_units=(), leaders=(), status="in_progress",
                    state="overdue", deadline_text="", due_date=None, days_remaining=None, completed_on=None,
                    progress=None, result="", difficulties="", proposals="", updated_at=None)
    return [dataclasses.replace(base, row=i, id=f"NV{i:05d}", number=f"G{i % 97}.{i}") for i in range(n)]


def test_a_list_that_fits_is_every_task_cited() -> None:
    fs = _facts(40)
    assert cited_line(HEAD, fs) == HEAD + "; ".join(cite(f) for f in fs)


def test_a_list_longer_than_a_cell_cites_whole_tasks_and_counts_the_rest() -> None:
    fs = _facts(5_169)
    text = cited_line(HEAD, fs)
    assert len(text) <= CELL_TEXT_MAX
    listed, _, tail = text[len(HEAD):].rpartition("; … và ")
    cited = listed.split("; ")
    assert cited == [cite(f) for f in fs[: len(cited)]]  # whole cites, in order, none cut
    assert tail == f"{5_169 - len(cited):,} nhiệm vụ khác".replace(",", ".")
    assert len(cited) > 1_000 and cited_line(HEAD, fs) == text  # as full as a cell allows; the same every time


def test_a_long_line_is_cut_after_its_last_whole_item_and_says_so() -> None:
    text = "Đơn vị nêu: " + "; ".join(f"Phòng {u} (nhiệm vụ {', '.join(f'NV{i:05d}' for i in range(400))})"
                                      for u in range(20)) + "."
    assert len(text) > CELL_TEXT_MAX
    out = clipped(text)
    assert len(out) <= CELL_TEXT_MAX and out.endswith("xem đủ ở sheet “Nhiệm vụ”).")
    kept = out[: out.rindex(" … (")]
    assert text.startswith(kept) and text[len(kept):len(kept) + 2] in (", ", "; ")  # cut after a whole item
    assert len(kept) > CELL_TEXT_MAX - 200  # as much as the cell holds
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
