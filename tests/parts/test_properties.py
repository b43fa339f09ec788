"""Properties of the parts: the derived status, and merging the same submissions in any order."""

from __future__ import annotations

import datetime as dt
from itertools import permutations
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kehoach_xl.io.master_read import read_grids, read_master
from kehoach_xl.io.submission import read_submission
from kehoach_xl.model import schema
from kehoach_xl.model.apply import apply_changes
from kehoach_xl.model.config import load_config
from kehoach_xl.model.master import MASTER_SHEETS, master_from_grids
from kehoach_xl.model.part import Part
from kehoach_xl.model.roles import Role
from kehoach_xl.rules.merge import compute_merge
from kehoach_xl.rules.parts import DECIDING_ROLES, derive_task_status, parts_of
from tests.bad_inputs.make import AS_OF, fill, setup_month

_statuses = st.sampled_from([None, *schema.STATUSES])
_progress = st.one_of(st.none(), st.integers(0, 100).map(float))
_part = st.builds(lambda role, status, progress: Part("T", f"u{role}", role, status=status, progress=progress),
                  st.sampled_from(list(Role)), _statuses, _progress)


@settings(max_examples=400, deadline=None)
@given(parts=st.lists(_part, min_size=1, max_size=8))
def test_derived_status_never_done_while_a_deciding_part_is_open(parts: list[Part]) -> None:
    status, progress = derive_task_status(parts)
    deciding = [p for p in parts if p.role in DECIDING_ROLES]
    if any(p.status != schema.STATUS_DONE for p in deciding) or not deciding:
        assert status != schema.STATUS_DONE
    if deciding and all(p.status == schema.STATUS_DONE for p in deciding):
        assert status == schema.STATUS_DONE
    # Coordinating parts never decide: dropping them changes nothing.
    assert derive_task_status([p for p in parts if p.role != Role.COORD]) == (status, progress) or not deciding
    if progress is not None:  # never more than any deciding owner reported
        assert all(progress <= p.progress for p in deciding if p.progress is not None)


T1, T3, T4 = "DDCI2024-001", "DDCI2024-003", "DDCI2024-004"  # T1: led by "Các phòng, đơn vị"
NOW = dt.datetime(2024, 5, 31, 20)
_STATE: dict = {}


def _prepared(tmp: Path) -> tuple:
    if not _STATE:
        master, files, _inbox = setup_month(tmp)
        md = read_master(master)
        cfg = load_config(master)
        reports = [
            ("Thanh_tra_So", {T1: {"status": "Đang thực hiện", "progress": 60, "result": "Rà soát 5 quy trình"},
                              T3: {"progress": 70}}),
            ("Van_phong_Dang_ky_dat_dai", {T1: {"status": "Hoàn thành", "progress": 100,
                                                "completed_on": "10/05/2024", "result": "Đã xong phần của đơn vị"}}),
            ("Van_phong_So", {T1: {"progress": 55, "difficulties": "Chậm số liệu"},
                              T4: {"progress": 35, "proposals": "Đề nghị bổ sung kinh phí"}}),
        ]
        subs = [read_submission(fill(files[slug], tmp / slug / f"{slug}.xlsx", rows), md, config=cfg, today=AS_OF)
                for slug, rows in reports]
        grids = read_grids(master, [*MASTER_SHEETS, schema.LOG.name])
        _STATE.update(master=master, subs=subs, cfg=cfg, grids=grids)
    return _STATE["master"], _STATE["subs"], _STATE["cfg"], _STATE["grids"]


def _merged_one_by_one(master: Path, grids: dict, subs: list, cfg) -> list[list]:
    """Each file merged on its own, one after the other, the master as each merge leaves it."""
    for k, s in enumerate(subs):
        md = master_from_grids(grids, master)
        out = compute_merge(md, [s], config=cfg, as_of=NOW + dt.timedelta(minutes=k))
        grids = apply_changes(grids, out.changes)
    return [list(r) for r in grids[schema.PARTS.name]]


def test_parts_are_the_same_whatever_the_order_of_the_files(tmp_path_factory) -> None:
    master, subs, cfg, grids = _prepared(tmp_path_factory.mktemp("order"))
    results = {tuple(map(tuple, _merged_one_by_one(master, grids, [subs[i] for i in order], cfg)))
               for order in permutations(range(len(subs)))}
    assert len(results) == 1
    together = compute_merge(master_from_grids(grids, master), subs, config=cfg, as_of=NOW).changes
    parts = [list(r) for r in apply_changes(grids, together)[schema.PARTS.name]]
    assert tuple(map(tuple, parts)) in results
    md = master_from_grids(apply_changes(grids, together), master)
    by = {(p.task_id, p.unit): p for p in parts_of(md)}
    assert by[(T1, "Thanh tra Sở")].progress == 60 and by[(T1, "Thanh tra Sở")].period == "2024-05"
    assert by[(T1, "Văn phòng Đăng ký đất đai")].completed_on == dt.date(2024, 5, 10)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations([0, 1, 2]))
def test_one_merge_of_all_files_in_any_order_gives_the_same_parts(tmp_path_factory, order) -> None:
    master, subs, cfg, grids = _prepared(tmp_path_factory.mktemp("perm"))
    base = compute_merge(master_from_grids(grids, master), subs, config=cfg, as_of=NOW).changes
    out = compute_merge(master_from_grids(grids, master), [subs[i] for i in order], config=cfg, as_of=NOW).changes
    assert apply_changes(grids, out)[schema.PARTS.name] == apply_changes(grids, base)[schema.PARTS.name]


