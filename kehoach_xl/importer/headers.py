"""Recognising a plan table's header by meaning, not by position.

The vocabulary is data: each field lists patterns matched against the header
text folded to lower-case ASCII (``Bộ phận triển khai`` → ``bo phan trien
khai``). Patterns are tried field by field in ``HEADER_VOCAB`` order, so the
more specific meanings (leaders, coordinating units) are claimed before the
broad ones ("thực hiện", "nội dung").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from kehoach_xl.text import normalize_text, strip_accents

# field -> (patterns on folded header text, header shown in messages)
HEADER_VOCAB: dict[str, tuple[tuple[str, ...], str]] = {
    "stt": ((r"^(so )?(tt|thu tu)$", r"^stt$", r"^so$"), "Số TT / STT"),
    # Columns of a progress-report appendix and a start date: recognised so that they are not
    # taken for the deadline or the expected output, but they are not part of a task's definition
    # (see PROGRESS_FIELDS / EXTRA_FIELDS).
    "result": ((r"ket qua (thuc hien|hien nay|dat duoc|trien khai|den nay)(?!.*(san pham|dau ra))",
                r"tinh hinh (thuc hien|trien khai)"),
               "Kết quả thực hiện / Kết quả hiện nay"),
    "status": ((r"tinh trang", r"trang thai", r"muc do hoan thanh"),
               "Tình trạng / Trạng thái"),
    "start": ((r"bat dau", r"khoi dau", r"thoi gian trien khai"), "Thời gian bắt đầu"),
    # a plan's own task codes ("NV.01"): kept in the notes, never taken for the task column
    "code": ((r"^ma( so)?( nhiem vu| hoat dong| cong viec)?$", r"^ky hieu$"), "Mã nhiệm vụ"),
    "leaders": ((r"lanh dao",), "Lãnh đạo giám sát / phụ trách"),
    "coordinating_units": ((r"phoi hop",), "Cơ quan/Đơn vị phối hợp"),
    "lead_units": (
        (r"chu tri", r"bo phan trien khai", r"(co quan|don vi|bo phan)( ?/ ?(co quan|don vi|bo phan))? "
         r"(thuc hien|trien khai|dam nhiem|phu trach)", r"^(co quan|don vi|bo phan)$", r"phan cong"),
        "Cơ quan chủ trì / Bộ phận triển khai / Đơn vị thực hiện",
    ),
    "deadline_text": (
        (r"thoi gian", r"thoi han", r"tien do", r"han hoan thanh", r"^han$", r"moc thoi gian"),
        "Thời gian hoàn thành / Thời hạn / Tiến độ",
    ),
    "output": ((r"ket qua", r"san pham"), "Kết quả đầu ra / Sản phẩm"),
    "criterion": ((r"chi so", r"chi tieu", r"tieu chi"), "Chỉ số/chỉ tiêu"),
    "task": (
        (r"nhiem vu", r"hoat dong", r"noi dung", r"cong viec", r"giai phap"),
        "Nhiệm vụ / Hoạt động / Nội dung / Tên nhiệm vụ",
    ),
    "notes": ((r"ghi chu",), "Ghi chú"),
}
MAX_HEADER_CHARS = 90
_COMPILED = {k: tuple(re.compile(p) for p in pats) for k, (pats, _) in HEADER_VOCAB.items()}
PROGRESS_FIELDS = ("status", "result")  # mapped only on request (--with-progress)
EXTRA_FIELDS = (*PROGRESS_FIELDS, "start", "code")  # known, but no column of the task definition
# "Tiến độ" is a deadline header in plans (seed 004) but the reported state in a progress
# appendix that also has a "Thời hạn" column: there the stronger deadline header wins.
_WEAK_DEADLINE = re.compile(r"^tien do( thuc hien| trien khai)?$")
_SHORT_SUBHEADER = 40


def fold(text: object) -> str:
    s = strip_accents(normalize_text(text).lower())
    s = re.sub(r"[^a-z0-9/ ]+", " ", s)
    return re.sub(r"\s+", " ", s.replace(" /", "/").replace("/ ", "/")).strip()


def field_of(header: object) -> str | None:
    """The field a header cell means, or None."""
    if isinstance(header, str):
        return _field_of_text(header)
    return _field_of_folded(fold(header))


# Every data row is tried as a header repeated after a page break, and its cells (unit names,
# deadlines, outputs) repeat down the table: each distinct text is folded and matched once.
@lru_cache(maxsize=1 << 16)
def _field_of_text(header: str) -> str | None:
    return _field_of_folded(fold(header))


def _field_of_folded(f: str) -> str | None:
    if not f:
        return None
    for key, pats in _COMPILED.items():
        if any(p.search(f) for p in pats):
            return key
    return None


def match_header_row(cells: Sequence[str]) -> dict[str, int] | None:
    """field -> 0-based column when ``cells`` reads as a task-table header, else None.

    A header needs three distinct known fields, one of them a task or criterion
    column. A field met twice keeps its first column (the second is reported by
    the caller as unused).
    """
    out: dict[str, int] = {}
    for j, c in enumerate(cells):
        if len(c) > MAX_HEADER_CHARS:  # a data cell that happens to contain "kết quả" or "phối hợp"
            continue
        key = field_of(c)
        if key == "deadline_text" and key in out and _WEAK_DEADLINE.match(fold(cells[out[key]])):
            weak = out.pop(key)
            out.setdefault("status", weak)
        elif key == "deadline_text" and key in out and _WEAK_DEADLINE.match(fold(c)):
            key = "status"
        if key and key not in out:
            out[key] = j
    if "result" in out and "output" not in out and "status" not in out:
        # no state column beside it: "Kết quả thực hiện" is the plan's expected result, not a report
        out["output"] = out.pop("result")
    core = [k for k in out if k not in EXTRA_FIELDS]
    if len(core) >= 3 and ("task" in out or "criterion" in out):
        # a plan with a criterion column but no task column: the criterion is the task
        if "task" not in out:
            out["task"] = out.pop("criterion")
        return out
    return None


def expected_headers() -> list[str]:
    return [label for k, (_, label) in HEADER_VOCAB.items() if k not in EXTRA_FIELDS]


def _lower_first(s: str) -> str:
    # "Chủ trì" under "Cơ quan" reads "Cơ quan chủ trì"; an abbreviation ("NSNN") keeps its capitals
    return s[:1].lower() + s[1:] if len(s) > 1 and not s[1:2].isupper() else s


def combine_two_rows(top: Sequence[str], sub: Sequence[str]) -> list[str] | None:
    """Header texts of a header spanning two rows, or None when ``sub`` is not a sub-header.

    A merged cell ("Cơ quan" over "Chủ trì | Phối hợp") gives its text to its first column and
    leaves the rest of its span empty; cells merged downwards ("STT", "Nhiệm vụ") leave the
    sub-header row empty. So every text of a sub-header row sits under an empty top cell or
    under the first cell of such a span, and is short.
    """
    n = max(len(top), len(sub))
    top = [*top, *[""] * (n - len(top))]
    sub = [*sub, *[""] * (n - len(sub))]
    filled = [j for j in range(n) if sub[j]]
    if not filled or any(len(sub[j]) > _SHORT_SUBHEADER or re.fullmatch(r"\(?\d{1,3}\)?", sub[j]) for j in filled):
        return None
    for j in filled:
        spans = not top[j] or (j + 1 < n and not top[j + 1] and sub[j + 1])
        if not spans:
            return None
    out: list[str] = []
    above = ""
    for j in range(n):
        if top[j]:
            above = top[j]
        elif not sub[j]:
            above = ""  # an empty column ends a span
        if sub[j]:
            out.append(f"{above} {_lower_first(sub[j])}".strip() if above else sub[j])
        else:
            out.append(top[j])
    return out
