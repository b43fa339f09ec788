"""The package's layers: arrows point down only, and no module imports itself round a circle.

Every import counts, including those inside functions (a lazy import is still an arrow).
Layers, bottom up (docs/architecture.md):

    vn, text, errors → model → rules → io → importer, reports → commands → excel → cli
"""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "kehoach_xl"

RANK = {"vn": 0, "text": 0, "errors": 0, "model": 1, "rules": 2, "io": 3, "importer": 4, "reports": 4,
        "commands": 5, "excel": 6, "cli": 7}
# Siblings on one floor that must not lean on each other.
APART = {("importer", "reports"), ("reports", "importer")}
# The package's face and the 0.1.0 compatibility module sit above everything.
TOP = {"kehoach_xl", "kehoach_xl.buttons", "kehoach_xl.__main__"}


def _modules() -> dict[str, Path]:
    out = {}
    for f in PKG.rglob("*.py"):
        parts = f.relative_to(PKG.parent).with_suffix("").parts
        name = ".".join(parts).removesuffix(".__init__")
        out[name] = f
    return out


def _imports(name: str, path: Path, mods: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = name.split(".")
            if node.level:
                base = base[: len(base) - node.level + (1 if path.name == "__init__.py" else 0)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            targets = [mod] + [f"{mod}.{a.name}" for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in mods:
                t = t.rpartition(".")[0]
            if t and t != name and t != "kehoach_xl":
                found.add(t)
    return found


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def graph() -> dict[str, set[str]]:
    mods = _modules()
    return {m: _imports(m, p, mods) for m, p in mods.items()}


def test_every_module_has_a_room() -> None:
    homeless = [m for m in graph() if m not in TOP and _room(m) not in RANK]
    assert not homeless, f"modules outside the layers: {homeless}"


def test_arrows_point_down() -> None:
    wrong = []
    for m, targets in graph().items():
        if m in TOP:
            continue
        for t in targets:
            a, b = _room(m), _room(t)
            if t in TOP or RANK[b] > RANK[a] or (a, b) in APART:
                wrong.append(f"{m} -> {t}")
    assert not wrong, "imports that run up or sideways:\n" + "\n".join(sorted(wrong))


def test_model_and_rules_are_pure() -> None:
    """The model and the rules never touch files, reports or the command line."""
    bad = [f"{m} -> {t}" for m, ts in graph().items() if _room(m) in ("model", "rules")
           for t in ts if _room(t) in ("io", "reports", "importer", "commands", "excel", "cli")]
    assert not bad, bad


def test_no_import_cycle() -> None:
    g = graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in g:
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


def test_the_checker_sees_a_lazy_upward_import(tmp_path: Path) -> None:
    """The walk must see imports inside functions, or the tests above could not fail."""
    mods = {"kehoach_xl.rules.x": tmp_path / "x.py", "kehoach_xl.io.master_read": tmp_path / "y.py"}
    mods["kehoach_xl.rules.x"].write_text("def f():\n    from kehoach_xl.io.master_read import read_master\n")
    assert _imports("kehoach_xl.rules.x", mods["kehoach_xl.rules.x"], mods) == {"kehoach_xl.io.master_read"}
