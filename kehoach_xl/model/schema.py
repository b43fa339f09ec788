"""The master workbook's layout, declared as data.

Every module that reads or writes the master finds sheets and columns through
this file, never by position: staff may reorder or insert columns, so a column
is located by its header text (normalised) at run time.

It is also the one declaration of what a valid master looks like (pandera
style): each column carries its validation facts (required, unique, allowed
values, range, the problem slugs used instead of the generic ones) and each
sheet says whether validation reads it and whether its absence is an error.
:mod:`kehoach_xl.rules.validation_rules` derives its column rules from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColType = Literal["text", "int", "float", "percent", "date", "datetime", "list", "email"]
Owner = Literal["plan", "unit", "derived", "office", "id"]

# Types whose cells validation checks even when no other fact is declared.
CHECKED_TYPES: tuple[str, ...] = ("int", "float", "percent", "date", "datetime", "email")
# Years a year cell may hold (index scores, the plan year).
YEAR_MIN, YEAR_MAX = 2000, 2100


@dataclass(frozen=True)
class Column:
    key: str  # snake_case identifier, also the JSON key
    header: str  # Vietnamese header shown in the workbook
    type: ColType = "text"
    width: float = 14
    owner: Owner = "plan"
    required: bool = False  # the column must exist and its cells must not be empty
    aliases: tuple[str, ...] = ()  # other header wordings accepted when reading
    # --- validation facts (read by rules.validation_rules) ---
    unique: bool = False
    allowed: tuple[str, ...] = ()  # the only values accepted (case-insensitive)
    min: float | None = None
    max: float | None = None
    required_slug: str = "value_required"  # problem slug for an empty required cell
    unique_slug: str = "value_duplicate"  # problem slug for a repeated unique value

    @property
    def checked(self) -> bool:
        """Validation checks this column's cells (in a sheet whose ``checked`` is set)."""
        return (self.required or self.unique or bool(self.allowed) or self.min is not None
                or self.max is not None or self.type in CHECKED_TYPES)


@dataclass(frozen=True)
class Sheet:
    key: str
    name: str
    columns: tuple[Column, ...]
    table_name: str | None = None
    header_row: int = 1
    checked: bool = False  # validation checks this sheet's columns cell by cell
    required: bool = True  # when checked: a missing sheet is an error (else a warning)

    def col(self, key: str) -> Column:
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(key)

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns]


# --- value vocabularies -----------------------------------------------------

STATUS_NOT_STARTED = "Chưa thực hiện"
STATUS_IN_PROGRESS = "Đang thực hiện"
STATUS_DONE = "Hoàn thành"
STATUSES: tuple[str, ...] = (STATUS_NOT_STARTED, STATUS_IN_PROGRESS, STATUS_DONE)

# Deadline states: code -> Vietnamese label written in the workbook.
DEADLINE_STATES: dict[str, str] = {
    "overdue": "Quá hạn",
    "due_soon": "Sắp đến hạn",
    "on_track": "Trong hạn",
    "done_on_time": "Hoàn thành đúng hạn",
    "done_late": "Hoàn thành trễ hạn",
    "continuous": "Thường xuyên/định kỳ",
    "no_deadline": "Không có hạn cụ thể",
}
DEADLINE_STATE_CODES: dict[str, str] = {v: k for k, v in DEADLINE_STATES.items()}

# Row fill colours per deadline state (used by conditional formatting only).
STATE_COLOURS: dict[str, str] = {
    "overdue": "F28B82",  # red
    "due_soon": "FFE699",  # amber
    "done_on_time": "C6EFCE",  # green
    "done_late": "F8CBAD",  # light orange
    "continuous": "D9D9D9",  # grey
    "no_deadline": "D9D9D9",  # grey
}

# Deadline kinds: code -> Vietnamese label.
DEADLINE_KINDS: dict[str, str] = {
    "date": "Ngày cụ thể",
    "month": "Trong tháng",
    "quarter": "Trong quý",
    "year": "Trong năm",
    "year_range": "Giai đoạn nhiều năm",
    "continuous": "Thường xuyên",
    "recurring": "Định kỳ",
    "relative": "Theo sự kiện",
    "external": "Theo lịch của cơ quan khác",
    "milestones": "Nhiều mốc",
    "unknown": "Chưa đọc được",
    "none": "Không ghi thời hạn",
}
DEADLINE_KIND_CODES: dict[str, str] = {v: k for k, v in DEADLINE_KINDS.items()}

RECURRENCES: dict[str, str] = {
    "monthly": "Hằng tháng",
    "quarterly": "Hằng quý",
    "yearly": "Hằng năm",
    "half_yearly": "6 tháng một lần",
    "weekly": "Hằng tuần",
    "monthly_quarterly": "Hằng tháng, quý",
}
RECURRENCE_CODES: dict[str, str] = {v: k for k, v in RECURRENCES.items()}

LIST_SEP = "; "  # separator inside multi-value cells (units, leaders)

# --- sheets ---------------------------------------------------------------

C = Column

TASKS = Sheet(
    key="tasks",
    name="Nhiệm vụ",
    table_name="NhiemVu",
    checked=True,
    # The first PRINT_COLUMNS columns are what a printed page shows; order matters only for printing.
    # Widths of A:R are sized for the printed list (two A4 pages wide at 77 %, docs/master-format.md).
    columns=(
        C("id", "Mã nhiệm vụ", width=13, owner="id", required=True, aliases=("Mã NV", "ID"),
          unique=True, required_slug="task_id_missing", unique_slug="task_id_duplicate"),
        C("group", "Nhóm", width=6, aliases=("Mã nhóm",)),
        C("stt", "STT", width=5, aliases=("Số TT", "TT")),
        C("task", "Nhiệm vụ/Hoạt động", width=35, required=True,
          aliases=("Nhiệm vụ", "Hoạt động", "Nội dung", "Tên nhiệm vụ", "Nhiệm vụ cụ thể")),
        C("lead_units", "Đơn vị chủ trì", type="list", width=18, required=True, required_slug="task_no_lead",
          aliases=("Cơ quan chủ trì", "Bộ phận triển khai", "Đơn vị thực hiện")),
        C("coordinating_units", "Đơn vị phối hợp", type="list", width=16,
          aliases=("Cơ quan phối hợp",)),
        C("leaders", "Lãnh đạo giám sát", type="list", width=16,
          aliases=("Lãnh đạo phụ trách", "Lãnh đạo chỉ đạo")),
        C("deadline_text", "Thời hạn (nguyên văn)", width=13,
          aliases=("Thời hạn", "Thời gian hoàn thành", "Tiến độ thực hiện")),
        C("due_date", "Hạn hoàn thành", type="date", width=11, owner="derived"),
        C("status", "Trạng thái", width=12, owner="unit", aliases=("Tình trạng",), allowed=STATUSES),
        C("progress", "Tiến độ (%)", type="percent", width=8, owner="unit", aliases=("Tiến độ %", "% hoàn thành"),
          min=0, max=100),
        C("completed_on", "Ngày hoàn thành", type="date", width=11, owner="unit"),
        C("result", "Kết quả thực hiện", width=30, owner="unit", aliases=("Kết quả",)),
        C("difficulties", "Khó khăn, vướng mắc", width=20, owner="unit", aliases=("Khó khăn",)),
        C("deadline_state", "Tình trạng thời hạn", width=13, owner="derived"),
        C("days_remaining", "Số ngày còn lại", type="int", width=8, owner="derived"),
        C("working_days_remaining", "Số ngày làm việc còn lại", type="int", width=11, owner="derived"),
        C("proposals", "Đề xuất, kiến nghị", width=24, owner="unit", aliases=("Đề xuất", "Kiến nghị")),
        C("criterion", "Chỉ số/chỉ tiêu", width=32, aliases=("Chỉ số", "Chỉ tiêu", "Tiêu chí")),
        C("output", "Kết quả đầu ra/Sản phẩm", width=32,
          aliases=("Kết quả đầu ra", "Sản phẩm", "Kết quả/sản phẩm")),
        C("group_title", "Tên nhóm", width=24),
        C("deadline_kind", "Loại thời hạn", width=16, owner="derived"),
        C("recurrence", "Chu kỳ", width=12, owner="derived"),
        C("next_due", "Hạn kỳ tới", type="date", width=13, owner="derived"),
        C("coordination_reports", "Báo cáo của đơn vị phối hợp", width=32, owner="unit"),
        C("updated_at", "Cập nhật lần cuối", type="datetime", width=16, owner="unit"),
        C("updated_by", "Nguồn cập nhật", width=22, owner="unit"),
        C("plan_code", "Kế hoạch", width=12),
        C("notes", "Ghi chú", width=20, owner="office"),

    ),
)

UNITS = Sheet(
    key="units",
    name="Đơn vị",
    table_name="DonVi",
    checked=True,
    columns=(
        C("name", "Tên đơn vị", width=40, required=True),
        C("aliases", "Tên viết tắt/tên khác", type="list", width=36),
        C("email", "Thư điện tử", type="email", width=30, aliases=("Email", "E-mail")),
        C("head", "Thủ trưởng", width=26),
        C("kind", "Loại", width=14),
    ),
)

LEADERS = Sheet(
    key="leaders",
    name="Lãnh đạo",
    table_name="LanhDao",
    checked=True,
    columns=(
        C("name", "Họ và tên", width=28, required=True),
        C("title", "Chức vụ", width=24),
        C("email", "Thư điện tử", type="email", width=30, aliases=("Email", "E-mail")),
        C("indices", "Chỉ số phụ trách", type="list", width=50),
        C("aliases", "Tên khác", type="list", width=24),
    ),
)

SCORES = Sheet(
    key="scores",
    name="Điểm chỉ số",
    table_name="DiemChiSo",
    checked=True,
    required=False,
    columns=(
        C("index_set", "Bộ chỉ số", width=12, required=True),
        C("component", "Chỉ số thành phần", width=44, required=True),
        C("year", "Năm", type="int", width=8, required=True, min=YEAR_MIN, max=YEAR_MAX),
        C("score", "Điểm", type="float", width=9, min=0),
        C("max_score", "Điểm tối đa", type="float", width=10, min=0),
        C("rank", "Xếp hạng", type="int", width=9, min=1),
        C("out_of", "Trên tổng số", type="int", width=10, min=1),
    ),
)

SETTINGS = Sheet(
    key="settings",
    name="Cấu hình",
    columns=(
        C("key", "Thông số", width=32),
        C("value", "Giá trị", width=60),
        C("lists", "Danh mục trạng thái", width=20),
    ),
)

LOG = Sheet(
    key="log",
    name="Nhật ký",
    table_name="NhatKy",
    columns=(
        C("time", "Thời gian", type="datetime", width=18),
        C("action", "Thao tác", width=14),
        C("file", "Tệp", width=30),
        C("unit", "Đơn vị", width=26),
        C("task_id", "Mã nhiệm vụ", width=14),
        C("field", "Trường", width=20),
        C("old", "Giá trị cũ", width=30),
        C("new", "Giá trị mới", width=30),
        C("user", "Người/máy thực hiện", width=18),
    ),
)

HISTORY = Sheet(
    key="history",
    name="Lịch sử",
    table_name="LichSu",
    columns=(
        C("period", "Kỳ báo cáo", width=10),
        C("task_id", "Mã nhiệm vụ", width=14),
        C("unit", "Đơn vị báo cáo", width=26),
        C("status", "Trạng thái", width=15),
        C("progress", "Tiến độ (%)", type="percent", width=9),
        C("completed_on", "Ngày hoàn thành", type="date", width=13),
        C("deadline_state", "Tình trạng thời hạn", width=18),
        C("result", "Kết quả thực hiện", width=36),
        C("difficulties", "Khó khăn, vướng mắc", width=28),
        C("proposals", "Đề xuất, kiến nghị", width=28),
        C("recorded_at", "Thời điểm ghi", type="datetime", width=18),
    ),
)

# One row per (task, unit): each unit's own part of a task, the store of what that unit last reported
# (docs/master-format.md, "Phần việc"). The program owns the sheet; staff may still type a part's
# values (status … period) by hand, which merge treats as an office edit. Declared once here.
PARTS = Sheet(
    key="parts",
    name="Phần việc",
    table_name="PhanViec",
    columns=(
        C("task_id", "Mã NV", width=13, owner="derived", aliases=("Mã nhiệm vụ",)),
        C("stt", "STT", width=6, owner="derived"),
        C("task", "Nhiệm vụ", width=28, owner="derived"),
        C("unit", "Đơn vị", width=17, owner="derived"),
        C("role", "Vai trò", width=13, owner="derived"),
        C("status", "Trạng thái", width=12, owner="unit", allowed=STATUSES),
        C("progress", "Tiến độ (%)", type="percent", width=8, owner="unit", min=0, max=100),
        C("completed_on", "Ngày hoàn thành", type="date", width=11, owner="unit"),
        C("result", "Kết quả", width=25, owner="unit"),
        C("difficulties", "Khó khăn", width=16, owner="unit"),
        C("proposals", "Đề xuất", width=16, owner="unit"),
        C("period", "Kỳ báo cáo", width=9, owner="unit"),
        C("due_date", "Hạn", type="date", width=11, owner="derived"),
        C("deadline_state", "Tình trạng hạn", width=13, owner="derived"),
        C("task_status", "Trạng thái nhiệm vụ (tính từ phần việc)", width=14, owner="derived"),
        C("note", "Ghi chú", width=16, owner="derived"),
    ),
)
# Role words shown in the parts sheet (model.roles.Role values → Vietnamese).
PART_ROLE_LABELS: dict[str, str] = {
    "lead": "Chủ trì",
    "synth": "Tổng hợp chung",
    "member": "Thành viên (chủ trì chung)",
    "coord": "Phối hợp",
}
PART_ROLE_CODES: dict[str, str] = {v: k for k, v in PART_ROLE_LABELS.items()}
# The part's own values: what a unit reports and staff may type by hand.
PART_VALUE_FIELDS: tuple[str, ...] = ("status", "progress", "completed_on", "result", "difficulties",
                                      "proposals", "period")

TASKS_PRINT_COLUMNS = 18  # A:R — id … proposals (see master_book.print_task_sheet)

SUMMARY_SHEET_NAME = "Tổng hợp"
SUMMARY_TITLE = "TỔNG HỢP TÌNH HÌNH THỰC HIỆN KẾ HOẠCH"  # A1 of a summary sheet the program made
PROBLEMS_SHEET_NAME = "Kiểm tra"

# --- validation facts across a task row's cells ----------------------------------
# A partial merge or a hand edit can leave a row whose status, progress and completion date
# contradict each other. Each entry names one such combination; the validation engine
# (rules.validate.check_status_consistency) only evaluates the conditions, in this order.
StatusCond = Literal["any", "done", "not_done", "not_started"]
ProgressCond = Literal["any", "not_full", "full", "above_zero"]
CompletedCond = Literal["any", "empty", "set", "future"]


@dataclass(frozen=True)
class RowRule:
    slug: str  # the problem kind (rules.validation_rules.PROBLEMS)
    status: StatusCond = "any"
    progress: ProgressCond = "any"
    completed: CompletedCond = "any"
    cell: tuple[str, ...] = ("status",)  # the column the problem points at: the first one present
    value: str = "status"  # what the message quotes: "status", "progress", "completed" or "none"
    needs: tuple[str, ...] = ()  # columns that must exist for the rule to apply


TASK_ROW_RULES: tuple[RowRule, ...] = (
    RowRule("done_without_date", status="done", completed="empty", cell=("completed_on",), value="none",
            needs=("status", "completed_on")),
    RowRule("done_progress_not_full", status="done", progress="not_full", cell=("progress",), value="progress",
            needs=("status", "progress")),
    RowRule("completed_not_done", status="not_done", completed="set", cell=("status", "completed_on"),
            value="completed", needs=("completed_on",)),
    RowRule("completed_in_future", completed="future", cell=("completed_on",), value="completed",
            needs=("completed_on",)),
    RowRule("full_progress_not_done", status="not_done", progress="full", cell=("status",), value="status",
            needs=("status", "progress")),
    RowRule("not_started_with_progress", status="not_started", progress="above_zero", cell=("progress",),
            value="progress", needs=("status", "progress")),
)


# Plan metadata rows of the settings sheet (label, then value), with their validation facts.
SETTINGS_FIELDS: tuple[Column, ...] = (
    C("plan_code", "Mã kế hoạch"),
    C("plan_title", "Tên kế hoạch"),
    C("plan_number", "Số, ký hiệu văn bản"),
    C("plan_year", "Năm kế hoạch", type="int", min=YEAR_MIN, max=YEAR_MAX),
    C("agency", "Cơ quan ban hành"),
    C("parent_agency", "Cơ quan chủ quản"),
    C("place", "Địa danh"),
    C("as_of", "Số liệu tính đến ngày", type="date"),
    C("master_id", "Mã định danh sổ theo dõi"),
    C("plan_date", "Ngày ban hành văn bản", type="date"),
)
# key -> label
SETTINGS_ROWS: dict[str, str] = {c.key: c.header for c in SETTINGS_FIELDS}
SETTINGS_LABEL_KEYS: dict[str, str] = {v: k for k, v in SETTINGS_ROWS.items()}

ALL_SHEETS: tuple[Sheet, ...] = (TASKS, UNITS, LEADERS, SCORES, SETTINGS, LOG, HISTORY, PARTS)

# Fields units may report (the lead unit owns these on its tasks).
UNIT_FIELDS: tuple[str, ...] = (
    "status", "progress", "completed_on", "result", "difficulties", "proposals",
)
DERIVED_FIELDS: tuple[str, ...] = tuple(c.key for c in TASKS.columns if c.owner == "derived")
DEFINITION_FIELDS: tuple[str, ...] = (
    "group", "group_title", "stt", "criterion", "task", "output", "lead_units",
    "coordinating_units", "leaders", "deadline_text", "plan_code",
)
