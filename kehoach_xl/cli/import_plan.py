"""``kehoach-xl import``: a plan's task table into the master."""

from __future__ import annotations

from pathlib import Path

import click

from kehoach_xl.cli.options import emit_json


def register(cli: click.Group) -> None:
    @cli.command("import")
    @click.argument("plan_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--into", "into", required=True, type=click.Path(dir_okay=False, path_type=Path),
                  help="The master workbook (created when it does not exist).")
    @click.option("--plan-code", default=None, help="Plan code used in task IDs (default: the master's settings).")
    @click.option("--add-unknown", is_flag=True, help="Add unknown units and leaders to the registry sheets.")
    @click.option("--plan-year", type=int, default=None, help="Year for deadlines written without one.")
    @click.option("--with-progress", is_flag=True,
                  help="Progress-report appendix: map its state and result columns to Trạng thái and Kết quả "
                       "(only where no unit has reported yet).")
    @click.option("--dry-run", is_flag=True, help="Report what would change without writing.")
    @click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
    def import_cmd(plan_file: Path, into: Path, plan_code: str | None, add_unknown: bool, plan_year: int | None,
                   with_progress: bool, dry_run: bool, as_json: bool) -> None:
        """Import a plan's task table (Word, Excel, CSV/TSV text) into the master.

        \b
        Example:
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
