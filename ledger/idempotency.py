"""Idempotency keys: the same key with the same fields returns the first result, never runs twice."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from typing import Any

from smsmenu.core.errors import IdempotencyConflict

# The encoders ``json.dumps`` would build on every call with these options (same text).
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=str)
_RESULT = json.JSONEncoder(ensure_ascii=False)


def fingerprint(op: str, fields: dict[str, Any]) -> str:
    """A digest of what the operation was asked to do. Never give it a password."""
    canonical = _CANONICAL.encode({"op": op, **fields})
    return hashlib.sha256(canonical.encode()).hexdigest()


def recall(conn: sqlite3.Connection, key: str, op: str,
           fields: dict[str, Any]) -> dict[str, Any] | None:
    """The stored result for ``key``, None if the key is new; a conflict if its fields differ."""
    row = conn.execute(
        "SELECT op, fingerprint, result FROM idempotency WHERE key = ?", (key,)
    ).fetchone()
    if row is None:
        return None
    if row[0] != op or row[1] != fingerprint(op, fields):
        raise IdempotencyConflict(key=key)
    result: dict[str, Any] = json.loads(row[2])
    return result


def remember(conn: sqlite3.Connection, key: str, op: str, fields: dict[str, Any],
             result: dict[str, Any], now: str) -> None:
    conn.execute(
        "INSERT INTO idempotency (key, op, fingerprint, result, created_at) VALUES (?, ?, ?, ?, ?)",
        (key, op, fingerprint(op, fields), _RESULT.encode(result), now),
    )
