"""Shared pieces of the commands: JSON/CSV output, date options, exit codes."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from kehoach_xl.errors import KehoachError, SetupError
from kehoach_xl.rules.safe_cells import csv_text

EXIT_OK, EXIT_DATA, EXIT_USAGE = 0, 1, 2


def _default(o: Any) -> Any:
    if isinstance(o, (dt.date, dt.datetime)):
        return o.isoformat()
    if isinstance(o, Path):
        return str(o)
    if hasattr(o, "to_dict"):
        return o.to_dict()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def emit_json(obj: Any) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=_default))


def csv_safe(value: Any) -> Any:
    """Text Excel would run as a formula (=HYPERLINK(…) typed into a task) gets a leading apostrophe."""
    return csv_text(value)


def emit_csv(rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    w = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: csv_safe("; ".join(v) if isinstance(v, list) else ("" if v is None else v))
                    for k, v in r.items()})


def parse_date_option(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"ngày phải có dạng YYYY-MM-DD, nhận được '{value}'") from None


master_argument = click.argument("master", type=click.Path(dir_okay=False, path_type=Path))


class KehoachGroup(click.Group):
    """Turns library exceptions into Vietnamese messages and the right exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KehoachError as exc:
            click.echo(f"Lỗi: {exc}", err=True)
            ctx.exit(exc.exit_code if isinstance(exc, (SetupError,)) else EXIT_DATA)
