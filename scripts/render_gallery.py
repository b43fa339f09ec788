"""Render every output of the demo, every page, into docs/images/ (the README's gallery).

    .venv/bin/python scripts/render_gallery.py [--dpi 60] [--keep DIR]

Builds the demo (``kehoach_xl.commands.demo``) in a temporary folder, converts each output a
person reads to PDF with LibreOffice — the master with all its sheets, the exported summary,
one unit workbook, the Word report, the briefing HTML and one reminder e-mail's HTML — and
every page of each PDF to ``docs/images/<name>_p<N>.png``. PNGs this script made before
(``<name>_p<N>.png`` for its own names) are deleted first, so a page that no longer exists
does not linger. Images other helpers make (parts_sheet.png, unitbook_*.png, …) are left alone.
``--keep DIR`` also copies the PDFs there (the rendering tests read the same PDFs).
The README's gallery (between the ``gallery:start`` and ``gallery:end`` markers, and nothing
else of the README) is rewritten to show every page made.
"""

from __future__ import annotations

import argparse
import email
import re
import shutil
import subprocess
import sys
import tempfile
from email import policy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "images"
# Output name → what it is (the README gallery's captions, in page order).
NAMES = {
    "master": "Sổ theo dõi (mọi sheet) / the master, every sheet",
    "summary": "Tệp tổng hợp xuất riêng / the exported summary workbook",
    "unit": "Tệp báo cáo của một đơn vị / one unit's workbook",
    "report": "Báo cáo (Nghị định 30/2020) / the Word report",
    "briefing": "Nội dung giao ban (HTML) / the briefing e-mail",
    "reminder": "Thư nhắc việc gửi một đơn vị / one reminder e-mail",
}
_OURS = re.compile(rf"^({'|'.join(NAMES)})_p\d+\.png$")


def soffice_pdf(src: Path, work: Path, *, writer_html: bool = False) -> Path:
    """``src`` as PDF in ``work`` (a private LibreOffice profile, so runs never share a lock)."""
    prof = work / "lo_profile"
    extra = ["--infilter=HTML (StarWriter)"] if writer_html else []
    target = "pdf:writer_pdf_Export" if writer_html else "pdf"
    subprocess.run(["soffice", f"-env:UserInstallation={prof.as_uri()}", "--headless", "--norestore", *extra,
                    "--convert-to", target, "--outdir", str(work), str(src)],
                   check=True, capture_output=True, timeout=300)
    pdf = work / (src.stem + ".pdf")
    if not pdf.is_file():
        raise RuntimeError(f"LibreOffice made no PDF of {src.name}")
    return pdf


def html_of_eml(eml: Path, dst: Path) -> Path:
    """The HTML part of an e-mail, as a file LibreOffice can open."""
    msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    body = msg.get_body(preferencelist=("html",))
    if body is None:
        raise RuntimeError(f"{eml.name} has no HTML part")
    dst.write_text(body.get_content(), encoding="utf-8")
    return dst


def demo_outputs(work: Path) -> dict[str, Path]:
    """Run the demo in ``work/demo``; name → the PDF of each output."""
    from kehoach_xl.commands.demo import demo

    res = demo(work / "demo")
    reports = work / "demo" / "bao_cao"
    pdfs = work / "pdf"
    pdfs.mkdir()
    unit = sorted((work / "demo" / "gui_don_vi").glob("*.xlsx"))[0]
    reminder = sorted((reports / "nhac_viec").glob("*.eml"))[0]
    sources = {
        "master": (res.master, False),
        "summary": (next(reports.glob("tong_hop_*.xlsx")), False),
        "unit": (unit, False),
        "report": (next(reports.glob("bao_cao_2*.docx")), False),
        "briefing": (next(reports.glob("bao_cao_giao_ban_*.html")), True),
        "reminder": (html_of_eml(reminder, work / "nhac_viec.html"), True),
    }
    out = {}
    for name, (src, html) in sources.items():
        # Copy under the gallery name first: the PDF then carries a stable name.
        named = work / f"{name}{src.suffix}"
        shutil.copyfile(src, named)
        pdf = soffice_pdf(named, work, writer_html=html)
        out[name] = pdf.replace(pdfs / f"{name}.pdf")
    return out


def to_pngs(pdf: Path, name: str, dpi: int) -> list[Path]:
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), str(pdf), str(OUT / f"{name}_p")], check=True)
    made = []
    # pdftoppm pads page numbers to the page count's width (p01 …): keep one stable form, p1.
    for p in sorted(OUT.glob(f"{name}_p-*.png")):
        n = int(p.stem.rsplit("-", 1)[1])
        made.append(p.replace(OUT / f"{name}_p{n}.png"))
    return sorted(made, key=lambda p: int(p.stem.rsplit("_p", 1)[1]))


README = ROOT / "README.md"
START, END = "<!-- gallery:start -->", "<!-- gallery:end -->"


def gallery_markdown(pages: dict[str, list[Path]]) -> str:
    """The README's gallery: a line of thumbnails per output, each linking to the full page."""
    out = [START, "",
           "Every page of every output of the demo, as LibreOffice prints it on A4 (regenerate with",
           "`.venv/bin/python scripts/render_gallery.py`; `tests/reports/test_rendering.py` checks the same",
           "PDFs by machine). Click a page for the full image.", ""]
    for name, pngs in pages.items():
        if not pngs:
            continue
        out.append(f"**{NAMES[name]}** ({len(pngs)} trang / pages)")
        out.append("")
        out.append("<p>" + " ".join(
            f'<a href="docs/images/{p.name}"><img src="docs/images/{p.name}" width="150" alt="{name} {k}"></a>'
            for k, p in enumerate(pngs, start=1)) + "</p>")
        out.append("")
    out.append(END)
    return "\n".join(out)


def update_readme(pages: dict[str, list[Path]]) -> None:
    text = README.read_text(encoding="utf-8")
    if START not in text or END not in text:
        print(f"README has no {START} … {END} section: gallery not written", file=sys.stderr)
        return
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    README.write_text(head + gallery_markdown(pages) + tail, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dpi", type=int, default=60)
    ap.add_argument("--keep", type=Path, help="also copy the PDFs into this folder")
    args = ap.parse_args(argv)
    if not shutil.which("soffice") or not shutil.which("pdftoppm"):
        print("needs LibreOffice (soffice) and poppler-utils (pdftoppm)", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        if _OURS.match(old.name):
            old.unlink()
    made: dict[str, list[Path]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        pdfs = demo_outputs(Path(tmp))
        for name, pdf in pdfs.items():
            made[name] = to_pngs(pdf, name, args.dpi)
            for png in made[name]:
                print(png.relative_to(ROOT))
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
                shutil.copy2(pdf, args.keep / pdf.name)
    update_readme(made)
    return 0


if __name__ == "__main__":
    sys.exit(main())
