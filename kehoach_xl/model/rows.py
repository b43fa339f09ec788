"""Row dicts that share one key table: a sheet's rows at a third of a plain dict's memory."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

# CPython shares one key table among the instance dicts of a class while every instance gets the same
# keys in the same order, up to 30 keys (SHARED_KEYS_MAX_SIZE in Objects/dictobject.c, 3.11–3.13);
# past that each dict would be a plain one, and a larger one at that.
_SHARED_KEYS_MAX = 30


def row_maker(keys: Sequence[str]) -> Callable[[Iterable[Any]], dict[str, Any]]:
    """A function turning a row's values (in ``keys`` order) into a dict of ``keys``.

    The dicts are plain ``dict`` objects for every use (``get``, copies, JSON, equality), but each
    holds only its values: at 50,000 tasks of 29 columns and 100,000 parts, a plain dict per row
    was ~870 bytes for a task and the whole read ~84 MiB; a dict on a shared key table is ~340
    bytes. Each call makes its own class, so the rows of one sheet read share one table and no
    other read's keys can creep into it. A key added to one row later (never done by the rules,
    which copy a row before changing it) just gives that row a table of its own.
    """
    keys = tuple(keys)
    if len(keys) > _SHARED_KEYS_MAX:
        return lambda values: dict(zip(keys, values, strict=True))
    holder = type("Row", (), {"__slots__": ("__dict__",)})

    def make(values: Iterable[Any]) -> dict[str, Any]:
        d = holder().__dict__  # the holder itself goes at once; its dict keeps the shared keys
        d.update(zip(keys, values, strict=True))
        return d

    return make
