"""The monthly briefing (text, HTML, chart, .eml) and one reminder per unit with late or soon-due parts.

``compute_briefing`` is pure apart from rendering templates; ``briefing`` reads the
master, writes the files into ``out`` and, with ``send``, delivers them over SMTP.
The master is only read: the attached summary workbook is a new file."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from kehoach_xl import vn
from kehoach_xl.model import schema
from kehoach_xl.model.config import Config
from kehoach_xl.model.master import MasterData
from kehoach_xl.model.outcome import Outcome
from kehoach_xl.model.problem import WARNING, Problem
from kehoach_xl.model.registry import Registry
from kehoach_xl.model.roles import ROLE_STRENGTH, Role
from kehoach_xl.reports.context import summary_context, task_dicts
from kehoach_xl.reports.figures import TaskFact, part_figures, status_code
from kehoach_xl.reports.mailer import Outgoing, build_message, chart_cid, recipients, write_eml
from kehoach_xl.reports.render import render
from kehoach_xl.reports.summary import Summary, export_summary, summary_of
from kehoach_xl.text import normalize_text, slugify
from kehoach_xl.vn import parse_period, period_bounds

# How a reminder names each role's group, strongest first (chủ trì first).
ROLE_HEADINGS: dict[Role, str] = {
    Role.LEAD: "Nhiệm vụ đơn vị chủ trì",
    Role.SYNTH: "Nhiệm vụ đơn vị tổng hợp chung",
    Role.MEMBER: "Phần việc của đơn vị trong nhiệm vụ giao chung các phòng, đơn vị",
    Role.COORD: "Nhiệm vụ đơn vị phối hợp",
}


@dataclass
class Reminder:
    """One unit's outstanding parts: each a :class:`TaskFact` carrying the unit's OWN figures
    (status, progress, completion date, deadline state of its part), ``roles`` its role on each task."""

    unit: str
    to: list[str]
    overdue: list[TaskFact]
    due_soon: list[TaskFact]
    subject: str = ""
    text: str = ""
    html: str = ""
    eml_path: Path | None = None
    roles: dict[str, Role] = field(default_factory=dict)  # task id → the unit's role on it

    def groups(self) -> list[tuple[Role, list[TaskFact], list[TaskFact]]]:
        """(role, overdue, due soon) per role the unit has outstanding parts in, strongest first."""
        out = []
        for role in ROLE_STRENGTH:
            od = [f for f in self.overdue if self.roles.get(f.id) == role]
            ds = [f for f in self.due_soon if self.roles.get(f.id) == role]
            if od or ds:
                out.append((role, od, ds))
        return out


@dataclass
class BriefingResult:
    period: str
    as_of: dt.date
    subject: str
    text: str
    html: str
    to: list[str]
    cc: list[str]
    text_path: Path | None = None
    html_path: Path | None = None
    chart_path: Path | None = None
    eml_path: Path | None = None
    summary_path: Path | None = None
    reminders: list[Reminder] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # the Summary the briefing was written from (not in ``to_dict``): ``compute_briefing(...).result.summary``
    summary: Summary | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period, "as_of": self.as_of, "subject": self.subject, "to": self.to, "cc": self.cc,
            "text_path": self.text_path, "html_path": self.html_path, "chart_path": self.chart_path,
            "eml_path": self.eml_path, "summary_path": self.summary_path,
            "reminders": [{"unit": r.unit, "to": r.to, "overdue": len(r.overdue), "due_soon": len(r.due_soon),
                           "eml_path": r.eml_path} for r in self.reminders],
            "sent": self.sent, "warnings": self.warnings,
        }


def briefing_as_of(md: MasterData, period: str, today: dt.date | None = None) -> dt.date:
    """The master's as-of date when it falls in the period, else the period's end (never after today)."""
    first, last = period_bounds(period)
    stored = md.settings.get("as_of")
    if isinstance(stored, dt.datetime):
        stored = stored.date()
    if isinstance(stored, dt.date) and first <= stored <= last:
        return stored
    return min(last, today or dt.date.today())


def _emails(rows: list[dict[str, Any]]) -> list[str]:
    return [normalize_text(r.get("email")) for r in rows if normalize_text(r.get("email"))]


def office_unit(md: MasterData, config: Config, registry: Registry | None = None) -> str:
    """The unit that sends the reminders (``[mail] sender_name``, default "Văn phòng Sở"), as the
    sheet "Đơn vị" names it: it is never reminded of itself."""
    reg = registry or Registry.from_master(md)
    return reg.match_unit(config.mail.sender_name).canonical or normalize_text(config.mail.sender_name)


def reminders_for(s: Summary, md: MasterData, config: Config | None = None) -> list[Reminder]:
    """One reminder per unit for ITS OWN overdue or due-soon parts, with its own figures.

    Parts come from :func:`kehoach_xl.rules.parts.parts_of` (the named lead, the synthesiser, each
    member of a collective lead, each coordinating unit); a part's deadline state is the task's
    deadline against the unit's own status. A unit whose parts are all done or in time gets none;
    the sending office (:func:`office_unit`) gets none. A coordinating part is outstanding only while
    its unit has not reported its contribution for the period reported on. Within a reminder, parts are grouped by role,
    chủ trì first, then in task order.
    """
    config = config or Config()
    reg = Registry.from_master(md)
    office = office_unit(md, config, reg)
    pf = s.part_figures
    if pf is None or not pf.fits(s.as_of, config.due_soon_days, config.due_soon_unit):
        pf = part_figures(md, s.as_of, due_soon_days=config.due_soon_days, due_soon_unit=config.due_soon_unit,
                          registry=reg)
    parts, states = pf.parts, pf.states  # every part, or only the outstanding ones: the others are skipped below
    facts = {f.id: f for f in s.facts}
    per_unit: dict[str, Reminder] = {}
    for p, d in zip(parts, states, strict=True):
        f = facts.get(p.task_id)
        if f is None or d.deadline_state not in ("overdue", "due_soon") or p.unit == office:
            continue
        if p.role == Role.COORD and p.period and p.period >= s.period:
            continue  # a coordinator that reported its contribution for the period owes nothing more now
        own = replace(f, status=status_code(p.status, p.progress), state=d.deadline_state,
                      days_remaining=d.days_remaining, completed_on=p.completed_on, progress=p.progress,
                      result=p.result, difficulties=p.difficulties, proposals=p.proposals)
        r = per_unit.get(p.unit)
        if r is None:  # the unit's row looked up once, not once per part (a scan of the sheet "Đơn vị")
            u = reg.unit(p.unit) or {}
            r = per_unit[p.unit] = Reminder(p.unit, _emails([u]) if u else [], [], [])
        r.roles[p.task_id] = p.role
        (r.overdue if d.deadline_state == "overdue" else r.due_soon).append(own)
    strength = {role: i for i, role in enumerate(ROLE_STRENGTH)}
    for r in per_unit.values():
        for items in (r.overdue, r.due_soon):
            items.sort(key=lambda f, r=r: (strength[r.roles[f.id]], f.row))
    order = {n: i for i, n in enumerate(reg.unit_names)}
    return sorted(per_unit.values(), key=lambda r: (order.get(r.unit, len(order)), r.unit))


def compute_briefing(md: MasterData, *, period: str, as_of: dt.date | None = None, config: Config | None = None,
                     chart_src: str = "") -> Outcome:
    """The briefing and the reminders of ``period``, rendered (nothing is written or sent).

    ``result`` is the :class:`BriefingResult`; its ``summary`` is the :class:`Summary` it was
    written from. ``figures`` are the summary's totals (as ``compute_summary`` gives them);
    ``problems`` a warning per unit with a reminder but no e-mail address.
    """
    return _briefing(md, period=period, as_of=as_of, config=config or Config(), chart_src=chart_src)[0]


def _briefing(md: MasterData, *, period: str, as_of: dt.date | None, config: Config,
              chart_src: str) -> tuple[Outcome, dict[str, Any]]:
    """:func:`compute_briefing` and the template context it rendered (reused for the e-mail's HTML)."""
    period = parse_period(period)
    as_of = as_of or briefing_as_of(md, period)
    s = summary_of(md, as_of, config=config, period=period)
    ctx = summary_context(s, config=config, period=period)
    subject = render("briefing_subject.txt.j2", ctx, config).strip()
    ctx["subject"] = subject
    text = render("briefing.txt.j2", ctx, config)
    html = render("briefing.html.j2", {**ctx, "chart_src": chart_src}, config)
    result = BriefingResult(
        period=period, as_of=as_of, subject=subject, text=text, html=html,
        to=[*_emails(md.leaders.rows), *config.mail.to],
        cc=[*_emails([u for u in md.units.rows]), *config.mail.cc], summary=s,
    )
    problems: list[Problem] = []
    for r in reminders_for(s, md, config):
        _task = task_dicts()  # a part listed by deadline and again by role: one dict
        rctx = {**ctx, "unit": r.unit, "overdue": [_task(f) for f in r.overdue],
                "due_soon": [_task(f) for f in r.due_soon],
                "role_groups": [{"role": str(role), "heading": ROLE_HEADINGS[role], "overdue": [_task(f) for f in od],
                            "due_soon": [_task(f) for f in ds]} for role, od, ds in r.groups()]}
        r.subject = render("reminder_subject.txt.j2", rctx, config).strip()
        rctx["subject"] = r.subject
        r.text = render("reminder.txt.j2", rctx, config)
        r.html = render("reminder.html.j2", rctx, config)
        if not r.to:
            result.warnings.append(f"{r.unit} chưa có địa chỉ thư điện tử trong sheet Đơn vị; thư nhắc việc chỉ được lưu tệp.")
            problems.append(Problem("reminder_no_email", result.warnings[-1], WARNING, sheet=schema.UNITS.name,
                                    column=schema.UNITS.col("email").header, value=r.unit))
        result.reminders.append(r)
    t = s.total
    return Outcome(as_of=as_of, problems=problems, result=result, figures={
        "tasks": t.total, "done": t.done_on_time + t.done_late, "overdue": t.overdue, "period": s.period,
        "reminders": len(result.reminders)}), ctx


def write_briefing_files(md: MasterData, *, period: str, as_of: dt.date | None, config: Config,
                         out: Path | str) -> tuple[BriefingResult, list[EmailMessage]]:
    """Write the briefing (.txt, .html, chart .png, .eml with the summary workbook) and reminders into ``out``.

    Returns the result and the messages that have recipients, ready to send. Shared by
    the command line and the Excel button, which reads ``md`` from the open workbook.
    """
    # matplotlib is imported here, when a chart is drawn: the report imports this module for
    # ``briefing_as_of`` and draws none (importing it was a second of every report).
    from kehoach_xl.reports.charts import unit_chart

    out = Path(out)
    cid = chart_cid()
    # The HTML file on disk shows the PNG beside it; the .eml carries the same PNG inline.
    chart_name = f"bieu_do_{parse_period(period).replace('-', '_')}.png"
    outcome, ctx = _briefing(md, period=period, as_of=as_of, config=config, chart_src=chart_name)
    del md  # what follows is made from the Summary: the master's rows are not kept for it (memory)
    res = outcome.result
    s = res.summary
    tag = res.period.replace("-", "_")
    res.chart_path = unit_chart(s.by_unit, out / chart_name,
                                title=f"Tình hình thực hiện theo đơn vị chủ trì (đến ngày {vn.date(res.as_of)})")
    file_html = res.html  # rendered with chart_src the PNG's file name
    mail_html = render("briefing.html.j2", {**ctx, "chart_src": f"cid:{cid}"}, config)
    out.mkdir(parents=True, exist_ok=True)
    res.text_path = out / f"bao_cao_giao_ban_{tag}.txt"
    res.text_path.write_text(res.text, encoding="utf-8")
    res.html_path = out / f"bao_cao_giao_ban_{tag}.html"
    res.html_path.write_text(file_html, encoding="utf-8")
    res.summary_path = export_summary(s, out / f"tong_hop_{tag}.xlsx")
    msg = build_message(Outgoing(subject=res.subject, to=res.to, cc=res.cc, text=res.text, html=mail_html,
                                 inline_png=res.chart_path.read_bytes(), inline_cid=cid,
                                 attachments=[res.summary_path]), config.mail)
    res.eml_path = write_eml(msg, out / f"bao_cao_giao_ban_{tag}.eml")
    messages = [msg] if recipients(msg) else []
    if not messages:
        res.warnings.append("Chưa có người nhận báo cáo: thêm email vào sheet Lãnh đạo hoặc mục [mail] to.")
    for r in res.reminders:
        rmsg = build_message(Outgoing(subject=r.subject, to=r.to, cc=config.mail.cc, text=r.text, html=r.html),
                             config.mail)
        r.eml_path = write_eml(rmsg, out / "nhac_viec" / f"nhac_viec_{slugify(r.unit)}_{tag}.eml")
        if r.to:
            messages.append(rmsg)
    return res, messages
