"""``kehoach-xl validate`` and ``kehoach-xl refresh``: thin wrappers over the library."""

from __future__ import annotations

from pathlib import Path

import click

from kehoach_xl.cli.options import EXIT_DATA, emit_json, master_argument, parse_date_option


def _print_table(report) -> None:  # noqa: ANN001 - ValidationReport, imported lazily
    from kehoach_xl.reports.problems import problems_console

    click.echo(problems_console(report.problems))


def register(cli: click.Group) -> None:
    @cli.command("validate")
    @master_argument
    @click.option("--json", "as_json", is_flag=True, help='In kết quả {"valid", "errors", "warnings"} dạng JSON.')
    @click.option("--write", is_flag=True, help="Ghi thêm danh sách lỗi vào sheet “Kiểm tra” của sổ theo dõi.")
    @click.pass_context
    def validate_cmd(ctx: click.Context, master: Path, as_json: bool, write: bool) -> None:
        """Kiểm tra mọi sheet của sổ theo dõi và liệt kê từng lỗi (mã thoát 1 khi có lỗi).

        \b
        Ví dụ:
          kehoach-xl validate so_theo_doi.xlsx
          kehoach-xl validate so_theo_doi.xlsx --json
          kehoach-xl validate so_theo_doi.xlsx --write
        """
        from kehoach_xl.commands.validate import validate

        report = validate(master, write=write)
        if as_json:
            emit_json(report.to_dict())
        else:
            _print_table(report)
            if write:
                click.echo("Đã ghi kết quả vào sheet “Kiểm tra”.")
        if not report.valid:
            ctx.exit(EXIT_DATA)

    @cli.command("refresh")
    @master_argument
    @click.option("--as-of", "as_of", metavar="NGÀY", help="Ngày tính số liệu, 05/06/2024 hoặc 2024-06-05 (mặc định: hôm nay).")
    @click.option("--json", "as_json", is_flag=True, help="In kết quả dạng JSON.")
    def refresh_cmd(master: Path, as_of: str | None, as_json: bool) -> None:
        """Tính lại các cột thời hạn và ghi ngày số liệu vào sổ theo dõi.

        \b
        Ví dụ:
          kehoach-xl refresh so_theo_doi.xlsx
          kehoach-xl refresh so_theo_doi.xlsx --as-of 2024-06-30
        """
        from kehoach_xl import vn
        from kehoach_xl.commands.refresh import refresh
        from kehoach_xl.model import schema

        result = refresh(master, as_of=parse_date_option(as_of))
        if as_json:
            emit_json(result.to_dict())
            return
        click.echo(f"Số liệu tính đến ngày {vn.date(result.as_of)}: {result.tasks} nhiệm vụ, "
                   f"{result.cells_changed} ô thay đổi.")
        for code, label in schema.DEADLINE_STATES.items():
            if result.states.get(code):
                click.echo(f"  {label}: {result.states[code]}")
        if result.missing_columns:
            click.echo("Thiếu cột (không ghi được): " + ", ".join(result.missing_columns), err=True)
