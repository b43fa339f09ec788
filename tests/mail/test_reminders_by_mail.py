"""``briefing --send-reminders``: each reminder to its own unit, none to units with nothing outstanding,
the briefing itself not sent; and the command line around the mail commands."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from kehoach_xl.cli.main import cli
from kehoach_xl.commands.briefing import briefing, reminders_due
from kehoach_xl.io.master_read import read_master
from kehoach_xl.model.config import Config, load_config
from kehoach_xl.reports.briefing import compute_briefing
from tests.mail.conftest import OFFICE, PASSWORD, Dovecot, Smtp, mail_master, user_of, write_config
from tests.reports_sample import AS_OF, PERIOD


@pytest.fixture()
def setup(tmp_path: Path, dovecot: Dovecot, smtp: Smtp, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KEHOACH_TEST_MAIL_PASSWORD", PASSWORD)
    master = mail_master(tmp_path / "so_theo_doi.xlsx")
    write_config(tmp_path, dovecot, smtp.port)
    return master, dovecot, smtp


def test_send_reminders_only_to_units_with_something_outstanding(setup, tmp_path: Path) -> None:
    master, dv, smtp = setup
    md = read_master(master)
    expected = {r.unit: r for r in compute_briefing(md, period=PERIOD, as_of=AS_OF,
                                                       config=load_config(master)).result.reminders}
    res = briefing(master, period=PERIOD, out=tmp_path / "out", as_of=AS_OF, send_reminders=True)
    with_address = {u: r for u, r in expected.items() if r.to}
    assert len(res.sent) == len(with_address) >= 2
    delivered = [(rcpts, raw) for _, rcpts, raw in smtp.handler.accepted]
    assert sorted(r[0] for r, _ in delivered) == sorted(r.to[0] for r in with_address.values())
    for unit in (r["name"] for r in md.units.rows if r.get("email")):
        addr = next(r["email"] for r in md.units.rows if r["name"] == unit)
        got = dv.messages(user_of(addr))
        if unit in with_address:
            [m] = got
            assert m["Subject"] == with_address[unit].subject
            assert f"Kính gửi: {unit}." in m.get_body(("plain",)).get_content()
        else:
            assert got == [], unit  # nothing outstanding (or the office itself): no mail
    # the briefing went to nobody: every message delivered was a reminder, to exactly its unit
    assert len(delivered) == len(with_address)
    assert all(rcpts == with_address[u].to for u in with_address for rcpts, _ in delivered
               if rcpts[0] == with_address[u].to[0])


def test_reminder_days() -> None:
    cfg = Config()
    cfg.mail.report_day, cfg.mail.reminder_days_before = 20, [5, 1]
    assert reminders_due(dt.date(2024, 7, 15), cfg) == "2024-07"
    assert reminders_due(dt.date(2024, 7, 19), cfg) == "2024-07"
    assert reminders_due(dt.date(2024, 7, 16), cfg) is None
    cfg.mail.report_day = 31
    assert reminders_due(dt.date(2024, 2, 28), cfg) == "2024-02"  # the 29th is February's last day


def test_cli_fetch_and_issue_send(setup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    master, dv, _ = setup
    runner = CliRunner()
    r = runner.invoke(cli, ["issue", str(master), "--period", PERIOD, "--out", str(tmp_path / "giao"), "--send"])
    assert r.exit_code == 0, r.output
    assert "Đã gửi thư giao tệp cho 7 đơn vị." in r.output
    assert "Thanh tra Sở" in r.output and "chưa có địa chỉ thư điện tử" in r.output
    r = runner.invoke(cli, ["fetch", str(master)])
    assert r.exit_code == 0, r.output
    assert "Tổng cộng: 0 thư, 0 tệp mới." in r.output
    monkeypatch.setenv("KEHOACH_TEST_MAIL_PASSWORD", "sai")
    dv.append(user_of(OFFICE), b"From: qldd@stnmt.langson.example.vn\r\nSubject: x\r\n\r\nx\r\n")
    r = runner.invoke(cli, ["fetch", str(master)])
    assert r.exit_code == 2 and "từ chối đăng nhập" in r.output and "Traceback" not in r.output
    assert len(dv.messages(user_of(OFFICE))) == 1
    r = runner.invoke(cli, ["fetch", "--help"])
    assert "Nhận thư trả lời của các đơn vị" in r.output
