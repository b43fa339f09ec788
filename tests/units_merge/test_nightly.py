"""Nightly job and scheduler: a busy master leaves the inbox alone; the scheduler survives failures and Ctrl-C."""

from __future__ import annotations

import datetime as dt
import logging

from kehoach_xl.commands.nightly import nightly, schedule
from kehoach_xl.commands.simulate import simulate_unit_submissions
from kehoach_xl.io.master_read import read_master
from tests.bad_inputs.make import AS_OF, setup_month


def _setup(tmp_path, mistakes: bool = True):
    master, files, _ = setup_month(tmp_path)
    (tmp_path / "kehoach.toml").write_text('master = "so_theo_doi.xlsx"\nnightly_time = "22:00"\n', encoding="utf-8")
    simulate_unit_submissions(tmp_path / "hop_thu_den", list(files.values()), seed=3, mistakes=mistakes)
    return master


def test_nightly_runs_every_step_and_logs(tmp_path):
    master = _setup(tmp_path, mistakes=False)
    rep = nightly(tmp_path / "kehoach.toml", as_of=AS_OF, progress=False)
    steps = {s.step: s.status for s in rep.steps}
    assert set(steps) == {"merge", "validate", "refresh", "summary"}
    assert all(v == "ok" for v in steps.values()) and rep.ok, rep.to_dict()
    assert rep.merge["applied"] > 10
    assert not any(p.suffix == ".xlsx" for p in (tmp_path / "hop_thu_den").iterdir())
    text = open(rep.log_file, encoding="utf-8").read()
    assert "bắt đầu lượt chạy hằng đêm" in text and "bước merge" in text and "kết thúc lượt chạy hằng đêm" in text
    assert any("[" in (r.get("coordination_reports") or "") for r in read_master(master).tasks.rows)


def test_merge_with_partial_files_makes_the_run_not_ok_and_exit_1(tmp_path):
    from click.testing import CliRunner

    from kehoach_xl.cli.main import cli

    _setup(tmp_path, mistakes=True)  # the simulated mistakes leave some files merged only in part
    res = CliRunner().invoke(cli, ["nightly", str(tmp_path / "kehoach.toml"), "--json"])
    assert res.exit_code == 1, res.output
    import json

    d = json.loads(res.stdout)
    merge_step = next(s for s in d["steps"] if s["step"] == "merge")
    assert merge_step["status"] == "partial" and "tổng hợp một phần" in merge_step["message"]
    assert any(f["status"] != "processed" for f in d["merge"]["files"])
    assert d["ok"] is False
    # The later steps still ran and succeeded: only the data problems make the run not ok.
    assert {s["step"]: s["status"] for s in d["steps"] if s["step"] != "merge"} == {
        "validate": "ok", "refresh": "ok", "summary": "ok"}


def test_master_open_in_excel_waits_then_leaves_inbox(tmp_path):
    master = _setup(tmp_path)
    owner = master.with_name("~$" + master.name)
    owner.write_bytes(b"\x05Thanh" + b" " * 60)
    before = master.read_bytes()
    sleeps: list[float] = []
    rep = nightly(tmp_path / "kehoach.toml", as_of=AS_OF, retries=2, wait_seconds=7, sleep=sleeps.append, progress=False)
    assert sleeps == [7, 7]
    (merge_step,) = rep.steps  # nothing after a blocked merge
    assert merge_step.status == "blocked" and "hộp thư đến" in merge_step.message and not rep.ok
    assert master.read_bytes() == before
    assert len(list((tmp_path / "hop_thu_den").glob("*.xlsx"))) == 8
    assert not (tmp_path / "hop_thu_den" / "processed").exists()


def test_schedule_survives_failing_run_and_counts(tmp_path, caplog):
    (tmp_path / "kehoach.toml").write_text('master = "x.xlsx"\n', encoding="utf-8")
    calls = []

    def job():
        calls.append(dt.datetime.now())
        if len(calls) == 1:
            raise RuntimeError("boom")
        return "ok"

    with caplog.at_level(logging.INFO, logger="kehoach_xl"):
        n = schedule(tmp_path / "kehoach.toml", interval_seconds=0.05, max_runs=3, job=job)
    assert n == 3 and len(calls) == 3
    assert "lượt chạy theo lịch thứ 1 lỗi" in caplog.text and "lượt chạy theo lịch thứ 3 xong" in caplog.text


def test_schedule_stops_cleanly_on_ctrl_c(tmp_path, caplog):
    (tmp_path / "kehoach.toml").write_text('master = "x.xlsx"\n', encoding="utf-8")

    def job():
        raise KeyboardInterrupt

    with caplog.at_level(logging.INFO, logger="kehoach_xl"):
        n = schedule(tmp_path / "kehoach.toml", interval_seconds=0.05, job=job)
    assert n == 1 and "đã dừng lịch chạy (Ctrl-C)" in caplog.text


def test_schedule_daily_at_configured_time(tmp_path, monkeypatch):
    import schedule as lib

    (tmp_path / "kehoach.toml").write_text('master = "x.xlsx"\nnightly_time = "21:30"\n', encoding="utf-8")
    seen = {}
    calls = []

    def spy(self):
        calls.append(self)
        seen["job"] = self.jobs[0]
        raise KeyboardInterrupt

    monkeypatch.setattr(lib.Scheduler, "run_pending", spy)
    assert schedule(tmp_path / "kehoach.toml", job=lambda: None) == 0
    assert len(calls) == 1  # Ctrl-C on the first poll stops the loop; the job never ran
    assert seen["job"].at_time == dt.time(21, 30) and seen["job"].unit == "days"
