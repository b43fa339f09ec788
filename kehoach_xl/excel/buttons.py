"""One Python function per Excel button, each a thin wrapper over the library.

The VBA in ``macros/kehoach.bas`` calls them through xlwings' ``RunPython``
(``xw.Book.caller()`` is the workbook the button sits in); the button server
(:mod:`kehoach_xl.excel.server`) calls them with a book built from the request. Each
one reads the live sheets in bulk, runs the same pure ``compute_*`` function as
the command line, applies the changes to the open workbook in bulk, never saves
the file (Excel owns it; staff save as usual) and tells the user the result in
Vietnamese."""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kehoach_xl import vn
from kehoach_xl.errors import DataError, KehoachError
from kehoach_xl.io.livebook import LiveBook, default_user, excel_text
from kehoach_xl.io.master_read import read_grids
from kehoach_xl.model import schema
from kehoach_xl.model.changes import LogEntry, MasterChanges, log_rows
from kehoach_xl.model.config import Config, load_config
from kehoach_xl.model.controls import ACTION_CAPTIONS, CHOICE_CELL, CONTROL_BUTTONS, CONTROL_SHEET, ControlButton
from kehoach_xl.model.master import (
    MASTER_SHEETS,
    MasterData,
    cut_tasks_below_table,
    find_sheet_name,
    master_from_grids,
    match_headers,
    summary_sheet_is_ours,
)
from kehoach_xl.text import name_key

log = logging.getLogger(__name__)

# The master's path when the button server runs a button: the one configured, never a path or
# name taken from the request (a remote book's name comes from the network).
_SERVED_MASTER: contextvars.ContextVar[Path | None] = contextvars.ContextVar("served_master", default=None)


@dataclass
class ButtonResult:
    button: str
    ok: bool
    message: str  # what the user was told (Vietnamese)
    calls: int = 0  # round trips to Excel, measured
    cells: int = 0  # cells the changes touched
    outputs: list[Path] = field(default_factory=list)
    report: Any = None


@dataclass
class _Outcome:
    message: str
    changes: MasterChanges | None = None
    action: str = ""
    report: Any = None
    outputs: list[Path] = field(default_factory=list)
    select: tuple[str, int, int] | None = None  # sheet, row, col shown after the write
    warning: bool = False
    after: Callable[[], None] | None = None  # runs once the changes are in the open book


# Sheets xlwings' VBA client leaves out of the request (``RunRemotePython ... exclude:=``, see
# macros/kehoach_remote.bas): a year of log and history rows would pass the server's request limit
# (measured in docs/excel-buttons.md). Their values come from the served master file; the rows a
# button adds to them go back through the VBA helper, which appends under the sheet's Table.
REMOTE_EXCLUDED: tuple[str, ...] = (schema.LOG.name, schema.HISTORY.name)
# The VBA helpers of macros/kehoach_unicode.bas (module KeHoachUnicode), run by the VBA client.
MESSAGE_MACRO = "KeHoachThongBao"  # (wb, prompt, title, mode): MessageBoxW, not MsgBox
APPEND_MACRO = "KeHoachThemDong"  # (wb, sheet, rows): rows under the sheet's Table


def _vba_value(value: Any) -> Any:
    """A cell for the VBA helper: dates as Excel serial numbers (JSON has no dates; the Table's
    column format shows them as dates), text Excel would read as a formula or number kept as text."""
    if isinstance(value, dt.datetime):
        return (value - dt.datetime(1899, 12, 30)).total_seconds() / 86400
    if isinstance(value, dt.date):
        return float((value - dt.date(1899, 12, 30)).days)
    return excel_text(value)


class RemoteLiveBook(LiveBook):
    """The open book as the button server sees it: the log and history sheets were not sent.

    Their values are read from the served master on disk (the configured path, never one from the
    request); rows appended to them and every message go back as ``runMacro`` actions for the
    VBA helpers (Unicode message box, append under the Table).
    """

    def __init__(self, book: Any, master: Path) -> None:
        super().__init__(book)
        self.master = master
        self.excluded = {name_key(n) for n in REMOTE_EXCLUDED}

    def _is_excluded(self, name: str) -> bool:
        return name_key(name) in self.excluded

    def _read_sheet(self, name: str) -> list[list[Any]]:
        if not self._is_excluded(name):
            return super()._read_sheet(name)
        return read_grids(self.master, [name], tasks_table_only=False).get(name, []) if self.master.is_file() else []

    def apply(self, changes: MasterChanges, *, action: str, user: str | None = None) -> Any:
        names = self.sheet_names()
        hidden = [n for n in names if self._is_excluded(n)]
        sent: dict[str, list[list[Any]]] = {}
        kept: dict[str, list[list[Any]]] = {}
        for sheet, rows in changes.appends.items():
            actual = find_sheet_name(hidden, sheet)
            if actual:
                sent.setdefault(actual, []).extend(rows)
            else:
                kept[sheet] = rows
        log_name = find_sheet_name(hidden, schema.LOG.name)
        if log_name:
            entries = list(changes.log)
            if not entries:
                n_cells = sum(len(v) for v in changes.cells.values())
                n_rows = sum(len(v) for v in changes.appends.values())
                entries = [LogEntry(action=action, new=f"Ghi {n_cells} ô, thêm {n_rows} dòng (trong Excel)")]
            header = self.read_grids([log_name]).get(log_name) or [[]]
            found, _ = match_headers(schema.LOG, header[0] if header else [])
            if not found:
                found = {c.key: j for j, c in enumerate(schema.LOG.columns, start=1)}
            sent.setdefault(log_name, []).extend(log_rows(entries, found, user or default_user()))
        rest = MasterChanges(cells=changes.cells, appends=kept, clear_from=changes.clear_from,
                             append_heights={k: v for k, v in changes.append_heights.items() if k in kept})
        self._names = [n for n in names if n not in hidden]  # the base class then writes no log of its own
        try:
            plan = super().apply(rest, action=action, user=user)
        finally:
            self._names = names
        for sheet, rows in sent.items():
            self.calls += 1
            self.book.macro(APPEND_MACRO)(sheet, [[_vba_value(v) for v in r] for r in rows])
        return plan

    def alert(self, message: str, title: str, *, critical: bool = False) -> None:
        self.calls += 1
        self.book.macro(MESSAGE_MACRO)(message, title, "critical" if critical else "info")


def _caller() -> Any:
    import xlwings as xw

    return xw.Book.caller()


def config_for_book(book: Any) -> Config:
    """kehoach.toml beside the workbook when Excel tells us where it lives, else defaults."""
    try:
        full = Path(str(book.fullname))
    except Exception:  # noqa: BLE001 - remote books have no path
        return Config()
    if full.is_absolute() and full.parent.is_dir():
        return load_config(full)
    return Config()


def _master(live: LiveBook, cfg: Config, extra: tuple[str, ...] = ()) -> MasterData:
    grids = live.read_grids([*MASTER_SHEETS, *extra])
    tasks_sheet = find_sheet_name(grids, schema.TASKS.name)
    if tasks_sheet:  # notes staff keep below the task Table are not tasks (as for files)
        cut_tasks_below_table(grids, {n: t[2] for n, t in live.tables([tasks_sheet]).items()})
    # The configured master behind the button server; else the workbook's own path when Excel (COM)
    # says where it is; else only its bare name inside the configuration's folder.
    path = _SERVED_MASTER.get()
    if path is None:
        try:
            full = Path(str(live.book.fullname))
        except Exception:  # noqa: BLE001 - remote books have only a name
            full = Path(live.name)
        path = full if full.is_absolute() else cfg.base_dir / Path(str(live.name)).name
    md = master_from_grids(grids, path)
    # The pure functions look sheets up by name (problems, summary): give them every name.
    md.sheet_names = list(live.sheet_names())
    if not md.tasks.present:
        raise DataError(f"Sổ “{live.name}” không có trang “{schema.TASKS.name}”: nút bấm chỉ dùng trong sổ theo dõi.")
    if md.tasks.missing:
        cols = ", ".join(schema.TASKS.col(k).header for k in md.tasks.missing)
        raise DataError(f"Trang “{schema.TASKS.name}” thiếu cột bắt buộc: {cols}.")
    return md


def _run(name: str, title: str, body: Callable[[LiveBook, Config], _Outcome],
         book: Any = None, config: Config | None = None, master: Path | None = None) -> ButtonResult:
    book = book if book is not None else _caller()
    live = RemoteLiveBook(book, master) if master is not None else LiveBook(book)
    served = _SERVED_MASTER.set(master)
    try:
        cfg = config or config_for_book(book)
        out = body(live, cfg)
        cells = 0
        if out.changes is not None and not out.changes.is_empty():
            live.apply(out.changes, action=out.action or name)
            cells = out.changes.cell_count()
        if out.after is not None:
            out.after()
        if out.select:
            live.select(*out.select)
        live.alert(out.message, title, critical=out.warning)
        return ButtonResult(name, True, out.message, live.calls, cells, out.outputs, out.report)
    except KehoachError as exc:
        msg = str(exc)
    except Exception as exc:  # noqa: BLE001 - a button must always answer the user
        log.exception("button %s failed", name)
        msg = f"Có lỗi ngoài dự kiến: {exc}. Hãy chụp màn hình thông báo này gửi bộ phận kỹ thuật."
    finally:
        _SERVED_MASTER.reset(served)
    live.alert(msg, title, critical=True)
    return ButtonResult(name, False, msg, live.calls)


def _today() -> dt.date:
    return dt.date.today()


def _validate_body(live: LiveBook, cfg: Config) -> _Outcome:
    from kehoach_xl.rules.validate import PROBLEMS_HEADER_ROW, compute_problems_sheet, compute_validation

    md = _master(live, cfg)
    report = compute_validation(md, as_of=_today(), config=cfg).result
    changes = compute_problems_sheet(md, report)
    n_err, n_warn = len(report.errors), len(report.warnings)
    sheet = find_sheet_name(live.sheet_names(), schema.PROBLEMS_SHEET_NAME) or schema.PROBLEMS_SHEET_NAME
    if not report.problems:
        return _Outcome("Dữ liệu hợp lệ: không phát hiện lỗi nào.", changes, "validate", report,
                        select=(sheet, 1, 1))
    first = report.problems[0]
    msg = (f"Phát hiện {vn.integer(n_err)} lỗi và {vn.integer(n_warn)} cảnh báo; danh sách ở trang “{sheet}”.\n"
           f"Đầu tiên: {first.cell or first.sheet} — {first.message}")
    return _Outcome(msg, changes, "validate", report, select=(sheet, PROBLEMS_HEADER_ROW + 1, 1), warning=n_err > 0)


def kiem_tra(book: Any = None, *, config: Config | None = None, master: Path | None = None) -> ButtonResult:
    """Nút “Kiểm tra”: validate the open master, list problems in the “Kiểm tra” sheet."""
    return _run("kiem_tra", "Kiểm tra dữ liệu", _validate_body, book, config, master)


def cap_nhat(book: Any = None, *, config: Config | None = None, as_of: dt.date | None = None,
             master: Path | None = None) -> ButtonResult:
    """Nút “Cập nhật”: recompute the derived deadline columns as of today."""

    def body(live: LiveBook, cfg: Config) -> _Outcome:
        from kehoach_xl.rules.refresh import compute_refresh

        day = as_of or _today()
        md = _master(live, cfg, (schema.SUMMARY_SHEET_NAME,))
        summary = find_sheet_name(live.sheet_names(), schema.SUMMARY_SHEET_NAME)
        # task_footer=None: the open book's print footer is not written from here (the remote engine has no
        # page setup); the next refresh from the command line or the nightly brings it up to date.
        out = compute_refresh(md, as_of=day, config=cfg, summary_grid=live.grids.get(summary) if summary else None,
                              task_footer=None)
        changes, counts = out.changes, out.figures["states"]
        msg = (f"Đã cập nhật {vn.integer(len(md.tasks.rows))} nhiệm vụ, số liệu tính đến ngày {vn.date(day)}.\n"
               f"Quá hạn: {vn.integer(counts.get('overdue', 0))}; sắp đến hạn: {vn.integer(counts.get('due_soon', 0))}.\n"
               "Nhớ lưu sổ (Ctrl+S).")
        return _Outcome(msg, changes, "refresh", counts)

    return _run("cap_nhat", "Cập nhật thời hạn", body, book, config, master)


def tong_hop_bao_cao_don_vi(book: Any = None, *, config: Config | None = None,
                            inbox: Path | str | None = None, master: Path | None = None,
                            ask: bool = True) -> ButtonResult:
    """Nút “Tổng hợp báo cáo đơn vị”: merge the units' submissions into the open master.

    It always asks first (``ask``): a merge writes many cells into the open book. Only the button
    server passes ``ask=False``, once the VBA client has asked (the route needs ``xac_nhan=1``).

    The submissions stay in the inbox: the values are only in the open workbook until staff save
    it, so moving the files to ``processed/`` now would lose them if the workbook is closed
    without saving. The nightly merge (``kehoach-xl merge``, under the master's lock) files them
    away once the master on disk holds them; merging a report again changes nothing.
    """

    def body(live: LiveBook, cfg: Config) -> _Outcome:
        from kehoach_xl.commands import merge as mg

        folder = Path(inbox) if inbox else cfg.inbox_dir
        _ = cfg.secret  # no signing key → the Vietnamese message of SetupError, before any file is read
        if not folder.is_dir():
            raise DataError(f"Không thấy thư mục nhận báo cáo: {folder}")
        md = _master(live, cfg)
        paths = mg.inbox_files(folder)
        if not paths:
            return _Outcome(f"Thư mục {folder} chưa có báo cáo nào của đơn vị.")
        today = _today()
        subs = [mg.read_submission(p, md, config=cfg, today=today) for p in paths]
        merged = mg.compute_merge(md, subs, config=cfg)
        changes, report = merged.changes, merged.result
        processed = [f for f in report.files if f.status != "rejected"]
        rejected = [f for f in report.files if f.status == "rejected"]
        lines = [f"Đã tổng hợp {vn.integer(len(processed))} tệp báo cáo, ghi {vn.integer(report.applied)} thay đổi vào sổ đang mở.",
                 "Nhớ lưu sổ (Ctrl+S). Các tệp vẫn để trong thư mục nhận báo cáo; lần tổng hợp hằng đêm "
                 "sẽ chuyển chúng đi sau khi sổ đã lưu (tổng hợp lại không làm thay đổi gì thêm)."]
        if rejected:
            lines.append(f"Từ chối {vn.integer(len(rejected))} tệp: " + ", ".join(f.file for f in rejected[:5])
                         + (" …" if len(rejected) > 5 else "") + " (lý do sẽ ghi trong lần tổng hợp hằng đêm).")
        if report.conflicts:
            lines.append(f"Có {vn.integer(len(report.conflicts))} chỗ các tệp báo cáo khác nhau cần xem lại.")
        return _Outcome("\n".join(lines), changes, "merge", report, warning=bool(rejected))

    book = book if book is not None else _caller()
    if ask and not confirm(book, "tong_hop_bao_cao_don_vi"):
        return _cancelled(book, "tong_hop_bao_cao_don_vi")
    return _run("tong_hop_bao_cao_don_vi", "Tổng hợp báo cáo đơn vị", body, book, config, master)


def lap_bao_cao_giao_ban(book: Any = None, *, config: Config | None = None, as_of: dt.date | None = None,
                         out: Path | str | None = None, master: Path | None = None) -> ButtonResult:
    """Nút “Lập báo cáo giao ban”: rewrite the “Tổng hợp” sheet and write the briefing files."""

    def body(live: LiveBook, cfg: Config) -> _Outcome:
        from kehoach_xl.reports.summary import compute_summary, summary_changes

        day = as_of or _today()
        md = _master(live, cfg)
        s = compute_summary(md, as_of=day, config=cfg).result
        summary_name = find_sheet_name(md.sheet_names, schema.SUMMARY_SHEET_NAME)
        ours = summary_name is not None and summary_sheet_is_ours(live.read_grids([summary_name]).get(summary_name))
        changes = summary_changes(s) if ours else MasterChanges()
        outputs = _briefing_files(md, day, cfg, Path(out) if out else cfg.reports_dir)
        if ours:
            msg = f"Đã lập bảng “{schema.SUMMARY_SHEET_NAME}”, số liệu đến ngày {vn.date(day)}."
        else:
            msg = (f"Sheet “{schema.SUMMARY_SHEET_NAME}” không do chương trình tạo nên không ghi đè; "
                   f"số liệu đến ngày {vn.date(day)} có trong các tệp giao ban.")
        if outputs:
            msg += f"\nTệp giao ban đã ghi vào {outputs[0].parent}:\n" + "\n".join(p.name for p in outputs)
        return _Outcome(msg, changes, "summary", s, outputs,
                        select=(schema.SUMMARY_SHEET_NAME, 1, 1))

    return _run("lap_bao_cao_giao_ban", "Lập báo cáo giao ban", body, book, config, master)


def _briefing_files(md: MasterData, day: dt.date, cfg: Config, out: Path) -> list[Path]:
    """The briefing's files, written exactly as ``kehoach-xl briefing`` writes them."""
    from kehoach_xl.reports.briefing import write_briefing_files

    res, _messages = write_briefing_files(md, period=f"{day:%Y-%m}", as_of=day, config=cfg, out=out)
    return [p for p in (res.text_path, res.html_path, res.chart_path, res.summary_path, res.eml_path) if p]


BUTTONS: dict[str, Callable[..., ButtonResult]] = {
    "kiem_tra": kiem_tra,
    "cap_nhat": cap_nhat,
    "tong_hop_bao_cao_don_vi": tong_hop_bao_cao_don_vi,
    "lap_bao_cao_giao_ban": lap_bao_cao_giao_ban,
}


_NOT_CHOSEN = object()
# Actions that ask before they run even from a button recognised by name (the function asks itself).
ALWAYS_ASK: frozenset[str] = frozenset({"tong_hop_bao_cao_don_vi"})
_QUESTIONS = {
    "kiem_tra": "kiểm tra dữ liệu mọi trang và ghi danh sách lỗi vào trang “Kiểm tra”",
    "cap_nhat": "tính lại các cột thời hạn theo ngày hôm nay",
    "tong_hop_bao_cao_don_vi": "nhập báo cáo của các đơn vị trong thư mục nhận báo cáo vào sổ đang mở",
    "lap_bao_cao_giao_ban": "lập lại bảng “Tổng hợp” và ghi các tệp báo cáo giao ban",
}


def confirm(book: Any, action: str, *, why: str = "") -> bool:
    """Ask the user, naming the action, whether to run it; True only for an explicit “Yes”.

    On Windows xlwings shows a Unicode MessageBox and returns the answer; an engine that cannot
    answer (the remote engine returns None) counts as “No”: nothing runs without a yes.
    """
    caption = ACTION_CAPTIONS[action]
    prompt = f"{why}Chạy “{caption}”: {_QUESTIONS[action]}?\nChọn Yes để chạy, No để thôi."
    try:
        answer = book.app.alert(prompt, title=caption, buttons="yes_no", mode="info")
    except Exception:  # noqa: BLE001 - no way to ask means no
        log.exception("could not ask before %s", action)
        return False
    return str(answer or "").lower() == "yes"


def _cancelled(book: Any, action: str) -> ButtonResult:
    msg = f"Đã thôi, không chạy “{ACTION_CAPTIONS[action]}”: sổ không thay đổi gì."
    log.info("button %s not confirmed", action)
    return ButtonResult(action, False, msg, 1)


def _button_from_caller(book: Any) -> tuple[ControlButton | None, str | None]:
    """The clicked form button from Application.Caller (COM only), and the caller's name.

    Only a name of CONTROL_BUTTONS counts as known; anything else (a copied or renamed button, an
    error value when not started from a shape, no Caller on Mac or remote) is not a button we know.
    """
    try:
        caller = book.app.api.Caller
    except Exception:  # noqa: BLE001 - remote/Mac engines have no Caller
        return None, None
    if not isinstance(caller, str) or not caller:
        return None, None  # an error value: not started from a shape
    return next((b for b in CONTROL_BUTTONS if b.name == caller), None), caller


def _action_from_caption(book: Any, caller: str) -> str | None:
    """The action whose caption an unknown button shows (a copied or renamed one): a guess, asked about."""
    try:
        caption = str(book.app.api.ActiveSheet.Buttons(caller).Caption)
    except Exception:  # noqa: BLE001
        return None
    return next((k for k, c in ACTION_CAPTIONS.items() if name_key(c) == name_key(caption)), None)


def _action_from_choice(book: Any) -> str | object | None:
    """The action chosen in B3 of the control sheet; None when the sheet is absent."""
    names = [s.name for s in book.sheets]
    sheet = find_sheet_name(names, CONTROL_SHEET)
    if sheet is None:
        return None
    value = book.sheets[sheet].range(CHOICE_CELL).value
    for key, caption in ACTION_CAPTIONS.items():
        if name_key(str(value or "")) in (name_key(caption), name_key(key)):
            return key
    return _NOT_CHOSEN


def main(book: Any = None, *, config: Config | None = None) -> ButtonResult:
    """Entry point of xlwings' ``SampleCall`` macro, which every button of the .xlsm calls.

    Never guesses: the action runs straight away only when Application.Caller names one of our
    buttons (and it is not a merge, which always asks). Otherwise — no Caller (Mac, remote), an
    unknown or renamed button, the “run the choice” button — the action is taken from the
    button's caption or from B3 and the user is asked, naming it, before anything runs.
    """
    book = book if book is not None else _caller()
    pressed, caller = _button_from_caller(book)
    if pressed is not None and pressed.action is not None:
        action = pressed.action
        log.info("button %s (caller %s)", action, caller)
        return BUTTONS[action](book, config=config)  # a merge (ALWAYS_ASK) asks inside, before it reads
    candidate: str | object | None = _action_from_caption(book, caller) if caller and pressed is None else None
    why = "Không nhận ra nút vừa bấm. "
    if candidate is None:
        candidate = _action_from_choice(book)
        why = f"Việc đang chọn ở ô B3 trang “{CONTROL_SHEET}”. " if pressed is not None else \
            f"Không nhận ra nút vừa bấm; việc đang chọn ở ô B3 trang “{CONTROL_SHEET}”. "
    if isinstance(candidate, str):
        if not confirm(book, candidate, why=why):
            return _cancelled(book, candidate)
        log.info("button %s (caller %s, confirmed)", candidate, caller or "-")
        if candidate == "tong_hop_bao_cao_don_vi":
            return tong_hop_bao_cao_don_vi(book, config=config, ask=False)  # already asked, once
        return BUTTONS[candidate](book, config=config)
    choices = ", ".join(f"“{c}”" for c in ACTION_CAPTIONS.values())
    msg = (f"Chưa biết cần làm việc gì: hãy chọn một việc ở ô B3 trang “{CONTROL_SHEET}” ({choices}) "
           "rồi bấm lại nút.")
    if candidate is None:
        msg = f"Sổ này không có trang “{CONTROL_SHEET}”: hãy dùng các nút bấm của sổ theo dõi."
    LiveBook(book).alert(msg, "Nút bấm", critical=True)
    return ButtonResult("main", False, msg, 1)
