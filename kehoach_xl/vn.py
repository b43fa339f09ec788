"""Reporting periods: one parser for every command, so "2024-5" and "2024-05" are the same month.

A period is a calendar month written ``YYYY-MM`` (zero-padded) everywhere it is stored:
signed into unit workbooks, in the history sheet, in file names. Staff may type it as
"2024-5", "05/2024" or "5/2024"; :func:`parse_period` turns each into the padded form.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from kehoach_xl.errors import SetupError
from kehoach_xl.text import normalize_text

_ISO = re.compile(r"(\d{4})-(\d{1,2})")
_VN = re.compile(r"(?:tháng|t)?\s*(\d{1,2})\s*[/.-]\s*(\d{4})", re.I)


def parse_period(text: Any) -> str:
    """'2024-5', '2024-05', '05/2024', '5/2024' (or a date) → '2024-05'; SetupError otherwise."""
    if isinstance(text, (dt.date, dt.datetime)):
        return f"{text.year:04d}-{text.month:02d}"
    s = normalize_text(text)
    if m := _ISO.fullmatch(s):
        y, mo = int(m[1]), int(m[2])
    elif m := _VN.fullmatch(s):
        y, mo = int(m[2]), int(m[1])
    else:
        raise SetupError(f"Kỳ báo cáo “{s}” không đúng dạng: nhập YYYY-MM (ví dụ 2024-05) hoặc MM/YYYY (05/2024).")
    if not 1 <= mo <= 12 or y < 1900:
        raise SetupError(f"Kỳ báo cáo “{s}” có tháng hoặc năm không hợp lệ (tháng từ 1 đến 12).")
    return f"{y:04d}-{mo:02d}"


def period_ym(period: Any) -> tuple[int, int]:
    """(year, month) of a period in any accepted form."""
    p = parse_period(period)
    return int(p[:4]), int(p[5:])


def period_label(period: Any) -> str:
    """'2024-05' → '05/2024', as unit workbooks and reports show it."""
    y, m = period_ym(period)
    return f"{m:02d}/{y}"


def period_bounds(period: Any) -> tuple[dt.date, dt.date]:
    """'2024-06' → (01/06/2024, 30/06/2024)."""
    y, m = period_ym(period)
    first = dt.date(y, m, 1)
    nxt = dt.date(y + m // 12, m % 12 + 1, 1)
    return first, nxt - dt.timedelta(days=1)


def try_parse_period(value: Any) -> str | None:
    """The padded period, or None for a cell that is not one (history rows typed by hand)."""
    try:
        return parse_period(value)
    except SetupError:
        return None
