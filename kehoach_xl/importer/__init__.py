"""Read a plan's task table (Word, Excel or text) into tasks; ``commands.import_plan`` writes them."""

from kehoach_xl.importer.model import ImportWarning, ParsedPlan, ParsedTask
from kehoach_xl.importer.plan_docs import build_sample_plan_docx
from kehoach_xl.importer.plan_import import ImportReport, compute_import, match_tasks, parse_plan

__all__ = [
    "ImportReport", "ImportWarning", "ParsedPlan", "ParsedTask", "build_sample_plan_docx", "compute_import",
    "match_tasks", "parse_plan",
]
