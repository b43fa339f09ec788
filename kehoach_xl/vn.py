"""Vietnamese locale: how every output writes dates, periods, numbers, percentages and names.

The ground floor of the package (it imports only ``errors`` and ``text``). Sheets, the
briefing, the Word report, reminders, validation and merge messages, the log sheet, the
command line, the Excel buttons and the button server all format through here, so one
figure reads the same wherever it shows.

Dates
    ``date(d)`` → "05/06/2024" (dd/mm/yyyy); ``datetime(d)`` → "05/06/2024 14:30"
    (``seconds=True`` adds ":07"). ``parse_date`` is the strict reader for a date cell;
    ``value(v)`` shows any cell value in a message or the log sheet.
    ISO forms (2024-06-05) stay where a machine reads them: JSON, file names, signatures.

Periods
    A reporting period is a calendar month, stored ``YYYY-MM`` (zero-padded) everywhere:
    signed into unit workbooks, in the history sheet, in file names. Staff may type it as
    "2024-5", "05/2024" or "5/2024"; :func:`parse_period` turns each into the padded form,
    and :func:`period_label` shows it as "05/2024".

Numbers
    Decimal comma, thousands dot: ``integer(1234)`` → "1.234"; ``number(-1234.5)`` →
    "-1.234,5" (at most ``decimals`` places, trailing zeros dropped: 6.390 → "6,39").
    ``parse_number`` is the one reader of numbers typed as text: "6,39", "6.39", "1.234,5",
    "1.234.567", "80%", "0,5 %". A single separator is the decimal mark, comma or dot alike
    (staff on an English keyboard type "6.39"); a dot is a thousands separator only beside a
    comma ("1.234,5") or repeated in groups of three ("1.234.567").

Percentages (one style for every output)
    ``percent(33.333)`` → "33,3%", ``percent(50)`` → "50%": rounded to one decimal, and the
    decimal is shown only when the figure is not whole. Whole percentages are by far the most
    common (progress is typed as 80, not 80.0), a report sentence reads "đạt 50%" rather
    than "đạt 50,0%", and one decimal is enough to tell 33,3% from 33,4% in a tally. The
    summary sheet writes the same rounded number into a cell formatted ``PERCENT_FORMAT``
    (General in the Vietnamese locale), which shows it the same way: 33,3 and 50.
    Percent figures are written with the sign attached, no space ("33,3%").
    Completion rates (``rate``) always keep their one decimal, "50,0%", as the sheets' rate
    columns show them: rates are read side by side.

Names mid-sentence
    ``lower_first`` (a title after "về"), ``mid_sentence`` (a unit's name inside a sentence:
    only collective names such as "Các phòng, đơn vị" lose their capital) and ``vn_list``
    ("a, b và c").

Excel number formats
    ``DATE_FORMAT``, ``DATETIME_FORMAT``, ``DECIMAL_FORMAT`` and ``PERCENT_FORMAT`` for
    cells the program formats.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import numbers
import re
from typing import Any

from kehoach_xl.errors import SetupError
from kehoach_xl.text import normalize_text

# --- Excel number formats ------------------------------------------------------------

DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
# [$-42A] is the Vietnamese locale: Excel and LibreOffice show 6,39 (decimal comma) on any PC.
DECIMAL_FORMAT = "[$-42A]#,##0.00"
# A percentage already rounded to one decimal (see ``percent``): 33,3 and 50, as the reports write it.
PERCENT_FORMAT = "[$-42A]General"
# In a table column every rate shows one decimal (33,3 / 50,0 / 100,0): figures line up and read
# alike down the column; a sentence keeps ``percent``'s style ("đạt 50%").
RATE_FORMAT = "[$-42A]0.0"
# Index scores are published with two decimals (7,63; 6,40).
SCORE_FORMAT = "[$-42A]0.00"
# Any other figure in a program-written sheet: as typed, with the decimal comma (3; 12,5).
NUMBER_FORMAT = "[$-42A]General"

# --- dates ---------------------------------------------------------------------------

# Excel's 1900 date system counts the fictitious 29/02/1900 as day 60; serials
# from 61 on are days since 30/12/1899.
_EXCEL_EPOCH = dt.date(1899, 12, 30)
# Serials outside this window are far more likely a stray number than a date in
# an administrative plan (01/01/1950 .. 31/12/2099).
_SERIAL_MIN = (dt.date(1950, 1, 1) - _EXCEL_EPOCH).days
_SERIAL_MAX = (dt.date(2099, 12, 31) - _EXCEL_EPOCH).days


def date(d: dt.date | dt.datetime | str | None) -> str:
    """date → 'dd/mm/yyyy' (empty string for None). An ISO text ("2024-06-05…", as JSON holds
    dates) is shown the same way; any other text is returned unchanged."""
    if d is None:
        return ""
    if isinstance(d, str):
        try:
            d = dt.date.fromisoformat(d[:10])
        except ValueError:
            return d
    return f"{d.day:02d}/{d.month:02d}/{d.year:04d}"


def datetime(d: dt.datetime | None, seconds: bool = False) -> str:
    """datetime → 'dd/mm/yyyy HH:MM' ('…:SS' with ``seconds``); empty string for None."""
    if d is None:
        return ""
    if not isinstance(d, dt.datetime):
        d = dt.datetime.combine(d, dt.time())
    return f"{date(d)} {d:%H:%M:%S}" if seconds else f"{date(d)} {d:%H:%M}"


def excel_serial_to_date(serial: float) -> dt.date:
    """Excel serial (1900 system) → date; the time-of-day fraction is dropped."""
    if isinstance(serial, bool) or not math.isfinite(float(serial)):
        raise ValueError(f"Giá trị {serial!r} không phải số ngày Excel.")
    days = int(math.floor(float(serial)))
    if not _SERIAL_MIN <= days <= _SERIAL_MAX:
        raise ValueError(f"Số {number(float(serial), None)} không phải một ngày hợp lệ (ngoài khoảng 1950–2099).")
    return _EXCEL_EPOCH + dt.timedelta(days=days)


def full_year(y: int) -> int:
    # Two-digit years in these documents are always this century's.
    return 2000 + y if y < 100 else y


def _invalid_date_message(day: int, month: int, year: int) -> str:
    if not 1 <= month <= 12:
        return f"Ngày {day}/{month}/{year} không hợp lệ: không có tháng {month}."
    last = calendar.monthrange(year, month)[1]
    return (
        f"Ngày {day}/{month}/{year} không tồn tại: tháng {month}/{year} chỉ có {last} ngày."
    )


def make_date(day: int, month: int, year: int) -> dt.date:
    """Build a date or raise ValueError with a Vietnamese message (never coerce)."""
    if not 1 <= month <= 12 or not 1 <= day <= 31 or not 1 <= year <= 9999:
        raise ValueError(_invalid_date_message(day, month, year))
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError(_invalid_date_message(day, month, year)) from None


_STRICT_DMY = re.compile(r"(\d{1,2})\s*([/.\-])\s*(\d{1,2})\s*\2\s*(\d{4}|\d{2})")
_STRICT_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")


def parse_date(value: object) -> dt.date | None:
    """Strict reader for a date cell.

    Accepts date, datetime, an Excel serial, "dd/mm/yyyy", "d/m/yy", "dd-mm-yyyy",
    "dd.mm.yyyy" and "yyyy-mm-dd". Returns None for an empty cell; raises
    ValueError (message in Vietnamese) for anything else, including dates that
    do not exist such as 31/02/2024.
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise ValueError(f"Giá trị {value!r} không phải ngày.")
    if isinstance(value, numbers.Real):
        if isinstance(value, float) and math.isnan(value):
            return None
        return excel_serial_to_date(float(value))
    s = normalize_text(value)
    if not s:
        return None
    if m := _STRICT_DMY.fullmatch(s):
        return make_date(int(m[1]), int(m[3]), full_year(int(m[4])))
    if m := _STRICT_ISO.fullmatch(s):
        return make_date(int(m[3]), int(m[2]), int(m[1]))
    raise ValueError(f"“{s}” không phải ngày hợp lệ (cần dạng dd/mm/yyyy).")


# --- numbers -------------------------------------------------------------------------


def _swap(s: str) -> str:
    """'1,234.5' (Python's grouping) → '1.234,5'."""
    return s.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def integer(n: int | float | None, *, grouping: bool = True) -> str:
    """1234 → '1.234'; -1234 → '-1.234' (a float is rounded to the nearest whole)."""
    if n is None:
        return ""
    return _swap(f"{round(n):,}") if grouping else str(round(n))


def number(x: float | int | None, decimals: int | None = 2, *, grouping: bool = True) -> str:
    """6.39 → '6,39'; 1234.5 → '1.234,5'; -0.42 → '-0,42'; 5.0 → '5'.

    At most ``decimals`` places, trailing zeros dropped; ``decimals=None`` keeps every digit
    the float has (the log sheet shows a value exactly as stored). ``grouping=False`` leaves
    out the thousands dot, for a number that stands for itself in free text (a year, a code).
    """
    if x is None:
        return ""
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int) or float(x).is_integer() and decimals in (0, None):
        return integer(x, grouping=grouping)
    if not math.isfinite(x):
        return str(x)
    if decimals is None:
        digits = repr(float(x))
        places = len(digits.partition(".")[2]) if "e" not in digits else 15
        s = f"{x:,.{places}f}"
    else:
        s = f"{x:,.{decimals}f}"
    s = _swap(s) if grouping else _swap(s).replace(".", "")
    if "," in s:
        s = s.rstrip("0").rstrip(",")
    return "0" if s == "-0" else s


def percent(x: float | int | None, *, sign: bool = True) -> str:
    """The one percentage style: 33.333 → '33,3%', 50 → '50%', 0.5 → '0,5%' (see the module's
    docstring). ``sign=False`` leaves the '%' to the caller (templates write it themselves)."""
    if x is None:
        return ""
    s = number(round(float(x), 1), 1)
    return s + "%" if sign else s


def rate(x: float | int | None, *, sign: bool = True) -> str:
    """A completion rate (tỷ lệ), always with one decimal: 33.333 → '33,3%', 50 → '50,0%'.

    Rates stand side by side in a report ("33,3% … 50,0% … 100,0%") and in the sheets' rate
    columns (``RATE_FORMAT``), so every rate shows the same one decimal; a progress figure a unit
    typed (``percent``: "đạt 80%") keeps its own form.
    """
    if x is None:
        return ""
    s = _swap(f"{round(float(x), 1):,.1f}")
    return s + "%" if sign else s


def value(v: Any) -> str:
    """A cell's value as a message or the log sheet shows it: a date dd/mm/yyyy (with the time
    when there is one), a number with a decimal comma and every digit it has (no thousands
    dot: the value as stored, not a figure in a report), True/False as Đúng/Sai, text as is."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "Đúng" if v else "Sai"
    if isinstance(v, dt.datetime):
        return date(v) if v.time() == dt.time() else datetime(v, seconds=bool(v.second))
    if isinstance(v, dt.date):
        return date(v)
    if isinstance(v, (int, float)):
        return number(v, None, grouping=False)
    return str(v)


_GROUPED = re.compile(r"\d{1,3}(?:[.\s]\d{3})+")


def parse_number(value: Any) -> float | None:
    """The one reader of numbers: 6.39, 80, "6,39", "6.39", "1.234,5", "1.234.567", "1 234",
    "-2,5", "80%", "0,5 %" → a float. A trailing "%" is dropped, not applied ("80%" → 80.0).

    None for an empty cell (None, blank text, NaN); ValueError (in Vietnamese) for text that is
    not a number and for True/False.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"Giá trị {value!r} không phải số.")
    if isinstance(value, numbers.Real):
        x = float(value)
        return None if math.isnan(x) else x
    s = normalize_text(value)
    if not s:
        return None
    body = s.removesuffix("%").rstrip()
    neg = body[:1] in "-−"
    body = body[1:].lstrip() if body[:1] in "+-−" else body
    x = _read_digits(body)
    if x is None:
        raise ValueError(f"“{s}” không phải số (ví dụ đúng: 80 hoặc 6,39).")
    return -x if neg else x


def _read_digits(body: str) -> float | None:
    if re.fullmatch(r"\d+", body):
        return float(body)
    if m := re.fullmatch(r"(\d+)[.,](\d+)", body):  # one separator: the decimal mark
        return float(f"{m[1]}.{m[2]}")
    if _GROUPED.fullmatch(body):  # 1.234.567 or 1 234
        return float(re.sub(r"[.\s]", "", body))
    if m := re.fullmatch(r"(\d{1,3}(?:([.\s])\d{3})*|\d+),(\d+)", body):  # 1.234,5
        return float(re.sub(r"[.\s]", "", m[1]) + "." + m[3])
    if m := re.fullmatch(r"(\d{1,3}(?:([,\s])\d{3})*|\d+)\.(\d+)", body):  # 1,234.5 (English)
        return float(re.sub(r"[,\s]", "", m[1]) + "." + m[3])
    return None


# --- periods -------------------------------------------------------------------------

_ISO = re.compile(r"(\d{4})-(\d{1,2})")
_VN = re.compile(r"(?:tháng|t)?\s*(\d{1,2})\s*[/.-]\s*(\d{4})", re.I)


def parse_period(text: Any) -> str:
    """'2024-5', '2024-05', '05/2024', '5/2024' (or a date) → '2024-05'; SetupError otherwise."""
    if isinstance(text, (dt.date, dt.datetime)):
        return f"{text.year:04d}-{text.month:02d}"
    if type(text) is str and text in _PERIODS:  # the month's one or two periods, asked of every report
        return _PERIODS[text]
    s = normalize_text(text)
    if m := _ISO.fullmatch(s):
        y, mo = int(m[1]), int(m[2])
    elif m := _VN.fullmatch(s):
        y, mo = int(m[2]), int(m[1])
    else:
        raise SetupError(f"Kỳ báo cáo “{s}” không đúng dạng: nhập YYYY-MM (ví dụ 2024-05) hoặc MM/YYYY (05/2024).")
    if not 1 <= mo <= 12 or y < 1900:
        raise SetupError(f"Kỳ báo cáo “{s}” có tháng hoặc năm không hợp lệ (tháng từ 1 đến 12).")
    out = f"{y:04d}-{mo:02d}"
    if type(text) is str and len(_PERIODS) < 4096:
        _PERIODS[text] = out
    return out


_PERIODS: dict[str, str] = {}


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


# --- names mid-sentence --------------------------------------------------------------


def vn_list(items: Any) -> str:
    """["a", "b", "c"] → "a, b và c" (Vietnamese enumeration)."""
    items = [str(i) for i in items if i not in (None, "")]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " và " + items[-1]


def lower_first(s: Any) -> str:
    """"Kế hoạch nâng cao …" → "kế hoạch nâng cao …" for use mid-sentence (leaves acronyms such as "DDCI")."""
    s = str(s)
    if len(s) > 1 and s[1].isupper():
        return s
    return s[:1].lower() + s[1:]


def mid_sentence(name: Any) -> str:
    """A unit name inside a sentence: "Các phòng, đơn vị" → "các phòng, đơn vị"; proper names unchanged.

    Only collective names (starting with "Các"/"Những") are common nouns; "Văn phòng Sở",
    "Thanh tra Sở" … keep their capitals wherever they stand.
    """
    s = str(name)
    return s[:1].lower() + s[1:] if s.startswith(("Các ", "Những ")) else s
