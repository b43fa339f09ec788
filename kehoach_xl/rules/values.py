"""Parse what units type: percentages in any form, dates in any form, statuses without accents."""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Any

from kehoach_xl import vn
from kehoach_xl.model import schema
from kehoach_xl.text import name_key, normalize_text, strip_accents
from kehoach_xl.vn import period_ym

_DIGITS = {"không": 0, "một": 1, "mốt": 1, "hai": 2, "ba": 3, "bốn": 4, "tư": 4, "năm": 5, "lăm": 5,
           "sáu": 6, "bảy": 7, "bẩy": 7, "tám": 8, "chín": 9}


def _vn_words(s: str) -> int | None:
    toks = s.split()
    if toks[-2:] == ["phần", "trăm"]:
        toks = toks[:-2]
    if toks in (["một", "trăm"], ["trăm"]):
        return 100
    if not toks:
        return None
    n, i = 0, 0
    if toks[0] == "mười":
        n, i = 10, 1
    elif len(toks) >= 2 and toks[1] == "mươi" and toks[0] in _DIGITS:
        n, i = 10 * _DIGITS[toks[0]], 2
    if i < len(toks) and toks[i] in _DIGITS:
        n += _DIGITS[toks[i]]
        i += 1
    return n if i == len(toks) and i > 0 else None


def parse_percent(value: Any, number_format: str = "") -> float | int:
    """'80%', '80', 80, 1 in a "0%" cell, '0,8', 'tám mươi' → the percent (0–100). ValueError in Vietnamese otherwise.

    A number is taken as typed unless its cell is %-formatted (Excel stores "80%" as 0.8):
    a plain 0.8 in the 0–100 column is 0.8 %, not a guess at 80. Typed *text* "0,8"/"0.8"
    keeps the documented reading (docs/units-merge-nightly.md): a decimal fraction below 1
    written as text means ×100, since nobody writes "0,8" to mean 0.8 %.
    """
    if isinstance(value, bool):
        raise ValueError("Tiến độ phải là số từ 0 đến 100.")
    if isinstance(value, (int, float)):
        x = float(value)
        # A real percent format scales the stored fraction; a literal "%" (0"%" or 0\%) does not.
        if "%" in re.sub(r'"[^"]*"|\\.', "", number_format or ""):
            x *= 100
    else:
        had_pct = "%" in str(value) or "phần trăm" in normalize_text(value).casefold()
        s = normalize_text(value).casefold().replace("%", " ").replace("phần trăm", " ").strip()
        s = re.sub(r"^(đạt|khoảng|được)\s+", "", s)
        try:  # digits only: a sign or a word goes to the words reader (and its message)
            num = vn.parse_number(s) if re.fullmatch(r"[\d\s.,]+", s) else None
        except ValueError:
            num = None
        if num is not None:
            x = num
            if 0 < x < 1 and not had_pct:
                x *= 100  # documented: text "0,8" is 80 % ("0,5%" is half a percent)
        else:
            w = _vn_words(s)
            if w is None:
                raise ValueError(f"“{normalize_text(value)}” không phải tiến độ: nhập số từ 0 đến 100, ví dụ 80.")
            x = float(w)
    if not 0 <= x <= 100:
        raise ValueError(f"Tiến độ {vn.number(x)} nằm ngoài khoảng 0–100.")
    x = round(x, 2)
    return int(x) if float(x).is_integer() else x


_WORD_DATE = re.compile(r"(?:ngày\s*)?(\d{1,2})\s*tháng\s*(\d{1,2})(?:\s*(?:năm|,|/)\s*(\d{2,4}))?", re.I)


_DM = re.compile(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})")


def parse_any_date(value: Any, *, default_year: int) -> dt.date | None:
    """Every form staff type: real dates, serials, 5/6/2024, 05-06-24, 5.6.2024, 2024-06-05,
    'ngày 5 tháng 6 năm 2024', '5/6' (year of the period). Impossible dates raise ValueError."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        return vn.parse_date(value)
    s = normalize_text(value)
    s = re.sub(r"^(ngày|ngay|đã xong ngày|xong ngày|hoàn thành ngày)\s+", "", s, flags=re.I).strip(" .")
    try:
        return vn.parse_date(s)
    except ValueError:
        pass
    if m := _WORD_DATE.fullmatch(s):
        y = int(m[3]) if m[3] else default_year
        return vn.parse_date(f"{int(m[1])}/{int(m[2])}/{y}")
    if m := _DM.fullmatch(s):
        return vn.parse_date(f"{int(m[1])}/{int(m[2])}/{default_year}")
    return vn.parse_date(s)  # raises the parser's Vietnamese message


_STATUS_WORDS = {
    schema.STATUS_DONE: ("hoan thanh", "da hoan thanh", "xong", "da xong", "hoan tat", "da thuc hien xong"),
    schema.STATUS_IN_PROGRESS: ("dang thuc hien", "dang trien khai", "dang", "dang lam", "dang xu ly"),
    schema.STATUS_NOT_STARTED: ("chua thuc hien", "chua trien khai", "chua", "chua bat dau"),
}


def parse_status(value: Any) -> str:
    status = _status_of(normalize_text(value))
    if status is not None:
        return status
    raise ValueError(f"Trạng thái “{normalize_text(value)}” không hợp lệ; chọn một trong: {', '.join(schema.STATUSES)}.")


@functools.lru_cache(maxsize=4096)  # a handful of spellings on every row of every sheet
def _status_of(text: str) -> str | None:
    key = strip_accents(name_key(text)).strip(" .!")
    for status, words in _STATUS_WORDS.items():
        if key in words:
            return status
    return None


def clean_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        value = vn.date(value)
    elif isinstance(value, float):
        value = vn.number(value, None, grouping=False)
    s = normalize_text(value, keep_newlines=True)
    return s or None


def parse_field(fieldname: str, value: Any, *, period: str, today: dt.date, number_format: str = "") -> Any:
    """One input value → the master's value, or ValueError with a Vietnamese message."""
    if fieldname == "status":
        return parse_status(value)
    if fieldname == "progress":
        return parse_percent(value, number_format)
    if fieldname == "completed_on":
        d = parse_any_date(value, default_year=period_ym(period)[0])
        if d is not None and d > today:
            raise ValueError(f"Ngày hoàn thành {vn.date(d)} ở tương lai.")
        if d is not None and d.year < 2000:
            raise ValueError(f"Ngày hoàn thành {vn.date(d)} không hợp lý.")
        return d
    return clean_text(value)


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not normalize_text(v))
