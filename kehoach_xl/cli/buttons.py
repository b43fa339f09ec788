"""``kehoach-xl xlsm`` (the macro-enabled master with its buttons) and ``kehoach-xl serve``
(the button server for PCs without Python)."""

from __future__ import annotations

from pathlib import Path

import click


def register(cli: click.Group) -> None:
    @cli.command("xlsm")
    @click.argument("master", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
                  help="Where to write the .xlsm (default: beside MASTER, same name).")
    @click.option("--overwrite", is_flag=True, help="Replace an existing .xlsm and its .py.")
    def xlsm_cmd(master: Path, out: Path | None, overwrite: bool) -> None:
        """Make the macro-enabled master (.xlsm) with the buttons already placed.

        Copies MASTER (.xlsx) with every sheet unchanged, adds the sheet
        “Điều khiển” with the four buttons and xlwings' own VBA project, and
        writes <name>.py beside it (the module the buttons' macro imports).
        MASTER itself is not changed.

        \b
        Example:
          kehoach-xl init so_theo_doi.xlsx --sample langson_ddci_2024
          kehoach-xl xlsm so_theo_doi.xlsx
          kehoach-xl xlsm so_theo_doi.xlsx --out D:\\KeHoach\\so_theo_doi.xlsm
        """
        from kehoach_xl.reports.xlsm import build_xlsm, module_name

        path = build_xlsm(master, out, overwrite=overwrite)
        click.echo(f"Đã tạo sổ có nút bấm: {path}")
        click.echo(f"Kèm tệp {module_name(path)}.py (để cạnh sổ). Nhớ sửa master = \"{path.name}\" "
                   "trong kehoach.toml nếu dùng sổ này làm sổ chính.")

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
        from kehoach_xl.excel.server import serve
        from kehoach_xl.model.config import load_config

        # serve() checks the token and the configured master first: nothing is announced when it refuses.
        serve(load_config(config_path), host=host, port=port, announce=click.echo)
