"""The formal monthly report (.docx) in the national format of Nghị định 30/2020/NĐ-CP.

docxtpl fills ``templates/bao_cao.docx`` (built by templates/build_report_template.py,
editable in Word); the body text comes from ``report_body.txt.j2`` so wording and
layout can be changed separately. A ``templates/`` folder next to the master
overrides either file.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from docxtpl import DocxTemplate

from .. import schema
from ..config import Config, load_config
from ..errors import SetupError
from ..master import MasterData, read_master
from ..rules.deadline import format_vn_date
from ..rules.period import parse_period
from ..text import normalize_text
from .briefing import briefing_as_of
from .context import summary_context
from .render import environment, render, template_dirs
from .summary import Summary, compute_summary, month_label

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
    for k, f in enumerate(s.facts, start=1):
        appendix.append({
            "stt": k, "task": f.task, "units": f.units_text,
            "deadline": f.deadline_text or format_vn_date(f.due_date),
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
        "date_text": format_vn_date(issued),
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


def _template_path(config: Config) -> Path:
    for d in template_dirs(config):
        if (d / TEMPLATE).exists():
            return d / TEMPLATE
    raise SetupError(f"Không tìm thấy mẫu báo cáo {TEMPLATE}; chạy templates/build_report_template.py để tạo lại.")


def compute_report(md: MasterData, *, period: str, as_of: dt.date | None = None,
                   config: Config | None = None) -> tuple[Summary, dict[str, Any]]:
    config = config or Config()
    period = parse_period(period)
    s = compute_summary(md, as_of or briefing_as_of(md, period), config=config, period=period)
    return s, report_context(s, md, config=config, period=period)


def report(master: Path | str, *, period: str, out: Path | str, as_of: dt.date | None = None) -> Path:
    """Write the formal report for ``period`` (YYYY-MM). ``out`` is a folder or a .docx path."""
    master, out = Path(master), Path(out)
    period = parse_period(period)  # SetupError naming the value, before the master is read
    if out.exists() and not out.is_dir() and out.suffix.lower() != ".docx":
        raise SetupError(f"--out “{out}” là một tệp không phải .docx; hãy chỉ một thư mục hoặc một tệp .docx.")
    md = read_master(master)
    config = load_config(master)
    _, ctx = compute_report(md, period=period, as_of=as_of, config=config)
    if out.suffix.lower() != ".docx":
        out = out / f"bao_cao_{ctx['period'].replace('-', '_')}.docx"
    out.parent.mkdir(parents=True, exist_ok=True)
    tpl = DocxTemplate(str(_template_path(config)))
    # The same sandbox as every other template; autoescape because the document is XML.
    tpl.render(ctx, jinja_env=environment(config, autoescape=True), autoescape=True)
    tpl.save(str(out))
    return out
