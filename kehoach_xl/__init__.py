"""kehoach_xl: the department's plan-tracking workbook as a dependable system.

The public API mirrors the command line: each ``kehoach-xl COMMAND`` is a thin
wrapper over the function of the same name here (``import`` is ``import_plan``,
a Python keyword otherwise). Every name loads on first use, so ``import kehoach_xl``
costs nothing until a function is called.

The package is layered (see docs/architecture.md); arrows point down only:
cli / excel → commands → reports, importer → io → rules → model → vn, text, errors.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> module that defines it.
_LAZY = {
    # commands: read → compute → write
    "init": "kehoach_xl.commands.init",
    "create_master": "kehoach_xl.commands.init",
    "tasks": "kehoach_xl.commands.tasks",
    "tasks_frame": "kehoach_xl.commands.tasks",
    "import_plan": "kehoach_xl.commands.import_plan",
    "validate": "kehoach_xl.commands.validate",
    "refresh": "kehoach_xl.commands.refresh",
    "issue": "kehoach_xl.commands.issue",
    "merge": "kehoach_xl.commands.merge",
    "fetch": "kehoach_xl.commands.fetch",
    "nightly": "kehoach_xl.commands.nightly",
    "schedule": "kehoach_xl.commands.nightly",
    "summary": "kehoach_xl.commands.summary",
    "briefing": "kehoach_xl.commands.briefing",
    "report": "kehoach_xl.commands.report",
    "demo": "kehoach_xl.commands.demo",
    "archive": "kehoach_xl.commands.archive",
    "restore": "kehoach_xl.io.master_write",
    "list_backups": "kehoach_xl.io.master_write",
    "write_master": "kehoach_xl.io.master_write",
    "read_master": "kehoach_xl.io.master_read",
    # pure computations: (data, *, as_of, config) -> Outcome
    "compute_import": "kehoach_xl.importer",
    "compute_validation": "kehoach_xl.rules.validate",
    "compute_refresh": "kehoach_xl.rules.refresh",
    "compute_merge": "kehoach_xl.rules.merge",
    "compute_summary": "kehoach_xl.reports.summary",
    "parse_deadline": "kehoach_xl.rules.deadline",
    "derive": "kehoach_xl.rules.derive",
    # the model
    "Outcome": "kehoach_xl.model.outcome",
    "Problem": "kehoach_xl.model.problem",
    "Config": "kehoach_xl.model.config",
    "load_config": "kehoach_xl.model.config",
    "DataError": "kehoach_xl.errors",
    "KehoachError": "kehoach_xl.errors",
    "SetupError": "kehoach_xl.errors",
    # Excel
    "serve": "kehoach_xl.excel.server",
    "build_xlsm": "kehoach_xl.reports.xlsm",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'kehoach_xl' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


if TYPE_CHECKING:  # for editors and type checkers only
    from kehoach_xl.commands.init import create_master, init  # noqa: F401
    from kehoach_xl.commands.merge import merge  # noqa: F401
    from kehoach_xl.commands.refresh import refresh  # noqa: F401
    from kehoach_xl.commands.validate import validate  # noqa: F401

__all__ = ["__version__", *_LAZY]
