"""Read-only queries as data (SQL + shaping), run on the writer's connection or the read path."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from ledger.recharge import COLUMNS, Recharge

T = TypeVar("T")
Rows = list[tuple[Any, ...]]


class Reader(Protocol):
    """The read path's connection: aiosqlite's on SQLite, ``ledger.store.pg.PgReader``'s."""

    async def execute_fetchall(self, sql: str, parameters: Iterable[Any]) -> Iterable[Any]: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class Query(Generic[T]):
    """One SELECT and how to shape its rows; the same object serves sync and async callers."""

    sql: str
    params: tuple[Any, ...]
    shape: Callable[[Rows], T]

    def run(self, conn: sqlite3.Connection) -> T:
        return self.shape(conn.execute(self.sql, self.params).fetchall())

    async def fetch(self, db: Reader) -> T:
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


@dataclass(frozen=True, slots=True)
class Unsettled:
    """A reservation whose outcome BOSS has not confirmed: a recharge or a reversal."""

    op: str
    """``recharge`` or ``reversal``."""
    id: int
    reference: str
    agent_id: int
    amount: int
    reserved_at: str
    answer: str | None
    """What BOSS last said (``timeout``, ``unknown``...); None: nobody asked since the hold."""
    asked_at: str | None
    tries: int


def unsettled() -> Query[list[Unsettled]]:
    """Every pending recharge and reversal with its reservation time and BOSS's last answer."""
    return Query(
        "SELECT 'recharge', r.id, r.reference, r.agent_id, r.amount, t.created_at, b.answer, "
        "b.asked_at, COALESCE(b.tries, 0) FROM recharges r JOIN transfers t ON t.id = r.transfer_id "
        "LEFT JOIN boss_calls b ON b.reference = r.reference WHERE r.status = 'pending' "
        "UNION ALL SELECT 'reversal', v.id, v.reference, v.agent_id, c.amount, t.created_at, "
        "b.answer, b.asked_at, COALESCE(b.tries, 0) FROM reversals v "
        "JOIN transfers t ON t.id = v.transfer_id JOIN recharges c ON c.id = v.recharge_id "
        "LEFT JOIN boss_calls b ON b.reference = v.reference WHERE v.status = 'pending' "
        "ORDER BY 6", (), lambda rows: [Unsettled(*row) for row in rows])


def oldest_pending() -> Query[str | None]:
    """When the oldest reservation still pending was made (None: there is none)."""
    return Query("SELECT MIN(created_at) FROM transfers WHERE state = 'pending'", (),
                 lambda rows: rows[0][0] if rows else None)


def balances() -> Query[dict[str, tuple[int, int]]]:
    """Every account's (balance, reserved) by code."""
    return Query("SELECT code, balance, reserved FROM accounts", (),
                 lambda rows: {r[0]: (int(r[1]), int(r[2])) for r in rows})


def scalar(sql: str, *params: Any) -> Query[Any]:
    return Query(sql, params, lambda rows: rows[0][0] if rows else None)
