"""The portal's rate-limit events (table ``web_rate``): one row per event and bucket."""

from __future__ import annotations

import datetime as dt
import sqlite3

from ledger.store.queries import Query
from smsmenu.core.clock import iso


def count_since(bucket: str, since: dt.datetime) -> Query[int]:
    """How many events ``bucket`` had after ``since``."""
    return Query("SELECT COUNT(*) FROM web_rate WHERE bucket = ? AND at > ?", (bucket, iso(since)),
                 lambda rows: int(rows[0][0] or 0) if rows else 0)


def forget_before(conn: sqlite3.Connection, *, bucket: str, before: dt.datetime) -> None:
    conn.execute("DELETE FROM web_rate WHERE bucket = ? AND at < ?", (bucket, iso(before)))


def insert(conn: sqlite3.Connection, *, bucket: str, at: dt.datetime) -> None:
    conn.execute("INSERT INTO web_rate (bucket, at) VALUES (?, ?)", (bucket, iso(at)))


def clear(conn: sqlite3.Connection, *, bucket: str) -> None:
    """Forget every event of ``bucket``."""
    conn.execute("DELETE FROM web_rate WHERE bucket = ?", (bucket,))
