"""Units and leaders known to the master, and matching names against them.

Names arrive with typos, short forms, NFD text and stray spaces. Matching is
exact on a normalised key (so "VP Sở" finds "Văn phòng Sở" through its alias);
anything else is *not* guessed: the caller gets suggestions to show the user.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

from kehoach_xl.model import unit_vocab
from kehoach_xl.text import name_key, normalize_text, split_list, strip_accents, suggest

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
    kind: str = field(default="", compare=False)  # GROUP_KIND for a collective ("các sở, ngành")


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
        self._by_name: dict[str, dict[str, Any]] | None = None
        self._matches: dict[str, NameMatch] = {}

    def _names(self) -> dict[str, dict[str, Any]]:
        # Every task asks for its units by name: an index, not a scan of the sheet per call.
        # Rebuilt if rows were added to ``units`` after construction.
        if self._by_name is None or self._by_name_len != len(self.units):
            self._by_name = {}
            for u in self.units:
                self._by_name.setdefault(normalize_text(u.get("name")), u)
            self._by_name_len = len(self.units)
        return self._by_name

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

    def is_of(self, md: Any) -> bool:
        """True when this registry holds exactly the units and leaders of master data ``md``."""
        return self.units == md.units.rows and self.leaders == md.leaders.rows

    @property
    def unit_names(self) -> list[str]:
        return [normalize_text(u.get("name")) for u in self.units if u.get("name")]

    def unit(self, canonical: str) -> dict[str, Any] | None:
        return self._names().get(canonical) if canonical else None

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
        # An unknown name is usually written the same way on many rows; its suggestions
        # (difflib over every alias) are worked out once.
        if t not in self._matches:
            aliases = list(self._unit_keys)
            sugg = [self._unit_keys[name_key(s)] for s in suggest(t, aliases, n=5)]
            self._matches[t] = NameMatch(t, None, tuple(dict.fromkeys(sugg))[:3])
        return self._matches[t]

    def match_leader(self, text: str) -> NameMatch:
        t = _HONORIFIC.sub("", normalize_text(text))
        hit = self._leader_keys.get(name_key(t))
        if hit:
            return NameMatch(t, hit)
        sugg = [self._leader_keys[name_key(s)] for s in suggest(t, list(self._leader_keys), n=5, cutoff=0.75)]
        return NameMatch(t, None, tuple(dict.fromkeys(sugg))[:3])


# --- splitting a party cell into bodies -------------------------------------------------
# The vocabulary is data (kehoach_xl/unit_vocab.py); the master's "Đơn vị" sheet extends it
# through ``known`` (names and aliases kept whole; an alias in capitals is an abbreviation).

_LOCALITY = unit_vocab.PLACE_WORDS
# A name that ends like this is complete, so a lower-case note phrase after it is a note
# ("Văn phòng Sở đôn đốc"); "Sở xây dựng" ends after a bare "Sở" and stays a name.
_UNIT_END = re.compile(r"(?:" + "|".join(r"\b" + re.escape(w) for w in unit_vocab.NAME_ENDS)
                       + r"|\b[A-ZĐ][A-ZĐ0-9&.-]+)$")
_CAPS_TOKEN = re.compile(r"^[A-ZĐ][A-ZĐ0-9&.\-]+$")


def _fold_char(ch: str) -> str:
    f = strip_accents(ch).lower()
    return f[:1] if len(f) >= 1 else ch


@lru_cache(maxsize=65536)
def _fold_aligned(s: str) -> str:
    """Lower-case ASCII text of exactly the length of ``s`` (so indexes carry over)."""
    f = strip_accents(s).lower()
    return f if len(f) == len(s) else "".join(_fold_char(c) for c in s)


# eq=False: compared and hashed by identity, so a vocabulary is a cheap cache key
@dataclass(frozen=True, eq=False)
class PartyVocab:
    """Body-name vocabulary: the data module's, plus what the master's "Đơn vị" sheet adds."""

    prefixes: tuple[tuple[str, ...], ...]  # folded words, longest first
    abbreviations: frozenset[str]
    whole: tuple[str, ...]  # folded names never split, longest first
    collectives: tuple[re.Pattern[str], ...]
    collective_starts: tuple[re.Pattern[str], ...]
    collective_names: frozenset[str]  # folded names of units of kind "Nhóm đơn vị"

    @cached_property
    def whole_re(self) -> re.Pattern[str] | None:
        """The whole names that have a separator inside (only those need protecting), as one pattern."""
        names = [n for n in self.whole if any(c in n for c in ",;\n") or " va " in n]
        if not names:
            return None
        return re.compile(r"(?<![a-z0-9])(?:" + "|".join(re.escape(n) for n in names) + r")(?![a-z0-9])")

    @cached_property
    def prefix_index(self) -> dict[str, tuple[tuple[str, ...], ...]]:
        out: dict[str, list[tuple[str, ...]]] = {}
        for pre in self.prefixes:  # longest first, kept in that order per first word
            out.setdefault(pre[0], []).append(pre)
        return {k: tuple(v) for k, v in out.items()}

    @classmethod
    def build(cls, known: Iterable[str] = (), *, group_names: Iterable[str] = (),
              kinds: Iterable[str] = ()) -> PartyVocab:
        v = unit_vocab
        prefixes = {tuple(p.split()) for p in v.BODY_PREFIXES}
        prefixes |= {tuple(_fold_aligned(normalize_text(k)).split()) for k in kinds if normalize_text(k)}
        abbr = set(v.BODY_ABBREVIATIONS)
        whole = set(v.WHOLE_NAMES)
        for k in known:
            k = normalize_text(k)
            if _CAPS_TOKEN.match(k):
                abbr.add(_fold_aligned(k))
            if len(k) > 2:
                whole.add(_fold_aligned(k))
        return cls(tuple(sorted(prefixes, key=len, reverse=True)), frozenset(abbr),
                   tuple(sorted(whole, key=len, reverse=True)),
                   tuple(re.compile(p) for p in v.COLLECTIVE_PATTERNS),
                   tuple(re.compile(p) for p in v.COLLECTIVE_STARTS),
                   frozenset(_fold_aligned(normalize_text(g)) for g in group_names))

    def is_collective(self, name: str) -> bool:
        f = _fold_aligned(normalize_text(name))
        return f in self.collective_names or any(p.search(f) for p in self.collectives)

    def body_like(self, piece: str, *, abbreviations_ok: bool = False) -> bool:
        """Does ``piece`` start like the name of a body (or a collective of bodies)?"""
        piece = piece.strip(" -–•+")
        if not piece:
            return False
        words = piece.split()
        first = words[0].strip(",.;:()")
        if _CAPS_TOKEN.match(first) and len(first) >= 2:
            return _fold_aligned(first) in self.abbreviations or abbreviations_ok
        f = _fold_aligned(piece)
        if any(p.search(f) for p in self.collective_starts) or f in self.collective_names:
            return True
        fwords = [w.strip(",.;:()") for w in f.split()]
        for pre in self.prefix_index.get(fwords[0], ()):
            n = len(pre)
            if tuple(fwords[:n]) != pre:
                continue
            if len(words) == n:  # a bare prefix is a name only when it is a whole name ("Tỉnh đoàn")
                return n >= 2 and piece[:1].isupper()
            nxt = words[n]
            if n >= 2 and piece[:1].isupper():
                return True
            # one-word prefixes are also common words ("Báo cáo", "Tổ chức"): a name goes on
            # with a capital, an abbreviation or a place ("Sở Tư pháp", "Công an tỉnh")
            rest = " ".join(fwords[n:n + 2])
            return nxt[:1].isupper() or any(rest == loc or rest.startswith(loc + " ") for loc in _LOCALITY)
        return False


_DEFAULT_VOCAB: PartyVocab | None = None


@lru_cache(maxsize=32)
def _vocab_of(known: tuple[str, ...]) -> PartyVocab:
    return PartyVocab.build(known)


def _vocab(vocab: PartyVocab | None, known: list[str]) -> PartyVocab:
    global _DEFAULT_VOCAB
    if vocab is not None:
        return vocab
    if known:
        return _vocab_of(tuple(known))
    if _DEFAULT_VOCAB is None:
        _DEFAULT_VOCAB = PartyVocab.build()
    return _DEFAULT_VOCAB


def _protected(s: str, vocab: PartyVocab) -> list[bool]:
    """Characters inside brackets or inside a name that must stay whole."""
    prot = [False] * len(s)
    depth = 0
    for i, ch in enumerate(s):
        if ch == "(":
            depth += 1
        if depth:
            prot[i] = True
        if ch == ")" and depth:
            depth -= 1
    if vocab.whole_re is not None:
        for m in vocab.whole_re.finditer(_fold_aligned(s)):
            for i in range(m.start(), m.end()):
                prot[i] = True
    return prot


_SEP = re.compile(r"\s*;\s*|\s*,\s*|\s+và\s+|\s*\n\s*")
# a note phrase after a separator or a space; overlapping starts are found by the lookahead
_NOTE_RE = re.compile(r"(?=(\s*[,\-–:]\s*|\s+)(" + "|".join(
    re.escape(p) for p in sorted((*unit_vocab.NOTE_PHRASES, *unit_vocab.SCOPE_PHRASES), key=len, reverse=True))
    + r")(?![a-z0-9]))")
_ALWAYS_NOTES = ("chu tri", "phoi hop", *unit_vocab.SCOPE_PHRASES)
_SHARED_HEAD = re.compile(r"^(?:các\s+)?(?:bộ|sở|ban|cơ quan|đơn vị|phòng|trung tâm)\s*:\s*\S", re.I)
_ROLE_FIRST_LEAD = re.compile(r"^(?:(?:cơ quan|đơn vị|cq)\s+)?chủ\s*trì\b", re.I)
_ROLE_FIRST_COORD = re.compile(r"^(?:(?:cơ quan|đơn vị|cq)\s+)?phối\s*hợp\b", re.I)
_ROLE_LABEL = re.compile(r"^(chủ\s*trì|phối\s*hợp)\s*[:\-–]\s*", re.I)


def _note_at(piece: str, vocab: PartyVocab, known_f: set[str]) -> tuple[str, str] | None:
    """(name, note) when ``piece`` ends in a role note standing as a note, else None."""
    f = _fold_aligned(piece)
    for m in _NOTE_RE.finditer(f):  # left to right: the first note standing as a note wins
        phrase = m.group(2)
        head = piece[: m.start()].strip(" ,-–:")
        if not head:
            continue
        sep = m.group(1).strip()
        written = piece[m.start(2):][:1]
        hf = _fold_aligned(head)
        if not vocab.body_like(head) and hf not in known_f:
            continue
        if not sep and not written.islower():
            continue  # "Sở Xây dựng", "Phòng Tổng hợp": a capital means the name goes on
        if phrase == "phoi hop" and not sep:
            tail = f[m.end(2):].strip()
            if tail and not re.match(r"(va|voi|thuc hien|tong hop|trien khai|,)(?![a-z])", tail):
                continue  # "Tổ công tác phối hợp liên ngành" is a name
        if not sep and phrase not in _ALWAYS_NOTES and hf not in known_f and (
                not _UNIT_END.search(head) or len(head.split()) < 2):
            continue  # before a lower-case verb the head must be a complete name ("Sở xây dựng" is not)
        return head, piece[m.start():].strip(" ,-–:")
    return None


def split_units(text: object, *, known: Iterable[str] = (), vocab: PartyVocab | None = None
                ) -> tuple[list[Party], list[str]]:
    """Parties of a cell, and the texts kept whole because a split was in doubt (to warn about).

    A ";" always separates; ",", " và " and line breaks separate only where the next piece
    starts like the name of a body (``unit_vocab``), and only when the first piece of the
    ";"-part is a body too (else the part is kept whole and returned as a doubt). Collective
    phrases stay one party of kind "Nhóm đơn vị". A role note in brackets, after a separator
    or in lower case after a complete name goes to the party it follows. ``known`` (registry
    names and aliases) are kept whole.
    """
    s = normalize_text(text, keep_newlines=True)
    if not s:
        return [], []
    known_t = tuple(k for k in (normalize_text(x) for x in known) if k)
    parties, doubts = _split_cached(s, _vocab(vocab, list(known_t)), known_t)
    return list(parties), list(doubts)


@lru_cache(maxsize=16384)  # masters repeat the same party cells on many rows
def _split_cached(s: str, voc: PartyVocab, known: tuple[str, ...]) -> tuple[tuple[Party, ...], tuple[str, ...]]:
    known_f = {_fold_aligned(k) for k in known}
    prot = _protected(s, voc)
    cuts = [(m.start(), m.end(), m.group().strip() or "\n") for m in _SEP.finditer(s) if not prot[m.start()]]
    segments: list[tuple[int, int, str]] = []  # (start, end, separator before)
    last, last_sep = 0, ";"
    for a, b, kind in cuts:
        segments.append((last, a, last_sep))
        last, last_sep = b, kind
    segments.append((last, len(s), last_sep))
    texts = [s[a:b].strip() for a, b, _ in segments]
    caps_list = len([t for t in texts if t]) > 1 and all(_CAPS_TOKEN.match(t.strip(" -–•+")) for t in texts if t)

    def is_body(t: str) -> bool:
        t = t.strip(" -–•+")
        return voc.body_like(t, abbreviations_ok=caps_list) or _fold_aligned(t) in known_f

    out: list[Party] = []
    doubts: list[str] = []
    part: list[list[int]] = []  # [start, end] of each piece of the current ";"-part
    role: str | None = None

    def close() -> None:
        if not part:
            return
        pieces = [s[a:b] for a, b in part]
        whole = s[part[0][0]:part[-1][1]]
        if _SHARED_HEAD.match(whole):
            # "Các Sở: Tài chính, Kế hoạch và Đầu tư, Nội vụ" names several bodies under one head
            # word; which "và" separates is not certain, so it stays whole and is reported
            doubts.append(re.sub(r"\s+", " ", whole))
            pieces = [whole]
        elif len(pieces) > 1 and not is_body(pieces[0]):
            doubts.append(re.sub(r"\s+", " ", whole))
            pieces = [whole]
        for p in pieces:
            out.extend(_party_of(p, role, voc, known_f))
        part.clear()

    for (a, b, sep), t in zip(segments, texts, strict=True):
        if sep == ";":
            close()
            role = None
        if not t:
            continue
        if not part:
            m = _ROLE_LABEL.match(s[a:b].lstrip())
            if m:  # "Chủ trì: Sở Tài chính, Sở Nội vụ"
                role = "lead" if _ROLE_LEAD.match(m.group(1)) else "coord"
                a = a + (len(s[a:b]) - len(s[a:b].lstrip())) + m.end()
            part.append([a, b])
            continue
        if sep == "\n" and re.match(r"(?i)và\s+", t):
            a = s.index(t, a) + len(re.match(r"(?i)và\s+", t).group())  # "…\nVà các cơ quan liên quan"
            t = s[a:b]
        if is_body(t) or (sep == "\n" and (t[:1] in "-+•–" or t[:1].isupper())):
            # a line break before a capital starts a new body; before lower case it only wraps a name
            part.append([a, b])
        else:
            part[-1][1] = b  # not a new body: the separator belongs to the text ("Sở Văn hóa, Thể thao …")
    close()
    return tuple(out), tuple(doubts)


def _party_of(raw: str, label_role: str | None, voc: PartyVocab, known_f: set[str]) -> list[Party]:
    chunk = raw.strip(" -–•+.,;")
    if not chunk:
        return []
    role: str | None = label_role
    notes: list[str] = []
    for m in list(_PAREN.finditer(chunk))[::-1]:
        inner = m.group(1).strip()
        fi = _fold_aligned(inner)
        # a bracket is a note when it says a role or starts in lower case ("(đối với các nội dung …)");
        # "(TNMT)", "(Văn phòng UBND tỉnh)" stay in the name
        if _ROLE_LEAD.search(inner) or _ROLE_COORD.search(inner) or inner[:1].islower() or any(
                fi == ph or fi.startswith(ph + " ") or fi.startswith(ph + ",") for ph in unit_vocab.NOTE_PHRASES):
            notes.insert(0, inner)
            # the role is what the bracket says first ("(phối hợp và tổng hợp chung)"), not a word
            # inside a body's name ("(Thường trực Hội đồng phối hợp PBGDPL)")
            if _ROLE_FIRST_COORD.match(inner):
                role = "coord"
            elif _ROLE_FIRST_LEAD.match(inner) or (_ROLE_LEAD.search(inner) and not _ROLE_COORD.search(inner)):
                role = "lead"
            chunk = (chunk[: m.start()] + chunk[m.end():]).strip(" ,")
    if not notes:
        hit = _note_at(chunk, voc, known_f)
        if hit:
            chunk, note = hit
            notes.append(note)
            mm = re.match(r"(chủ\s*trì|phối\s*hợp)\b", note, re.I)
            if mm:
                role = "lead" if _ROLE_LEAD.match(mm.group(1)) else "coord"
    chunk = re.sub(r"\s+", " ", chunk).strip(" -–•+.,;")
    if not chunk:
        return []
    name = chunk[:1].upper() + chunk[1:]
    kind = GROUP_KIND if voc.is_collective(name) and not _SHARED_HEAD.match(name) else ""
    out = [Party(name, role, re.sub(r"\s+", " ", "; ".join(notes)), kind)]
    # "Sở X chủ trì, phối hợp với Sở Y và các cơ quan liên quan": the bodies named after
    # "phối hợp với" coordinate (the note keeps the whole text)
    m = re.search(r"\bphối\s*hợp\s+với\s+(.+)$", notes[0] if notes else "", re.I | re.S)
    if m and role == "lead" and voc.body_like(m.group(1)):
        out += [Party(p.name, "coord", "", p.kind) for p in split_units(m.group(1), vocab=voc)[0]]
    return out


def split_parties(text: object, *, known: Iterable[str] = (), vocab: PartyVocab | None = None) -> list[Party]:
    """Split "A (chủ trì); B (phối hợp và tổng hợp chung)" into parties with roles.

    A marker in parentheses or trailing the name ("Văn phòng Sở chủ trì xây
    dựng báo cáo") sets the role; the marker text is kept as a note. Other
    inline notes ("Văn phòng Sở đôn đốc, tổng hợp") are kept as a note without a
    role. Lists of bodies are split (see :func:`split_units`).
    """
    return split_units(text, known=known, vocab=vocab)[0]


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
