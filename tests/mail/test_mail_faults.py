"""What goes wrong with mail, against the real Dovecot: a dropped connection, the same message twice,
ten attachments, a bomb, a stranger, a wrong password — each with nothing lost."""

from __future__ import annotations

import email
import email.policy
import socket
from email.message import EmailMessage
from pathlib import Path

import pytest

from kehoach_xl.commands.fetch import answer, fetch, pending_path
from kehoach_xl.commands.issue import issue
from kehoach_xl.commands.merge import merge
from kehoach_xl.commands.nightly import nightly
from kehoach_xl.commands.simulate import simulate_unit_submissions
from kehoach_xl.errors import SetupError
from kehoach_xl.io import mailbox as mailbox_io
from kehoach_xl.model.config import load_config
from tests.bad_inputs.make import rezip
from tests.mail.conftest import DOMAIN, OFFICE, PASSWORD, Dovecot, Smtp, mail_master, user_of, write_config
from tests.reports_sample import PERIOD

UNIT, ADDR = "Phòng Quản lý đất đai", f"qldd@{DOMAIN}"
UNIT2, ADDR2 = "Chi cục Bảo vệ môi trường", f"chicucbvmt@{DOMAIN}"


def _message(sender: str, files: list[tuple[str, bytes]], subject: str = "Bao cao thang 7") -> bytes:
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"], msg["To"], msg["Subject"] = sender, OFFICE, subject
    msg["Message-ID"] = email.utils.make_msgid("donvi", domain=DOMAIN)
    msg.set_content("Gửi Văn phòng báo cáo. Tải tệp tại http://example.invalid/bao_cao.xlsx")
    for name, data in files:
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return msg.as_bytes()


@pytest.fixture()
def office(tmp_path: Path, dovecot: Dovecot, smtp: Smtp, monkeypatch: pytest.MonkeyPatch):
    """A master, its config, and two units' filled workbooks (issued without mail)."""
    monkeypatch.setenv("KEHOACH_TEST_MAIL_PASSWORD", PASSWORD)
    master = mail_master(tmp_path / "so_theo_doi.xlsx")
    write_config(tmp_path, dovecot, smtp.port)
    issued = issue(master, period=PERIOD, out=tmp_path / "giao", units=[UNIT, UNIT2])
    filled = simulate_unit_submissions(tmp_path / "dien", issued, seed=1, mistakes=False)
    books = {UNIT if "Quan_ly_dat" in p.name else UNIT2: p for p in filled}
    return master, load_config(master), dovecot, smtp, books


def _inbox_files(cfg) -> list[Path]:
    return sorted(p for p in cfg.inbox_dir.iterdir() if p.is_file() and not p.name.startswith("."))


def test_wrong_password_clear_message_nothing_lost(office, monkeypatch: pytest.MonkeyPatch) -> None:
    master, cfg, dv, _, books = office
    dv.append(user_of(OFFICE), _message(ADDR, [(books[UNIT].name, books[UNIT].read_bytes())]))
    monkeypatch.setenv("KEHOACH_TEST_MAIL_PASSWORD", "sai-mat-khau")
    with pytest.raises(SetupError) as err:
        fetch(master)
    text = str(err.value)
    assert "từ chối đăng nhập" in text and "Chưa nhận thư nào" in text and "sai-mat-khau" not in text
    assert len(dv.messages(user_of(OFFICE))) == 1  # the message is still there
    assert not cfg.inbox_dir.exists() or _inbox_files(cfg) == []
    # the nightly reports the step failed and goes on with the rest of its work
    rep = nightly(cfg.source)
    fetch_step = next(s for s in rep.steps if s.step == "fetch")
    assert fetch_step.status == "failed" and "từ chối đăng nhập" in fetch_step.message
    assert len(dv.messages(user_of(OFFICE))) == 1
    # with the right password the message comes in
    monkeypatch.setenv("KEHOACH_TEST_MAIL_PASSWORD", PASSWORD)
    assert len(fetch(master).saved) == 1


def test_starttls_and_no_password(office, monkeypatch: pytest.MonkeyPatch) -> None:
    master, cfg, dv, smtp, books = office
    write_config(cfg.base_dir, dv, smtp.port, tls="starttls")
    dv.append(user_of(OFFICE), _message(ADDR, [(books[UNIT].name, books[UNIT].read_bytes())]))
    monkeypatch.delenv("KEHOACH_TEST_MAIL_PASSWORD")
    with pytest.raises(SetupError, match="KEHOACH_TEST_MAIL_PASSWORD"):
        fetch(master)
    monkeypatch.setenv("KEHOACH_TEST_MAIL_PASSWORD", PASSWORD)
    res = fetch(master)  # IMAP on the plain port, upgraded with STARTTLS before the login
    assert len(res.saved) == 1 and res.messages[0].unit == UNIT


def test_untrusted_certificate_is_refused(office, tmp_path: Path) -> None:
    master, cfg, dv, smtp, books = office
    toml = cfg.source.read_text(encoding="utf-8")
    cfg.source.write_text(toml.replace(f'cafile = "{dv.cafile}"\n', ""), encoding="utf-8")
    dv.append(user_of(OFFICE), _message(ADDR, [(books[UNIT].name, books[UNIT].read_bytes())]))
    with pytest.raises(SetupError, match="Chứng chỉ của máy chủ thư"):
        fetch(master)
    assert len(dv.messages(user_of(OFFICE))) == 1


def test_connection_dropped_mid_fetch(office, monkeypatch: pytest.MonkeyPatch) -> None:
    master, cfg, dv, _, books = office
    dv.append(user_of(OFFICE), _message(ADDR, [(books[UNIT].name, books[UNIT].read_bytes())]))
    dv.append(user_of(OFFICE), _message(ADDR2, [(books[UNIT2].name, books[UNIT2].read_bytes())]))
    real_body = mailbox_io.Mailbox.body
    calls = []

    def drop_on_second(self, uid):  # noqa: ANN001, ANN202
        calls.append(uid)
        if len(calls) == 2:
            self.imap.sock.shutdown(socket.SHUT_RDWR)  # the network goes away under the session
        return real_body(self, uid)

    monkeypatch.setattr(mailbox_io.Mailbox, "body", drop_on_second)
    res = fetch(master)
    assert res.interrupted and "Mất kết nối" in res.interrupted
    assert len(res.saved) == 1 and len(_inbox_files(cfg)) == 1
    assert len(dv.messages(user_of(OFFICE))) == 1  # the second message is still waiting
    monkeypatch.setattr(mailbox_io.Mailbox, "body", real_body)
    res2 = fetch(master)
    assert not res2.interrupted and len(res2.saved) == 1 and res2.messages[0].unit == UNIT2
    assert len(_inbox_files(cfg)) == 2 and dv.messages(user_of(OFFICE)) == []


def test_same_message_fetched_twice_after_a_crash_before_the_move(office, monkeypatch: pytest.MonkeyPatch) -> None:
    master, cfg, dv, _, books = office
    dv.append(user_of(OFFICE), _message(ADDR, [(books[UNIT].name, books[UNIT].read_bytes())]))

    def crash(self, uid, folder):  # noqa: ANN001, ANN202 - the files are saved; the move never happens
        self.imap.sock.shutdown(socket.SHUT_RDWR)
        raise ConnectionResetError("mất kết nối")

    monkeypatch.setattr(mailbox_io.Mailbox, "move", crash)
    res = fetch(master)
    assert res.interrupted and len(_inbox_files(cfg)) == 1
    saved = _inbox_files(cfg)[0].read_bytes()
    assert saved == books[UNIT].read_bytes()  # on disk whole before the message would have moved
    assert len(dv.messages(user_of(OFFICE))) == 1
    monkeypatch.undo()
    monkeypatch.setenv("KEHOACH_TEST_MAIL_PASSWORD", PASSWORD)
    res2 = fetch(master)  # the same message again: its file is not saved a second time
    assert res2.saved == [] and res2.messages[0].skipped == [books[UNIT].name]
    assert res2.messages[0].problems == []  # the same message: nothing to tell the unit
    assert len(_inbox_files(cfg)) == 1 and dv.messages(user_of(OFFICE)) == []
    # merged once, answered once
    rep = merge(master)
    assert [f.status for f in rep.files] == ["processed"]
    ans = answer(master, rep)
    assert ans.sent == [UNIT]
    assert len([m for m in dv.messages(user_of(ADDR)) if "Re:" in str(m["Subject"])]) == 1
    assert answer(master, None).sent == []  # nothing left to answer


def test_a_resent_copy_in_a_new_message_is_not_merged_again(office) -> None:
    master, cfg, dv, _, books = office
    data = books[UNIT].read_bytes()
    dv.append(user_of(OFFICE), _message(ADDR, [(books[UNIT].name, data)]))
    fetch(master)
    rep = merge(master)
    answer(master, rep)
    dv.append(user_of(OFFICE), _message(ADDR, [(books[UNIT].name, data)], subject="Gui lai"))
    res = fetch(master)
    assert res.saved == [] and [p.slug for p in res.messages[0].problems] == ["mail_duplicate_content"]
    ans = answer(master, merge(master))
    assert ans.sent == [UNIT]
    last = next(m for m in dv.messages(user_of(ADDR)) if str(m["Subject"]) == "Re: Gui lai")
    assert "giống hệt tệp đã nhận" in last.get_body(("plain",)).get_content()


def test_ten_attachments_are_refused_whole(office) -> None:
    master, cfg, dv, _, books = office
    data = books[UNIT].read_bytes()
    dv.append(user_of(OFFICE), _message(ADDR, [(f"bao_cao_{i}.xlsx", data) for i in range(10)]))
    res = fetch(master)
    assert res.saved == [] and _inbox_files(cfg) == []
    assert [p.slug for p in res.messages[0].problems] == ["mail_too_many_attachments"]
    assert res.messages[0].moved_to == cfg.mail.done_folder
    ans = answer(master, merge(master))
    assert ans.sent == [UNIT]
    [reply] = [m for m in dv.messages(user_of(ADDR)) if str(m["Subject"]).startswith("Re:")]
    text = reply.get_body(("plain",)).get_content()
    assert "10 tệp Excel đính kèm" in text and "tối đa 5 tệp" in text


def test_a_bomb_attachment_is_refused_by_the_hardened_reader(office, tmp_path: Path) -> None:
    master, cfg, dv, _, books = office
    bomb = rezip(books[UNIT], tmp_path / "bom.xlsx", add={"xl/media/image1.png": b"\x00" * (8 << 20)})
    assert bomb.stat().st_size < 200_000
    dv.append(user_of(OFFICE), _message(ADDR, [("2024-07_Phong_Quan_ly_dat_dai.xlsx", bomb.read_bytes())]))
    assert len(fetch(master).saved) == 1
    rep = merge(master)
    [f] = rep.files
    assert f.status == "rejected" and "bom nén" in f.problems[0].message
    assert list((cfg.inbox_dir / "rejected").glob("*.bao_cao_loi.txt"))
    answer(master, rep)
    [reply] = [m for m in dv.messages(user_of(ADDR)) if str(m["Subject"]).startswith("Re:")]
    text = reply.get_body(("plain",)).get_content()
    assert "không tổng hợp (trả lại)" in text and "bom nén" in text


def test_an_oversized_attachment_and_other_parts_are_not_taken(office, monkeypatch: pytest.MonkeyPatch) -> None:
    master, cfg, dv, smtp, books = office
    toml = cfg.source.read_text(encoding="utf-8")
    cfg.source.write_text(toml + "[limits]\nmax_file_mb = 0.05\n", encoding="utf-8")
    dv.append(user_of(OFFICE), _message(ADDR, [(r"..\..\Windows\evil.xlsx", b"PK" + b"x" * 100_000),
                                               ("../../etc/cron.d/x.sh", b"#!/bin/sh\n")]))
    res = fetch(master)
    slugs = sorted(p.slug for p in res.messages[0].problems)
    assert slugs == ["mail_attachment_not_workbook", "mail_attachment_too_big"]
    assert _inbox_files(cfg) == []
    assert "“evil.xlsx”" in next(p.message for p in res.messages[0].problems if p.slug == "mail_attachment_too_big")


def test_unknown_sender_is_kept_for_the_office_never_merged(office) -> None:
    master, cfg, dv, _, books = office
    stranger = f"nguoi.la@{DOMAIN}"
    dv.append(user_of(OFFICE), _message(stranger, [(books[UNIT].name, books[UNIT].read_bytes())]))
    res = fetch(master)
    assert [m.sender for m in res.unknown] == [stranger] and res.saved == []
    assert _inbox_files(cfg) == []
    kept = list((cfg.inbox_dir / "thu_can_xem").glob("*.eml"))
    assert len(kept) == 1
    assert email.message_from_bytes(kept[0].read_bytes())["From"] == stranger
    [odd] = dv.messages(user_of(OFFICE), cfg.mail.unknown_folder)
    assert odd["From"] == stranger
    assert merge(master).files == []
    assert answer(master, None).sent == []  # a stranger gets no answer
    assert not pending_path(master).exists() or stranger not in pending_path(master).read_text(encoding="utf-8")


def test_password_from_the_os_keyring(office, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No environment variable: the password comes from the keyring (a file-backed keyring here)."""
    keyring = pytest.importorskip("keyring")
    pytest.importorskip("keyrings.alt")
    master, cfg, dv, _, books = office
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    monkeypatch.delenv("KEHOACH_TEST_MAIL_PASSWORD")
    cfg.source.write_text(cfg.source.read_text(encoding="utf-8").replace(
        "[mail]\n", '[mail]\nkeyring_service = "kehoach-xl"\n'), encoding="utf-8")
    pytest.importorskip("keyring.core").init_backend()
    dv.append(user_of(OFFICE), _message(ADDR, [(books[UNIT].name, books[UNIT].read_bytes())]))
    with pytest.raises(SetupError, match="kho khóa của máy"):
        fetch(master)
    keyring.set_password("kehoach-xl", user_of(OFFICE), PASSWORD)
    assert len(fetch(master).saved) == 1


def test_a_message_too_big_is_not_downloaded(office) -> None:
    master, cfg, dv, _, books = office
    cfg.source.write_text(cfg.source.read_text(encoding="utf-8").replace(
        "[mail]\n", "[mail]\nmax_message_mb = 0.05\n"), encoding="utf-8")
    dv.append(user_of(OFFICE), _message(ADDR, [(books[UNIT].name, books[UNIT].read_bytes()),
                                               ("anh_chup.pdf", bytes(range(256)) * 300)]))
    res = fetch(master)
    [m] = res.messages
    assert m.unit == UNIT and m.saved == [] and [p.slug for p in m.problems] == ["mail_too_big"]
    assert m.moved_to == cfg.mail.unknown_folder  # for the office to look at
    assert len(dv.messages(user_of(OFFICE), cfg.mail.unknown_folder)) == 1
    assert answer(master, None).sent == [UNIT]
    [reply] = [x for x in dv.messages(user_of(ADDR)) if str(x["Subject"]).startswith("Re:")]
    assert "quá giới hạn 0,05 MB" in reply.get_body(("plain",)).get_content()
    assert "không được tải về" in reply.get_body(("plain",)).get_content()


def test_a_crash_after_saving_before_recording_leaves_one_copy(office, monkeypatch: pytest.MonkeyPatch) -> None:
    """The process dies between writing the file and recording it: the next run finds the same bytes."""
    from kehoach_xl.commands import fetch as fetch_mod

    master, cfg, dv, _, books = office
    dv.append(user_of(OFFICE), _message(ADDR, [(books[UNIT].name, books[UNIT].read_bytes())]))

    def die(self):  # noqa: ANN001, ANN202
        raise KeyboardInterrupt  # the power goes: nothing after this line runs

    monkeypatch.setattr(fetch_mod.Pending, "save", die)
    with pytest.raises(KeyboardInterrupt):
        fetch(master)
    assert len(_inbox_files(cfg)) == 1 and len(dv.messages(user_of(OFFICE))) == 1
    monkeypatch.undo()
    monkeypatch.setenv("KEHOACH_TEST_MAIL_PASSWORD", PASSWORD)
    res = fetch(master)
    assert len(_inbox_files(cfg)) == 1 and res.saved == [_inbox_files(cfg)[0].name]
    assert dv.messages(user_of(OFFICE)) == []
    rep = merge(master)
    assert [f.status for f in rep.files] == ["processed"]
    assert answer(master, rep).sent == [UNIT]


def test_servers_without_move_get_copy_and_expunge(office, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that does not offer MOVE: COPY, flag, UID EXPUNGE of that message only."""
    master, cfg, dv, _, books = office
    dv.append(user_of(OFFICE), _message(ADDR, [(books[UNIT].name, books[UNIT].read_bytes())]))
    dv.append(user_of(OFFICE), _message(f"nguoi.la@{DOMAIN}", []))
    real_enter = mailbox_io.Mailbox.__enter__

    def no_move(self):  # noqa: ANN001, ANN202
        box = real_enter(self)
        box.imap.capabilities = tuple(c for c in box.imap.capabilities if c != "MOVE")
        return box

    monkeypatch.setattr(mailbox_io.Mailbox, "__enter__", no_move)
    res = fetch(master)
    assert [m.moved_to for m in res.messages] == [cfg.mail.done_folder, cfg.mail.unknown_folder]
    assert dv.messages(user_of(OFFICE)) == []
    assert len(dv.messages(user_of(OFFICE), cfg.mail.done_folder)) == 1
    assert len(dv.messages(user_of(OFFICE), cfg.mail.unknown_folder)) == 1
