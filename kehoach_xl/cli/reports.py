"""CLI commands of the reports layer: summary, briefing, report."""

from __future__ import annotations

from pathlib import Path

import click

from kehoach_xl.cli.options import emit_json, master_argument, parse_date_option


def register(cli: click.Group) -> None:
    @cli.command("summary")
    @master_argument
    @click.option("--as-of", help="Ngày lập số liệu, 05/06/2024 hoặc 2024-06-05 (mặc định: ngày số liệu của sổ, nếu chưa có thì hôm nay).")
    @click.option("--export", type=click.Path(dir_okay=False, path_type=Path),
                  help="Ghi thêm bảng tổng hợp ra một tệp riêng (.xlsx).")
    @click.option("--period", default=None,
                  help="Tháng báo cáo, 05/2024 hoặc 2024-05 (mặc định: tháng của ngày số liệu).")
    @click.option("--json", "as_json", is_flag=True, help="In mọi số liệu dạng JSON.")
    def summary_cmd(master: Path, as_of: str | None, export: Path | None, period: str | None,
                    as_json: bool) -> None:
        """Ghi sheet “Tổng hợp” của sổ theo dõi; có thể xuất thêm ra tệp riêng.

        \b
        Ví dụ:
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
        figures = (f"{t.total} nhiệm vụ, hoàn thành {t.done}, quá hạn {t.overdue}, sắp đến hạn {t.due_soon}")
        if s.written:
            click.echo(f"Đã ghi sheet Tổng hợp (số liệu đến ngày {vn.date(s.as_of)}): {figures}.")
        else:  # no sheet of the program's to write into: the note below says why
            click.echo(f"Số liệu tổng hợp đến ngày {vn.date(s.as_of)}: {figures}; sổ theo dõi giữ nguyên.")
        for w in s.warnings:
            click.echo(f"Lưu ý: {w}", err=True)
        if s.export_path:
            click.echo(f"Tệp tổng hợp: {s.export_path}")

    @cli.command("briefing")
    @master_argument
    @click.option("--period", required=True, help="Tháng báo cáo, 05/2024 hoặc 2024-05.")
    @click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
                  help="Thư mục ghi các tệp .txt, .html, .png, .eml và thư nhắc việc.")
    @click.option("--send", is_flag=True, help="Gửi báo cáo giao ban và thư nhắc qua máy chủ thư ([mail] trong kehoach.toml).")
    @click.option("--send-reminders", is_flag=True,
                  help="Chỉ gửi thư nhắc việc, mỗi thư tới đúng đơn vị còn nhiệm vụ quá hạn hoặc sắp đến hạn.")
    @click.option("--as-of", help="Ngày lập số liệu, 05/06/2024 hoặc 2024-06-05 (mặc định: cuối kỳ, hoặc ngày số liệu của sổ).")
    @click.option("--json", "as_json", is_flag=True, help="In danh sách tệp đã ghi dạng JSON.")
    def briefing_cmd(master: Path, period: str, out: Path, send: bool, send_reminders: bool, as_of: str | None,
                     as_json: bool) -> None:
        """Soạn thư báo cáo giao ban hằng tháng và thư nhắc cho từng đơn vị có nhiệm vụ quá hạn hoặc sắp đến hạn.

        \b
        Ví dụ:
          kehoach-xl briefing so_theo_doi.xlsx --period 2024-07 --out bao_cao/2024-07
          kehoach-xl briefing so_theo_doi.xlsx --period 2024-07 --out bao_cao/2024-07 --send
        """
        from kehoach_xl.commands.briefing import briefing

        res = briefing(master, period=period, out=out, send=send, as_of=parse_date_option(as_of),
                       send_reminders=send_reminders)
        if as_json:
            emit_json(res.to_dict())
            return
        click.echo(f"Đã soạn báo cáo giao ban: {res.eml_path}")
        click.echo(f"Thư nhắc việc: {len(res.reminders)} đơn vị.")
        if send or send_reminders:
            click.echo(f"Đã gửi {len(res.sent)} thư.")
        for w in res.warnings:
            click.echo(f"Lưu ý: {w}", err=True)

    @cli.command("report")
    @master_argument
    @click.option("--period", required=True, help="Tháng báo cáo, 05/2024 hoặc 2024-05.")
    @click.option("--out", required=True, type=click.Path(path_type=Path), help="Thư mục hoặc tệp .docx sẽ ghi.")
    @click.option("--as-of", help="Ngày lập số liệu, 05/06/2024 hoặc 2024-06-05 (mặc định: cuối kỳ, hoặc ngày số liệu của sổ).")
    def report_cmd(master: Path, period: str, out: Path, as_of: str | None) -> None:
        """Lập báo cáo bằng văn bản Word (thể thức Nghị định 30/2020/NĐ-CP) cho một tháng.

        \b
        Ví dụ:
          kehoach-xl report so_theo_doi.xlsx --period 2024-07 --out bao_cao/
        """
        from kehoach_xl.commands.report import report

        path = report(master, period=period, out=out, as_of=parse_date_option(as_of))
        click.echo(f"Đã tạo báo cáo: {path}")
