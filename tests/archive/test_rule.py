"""The pure rule: which log and history rows leave, and that every reader of "Lịch sử" answers the same after."""

from __future__ import annotations

import datetime as dt
import random
from types import SimpleNamespace

import pytest

from kehoach_xl.model import schema
from kehoach_xl.model.config import Config
from kehoach_xl.model.master import master_from_grids, read_sheet_rows
from kehoach_xl.rules import merge as merge_rule
from kehoach_xl.rules import parts as parts_rule
from kehoach_xl.rules.archive import ArchiveData, compute_archive, history_first_period, log_cutoff, log_time
from kehoach_xl.vn import period_ym, try_parse_period

AS_OF = dt.date(2025, 6, 15)
LOG_HEADER = [c.header for c in schema.LOG.columns]
HIST_HEADER = [c.header for c in schema.HISTORY.columns]


def _log(times: list[object]):
    grid = [LOG_HEADER] + [[t, "merge", "a.xlsx", "Sở X", "NV1", "Tiến độ", "10%", "20%", "may"] for t in times]
    return read_sheet_rows(schema.LOG, grid)


def _hist(rows: list[list[object]]):
    return read_sheet_rows(schema.HISTORY, [HIST_HEADER] + rows)


def _plan(log=None, hist=None, config: Config | None = None, **kw):
    data = ArchiveData(log=log or _log([]), history=hist or _hist([]))
    return compute_archive(data, as_of=AS_OF, config=config or Config(), **kw).result


def test_windows():
    assert log_cutoff(dt.date(2025, 6, 15), 3) == dt.datetime(2025, 3, 15)
    assert log_cutoff(dt.date(2025, 5, 31), 3) == dt.datetime(2025, 2, 28)  # day clamped
    assert log_cutoff(dt.date(2025, 2, 10), 3) == dt.datetime(2024, 11, 10)  # across the year
    assert history_first_period(dt.date(2025, 6, 15), 12) == "2024-07"
    assert history_first_period(dt.date(2025, 6, 15), 1) == "2025-06"


def test_log_keeps_recent_and_undated_rows():
    times = [dt.datetime(2025, 3, 14, 23, 59), dt.datetime(2025, 3, 15, 0, 0), "01/01/2020 08:30", "2019-05-02",
             "hôm qua", None, 45000.5, dt.date(2025, 6, 1)]
    plan = _plan(log=_log(times))
    assert plan.log.leave == [0, 2, 3, 6]  # 45000 is 13/03/2023
    assert plan.log.keep == [1, 4, 5, 7]
    assert plan.log.undated == 2  # "hôm qua" and the empty cell: never guessed old


def test_log_time_reads_the_forms_staff_type():
    assert log_time("05/06/2024 14:07:09") == dt.datetime(2024, 6, 5, 14, 7, 9)
    assert log_time("05/06/2024") == dt.datetime(2024, 6, 5)
    assert log_time("31/02/2024") is None
    assert log_time(True) is None


def test_keep_months_overrides_config():
    times = [dt.datetime(2025, 1, 20)]
    assert _plan(log=_log(times)).log.leave == [0]
    assert _plan(log=_log(times), keep_months=6).log.leave == []
    cfg = Config()
    cfg.archive.log_keep_months = 12
    assert _plan(log=_log(times), config=cfg).log.leave == []


def test_history_window_and_what_stays_behind_it():
    rows = [
        ["01/2023", "NV1", "Sở A", "Đang thực hiện", 10],   # 0 leaves
        ["02/2023", "NV1", "Sở A", "Chưa thực hiện", 0],    # 1 the only "Chưa thực hiện" row: stays
        ["03/2023", "NV1", "Sở A", "Đang thực hiện", 20],   # 2 leaves (a later "Đang thực hiện" exists)
        ["04/2023", "NV1", "Sở A", "Đang thực hiện", 30],   # 3 leaves
        ["05/2023", "NV1", "Sở A", "Đang thực hiện", 40],   # 4 the state when the window opens: stays
        ["quý 1", "NV1", "Sở A", "Đang thực hiện", 5],      # 5 cannot be dated: stays
        ["08/2024", "NV1", "Sở A", "Đang thực hiện", 60],   # 6 in the window
        ["09/2024", "NV1", "Sở A", "Đang thực hiện", 70],   # 7
        ["10/2024", "NV1", "Sở A", "Đang thực hiện", 80],   # 8
        ["06/2023", "NV2", "Sở B", "Hoàn thành", 100],      # 9 a task's only row, however old: stays
    ]
    plan = _plan(hist=_hist(rows))
    assert plan.history.leave == [0, 2, 3]
    assert plan.history.undated == 1
    assert plan.history.needed == 3  # rows 1, 4 and 9


def _random_history(seed: int) -> list[list[object]]:
    rng = random.Random(seed)
    statuses = [*schema.STATUSES, None, "dang thuc hien"]
    out = []
    for _ in range(rng.randint(200, 400)):
        y, m = rng.choice([2022, 2023, 2024, 2025]), rng.randint(1, 12)
        period = rng.choice([f"{m:02d}/{y}", f"{y}-{m}", f"{y}-{m:02d}"]) if rng.random() > 0.05 else "kỳ đặc biệt"
        out.append([period, f"NV{rng.randint(1, 6)}", rng.choice(["Sở A", "Sở B", "sở a ", "Sở C", None]),
                    rng.choice(statuses), rng.randint(0, 100), None, "Trong hạn", f"kq {rng.random():.3f}"])
    return out


def _md(rows: list[list[object]]):
    tasks = [[c.header for c in schema.TASKS.columns]] + [[f"NV{i}"] for i in range(1, 7)]
    return master_from_grids({schema.TASKS.name: tasks, schema.HISTORY.name: [HIST_HEADER] + rows})


def _readers(md) -> dict[str, object]:
    """What every rule that reads "Lịch sử" gets out of it."""
    hist_key, hist_task = merge_rule._history_index(md)
    units = {str(u or "").strip().lower() for r in md.history.rows for u in [r.get("unit")]}
    last3 = {}
    for tid, rows in hist_task.items():
        last3[(tid, "*")] = [id(r) for r in rows[-3:]]
        for u in units:
            own = [r for r in rows if str(r.get("unit") or "").strip().lower() == u]
            last3[(tid, u)] = [id(r) for r in own[-3:]]
            ps = [period_ym(p) for r in own if (p := try_parse_period(r.get("period")))]
            last3[(tid, u, "latest")] = max(ps) if ps else None
    recorded = merge_rule._recorded_reports(SimpleNamespace(hist_key=hist_key))
    return {
        "latest_periods": parts_rule._latest_periods(md),
        "owner_statuses": parts_rule._owner_statuses(md),
        "recorded_reports": {k: id(v) for k, v in recorded.items()},
        "last_three": last3,
    }


def _state_up_to(md, first: str) -> dict:
    """For each (task, unit) and each period from the window's start on: its latest row up to that period."""
    out = {}
    periods = sorted({p for r in md.history.rows if (p := try_parse_period(r.get("period"))) and p >= first})
    for q in periods:
        for n, r in enumerate(md.history.rows):
            p = try_parse_period(r.get("period"))
            if p is None or p > q:
                continue
            key = (q, r.get("task_id"), r.get("unit"))
            if key not in out or (p, n) >= out[key][:2]:
                out[key] = (p, n, id(r))
    return {k: v[2] for k, v in out.items()}


@pytest.mark.parametrize("seed", range(25))
def test_readers_of_history_answer_the_same_after_archiving(seed):
    rows = _random_history(seed)
    md = _md(rows)
    plan = _plan(hist=md.history)
    assert plan.history.leave or seed > 20  # the test must exercise the rule, not an empty plan
    kept = [md.history.rows[i] for i in plan.history.keep]
    md2 = _md([])
    md2.history.rows = kept  # the same dict objects: ids compare rows
    md2.history.row_numbers = [md.history.row_numbers[i] for i in plan.history.keep]
    assert _readers(md2) == _readers(md)
    first = plan.history_first_period
    assert _state_up_to(md2, first) == _state_up_to(md, first)


def test_a_rule_change_that_drops_the_baseline_would_be_caught():
    """The identity test can fail: archiving the window's opening state changes _latest_periods."""
    md = _md([["01/2023", "NV1", "Sở A", "Đang thực hiện", 10]])
    md2 = _md([])
    assert parts_rule._latest_periods(md2) != parts_rule._latest_periods(md)
    assert _plan(hist=md.history).history.leave == []
