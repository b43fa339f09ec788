"""``kehoach-xl import``: a plan's task table into the master."""

from __future__ import annotations

from pathlib import Path

import click

from kehoach_xl.cli.options import emit_json


def register(cli: click.Group) -> None:
    @cli.command("import")
    @click.argument("plan_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--into", "into", required=True, type=click.Path(dir_okay=False, path_type=Path),
                  help="Sổ theo dõi cần nhập vào (chưa có thì được tạo mới).")
    @click.option("--plan-code", default=None, help="Mã kế hoạch dùng trong mã nhiệm vụ (mặc định: theo sheet Cấu hình của sổ).")
    @click.option("--add-unknown", is_flag=True, help="Thêm đơn vị và lãnh đạo chưa có vào các sheet danh mục.")
    @click.option("--plan-year", type=int, default=None, help="Năm dùng cho các thời hạn không ghi năm.")
    @click.option("--with-progress", is_flag=True,
                  help="Phụ lục báo cáo tiến độ: đưa cột tình trạng và kết quả vào Trạng thái và Kết quả "
                       "(chỉ ở những nhiệm vụ chưa đơn vị nào báo cáo).")
    @click.option("--dry-run", is_flag=True, help="Chỉ báo trước những gì sẽ thay đổi, không ghi gì.")
    @click.option("--json", "as_json", is_flag=True, help="In kết quả dạng JSON.")
    def import_cmd(plan_file: Path, into: Path, plan_code: str | None, add_unknown: bool, plan_year: int | None,
                   with_progress: bool, dry_run: bool, as_json: bool) -> None:
        """Nhập bảng nhiệm vụ của kế hoạch (Word, Excel, văn bản CSV/TSV) vào sổ theo dõi.

        \b
        Ví dụ:
          kehoach-xl import ke_hoach_62.docx --into so_theo_doi.xlsx --plan-code DDCI2024
          kehoach-xl import phu_luc.tsv --into so_theo_doi.xlsx --json
        """
        from kehoach_xl.commands.import_plan import import_plan

        rep = import_plan(plan_file, into, plan_code=plan_code, add_unknown=add_unknown, plan_year=plan_year,
                          dry_run=dry_run, with_progress=with_progress)
        if as_json:
            emit_json(rep.to_dict())
        else:
            from kehoach_xl.reports.problems import problems_console

            for line in rep.summary_lines():
                click.echo(line)
            if rep.problems:
                click.echo(problems_console(rep.problems, place_header="Vị trí"))
