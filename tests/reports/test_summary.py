"""Summary figures agree with the task list; the summary sheet and its chart survive the safe writer."""

from __future__ import annotations

import datetime as dt
import zipfile
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from kehoach_xl.commands.summary import summary
from kehoach_xl.commands.tasks import tasks
from kehoach_xl.io.master_read import read_master
from kehoach_xl.model import schema
from kehoach_xl.reports.summary import UNIT_FIRST_ROW, UNIT_TOTAL_ROW, compute_summary, score_sentence
from tests.reports_sample import AS_OF, make_master

DONE = schema.STATUS_DONE


@pytest.fixture()
def master(tmp_path: Path) -> Path:
    return make_master(tmp_path / "so_theo_doi.xlsx", with_derived=True)


def independent_counts(rows: list[dict]) -> dict[str, Counter]:
    """Counts straight from `tasks()` (derived columns as written), by lead unit and in total."""
    alias = {"Các phòng, đơn vị có giải quyết thủ tục hành chính": "Các phòng, đơn vị"}
    by_unit: dict[str, Counter] = {}
    total: Counter = Counter()
    for r in rows:
        state = r["deadline_state"]
        c = Counter({state: 1, "total": 1})
        if state == "no_deadline":
            c["on_track"] += 1
        if r["status"] in (None, schema.STATUS_NOT_STARTED):
            c["not_started"] += 1
        total.update(c)
        for u in r["lead_units"]:
            by_unit.setdefault(alias.get(u, u), Counter()).update(c)
    return {"total": total, **by_unit}


def test_every_state_occurs_in_the_sample(master: Path) -> None:
    states = {r["deadline_state"] for r in tasks(master)}
    assert states == set(schema.DEADLINE_STATES)


def test_sheet_figures_agree_with_task_list(master: Path, tmp_path: Path) -> None:
    expected = independent_counts(tasks(master))
    s = summary(master, export=tmp_path / "tong_hop.xlsx")
    assert s.derived_source == "computed"
    parts = {p.unit: p for p in s.unit_parts}
    assert parts, "no unit owes a part in the sample"
    for wb_path in (master, s.export_path):
        ws = openpyxl.load_workbook(wb_path)[schema.SUMMARY_SHEET_NAME]
        header = [c.value for c in ws[UNIT_TOTAL_ROW - 1]]
        col: dict[str, int] = {}
        for i, h in enumerate(header):
            if h:
                col.setdefault(h, i)  # "Quá hạn" is also a chart series further right
        rows = {}
        r = UNIT_TOTAL_ROW  # the by-unit block runs down to its first empty row
        while ws.cell(r, 1).value:
            rows[ws.cell(r, 1).value] = [c.value for c in ws[r]]
            r += 1
        seen = set()
        for name, values in rows.items():
            key = "total" if name.startswith("Tổng cộng") else name
            exp = expected.get(key, Counter())  # a registered unit that leads nothing: zeros
            if exp:
                seen.add(key)
            assert values[col["Số nhiệm vụ chủ trì"]] == exp["total"], name
            assert values[col["Hoàn thành đúng hạn"]] == exp["done_on_time"], name
            assert values[col["Hoàn thành trễ hạn"]] == exp["done_late"], name
            assert values[col["Quá hạn"]] == exp["overdue"], name
            assert values[col["Sắp đến hạn"]] == exp["due_soon"], name
            assert values[col["Thường xuyên, định kỳ"]] == exp["continuous"], name
            assert values[col["Chưa thực hiện"]] == exp["not_started"], name
            assert values[col["Đang thực hiện trong hạn"]] == exp["on_track"], name
            done = exp["done_on_time"] + exp["done_late"]
            rate = round(100 * done / exp["total"], 1) if exp["total"] else 0
            assert values[col["Tỷ lệ hoàn thành (%)"]] == pytest.approx(rate)
            p = parts.get(name)
            owed, pdone, plate = (p.owed, p.done, p.overdue) if p else (0, 0, 0)
            if key == "total":
                owed, pdone, plate = (sum(getattr(x, k) for x in parts.values()) for k in ("owed", "done", "overdue"))
            assert values[col["Tổng số phần việc"]] == owed, name
            assert values[col["Phần việc đã hoàn thành"]] == pdone, name
            assert values[col["Phần việc quá hạn"]] == plate, name
            assert values[col["Phần việc đang thực hiện"]] == owed - pdone - plate, name  # the chart's third series
        assert seen == set(expected)
        registered = [u["name"] for u in read_master(master).units.rows if u.get("name")]
        assert list(rows)[1 : 1 + len(registered)] == registered  # every registered unit, in the sheet's order


def test_chart_is_kept_and_its_categories_are_exactly_the_units_listed(master: Path) -> None:
    """The chart, drawn once, covers the block's room (40 rows) and plots visible rows only; the rows
    the block does not use are hidden, so its categories are exactly the units listed."""
    from kehoach_xl.reports.summary import UNIT_ROWS

    summary(master)
    last = UNIT_FIRST_ROW + UNIT_ROWS - 1
    with zipfile.ZipFile(master) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert charts, "the native chart was lost by the write"
        xml = z.read(charts[0]).decode()
    assert f"'Tổng hợp'!$A$8:$A${last}" in xml and f"$M$8:$M${last}" in xml
    assert '<plotVisOnly val="1"' in xml
    ws = openpyxl.load_workbook(master)["Tổng hợp"]
    listed = [r for r in range(UNIT_FIRST_ROW, last + 1) if ws.cell(r, 1).value]
    assert listed == list(range(UNIT_FIRST_ROW, UNIT_FIRST_ROW + len(listed)))  # no gap
    registered = [u["name"] for u in read_master(master).units.rows if u.get("name")]
    assert len(listed) >= len(registered)
    assert ws.cell(UNIT_FIRST_ROW, 1).value == "Văn phòng Sở"
    for r in range(UNIT_FIRST_ROW, last + 1):
        hidden = bool(ws.row_dimensions[r].hidden)
        assert hidden == (r not in listed), r
    assert "15/07/2024" in ws["A3"].value


def test_recomputed_when_derived_columns_are_empty(tmp_path: Path, master: Path) -> None:
    bare = make_master(tmp_path / "chua_lam_moi.xlsx", with_derived=False)
    a = compute_summary(read_master(bare), as_of=AS_OF).result
    b = compute_summary(read_master(master), as_of=None).result
    assert a.derived_source == b.derived_source == "computed"
    assert a.total.as_dict() == b.total.as_dict()
    assert [(k, t.as_dict()) for k, t in a.by_unit] == [(k, t.as_dict()) for k, t in b.by_unit]
    # A different date than the one refresh used: states are recomputed for it.
    later = compute_summary(read_master(master), as_of=AS_OF + dt.timedelta(days=30)).result
    assert later.derived_source == "computed" and later.total.overdue > b.total.overdue


def test_lists_scores_and_comparison(master: Path) -> None:
    s = compute_summary(read_master(master)).result
    assert [(f.id, f.days_overdue) for f in s.overdue] == [("DDCI-03", 35), ("DDCI-04", 15), ("DDCI-11", 3)]
    assert [f.id for f in s.upcoming] == ["DDCI-05", "DDCI-09"]
    assert [f.id for f in s.issues] == ["DDCI-03", "DDCI-11"]  # DDCI-05's difficulty is from May
    assert [f.id for f in s.finished] == ["DDCI-02", "DDCI-12"]
    assert s.comparison is not None
    assert [f.id for f in s.comparison.newly_overdue] == ["DDCI-04", "DDCI-11"]
    assert (s.comparison.previous_done, s.comparison.previous_overdue) == (1, 2)
    line = next(score_sentence(x) for x in s.scores if x.component.startswith("Chỉ số 2"))
    assert "6,39 điểm, giảm 0,42 điểm so với năm 2022" in line and "23/25" in line
    leaders = dict(s.by_leader)
    assert leaders["Nguyễn Ngọc Thiều"].total == sum(1 for r in tasks(master) if "Thiều" in r["leaders"][0])


def test_summary_is_logged_and_rewritten_cleanly(master: Path) -> None:
    summary(master)
    first = openpyxl.load_workbook(master)["Tổng hợp"].max_row
    summary(master, as_of=AS_OF)
    wb = openpyxl.load_workbook(master)
    assert wb["Tổng hợp"].max_row <= first + 1
    actions = [r[1] for r in wb[schema.LOG.name].iter_rows(min_row=2, values_only=True)]
    assert actions.count("summary") >= 2


def test_cli_summary(master: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from kehoach_xl.cli.main import cli

    res = CliRunner().invoke(cli, ["summary", str(master), "--json", "--export", str(tmp_path / "x.xlsx")])
    assert res.exit_code == 0, res.output
    assert '"overdue": 3' in res.output
    assert (tmp_path / "x.xlsx").exists()


def test_cli_summary_refuses_to_export_over_the_master(master: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from kehoach_xl.cli.main import cli

    before = master.read_bytes()
    res = CliRunner().invoke(cli, ["summary", str(master), "--export", str(master)])
    assert res.exit_code == 2, res.output
    assert "chính là sổ theo dõi" in res.output and master.name in res.output
    assert master.read_bytes() == before  # refused before anything was written
    assert read_master(master).tasks.rows  # still a master


def test_cli_summary_refuses_to_overwrite_another_tracking_workbook(master: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from kehoach_xl.cli.main import cli

    other = make_master(tmp_path / "so_khac.xlsx", with_derived=True)
    before = other.read_bytes()
    res = CliRunner().invoke(cli, ["summary", str(master), "--export", str(other)])
    assert res.exit_code == 2, res.output
    assert "so_khac.xlsx" in res.output and "Nhiệm vụ" in res.output
    assert other.read_bytes() == before
    # An earlier export (no task sheet) may still be replaced.
    res = CliRunner().invoke(cli, ["summary", str(master), "--export", str(tmp_path / "x.xlsx")])
    res = CliRunner().invoke(cli, ["summary", str(master), "--export", str(tmp_path / "x.xlsx")])
    assert res.exit_code == 0, res.output


def test_summary_uses_the_config_it_is_given(master: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """nightly passes its config: summary must not load kehoach.toml again."""
    from kehoach_xl.commands import summary as mod
    from kehoach_xl.model.config import Config

    def no_reload(*a: object, **k: object) -> None:
        raise AssertionError("config reloaded")

    monkeypatch.setattr(mod, "load_config", no_reload)
    s = mod.summary(master, config=Config())
    assert s.total.total == 12


def test_statuses_merged_after_the_last_refresh_count(master: Path, tmp_path: Path) -> None:
    """A merge changes statuses without refreshing: the summary must not trust stale states."""
    from kehoach_xl.io.master_write import write_master
    from kehoach_xl.model.changes import MasterChanges

    md = read_master(master)
    before = compute_summary(md, as_of=AS_OF).result
    i = next(k for k, r in enumerate(md.tasks.rows) if r.get("status") != schema.STATUS_DONE
             and r.get("deadline_state") == schema.DEADLINE_STATES["on_track"])
    ch = MasterChanges()
    r = md.tasks.row_numbers[i]
    ch.set(schema.TASKS.name, r, md.tasks.columns["status"], schema.STATUS_DONE)
    ch.set(schema.TASKS.name, r, md.tasks.columns["progress"], 100)
    ch.set(schema.TASKS.name, r, md.tasks.columns["completed_on"], AS_OF)
    write_master(master, ch, action="test")
    after = compute_summary(read_master(master), as_of=AS_OF).result
    assert after.total.done == before.total.done + 1


def test_sheet_is_styled_where_there_is_data_and_nowhere_else(master: Path, tmp_path: Path) -> None:
    """Borders, bold and fills come from role-keyed conditional formats: a row has a role exactly when
    it holds data, the role spans every filled column, no cell carries a border of its own, rates are
    numbers in the Vietnamese one-decimal format, and wrapped rows are written as tall as their text."""
    from kehoach_xl import vn
    from kehoach_xl.reports.summary import CHART_COLS, MARK_COL, TALLY_HEADERS

    s = summary(master, export=tmp_path / "tong_hop.xlsx")
    for path in (master, s.export_path):
        ws = openpyxl.load_workbook(path)[schema.SUMMARY_SHEET_NAME]
        rules = [r for cf in ws.conditional_formatting for r in cf.rules]
        assert len(rules) >= 4 and all("$K" in r.formula[0] for r in rules)
        rate_cols = set()
        for row in ws.iter_rows(min_row=5, max_row=ws.max_row):
            r = row[0].row
            role = ws.cell(r, MARK_COL).value
            filled = [c.column for c in row if c.value not in (None, "") and c.column not in (MARK_COL, *CHART_COLS)]
            assert bool(filled) == bool(role), (path.name, r, role, filled)
            if role and role != "h":
                assert max(filled) <= int(role[1:]), (r, role, filled)
                if role[0] == "c" and TALLY_HEADERS[-1] in [c.value for c in row]:
                    rate_cols = {r: [c.value for c in row].index(TALLY_HEADERS[-1]) + 1}
                elif role[0] in "dt" and rate_cols:
                    (_, col), = rate_cols.items()
                    cell = ws.cell(r, col)
                    assert isinstance(cell.value, (int, float)) and cell.number_format == vn.RATE_FORMAT, (r, cell.value)
            elif not role:
                rate_cols = {}
            for c in row:
                assert not (c.border.left.style or c.border.top.style), f"{path.name}!{c.coordinate} has its own border"
        # A tally block's header wraps ("Hoàn thành đúng hạn"): its row is written taller than one line.
        headers = [r for r in range(5, ws.max_row + 1) if ws.cell(r, 2).value == TALLY_HEADERS[0]]
        assert headers and all((ws.row_dimensions[r].height or 0) > 30 for r in headers)


def test_a_shorter_summary_leaves_no_tall_or_marked_rows_behind(master: Path) -> None:
    summary(master, as_of=AS_OF)
    ws = openpyxl.load_workbook(master)[schema.SUMMARY_SHEET_NAME]
    last = max(r for r in range(1, ws.max_row + 1) if ws.cell(r, 11).value)
    # Fewer tasks reported on: the lists shrink, rows below keep neither a role nor a height.
    summary(master, as_of=AS_OF - dt.timedelta(days=200))
    ws = openpyxl.load_workbook(master)[schema.SUMMARY_SHEET_NAME]
    now = max(r for r in range(1, ws.max_row + 1) if ws.cell(r, 11).value)
    assert now < last
    for r in range(now + 1, last + 1):
        assert ws.cell(r, 11).value is None and (ws.row_dimensions[r].height or 15) == 15


def test_an_old_masters_chart_shows_the_parts_figures_under_the_right_titles(tmp_path: Path) -> None:
    """A master made by 0.1.0 has its chart bound to L:N with series titles from L6:N6 (done / overdue /
    in progress); the safe writer never redraws it. After ``summary`` each series' title cell reads what
    its values are, and its values are the units' parts figures."""
    import re
    import shutil

    fixtures = Path(__file__).parents[1] / "fixtures" / "v0_1_0"
    master = tmp_path / "demo_master.xlsx"
    shutil.copy(fixtures / "demo_master.xlsx", master)
    shutil.copy(fixtures / "kehoach.toml", tmp_path / "kehoach.toml")
    s = summary(master)
    parts = {p.unit: p for p in s.unit_parts}
    figure = {"Phần việc đã hoàn thành": lambda p: p.done, "Phần việc quá hạn": lambda p: p.overdue,
              "Phần việc đang thực hiện": lambda p: p.owed - p.done - p.overdue}
    with zipfile.ZipFile(master) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 1, charts
        xml = z.read(charts[0]).decode()
    series = re.findall(r"<ser>.*?</ser>", xml, re.S)
    assert len(series) == 3
    ws = openpyxl.load_workbook(master)[schema.SUMMARY_SHEET_NAME]
    seen = []
    for ser in series:
        title = re.search(r"<tx><strRef><f>'Tổng hợp'!\$([A-Z]+)\$(\d+)</f>", ser)
        vals = re.search(r"<val><numRef><f>'Tổng hợp'!\$([A-Z]+)\$(\d+):\$([A-Z]+)\$(\d+)</f>", ser)
        assert title and vals, ser
        col, first, last = vals[1], int(vals[2]), int(vals[4])
        assert title[1] == col == vals[3] and int(title[2]) == UNIT_FIRST_ROW - 2 and first == UNIT_FIRST_ROW
        header = ws[f"{col}{title[2]}"].value
        assert header in figure, (col, header)
        seen.append((col, header))
        listed = 0
        for r in range(first, last + 1):
            unit, value = ws[f"A{r}"].value, ws[f"{col}{r}"].value
            if unit:
                listed += 1
                p = parts.get(unit)
                assert value == (figure[header](p) if p else 0), (col, header, unit, value)
        assert listed >= len([p for p in parts.values() if p.owed])
    assert seen == [("L", "Phần việc đã hoàn thành"), ("M", "Phần việc quá hạn"), ("N", "Phần việc đang thực hiện")]
    # The figures tell the series apart: a swapped column would not pass unnoticed.
    assert len({tuple(f(p) for p in parts.values()) for f in figure.values()}) == 3
