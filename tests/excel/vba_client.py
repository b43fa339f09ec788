"""What xlwings' VBA client does with the actions a button returns, replayed on plain grids (shared by tests)."""

from __future__ import annotations

from typing import Any


def apply_actions(payload: dict[str, Any], actions: list[dict[str, Any]]) -> dict[str, list[list[Any]]]:
    """Replay setValues/rangeClearContents like the VBA client would, on plain grids."""
    grids = {s["name"]: [list(r) for r in s["values"]] for s in payload["sheets"]}
    names = list(grids)
    for a in actions:
        if a["func"] not in ("setValues", "rangeClearContents"):
            continue
        g = grids[names[a["sheet_position"]]]
        for i in range(a["row_count"]):
            r = a["start_row"] + i
            while len(g) <= r:
                g.append([])
            for j in range(a["column_count"]):
                c = a["start_column"] + j
                while len(g[r]) <= c:
                    g[r].append(None)
                v = None if a["func"] == "rangeClearContents" else a["values"][i][j]
                if isinstance(v, str) and v.startswith("'"):
                    v = v[1:]
                g[r][c] = None if v == "" else v
    return grids
