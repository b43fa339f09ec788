"""``kehoach-xl import``: read a plan document, import its tasks into a master (new or existing), write once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kehoach_xl.importer.model import ImportWarning, ParsedPlan
from kehoach_xl.importer.plan_import import (
    ImportReport,
    _default_code,
    _ids,
    _new_report,
    _resolve_all,
    _Resolver,
    compute_import,
    meta_values,
    parse_plan,
)
from kehoach_xl.model import schema
from kehoach_xl.model.registry import Registry
from kehoach_xl.text import normalize_text


def import_plan(plan_file: Path | str, into: Path | str, *, plan_code: str | None = None, add_unknown: bool = False,
                plan_year: int | None = None, dry_run: bool = False, config: Any = None,
                with_progress: bool = False) -> ImportReport:
    """Import the task table of ``plan_file`` into the master ``into`` (created when it does not exist)."""
    into = Path(into)
    if into.exists():
        from kehoach_xl.commands._guard import checked_master

        checked_master(into)  # before the plan is read: the wrong target is refused first
    parsed = parse_plan(plan_file, plan_year=plan_year)
    if not into.exists():
        return _create(parsed, into, plan_code=plan_code, dry_run=dry_run, with_progress=with_progress)
    from kehoach_xl.io.master_read import read_master
    from kehoach_xl.io.master_write import write_master

    md = read_master(into)
    outcome = compute_import(md, parsed, config=config, plan_code=plan_code, add_unknown=add_unknown,
                             with_progress=with_progress)
    changes, report = outcome.changes, outcome.result
    report.master = str(into)
    report.dry_run = dry_run
    if not dry_run and not changes.is_empty():
        res = write_master(into, changes, action="import", config=config, expect=md.stamp)
        report.backup = str(res.backup) if res.backup else None
    return report


def _create(parsed: ParsedPlan, into: Path, *, plan_code: str | None, dry_run: bool,
            with_progress: bool = False) -> ImportReport:
    """A new master whose registry is the units and leaders the plan names."""
    from kehoach_xl.commands.init import create_master

    code = normalize_text(plan_code) or _default_code(parsed)
    report = _new_report(parsed, str(into), code)
    report.created_master = True
    report.dry_run = dry_run
    res = _Resolver(Registry(), strict=False, report=report, with_progress=with_progress)
    recs = _resolve_all(parsed, res, code, report)
    ids = _ids(code, ())
    for rec in recs:
        rec.pop("_as_written", None)
        rec["id"] = next(ids)
        rec.setdefault("status", schema.STATUS_NOT_STARTED)
        report.added_ids.append(rec["id"])
    report.tasks = recs
    if not plan_code:
        report.problems.append(ImportWarning(f"Chưa có mã kế hoạch; dùng '{code}' lấy từ tên tệp.", "", None,
                                             "plan_code_default").problem(parsed.source))
    units = [{"name": n, "kind": res.unit_kinds.get(n) or ""} for n in report.units]
    leaders = [{"name": x["name"], "title": x["title"]} for x in res._unknown_l.values()]
    report.units_added = [u["name"] for u in units]
    report.leaders_added = [x["name"] for x in leaders]
    if not dry_run:
        meta = meta_values(parsed.meta)
        report.meta_stored = ["plan_code", *(k for k in meta if k != "plan_year"), "plan_year"]
        create_master(into, tasks=recs, units=units, leaders=leaders,
                      meta={**meta, "plan_code": code, "plan_year": parsed.plan_year})
    return report
