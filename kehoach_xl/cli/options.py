"""Shared pieces of the commands: JSON/CSV output, date options, exit codes."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from kehoach_xl import vn
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
    if not isinstance(obj, list) or not obj:
        click.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=_default))
        return
    # A list (50,000 tasks) is written item by item, never as one string of the whole: the same
    # text json.dumps(obj, indent=2) gives (JSON strings hold no raw line breaks to re-indent).
    out = sys.stdout
    out.write("[\n")
    last = len(obj) - 1
    for i, item in enumerate(obj):
        text = json.dumps(item, ensure_ascii=False, indent=2, default=_default).replace("\n", "\n  ")
        out.write("  " + text + (",\n" if i < last else "\n"))
    out.write("]\n")
    out.flush()


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


def parse_date_option(value: str | dt.date | None) -> dt.date | None:
    """A date typed on the command line: 05/06/2024 or 2024-06-05 (through vn.parse_date)."""
    if not value:
        return None
    if isinstance(value, dt.date):
        return value
    try:
        d = vn.parse_date(value)
    except ValueError:
        d = None
    if d is None:
        raise click.BadParameter(f"“{value}” không phải ngày hợp lệ; nhập dạng dd/mm/yyyy (ví dụ 05/06/2024) "
                                 "hoặc YYYY-MM-DD (2024-06-05).")
    return d


def date_callback(ctx: click.Context, param: click.Parameter, value: Any) -> dt.date | None:
    return parse_date_option(value)


def period_callback(ctx: click.Context, param: click.Parameter, value: Any) -> str | None:
    """--period 05/2024, 5/2024, 2024-05 or 2024-5 → '2024-05'."""
    if value in (None, ""):
        return None
    try:
        return vn.parse_period(value)
    except SetupError as exc:
        raise click.BadParameter(str(exc)) from None


master_argument = click.argument("master", type=click.Path(dir_okay=False, path_type=Path))


# click's own messages (usage errors, help headings), in Vietnamese: click looks each one up through
# gettext's ``_``/``ngettext`` bound in its modules; while a kehoach-xl command runs those names point
# at this catalogue instead (placeholders kept; a message not listed stays as click wrote it).
CLICK_VI = {
    "Usage:": "Cách dùng:",
    "Options": "Tùy chọn",
    "Positional arguments": "Tham số",
    "Commands": "Lệnh",
    "Error: {message}": "Lỗi: {message}",
    "Try '{command} {option}' for help.": "Gõ “{command} {option}” để xem hướng dẫn.",
    "Missing argument": "Thiếu tham số",
    "Missing option": "Thiếu tùy chọn",
    "Missing parameter": "Thiếu tham số",
    "Missing {param_type}": "Thiếu {param_type}",
    "Missing parameter: {param_name}": "Thiếu tham số: {param_name}",
    "Missing command.": "Thiếu tên lệnh.",
    "No such option {name!r}.": "Không có tùy chọn {name!r}.",
    "No such command {name!r}.": "Không có lệnh {name!r}.",
    "Did you mean {possibility}?": "Có phải ý anh/chị là {possibility}?",
    "(Did you mean one of: {possibilities}?)": "(Có phải ý anh/chị là một trong: {possibilities}?)",
    "Invalid value for {param_hint}: {message}": "Giá trị không hợp lệ cho {param_hint}: {message}",
    "Invalid value: {message}": "Giá trị không hợp lệ: {message}",
    "Got unexpected extra argument ({args})": "Thừa tham số không dùng đến ({args})",
    "Got unexpected extra arguments ({args})": "Thừa các tham số không dùng đến ({args})",
    "Option {name!r} requires an argument.": "Tùy chọn {name!r} cần một giá trị.",
    "Option {name!r} requires {nargs} arguments.": "Tùy chọn {name!r} cần {nargs} giá trị.",
    "Option {name!r} does not take a value.": "Tùy chọn {name!r} không nhận giá trị.",
    "Argument {name!r} takes {nargs} values.": "Tham số {name!r} cần {nargs} giá trị.",
    "Takes {nargs} values but 1 was given.": "Cần {nargs} giá trị nhưng chỉ nhận được 1.",
    "Takes {nargs} values but {len} were given.": "Cần {nargs} giá trị nhưng nhận được {len}.",
    "{len_type} values are required, but {len_value} was given.": "Cần {len_type} giá trị, nhận được {len_value}.",
    "{len_type} values are required, but {len_value} were given.": "Cần {len_type} giá trị, nhận được {len_value}.",
    "Value must be an iterable.": "Giá trị phải là một danh sách.",
    "{value!r} is not {choice}.": "{value!r} không phải {choice}.",
    "{value!r} is not one of {choices}.": "{value!r} không thuộc các giá trị {choices}.",
    "Choose from:\n\t{choices}": "Chọn một trong:\n\t{choices}",
    "{value!r} is not a valid {number_type}.": "{value!r} không phải số hợp lệ.",
    "{value} is not in the range {range}.": "{value} nằm ngoài khoảng {range}.",
    "{value!r} is not a valid boolean. Recognized values: {states}":
        "{value!r} không phải giá trị có/không hợp lệ. Các giá trị được nhận: {states}",
    "{value!r} does not match the format {format}.": "{value!r} không đúng dạng {format}.",
    "{value!r} does not match the formats {formats}.": "{value!r} không đúng các dạng {formats}.",
    "{value!r} is not a valid UUID.": "{value!r} không phải mã UUID hợp lệ.",
    "{name} {filename!r} does not exist.": "Không tìm thấy {filename!r}.",
    "{name} {filename!r} is a file.": "{filename!r} là tệp, cần một thư mục.",
    "{name} {filename!r} is a directory.": "{filename!r} là thư mục, cần một tệp.",
    "{name} {filename!r} is not readable.": "Không có quyền đọc {filename!r}.",
    "{name} {filename!r} is not writable.": "Không có quyền ghi {filename!r}.",
    "{name} {filename!r} is not executable.": "Không chạy được {filename!r}.",
    "Could not open file {filename!r}: {message}": "Không mở được tệp {filename!r}: {message}",
    "unknown error": "lỗi không rõ",
    "Aborted!": "Đã dừng.",
    "Show this message and exit.": "Hiện hướng dẫn này rồi thoát.",
    "Show the version and exit.": "Hiện số phiên bản rồi thoát.",
    "%(prog)s, version %(version)s": "%(prog)s, phiên bản %(version)s",
    "default: {default}": "mặc định: {default}",
    "env var: {var}": "biến môi trường: {var}",
    "required": "bắt buộc",
    "(dynamic)": "(tự động)",
    "deprecated": "không còn dùng",
    "Do you want to continue?": "Tiếp tục?",
    "Repeat for confirmation": "Nhập lại để xác nhận",
    "Error: The two entered values do not match.": "Lỗi: hai lần nhập không khớp nhau.",
    "Error: invalid input": "Lỗi: giá trị nhập không hợp lệ.",
    "Press any key to continue...": "Nhấn phím bất kỳ để tiếp tục…",
}
_CLICK_MODULES = ("core", "exceptions", "formatting", "parser", "types", "decorators", "termui", "utils")


def _vi(message: str) -> str:
    return CLICK_VI.get(message, message)


def _vi_n(singular: str, plural: str, n: int) -> str:
    return _vi(singular if n == 1 else plural)


class _VietnameseClick:
    """While active, click's ``_`` and ``ngettext`` answer from :data:`CLICK_VI`."""

    def __enter__(self) -> None:
        import importlib

        self.saved: list[tuple[Any, str, Any]] = []
        for name in _CLICK_MODULES:
            mod = importlib.import_module(f"click.{name}")
            for attr, repl in (("_", _vi), ("ngettext", _vi_n)):
                if hasattr(mod, attr):
                    self.saved.append((mod, attr, getattr(mod, attr)))
                    setattr(mod, attr, repl)

    def __exit__(self, *exc: Any) -> None:
        for mod, attr, value in reversed(self.saved):
            setattr(mod, attr, value)


class KehoachGroup(click.Group):
    """Turns library exceptions into Vietnamese messages and the right exit code; speaks Vietnamese
    for click's own usage errors and help headings too."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        with _VietnameseClick():
            return super().main(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KehoachError as exc:
            click.echo(f"Lỗi: {exc}", err=True)
            ctx.exit(exc.exit_code if isinstance(exc, (SetupError,)) else EXIT_DATA)
