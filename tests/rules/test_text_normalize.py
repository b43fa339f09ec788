"""normalize_text's shortcut for clean texts gives exactly what the full normalisation gives."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from kehoach_xl.text import _normalize, _normalize_full, normalize_text

# Every character the steps treat specially, among ordinary Vietnamese letters (composed and not).
_TRICKY = list(" \t\n\r\x0b\x0c\x00\x1f\x1c\x85\u00a0\u2007\u202f\u3000\u2009\u2028\u200b\u200c\u200d\u2060\ufeff"
               "\u00ad") + ["a", "b", "ệ", "ư", "Đ", "e\u0302\u0323", "o\u031b", ".", ";", "1"]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_TRICKY), max_size=14).map("".join), st.booleans())
def test_the_shortcut_agrees_with_the_full_normalisation(text: str, keep: bool) -> None:
    assert _normalize(text, keep) == _normalize_full(text, keep)


def test_clean_texts_come_back_as_they_are_and_dirty_ones_are_cleaned() -> None:
    clean = "Sở Kế hoạch và Đầu tư; hoàn thành 40%"
    assert normalize_text(clean) is clean or normalize_text(clean) == clean
    decomposed = unicodedata.normalize("NFD", clean)
    assert normalize_text(decomposed) == clean
    assert normalize_text(" Sở\u00a0Tư  pháp\u200b ") == "Sở Tư pháp"
    assert normalize_text("Kết quả\r\n\n  dòng hai ", keep_newlines=True) == "Kết quả\ndòng hai"
    assert normalize_text("dòng một\ndòng hai", keep_newlines=True) == "dòng một\ndòng hai"
