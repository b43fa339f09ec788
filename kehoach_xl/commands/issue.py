"""``kehoach-xl issue``: one signed workbook per unit for a period."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from kehoach_xl import vn
from kehoach_xl.commands._guard import checked_master
from kehoach_xl.errors import DataError, SetupError
from kehoach_xl.io.master_read import read_master
from kehoach_xl.model import schema
from kehoach_xl.model.config import Config, load_config
from kehoach_xl.model.master import MasterData
from kehoach_xl.model.registry import Registry, split_parties
from kehoach_xl.model.unitbook import unitbook_name
from kehoach_xl.reports.context import plan_reference
from kehoach_xl.reports.mailer import Outgoing, build_message, send_messages, write_eml
from kehoach_xl.reports.render import render
from kehoach_xl.reports.unitbook import build_unitbook
from kehoach_xl.rules.assignments import assignments
from kehoach_xl.rules.parts import parts_of
from kehoach_xl.text import normalize_text
from kehoach_xl.vn import parse_period, period_bounds, period_label

log = logging.getLogger(__name__)


def issue(master: Path | str, *, period: str, out: Path | str, config: Config | None = None,
          units: Sequence[str] | None = None, issued_at: dt.datetime | None = None, send: bool = False,
          on_mail: Callable[[IssueMail], None] | None = None) -> list[Path]:
    """Write one workbook per unit that leads or coordinates a task; returns the paths written.

    With ``send``, each unit is also mailed its workbook (:func:`send_issue_letters`); ``on_mail``
    receives what was sent and which units have no address."""
    period = parse_period(period)  # "2024-5" is signed as "2024-05", the form merge and history compare
    master = checked_master(master)
    cfg = config or load_config(master)
    md = read_master(master)
    if md.tasks.missing:
        raise SetupError(f"Sheet '{schema.TASKS.name}' thiếu cột: {', '.join(md.tasks.missing)}.")
    _refuse_unknown_units(md)
    if not md.settings.get("master_id"):
        log.warning("sổ %s chưa có mã sổ (master_id) trong sheet Cấu hình; tệp giao đơn vị sẽ mang mã trống", master.name)
    plan = assignments(md)
    parts = parts_of(md)  # each unit's row values: its own last report of each part
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    wanted = {normalize_text(u) for u in units} if units else None
    written: list[Path] = []
    by_unit: dict[str, Path] = {}
    for unit in sorted(plan):
        if wanted is not None and unit not in wanted:
            continue
        wb = build_unitbook(md, unit, period, plan[unit], secret=cfg.secret, issued_at=issued_at,
                            parts=parts)
        path = out / unitbook_name(unit, period)
        wb.save(path)
        written.append(path)
        by_unit[unit] = path
    if send:
        mail_result = send_issue_letters(md, by_unit, period=period, config=cfg, tasks={u: len(plan[u]) for u in by_unit},
                                         out=out)
        if on_mail is not None:
            on_mail(mail_result)
    return written


@dataclass
class IssueMail:
    """What ``issue --send`` did: units mailed, units with no address in the "Đơn vị" sheet."""

    sent: list[str] = field(default_factory=list)
    no_address: list[str] = field(default_factory=list)
    eml_paths: list[Path] = field(default_factory=list)


def reply_by(period: str, config: Config) -> dt.date:
    """The day units reply by: ``[mail] report_day`` of the period's month (its last day at most)."""
    first, last = period_bounds(period)
    return first.replace(day=min(config.mail.report_day, last.day))


def send_issue_letters(md: MasterData, by_unit: dict[str, Path], *, period: str, config: Config,
                       tasks: dict[str, int], out: Path) -> IssueMail:
    """Mail each unit its workbook with the letter (templates letter_issue*.j2); an .eml copy of each
    letter is kept in ``out/thu_giao``. Units without an address are listed, not mailed."""
    reg = Registry.from_master(md)
    res = IssueMail()
    messages: list[EmailMessage] = []
    meta = {k: md.settings.get(k) for k in schema.SETTINGS_ROWS}
    for unit, path in by_unit.items():
        row = reg.unit(unit) or {}
        to = [a for a in re.split(r"[;,\s]+", str(row.get("email") or "")) if "@" in a]
        ctx = {"unit": unit, "period_label": period_label(period), "reply_by": vn.date(reply_by(period, config)),
               "file_name": path.name, "tasks": tasks.get(unit, 0), "plan_ref": plan_reference(meta),
               "sender_name": config.mail.sender_name, "contact": config.mail.contact}
        ctx["subject"] = render("letter_issue_subject.txt.j2", ctx, config).strip()
        msg = build_message(Outgoing(subject=ctx["subject"], to=to, text=render("letter_issue.txt.j2", ctx, config),
                                     html=render("letter_issue.html.j2", ctx, config), attachments=[path]),
                            config.mail)
        res.eml_paths.append(write_eml(msg, out / "thu_giao" / f"{path.stem}.eml"))
        if to:
            messages.append(msg)
            res.sent.append(unit)
        else:
            res.no_address.append(unit)
            log.warning("đơn vị %s chưa có địa chỉ thư điện tử trong sheet Đơn vị: chưa gửi tệp cho đơn vị", unit)
    send_messages(messages, config.mail)
    return res


def unknown_units(md: MasterData) -> dict[str, list[str]]:
    """Lead or coordinating units named in tasks but absent from the units sheet: name → task IDs."""
    registry = Registry.from_master(md)
    found: dict[str, list[str]] = {}
    for row in md.tasks.rows:
        tid = normalize_text(row.get("id"))
        if not tid:
            continue
        for key in ("lead_units", "coordinating_units"):
            for p in split_parties(row.get(key)):
                if registry.match_unit(p.name).canonical is None:
                    ids = found.setdefault(p.name, [])
                    if tid not in ids:
                        ids.append(tid)
    return found


def _refuse_unknown_units(md: MasterData) -> None:
    """DataError (exit 1) before any workbook is written when a task names a unit nobody can be issued.

    Issuing anyway would leave those tasks with no workbook and nobody reporting on them, silently.
    """
    unknown = unknown_units(md)
    if not unknown:
        return
    n_tasks = len({t for ids in unknown.values() for t in ids})
    listed = "; ".join(f"“{name}” (nhiệm vụ {', '.join(ids[:5])}{' …' if len(ids) > 5 else ''})"
                       for name, ids in list(unknown.items())[:10])
    more = f"; và {len(unknown) - 10} đơn vị khác" if len(unknown) > 10 else ""
    raise DataError(
        f"Không giao tệp báo cáo: {n_tasks} nhiệm vụ có đơn vị chủ trì hoặc phối hợp chưa có trong sheet "
        f"“{schema.UNITS.name}”: {listed}{more}. Chưa ghi tệp nào. Cách sửa: thêm các đơn vị này vào sheet "
        f"“{schema.UNITS.name}” của sổ theo dõi (tên hoặc tên viết tắt), hoặc nhập lại kế hoạch với "
        f"“kehoach-xl import <văn bản> --into <sổ theo dõi> --add-unknown”; rồi chạy lại lệnh issue.")
