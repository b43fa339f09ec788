"""The printed task list's footer: its right part says what date the data is as of.

Excel and LibreOffice print the ``&D`` code with the computer's short-date format: on the many
office PCs set to US regional settings "In ngày &D" came out "In ngày 12/3/2026", which a reader
in Vietnam takes for 12 March. A header cannot format a date, so the program writes the date
itself, dd/mm/yyyy, and every refresh brings it up to date: "Số liệu đến ngày dd/mm/yyyy", the
day the derived columns were computed for.

A header/footer text is one string with section codes: ``&L`` left, ``&C`` centre, ``&R`` right
(text before any of them is centred), ``&&`` a literal "&", other ``&`` codes fonts and fields.
Only a right part the program wrote is ever replaced; staff's own text is left alone.
"""

from __future__ import annotations

import datetime as dt
import re

from kehoach_xl import vn

FOOTER_FONT = "Times New Roman"
AS_OF_PREFIX = "Số liệu đến ngày "
# The right part new masters had before 0.x: the print date in the PC's format (see above).
OLD_PRINT_DATE = "In ngày &D"
# The element of <headerFooter> the program writes (no masters of ours use even or first pages).
ODD_FOOTER = "oddFooter"

_OURS = re.compile(re.escape(AS_OF_PREFIX) + r"\d{2}/\d{2}/\d{4}")
# Codes that only format (font and style, size, colour, toggles): left out of a part's plain text.
_FORMAT = re.compile(r'&"[^"]*"|&\d+|&K[0-9A-Fa-f]{6}|&K\d{2}[+-]\d{3}|&[BIUESXYOH]')


def hf(text: str, size: int = 11, bold: bool = False) -> str:
    """Header/footer text in Times New Roman; '&' doubled (a code character there)."""
    style = "Bold" if bold else "Regular"
    return f'&"{FOOTER_FONT},{style}"&{size}' + text.replace("&", "&&")


def as_of_part(as_of: dt.date) -> str:
    """The footer's right part for data as of ``as_of``."""
    return hf(AS_OF_PREFIX + vn.date(as_of))


def split_sections(text: str) -> dict[str, str]:
    """{"L", "C", "R"} → each part's raw text (codes kept); a part not in ``text`` is absent."""
    out: dict[str, str] = {}
    key, start, i = "C", 0, 0
    while i < len(text):
        if text[i] == "&" and i + 1 < len(text):
            code = text[i + 1]
            if code in "LCR":
                if i > start or key in out:
                    out[key] = out.get(key, "") + text[start:i]
                key, start = code, i + 2
                out.setdefault(key, "")
            i += 2  # "&&" and every other code: never a section start
            continue
        i += 1
    if start < len(text):
        out[key] = out.get(key, "") + text[start:]
    return out


def join_sections(parts: dict[str, str]) -> str:
    return "".join(f"&{k}{parts[k]}" for k in "LCR" if parts.get(k))


def _plain(part: str) -> str:
    """A part without its formatting codes; field codes (``&D``, ``&P``) and ``&&`` stay as written."""
    return _FORMAT.sub("", part).strip()


def right_is_ours(part: str) -> bool:
    """The right part is the program's: the as-of line, or the old print date. Nothing more beside it."""
    plain = _plain(part)
    return plain == OLD_PRINT_DATE or _OURS.fullmatch(plain) is not None


def with_right(footer: str, right: str) -> str | None:
    """``footer`` with its right part ``right``; None when that part is not ours (staff's own text,
    or no right part at all) or is already ``right``: then nothing is to be written."""
    parts = split_sections(footer)
    old = parts.get("R")
    if old is None or old == right or not right_is_ours(old):
        return None
    parts["R"] = right
    return join_sections(parts)
