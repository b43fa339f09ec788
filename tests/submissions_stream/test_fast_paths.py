"""The shortcuts that make reading a submission fast decide exactly what the long way decides.

- the streamed counter (``xlsx_limits.PartCounter``) scans with literal-prefixed patterns when no
  prefixed tag name can match: the same counts and maxima as the general patterns, on any bytes cut
  into any chunks;
- the per-cell length check over a parsed sheet is skipped when every text the reader did not
  measure as it read is short enough: texts that are too long are still refused, and named, the
  way openpyxl's full load refuses them.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from kehoach_xl.io.xlsx_limits import PartCounter, column_index
from kehoach_xl.model.config import LimitsConfig
from kehoach_xl.model.submission import SubmissionRejected
from tests.submissions_stream import crafted as x
from tests.submissions_stream.compare import read

ROOT = Path(__file__).resolve().parents[2]

# The counter as it was before the fast patterns: the reference the fast one must match.
_CELL = re.compile(rb"<(?:\w+:)?c[\s/>]")
_ROW = re.compile(rb"<(?:\w+:)?row[\s/>]")
_ROW_REF = re.compile(rb"<(?:\w+:)?row\s[^>]{0,200}?\br=\"(\d{1,9})\"")
_CELL_REF = re.compile(rb"<(?:\w+:)?c\s[^>]{0,200}?\br=\"\$?([A-Za-z]{1,4})\$?(\d{1,9})\"")
_SI = re.compile(rb"<(?:\w+:)?si[\s/>]")


class _Reference(PartCounter):
    def feed(self, chunk: bytes) -> None:
        buf = self._tail + chunk
        if self.sheet:
            self.cells += len(_CELL.findall(buf)) - len(_CELL.findall(self._tail))
            self.rows += len(_ROW.findall(buf)) - len(_ROW.findall(self._tail))
            for m in _ROW_REF.finditer(buf):
                self.max_row = max(self.max_row, int(m.group(1)))
            for m in _CELL_REF.finditer(buf):
                self.max_col = max(self.max_col, column_index(m.group(1)))
                self.max_row = max(self.max_row, int(m.group(2)))
        else:
            self.strings += len(_SI.findall(buf)) - len(_SI.findall(self._tail))
        self._tail = buf[-256:]


def _counts(counter: PartCounter, data: bytes, cuts: list[int]) -> tuple[int, ...]:
    start = 0
    for end in [*cuts, len(data)]:
        counter.feed(data[start:end])
        start = end
    return counter.cells, counter.rows, counter.max_row, counter.max_col, counter.strings


_PIECES = [b"<c ", b"<c>", b"<c/>", b"<c\t", b"<c\n", b"</c>", b"<x:c ", b"<x:c>", b"<ab_1:c/", b"<x:row ",
           b"<row ", b"<row>", b"<row/>", b"</row>", b"<rowx ", b"<cc ", b'r="', b' r="', b'r="$A$', b'r="a',
           b'r="ZZZ', b'r="AAAAA', b"1", b"0", b"9", b'007"', b"123456789", b"1234567890", b'"', b" ", b"s=\"1\" ",
           b"t=\"inlineStr\"", b">", b"<", b"/>", b"<si>", b"<si ", b"<x:si>", b"</si>", b":c ", b":row>", b"<v>",
           b"</v>", b"&#193;", b"x" * 50, b"\xc3\xa1"]


@pytest.mark.parametrize("seed", range(40))
def test_the_counter_counts_as_the_general_patterns_do(seed):
    rng = random.Random(seed)
    data = b"".join(rng.choice(_PIECES) for _ in range(rng.randrange(50, 4000)))
    for sheet in (True, False):
        for _ in range(4):
            cuts = sorted(rng.sample(range(1, len(data)), k=min(len(data) - 1, rng.randrange(0, 30))))
            assert _counts(PartCounter(sheet=sheet), data, cuts) == _counts(_Reference(sheet=sheet), data, cuts)


def test_the_counter_on_real_sheets_and_with_a_prefix():
    """Workbooks as Excel and this program write them, and the same parts with every tag prefixed."""
    parts = [x.sheet(*(x.row(r, x.c(f"A{r}", "<v>1</v>"), x.c(f"AB{r}", s="1")) for r in range(1, 400))).encode()]
    parts.append(re.sub(rb"<(/?)(\w+)([\s/>])", rb"<\1x:\2\3", parts[0]))
    parts.append(parts[0][: len(parts[0]) // 2] + b"<x:c r=\"ZZ9000\"/>" + parts[0][len(parts[0]) // 2:])
    for data in parts:
        for size in (1 << 16, 1000, 97):
            cuts = list(range(size, len(data), size))
            new, ref = _counts(PartCounter(), data, cuts), _counts(_Reference(), data, cuts)
            assert new == ref and new[0] >= 798


_LIMIT = LimitsConfig(max_cell_chars=50)
_LONG = "Ừ" * 60


def _refusals(data: bytes) -> tuple[SubmissionRejected, SubmissionRejected]:
    old = read(None, data=data, limits=_LIMIT, stream=False)
    new = read(None, data=data, limits=_LIMIT, stream=True, fallback=True)
    assert isinstance(old, SubmissionRejected) and isinstance(new, SubmissionRejected), (old, new)
    assert old.problem.to_dict() == new.problem.to_dict()
    return old, new


@pytest.mark.parametrize("cell", [
    x.c("D4", f"<v>{_LONG}</v>", t="e"),  # an error code is kept as its text
    x.c("D4", f"<v>{_LONG}</v>", t="str"),  # a formula's cached text, without its formula
    x.c("D4", "<f>" + "A1+" * 20 + "1</f>"),  # a formula's own text
])
def test_a_long_text_not_measured_while_reading_is_still_refused_and_named(cell):
    data = x.book([("S", x.sheet(x.row(1, x.c("A1", "<v>1</v>")), x.row(4, cell)))])
    _, new = _refusals(data)
    assert new.problem.sheet == "S" and new.problem.cell == "D4" and "50 ký tự" in new.problem.message


def test_a_long_hyperlink_target_written_into_an_empty_cell_is_refused_and_named():
    data = x.book([("S", x.sheet(x.row(1, x.c("A1", "<v>1</v>")),
                                 tail=f'<hyperlinks><hyperlink ref="B3" location="S!A1{"x" * 60}"/></hyperlinks>'))])
    _, new = _refusals(data)
    assert new.problem.cell == "B3"


def test_texts_at_the_limit_are_read():
    ok = "Ừ" * 50
    data = x.book([("S", x.sheet(x.row(1, x.c("A1", f"<v>{ok}</v>", t="e"), x.c("B1", f"<is><t>{ok}</t></is>", t="inlineStr"))))])
    new = read(None, data=data, limits=_LIMIT, stream=True)
    old = read(None, data=data, limits=_LIMIT, stream=False)
    assert not isinstance(new, SubmissionRejected) and not isinstance(old, SubmissionRejected)
    assert new.sheets["S"] == old.sheets["S"] == [[ok, ok]]


_CHARS = ["a", "Ừ", "7", "٣", "²", " ", "\t", "\n", "\u00a0", "\u3000", "\u200b", "\ufeff", "\u00ad", "\x01", "\x1f",
          "\u0301", "e\u0301", "-", "_", "\r", "\u2028", "\x85", "Ⅻ", "ǅ"]


@pytest.mark.parametrize("seed", range(5))
def test_filled_says_what_blank_says(seed):
    from kehoach_xl.io.submission import _filled
    from kehoach_xl.rules.values import _blank

    rng = random.Random(seed)
    values = [None, 0, 0.0, "", True] + ["".join(rng.choices(_CHARS, k=rng.randrange(0, 6))) for _ in range(3000)]
    values += [c + "x" * 80 for c in _CHARS] + [c * 70 for c in _CHARS]
    assert [_filled(v) for v in values] == [not _blank(v) for v in values]
