"""What a unit's submission holds once read: its entries, its problems."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kehoach_xl.errors import DataError


@dataclass
class Problem:
    file: str
    message: str
    sheet: str = ""
    cell: str = ""
    severity: str = "error"  # "error" (row/file refused) | "warning" (taken, but look)

    def where(self) -> str:
        parts = [self.file]
        if self.sheet:
            parts.append(f"sheet “{self.sheet}”")
        if self.cell:
            parts.append(f"ô {self.cell}")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "sheet": self.sheet, "cell": self.cell, "severity": self.severity,
                "message": self.message}


class SubmissionRejected(DataError):
    def __init__(self, problem: Problem) -> None:
        super().__init__(f"{problem.where()}: {problem.message}")
        self.problem = problem


@dataclass
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
        return self.file.name
