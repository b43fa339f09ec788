"""``kehoach-xl serve`` (the button server) and ``kehoach-xl xlsm`` (macro-enabled master)."""

from __future__ import annotations

from pathlib import Path

import click

from .cli import master_argument


def register(cli: click.Group) -> None:
    @cli.command("serve")
    @click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
                  help="kehoach.toml, or the folder (or master) it sits beside. Default: current folder.")
    @click.option("--host", default=None, help="Address to listen on (default [server] host, 127.0.0.1).")
    @click.option("--port", type=int, default=None, help="Port (default [server] port, 8765).")
    def serve_cmd(config_path: Path | None, host: str | None, port: int | None) -> None:
        """Run the button server for Excel PCs without Python (RunRemotePython).

        The shared secret is read from the environment variable named by
        [server] token_env (KEHOACH_SERVER_TOKEN by default).

        \b
        Example:
          set KEHOACH_SERVER_TOKEN=mot-chuoi-ngau-nhien-dai
          kehoach-xl serve --config D:\\KeHoach\\kehoach.toml --port 8765
        """
        from .config import load_config
        from .server import serve

        click.echo("Máy chủ nút bấm đang chạy; nhấn Ctrl+C để dừng.")
        serve(load_config(config_path), host=host, port=port)

    @cli.command("xlsm")
    @master_argument
    @click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
                  help="The .xlsm file to write (the master itself is not changed).")
    def xlsm_cmd(master: Path, out: Path) -> None:
        """Build a macro-enabled copy of the master with the button macros and buttons.

        \b
        Example:
          kehoach-xl xlsm so_theo_doi.xlsx --out so_theo_doi.xlsm
        """
        from .xlsm import build_xlsm

        path = build_xlsm(master, out)
        click.echo(f"Đã tạo sổ có nút bấm: {path}")
