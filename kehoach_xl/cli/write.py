"""``kehoach-xl restore``: roll the master back to a backup."""

from __future__ import annotations

from pathlib import Path

import click

# What each write was, as staff read it in ``restore --list`` (the backup is the state just before it).
OPERATIONS = {
    "merge": "tổng hợp báo cáo đơn vị", "refresh": "cập nhật thời hạn", "summary": "lập bảng tổng hợp",
    "validate": "ghi kết quả kiểm tra", "import": "nhập kế hoạch", "restore": "khôi phục bản sao lưu",
    "init": "tạo lại sổ theo dõi", "nightly": "xử lý hằng đêm",
}


def register(cli: click.Group) -> None:
    from kehoach_xl.cli.options import emit_json, master_argument

    @cli.command("restore")
    @master_argument
    @click.option("--list", "list_only", is_flag=True, help="Liệt kê các bản sao lưu, mới nhất trước; không thay đổi gì.")
    @click.option("--to", "backup", default=None,
                  help="Bản sao lưu cần khôi phục (đường dẫn hoặc tên lấy từ --list); bỏ trống thì lấy bản mới nhất.")
    @click.option("--json", "as_json", is_flag=True, help="In kết quả dạng JSON.")
    def restore_cmd(master: Path, list_only: bool, backup: str | None, as_json: bool) -> None:
        """Đưa sổ theo dõi về một bản sao lưu tự động (sổ hiện tại được sao lưu trước khi khôi phục).

        \b
        Ví dụ:
          kehoach-xl restore so_theo_doi.xlsx --list
          kehoach-xl restore so_theo_doi.xlsx --to so_theo_doi-20240605-220000-000000.xlsx
        """
        from kehoach_xl import vn
        from kehoach_xl.errors import SetupError
        from kehoach_xl.io.backup import unlisted_backups
        from kehoach_xl.io.master_write import list_backups, restore
        from kehoach_xl.model.config import load_config

        if not master.exists():
            raise SetupError(f"Không tìm thấy sổ theo dõi: {master}")
        config = load_config(master)
        if list_only:
            backups = list_backups(master)
            if as_json:
                emit_json([{"file": b.path.name, "path": str(b.path), "time": b.time.isoformat(), "size": b.size,
                            "operation": b.operation, "sha256": b.sha256} for b in backups])
                return
            if not backups:
                click.echo("Chưa có bản sao lưu nào.")
            for b in backups:
                op = OPERATIONS.get(b.operation, b.operation or "không rõ")
                click.echo(f"{b.label}  {vn.integer(b.size):>10} byte  {b.path.name}  (trước khi: {op})")
            if backups:
                click.echo(f"Tổng số: {len(backups)} bản sao lưu.")
            stray = unlisted_backups(master)
            if stray:
                click.echo(f"Bỏ qua {len(stray)} tệp trong thư mục sao lưu không có trong danh mục sao lưu "
                           f"(không khôi phục được): " + ", ".join(p.name for p in stray[:5])
                           + (" …" if len(stray) > 5 else ""))
            return
        res = restore(master, backup, config=config)
        if as_json:
            emit_json({"path": str(res.path), "backup_of_previous": str(res.backup) if res.backup else None})
        else:
            click.echo(f"Đã khôi phục {master.name}. Bản trước khi khôi phục được lưu tại: {res.backup}")
