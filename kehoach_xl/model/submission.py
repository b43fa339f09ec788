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


@dataclass(slots=True)
class Entry:
    """One reported cell of a submission, as :attr:`Submission.entries` lists them."""

    task_id: str
    role: str
    field: str
    value: Any


@dataclass
class Submission:
    file: Path
    kind: str = "unitbook"  # "unitbook" | "master_copy"
    unit: str = ""
    period: str = ""
    issued_at: str = ""
    # What the file reports, grouped as the merge reads it: task → field → value (in the order read),
    # and each reported task's role. One dict per task, not one record per cell: the merge used to
    # regroup a quarter of a million records into these dicts and hold both (~30 MiB at 50,000 tasks).
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    # task → field → value hash when issued; after reading, only for the tasks the file reports.
    base: dict[str, dict[str, str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    rejected: bool = False
    mtime: float = 0.0

    def add(self, task_id: str, role: str, key: str, value: Any) -> None:
        """Record the file's value of one field of one task (a task's role is the one it was first read with)."""
        vals = self.reports.get(task_id)
        if vals is None:
            vals = self.reports[task_id] = {}
            self.roles[task_id] = role
        vals[key] = value

    @property
    def entries(self) -> tuple[Entry, ...]:
        """The reports one record per cell, in the order read (for people and tests; the merge reads ``reports``).

        A tuple made when asked for: a report is added with :meth:`add` (``entries.append`` fails
        instead of adding to a copy nobody reads)."""
        return tuple(Entry(t, self.roles[t], k, v) for t, vals in self.reports.items() for k, v in vals.items())

    @property
    def name(self) -> str:
        # Asked for on every report of every task in a merge; Path.name is not free.
        cached = self.__dict__.get("_name")
        if cached is None or cached[0] is not self.file:
            cached = self.__dict__["_name"] = (self.file, self.file.name)
        return cached[1]
