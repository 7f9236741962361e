"""The back office's audit log (table ``web_audit``): one line per operator action, append only."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

from ledger.store.queries import Query
from smsmenu.core.clock import iso


@dataclass(frozen=True, slots=True)
class Line:
    """What an audit line records (``detail`` is JSON text; never a password)."""

    operator_id: int
    operator: str
    role: str
    action: str
    target: str
    detail: str
    outcome: str


@dataclass(frozen=True, slots=True)
class Entry:
    """An audit line as the log page shows it."""

    id: int
    at: str
    operator: str
    role: str
    action: str
    target: str
    detail: str
    outcome: str


def append(conn: sqlite3.Connection, *, at: dt.datetime, line: Line) -> None:
    conn.execute("INSERT INTO web_audit (at, operator_id, operator, role, action, target, detail,"
                 " outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 (iso(at), line.operator_id, line.operator, line.role, line.action, line.target,
                  line.detail, line.outcome))


def page(limit: int, offset: int) -> Query[list[Entry]]:
    """Newest first."""
    return Query("SELECT id, at, operator, role, action, target, detail, outcome FROM web_audit "
                 "ORDER BY id DESC LIMIT ? OFFSET ?", (limit, offset),
                 lambda rows: [Entry(*r) for r in rows])
