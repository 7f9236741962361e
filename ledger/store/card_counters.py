"""The UTK card's command counters (``card_counters``): the newest applied per number and card."""

from __future__ import annotations

import sqlite3

_NEWEST = "SELECT counter FROM card_counters WHERE msisdn = ? AND card = ?"
_SET = ("INSERT INTO card_counters (msisdn, card, counter, at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (msisdn, card) DO UPDATE SET counter = excluded.counter, at = excluded.at")


def newest(conn: sqlite3.Connection, *, msisdn: str, card: str) -> int | None:
    """The highest counter applied from ``card`` on ``msisdn``; None before its first command."""
    row = conn.execute(_NEWEST, (msisdn, card)).fetchone()
    return None if row is None else int(row[0])


def advance(conn: sqlite3.Connection, *, msisdn: str, card: str, counter: int, at: str) -> bool:
    """Record ``counter`` as the newest when it is higher than every one before; False (and
    nothing stored) when it is not: the command was applied before, or a later one was."""
    seen = newest(conn, msisdn=msisdn, card=card)
    if seen is not None and counter <= seen:
        return False
    conn.execute(_SET, (msisdn, card, counter, at))
    return True
