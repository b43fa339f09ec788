"""One unit's part of one task: what that unit owes and what it last reported (a record, no behaviour).

A task is rarely one unit's: a named lead (chủ trì) with coordinating units (phối hợp), or a
collective lead ("Các phòng, đơn vị") where every member owns its own part and one unit
synthesises (tổng hợp chung). ``rules/parts.parts_of`` builds the parts of every task from the
master as it stands; ``rules/parts.derive_task_status`` derives a task's status from them.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from kehoach_xl.model.roles import Role

# A unit's attributed line in "Báo cáo của đơn vị phối hợp": "[Thanh tra Sở – kỳ 05/2024] Đang thực hiện; 60%. …".
# Written by rules/merge, read back by rules/parts (the human-readable trail of every unit's report).
ATTRIBUTED_LINE = re.compile(r"^\[(?P<unit>[^\]–]+?)\s+–\s+kỳ\s+(?P<m>\d{2})/(?P<y>\d{4})\]\s*(?P<text>.*)$")

# Where a part's values were read from.
SOURCE_COLUMNS = "columns"  # the task's own columns (the lead's, the synthesiser's part)
SOURCE_LINE = "line"  # the unit's attributed line "[Đơn vị – kỳ MM/YYYY] …"
SOURCE_NONE = "none"  # nothing reported yet
SOURCE_SHEET = "sheet"  # the part's row in the sheet "Phần việc" (the store, once the master has it)


@dataclass(frozen=True, slots=True)
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
