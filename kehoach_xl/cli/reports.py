"""CLI commands of the reports layer: summary, briefing, report."""

from __future__ import annotations

from pathlib import Path

import click

from kehoach_xl.cli.options import emit_json, master_argument, parse_date_option


def register(cli: click.Group) -> None:
    @cli.command("summary")
    @master_argument
    @click.option("--as-of", help="Report date YYYY-MM-DD (default: the master's as-of date, else today).")
    @click.option("--export", type=click.Path(dir_okay=False, path_type=Path),
                  help="Also write the summary as its own workbook (.xlsx).")
    @click.option("--period", default=None,
                  help="Reporting month YYYY-MM (default: the month of the as-of date).")
    @click.option("--json", "as_json", is_flag=True, help="Print every figure as JSON.")
    def summary_cmd(master: Path, as_of: str | None, export: Path | None, period: str | None,
                    as_json: bool) -> None:
        """Write the summary sheet ("Tổng hợp") of the master; optionally export it.

        \b
        Example:
          kehoach-xl summary so_theo_doi.xlsx --as-of 2024-07-15
          kehoach-xl summary so_theo_doi.xlsx --period 2024-05 --export bao_cao/tong_hop.xlsx --json
        """
        from kehoach_xl import vn
        from kehoach_xl.commands.summary import summary

        s = summary(master, as_of=parse_date_option(as_of), export=export, period=period)
        if as_json:
            emit_json(s.to_dict())
            return
        t = s.total
        click.echo(f"Đã ghi sheet Tổng hợp (số liệu đến ngày {vn.date(s.as_of)}): {t.total} nhiệm vụ, "
                   f"hoàn thành {t.done}, quá hạn {t.overdue}, sắp đến hạn {t.due_soon}.")
        for w in s.warnings:
            click.echo(f"Lưu ý: {w}", err=True)
        if s.export_path:
            click.echo(f"Tệp tổng hợp: {s.export_path}")

    @cli.command("briefing")
    @master_argument
    @click.option("--period", required=True, help="Reporting month YYYY-MM.")
    @click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
                  help="Folder for the .txt, .html, .png, .eml and reminder files.")
    @click.option("--send", is_flag=True, help="Deliver the briefing and reminders through SMTP ([mail] in kehoach.toml).")
    @click.option("--as-of", help="Report date YYYY-MM-DD (default: end of the period, or the master's as-of date).")
    @click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
    def briefing_cmd(master: Path, period: str, out: Path, send: bool, as_of: str | None, as_json: bool) -> None:
        """Prepare the monthly briefing email and one reminder per unit with late or soon-due tasks.

        \b
        Example:
          kehoach-xl briefing so_theo_doi.xlsx --period 2024-07 --out bao_cao/2024-07
          kehoach-xl briefing so_theo_doi.xlsx --period 2024-07 --out bao_cao/2024-07 --send
        """
        from kehoach_xl.commands.briefing import briefing

        res = briefing(master, period=period, out=out, send=send, as_of=parse_date_option(as_of))
        if as_json:
            emit_json(res.to_dict())
            return
        click.echo(f"Đã soạn báo cáo giao ban: {res.eml_path}")
        click.echo(f"Thư nhắc việc: {len(res.reminders)} đơn vị.")
        if send:
            click.echo(f"Đã gửi {len(res.sent)} thư.")
        for w in res.warnings:
            click.echo(f"Lưu ý: {w}", err=True)

    @cli.command("report")
    @master_argument
    @click.option("--period", required=True, help="Reporting month YYYY-MM.")
    @click.option("--out", required=True, type=click.Path(path_type=Path), help="Folder or .docx file to write.")
    @click.option("--as-of", help="Report date YYYY-MM-DD (default: end of the period, or the master's as-of date).")
    def report_cmd(master: Path, period: str, out: Path, as_of: str | None) -> None:
        """Write the formal Word report (Nghị định 30/2020/NĐ-CP format) for a month.

        \b
        Example:
          kehoach-xl report so_theo_doi.xlsx --period 2024-07 --out bao_cao/
        """
        from kehoach_xl.commands.report import report

        path = report(master, period=period, out=out, as_of=parse_date_option(as_of))
        click.echo(f"Đã tạo báo cáo: {path}")
