"""``kehoach-xl briefing``: the briefing text, HTML and e-mail, the reminders."""

from __future__ import annotations

import calendar
import datetime as dt
import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

from kehoach_xl.commands._guard import checked_master
from kehoach_xl.io.master_read import read_master
from kehoach_xl.model.config import Config, load_config
from kehoach_xl.reports.briefing import BriefingResult, write_briefing_files
from kehoach_xl.reports.mailer import send_messages


def briefing(master: Path | str, *, period: str, out: Path | str, send: bool = False,
             as_of: dt.date | None = None, send_reminders: bool = False) -> BriefingResult:
    """Write the briefing (.txt, .html, chart .png, .eml with the summary workbook) and reminders into ``out``.

    ``send`` mails the briefing and the reminders; ``send_reminders`` only the reminders, each to
    its own unit (only units with something overdue or due soon have one)."""
    master = checked_master(master)
    config = load_config(master)
    res, messages = write_briefing_files(read_master(master), period=period, as_of=as_of, config=config, out=out)
    if send:
        res.sent = send_messages(messages, config.mail)
    elif send_reminders:
        res.sent = send_messages(reminder_messages(res), config.mail)
    return res


def reminder_messages(res: BriefingResult) -> list[EmailMessage]:
    """The reminders with an address, as written to their .eml files (exactly what was saved is sent)."""
    out = []
    for r in res.reminders:
        if r.to and r.eml_path is not None:
            out.append(email.message_from_bytes(r.eml_path.read_bytes(), policy=email.policy.SMTP))
    return out


def reminders_due(today: dt.date, config: Config) -> str | None:
    """The period whose reminders the nightly mails today (``[mail] reminder_days_before`` before
    ``report_day`` of this month), or None."""
    deadline = today.replace(day=min(config.mail.report_day, calendar.monthrange(today.year, today.month)[1]))
    if (deadline - today).days in config.mail.reminder_days_before:
        return f"{today:%Y-%m}"
    return None
