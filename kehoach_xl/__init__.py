"""kehoach_xl: the department's plan-tracking workbook as a dependable system.

The public API mirrors the command line: each ``kehoach-xl COMMAND`` is a thin
wrapper over the function of the same name here (``import`` is ``import_plan``,
a Python keyword otherwise). Heavier modules load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from .config import Config, load_config

# These functions share their name with the module that defines them. Importing
# the module sets the package attribute to the module, so they are bound here,
# eagerly, after which later imports of the module no longer shadow them.
from .demo import demo  # noqa: E402  (after the core imports on purpose)
from .errors import DataError, KehoachError, SetupError
from .master import create_master, init, read_master, tasks
from .merge import merge  # noqa: E402
from .nightly import nightly  # noqa: E402
from .refresh import refresh  # noqa: E402
from .validate import validate  # noqa: E402

__version__ = "0.1.0"

# name -> module that defines it; loaded lazily so `import kehoach_xl` stays fast.
_LAZY = {
    "import_plan": "kehoach_xl.importer",
    "compute_import": "kehoach_xl.importer",
    "compute_validation": "kehoach_xl.validate",
    "compute_refresh": "kehoach_xl.refresh",
    "write_master": "kehoach_xl.io.master_write",
    "restore": "kehoach_xl.io.master_write",
    "list_backups": "kehoach_xl.io.master_write",
    "issue": "kehoach_xl.unitbook",
    "compute_merge": "kehoach_xl.merge",
    "schedule": "kehoach_xl.nightly",
    "summary": "kehoach_xl.reports.summary",
    "compute_summary": "kehoach_xl.reports.summary",
    "briefing": "kehoach_xl.reports.briefing",
    "report": "kehoach_xl.reports.docx_report",
    "serve": "kehoach_xl.server",
    "build_xlsm": "kehoach_xl.xlsm",
    "parse_deadline": "kehoach_xl.rules.deadline",
    "derive": "kehoach_xl.rules.derive",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'kehoach_xl' has no attribute {name!r}")


__all__ = [
    "Config",
    "DataError",
    "KehoachError",
    "SetupError",
    "create_master",
    "demo",
    "init",
    "load_config",
    "merge",
    "nightly",
    "refresh",
    "validate",
    "read_master",
    "tasks",
    "__version__",
    *_LAZY,
]
