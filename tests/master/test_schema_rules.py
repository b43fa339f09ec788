"""The schema is the one declaration of the master: every validation rule is derived from it."""

from __future__ import annotations

import ast
import typing
from pathlib import Path

from kehoach_xl.model import schema
from kehoach_xl.model.master import MASTER_SHEETS
from kehoach_xl.rules import validate
from kehoach_xl.rules import validation_rules as rules

PACKAGE = Path(__file__).resolve().parents[2] / "kehoach_xl"


def test_sheet_rules_are_what_the_schema_declares():
    want = tuple(
        rules.SheetRules(s, s.required, tuple(rules.column_rule(c) for c in s.columns if c.checked))
        for s in schema.ALL_SHEETS if s.checked
    )
    assert rules.SHEET_RULES == want
    for sr in rules.SHEET_RULES:
        for rule in sr.columns:
            col = sr.sheet.col(rule.key)
            assert (rule.type, rule.required, rule.unique, rule.allowed, rule.min, rule.max,
                    rule.required_slug, rule.unique_slug) == (
                col.type, col.required, col.unique, col.allowed, col.min, col.max,
                col.required_slug, col.unique_slug), rule.key


def test_settings_rules_are_what_the_schema_declares():
    fields = {c.key: c for c in schema.SETTINGS_FIELDS}
    assert list(fields) == list(schema.SETTINGS_ROWS)
    assert rules.SETTINGS_RULES == {k: rules.column_rule(c) for k, c in fields.items() if c.checked}
    assert rules.SETTINGS_RULES  # the plan year and the as-of date


def test_every_rule_type_and_slug_is_declared():
    types = set(typing.get_args(schema.ColType))
    every = [r for sr in rules.SHEET_RULES for r in sr.columns] + list(rules.SETTINGS_RULES.values())
    for rule in every:
        assert rule.type in types, rule
        assert rule.required_slug in rules.PROBLEMS and rule.unique_slug in rules.PROBLEMS, rule
    for col in [c for s in schema.ALL_SHEETS for c in s.columns] + list(schema.SETTINGS_FIELDS):
        assert col.type in types, col


def test_no_column_rule_is_written_by_hand():
    """``ColumnRule(...)`` is built only by ``column_rule`` (from a schema column)."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        allowed = {id(n) for fn in ast.walk(tree) if isinstance(fn, ast.FunctionDef) and fn.name == "column_rule"
                   for n in ast.walk(fn)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and id(node) not in allowed:
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in ("ColumnRule", "SheetRules", "R"):
                    found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    # SheetRules is built once, in the derivation of SHEET_RULES.
    assert [f for f in found if not f.startswith("rules/validation_rules.py")] == []
    assert len(found) == 1, found


def test_problems_are_ordered_by_the_sheets_the_master_reads():
    assert list(validate._SHEET_ORDER) == list(MASTER_SHEETS)
