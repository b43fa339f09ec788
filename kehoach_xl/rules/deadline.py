"""Reading the free-text deadline column ("Thời hạn", "Tiến độ", "Thời gian hoàn thành").

Plans write deadlines as prose: a date, a month, a quarter, a year, a span of
years, "Thường xuyên", "định kỳ hằng tháng, quý", an event ("07 ngày sau khi nhận
được kiến nghị"), someone else's schedule ("Theo quy định của Sở Nội vụ") or a
list of milestones. ``parse_deadline`` turns any of these into a ``Deadline``
that keeps the original text verbatim and never guesses an impossible date.

Pure: no I/O, no clock. Results are cached by input, so a master with 50,000
rows and a few hundred distinct deadline texts parses each text once.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import numbers
import re
from dataclasses import dataclass
from functools import lru_cache

from kehoach_xl import vn
from kehoach_xl.text import normalize_text
from kehoach_xl.vn import excel_serial_to_date
from kehoach_xl.vn import full_year as _full_year
from kehoach_xl.vn import make_date as _make_date

__all__ = [
    "Deadline",
    "parse_deadline",
]


@dataclass(frozen=True)
class Deadline:
    text: str  # the original, verbatim
    kind: str  # a code of schema.DEADLINE_KINDS
    due: dt.date | None = None
    start: dt.date | None = None
    recurrence: str | None = None  # a code of schema.RECURRENCES
    milestones: tuple[tuple[dt.date, str], ...] = ()
    flags: tuple[str, ...] = ()
    note: str = ""  # Vietnamese, shown to staff when something was assumed or unreadable


# --- periods -------------------------------------------------------------------


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _quarter_end(year: int, quarter: int) -> dt.date:
    return _month_end(year, quarter * 3)


_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}

# --- patterns (all applied with re.IGNORECASE to the normalised text) ------------

_I = re.IGNORECASE
_DASH = "-\u2010\u2011\u2012\u2013\u2014\u2212"  # hyphen, en/em dash, minus from PDFs and Word
_D = r"(?<![\d/.])"  # not inside a longer number or date
_NUM_DATE = re.compile(
    _D + r"(\d{1,2})\s*([/.\-])\s*(\d{1,2})\s*\2\s*(\d{4}|\d{2})(?![\d/])", _I
)
_ISO_DATE = re.compile(_D + r"(\d{4})-(\d{2})-(\d{2})(?!\d)")
_WORD_DATE = re.compile(
    r"ngày\s*(\d{1,2})\s*tháng\s*(\d{1,2})\s*(?:năm|[/.\-])\s*(\d{4})(?!\d)", _I
)
_WORD_DATE_NO_YEAR = re.compile(r"ngày\s*(\d{1,2})\s*tháng\s*(\d{1,2})(?!\s*(?:năm|[/.\-\d]))", _I)
# "trước ngày 20/8", "ngày 20/8": a day and month with no year. Only read when a
# day cue is present or the whole text is the date, so "1-2 lần" is not a date.
_DAY_MONTH = re.compile(r"(?<![\d/.\-])(\d{1,2})\s*([/.\-])\s*(\d{1,2})(?![\d/.\-])")
_DAY_CUE = re.compile(r"(?:ngày|trước|hạn|đến|chậm nhất)\s*$", _I)
_YEAR_RANGE = re.compile(
    r"(?<!\d)((?:19|20)\d{2})\s*(?:[" + _DASH + r"]|đến(?:\s*năm)?)\s*((?:19|20)\d{2})(?!\d)", _I
)
_Q = r"(?:iv|iii|ii|i|[1-4])(?![^\W_])"
_LIST_SEP = r"\s*(?:,|;|-|và|đến|tới|&)\s*"
# "Quý III/2020", "quý I năm 2024", "Quý II, III/2024", "Quý II và Quý III năm 2024"
_QUARTER = re.compile(
    r"quý\s*(" + _Q + r"(?:" + _LIST_SEP + r"(?:quý\s*)?" + _Q + r")*)"
    r"(?:\s*(?:/|-|năm|của năm)\s*((?:19|20)\d{2})(?!\d))?", _I
)
# "tháng 9/2022", "tháng 9 năm 2022", "tháng 6 - 9/2024", "từ tháng 6 đến tháng 9/2024"
_MONTH = re.compile(
    r"tháng\s*(\d{1,2}(?!\d)(?:" + _LIST_SEP + r"(?:tháng\s*)?\d{1,2}(?!\d))*)"
    r"(?:\s*(?:/|-|\.|năm)\s*((?:19|20)\d{2})(?!\d))?", _I
)
_BARE_MONTH = re.compile(r"^(?:\D*\s)?(\d{1,2})\s*/\s*((?:19|20)\d{2})$", _I)
_YEAR = re.compile(r"(?:^|năm\s*)((?:19|20)\d{2})(?!\d)", _I)
_YEAR_NO_NUMBER = re.compile(r"^(?:trong|cả|cuối)?\s*năm$", _I)
_RANGE_LINK = re.compile(r"\s*(?:-|đến|tới|~)\s*(?:ngày\s*)?", _I)
_HALF_YEAR = re.compile(r"(6|sáu)\s*tháng\s*(đầu|cuối)\s*năm(?:\s*((?:19|20)\d{2})(?!\d))?", _I)

_EXTERNAL_START = re.compile(r"^theo\b", _I)
_EXTERNAL_ANY = re.compile(
    r"\btheo\s+(?:quy\s*định|kế\s*hoạch|tiến\s*độ|lịch|chỉ\s*đạo|hướng\s*dẫn|văn\s*bản|thông\s*báo)", _I
)
_RELATIVE = re.compile(
    r"sau\s+khi|kể\s+từ|khi\s+có|ngay\s+khi|ngay\s+sau|theo\s+yêu\s+cầu|khi\s+được|"
    r"trong\s+vòng\s+\d+\s*ngày|\d+\s*ngày(?:\s*làm\s*việc)?\s*(?:sau|kể từ|trước khi)|đột\s*xuất",
    _I,
)
_N_DAYS_FROM_DATE = re.compile(r"(\d+)\s*ngày\s*(làm\s*việc)?\s*kể\s*từ\s*(?:ngày\s*)?$", _I)
_CONTINUOUS = re.compile(r"thường\s*xuyên|liên\s*tục|h[ằà]ng\s*ngày|mỗi\s*ngày", _I)
_RECURRING = re.compile(r"h[ằà]ng\s*(?:tháng|quý|năm|tuần)|định\s*kỳ|mỗi\s*(?:tháng|quý|năm|tuần)", _I)
_REC_MONTH = re.compile(r"(?<!\d)(?<!\d\s)tháng(?!\s*\d)", _I)
_REC_QUARTER = re.compile(r"quý(?!\s*(?:iv|iii|ii|i|[1-4])(?![a-z]))", _I)
_REC_YEAR = re.compile(r"(?:h[ằà]ng|mỗi)\s*năm|định\s*kỳ\s*(?:h[ằà]ng\s*)?năm", _I)
_REC_OTHER = re.compile(r"(\d+)\s*tháng|tuần", _I)

# "2026 và hằng năm", "Quý II/2026 và các năm tiếp theo": a first deadline, then every year
_THEN_YEARLY = re.compile(
    r"^(?P<first>.+?)\s*[,;]?\s*(?:và|,|;)\s*(?:sau\s+đó\s+)?"
    r"(?:h[ằà]ng\s*năm|mỗi\s*năm|(?:các|những)\s*năm\s*(?:tiếp\s*theo|sau(?:\s*đó)?))$", _I)
# "Năm 2026 (sau khi Chính phủ ban hành Nghị định …)": a dated period with a condition in brackets
_BRACKETED = re.compile(r"^(?P<period>[^()]+?)\s*\((?P<cond>[^()]*)\)$")
_QUI = re.compile(r"\bquí\b", _I)  # the old spelling of "quý" ("Quí IV-2025")
_PERIOD_KINDS = ("date", "month", "quarter", "year", "year_range")

_NOTE_UNPARSED = "Không đọc được thời hạn; giữ nguyên văn để cán bộ kiểm tra."
_NOTE_RELATIVE = "Thời hạn tính theo sự kiện phát sinh, không có ngày cụ thể."
_NOTE_EXTERNAL = "Thời hạn theo quy định hoặc lịch của cơ quan khác, không có ngày cụ thể."
_NOTE_YEAR_MISSING = "Thời hạn không ghi năm và chưa có năm kế hoạch để suy ra."


@dataclass
class _Found:
    """A date found in the text, with where it sits."""

    start: int
    end: int
    day: int
    month: int
    year: int | None


def _find_dates(s: str) -> list[_Found]:
    found: list[_Found] = []
    taken: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return all(b <= x or a >= y for x, y in taken)

    for m in _WORD_DATE.finditer(s):
        found.append(_Found(m.start(), m.end(), int(m[1]), int(m[2]), int(m[3])))
        taken.append(m.span())
    for m in _ISO_DATE.finditer(s):
        if free(*m.span()):
            found.append(_Found(m.start(), m.end(), int(m[3]), int(m[2]), int(m[1])))
            taken.append(m.span())
    for m in _NUM_DATE.finditer(s):
        if free(*m.span()):
            found.append(_Found(m.start(), m.end(), int(m[1]), int(m[3]), _full_year(int(m[4]))))
            taken.append(m.span())
    for m in _WORD_DATE_NO_YEAR.finditer(s):
        if free(*m.span()):
            found.append(_Found(m.start(), m.end(), int(m[1]), int(m[2]), None))
            taken.append(m.span())
    for m in _DAY_MONTH.finditer(s):
        if not free(*m.span()):
            continue
        before = s[: m.start()]
        whole = not before.strip() and not s[m.end():].strip(" .;,)")
        if _DAY_CUE.search(before) or whole:
            found.append(_Found(m.start(), m.end(), int(m[1]), int(m[3]), None))
            taken.append(m.span())
    found.sort(key=lambda f: f.start)
    return found


class _Context:
    """Year inference for texts that omit the year."""

    def __init__(self, plan_year: int | None, issued_on: dt.date | None) -> None:
        self.plan_year = plan_year
        self.issued_on = issued_on
        self.flags: list[str] = []
        self.notes: list[str] = []

    @property
    def year(self) -> int | None:
        if self.plan_year is not None:
            return self.plan_year
        return self.issued_on.year if self.issued_on else None

    def assume(self, what: str, build) -> dt.date | None:
        """Date built from the assumed year; rolled to next year if before issue."""
        y = self.year
        if y is None:
            return None
        d = build(y)
        source = "năm kế hoạch" if self.plan_year is not None else "năm ban hành"
        if self.issued_on is not None and d < self.issued_on:
            d2 = build(y + 1)
            self._flag("year_assumed", "year_rolled")
            self.notes.append(
                f"{what} không ghi năm; lấy năm {y + 1} vì ngày {vn.date(d)} "
                f"đã qua khi ban hành kế hoạch ({vn.date(self.issued_on)})."
            )
            return d2
        self._flag("year_assumed")
        self.notes.append(f"{what} không ghi năm; lấy năm {y} ({source}).")
        return d

    def _flag(self, *flags: str) -> None:
        for f in flags:
            if f not in self.flags:
                self.flags.append(f)


def _strip_label(s: str) -> str:
    return s.strip(" \t\n-–—•+;,.:").strip()


def _recurrence(s: str) -> tuple[str | None, str]:
    """Recurrence code of a recurring text, and a note when it has no code."""
    low = s.lower()
    tail = low
    if m := re.search(r"h[ằà]ng|định\s*kỳ|mỗi", low):
        tail = low[m.start():]
    if _REC_YEAR.search(low) and not _REC_MONTH.search(tail) and not _REC_QUARTER.search(tail):
        return "yearly", ""
    if m := _REC_OTHER.search(tail):
        what = f"{m[1]} tháng" if m[1] else "hằng tuần"
        if m[1] and int(m[1]) == 1:
            return "monthly", ""
        if m[1] and int(m[1]) == 3:
            return "quarterly", ""
        if m[1] and int(m[1]) == 12:
            return "yearly", ""
        if m[1] and int(m[1]) == 6:
            return "half_yearly", ""
        if not m[1]:
            return "weekly", ""
        return None, f"Định kỳ {what}: chu kỳ này chưa có trong danh mục chu kỳ."
    has_month = bool(_REC_MONTH.search(tail))
    has_quarter = bool(_REC_QUARTER.search(tail))
    if has_month and has_quarter:
        return "monthly_quarterly", ""
    if has_month:
        return "monthly", ""
    if has_quarter:
        return "quarterly", ""
    if re.search(r"năm", tail):
        return "yearly", ""
    return None, "Định kỳ nhưng không ghi chu kỳ."


def _verbatim(value: object) -> str:
    if isinstance(value, dt.datetime):
        return vn.date(value.date()) if value.time() == dt.time() else vn.datetime(value)
    if isinstance(value, dt.date):
        return vn.date(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def parse_deadline(
    text: str | dt.date | dt.datetime | int | float | None,
    *,
    plan_year: int | None = None,
    issued_on: dt.date | None = None,
) -> Deadline:
    """Read a deadline cell. See the module docstring and docs/deadlines.md."""
    if isinstance(issued_on, dt.datetime):
        issued_on = issued_on.date()
    if plan_year is not None and not isinstance(plan_year, int):
        # The settings sheet may hold "2024" or 2024.0.
        try:
            plan_year = int(float(str(plan_year).strip()))
        except ValueError:
            plan_year = None
    return _parse_cached(text, plan_year, issued_on)


@lru_cache(maxsize=65536, typed=True)
def _parse_cached(value: object, plan_year: int | None, issued_on: dt.date | None) -> Deadline:
    raw = _verbatim(value)
    if value is None:
        return Deadline(raw, "none")
    if isinstance(value, dt.datetime):
        return Deadline(raw, "date", due=value.date())
    if isinstance(value, dt.date):
        return Deadline(raw, "date", due=value)
    if isinstance(value, bool):
        return Deadline(raw, "unknown", flags=("unparsed",), note=_NOTE_UNPARSED)
    if isinstance(value, numbers.Real):
        f = float(value)
        if math.isnan(f):
            return Deadline("", "none")
        if f.is_integer() and 1900 <= f <= 2100:  # a year typed as a number: "2022"
            y = int(f)
            return Deadline(raw, "year", due=dt.date(y, 12, 31), start=dt.date(y, 1, 1))
        try:
            return Deadline(raw, "date", due=excel_serial_to_date(f))
        except ValueError as e:
            return Deadline(raw, "unknown", flags=("unparsed",), note=str(e))
    return _parse_text(str(value), raw, _Context(plan_year, issued_on))


def _done(raw: str, kind: str, ctx: _Context, **kw) -> Deadline:
    flags = tuple(ctx.flags) + tuple(kw.pop("flags", ()))
    note = " ".join([*ctx.notes, kw.pop("note", "")]).strip()
    return Deadline(raw, kind, flags=flags, note=note, **kw)


def _parse_text(original: str, raw: str, ctx: _Context) -> Deadline:
    s = normalize_text(original)
    for ch in _DASH[1:]:
        s = s.replace(ch, "-")
    s = _QUI.sub("quý", s.strip(" .;,"))
    if not s:
        return Deadline(raw, "none")

    dates = _find_dates(s)
    full = [f for f in dates if f.year is not None]

    # An explicit list of dated milestones wins over everything else.
    if len(full) >= 2 and not (len(full) == 2 and _RANGE_LINK.fullmatch(s[full[0].end: full[1].start])):
        return _milestones(s, raw, full, ctx)

    # Milestones written as periods, one per clause: "Tháng 6/2026 (sơ kết); tháng 12/2026 (tổng kết)".
    if (found := _period_milestones(s, raw, ctx)) is not None:
        return found
    if (found := _then_yearly(s, raw, ctx)) is not None:
        return found
    if (found := _conditional_period(s, raw, ctx)) is not None:
        return found

    # Someone else's schedule. A leading "Theo …" is external even if it cites a
    # dated document ("Theo Kế hoạch số 62/KH-STNMT ngày 08/5/2024").
    if _EXTERNAL_START.match(s) and not re.match(r"theo\s+yêu\s+cầu", s, _I):
        return _done(raw, "external", ctx, note=_NOTE_EXTERNAL)

    if _CONTINUOUS.search(s) and not _RECURRING.search(s):
        return _done(raw, "continuous", ctx)
    if _RECURRING.search(s):
        rec, note = _recurrence(s)
        due = None
        if full:
            try:
                due = _make_date(full[-1].day, full[-1].month, full[-1].year)  # type: ignore[arg-type]
            except ValueError as e:
                return _invalid(raw, ctx, str(e))
        flags = ("recurrence_unlisted",) if rec is None else ()
        return _done(raw, "recurring", ctx, recurrence=rec, due=due, flags=flags, note=note)

    if _RELATIVE.search(s):
        # "05 ngày làm việc kể từ ngày 01/6/2024" can be computed.
        if len(full) == 1 and (m := _N_DAYS_FROM_DATE.search(s[: full[0].start])):
            try:
                base = _make_date(full[0].day, full[0].month, full[0].year)  # type: ignore[arg-type]
            except ValueError as e:
                return _invalid(raw, ctx, str(e))
            n = int(m[1])
            if m[2]:
                from kehoach_xl.rules.workdays import add_working_days

                due = add_working_days(base, n)
                how = f"{n} ngày làm việc"
            else:
                due = base + dt.timedelta(days=n)
                how = f"{n} ngày"
            return _done(raw, "date", ctx, due=due, start=base, flags=("computed",),
                         note=f"Hạn tính bằng {how} kể từ ngày {vn.date(base)}.")
        return _done(raw, "relative", ctx, note=_NOTE_RELATIVE)

    if _EXTERNAL_ANY.search(s) and not full:
        return _done(raw, "external", ctx, note=_NOTE_EXTERNAL)

    if m := _YEAR_RANGE.search(s):
        y1, y2 = int(m[1]), int(m[2])
        if y1 < y2:
            return _done(raw, "year_range", ctx, start=dt.date(y1, 1, 1), due=dt.date(y2, 12, 31))

    if full:
        return _dates(s, raw, full, ctx)

    if m := _HALF_YEAR.search(s):
        # "6 tháng đầu năm 2024": no kind of its own; it ends with a month.
        first = m[2].lower() == "đầu"
        month = 6 if first else 12
        if m[3]:
            due = _month_end(int(m[3]), month)
        else:
            due = ctx.assume(f"“{m[0]}”", lambda y: _month_end(y, month))
            if due is None:
                return _year_missing(raw, ctx)
        return _done(raw, "month", ctx, start=dt.date(due.year, 1 if first else 7, 1), due=due,
                     note=f"Hạn là ngày cuối của {'6 tháng đầu năm' if first else '6 tháng cuối năm'}.")

    if dates:  # day and month only
        f = dates[-1]
        try:
            _make_date(f.day, f.month, 2000)  # leap year: 29/02 is allowed until a year is known
        except ValueError as e:
            return _invalid(raw, ctx, str(e).replace("/2000", "").replace(" năm 2000", ""))
        try:
            due = ctx.assume(f"Ngày {f.day:02d}/{f.month:02d}", lambda y: _make_date(f.day, f.month, y))
        except ValueError as e:
            return _invalid(raw, ctx, str(e))
        if due is None:
            return _year_missing(raw, ctx)
        return _done(raw, "date", ctx, due=due)

    if m := re.search(r"quý\s*(\d+)(?!\d)", s, _I):
        if not 1 <= int(m[1]) <= 4:
            return _invalid(raw, ctx, f"Quý {m[1]} không hợp lệ.")
    for pattern, kind in ((_QUARTER, "quarter"), (_MONTH, "month")):
        if pattern.search(s):
            return _periods(s, raw, pattern, kind, ctx)
    if m := _BARE_MONTH.match(s):
        return _periods(f"tháng {m[1]}/{m[2]}", raw, _MONTH, "month", ctx)

    if m := _YEAR.search(s):
        y = int(m[1])
        return _done(raw, "year", ctx, start=dt.date(y, 1, 1), due=dt.date(y, 12, 31))
    if _YEAR_NO_NUMBER.match(s):
        due = ctx.assume("Thời hạn “trong năm”", lambda y: dt.date(y, 12, 31))
        if due is None:
            return _year_missing(raw, ctx)
        return _done(raw, "year", ctx, start=dt.date(due.year, 1, 1), due=due)

    return _done(raw, "unknown", ctx, flags=("unparsed",), note=_NOTE_UNPARSED)


def _clauses(s: str) -> list[str]:
    """A cell cut at ";" and at sentence ends (". " before a capital letter)."""
    out: list[str] = []
    for part in s.split(";"):
        start = 0
        for m in re.finditer(r"\.\s+(?=[^\W\d_])", part):
            if part[m.end()].isupper():
                out.append(part[start:m.start()])
                start = m.end()
        out.append(part[start:])
    return [c.strip(" .,-") for c in out if c.strip(" .,-")]


def _dated(text: str) -> Deadline | None:
    """The period a clause names with its year written ("Tháng 6/2026 (sơ kết)", "trong Quý II/2026"), else None."""
    d = _parse_text(text, text, _Context(None, None))
    if d.kind in _PERIOD_KINDS and d.due is not None and "year_assumed" not in d.flags:
        return d
    if (c := _conditional_period(normalize_text(text), text, _Context(None, None))) is not None:
        return c
    return None


def _period_milestones(s: str, raw: str, ctx: _Context) -> Deadline | None:
    """Two or more clauses that each name a dated period: each is a milestone, the last one is due.

    A clause with no date of its own ("Cập nhật thường xuyên") is no milestone and is named in
    the note, so nothing of the text is lost.
    """
    clauses = _clauses(s)
    if len(clauses) < 2:
        return None
    items: list[tuple[dt.date, str]] = []
    undated: list[str] = []
    for c in clauses:
        d = _dated(c)
        if d is None:
            undated.append(c)
        else:
            items.append((d.due, c))  # type: ignore[arg-type]
    if len(items) < 2:
        return None
    items.sort(key=lambda it: it[0])
    note = f"Các mốc: {'; '.join(f'{lbl} → {vn.date(d)}' for d, lbl in items)}."
    flags: tuple[str, ...] = ()
    if undated:
        flags = ("undated_part",)
        note += f" Phần không ghi mốc thời gian: {'; '.join(repr(u) for u in undated)}."
    return _done(raw, "milestones", ctx, due=items[-1][0], milestones=tuple(items), flags=flags, note=note)


def _then_yearly(s: str, raw: str, ctx: _Context) -> Deadline | None:
    """ "2026 và hằng năm", "Quý II/2026 và các năm tiếp theo": due at the first period, then yearly."""
    m = _THEN_YEARLY.match(s)
    if not m or _CONTINUOUS.search(m["first"]) or _RECURRING.search(m["first"]):
        return None
    first = _parse_text(m["first"], m["first"], ctx)
    if first.kind not in _PERIOD_KINDS or first.due is None:
        return None
    return _done(raw, "recurring", ctx, recurrence="yearly", due=first.due, start=first.start,
                 flags=("first_due",), note=f"Hạn lần đầu {vn.date(first.due)}, sau đó hằng năm.")


def _conditional_period(s: str, raw: str, ctx: _Context) -> Deadline | None:
    """ "Năm 2026 (sau khi Chính phủ ban hành Nghị định …)": the dated period, the condition in the note.

    Only when the period carries its own year; the condition is kept word for word in the note.
    """
    m = _BRACKETED.match(s)
    if not m or not _RELATIVE.search(m["cond"]):
        return None
    d = _parse_text(m["period"], m["period"], _Context(None, None))
    if d.kind not in _PERIOD_KINDS or d.due is None or "year_assumed" in d.flags:
        return None
    return _done(raw, d.kind, ctx, due=d.due, start=d.start, flags=("conditional",),
                 note=f"Hạn theo mốc ghi trong văn bản, kèm điều kiện: “{m['cond'].strip()}”.")


def _periods(s: str, raw: str, pattern: re.Pattern[str], kind: str, ctx: _Context) -> Deadline:
    """Months or quarters, one or several ("Quý II, III/2024"): from the first to the last.

    A year written after a list applies to the whole list; a mention with no
    year anywhere takes the plan year.
    """
    spans: list[tuple[int, int | None]] = []  # (number, year)
    for m in pattern.finditer(s):
        year = int(m[2]) if m[2] else None
        for token in re.findall(r"iv|iii|ii|i|\d+", m[1], _I):
            n = _ROMAN.get(token.lower()) or int(token)
            spans.append((n, year))
    word = "Quý" if kind == "quarter" else "Tháng"
    limit = 4 if kind == "quarter" else 12
    for n, _ in spans:
        if not 1 <= n <= limit:
            return _invalid(raw, ctx, f"{word} {n} không hợp lệ.")
    # Carry a year backwards over the list it closes ("tháng 6 - 9/2024").
    carried: list[tuple[int, int | None]] = []
    later: int | None = None
    for n, year in reversed(spans):
        later = year if year is not None else later
        carried.append((n, later))
    carried.reverse()

    def bounds(n: int, y: int) -> tuple[dt.date, dt.date]:
        if kind == "quarter":
            return dt.date(y, n * 3 - 2, 1), _quarter_end(y, n)
        return dt.date(y, n, 1), _month_end(y, n)

    ranges = []
    for n, year in carried:
        if year is None:
            end = ctx.assume(f"{word} {n}", lambda y, n=n: bounds(n, y)[1])
            if end is None:
                return _year_missing(raw, ctx)
            year = end.year
        ranges.append(bounds(n, year))
    start = min(r[0] for r in ranges)
    due = max(r[1] for r in ranges)
    return _done(raw, kind, ctx, start=start, due=due)


def _invalid(raw: str, ctx: _Context, message: str) -> Deadline:
    return _done(raw, "unknown", ctx, flags=("invalid_date",),
                 note=f"{message} Cần sửa lại thời hạn; chương trình không tự đoán ngày.")


def _year_missing(raw: str, ctx: _Context) -> Deadline:
    return _done(raw, "unknown", ctx, flags=("year_missing",), note=_NOTE_YEAR_MISSING)


def _dates(s: str, raw: str, full: list[_Found], ctx: _Context) -> Deadline:
    """One date, or a 'từ … đến …' span of two."""
    try:
        built = [_make_date(f.day, f.month, f.year) for f in full]  # type: ignore[arg-type]
    except ValueError as e:
        return _invalid(raw, ctx, str(e))
    if len(built) == 1:
        return _done(raw, "date", ctx, due=built[0])
    start, due = built[0], built[-1]
    if start > due:
        return _done(raw, "date", ctx, due=max(built), flags=("ambiguous",),
                     note="Khoảng thời gian có ngày bắt đầu sau ngày kết thúc; lấy ngày muộn hơn làm hạn.")
    return _done(raw, "date", ctx, start=start, due=due)


def _milestones(s: str, raw: str, full: list[_Found], ctx: _Context) -> Deadline:
    items: list[tuple[dt.date, str]] = []
    prefix = re.compile(r"(?:[-•+;]\s*)?(?:(?:đến|trước|hạn|chậm nhất|hoàn thành trước)\s*)?(?:ngày\s*)?$", _I)
    starts = []
    for f in full:
        m = prefix.search(s[: f.start])
        starts.append(m.start() if m else f.start)
    for i, f in enumerate(full):
        try:
            d = _make_date(f.day, f.month, f.year)  # type: ignore[arg-type]
        except ValueError as e:
            return _invalid(raw, ctx, str(e))
        end = starts[i + 1] if i + 1 < len(full) else len(s)
        items.append((d, _strip_label(s[f.end:end])))
    items.sort(key=lambda it: it[0])
    return _done(raw, "milestones", ctx, due=items[-1][0], start=None, milestones=tuple(items))
