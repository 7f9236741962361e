"""Read-only queries as data (SQL + shaping), run on the writer's connection or on aiosqlite."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import aiosqlite

from ledger.recharge import COLUMNS, Recharge

T = TypeVar("T")
Rows = list[tuple[Any, ...]]


@dataclass(frozen=True)
class Query(Generic[T]):
    """One SELECT and how to shape its rows; the same object serves sync and async callers."""

    sql: str
    params: tuple[Any, ...]
    shape: Callable[[Rows], T]

    def run(self, conn: sqlite3.Connection) -> T:
        return self.shape(conn.execute(self.sql, self.params).fetchall())

    async def fetch(self, db: aiosqlite.Connection) -> T:
        rows = await db.execute_fetchall(self.sql, self.params)
        return self.shape([tuple(r) for r in rows])


def _recharges(rows: Rows) -> list[Recharge]:
    return [Recharge(*row) for row in rows]


def failed(agent_id: int, limit: int = 50, offset: int = 0) -> Query[list[Recharge]]:
    """R-18: the agent's failed recharges, newest first."""
    return Query(f"SELECT {COLUMNS} FROM recharges WHERE agent_id = ? AND status = 'failed' "
                 "ORDER BY id DESC LIMIT ? OFFSET ?", (agent_id, limit, offset), _recharges)


def records(agent_id: int, start: str = "", end: str = "9999", limit: int = 50,
            offset: int = 0) -> Query[list[Recharge]]:
    """R-21: the agent's recharges created in [start, end) (stored timestamps), newest first."""
    return Query(f"SELECT {COLUMNS} FROM recharges WHERE agent_id = ? AND created_at >= ? "
                 "AND created_at < ? ORDER BY id DESC LIMIT ? OFFSET ?",
                 (agent_id, start, end, limit, offset), _recharges)


def by_target(target: str, limit: int = 50) -> Query[list[Recharge]]:
    """R-22: recharges to one customer number, for the hotline and the customer."""
    return Query(f"SELECT {COLUMNS} FROM recharges WHERE target = ? ORDER BY id DESC LIMIT ?",
                 (target, limit), _recharges)


def pending_recharges() -> Query[list[Recharge]]:
    """Reservations whose billing outcome is not recorded yet (crash recovery)."""
    return Query(f"SELECT {COLUMNS} FROM recharges WHERE status = 'pending' ORDER BY id", (),
                 _recharges)


def pending_reversals() -> Query[list[tuple[int, str]]]:
    return Query("SELECT id, reference FROM reversals WHERE status = 'pending' ORDER BY id", (),
                 lambda rows: [(int(r[0]), str(r[1])) for r in rows])


def balances() -> Query[dict[str, tuple[int, int]]]:
    """Every account's (balance, reserved) by code."""
    return Query("SELECT code, balance, reserved FROM accounts", (),
                 lambda rows: {r[0]: (int(r[1]), int(r[2])) for r in rows})


def scalar(sql: str, *params: Any) -> Query[Any]:
    return Query(sql, params, lambda rows: rows[0][0] if rows else None)
