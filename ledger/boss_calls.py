"""What BOSS last said about a reference whose outcome is not confirmed yet (``boss_calls``).

A row exists only while an outcome is unknown: written when a credit or reversal times out,
updated at each re-send, deleted when BOSS gives its final word. It is what ``ledger pending``
shows and how the re-sender knows when a reference was last asked.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

CANCELLED = "cancelled"
"""BOSS's refusal reason for a reference closed by ``cancel``: never applied, never will be."""



@dataclass(frozen=True, slots=True)
class Call:
    """The last unconfirmed answer for one reference."""

    reference: str
    answer: str
    first_at: str
    asked_at: str
    tries: int


def record(conn: sqlite3.Connection, reference: str, answer: str, now: str) -> bool:
    """Note an unconfirmed answer; True when it is the first for this reference."""
    cur = conn.execute(
        "UPDATE boss_calls SET answer = ?, asked_at = ?, tries = tries + 1 WHERE reference = ?",
        (answer, now, reference))
    if cur.rowcount:
        return False
    conn.execute("INSERT INTO boss_calls (reference, answer, first_at, asked_at) "
                 "VALUES (?, ?, ?, ?)", (reference, answer, now, now))
    return True


def settled(conn: sqlite3.Connection, reference: str) -> None:
    """BOSS gave its final word: nothing left to follow up."""
    conn.execute("DELETE FROM boss_calls WHERE reference = ?", (reference,))


def get(conn: sqlite3.Connection, reference: str) -> Call | None:
    row = conn.execute("SELECT reference, answer, first_at, asked_at, tries FROM boss_calls "
                       "WHERE reference = ?", (reference,)).fetchone()
    return Call(*row) if row else None
