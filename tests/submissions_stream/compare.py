"""Read one submission with both readers (openpyxl's full load and the streamed one) and compare."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any
from unittest import mock

from kehoach_xl.io import submission
from kehoach_xl.io.submission import SafeBook
from kehoach_xl.model.config import LimitsConfig
from kehoach_xl.model.submission import SubmissionRejected

_REAL = submission._parse_book  # as imported, before shadow.py (if used) wraps it


def _old(path: Any, members: dict[str, bytes], limits: LimitsConfig, ext_links: int) -> SafeBook:
    return submission._parse_book_openpyxl(path, members, limits, ext_links)


def _new(path: Any, members: dict[str, bytes], limits: LimitsConfig, ext_links: int) -> SafeBook:
    # No fallback here: the streamed reader must read every fixture itself.
    return submission._parse_book_stream(path, members, limits, ext_links)


def read(path: Path | None, *, data: bytes | None = None, limits: LimitsConfig | None = None,
         stream: bool, fallback: bool = False) -> SafeBook | SubmissionRejected:
    """The SafeBook (or the refusal) ``safe_open`` gives with one reader or the other.

    ``stream`` without ``fallback``: the streamed reader alone (it must read the file itself);
    with ``fallback``: the real entry point, which hands what it does not mirror to openpyxl.
    """
    limits = limits or LimitsConfig()
    reader = (_REAL if fallback else _new) if stream else _old
    with mock.patch.object(submission, "_parse_book", reader):
        try:
            return submission.safe_open(Path(path or "tep.xlsx"), limits, data=data)
        except SubmissionRejected as exc:
            return exc


def _key(v: Any) -> Any:
    # Types count: 1, 1.0 and True are different answers; NaN equals itself here.
    if isinstance(v, float) and math.isnan(v):
        return (float, "nan")
    return (type(v), v)


def differences(old: SafeBook | SubmissionRejected, new: SafeBook | SubmissionRejected) -> list[str]:
    """What differs, field by field; empty when the books are the same (or both refused the file)."""
    if isinstance(old, SubmissionRejected) or isinstance(new, SubmissionRejected):
        if isinstance(old, SubmissionRejected) and isinstance(new, SubmissionRejected):
            return []
        what = lambda b: b.problem.message if isinstance(b, SubmissionRejected) else "read"  # noqa: E731
        return [f"old: {what(old)} / new: {what(new)}"]
    out = []
    if list(old.sheets) != list(new.sheets):
        out.append(f"sheets {list(old.sheets)} != {list(new.sheets)}")
    for name in old.sheets.keys() & new.sheets.keys():
        a, b = old.sheets[name], new.sheets[name]
        if len(a) != len(b) or any(len(x) != len(y) for x, y in zip(a, b, strict=False)):
            out.append(f"{name}: shape {len(a)}x{max(map(len, a), default=0)} != {len(b)}x{max(map(len, b), default=0)}")
            continue
        for r, (x, y) in enumerate(zip(a, b, strict=True), start=1):
            for c, (u, v) in enumerate(zip(x, y, strict=True), start=1):
                if _key(u) != _key(v):
                    out.append(f"{name}!R{r}C{c}: {u!r} != {v!r}")
    for attr in ("formulas", "merged", "external_links", "formats"):
        if getattr(old, attr) != getattr(new, attr):
            out.append(f"{attr}: {getattr(old, attr)!r} != {getattr(new, attr)!r}")
    return out[:20]


def compare(path: Path | None = None, *, data: bytes | None = None, limits: LimitsConfig | None = None) -> list[str]:
    if data is None and path is not None:
        data = Path(path).read_bytes()
    return differences(read(path, data=data, limits=limits, stream=False),
                       read(path, data=data, limits=limits, stream=True))


def has_values(book: SafeBook | SubmissionRejected, *kinds: type) -> bool:
    """Whether some cell holds a value of each of ``kinds`` (so a comparison covered them)."""
    if isinstance(book, SubmissionRejected):
        return False
    seen = {type(v) for grid in book.sheets.values() for row in grid for v in row}
    return all(k in seen for k in kinds)

