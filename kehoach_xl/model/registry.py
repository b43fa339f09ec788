"""Units and leaders known to the master, and matching names against them.

Names arrive with typos, short forms, NFD text and stray spaces. Matching is
exact on a normalised key (so "VP Sở" finds "Văn phòng Sở" through its alias);
anything else is *not* guessed: the caller gets suggestions to show the user.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kehoach_xl.text import name_key, normalize_text, split_list, suggest

GROUP_KIND = "Nhóm đơn vị"  # a collective such as "Các phòng, đơn vị"

_ROLE_LEAD = re.compile(r"\bchủ\s*trì\b", re.I)
_ROLE_COORD = re.compile(r"\bphối\s*hợp\b", re.I)
_PAREN = re.compile(r"\(([^()]*)\)")
_HONORIFIC = re.compile(r"^(ông|bà|đ/c|đồng chí|đc)\s+", re.I)


@dataclass(frozen=True)
class NameMatch:
    text: str  # as written
    canonical: str | None  # registry name, None when unknown
    suggestions: tuple[str, ...] = ()

    @property
    def known(self) -> bool:
        return self.canonical is not None


@dataclass(frozen=True)
class Party:
    name: str
    role: str | None  # "lead" | "coord" | None when no marker
    note: str = ""  # the marker text kept, e.g. "phối hợp và tổng hợp chung"


@dataclass(frozen=True)
class LeaderRef:
    name: str
    title: str = ""
    role: str = ""  # e.g. "phụ trách chỉ đạo", "phối hợp"


@dataclass
class Registry:
    units: list[dict[str, Any]] = field(default_factory=list)
    leaders: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._unit_keys = self._index(self.units)
        self._leader_keys = self._index(self.leaders)

    @staticmethod
    def _index(rows: Iterable[Mapping[str, Any]]) -> dict[str, str]:
        out: dict[str, str] = {}
        for r in rows:
            name = normalize_text(r.get("name"))
            if not name:
                continue
            out.setdefault(name_key(name), name)
            aliases = r.get("aliases")
            for a in aliases if isinstance(aliases, list) else split_list(aliases):
                out.setdefault(name_key(a), name)
        return out

    @classmethod
    def from_master(cls, md: Any) -> Registry:
        return cls(units=list(md.units.rows), leaders=list(md.leaders.rows))

    @property
    def unit_names(self) -> list[str]:
        return [normalize_text(u.get("name")) for u in self.units if u.get("name")]

    def unit(self, canonical: str) -> dict[str, Any] | None:
        for u in self.units:
            if normalize_text(u.get("name")) == canonical:
                return u
        return None

    def is_group(self, canonical: str) -> bool:
        u = self.unit(canonical)
        return bool(u) and normalize_text(u.get("kind")) == GROUP_KIND

    def member_units(self) -> list[str]:
        """Every unit that is not a collective."""
        return [n for n in self.unit_names if not self.is_group(n)]

    def match_unit(self, text: str) -> NameMatch:
        t = normalize_text(text)
        hit = self._unit_keys.get(name_key(t))
        if hit:
            return NameMatch(t, hit)
        aliases = list(self._unit_keys)
        sugg = [self._unit_keys[name_key(s)] for s in suggest(t, aliases, n=5)]
        return NameMatch(t, None, tuple(dict.fromkeys(sugg))[:3])

    def match_leader(self, text: str) -> NameMatch:
        t = _HONORIFIC.sub("", normalize_text(text))
        hit = self._leader_keys.get(name_key(t))
        if hit:
            return NameMatch(t, hit)
        sugg = [self._leader_keys[name_key(s)] for s in suggest(t, list(self._leader_keys), n=5, cutoff=0.75)]
        return NameMatch(t, None, tuple(dict.fromkeys(sugg))[:3])


# Verbs that start an inline note after a unit's name in a party cell (seed 004:
# "Văn phòng Sở đôn đốc, tổng hợp", "Các phòng, đơn vị chủ động rà soát, tham mưu").
NOTE_VERBS: tuple[str, ...] = (
    "theo dõi", "đôn đốc", "tổng hợp", "hướng dẫn", "kiểm tra", "chủ động", "hoàn thiện", "xây dựng",
    "tham mưu", "thực hiện", "triển khai", "rà soát", "đề xuất", "trình",
)
# A note verb only splits after a name that ends like a unit name, so "Đoàn kiểm tra
# CCHC của Sở" stays one name.
_UNIT_END = re.compile(r"(?:\bSở|\bđơn vị|\bcông lập|\bmột cửa|\bphòng)$", re.I)
_NOTE_VERB = re.compile(r"\s+(" + "|".join(re.escape(v) for v in NOTE_VERBS) + r")\b", re.I)
# "X và Thanh tra Sở", "Các phòng, đơn vị, Bộ phận một cửa": split on "và" or a comma only
# before a capitalised word that starts a unit name.
_AND_UNIT = re.compile(
    r"(?:\s+và\s+|,\s+)(?=(?:Thanh tra|Phòng|Chi cục|Văn phòng|Trung tâm|Ban|Bộ phận|Đoàn|Các phòng|Sở)\b)")


def _split_note(chunk: str, known: list[str]) -> tuple[str, str]:
    """("Văn phòng Sở", "đôn đốc, tổng hợp") from "Văn phòng Sở đôn đốc, tổng hợp"."""
    low = name_key(chunk)
    for k in sorted(known, key=len, reverse=True):  # a known name followed by more words
        kk = name_key(k)
        if kk and low.startswith(kk + " ") and len(chunk) > len(k):
            rest = chunk[len(k):].strip(" ,")
            if rest and not rest[:1].isupper():
                return chunk[: len(k)].strip(), rest
    for m in _NOTE_VERB.finditer(chunk):
        head = chunk[: m.start()].strip(" ,")
        if _UNIT_END.search(head):
            return head, chunk[m.start():].strip(" ,")
    return chunk, ""


def split_parties(text: object, *, known: Iterable[str] = ()) -> list[Party]:
    """Split "A (chủ trì); B (phối hợp và tổng hợp chung)" into parties with roles.

    A marker in parentheses or trailing the name ("Văn phòng Sở chủ trì xây
    dựng báo cáo") sets the role; the marker text is kept as a note. Other
    inline notes ("Văn phòng Sở đôn đốc, tổng hợp") are kept as a note without a
    role. ``known`` (registry names and aliases) helps find where a name ends.
    """
    s = normalize_text(text, keep_newlines=True)
    if not s:
        return []
    known = list(known)
    out: list[Party] = []
    chunks = [c for part in re.split(r"\s*[;\n]\s*", s) for c in _AND_UNIT.split(part)]
    for chunk in chunks:
        chunk = chunk.strip(" -–•+.,")
        if not chunk:
            continue
        role: str | None = None
        note = ""
        m = _PAREN.search(chunk)
        if m and (_ROLE_LEAD.search(m.group(1)) or _ROLE_COORD.search(m.group(1))):
            note = m.group(1).strip()
            role = "lead" if _ROLE_LEAD.search(note) and not _ROLE_COORD.match(note) else "coord"
            chunk = (chunk[: m.start()] + chunk[m.end():]).strip(" ,")
        else:
            mm = re.search(r"\s+(chủ\s*trì|phối\s*hợp)\b(.*)$", chunk, re.I | re.S)
            if mm:
                role = "lead" if _ROLE_LEAD.match(mm.group(1)) else "coord"
                note = (mm.group(1) + mm.group(2)).strip()
                chunk = chunk[: mm.start()].strip(" ,")
            else:
                chunk, note = _split_note(chunk, known)
        chunk = re.sub(r"\s+", " ", chunk)
        if chunk:
            out.append(Party(chunk[:1].upper() + chunk[1:], role, re.sub(r"\s+", " ", note)))
    return out


def parse_leaders(text: object) -> list[LeaderRef]:
    """"- Ông Nguyễn Ngọc Thiều, Giám đốc Sở phụ trách chỉ đạo; - Ông …" → people."""
    s = normalize_text(text, keep_newlines=True)
    out: list[LeaderRef] = []
    for chunk in re.split(r"\s*(?:[;\n]|(?:^|\s)-\s)\s*", s):
        chunk = chunk.strip(" -–•+.;")
        if not chunk:
            continue
        chunk = _HONORIFIC.sub("", chunk)
        name, _, rest = chunk.partition(",")
        rest = rest.strip()
        role = ""
        m = re.search(r"\b(phụ trách|phối hợp|chỉ đạo|giám sát)\b.*$", rest, re.I)
        if m:
            role = m.group(0).strip()
            rest = rest[: m.start()].strip()
        out.append(LeaderRef(name.strip(), rest, role))
    return out
