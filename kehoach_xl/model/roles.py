"""A unit's role on a task, and what became of a unit's file in a merge.

Both are ``StrEnum``s: a role read from a signed unit workbook (``"lead"``) or a status compared
by a caller (``f.status == "rejected"``) still compares equal to its member, and the JSON
written for ``--json`` stays the same strings.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """Who a unit is on a task (``rules/assignments``), strongest first."""

    LEAD = "lead"  # Chủ trì: a named lead unit
    SYNTH = "synth"  # Tổng hợp chung: synthesises a task led collectively ("Các phòng, đơn vị")
    MEMBER = "member"  # Chủ trì phần việc của đơn vị: a member of a collective lead, owns its part
    COORD = "coord"  # Phối hợp: coordinates, reports its contribution


# A unit named twice on one task keeps the first of these it has.
ROLE_STRENGTH: tuple[Role, ...] = (Role.LEAD, Role.SYNTH, Role.MEMBER, Role.COORD)


class FileStatus(StrEnum):
    """A submission's fate in a merge (``FileReport.status``)."""

    PROCESSED = "processed"  # everything it reported was taken (or was already there)
    PARTIAL = "partial"  # some cells refused or in conflict; the rest taken
    REJECTED = "rejected"  # not read at all
    LEFT = "left"  # left in the inbox for the next run (still being written, a symlink, replaced while read)

    @property
    def words(self) -> str:
        """The status as the nightly log says it to the office."""
        return _FILE_STATUS_WORDS[self]


_FILE_STATUS_WORDS = {FileStatus.PROCESSED: "đã tổng hợp", FileStatus.PARTIAL: "tổng hợp một phần",
                      FileStatus.REJECTED: "trả lại", FileStatus.LEFT: "để lại cho lượt sau"}


def file_status_words(status: str) -> str:
    """Vietnamese words for a file status value ("processed" → "đã tổng hợp"); unknown values as given."""
    try:
        return FileStatus(status).words
    except ValueError:
        return status
