"""What file was a command given? A cheap peek, before anything is read in full, moved or written.

``detect_kind`` looks only at the first bytes (the OLE header of an old .xls), the zip member
names (a Word document, a workbook), the sheet names in ``xl/workbook.xml`` (the master's
“Nhiệm vụ” sheet, the hidden ``_kehoach_meta`` sheet of unit workbooks, the single “Tổng hợp”
sheet of the summary export) and where the file sits (the backup folder, the inbox).
``require_master`` refuses anything that is not a master with a Vietnamese message naming what
the file is and what to do instead; it raises before any command touches the file.
"""

from __future__ import annotations

import enum
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

from kehoach_xl.errors import DataError, SetupError
from kehoach_xl.model import schema
from kehoach_xl.model.master import find_sheet_name
from kehoach_xl.model.unitbook import META_SHEET

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BACKUP_DIR = ".kehoach_backups"  # io.backup.BACKUP_DIR, not imported: that module pulls in the writer
_BACKUP_NAME = re.compile(r"-\d{8}-\d{6}-\d{6}\.xls[xm]$", re.IGNORECASE)
_DEFAULT_INBOX = "hop_thu_den"
_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


class FileKind(enum.Enum):
    MASTER = "master"
    UNIT_WORKBOOK = "unit_workbook"
    MASTER_COPY = "master_copy"
    SUMMARY_EXPORT = "summary_export"
    BACKUP = "backup"
    PLAN_DOCX = "plan_docx"
    OLD_XLS = "old_xls"
    ENCRYPTED = "encrypted"
    OTHER_EXCEL = "other_excel"
    NOT_EXCEL = "not_excel"
    DAMAGED = "damaged"
    FOLDER = "folder"
    MISSING = "missing"

    @property
    def label(self) -> str:
        return LABELS[self]


LABELS = {
    FileKind.MASTER: "sổ theo dõi (master)",
    FileKind.UNIT_WORKBOOK: "tệp báo cáo giao cho đơn vị",
    FileKind.MASTER_COPY: "bản sao sổ theo dõi do đơn vị gửi lại (nằm trong thư mục nhận báo cáo)",
    FileKind.SUMMARY_EXPORT: "tệp tổng hợp xuất riêng (chỉ có sheet “Tổng hợp”)",
    FileKind.BACKUP: "bản sao lưu tự động của sổ theo dõi",
    FileKind.PLAN_DOCX: "văn bản Word (.docx)",
    FileKind.OLD_XLS: "tệp Excel đời cũ (.xls)",
    FileKind.ENCRYPTED: "tệp Excel có đặt mật khẩu mở tệp",
    FileKind.OTHER_EXCEL: "tệp Excel không phải sổ theo dõi (không có sheet “Nhiệm vụ”)",
    FileKind.NOT_EXCEL: "tệp không phải Excel",
    FileKind.DAMAGED: "tệp Excel bị hỏng hoặc chưa chép xong (không mở được như một tệp nén .xlsx)",
    FileKind.FOLDER: "thư mục, không phải tệp",
    FileKind.MISSING: "không có tệp này",
}

# What to do instead, for each kind that is not a master.
ADVICE = {
    FileKind.UNIT_WORKBOOK: "Tệp này để đơn vị điền rồi gửi về; hãy đặt nó vào thư mục nhận báo cáo và chạy "
                            "“kehoach-xl merge” với đường dẫn sổ theo dõi.",
    FileKind.MASTER_COPY: "Đây là báo cáo của đơn vị; để nguyên trong thư mục nhận báo cáo và chạy "
                          "“kehoach-xl merge” với đường dẫn sổ theo dõi gốc.",
    FileKind.SUMMARY_EXPORT: "Tệp này do lệnh summary --export tạo ra để gửi lãnh đạo; hãy chỉ đường dẫn sổ theo dõi.",
    FileKind.BACKUP: "Không làm việc trực tiếp trên bản sao lưu; để quay về bản này dùng "
                     "“kehoach-xl restore <sổ theo dõi> --to <tên bản sao lưu>”.",
    FileKind.PLAN_DOCX: "Văn bản kế hoạch được nhập bằng “kehoach-xl import <văn bản> --into <sổ theo dõi>”.",
    FileKind.OLD_XLS: "Hãy mở tệp trong Excel và lưu lại dạng “Excel Workbook (*.xlsx)”, rồi chạy lại lệnh.",
    FileKind.ENCRYPTED: "Hãy bỏ mật khẩu mở tệp (File > Info > Protect Workbook trong Excel) rồi chạy lại lệnh.",
    FileKind.OTHER_EXCEL: "Hãy chỉ đúng tệp sổ theo dõi; sổ mới tạo bằng “kehoach-xl init”.",
    FileKind.NOT_EXCEL: "Hãy chỉ đúng tệp sổ theo dõi (.xlsx hoặc .xlsm); sổ mới tạo bằng “kehoach-xl init”.",
    FileKind.DAMAGED: "Nếu đây là sổ theo dõi, hãy chép lại tệp cho trọn vẹn hoặc khôi phục bản sao lưu: "
                      "“kehoach-xl restore <sổ theo dõi> --list”.",
    FileKind.FOLDER: "Hãy chỉ đường dẫn tới tệp sổ theo dõi (.xlsx), không phải thư mục chứa nó.",
    FileKind.MISSING: "Kiểm tra lại đường dẫn; sổ mới tạo bằng “kehoach-xl init”.",
}


def _sheet_names(zf: zipfile.ZipFile) -> list[str]:
    try:
        root = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    except (KeyError, ElementTree.ParseError):
        return []
    return [s.get("name") or "" for s in root.iter(f"{_NS}sheet")]


def _in_folder(path: Path, folder: Path | None, name: str) -> bool:
    parents = path.resolve().parents
    if folder is not None and folder.resolve() in parents:
        return True
    return any(p.name.casefold() == name.casefold() for p in parents)


def detect_kind(path: Path | str, *, inbox: Path | None = None) -> FileKind:
    """Which kind of file ``path`` is, from its first bytes, zip members, sheet names and place."""
    path = Path(path)
    if path.is_dir():
        return FileKind.FOLDER
    if not path.is_file():
        return FileKind.MISSING
    try:
        with path.open("rb") as f:
            head = f.read(8)
    except OSError:
        return FileKind.NOT_EXCEL
    if head == OLE_MAGIC:
        return FileKind.ENCRYPTED if path.suffix.lower() in (".xlsx", ".xlsm") else FileKind.OLD_XLS
    if not head.startswith(b"PK"):
        return FileKind.DAMAGED if path.suffix.lower() in (".xlsx", ".xlsm") and not head.strip(b"\0") else FileKind.NOT_EXCEL
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "word/document.xml" in names:
                return FileKind.PLAN_DOCX
            if "xl/workbook.xml" not in names:
                return FileKind.NOT_EXCEL
            sheets = _sheet_names(zf)
    except (zipfile.BadZipFile, OSError, ValueError):
        return FileKind.DAMAGED
    if find_sheet_name(sheets, META_SHEET):
        return FileKind.UNIT_WORKBOOK
    if find_sheet_name(sheets, schema.TASKS.name):
        if _in_folder(path, None, _BACKUP_DIR) or _BACKUP_NAME.search(path.name):
            return FileKind.BACKUP
        if _in_folder(path, inbox, _DEFAULT_INBOX):
            return FileKind.MASTER_COPY
        return FileKind.MASTER
    if len(sheets) == 1 and find_sheet_name(sheets, schema.SUMMARY_SHEET_NAME):
        return FileKind.SUMMARY_EXPORT
    return FileKind.OTHER_EXCEL


def refusal(path: Path, kind: FileKind) -> str:
    """The Vietnamese message for a file that is not a master: what it is, and what to do."""
    if kind is FileKind.MISSING:
        return f"Không tìm thấy sổ theo dõi: {path}. {ADVICE[kind]}"
    return (f"“{path.name}” là {kind.label}, không phải sổ theo dõi; lệnh không đọc, không ghi, "
            f"không di chuyển tệp nào. {ADVICE[kind]}")


def require_master(path: Path | str, *, inbox: Path | None = None) -> Path:
    """``path`` when it is a master; otherwise SetupError (exit 2) naming what it is and what to do
    (DataError, exit 1, for a damaged workbook: that is a problem of the data, not of the command)."""
    path = Path(path)
    kind = detect_kind(path, inbox=inbox)
    if kind is FileKind.DAMAGED:
        raise DataError(refusal(path, kind))
    if kind is not FileKind.MASTER:
        raise SetupError(refusal(path, kind))
    return path
