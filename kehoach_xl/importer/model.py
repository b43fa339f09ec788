"""Plain data passed between the readers, the structure pass and the importer."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from kehoach_xl.model.problem import WARNING, Problem


@dataclass(frozen=True)
class RawCell:
    text: str = ""
    bold: bool = False
    italic: bool = False
    # the lower part of a cell merged downwards (Word's vMerge): empty here, but the same cell as above
    merged_above: bool = field(default=False, compare=False)


@dataclass
class RawTable:
    """One table of the source as rows of cells, before any meaning is given to it."""

    index: int  # 1-based, in document order
    name: str  # "Bảng 1", a sheet name, or the file name
    rows: list[list[RawCell]]
    row_numbers: list[int]  # the place each row has in the source (table row, sheet row, text line)
    # rows that start a new page in the source (a blank line in the text form, a page break in Word)
    page_starts: set[int] = field(default_factory=set)


@dataclass
class ImportWarning:
    """A note of the parse and resolve passes; it leaves the importer as a :class:`Problem`.

    ``ImportReport.problems`` holds the records (``slug`` = ``code``, ``file`` = the plan document,
    ``sheet`` = the document table, ``row``); ``ImportReport.warnings`` is this view of them, kept
    for the ``warnings`` key of the JSON report and for callers that read ``code``/``place``.
    """

    message: str  # Vietnamese, shown to staff
    table: str = ""
    row: int | None = None
    code: str = ""

    def problem(self, file: str = "") -> Problem:
        return Problem(self.code, self.message, WARNING, file=file, sheet=self.table, row=self.row)

    @classmethod
    def of(cls, p: Problem) -> ImportWarning:
        return cls(p.message, p.sheet, p.row, p.slug)

    @property
    def place(self) -> str:
        if self.row is None:
            return self.table
        return f"{self.table}, dòng {self.row}" if self.table else f"dòng {self.row}"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "place": self.place}


@dataclass
class ParsedTask:
    """A task as the plan states it (texts verbatim but normalised), with where it came from."""

    group: str = ""
    group_title: str = ""
    stt: str = ""
    criterion: str = ""
    task: str = ""
    output: str = ""
    lead_units: list[str] = field(default_factory=list)
    coordinating_units: list[str] = field(default_factory=list)
    leaders: list[str] = field(default_factory=list)
    deadline_text: str = ""
    notes: str = ""
    table: str = ""
    row: int = 0
    rows: list[int] = field(default_factory=list)  # every source row merged into this task
    continuation: bool = False  # no STT of its own: belongs to the item above
    # party and leader cells as written; plan_import splits and matches them
    raw_lead: str = ""
    raw_coord: str = ""
    raw_leaders: str = ""
    # columns without a place of their own in the master: (field or "", header as written, text);
    # field is "status"/"result" for a progress appendix's columns, "" for any other column
    extras: list[tuple[str, str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ParsedPlan:
    source: str
    tasks: list[ParsedTask]
    groups: list[tuple[str, str]]  # (path, title) in document order
    tables_used: list[str]
    tables_skipped: list[str]
    warnings: list[ImportWarning]
    layout: dict[str, str]  # field -> header as found (of the first table used)
    plan_year: int | None = None
    # the plan's own metadata read from the document's head (plan_number, plan_date, plan_year,
    # agency, parent_agency, place, plan_title), each only when found
    meta: dict[str, Any] = field(default_factory=dict)
