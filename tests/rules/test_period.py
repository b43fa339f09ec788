"""One reporting-period parser for every command: padded YYYY-MM, Vietnamese SetupError otherwise."""

from __future__ import annotations

import datetime as dt

import pytest

from kehoach_xl.errors import SetupError
from kehoach_xl.vn import parse_period, period_bounds, period_label


@pytest.mark.parametrize("raw", ["2024-5", "2024-05", "05/2024", "5/2024", " 2024-05 ", "Tháng 5/2024"])
def test_every_accepted_form_is_padded(raw):
    assert parse_period(raw) == "2024-05"


@pytest.mark.parametrize("raw", ["2024-13", "13/2024", "2024", "xx", "", None, "2024-05-01", "0/2024"])
def test_bad_periods_raise_setup_error_in_vietnamese(raw):
    with pytest.raises(SetupError, match="Kỳ báo cáo"):
        parse_period(raw)


def test_label_and_bounds():
    assert period_label("2024-5") == "05/2024"
    assert period_bounds("2024-02") == (dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    assert period_bounds("12/2024") == (dt.date(2024, 12, 1), dt.date(2024, 12, 31))
