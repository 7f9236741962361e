"""The menu's own tables: each agent's place in the menu per dialog channel (``menu_sessions``)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from ledger.store.engine import lock_key

_LOAD = ("SELECT state, data, dialog, updated_at FROM menu_sessions "
         "WHERE msisdn = ? AND channel = ?")
_SAVE = ("INSERT INTO menu_sessions (msisdn, channel, state, data, dialog, updated_at) "
         "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (msisdn, channel) DO UPDATE SET "
         "state = excluded.state, data = excluded.data, dialog = excluded.dialog, "
         "updated_at = excluded.updated_at")


@dataclass(frozen=True, slots=True)
class SavedSession:
    """One stored menu session: its state, its data (JSON object), dialog number and time."""

    state: str
    data: dict[str, Any]
    dialog: int
    updated_at: str


def load(conn: sqlite3.Connection, msisdn: str, channel: str) -> SavedSession | None:
    """The session of ``msisdn`` on the dialog channel ``channel``; None before its first."""
    row = conn.execute(_LOAD, (msisdn, channel)).fetchone()
    if row is None:
        return None
    return SavedSession(row[0], json.loads(row[1]), int(row[2]), row[3])


def save(conn: sqlite3.Connection, *, msisdn: str, channel: str, state: str,
         data: dict[str, Any], dialog: int, at: str) -> None:
    """Store the session (created or replaced)."""
    conn.execute(_SAVE, (msisdn, channel, state, json.dumps(data, ensure_ascii=False), dialog,
                         at))


def lock(conn: sqlite3.Connection, msisdn: str) -> None:
    """Take the agent's dialog lock until the step's transaction ends: two instances never run
    two steps of one agent at once (PostgreSQL: an advisory transaction lock on the number; a
    second step waits, then sees the first's session and inbox row). SQLite: its single writer
    already runs one transaction at a time."""
    lock_key(conn, "agent", msisdn)
