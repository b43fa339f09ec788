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

from kehoach_xl.text import normalize_text, strip_accents

# field -> (patterns on folded header text, header shown in messages)
HEADER_VOCAB: dict[str, tuple[tuple[str, ...], str]] = {
    "stt": ((r"^(so )?(tt|thu tu)$", r"^stt$", r"^so$"), "Số TT / STT"),
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


def fold(text: object) -> str:
    s = strip_accents(normalize_text(text).lower())
    s = re.sub(r"[^a-z0-9/ ]+", " ", s)
    return re.sub(r"\s+", " ", s.replace(" /", "/").replace("/ ", "/")).strip()


def field_of(header: object) -> str | None:
    """The field a header cell means, or None."""
    f = fold(header)
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
        if key and key not in out:
            out[key] = j
    if len(out) >= 3 and ("task" in out or "criterion" in out):
        # a plan with a criterion column but no task column: the criterion is the task
        if "task" not in out:
            out["task"] = out.pop("criterion")
        return out
    return None


def expected_headers() -> list[str]:
    return [label for _, label in HEADER_VOCAB.values()]
