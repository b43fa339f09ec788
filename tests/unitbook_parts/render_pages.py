"""Render one unit workbook (both sheets) and one reminder to PNG for docs/images.

``python -m tests.unitbook_parts.render_pages [OUT_DIR]`` — the demo month, then the workbook the
unit gets for the next month (prefilled with its May reports) and its reminder, through LibreOffice.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from kehoach_xl.commands.demo import DEMO_AS_OF, DEMO_PERIOD, demo
from kehoach_xl.commands.issue import issue
from kehoach_xl.io.master_read import read_master
from kehoach_xl.reports.briefing import compute_briefing

UNIT = "Thanh tra Sở"


def to_pdf(src: Path, out_dir: Path, *, html: bool = False) -> Path:
    profile = Path(tempfile.mkdtemp(prefix="lo_profile_"))
    # HTML through Writer (Writer/Web draws an empty page)
    extra = ["--infilter=HTML (StarWriter)", "--convert-to", "pdf:writer_pdf_Export"] if html else ["--convert-to", "pdf"]
    subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore", *extra,
                    "--outdir", str(out_dir), str(src)], check=True, capture_output=True, timeout=180)
    shutil.rmtree(profile, ignore_errors=True)
    return out_dir / (src.stem + ".pdf")


def to_pngs(pdf: Path, stem: Path, dpi: int = 60) -> list[Path]:
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), str(pdf), str(stem)], check=True, timeout=120)
    return sorted(stem.parent.glob(stem.name + "-*.png"))


def render(out: Path) -> dict[str, Path]:
    os.environ.setdefault("KEHOACH_SIGNING_KEY", "khoa-ky-cho-ban-demo-0123456789")
    work = Path(tempfile.mkdtemp(prefix="unitbook_render_"))
    res = demo(work / "demo")
    (book,) = issue(res.master, period="2024-06", out=work / "gui", units=[UNIT])
    pages = to_pngs(to_pdf(book, work), work / "unitbook")
    written: dict[str, Path] = {}
    out.mkdir(parents=True, exist_ok=True)
    for i, png in enumerate(pages, start=1):
        dest = out / f"unitbook_page{i}.png"
        shutil.copyfile(png, dest)
        written[dest.name] = dest
    md = read_master(res.master)
    rem = next(r for r in compute_briefing(md, period=DEMO_PERIOD, as_of=DEMO_AS_OF).result.reminders
               if r.unit == UNIT)
    html = work / "reminder.html"
    html.write_text(rem.html, encoding="utf-8")
    (png, *_rest) = to_pngs(to_pdf(html, work, html=True), work / "reminder")
    shutil.copyfile(png, out / "reminder_unit.png")
    written["reminder_unit.png"] = out / "reminder_unit.png"
    return written


if __name__ == "__main__":
    for name, path in render(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images")).items():
        print(name, path)
