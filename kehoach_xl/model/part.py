"""One unit's part of one task: what that unit owes and what it last reported (a record, no behaviour).

A task is rarely one unit's: a named lead (chủ trì) with coordinating units (phối hợp), or a
collective lead ("Các phòng, đơn vị") where every member owns its own part and one unit
synthesises (tổng hợp chung). ``rules/parts.parts_of`` builds the parts of every task from the
master as it stands; ``rules/parts.derive_task_status`` derives a task's status from them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kehoach_xl.model.roles import Role

# Where a part's values were read from.
SOURCE_COLUMNS = "columns"  # the task's own columns (the lead's, the synthesiser's part)
SOURCE_LINE = "line"  # the unit's attributed line "[Đơn vị – kỳ MM/YYYY] …"
SOURCE_NONE = "none"  # nothing reported yet


@dataclass(frozen=True)
class Part:
    task_id: str
    unit: str  # the unit's canonical name (as the sheet "Đơn vị" spells it)
    role: Role
    status: str | None = None  # one of schema.STATUSES; None: a coordinating report without a status
    progress: float | None = None  # 0–100
    completed_on: dt.date | None = None
    result: str = ""
    difficulties: str = ""
    proposals: str = ""
    period: str | None = None  # "YYYY-MM" of the report the values come from
    source: str = SOURCE_NONE
    line: str = ""  # the attributed line exactly as the master holds it (nothing typed is lost)
