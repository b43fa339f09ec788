"""CLI: issue, merge, nightly, schedule."""

from __future__ import annotations

from pathlib import Path

import click

from kehoach_xl.cli.options import emit_json, master_argument, parse_date_option


def _print_merge(d: dict) -> None:
    for f in d["files"]:
        label = {"processed": "Đã tổng hợp", "partial": "Tổng hợp một phần", "rejected": "TRẢ LẠI",
                 "left": "Để lần sau"}[f["status"]]
        click.echo(f"{label:<18} {f['file']}  ({f['unit'] or '?'}): {len(f['changes'])} thay đổi, "
                   f"{len(f['problems'])} vấn đề")
        for p in f["problems"]:
            where = " ".join(x for x in (p["sheet"], p["cell"]) if x)
            click.echo(f"    - {where + ': ' if where else ''}{p['message']}")
    for c in d["conflicts"]:
        click.echo(f"Xung đột {c['task_id']} / {c['field']}: {c['reason']} — sổ: “{c['master_value']}”; "
                   + "; ".join(f"{v['unit']}: “{v['value']}”" for v in c["values"]))
    click.echo(f"Tổng cộng: {d['applied']} ô được cập nhật.")


def register(cli: click.Group) -> None:
    @cli.command("issue")
    @master_argument
    @click.option("--period", required=True, help="Reporting period YYYY-MM.")
    @click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
                  help="Folder for the unit workbooks.")
    def issue_cmd(master: Path, period: str, out: Path) -> None:
        """Issue one report workbook per unit for a period.

        \b
        Example:
          kehoach-xl issue so_theo_doi.xlsx --period 2024-05 --out gui_don_vi
        """
        from kehoach_xl.commands.issue import issue

        for p in issue(master, period=period, out=out):
            click.echo(str(p))

    @cli.command("merge")
    @master_argument
    @click.argument("inbox", required=False, type=click.Path(file_okay=False, path_type=Path))
    @click.option("--period", default=None, help="Period YYYY-MM for master copies sent back (default: from file name).")
    @click.option("--dry-run", is_flag=True, help="Read and check only; write nothing, move nothing.")
    @click.option("--as-of", default=None, help="Today's date YYYY-MM-DD (periods after it are refused).")
    @click.option("--json", "as_json", is_flag=True, help="Print the merge report as JSON.")
    def merge_cmd(master: Path, inbox: Path | None, period: str | None, dry_run: bool, as_of: str | None,
                  as_json: bool) -> None:
        """Merge unit submissions from the inbox into the master.

        \b
        Example:
          kehoach-xl merge so_theo_doi.xlsx hop_thu_den --json
        """
        from kehoach_xl.commands.merge import merge
        from kehoach_xl.model.config import load_config

        if master.exists():
            _ = load_config(master).secret  # no signing key → a clear Vietnamese message, before any file is read
        rep = merge(master, inbox, period=period, dry_run=dry_run, as_of=parse_date_option(as_of))
        d = rep.to_dict()
        if as_json:
            emit_json(d)
        else:
            _print_merge(d)
        if any(f["status"] not in ("processed", "left") for f in d["files"]) or d["conflicts"]:
            raise SystemExit(1)

    @cli.command("nightly")
    @click.argument("config_path_or_master", required=False, type=click.Path(path_type=Path))
    @click.option("--wait-seconds", type=float, default=None, help="Seconds between retries when Excel has the master open.")
    @click.option("--json", "as_json", is_flag=True, help="Print the run report as JSON.")
    def nightly_cmd(config_path_or_master: Path | None, wait_seconds: float | None, as_json: bool) -> None:
        """Run merge, validate, refresh and summary once, with a log file.

        \b
        Example:
          kehoach-xl nightly kehoach.toml
        """
        from kehoach_xl.commands.nightly import nightly

        rep = nightly(config_path_or_master, wait_seconds=wait_seconds)
        if as_json:
            emit_json(rep.to_dict())
        else:
            for s in rep.steps:
                click.echo(f"{s.step:<9} {s.status:<8} {s.message}")
            click.echo(f"Nhật ký: {rep.log_file}")
        if not rep.ok:
            raise SystemExit(1)

    @cli.command("schedule")
    @click.argument("config", required=False, type=click.Path(path_type=Path))
    @click.option("--at", default=None, help="Time of day HH:MM (default: nightly_time in kehoach.toml).")
    def schedule_cmd(config: Path | None, at: str | None) -> None:
        """Run the nightly job every day at the configured time until Ctrl-C.

        \b
        Example:
          kehoach-xl schedule kehoach.toml --at 22:00
        """
        import logging

        from kehoach_xl.commands.nightly import schedule

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        n = schedule(config, at=at)
        click.echo(f"Đã dừng sau {n} lần chạy.")
