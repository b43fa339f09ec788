"""The whole month by mail against Dovecot and aiosmtpd on 127.0.0.1: the forms go out, units reply
with the filled files, the nightly fetches, merges and answers in each thread; everything is read back."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import smtplib
import ssl
from pathlib import Path

import pytest

from kehoach_xl.commands.issue import IssueMail, issue
from kehoach_xl.commands.nightly import nightly
from kehoach_xl.commands.simulate import simulate_unit_submissions
from kehoach_xl.io.master_read import read_master
from kehoach_xl.model.config import load_config
from tests.mail.conftest import (
    DOMAIN,
    NO_EMAIL_UNIT,
    OFFICE,
    PASSWORD,
    Dovecot,
    Smtp,
    mail_master,
    reply_with,
    user_of,
    write_config,
)
from tests.reports_sample import PERIOD

NIGHT = dt.date(2024, 7, 15)  # five days before report_day 20: the reminder day configured below


def send_as_unit(smtp: Smtp, dv: Dovecot, sender: str, raw: bytes) -> None:
    """A unit's mail client: STARTTLS, login, send to the office."""
    ctx = ssl.create_default_context(cafile=str(dv.cafile))
    with smtplib.SMTP("127.0.0.1", smtp.port, timeout=10) as s:
        s.starttls(context=ctx)
        s.login(user_of(sender), PASSWORD)
        s.sendmail(sender, [OFFICE], raw)


@pytest.fixture()
def month(tmp_path: Path, dovecot: Dovecot, smtp: Smtp, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KEHOACH_TEST_MAIL_PASSWORD", PASSWORD)
    master = mail_master(tmp_path / "so_theo_doi.xlsx")
    write_config(tmp_path, dovecot, smtp.port, reminder_days_before=[5])
    # Files copied in by hand wait 60 s; files the fetch wrote are complete and must not wait.
    with (tmp_path / "kehoach.toml").open("a", encoding="utf-8") as fh:
        fh.write("[limits]\ninbox_settle_seconds = 60\n")
    return master, dovecot, smtp


def test_the_month_by_mail(month, tmp_path: Path) -> None:
    master, dv, smtp = month
    cfg = load_config(master)

    # 1. the forms go out, each to its unit, with the letter; the unit without an address is listed
    mailed: list[IssueMail] = []
    paths = issue(master, period=PERIOD, out=tmp_path / "giao", send=True, on_mail=mailed.append)
    assert mailed and mailed[0].no_address == [NO_EMAIL_UNIT]
    assert len(mailed[0].sent) == len(paths) - 1 == 7
    md = read_master(master)
    address = {r["name"]: r["email"] for r in md.units.rows if r.get("email")}
    letters = {}
    for unit in mailed[0].sent:
        got = dv.messages(user_of(address[unit]))
        assert len(got) == 1, unit
        letter = got[0]
        body = letter.get_body(("plain",)).get_content()
        assert f"Kính gửi: {unit}." in body
        assert "tháng 07/2024" in body and "trước ngày 20/07/2024" in body
        assert "Chị Hoàng Thị Lan" in body  # who to call
        [att] = list(letter.iter_attachments())
        assert att.get_filename().startswith("2024-07_") and att.get_filename().endswith(".xlsx")
        assert "<b>07/2024</b>" in letter.get_body(("html",)).get_content()
        letters[unit] = letter
    assert not dv.messages(user_of(OFFICE))  # nothing came back yet

    # 2. three units fill their files and reply in the thread; a stranger writes too
    repliers = ["Phòng Quản lý đất đai", "Văn phòng Đăng ký đất đai", "Chi cục Bảo vệ môi trường"]
    got_dir = tmp_path / "don_vi_nhan"
    got_dir.mkdir()
    received = []
    for unit in repliers:
        att = next(letters[unit].iter_attachments())
        p = got_dir / att.get_filename()
        p.write_bytes(att.get_content())
        received.append(p)
    filled = simulate_unit_submissions(tmp_path / "don_vi_dien", received, seed=3, mistakes=True)
    reply_ids = {}
    for unit in repliers:
        f = next(x for x in filled if x.name == next(letters[unit].iter_attachments()).get_filename())
        raw = reply_with(letters[unit], address[unit], [(f.name, f.read_bytes())])
        reply_ids[unit] = str(email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"])
        send_as_unit(smtp, dv, address[unit], raw)
    stranger = f"nguoi.la@{DOMAIN}"
    send_as_unit(smtp, dv, stranger, reply_with(letters[repliers[0]], stranger, [(filled[0].name, filled[0].read_bytes())]))
    assert len(dv.messages(user_of(OFFICE))) == 4

    before = {u: len(dv.messages(user_of(address[u]))) for u in mailed[0].sent}

    # 3. the night: fetch, merge, answer (and the reminders: 5 days before the 20th)
    rep = nightly(tmp_path / "kehoach.toml", as_of=NIGHT)
    steps = {s.step: s for s in rep.steps}
    assert steps["fetch"].status == "partial" and "1 thư của người gửi không có trong sheet Đơn vị" in steps["fetch"].message
    assert "3 tệp mới" in steps["fetch"].message
    files = rep.merge["files"]
    assert len(files) == 3 and all(f["status"] in ("processed", "partial") for f in files), files
    assert sum(len(f["changes"]) for f in files) > 0
    assert steps["reply"].status == "ok" and "đã trả lời 3 thư" in steps["reply"].message
    assert steps["reminders"].status == "ok"

    # the office mailbox: nothing left in INBOX; units' messages handled, the stranger's kept for a person
    assert dv.messages(user_of(OFFICE)) == []
    assert len(dv.messages(user_of(OFFICE), cfg.mail.done_folder)) == 3
    [odd] = dv.messages(user_of(OFFICE), cfg.mail.unknown_folder)
    assert odd["From"] == stranger
    assert len(list((cfg.inbox_dir / "thu_can_xem").glob("*.eml"))) == 1
    # the stranger's file never reached the inbox (only the three units' files were merged)
    assert not [p for p in cfg.inbox_dir.iterdir() if p.is_file() and not p.name.startswith(".")]

    # 4. each unit reads the answer in its own thread: what was taken, what was refused and how to fix
    for unit in repliers:
        got = dv.messages(user_of(address[unit]))
        answers = [m for m in got if m["In-Reply-To"] == reply_ids[unit]]
        assert len(answers) == 1, (unit, [m["Subject"] for m in got])
        a = answers[0]
        assert letters[unit]["Message-ID"] in a["References"] and reply_ids[unit] in a["References"]
        assert a["Subject"] == "Re: " + str(letters[unit]["Subject"])
        text = a.get_body(("plain",)).get_content()
        assert f"Kính gửi: {unit}." in text
        fr = next(f for f in files if f["unit"] == unit)
        name = next(letters[unit].iter_attachments()).get_filename()
        assert f"Tệp “{name}”" in text
        if fr["changes"]:
            assert f"{len(fr['changes'])} ô được cập nhật" in text
        for p in fr["problems"]:  # the same Problem records as the report filed beside the file
            assert p["message"].replace(fr["file"], name)[:60] in text
            if p.get("cell"):
                assert f"ô {p['cell']}" in text
        if fr["problems"]:
            assert "Cách khắc phục" in text
        assert fr["file"] not in text  # the unit sees its own file name, not the inbox's
    refused_cells = [p for f in files for p in f["problems"] if p.get("cell")]
    assert refused_cells, "the simulated mistakes should refuse at least one cell"

    # reminders only to units with something outstanding, each to its own address
    reminders = {u: [m for m in dv.messages(user_of(address[u])) if str(m["Subject"]).startswith("Nhắc việc")]
                 for u in mailed[0].sent}
    assert any(reminders.values()) and not all(reminders.values())
    for unit, got in reminders.items():
        assert len(got) <= 1
        for m in got:
            assert f"Kính gửi: {unit}." in m.get_body(("plain",)).get_content()

    # 5. a second night brings nothing new: no second answer, no second reminder, nothing re-merged
    after = {u: len(dv.messages(user_of(address[u]))) for u in mailed[0].sent}
    rep2 = nightly(tmp_path / "kehoach.toml", as_of=NIGHT)
    assert {s.step: s.status for s in rep2.steps}.get("fetch") == "ok"
    assert rep2.merge["files"] == []
    assert {u: len(dv.messages(user_of(address[u]))) for u in mailed[0].sent} == after
    assert all(after[u] >= before[u] for u in before)
