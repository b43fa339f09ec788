"""``kehoach-xl xlsm`` (the macro-enabled master with its buttons) and ``kehoach-xl serve``
(the button server for PCs without Python)."""

from __future__ import annotations

from pathlib import Path

import click


def register(cli: click.Group) -> None:
    @cli.command("xlsm")
    @click.argument("master", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
                  help="Nơi ghi tệp .xlsm (mặc định: cạnh sổ theo dõi, cùng tên).")
    @click.option("--overwrite", is_flag=True, help="Ghi đè tệp .xlsm và tệp .py đã có.")
    def xlsm_cmd(master: Path, out: Path | None, overwrite: bool) -> None:
        """Tạo sổ theo dõi có nút bấm (.xlsm), các nút đã đặt sẵn.

        Chép sổ theo dõi (.xlsx) giữ nguyên mọi sheet, thêm sheet “Điều khiển”
        có bốn nút bấm cùng phần VBA của xlwings, và ghi tệp <tên>.py bên cạnh
        (mô-đun mà macro của các nút gọi tới). Sổ theo dõi gốc không bị thay đổi.

        \b
        Ví dụ:
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
                  help="Tệp kehoach.toml, hoặc thư mục (hay sổ theo dõi) nằm cạnh nó. Mặc định: thư mục hiện tại.")
    @click.option("--host", default=None, help="Địa chỉ nhận yêu cầu (mặc định: host trong [server], 127.0.0.1).")
    @click.option("--port", type=int, default=None, help="Cổng (mặc định: port trong [server], 8765).")
    def serve_cmd(config_path: Path | None, host: str | None, port: int | None) -> None:
        """Chạy máy chủ nút bấm cho các máy có Excel nhưng không cài Python (RunRemotePython).

        Mã bí mật dùng chung được đọc từ biến môi trường ghi ở token_env của
        [server] (mặc định KEHOACH_SERVER_TOKEN).

        \b
        Ví dụ:
          set KEHOACH_SERVER_TOKEN=mot-chuoi-ngau-nhien-dai
          kehoach-xl serve --config D:\\KeHoach\\kehoach.toml --port 8765
        """
        from kehoach_xl.excel.server import serve
        from kehoach_xl.model.config import load_config

        # serve() checks the token and the configured master first: nothing is announced when it refuses.
        serve(load_config(config_path), host=host, port=port, announce=click.echo)
