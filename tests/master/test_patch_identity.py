"""The sheet patcher's output, byte for byte, against digests taken from the writer before its speed-up.

The writer was rewritten for speed (issue 18): appended rows built in bulk, the tail of an
append-only sheet found from the end, per-column style caches. Its output must not change by one
byte, so every scenario below hashes what the writer produces (the XML of each changed part, the
counts it reports, styles.xml when a date style is added, the message when it refuses) and the
digests are compared with ``golden/patch_identity.json``, written by the writer as it was before
(commit 502d7b6, ``python tests/master/test_patch_identity.py`` with that code on ``PYTHONPATH``).

Two kinds of input:

* a real master (``golden/patch_input.xlsx``: ``create_master`` at 100 tasks), patched the way a
  night patches it: derived and reported task columns, thousands of log and history rows, parts
  rows into a Table, the summary cleared and rewritten, custom heights; then patched again on top;
* a few hundred generated worksheet parts with what Excel and other writers put there (shared and
  inline strings, formulas and shared formulas, booleans, dates, styled empty cells, rows without
  ``r``, ``spans``, custom heights, ``ph``, the ``x:`` prefix, ``<sheetData/>``), each given a random
  edit (cells, appends with or without a Table, clear, heights).

Should the digests differ, the test names the scenarios; regenerating the file is only right when
the output is meant to change (and then the change needs its own test).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import shutil
import sys
import zipfile
from pathlib import Path

from python_calamine import CalamineWorkbook

from kehoach_xl.io.xlsx_patch import PatchError, patch_xlsx
from kehoach_xl.io.xlsx_sheet import SheetEdit, SheetPatchError, patch_sheet
from kehoach_xl.io.xlsx_styles import Styles
from kehoach_xl.model.changes import Link, MasterChanges

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden" / "patch_identity.json"
INPUT = HERE / "golden" / "patch_input.xlsx"

_WORDS = ("Triển khai thực hiện nâng cao chỉ số năng lực cạnh tranh cấp tỉnh đẩy mạnh cải cách hành chính "
          "chuyển đổi số tăng cường công khai minh bạch hỗ trợ doanh nghiệp").split()
_ODD_TEXTS = [
    "", " ", "a & b", "<b>x</b>", "_x0041_ literal", " leading", "trailing ", "hai\ndòng", "cr\r\nlf",
    "tab\tin", "\x07bell", "=SUM(A1:A3)", "Sở Tài chính", "x" * 300, "đ" * 40, "\ud800lone", "\ufffe",
    "a > b", "_x", "__x0000__", "\u00a0nbsp\u00a0", "\u3000ideo", "line\n", "\n", "\r",
]


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(n)).capitalize()


def _value(rng: random.Random, *, links: bool = False):
    k = rng.randrange(16 if links else 15)
    if k == 0:
        return None
    if k == 1:
        return rng.choice(_ODD_TEXTS)
    if k in (2, 3, 4):
        return _text(rng, rng.randrange(1, 12))
    if k == 5:
        return rng.randrange(-1000, 100000)
    if k == 6:
        return rng.choice([0.5, 1.0, 2.25, -3.0, 1e20, 1e15, 123456789.125, 0.1 + 0.2, 1e-7, 7.0, -0.0])
    if k == 7:
        return rng.choice([True, False])
    if k in (8, 9):
        return dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(-50000, 900))
    if k == 10:
        return dt.datetime(2025, 5, 1, 9, 30) + dt.timedelta(minutes=rng.randrange(-10**6, 10**6),
                                                             microseconds=rng.choice([0, 0, 500000, 1]))
    if k == 11:
        return dt.datetime(1900, 1, 1) + dt.timedelta(days=rng.randrange(0, 70), hours=rng.choice([0, 12]))
    if k == 12:
        return rng.choice(["Đang thực hiện", "Hoàn thành", "Quá hạn", "Trong hạn"])
    if k == 13:
        return rng.randrange(0, 100)
    if k == 14:
        return ""
    return Link(f"'Nhiệm vụ'!H{rng.randrange(2, 50)}", _text(rng, 3))


def _digest(*parts: object) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else repr(p).encode("utf-8"))
        h.update(b"\x00|")
    return h.hexdigest()


# --- a real master, patched as a night patches it ----------------------------------------------------


def _headers(path: Path, sheet: str) -> dict[str, int]:
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python(nrows=1)
    return {str(h).strip(): i + 1 for i, h in enumerate(rows[0]) if h not in (None, "")}


def _night(src: Path, rng: random.Random, round_: int) -> MasterChanges:
    ch = MasterChanges()
    tasks = _headers(src, "Nhiệm vụ")
    n_tasks = 100
    cols = sorted(tasks.values())
    for i in range(n_tasks):
        r = i + 2
        for c in rng.sample(cols, 6 if round_ == 1 else 3):
            ch.set("Nhiệm vụ", r, c, _value(rng))
        if i % 17 == 0:
            ch.row_heights.setdefault("Nhiệm vụ", {})[r] = rng.choice([0, 15, 30.5, 45])
    log_width = 9
    for i in range(3000 if round_ == 1 else 1500):
        when = dt.datetime(2025, 5, 1 + round_, 2, 0, i % 60)
        row = [when, rng.choice(["merge", "refresh", "nightly"]), f"2025-04_Phong_{i % 40:02d}.xlsx",
               f"Phòng Chuyên môn số {i % 40 + 1:02d}", f"NV{i % 200 + 1:05d}",
               rng.choice(["Trạng thái", "Tiến độ (%)", "Kết quả thực hiện", None]),
               rng.choice([_text(rng, 6), None, "", rng.choice(_ODD_TEXTS)]), _text(rng, rng.randrange(1, 20)),
               "kehoach-xl"]
        if i % 97 == 0:
            row[6] = _value(rng)
        ch.append("Nhật ký", row[: log_width - (i % 50 == 0)])
    for i in range(800 if round_ == 1 else 400):
        row = ["2025-04", f"NV{i % 200 + 1:05d}", f"Phòng Chuyên môn số {i % 40 + 1:02d}",
               rng.choice(["Đang thực hiện", "Hoàn thành", None]), rng.choice([0.5, 1.0, 0.25, None, 0, 1]),
               rng.choice([dt.date(2025, 4, 1 + i % 28), None]), rng.choice(["Trong hạn", "Quá hạn", ""]),
               _text(rng, rng.randrange(1, 30)), rng.choice([None, _text(rng, 4), " khoảng trắng "]),
               rng.choice([None, _text(rng, 4)]), dt.datetime(2025, 5, 1, 2, 0, i % 60)]
        ch.append("Lịch sử", row, height=rng.choice([None, None, 30, 45.75]))
    for i in range(300 if round_ == 1 else 50):
        row = [f"NV{i % 200 + 1:05d}", str(i % 40 + 1), _text(rng, 10), f"Phòng Chuyên môn số {i % 40 + 1:02d}",
               rng.choice(["Chủ trì", "Phối hợp"]), rng.choice(["Đang thực hiện", "Hoàn thành"]),
               rng.choice([0.5, 1.0, None]), rng.choice([dt.date(2025, 4, 3), None]), _text(rng, 8), None, None,
               "2025-04", dt.date(2025, 6, 30), rng.choice(["Trong hạn", "Quá hạn"]), "Đang thực hiện",
               rng.choice([None, "", "ghi chú"])]
        ch.append("Phần việc", row)
    ch.clear_from["Tổng hợp"] = 3
    for r in range(3, 3 + (150 if round_ == 1 else 90)):
        for c in range(1, 16):
            if rng.random() < 0.8:
                ch.set("Tổng hợp", r, c, _value(rng, links=True))
    return ch


def _package_digest(dst: Path, res) -> str:
    with zipfile.ZipFile(dst) as zf:
        parts = [(name, zf.read(name)) for name in res.changed_parts]
    return _digest(res.cells_written, sorted(res.rows_appended.items()), *[x for p in parts for x in p])


def master_scenarios(tmp: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    src = tmp / "in.xlsx"
    shutil.copyfile(INPUT, src)
    rng = random.Random(18)
    for round_ in (1, 2):
        dst = tmp / f"night{round_}.xlsx"
        res = patch_xlsx(src, dst, _night(src, rng, round_))
        out[f"master/night{round_}"] = _package_digest(dst, res)
        src = dst
    # Only appends, to the log alone (the common small write: one log row after a command).
    dst = tmp / "log_only.xlsx"
    ch = MasterChanges()
    ch.append("Nhật ký", [dt.datetime(2025, 5, 9, 8, 0), "refresh", None, None, None, None, None,
                          "Ghi 5 ô, thêm 0 dòng", "kehoach-xl"])
    res = patch_xlsx(src, dst, ch)
    out["master/log_only"] = _package_digest(dst, res)
    return out


# --- generated worksheet parts ------------------------------------------------------------------------

_STYLES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<numFmts count="2"><numFmt numFmtId="164" formatCode="dd/mm/yyyy hh:mm"/>'
    b'<numFmt numFmtId="165" formatCode="0.0%"/></numFmts>'
    b'<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    b'<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
    b'<borders count="2"><border/><border><left style="thin"/></border></borders>'
    b'<cellXfs count="7">'
    b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    b'<xf numFmtId="0" fontId="0" fillId="0" borderId="1" applyBorder="1"/>'
    b'<xf numFmtId="14" fontId="0" fillId="0" borderId="1" applyNumberFormat="1" applyBorder="1"/>'
    b'<xf numFmtId="164" fontId="0" fillId="0" borderId="1" applyNumberFormat="1" applyBorder="1"/>'
    b'<xf numFmtId="49" fontId="0" fillId="0" borderId="0" applyNumberFormat="1"/>'
    b'<xf numFmtId="165" fontId="0" fillId="0" borderId="1" applyNumberFormat="1"/>'
    b'<xf numFmtId="0" fontId="0" fillId="0" borderId="1" applyBorder="1"><alignment wrapText="1"/></xf>'
    b"</cellXfs></styleSheet>"
)


def _letters(col: int) -> str:
    out = ""
    while col:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


def _cell(rng: random.Random, p: str, ref: str | None, shared: dict[str, int]) -> str:
    r = f' r="{ref}"' if ref is not None else ""
    s = f' s="{rng.randrange(7)}"' if rng.random() < 0.7 else ""
    k = rng.randrange(10)
    if k == 0:
        return f"<{p}c{r}{s}/>"
    if k == 1:
        return f'<{p}c{r}{s} t="s"><{p}v>{rng.randrange(40)}</{p}v></{p}c>'
    if k == 2:
        return f'<{p}c{r}{s} t="inlineStr"><{p}is><{p}t>{_text(rng, 3)}</{p}t></{p}is></{p}c>'
    if k == 3:
        return f"<{p}c{r}{s}><{p}v>{rng.randrange(10**6)}</{p}v></{p}c>"
    if k == 4:
        return f'<{p}c{r}{s} t="b"><{p}v>{rng.randrange(2)}</{p}v></{p}c>'
    if k == 5:
        return f"<{p}c{r} s=\"2\"><{p}v>{45000 + rng.randrange(400)}</{p}v></{p}c>"
    if k == 6 and ref is not None:
        return f"<{p}c{r}{s}><{p}f>SUM(A1:B1)</{p}f><{p}v>3</{p}v></{p}c>"
    if k == 7 and ref is not None:
        col = ref.rstrip("0123456789")
        if col not in shared:
            shared[col] = len(shared)
            return (f'<{p}c{r}{s}><{p}f t="shared" ref="{ref}:{ref}" si="{shared[col]}">A1*2</{p}f>'
                    f"<{p}v>2</{p}v></{p}c>")
        return f'<{p}c{r}{s}><{p}f t="shared" si="{shared[col]}"/><{p}v>2</{p}v></{p}c>'
    if k == 8:
        return f'<{p}c{r}{s} ph="1" t="s"><{p}v>{rng.randrange(40)}</{p}v></{p}c>'
    return f'<{p}c{r}{s} t="str"><{p}v>{_text(rng, 2)}</{p}v></{p}c>'


def _sheet(rng: random.Random, prefix: str, n_rows: int, n_cols: int) -> bytes:
    p = prefix + ":" if prefix else ""
    ns = (f'xmlns:{prefix}="http://schemas.openxmlformats.org/spreadsheetml/2006/main"' if prefix
          else 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"')
    rows: list[str] = []
    num = 0
    shared: dict[str, int] = {}
    no_r_rows = rng.random() < 0.1
    for _ in range(n_rows):
        num += 1 if rng.random() < 0.8 else rng.randrange(2, 5)
        attrs = "" if no_r_rows and rng.random() < 0.5 else f' r="{num}"'
        if rng.random() < 0.3:
            attrs += f' spans="1:{n_cols}"'
        if rng.random() < 0.2:
            attrs += f' ht="{rng.choice(["30", "15.75", "45.5"])}" customHeight="1"'
        if rng.random() < 0.1:
            attrs += f' s="{rng.randrange(7)}" customFormat="1"'
        if rng.random() < 0.05:
            attrs += ' hidden="1"'
        if rng.random() < 0.08:
            rows.append(f"<{p}row{attrs}/>")
            continue
        cells = []
        no_r_cells = rng.random() < 0.05
        for c in range(1, n_cols + 1):
            if rng.random() < 0.75:
                cells.append(_cell(rng, p, None if no_r_cells else f"{_letters(c)}{num}", shared))
        rows.append(f"<{p}row{attrs}>{''.join(cells)}</{p}row>")
    if rng.random() < 0.3:  # styled, empty rows below the data (a Table's placeholder, a formatted block)
        for _ in range(rng.randrange(1, 4)):
            num += 1
            cells = "".join(f'<{p}c r="{_letters(c)}{num}" s="{rng.randrange(7)}"/>' for c in range(1, n_cols + 1))
            rows.append(f'<{p}row r="{num}" ht="20" customHeight="1">{cells}</{p}row>')
    last = f"{_letters(n_cols)}{max(num, 1)}"
    body = f"<{p}sheetData>{''.join(rows)}</{p}sheetData>" if rows or rng.random() < 0.5 else f"<{p}sheetData/>"
    tail = ""
    if rng.random() < 0.5:
        tail += (f'<{p}conditionalFormatting sqref="A2:{last}"><{p}cfRule type="expression" priority="1">'
                 f"<{p}formula>$A2=1</{p}formula></{p}cfRule></{p}conditionalFormatting>")
    if rng.random() < 0.3:
        tail += f'<{p}autoFilter ref="A1:{last}"/>'
    if rng.random() < 0.3:
        tail += (f'<{p}dataValidations count="1"><{p}dataValidation type="list" sqref="B2:B{max(num, 1)}">'
                 f"<{p}formula1>\"a,b\"</{p}formula1></{p}dataValidation></{p}dataValidations>")
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<{p}worksheet {ns}>'
            f'<{p}dimension ref="A1:{last}"/><{p}sheetViews><{p}sheetView workbookViewId="0"/></{p}sheetViews>'
            f"{body}{tail}</{p}worksheet>").encode()


def _edit(rng: random.Random, n_rows: int, n_cols: int) -> SheetEdit:
    edit = SheetEdit()
    top = n_rows + 6
    for _ in range(rng.choice([0, 0, 1, 5, 40])):
        edit.cells[(rng.randrange(1, top), rng.randrange(1, n_cols + 3))] = _value(rng, links=True)
    if rng.random() < 0.6:
        width = rng.randrange(1, n_cols + 1)
        edit.appends = [[_value(rng) for _ in range(rng.randrange(1, width + 1))]
                        for _ in range(rng.choice([1, 3, 30]))]
        if rng.random() < 0.5:
            edit.append_heights = [rng.choice([None, None, 30, 12.5, 0]) for _ in edit.appends]
        if rng.random() < 0.4:
            header = rng.randrange(1, 3)
            edit.table = (1, header, header + rng.randrange(0, n_rows + 3))
    if rng.random() < 0.15:
        edit.clear_from = rng.randrange(1, n_rows + 2)
    if rng.random() < 0.3:
        edit.row_heights = {rng.randrange(1, top): rng.choice([0, 15, 30.25]) for _ in range(3)}
    return edit


def _sheet_digest(xml: bytes, edit: SheetEdit, date1904: bool) -> str:
    styles = Styles(_STYLES)
    try:
        res = patch_sheet(xml, edit, styles, date1904)
        out = res.xml  # the pieces are made as they are read: a refusal may come from making them
    except SheetPatchError as exc:
        return _digest("refused", str(exc))
    except ValueError as exc:  # a date over a style that is not an index: the same failure as before
        return _digest("failed", type(exc).__name__, str(exc))
    return _digest(out, res.cells_written, res.rows_appended, res.append_rows, res.last_col,
                   res.removed_formulas, styles.changed, styles.xml)


def sheet_scenarios() -> dict[str, str]:
    out: dict[str, str] = {}
    rng = random.Random(1818)
    for i in range(400):
        n_rows, n_cols = rng.choice([(0, 3), (1, 2), (4, 5), (12, 8), (40, 6), (120, 12)])
        prefix = "x" if rng.random() < 0.15 else ""
        xml = _sheet(rng, prefix, n_rows, n_cols)
        out[f"sheet/{i:03d}"] = _sheet_digest(xml, _edit(rng, n_rows, n_cols), rng.random() < 0.2)
    # A long log-like sheet with thousands of rows appended under a Table, and the same without a Table.
    for name, table in (("log_table", True), ("log_plain", False)):
        rng = random.Random(7 if table else 8)
        xml = _sheet(random.Random(3), "", 2000, 9)
        edit = SheetEdit(appends=[[_value(rng) for _ in range(9)] for _ in range(5000)])
        edit.append_heights = [None if i % 7 else 30 for i in range(5000)]
        if table:
            edit.table = (1, 1, 2010)
        out[f"sheet/{name}"] = _sheet_digest(xml, edit, False)
    # Style attributes that are not a plain index (hand-edited or foreign files): written as they were.
    rows = "".join(f'<row r="{r}"><c r="A{r}" s="1%"><v>1</v></c><c r="B{r}" s=""/><c r="C{r}" s="x2">'
                   f"<v>3</v></c></row>" for r in range(1, 4))
    xml = (f'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{rows}'
           "</sheetData></worksheet>").encode()
    for name, values in (("odd_styles", ("a_x0041_ & b", None, 2.5)), ("odd_styles_date", ("a", dt.date(2025, 5, 1), 7))):
        edit = SheetEdit(cells={(r, c): v for r in range(1, 4) for c, v in zip((1, 2, 3), values, strict=True)})
        out[f"sheet/{name}"] = _sheet_digest(xml, edit, False)
    return out


def all_scenarios(tmp: Path) -> dict[str, str]:
    return {**master_scenarios(tmp), **sheet_scenarios()}


def test_patch_output_is_byte_identical(tmp_path: Path) -> None:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    got = all_scenarios(tmp_path)
    assert set(got) == set(golden)
    differ = sorted(k for k in golden if got[k] != golden[k])
    assert not differ, f"output changed in {len(differ)} scenarios: {differ[:20]}"


def test_scenarios_cover_what_they_claim(tmp_path: Path) -> None:
    """The generated inputs do reach the cases the digests are meant to pin (not all refused, not all trivial)."""
    rng = random.Random(1818)
    refused = appended = tabled = prefixed = 0
    for _ in range(400):
        n_rows, n_cols = rng.choice([(0, 3), (1, 2), (4, 5), (12, 8), (40, 6), (120, 12)])
        prefix = "x" if rng.random() < 0.15 else ""
        xml = _sheet(rng, prefix, n_rows, n_cols)
        edit = _edit(rng, n_rows, n_cols)
        rng.random()
        prefixed += bool(prefix)
        try:
            res = patch_sheet(xml, edit, Styles(_STYLES))
            res.xml  # noqa: B018 - made as read: a refusal may come from making it
        except SheetPatchError:
            refused += 1
            continue
        appended += bool(res.rows_appended)
        tabled += bool(res.rows_appended and edit.table)
    assert refused < 80 and appended > 150 and tabled > 50 and prefixed > 30, (refused, appended, tabled, prefixed)
    try:
        patch_xlsx(INPUT, tmp_path / "x.xlsx", MasterChanges())
    except PatchError:  # pragma: no cover - the input must stay a patchable master
        raise


if __name__ == "__main__":  # write the golden digests with the writer on PYTHONPATH
    import tempfile

    if not INPUT.exists():
        sys.path.insert(0, str(HERE.parents[1] / "bench"))
        from bench_write import task_rows

        from kehoach_xl.commands.init import create_master

        INPUT.parent.mkdir(parents=True, exist_ok=True)
        rows = task_rows(100)
        for i, r in enumerate(rows):
            r["lead_units"] = f"Phòng Chuyên môn số {i % 40 + 1:02d}"
        units = [{"name": f"Phòng Chuyên môn số {i + 1:02d}", "email": ""} for i in range(40)]
        create_master(INPUT, tasks=rows, units=units, meta={"plan_title": "Kế hoạch thử", "master_id": "golden"},
                      overwrite=True)
    with tempfile.TemporaryDirectory() as d:
        GOLDEN.write_text(json.dumps(all_scenarios(Path(d)), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print("wrote", GOLDEN)
