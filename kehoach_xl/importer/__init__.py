"""Import a plan's task table (Word, Excel or text) into the master workbook."""

from kehoach_xl.importer.model import ImportWarning, ParsedPlan, ParsedTask
from kehoach_xl.importer.plan_docs import build_sample_plan_docx
from kehoach_xl.importer.plan_import import ImportReport, compute_import, import_plan, match_tasks, parse_plan

__all__ = [
    "ImportReport", "ImportWarning", "ParsedPlan", "ParsedTask", "build_sample_plan_docx", "compute_import",
    "import_plan", "match_tasks", "parse_plan",
]
