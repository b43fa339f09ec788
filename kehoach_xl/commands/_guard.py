"""The master check every command makes in its own read step.

The command line checks the file kind before it calls a command (``cli/main.py``); the Python API
(``kehoach_xl.refresh(...)`` and the rest) must refuse the wrong file the same way, with the same
Vietnamese message and the same exit kind, before anything is read in full, written, backed up or
moved. One helper, called first by every command that takes a master, keeps the two routes equal.
"""

from __future__ import annotations

from pathlib import Path

from kehoach_xl.io.file_kind import require_master


def checked_master(master: Path | str, *, inbox: Path | None = None) -> Path:
    """``master`` as a Path when it is a master; else SetupError (exit 2) naming what it is and
    what to do, or DataError (exit 1) for a damaged workbook.

    ``inbox`` lets a master copy a unit sent back (a master inside the inbox) be told apart.
    """
    return require_master(master, inbox=inbox)
