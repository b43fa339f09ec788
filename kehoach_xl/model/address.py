"""Excel cell addresses as users see them: column letters and numbers."""

from __future__ import annotations


def col_letters(col: int) -> str:
    """1 → "A", 28 → "AB" (here rather than openpyxl's ``get_column_letter``: importing openpyxl
    loads numpy, lxml and PIL with it, 33 MiB a command that never opens a workbook with it)."""
    if col < 1:
        raise ValueError(f"column must be >= 1, got {col}")
    out = ""
    while col:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


def sheet_cell(sheet: str, row: int, col: int) -> str:
    """A cell's address as the user sees it in messages and reports: ``Nhiệm vụ!H17``."""
    return f"{sheet}!{col_letters(col)}{row}"


def col_number(letters: str) -> int:
    """"A" → 1, "AB" → 28 (upper-case letters)."""
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n
