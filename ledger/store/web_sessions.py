"""The portal's sessions (table ``web_sessions``): tokens stored only as their hash."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

from ledger.store.queries import Query
from smsmenu.core.clock import iso


@dataclass(frozen=True, slots=True)
class Session:
    """A live web session: an agent's or an operator's, by id."""

    kind: str
    subject_id: int
    expires_at: str


def purge_expired(conn: sqlite3.Connection, *, now: dt.datetime) -> None:
    """Forget every session that expired before ``now``."""
    conn.execute("DELETE FROM web_sessions WHERE expires_at < ?", (iso(now),))


def insert(conn: sqlite3.Connection, *, token_hash: bytes, kind: str, subject_id: int,
           created: dt.datetime, expires: dt.datetime) -> None:
    conn.execute("INSERT INTO web_sessions (token_hash, kind, subject_id, created_at, expires_at)"
                 " VALUES (?, ?, ?, ?, ?)", (token_hash, kind, subject_id, iso(created),
                                               iso(expires)))


def delete_subject(conn: sqlite3.Connection, *, kind: str, subject_id: int) -> None:
    """Every session of one agent or operator ends."""
    conn.execute("DELETE FROM web_sessions WHERE kind = ? AND subject_id = ?", (kind, subject_id))


def lookup(token_hash: bytes) -> Query[Session | None]:
    """The session of a token hash; an agent's session started before its management password or
    bound number last changed (by any channel, SMS menu included) is over."""
    return Query("SELECT s.kind, s.subject_id, s.expires_at FROM web_sessions s "
                 "LEFT JOIN agents a ON s.kind = 'agent' AND a.id = s.subject_id "
                 "WHERE s.token_hash = ? AND (a.credentials_at IS NULL "
                 "OR s.created_at >= a.credentials_at)",
                 (token_hash,), lambda rows: Session(*rows[0]) if rows else None)


def extend(conn: sqlite3.Connection, *, token_hash: bytes, until: dt.datetime) -> None:
    conn.execute("UPDATE web_sessions SET expires_at = ? WHERE token_hash = ?",
                 (iso(until), token_hash))


def delete(conn: sqlite3.Connection, *, token_hash: bytes) -> None:
    conn.execute("DELETE FROM web_sessions WHERE token_hash = ?", (token_hash,))
