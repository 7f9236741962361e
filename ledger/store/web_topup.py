"""Online top-up orders (table ``web_topups``): created, then paid or failed by the bank's notice."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from typing import Any

from ledger.store.queries import Query
from smsmenu.core.clock import iso

SELECT = "SELECT order_id, agent_id, amount, status, bank_txn, created_at, paid_at FROM web_topups"


@dataclass(frozen=True, slots=True)
class Order:
    order_id: str
    agent_id: int
    amount_fen: int
    status: str
    """``created``, ``paid`` or ``failed``."""
    bank_txn: str | None
    created_at: str
    paid_at: str | None


def _orders(rows: list[tuple[Any, ...]]) -> list[Order]:
    return [Order(*r) for r in rows]


def of_agent(agent_id: int) -> Query[list[Order]]:
    """The agent's ten newest orders."""
    return Query(f"{SELECT} WHERE agent_id = ? ORDER BY created_at DESC LIMIT 10", (agent_id,),
                 _orders)


def by_id(order_id: str) -> Query[Order | None]:
    return Query(f"{SELECT} WHERE order_id = ?", (order_id,),
                 lambda rows: _orders(rows)[0] if rows else None)


def get(conn: sqlite3.Connection, *, order_id: str) -> Order | None:
    """The order as it stands in this transaction."""
    return by_id(order_id).run(conn)


def create(conn: sqlite3.Connection, *, order_id: str, agent_id: int, amount_fen: int,
           created: dt.datetime) -> None:
    conn.execute("INSERT INTO web_topups (order_id, agent_id, amount, status, created_at) "
                 "VALUES (?, ?, ?, 'created', ?)", (order_id, agent_id, amount_fen, iso(created)))


def mark_failed(conn: sqlite3.Connection, *, order_id: str) -> None:
    """A created order the bank says failed (a paid one stays paid)."""
    conn.execute("UPDATE web_topups SET status = 'failed' WHERE order_id = ? AND "
                 "status = 'created'", (order_id,))


def mark_paid(conn: sqlite3.Connection, *, order_id: str, bank_txn: str, at: dt.datetime) -> None:
    conn.execute("UPDATE web_topups SET status = 'paid', bank_txn = ?, paid_at = ? "
                 "WHERE order_id = ?", (bank_txn, iso(at), order_id))
