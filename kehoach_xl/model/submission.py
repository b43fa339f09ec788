"""What a unit's submission holds once read: its entries, its problems."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

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


class Fingerprints(Mapping[str, str]):
    """One task's fingerprints as issued (field → 16 hex digits), packed: 8 bytes per field in one
    ``bytes``, the field names and their order shared by every task issued with the same fields.

    A dict of strings per task was ~250 bytes and ~60 more per distinct fingerprint: at 50,000 tasks
    and 40 files, ~49 MiB held through the whole merge. This is ~90 bytes a task.
    """

    __slots__ = ("_at", "_packed")
    _layouts: ClassVar[dict[tuple[str, ...], dict[str, int]]] = {}
    _HEX16 = re.compile(r"[0-9a-f]{16}")

    def __init__(self, at: dict[str, int], packed: bytes) -> None:
        self._at, self._packed = at, packed

    @classmethod
    def pack(cls, hashes: Mapping[str, Any]) -> Mapping[str, Any]:
        """``hashes`` packed, or as they are (a dict) when one is not 16 lower-case hex digits."""
        if not all(type(h) is str and cls._HEX16.fullmatch(h) for h in hashes.values()):
            return dict(hashes)
        names = tuple(hashes)
        at = cls._layouts.get(names)
        if at is None:
            at = {k: i for i, k in enumerate(names)}
            if len(cls._layouts) < 1024:  # a few layouts in practice (one per role and form version)
                cls._layouts[names] = at
        return cls(at, bytes.fromhex("".join(hashes.values())))

    def get(self, key: str, default: Any = None) -> Any:  # the merge asks this per reported field
        i = self._at.get(key)
        return default if i is None else self._packed[8 * i : 8 * i + 8].hex()

    def __getitem__(self, key: str) -> str:
        return self._packed[8 * self._at[key] : 8 * self._at[key] + 8].hex()

    def __iter__(self) -> Iterator[str]:
        return iter(self._at)

    def __len__(self) -> int:
        return len(self._at)

    def __repr__(self) -> str:
        return f"Fingerprints({dict(self)!r})"


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
    # task → field → value hash when issued (packed: :class:`Fingerprints`); after reading, only for
    # the tasks the file reports.
    base: dict[str, Mapping[str, str]] = field(default_factory=dict)
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
