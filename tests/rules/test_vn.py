"""The Vietnamese locale module: dates, periods, numbers, percentages, names mid-sentence."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from kehoach_xl import vn
from kehoach_xl.errors import SetupError
from kehoach_xl.reports.figures import _num
from kehoach_xl.rules.validate import read_number
from kehoach_xl.rules.values import clean_text, parse_percent

D = dt.date


# --- dates ---------------------------------------------------------------------------


def test_date() -> None:
    assert vn.date(D(2024, 2, 9)) == "09/02/2024"
    assert vn.date(dt.datetime(2024, 12, 31, 23, 59)) == "31/12/2024"
    assert vn.date(None) == ""
    assert vn.date("2024-06-05") == "05/06/2024"  # as JSON holds it
    assert vn.date("2024-06-05T08:00:00") == "05/06/2024"
    assert vn.date("Quý III/2024") == "Quý III/2024"  # text that is not a date is left alone


def test_datetime() -> None:
    t = dt.datetime(2024, 6, 5, 8, 7, 9)
    assert vn.datetime(t) == "05/06/2024 08:07"
    assert vn.datetime(t, seconds=True) == "05/06/2024 08:07:09"
    assert vn.datetime(D(2024, 6, 5)) == "05/06/2024 00:00"
    assert vn.datetime(None) == ""


@pytest.mark.parametrize(("value", "expected"), [
    ("05/06/2024", D(2024, 6, 5)), ("5/6/24", D(2024, 6, 5)), ("05-06-2024", D(2024, 6, 5)),
    ("05.06.2024", D(2024, 6, 5)), ("2024-06-05", D(2024, 6, 5)), (45448, D(2024, 6, 5)),
    (dt.datetime(2024, 6, 5, 9), D(2024, 6, 5)), ("", None), (None, None), (math.nan, None),
])
def test_parse_date(value: object, expected: D | None) -> None:
    assert vn.parse_date(value) == expected


@pytest.mark.parametrize("value", ["31/02/2024", "5/13/2024", "hôm qua", True, 12])
def test_parse_date_refuses_in_vietnamese(value: object) -> None:
    with pytest.raises(ValueError, match="[Nn]gày|Số"):
        vn.parse_date(value)


def test_parse_date_reads_what_date_writes() -> None:
    d = D(2024, 2, 29)
    assert vn.parse_date(vn.date(d)) == d


# --- numbers -------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "text"), [(0, "0"), (7, "7"), (1234, "1.234"), (1234567, "1.234.567"),
                                         (-1234, "-1.234"), (999, "999"), (1234.6, "1.235"), (None, "")])
def test_integer(n: int | float | None, text: str) -> None:
    assert vn.integer(n) == text


def test_integer_without_grouping() -> None:
    assert vn.integer(2024, grouping=False) == "2024"


@pytest.mark.parametrize(("x", "kwargs", "text"), [
    (6.39, {}, "6,39"), (6.391, {}, "6,39"), (6.3, {}, "6,3"), (5.0, {}, "5"), (5, {}, "5"),
    (1234.5, {}, "1.234,5"), (-1234.5, {}, "-1.234,5"), (-0.42, {}, "-0,42"), (1234567.891, {}, "1.234.567,89"),
    (1234, {}, "1.234"), (-0.001, {}, "0"), (33.333, {"decimals": 1}, "33,3"), (62.5, {"decimals": 0}, "62"),
    (0.30000000000000004, {"decimals": None}, "0,30000000000000004"), (1234.5, {"decimals": None}, "1.234,5"),
    (1234.5, {"grouping": False}, "1234,5"), (2024.0, {"decimals": None, "grouping": False}, "2024"),
    (None, {}, ""),
])
def test_number(x: float | None, kwargs: dict, text: str) -> None:
    assert vn.number(x, **kwargs) == text


@pytest.mark.parametrize(("x", "text"), [(33.333, "33,3%"), (50, "50%"), (50.0, "50%"), (25.04, "25%"),
                                         (0.5, "0,5%"), (100, "100%"), (99.96, "100%"), (66.65, "66,7%"),
                                         (62.5, "62,5%"), (0, "0%"), (None, "")])
def test_percent_one_style(x: float | None, text: str) -> None:
    assert vn.percent(x) == text


def test_percent_without_sign_for_templates() -> None:
    assert vn.percent(33.333, sign=False) == "33,3"
    assert vn.percent(None, sign=False) == ""


# parse_number: every form the three old readers took (validate.read_number, figures._num and the
# number part of values.parse_percent), and the Vietnamese forms none of them took.
@pytest.mark.parametrize(("value", "expected"), [
    (6.39, 6.39), (80, 80.0), (0, 0.0),
    ("80", 80.0), ("6,39", 6.39), ("6.39", 6.39), ("-2,5", -2.5), ("+3", 3.0), ("−4", -4.0),
    ("80%", 80.0), ("80 %", 80.0), ("0,5%", 0.5), ("0.5 %", 0.5), ("62,5", 62.5),
    ("1.234,5", 1234.5), ("1.234.567", 1234567.0), ("1.234.567,25", 1234567.25), ("1 234", 1234.0),
    ("1,234.5", 1234.5), ("  6,39 ", 6.39), ("6,39\u00a0", 6.39),
    ("1.234", 1.234),  # a single separator is the decimal mark, dot or comma alike
    ("1,234", 1.234),
    (None, None), ("", None), ("   ", None), (math.nan, None),
])
def test_parse_number(value: object, expected: float | None) -> None:
    assert vn.parse_number(value) == expected


@pytest.mark.parametrize("value", ["abc", "1.2.3", "80 phần", "6,39 điểm", "1,2,3", "--5", "%", True, "1e3"])
def test_parse_number_refuses_in_vietnamese(value: object) -> None:
    with pytest.raises(ValueError, match="không phải số"):
        vn.parse_number(value)


def test_number_round_trips_through_parse_number() -> None:
    for x in (6.39, -1234.5, 1234567.25, 0.5, 100.0):
        assert vn.parse_number(vn.number(x)) == x


def test_the_three_old_readers_read_through_parse_number() -> None:
    # validate.read_number: (number, was_text)
    assert read_number("6,39") == (6.39, True)
    assert read_number("80%") == (80.0, True)
    assert read_number("1.234,5") == (1234.5, True)
    assert read_number(7) == (7.0, False)
    assert read_number("xx") == (None, True)
    assert read_number(None) == (None, False) and read_number(True) == (None, False)
    assert read_number(math.nan) == (None, False)
    # figures._num: None when empty or unreadable
    assert _num("6,39") == 6.39 and _num("1.234,5") == 1234.5 and _num(2023) == 2023.0
    assert _num("") is None and _num(None) is None and _num("n/a") is None
    # values.parse_percent: a percent 0–100
    assert parse_percent("0,5%") == 0.5 and parse_percent("62,5") == 62.5 and parse_percent("0,8") == 80
    with pytest.raises(ValueError, match="ngoài khoảng"):
        parse_percent("120,5")
    with pytest.raises(ValueError, match="không phải tiến độ"):
        parse_percent("-5")


def test_value_as_a_message_or_the_log_shows_it() -> None:
    assert vn.value(None) == ""
    assert vn.value(True) == "Đúng" and vn.value(False) == "Sai"
    assert vn.value(D(2024, 6, 5)) == "05/06/2024"
    assert vn.value(dt.datetime(2024, 6, 5)) == "05/06/2024"
    assert vn.value(dt.datetime(2024, 6, 5, 14, 30)) == "05/06/2024 14:30"
    assert vn.value(dt.datetime(2024, 6, 5, 14, 30, 7)) == "05/06/2024 14:30:07"
    assert vn.value(62.5) == "62,5" and vn.value(60.0) == "60" and vn.value(2024) == "2024"
    assert vn.value(1234.5) == "1234,5"  # a stored value, not a report figure: no thousands dot
    assert vn.value("Hoàn thành") == "Hoàn thành"
    assert clean_text(6.5) == "6,5" and clean_text(D(2024, 6, 5)) == "05/06/2024"


# --- periods -------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["2024-5", "2024-05", "05/2024", "5/2024", "tháng 5/2024", D(2024, 5, 31)])
def test_periods(raw: object) -> None:
    assert vn.parse_period(raw) == "2024-05"
    assert vn.period_label(raw) == "05/2024"
    assert vn.period_ym(raw) == (2024, 5)
    assert vn.period_bounds(raw) == (D(2024, 5, 1), D(2024, 5, 31))


def test_period_errors() -> None:
    with pytest.raises(SetupError, match="Kỳ báo cáo"):
        vn.parse_period("13/2024")
    assert vn.try_parse_period("ghi chú") is None
    assert vn.period_bounds("2024-12") == (D(2024, 12, 1), D(2024, 12, 31))


# --- names mid-sentence --------------------------------------------------------------


def test_names_mid_sentence() -> None:
    assert vn.vn_list(["a", "b", "c"]) == "a, b và c"
    assert vn.vn_list(["a", None, ""]) == "a"
    assert vn.vn_list([]) == ""
    assert vn.lower_first("Kế hoạch nâng cao") == "kế hoạch nâng cao"
    assert vn.lower_first("DDCI năm 2024") == "DDCI năm 2024"
    assert vn.mid_sentence("Các phòng, đơn vị") == "các phòng, đơn vị"
    assert vn.mid_sentence("Văn phòng Sở") == "Văn phòng Sở"


# --- Excel formats and the template filters ------------------------------------------


def test_excel_formats() -> None:
    assert vn.DATE_FORMAT == "dd/mm/yyyy" and vn.DATETIME_FORMAT == "dd/mm/yyyy hh:mm"
    assert vn.DECIMAL_FORMAT.startswith("[$-42A]") and vn.PERCENT_FORMAT.startswith("[$-42A]")


def test_template_filters_are_the_locale_module() -> None:
    from kehoach_xl.reports.render import environment

    f = environment().filters
    assert f["vn_date"] is vn.date and f["vn_num"] is vn.number and f["vn_percent"] is vn.percent
    assert f["vn_int"] is vn.integer and f["vn_list"] is vn.vn_list
    assert f["lower_first"] is vn.lower_first and f["mid"] is vn.mid_sentence
    t = environment().from_string("{{ d | vn_date }} {{ x | vn_num }} {{ p | vn_percent }} {{ n | vn_int }}")
    assert t.render(d=D(2024, 6, 5), x=6.39, p=100 / 3, n=12345) == "05/06/2024 6,39 33,3% 12.345"
