"""``kehoach-xl demo``."""

from __future__ import annotations

from pathlib import Path

import click


def register(cli: click.Group) -> None:
    from kehoach_xl.cli.options import parse_date_option

    @cli.command("demo")
    @click.argument("folder", type=click.Path(file_okay=False, path_type=Path), default=Path("workbooks/demo"))
    @click.option("--force", is_flag=True, help="Xóa và dựng lại thư mục nếu trong đó đã có tệp.")
    @click.option("--as-of", "as_of", default=None, help="Ngày số liệu, 05/06/2024 hoặc 2024-06-05 (mặc định 05/06/2024, trong thời gian kế hoạch).")
    @click.option("--period", default="2024-05", show_default=True, help="Kỳ báo cáo, 05/2024 hoặc 2024-05.")
    def demo_cmd(folder: Path, force: bool, as_of: str | None, period: str) -> None:
        """Dựng một sổ theo dõi đầy đủ từ kế hoạch DDCI 2024 mẫu của Lạng Sơn và chạy thử một chu kỳ tháng,
        kết thúc bằng bước lưu trữ nhật ký sang tệp lưu trữ cạnh sổ.

        \b
        Ví dụ:
          kehoach-xl demo workbooks/demo --force
        """
        from kehoach_xl.commands.demo import demo

        res = demo(folder, force=force, as_of=parse_date_option(as_of), period=period, echo=click.echo)
        click.echo(f"\nSổ theo dõi: {res.master}")
        if not res.ok:
            failed = ", ".join(s.name for s in res.steps if not s.ok)
            click.echo(f"Một số bước chưa chạy được: {failed}", err=True)
            raise SystemExit(1)
