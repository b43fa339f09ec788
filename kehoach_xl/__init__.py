"""kehoach_xl: the department's plan-tracking workbook as a dependable system."""

from .config import Config, load_config
from .errors import DataError, KehoachError, SetupError
from .master import create_master, read_master, tasks

__version__ = "0.1.0"

__all__ = [
    "Config",
    "DataError",
    "KehoachError",
    "SetupError",
    "create_master",
    "load_config",
    "read_master",
    "tasks",
    "__version__",
]
