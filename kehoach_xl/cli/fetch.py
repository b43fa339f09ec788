"""CLI: fetch (units' replies from the mailbox into the inbox)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from kehoach_xl.cli.options import emit_json, master_argument


def echo_issue_mail(res: Any) -> None:
    """What ``issue --send`` mailed, and which units have no address (never skipped silently)."""
    click.echo(f"Đã gửi thư giao tệp cho {len(res.sent)} đơn vị.")
    if res.no_address:
        click.echo(f"Chưa gửi được cho {len(res.no_address)} đơn vị chưa có địa chỉ thư điện tử trong sheet "
                   "Đơn vị (hãy bổ sung cột Email rồi gửi lại, hoặc chuyển tệp cho đơn vị bằng cách khác):", err=True)
        for unit in res.no_address:
            click.echo(f"  - {unit}", err=True)


def register(cli: click.Group) -> None:
    @cli.command("fetch")
    @master_argument
    @click.option("--json", "as_json", is_flag=True, help="In kết quả nhận thư dạng JSON.")
    def fetch_cmd(master: Path, as_json: bool) -> None:
        """Nhận thư trả lời của các đơn vị: lưu tệp Excel đính kèm vào thư mục nhận báo cáo.

        Máy chủ thư đặt trong mục [mail] của kehoach.toml (xem docs/mail.md). Thư đã nhận
        được chuyển sang thư mục thư riêng; thư của người gửi không có trong sheet Đơn vị
        được để riêng cho Văn phòng xem, không tổng hợp. Lệnh nightly tự chạy bước này.

        \b
        Ví dụ:
          kehoach-xl fetch so_theo_doi.xlsx
          kehoach-xl fetch so_theo_doi.xlsx --json
        """
        from kehoach_xl.commands.fetch import fetch

        res = fetch(master)
        if as_json:
            emit_json(res.to_dict())
        else:
            for m in res.messages:
                who = m.unit or f"người gửi lạ {m.sender or '(không rõ)'}"
                click.echo(f"Thư của {who}: {len(m.saved)} tệp lưu vào hộp thư đến"
                           + (f", {len(m.skipped)} tệp đã nhận trước đó" if m.skipped else "")
                           + (f"; chuyển sang thư mục “{m.moved_to}”" if m.moved_to else ""))
                for p in m.problems:
                    click.echo(f"    - {p.message}")
            click.echo(f"Tổng cộng: {len(res.messages)} thư, {len(res.saved)} tệp mới.")
            if res.waiting:
                click.echo(f"Còn {res.waiting} thư chờ lần nhận sau.")
        if res.interrupted:
            click.echo(res.interrupted, err=True)
        if res.interrupted or res.unknown:
            raise SystemExit(1)
