"""A plan's own metadata (number, date, issuing body, year) from the head of the document.

Two places say it. The "(Kèm theo Kế hoạch số 62/KH-STNMT ngày 08/5/2024 của Sở …)"
line above an appendix table names the plan the table belongs to; the Quốc hiệu
block at the top of the plan (usually a two-column table: issuing body and "Số:"
on the left, "Lạng Sơn, ngày 08 tháng 5 năm 2024" on the right) names the document
itself. The appendix line wins: an appendix may be issued with a later document.
Texts are kept as written; a number left blank in a draft ("số     /KH-STNMT") is
reported, not stored.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from kehoach_xl import vn
from kehoach_xl.text import normalize_text, strip_accents

_DOC_KINDS = r"(?:Kế hoạch|Quyết định|Nghị quyết|Chương trình|Công văn|Chỉ thị|Thông báo|Đề án|Văn bản)"
# "(Kèm theo Chương trình hành động tại Nghị quyết số 100/NQ-CP ngày … của Chính phủ)": the
# document named last before "số" is the one whose number follows
_ATTACHED = re.compile(
    r"\(\s*(?:Ban hành\s+)?kèm\s+theo\s+(?P<kind>" + _DOC_KINDS + r")\b[^()]*?\s+số\s*:?\s*(?P<number>[^\s()]*)\s*"
    r"(?:ngày\s+(?P<date>[^()]*?))?\s*(?:của\s+(?P<body>[^()]+?))?\s*\)", re.I | re.S)
_NUMBER_LINE = re.compile(r"^\s*Số\s*:?\s*(?P<number>[^\s]*\d[^\s]*/[^\s]+)", re.M)
_PLACE_DATE = re.compile(
    r"(?P<place>[A-ZĐÀ-Ỹ][^\d,\n]{1,40}),\s*ngày\s+(?P<d>\d{1,2})\s+tháng\s+(?P<m>\d{1,2})\s+năm\s+(?P<y>(?:19|20)\d\d)")
_DMY = re.compile(r"(?P<d>\d{1,2})?\s*/\s*(?P<m>\d{1,2})\s*/\s*(?P<y>(?:19|20)\d\d)")
_WORDS_DATE = re.compile(r"(?:(?P<d>\d{1,2})\s+)?tháng\s+(?P<m>\d{1,2})\s+năm\s+(?P<y>(?:19|20)\d\d)", re.I)
_NATIONAL = re.compile(r"CỘNG HÒA|CỘNG HOÀ|Độc lập|ĐỘC LẬP", re.I)
_HEAD_LINES = 30
_BODY_WITHOUT_PLACE = re.compile(r"(?:ỦY|UỶ) BAN NHÂN DÂN|UBND|HỘI ĐỒNG NHÂN DÂN|HĐND")
_PLACE_START = re.compile(r"(?:TỈNH|THÀNH PHỐ|HUYỆN|QUẬN|THỊ XÃ|XÃ|PHƯỜNG|THỊ TRẤN|TP\.?)\s")  # the Quốc hiệu block is at the very top


def _date(text: str) -> tuple[str | None, int | None]:
    """("08/05/2024", 2024) from "08/5/2024" or "ngày 08 tháng 5 năm 2024"; ("", 2022) from "/9/2022"."""
    m = _DMY.search(text) or _WORDS_DATE.search(text)
    if not m:
        return None, None
    y, mo = int(m["y"]), int(m["m"])
    if not m["d"]:
        return None, y
    try:
        return vn.date(dt.date(y, mo, int(m["d"]))), y
    except ValueError:
        return None, y


def _caps(line: str) -> bool:
    letters = [ch for ch in line if ch.isalpha()]
    return len(letters) >= 3 and all(ch.isupper() for ch in letters)


def read_plan_meta(head: str) -> tuple[dict[str, Any], list[str]]:
    """Metadata found in ``head`` (only keys found) and remarks for the report (Vietnamese)."""
    text = normalize_text(head, keep_newlines=True)
    meta: dict[str, Any] = {}
    notes: list[str] = []
    lines = text.split("\n")
    top = "\n".join(lines[:_HEAD_LINES])
    m = _NUMBER_LINE.search(top)
    if m:
        meta["plan_number"] = m["number"].rstrip(".,;")
    pd = _PLACE_DATE.search(top)
    if pd:
        meta["place"] = pd["place"].strip()
        date, year = _date(pd.group(0))
        if date:
            meta["plan_date"], meta["plan_year"] = date, year
    # issuing body: the lines in capitals above "Số:", not the national motto
    caps = []
    for ln in lines[:_HEAD_LINES]:
        if _NUMBER_LINE.match(ln) or _PLACE_DATE.search(ln):
            break
        if _caps(ln) and not _NATIONAL.search(ln):
            caps.append(ln.strip())
    if len(caps) > 1 and _BODY_WITHOUT_PLACE.fullmatch(caps[-2]) and _PLACE_START.match(caps[-1]):
        # "ỦY BAN NHÂN DÂN" / "TỈNH ĐỒNG NAI": one name broken over two lines, not a body under a parent
        caps[-2:] = [f"{caps[-2]} {caps[-1]}"]
    if caps and (m or pd):
        meta["agency"] = caps[-1]
        if len(caps) > 1:
            meta["parent_agency"] = caps[-2]
    for i, ln in enumerate(lines[:_HEAD_LINES]):
        kind = re.fullmatch(r"(KẾ HOẠCH|NGHỊ QUYẾT|QUYẾT ĐỊNH|CHƯƠNG TRÌNH|ĐỀ ÁN|CHỈ THỊ)", ln.strip())
        if kind and i + 1 < len(lines):
            nxt = lines[i + 1].strip()
            if nxt and not _caps(nxt) and not _NUMBER_LINE.match(nxt):  # a title in capitals is kept out, not guessed
                meta["plan_title"] = kind.group(1).capitalize() + " " + nxt[:1].lower() + nxt[1:]
            break
    att = _ATTACHED.search(text.replace("\n", " "))
    if att:
        number = att["number"] or ""
        if re.match(r"\d", number):
            meta["plan_number"] = number.rstrip(".,;")
        elif number:
            notes.append(f"Số của văn bản trong dòng “Kèm theo …” còn để trống ('{att.group(0).strip('() ')}'); "
                         "chưa ghi số kế hoạch.")
        date, year = _date(att["date"] or "")
        if date:
            meta["plan_date"] = date
        if year:
            meta["plan_year"] = year
        body = normalize_text(att["body"])
        # "của Ủy ban nhân dân tỉnh" names the body the head gives in full ("ỦY BAN NHÂN DÂN TỈNH ĐỒNG NAI")
        if body and not strip_accents(normalize_text(meta.get("agency")).casefold()).startswith(
                strip_accents(body.casefold())):
            meta["agency"] = body
    return meta, notes
