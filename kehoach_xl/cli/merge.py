"""CLI: issue, merge, nightly, schedule."""

from __future__ import annotations

from pathlib import Path

import click

from kehoach_xl.cli.options import emit_json, master_argument, parse_date_option


def _print_merge(d: dict) -> None:
    for f in d["files"]:
        label = {"processed": "Đã tổng hợp", "partial": "Tổng hợp một phần", "rejected": "TRẢ LẠI",
                 "left": "Để lần sau"}[f["status"]]
        click.echo(f"{label:<18} {f['file']}  ({f['unit'] or '?'}): {len(f['changes'])} thay đổi, "
                   f"{len(f['problems'])} vấn đề")
        for p in f["problems"]:
            where = " ".join(x for x in (p["sheet"], p["cell"]) if x)
            click.echo(f"    - {where + ': ' if where else ''}{p['message']}")
    for c in d["conflicts"]:
        click.echo(f"Xung đột {c['task_id']} / {c['field']}: {c['reason']} — sổ: “{c['master_value']}”; "
                   + "; ".join(f"{v['unit']}: “{v['value']}”" for v in c["values"]))
    click.echo(f"Tổng cộng: {d['applied']} ô được cập nhật.")


# The nightly report's codes (kept as they are in --json), as staff read them.
NIGHTLY_STEPS = {"fetch": "Nhận thư đơn vị", "reply": "Trả lời đơn vị", "reminders": "Gửi thư nhắc việc",
                 "merge": "Tổng hợp báo cáo", "validate": "Kiểm tra dữ liệu", "refresh": "Cập nhật thời hạn",
                 "summary": "Lập bảng tổng hợp"}
NIGHTLY_STATUS = {"ok": "xong", "partial": "có vấn đề", "failed": "không chạy được", "blocked": "sổ đang mở",
                  "skipped": "bỏ qua"}


def _unchanged_unitbook(path: Path) -> bool:
    """An issued unit workbook nobody has filled in: every report cell empty or as it was issued."""
    import json
    import zipfile

    from openpyxl import load_workbook

    from kehoach_xl.model.master import find_sheet_name
    from kehoach_xl.model.unitbook import HEADER_ROW, INPUT_FIELDS, META_MARK, META_SHEET, REPORT_SHEET, UNIT_SHEET
    from kehoach_xl.rules.signing import value_hash
    from kehoach_xl.rules.values import _blank
    from kehoach_xl.text import normalize_text

    if path.suffix.lower() != ".xlsx" or not zipfile.is_zipfile(path):
        return False
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - anything unreadable is for merge to report, not this check
        return False
    try:
        meta_name, report_name = find_sheet_name(wb.sheetnames, META_SHEET), find_sheet_name(wb.sheetnames, REPORT_SHEET)
        if not meta_name or not report_name:
            return False
        base: dict[str, dict] = {}
        marked = False
        for row in wb[meta_name].iter_rows(values_only=True):
            if row and row[0] == "marker":
                marked = len(row) > 1 and row[1] == META_MARK
            elif row and row[0] == "task" and len(row) > 1:
                t = json.loads(str(row[1]))
                base[str(t.get("id"))] = dict(t.get("h") or {})
        if not marked:
            return False
        rows = list(wb[report_name].iter_rows(min_row=HEADER_ROW, values_only=True))
    except (ValueError, TypeError):
        return False
    finally:
        wb.close()
    if not rows:
        return False
    headers = {normalize_text(h): j for j, h in enumerate(rows[0]) if h is not None}
    cols = {k: headers.get(normalize_text(UNIT_SHEET.col(k).header)) for k in ("id", *INPUT_FIELDS)}
    if cols["id"] is None:
        return False
    for row in rows[1:]:
        tid = normalize_text(row[cols["id"]]) if cols["id"] < len(row) else ""
        for key in INPUT_FIELDS:
            j = cols[key]
            raw = row[j] if j is not None and j < len(row) else None
            if _blank(raw):
                continue
            if not tid or base.get(tid, {}).get(key) != value_hash(raw):
                return False
    return True


def _only_blank_issued(inbox: Path) -> list[Path]:
    """The inbox's .xlsx files when every one is an issued, never filled-in unit workbook; else []."""
    from kehoach_xl.commands.merge import inbox_files

    files = [p for p in inbox_files(inbox) if p.suffix.lower() in (".xlsx", ".xlsm")]
    if files and all(_unchanged_unitbook(p) for p in files):
        return files
    return []


def register(cli: click.Group) -> None:
    @cli.command("issue")
    @master_argument
    @click.option("--period", required=True, help="Kỳ báo cáo: 05/2024 hoặc 2024-05.")
    @click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
                  help="Thư mục ghi các tệp giao cho đơn vị.")
    @click.option("--send", is_flag=True, help="Gửi thư kèm tệp cho từng đơn vị theo địa chỉ trong sheet Đơn vị "
                  "(máy chủ thư: mục [mail] trong kehoach.toml).")
    def issue_cmd(master: Path, period: str, out: Path, send: bool) -> None:
        """Giao mỗi đơn vị một tệp báo cáo cho một kỳ.

        \b
        Ví dụ:
          kehoach-xl issue so_theo_doi.xlsx --period 2024-05 --out gui_don_vi
          kehoach-xl issue so_theo_doi.xlsx --period 2024-05 --out gui_don_vi --send
        """
        from kehoach_xl.cli.fetch import echo_issue_mail
        from kehoach_xl.commands.issue import issue

        for p in issue(master, period=period, out=out, send=send, on_mail=echo_issue_mail):
            click.echo(str(p))

    @cli.command("merge")
    @master_argument
    @click.argument("inbox", required=False, type=click.Path(file_okay=False, path_type=Path))
    @click.option("--period", default=None,
                  help="Kỳ báo cáo (05/2024 hoặc 2024-05) cho bản sao sổ theo dõi đơn vị gửi lại "
                       "(mặc định: lấy từ tên tệp).")
    @click.option("--dry-run", is_flag=True, help="Chỉ đọc và kiểm tra; không ghi, không di chuyển tệp nào.")
    @click.option("--as-of", default=None,
                  help="Ngày hôm nay, 05/06/2024 hoặc 2024-06-05 (kỳ báo cáo sau ngày này bị từ chối).")
    @click.option("--json", "as_json", is_flag=True, help="In kết quả tổng hợp dạng JSON.")
    def merge_cmd(master: Path, inbox: Path | None, period: str | None, dry_run: bool, as_of: str | None,
                  as_json: bool) -> None:
        """Tổng hợp báo cáo của các đơn vị trong thư mục nhận báo cáo vào sổ theo dõi.

        \b
        Ví dụ:
          kehoach-xl merge so_theo_doi.xlsx hop_thu_den --json
        """
        from kehoach_xl.commands.merge import merge
        from kehoach_xl.model.config import load_config

        if master.exists():
            cfg = load_config(master)
            _ = cfg.secret  # no signing key → a clear Vietnamese message, before any file is read
            folder = inbox or cfg.inbox_dir
            blank = _only_blank_issued(folder) if folder.is_dir() else []
            if blank:
                click.echo(f"Thư mục {folder} chỉ có {len(blank)} tệp giao cho đơn vị mà chưa đơn vị nào điền "
                           "(giống hệt lúc giao): không có gì để tổng hợp, các tệp được để nguyên tại chỗ. "
                           "Hãy chờ đơn vị điền và gửi lại, rồi chạy lại lệnh merge.")
                if as_json:
                    emit_json({"files": [], "conflicts": [], "applied": 0,
                               "left_unfilled": [p.name for p in blank]})
                return
        rep = merge(master, inbox, period=period, dry_run=dry_run, as_of=parse_date_option(as_of))
        d = rep.to_dict()
        if as_json:
            emit_json(d)
        else:
            _print_merge(d)
        if any(f["status"] not in ("processed", "left") for f in d["files"]) or d["conflicts"]:
            raise SystemExit(1)

    @cli.command("nightly")
    @click.argument("config_path_or_master", required=False, type=click.Path(path_type=Path))
    @click.option("--wait-seconds", type=float, default=None,
                  help="Số giây chờ giữa hai lần thử lại khi sổ theo dõi đang mở trong Excel.")
    @click.option("--json", "as_json", is_flag=True, help="In kết quả chạy dạng JSON.")
    def nightly_cmd(config_path_or_master: Path | None, wait_seconds: float | None, as_json: bool) -> None:
        """Chạy một lượt tổng hợp, kiểm tra, cập nhật thời hạn và lập bảng tổng hợp, có ghi nhật ký.

        \b
        Ví dụ:
          kehoach-xl nightly kehoach.toml
        """
        from kehoach_xl.commands.nightly import nightly

        rep = nightly(config_path_or_master, wait_seconds=wait_seconds)
        if as_json:
            emit_json(rep.to_dict())
        else:
            for s in rep.steps:
                step, status = NIGHTLY_STEPS.get(s.step, s.step), NIGHTLY_STATUS.get(s.status, s.status)
                click.echo(f"{step:<17} {status:<14} {s.message}")
            click.echo(f"Nhật ký: {rep.log_file}")
        if not rep.ok:
            raise SystemExit(1)

    @cli.command("schedule")
    @click.argument("config", required=False, type=click.Path(path_type=Path))
    @click.option("--at", default=None, help="Giờ chạy hằng ngày, dạng GG:PP (mặc định: nightly_time trong kehoach.toml).")
    def schedule_cmd(config: Path | None, at: str | None) -> None:
        """Chạy việc hằng đêm mỗi ngày vào giờ đã đặt, đến khi nhấn Ctrl-C.

        \b
        Ví dụ:
          kehoach-xl schedule kehoach.toml --at 22:00
        """
        import logging

        from kehoach_xl.commands.nightly import schedule

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        n = schedule(config, at=at)
        click.echo(f"Đã dừng sau {n} lần chạy.")
