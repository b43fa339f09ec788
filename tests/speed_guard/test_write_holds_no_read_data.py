"""The writer's peak is its own: merge, the nightly and summary let the master they read go before they write.

At 50,000 tasks the read master is some 200 MiB of rows and parts; held through the write, it sat
under the patch and the verification (merge 1,436 MiB, nightly 1,586 MiB; released: 1,170 and
1,180 MiB, bench/results_round4.md). Checked here by weak references, without timing anything:
the objects must be gone by reference counting alone (no ``gc.collect``), as they are in a run.
"""

from __future__ import annotations

import weakref

from kehoach_xl.commands.merge import merge
from kehoach_xl.commands.nightly import nightly
from kehoach_xl.commands.simulate import simulate_unit_submissions
from tests.bad_inputs.make import AS_OF, setup_month


def _month(tmp_path):
    master, files, inbox = setup_month(tmp_path)
    (tmp_path / "kehoach.toml").write_text('master = "so_theo_doi.xlsx"\n', encoding="utf-8")
    simulate_unit_submissions(inbox, list(files.values()), seed=3)
    return master, inbox


def _watch(monkeypatch, module, name: str, refs: list) -> None:
    """Keep a weak reference to each MasterData ``module.name`` returns (alone or first of a tuple)."""
    real = getattr(module, name)

    def reading(*a, **kw):
        out = real(*a, **kw)
        if out is not None:  # follow_changes: None when only the grids can follow
            refs.append(weakref.ref(out[0] if isinstance(out, tuple) else out))
        return out

    monkeypatch.setattr(module, name, reading)


def _alive_at_write(monkeypatch, refs: list) -> list:
    from kehoach_xl.io import master_write

    seen: list = []
    real = master_write._write

    def writing(*a, **kw):
        seen.append([r() is not None for r in refs])
        return real(*a, **kw)

    monkeypatch.setattr(master_write, "_write", writing)
    return seen


def test_merge_lets_the_read_master_go_before_it_writes(tmp_path, monkeypatch):
    import kehoach_xl.commands.merge as merge_cmd

    master, inbox = _month(tmp_path)
    refs: list = []
    _watch(monkeypatch, merge_cmd, "read_master", refs)
    seen = _alive_at_write(monkeypatch, refs)
    report = merge(master, inbox, progress=False)
    assert report.written and report.applied > 0
    assert len(refs) == 1 and seen == [[False]]


def test_the_night_lets_its_steps_data_go_before_it_writes(tmp_path, monkeypatch):
    from kehoach_xl.io import master_read
    from kehoach_xl.model import apply as apply_model
    from kehoach_xl.model import master as master_model

    _month(tmp_path)
    refs: list = []
    _watch(monkeypatch, master_read, "read_master_and", refs)  # the night's read
    _watch(monkeypatch, apply_model, "follow_changes", refs)  # the data each step leaves
    _watch(monkeypatch, master_model, "master_from_grids", refs)  # … or, read again, a step that only grids follow
    seen = _alive_at_write(monkeypatch, refs)
    rep = nightly(tmp_path / "kehoach.toml", as_of=AS_OF, progress=False)
    assert rep.merge["written"] is True, rep.to_dict()
    assert len(refs) >= 3  # read, after the merge, after the refresh (and the summary)
    assert len(seen) == 1 and not any(seen[0]), seen


def test_summary_lets_the_read_master_go_before_it_writes(tmp_path, monkeypatch):
    import kehoach_xl.commands.summary as summary_cmd
    from kehoach_xl.commands.summary import summary

    master, _ = _month(tmp_path)
    refs: list = []
    _watch(monkeypatch, summary_cmd, "read_master_and", refs)
    seen = _alive_at_write(monkeypatch, refs)
    s = summary(master, as_of=AS_OF, export=tmp_path / "tong_hop.xlsx")
    assert s.total.total > 0 and (tmp_path / "tong_hop.xlsx").is_file()
    assert len(refs) == 1 and seen == [[False]]


def test_the_night_lets_its_steps_change_sets_go_once_combined(tmp_path, monkeypatch):
    """``combine(consume=True)`` takes the steps' cells over: the steps' own change sets (and with them
    their log lists, which the write lets go once they are rows) must not be held by the night too."""
    from kehoach_xl.model import apply as apply_model

    _month(tmp_path)
    refs: list = []
    real = apply_model.combine

    def combining(parts, **kw):
        parts = list(parts)
        refs.extend(weakref.ref(ch) for ch in parts)
        return real(parts, **kw)

    monkeypatch.setattr(apply_model, "combine", combining)
    seen = _alive_at_write(monkeypatch, refs)
    rep = nightly(tmp_path / "kehoach.toml", as_of=AS_OF, progress=False)
    assert rep.merge["written"] is True, rep.to_dict()
    assert len(refs) >= 3  # merge, validate, refresh (and the summary)
    assert len(seen) == 1 and not any(seen[0]), seen


def test_the_check_opens_the_written_workbook_by_path_not_whole(tmp_path, monkeypatch):
    """A night reads its small sheets back (settings, problems, summary) through calamine opened on the
    written file's path: given a file object, calamine took the whole file in memory (~110 MiB at
    50,000 tasks, the night's peak). The check still reads those sheets (by path)."""
    import python_calamine

    real = python_calamine.CalamineWorkbook
    opened: list[str] = []

    class Spy:
        @staticmethod
        def from_path(path, *a, **kw):
            opened.append("path")
            return real.from_path(path, *a, **kw)

        @staticmethod
        def from_filelike(fh, *a, **kw):
            opened.append("filelike")
            return real.from_filelike(fh, *a, **kw)

    master, inbox = _month(tmp_path)
    monkeypatch.setattr(python_calamine, "CalamineWorkbook", Spy)
    rep = nightly(tmp_path / "kehoach.toml", as_of=AS_OF, progress=False)
    assert rep.merge["written"] is True, rep.to_dict()
    assert "path" in opened and "filelike" not in opened, opened
