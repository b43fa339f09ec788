"""``kehoach-xl serve``: the button server.

There is no ``xlsm`` command: no tool available here writes a VBA project without
hand-writing the binary format (LibreOffice's xlsm export drops Basic modules), so
the macro-enabled master is made once in Excel by the steps in docs/excel-buttons.md.
"""

from __future__ import annotations

from pathlib import Path

import click


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
