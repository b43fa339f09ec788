"""Signatures and value fingerprints for unit workbooks.

A unit workbook carries, in a hidden sheet, who it was issued to, for which
period and master, and the state of each task's unit fields when issued. That
block is signed with HMAC-SHA256 under ``config.secret`` so a file cannot be
passed off as another unit's, nor its task list widened. Sheet protection is a
convenience for staff; the signature is what the merge trusts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from kehoach_xl.text import normalize_text


def canon_value(value: Any) -> str:
    """One text form per value as a person sees it, so 60, 60.0 and "60" compare equal."""
    if value is None:
        return ""
    if value.__class__ is str:  # most values are texts: one identity test instead of five isinstance
        return normalize_text(value, keep_newlines=True)
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(round(value, 6))
    if isinstance(value, int):
        return str(value)
    return normalize_text(value, keep_newlines=True)


def value_hash(value: Any) -> str:
    """Short fingerprint of one field value (16 hex digits are plenty to detect a change)."""
    return hashlib.sha256(canon_value(value).encode("utf-8")).hexdigest()[:16]


def canonical(payload: Mapping[str, Any]) -> bytes:
    """Deterministic serialisation: sorted keys, no spaces, UTF-8, NFC text."""
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=canon_value).encode("utf-8")


def sign(payload: Mapping[str, Any], secret: bytes) -> str:
    return hmac.new(secret, canonical(payload), hashlib.sha256).hexdigest()


def verify(payload: Mapping[str, Any], signature: str, secret: bytes) -> bool:
    if not isinstance(signature, str) or len(signature) != 64:
        return False
    return hmac.compare_digest(sign(payload, secret), signature.strip().lower())
