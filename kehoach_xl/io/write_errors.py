"""Errors raised by the master writer, and the mapping from OS errors to them.

Kept apart from :mod:`master_write` so the lock and backup helpers can raise
them without an import cycle.
"""

from __future__ import annotations

import errno
from pathlib import Path

from kehoach_xl.errors import KehoachError


class MasterLockedError(KehoachError):
    """Another run of the program is writing this master right now."""


class MasterOpenInExcelError(KehoachError):
    """Excel (or LibreOffice) has the master open: its owner file is beside it."""


class WriteFailedError(KehoachError):
    """The disk refused the write (full, read-only, no permission).

    The master is left exactly as it was.
    """


class VerifyFailedError(WriteFailedError):
    """The freshly written temporary file did not read back as intended (a bug, not the disk)."""


_REASONS = {
    errno.ENOSPC: "ổ đĩa đã đầy, không còn đủ dung lượng",
    errno.EDQUOT: "đã vượt hạn mức dung lượng (quota) được cấp",
    errno.EROFS: "ổ đĩa hoặc thư mục chỉ cho phép đọc",
    errno.EACCES: "tài khoản đang chạy không có quyền ghi",
    errno.EPERM: "tệp đang bị khóa hoặc không được phép thay đổi",
    errno.EIO: "lỗi đọc/ghi của ổ đĩa hoặc mạng",
}


def write_failed(exc: OSError, master: Path, step: str) -> WriteFailedError:
    """A Vietnamese ``WriteFailedError`` for an OS error met while writing ``master``.

    ``step`` says in Vietnamese what was being done ("tạo bản sao lưu" …).
    """
    reason = _REASONS.get(exc.errno or 0, f"lỗi hệ thống: {exc.strerror or exc}")
    where = f" ({exc.filename})" if exc.filename else ""
    return WriteFailedError(
        f"Không ghi được sổ theo dõi '{master.name}' khi {step}: {reason}{where}. "
        f"Sổ theo dõi vẫn giữ nguyên như trước, không có thay đổi nào được ghi."
    )
