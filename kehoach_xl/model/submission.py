"""What a unit's submission holds once read: its entries, its problems."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kehoach_xl.errors import DataError
from kehoach_xl.model.problem import ERROR, Problem


def file_problem(slug: str, file: str, message: str, *, sheet: str = "", cell: str = "",
                 severity: str = ERROR) -> Problem:
    """A problem found in a submission: the file by the name the unit gave it, the cell inside ``sheet``."""
    return Problem(slug, message, severity, file=file, sheet=sheet, cell=cell or None)


class SubmissionRejected(DataError):
    def __init__(self, problem: Problem) -> None:
        super().__init__(f"{problem.where()}: {problem.message}")
        self.problem = problem


@dataclass(slots=True)  # forty unit workbooks at 50,000 tasks hold a quarter of a million
class Entry:
    task_id: str
    role: str
    field: str
    value: Any
    cell: str  # "Báo cáo!I5"


@dataclass
class Submission:
    file: Path
    kind: str = "unitbook"  # "unitbook" | "master_copy"
    unit: str = ""
    period: str = ""
    issued_at: str = ""
    entries: list[Entry] = field(default_factory=list)
    base: dict[str, dict[str, str]] = field(default_factory=dict)  # task → field → value hash when issued
    problems: list[Problem] = field(default_factory=list)
    rejected: bool = False
    mtime: float = 0.0

    @property
    def name(self) -> str:
        # Asked for on every report of every task in a merge; Path.name is not free.
        cached = self.__dict__.get("_name")
        if cached is None or cached[0] is not self.file:
            cached = self.__dict__["_name"] = (self.file, self.file.name)
        return cached[1]
