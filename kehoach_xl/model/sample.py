"""Sample data bundled with the package, made from the real seed plans."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

SAMPLES = {
    "langson_ddci_2024": "Lạng Sơn, DDCI 2024 (Phụ lục 2 Kế hoạch 62/KH-STNMT)",
    "khanhhoa_parindex_2022": "Khánh Hòa, PAR-INDEX và SIPAS 2022",
}


def sample_dir(name: str = "langson_ddci_2024") -> Path:
    return Path(str(resources.files("kehoach_xl") / "data" / name))


def sample_registry(name: str = "langson_ddci_2024") -> dict[str, Any]:
    """meta, units, leaders and scores of a bundled sample plan."""
    return json.loads((sample_dir(name) / "registry.json").read_text(encoding="utf-8"))
