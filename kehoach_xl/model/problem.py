"""One problem record for everything the program finds wrong: validation, submissions, merge, import.

A problem says *what* (a stable ``slug`` that tests, JSON consumers and the problems sheet rely
on), *how bad* (``severity``), *where* as the user sees it (a file, a sheet and cell such as
``Nhiệm vụ!H17``, a row, a column header; or a document table and row), the *value* found and
a Vietnamese *message* (rendered from the slug's template by whoever found it), with an
optional *suggestion*. Every output — the console table, ``--json``, the problems sheet, the
unit's error report, the e-mail answer — reads this one record (see :mod:`kehoach_xl.reports.problems`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"  # the data cannot be used as it is (a row refused, the master invalid)
    WARNING = "warning"  # taken, but someone should look


ERROR = Severity.ERROR
WARNING = Severity.WARNING
SEVERITY_LABELS: dict[str, str] = {ERROR: "Lỗi", WARNING: "Cảnh báo"}


@dataclass(frozen=True)
class Problem:
    slug: str
    message: str
    severity: str = ERROR
    file: str = ""  # a submission or plan document, by the name the user gave it
    sheet: str = ""  # a sheet name, or a document table ("Bảng 2")
    cell: str | None = None  # "Nhiệm vụ!H17" (or "I5" inside ``sheet``), as the user sees it
    row: int | None = None
    column: str | None = None  # the header text
    value: Any = None
    suggestion: str | None = None
    task_id: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def where(self) -> str:
        """The place in words: “tệp.xlsx, sheet “Báo cáo”, ô I5” (Vietnamese, for messages)."""
        parts = [self.file] if self.file else []
        if self.sheet and not (self.cell and "!" in self.cell):
            parts.append(f"sheet “{self.sheet}”")
        if self.cell:
            parts.append(f"ô {self.cell}")
        elif self.row is not None:
            parts.append(f"dòng {self.row}")
        return ", ".join(parts)

    def with_place(self, **place: Any) -> Problem:
        return replace(self, **place)

    def to_dict(self) -> dict[str, Any]:
        v = self.value
        if isinstance(v, (dt.date, dt.datetime)):
            v = v.isoformat()
        out: dict[str, Any] = {"slug": self.slug, "severity": str(self.severity), "sheet": self.sheet,
                               "cell": self.cell, "row": self.row, "column": self.column, "value": v,
                               "message": self.message}
        # Keys that only some kinds of problem have appear only when set, so each JSON stays lean.
        for key in ("file", "suggestion", "task_id"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == ERROR]


def warnings(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == WARNING]
