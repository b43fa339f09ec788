"""The formal monthly report (.docx) in the national format of Nghị định 30/2020/NĐ-CP.

docxtpl fills ``templates/bao_cao.docx`` (built by templates/build_report_template.py,
editable in Word); the body text comes from ``report_body.txt.j2`` so wording and
layout can be changed separately. A ``templates/`` folder next to the master
overrides either file."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, overload

from kehoach_xl import vn
from kehoach_xl.model import schema
from kehoach_xl.model.config import Config
from kehoach_xl.model.master import MasterData
from kehoach_xl.model.outcome import Outcome
from kehoach_xl.reports.briefing import briefing_as_of
from kehoach_xl.reports.context import summary_context
from kehoach_xl.reports.figures import TaskFact
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


class Appendix(Sequence[dict[str, Any]]):
    """The appendix table's rows (one per task), each made when the template reaches it: a list of
    them all was 20 MiB at 10,000 tasks, held while the document was written."""

    def __init__(self, facts: Sequence[TaskFact], numbers: dict[int, str]) -> None:
        self._facts, self._numbers = facts, numbers

    def __len__(self) -> int:
        return len(self._facts)

    @overload
    def __getitem__(self, i: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, i: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, i: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(i, slice):
            return [self._row(f) for f in self._facts[i]]
        return self._row(self._facts[i])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return map(self._row, self._facts)

    def _row(self, f: TaskFact) -> dict[str, Any]:
        return {"stt": self._numbers.get(f.row, f.number), "task": f"{f.task} ({f.id})", "units": f.units_text,
                "deadline": f.deadline_text or vn.date(f.due_date), "state": _state_label(f), "result": f.result}


def report_context(s: Summary, md: MasterData, *, config: Config, period: str) -> dict[str, Any]:
    ctx = summary_context(s, config=config, period=period)
    body = render("report_body.txt.j2", ctx, config)
    meta = s.meta
    authority, title, name = _signer(md)
    parent = normalize_text(meta.get("parent_agency"))
    agency = normalize_text(meta.get("agency")) or "Cơ quan"
    issued = s.as_of
    place = normalize_text(meta.get("place")) or config.place or "…"
    # The plan's numbering differs from the fact's own only where a task has no group code.
    numbers = {f.row: n for f in s.facts if (n := plan_number_of(md, f)) != f.number}
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
        "appendix": Appendix(s.facts, numbers),
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


# --- writing the .docx: docxtpl's rendering, streamed -------------------------------------------
#
# docxtpl renders the whole document body to one string, rewrites it with regular expressions,
# parses it into an lxml tree (to fix table grids and image ids) and serialises it again: at
# 10,000 tasks the body is 32 MB of XML and the report peaked at 700 MiB, 2.6 GiB at 50,000.
# The body is rendered here by the same template and the same rewriting, but chunk by chunk
# straight into the .docx, with a SAX parser checking on the way that it is well-formed XML.
# Templates that need the tree pass (cell loops and merges rewrite table grids, images renumber
# ids) and any output that is not well-formed go through docxtpl itself, exactly as before.

_NEEDS_TREE = re.compile(r"docPr|\{%-?\s*tc\s|\{%\s*(?:hm|vm|colspan|cellbg)\b")
_BODY_START = re.compile(r"^<w:body((?:\s+xmlns:[\w.-]+=\"[^\"]*\")*)\s*>")
_CHUNK_CHARS = 1 << 18  # rewrite and write the rendered body in pieces of about this size
_DOCUMENT = "word/document.xml"


class _WellFormed:
    """lxml parser target that keeps nothing: the check costs no tree."""

    def start(self, tag: str, attrib: Any) -> None:
        pass

    def end(self, tag: str) -> None:
        pass

    def data(self, data: str) -> None:
        pass

    def close(self) -> None:
        pass


def write_docx(template: Path, ctx: dict[str, Any], env: Any, out: Path) -> Path:
    """Render the docxtpl ``template`` with ``ctx`` in the Jinja2 ``env`` (autoescaping) into ``out``.

    The same document as ``DocxTemplate.render`` + ``save`` (the same XML once parsed: tests/
    speed_guard compares them), in memory that does not grow with the body's size.
    """
    import shutil
    import tempfile
    import zipfile

    from docxtpl import DocxTemplate
    from lxml import etree

    tpl = DocxTemplate(str(template))
    tpl.render_init()
    src = tpl.patch_xml(tpl.get_xml())
    if _NEEDS_TREE.search(src):
        return _write_with_docxtpl(template, ctx, env, out)
    root_tag = etree.tostring(tpl.docx._element, encoding="unicode").split(">", 1)[0]
    m = _BODY_START.match(src)
    if m is None:
        return _write_with_docxtpl(template, ctx, env, out)
    # The body's own copies of the document's namespace declarations (docxtpl's parse drops them).
    if all(decl.strip() in root_tag for decl in re.findall(r"\s+xmlns:[\w.-]+=\"[^\"]*\"", m[1])):
        src = "<w:body>" + src[m.end():]
    body = env.from_string(re.sub(r"<w:p([ >])", r"\n<w:p\1", src))

    # Everything but the body as docxtpl renders it: headers, footers, properties, footnotes.
    for uri in (tpl.HEADER_URI, tpl.FOOTER_URI):
        for rel, xml in tpl.build_headers_footers_xml(ctx, uri, env):
            tpl.map_headers_footers_xml(rel, xml)
    tpl.render_properties(ctx, env)
    tpl.render_footnotes(ctx, env)
    tpl.is_rendered = True
    # The template's body emptied down to a marker, to be replaced by the rendered body in the file.
    placeholder = tpl.docx._element.body
    for child in list(placeholder):
        placeholder.remove(child)
    placeholder.text = marker = "KEHOACH-REPORT-BODY"
    listing = tpl.resolve_listing

    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".bao_cao_") as tmp:
        shell, streamed = Path(tmp) / "shell.docx", Path(tmp) / "report.docx"
        tpl.save(str(shell))
        checker = etree.XMLParser(target=_WellFormed(), huge_tree=True)
        try:
            with zipfile.ZipFile(shell) as zin, zipfile.ZipFile(streamed, "w", zipfile.ZIP_DEFLATED) as zout:
                for info in zin.infolist():
                    data = zin.read(info)
                    if info.filename != _DOCUMENT:
                        zout.writestr(info, data)
                        continue
                    head, sep, tail = data.decode("utf-8").partition(f"<w:body>{marker}</w:body>")
                    if not sep:
                        raise ValueError("no body placeholder")
                    entry = zipfile.ZipInfo(info.filename, info.date_time)
                    entry.compress_type = zipfile.ZIP_DEFLATED
                    with zout.open(entry, "w") as f:
                        # chain, not (head, *pieces, tail): unpacking would hold the whole body at once
                        for piece in itertools.chain((head,), _body_pieces(body.generate(ctx), listing), (tail,)):
                            raw = piece.encode("utf-8")
                            checker.feed(raw)
                            f.write(raw)
            checker.close()
        except (etree.XMLSyntaxError, ValueError):
            return _write_with_docxtpl(template, ctx, env, out)
        shutil.move(str(streamed), out)
    return out


def _body_pieces(chunks: Iterable[str], resolve_listing: Any) -> Iterator[str]:
    """The rendered body with docxtpl's rewriting after rendering (``resolve_listing``: tabs, new
    lines and page breaks typed in a value), applied piece by piece.

    Each piece ends just after a ``</w:p>``: none of the rewrites spans a paragraph's end (a
    paragraph is matched up to its first ``</w:p>``), so piecewise equals whole."""
    buf: list[str] = []
    size = 0
    for chunk in chunks:
        buf.append(chunk)
        size += len(chunk)
        if size < _CHUNK_CHARS:
            continue
        text = "".join(buf)
        cut = text.rfind("</w:p>")
        if cut < 0:
            buf, size = [text], len(text)
            continue
        cut += len("</w:p>")
        yield _after_render(text[:cut], resolve_listing)
        buf, size = [text[cut:]], len(text) - cut
    yield _after_render("".join(buf), resolve_listing)


def _after_render(xml: str, resolve_listing: Any) -> str:
    """What ``DocxTemplate.render_xml_part`` does to the rendered XML (docxtpl 0.20)."""
    xml = re.sub(r"\n<w:p([ >])", r"<w:p\1", xml)
    xml = xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
    return resolve_listing(xml)


def _write_with_docxtpl(template: Path, ctx: dict[str, Any], env: Any, out: Path) -> Path:
    from docxtpl import DocxTemplate

    tpl = DocxTemplate(str(template))
    tpl.render(ctx, jinja_env=env, autoescape=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    tpl.save(str(out))
    return out
