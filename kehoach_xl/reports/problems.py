"""Every output of the one problem record (:class:`kehoach_xl.model.problem.Problem`), one renderer each.

* :func:`problems_console` — the table the command line prints (``validate``, ``import``);
* :func:`problems_json` — the ``--json`` list;
* :func:`problem_rows` — the rows of the master's “Kiểm tra” sheet (defined in ``rules/validate``,
  which writes that sheet and may not import reports; offered here with the others);
* :func:`unit_error_report` — the report a unit gets back with its file after a merge.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from kehoach_xl import vn
from kehoach_xl.errors import KehoachError
from kehoach_xl.model.problem import ERROR, SEVERITY_LABELS, WARNING, Problem
from kehoach_xl.rules.merge import FIELD_LABELS
from kehoach_xl.rules.validate import problem_rows

__all__ = ["NO_PROBLEMS", "problem_rows", "problems_console", "problems_json", "unit_error_report"]

NO_PROBLEMS = "Không phát hiện lỗi nào."


def _place(p: Problem) -> str:
    """The console's place column: the cell, else the sheet or table (with its row when known)."""
    if p.cell:
        return p.cell
    if p.row is not None:
        return f"{p.sheet}, dòng {p.row}" if p.sheet else f"dòng {p.row}"
    return p.sheet


def problems_console(problems: Sequence[Problem], *, empty: str = NO_PROBLEMS, place_header: str = "Ô") -> str:
    """The problems as a console table with a closing count; ``empty`` when there are none.

    One line per problem: severity, place, message and ``[slug]``, then
    “Tổng cộng: N lỗi, M cảnh báo.”. No trailing newline (``click.echo`` adds it).
    """
    if not problems:
        return empty
    width = max(len(_place(p)) for p in problems)
    lines = [f"{'Mức độ':<9} {place_header:<{width}}  Nội dung"]
    lines += [f"{SEVERITY_LABELS[p.severity]:<9} {_place(p):<{width}}  {p.message}  [{p.slug}]" for p in problems]
    n_err = sum(p.severity == ERROR for p in problems)
    n_warn = sum(p.severity == WARNING for p in problems)
    lines.append(f"Tổng cộng: {n_err} lỗi, {n_warn} cảnh báo.")
    return "\n".join(lines)


def problems_json(problems: Iterable[Problem]) -> list[dict[str, Any]]:
    """The problems as ``--json`` shows them (:meth:`Problem.to_dict`)."""
    return [p.to_dict() for p in problems]


def _period_text(period: str) -> str:
    if not period:
        return "(không xác định)"
    try:
        return f"tháng {vn.period_label(period)}"
    except (ValueError, TypeError, KehoachError):
        return period


_OUTCOME = {"rejected": "KHÔNG TỔNG HỢP — tệp bị trả lại.",
            "partial": "Đã tổng hợp một phần; các ô dưới đây chưa được ghi.",
            "processed": "Đã tổng hợp."}


def unit_error_report(problems: Sequence[Problem], *, file: str, unit: str = "", period: str = "",
                      status: str = "processed", conflicts: Iterable[Any] = ()) -> str:
    """The report filed beside a unit's submission: its problems, its conflicts, how to fix them.

    The same text as ``rules.merge.problem_report_text(f, conflicts)`` for
    ``unit_error_report(f.problems, file=f.file, unit=f.unit, period=f.period, status=f.status,
    conflicts=conflicts)``; ``conflicts`` are ``rules.merge.Conflict`` objects (only those naming
    ``file`` are listed).
    """
    lines = [f"BÁO CÁO KIỂM TRA TỆP: {file}",
             f"Đơn vị: {unit or '(không xác định)'}    Kỳ báo cáo: {_period_text(period)}",
             "Kết quả: " + _OUTCOME[status], ""]
    for n, p in enumerate(problems, start=1):
        sev = "Lỗi" if p.severity == ERROR else "Lưu ý"
        where = ", ".join(x for x in (f"sheet “{p.sheet}”" if p.sheet else "", f"ô {p.cell}" if p.cell else "") if x)
        lines.append(f"{n}. [{sev}] {where + ': ' if where else ''}{p.message}")
    for c in conflicts:
        if any(v["file"] == file for v in c.values):
            vals = "; ".join(f"{v['unit']} ({v['file']}): “{vn.value(v['value'])}”" for v in c.values)
            lines.append(f"- [Xung đột] Nhiệm vụ {c.task_id}, cột “{FIELD_LABELS.get(c.field, c.field)}”: {c.reason}. "
                         f"Sổ theo dõi: “{vn.value(c.master_value)}”; báo cáo: {vals}. Văn phòng Sở sẽ quyết định.")
    if any(p.cell for p in problems):
        hint = ("Cách khắc phục: sửa các ô nêu trên trong tệp được giao (không đổi tên sheet, cột, không đổi mã "
                "nhiệm vụ), lưu dạng .xlsx rồi gửi lại cho Văn phòng Sở.")
    else:
        hint = ("Cách khắc phục: mở đúng tệp .xlsx Văn phòng Sở đã giao cho đơn vị, điền báo cáo vào đó, "
                "lưu lại (Excel Workbook .xlsx) rồi gửi lại cho Văn phòng Sở.")
    lines += ["", hint]
    return "\n".join(lines) + "\n"
