"""The formal monthly report (.docx) in the national format of Nghị định 30/2020/NĐ-CP.

docxtpl fills ``templates/bao_cao.docx`` (built by templates/build_report_template.py,
editable in Word); the body text comes from ``report_body.txt.j2`` so wording and
layout can be changed separately. A ``templates/`` folder next to the master
overrides either file."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from kehoach_xl import vn
from kehoach_xl.model import schema
from kehoach_xl.model.config import Config
from kehoach_xl.model.master import MasterData
from kehoach_xl.model.outcome import Outcome
from kehoach_xl.reports.briefing import briefing_as_of
from kehoach_xl.reports.context import summary_context
from kehoach_xl.reports.render import render
from kehoach_xl.reports.summary import Summary, month_label, summary_of
from kehoach_xl.text import normalize_text
from kehoach_xl.vn import parse_period

TEMPLATE = "bao_cao.docx"


_BLOCK = re.compile(r"^(#{1,2}|-)\s+(.*)$")


def body_blocks(text: str) -> list[dict[str, str]]:
    blocks = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        m = _BLOCK.match(line)
        if m:
            kind = {"#": "h1", "##": "h2", "-": "bullet"}[m[1]]
            blocks.append({"kind": kind, "text": m[2]})
        else:
            blocks.append({"kind": "text", "text": line})
    return blocks


def _agency_code(meta: dict[str, Any]) -> str:
    """"62/KH-STNMT" → "STNMT" (the issuer's abbreviation in document numbers)."""
    number = normalize_text(meta.get("plan_number"))
    m = re.search(r"/[A-ZĐ]+-([A-ZĐ0-9.]+)\s*$", number)
    return m[1] if m else "…"


def _signer(md: MasterData) -> tuple[str, str, str]:
    """(authority line, title line, name): the director signs; without one, the first leader listed."""
    leaders = [r for r in md.leaders.rows if r.get("name")]
    director = next((r for r in leaders if normalize_text(r.get("title")).casefold().startswith("giám đốc")), None)
    if director is not None:
        return "", "GIÁM ĐỐC", normalize_text(director["name"])
    if leaders:
        title = normalize_text(leaders[0].get("title")) or "Phó Giám đốc"
        return "KT. GIÁM ĐỐC", title.upper().replace(" SỞ", ""), normalize_text(leaders[0]["name"])
    return "", "THỦ TRƯỞNG CƠ QUAN", ""


def _state_label(f: Any) -> str:
    label = schema.DEADLINE_STATES.get(f.state, f.state)
    if f.state == "overdue":
        label += f" {f.days_overdue} ngày"
    return label


def plan_number_of(md: MasterData, f: Any) -> str:
    """The task's number in the plan, group and STT ("I.1"); either alone when the other is empty."""
    row = md.tasks.rows[f.row] if 0 <= f.row < len(md.tasks.rows) else {}
    group = normalize_text(row.get("group") or f.group)
    stt = normalize_text(row.get("stt"))
    return ".".join(x for x in (group, stt) if x)


def report_context(s: Summary, md: MasterData, *, config: Config, period: str) -> dict[str, Any]:
    ctx = summary_context(s, config=config, period=period)
    body = render("report_body.txt.j2", ctx, config)
    meta = s.meta
    authority, title, name = _signer(md)
    parent = normalize_text(meta.get("parent_agency"))
    agency = normalize_text(meta.get("agency")) or "Cơ quan"
    issued = s.as_of
    place = normalize_text(meta.get("place")) or config.place or "…"
    appendix = []
    for f in s.facts:
        appendix.append({
            "stt": plan_number_of(md, f), "task": f"{f.task} ({f.id})", "units": f.units_text,
            "deadline": f.deadline_text or vn.date(f.due_date),
            "state": _state_label(f), "result": f.result,
        })
    return {
        **ctx,
        "parent_agency_upper": parent.upper(),
        "agency_upper": agency.upper(),
        "agency": agency,
        "agency_code": _agency_code(meta),
        "place": place,
        # NĐ 30/2020: a leading zero only for days below 10 and for January and February.
        "day": f"{issued.day:02d}", "month": f"{issued.month:02d}" if issued.month < 3 else str(issued.month),
        "year": issued.year,
        "date_text": vn.date(issued),
        "title": f"Kết quả thực hiện {ctx['plan_ref']} {month_label(period)}",
        "body": body_blocks(body),
        "body_text": body,
        "recipients": [x for x in (
            f"{parent} (b/c);" if parent else "",
            "Lãnh đạo Sở;",
            "Các phòng, đơn vị thuộc Sở;",
            "Lưu: VT, VP.",
        ) if x],
        "sign_authority": authority,
        "sign_title": title,
        "signer": name,
        "appendix": appendix,
    }


def compute_report(md: MasterData, *, period: str, as_of: dt.date | None = None,
                   config: Config | None = None) -> Outcome:
    """The formal report of ``period``: ``result`` is the template context (nothing is written).

    ``figures`` are the summary's totals, as ``compute_summary`` gives them.
    """
    config = config or Config()
    period = parse_period(period)
    s = summary_of(md, as_of or briefing_as_of(md, period), config=config, period=period)
    t = s.total
    return Outcome(as_of=s.as_of, result=report_context(s, md, config=config, period=period), figures={
        "tasks": t.total, "done": t.done_on_time + t.done_late, "overdue": t.overdue, "period": s.period})
