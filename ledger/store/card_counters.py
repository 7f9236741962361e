"""The UTK card's counters: commands applied per number and card, OTA updates sent per card."""

from __future__ import annotations

import sqlite3

_NEWEST = "SELECT counter FROM card_counters WHERE msisdn = ? AND card = ?"
_LATEST = "SELECT card FROM card_counters WHERE msisdn = ? ORDER BY at DESC, card LIMIT 1"
_OTA = ("INSERT INTO ota_counters (card, counter, at) VALUES (?, 1, ?) "
        "ON CONFLICT (card) DO UPDATE SET counter = ota_counters.counter + 1, at = excluded.at")
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


def latest_card(conn: sqlite3.Connection, *, msisdn: str) -> str | None:
    """The card that last sent a command from ``msisdn``; None when no card ever did."""
    row = conn.execute(_LATEST, (msisdn,)).fetchone()
    return None if row is None else str(row[0])


def next_ota(conn: sqlite3.Connection, *, card: str, at: str) -> int:
    """The counter of the next over-the-air update to ``card``: one above the last sent."""
    conn.execute(_OTA, (card, at))
    return int(conn.execute("SELECT counter FROM ota_counters WHERE card = ?",
                            (card,)).fetchone()[0])
