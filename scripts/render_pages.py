"""Render what a person sees from the demo into docs/images/ (PNG pages via LibreOffice).

    .venv/bin/python scripts/render_pages.py

Runs the demo in a temporary folder, converts the master, the exported summary, the
Word report and the briefing HTML to PDF with LibreOffice, and keeps page 1 of each.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "images"


def to_png(src: Path, name: str, work: Path, *, filt: str = "pdf", dpi: int = 70,
           infilter: str | None = None) -> Path:
    prof = work / f"profile_{name}"
    extra = [f"--infilter={infilter}"] if infilter else []
    subprocess.run(["soffice", f"-env:UserInstallation={prof.as_uri()}", "--headless", "--norestore", *extra,
                    "--convert-to", filt, "--outdir", str(work), str(src)], check=True, capture_output=True)
    pdf = work / (src.stem + ".pdf")
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(OUT / name)], check=True)
    return OUT / f"{name}.png"


def main() -> int:
    from kehoach_xl.commands.demo import demo

    if not shutil.which("soffice") or not shutil.which("pdftoppm"):
        print("needs LibreOffice (soffice) and poppler-utils (pdftoppm)", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        res = demo(work / "demo")
        reports = work / "demo" / "bao_cao"
        made = [
            to_png(res.master, "demo_master_page1", work),
            to_png(next(reports.glob("tong_hop_*.xlsx")), "demo_summary_page1", work),
            to_png(next(reports.glob("bao_cao_*.docx")), "demo_report_page1", work),
            to_png(next(reports.glob("bao_cao_giao_ban_*.html")), "demo_briefing_page1", work,
                   filt="pdf:writer_pdf_Export", infilter="HTML (StarWriter)"),
        ]
    for p in made:
        print(p.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
