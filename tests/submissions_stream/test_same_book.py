"""The streamed reader gives the SafeBook openpyxl's full load gives, on every kind of submission.

Each case is read twice through ``safe_open`` (same zip checks), once with ``_parse_book_openpyxl``
and once with ``_parse_book_stream`` (no fallback), and the books are compared field by field:
sheet names and order, every cell with its Python type, formulas, merged ranges, number formats.
``shadow.py`` does the same for every submission the other suites read.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest

from kehoach_xl.io.submission import SafeBook
from kehoach_xl.model.config import LimitsConfig
from kehoach_xl.model.submission import SubmissionRejected
from tests.bad_inputs.make import fill, setup_month
from tests.submissions_stream import crafted as x
from tests.submissions_stream.compare import compare, has_values, read

ROOT = Path(__file__).resolve().parents[2]
T1, T3, T4, T5 = "DDCI2024-001", "DDCI2024-003", "DDCI2024-004", "DDCI2024-005"


def _same(data: bytes, limits: LimitsConfig | None = None) -> SafeBook:
    old = read(None, data=data, limits=limits, stream=False)
    new = read(None, data=data, limits=limits, stream=True)
    assert compare(data=data, limits=limits) == []
    assert isinstance(new, SafeBook), getattr(new, "problem", new)
    assert isinstance(old, SafeBook)
    return new


def _both_refuse(data: bytes, limits: LimitsConfig | None = None) -> tuple[str, str]:
    old = read(None, data=data, limits=limits, stream=False)
    new = read(None, data=data, limits=limits, stream=True, fallback=True)
    assert isinstance(old, SubmissionRejected) and isinstance(new, SubmissionRejected), (old, new)
    return old.problem.message, new.problem.message


# --- files in the repository and files the other suites build ---------------------------------------

@pytest.mark.parametrize("rel", sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests" / "fixtures").rglob("*.xlsx")))
def test_every_fixture_workbook(rel):
    book = _same((ROOT / rel).read_bytes())
    assert book.sheets


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    return setup_month(tmp_path_factory.mktemp("thang"))


def test_every_issued_workbook_and_the_master(month):
    master, files, _ = month
    for f in [master, *files.values()]:
        _same(f.read_bytes())


def test_filled_workbooks_every_kind_of_value(month, tmp_path):
    _, files, _ = month

    def edit(wb, cols):
        ws = wb["Báo cáo"]
        ws.cell(6, cols["progress"]).number_format = "0%"
        ws.cell(6, cols["progress"]).value = 1
        ws.cell(7, cols["progress"]).value = 0.955
        ws.cell(7, cols["progress"]).number_format = "0.0%"
        ws.cell(5, cols["completed_on"]).value = dt.datetime(2024, 5, 12)
        ws.cell(5, cols["completed_on"]).number_format = "dd/mm/yyyy"
        ws.cell(6, cols["completed_on"]).value = dt.date(2024, 5, 13)
        ws.cell(7, cols["completed_on"]).value = dt.time(9, 30)
        ws.cell(8, cols["completed_on"]).value = dt.timedelta(hours=30)
        ws.cell(8, cols["progress"]).value = "=40+40"
        ws.cell(9, cols["progress"]).value = True
        ws.merge_cells(start_row=10, start_column=cols["result"], end_row=12, end_column=cols["result"])
        ws.cell(30, 40).value = "xa bảng"
        ws.cell(31, 41).number_format = "0.00"  # an empty styled cell still counts for the extent
        ws["A40"].hyperlink = "https://example.gov.vn"
        wb.create_sheet("báo cáo")  # a near-duplicate name
        wb.epoch  # noqa: B018 - (1900 system here; the 1904 one is covered by hand-written files)

    filled = fill(files["Thanh_tra_So"], tmp_path / "f.xlsx", {
        T3: {"progress": 95, "result": "Đã rà soát 14 cuộc kiểm tra.", "status": "Hoàn thành"},
        T1: {"status": "Đang thực hiện", "progress": "60%", "completed_on": "12/5/2024", "difficulties": "=SUM(A1)"},
        T5: {"status": "Hoàn thành", "progress": 100, "result": "Đã đánh giá xong."},
        T4: {"contribution": "Cử 01 thanh tra viên"},
    }, edit=edit)
    book = _same(filled.read_bytes())
    assert has_values(book, int, float, str, dt.datetime, bool)
    assert book.formulas and book.merged["Báo cáo"] and book.formats
    for f in files.values():
        _same(fill(f, tmp_path / f.name, {T3: {"result": "Báo cáo của đơn vị"}}, as_text=False).read_bytes())


def test_workbook_saved_by_libreoffice(month, tmp_path, soffice_convert):
    """Another writer: shared strings, its own styles and defaults."""
    _, files, _ = month
    filled = fill(files["Thanh_tra_So"], tmp_path / "in" / "f.xlsx", {
        T3: {"progress": 95, "result": "Đã rà soát", "completed_on": dt.date(2024, 5, 3)}}, as_text=False)
    out = soffice_convert(filled, "xlsx:Calc MS Excel 2007 XML", tmp_path / "lo")
    with zipfile.ZipFile(out) as z:
        assert "xl/sharedStrings.xml" in z.namelist()
    book = _same(out.read_bytes())
    assert has_values(book, str, int)


# --- hand-written parts: every construct the streamed reader interprets -------------------------------

SHARED = ["<t>văn bản</t>", '<r><t>Đậm </t></r><r><rPr><b/></rPr><t xml:space="preserve">và thường </t></r>',
          "<t>漢字</t><rPh sb=\"0\" eb=\"2\"><t>かんじ</t></rPh>", "<t/>", "<t>a_x005F_x000D_b_x000D_c</t>",
          "<t>=SUM(A1:A9)</t>"]


def test_values_types_and_formats():
    rows = [
        x.row(1, x.c("A1", "<v>0</v>", t="s"), x.c("B1", "<v>1</v>", t="s"), x.c("C1", "<v>2</v>", t="s"),
              x.c("D1", "<v>3</v>", t="s"), x.c("E1", "<v>4</v>", t="s"), x.c("F1", "<v>5</v>", t="s")),
        x.row(2, x.c("A2", "<v>42</v>"), x.c("B2", "<v>4.5</v>"), x.c("C2", "<v>1E3</v>"), x.c("D2", "<v>-7</v>"),
              x.c("E2", "<v>1</v>", t="b"), x.c("F2", "<v>0</v>", t="b"), x.c("G2", "<v>#N/A</v>", t="e"),
              x.c("H2", "<v>#DIV/0!</v>", t="e"), x.c("I2", "<v>kết quả</v>", t="str"), x.c("J2", "<v></v>")),
        x.row(3, x.c("A3", "<v>45424</v>", s="1"), x.c("B3", "<v>45424.5</v>", s="6"), x.c("C3", "<v>0.375</v>", s="5"),
              x.c("D3", "<v>1.25</v>", s="4"), x.c("E3", "<v>45424</v>", s="7"), x.c("F3", "<v>1</v>", s="2"),
              x.c("G3", "<v>0.955</v>", s="3"), x.c("H3", "<v>1500000</v>", s="8"), x.c("I3", "<v>12</v>", s="9"),
              x.c("J3", "<v>10000000000</v>", s="1"), x.c("K3", "<v>2024-05-12T00:00:00</v>", t="d"),
              x.c("L3", "<v>2024-05-12T08:30:00Z</v>", t="d")),
        x.row(4, x.c("A4", '<is><t>nội tuyến</t></is>', t="inlineStr"),
              x.c("B4", '<is><r><t>chạy </t></r><r><rPr><i/></rPr><t>nghiêng</t></r></is>', t="inlineStr"),
              x.c("C4", t="inlineStr"), x.c("D4", '<is><t>=1+1</t></is>', t="inlineStr"), x.c("E4", s="1"),
              x.c("F4", "<v>3</v>", s="1", t="n")),
    ]
    book = _same(x.book([("Báo cáo", x.sheet(*rows))], shared=SHARED))
    g = book.sheets["Báo cáo"]
    assert g[0][1] == "Đậm và thường " and g[0][2] == "漢字" and g[0][3] == ""
    assert g[1][:4] == [42, 4.5, 1000.0, -7] and g[1][4] is True and g[1][6] == "#N/A"
    assert g[2][0] == dt.datetime(2024, 5, 12) and isinstance(g[2][2], dt.time) and isinstance(g[2][3], dt.timedelta)
    assert g[2][9] == "#VALUE!" and book.formats[("Báo cáo", 3, 6)] == "0%"
    assert not book.formulas  # text that looks like a formula is text


def test_date_system_1904():
    rows = [x.row(1, x.c("A1", "<v>0</v>", s="1"), x.c("B1", "<v>43962.25</v>", s="6"), x.c("C1", "<v>5</v>"))]
    book = _same(x.book([("S", x.sheet(*rows))], date1904=True))
    assert book.sheets["S"][0][1] == dt.datetime(2024, 5, 12, 6)


def test_formulas_plain_shared_array_and_cached_strings():
    rows = [
        x.row(1, x.c("A1", "<v>1</v>"), x.c("B1", "<f>A1*2</f><v>2</v>"), x.c("C1", '<f t="shared" ref="C1:C4" si="0">A1+B1</f><v>3</v>'),
              x.c("D1", '<f t="array" ref="D1:D2">SUM(A1:A2*B1:B2)</f><v>5</v>'), x.c("E1", '<f>"a"&amp;"b"</f><v>ab</v>', t="str")),
        x.row(2, x.c("A2", "<v>2</v>"), x.c("C2", '<f t="shared" si="0"/><v>6</v>'), x.c("E2", "<f/><v>1</v>")),
        x.row(3, x.c("C3", '<f t="shared" si="0"/><v>0</v>'), x.c("E3", '<f t="shared" si="7"/><v>0</v>')),
        x.row(4, x.c("C4", '<f t="shared" si="0"/><v>0</v>', s="1"),
              x.c("E4", '<f>B1</f><is><t>x</t></is>', t="inlineStr")),
    ]
    book = _same(x.book([("F", x.sheet(*rows))]))
    g = book.sheets["F"]
    assert g[0][1] == "=A1*2" and g[1][2] == "=A2+B2" and g[3][2] == "=A4+B4" and g[0][3] == "=SUM(A1:A2*B1:B2)"
    assert ("F", 4, 3) in book.formulas and ("F", 4, 3) not in book.formats


def test_extent_counts_styled_cells_merges_links_and_comments():
    rows = [
        x.row(1, x.c("A1", "<v>1</v>"), x.c("B1", "<v>2</v>"), x.c("C1", "<v>3</v>")),
        x.row(2, x.c("A2", "<v>4</v>"), x.c("B2", "<f>A2</f><v>4</v>"), x.c("C2", "<v>0.5</v>", s="2")),
        x.row(None, x.c("A3", "<v>5</v>")),  # row without r: the next one
        x.row(6, "<c><v>7</v></c><c><v>8</v></c>", x.c("E6", "<v>9</v>"), "<c><v>10</v></c>"),  # cells without r
        x.row(5, x.c("B5", "<v>11</v>"), x.c("B5", "<v>12</v>")),  # out of order, and a cell twice
        x.row(8, x.c("C8", "<v>0.5</v>", s="2"), x.c("C8", s="2"), x.c("D8", "<f>C8</f>"), x.c("D8")),
        x.row(20, x.c("H20", s="3")),
        x.row(21, x.c("IV21", "<v>99</v>")),  # column 256: beyond the columns kept, still in the extent
    ]
    tail = ('<mergeCells count="3"><mergeCell ref="A1:B2"/><mergeCell ref="C30:D31"/><mergeCell ref="$F$1:$F$1"/></mergeCells>'
            '<hyperlinks><hyperlink ref="J40" location="\'S\'!A1"/><hyperlink ref="K2:K3" r:id="rIdL"/></hyperlinks>')
    comments = (f'<comments xmlns="{x.MAIN}"><authors><author>a</author></authors><commentList>'
                '<comment ref="M45" authorId="0"><text><t>ghi chú</t></text></comment></commentList></comments>')
    data = x.book([("S", x.sheet(*rows, tail=tail))],
                  sheet_rels={1: [("rIdL", f"{x.REL}/hyperlink", "https://example.gov.vn"),
                                  ("rIdC", f"{x.REL}/comments", "../comments1.xml")]},
                  extra={"xl/comments1.xml": comments})
    book = _same(data)
    g = book.sheets["S"]
    assert len(g) == 45 and len(g[0]) == 200 and g[1][1] is None and g[4][1] == 12 and g[7][2:4] == [None, None]
    assert book.merged["S"] == ["A1:B2", "C30:D31", "F1"] and not book.formulas and book.formats == {("S", 2, 3): "0%"}


def test_sheet_names_order_duplicates_chart_sheet_and_empty_sheets():
    empty = x.sheet()
    styled_only = x.sheet(x.row(3, x.c("B3", s="0")))
    data = x.book([("Báo cáo", x.sheet(x.row(1, x.c("A1", "<v>1</v>")))), ("báo cáo", empty), ("_kehoach", styled_only),
                   ("Sheet", empty)], chart_sheet=True, styles=None)
    book = _same(data)
    assert list(book.sheets) == ["Báo cáo", "báo cáo1", "_kehoach", "Sheet"]
    assert book.sheets["báo cáo1"] == [[None]] and len(book.sheets["_kehoach"]) == 3


def test_limits_after_parsing_refuse_the_same_way():
    lim = LimitsConfig(max_rows=1000, max_cell_chars=50)
    many = x.book([("S", x.sheet(x.row(1, x.c("A1", "<v>1</v>")), tail='<mergeCells count="1"><mergeCell ref="A5:B2000"/></mergeCells>'))])
    old, new = _both_refuse(many, lim)
    assert old == new and "2.000" in old or "2000" in old
    long_formula = x.book([("S", x.sheet(x.row(1, x.c("C7", "<f>" + "A1+" * 30 + "1</f>"))))])
    old, new = _both_refuse(long_formula, lim)
    assert old == new and "C7" not in old  # the cell is named in the problem, not the message


@pytest.mark.parametrize("broken", [
    x.sheet(x.row(1, x.c("A1", "<v>9</v>", t="s"))),  # no such shared string
    x.sheet(x.row(1, x.c("A1", "<v>abc</v>"))),  # not a number
    x.sheet(x.row(1, x.c("A1", "<v>1</v>", s="99"))),  # no such style
    x.sheet(x.row(1, x.c("A1", "<v>yes</v>", t="b"))),
    x.sheet(x.row(1, x.c("1A", "<v>1</v>"))),  # not a cell reference
    x.sheet(x.row(1, x.c("$A$1", "<v>1</v>"))),  # openpyxl takes no "$" in a cell's own reference
    x.sheet(x.row(1, x.c("AAAA1", "<v>1</v>"))),
    x.sheet(x.row(1, x.c("A1", "<v>1</v>")), tail='<hyperlinks><hyperlink ref="A1" r:id="rId9"/></hyperlinks>'),
    x.sheet(x.row(1, x.c("A1", "<v>1</v>")), tail='<mergeCells count="1"><mergeCell ref="B2:A1"/></mergeCells>'),
    x.sheet(x.row(1, x.c("A1", "<v>1</v>"))).replace("</sheetData>", "<sheetData>"),  # not well-formed
])
def test_malformed_parts_refused_by_both_with_the_same_message(broken):
    old, new = _both_refuse(x.book([("S", broken)], shared=["<t>a</t>"]))
    assert old == new


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_what_is_not_mirrored_falls_back_to_openpyxl(monkeypatch):
    """A merged range given as whole columns is left to openpyxl (which refuses it, as before)."""
    from kehoach_xl.io import submission, xlsx_stream

    data = x.book([("S", x.sheet(x.row(1, x.c("A1", "<v>1</v>")),
                                 tail='<mergeCells count="1"><mergeCell ref="A:B"/></mergeCells>'))])
    with pytest.raises(xlsx_stream.StreamUnsupported):
        submission._parse_book_stream(Path("t.xlsx"), _members(data), LimitsConfig(), 0)
    calls = []
    real = submission._parse_book_openpyxl
    monkeypatch.setattr(submission, "_parse_book_openpyxl", lambda *a: calls.append(1) or real(*a))
    with pytest.raises(SubmissionRejected):
        submission.safe_open(Path("t.xlsx"), LimitsConfig(), data=data)
    assert calls


def test_a_unit_workbook_is_read_without_openpyxl(month, monkeypatch):
    from kehoach_xl.io import submission

    _, files, _ = month
    monkeypatch.setattr(submission, "_parse_book_openpyxl", lambda *a: pytest.fail("fell back to openpyxl"))
    for f in files.values():
        book = submission.safe_open(f, LimitsConfig())
        assert book.sheets["Báo cáo"]


def test_the_one_deliberate_difference_a_hyperlink_over_a_million_cells():
    """openpyxl writes the link into every empty cell of its range (1.8 million objects here); the
    streamed reader refuses the file instead of filling them."""
    data = x.book([("S", x.sheet(x.row(1, x.c("A1", "<v>1</v>")),
                                 tail='<hyperlinks><hyperlink ref="A1:GR9000" location="S!A1"/></hyperlinks>'))])
    new = read(None, data=data, stream=True, fallback=True)
    assert isinstance(new, SubmissionRejected) and "không đúng định dạng" in new.problem.message


def test_missing_comments_part_refused_by_both():
    data = x.book([("S", x.sheet(x.row(1, x.c("A1", "<v>1</v>"))))],
                  sheet_rels={1: [("rIdC", f"{x.REL}/comments", "../comments9.xml")]})
    old, new = _both_refuse(data)
    assert old == new


def test_overlong_inline_string_refused_the_same_way_and_named():
    lim = LimitsConfig(max_cell_chars=1000)
    data = x.book([("Báo cáo", x.sheet(x.row(1, x.c("A1", "<v>1</v>")),
                                       x.row(9, x.c("K9", "<is><t>" + "Ừ" * 1500 + "</t></is>", t="inlineStr"))))])
    old = read(None, data=data, limits=lim, stream=False)
    new = read(None, data=data, limits=lim, stream=True)
    assert isinstance(old, SubmissionRejected) and isinstance(new, SubmissionRejected)
    assert old.problem.to_dict() == new.problem.to_dict()
    assert "1.500 ký tự" in new.problem.message and new.problem.cell == "K9" and new.problem.sheet == "Báo cáo"


def test_characters_are_counted_not_their_xml_escapes():
    """The old raw-XML count took "&#193;" for six characters; 900 "Á" written that way are 900 characters.

    (openpyxl itself writes non-ASCII text as character references, so a long Vietnamese text it
    wrote could be refused as "too long" although it was not.)"""
    lim = LimitsConfig(max_cell_chars=1000)
    data = x.book([("S", x.sheet(x.row(1, x.c("A1", "<is><t>" + "&#193;" * 900 + "</t></is>", t="inlineStr"))))])
    old = read(None, data=data, limits=lim, stream=False)
    new = read(None, data=data, limits=lim, stream=True)
    assert isinstance(old, SubmissionRejected) and "5.400 ký tự" in old.problem.message
    assert isinstance(new, SafeBook) and new.sheets["S"][0][0] == "Á" * 900


# The submissions the other suites build (bad inputs, hostile inboxes, read-back of prefilled parts,
# forged signatures), each read by both readers while those tests run (tests/submissions_stream/shadow.py).
SHADOWED = ("tests/units_merge/test_submission_bad_inputs.py", "tests/units_merge/test_inbox_hostile.py",
            "tests/unitbook_parts/test_read_back.py", "tests/security/test_security_signing.py")


def test_every_submission_the_other_suites_build_reads_the_same(tmp_path):
    import os
    import subprocess
    import sys

    report = tmp_path / "shadow.txt"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore::UserWarning",
                           "-p", "tests.submissions_stream.shadow", *SHADOWED], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "KEHOACH_SHADOW_REPORT": str(report)}, timeout=3600)
    text = report.read_text(encoding="utf-8")
    assert proc.returncode == 0, text + proc.stdout[-3000:]
    read, differ = int(text.split()[1]), int(text.split(",")[1].split()[0])
    assert read >= 40 and differ == 0, text
