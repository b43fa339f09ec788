"""``kehoach-xl briefing``: the briefing text, HTML and e-mail, the reminders."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from kehoach_xl.commands._guard import checked_master
from kehoach_xl.io.master_read import read_master
from kehoach_xl.model.config import load_config
from kehoach_xl.reports.briefing import BriefingResult, write_briefing_files
from kehoach_xl.reports.mailer import send_messages


def briefing(master: Path | str, *, period: str, out: Path | str, send: bool = False,
             as_of: dt.date | None = None) -> BriefingResult:
    """Write the briefing (.txt, .html, chart .png, .eml with the summary workbook) and reminders into ``out``."""
    master = checked_master(master)
    config = load_config(master)
    res, messages = write_briefing_files(read_master(master), period=period, as_of=as_of, config=config, out=out)
    if send:
        res.sent = send_messages(messages, config.mail)
    return res
