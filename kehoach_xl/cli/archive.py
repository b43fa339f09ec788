"""``kehoach-xl archive``: move old log and history rows into the archive workbooks beside the master."""

from __future__ import annotations

from pathlib import Path

import click


def register(cli: click.Group) -> None:
    from kehoach_xl.cli.options import emit_json, master_argument

    @cli.command("archive")
    @master_argument
    @click.option("--keep-months", type=int, default=None,
                  help="Giữ lại trong sổ nhật ký của chừng này tháng gần nhất (mặc định theo kehoach.toml, "
                       "[archive] log_keep_months = 3).")
    @click.option("--dry-run", is_flag=True, help="Chỉ đếm số dòng sẽ chuyển; không ghi gì.")
    @click.option("--as-of", default=None, help="Tính như vào ngày này (dd/mm/yyyy); mặc định hôm nay.")
    @click.option("--json", "as_json", is_flag=True, help="In kết quả dạng JSON.")
    def archive_cmd(master: Path, keep_months: int | None, dry_run: bool, as_of, as_json: bool) -> None:  # noqa: ANN001
        """Chuyển nhật ký và lịch sử cũ sang tệp lưu trữ cạnh sổ theo dõi, để sổ luôn nhẹ và không chạm giới hạn dòng của Excel.

        Tệp lưu trữ mỗi năm một tệp: <tên sổ>_luu_tru_<năm>.xlsx. Nhật ký giữ lại 3 tháng gần nhất,
        lịch sử giữ lại 12 kỳ gần nhất và những dòng cũ mà chương trình vẫn cần. Chạy lại nhiều lần
        cũng không chuyển trùng.

        \b
        Ví dụ:
          kehoach-xl archive so_theo_doi.xlsx --dry-run
          kehoach-xl archive so_theo_doi.xlsx --keep-months 6
        """
        from kehoach_xl.commands.archive import archive

        res = archive(master, keep_months=keep_months, dry_run=dry_run, as_of=as_of)
        if as_json:
            emit_json(res.to_dict())
        else:
            click.echo(res.message())
