"""The summary's tallies (a plain loop) and ``tally_table`` (pandas groupby) against a small
hand-counted reference and against each other, field by field.

Masters: the demo (after its monthly cycle), the report sample (every state) and a master built
from each seed plan, with statuses varied in memory so every state occurs at several dates.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from kehoach_xl.commands.demo import DEMO_AS_OF, demo
from kehoach_xl.commands.import_plan import import_plan
from kehoach_xl.commands.init import create_master
from kehoach_xl.io.master_read import read_master
from kehoach_xl.model import schema
from kehoach_xl.model.master import MasterData
from kehoach_xl.model.sample import sample_dir, sample_registry
from kehoach_xl.reports.figures import TALLY_COLUMNS, Tally, TaskFact, _state_counts, tally, tally_by, tally_table
from kehoach_xl.reports.summary import compute_summary
from tests.reports_sample import AS_OF as SAMPLE_AS_OF
from tests.reports_sample import make_master

SEED_000 = sample_dir("langson_ddci_2024") / "phu_luc_2.txt"
TSV_004 = sample_dir("khanhhoa_parindex_2022") / "phu_luc.tsv"


# --- the reference: plain loops over the facts, nothing shared with the package ------------------

def _count(f: TaskFact, c: Counter) -> None:
    c["total"] += 1
    c["on_track" if f.state == "no_deadline" else f.state] += 1
    c["not_started"] += f.status == "not_started"


def ref_total(facts: list[TaskFact]) -> Counter:
    c: Counter = Counter()
    for f in facts:
        _count(f, c)
    return c


def ref_by(facts: list[TaskFact], key: str, order: list[str] = ()) -> list[tuple[str, Counter]]:  # type: ignore[assignment]
    out: dict[str, Counter] = {name: Counter() for name in order}
    for f in facts:
        values = getattr(f, key)
        for v in values if isinstance(values, tuple) else (values,):
            _count(f, out.setdefault(v, Counter()))
    return [(k, c) for k, c in out.items() if c["total"]]


def _expected(c: Counter) -> dict[str, Any]:
    done = c["done_on_time"] + c["done_late"]
    return {**{k: c[k] for k in TALLY_COLUMNS}, "done": done,
            "in_progress": c["on_track"] + c["due_soon"] + c["continuous"],
            "percent_done": round(100.0 * done / c["total"], 1) if c["total"] else 0.0}


def _same(got: Tally, want: Counter, where: str) -> None:
    d = got.as_dict()
    exp = _expected(want)
    for field, value in exp.items():
        assert d[field] == value and type(d[field]) is type(value), (where, field, d[field], value)


def _index_named(md: MasterData, rows: list) -> list:
    """Groups under the index sheet's name of their index ("Chỉ số 5: …" as "Điểm chỉ số" spells it)."""
    import re

    index: dict[str, str] = {}
    for r in md.scores.rows:
        m = re.match(r"Chỉ số (\d+)", str(r.get("component") or ""))
        if m:
            index.setdefault(m[1], str(r["component"]))
    out: dict[str, Counter] = {}
    for k, c in rows:
        m = re.match(r"Chỉ số (\d+)", k)
        out.setdefault(index.get(m[1], k) if m else k, Counter()).update(c)
    return list(out.items())


def _check(md: MasterData, as_of: dt.date) -> set[str]:
    s = compute_summary(md, as_of=as_of).result
    facts = s.facts
    _same(s.total, ref_total(facts), f"{as_of} total")
    units = [str(u.get("name")) for u in md.units.rows if u.get("name")]
    leaders = [str(x.get("name")) for x in md.leaders.rows if x.get("name")]
    for name, got, want in (("by_group", s.by_group, _index_named(md, ref_by(facts, "group"))),
                            ("by_unit", s.by_unit, ref_by(facts, "lead_units", units)),
                            ("by_leader", s.by_leader, ref_by(facts, "leaders", leaders))):
        assert [k for k, _ in got] == [k for k, _ in want], (as_of, name)  # same rows, same order
        for (k, t), (_, c) in zip(got, want, strict=True):
            _same(t, c, f"{as_of} {name} {k}")
    for key, order in (("group", []), ("lead_units", units), ("leaders", leaders)):
        _same_as_table(facts, key, order)
    return {f.state for f in facts}


def _same_as_table(facts: list[TaskFact], key: str, order: list[str]) -> None:
    """``tally_by`` (the loop the summary uses) gives ``tally_table``'s rows (pandas), value for value."""
    table = tally_table(facts, key, order)
    want = [(k, list(row)) for k, row in zip(table.index.tolist(), table.to_numpy().tolist(), strict=True)]
    got = [(k, [getattr(t, c) for c in TALLY_COLUMNS]) for k, t in tally_by(facts, key, order)]
    assert got == want, key
    total = [getattr(tally(facts), c) for c in TALLY_COLUMNS]
    assert total == (_state_counts(facts).sum().tolist() if facts else [0] * len(TALLY_COLUMNS))


# --- masters ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_md(tmp_path_factory: pytest.TempPathFactory) -> MasterData:
    result = demo(tmp_path_factory.mktemp("figures") / "demo")
    assert result.ok
    return read_master(result.master)


def _vary(md: MasterData, year: int) -> MasterData:
    """Statuses, progress and completion dates spread over the tasks (in memory: compute_summary is pure)."""
    for i, row in enumerate(md.tasks.rows):
        kind = i % 5
        row["status"] = [None, schema.STATUS_NOT_STARTED, schema.STATUS_IN_PROGRESS, schema.STATUS_DONE,
                         schema.STATUS_DONE][kind]
        row["progress"] = [None, 0, 40 + i % 50, 100, 100][kind]
        row["completed_on"] = {3: dt.date(year, 3, 1), 4: dt.date(year + 1, 1, 15)}.get(kind)
        if i % 7 == 0:
            row["lead_units"] = f"{row.get('lead_units') or ''}; Sở Tài chính"  # several leads, one unknown
        if i % 11 == 0:
            row["leaders"] = None  # counted under "Chưa ghi lãnh đạo giám sát"
    return md


def _seed_master(tmp_path: Path, plan: Path, registry: str | None) -> MasterData:
    path = tmp_path / f"{plan.stem}.xlsx"
    if registry:
        reg = sample_registry(registry)
        create_master(path, units=reg["units"], leaders=reg["leaders"], meta=reg["meta"])
    import_plan(plan, path, plan_code="SEED")
    return read_master(path)


def test_demo_figures_agree(demo_md: MasterData) -> None:
    states = set()
    for as_of in (DEMO_AS_OF, dt.date(2024, 5, 15), dt.date(2024, 12, 31)):
        states |= _check(demo_md, as_of)
    # No collective task of the demo has every member's part done, so none is "done on time" (rules/parts).
    assert {"done_late", "overdue", "on_track"} <= states


def test_report_sample_figures_agree(tmp_path: Path) -> None:
    md = read_master(make_master(tmp_path / "so.xlsx", with_derived=True))
    assert len(_check(md, SAMPLE_AS_OF)) >= 6


@pytest.mark.parametrize(("plan", "registry", "year"), [(SEED_000, "langson_ddci_2024", 2024),
                                                         (TSV_004, None, 2022)], ids=["seed_000", "seed_004"])
def test_seed_plan_figures_agree(tmp_path: Path, plan: Path, registry: str | None, year: int) -> None:
    md = _seed_master(tmp_path, plan, registry)
    assert len(md.tasks.rows) in (14, 55)
    states = _check(md, dt.date(year, 6, 1))  # as imported: nothing started
    md = _vary(md, year)
    for as_of in (dt.date(year, 5, 25), dt.date(year, 6, 12), dt.date(year + 1, 2, 1)):
        states |= _check(md, as_of)
    assert {"done_on_time", "done_late", "overdue"} <= states


def _fact(i: int, state: str, status: str, group: str, units: tuple[str, ...]) -> TaskFact:
    return TaskFact(row=i, id=str(i), task="", group=group, lead_units=units, leaders=(), status=status, state=state,
                    deadline_text="", due_date=None, days_remaining=None, completed_on=None, progress=None,
                    result="", difficulties="", proposals="", updated_at=None)


def test_edges_order_empty_and_duplicates() -> None:
    facts = [_fact(0, "overdue", "not_started", "B", ("X", "Y")), _fact(1, "no_deadline", "in_progress", "A", ("Y",)),
             _fact(2, "done_late", "done", "B", ()), _fact(3, "continuous", "not_started", "C", ("Z", "X"))]
    # order first (absent and repeated names skipped), then first occurrence; an empty tuple counts nowhere
    order = ["Z", "Q", "Z", "Y"]
    got = tally_by(facts, "lead_units", order)
    want = ref_by(facts, "lead_units", order)
    assert [k for k, _ in got] == ["Z", "Y", "X"] == [k for k, _ in want]
    for (k, t), (_, c) in zip(got, want, strict=True):
        _same(t, c, k)
    assert [k for k, _ in tally_by(facts, "group")] == ["B", "A", "C"]
    _same(tally(facts), ref_total(facts), "total")
    assert tally(iter(facts)).total == 4  # any iterable, as before
    assert tally([]) == Tally() and tally_by([], "group") == []
    for key in ("group", "lead_units"):
        _same_as_table(facts, key, order)
    # a state outside the six counts in "total" only (as the table's categorical did); a name twice
    # in one task counts twice, as the table's one row per member did
    odd = [*facts, _fact(4, "mystery", "not_started", "D", ("X", "X"))]
    for key in ("group", "lead_units"):
        for (k, t), (_, c) in zip(tally_by(odd, key), ref_by(odd, key), strict=True):
            _same(t, c, k)
    assert dict(tally_by(odd, "lead_units"))["X"].total == 4 and tally(odd).total == 5
    table = tally_table(facts, "group")
    assert list(table.columns) == list(TALLY_COLUMNS) == [f.name for f in dataclasses.fields(Tally)]
    assert table.index.name == "group"
    assert table.loc["B", "total"] == 2 and table.loc["A", "on_track"] == 1
