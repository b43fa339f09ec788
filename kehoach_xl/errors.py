"""Exception types.

Two families, as pandera does it: ``SetupError`` when the program itself is
misconfigured or misused (exit code 2), ``DataError`` when the data it was given
is wrong (exit code 1). Messages are in Vietnamese because staff read them.
"""

from __future__ import annotations


class KehoachError(Exception):
    """Base of every error this package raises on purpose."""

    exit_code = 1


class SetupError(KehoachError):
    """Broken configuration, missing file, wrong arguments: fix the setup."""

    exit_code = 2


class DataError(KehoachError):
    """The workbook or a submission holds data that cannot be used as it is."""

    exit_code = 1
