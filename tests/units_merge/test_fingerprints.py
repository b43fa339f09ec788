"""The fingerprints a unit's workbook was issued with, packed per task (model/submission.Fingerprints)."""

from __future__ import annotations

import sys

import pytest

from kehoach_xl.model.submission import Fingerprints
from kehoach_xl.rules.signing import value_hash


def test_packed_fingerprints_read_as_the_strings_issued() -> None:
    issued = {"status": value_hash("Đang thực hiện"), "progress": value_hash(60), "result": value_hash(None)}
    packed = Fingerprints.pack(issued)
    assert isinstance(packed, Fingerprints)
    assert dict(packed) == issued and list(packed) == list(issued) and len(packed) == 3
    assert packed.get("status") == issued["status"] and packed["progress"] == issued["progress"]
    assert packed.get("proposals") is None and packed.get("proposals", "x") == "x"
    with pytest.raises(KeyError):
        packed["proposals"]  # noqa: B018
    # Tasks issued with the same fields share one table of field names.
    other = Fingerprints.pack({"status": value_hash("Hoàn thành"), "progress": value_hash(100),
                               "result": value_hash("xong")})
    assert isinstance(other, Fingerprints) and other._at is packed._at
    # Smaller than the dict of strings it stands for (the merge holds one per file and reported task).
    assert sys.getsizeof(packed) + sys.getsizeof(packed._packed) < sys.getsizeof(issued) + sum(
        sys.getsizeof(h) for h in issued.values())


@pytest.mark.parametrize("odd", ["ABCDEF0123456789", "abc", 12, None, "0123456789abcdeg"])
def test_a_fingerprint_of_another_form_is_kept_as_it_came(odd: object) -> None:
    issued = {"status": value_hash("x"), "result": odd}
    kept = Fingerprints.pack(issued)
    assert type(kept) is dict and kept == issued
