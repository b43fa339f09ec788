"""The ``kehoach-xl`` command line.

Each command is a thin wrapper over the public library function of the same
name; options are that function's keyword arguments in kebab-case. Commands
live in ``cli_*.py`` modules beside this one, each exposing ``register(group)``,
so features can be added without touching this file.

Exit codes: 0 ok, 1 data problems, 2 usage errors."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

import click

from kehoach_xl import __version__
from kehoach_xl.cli.options import KehoachGroup, emit_csv, emit_json, master_argument


@click.group(cls=KehoachGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kehoach-xl")
def cli() -> None:
    """kehoach-xl: the department's plan-tracking workbook as a dependable system.

    \b
    Example:
      kehoach-xl demo ./demo
      kehoach-xl tasks ./demo/so_theo_doi.xlsx --json
    """


@cli.command("init")
@master_argument
@click.option("--sample", type=click.Choice(["none", "langson_ddci_2024"]), default="none",
              help="Fill the units, leaders and index-score sheets from a bundled sample plan.")
@click.option("--overwrite", is_flag=True, help="Replace an existing file.")
def init_cmd(master: Path, sample: str, overwrite: bool) -> None:
    """Create an empty master workbook (and a kehoach.toml beside it).

    \b
    Example:
      kehoach-xl init so_theo_doi.xlsx --sample langson_ddci_2024
    """
    from kehoach_xl.commands.init import init

    path = init(master, sample=None if sample == "none" else sample, overwrite=overwrite)
    click.echo(f"Đã tạo sổ theo dõi: {path}")
    click.echo(f"Khóa ký tệp đơn vị nằm trong {path.parent / 'kehoach.toml'} (signing_key): giữ bí mật, "
               "chỉ Văn phòng Sở và bộ phận kỹ thuật được đọc thư mục này.")


@cli.command("tasks")
@master_argument
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array with snake_case keys.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV for spreadsheets.")
def tasks_cmd(master: Path, as_json: bool, as_csv: bool) -> None:
    """List every task of the master.

    \b
    Example:
      kehoach-xl tasks so_theo_doi.xlsx --json
      kehoach-xl tasks so_theo_doi.xlsx --csv > nhiem_vu.csv
    """
    from kehoach_xl import vn
    from kehoach_xl.commands.tasks import tasks

    rows = tasks(master)
    if as_json:
        emit_json(rows)
    elif as_csv:
        emit_csv(rows)
    else:
        for r in rows:
            due = vn.date(r["due_date"]) or r["deadline_text"] or ""
            click.echo(f"{r['id'] or '':<14} {(r['status'] or ''):<16} {due:<12} {(r['task'] or '')[:70]}")
        click.echo(f"Tổng số: {len(rows)} nhiệm vụ.")


def _load_command_modules() -> None:
    pkg = importlib.import_module("kehoach_xl.cli")
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name not in ("main", "options") and not info.name.startswith("_"):
            mod = importlib.import_module(f"kehoach_xl.cli.{info.name}")
            mod.register(cli)


def main(argv: list[str] | None = None) -> int:
    try:
        cli.main(args=argv, prog_name="kehoach-xl", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


_load_command_modules()


if __name__ == "__main__":
    sys.exit(main())
