"""The ``kehoach-xl`` command line.

Each command is a thin wrapper over the public library function of the same
name; options are that function's keyword arguments in kebab-case. Commands
live in ``cli_*.py`` modules beside this one, each exposing ``register(group)``,
so features can be added without touching this file.

Exit codes: 0 ok, 1 data problems, 2 usage errors."""

from __future__ import annotations

import contextlib
import importlib
import pkgutil
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from kehoach_xl import __version__
from kehoach_xl.cli.options import KehoachGroup, emit_csv, emit_json, master_argument


@click.group(cls=KehoachGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kehoach-xl", message="%(prog)s, phiên bản %(version)s",
                      help="Hiện số phiên bản rồi thoát.")
def cli() -> None:
    """kehoach-xl: sổ theo dõi thực hiện kế hoạch của Sở, vận hành tin cậy.

    \b
    Ví dụ:
      kehoach-xl demo ./demo
      kehoach-xl tasks ./demo/so_theo_doi.xlsx --json
    """


@cli.command("init")
@master_argument
@click.option("--sample", type=click.Choice(["none", "langson_ddci_2024"]), default="none",
              help="Điền sẵn các sheet đơn vị, lãnh đạo và điểm chỉ số từ một kế hoạch mẫu có sẵn.")
@click.option("--overwrite", is_flag=True, help="Ghi đè tệp đã có (tệp cũ được sao lưu trước).")
def init_cmd(master: Path, sample: str, overwrite: bool) -> None:
    """Tạo sổ theo dõi trống, kèm kehoach.toml và các thư mục làm việc bên cạnh.

    \b
    Ví dụ:
      kehoach-xl init so_theo_doi.xlsx --sample langson_ddci_2024
    """
    from kehoach_xl.commands.init import init

    path = init(master, sample=None if sample == "none" else sample, overwrite=overwrite)
    click.echo(f"Đã tạo sổ theo dõi: {path}")
    from kehoach_xl.model.config import load_config

    cfg = load_config(path)
    click.echo(f"Thư mục nhận báo cáo: {cfg.inbox_dir}; thư mục báo cáo: {cfg.reports_dir}")
    click.echo(f"Khóa ký tệp đơn vị nằm trong {path.parent / 'kehoach.toml'} (signing_key): giữ bí mật, "
               "chỉ Văn phòng Sở và bộ phận kỹ thuật được đọc thư mục này.")


@cli.command("tasks")
@master_argument
@click.option("--json", "as_json", is_flag=True, help="In danh sách dạng JSON (khóa snake_case).")
@click.option("--csv", "as_csv", is_flag=True, help="In dạng CSV để mở bằng bảng tính.")
def tasks_cmd(master: Path, as_json: bool, as_csv: bool) -> None:
    """Liệt kê mọi nhiệm vụ trong sổ theo dõi.

    \b
    Ví dụ:
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
    guard_rails(cli)


# Vietnamese placeholders in the usage line and in error messages ("Thiếu tham số 'SỔ_THEO_DÕI'").
ARGUMENT_METAVARS = {
    "master": "SỔ_THEO_DÕI", "inbox": "THƯ_MỤC_NHẬN", "folder": "THƯ_MỤC", "plan_file": "VĂN_BẢN_KẾ_HOẠCH",
    "config_path_or_master": "CẤU_HÌNH_HOẶC_SỔ", "config": "CẤU_HÌNH",
}
OPTION_METAVARS = {"as_of": "NGÀY", "period": "KỲ", "at": "GIỜ:PHÚT", "host": "ĐỊA_CHỈ", "port": "CỔNG",
                   "plan_code": "MÃ", "plan_year": "NĂM", "wait_seconds": "GIÂY", "backup": "BẢN_SAO_LƯU"}
# Commands whose file must be a master, and the parameter naming it; a refusal (exit 2) comes
# before the command reads, moves, writes or backs up anything.
TOLERANT = ("missing", "damaged")  # restore is how a broken or deleted master comes back


def _check_master(name: str, kwargs: dict) -> None:
    from kehoach_xl.io.file_kind import FileKind, detect_kind, refusal, require_master

    if name == "init":
        target = kwargs.get("master")
        if target is not None and Path(target).exists() and kwargs.get("overwrite"):
            kind = detect_kind(target)  # a damaged master may be replaced (it is backed up first)
            if kind not in (FileKind.MASTER, FileKind.DAMAGED):
                from kehoach_xl.errors import SetupError

                raise SetupError(refusal(Path(target), kind))
        return
    if name == "import":
        into = kwargs.get("into")
        if into is not None and Path(into).exists():
            require_master(into)
        return
    if name == "nightly":
        p = kwargs.get("config_path_or_master")
        if p is not None and Path(p).is_file() and Path(p).suffix.lower() != ".toml":
            require_master(p)
        elif p is None or Path(p).exists():
            from kehoach_xl.model.config import load_config

            cfg = load_config(p)
            if cfg.master and cfg.resolve(cfg.master).exists():
                require_master(cfg.resolve(cfg.master), inbox=cfg.inbox_dir)
        return
    master = kwargs.get("master")
    if master is None:
        return
    if name == "restore":
        kind = detect_kind(master)
        if kind is not FileKind.MASTER and kind.value not in TOLERANT:
            from kehoach_xl.errors import SetupError

            raise SetupError(refusal(Path(master), kind))
        return
    require_master(master)


def guard_rails(group: click.Group) -> None:
    """Vietnamese placeholders, one date and period style everywhere, and the master check."""
    from kehoach_xl.cli.options import date_callback, period_callback

    group.subcommand_metavar = "LỆNH [THAM_SỐ]..."
    group.options_metavar = "[TÙY_CHỌN]"
    for name, cmd in group.commands.items():
        cmd.options_metavar = "[TÙY_CHỌN]"
        for param in cmd.params:
            if isinstance(param, click.Argument):
                name_vi = ARGUMENT_METAVARS.get(param.name or "")
                if param.metavar is None and name_vi:
                    param.metavar = name_vi if param.required else f"[{name_vi}]"
                continue
            if not isinstance(param, click.Option) or param.is_flag:
                continue
            if param.name == "as_of" and param.callback is None:
                param.callback = date_callback
            if param.name == "period" and param.callback is None:
                param.callback = period_callback
            if param.metavar is None and not isinstance(param.type, click.Choice):
                param.metavar = OPTION_METAVARS.get(param.name or "") or (
                    "SỐ" if isinstance(param.type, (click.types.IntParamType, click.types.FloatParamType))
                    else "ĐƯỜNG_DẪN" if isinstance(param.type, click.Path) else "GIÁ_TRỊ")
        if cmd.callback is not None and not getattr(cmd.callback, "_guarded", False):
            cmd.callback = _guarded(name, cmd.callback)


def _guarded(name: str, callback):  # noqa: ANN001, ANN202 - a click command callback
    import functools

    @functools.wraps(callback)
    def run(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        from kehoach_xl.cli._heap import fix_mmap_threshold

        fix_mmap_threshold()  # a command that runs reads big sheets and frees them in turn: see cli/_heap
        _check_master(name, kwargs)
        if name in _LONG_RUNNING:
            return callback(*args, **kwargs)
        with _batch_gc():
            return callback(*args, **kwargs)

    run._guarded = True  # type: ignore[attr-defined]
    return run


_LONG_RUNNING = frozenset({"serve", "schedule"})  # servers keep the interpreter's collector settings


@contextlib.contextmanager
def _batch_gc() -> Iterator[None]:
    """Collect cycles less often while one batch command runs.

    A command builds hundreds of thousands of rows, parts and cells that live until it ends and
    hold no cycles; with the default thresholds the collector walks them again and again (refresh
    at 50,000 tasks: 24.9 → 23.6 s, peak unchanged). Restored afterwards: the tests and the Excel
    buttons call commands in a process that goes on.
    """
    import gc

    before = gc.get_threshold()
    gc.set_threshold(50_000, 20, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*before)


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
