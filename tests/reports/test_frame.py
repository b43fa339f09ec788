"""tasks_frame: the task list as a typed pandas DataFrame, value for value what tasks() gives."""

from __future__ import annotations

import datetime as dt
import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import kehoach_xl
from kehoach_xl.commands.demo import DEMO_AS_OF, demo
from kehoach_xl.commands.tasks import tasks, tasks_frame
from kehoach_xl.io.master_read import read_master
from kehoach_xl.model import schema
from kehoach_xl.model.master import master_from_grids
from kehoach_xl.reports.frame import tasks_frame_from

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    result = demo(tmp_path_factory.mktemp("frame") / "demo")
    assert result.ok
    return result.master


@pytest.fixture(scope="module")
def frame(demo_master: Path) -> pd.DataFrame:
    return tasks_frame(demo_master)


def test_one_row_per_task_and_a_column_per_schema_key(frame: pd.DataFrame, demo_master: Path) -> None:
    assert list(frame.columns) == schema.TASKS.keys
    assert len(frame) == len(tasks(demo_master)) == 14
    assert list(frame.index) == list(range(14))
    assert kehoach_xl.tasks_frame is tasks_frame
    assert frame.attrs["as_of"] == DEMO_AS_OF


def test_dtypes_follow_the_schema(frame: pd.DataFrame) -> None:
    for col in schema.TASKS.columns:
        dtype = frame[col.key].dtype
        if col.type in ("date", "datetime"):
            assert dtype == "datetime64[ns]", col.key
        elif col.type == "percent":
            assert dtype == "float64", col.key
        elif col.type == "int":
            assert dtype == "Int64", col.key
        elif col.type == "list":
            assert dtype == "object" and all(isinstance(v, list) for v in frame[col.key]), col.key
        else:
            assert isinstance(dtype, pd.StringDtype), col.key


def test_values_on_the_demo(frame: pd.DataFrame) -> None:
    row = frame.set_index("id")
    # dates: midnight, comparable with Timestamps; days between them are plain arithmetic
    assert row.loc["DDCI2024-001", "due_date"] == pd.Timestamp(2024, 6, 20)
    assert (frame["due_date"].dropna() == frame["due_date"].dropna().dt.normalize()).all()
    done = frame[frame["status"] == schema.STATUS_DONE]
    assert len(done) and done["completed_on"].notna().all()
    assert frame.loc[frame["status"] != schema.STATUS_DONE, "completed_on"].isna().all()
    assert ((done["completed_on"] - done["due_date"]).dt.days > 0).sum() == (done["deadline_state"] == "done_late").sum()
    # progress: 0–100 as the sheet shows it, not a fraction
    assert done["progress"].eq(100.0).all()
    assert frame["progress"].between(0, 100).all() and frame["progress"].max() == 100.0
    # lists: the names of the cell, in order
    assert row.loc["DDCI2024-003", "lead_units"] == ["Văn phòng Đăng ký đất đai"]
    assert row.loc["DDCI2024-003", "coordinating_units"] == []
    assert all(len(x) >= 1 for x in frame["leaders"])
    # Int64: days remaining is empty for done tasks (<NA>, not NaN, not 0); the column stays integer
    assert frame.loc[frame["status"] == schema.STATUS_DONE, "days_remaining"].isna().all()
    open_ = frame.loc[frame["status"] != schema.STATUS_DONE, "days_remaining"]
    assert open_.notna().all() and open_.sum() == int(open_.sum())
    assert frame["days_remaining"].min() < 0  # overdue tasks
    first_done = frame.index[frame["status"] == schema.STATUS_DONE][0]
    assert pd.isna(frame["days_remaining"].loc[first_done]) and frame["days_remaining"].loc[first_done] is pd.NA
    assert (frame.loc[frame["deadline_state"] == "overdue", "days_remaining"] < 0).all()
    # codes, as tasks() gives them
    assert set(frame["deadline_state"]) <= set(schema.DEADLINE_STATES)
    assert set(frame["deadline_kind"].dropna()) <= set(schema.DEADLINE_KINDS)
    # text: stt is text ("1.1" is an STT), empty cells <NA>
    assert frame["stt"].iloc[0] == "1"
    assert frame["next_due"].isna().all() and frame["recurrence"].isna().all()
    # figures an analyst would compute
    by_state = frame.groupby("deadline_state").size()
    assert by_state.sum() == 14
    per_unit = frame.explode("lead_units").groupby("lead_units")["progress"].mean()
    assert per_unit.between(0, 100).all()


def _back(value: object, col: schema.Column) -> object:
    """A frame cell as tasks() writes it: ISO dates, None for missing."""
    if col.type == "list":
        return value
    if value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if col.type == "date":
        return value.date().isoformat()
    if col.type == "datetime":
        return value.to_pydatetime().isoformat()
    if col.type == "int":
        return int(value)
    if col.type == "percent":
        return float(value)
    return str(value)


def _same(frame_value: object, json_value: object, col: schema.Column) -> bool:
    if col.type == "percent" and json_value is not None:
        return frame_value == float(json_value)
    if col.type == "datetime" and json_value is not None:
        return frame_value == dt.datetime.fromisoformat(json_value).isoformat()
    if col.type == "text" and json_value is not None:
        return frame_value == str(json_value)  # stt may be stored as a number
    return frame_value == json_value


def test_round_trips_what_tasks_gives(frame: pd.DataFrame, demo_master: Path) -> None:
    rows = tasks(demo_master)
    json.dumps(rows)  # still JSON-ready
    for i, rec in enumerate(rows):
        for col in schema.TASKS.columns:
            back = _back(frame.at[i, col.key], col)
            assert _same(back, rec[col.key], col), (i, col.key, back, rec[col.key])


def test_typed_from_odd_cells() -> None:
    """Cells as staff leave them: dates and percents typed as text, empty cells, stray numbers."""
    header = [c.header for c in schema.TASKS.columns]
    col = {c.key: j for j, c in enumerate(schema.TASKS.columns)}

    def row(**values: object) -> list[object]:
        out: list[object] = [None] * len(header)
        for k, v in values.items():
            out[col[k]] = v
        return out

    grid = [header,
            row(id="A", task="Một", lead_units="Sở Tài chính; Sở Nội vụ", due_date="20/6/2024", progress="80%",
                days_remaining=5.0, stt=1, completed_on=dt.datetime(2024, 6, 1, 0, 0),
                updated_at=dt.datetime(2024, 6, 3, 9, 30)),
            row(id="B", task="Hai", lead_units="Sở Tư pháp", due_date="không rõ", progress="nhiều",
                days_remaining="ba", stt="1.1"),
            row(id="C", task="Ba", lead_units="Sở Tư pháp", due_date=dt.date(2024, 5, 1), progress=0.5,
                days_remaining=-3)]
    md = master_from_grids({schema.TASKS.name: grid})
    f = tasks_frame_from(md)
    assert f["due_date"].iloc[0] == pd.Timestamp(2024, 6, 20)  # typed as text, read as the date it shows
    assert f["due_date"].iloc[1] is pd.NaT  # not a date: NaT (validate reports the cell)
    assert f["due_date"].iloc[2] == pd.Timestamp(2024, 5, 1)
    assert f["completed_on"].iloc[0] == pd.Timestamp(2024, 6, 1)
    assert f["updated_at"].iloc[0] == pd.Timestamp(2024, 6, 3, 9, 30)
    # "80%" typed as text is 80; a number is taken as stored (0.5 is half a percent, as merge reads it)
    assert f["progress"].iloc[0] == 80.0 and math.isnan(f["progress"].iloc[1]) and f["progress"].iloc[2] == 0.5
    assert f["days_remaining"].iloc[0] == 5 and f["days_remaining"].iloc[2] == -3
    assert f["days_remaining"].iloc[1] is pd.NA and f["days_remaining"].dtype == "Int64"
    assert f["lead_units"].iloc[0] == ["Sở Tài chính", "Sở Nội vụ"]
    assert f["coordinating_units"].iloc[0] == []
    assert f["stt"].iloc[:2].tolist() == ["1", "1.1"] and f["stt"].iloc[2] is pd.NA
    assert f["status"].isna().all() and isinstance(f["status"].dtype, pd.StringDtype)


def test_empty_master_gives_an_empty_typed_frame(tmp_path: Path) -> None:
    from kehoach_xl.commands.init import create_master

    f = tasks_frame(create_master(tmp_path / "trong.xlsx"))
    assert f.empty and list(f.columns) == schema.TASKS.keys
    assert f["due_date"].dtype == "datetime64[ns]" and f["days_remaining"].dtype == "Int64"


def test_pandas_loads_only_when_a_frame_or_figures_are_asked_for() -> None:
    code = ("import sys, kehoach_xl, kehoach_xl.commands.tasks, kehoach_xl.reports.figures, "
            "kehoach_xl.reports.summary, kehoach_xl.cli.main; "
            "kehoach_xl.tasks; kehoach_xl.compute_summary; print('pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False", out.stderr


def test_read_master_and_frame_agree_on_a_file(demo_master: Path, frame: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(tasks_frame_from(read_master(demo_master)), frame)
