"""The portal's one-time SMS codes (table ``web_codes``): hashed, expiring, single use."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

from smsmenu.core.clock import iso


@dataclass(frozen=True, slots=True)
class LiveCode:
    """The newest unused, unexpired code for one purpose and number."""

    id: int
    agent_id: int
    code_hash: bytes
    attempts: int


def void_live(conn: sqlite3.Connection, *, purpose: str, msisdn: str) -> None:
    """Every unused code for ``purpose`` and ``msisdn`` stops working."""
    conn.execute("UPDATE web_codes SET used = 1 WHERE purpose = ? AND msisdn = ? AND used = 0",
                 (purpose, msisdn))


def insert(conn: sqlite3.Connection, *, purpose: str, msisdn: str, agent_id: int,
           code_hash: bytes, created: dt.datetime, expires: dt.datetime) -> None:
    conn.execute("INSERT INTO web_codes (purpose, msisdn, agent_id, code_hash, created_at, "
                 "expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                 (purpose, msisdn, agent_id, code_hash, iso(created), iso(expires)))


def live(conn: sqlite3.Connection, *, purpose: str, msisdn: str,
         now: dt.datetime) -> LiveCode | None:
    row = conn.execute(
        "SELECT id, agent_id, code_hash, attempts FROM web_codes WHERE purpose = ? AND msisdn = ?"
        " AND used = 0 AND expires_at > ? ORDER BY id DESC LIMIT 1",
        (purpose, msisdn, iso(now))).fetchone()
    return None if row is None else LiveCode(int(row[0]), int(row[1]), bytes(row[2]),
                                             int(row[3]))


def record_miss(conn: sqlite3.Connection, *, code_id: int, attempts: int, spent: bool) -> None:
    """A wrong guess: the code's new attempt count, and whether that spends it."""
    conn.execute("UPDATE web_codes SET attempts = ?, used = ? WHERE id = ?",
                 (attempts, int(spent), code_id))


def spend(conn: sqlite3.Connection, *, code_id: int) -> None:
    conn.execute("UPDATE web_codes SET used = 1 WHERE id = ?", (code_id,))
