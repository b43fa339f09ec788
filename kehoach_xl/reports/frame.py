"""The task list as a typed pandas DataFrame, for analysts (Jupyter, pandas, charts).

``tasks_frame_from(md)`` is pure (MasterData in, DataFrame out); ``kehoach_xl.tasks_frame(path)``
reads the file first. One row per task, in the sheet's order; one column per key of
:data:`kehoach_xl.model.schema.TASKS`, in the schema's order, each typed by its column type:

========== ======================== ==================================================
type       dtype                    values
========== ======================== ==================================================
text       ``string``               trimmed text; an empty cell is ``<NA>``
list       ``object``               a Python list of names (``[]`` for an empty cell)
date       ``datetime64[ns]``       the date at midnight; ``NaT`` when empty or not a date
datetime   ``datetime64[ns]``       date and time (``updated_at``)
percent    ``float64``              0–100 as stored and shown ("80 %" is 80.0); ``NaN`` when empty
int        ``Int64``                whole numbers, ``<NA>`` when empty (nullable, so no float drift)
========== ======================== ==================================================

The values are those of :func:`kehoach_xl.tasks` (the JSON dicts), typed: deadline state,
deadline kind and recurrence are codes (``"overdue"``, ``"quarter"``, ``"monthly"``; labels in
``schema.DEADLINE_STATES`` …); derived columns (``due_date``, ``deadline_state``,
``days_remaining`` …) are as the last refresh wrote them in the sheet, not recomputed
(``compute_summary`` recomputes states for its figures). ``stt`` is text ("1.1" is an STT).
Progress typed as text in the sheet ("80%") is read as its number, as merge reads it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from kehoach_xl.model import schema
from kehoach_xl.model.master import MasterData, task_records
from kehoach_xl.rules.values import parse_percent
from kehoach_xl.vn import parse_date as parse_vn_date


def _date_or_none(value: Any) -> dt.date | dt.datetime | None:
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value)  # what task_records writes
        except ValueError:
            pass
    try:
        return parse_vn_date(value)  # a date typed as text, an Excel serial
    except (ValueError, TypeError, OverflowError):
        return None


def _dates(values: list[Any], *, keep_time: bool) -> pd.Series:
    # Parsed once per distinct value: a plan has few distinct deadlines.
    parsed = {v: _date_or_none(v) for v in set(values) if v is not None}
    out = pd.to_datetime(pd.Series([parsed.get(v) if v is not None else None for v in values], dtype=object),
                         errors="coerce").astype("datetime64[ns]")
    return out if keep_time else out.dt.normalize()


def _percent_or_nan(value: Any) -> float:
    if value is None or isinstance(value, bool):
        return float("nan")
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(parse_percent(value))
    except (ValueError, TypeError):
        return float("nan")


def _float(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return float("nan")


def _whole_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value)


def tasks_frame_from(md: MasterData) -> pd.DataFrame:
    """Every task of ``md`` as a typed DataFrame (see the module's docstring for the dtypes)."""
    records = task_records(md)
    columns: dict[str, pd.Series] = {}
    for col in schema.TASKS.columns:
        values = [r[col.key] for r in records]
        if col.type == "list":
            series = pd.Series(values, dtype=object)
        elif col.type in ("date", "datetime"):
            series = _dates(values, keep_time=col.type == "datetime")
        elif col.type in ("percent", "float"):
            number = _percent_or_nan if col.type == "percent" else _float
            series = pd.Series([number(v) for v in values], dtype="float64")
        elif col.type == "int":
            series = pd.Series(pd.array([_whole_or_none(v) for v in values], dtype="Int64"))
        else:
            series = pd.Series([_text(v) for v in values], dtype="string")
        columns[col.key] = series
    frame = pd.DataFrame(columns, index=pd.RangeIndex(len(records)))
    as_of = md.settings.get("as_of")
    frame.attrs["as_of"] = as_of.date() if isinstance(as_of, dt.datetime) else as_of  # when derived columns were
    return frame
