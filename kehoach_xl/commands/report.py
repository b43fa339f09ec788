"""``kehoach-xl report``: the formal report (Nghị định 30/2020/NĐ-CP) as a Word document."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from kehoach_xl.commands._guard import checked_master
from kehoach_xl.errors import SetupError
from kehoach_xl.io.master_read import read_master
from kehoach_xl.model.config import Config, load_config
from kehoach_xl.reports.docx_report import TEMPLATE, compute_report, write_docx
from kehoach_xl.reports.render import environment, template_dirs
from kehoach_xl.vn import parse_period


def _template_path(config: Config) -> Path:
    for d in template_dirs(config):
        if (d / TEMPLATE).exists():
            return d / TEMPLATE
    raise SetupError(f"Không tìm thấy mẫu báo cáo {TEMPLATE}; chạy templates/build_report_template.py để tạo lại.")


def report(master: Path | str, *, period: str, out: Path | str, as_of: dt.date | None = None) -> Path:
    """Write the formal report for ``period`` (YYYY-MM). ``out`` is a folder or a .docx path."""
    master, out = Path(master), Path(out)
    period = parse_period(period)  # SetupError naming the value, before the master is read
    if out.exists() and not out.is_dir() and out.suffix.lower() != ".docx":
        raise SetupError(f"--out “{out}” là một tệp không phải .docx; hãy chỉ một thư mục hoặc một tệp .docx.")
    md = read_master(checked_master(master))
    config = load_config(master)
    ctx = compute_report(md, period=period, as_of=as_of, config=config).result
    del md  # the context holds all the report needs: the master's rows are not kept while writing
    if out.suffix.lower() != ".docx":
        out = out / f"bao_cao_{ctx['period'].replace('-', '_')}.docx"
    # The same sandbox as every other template; autoescape because the document is XML.
    return write_docx(_template_path(config), ctx, environment(config, autoescape=True), out)
