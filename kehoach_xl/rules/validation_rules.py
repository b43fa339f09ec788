"""What a valid master looks like: problem kinds and named checks, declared as data.

The column rules (type, required, unique, allowed values, range, special slugs)
and whether a missing sheet is an error are declared once, in
:mod:`kehoach_xl.model.schema`; ``SHEET_RULES`` and ``SETTINGS_RULES`` here are
derived from it. The engine (:mod:`kehoach_xl.rules.validate`) reads these
tables; it holds no per-column knowledge of its own. Each problem kind has a stable slug (tests,
JSON consumers and the problems sheet rely on it), a severity and a Vietnamese
message template. Templates are ``str.format`` strings over the fields
``value``, ``header``, ``sheet``, ``detail``, ``suggestions``, ``other`` and
``meaning`` (missing fields render as empty text).

Checks that a column table cannot express (status/percent/date consistency,
duplicate tasks, alias conflicts …) are named in ``NAMED_CHECKS`` and
implemented as small functions in the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from kehoach_xl.model import schema

Severity = Literal["error", "warning"]
ERROR: Severity = "error"
WARNING: Severity = "warning"


@dataclass(frozen=True)
class ProblemKind:
    severity: Severity
    template: str


# slug -> kind. Slugs are part of the public interface: never rename one.
PROBLEMS: dict[str, ProblemKind] = {
    # structure
    "sheet_missing": ProblemKind(ERROR, "Thiếu sheet “{sheet}”. Không kiểm tra được phần dữ liệu này."),
    "sheet_missing_optional": ProblemKind(WARNING, "Không có sheet “{sheet}”."),
    "column_missing": ProblemKind(
        ERROR, "Thiếu cột bắt buộc “{header}” trong sheet “{sheet}”{detail}. Các kiểm tra cần cột này bị bỏ qua."),
    # generic cell types and vocabularies
    "value_required": ProblemKind(ERROR, "Ô “{header}” không được để trống."),
    "value_duplicate": ProblemKind(ERROR, "“{value}” bị trùng với dòng {other}; cột “{header}” phải là duy nhất."),
    "value_not_allowed": ProblemKind(ERROR, "“{value}” không phải giá trị hợp lệ của cột “{header}”. Chọn một trong: {detail}."),
    "date_invalid": ProblemKind(ERROR, "{detail}"),
    "number_invalid": ProblemKind(ERROR, "“{value}” không phải số (cột “{header}”)."),
    "number_as_text": ProblemKind(WARNING, "“{value}” được nhập dạng chữ; chương trình hiểu là {meaning}. Nên nhập số."),
    "number_out_of_range": ProblemKind(ERROR, "{value} nằm ngoài khoảng cho phép của cột “{header}” ({detail})."),
    "percent_as_fraction": ProblemKind(
        WARNING, "Tiến độ {value} rất nhỏ: có phải ý là {meaning}%? Tiến độ nhập số từ 0 đến 100."),
    "email_invalid": ProblemKind(ERROR, "“{value}” không phải địa chỉ email hợp lệ."),
    # tasks
    "task_id_missing": ProblemKind(ERROR, "Nhiệm vụ chưa có mã; mỗi nhiệm vụ cần một mã duy nhất."),
    "task_id_duplicate": ProblemKind(ERROR, "Mã nhiệm vụ “{value}” bị trùng với dòng {other}."),
    "task_no_lead": ProblemKind(ERROR, "Nhiệm vụ chưa có đơn vị chủ trì."),
    "task_below_table": ProblemKind(
        WARNING, "Dòng này nằm dưới bảng nhiệm vụ nên chương trình không coi là nhiệm vụ. Nếu đây là nhiệm vụ, "
                 "hãy kéo góc dưới phải của bảng (hoặc Table Design › Resize Table) để bảng bao gồm dòng này."),
    "task_duplicate": ProblemKind(
        WARNING, "Nhiệm vụ trùng nội dung và đơn vị chủ trì với dòng {other}; kiểm tra xem có nhập lặp không."),
    "unit_unknown": ProblemKind(ERROR, "Đơn vị “{value}” chưa có trong sheet “Đơn vị”.{suggestions}"),
    "leader_unknown": ProblemKind(WARNING, "Lãnh đạo “{value}” chưa có trong sheet “Lãnh đạo”.{suggestions}"),
    "deadline_missing": ProblemKind(WARNING, "Nhiệm vụ chưa ghi thời hạn."),
    "deadline_unreadable": ProblemKind(WARNING, "Thời hạn “{value}”: {detail}"),
    "deadline_invalid_date": ProblemKind(ERROR, "Thời hạn “{value}”: {detail}"),
    "done_without_date": ProblemKind(ERROR, "Trạng thái “Hoàn thành” nhưng chưa có ngày hoàn thành."),
    "done_progress_not_full": ProblemKind(
        ERROR, "Trạng thái “Hoàn thành” nhưng tiến độ chưa là 100% (đang ghi: {value})."),
    "completed_in_future": ProblemKind(ERROR, "Ngày hoàn thành {value} ở sau ngày kiểm tra {detail}."),
    "completed_not_done": ProblemKind(
        WARNING, "Có ngày hoàn thành {value} nhưng trạng thái chưa là “Hoàn thành”."),
    "full_progress_not_done": ProblemKind(WARNING, "Tiến độ 100% nhưng trạng thái là “{value}”, chưa “Hoàn thành”."),
    "not_started_with_progress": ProblemKind(
        ERROR, "Trạng thái “Chưa thực hiện” nhưng tiến độ đã ghi {value}. Sửa trạng thái thành “Đang thực hiện” "
               "(hoặc “Hoàn thành”), hoặc đưa tiến độ về 0."),
    # units and leaders sheets
    "name_duplicate": ProblemKind(ERROR, "Tên “{value}” trùng với dòng {other} (kể cả khác dấu cách hoặc kiểu gõ)."),
    "alias_conflict": ProblemKind(
        ERROR, "Tên khác “{value}” đã dùng cho “{other}”; mỗi tên khác chỉ được chỉ một {detail}."),
    # scores
    "score_above_max": ProblemKind(ERROR, "Điểm {value} lớn hơn điểm tối đa {other}."),
    "rank_above_total": ProblemKind(ERROR, "Xếp hạng {value} lớn hơn tổng số {other}."),
    # settings and configuration
    "setting_invalid": ProblemKind(ERROR, "“{header}” = “{value}”: {detail}"),
    "config_invalid": ProblemKind(ERROR, "Cấu hình kehoach.toml: {detail}"),
}


@dataclass(frozen=True)
class ColumnRule:
    """How one column's cells must look: a view of a :class:`schema.Column`'s validation facts.

    Never written by hand: :func:`column_rule` makes it from the schema, the one declaration.
    """

    key: str
    type: schema.ColType = "text"
    required: bool = False
    unique: bool = False
    allowed: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    # slug used instead of the generic one, e.g. task_id_missing for value_required
    required_slug: str = "value_required"
    unique_slug: str = "value_duplicate"


def column_rule(col: schema.Column) -> ColumnRule:
    return ColumnRule(col.key, col.type, col.required, col.unique, col.allowed, col.min, col.max,
                      col.required_slug, col.unique_slug)


@dataclass(frozen=True)
class SheetRules:
    sheet: schema.Sheet
    required_sheet: bool  # a missing sheet is an error (else a warning)
    columns: tuple[ColumnRule, ...]


# Per checked sheet of the schema, its checked columns (schema order).
SHEET_RULES: tuple[SheetRules, ...] = tuple(
    SheetRules(s, s.required, tuple(column_rule(c) for c in s.columns if c.checked))
    for s in schema.ALL_SHEETS if s.checked
)

# Settings sheet rows (schema.SETTINGS_ROWS keys) that are checked, and their rule.
SETTINGS_RULES: dict[str, ColumnRule] = {c.key: column_rule(c) for c in schema.SETTINGS_FIELDS if c.checked}

# Checks the tables above cannot say; each is a function of the same name in the engine.
NAMED_CHECKS: tuple[str, ...] = (
    "check_task_parties",  # unit_unknown, leader_unknown (NFC/NFD/space variants are the same name)
    "check_deadlines",  # deadline_missing, deadline_unreadable, deadline_invalid_date
    "check_status_consistency",  # schema.TASK_ROW_RULES: done_without_date, not_started_with_progress, …
    "check_duplicate_tasks",  # task_duplicate: same normalised task text + lead
    "check_registry_names",  # name_duplicate, alias_conflict on the units and leaders sheets
    "check_scores",  # score_above_max, rank_above_total
    "check_settings",  # setting_invalid
    "check_config",  # config_invalid
)

# Sheet names of the problems sheet columns, in order (the "Kiểm tra" sheet).
PROBLEM_SHEET_HEADERS: tuple[str, ...] = (
    "STT", "Mức độ", "Sheet", "Ô", "Dòng", "Cột", "Giá trị", "Loại lỗi", "Nội dung", "Mã lỗi",
)

# slug -> the short Vietnamese name of the problem kind shown in the problems sheet (the slug
# itself stays in the last column, for IT staff and scripts).
PROBLEM_LABELS: dict[str, str] = {
    "sheet_missing": "Thiếu sheet",
    "sheet_missing_optional": "Không có sheet",
    "column_missing": "Thiếu cột",
    "value_required": "Ô bắt buộc để trống",
    "value_duplicate": "Giá trị trùng",
    "value_not_allowed": "Giá trị không hợp lệ",
    "date_invalid": "Ngày không hợp lệ",
    "number_invalid": "Không phải số",
    "number_as_text": "Số nhập dạng chữ",
    "number_out_of_range": "Số ngoài khoảng",
    "percent_as_fraction": "Tiến độ quá nhỏ",
    "email_invalid": "Email không hợp lệ",
    "task_id_missing": "Thiếu mã nhiệm vụ",
    "task_id_duplicate": "Trùng mã nhiệm vụ",
    "task_no_lead": "Thiếu đơn vị chủ trì",
    "task_below_table": "Dòng nằm ngoài bảng",
    "task_duplicate": "Nhiệm vụ trùng lặp",
    "unit_unknown": "Đơn vị chưa có",
    "leader_unknown": "Lãnh đạo chưa có",
    "deadline_missing": "Thiếu thời hạn",
    "deadline_unreadable": "Thời hạn khó hiểu",
    "deadline_invalid_date": "Thời hạn sai ngày",
    "done_without_date": "Thiếu ngày hoàn thành",
    "done_progress_not_full": "Hoàn thành chưa đủ 100%",
    "completed_in_future": "Ngày hoàn thành ở tương lai",
    "completed_not_done": "Có ngày nhưng chưa hoàn thành",
    "full_progress_not_done": "Đủ 100% nhưng chưa hoàn thành",
    "not_started_with_progress": "Chưa thực hiện mà có tiến độ",
    "name_duplicate": "Tên trùng",
    "alias_conflict": "Tên khác trùng",
    "score_above_max": "Điểm vượt tối đa",
    "rank_above_total": "Xếp hạng vượt tổng số",
    "setting_invalid": "Cấu hình sai",
    "config_invalid": "Tệp cấu hình sai",
}
SEVERITY_LABELS: dict[str, str] = {ERROR: "Lỗi", WARNING: "Cảnh báo"}
