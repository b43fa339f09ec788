"""What every ``compute_*`` returns: the changes to write, the problems found, the figures to report.

Every computation has one shape, ``compute_x(data, *, as_of, config) -> Outcome``, so the command
line, the Excel buttons, the button server and the nightly job handle any of them the same way:
write ``changes`` (nothing when empty), show ``problems``, print ``figures``. ``result`` carries the
computation's own report object (a ``ValidationReport``, a ``MergeReport`` …) for callers that
want the details.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from kehoach_xl.model.changes import MasterChanges
from kehoach_xl.model.problem import ERROR, Problem


@dataclass
class Outcome:
    as_of: dt.date | None = None
    changes: MasterChanges = field(default_factory=MasterChanges)
    problems: list[Problem] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    result: Any = None

    @property
    def ok(self) -> bool:
        return not any(p.severity == ERROR for p in self.problems)

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat() if self.as_of else None, "ok": self.ok,
                "cells": self.changes.cell_count() if hasattr(self.changes, "cell_count") else None,
                "problems": [p.to_dict() for p in self.problems], "figures": self.figures}
