"""The import gives the same tasks, registry, parts and report after the speed work as before it.

A bench-style Word table (one group row per 25 tasks), with the variety a real plan has: bodies
written one after the other, collectives, roles in brackets, leaders, deadlines of every kind, a
page break with the header repeated, a row split across the break and a column with no field.
It is imported twice — into a new master and into an existing master whose registry knows
only some of the names (the strict path with suggestions) — at two sizes, and every sheet the
import writes is read back with calamine and compared with the golden files in
``golden_import/``, computed with the code before the speed work (main at 64f45ac).

Regenerate (only when the import's output is meant to change):
``PYTHONPATH=. python tests/importing/test_import_same_results.py``.
"""

from __future__ import annotations

import copy
import datetime as dt
import gzip
import json
import sys
from pathlib import Path
from typing import Any

import pytest

GOLDEN = Path(__file__).parent / "golden_import"
SIZES = (60, 300)
# Volatile cells: the master's random identifier (a settings row), the log's time and user, and the
# parts' deadline and its state (for a recurring task both follow today's date).
_SKIP_ROWS = ("Mã định danh sổ theo dõi",)
_BLANK_COLUMNS = {"Nhật ký": ("Thời gian", "Người/máy thực hiện"), "Phần việc": ("Hạn", "Tình trạng hạn")}

UNITS = ["Sở Tài chính", "Sở Nội vụ", "Sở Kế hoạch và Đầu tư", "Văn phòng UBND tỉnh", "Thanh tra tỉnh",
         "Sở Thông tin và Truyền thông", "Công an tỉnh", "UBND các huyện, thành phố", "Sở Công Thương",
         "Ban Quản lý Khu kinh tế", "Trung tâm Phục vụ hành chính công", "Sở Tư pháp"]
LEADS = [
    "{a}", "{a}; {b}", "{a} (chủ trì)", "{a}, {b}", "Các sở, ban, ngành", "{a} {b}", "{a}\n{b}",
    "{a} chủ trì, {b} phối hợp", "Phòng Tổng hợp {a}", "",
]
DEADLINES = ["Tháng {m}/2025", "Quý {q}/2025", "Thường xuyên", "Trước ngày {d}/{m}", "Năm 2025",
             "Hằng tháng", "{d}/{m}/2025", "6 tháng đầu năm", "Khi có yêu cầu", "Trong tháng {m}",
             "Quý {q}", "Trước 30/{m}/2025 và hằng quý"]
LEADERS = ["", "Đ/c Nguyễn Văn An - Phó Chủ tịch UBND tỉnh", "Lê Thị Bình", "Đ/c Trần Văn Cường (PCT)", ""]
HEADS = ("STT", "Nhiệm vụ", "Đơn vị chủ trì", "Đơn vị phối hợp", "Lãnh đạo phụ trách", "Thời gian hoàn thành",
         "Sản phẩm", "Kinh phí")


def _row(i: int) -> tuple[str, ...]:
    a, b = UNITS[i % len(UNITS)], UNITS[(i * 7 + 3) % len(UNITS)]
    m, q, d = i % 12 + 1, i % 4 + 1, i % 28 + 1
    task = f"Triển khai nội dung số {i + 1} của kế hoạch cải cách hành chính" + (
        ", bảo đảm đúng tiến độ và chất lượng theo yêu cầu của Ủy ban nhân dân tỉnh" if i % 3 == 0 else "")
    return (str(i % 25 + 1), task, LEADS[i % len(LEADS)].format(a=a, b=b),
            UNITS[(i + 5) % len(UNITS)] if i % 4 else "", LEADERS[i % len(LEADERS)],
            DEADLINES[i % len(DEADLINES)].format(m=m, q=q, d=d), "Báo cáo" if i % 2 else "Kế hoạch",
            f"{i % 9} triệu" if i % 6 == 0 else "")


def build_doc(path: Path, n: int) -> Path:
    """A plan of ``n`` tasks; rows copied as XML as the bench does (python-docx's add_row is slow)."""
    from docx import Document
    from docx.enum.text import WD_BREAK

    doc = Document()
    doc.add_paragraph("ỦY BAN NHÂN DÂN TỈNH THỬ NGHIỆM")
    doc.add_paragraph("Kế hoạch số 12/KH-UBND ngày 15/01/2025 về cải cách hành chính năm 2025")
    table = doc.add_table(rows=2, cols=len(HEADS))
    for c, h in zip(table.rows[0].cells, HEADS, strict=True):
        c.text = h
    tbl, template = table._tbl, table.rows[1]._tr
    tbl.remove(template)
    header = table.rows[0]._tr

    def add(values: tuple[str, ...], bold: bool = False) -> None:
        tr = copy.deepcopy(template)
        for tc, v in zip(tr.iterchildren("{*}tc"), values, strict=True):
            p = tc.find("{*}p")
            for k, line in enumerate(v.split("\n")):
                r = p.makeelement(p.tag.replace("}p", "}r"), {})
                if bold:
                    rpr = r.makeelement(p.tag.replace("}p", "}rPr"), {})
                    rpr.append(rpr.makeelement(p.tag.replace("}p", "}b"), {}))
                    r.append(rpr)
                if k:
                    r.append(r.makeelement(p.tag.replace("}p", "}br"), {}))
                t = r.makeelement(p.tag.replace("}p", "}t"), {})
                t.text = line
                r.append(t)
                p.append(r)
        tbl.append(tr)

    half = n // 2
    for i in range(n):
        if i % 25 == 0:
            add(("ABCDEFGHIJKLMNOPQRSTUVWXYZ"[i // 25 % 26] if i % 50 == 0 else "IVX"[i // 25 % 3],
                 f"NHÓM NHIỆM VỤ {i // 25 + 1}", "", "", "", "", "", ""), bold=True)
        row = _row(i)
        if i == half:  # a row broken by the page: its end comes after the repeated header
            add((row[0], row[1][:30], *row[2:]))
            tbl.append(copy.deepcopy(header))
            add(("", "phần còn lại " + row[1][30:].lstrip(), "", "", "", "", "", ""))
            continue
        add(row)
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    doc.add_paragraph("Nơi nhận: như trên.")
    doc.save(path)
    return path


def registry_master(path: Path) -> Path:
    """An existing master knowing half the units (one by an alias) and one leader."""
    from kehoach_xl.commands.init import create_master

    units = [{"name": u} for u in UNITS[::2]] + [{"name": "Sở Nội vụ", "aliases": "SNV; Sở NV"}]
    return create_master(path, units=units, leaders=[{"name": "Lê Thị Bình", "title": "Giám đốc"}],
                         meta={"plan_title": "Thử", "master_id": "golden"})


def snapshot(master: Path, report: dict[str, Any]) -> dict[str, Any]:
    """Every sheet's values (dates as ISO text) and the report, minus what changes run to run."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(master))
    sheets: dict[str, list[list[Any]]] = {}
    for name in wb.sheet_names:
        rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        blank = {j for j, h in enumerate(rows[0] if rows else []) if h in _BLANK_COLUMNS.get(name, ())}
        out = []
        for i, r in enumerate(rows):
            if r and str(r[0]) in _SKIP_ROWS:
                continue
            out.append(["" if i and j in blank else v.isoformat() if isinstance(v, (dt.date, dt.datetime, dt.time))
                        else v for j, v in enumerate(r)])
        while out and not any(v not in ("", None) for v in out[-1]):
            out.pop()
        sheets[name] = out
    rep = {k: v for k, v in report.items() if k not in ("master", "backup", "source")}
    return {"sheets": sheets, "report": rep}


def run(workdir: Path, n: int) -> dict[str, Any]:
    from kehoach_xl import import_plan

    doc = build_doc(workdir / f"plan_{n}.docx", n)
    new = workdir / f"new_{n}.xlsx"
    rep_new = import_plan(doc, new, plan_code="TT", plan_year=2025, add_unknown=True)
    old = registry_master(workdir / f"old_{n}.xlsx")
    rep_old = import_plan(doc, old, plan_code="TT", plan_year=2025)
    rep_again = import_plan(doc, old, plan_code="TT", plan_year=2025, add_unknown=True)
    return {"new": snapshot(new, rep_new.to_dict()), "existing": snapshot(old, rep_old.to_dict()),
            "existing_report_add_unknown": snapshot(old, rep_again.to_dict())["report"]}


def _golden(n: int) -> Any:
    return json.loads(gzip.decompress((GOLDEN / f"import_{n}.json.gz").read_bytes()).decode("utf-8"))


def _json(data: Any) -> Any:
    return json.loads(json.dumps(data, ensure_ascii=False, default=str))


@pytest.mark.parametrize("n", SIZES)
def test_import_gives_the_golden_results(n, tmp_path):
    golden = _golden(n)
    got = _json(run(tmp_path, n))
    for which in ("new", "existing"):
        for name, rows in golden[which]["sheets"].items():
            assert name in got[which]["sheets"], (which, name)
            mine = got[which]["sheets"][name]
            assert len(mine) == len(rows), (which, name, len(mine), len(rows))
            for i, (a, b) in enumerate(zip(mine, rows, strict=True)):
                assert a == b, (which, name, i + 1, a, b)
        assert got[which]["sheets"].keys() == golden[which]["sheets"].keys()
        assert got[which]["report"] == golden[which]["report"], which
    assert got["existing_report_add_unknown"] == golden["existing_report_add_unknown"]


def test_the_golden_plan_has_the_variety_it_claims():
    golden = _golden(300)
    codes = {w["code"] for w in golden["existing"]["report"]["warnings"]}
    assert {"joined_split_row", "unknown_unit", "joined_bodies", "extra_columns"} <= codes, codes
    assert golden["new"]["report"]["tasks"] == 300 and golden["existing"]["report"]["tasks_added"] == 300
    assert golden["existing_report_add_unknown"]["tasks_unchanged"] == 300


if __name__ == "__main__":  # regenerate the golden files with the code checked out
    import tempfile

    GOLDEN.mkdir(exist_ok=True)
    for size in SIZES:
        with tempfile.TemporaryDirectory() as d:
            data = _json(run(Path(d), size))
        text = json.dumps(data, ensure_ascii=False, indent=0) + "\n"
        (GOLDEN / f"import_{size}.json.gz").write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))
        print(size, "ok", file=sys.stderr)


def test_each_distinct_text_is_read_once_whatever_the_size(tmp_path, monkeypatch):
    """Operation counts, not time: matching a name (difflib over every known name for an unknown one),
    splitting a party cell and reading a deadline happen once per distinct text, so a plan twice as
    long with the same texts costs no more of them."""
    from kehoach_xl import import_plan
    from kehoach_xl.importer import plan_import
    from kehoach_xl.model.registry import Registry

    counts: dict[str, int] = {}

    def counting(name, f):
        def wrapper(*a, **k):
            counts[name] = counts.get(name, 0) + 1
            return f(*a, **k)
        return wrapper

    monkeypatch.setattr(Registry, "match_unit", counting("match_unit", Registry.match_unit))
    monkeypatch.setattr(plan_import, "separate_run_together", counting("joined", plan_import.separate_run_together))
    monkeypatch.setattr(plan_import, "parse_deadline", counting("deadline", plan_import.parse_deadline))
    seen = []
    for n in (150, 300):  # every party, leader and deadline text of the pattern comes within 150 rows
        counts.clear()
        doc = build_doc(tmp_path / f"p{n}.docx", n)
        import_plan(doc, registry_master(tmp_path / f"m{n}.xlsx"), plan_code="TT", plan_year=2025)
        seen.append({k: v for k, v in counts.items() if k != "match_unit"})
        assert counts["match_unit"] <= 2 * len(UNITS) + 10, counts  # names (and the few cut differently)
    assert seen[0] == seen[1]
