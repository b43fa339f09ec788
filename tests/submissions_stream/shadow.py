"""A pytest plugin: every submission any test reads is read by both readers and compared.

    pytest -p tests.submissions_stream.shadow tests/units_merge tests/unitbook_parts ...

The streamed book is what the test goes on with; every difference is collected and the session fails
at its end if there was one (the list is printed, and written to $KEHOACH_SHADOW_REPORT if set).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from kehoach_xl.io import submission
from kehoach_xl.model.submission import SubmissionRejected
from tests.submissions_stream.compare import differences

_FOUND: list[str] = []
_COUNT = [0]
_real = submission._parse_book
_reference = submission._parse_book_openpyxl  # as imported: tests may patch the module's name


def _both(path: Any, members: dict[str, bytes], limits: Any, ext_links: int) -> Any:
    results = []
    for fn in (_reference, None):
        try:
            if fn is None:
                results.append(_real(path, members, limits, ext_links))
            else:
                results.append(fn(path, members, limits, ext_links))
        except SubmissionRejected as exc:
            results.append(exc)
    _COUNT[0] += 1
    diff = differences(*results)
    if diff:
        _FOUND.append(f"{Path(str(path)).name}: " + "; ".join(diff))
    if isinstance(results[1], SubmissionRejected):
        raise results[1]
    return results[1]


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    submission._parse_book = _both


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    submission._parse_book = _real
    text = f"shadow: {_COUNT[0]} submissions read by both readers, {len(_FOUND)} differ\n" + "\n".join(_FOUND)
    if out := os.environ.get("KEHOACH_SHADOW_REPORT"):
        Path(out).write_text(text + "\n", encoding="utf-8")
    print("\n" + text)
    if _FOUND:
        session.exitstatus = 1
