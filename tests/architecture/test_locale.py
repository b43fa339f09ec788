"""Vietnamese display formats live in one module, kehoach_xl/vn.py.

Every other file of the package (and every template) formats dates, numbers and
percentages through it, so the same figure reads the same in a sheet, a message, the
briefing and the report. This test greps for the ways a format slips back in and names
file:line. ISO forms (``%Y-%m-%d``, ``isoformat()``) are for machines and are not flagged.
"""

from __future__ import annotations

import re
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "kehoach_xl"
VN = PKG / "vn.py"

# (pattern, what to use instead)
STRAY = [
    (re.compile(r"%d/%m"), "vn.date / vn.datetime"),
    (re.compile(r"%m/%Y"), "vn.date / vn.period_label"),
    (re.compile(r"\{[^{}\n]*:[<>^=]?[+ -]?\d*,(?:\.\d+)?[dfg%]?\}"), "vn.integer / vn.number"),  # {n:,} {x:,.2f}
    (re.compile(r"\{[^{}\n]*:[<>^=]?[+ -]?\d*(?:\.\d+)?[fg%]\}"), "vn.number / vn.percent"),  # {x:.1f} {x:g}
    (re.compile(r"""\.replace\(\s*(['"]),\1\s*,\s*(['"])\.\2\s*\)"""), "vn.integer / vn.number"),
    (re.compile(r"""\.replace\(\s*(['"])\.\1\s*,\s*(['"]),\2\s*\)"""), "vn.number"),
    (re.compile(r"""(['"])dd/mm/yyyy\1"""), "vn.DATE_FORMAT"),
    (re.compile(r"\[\$-42A\]"), "vn.DECIMAL_FORMAT / vn.PERCENT_FORMAT"),
]
# Jinja: numbers are shown with the vn_* filters, never with round/format/printf.
STRAY_J2 = [
    (re.compile(r"\|\s*(?:round|format|filesizeformat)\b"), "the vn_num / vn_percent / vn_int filters"),
    (re.compile(r"""(['"])%[-+ 0#]*\d*(?:\.\d+)?[fgd]\1\s*\|"""), "the vn_num / vn_percent / vn_int filters"),
    (re.compile(r"%d/%m|%m/%Y"), "the vn_date filter"),
]


def _files() -> list[Path]:
    py = [p for p in PKG.rglob("*.py") if p.resolve() != VN.resolve()]
    return sorted(py) + sorted((PKG / "templates").glob("*.j2"))


def stray_formats(path: Path, root: Path = PKG.parent) -> list[str]:
    rules = STRAY_J2 if path.suffix == ".j2" else STRAY
    found = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        for pattern, use in rules:
            if pattern.search(line):
                found.append(f"{path.relative_to(root)}:{n}: {line.strip()}  → use {use}")
                break
    return found


def test_no_stray_display_formats() -> None:
    found = [hit for f in _files() for hit in stray_formats(f)]
    assert not found, "Vietnamese formats outside kehoach_xl/vn.py:\n" + "\n".join(found)


def test_the_templates_are_scanned() -> None:
    assert any(p.suffix == ".j2" for p in _files())


def test_the_checker_sees_each_stray_form(tmp_path: Path) -> None:
    """Each pattern must fire, or the test above could never fail."""
    bad = [
        'x = d.strftime("%d/%m/%Y")',
        'x = f"{d:%d/%m/%Y}"',
        'x = f"tháng {d:%m/%Y}"',
        'x = f"{n:,}"',
        'x = f"{size:>10,} byte"',
        'x = f"{x:,.2f}"',
        'x = f"{x:.1f} MB"',
        'x = f"{x:g}"',
        'x = str(x).replace(".", ",")',
        "x = s.replace(',', '.')",
        'FMT = "dd/mm/yyyy"',
        'FMT = "[$-42A]0.0"',
    ]
    f = tmp_path / "bad.py"
    f.write_text("\n".join(bad) + "\n", encoding="utf-8")
    hits = stray_formats(f, tmp_path)
    assert [h.split(":")[1] for h in hits] == [str(i) for i in range(1, len(bad) + 1)], hits
    ok = tmp_path / "ok.py"
    ok.write_text('x = d.strftime("%Y-%m-%d")\ny = d.isoformat()\nz = f"{n:02d}/{y}"\nw = "Nhập ngày dạng dd/mm/yyyy."\n',
                  encoding="utf-8")
    assert stray_formats(ok, tmp_path) == []


def test_jinja_number_formats_are_seen(tmp_path: Path) -> None:
    f = tmp_path / "t.j2"
    f.write_text('{{ x | round(1) }}\n{{ "%.1f" | format(x) }}\n{{ x | vn_percent }}\n', encoding="utf-8")
    hits = stray_formats(f, tmp_path)
    assert [h.split(":")[1] for h in hits] == ["1", "2"], hits
