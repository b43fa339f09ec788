"""Text normalisation shared by every reader.

Vietnamese arrives composed (NFC) or decomposed (NFD) depending on the keyboard
tool, with zero-width and non-breaking spaces pasted from the web or PDFs. Two
strings that a person sees as equal must compare equal here.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections.abc import Iterable

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACES = re.compile(r"[ \t\u00a0\u2007\u202f\u3000]+")
_ALL_WS = re.compile(r"\s+")
# Excel's XML cannot hold most C0 control characters; they arrive from PDFs.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def normalize_text(value: object, *, keep_newlines: bool = False) -> str:
    """NFC, zero-width characters removed, runs of spaces folded, trimmed."""
    if value is None:
        return ""
    if type(value) is str and len(value) <= _CACHED_LEN:
        # The same few names, statuses and dates come back on every row of every sheet: a
        # master of 10,000 tasks asks for ~1 million normalisations of ~50,000 distinct strings.
        return _normalize_cached(value, keep_newlines)
    return _normalize(str(value), keep_newlines)


# Names, statuses, dates and periods repeat on every row; long texts (a task, a result) rarely do, and
# a clean one is cheap to check (``_normalize``): caching them only held the master's texts in memory.
_CACHED_LEN = 64


@functools.lru_cache(maxsize=1 << 15)
def _normalize_cached(value: str, keep_newlines: bool) -> str:
    return _normalize(value, keep_newlines)


# A text none of whose characters or runs the steps below would change (most cells are already
# clean): recognised by one search and one C-level NFC check, returned as it is.
_DIRTY = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\x00-\x1f\u0085]|[^\\S ]|  |^ | $")
_DIRTY_LINES = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\x00-\x08\x0b-\x1f\t\u00a0\u2007\u202f\u3000]"
                          "|  |(?:^|\n)\\s|\\s(?:$|\n)")


def _normalize(value: str, keep_newlines: bool) -> str:
    if not (_DIRTY_LINES if keep_newlines else _DIRTY).search(value) and unicodedata.is_normalized("NFC", value):
        return value
    return _normalize_full(value, keep_newlines)


def _normalize_full(value: str, keep_newlines: bool) -> str:
    s = unicodedata.normalize("NFC", value).translate(_ZERO_WIDTH)
    s = _CONTROL.sub("", s)
    if keep_newlines:
        lines = [_SPACES.sub(" ", ln).strip() for ln in s.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
        return "\n".join(ln for ln in lines if ln)
    return _ALL_WS.sub(" ", s).strip()


def name_key(value: object) -> str:
    """Key for comparing names of units and people: normalised and case-folded."""
    return _name_key(normalize_text(value))


@functools.lru_cache(maxsize=1 << 14)
def _name_key(s: str) -> str:
    s = _PUNCT_SPACES.sub(r"\1", s.casefold())
    return s.strip(" .;,")


_PUNCT_SPACES = re.compile(r"\s*([,.;:()])\s*")


def strip_accents(value: str) -> str:
    """ASCII-fold Vietnamese (đ → d) for file names and loose matching."""
    s = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in s if not unicodedata.combining(ch))


def slugify(value: str, *, max_len: int = 40) -> str:
    s = re.sub(r"[^A-Za-z0-9]+", "_", strip_accents(normalize_text(value))).strip("_")
    return s[:max_len] or "x"


def suggest(name: str, known: Iterable[str], *, n: int = 3, cutoff: float = 0.6) -> list[str]:
    """Closest known names, best first (for 'did you mean' messages)."""
    known = list(known)
    keys = {name_key(k): k for k in known}
    hits = difflib.get_close_matches(name_key(name), list(keys), n=n, cutoff=cutoff)
    if not hits:
        folded = {strip_accents(k): v for k, v in keys.items()}
        hits2 = difflib.get_close_matches(strip_accents(name_key(name)), list(folded), n=n, cutoff=cutoff)
        return [folded[h] for h in hits2]
    return [keys[h] for h in hits]


def split_list(value: object) -> list[str]:
    """Split a multi-value cell ("A; B" or one per line) into clean items."""
    s = normalize_text(value, keep_newlines=True)
    if not s:
        return []
    parts = re.split(r"\s*[;\n]\s*", s)
    return [p.strip(" -–•+") for p in parts if p.strip(" -–•+")]


def join_list(items: Iterable[str]) -> str:
    return "; ".join(i for i in items if i)

