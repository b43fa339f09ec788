"""Which unit owes which task, in which role (lead, synthesiser, member, coordinating)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kehoach_xl.model.master import MasterData
from kehoach_xl.model.registry import Registry, split_parties
from kehoach_xl.model.roles import ROLE_STRENGTH, Role
from kehoach_xl.text import normalize_text

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Assignment:
    task_id: str
    index: int  # position in md.tasks.rows
    role: Role  # a StrEnum: compares equal to "lead", "synth", "member", "coord"


def _synthesiser(coord_parties: Sequence[Any], registry: Registry) -> str | None:
    known = [(p, registry.match_unit(p.name).canonical) for p in coord_parties]
    known = [(p, c) for p, c in known if c and not registry.is_group(c)]
    for p, c in known:
        if "tổng hợp" in p.note.casefold():
            return c
    return known[0][1] if len(known) == 1 else None


def assignments(md: MasterData, registry: Registry | None = None) -> dict[str, list[Assignment]]:
    """unit name → its tasks with roles, in task order. Unknown names are logged and skipped.

    Worked out once per read of the master when ``registry`` is the master's own (the caller
    must not change the lists it gets).
    """
    if registry is None or registry.is_of(md):
        return md.memo("assignments", lambda: _assignments(md, registry or Registry.from_master(md)))
    return _assignments(md, registry)


def _assignments(md: MasterData, registry: Registry) -> dict[str, list[Assignment]]:
    members = registry.member_units()
    out: dict[str, dict[str, Assignment]] = {}

    def add(unit: str, a: Assignment) -> None:
        got = out.setdefault(unit, {})
        # A unit named twice keeps its strongest role (lead > synth > member > coord).
        if a.task_id not in got or ROLE_STRENGTH.index(a.role) < ROLE_STRENGTH.index(got[a.task_id].role):
            got[a.task_id] = a

    for i, row in enumerate(md.tasks.rows):
        tid = normalize_text(row.get("id"))
        if not tid:
            continue
        leads = split_parties(row.get("lead_units"))
        coords = split_parties(row.get("coordinating_units"))
        # "A (chủ trì); B (phối hợp)" in the lead cell: markers win over the column.
        for p in list(leads):
            if p.role == Role.COORD:
                leads.remove(p)
                coords.append(p)
        collective = False
        for p in leads:
            name = registry.match_unit(p.name).canonical
            if name is None:
                log.warning("nhiệm vụ %s: bỏ qua đơn vị chủ trì %r chưa có trong sheet Đơn vị", tid, p.name)
            elif registry.is_group(name):
                collective = True
            else:
                add(name, Assignment(tid, i, Role.LEAD))
        synth = _synthesiser(coords, registry) if collective else None
        if collective:
            for m in members:
                if m != synth:
                    add(m, Assignment(tid, i, Role.MEMBER))
            if synth:
                add(synth, Assignment(tid, i, Role.SYNTH))
        for p in coords:
            name = registry.match_unit(p.name).canonical
            if name and not registry.is_group(name) and name != synth:
                add(name, Assignment(tid, i, Role.COORD))
            elif name and registry.is_group(name):
                for m in members:
                    add(m, Assignment(tid, i, Role.COORD))
    return {u: sorted(a.values(), key=lambda x: x.index) for u, a in out.items()}
